//! The node's live folds against the fold from genesis: local acts, events that arrive by
//! sync and sort last, and events that arrive late or void others.

use commune_core::constitution::Constitution;
use commune_core::payload::{self, Payload};
use commune_core::{CouncilId, Event, EventId, Keypair};

use super::{Node, fold_store};

fn node() -> (tempfile::TempDir, Node, Keypair) {
    let dir = tempfile::TempDir::new().unwrap();
    let (node, _) = Node::init(dir.path(), None, "me").unwrap();
    let keypair = node.identity("me").unwrap();
    (dir, node, keypair)
}

fn propose(title: &str) -> Payload {
    Payload::Propose(payload::Propose {
        title: title.into(),
        text: String::new(),
        action: payload::Action::None,
        method: None,
        options: Vec::new(),
        quorum: None,
        deadline_ms: super::now_ms() + 86_400_000,
        mode: None,
    })
}

fn comment(proposal: EventId, text: &str) -> Payload {
    Payload::Comment(payload::Comment {
        proposal,
        reply_to: None,
        text: text.into(),
    })
}

/// The node's fold (live, when it has one) and the fold from genesis of its store agree.
fn same_as_genesis(node: &mut Node, council: CouncilId) -> String {
    let live = node.fold(council).unwrap();
    let genesis = fold_store(node.store(), council, None).unwrap();
    assert_eq!(live.state.hash(), genesis.state.hash());
    assert_eq!(live.rejections, genesis.rejections);
    data_encoding::HEXLOWER.encode(&live.state.hash())
}

/// Carries `from`'s log of the council to `to` as the node's own sync or a bundle would (a
/// push never brings a council a node lacks).
fn ship(from: &Node, to: &mut Node, council: CouncilId) {
    let events: Vec<Event> = from.store().events_of(council).unwrap();
    let frames: Vec<&[u8]> = events.iter().map(|e| e.bytes.as_slice()).collect();
    let mut report = super::IngestReport::default();
    let verified = super::check_frames(Some(council), &frames, &mut report.invalid);
    let report = to.append_checked(&verified, report).unwrap();
    assert!(report.invalid.is_empty(), "{:?}", report.invalid);
    to.settle(&report.touched).unwrap();
}

#[test]
fn live_folds_take_acts_and_synced_events_as_the_fold_from_genesis_would() {
    let (_a_dir, mut a, keypair) = node();
    let founded = a
        .found(&keypair, "Tenants", "Ana", Constitution::default())
        .unwrap();
    let council = founded.council();
    let proposal = a
        .act(&keypair, council, propose("Paint the hall"))
        .unwrap()
        .id;
    a.fold(council).unwrap();
    for n in 0..5 {
        a.act(&keypair, council, comment(proposal, &format!("note {n}")))
            .unwrap();
        same_as_genesis(&mut a, council);
    }
    // A refused act changes nothing, and the next act is folded as before.
    let before = a.store().event_count(council).unwrap();
    assert!(
        a.act(
            &keypair,
            council,
            comment(EventId([7; 32]), "no such proposal")
        )
        .is_err()
    );
    assert_eq!(a.store().event_count(council).unwrap(), before);
    a.act(&keypair, council, comment(proposal, "after a refusal"))
        .unwrap();
    same_as_genesis(&mut a, council);

    // A chain of acts goes in whole, or (one refused) not at all.
    let now = super::now_ms();
    let first = a
        .compose_after(&keypair, council, None, &comment(proposal, "one"), now)
        .unwrap();
    let second = a
        .compose_after(
            &keypair,
            council,
            Some(&first),
            &comment(proposal, "two"),
            now,
        )
        .unwrap();
    let refused = a
        .compose_after(
            &keypair,
            council,
            Some(&first),
            &comment(EventId([7; 32]), "no such proposal"),
            now,
        )
        .unwrap();
    let before = a.store().event_count(council).unwrap();
    assert!(a.commit_all(council, &[first.clone(), refused]).is_err());
    assert_eq!(a.store().event_count(council).unwrap(), before);
    same_as_genesis(&mut a, council);
    a.commit_all(council, &[first, second]).unwrap();
    assert_eq!(a.store().event_count(council).unwrap(), before + 2);
    same_as_genesis(&mut a, council);

    // B holds a's key too (one member, two nodes): what B gets by sync sorts last.
    let (_b_dir, mut b, _) = node();
    ship(&a, &mut b, council);
    same_as_genesis(&mut b, council);
    for n in 0..3 {
        a.act(&keypair, council, comment(proposal, &format!("later {n}")))
            .unwrap();
        ship(&a, &mut b, council);
        assert_eq!(
            same_as_genesis(&mut b, council),
            same_as_genesis(&mut a, council)
        );
    }

    // Both nodes sign with one device's next seq, concurrently: equivocation voids both
    // events, including the one each node folded already.
    a.act(&keypair, council, comment(proposal, "from a"))
        .unwrap();
    b.act(&keypair, council, comment(proposal, "from b"))
        .unwrap();
    same_as_genesis(&mut a, council);
    same_as_genesis(&mut b, council);
    ship(&b, &mut a, council);
    ship(&a, &mut b, council);
    let hash = same_as_genesis(&mut a, council);
    assert_eq!(same_as_genesis(&mut b, council), hash);
    let rejections = a.rejections(council).unwrap();
    assert_eq!(
        rejections
            .iter()
            .filter(|r| r.reason.contains("equivocation"))
            .count(),
        2,
        "{rejections:?}"
    );
    assert!(a.verify(council).unwrap().ok());
}
