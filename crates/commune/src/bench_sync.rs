//! `commune bench-sync`: the sync benchmark of DESIGN.md §11 and the bundle import rate.
//!
//! Two nodes share a generated council log of `--events` events; one of them also holds
//! `--diff` more, either recent (the next events of the log) or scattered (side branches
//! hanging off random points of its history, at old depths). The lagging node syncs from the
//! other over real HTTP on loopback, and the run reports round trips, bytes each way and wall
//! time. The anchor is the `negentropy` crate reconciling the same two sets of (depth, id),
//! in memory, in the same run. Then the full log is exported as a bundle and imported into
//! an empty node.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use commune_core::payload::{self, Payload};
use commune_core::{Event, EventId, Keypair, Unsigned};
use commune_store::Store;
use serde::Serialize;

use crate::bench::member_key;
use crate::cli::Invocation;
use crate::config::progress_bar;
use crate::node::Node;
use crate::transport::{bundle, client};

#[derive(Debug, Args)]
pub struct BenchSyncArgs {
    /// Events both nodes hold
    #[arg(long, default_value_t = 1_000_000)]
    pub events: usize,
    /// Events only the leading node holds
    #[arg(long, default_value_t = 1_000)]
    pub diff: usize,
    /// Where the extra events sit in the log
    #[arg(long, value_enum, default_value = "recent")]
    pub spread: Spread,
    /// How many members
    #[arg(long, default_value_t = 1_000)]
    pub members: usize,
    /// Also time exporting the leading node's log to a bundle and importing it into an
    /// empty node
    #[arg(long)]
    pub bundle: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Spread {
    /// The next events of the log
    Recent,
    /// Side branches off random points of the whole history
    Scattered,
}

#[derive(Debug, Serialize)]
struct Figures {
    events: usize,
    diff: usize,
    spread: Spread,
    found: usize,
    fetched: usize,
    round_trips: u64,
    reconcile_bytes: u64,
    reconcile_bytes_per_diff: f64,
    reconcile_s: f64,
    requests: u64,
    bytes_up: u64,
    bytes_down: u64,
    sync_s: f64,
    negentropy_round_trips: u64,
    negentropy_bytes: u64,
    negentropy_bytes_per_diff: f64,
    negentropy_s: f64,
    bundle_events: Option<u64>,
    bundle_import_per_s: Option<f64>,
}

pub fn run(invocation: &Invocation, args: BenchSyncArgs) -> Result<()> {
    let quiet = invocation.json;
    let members = args.members.max(2);
    let (base, extra) = match args.spread {
        Spread::Recent => {
            let mut log = crate::bench::generate(args.events + args.diff, members, quiet);
            let extra = log.split_off(args.events);
            (log, extra)
        }
        Spread::Scattered => {
            let log = crate::bench::generate(args.events, members, quiet);
            let extra = side_branches(&log, args.diff)?;
            (log, extra)
        }
    };
    let council = Event::decode(&base[0])?.council();
    let temporary = tempfile::TempDir::new()?;
    let lagging = temporary.path().join("lagging");
    let leading = temporary.path().join("leading");
    fill(&lagging, &base, quiet)?;
    std::fs::create_dir_all(&leading)?;
    std::fs::copy(
        lagging.join(crate::node::DATABASE),
        leading.join(crate::node::DATABASE),
    )?;
    std::fs::create_dir_all(leading.join("keys"))?;
    {
        let mut store = Store::open(&leading.join(crate::node::DATABASE))?;
        let events: Vec<Event> = extra
            .iter()
            .map(|b| Event::decode(b))
            .collect::<Result<_, _>>()?;
        let report = store.append(&events)?;
        anyhow::ensure!(
            report.inserted.len() == extra.len(),
            "extra events not stored: {report:?}"
        );
    }

    let anchor = negentropy_cost(&base, &extra)?;

    // The leading node serves; the lagging one syncs from it, as `commune sync` does.
    let mut server_node = Node::open(&leading)?;
    server_node.fold(council)?;
    let server_node = Arc::new(Mutex::new(server_node));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let address = listener.local_addr()?;
    runtime.spawn(async move { axum::serve(listener, crate::server::router(server_node)).await });
    let node = Mutex::new(Node::open(&lagging)?);
    let started = Instant::now();
    let result = client::sync_peer(
        &node,
        &format!("http://{address}"),
        member_key(0),
        Some(vec![council]),
        &mut |_, _, _| {},
    )?;
    let sync_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        result.failed.is_empty(),
        "the sync failed: {:?}",
        result.failed
    );
    let synced = &result.councils[0];

    let mut figures = Figures {
        events: args.events,
        diff: args.diff,
        spread: args.spread,
        found: synced.difference,
        fetched: synced.fetched.new,
        round_trips: synced.reconcile_round_trips,
        reconcile_bytes: synced.reconcile_bytes,
        reconcile_bytes_per_diff: synced.reconcile_bytes as f64 / args.diff.max(1) as f64,
        reconcile_s: synced.reconcile_ms as f64 / 1000.0,
        requests: synced.traffic.requests,
        bytes_up: synced.traffic.bytes_up,
        bytes_down: synced.traffic.bytes_down,
        sync_s,
        negentropy_round_trips: anchor.0,
        negentropy_bytes: anchor.1,
        negentropy_bytes_per_diff: anchor.1 as f64 / args.diff.max(1) as f64,
        negentropy_s: anchor.2,
        bundle_events: None,
        bundle_import_per_s: None,
    };
    if args.bundle {
        let file = temporary.path().join("all.bundle");
        let node = node.into_inner().unwrap_or_else(|p| p.into_inner());
        let written = bundle::export(&node, &[council], None, &member_key(0), &file, &mut |_| {})?;
        let empty = temporary.path().join("empty");
        std::fs::create_dir_all(empty.join("keys"))?;
        let mut fresh = Node::open(&empty)?;
        let started = Instant::now();
        let report = bundle::import(&mut fresh, &file, u64::MAX, &mut |_, _| {})?;
        let seconds = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            report.events.new as u64 == written.events,
            "the import lost events"
        );
        figures.bundle_events = Some(written.events);
        figures.bundle_import_per_s = Some(written.events as f64 / seconds);
    }
    invocation.print(&figures, || {
        let mut out = format!(
            "{} events, {} more on one side ({:?}):\n  commune:    {} round trips, {} B of reconciliation ({:.1} B per differing event) in {:.2} s; whole sync {:.2} s, {} requests, {} B up, {} B down\n  negentropy: {} round trips, {} B ({:.1} B per differing event) in {:.2} s (in memory)",
            figures.events, figures.diff, figures.spread,
            figures.round_trips, figures.reconcile_bytes, figures.reconcile_bytes_per_diff, figures.reconcile_s,
            figures.sync_s, figures.requests, figures.bytes_up, figures.bytes_down,
            figures.negentropy_round_trips, figures.negentropy_bytes, figures.negentropy_bytes_per_diff, figures.negentropy_s,
        );
        if let (Some(n), Some(rate)) = (figures.bundle_events, figures.bundle_import_per_s) {
            out.push_str(&format!("\n  bundle import: {n} events at {rate:.0} events/s"));
        }
        out
    })
}

/// A data directory holding the log, with member 0's key as its identity.
pub(crate) fn fill(dir: &Path, log: &[Vec<u8>], quiet: bool) -> Result<()> {
    std::fs::create_dir_all(dir.join("keys"))?;
    std::fs::write(
        dir.join("keys")
            .join(format!("{}.key", crate::node::DEFAULT_IDENTITY)),
        data_encoding::HEXLOWER.encode(&member_key(0).seed()),
    )?;
    let mut store = Store::open(&dir.join(crate::node::DATABASE))?;
    let bar = progress_bar(log.len() as u64, "store", quiet);
    for chunk in log.chunks(8192) {
        let events: Vec<Event> = chunk
            .iter()
            .map(|b| Event::decode(b))
            .collect::<Result<_, _>>()?;
        let report = store.append(&events)?;
        anyhow::ensure!(report.inserted.len() == events.len(), "events not stored");
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(())
}

/// `count` joins by newcomers (invited by member 0), each hanging off a random event of the
/// log: old depths, spread over the whole history, and no event builds on them.
fn side_branches(log: &[Vec<u8>], count: usize) -> Result<Vec<Vec<u8>>> {
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut extra = Vec::with_capacity(count);
    for i in 0..count {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let parent = Event::decode(&log[(rng % log.len() as u64) as usize])?;
        let outsider = Keypair::from_seed(
            *blake3::hash(&[b"outsider".as_slice(), &(i as u64).to_le_bytes()].concat()).as_bytes(),
        );
        // A join with member 0's invitation: a node stores only what a key it can place in
        // the council signed (the gate), and a newcomer with an invitation is one.
        let mut nonce = [0u8; 16];
        nonce[..8].copy_from_slice(&(i as u64).to_le_bytes());
        nonce[8] = 0xaa;
        let comment = Payload::Join(payload::Join {
            name: format!("newcomer {i}"),
            invitation: Some(commune_core::invite::Invitation::new(
                parent.council(),
                "Benchmark council".into(),
                &member_key(0),
                nonce,
                u64::MAX,
            )),
        });
        let event = Unsigned::compose(
            parent.council(),
            outsider.public(),
            1,
            &[parent.parent_info()],
            parent.unsigned.time_ms + 1,
            comment.kind(),
            comment.encode(),
        )
        .sign(&outsider);
        extra.push(event.bytes);
    }
    Ok(extra)
}

/// Round trips, bytes both ways and seconds for negentropy to reconcile `base` against
/// `base + extra`, as (depth, id) items, with no frame size limit.
fn negentropy_cost(base: &[Vec<u8>], extra: &[Vec<u8>]) -> Result<(u64, u64, f64)> {
    use negentropy::{Id, Negentropy, NegentropyStorageVector};
    let items = |log: &[Vec<u8>]| -> Result<Vec<(u64, EventId)>> {
        log.iter()
            .map(|b| Event::decode(b).map(|e| (e.unsigned.depth, e.id)))
            .collect::<Result<_, _>>()
            .context("a generated event does not decode")
    };
    let storage = |items: &[(u64, EventId)]| -> Result<NegentropyStorageVector> {
        let mut storage = NegentropyStorageVector::with_capacity(items.len());
        for (depth, id) in items {
            storage
                .insert(
                    *depth,
                    Id::from_slice(id.as_bytes()).map_err(|e| anyhow::anyhow!("{e}"))?,
                )
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        storage.seal().map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(storage)
    };
    let lagging = items(base)?;
    let mut leading = lagging.clone();
    leading.extend(items(extra)?);
    let (lagging, leading) = (storage(&lagging)?, storage(&leading)?);
    let started = Instant::now();
    let error = |e: negentropy::Error| anyhow::anyhow!("negentropy: {e}");
    let mut client = Negentropy::borrowed(&lagging, 0).map_err(error)?;
    let mut server = Negentropy::borrowed(&leading, 0).map_err(error)?;
    let mut message = client.initiate().map_err(error)?;
    let (mut round_trips, mut bytes) = (0u64, 0u64);
    let (mut have, mut need) = (Vec::new(), Vec::new());
    loop {
        let answer = server.reconcile(&message).map_err(error)?;
        round_trips += 1;
        bytes += (message.len() + answer.len()) as u64;
        match client
            .reconcile_with_ids(&answer, &mut have, &mut need)
            .map_err(error)?
        {
            Some(next) => message = next,
            None => break,
        }
    }
    anyhow::ensure!(
        need.len() == extra.len(),
        "negentropy found {} of {}",
        need.len(),
        extra.len()
    );
    Ok((round_trips, bytes, started.elapsed().as_secs_f64()))
}
