//! Integration tests: the real `commune` binary on temporary data directories.

#[path = "cli/attack.rs"]
mod attack;
#[path = "cli/browser.rs"]
mod browser;
#[path = "cli/elections.rs"]
mod elections;
#[path = "cli/federation.rs"]
mod federation;
#[path = "cli/federation_plan.rs"]
mod federation_plan;
#[path = "cli/files.rs"]
mod files;
#[path = "cli/hostile.rs"]
mod hostile;
#[path = "cli/on_postgres.rs"]
mod on_postgres;
#[path = "cli/ops.rs"]
mod ops;
#[path = "cli/register.rs"]
mod register;
#[path = "cli/story.rs"]
mod story;
#[path = "cli/sync.rs"]
mod sync;
#[path = "cli/three_levels.rs"]
mod three_levels;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// A data directory and the binary that works on it.
struct TestNode {
    dir: tempfile::TempDir,
}

impl TestNode {
    fn new() -> TestNode {
        let node = TestNode {
            dir: tempfile::TempDir::new().unwrap(),
        };
        node.ok(&["init"]);
        node
    }

    /// A data directory whose log is in the store `url` names (`init --store URL`).
    fn on_store(url: &str) -> TestNode {
        let node = TestNode {
            dir: tempfile::TempDir::new().unwrap(),
        };
        node.ok(&["--store", url, "init"]);
        node
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_commune"));
        command.arg("--data").arg(self.data()).args(args);
        // A log filter in the environment would add lines to the standard error tests read.
        command
            .env_remove("COMMUNE_DATA")
            .env_remove("COMMUNE_STORE")
            .env_remove("COMMUNE_LOG")
            .env_remove("RUST_LOG");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs a command that must succeed, and returns its JSON output.
    fn ok(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let output = self.run(&all);
        assert!(
            output.status.success(),
            "commune {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "commune {args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        })
    }

    /// Runs a command that must fail with one clear line; returns that line.
    fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            !output.status.success(),
            "commune {args:?} should have failed"
        );
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        assert!(
            stderr.starts_with("commune: "),
            "unclear error for {args:?}: {stderr}"
        );
        assert_eq!(
            stderr.lines().count(),
            1,
            "more than one line for {args:?}: {stderr}"
        );
        stderr
    }

    /// Runs a command that must succeed, and returns what it prints for a person.
    fn text(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "commune {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn log_len(&self, council: &str) -> usize {
        self.ok(&["log", council]).as_array().unwrap().len()
    }

    /// Starts `commune serve` on a free loopback port; returns the server and its address.
    fn serve(&self) -> (Server, String) {
        self.serve_on("127.0.0.1", &[])
    }

    /// Starts `commune serve` on a free port of a loopback address, with more arguments.
    fn serve_on(&self, ip: &str, extra: &[&str]) -> (Server, String) {
        let listen = format!("{ip}:0");
        let mut args = vec!["serve", "--listen", &listen];
        args.extend_from_slice(extra);
        let mut child = self
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().rsplit("http://").next().unwrap().to_owned();
        (Server(child), address)
    }
}

/// A running `commune serve`, stopped when dropped (also when a test fails).
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Alice founds a council; Bob joins with her invitation. Returns the council id.
fn council_of_two(node: &TestNode) -> String {
    let council =
        node.ok(&["council", "found", "Strike committee", "--my-name", "Alice"])["council"]
            .as_str()
            .unwrap()
            .to_owned();
    node.ok(&["key", "new", "bob"]);
    let invitation = node.ok(&["invite", &council])["invitation"]
        .as_str()
        .unwrap()
        .to_owned();
    node.ok(&["--as", "bob", "join", &invitation, "--my-name", "Bob"]);
    council
}

fn open_majority(node: &TestNode, council: &str, title: &str) -> String {
    node.ok(&[
        "proposal",
        "open",
        council,
        title,
        "--method",
        "majority",
        "--open-for",
        "1h",
    ])["event"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn init_makes_a_private_key_and_whoami_shows_it() {
    let node = TestNode::new();
    let me = node.ok(&["whoami"]);
    assert_eq!(me["identity"], "me");
    assert_eq!(me["public_key"].as_str().unwrap().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(node.data().join("keys/me.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A second init keeps the key.
    let again = node.ok(&["init"]);
    assert_eq!(again["created"], false);
    assert_eq!(again["public_key"], me["public_key"]);
}

#[test]
fn a_council_decides_from_invitation_to_close() {
    let node = TestNode::new();
    let council = council_of_two(&node);
    let members = node.ok(&["council", "show", &council])["members"]
        .as_object()
        .unwrap()
        .len();
    assert_eq!(members, 2);
    let proposal = open_majority(&node, &council, "Call a strike on Monday");
    node.ok(&["comment", &council, &proposal, "The night shift is ready."]);
    node.ok(&["vote", &council, &proposal, "yes"]);
    node.ok(&["--as", "bob", "vote", &council, &proposal, "no"]);
    // Bob changes his mind: the later ballot replaces the earlier one, and he is told so.
    let changed = node.text(&["--as", "bob", "vote", &council, &proposal, "yes"]);
    assert!(
        changed.contains("\nit replaces your earlier ballot"),
        "{changed}"
    );
    // The same ballot again records nothing, and says so.
    let before = node.log_len(&council);
    let again = node.text(&["--as", "bob", "vote", &council, &proposal, "yes"]);
    assert!(
        again.contains("already says this: nothing was recorded"),
        "{again}"
    );
    assert_eq!(node.log_len(&council), before);
    let closed = node.ok(&["--as", "bob", "close", &council, &proposal]);
    assert_eq!(closed["decision"]["outcome"]["passed"], true);
    assert_eq!(
        closed["decision"]["outcome"]["counts"][0],
        serde_json::json!(["yes", 2])
    );
    let shown = node.ok(&["proposal", "show", &council, &proposal[..10]]);
    assert_eq!(shown["proposal"]["comments"].as_array().unwrap().len(), 1);
    assert_eq!(shown["proposal"]["decision"]["outcome"]["passed"], true);

    let hash = node.ok(&["state-hash", &council])["state_hash"].clone();
    let verified = node.ok(&["verify"]);
    assert_eq!(verified[0]["state_hash"], hash);
    node.ok(&["rebuild"]);
    assert_eq!(node.ok(&["state-hash", &council])["state_hash"], hash);
    assert_eq!(
        node.ok(&["state", &council])["members"]
            .as_object()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn approval_and_consent_ballots_are_checked_against_the_method() {
    let node = TestNode::new();
    let council = council_of_two(&node);
    let approval = node.ok(&[
        "proposal",
        "open",
        &council,
        "Where do we meet?",
        "--method",
        "approval",
        "--option",
        "Union hall",
        "--option",
        "Library",
        "--option",
        "Park",
    ])["event"]
        .as_str()
        .unwrap()
        .to_owned();
    node.ok(&["vote", &council, &approval, "library", "3"]);
    node.ok(&["--as", "bob", "vote", &council, &approval, "Library"]);
    let closed = node.ok(&["close", &council, &approval]);
    assert_eq!(
        closed["decision"]["outcome"]["winners"],
        serde_json::json!([1])
    );

    let consent = node.ok(&[
        "proposal",
        "open",
        &council,
        "Adopt the code of conduct",
        "--method",
        "consent",
    ])["event"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = node.log_len(&council);
    let error = node.fails(&["vote", &council, &consent, "block"]);
    assert!(error.contains("needs a reason"), "{error}");
    node.fails(&["vote", &council, &consent, "yes"]);
    assert_eq!(
        node.log_len(&council),
        before,
        "a refused ballot wrote nothing"
    );
    node.ok(&[
        "vote",
        &council,
        &consent,
        "block",
        "--reason",
        "It says nothing about harassment",
    ]);
    node.ok(&[
        "--as",
        "bob",
        "vote",
        &council,
        &consent,
        "object",
        "--reason",
        "Too long to read at a meeting",
    ]);
    // The reasons are the point of consent: a member reads them, while open and once decided.
    let open = node.text(&["proposal", "show", &council, &consent]);
    assert!(open.contains("\nobjections and blocks:\n"), "{open}");
    assert!(
        open.contains("\n  Alice blocks: It says nothing about harassment\n"),
        "{open}"
    );
    assert!(
        open.contains("\n  Bob objects: Too long to read at a meeting\n"),
        "{open}"
    );
    node.ok(&["close", &council, &consent]);
    let decided = node.text(&["proposal", "show", &council, &consent]);
    assert!(decided.contains("DECIDED: did not pass"), "{decided}");
    assert!(
        decided.contains("Alice blocks: It says nothing about harassment"),
        "{decided}"
    );
}

#[test]
fn an_urgent_decision_the_council_does_not_ratify_reads_as_revoked() {
    let node = TestNode::new();
    let council = council_of_two(&node);
    let urgent = node.ok(&[
        "proposal",
        "open",
        &council,
        "Occupy the depot tonight",
        "--method",
        "majority",
        "--open-for",
        "1h",
        "--urgent",
    ])["event"]
        .as_str()
        .unwrap()
        .to_owned();
    node.ok(&["vote", &council, &urgent, "yes"]);
    node.ok(&["--as", "bob", "vote", &council, &urgent, "yes"]);
    let closed = node.ok(&["close", &council, &urgent]);
    let ratification = closed["decision"]["ratification"]
        .as_str()
        .expect("an urgent decision opens its ratification")
        .to_owned();
    let pending = node.text(&["proposal", "show", &council, &urgent]);
    assert!(
        pending.contains(&format!(
            "urgent: it stands until the council decides its ratification, proposal {}",
            &ratification[..8]
        )),
        "{pending}"
    );
    let later = open_majority(&node, &council, "Hold the depot for a week");
    node.ok(&["vote", &council, &ratification, "no"]);
    node.ok(&["--as", "bob", "vote", &council, &ratification, "no"]);
    node.ok(&["close", &council, &ratification]);

    let list = node.text(&["proposal", "list", &council]);
    let line = |id: &str| {
        list.lines()
            .find(|l| l.starts_with(&id[..8]))
            .unwrap()
            .to_owned()
    };
    assert!(
        line(&urgent).contains("passed, then REVOKED: not ratified"),
        "{list}"
    );
    assert!(
        line(&later).contains("FLAGGED: follows a revoked urgent decision"),
        "{list}"
    );
    let shown = node.text(&["proposal", "show", &council, &urgent]);
    assert!(
        shown.contains("REVOKED: the council did not ratify this urgent decision"),
        "{shown}"
    );
    let json = node.ok(&["proposal", "list", &council]);
    let revoked = json
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == urgent.as_str())
        .unwrap();
    assert!(revoked["revoked"].is_string(), "{revoked}");
}

#[test]
fn bad_input_gets_one_clear_line_and_writes_nothing() {
    let node = TestNode::new();
    let council = council_of_two(&node);
    let proposal = open_majority(&node, &council, "Paint the hall");
    node.ok(&["vote", &council, &proposal, "yes"]);
    node.ok(&["--as", "bob", "vote", &council, &proposal, "yes"]);
    node.ok(&["close", &council, &proposal]);
    let before = node.log_len(&council);

    let closed = node.fails(&["vote", &council, &proposal, "no"]);
    assert!(closed.contains("closed"), "{closed}");
    let unknown = node.fails(&["vote", &council, "deadbeef", "yes"]);
    assert!(unknown.contains("no proposal"), "{unknown}");
    let unknown = node.fails(&["council", "show", "no-such-council"]);
    assert!(unknown.contains("no council"), "{unknown}");
    node.ok(&["key", "new", "carol"]);
    let outsider = node.fails(&["--as", "carol", "proposal", "open", &council, "Take over"]);
    assert!(outsider.contains("not a member"), "{outsider}");
    let nobody = node.fails(&["--as", "nobody", "vote", &council, &proposal, "yes"]);
    assert!(nobody.contains("no identity"), "{nobody}");
    let duration = node.fails(&[
        "proposal",
        "open",
        &council,
        "Soon",
        "--open-for",
        "tomorrow",
    ]);
    assert!(duration.contains("duration"), "{duration}");
    let damaged = node.fails(&["join", "commune-invite-zzzz"]);
    assert!(damaged.contains("damaged"), "{damaged}");
    assert_eq!(node.log_len(&council), before);

    // Malformed arguments get one line and exit 1 too, as docs/cli.md promises.
    let incomplete = node.fails(&["vote"]);
    assert!(incomplete.contains("required arguments"), "{incomplete}");
    assert_eq!(node.run(&["vote"]).status.code(), Some(1));
    let unknown = node.fails(&["council", "list", "--colour"]);
    assert!(unknown.contains("'--colour'"), "{unknown}");
    assert!(node.run(&["--help"]).status.success());
    let born_expired = node.fails(&["invite", &council, "--days", "0"]);
    assert!(born_expired.contains("1..=3650"), "{born_expired}");

    let missing = Command::new(env!("CARGO_BIN_EXE_commune"))
        .args(["--data", "/nonexistent/commune", "council", "list"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("commune init"));
}

#[test]
fn a_corrupt_database_is_named_and_left_alone() {
    let node = TestNode::new();
    let database = node.data().join("commune.sqlite");
    std::fs::write(&database, b"this is not a database, it is a shopping list").unwrap();
    let error = node.fails(&["council", "list"]);
    assert!(
        error.contains("corrupt") || error.contains("not a database"),
        "{error}"
    );
    assert_eq!(
        std::fs::read(&database).unwrap(),
        b"this is not a database, it is a shopping list"
    );
}

#[test]
fn verify_fails_when_the_log_is_tampered_with() {
    let node = TestNode::new();
    let council = council_of_two(&node);
    open_majority(&node, &council, "Something to tamper with");
    node.ok(&["verify"]);
    // Acts save no state hash (that would hash the whole state on every act); rebuild does.
    node.ok(&["rebuild"]);
    let connection = rusqlite::Connection::open(node.data().join("commune.sqlite")).unwrap();
    // Change the stored state hash projection: verify must notice the mismatch.
    let changed = connection
        .execute(
            "UPDATE projections SET json = '00' WHERE name = 'state_hash'",
            [],
        )
        .unwrap();
    assert!(changed > 0);
    drop(connection);
    let output = node.run(&["verify"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("MISMATCH"));
    node.ok(&["rebuild"]);
    node.ok(&["verify"]);
}

#[test]
fn a_reader_that_goes_away_ends_the_run_quietly() {
    // `commune state … | head`: the pipe closes before commune writes; it must neither panic
    // nor report an error.
    let node = TestNode::new();
    let council = council_of_two(&node);
    for args in [
        &["state", &council][..],
        &["export", &council, "--format", "valueflows"],
    ] {
        let mut child = node
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{args:?} failed: {stderr}");
        assert!(stderr.is_empty(), "{args:?} complained: {stderr}");
    }
}

#[test]
fn the_demo_fills_a_fresh_directory_once() {
    let dir = tempfile::TempDir::new().unwrap();
    let data = dir.path().join("demo");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_commune"))
            .arg("--data")
            .arg(&data)
            .args(args)
            .output()
            .unwrap()
    };
    assert!(run(&["demo"]).status.success());
    let list: Value = serde_json::from_slice(&run(&["--json", "council", "list"]).stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    for council in list.as_array().unwrap() {
        let id = council["id"].as_str().unwrap();
        let proposals: Value =
            serde_json::from_slice(&run(&["--json", "proposal", "list", id]).stdout).unwrap();
        let proposals = proposals.as_array().unwrap();
        assert!(proposals.iter().any(|p| p["open"] == true));
        assert!(proposals.iter().any(|p| p["open"] == false));
    }
    assert!(run(&["verify"]).status.success());
    // Filling again as another identity is refused rather than mixing two examples.
    let again = run(&["--as", "someone", "demo"]);
    assert!(!again.status.success());
}

fn http_get(address: &str, path: &str) -> (u16, String) {
    http_get_with(address, path, "")
}

/// A GET signed by the node's identity `identity`, as the CLI signs a read (the
/// `Commune-Signature` header of docs/cli.md): members-only councils answer to it.
fn http_get_as(node: &TestNode, identity: &str, address: &str, path: &str) -> (u16, String) {
    let seed =
        std::fs::read_to_string(node.data().join("keys").join(format!("{identity}.key"))).unwrap();
    let seed: [u8; 32] = data_encoding::HEXLOWER_PERMISSIVE
        .decode(seed.trim().as_bytes())
        .unwrap()
        .try_into()
        .unwrap();
    let keypair = commune_core::Keypair::from_seed(seed);
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let mut message = b"commune/sync-request/v1\0GET\0".to_vec();
    message.extend_from_slice(path.as_bytes());
    message.push(0);
    message.extend_from_slice(&time.to_be_bytes());
    message.extend_from_slice(blake3::hash(b"").as_bytes());
    let signature = data_encoding::HEXLOWER.encode(&keypair.sign(&message).0);
    let header = format!(
        "Commune-Signature: key={}, time={time}, sig={signature}\r\n",
        keypair.public()
    );
    http_get_with(address, path, &header)
}

fn http_get_with(address: &str, path: &str, headers: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\n{headers}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn serve_answers_on_loopback() {
    let node = TestNode::new();
    let council = council_of_two(&node);
    let (_server, address) = node.serve();
    let (status, body) = http_get(&address, "/healthz");
    assert_eq!((status, body.as_str()), (200, "ok"));
    // A stranger learns nothing of a members-only council; its member reads it.
    let (status, body) = http_get(&address, &format!("/api/councils/{council}"));
    assert_eq!(status, 403, "{body}");
    assert!(!body.contains("Alice"), "{body}");
    let (status, body) = http_get_as(&node, "me", &address, &format!("/api/councils/{council}"));
    assert_eq!(status, 200);
    let state: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(state["state"]["name"], "Strike committee");
    let (status, _) = http_get(&address, "/api/councils/nonsense");
    assert_eq!(status, 400);
}

/// A council reads as members only until it decides, by amendment, to be public.
#[test]
fn a_council_becomes_public_only_by_amendment() {
    let node = TestNode::new();
    let council = council_of_two(&node);
    let shown = node.ok(&["council", "show", &council]);
    assert!(shown["constitution"].get("reading").is_none(), "{shown}");
    let text = String::from_utf8(node.run(&["council", "show", &council]).stdout).unwrap();
    assert!(
        text.contains("reading: members (only members read"),
        "{text}"
    );
    let (_server, address) = node.serve();
    let page = format!("/c/{council}");
    let (status, body) = http_get(&address, &page);
    assert_eq!(status, 200, "the name and how to join");
    assert!(!body.contains("Bob"), "{body}");

    let amend = node.ok(&[
        "proposal",
        "open",
        &council,
        "Open our books",
        "--reading",
        "public",
        "--open-for",
        "3d",
    ])["event"]
        .as_str()
        .unwrap()
        .to_owned();
    // Not yet decided: still members only.
    let (_, body) = http_get(&address, &page);
    assert!(!body.contains("Bob"), "{body}");
    node.ok(&["vote", &council, &amend, "yes"]);
    node.ok(&["--as", "bob", "vote", &council, &amend, "yes"]);
    node.ok(&["close", &council, &amend]);
    let shown = node.ok(&["council", "show", &council]);
    assert_eq!(shown["constitution"]["reading"], "public");
    let (status, body) = http_get(&address, &page);
    assert_eq!(status, 200);
    assert!(
        body.contains("Bob") && body.contains("Reading: public"),
        "{body}"
    );
}

/// `kill -9` during a burst of writes: every event acknowledged before the kill is in the log
/// afterwards, and the log verifies.
#[cfg(unix)]
#[test]
fn acknowledged_events_survive_kill_9() {
    use std::os::unix::process::CommandExt;
    let node = TestNode::new();
    let council = council_of_two(&node);
    let proposal = open_majority(&node, &council, "Keep the log safe");
    let binary = env!("CARGO_BIN_EXE_commune");
    let script = format!(
        "for i in $(seq 1 60); do {binary:?} --data {:?} --json comment {council} {proposal} \"note $i\" || exit 1; done",
        node.data()
    );
    let mut burst = Command::new("sh")
        .args(["-c", &script])
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut acknowledged = Vec::new();
    let mut reader = BufReader::new(burst.stdout.take().unwrap());
    let mut text = String::new();
    // Each acknowledgement is a small JSON object; collect eight, then kill the group while
    // the next write is under way.
    while acknowledged.len() < 8 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        text.push_str(&line);
        if line.starts_with('}') {
            let value: Value = serde_json::from_str(&text).unwrap();
            acknowledged.push(value["event"].as_str().unwrap().to_owned());
            text.clear();
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(7));
    let group = format!("-{}", burst.id());
    Command::new("kill")
        .args(["-9", "--", &group])
        .status()
        .unwrap();
    burst.wait().unwrap();
    assert_eq!(acknowledged.len(), 8, "the burst did not get going");
    let log = node.ok(&["log", &council]);
    let stored: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    for id in &acknowledged {
        assert!(
            stored.contains(&id.as_str()),
            "acknowledged event {id} was lost"
        );
    }
    node.ok(&["verify"]);
}

/// `commune tally` on a published ballot file: the JSON result.
fn tally(node: &TestNode, file: &str, method: &str, extra: &[&str]) -> Value {
    let path = format!(
        "{}/../../test_data/ballots/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut args = vec!["tally", &path, "--method", method];
    args.extend_from_slice(extra);
    node.ok(&args)
}

fn names(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

#[test]
fn published_ballot_files_give_their_published_results() {
    let node = TestNode::new();
    let schulze = tally(&node, "schulze-45.soc", "schulze", &[]);
    assert_eq!(names(&schulze["winners"]), ["E"]);
    assert_eq!(
        schulze["ranking"],
        serde_json::json!([["E"], ["A"], ["C"], ["B"], ["D"]])
    );
    assert_eq!(schulze["pairwise"]["strongest_paths"][4][0][0], 25);
    assert_eq!(schulze["tie_breaks"], serde_json::json!([]));

    assert_eq!(
        names(&tally(&node, "tennessee.toc", "schulze", &[])["winners"])[0],
        "Nashville"
    );
    let irv = tally(&node, "tennessee.toc", "irv", &[]);
    assert_eq!(names(&irv["winners"]), ["Knoxville"]);
    let excluded: Vec<&Value> = irv["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|round| &round["excluded"])
        .collect();
    assert_eq!(
        excluded[..2],
        [
            &serde_json::json!(["Chattanooga"]),
            &serde_json::json!(["Nashville"])
        ]
    );
    assert_eq!(irv["rounds"][2]["votes"]["Knoxville"], "58");

    // A real election: Minneapolis, mayor, 2017; the official first and last rounds.
    let minneapolis = tally(&node, "minneapolis-2017-mayor.toi", "irv", &[]);
    assert_eq!(names(&minneapolis["winners"]), ["Jacob Frey"]);
    let rounds = minneapolis["rounds"].as_array().unwrap();
    for (name, votes) in [
        ("Jacob Frey", "26116"),
        ("Tom Hoch", "20125"),
        ("Betsy Hodges", "18915"),
        ("Raymond Dehn", "18101"),
        ("Nekima Levy-Pounds", "15716"),
    ] {
        assert_eq!(rounds[0]["votes"][name], votes, "{name}");
    }
    let last = rounds.last().unwrap();
    assert_eq!(last["votes"]["Jacob Frey"], "46716");
    assert_eq!(last["votes"]["Raymond Dehn"], "34971");

    for method in ["stv-scottish", "stv-meek"] {
        let food = tally(&node, "food.blt", method, &[]);
        let mut winners = names(&food["winners"]);
        winners.sort();
        assert_eq!(
            winners,
            ["Chocolate", "Oranges", "Strawberries"],
            "{method}"
        );
        assert_eq!(names(&food["withdrawn"]), ["Lemons"]);
        assert_eq!(food["seats"], 3);
    }
    let scottish = tally(&node, "food.blt", "stv-scottish", &[]);
    assert_eq!(scottish["rounds"][0]["threshold"], "6.00000");
    assert_eq!(scottish["rounds"][1]["votes"]["Strawberries"], "5.00000");

    let poll = tally(&node, "meeting.json", "time-poll", &[]);
    assert_eq!(names(&poll["winners"]), ["Tuesday 19:00"]);
    let error = node.fails(&[
        "tally",
        &format!(
            "{}/../../test_data/ballots/meeting.json",
            env!("CARGO_MANIFEST_DIR")
        ),
        "--method",
        "irv",
    ]);
    assert!(error.contains("needs ranked ballots"), "{error}");
}

#[test]
fn malformed_ballot_files_name_the_line() {
    let node = TestNode::new();
    let cases = [
        (
            "bad.toi",
            "# NUMBER ALTERNATIVES: 3\n# ALTERNATIVE NAME 1: a\n3: 1,{2,3\n",
            ":3:",
            "not closed",
        ),
        (
            "bad.soc",
            "# NUMBER ALTERNATIVES: 2\n1: 1,2\n2: 1,7\n",
            ":3:",
            "candidate 7 does not exist",
        ),
        (
            "bad.blt",
            "3 1\n1 1 2 0\n1 1 1 0\n0\n\"a\"\n\"b\"\n\"c\"\n",
            ":3:",
            "ranked twice",
        ),
        ("short.blt", "3 1\n1 1 2\n", ":2:", "ends with 0"),
        ("huge.blt", "4000000000 1\n", ":1:", "at most 1000"),
        (
            "bad.json",
            "{\"candidates\": [\"a\", \"b\"],\n \"ballots\": [{\"ranking\": [\"a\"]},\n{\"ranking\": [\"a\", \"c\"]}]}",
            "line 3",
            "ballot 2 (counting from 1): \"c\" is not one of the candidates",
        ),
        (
            "syntax.json",
            "{\"candidates\": [\"a\"],\n\n \"ballots\": [,]}",
            "line 3",
            "",
        ),
    ];
    for (name, text, line, what) in cases {
        let path = node.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let error = node.fails(&["tally", path.to_str().unwrap(), "--method", "irv"]);
        assert!(
            error.contains(line) && error.contains(what),
            "{name}: {error}"
        );
    }
}

#[test]
fn a_ranked_decision_is_exported_and_recounted() {
    let node = TestNode::new();
    let council = council_of_two(&node);
    let election = node.ok(&[
        "proposal",
        "open",
        &council,
        "Delegates to the federation",
        "--method",
        "stv-scottish",
        "--seats",
        "2",
        "--option",
        "Ana",
        "--option",
        "Ben",
        "--option",
        "Chloé \"Clo\"",
    ])["event"]
        .as_str()
        .unwrap()
        .to_owned();
    let error = node.fails(&["vote", &council, &election, "yes"]);
    assert!(error.contains("not an option"), "{error}");
    node.ok(&["vote", &council, &election, "3", "ana=ben"]);
    node.ok(&["--as", "bob", "vote", &council, &election, "2", "1"]);
    let error = node.fails(&["proposal", "export", &council, &election, "--format", "blt"]);
    assert!(error.contains("still open"), "{error}");
    let decision = node.ok(&["close", &council, &election])["decision"].clone();
    let winners: Vec<u64> = decision["outcome"]["winners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_u64().unwrap())
        .collect();
    assert_eq!(winners.len(), 2);
    assert_eq!(decision["outcome"]["report"]["method"], "stv-scottish");

    // Piped straight into a recount, the format told by the first line.
    let exported = node.run(&["proposal", "export", &council, &election, "--format", "blt"]);
    let mut recount = node
        .command(&["--json", "tally", "-", "--method", "stv-meek"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    recount
        .stdin
        .take()
        .unwrap()
        .write_all(&exported.stdout)
        .unwrap();
    let recount = recount.wait_with_output().unwrap();
    assert!(
        recount.status.success(),
        "{}",
        String::from_utf8_lossy(&recount.stderr)
    );
    let recount: Value = serde_json::from_slice(&recount.stdout).unwrap();
    assert_eq!(recount["format"], "blt");
    assert_eq!(recount["seats"], 2);

    for (format, file) in [("blt", "recount.blt"), ("preflib", "recount.toi")] {
        let output = node.run(&[
            "proposal", "export", &council, &election, "--format", format,
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(!text.contains(&node.ok(&["whoami"])["public_key"].as_str().unwrap()[..16]));
        let path = node.dir.path().join(file);
        std::fs::write(&path, text).unwrap();
        let recount = node.ok(&[
            "tally",
            path.to_str().unwrap(),
            "--method",
            "stv-scottish",
            "--seats",
            "2",
        ]);
        // The same seats, compared as a set: two candidates elected in one round with equal
        // votes are put in order by lot, and the council's lot is seeded by the proposal's
        // id, which a recount from a file does not know.
        // A quote in a name survives the round trip (BLT doubles it).
        let options = ["Ana", "Ben", "Chloé \"Clo\""];
        assert_eq!(
            recount["candidates"],
            serde_json::json!(options),
            "{format}"
        );
        let mut expected: Vec<&str> = winners.iter().map(|&w| options[w as usize]).collect();
        let mut recounted = names(&recount["winners"]);
        expected.sort_unstable();
        recounted.sort_unstable();
        assert_eq!(recounted, expected, "{format}");
    }
}

#[test]
fn one_candidate_stands_against_reopening_nominations() {
    let node = TestNode::new();
    let council = council_of_two(&node);
    let elect = |title: &str| {
        node.ok(&[
            "proposal",
            "open",
            &council,
            title,
            "--elect",
            "Bob",
            "--working-group",
            "kitchen",
            "--open-for",
            "1h",
        ])["event"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let first = elect("Kitchen steward");
    let shown = node.ok(&["proposal", "show", &council, &first]);
    assert_eq!(
        shown["proposal"]["options"],
        serde_json::json!(["Bob", "re-open nominations"])
    );
    node.ok(&["vote", &council, &first, "Bob"]);
    node.ok(&["--as", "bob", "vote", &council, &first, "Bob"]);
    node.ok(&["close", &council, &first]);
    let mandates = node.ok(&["mandate", "list", &council]);
    assert_eq!(mandates.as_object().unwrap().len(), 1, "{mandates}");

    // When re-opening nominations wins, no one is elected.
    let second = elect("Kitchen steward, again");
    node.ok(&["vote", &council, &second, "re-open nominations"]);
    node.ok(&[
        "--as",
        "bob",
        "vote",
        &council,
        &second,
        "re-open nominations",
    ]);
    let closed = node.ok(&["close", &council, &second]);
    assert_eq!(
        closed["decision"]["outcome"]["winners"],
        serde_json::json!([1])
    );
    let mandates = node.ok(&["mandate", "list", &council]);
    assert_eq!(mandates.as_object().unwrap().len(), 1, "{mandates}");
}

#[test]
fn a_working_group_s_acts_are_listed_and_flagged_once_its_mandate_is_recalled() {
    let node = TestNode::new();
    let council = council_of_two(&node);
    let decide = |args: &[&str], ballot: &str| {
        let mut all = vec!["proposal", "open", &council];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--open-for", "3d"]);
        let proposal = node.ok(&all)["event"].as_str().unwrap().to_owned();
        node.ok(&["vote", &council, &proposal, ballot]);
        node.ok(&["--as", "bob", "vote", &council, &proposal, ballot]);
        node.ok(&["close", &council, &proposal]);
    };
    decide(
        &[
            "Kitchen group",
            "--elect",
            "Bob",
            "--working-group",
            "kitchen",
        ],
        "Bob",
    );
    let mandates = node.ok(&["mandate", "list", &council]);
    let mandate = mandates.as_object().unwrap().keys().next().unwrap().clone();
    node.ok(&[
        "--as",
        "bob",
        "act",
        &council,
        &mandate[..8],
        "Ordered forty kilos of rice",
    ]);
    let standing = node.text(&["mandate", "acts", &council]);
    assert!(
        standing.contains("Bob (mandate ") && standing.contains("): Ordered forty kilos of rice\n"),
        "{standing}"
    );
    decide(
        &["Recall the kitchen group", "--recall", &mandate[..8]],
        "yes",
    );
    let recalled = node.text(&["mandate", "acts", &council, &mandate[..8]]);
    assert!(
        recalled.contains("Ordered forty kilos of rice; done under a mandate since RECALLED"),
        "{recalled}"
    );
    let json = node.ok(&["mandate", "acts", &council]);
    assert_eq!(json[0]["flag"], "done under a mandate since RECALLED");
}
