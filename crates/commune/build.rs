//! Puts the commit into `commune --version` when the binary is built from a git checkout of
//! this repository: `COMMUNE_VERSION` is `0.1.0 (1a2b3c4)`, or `0.1.0` when git is missing,
//! this is not a checkout (a crate tarball, a copied tree) or the checkout is another
//! repository's. Never fails the build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=build.rs");
    let version = match commit(&manifest_dir) {
        Some(commit) => format!("{version} ({commit})"),
        None => version.to_owned(),
    };
    println!("cargo:rustc-env=COMMUNE_VERSION={version}");
}

/// Runs git in `dir` and returns its trimmed output, or None if it did not succeed.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// The short commit of HEAD, if `dir` is this crate in a git checkout of its repository.
fn commit(dir: &Path) -> Option<String> {
    let top = PathBuf::from(git(dir, &["rev-parse", "--show-toplevel"])?);
    // A crate unpacked inside some other repository must not take that repository's commit.
    if !top.join("crates/commune/Cargo.toml").is_file() {
        return None;
    }
    let commit = git(dir, &["rev-parse", "--short", "HEAD"])?;
    // Build again when HEAD moves: HEAD itself (a checkout or a detached commit), the
    // branches (a commit writes its branch's file, loose even when it was packed before) and
    // packed-refs. Only paths that exist are named: a missing one would rebuild always.
    let rerun = |path: PathBuf| {
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    };
    let absolute = |path: String| {
        let path = PathBuf::from(path);
        if path.is_absolute() {
            path
        } else {
            dir.join(path)
        }
    };
    if let Some(git_dir) = git(dir, &["rev-parse", "--git-dir"]) {
        rerun(absolute(git_dir).join("HEAD"));
    }
    if let Some(common) = git(dir, &["rev-parse", "--git-common-dir"]) {
        let common = absolute(common);
        rerun(common.join("packed-refs"));
        // A directory is scanned whole: a branch file added or changed under it counts.
        rerun(common.join("refs").join("heads"));
    }
    Some(commit)
}
