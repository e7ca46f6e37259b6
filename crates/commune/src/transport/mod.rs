//! Moving events between nodes: HTTP sync (the client, the server's routes, signed requests,
//! the peer list) and bundle files for USB sticks.
//!
//! Owns the shell around `commune_core::sync`: the core decides what to send, this carries
//! it out and hands what arrives to [`Node::ingest`](crate::node::Node::ingest). Must not
//! decide anything about events itself: the store says what fits the log, the fold what
//! counts.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

pub mod auth;
pub mod bundle;
pub mod client;
pub mod peers;
pub mod routes;

/// The media type of every sync message.
pub const CBOR: &str = "application/cbor";

/// How long a stopping `serve` waits for the sync under way to finish.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// `commune serve`'s background sync: every `every`, each peer in the list whose backoff has
/// passed is synced on a blocking thread. A failure doubles that peer's wait, up to an hour;
/// a success resets it. It returns once `stop` turns true (or its sender is gone), after the
/// sync under way, if any, has finished or had [`STOP_GRACE`] to.
pub async fn sync_loop(
    node: crate::server::Shared,
    keypair: commune_core::Keypair,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut backoff: HashMap<String, (u32, Instant)> = HashMap::new();
    let mut ticker = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        let dir = node
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .dir()
            .to_owned();
        let urls = match peers::list(&dir) {
            Ok(urls) => urls,
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "cannot read the peer list");
                continue;
            }
        };
        for url in urls {
            if *stop.borrow() {
                return;
            }
            if backoff
                .get(&url)
                .is_some_and(|(_, next)| Instant::now() < *next)
            {
                continue;
            }
            let (node, keypair, target) = (node.clone(), keypair.clone(), url.clone());
            let mut task = tokio::task::spawn_blocking(move || {
                client::sync_peer(&node, &target, keypair, None, &mut |_, _, _| {})
            });
            let outcome = tokio::select! {
                outcome = &mut task => outcome,
                // The guard `wait_for` returns is not Send: drop it before awaiting more.
                () = async { drop(stop.wait_for(|stop| *stop).await) } => {
                    // The sync under way may be writing what it fetched: let it finish, but
                    // do not wait out a peer that does not answer (the client's timeout is
                    // minutes). Its thread is left to the runtime's shutdown; whatever
                    // it has not committed is not in the store.
                    match tokio::time::timeout(STOP_GRACE, task).await {
                        Ok(outcome) => outcome,
                        Err(_) => {
                            tracing::warn!(peer = %url, "stopping without waiting for the sync under way");
                            return;
                        }
                    }
                }
            };
            match outcome {
                Ok(Ok(result)) => {
                    backoff.remove(&url);
                    for c in &result.councils {
                        if c.fetched.new > 0 || c.pushed > 0 {
                            tracing::info!(peer = %url, council = %c.council, new = c.fetched.new, pushed = c.pushed, "synced");
                        }
                    }
                    for (council, reason) in &result.failed {
                        tracing::warn!(peer = %url, %council, %reason, "a council did not sync");
                    }
                }
                Ok(Err(error)) => {
                    let failures = backoff.get(&url).map_or(0, |(n, _)| *n) + 1;
                    let wait = every
                        .saturating_mul(1 << failures.min(12))
                        .min(Duration::from_secs(3600));
                    tracing::warn!(peer = %url, error = %format!("{error:#}"), retry_in_s = wait.as_secs(), "sync failed");
                    backoff.insert(url, (failures, Instant::now() + wait));
                }
                Err(error) => tracing::error!(%error, "a sync task failed"),
            }
        }
    }
}

/// Writes a file through a temporary file beside it, synced and renamed into place, so that
/// it appears whole or not at all. Only a regular file (or a name not yet taken) is replaced
/// so: a device or a pipe (`/dev/null`, a FIFO) is written into in place, `-` is standard
/// output, and a symbolic link has its target replaced, not the link.
pub fn write_atomically(path: &Path, write: impl FnOnce(&mut File) -> Result<()>) -> Result<()> {
    if path == Path::new("-") {
        let mut out = stdout_file()?;
        write(&mut out)?;
        return Ok(());
    }
    let mut target = path.to_owned();
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_dir() => {
            anyhow::bail!("{} is a directory: name a file to write", path.display())
        }
        Ok(metadata) if !metadata.is_file() => {
            // Open without creating or truncating: what stands there stays what it is.
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            return write(&mut file);
        }
        Ok(_) if path.is_symlink() => {
            target = std::fs::canonicalize(path)
                .with_context(|| format!("cannot follow the link {}", path.display()))?;
        }
        _ => {}
    }
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    write(file.as_file_mut())?;
    file.as_file().sync_all()?;
    file.persist(&target)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Standard output as a file, for `-o -`.
#[cfg(unix)]
fn stdout_file() -> Result<File> {
    use std::os::fd::AsFd;
    let fd = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .context("cannot write to standard output")?;
    Ok(File::from(fd))
}

#[cfg(not(unix))]
fn stdout_file() -> Result<File> {
    anyhow::bail!("writing to standard output with `-o -` needs a Unix system")
}
