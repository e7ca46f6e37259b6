//! The peers a node syncs with: a list of base URLs in `peers.json` in the data directory.
//!
//! A file, not a table: peers are this node's settings, not part of any council's log, and a
//! person may edit the list by hand.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

const FILE: &str = "peers.json";

fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// The peers' base URLs, in the order they were added.
pub fn list(dir: &Path) -> Result<Vec<String>> {
    let path = path(dir);
    match fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("{} is not a JSON list of URLs", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// A peer's base URL, checked and without a trailing slash.
pub fn normalise(url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(url.to_owned()),
        _ => bail!("a peer is an http:// or https:// URL, like http://127.0.0.1:7878: {url:?}"),
    }
}

/// Adds a peer; returns false if it was already there.
pub fn add(dir: &Path, url: &str) -> Result<bool> {
    let url = normalise(url)?;
    let mut peers = list(dir)?;
    if peers.contains(&url) {
        return Ok(false);
    }
    peers.push(url);
    save(dir, &peers)?;
    Ok(true)
}

/// Removes a peer; returns false if it was not there.
pub fn remove(dir: &Path, url: &str) -> Result<bool> {
    let url = normalise(url)?;
    let mut peers = list(dir)?;
    let before = peers.len();
    peers.retain(|peer| *peer != url);
    if peers.len() == before {
        return Ok(false);
    }
    save(dir, &peers)?;
    Ok(true)
}

/// Writes the list so that a crash leaves the old list or the new one, never half of either.
fn save(dir: &Path, peers: &[String]) -> Result<()> {
    super::write_atomically(&path(dir), |file| {
        Ok(serde_json::to_writer_pretty(file, peers)?)
    })
}
