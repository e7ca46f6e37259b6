//! Attacks on a real `commune serve` on loopback: the clock-jam, the flood and the oversized
//! sync answer. Each checks that the node keeps serving its member afterwards (correctness,
//! not timings).

use commune_core::payload::{self, Payload};
use commune_core::sync::{self, Delivery, Exchange, More};
use commune_core::{Event, EventId, Keypair, ParentInfo, Unsigned};
use serde_json::Value;

use super::TestNode;
use super::on_postgres::http_post as post_json;
use super::sync::now_ms;

/// 1 January 2100, in milliseconds.
const YEAR_2100_MS: u64 = 4_102_444_800_000;

fn found(node: &TestNode, name: &str) -> String {
    node.ok(&["council", "found", name])["council"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A signed POST to a sync route, as raw HTTP/1.1: the status and the body.
/// A POST to a sync route signed by `keypair`, through the sync tests' raw HTTP/1.1.
fn post(address: &str, path: &str, keypair: &Keypair, body: &[u8]) -> (u16, Vec<u8>) {
    let signature = super::sync::sign(keypair, path, now_ms(), body);
    super::sync::post(address, path, Some(signature), body)
}

/// The council's current heads as the public log shows them: the events no other names.
fn heads(node: &TestNode, council: &str) -> Vec<ParentInfo> {
    let log = node.ok(&["log", council]);
    let events = log.as_array().unwrap();
    let named: std::collections::HashSet<&str> = events
        .iter()
        .flat_map(|e| e["parents"].as_array().unwrap())
        .map(|p| p.as_str().unwrap())
        .collect();
    events
        .iter()
        .filter(|e| !named.contains(e["id"].as_str().unwrap()))
        .map(|e| ParentInfo {
            id: e["id"].as_str().unwrap().parse().unwrap(),
            depth: e["depth"].as_u64().unwrap(),
            time_ms: e["time_ms"].as_u64().unwrap(),
        })
        .collect()
}

/// A comment by `author` on `proposal`, on the council's heads, dated `time_ms`.
fn comment(
    node: &TestNode,
    council: &str,
    author: &Keypair,
    seq: u64,
    proposal: &str,
    time_ms: u64,
) -> Event {
    let body = Payload::Comment(payload::Comment {
        proposal: proposal.parse().unwrap(),
        reply_to: None,
        text: format!("noise {seq}"),
    });
    Unsigned::compose(
        council.parse().unwrap(),
        author.public(),
        seq,
        &heads(node, council),
        time_ms,
        body.kind(),
        body.encode(),
    )
    .sign(author)
}

fn push(address: &str, council: &str, keypair: &Keypair, events: &[Event]) -> (u16, Vec<u8>) {
    let request = Exchange {
        want: Vec::new(),
        push: events.iter().map(|e| e.bytes.clone().into()).collect(),
    };
    post(
        address,
        &format!("/sync/v1/{council}/exchange"),
        keypair,
        &sync::encode_message(&request),
    )
}

/// A proposal as the node serves it to its member `me`, who signs the request.
fn proposal_of(node: &TestNode, address: &str, council: &str, proposal: &str) -> Value {
    let path = format!("/api/councils/{council}/proposals/{proposal}");
    let (status, body) = super::http_get_as(node, "me", address, &path);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["proposal"].clone()
}

/// A member can still open a three-day proposal, and its deadline is three days from now.
fn member_still_decides(node: &TestNode, address: &str, council: &str) {
    let before = now_ms();
    let opened = node.ok(&[
        "proposal",
        "open",
        council,
        "Repair the roof",
        "--method",
        "majority",
        "--open-for",
        "3d",
    ]);
    let proposal = opened["event"].as_str().unwrap();
    let after = now_ms();
    let found = proposal_of(node, address, council, proposal);
    let three_days = 3 * 24 * 3_600_000;
    let deadline = found["deadline_ms"].as_u64().unwrap();
    assert!(
        (before + three_days..=after + three_days).contains(&deadline),
        "the deadline moved: {found}"
    );
    node.ok(&["vote", council, proposal, "yes"]);
}

#[test]
fn a_strangers_event_dated_2100_jams_no_council() {
    let a = TestNode::new();
    let council = found(&a, "Tenants of Block D");
    let first = a.ok(&[
        "proposal",
        "open",
        &council,
        "Paint the stairs",
        "--method",
        "majority",
        "--open-for",
        "1h",
    ])["event"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_server, address) = a.serve();
    let stranger = Keypair::from_seed([21; 32]);
    let before = a.log_len(&council);

    let jam = comment(&a, &council, &stranger, 1, &first, YEAR_2100_MS);
    let (status, answer) = push(&address, &council, &stranger, &[jam]);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let delivery: Delivery = sync::decode(&answer).unwrap();
    assert_eq!(delivery.new, 0, "{delivery:?}");
    let said = delivery.invalid.join("; ");
    assert!(said.contains("not yet"), "{said}");
    assert!(
        !said.contains("depth"),
        "the refusal gives the depth away: {said}"
    );
    assert_eq!(a.log_len(&council), before, "the jam was stored");

    // A member's own event dated 2100, through the API, is refused too ("not yet").
    let member = super::sync::key_of(&a, "me");
    let dated = comment(&a, &council, &member, 3, &first, YEAR_2100_MS);
    let (status, body) = post_json(
        &address,
        "/api/events",
        &serde_json::json!({ "event": data_encoding::HEXLOWER.encode(&dated.bytes) }).to_string(),
    );
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("not yet"), "{body}");
    assert_eq!(a.log_len(&council), before);

    member_still_decides(&a, &address, &council);
}

/// One request from a key that never joined stores nothing, not even what the fold would
/// only reject; a member's act still goes in, and the stranger's key soon runs out of budget.
#[test]
fn a_strangers_flood_stores_nothing_and_the_member_keeps_acting() {
    let a = TestNode::new();
    let council = found(&a, "Food bank");
    let first = a.ok(&[
        "proposal",
        "open",
        &council,
        "Open on Sundays",
        "--method",
        "majority",
        "--open-for",
        "1h",
    ])["event"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_server, address) = a.serve();
    let stranger = Keypair::from_seed([22; 32]);
    let before = a.log_len(&council);
    let now = now_ms();
    // A chain of comments by one key on the current heads, each on the one before.
    let mut flood: Vec<Event> = Vec::new();
    let mut parents = heads(&a, &council);
    for seq in 1..=2_000u64 {
        let body = Payload::Comment(payload::Comment {
            proposal: first.parse().unwrap(),
            reply_to: None,
            text: format!("noise {seq}"),
        });
        let event = Unsigned::compose(
            council.parse().unwrap(),
            stranger.public(),
            seq,
            &parents,
            now,
            body.kind(),
            body.encode(),
        )
        .sign(&stranger);
        parents = vec![event.parent_info()];
        flood.push(event);
    }
    let (status, answer) = push(&address, &council, &stranger, &flood);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let delivery: Delivery = sync::decode(&answer).unwrap();
    assert_eq!(delivery.new, 0, "{delivery:?}");
    assert_eq!(
        a.log_len(&council),
        before,
        "the stranger's events were stored"
    );
    assert_eq!(heads(&a, &council).len(), 1);

    // Pushing on costs the stranger its budget: refused, with a status that says so.
    let mut limited = false;
    for _ in 0..20 {
        let (status, _) = push(&address, &council, &stranger, &flood);
        if status == 429 {
            limited = true;
            break;
        }
        assert_eq!(status, 200);
    }
    assert!(limited, "a key pushed 40,000 events in a minute unhindered");
    member_still_decides(&a, &address, &council);

    // Nor does a push create a council this node does not hold.
    let founding = Payload::Found(payload::Found {
        name: "Spam".into(),
        constitution: Default::default(),
        founder_name: "Spam".into(),
    });
    let other = Keypair::from_seed([23; 32]);
    let genesis =
        Unsigned::genesis(other.public(), now, founding.kind(), founding.encode()).sign(&other);
    let (status, body) = push(&address, &genesis.council().to_string(), &other, &[genesis]);
    assert!(
        (400..500).contains(&status),
        "{status}: {}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(a.ok(&["council", "list"]).as_array().unwrap().len(), 1);

    // An event whose parent is missing, for a council the node lacks: a clear 4xx.
    let orphan = Unsigned::compose(
        commune_core::CouncilId([6; 32]),
        other.public(),
        2,
        &[ParentInfo {
            id: EventId([5; 32]),
            depth: 0,
            time_ms: now,
        }],
        now,
        founding.kind(),
        founding.encode(),
    )
    .sign(&other);
    let (status, body) = push(&address, &orphan.council().to_string(), &other, &[orphan]);
    assert!(
        (400..500).contains(&status),
        "{status}: {}",
        String::from_utf8_lossy(&body)
    );
}

/// A `more` request for a million symbols of a small council gets an answer in proportion to
/// the council, or a refusal; the member keeps acting.
#[test]
fn a_sync_answer_stays_in_proportion_to_the_council() {
    let a = TestNode::new();
    let council = found(&a, "Allotments");
    let (_server, address) = a.serve();
    let member = super::sync::key_of(&a, "me");
    let request = sync::encode_message(&More {
        salt: [3; 16],
        from: 0,
        to: sync::MAX_SYMBOLS,
    });
    let (status, answer) = post(
        &address,
        &format!("/sync/v1/{council}/more"),
        &member,
        &request,
    );
    assert!(
        answer.len() < 64 * 1024,
        "{status}: a {}-byte answer for a council of one event",
        answer.len()
    );
    member_still_decides(&a, &address, &council);
}

/// A row written into the database behind commune's back: an act in a member's name that
/// their key never signed. `rebuild` refuses it and `verify` names it; a council whose
/// heads were lost (a crash of an older rebuild) fails `verify` until `rebuild`.
#[test]
fn a_forged_row_in_the_database_is_refused_by_rebuild_and_lost_heads_fail_verify() {
    let a = TestNode::new();
    let council = found(&a, "Library");
    let proposal = a.ok(&[
        "proposal",
        "open",
        &council,
        "Longer hours",
        "--method",
        "majority",
        "--open-for",
        "1h",
    ])["event"]
        .as_str()
        .unwrap()
        .to_owned();
    let member = super::sync::key_of(&a, "me");
    let forger = Keypair::from_seed([24; 32]);
    let body = Payload::Comment(payload::Comment {
        proposal: proposal.parse().unwrap(),
        reply_to: None,
        text: "Close the library for good".into(),
    });
    let mut unsigned = Unsigned::compose(
        council.parse().unwrap(),
        member.public(),
        3,
        &heads(&a, &council),
        now_ms(),
        body.kind(),
        body.encode(),
    );
    // Signed by another key, then given the member's name in its bytes.
    unsigned.author = forger.public();
    let signed = unsigned.sign(&forger);
    let at = signed
        .bytes
        .windows(32)
        .position(|w| w == forger.public().0)
        .unwrap();
    let mut bytes = signed.bytes.clone();
    bytes[at..at + 32].copy_from_slice(&member.public().0);
    let forged = Event::decode(&bytes).unwrap();
    assert_eq!(forged.unsigned.author, member.public());

    let db = rusqlite::Connection::open(a.data().join("commune.sqlite")).unwrap();
    let parent = forged.unsigned.parents[0];
    db.execute(
        "INSERT INTO events (id, council, depth, author, seq, kind, time_ms, bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        rusqlite::params![
            forged.id.0,
            forged.council().0,
            forged.unsigned.depth as i64,
            forged.unsigned.author.0,
            forged.unsigned.seq as i64,
            forged.unsigned.kind as i64,
            forged.unsigned.time_ms as i64,
            forged.bytes,
        ],
    )
    .unwrap();
    db.execute(
        "INSERT INTO event_parents (parent, child)
         SELECT p.arrival, c.arrival FROM events p, events c WHERE p.id = ?1 AND c.id = ?2",
        rusqlite::params![parent.0, forged.id.0],
    )
    .unwrap();
    drop(db);

    let refused = a.fails(&["rebuild"]);
    assert!(refused.contains("signature"), "{refused}");
    assert!(refused.contains(&forged.id.to_string()), "{refused}");
    let verify = a.run(&["verify"]);
    assert!(!verify.status.success());
    assert!(
        String::from_utf8_lossy(&verify.stdout).contains(&format!("bad signature: {}", forged.id)),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );

    // Lost heads: verify says so, rebuild brings them back.
    let b = TestNode::new();
    let council = found(&b, "Choir");
    let db = rusqlite::Connection::open(b.data().join("commune.sqlite")).unwrap();
    db.execute("DELETE FROM heads", []).unwrap();
    drop(db);
    let verify = b.run(&["verify"]);
    assert!(!verify.status.success());
    assert!(
        String::from_utf8_lossy(&verify.stdout).contains("heads are missing"),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    b.ok(&["rebuild"]);
    b.ok(&["verify"]);
    super::open_majority(&b, &council, "Sing in the park");
}

/// Writes an event into a node's database behind commune's back (as a node of an older
/// version stored one), with its parent links; `rebuild` then makes it a head.
fn store_behind_the_gate(node: &TestNode, event: &Event) {
    let db = rusqlite::Connection::open(node.data().join("commune.sqlite")).unwrap();
    db.execute(
        "INSERT INTO events (id, council, depth, author, seq, kind, time_ms, bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        rusqlite::params![
            event.id.0,
            event.council().0,
            event.unsigned.depth as i64,
            event.unsigned.author.0,
            event.unsigned.seq as i64,
            event.unsigned.kind as i64,
            event.unsigned.time_ms as i64,
            event.bytes,
        ],
    )
    .unwrap();
    for parent in &event.unsigned.parents {
        db.execute(
            "INSERT INTO event_parents (parent, child)
             SELECT p.arrival, c.arrival FROM events p, events c WHERE p.id = ?1 AND c.id = ?2",
            rusqlite::params![parent.0, event.id.0],
        )
        .unwrap();
    }
}

/// A node that already holds a stranger's event dated 2100 (stored before the gate) neither
/// lets it hold its own members' time nor passes it on: a node syncing from it refuses it
/// "not yet", and both nodes' members open proposals with the right deadline.
#[test]
fn a_jam_already_stored_holds_no_time_and_does_not_travel() {
    let a = TestNode::new();
    let council = found(&a, "Cooperative bakery");
    let first = super::open_majority(&a, &council, "Bake on Sundays");
    let stranger = Keypair::from_seed([25; 32]);
    let jam = comment(&a, &council, &stranger, 1, &first, YEAR_2100_MS);
    store_behind_the_gate(&a, &jam);
    a.ok(&["rebuild"]);
    assert!(heads(&a, &council).iter().any(|h| h.id == jam.id));
    let (_server, address) = a.serve();
    member_still_decides(&a, &address, &council);

    // The same member on a second node, which gets the council by syncing.
    let b = TestNode::new();
    std::fs::copy(a.data().join("keys/me.key"), b.data().join("keys/me.key")).unwrap();
    let report = b.ok(&["sync", "--peer", &format!("http://{address}")]);
    let fetched = &report[0]["councils"][0]["fetched"];
    assert!(
        fetched["not_yet"].to_string().contains("not yet"),
        "{report}"
    );
    let log = b.ok(&["log", &council]);
    assert!(
        !log.to_string().contains(&jam.id.to_string()),
        "the jam travelled"
    );
    assert_eq!(log.as_array().unwrap().len() + 1, a.log_len(&council));
    let (_server_b, address_b) = b.serve();
    member_still_decides(&b, &address_b, &council);
}

/// A one-frame bundle carrying an event dated 2100 stores nothing, says "not yet", and the
/// member still decides on time.
#[test]
fn a_bundle_of_one_event_dated_2100_jams_nothing() {
    let a = TestNode::new();
    let council = found(&a, "Bike workshop");
    let first = super::open_majority(&a, &council, "Buy a truing stand");
    let member = super::sync::key_of(&a, "me");
    let jam = comment(&a, &council, &member, 3, &first, YEAR_2100_MS);
    let file = a.dir.path().join("jam.bundle");
    let mut bytes = commune_core::bundle::HEADER.to_vec();
    bytes.extend_from_slice(&commune_core::bundle::event_frame(&jam.bytes));
    std::fs::write(&file, bytes).unwrap();
    let before = a.log_len(&council);
    let report = a.ok(&["bundle", "import", file.to_str().unwrap()]);
    assert_eq!(report["new"], 0, "{report}");
    assert!(
        report["not_yet"].to_string().contains("not yet"),
        "{report}"
    );
    assert_eq!(a.log_len(&council), before);
    let (_server, address) = a.serve();
    member_still_decides(&a, &address, &council);
}
