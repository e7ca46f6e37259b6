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

/// `commune serve`'s background sync: every `every`, each peer in the list whose backoff has
/// passed is synced on a blocking thread. A failure doubles that peer's wait, up to an hour;
/// a success resets it.
pub async fn sync_loop(
    node: crate::server::Shared,
    keypair: commune_core::Keypair,
    every: Duration,
) {
    let mut backoff: HashMap<String, (u32, Instant)> = HashMap::new();
    let mut ticker = tokio::time::interval(every);
    loop {
        ticker.tick().await;
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
            if backoff
                .get(&url)
                .is_some_and(|(_, next)| Instant::now() < *next)
            {
                continue;
            }
            let (node, keypair, target) = (node.clone(), keypair.clone(), url.clone());
            let outcome = tokio::task::spawn_blocking(move || {
                client::sync_peer(&node, &target, keypair, None, &mut |_, _, _| {})
            })
            .await;
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

/// Writes a file through a temporary file beside it, synced and renamed into place.
pub fn write_atomically(path: &Path, write: impl FnOnce(&mut File) -> Result<()>) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    write(file.as_file_mut())?;
    file.as_file().sync_all()?;
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
