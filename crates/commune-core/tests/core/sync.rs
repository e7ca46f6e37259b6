//! Set reconciliation: the difference the sync messages find is the true one.

use std::collections::BTreeSet;

use commune_core::EventId;
use commune_core::sync::{
    self, Answer, Hello, Keyer, More, SyncError, answer, heads_hash, listing_difference, prefix,
    resolve,
};
use proptest::prelude::*;

fn ids(seed: u64, count: usize) -> Vec<EventId> {
    (0..count as u64)
        .map(|i| EventId(*blake3::hash(&[seed.to_le_bytes(), i.to_le_bytes()].concat()).as_bytes()))
        .collect()
}

/// Runs the asker's side of a sync between two id sets, as the binary does, and returns the
/// prefixes the asker lacks, the ids the answerer lacks, the round trips, and the symbols sent.
fn reconcile(
    asker: &[EventId],
    answerer: &[EventId],
) -> (BTreeSet<[u8; 8]>, BTreeSet<[u8; 8]>, usize, usize) {
    let salt = [7u8; 16];
    let keyer = Keyer::new(&salt);
    let mine = keyer.items(asker);
    let theirs = keyer.items(answerer);
    // Different sets always have different heads; the hash stands for that here.
    let hello = Hello::new(heads_hash(asker), &mine, salt);
    let hello: Hello = sync::decode(&sync::encode_message(&hello)).unwrap();
    let reply = answer(&hello, heads_hash(answerer), &theirs).unwrap();
    let reply: Answer = sync::decode(&sync::encode_message(&reply)).unwrap();
    match reply {
        Answer::Same => (BTreeSet::new(), BTreeSet::new(), 1, 0),
        Answer::Difference {
            asker_lacks,
            answerer_lacks,
        } => (
            asker_lacks.iter().map(|p| **p).collect(),
            answerer_lacks.iter().map(|p| **p).collect(),
            1,
            0,
        ),
        Answer::Listing { prefixes } => {
            let (lacking, extra) = listing_difference(&prefixes, &mine).unwrap();
            (
                lacking.into_iter().collect(),
                extra.iter().map(prefix).collect(),
                1,
                0,
            )
        }
        Answer::Symbols { symbols, .. } => {
            let mut received = sync::unpack(&symbols).unwrap();
            let mut round_trips = 1;
            loop {
                if let Some(difference) = resolve(&keyer, &received, &mine) {
                    return (
                        difference.remote_only.iter().map(prefix).collect(),
                        difference.local_only.iter().map(prefix).collect(),
                        round_trips,
                        received.len(),
                    );
                }
                let from = received.len() as u64;
                let more = More {
                    salt,
                    from,
                    to: from + from / 4 + 16,
                };
                received.extend(sync::unpack(&sync::more(&more, &theirs).unwrap()).unwrap());
                round_trips += 1;
                assert!(round_trips < 20, "the stream never peeled");
            }
        }
    }
}

fn truth(asker: &[EventId], answerer: &[EventId]) -> (BTreeSet<[u8; 8]>, BTreeSet<[u8; 8]>) {
    let a: BTreeSet<[u8; 8]> = asker.iter().map(prefix).collect();
    let b: BTreeSet<[u8; 8]> = answerer.iter().map(prefix).collect();
    (
        b.difference(&a).copied().collect(),
        a.difference(&b).copied().collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn reconciliation_finds_the_exact_difference(
        seed in any::<u64>(),
        shared in 0usize..3000,
        only_asker in 0usize..400,
        only_answerer in 0usize..400,
    ) {
        let base = ids(seed, shared);
        let mut asker = base.clone();
        asker.extend(ids(seed ^ 1, only_asker));
        let mut answerer = base;
        answerer.extend(ids(seed ^ 2, only_answerer));
        let (lacks, extra, _, _) = reconcile(&asker, &answerer);
        let (true_lacks, true_extra) = truth(&asker, &answerer);
        prop_assert_eq!(lacks, true_lacks);
        prop_assert_eq!(extra, true_extra);
    }
}

#[test]
fn equal_sets_answer_same_in_one_round_trip() {
    let set = ids(1, 500);
    let (lacks, extra, round_trips, symbols) = reconcile(&set, &set);
    assert!(lacks.is_empty() && extra.is_empty());
    assert_eq!((round_trips, symbols), (1, 0));
}

#[test]
fn a_thousand_differences_among_a_hundred_thousand_take_few_symbols() {
    let base = ids(3, 100_000);
    let mut answerer = base.clone();
    answerer.extend(ids(4, 600));
    let mut asker = base;
    asker.extend(ids(5, 400));
    let (lacks, extra, round_trips, symbols) = reconcile(&asker, &answerer);
    assert_eq!((lacks.len(), extra.len()), (600, 400));
    assert!(round_trips <= 2, "{round_trips} round trips");
    // The rateless stream peels after about 1.35·d symbols; the estimate adds some margin.
    assert!(symbols <= 2_600, "{symbols} symbols for 1,000 differences");
}

#[test]
fn a_small_asker_gets_a_listing() {
    let answerer = ids(6, 5_000);
    let asker = answerer[..3].to_vec();
    let (lacks, extra, _, symbols) = reconcile(&asker, &answerer);
    assert_eq!((lacks.len(), extra.len(), symbols), (4_997, 0, 0));
}

#[test]
fn malformed_sync_messages_are_refused() {
    assert!(matches!(
        sync::decode::<Hello>(b"\xa0"),
        Err(SyncError::Malformed(_))
    ));
    let hello = sync::encode_message(&Hello::new([0; 32], &[], [0; 16]));
    let mut trailing = hello.clone();
    trailing.push(0);
    assert!(matches!(
        sync::decode::<Hello>(&trailing),
        Err(SyncError::Malformed(_))
    ));
    assert!(sync::unpack(&[0; 40]).is_none());
    let mut bad = sync::decode::<Hello>(&hello).unwrap();
    bad.levels[0] = vec![0u8; 40].into();
    assert_eq!(answer(&bad, [1; 32], &[]), Err(SyncError::BadSymbols));
    bad.levels = vec![vec![].into(); 14];
    assert_eq!(
        answer(&bad, [1; 32], &[]),
        Err(SyncError::TooManyLevels(14))
    );
    let more = More {
        salt: [0; 16],
        from: 5,
        to: 5,
    };
    assert_eq!(sync::more(&more, &[]), Err(SyncError::BadRange(5, 5)));
}

/// Busy cells carry counts past 127; they must still peel (counts travel modulo 256).
#[test]
fn a_large_difference_peels_in_one_or_two_round_trips() {
    let base = ids(8, 20_000);
    let mut answerer = base.clone();
    answerer.extend(ids(9, 15_000));
    let (lacks, extra, round_trips, symbols) = reconcile(&base, &answerer);
    assert_eq!((lacks.len(), extra.len()), (15_000, 0));
    assert!(round_trips <= 2, "{round_trips} round trips");
    assert!(
        symbols <= 15_000 * 2,
        "{symbols} symbols for 15,000 differences"
    );
}
