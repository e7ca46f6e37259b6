//! Sync between real `commune serve` processes on loopback, and bundle files.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Stdio;

use commune_core::Keypair;
use serde_json::Value;

use super::TestNode;

/// `commune serve` on a free port of a loopback address, stopped when dropped.
struct Server {
    _process: super::Server,
    address: String,
}

impl Server {
    fn start(node: &TestNode, ip: &str) -> Server {
        Server::start_syncing(node, ip, 0)
    }

    /// With a background sync every `every` seconds (0: none).
    fn start_syncing(node: &TestNode, ip: &str, every: u64) -> Server {
        let (process, address) = node.serve_on(ip, &["--sync-every", &every.to_string()]);
        Server {
            _process: process,
            address,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

fn found(node: &TestNode, name: &str) -> String {
    node.ok(&["council", "found", name])["council"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `joiner` gets the council by bundle from `host`, joins with an invitation, and pushes the
/// join to `server` (which serves `host`) by syncing.
fn join_by_bundle(host: &TestNode, server: &Server, joiner: &TestNode, council: &str) {
    let invitation = host.ok(&["invite", council])["invitation"]
        .as_str()
        .unwrap()
        .to_owned();
    let file = joiner.dir.path().join("council.bundle");
    host.ok(&[
        "bundle",
        "export",
        "--council",
        council,
        "-o",
        file.to_str().unwrap(),
    ]);
    joiner.ok(&["bundle", "import", file.to_str().unwrap()]);
    joiner.ok(&["join", &invitation]);
    let report = joiner.ok(&["sync", "--peer", &server.url(), "--council", council]);
    // The join went there before the peer would answer: the report counts it.
    assert_eq!(report[0]["councils"][0]["pushed"], 1, "{report}");
}

fn state_hash(node: &TestNode, council: &str) -> String {
    node.ok(&["state-hash", council])["state_hash"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn two_nodes_sync_both_ways_over_http() {
    let (a, b) = (TestNode::new(), TestNode::new());
    let council = found(&a, "Tenants of Block C");
    let server_a = Server::start(&a, "127.0.0.1");
    join_by_bundle(&a, &server_a, &b, &council);
    // Each side acts offline, then they sync.
    let proposal = super::open_majority(&a, &council, "Fix the boiler");
    b.ok(&["sync", "--peer", &server_a.url()]);
    b.ok(&["vote", &council, &proposal, "yes"]);
    a.ok(&["vote", &council, &proposal, "yes"]);
    b.ok(&["comment", &council, &proposal, "Before winter, please"]);
    let report = b.ok(&["sync", "--peer", &server_a.url()]);
    let synced = &report[0]["councils"][0];
    assert_eq!(synced["fetched"]["new"], 1, "{report}");
    assert_eq!(synced["pushed"], 2, "{report}");
    assert_eq!(state_hash(&a, &council), state_hash(&b, &council));
    // In step, a sync is one round trip.
    let again = b.ok(&["sync", "--peer", &server_a.url()]);
    assert_eq!(again[0]["councils"][0]["difference"], 0);
    assert_eq!(again[0]["councils"][0]["reconcile_round_trips"], 1);
    // A council of b's own that a does not hold is no failure: it is said so.
    let own = found(&b, "Bike workshop");
    let text = b.text(&["sync", "--peer", &server_a.url()]);
    assert!(
        text.contains(&format!(
            "{} with {}: the peer does not hold this council",
            &own[..8],
            server_a.url()
        )),
        "{text}"
    );
    let report = b.ok(&["sync", "--peer", &server_a.url()]);
    assert_eq!(report[0]["not_held"], serde_json::json!([own]), "{report}");
    a.ok(&["verify"]);
    b.ok(&["verify"]);
}

/// `commune serve` syncs with its peers by itself.
#[test]
fn serve_syncs_with_its_peers_in_the_background() {
    let (a, b) = (TestNode::new(), TestNode::new());
    let council = found(&a, "Neighbourhood assembly");
    let server_a = Server::start(&a, "127.0.0.1");
    join_by_bundle(&a, &server_a, &b, &council);
    b.ok(&["peer", "add", &server_a.url()]);
    let _server_b = Server::start_syncing(&b, "127.0.0.1", 1);
    super::open_majority(&a, &council, "Plant trees on the square");
    let wanted = state_hash(&a, &council);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while state_hash(&b, &council) != wanted {
        assert!(
            std::time::Instant::now() < deadline,
            "the background sync did not bring the proposal over"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    b.ok(&["verify"]);
}

#[test]
fn peers_are_listed_and_checked() {
    let node = TestNode::new();
    node.ok(&["peer", "add", "http://127.0.0.1:7/"]);
    assert_eq!(
        node.ok(&["peer", "add", "http://127.0.0.1:7"])["added"],
        false
    );
    assert_eq!(
        node.ok(&["peer", "list"]),
        serde_json::json!(["http://127.0.0.1:7"])
    );
    assert!(node.fails(&["peer", "add", "ftp://x"]).contains("http://"));
    // Nothing listens on port 7: the sync fails with a clear line.
    found(&node, "Alone");
    assert!(node.fails(&["sync"]).contains("failed"));
    node.ok(&["peer", "remove", "http://127.0.0.1:7"]);
    assert!(node.fails(&["sync"]).contains("no peers"));
}

fn bundle_report(node: &TestNode, file: &std::path::Path) -> Value {
    node.ok(&["bundle", "import", file.to_str().unwrap()])
}

#[test]
fn bundles_import_whole_twice_truncated_damaged_and_incrementally() {
    let a = TestNode::new();
    let council = super::council_of_two(&a);
    let proposal = super::open_majority(&a, &council, "Buy a cargo bike");
    for i in 0..20 {
        a.ok(&["comment", &council, &proposal, &format!("thought {i}")]);
    }
    let total = a.log_len(&council);
    let file = a.dir.path().join("all.bundle");
    a.ok(&["bundle", "export", "-o", file.to_str().unwrap()]);
    let bytes = std::fs::read(&file).unwrap();

    let whole = TestNode::new();
    let report = bundle_report(&whole, &file);
    assert_eq!(
        (report["new"].as_u64(), report["truncated"].as_bool()),
        (Some(total as u64), Some(false))
    );
    assert!(report["signed_by"].is_string());
    let again = bundle_report(&whole, &file);
    assert_eq!(
        (again["new"].as_u64(), again["duplicate"].as_u64()),
        (Some(0), Some(total as u64))
    );
    assert_eq!(state_hash(&whole, &council), state_hash(&a, &council));

    // Cut in the middle of a frame: every whole event before the cut is kept.
    let cut = TestNode::new();
    let truncated = cut.dir.path().join("cut.bundle");
    std::fs::write(&truncated, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let report = bundle_report(&cut, &truncated);
    assert_eq!(report["truncated"], true);
    let kept = report["new"].as_u64().unwrap();
    assert!(kept > 5 && kept < total as u64, "{report}");
    assert_eq!(cut.log_len(&council) as u64, kept);
    cut.ok(&["verify"]);

    // Damage bytes inside one frame: that event is refused, and the events built on it are
    // held back as orphans (their parent is missing), never stored without it.
    let damaged_node = TestNode::new();
    let mut damaged = bytes.clone();
    let middle = damaged.len() / 2;
    for byte in &mut damaged[middle..middle + 8] {
        *byte ^= 0x5a;
    }
    let damaged_file = damaged_node.dir.path().join("damaged.bundle");
    std::fs::write(&damaged_file, &damaged).unwrap();
    let report = bundle_report(&damaged_node, &damaged_file);
    let count = |field: &str| report[field].as_array().unwrap().len() as u64;
    assert_eq!(count("invalid") + count("corrupt"), 1, "{report}");
    assert_eq!(
        report["new"].as_u64().unwrap() + count("orphans") + 1,
        total as u64,
        "{report}"
    );
    assert!(report["trailer_problem"].is_string(), "{report}");
    assert_eq!(
        damaged_node.log_len(&council) as u64,
        report["new"].as_u64().unwrap()
    );
    damaged_node.ok(&["verify"]);

    // Not a bundle, too large: a clear line and nothing stored.
    let other = TestNode::new();
    let not_bundle = other.dir.path().join("notes.txt");
    std::fs::write(&not_bundle, "shopping list").unwrap();
    assert!(
        other
            .fails(&["bundle", "import", not_bundle.to_str().unwrap()])
            .contains("not a commune bundle")
    );
    assert!(
        other
            .fails(&["bundle", "import", file.to_str().unwrap(), "--max-mb", "0"])
            .contains("over the limit")
    );
    assert!(other.fails(&["log", &council]).contains("no council"));

    // Incremental: a have-file from the whole copy leaves out what it has.
    let have = whole.dir.path().join("have.json");
    whole.ok(&["bundle", "have", "-o", have.to_str().unwrap()]);
    a.ok(&["comment", &council, &proposal, "one more"]);
    let increment = a.dir.path().join("increment.bundle");
    let export = a.ok(&[
        "bundle",
        "export",
        "--since",
        have.to_str().unwrap(),
        "-o",
        increment.to_str().unwrap(),
    ]);
    assert_eq!(export["events"], 1);
    assert_eq!(bundle_report(&whole, &increment)["new"], 1);
    assert_eq!(state_hash(&whole, &council), state_hash(&a, &council));
}

/// A signed POST to a sync route, as raw HTTP/1.1.
pub(super) fn post(
    address: &str,
    path: &str,
    signature: Option<String>,
    body: &[u8],
) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(address).unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/cbor\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(signature) = signature {
        head.push_str(&format!("Commune-Signature: {signature}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response);
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let at = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(response.len(), |p| p + 4);
    (status, response[at..].to_vec())
}

pub(super) fn sign(keypair: &Keypair, path: &str, time_ms: u64, body: &[u8]) -> String {
    let mut message = b"commune/sync-request/v1\0POST\0".to_vec();
    message.extend_from_slice(path.as_bytes());
    message.push(0);
    message.extend_from_slice(&time_ms.to_be_bytes());
    message.extend_from_slice(blake3::hash(body).as_bytes());
    let signature = keypair.sign(&message);
    format!(
        "key={}, time={time_ms}, sig={}",
        keypair.public(),
        data_encoding::HEXLOWER.encode(&signature.0)
    )
}

pub(super) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

pub(super) fn key_of(node: &TestNode, name: &str) -> Keypair {
    let text =
        std::fs::read_to_string(node.data().join("keys").join(format!("{name}.key"))).unwrap();
    let seed: [u8; 32] = data_encoding::HEXLOWER
        .decode(text.trim().as_bytes())
        .unwrap()
        .try_into()
        .unwrap();
    Keypair::from_seed(seed)
}

#[test]
fn hostile_sync_requests_are_refused_and_the_node_keeps_serving() {
    let a = TestNode::new();
    let council = found(&a, "Mutual aid network");
    let before = a.log_len(&council);
    let server = Server::start(&a, "127.0.0.1");
    let member = key_of(&a, "me");
    let stranger = Keypair::from_seed([9; 32]);
    let hello_path = format!("/sync/v1/{council}/hello");
    let exchange_path = format!("/sync/v1/{council}/exchange");
    let hello =
        commune_core::sync::encode_message(&commune_core::sync::Hello::new([0; 32], &[], [1; 16]));

    let unsigned = post(&server.address, &hello_path, None, &hello);
    assert_eq!(unsigned.0, 401);
    assert!(String::from_utf8_lossy(&unsigned.1).contains("not signed"));
    let mut wrong = sign(&member, &hello_path, now_ms(), &hello);
    wrong.replace_range(wrong.len() - 4.., "0000");
    assert_eq!(
        post(&server.address, &hello_path, Some(wrong), &hello).0,
        401
    );
    let stale = sign(&member, &hello_path, now_ms() - 3_600_000, &hello);
    assert_eq!(
        post(&server.address, &hello_path, Some(stale), &hello).0,
        401
    );
    let garbage = b"\xff\x00not cbor";
    let signed_garbage = sign(&member, &hello_path, now_ms(), garbage);
    assert_eq!(
        post(&server.address, &hello_path, Some(signed_garbage), garbage).0,
        422
    );
    let outsider = sign(&stranger, &hello_path, now_ms(), &hello);
    assert_eq!(
        post(&server.address, &hello_path, Some(outsider), &hello).0,
        403
    );
    let huge = vec![0u8; 17 << 20];
    assert_eq!(
        post(
            &server.address,
            &hello_path,
            Some(sign(&member, &hello_path, now_ms(), &huge)),
            &huge
        )
        .0,
        413
    );

    // A forged event (a valid event with one signature byte changed) and a non-canonical
    // one are refused and not stored.
    let mut forged = commune_core::Unsigned::genesis(stranger.public(), now_ms(), 1, vec![0xa0])
        .sign(&stranger)
        .bytes;
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let exchange = commune_core::sync::Exchange {
        want: Vec::new(),
        push: vec![forged.into(), vec![0x8b, 0x01].into()],
    };
    let body = commune_core::sync::encode_message(&exchange);
    let (status, answer) = post(
        &server.address,
        &exchange_path,
        Some(sign(&stranger, &exchange_path, now_ms(), &body)),
        &body,
    );
    assert_eq!(status, 200);
    let delivery: commune_core::sync::Delivery = commune_core::sync::decode(&answer).unwrap();
    assert_eq!(
        (delivery.new, delivery.invalid.len()),
        (0, 2),
        "{delivery:?}"
    );

    // The node still serves its members, and stored nothing.
    let (status, _) = post(
        &server.address,
        &hello_path,
        Some(sign(&member, &hello_path, now_ms(), &hello)),
        &hello,
    );
    assert_eq!(status, 200);
    assert_eq!(a.log_len(&council), before);
    a.ok(&["verify"]);
}

/// A small deterministic generator for the partition tests.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn open_proposals(node: &TestNode, council: &str) -> Vec<String> {
    node.ok(&["proposal", "list", council])
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["open"] == true)
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

/// One random act on a node: open a proposal (sometimes to remove a member), vote, comment
/// or close. Returns whether the node accepted it; refusals (a closed proposal, a removed
/// member) are part of the game.
fn random_act(node: &TestNode, council: &str, members: &[String], rng: &mut Rng) -> bool {
    let open = open_proposals(node, council);
    let pick = |rng: &mut Rng| open.get(rng.below(open.len().max(1))).cloned();
    let args: Vec<String> = match (rng.below(10), pick(rng)) {
        (0 | 1, _) | (_, None) => vec![
            "proposal",
            "open",
            council,
            "A question",
            "--method",
            "majority",
            "--open-for",
            "1h",
        ]
        .into_iter()
        .map(String::from)
        .collect(),
        (2, _) => {
            let target = &members[rng.below(members.len())];
            [
                "proposal",
                "open",
                council,
                "Remove a member",
                "--method",
                "majority",
                "--open-for",
                "1h",
                "--remove",
                target,
            ]
            .into_iter()
            .map(String::from)
            .collect()
        }
        (3..=6, Some(p)) => {
            let choice = if rng.below(3) == 0 { "no" } else { "yes" };
            vec!["vote".into(), council.into(), p, choice.into()]
        }
        (7, Some(p)) => vec!["comment".into(), council.into(), p, "I think so".into()],
        (_, Some(p)) => vec!["close".into(), council.into(), p],
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    node.run(&args).status.success()
}

fn converge(seed: u64) {
    let nodes: Vec<TestNode> = (0..5).map(|_| TestNode::new()).collect();
    let council = found(&nodes[0], "City assembly");
    let servers: Vec<Server> = nodes
        .iter()
        .enumerate()
        .map(|(i, node)| Server::start(node, &format!("127.0.0.{}", i + 1)))
        .collect();
    for node in &nodes[1..] {
        join_by_bundle(&nodes[0], &servers[0], node, &council);
    }
    for _ in 0..2 {
        for node in &nodes[1..] {
            node.ok(&["sync", "--peer", &servers[0].url()]);
        }
    }
    let members: Vec<String> = nodes
        .iter()
        .map(|n| n.ok(&["whoami"])["public_key"].as_str().unwrap().to_owned())
        .collect();
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut accepted = 0;
    for _ in 0..4 {
        // A random partition into two sides; each side acts and syncs only within itself.
        let side: Vec<usize> = (0..5).map(|_| rng.below(2)).collect();
        for _ in 0..8 {
            let i = rng.below(5);
            accepted += usize::from(random_act(&nodes[i], &council, &members, &mut rng));
        }
        for i in 0..5 {
            let mates: Vec<usize> = (0..5).filter(|j| *j != i && side[*j] == side[i]).collect();
            if !mates.is_empty() {
                let j = mates[rng.below(mates.len())];
                // A removed member is refused: that is the rule, not a failure here.
                nodes[i].run(&["sync", "--peer", &servers[j].url()]);
            }
        }
    }
    assert!(
        accepted >= 8,
        "seed {seed}: only {accepted} acts were accepted"
    );
    // Heal: sync around the ring until nothing moves.
    for _ in 0..3 {
        for i in 0..5 {
            nodes[i].run(&["sync", "--peer", &servers[(i + 1) % 5].url()]);
            nodes[(i + 1) % 5].run(&["sync", "--peer", &servers[i].url()]);
        }
    }
    let hashes: Vec<String> = nodes.iter().map(|n| state_hash(n, &council)).collect();
    assert!(
        hashes.iter().all(|h| *h == hashes[0]),
        "seed {seed}: the nodes disagree after healing: {hashes:?}"
    );
    for node in &nodes {
        node.ok(&["verify"]);
    }
}

/// Three seeds by default; `COMMUNE_SYNC_SEEDS=N` runs seeds 1..=N.
#[test]
fn five_nodes_converge_after_random_partitions() {
    let seeds: u64 = std::env::var("COMMUNE_SYNC_SEEDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    for seed in 1..=seeds {
        converge(seed);
    }
}

/// A "peer" that answers every request with 200 and junk: the sync fails with one clear
/// line, and the node stores nothing.
#[test]
fn a_peer_that_answers_garbage_is_refused() {
    let node = TestNode::new();
    let council = found(&node, "Rent strike");
    let before = node.log_len(&council);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let junk = std::thread::spawn(move || {
        // Bounded: one connection per request the client makes, at most a few.
        for stream in listener.incoming().take(4) {
            let mut stream = stream.unwrap();
            // The whole request first: closing on unread bytes would reset the connection,
            // and the client would see that instead of the answer.
            let mut request = Vec::new();
            let mut chunk = [0u8; 8192];
            while let Ok(n @ 1..) = stream.read(&mut chunk) {
                request.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&request);
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            let (name, value) = l.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let body = b"\xa1\x00\xff not a sync answer";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/cbor\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(body);
        }
    });
    let error = node.fails(&[
        "sync",
        "--peer",
        &format!("http://{address}"),
        "--council",
        &council,
    ]);
    assert!(error.contains("bad sync message"), "{error}");
    assert_eq!(node.log_len(&council), before);
    node.ok(&["verify"]);
    drop(junk);
}

/// `kill -9` of a sync at several points: the next sync finishes the job, and the log
/// verifies (no half-written batch, no stale projection).
#[test]
fn a_sync_killed_mid_way_finishes_on_restart() {
    let (a, b) = (TestNode::new(), TestNode::new());
    let council = found(&a, "Food bank");
    let server = Server::start(&a, "127.0.0.1");
    join_by_bundle(&a, &server, &b, &council);
    let proposal = super::open_majority(&a, &council, "Open on Sundays");
    let binary = env!("CARGO_BIN_EXE_commune");
    let script = format!(
        "for i in $(seq 1 150); do {binary:?} --data {:?} comment {council} {proposal} \"note $i\" >/dev/null || exit 1; done",
        a.data()
    );
    assert!(
        std::process::Command::new("sh")
            .args(["-c", &script])
            .status()
            .unwrap()
            .success()
    );
    for delay_ms in [5, 20, 60, 120] {
        let mut sync = b
            .command(&["sync", "--peer", &server.url()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = sync.kill();
        sync.wait().unwrap();
        b.ok(&["verify"]);
    }
    b.ok(&["sync", "--peer", &server.url()]);
    assert_eq!(state_hash(&a, &council), state_hash(&b, &council));
    assert_eq!(a.log_len(&council), b.log_len(&council));
    b.ok(&["verify"]);
}

/// An invitation is a read credential until it is used: a newcomer's node fetches the log
/// with it, joins and sends the join back in one command; a node without one, or with one
/// already used, is refused the log.
#[test]
fn a_newcomer_joins_over_http_with_an_invitation_and_the_invitation_is_then_spent() {
    let host = TestNode::new();
    let council = found(&host, "Rent strike");
    let invitation = host.ok(&["invite", &council])["invitation"]
        .as_str()
        .unwrap()
        .to_owned();
    let server = Server::start(&host, "127.0.0.1");

    // A stranger's node gets nothing of the members-only council.
    let stranger = TestNode::new();
    let refused = stranger.fails(&["sync", "--peer", &server.url(), "--council", &council]);
    assert!(refused.contains("read by its members only"), "{refused}");
    assert_eq!(
        stranger.ok(&["council", "list"]).as_array().unwrap().len(),
        0
    );

    let newcomer = TestNode::new();
    let joined = newcomer.ok(&[
        "join",
        &invitation,
        "--from",
        &server.url(),
        "--my-name",
        "Bea",
    ]);
    assert_eq!(joined["event"].as_str().unwrap().len(), 64, "{joined}");
    let shown = host.ok(&["council", "show", &council]);
    let names: Vec<&str> = shown["members"]
        .as_object()
        .unwrap()
        .values()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Bea"), "the host has the join: {names:?}");
    assert_eq!(
        host.ok(&["state-hash", &council]),
        newcomer.ok(&["state-hash", &council]),
        "both nodes hold the same state"
    );

    // The link the web app hands out says where to join from.
    let second = host.ok(&["invite", &council])["invitation"]
        .as_str()
        .unwrap()
        .to_owned();
    let linked = TestNode::new();
    let link = format!("{}/join?invitation={second}", server.url());
    linked.ok(&["join", &link, "--my-name", "Cem"]);
    assert_eq!(
        host.ok(&["state-hash", &council]),
        linked.ok(&["state-hash", &council])
    );

    // Used, the invitation reads nothing more.
    let late = TestNode::new();
    let refused = late.fails(&["join", &invitation, "--from", &server.url()]);
    assert!(
        refused.contains("cannot fetch the council's log")
            && refused.contains("the invitation was already used: ask for a new one"),
        "{refused}"
    );
    assert_eq!(late.ok(&["council", "list"]).as_array().unwrap().len(), 0);
}

/// A bundle carries what its signer may read: a council the identity is not a member of is
/// refused by name and left out of a whole export.
#[test]
fn a_bundle_carries_only_councils_its_signer_may_read() {
    let node = TestNode::new();
    let mine = found(&node, "Rent strike");
    node.ok(&["key", "new", "other"]);
    let theirs = node.ok(&["--as", "other", "council", "found", "Their council"])["council"]
        .as_str()
        .unwrap()
        .to_owned();
    let file = node.dir.path().join("mine.bundle");
    let file = file.to_str().unwrap();
    let refused = node.fails(&["bundle", "export", "--council", &theirs, "-o", file]);
    assert!(
        refused.contains("not exported: Their council is read by its members only"),
        "{refused}"
    );
    let report = node.ok(&["bundle", "export", "-o", file]);
    assert_eq!(report["councils"], 1, "{report}");
    let reader = TestNode::new();
    reader.ok(&["bundle", "import", file]);
    let listed = reader.ok(&["council", "list"]);
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [mine.as_str()]);
}
