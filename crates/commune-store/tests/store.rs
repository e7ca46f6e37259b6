//! The store's one test story, run on every backend, and the file-only cases (reopening,
//! corruption, schema versions).
//!
//! Owns the checks of `Store`'s contract. Must not depend on how a backend lays out its
//! tables, except in the file-only cases that damage a SQLite file on purpose.

#[path = "store/on_postgres.rs"]
mod on_postgres;

use std::path::{Path, PathBuf};

use commune_core::event::EventError;
use commune_core::{Body, CouncilId, Event, EventId, Keypair, Unsigned};
use commune_store::{SCHEMA_VERSION, Store, StoreError};

// ---------------------------------------------------------------------------------------------
// Building events.

fn keypair(n: u8) -> Keypair {
    Keypair::from_seed([n; 32])
}

fn genesis(keypair: &Keypair, time_ms: u64) -> Event {
    Unsigned {
        council: None,
        author: keypair.public(),
        seq: 1,
        parents: vec![],
        depth: 0,
        time_ms,
        kind: 0,
        body: Body::Inline(b"genesis".to_vec()),
        encryption: None,
    }
    .sign(keypair)
}

/// A well-formed event with these parents (of one council), after `edit` has had its say.
fn child_with(
    keypair: &Keypair,
    seq: u64,
    parents: &[&Event],
    edit: impl FnOnce(&mut Unsigned),
) -> Event {
    let mut ids: Vec<EventId> = parents.iter().map(|parent| parent.id).collect();
    ids.sort();
    let mut unsigned = Unsigned {
        council: Some(parents[0].council()),
        author: keypair.public(),
        seq,
        parents: ids,
        depth: 1 + parents.iter().map(|p| p.unsigned.depth).max().unwrap(),
        time_ms: parents
            .iter()
            .map(|p| p.unsigned.time_ms)
            .max()
            .unwrap()
            .saturating_add(1),
        kind: 1,
        body: Body::Inline(seq.to_be_bytes().to_vec()),
        encryption: None,
    };
    edit(&mut unsigned);
    unsigned.sign(keypair)
}

fn child(keypair: &Keypair, seq: u64, parents: &[&Event]) -> Event {
    child_with(keypair, seq, parents, |_| {})
}

fn ids(events: &[&Event]) -> Vec<EventId> {
    events.iter().map(|event| event.id).collect()
}

fn sorted(mut ids: Vec<EventId>) -> Vec<EventId> {
    ids.sort();
    ids
}

/// The ids in the order the log keeps them: (depth, id).
fn in_log_order(events: &[&Event]) -> Vec<EventId> {
    let mut events = events.to_vec();
    events.sort_by_key(|event| (event.unsigned.depth, event.id));
    ids(&events)
}

/// Appends events that must all go in.
fn append_all(store: &mut Store, events: &[&Event]) {
    let batch: Vec<Event> = events.iter().map(|event| (*event).clone()).collect();
    let report = store.append(&batch).unwrap();
    assert_eq!(
        sorted(report.inserted.clone()),
        sorted(ids(events)),
        "{report:?}"
    );
}

fn ids_of(store: &Store, council: CouncilId) -> Vec<EventId> {
    store
        .events_of(council)
        .unwrap()
        .iter()
        .map(|event| event.id)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The story every backend must tell the same way.

macro_rules! on_every_backend {
    ($($story:ident),* $(,)?) => {
        mod in_memory {
            $(
                #[test]
                fn $story() {
                    super::$story(&mut commune_store::Store::memory().unwrap());
                }
            )*
        }

        mod in_a_file {
            $(
                #[test]
                fn $story() {
                    let dir = tempfile::tempdir().unwrap();
                    let path = dir.path().join("commune.db");
                    super::$story(&mut commune_store::Store::open(&path).unwrap());
                }
            )*
        }

        mod postgres_server {
            $(
                #[test]
                fn $story() {
                    let Some(database) = super::on_postgres::Database::fresh() else {
                        return;
                    };
                    super::$story(&mut database.store());
                }
            )*
        }
    };
}

on_every_backend!(
    append_is_idempotent,
    a_batch_may_come_in_any_order,
    missing_parents_are_reported,
    events_that_do_not_fit_their_parents_are_refused,
    heads_follow_branches_and_merges,
    events_come_in_depth_then_id_order,
    councils_counts_and_seqs,
    every_u64_round_trips,
    projections_are_caches_of_the_log,
    a_rebuild_replaces_heads_and_projections_at_once,
    bodies_are_addressed_by_their_hash,
);

fn append_is_idempotent(store: &mut Store) {
    let alice = keypair(1);
    let g = genesis(&alice, 1_000);
    let a = child(&alice, 2, &[&g]);
    let b = child(&alice, 3, &[&a]);
    let council = g.council();

    let report = store.append(&[g.clone(), a.clone(), b.clone()]).unwrap();
    assert_eq!(report.inserted, ids(&[&g, &a, &b]));
    assert_eq!(report.duplicates, 0);
    assert!(report.missing_parents.is_empty());
    assert!(report.invalid.is_empty());

    let again = store
        .append(&[b.clone(), a.clone(), g.clone(), a.clone()])
        .unwrap();
    assert!(again.inserted.is_empty());
    assert_eq!(again.duplicates, 4);
    assert!(again.missing_parents.is_empty() && again.invalid.is_empty());

    // An event given twice in one batch goes in once.
    let c = child(&alice, 4, &[&b]);
    let twice = store.append(&[c.clone(), c.clone()]).unwrap();
    assert_eq!((twice.inserted, twice.duplicates), (vec![c.id], 1));

    // A stored event given again with a new child: the child still links to it.
    let d = child(&alice, 5, &[&c]);
    let with_parent = store.append(&[d.clone(), c.clone()]).unwrap();
    assert_eq!(
        (with_parent.inserted, with_parent.duplicates),
        (vec![d.id], 1)
    );
    assert_eq!(store.heads(council).unwrap(), vec![d.id]);
    store.clear_projections().unwrap();
    store.rebuild_heads().unwrap();
    assert_eq!(store.heads(council).unwrap(), vec![d.id]);

    assert_eq!(store.event_count(council).unwrap(), 5);
    assert_eq!(store.event(a.id).unwrap(), Some(a.clone()));
    assert!(store.has(c.id).unwrap());
    let stranger = child(&alice, 6, &[&d]);
    assert!(!store.has(stranger.id).unwrap());
    assert_eq!(store.event(stranger.id).unwrap(), None);
    assert_eq!(store.heads(council).unwrap(), vec![d.id]);
}

fn a_batch_may_come_in_any_order(store: &mut Store) {
    let alice = keypair(1);
    let bob = keypair(2);
    let g = genesis(&alice, 1_000);
    let a = child(&alice, 2, &[&g]);
    let b = child(&bob, 1, &[&g]);
    let c = child(&alice, 3, &[&a, &b]);
    let d = child(&bob, 2, &[&c]);
    let all = [&g, &a, &b, &c, &d];

    let backwards: Vec<Event> = all.iter().rev().map(|event| (*event).clone()).collect();
    let report = store.append(&backwards).unwrap();
    assert_eq!(report.inserted, in_log_order(&all));
    assert_eq!(report.duplicates, 0);
    assert!(report.missing_parents.is_empty() && report.invalid.is_empty());
    assert_eq!(ids_of(store, g.council()), in_log_order(&all));
    assert_eq!(store.heads(g.council()).unwrap(), vec![d.id]);
}

fn missing_parents_are_reported(store: &mut Store) {
    let alice = keypair(1);
    let g = genesis(&alice, 1_000);
    let a = child(&alice, 2, &[&g]);
    let b = child(&alice, 3, &[&a]);
    let c = child(&alice, 4, &[&g]);
    let orphan_of_orphan = child(&alice, 5, &[&b]);
    append_all(store, &[&g]);

    // `a` is given to no one: `b` waits for it, and so does `b`'s own child.
    let report = store
        .append(&[orphan_of_orphan.clone(), b.clone(), c.clone()])
        .unwrap();
    assert_eq!(report.inserted, vec![c.id]);
    assert_eq!(report.missing_parents, vec![b.id, orphan_of_orphan.id]);
    assert!(report.invalid.is_empty());
    assert!(!store.has(b.id).unwrap());
    assert!(!store.has(orphan_of_orphan.id).unwrap());
    assert_eq!(store.heads(g.council()).unwrap(), vec![c.id]);

    // Once the parent arrives, the children go in.
    let report = store
        .append(&[b.clone(), orphan_of_orphan.clone(), a.clone()])
        .unwrap();
    assert_eq!(report.inserted, ids(&[&a, &b, &orphan_of_orphan]));
    assert!(report.missing_parents.is_empty());
    assert_eq!(
        store.heads(g.council()).unwrap(),
        sorted(vec![c.id, orphan_of_orphan.id])
    );

    // A child of a refused event of the same batch waits for a parent that never comes.
    let too_deep = child_with(&alice, 6, &[&c], |u| u.depth += 1);
    let child_of_too_deep = child(&alice, 7, &[&too_deep]);
    let report = store
        .append(&[child_of_too_deep.clone(), too_deep.clone()])
        .unwrap();
    assert!(report.inserted.is_empty());
    assert_eq!(report.invalid.len(), 1);
    assert_eq!(report.invalid[0].0, too_deep.id);
    assert_eq!(report.missing_parents, vec![child_of_too_deep.id]);
    assert!(!store.has(child_of_too_deep.id).unwrap());
}

fn events_that_do_not_fit_their_parents_are_refused(store: &mut Store) {
    let alice = keypair(1);
    let g = genesis(&alice, 1_000);
    let other = genesis(&keypair(2), 1_000);
    let a = child(&alice, 2, &[&g]);
    append_all(store, &[&g, &other, &a]);

    let too_deep = child_with(&alice, 3, &[&a], |u| u.depth = 5);
    let too_early = child_with(&alice, 4, &[&a], |u| u.time_ms = 999);
    let mut two_councils = vec![a.id, other.id];
    two_councils.sort();
    let foreign = child_with(&alice, 5, &[&a], |u| u.parents = two_councils);
    // Its parent is in the same batch, but it claims the parent's own depth.
    let b = child(&alice, 6, &[&a]);
    let as_deep_as_parent = child_with(&alice, 7, &[&b], |u| u.depth = b.unsigned.depth);
    let fine = child(&alice, 8, &[&a]);

    let report = store
        .append(&[
            too_deep.clone(),
            too_early.clone(),
            foreign.clone(),
            as_deep_as_parent.clone(),
            b.clone(),
            fine.clone(),
        ])
        .unwrap();
    assert_eq!(report.inserted, in_log_order(&[&b, &fine]));
    assert!(report.missing_parents.is_empty());
    let mut invalid = report.invalid.clone();
    invalid.sort_by_key(|(id, _)| *id);
    let mut expected = vec![
        (
            too_deep.id,
            EventError::Depth {
                expected: 2,
                found: 5,
            },
        ),
        (
            too_early.id,
            EventError::Time {
                parent: 1_001,
                found: 999,
            },
        ),
        (foreign.id, EventError::ForeignParent(other.id)),
        (
            as_deep_as_parent.id,
            EventError::Depth {
                expected: 3,
                found: 2,
            },
        ),
    ];
    expected.sort_by_key(|(id, _)| *id);
    assert_eq!(invalid, expected);
    for refused in [&too_deep, &too_early, &foreign, &as_deep_as_parent] {
        assert!(!store.has(refused.id).unwrap());
    }
    assert_eq!(store.event_count(g.council()).unwrap(), 4);
    assert_eq!(
        store.heads(g.council()).unwrap(),
        sorted(vec![b.id, fine.id])
    );
}

fn heads_follow_branches_and_merges(store: &mut Store) {
    let alice = keypair(1);
    let bob = keypair(2);
    let g = genesis(&alice, 1_000);
    let council = g.council();
    append_all(store, &[&g]);
    assert_eq!(store.heads(council).unwrap(), vec![g.id]);

    let a = child(&alice, 2, &[&g]);
    let b = child(&bob, 1, &[&g]);
    append_all(store, &[&a, &b]);
    assert_eq!(store.heads(council).unwrap(), sorted(vec![a.id, b.id]));

    let merge = child(&alice, 3, &[&a, &b]);
    append_all(store, &[&merge]);
    assert_eq!(store.heads(council).unwrap(), vec![merge.id]);

    // A late branch from an old event, and a batch that branches and merges within itself.
    let late = child(&bob, 2, &[&a]);
    let left = child(&alice, 4, &[&merge]);
    let right = child(&bob, 3, &[&merge]);
    let join = child(&alice, 5, &[&left, &right]);
    append_all(store, &[&join, &late, &right, &left]);
    assert_eq!(
        store.heads(council).unwrap(),
        sorted(vec![late.id, join.id])
    );

    // Another council keeps its own heads.
    let other = genesis(&bob, 2_000);
    append_all(store, &[&other]);
    assert_eq!(store.heads(other.council()).unwrap(), vec![other.id]);
    assert_eq!(
        store.heads(council).unwrap(),
        sorted(vec![late.id, join.id])
    );
}

fn events_come_in_depth_then_id_order(store: &mut Store) {
    let authors: Vec<Keypair> = (1..=4).map(keypair).collect();
    let g = genesis(&authors[0], 1_000);
    let mut all = vec![g.clone()];
    let mut layer = vec![g.clone()];
    for round in 0..3u64 {
        let mut next = Vec::new();
        for (n, author) in authors.iter().enumerate() {
            // Each author names two events of the previous layer, so the layers interleave.
            let first = &layer[n % layer.len()];
            let second = &layer[(n + 1) % layer.len()];
            let parents: Vec<&Event> = if first.id == second.id {
                vec![first]
            } else {
                vec![first, second]
            };
            next.push(child(author, 2 + round, &parents));
        }
        all.extend(next.iter().cloned());
        layer = next;
    }
    // Insert in several batches, each in a scrambled order.
    let mut scrambled = all.clone();
    scrambled.sort_by_key(|event| event.bytes.clone());
    for batch in [&scrambled[..], &scrambled[..7]] {
        let report = store.append(batch).unwrap();
        assert!(report.invalid.is_empty());
    }
    let expected = in_log_order(&all.iter().collect::<Vec<_>>());
    assert_eq!(ids_of(store, g.council()), expected);

    let mut streamed = Vec::new();
    store
        .for_each_event(g.council(), |event| streamed.push(event))
        .unwrap();
    assert_eq!(streamed, store.events_of(g.council()).unwrap());
    assert_eq!(streamed.len(), 13);

    assert!(store.events_of(CouncilId([9; 32])).unwrap().is_empty());
}

fn councils_counts_and_seqs(store: &mut Store) {
    let alice = keypair(1);
    let bob = keypair(2);
    let g1 = genesis(&alice, 1_000);
    let g2 = genesis(&bob, 1_000);
    let a1 = child(&alice, 2, &[&g1]);
    let a2 = child(&alice, 7, &[&a1]);
    let b1 = child(&bob, 3, &[&g1]);
    let b2 = child(&bob, 2, &[&g2]);
    assert!(store.councils().unwrap().is_empty());
    append_all(store, &[&g1, &g2, &a1, &a2, &b1, &b2]);

    assert_eq!(
        store.councils().unwrap(),
        sorted(vec![g1.id, g2.id])
            .into_iter()
            .map(|id| CouncilId(id.0))
            .collect::<Vec<_>>()
    );
    assert_eq!(store.event_count(g1.council()).unwrap(), 4);
    assert_eq!(store.event_count(g2.council()).unwrap(), 2);
    assert_eq!(store.event_count(CouncilId([9; 32])).unwrap(), 0);
    assert_eq!(store.last_seq(g1.council(), alice.public()).unwrap(), 7);
    assert_eq!(store.last_seq(g1.council(), bob.public()).unwrap(), 3);
    assert_eq!(store.last_seq(g2.council(), bob.public()).unwrap(), 2);
    assert_eq!(store.last_seq(g2.council(), alice.public()).unwrap(), 0);
    assert_eq!(
        store.last_seq(g1.council(), keypair(3).public()).unwrap(),
        0
    );
}

fn every_u64_round_trips(store: &mut Store) {
    let alice = keypair(1);
    let g = genesis(&alice, 1_000);
    let odd_kind = child_with(&alice, 5, &[&g], |u| u.kind = u64::MAX);
    let end_of_time = child_with(&alice, u64::MAX - 1, &[&g], |u| u.time_ms = u64::MAX);
    let past_i64 = child(&alice, 1 << 63, &[&g]);
    append_all(store, &[&g, &odd_kind, &end_of_time, &past_i64]);
    assert_eq!(
        store.last_seq(g.council(), alice.public()).unwrap(),
        u64::MAX - 1
    );
    assert_eq!(store.event(odd_kind.id).unwrap(), Some(odd_kind));
    assert_eq!(
        store.event(end_of_time.id).unwrap(),
        Some(end_of_time.clone())
    );

    // The parent's time is read back from the store as u64::MAX, so only u64::MAX will do.
    let still_the_end = child(&alice, 6, &[&end_of_time]);
    let before_the_end = child_with(&alice, 7, &[&end_of_time], |u| u.time_ms = u64::MAX - 1);
    let report = store
        .append(&[still_the_end.clone(), before_the_end.clone()])
        .unwrap();
    assert_eq!(report.inserted, vec![still_the_end.id]);
    assert_eq!(
        report.invalid,
        vec![(
            before_the_end.id,
            EventError::Time {
                parent: u64::MAX,
                found: u64::MAX - 1
            }
        )]
    );
}

fn projections_are_caches_of_the_log(store: &mut Store) {
    let alice = keypair(1);
    let g1 = genesis(&alice, 1_000);
    let g2 = genesis(&keypair(2), 1_000);
    let a = child(&alice, 2, &[&g1]);
    let b = child(&alice, 3, &[&g1]);
    append_all(store, &[&g1, &g2, &a, &b]);
    let (c1, c2) = (g1.council(), g2.council());

    store.put_projection(c1, "members", r#"["alice"]"#).unwrap();
    store
        .put_projection(c1, "members", r#"["alice","bob"]"#)
        .unwrap();
    store.put_projection(c2, "members", "[]").unwrap();
    assert_eq!(
        store.projection(c1, "members").unwrap().as_deref(),
        Some(r#"["alice","bob"]"#)
    );
    assert_eq!(
        store.projection(c2, "members").unwrap().as_deref(),
        Some("[]")
    );
    assert_eq!(store.projection(c1, "mandates").unwrap(), None);

    let heads = (store.heads(c1).unwrap(), store.heads(c2).unwrap());
    assert_eq!(heads, (sorted(vec![a.id, b.id]), vec![g2.id]));
    store.clear_projections().unwrap();
    assert_eq!(store.projection(c1, "members").unwrap(), None);
    assert_eq!(store.projection(c2, "members").unwrap(), None);
    assert!(store.heads(c1).unwrap().is_empty());
    assert!(store.heads(c2).unwrap().is_empty());
    assert_eq!(store.event_count(c1).unwrap(), 3);

    store.rebuild_heads().unwrap();
    assert_eq!((store.heads(c1).unwrap(), store.heads(c2).unwrap()), heads);

    // Appending after a rebuild moves the rebuilt heads.
    let merge = child(&alice, 4, &[&a, &b]);
    append_all(store, &[&merge]);
    assert_eq!(store.heads(c1).unwrap(), vec![merge.id]);
}

fn a_rebuild_replaces_heads_and_projections_at_once(store: &mut Store) {
    let alice = keypair(1);
    let g1 = genesis(&alice, 1_000);
    let a = child(&alice, 2, &[&g1]);
    append_all(store, &[&g1, &a]);
    let c1 = g1.council();
    store.put_projection(c1, "old", "1").unwrap();
    store.clear_projections().unwrap();
    assert!(store.heads(c1).unwrap().is_empty());
    store
        .rebuild(&[(c1, "state", "{}".to_owned()), (c1, "hash", "h".to_owned())])
        .unwrap();
    assert_eq!(store.heads(c1).unwrap(), vec![a.id]);
    assert_eq!(
        store.projection(c1, "state").unwrap().as_deref(),
        Some("{}")
    );
    assert_eq!(store.projection(c1, "hash").unwrap().as_deref(), Some("h"));
    store.put_projection(c1, "old", "1").unwrap();
    store.rebuild(&[]).unwrap();
    assert_eq!(store.projection(c1, "old").unwrap(), None);
    assert_eq!(store.heads(c1).unwrap(), vec![a.id]);
}

fn bodies_are_addressed_by_their_hash(store: &mut Store) {
    let bytes = b"the minutes of the assembly of 1 May".to_vec();
    let hash = store.put_body(&bytes).unwrap();
    assert_eq!(hash, *blake3::hash(&bytes).as_bytes());
    assert_eq!(store.put_body(&bytes).unwrap(), hash);
    assert_eq!(store.body(hash).unwrap(), Some(bytes));
    assert_eq!(store.body([0; 32]).unwrap(), None);
    let empty = store.put_body(&[]).unwrap();
    assert_eq!(store.body(empty).unwrap(), Some(vec![]));
}

#[test]
fn a_store_can_move_to_a_blocking_thread() {
    // The binary calls the store from tokio's blocking threads, so it must be Send.
    let mut store = Store::memory().unwrap();
    let g = genesis(&keypair(1), 1_000);
    let handle = std::thread::spawn(move || {
        append_all(&mut store, &[&g]);
        store
    });
    assert_eq!(handle.join().unwrap().councils().unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Only a file can be reopened or damaged.

fn database_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("commune.db")
}

/// Changes the file behind the store's back, as a disk fault or another program would.
fn tamper(path: &Path, sql: &str, params: impl rusqlite::Params) {
    let conn = rusqlite::Connection::open(path).unwrap();
    assert_eq!(conn.execute(sql, params).unwrap(), 1);
}

#[test]
fn a_reopened_file_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = database_in(&dir);
    let alice = keypair(1);
    let g = genesis(&alice, 1_000);
    let a = child(&alice, 2, &[&g]);
    let b = child(&alice, 3, &[&g]);
    let council = g.council();
    let hash = {
        let mut store = Store::open(&path).unwrap();
        assert!(path.exists());
        append_all(&mut store, &[&g, &a, &b]);
        store.put_projection(council, "members", "[1]").unwrap();
        store.put_body(b"a detached body").unwrap()
    };

    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.councils().unwrap(), vec![council]);
    let mut expected = vec![g.clone(), a.clone(), b.clone()];
    expected.sort_by_key(|event| (event.unsigned.depth, event.id));
    assert_eq!(store.events_of(council).unwrap(), expected);
    assert_eq!(store.heads(council).unwrap(), sorted(vec![a.id, b.id]));
    assert_eq!(
        store.projection(council, "members").unwrap().as_deref(),
        Some("[1]")
    );
    assert_eq!(
        store.body(hash).unwrap().as_deref(),
        Some(&b"a detached body"[..])
    );
    let again = store.append(&[g, a, b]).unwrap();
    assert_eq!(again.duplicates, 3);
}

#[test]
fn a_file_that_is_not_a_database_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = database_in(&dir);
    // Bytes from a xorshift generator: the same every run, and nothing like a SQLite header.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let garbage: Vec<u8> = (0..8192)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(&path, &garbage).unwrap();

    let error = Store::open(&path).unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("backup"), "{message}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        garbage,
        "the file was changed"
    );
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = database_in(&dir);
    drop(Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: u32 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);

    let error = Store::open(&path).unwrap_err();
    match &error {
        StoreError::NewerSchema {
            found, supported, ..
        } => {
            assert_eq!((*found, *supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    assert!(error.to_string().contains("upgrade commune"), "{error}");
}

#[test]
fn a_damaged_event_is_corrupt_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = database_in(&dir);
    let alice = keypair(1);
    let g = genesis(&alice, 1_000);
    let a = child(&alice, 2, &[&g]);
    let b = child(&alice, 3, &[&g]);
    append_all(&mut Store::open(&path).unwrap(), &[&g, &a, &b]);
    tamper(
        &path,
        "UPDATE events SET bytes = x'8b01' WHERE id = ?1",
        [a.id.0],
    );
    // Well-formed bytes, but another event's.
    tamper(
        &path,
        "UPDATE events SET bytes = ?1 WHERE id = ?2",
        rusqlite::params![g.bytes, b.id.0],
    );

    let store = Store::open(&path).unwrap();
    for (id, detail) in [(a.id, "malformed"), (b.id, "hash to")] {
        let error = store.event(id).unwrap_err();
        assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains(&id.to_string()), "{message}");
        assert!(message.contains(detail), "{message}");
    }
    let error = store.events_of(g.council()).unwrap_err();
    assert!(error.to_string().contains(&a.id.to_string()), "{error}");
    assert_eq!(store.event(g.id).unwrap(), Some(g));
}

#[test]
fn a_damaged_body_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = database_in(&dir);
    let hash = Store::open(&path).unwrap().put_body(b"original").unwrap();
    tamper(
        &path,
        "UPDATE bodies SET bytes = ?1 WHERE hash = ?2",
        rusqlite::params![b"tampered".to_vec(), hash],
    );

    let error = Store::open(&path).unwrap().body(hash).unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains(&blake3::Hash::from_bytes(hash).to_hex().to_string()),
        "{message}"
    );
}
