//! `commune bench`: the ingest and open benchmarks of DESIGN.md §11, at the sizes it names.
//!
//! Generates a council's log of signed events (members joining by invitation, proposals,
//! ballots, closes, with concurrent pairs of events), then measures in one run: bare batch
//! signature verification of the events (the anchor), end-to-end ingest (decode, batch
//! verify, append to a fresh SQLite file or the empty store `--store` names, fold), opening
//! the node (fold from the store), and a full rebuild of the projections.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use commune_core::constitution::Constitution;
use commune_core::event::verify_events;
use commune_core::invite::Invitation;
use commune_core::payload::{self, Action, Payload};
use commune_core::tally::{Choice, YesNo};
use commune_core::{CouncilId, Event, Folder, Keypair, ParentInfo, Unsigned};
use commune_store::Store;
use serde::Serialize;

use crate::cli::Invocation;
use crate::config::progress_bar;
use crate::node::fold_store;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// How many events
    #[arg(long, default_value_t = 1_000_000)]
    pub events: usize,
    /// How many members
    #[arg(long, default_value_t = 1_000)]
    pub members: usize,
    /// Events per ingest batch (one transaction, one batch verification)
    #[arg(long, default_value_t = 4096)]
    pub batch: usize,
    /// Where to put the database [default: a temporary directory]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct Figures {
    store: String,
    events: usize,
    members: usize,
    generate_s: f64,
    batch_verify_per_s: f64,
    ingest_per_s: f64,
    ingest_to_verify_ratio: f64,
    open_s: f64,
    rebuild_s: f64,
    rejections: usize,
    state_hash: String,
}

pub fn run(invocation: &Invocation, args: BenchArgs) -> Result<()> {
    let quiet = invocation.json;
    let started = Instant::now();
    let log = generate(args.events, args.members.max(2), quiet);
    let generate_s = started.elapsed().as_secs_f64();
    let council = Event::decode(&log[0])?.council();

    // Anchor: bare batch verification of the same events, already decoded.
    let decoded: Vec<Event> = log
        .iter()
        .map(|bytes| Event::decode(bytes))
        .collect::<Result<_, _>>()?;
    let bar = progress_bar(log.len() as u64, "batch verify", quiet);
    let started = Instant::now();
    for chunk in decoded.chunks(args.batch) {
        let ok = verify_events(chunk);
        anyhow::ensure!(ok.iter().all(|&ok| ok), "a generated signature failed");
        bar.inc(chunk.len() as u64);
    }
    let verify_s = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    drop(decoded);

    // End to end: bytes in, decoded, verified, stored, folded.
    let temporary = tempfile::TempDir::new()?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| temporary.path().to_owned());
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("bench.sqlite");
    // A fresh SQLite file, or the (empty) store --store names.
    let open = || match &invocation.store {
        Some(url) => Store::connect(url),
        None => Store::open(&path),
    };
    if invocation.store.is_none() {
        let _ = std::fs::remove_file(&path);
    }
    let mut store = open()?;
    anyhow::ensure!(
        store.councils()?.is_empty(),
        "the store {} already holds councils: the benchmark needs an empty one",
        store.location()
    );
    let location = store.location().to_owned();
    let mut folder = Folder::new(council, Default::default());
    let bar = progress_bar(log.len() as u64, "ingest", quiet);
    let started = Instant::now();
    for chunk in log.chunks(args.batch) {
        let events: Vec<Event> = chunk
            .iter()
            .map(|bytes| Event::decode(bytes))
            .collect::<Result<_, _>>()?;
        let ok = verify_events(&events);
        anyhow::ensure!(ok.iter().all(|&ok| ok), "a signature failed");
        let report = store.append(&events)?;
        anyhow::ensure!(
            report.inserted.len() == events.len(),
            "events were not stored: {report:?}"
        );
        for event in &events {
            folder.apply(event, None)?;
        }
        bar.inc(chunk.len() as u64);
    }
    anyhow::ensure!(!folder.needs_restart(), "the generated log needs a refold");
    let ingested = folder
        .finish()
        .map_err(|_| anyhow::anyhow!("refold needed"))?;
    let ingest_s = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    drop(store);

    // Opening: a fresh process would open the store and fold the log.
    let started = Instant::now();
    let store = open()?;
    let opened = fold_store(&store, council, None)?;
    let open_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        opened.state.hash() == ingested.state.hash(),
        "open and ingest disagree"
    );

    // Rebuild: every projection from the log.
    drop(store);
    let started = Instant::now();
    let mut store = open()?;
    store.clear_projections()?;
    store.rebuild_heads()?;
    let rebuilt = fold_store(&store, council, None)?;
    store.put_projection(
        council,
        "state_hash",
        &format!(
            "{} {}",
            data_encoding::HEXLOWER.encode(&rebuilt.state.hash()),
            rebuilt.state.events
        ),
    )?;
    let rebuild_s = started.elapsed().as_secs_f64();

    let n = log.len() as f64;
    let figures = Figures {
        store: location,
        events: log.len(),
        members: args.members,
        generate_s,
        batch_verify_per_s: n / verify_s,
        ingest_per_s: n / ingest_s,
        ingest_to_verify_ratio: verify_s / ingest_s,
        open_s,
        rebuild_s,
        rejections: rebuilt.rejections.len(),
        state_hash: data_encoding::HEXLOWER.encode(&rebuilt.state.hash()),
    };
    invocation.print(&figures, || {
        format!(
            "store                  {}\nevents                 {}\nmembers                {}\ngenerate               {:.1} s\n\
             batch verify (anchor)  {:.0} events/s\ningest end to end      {:.0} events/s\n\
             ratio                  {:.2} (goal ≥ 0.60)\nopen (fold from store) {:.2} s (goal ≤ 2 s)\n\
             full rebuild           {:.2} s (goal ≤ 30 s)\nstate hash             {}",
            figures.store,
            figures.events,
            figures.members,
            figures.generate_s,
            figures.batch_verify_per_s,
            figures.ingest_per_s,
            figures.ingest_to_verify_ratio,
            figures.open_s,
            figures.rebuild_s,
            figures.state_hash
        )
    })
}

/// The key of generated member `i`: the same in every benchmark, so that a benchmark can act
/// as a member of a log another one generated.
pub(crate) fn member_key(i: usize) -> Keypair {
    Keypair::from_seed(*blake3::hash(&(i as u64).to_le_bytes()).as_bytes())
}

/// A council's log of `events` signed events, as bytes, in (depth, id) order.
pub(crate) fn generate(events: usize, members: usize, quiet: bool) -> Vec<Vec<u8>> {
    let bar = progress_bar(events as u64, "generate", quiet);
    let keys: Vec<Keypair> = (0..members).map(member_key).collect();
    let mut seqs = vec![0u64; members];
    let mut time = 1_700_000_000_000u64;
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let found = Payload::Found(payload::Found {
        name: "Benchmark council".into(),
        constitution: Constitution::default(),
        founder_name: "member 0".into(),
    });
    let genesis =
        Unsigned::genesis(keys[0].public(), time, found.kind(), found.encode()).sign(&keys[0]);
    seqs[0] = 1;
    let council: CouncilId = genesis.council();
    let mut heads: Vec<ParentInfo> = vec![genesis.parent_info()];
    let mut log: Vec<Event> = vec![genesis];
    let sign =
        |who: usize, parents: &[ParentInfo], time: u64, payload: &Payload, seqs: &mut Vec<u64>| {
            seqs[who] += 1;
            Unsigned::compose(
                council,
                keys[who].public(),
                seqs[who],
                parents,
                time,
                payload.kind(),
                payload.encode(),
            )
            .sign(&keys[who])
        };
    for member in 1..members.min(events) {
        time += 1;
        let mut nonce = [0u8; 16];
        nonce[..8].copy_from_slice(&(member as u64).to_le_bytes());
        let invitation = Invitation::new(
            council,
            "Benchmark council".into(),
            &keys[0],
            nonce,
            u64::MAX,
        );
        let join = Payload::Join(payload::Join {
            name: format!("member {member}"),
            invitation: Some(invitation),
        });
        let event = sign(member, &heads, time, &join, &mut seqs);
        heads = vec![event.parent_info()];
        log.push(event);
        bar.inc(1);
    }
    let mut proposal = None;
    let mut step = 0usize;
    while log.len() < events {
        time += 1;
        step += 1;
        // A new question every 250 steps (500 ballots), closing the one before.
        let payload = match proposal {
            Some(id) if !step.is_multiple_of(250) => Payload::Ballot(payload::Ballot {
                proposal: id,
                choice: Choice::YesNo {
                    vote: [YesNo::Yes, YesNo::No, YesNo::Abstain][(next() % 3) as usize],
                },
            }),
            _ => {
                if let Some(id) = proposal {
                    let close = Payload::Close(payload::Close { proposal: id });
                    let event = sign(
                        (next() % members as u64) as usize,
                        &heads,
                        time,
                        &close,
                        &mut seqs,
                    );
                    heads = vec![event.parent_info()];
                    log.push(event);
                    time += 1;
                }
                Payload::Propose(payload::Propose {
                    title: format!("Question {step}"),
                    text: "Shall we?".into(),
                    action: Action::None,
                    method: None,
                    options: Vec::new(),
                    quorum: None,
                    deadline_ms: time,
                    mode: None,
                })
            }
        };
        let is_proposal = matches!(payload, Payload::Propose(_));
        let first = (next() % members as u64) as usize;
        let event = sign(first, &heads, time, &payload, &mut seqs);
        if is_proposal {
            proposal = Some(event.id);
            heads = vec![event.parent_info()];
            log.push(event);
        } else {
            // Every ballot is cast concurrently with another member's, on the same heads.
            let second = (first + 1 + (next() % (members as u64 - 1)) as usize) % members;
            let twin = sign(second, &heads, time, &payload, &mut seqs);
            heads = vec![event.parent_info(), twin.parent_info()];
            log.push(event);
            log.push(twin);
        }
        bar.inc(2);
    }
    bar.finish_and_clear();
    log.truncate(events);
    log.sort_by_key(commune_core::fold::order_key);
    log.into_iter().map(|event| event.bytes).collect()
}
