//! How `commune` behaves as a server a person runs: what it logs, how it stops.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};

use super::TestNode;

/// Starts `commune serve` on a free loopback port with `env` set (and no other log
/// variable), and returns it once it has printed its address, with that address.
fn serve_with(node: &TestNode, env: &[(&str, &str)], extra: &[&str]) -> (Child, String) {
    let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut command = node.command(&args);
    command.env_remove("COMMUNE_LOG").env_remove("RUST_LOG");
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
