//! A fresh PostgreSQL database for each test, on the server `COMMUNE_TEST_POSTGRES` names,
//! and the cases only a server has: several connections appending at once, noticing each
//! other, and a schema written by a newer commune.
//!
//! Without the URL these tests fail and say how to give one (`.ci/run` starts a throwaway
//! server); `COMMUNE_POSTGRES_TESTS=0` skips them, saying so.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use ::postgres::{Client, NoTls};
use commune_core::{Event, EventId};
use commune_store::{POSTGRES_SCHEMA_VERSION, Store, StoreError};

use super::{child, genesis, keypair, sorted};

/// A database of its own for one test, dropped with it.
pub struct Database {
    admin: String,
    name: String,
    pub url: String,
}

impl Database {
    /// A new empty database, or `None` when the PostgreSQL tests are switched off.
    pub fn fresh() -> Option<Database> {
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
            "commune_store_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut client = admin_client(&admin);
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .unwrap();
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let url = with_database(&admin, &name);
        Some(Database { admin, name, url })
    }

    pub fn store(&self) -> Store {
        Store::connect(&self.url).unwrap()
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let dropped = admin_client(&self.admin).batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
        if let Err(error) = dropped {
            eprintln!("could not drop the test database {}: {error}", self.name);
        }
    }
}

fn admin_client(admin: &str) -> Client {
    Client::connect(admin, NoTls).unwrap_or_else(|error| {
        panic!("cannot reach the PostgreSQL server of COMMUNE_TEST_POSTGRES ({admin}): {error}")
    })
}

/// The URL `admin` with another database name.
fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = admin.split_at(admin.find('?').unwrap_or(admin.len()));
    let host = base.find("://").expect("a postgres:// URL") + 3;
    let path = base[host..].find('/').map_or(base.len(), |at| host + at);
    format!("{}/{name}{query}", &base[..path])
}

/// A council of four authors over `rounds` layers, each event naming two of the layer
/// before: many branches and merges. In (depth, id) order.
fn layered_council(rounds: u64) -> Vec<Event> {
    let authors: Vec<_> = (1..=4).map(keypair).collect();
    let g = genesis(&authors[0], 1_000);
    let mut all = vec![g.clone()];
    let mut layer = vec![g];
    for round in 0..rounds {
        let next: Vec<Event> = authors
            .iter()
            .enumerate()
            .map(|(n, author)| {
                let first = &layer[n % layer.len()];
                let second = &layer[(n + 1) % layer.len()];
                let parents: Vec<&Event> = if first.id == second.id {
                    vec![first]
                } else {
                    vec![first, second]
                };
                child(author, 2 + round, &parents)
            })
            .collect();
        all.extend(next.iter().cloned());
        layer = next;
    }
    all.sort_by_key(|event| (event.unsigned.depth, event.id));
    all
}

#[test]
fn concurrent_appends_neither_lose_nor_duplicate() {
    let Some(database) = Database::fresh() else {
        return;
    };
    let log = Arc::new(layered_council(40));
    let council = log[0].council();
    let writers = 4;
    let barrier = Arc::new(Barrier::new(writers));
    // Each writer has its own connection and cuts the log into batches of its own size,
    // so that batches overlap in every way; each appends until everything is in.
    let handles: Vec<_> = (0..writers)
        .map(|writer| {
            let (log, barrier, url) = (log.clone(), barrier.clone(), database.url.clone());
            std::thread::spawn(move || {
                let mut store = Store::connect(&url).unwrap();
                barrier.wait();
                let mut inserted: Vec<EventId> = Vec::new();
                for batch in log.chunks(3 + 4 * writer) {
                    inserted.extend(store.append(batch).unwrap().inserted);
                }
                let last = store.append(&log).unwrap();
                assert!(last.missing_parents.is_empty() && last.invalid.is_empty());
                inserted.extend(last.inserted);
                inserted
            })
        })
        .collect();
    let mut inserted: Vec<EventId> = handles
        .into_iter()
        .flat_map(|handle| handle.join().unwrap())
        .collect();
    // Every event was reported inserted by exactly one writer.
    inserted.sort();
    let all: Vec<EventId> = sorted(log.iter().map(|event| event.id).collect());
    assert_eq!(inserted, all);

    let mut store = database.store();
    assert_eq!(store.event_count(council).unwrap(), log.len() as u64);
    let stored: Vec<EventId> = store.ids_of(council).unwrap();
    assert_eq!(stored, log.iter().map(|event| event.id).collect::<Vec<_>>());
    // The heads the writers moved are the heads of the whole log.
    let last_layer: Vec<EventId> = sorted(log[log.len() - 4..].iter().map(|e| e.id).collect());
    assert_eq!(store.heads(council).unwrap(), last_layer);
    store.clear_projections().unwrap();
    store.rebuild_heads().unwrap();
    assert_eq!(store.heads(council).unwrap(), last_layer);
}

#[test]
fn a_store_notices_other_connections_appends_only() {
    let Some(database) = Database::fresh() else {
        return;
    };
    let mut reader = database.store();
    let mut writer = database.store();
    let log = layered_council(2);
    let before = reader.data_version().unwrap();

    assert_eq!(writer.append(&log[..1]).unwrap().inserted.len(), 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while reader.data_version().unwrap() == before {
        assert!(
            Instant::now() < deadline,
            "another connection's append went unnoticed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let noticed = reader.data_version().unwrap();
    assert!(reader.has(log[0].id).unwrap());

    // The store's own appends, and appends that store nothing, are not news to it.
    assert_eq!(
        reader.append(&log[1..]).unwrap().inserted.len(),
        log.len() - 1
    );
    assert_eq!(writer.append(&log).unwrap().duplicates, log.len());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(reader.data_version().unwrap(), noticed);
}

#[test]
fn a_newer_postgres_schema_is_refused() {
    let Some(database) = Database::fresh() else {
        return;
    };
    drop(database.store());
    let mut client = Client::connect(&database.url, NoTls).unwrap();
    let version: i32 = client
        .query_one("SELECT version FROM commune_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(version as u32, POSTGRES_SCHEMA_VERSION);
    client
        .execute("UPDATE commune_schema SET version = version + 1", &[])
        .unwrap();
    match Store::connect(&database.url).unwrap_err() {
        StoreError::NewerSchema {
            found, supported, ..
        } => assert_eq!(
            (found, supported),
            (POSTGRES_SCHEMA_VERSION + 1, POSTGRES_SCHEMA_VERSION)
        ),
        other => panic!("expected NewerSchema, got {other:?}"),
    }
}

#[test]
fn opening_twice_migrates_once() {
    let Some(database) = Database::fresh() else {
        return;
    };
    // Several processes starting at once on a new database: one applies each script.
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = database.url.clone();
            std::thread::spawn(move || Store::connect(&url).map(drop))
        })
        .collect();
    for handle in handles {
        handle.join().unwrap().unwrap();
    }
    let log = layered_council(1);
    let mut store = database.store();
    let report = store.append(&log).unwrap();
    assert_eq!(report.inserted.len(), log.len());
}

#[test]
fn an_unreachable_server_or_a_bad_url_says_so_without_the_password() {
    // A port nothing listens on: bind one, note it, and close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://commune:s3cret@127.0.0.1:{port}/commune?connect_timeout=5");
    let message = Store::connect(&url).unwrap_err().to_string();
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
    assert!(!message.contains("s3cret"), "{message}");

    let message = Store::connect("mysql://commune:s3cret@host/db")
        .unwrap_err()
        .to_string();
    assert!(message.contains("sqlite:PATH"), "{message}");
    assert!(!message.contains("s3cret"), "{message}");
}
