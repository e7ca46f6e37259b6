//! The PostgreSQL backend: the connection, the migrations, every SQL statement, and the
//! watcher that tells a process of other processes' appends.
//!
//! Owns the schema (the scripts in `postgres/`, applied in order, the version in the table
//! `commune_schema`), the locking that lets several processes append to one database, and the
//! translation of the driver's errors into [`StoreError`]. Must not decide what may enter the
//! log (that is [`append::plan`]), must not decode events (that is [`Store`](crate::Store)),
//! and must not let a `postgres` type out of the crate.
//!
//! Several processes may share a database. An append takes a transaction-scoped advisory
//! lock per council it writes to (in sorted order), so appends to one council are serialised
//! as SQLite serialises every write, and its parent checks read every event committed
//! before it; appends to different councils run side by side. Each append that stores
//! events sends a notification when it commits, which the other processes' watchers count.

use std::cell::{RefCell, RefMut};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use commune_core::{CouncilId, Event, EventId, PublicKey};
use postgres::config::Host;
use postgres::types::ToSql;
use postgres::{Client, Config, GenericClient, NoTls, Row, Statement};
use tracing::{debug, warn};

use crate::append::{self, AppendReport, ParentFacts, Verdict};
use crate::{Backend, StoreError, int, prefix_bound, uint};

/// The schema, one script per version: script `i` takes the database from version `i` to
/// `i + 1`. Scripts are never edited once released; a change is a new script.
const MIGRATIONS: &[&str] = &[include_str!("postgres/0001_event_log.sql")];

/// The schema version this code writes and reads.
pub(crate) const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// The first key of commune's advisory locks ("comm"), so that they stay apart from other
/// programs' locks in the same database; the second key says what is locked.
const LOCKS: i32 = 0x636f_6d6d;
/// The second key of the lock that migrations hold.
const SCHEMA_LOCK: i32 = 0;

/// The channel on which appends announce that they stored events.
const CHANNEL: &str = "commune_appends";

/// How long the watcher waits for a notification before it looks whether it should stop.
const WATCH_POLL: Duration = Duration::from_millis(50);

/// How long to wait for a server that does not answer a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How many events a streaming read fetches at once.
const PAGE: i64 = 4096;

/// An open PostgreSQL database with the current schema.
pub(crate) struct Db {
    /// The store's API reads through `&self`; a connection needs `&mut` even to read. Always
    /// `Some` until the store is dropped (see `Drop`).
    conn: RefCell<Option<Conn>>,
    /// The URL without its password, for messages.
    location: String,
    watcher: Watcher,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("postgres::Db")
            .field("location", &self.location)
            .finish()
    }
}

/// A connection and the statements prepared on it.
struct Conn {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Db {
    pub(crate) fn connect(url: &str) -> Result<Db, StoreError> {
        let mut config: Config = url.parse().map_err(|error| {
            StoreError::Postgres(format!(
                "{} is not a PostgreSQL URL: {error}",
                crate::redact(url)
            ))
        })?;
        if config.get_application_name().is_none() {
            config.application_name("commune");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let location = describe(&config);
        debug!(%location, "connecting to the database");
        let (client, pid) = {
            let error = pg_error(&location);
            let mut client = config.connect(NoTls).map_err(&error)?;
            let pid: i32 = client
                .query_one("SELECT pg_backend_pid()", &[])
                .map_err(&error)?
                .get(0);
            (client, pid)
        };
        // Listening starts before anything is read, so no append committed after this
        // process first looks at the log goes unnoticed.
        let watcher = Watcher::start(config, pid, &location)?;
        let mut db = Db {
            conn: RefCell::new(Some(Conn {
                client,
                statements: HashMap::new(),
            })),
            location,
            watcher,
        };
        db.migrate()?;
        Ok(db)
    }

    /// Brings the schema to [`SCHEMA_VERSION`], one script per transaction, under an
    /// advisory lock, so that two processes opening a new database do not both apply a
    /// script.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let error = pg_error(&self.location);
        let client = &mut open(self.conn.get_mut()).client;
        loop {
            let mut tx = client.transaction().map_err(&error)?;
            tx.execute(
                "SELECT pg_advisory_xact_lock($1, $2)",
                &[&LOCKS, &SCHEMA_LOCK],
            )
            .map_err(&error)?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS commune_schema (
                     one     BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
                     version INTEGER NOT NULL
                 )",
            )
            .map_err(&error)?;
            let found: i32 = match tx
                .query_opt("SELECT version FROM commune_schema", &[])
                .map_err(&error)?
            {
                Some(row) => row.get(0),
                None => {
                    tx.execute("INSERT INTO commune_schema (version) VALUES (0)", &[])
                        .map_err(&error)?;
                    0
                }
            };
            let found = u32::try_from(found).map_err(|_| StoreError::Corrupt {
                what: format!("the database {}", self.location),
                detail: format!("its schema version {found} is negative"),
            })?;
            if found > SCHEMA_VERSION {
                return Err(StoreError::NewerSchema {
                    path: self.location.clone(),
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            if found == SCHEMA_VERSION {
                debug!(location = %self.location, version = found, "the schema is current");
                return tx.commit().map_err(&error);
            }
            tx.batch_execute(MIGRATIONS[found as usize])
                .map_err(&error)?;
            tx.execute(
                "UPDATE commune_schema SET version = $1",
                &[&(found as i32 + 1)],
            )
            .map_err(&error)?;
            tx.commit().map_err(&error)?;
            debug!(location = %self.location, from = found, to = found + 1, "migrated the schema");
        }
    }

    fn conn(&self) -> RefMut<'_, Conn> {
        RefMut::map(self.conn.borrow_mut(), |conn| {
            conn.as_mut().expect("open until dropped")
        })
    }

    fn query(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let Conn { client, statements } = &mut *self.conn();
        prepared(client, statements, sql)
            .and_then(|statement| client.query(&statement, params))
            .map_err(pg_error(&self.location))
    }

    fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let Conn { client, statements } = open(self.conn.get_mut());
        prepared(client, statements, sql)
            .and_then(|statement| client.execute(&statement, params))
            .map_err(pg_error(&self.location))
    }

    /// Runs `statements` in one transaction.
    fn in_transaction(&mut self, statements: &str) -> Result<(), StoreError> {
        let error = pg_error(&self.location);
        let mut tx = open(self.conn.get_mut())
            .client
            .transaction()
            .map_err(&error)?;
        tx.batch_execute(statements).map_err(&error)?;
        tx.commit().map_err(&error)
    }

    fn ids_from(&self, rows: &[Row]) -> Result<Vec<EventId>, StoreError> {
        rows.iter()
            .map(|row| id32(&self.location, row, 0).map(EventId))
            .collect()
    }
}

impl Drop for Db {
    /// Closes the connection on a thread of its own: the driver blocks on a runtime of its
    /// own to close it, which panics on an async runtime's thread, where a server drops its
    /// node at shutdown.
    fn drop(&mut self) {
        if let Some(conn) = self.conn.get_mut().take() {
            let _ = std::thread::spawn(move || drop(conn)).join();
        }
    }
}

impl Backend for Db {
    fn location(&self) -> &str {
        &self.location
    }

    fn append(&mut self, events: &[Event]) -> Result<AppendReport, StoreError> {
        if events.is_empty() {
            return Ok(AppendReport::default());
        }
        let location = self.location.clone();
        let error = pg_error(&location);
        let Conn { client, statements } = open(self.conn.get_mut());
        let mut tx = client.transaction().map_err(&error)?;

        // One writer per council at a time, taken in sorted order so that two batches with
        // the same councils cannot wait for each other.
        let mut councils: Vec<CouncilId> = events.iter().map(Event::council).collect();
        councils.sort();
        councils.dedup();
        let lock = prepared(&mut tx, statements, "SELECT pg_advisory_xact_lock($1, $2)")
            .map_err(&error)?;
        for council in &councils {
            let key = i32::from_be_bytes(council.0[..4].try_into().expect("4 bytes"));
            tx.execute(&lock, &[&LOCKS, &key]).map_err(&error)?;
        }

        // Every parent outside the batch, in one query, read after the locks: it sees every
        // event committed before.
        let in_batch: HashSet<EventId> = events.iter().map(|event| event.id).collect();
        let mut outside: Vec<&[u8]> = events
            .iter()
            .flat_map(|event| &event.unsigned.parents)
            .filter(|parent| !in_batch.contains(*parent))
            .map(|parent| &parent.0[..])
            .collect();
        outside.sort();
        outside.dedup();
        let mut arrivals: HashMap<EventId, i64> = HashMap::new();
        let mut stored: HashMap<EventId, ParentFacts> = HashMap::new();
        if !outside.is_empty() {
            let find = prepared(
                &mut tx,
                statements,
                "SELECT id, arrival, council, depth, time_ms FROM events WHERE id = ANY($1)",
            )
            .map_err(&error)?;
            for row in tx.query(&find, &[&outside]).map_err(&error)? {
                let id = EventId(id32(&location, &row, 0)?);
                arrivals.insert(id, row.get(1));
                stored.insert(
                    id,
                    ParentFacts {
                        council: CouncilId(id32(&location, &row, 2)?),
                        depth: uint(row.get(3)),
                        time_ms: uint(row.get(4)),
                    },
                );
            }
        }
        let verdicts = append::plan(events, |id| Ok(stored.get(&id).copied()))?;

        let mut report = AppendReport::default();
        let mut to_store: Vec<&Event> = Vec::new();
        let mut seen: HashSet<EventId> = HashSet::new();
        for (event, verdict) in verdicts {
            match verdict {
                Verdict::Store if seen.insert(event.id) => to_store.push(event),
                // Given twice in the batch: the second is a duplicate of the first.
                Verdict::Store => report.duplicates += 1,
                Verdict::MissingParents => report.missing_parents.push(event.id),
                Verdict::Invalid(reason) => report.invalid.push((event.id, reason)),
            }
        }
        if to_store.is_empty() {
            tx.commit().map_err(&error)?;
            return Ok(report);
        }

        // The events in (depth, id) order, in one statement; those already stored are skipped.
        let column = |f: fn(&Event) -> i64| to_store.iter().map(|e| f(e)).collect::<Vec<i64>>();
        let ids: Vec<&[u8]> = to_store.iter().map(|e| &e.id.0[..]).collect();
        let council_ids: Vec<CouncilId> = to_store.iter().map(|e| e.council()).collect();
        let council_column: Vec<&[u8]> = council_ids.iter().map(|c| &c.0[..]).collect();
        let authors: Vec<&[u8]> = to_store.iter().map(|e| &e.unsigned.author.0[..]).collect();
        let bytes: Vec<&[u8]> = to_store.iter().map(|e| &e.bytes[..]).collect();
        let insert = prepared(
            &mut tx,
            statements,
            "INSERT INTO events (id, council, depth, author, seq, kind, time_ms, bytes)
             SELECT id, council, depth, author, seq, kind, time_ms, bytes
             FROM unnest($1::bytea[], $2::bytea[], $3::int8[], $4::bytea[], $5::int8[],
                         $6::int8[], $7::int8[], $8::bytea[])
                  WITH ORDINALITY AS batch (id, council, depth, author, seq, kind, time_ms,
                                            bytes, n)
             ORDER BY n
             ON CONFLICT (id) DO NOTHING
             RETURNING id, arrival",
        )
        .map_err(&error)?;
        let rows = tx
            .query(
                &insert,
                &[
                    &ids,
                    &council_column,
                    &column(|e| int(e.unsigned.depth)),
                    &authors,
                    &column(|e| int(e.unsigned.seq)),
                    &column(|e| int(e.unsigned.kind)),
                    &column(|e| int(e.unsigned.time_ms)),
                    &bytes,
                ],
            )
            .map_err(&error)?;
        let mut new: HashMap<EventId, i64> = HashMap::new();
        for row in &rows {
            new.insert(EventId(id32(&location, row, 0)?), row.get(1));
        }
        let inserted: Vec<&Event> = to_store
            .iter()
            .copied()
            .filter(|event| new.contains_key(&event.id))
            .collect();
        report.duplicates += to_store.len() - inserted.len();
        arrivals.extend(new);

        // Parents given in the batch but already stored: their arrivals are not known yet.
        let mut unknown: Vec<&[u8]> = inserted
            .iter()
            .flat_map(|event| &event.unsigned.parents)
            .filter(|parent| !arrivals.contains_key(*parent))
            .map(|parent| &parent.0[..])
            .collect();
        if !unknown.is_empty() {
            unknown.sort();
            unknown.dedup();
            let find = prepared(
                &mut tx,
                statements,
                "SELECT id, arrival FROM events WHERE id = ANY($1)",
            )
            .map_err(&error)?;
            for row in tx.query(&find, &[&unknown]).map_err(&error)? {
                arrivals.insert(EventId(id32(&location, &row, 0)?), row.get(1));
            }
        }
        let (mut parents, mut children) = (Vec::new(), Vec::new());
        for event in &inserted {
            for parent in &event.unsigned.parents {
                let parent = arrivals.get(parent).ok_or_else(|| {
                    StoreError::Postgres(format!(
                        "database {location}: the parent {parent} of a new event vanished"
                    ))
                })?;
                parents.push(*parent);
                children.push(arrivals[&event.id]);
            }
        }
        let link = prepared(
            &mut tx,
            statements,
            "INSERT INTO event_parents (parent, child)
             SELECT * FROM unnest($1::int8[], $2::int8[])",
        )
        .map_err(&error)?;
        tx.execute(&link, &[&parents, &children]).map_err(&error)?;

        let changes = append::head_changes(&inserted);
        let pairs = |pairs: &[(CouncilId, EventId)]| -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
            pairs
                .iter()
                .map(|(council, id)| (council.0.to_vec(), id.0.to_vec()))
                .unzip()
        };
        let (councils_removed, removed) = pairs(&changes.removed);
        let remove = prepared(
            &mut tx,
            statements,
            "DELETE FROM heads USING unnest($1::bytea[], $2::bytea[]) AS gone (council, id)
             WHERE heads.council = gone.council AND heads.id = gone.id",
        )
        .map_err(&error)?;
        tx.execute(&remove, &[&councils_removed, &removed])
            .map_err(&error)?;
        let (councils_added, added) = pairs(&changes.added);
        let add = prepared(
            &mut tx,
            statements,
            "INSERT INTO heads (council, id) SELECT * FROM unnest($1::bytea[], $2::bytea[])
             ON CONFLICT (council, id) DO NOTHING",
        )
        .map_err(&error)?;
        tx.execute(&add, &[&councils_added, &added])
            .map_err(&error)?;

        if !inserted.is_empty() {
            // Delivered to the listeners when, and only if, the transaction commits.
            tx.batch_execute(&format!("NOTIFY {CHANNEL}"))
                .map_err(&error)?;
        }
        tx.commit().map_err(&error)?;
        report.inserted = inserted.iter().map(|event| event.id).collect();
        Ok(report)
    }

    fn has(&self, id: EventId) -> Result<bool, StoreError> {
        let rows = self.query(
            "SELECT EXISTS (SELECT 1 FROM events WHERE id = $1)",
            &[&&id.0[..]],
        )?;
        Ok(rows[0].get(0))
    }

    fn event_bytes(&self, id: EventId) -> Result<Option<Vec<u8>>, StoreError> {
        let rows = self.query("SELECT bytes FROM events WHERE id = $1", &[&&id.0[..]])?;
        Ok(rows.first().map(|row| row.get(0)))
    }

    /// Reads the log a page at a time, in one read-only snapshot, so that an event committed
    /// meanwhile by another process can neither appear behind the pages already read nor
    /// bring a child without its parent. The connection is free between pages, so `f` may
    /// read bodies in the same snapshot.
    fn for_each_event_bytes(
        &self,
        council: CouncilId,
        f: &mut dyn FnMut(EventId, Vec<u8>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let error = pg_error(&self.location);
        self.conn()
            .client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .map_err(&error)?;
        let read = (|| {
            let mut rows = self.query(
                "SELECT id, bytes, depth FROM events WHERE council = $1
                 ORDER BY depth, id LIMIT $2",
                &[&&council.0[..], &PAGE],
            )?;
            loop {
                let full = rows.len() as i64 == PAGE;
                let mut last = None;
                for row in rows {
                    let id = EventId(id32(&self.location, &row, 0)?);
                    last = Some((row.get::<_, i64>(2), id));
                    f(id, row.get(1))?;
                }
                let Some((depth, id)) = last.filter(|_| full) else {
                    return Ok(());
                };
                rows = self.query(
                    "SELECT id, bytes, depth FROM events
                     WHERE council = $1 AND (depth, id) > ($2, $3)
                     ORDER BY depth, id LIMIT $4",
                    &[&&council.0[..], &depth, &&id.0[..], &PAGE],
                )?;
            }
        })();
        let end = if read.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self.conn().client.batch_execute(end).map_err(&error);
        read.and(ended)
    }

    fn ids(&self, council: CouncilId) -> Result<Vec<EventId>, StoreError> {
        let rows = self.query(
            "SELECT id FROM events WHERE council = $1 ORDER BY depth, id",
            &[&&council.0[..]],
        )?;
        self.ids_from(&rows)
    }

    fn events_with_prefix(
        &self,
        council: CouncilId,
        prefix: &[u8],
    ) -> Result<Vec<(EventId, Vec<u8>)>, StoreError> {
        let (low, high) = (prefix_bound(prefix, 0x00), prefix_bound(prefix, 0xff));
        let rows = self.query(
            "SELECT id, bytes FROM events WHERE id >= $1 AND id <= $2 AND council = $3",
            &[&low, &high, &&council.0[..]],
        )?;
        rows.iter()
            .map(|row| Ok((EventId(id32(&self.location, row, 0)?), row.get(1))))
            .collect()
    }

    fn data_version(&self) -> Result<u64, StoreError> {
        Ok(self.watcher.version())
    }

    fn heads(&self, council: CouncilId) -> Result<Vec<EventId>, StoreError> {
        let rows = self.query(
            "SELECT id FROM heads WHERE council = $1 ORDER BY id",
            &[&&council.0[..]],
        )?;
        self.ids_from(&rows)
    }

    fn councils(&self) -> Result<Vec<CouncilId>, StoreError> {
        let rows = self.query(
            "SELECT council FROM events WHERE depth = 0 ORDER BY council",
            &[],
        )?;
        rows.iter()
            .map(|row| id32(&self.location, row, 0).map(CouncilId))
            .collect()
    }

    fn event_count(&self, council: CouncilId) -> Result<u64, StoreError> {
        let rows = self.query(
            "SELECT count(*) FROM events WHERE council = $1",
            &[&&council.0[..]],
        )?;
        Ok(uint(rows[0].get(0)))
    }

    fn last_seq(&self, council: CouncilId, author: PublicKey) -> Result<u64, StoreError> {
        // A seq of 2^63 or more is stored as a negative BIGINT, so the largest seq is the
        // largest negative one if there is any, else the largest of all.
        let rows = self.query(
            "SELECT coalesce(
                (SELECT max(seq) FROM events WHERE council = $1 AND author = $2 AND seq < 0),
                (SELECT max(seq) FROM events WHERE council = $1 AND author = $2),
                0)",
            &[&&council.0[..], &&author.0[..]],
        )?;
        Ok(uint(rows[0].get(0)))
    }

    fn put_body(&mut self, hash: [u8; 32], bytes: &[u8]) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO bodies (hash, bytes) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING",
            &[&&hash[..], &bytes],
        )
        .map(drop)
    }

    fn body_bytes(&self, hash: [u8; 32]) -> Result<Option<Vec<u8>>, StoreError> {
        let rows = self.query("SELECT bytes FROM bodies WHERE hash = $1", &[&&hash[..]])?;
        Ok(rows.first().map(|row| row.get(0)))
    }

    fn put_projection(
        &mut self,
        council: CouncilId,
        name: &str,
        json: &str,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO projections (council, name, json) VALUES ($1, $2, $3)
             ON CONFLICT (council, name) DO UPDATE SET json = excluded.json",
            &[&&council.0[..], &name, &json],
        )
        .map(drop)
    }

    fn projection(&self, council: CouncilId, name: &str) -> Result<Option<String>, StoreError> {
        let rows = self.query(
            "SELECT json FROM projections WHERE council = $1 AND name = $2",
            &[&&council.0[..], &name],
        )?;
        Ok(rows.first().map(|row| row.get(0)))
    }

    fn forget_projections(&mut self, council: CouncilId) -> Result<(), StoreError> {
        self.execute(
            "DELETE FROM projections WHERE council = $1",
            &[&&council.0[..]],
        )
        .map(drop)
    }

    fn clear_projections(&mut self) -> Result<(), StoreError> {
        self.in_transaction("DELETE FROM heads; DELETE FROM projections;")
    }

    fn rebuild(&mut self, projections: &[(CouncilId, &str, String)]) -> Result<(), StoreError> {
        let error = pg_error(&self.location);
        let mut tx = open(self.conn.get_mut())
            .client
            .transaction()
            .map_err(&error)?;
        tx.batch_execute(
            "LOCK TABLE heads IN EXCLUSIVE MODE;
             DELETE FROM heads;
             DELETE FROM projections;
             INSERT INTO heads (council, id)
                 SELECT council, id FROM events
                 WHERE NOT EXISTS (SELECT 1 FROM event_parents WHERE parent = events.arrival);",
        )
        .map_err(&error)?;
        let statement = tx
            .prepare("INSERT INTO projections (council, name, json) VALUES ($1, $2, $3)")
            .map_err(&error)?;
        for (council, name, json) in projections {
            tx.execute(&statement, &[&&council.0[..], name, json])
                .map_err(&error)?;
        }
        tx.commit().map_err(&error)
    }

    /// Recomputes the heads from the parent links. The table lock makes appends that are
    /// under way wait before they move the heads, and move them from the rebuilt ones.
    fn rebuild_heads(&mut self) -> Result<(), StoreError> {
        self.in_transaction(
            "LOCK TABLE heads IN EXCLUSIVE MODE;
             DELETE FROM heads;
             INSERT INTO heads (council, id)
                 SELECT council, id FROM events
                 WHERE NOT EXISTS (SELECT 1 FROM event_parents WHERE parent = events.arrival);",
        )
    }
}

/// The connection of a store that is not being dropped.
fn open(conn: &mut Option<Conn>) -> &mut Conn {
    conn.as_mut().expect("open until dropped")
}

/// A statement prepared once per connection.
fn prepared(
    client: &mut impl GenericClient,
    statements: &mut HashMap<&'static str, Statement>,
    sql: &'static str,
) -> Result<Statement, postgres::Error> {
    if let Some(statement) = statements.get(sql) {
        return Ok(statement.clone());
    }
    let statement = client.prepare(sql)?;
    statements.insert(sql, statement.clone());
    Ok(statement)
}

/// A 32-byte column: anything else was not written by this code.
fn id32(location: &str, row: &Row, column: usize) -> Result<[u8; 32], StoreError> {
    let bytes: &[u8] = row.try_get(column).map_err(|error| StoreError::Corrupt {
        what: format!("the database {location}"),
        detail: error.to_string(),
    })?;
    bytes.try_into().map_err(|_| StoreError::Corrupt {
        what: format!("the database {location}"),
        detail: format!("a 32-byte column holds {} bytes", bytes.len()),
    })
}

/// The database a configuration names, as a URL without its password.
fn describe(config: &Config) -> String {
    let user = config
        .get_user()
        .map(|user| format!("{user}@"))
        .unwrap_or_default();
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config
        .get_ports()
        .first()
        .map(|port| format!(":{port}"))
        .unwrap_or_default();
    let dbname = config.get_dbname().unwrap_or_default();
    format!("postgres://{user}{host}{port}/{dbname}")
}

/// Turns a driver error into a [`StoreError`] that names the database.
fn pg_error(location: &str) -> impl Fn(postgres::Error) -> StoreError + '_ {
    move |error| {
        let detail = match error.as_db_error() {
            Some(db) => format!("{}: {}", db.severity(), db.message()),
            None => {
                // The driver's own message is a kind ("error connecting to server"); the
                // reason is in its sources.
                let mut detail = error.to_string();
                let mut source = std::error::Error::source(&error);
                while let Some(cause) = source {
                    detail = format!("{detail}: {cause}");
                    source = cause.source();
                }
                detail
            }
        };
        StoreError::Postgres(format!("database {location}: {detail}"))
    }
}

/// Counts other connections' appends, as they announce them, on a connection of its own and
/// a thread it owns (stopped and joined when the store is dropped). Reading the count asks
/// nothing of the server, so it may be called anywhere, even on an async runtime's thread.
struct Watcher {
    /// Other connections' appends seen, plus one for every moment the watcher was not
    /// listening (when it may have missed some).
    version: Arc<AtomicU64>,
    listening: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Listens on [`CHANNEL`], ignoring the notifications of the connection `own_pid`.
    fn start(config: Config, own_pid: i32, location: &str) -> Result<Watcher, StoreError> {
        let error = pg_error(location);
        let mut client = config.connect(NoTls).map_err(&error)?;
        client
            .batch_execute(&format!("LISTEN {CHANNEL}"))
            .map_err(&error)?;
        let version = Arc::new(AtomicU64::new(0));
        let listening = Arc::new(AtomicBool::new(true));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::Builder::new()
            .name("commune-store-watcher".into())
            .spawn({
                let (version, listening, stop) = (version.clone(), listening.clone(), stop.clone());
                let location = location.to_owned();
                move || {
                    watch(
                        client, config, own_pid, &location, &version, &listening, &stop,
                    )
                }
            })
            .map_err(|error| {
                StoreError::Postgres(format!(
                    "cannot start a thread to watch {location}: {error}"
                ))
            })?;
        Ok(Watcher {
            version,
            listening,
            stop,
            thread: Some(thread),
        })
    }

    fn version(&self) -> u64 {
        if self.listening.load(Ordering::Acquire) {
            self.version.load(Ordering::Acquire)
        } else {
            // Deaf: anything may have changed since the last look.
            self.version.fetch_add(1, Ordering::AcqRel) + 1
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The watcher's loop: counts notifications, and connects again (counting one change) when
/// its connection is lost.
fn watch(
    mut client: Client,
    config: Config,
    own_pid: i32,
    location: &str,
    version: &AtomicU64,
    listening: &AtomicBool,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Acquire) {
        let mut notifications = client.notifications();
        let mut iter = notifications.timeout_iter(WATCH_POLL);
        loop {
            match postgres::fallible_iterator::FallibleIterator::next(&mut iter) {
                Ok(Some(notification)) if notification.process_id() != own_pid => {
                    version.fetch_add(1, Ordering::AcqRel);
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(error) => {
                    warn!(%location, %error, "lost the connection that watches for other processes' appends");
                    break;
                }
            }
        }
        drop(iter);
        drop(notifications);
        if !client.is_closed() {
            continue;
        }
        listening.store(false, Ordering::Release);
        while !stop.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_secs(1));
            let again = config.connect(NoTls).and_then(|mut client| {
                client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
                Ok(client)
            });
            if let Ok(again) = again {
                client = again;
                version.fetch_add(1, Ordering::AcqRel);
                listening.store(true, Ordering::Release);
                debug!(%location, "listening again for other processes' appends");
                break;
            }
        }
    }
}
