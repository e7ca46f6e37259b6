//! How fast the store takes in, reads back and re-derives a large council's log, in a file.
//!
//! Owns the numbers behind DESIGN.md §11 that belong to the store alone (signing and
//! verifying are left out: events are signed before the clock starts). Must not assert
//! timings: it prints them. `COMMUNE_BENCH_EVENTS` sets the size (default 200,000).

use std::time::Instant;

use commune_core::{Body, Event, EventId, Keypair, Unsigned};
use commune_store::Store;

const AUTHORS: usize = 64;
const BATCH: usize = 4096;

fn main() {
    let count: usize = std::env::var("COMMUNE_BENCH_EVENTS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(200_000);

    let started = Instant::now();
    let events = council_log(count);
    println!(
        "signed {count} events in {:.1} s (not part of the figures below)",
        started.elapsed().as_secs_f64()
    );

    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut store = Store::open(&dir.path().join("bench.db")).expect("a new store");
    let started = Instant::now();
    for batch in events.chunks(BATCH) {
        let report = store.append(batch).expect("append");
        assert_eq!(report.inserted.len(), batch.len(), "{report:?}");
    }
    rate("append, batches of 4096", count, started);

    let council = events[0].council();
    let started = Instant::now();
    let mut read = 0;
    store
        .for_each_event(council, |_| read += 1)
        .expect("read back");
    assert_eq!(read, count);
    rate("read back and decode in (depth, id) order", count, started);

    let heads = store.heads(council).expect("heads");
    let started = Instant::now();
    store.clear_projections().expect("clear");
    store.rebuild_heads().expect("rebuild heads");
    rate("clear projections and rebuild heads", count, started);
    assert_eq!(store.heads(council).expect("heads"), heads);
}

fn rate(what: &str, count: usize, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{what}: {seconds:.2} s, {:.0} events/s",
        count as f64 / seconds
    );
}

/// One council's log: each event names its author's previous event and one of the last few
/// events of anyone, so that the DAG branches and merges as a busy council's does.
fn council_log(count: usize) -> Vec<Event> {
    let keypairs: Vec<Keypair> = (0..AUTHORS)
        .map(|n| Keypair::from_seed([n as u8 + 1; 32]))
        .collect();
    let mut random = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        random as usize
    };
    let genesis = Unsigned {
        council: None,
        author: keypairs[0].public(),
        seq: 1,
        parents: vec![],
        depth: 0,
        time_ms: 1_700_000_000_000,
        kind: 0,
        body: Body::Inline(b"genesis".to_vec()),
        encryption: None,
    }
    .sign(&keypairs[0]);
    let council = genesis.council();
    let mut events = vec![genesis];
    let mut last_of: Vec<Option<usize>> = vec![None; AUTHORS];
    let mut seq_of = vec![0u64; AUTHORS];
    last_of[0] = Some(0);
    seq_of[0] = 1;
    while events.len() < count {
        let author = next() % AUTHORS;
        let recent = events.len() - 1 - next() % events.len().min(8);
        let mut parents: Vec<usize> = last_of[author].into_iter().chain([recent]).collect();
        parents.sort_by_key(|&index| events[index].id);
        parents.dedup();
        let depth = 1 + parents
            .iter()
            .map(|&index| events[index].unsigned.depth)
            .max()
            .unwrap_or(0);
        let time_ms = parents
            .iter()
            .map(|&index| events[index].unsigned.time_ms)
            .max()
            .unwrap_or(0)
            + (next() % 1000) as u64;
        seq_of[author] += 1;
        let event = Unsigned {
            council: Some(council),
            author: keypairs[author].public(),
            seq: seq_of[author],
            parents: parents
                .iter()
                .map(|&index| events[index].id)
                .collect::<Vec<EventId>>(),
            depth,
            time_ms,
            kind: 1,
            body: Body::Inline(format!("ballot {}", events.len()).into_bytes()),
            encryption: None,
        }
        .sign(&keypairs[author]);
        last_of[author] = Some(events.len());
        events.push(event);
    }
    events
}
