//! How `commune` behaves as a server a person runs: what it logs, how it stops.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::TestNode;

/// Starts `commune serve` on a free loopback port with `env` set (`TestNode::command` clears
/// the log variables), and returns it once it has printed its address, with that address.
fn serve_with(node: &TestNode, env: &[(&str, &str)], extra: &[&str]) -> (Child, String) {
    let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut command = node.command(&args);
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line.trim().rsplit("http://").next().unwrap().to_owned();
    (child, address)
}

/// Stops a server with SIGKILL once it has answered a request (so that its first log
/// lines are written), and returns what it wrote on standard error.
fn kill_and_read_stderr(mut child: Child, address: &str) -> String {
    assert_eq!(super::http_get(address, "/healthz").0, 200);
    child.kill().unwrap();
    child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    stderr
}

#[test]
fn rust_log_is_honoured_and_commune_log_wins_over_it() {
    let node = TestNode::new();
    // By default only warnings are logged: the info line that serve starts with is not.
    let (child, address) = serve_with(&node, &[], &[]);
    let stderr = kill_and_read_stderr(child, &address);
    assert!(!stderr.contains("serving"), "{stderr}");
    // tracing's usual variable turns it on.
    let (child, address) = serve_with(&node, &[("RUST_LOG", "info")], &[]);
    let stderr = kill_and_read_stderr(child, &address);
    assert!(
        stderr.contains("serving") && stderr.contains(&address),
        "{stderr}"
    );
    // commune's own variable, when set, is the one that counts.
    let (child, address) = serve_with(&node, &[("RUST_LOG", "info"), ("COMMUNE_LOG", "warn")], &[]);
    let stderr = kill_and_read_stderr(child, &address);
    assert!(!stderr.contains("serving"), "{stderr}");
}

/// Waits up to `limit` for `child` to exit, and returns how it did (None if it still runs).
fn exit_within(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_stops_serve_once_its_open_request_is_answered() {
    let node = TestNode::new();
    let council = super::council_of_two(&node);
    super::open_majority(&node, &council, "Stop gracefully");
    // The sync loop runs (it has an identity and the default period) and must end too.
    let (child, address) = serve_with(&node, &[], &[]);
    // Killed if the test fails before it exits.
    let mut server = super::Server(child);
    let child = &mut server.0;
    // A request in flight: its headers are in, its body is not all there yet.
    let body = br#"{"event":"00"}"#;
    let mut stream = TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "POST /api/events HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(&body[..5]).unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    // It stops listening but waits for the request it is reading.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "serve exited with a request in flight"
    );
    assert!(TcpStream::connect(&address).is_err(), "serve still accepts");
    stream.write_all(&body[5..]).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 "), "{response:?}");
    let status = exit_within(child, Duration::from_secs(10));
    assert!(
        status.is_some_and(|status| status.success()),
        "serve did not exit 0 within 10 s of SIGTERM: {status:?}"
    );
    node.ok(&["verify"]);
}

/// `commune` with no data directory to be found: no `--data`, no home.
fn homeless(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_commune"))
        .args(args)
        .env_remove("COMMUNE_DATA")
        .env_remove("COMMUNE_STORE")
        .env_remove("HOME")
        .env_remove("XDG_DATA_HOME")
        .output()
        .unwrap()
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let output = homeless(&["--version"]);
    assert!(output.status.success());
    let version = String::from_utf8(output.stdout).unwrap();
    let commit = Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "rev-parse",
            "--short",
            "HEAD",
        ])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8(output.stdout).unwrap().trim().to_owned());
    let expected = match commit {
        Some(commit) => format!("commune {} ({commit})", env!("CARGO_PKG_VERSION")),
        // Built from a tree without git: the version alone.
        None => format!("commune {}", env!("CARGO_PKG_VERSION")),
    };
    assert_eq!(version.trim(), expected);
}

#[test]
fn completions_and_the_man_page_need_no_data_directory() {
    let bash = homeless(&["completions", "bash"]);
    assert!(bash.status.success(), "{bash:?}");
    let bash = String::from_utf8(bash.stdout).unwrap();
    assert!(bash.contains("complete -F _commune") && bash.contains("serve"));
    let zsh = String::from_utf8(homeless(&["completions", "zsh"]).stdout).unwrap();
    assert!(zsh.starts_with("#compdef commune"), "{zsh}");
    let fish = String::from_utf8(homeless(&["completions", "fish"]).stdout).unwrap();
    assert!(fish.contains("complete -c commune"), "{fish}");
    let line = homeless(&["completions", "tcsh"]);
    assert!(!line.status.success());
    let man = homeless(&["man"]);
    assert!(man.status.success(), "{man:?}");
    let man = String::from_utf8(man.stdout).unwrap();
    assert!(man.contains(".TH commune 1"), "{man}");
    // Every command is in it.
    for command in ["serve", "verify", "completions", "bundle"] {
        assert!(man.contains(command), "{command} is not in the man page");
    }
}

#[test]
fn sigterm_stops_serve_promptly_while_a_peer_never_answers_its_sync() {
    let node = TestNode::new();
    let council = super::council_of_two(&node);
    super::open_majority(&node, &council, "Stop while syncing");
    // A peer that takes the connection and never answers: a sync with it is under way until
    // the client's own timeout, minutes away.
    let peer = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", peer.local_addr().unwrap());
    node.ok(&["peer", "add", &url]);
    let (child, _) = serve_with(&node, &[], &["--sync-every", "1"]);
    let mut server = super::Server(child);
    let child = &mut server.0;
    let (_held, _) = peer.accept().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = exit_within(child, Duration::from_secs(15));
    assert!(
        status.is_some_and(|status| status.success()),
        "serve did not exit 0 within 15 s of SIGTERM while syncing: {status:?}"
    );
    node.ok(&["verify"]);
}

#[test]
fn sigterm_ends_an_open_live_stream_and_serve_exits_0() {
    let node = TestNode {
        dir: tempfile::TempDir::new().unwrap(),
    };
    node.ok(&["demo"]);
    // The demo's tenants' assembly is public: anyone may listen to its live stream.
    let councils = node.ok(&["council", "list"]);
    let tenants = councils
        .as_array()
        .unwrap()
        .iter()
        .find(|council| council["name"].as_str().unwrap().starts_with("Tenants"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (child, address) = serve_with(&node, &[], &[]);
    let mut server = super::Server(child);
    let child = &mut server.0;
    let mut stream = TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "GET /c/{tenants}/live HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    // The stream ends (the server closes it) rather than holding the stop open.
    reader
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut rest = Vec::new();
    reader
        .read_to_end(&mut rest)
        .expect("the live stream was not ended within 10 s of SIGTERM");
    let status = exit_within(child, Duration::from_secs(10));
    assert!(
        status.is_some_and(|status| status.success()),
        "serve did not exit 0 within 10 s of SIGTERM: {status:?}"
    );
}
