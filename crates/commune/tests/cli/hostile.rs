//! Hostile inputs at the node's edges: crafted and damaged bundles, slow and misaddressed
//! HTTP clients. Each test asserts what the node answers and that it keeps serving.

use commune_core::Event;
use serde_json::Value;

use super::TestNode;

fn found(node: &TestNode, name: &str) -> String {
    node.ok(&["council", "found", name])["council"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn import(node: &TestNode, file: &std::path::Path) -> Value {
    node.ok(&["bundle", "import", file.to_str().unwrap()])
}

/// The (offset, length) of each event frame of a bundle, with its event.
fn frames(bytes: &[u8]) -> Vec<(usize, usize, Event)> {
    let mut out = Vec::new();
    let mut at = 16;
    while at + 8 <= bytes.len() && &bytes[at..at + 4] == b"CMEV" {
        let len = u32::from_be_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        out.push((
            at,
            len,
            Event::decode(&bytes[at + 8..at + 8 + len]).unwrap(),
        ));
        at += 8 + len;
    }
    out
}

#[test]
fn a_crafted_bundle_gets_a_bounded_report_and_the_node_keeps_working() {
    let node = TestNode::new();
    let council = found(&node, "Kitchen");
    // A marker and a declared length of 67,584 every 8 bytes, 4 MB of it.
    let mut bytes = b"commune-bundle\n\x01".to_vec();
    while bytes.len() < 4 << 20 {
        bytes.extend_from_slice(b"CMEV");
        bytes.extend_from_slice(&67_584u32.to_be_bytes());
    }
    let file = node.dir.path().join("crafted.bundle");
    std::fs::write(&file, &bytes).unwrap();
    let output = node.run(&["--json", "bundle", "import", file.to_str().unwrap()]);
    assert!(output.status.success());
    assert!(
        output.stdout.len() < 64 << 10,
        "a report of {} bytes",
        output.stdout.len()
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["new"], 0);
    assert!(
        report["unreported_damage"].as_u64().unwrap() > 0,
        "{report}"
    );
    assert_eq!(node.log_len(&council), 1);
}

#[test]
fn a_flipped_bit_in_the_header_does_not_lose_intact_frames() {
    let a = TestNode::new();
    let council = super::council_of_two(&a);
    let total = a.log_len(&council) as u64;
    let file = a.dir.path().join("all.bundle");
    a.ok(&["bundle", "export", "-o", file.to_str().unwrap()]);
    let bytes = std::fs::read(&file).unwrap();

    for (byte, bit) in [(0, 0x01), (7, 0x20), (15, 0x02)] {
        let node = TestNode::new();
        let mut flipped = bytes.clone();
        flipped[byte] ^= bit;
        let damaged = node.dir.path().join("flipped.bundle");
        std::fs::write(&damaged, &flipped).unwrap();
        let report = import(&node, &damaged);
        assert_eq!(report["new"].as_u64(), Some(total), "{report}");
        assert_eq!(report["header_damaged"], true, "{report}");
        assert!(report["signed_by"].is_string(), "{report}");
    }

    // Another version's header is still that version, and text is not a bundle.
    let node = TestNode::new();
    let mut version_2 = bytes.clone();
    version_2[15] = 2;
    let other = node.dir.path().join("v2.bundle");
    std::fs::write(&other, &version_2).unwrap();
    assert!(
        node.fails(&["bundle", "import", other.to_str().unwrap()])
            .contains("a bundle of version 2")
    );
    let mut text = b"shopping list: 1".to_vec();
    text.extend_from_slice(&bytes[16..]);
    let notes = node.dir.path().join("notes.txt");
    std::fs::write(&notes, &text).unwrap();
    assert!(
        node.fails(&["bundle", "import", notes.to_str().unwrap()])
            .contains("not a commune bundle")
    );
}

#[test]
fn a_damaged_genesis_frame_costs_its_council_only() {
    let a = TestNode::new();
    let first = found(&a, "Garden");
    let second = found(&a, "Workshop");
    super::open_majority(&a, &second, "Buy a lathe");
    let file = a.dir.path().join("two.bundle");
    a.ok(&["bundle", "export", "-o", file.to_str().unwrap()]);
    let bytes = std::fs::read(&file).unwrap();
    let frames = frames(&bytes);
    let genesis: Vec<_> = frames
        .iter()
        .filter(|(_, _, event)| event.unsigned.depth == 0)
        .collect();
    assert_eq!(genesis.len(), 2);

    for (damaged_index, (at, len, event)) in genesis.iter().enumerate() {
        let lost = event.council().to_string();
        let kept = if lost == first { &second } else { &first };
        let node = TestNode::new();
        let mut damaged = bytes.clone();
        damaged[at + 8 + len / 2] ^= 0xff;
        let path = node.dir.path().join("damaged.bundle");
        std::fs::write(&path, &damaged).unwrap();
        let report = import(&node, &path);
        let kept_events = frames
            .iter()
            .filter(|(_, _, e)| e.council().to_string() == *kept)
            .count();
        assert_eq!(
            report["new"].as_u64(),
            Some(kept_events as u64),
            "genesis {damaged_index}: {report}"
        );
        assert_eq!(report["invalid"].as_array().unwrap().len(), 1, "{report}");
        assert_eq!(node.log_len(kept), kept_events);
        assert!(node.fails(&["log", &lost]).contains("no council"));
        node.ok(&["verify"]);
    }
}

#[test]
fn what_a_killed_write_left_is_removed_on_start() {
    let node = TestNode::new();
    let hour_and_a_bit = std::time::Duration::from_secs(3700);
    let stale = node.data().join(".tmpKILLED");
    let file = std::fs::File::create(&stale).unwrap();
    file.set_len(1 << 20).unwrap();
    file.set_modified(std::time::SystemTime::now() - hour_and_a_bit)
        .unwrap();
    // A write under way in another process is young: it stays.
    let young = node.data().join(".tmpWRITING");
    std::fs::write(&young, b"half").unwrap();
    node.ok(&["council", "list"]);
    assert!(!stale.exists());
    assert!(young.exists());
}

/// A GET with the given `Host`, as raw HTTP/1.1: the status line and the headers, and the body.
fn get_as(address: &str, host: &str, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (head.to_ascii_lowercase(), body.to_owned())
}

#[test]
fn a_request_for_another_name_is_refused_unless_allowed() {
    let node = TestNode::new();
    // A public council, so that what a request may read is decided by its Host alone.
    let council = node.ok(&["council", "found", "Kitchen", "--reading", "public"])["council"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_server, address) = node.serve_on("127.0.0.1", &["--allow-host", "commune.lan"]);
    let port = address.rsplit(':').next().unwrap();
    let api = format!("/api/councils/{council}");
    // A page on evil.example whose name now points at 127.0.0.1 sends its own name.
    for host in ["evil.example", &format!("evil.example:{port}")] {
        let (head, body) = get_as(&address, host, &api);
        assert!(head.starts_with("http/1.1 421"), "{host}: {head}");
        assert!(body.contains("--allow-host"), "{body}");
        assert!(!body.contains("Kitchen"), "{body}");
    }
    for host in [
        address.clone(),
        format!("localhost:{port}"),
        format!("commune.lan:{port}"),
    ] {
        let (head, body) = get_as(&address, &host, &api);
        assert!(head.starts_with("http/1.1 200"), "{host}: {head}");
        assert!(body.contains("Kitchen"), "{body}");
        // JSON is never sniffed into something else.
        let lines: Vec<&str> = head.lines().collect();
        assert!(lines.contains(&"x-content-type-options: nosniff"), "{head}");
        assert!(lines.contains(&"content-type: application/json"), "{head}");
    }
}

#[test]
fn slow_headers_are_cut_off_and_a_member_is_still_served() {
    use std::io::{Read, Write};
    let node = TestNode::new();
    let (_server, address) = node.serve_on("127.0.0.1", &["--header-timeout", "1"]);
    // Fifty clients that start their headers and never finish them.
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            .unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        slow.push(stream);
    }
    let (head, body) = get_as(&address, "127.0.0.1", "/healthz");
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(body, "ok");
    // Each slow client is closed by the node (end of file, or a reset), not left open
    // until the client's own 30 s wait runs out.
    for mut stream in slow {
        let mut rest = Vec::new();
        match stream.read_to_end(&mut rest) {
            Ok(_) => {}
            Err(error) => assert!(
                !matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
                "a slow client was left open: {error}"
            ),
        }
    }
}

#[test]
fn absurd_ballot_counts_get_a_clear_line_and_large_ones_count_as_weights() {
    let node = TestNode::new();
    let write = |name: &str, text: &str| {
        let path = node.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    // A weight of 2⁶⁴ − 1 for "b" and 2 for "a": it used to wrap to 1 and elect "a".
    let wrap = write(
        "wrap.blt",
        "2 1\n18446744073709551615 2 0\n2 1 0\n0\n\"a\"\n\"b\"\n",
    );
    let error = node.fails(&["tally", &wrap, "--method", "irv"]);
    assert!(error.contains(":2:") && error.contains("voters"), "{error}");
    // The same shape within the bound counts right, weights and all.
    let large = write(
        "large.blt",
        "2 1\n999999999998 2 0\n2 1 0\n0\n\"a\"\n\"b\"\n",
    );
    let result = node.ok(&["tally", &large, "--method", "irv"]);
    assert_eq!(result["winners"], serde_json::json!(["b"]), "{result}");
    assert_eq!(result["ballots"], 1_000_000_000_000u64);

    // A count near 2⁶³ used to panic ("capacity overflow"); 10⁹ used to take 8 GB.
    let json = |count: u64| {
        format!(
            "{{\"candidates\": [\"a\", \"b\"], \"ballots\": [{{\"count\": {count}, \"approve\": [\"a\"]}}, {{\"approve\": [\"b\"]}}]}}"
        )
    };
    let absurd = write("absurd.json", &json(9_223_372_036_854_775_807));
    let error = node.fails(&["tally", &absurd, "--method", "approval"]);
    assert!(
        error.contains("ballot 1") && error.contains("voters"),
        "{error}"
    );
    let billion = write("billion.json", &json(1_000_000_000));
    let result = node.ok(&["tally", &billion, "--method", "approval"]);
    assert_eq!(result["winners"], serde_json::json!(["a"]), "{result}");
    assert_eq!(result["ballots"], 1_000_000_001u64);
}

/// Found by the `ballot_file` fuzz target: a BLT ballot line with a weight and no marks
/// (`2 0`) made `commune tally` panic.
#[test]
fn a_blt_ballot_without_marks_is_a_blank_ballot() {
    let node = TestNode::new();
    let path = node.dir.path().join("blank.blt");
    std::fs::write(&path, "2 1\n2 0\n1 1 0\n0\n\"a\"\n\"b\"\n").unwrap();
    let result = node.ok(&["tally", path.to_str().unwrap(), "--method", "irv"]);
    assert_eq!(result["winners"], serde_json::json!(["a"]), "{result}");
    assert_eq!(result["ballots"], 3);
}
