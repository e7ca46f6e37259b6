//! Nodes whose log is in PostgreSQL: moving a node there from SQLite (checked by state
//! hash), and two `commune serve` processes sharing one database under concurrent writes.
//!
//! Each test gets a database of its own on the server `COMMUNE_TEST_POSTGRES` names. Without
//! it these tests fail and say how to give one (`.ci/run` starts a throwaway server);
//! `COMMUNE_POSTGRES_TESTS=0` skips them, saying so.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use commune_core::payload::{self, Payload};
use commune_core::{Body, CouncilId, EventId, Keypair, Unsigned};
use serde_json::Value;

use super::{TestNode, council_of_two, http_get_as, open_majority};
use crate::sync::key_of;

/// A database of its own for one test, dropped with it.
struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Database {
    /// A new empty database, or `None` when the PostgreSQL tests are switched off.
    fn fresh() -> Option<Database> {
        if std::env::var("COMMUNE_POSTGRES_TESTS").as_deref() == Ok("0") {
            eprintln!("skipped: COMMUNE_POSTGRES_TESTS=0 switches the PostgreSQL tests off");
            return None;
        }
        let admin = std::env::var("COMMUNE_TEST_POSTGRES")
            .ok()
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| {
                panic!(
                    "no PostgreSQL server for the PostgreSQL tests: set COMMUNE_TEST_POSTGRES=\
                     postgres://USER@HOST:PORT/DATABASE (USER may create databases; .ci/run \
                     starts a throwaway server and sets it), or COMMUNE_POSTGRES_TESTS=0 to \
                     skip them"
                )
            });
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "commune_cli_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        admin_sql(
            &admin,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
        admin_sql(&admin, &format!("CREATE DATABASE {name}"));
        let (base, query) = admin.split_at(admin.find('?').unwrap_or(admin.len()));
        let host = base.find("://").expect("a postgres:// URL") + 3;
        let path = base[host..].find('/').map_or(base.len(), |at| host + at);
        let url = format!("{}/{name}{query}", &base[..path]);
        Some(Database { admin, name, url })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        admin_sql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn admin_sql(admin: &str, sql: &str) {
    postgres::Client::connect(admin, postgres::NoTls)
        .and_then(|mut client| client.batch_execute(sql))
        .unwrap_or_else(|error| panic!("{sql} on COMMUNE_TEST_POSTGRES ({admin}): {error}"));
}

fn state_hash(node: &TestNode, council: &str) -> String {
    node.ok(&["state-hash", council])["state_hash"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_node_moves_from_sqlite_to_postgres_without_losing_an_event() {
    let Some(database) = Database::fresh() else {
        return;
    };
    let node = TestNode::new();
    let council = council_of_two(&node);
    let proposal = open_majority(&node, &council, "Move the log");
    node.ok(&["vote", &council, &proposal, "yes"]);
    node.ok(&["comment", &council, &proposal, "to the server"]);
    let other = node.ok(&["council", "found", "Second council", "--my-name", "Alice"]);
    let other = other["council"].as_str().unwrap().to_owned();
    let events = node.log_len(&council) + node.log_len(&other);
    let sqlite = format!("sqlite:{}", node.data().join("commune.sqlite").display());

    let moved = node.ok(&["store", "migrate", "--from", &sqlite, "--to", &database.url]);
    assert_eq!(moved["copied"], events, "{moved}");
    assert_eq!(moved["already_there"], 0);
    assert_eq!(moved["councils"].as_array().unwrap().len(), 2);
    // Running it again copies nothing and checks again.
    let again = node.ok(&["store", "migrate", "--from", &sqlite, "--to", &database.url]);
    assert_eq!(
        (again["copied"].clone(), again["already_there"].clone()),
        (0.into(), events.into())
    );

    // A node on the database tells the same story, and carries on from it.
    let moved_node = TestNode::on_store(&database.url);
    assert_eq!(
        state_hash(&moved_node, &council),
        state_hash(&node, &council)
    );
    assert_eq!(state_hash(&moved_node, &other), state_hash(&node, &other));
    assert_eq!(moved_node.log_len(&council), node.log_len(&council));
    moved_node.ok(&["verify"]);
    assert!(!moved_node.data().join("commune.sqlite").exists());

    // And back into a fresh SQLite file, through the same command.
    let back = moved_node.dir.path().join("back.sqlite");
    let back_url = format!("sqlite:{}", back.display());
    let returned = node.ok(&[
        "store",
        "migrate",
        "--from",
        &database.url,
        "--to",
        &back_url,
    ]);
    assert_eq!(returned["copied"], events);

    // A target that holds other events of a council is not the same log: said, not hidden.
    // (Alice's key is in the SQLite node's directory: she acts on the database by --store.)
    node.ok(&[
        "--store",
        &database.url,
        "comment",
        &council,
        &proposal,
        "only on the server",
    ]);
    assert_eq!(moved_node.log_len(&council), node.log_len(&council) + 1);
    let message = node.fails(&["store", "migrate", "--from", &sqlite, "--to", &database.url]);
    assert!(message.contains("state hash"), "{message}");
    let message = node.fails(&["store", "migrate", "--from", &sqlite, "--to", &sqlite]);
    assert!(message.contains("same store"), "{message}");
}

/// A POST with a JSON body; the status and the body of the answer.
pub(super) fn http_post(address: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
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

/// Comments on `proposal` through the server at `address` as a member would from a page:
/// draft, sign, submit, and draft again while the council moves on under it. Returns the
/// event the server acknowledged.
fn comment_through(
    address: &str,
    council: CouncilId,
    proposal: EventId,
    key: &Keypair,
    text: String,
) -> EventId {
    let payload = Payload::Comment(payload::Comment {
        proposal,
        reply_to: None,
        text,
    });
    let request = serde_json::json!({ "author": key.public(), "payload": payload }).to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, draft) = http_post(
            address,
            &format!("/api/councils/{council}/drafts"),
            &request,
        );
        assert_eq!(status, 200, "{draft}");
        let draft: Value = serde_json::from_str(&draft).unwrap();
        let hex = |value: &Value| {
            data_encoding::HEXLOWER
                .decode(value.as_str().unwrap().as_bytes())
                .unwrap()
        };
        let unsigned = Unsigned {
            council: Some(council),
            author: key.public(),
            seq: draft["seq"].as_u64().unwrap(),
            parents: serde_json::from_value(draft["parents"].clone()).unwrap(),
            depth: draft["depth"].as_u64().unwrap(),
            time_ms: draft["time_ms"].as_u64().unwrap(),
            kind: draft["kind"].as_u64().unwrap(),
            body: Body::Inline(hex(&draft["body"])),
            encryption: None,
        };
        assert_eq!(unsigned.signing_message(), hex(&draft["signing_message"]));
        let event = unsigned.sign(key);
        let body = serde_json::json!({ "event": data_encoding::HEXLOWER.encode(&event.bytes) });
        let (status, answer) = http_post(address, "/api/events", &body.to_string());
        match status {
            201 => return event.id,
            409 if answer.contains("redraft") => {
                assert!(
                    Instant::now() < deadline,
                    "redrafted for a minute: {answer}"
                );
            }
            _ => panic!("submitting answered {status}: {answer}"),
        }
    }
}

/// Two servers on one database, two members writing through each at once: afterwards the
/// log holds every acknowledged event exactly once, both servers show all of them, and the
/// log verifies.
#[test]
fn two_servers_share_one_database_under_concurrent_writes() {
    let Some(database) = Database::fresh() else {
        return;
    };
    let first = TestNode::on_store(&database.url);
    let second = TestNode::on_store(&database.url);
    let council = council_of_two(&first);
    let proposal = open_majority(&first, &council, "Share the load");
    let writers: Vec<String> = (0..4).map(|n| format!("writer{n}")).collect();
    for name in &writers {
        first.ok(&["key", "new", name]);
        let invitation = first.ok(&["invite", &council])["invitation"]
            .as_str()
            .unwrap()
            .to_owned();
        first.ok(&["--as", name, "join", &invitation, "--my-name", name]);
    }
    let before = first.log_len(&council);
    let (one_server, one) = first.serve();
    let (_two, two) = second.serve();
    let council_id: CouncilId = council.parse().unwrap();
    let proposal_id: EventId = proposal.parse().unwrap();

    let per_writer = 6;
    let acknowledged: Vec<EventId> = std::thread::scope(|scope| {
        let handles: Vec<_> = writers
            .iter()
            .enumerate()
            .map(|(n, name)| {
                let key = key_of(&first, name);
                let address = if n % 2 == 0 { one.clone() } else { two.clone() };
                scope.spawn(move || {
                    (0..per_writer)
                        .map(|i| {
                            let text = format!("{name} says {i}");
                            comment_through(&address, council_id, proposal_id, &key, text)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().unwrap())
            .collect()
    });
    assert_eq!(acknowledged.len(), writers.len() * per_writer);

    let log = first.ok(&["log", &council]);
    let ids: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids.len(),
        before + acknowledged.len(),
        "events lost or doubled"
    );
    for id in &acknowledged {
        let id = id.to_string();
        assert_eq!(
            ids.iter().filter(|stored| **stored == id).count(),
            1,
            "acknowledged event {id} is not in the log exactly once"
        );
    }
    // Each server sees the other's writes.
    for address in [&one, &two] {
        let (status, body) =
            http_get_as(&first, "me", address, &format!("/api/councils/{council}"));
        assert_eq!(status, 200, "{body}");
        let state: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(state["state"]["events"], ids.len(), "{address} is behind");
    }
    first.ok(&["verify"]);
    second.ok(&["verify"]);

    // A server stops cleanly on Ctrl-C, closing its database connections on the way out.
    let mut server = one_server;
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop on Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "the server stopped with {status}");
}

/// The benchmarks run on a database too (their figures are not checked here). The web one
/// drops its node on the async runtime, where closing a connection must not block on it.
#[test]
fn the_benchmarks_run_on_postgres() {
    let Some(web) = Database::fresh() else {
        return;
    };
    let Some(ingest) = Database::fresh() else {
        return;
    };
    let node = TestNode::new();
    let figures = node.ok(&[
        "--store",
        &web.url,
        "bench-web",
        "--members",
        "30",
        "--proposals",
        "3",
        "--comments",
        "10",
        "--readers",
        "4",
        "--reads",
        "40",
        "--ballots",
        "6",
        "--voters",
        "2",
    ]);
    assert_eq!(figures["events"], 1 + 29 + 3 + 10);
    // Half the ballots are cast alone, the other half while the page is read.
    assert_eq!(figures["ballots"]["requests"], 3);
    let figures = node.ok(&[
        "--store",
        &ingest.url,
        "bench",
        "--events",
        "3000",
        "--members",
        "20",
    ]);
    assert_eq!(figures["events"], 3000);
    assert!(
        figures["store"]
            .as_str()
            .unwrap()
            .starts_with("postgres://")
    );
    // A store that already holds councils is refused, not mixed with the generated log.
    let message = node.fails(&["--store", &ingest.url, "bench", "--events", "100"]);
    assert!(message.contains("empty"), "{message}");
}
