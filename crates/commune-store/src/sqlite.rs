//! The SQLite backend: the connection, its settings, the migrations and every SQL statement.
//!
//! Owns the schema (the scripts in `sqlite/`, applied in order, the version in
//! `PRAGMA user_version`) and the translation of SQLite's errors into [`StoreError`]. Must not
//! decide what may enter the log (that is [`append::plan`]), must not decode events (that is
//! [`Store`](crate::Store)), and must not let a rusqlite type out of the crate.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use commune_core::{CouncilId, Event, EventId, PublicKey};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};
use tracing::{debug, warn};

use crate::append::{self, AppendReport, ParentFacts, Verdict};
use crate::{Backend, StoreError, int, prefix_bound, uint};

/// The schema, one script per version: script `i` takes the database from version `i` to
/// `i + 1`. Scripts are never edited once released; a change is a new script.
const MIGRATIONS: &[&str] = &[include_str!("sqlite/0001_event_log.sql")];

/// The schema version this code writes and reads.
pub(crate) const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// The tables that hold caches of the fold, emptied by `clear_projections`.
const PROJECTION_TABLES: &[&str] = &["heads", "projections"];

/// How long to wait for another connection's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The page cache, in KiB: enough to keep the id index of a million events warm.
const CACHE_KIB: i64 = 64 * 1024;

/// How many pages the WAL may grow to before its pages are copied into the database. The
/// default (1,000) copies the same index pages again after nearly every large batch; at
/// 16,384 (64 MiB) the ingest of a million events runs about a third faster.
const WAL_AUTOCHECKPOINT_PAGES: i64 = 16_384;

/// How a SQLite database is named in messages when it has no file.
const MEMORY: &str = ":memory:";

/// An open SQLite database with the current schema.
#[derive(Debug)]
pub(crate) struct Db {
    conn: Connection,
    /// The file's path, or [`MEMORY`], for messages.
    location: String,
}

impl Db {
    /// Opens the database to read and write; if that fails for a file that exists (a
    /// read-only directory or file system: SQLite cannot make its WAL files beside it), opens
    /// it read-only instead, so that commands that only read still work. Writes then fail
    /// with SQLite's "attempt to write a readonly database".
    pub(crate) fn open(path: &Path) -> Result<Db, StoreError> {
        match Db::open_writable(path) {
            Ok(db) => Ok(db),
            Err(error) if path.is_file() => Db::open_read_only(path).map_err(|_| error),
            Err(error) => Err(error),
        }
    }

    /// Opens an existing file read-only and immutable (no WAL files are made or read: the
    /// file is taken as it is on disk), after checking that its schema is current.
    fn open_read_only(path: &Path) -> Result<Db, StoreError> {
        let location = path.display().to_string();
        let absolute = std::path::absolute(path).map_err(|error| {
            StoreError::Sqlite(format!("cannot open the database {location}: {error}"))
        })?;
        let mut uri = String::from("file:");
        for byte in absolute.to_string_lossy().bytes() {
            match byte {
                b'?' | b'#' | b'%' => uri.push_str(&format!("%{byte:02X}")),
                _ => uri.push(char::from(byte)),
            }
        }
        uri.push_str("?mode=ro&immutable=1");
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&uri, flags).map_err(|error| {
            StoreError::Sqlite(format!("cannot open the database {location}: {error}"))
        })?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(sql_error(&location))?;
        let found: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(sql_error(&location))?;
        if found != i64::from(SCHEMA_VERSION) {
            return Err(StoreError::Sqlite(format!(
                "the database {location} has schema version {found} and cannot be written to \
                 bring it to {SCHEMA_VERSION}: open it once where it can be written"
            )));
        }
        debug!(%location, "opened the database read-only");
        Ok(Db { conn, location })
    }

    fn open_writable(path: &Path) -> Result<Db, StoreError> {
        let location = path.display().to_string();
        debug!(%location, "opening the database");
        // No SQLITE_OPEN_URI: a path is a path, even one that starts with "file:".
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|error| {
            StoreError::Sqlite(format!("cannot open the database {location}: {error}"))
        })?;
        Db::set_up(conn, location)
    }

    pub(crate) fn memory() -> Result<Db, StoreError> {
        let conn = Connection::open_in_memory().map_err(sql_error(MEMORY))?;
        Db::set_up(conn, MEMORY.to_owned())
    }

    fn set_up(conn: Connection, location: String) -> Result<Db, StoreError> {
        configure(&conn, &location).map_err(sql_error(&location))?;
        let mut db = Db { conn, location };
        db.migrate()?;
        Ok(db)
    }

    /// Brings the schema to [`SCHEMA_VERSION`], one script per transaction. The version is
    /// read again inside each write transaction, so two processes opening the same new file
    /// do not both apply a script.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let Db { conn, location } = self;
        let error = sql_error(location);
        loop {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(&error)?;
            let found: i64 = tx
                .pragma_query_value(None, "user_version", |row| row.get(0))
                .map_err(&error)?;
            let found = u32::try_from(found).map_err(|_| StoreError::Corrupt {
                what: format!("the database {location}"),
                detail: format!("its schema version {found} is negative"),
            })?;
            if found > SCHEMA_VERSION {
                return Err(StoreError::NewerSchema {
                    path: location.clone(),
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            if found == SCHEMA_VERSION {
                debug!(%location, version = found, "the schema is current");
                return tx.commit().map_err(&error);
            }
            tx.execute_batch(MIGRATIONS[found as usize])
                .map_err(&error)?;
            tx.pragma_update(None, "user_version", found + 1)
                .map_err(&error)?;
            tx.commit().map_err(&error)?;
            debug!(%location, from = found, to = found + 1, "migrated the schema");
        }
    }
}

impl Backend for Db {
    fn location(&self) -> &str {
        &self.location
    }

    /// Inserts the events of a batch that fit the log, in one transaction.
    fn append(&mut self, events: &[Event]) -> Result<AppendReport, StoreError> {
        let Db { conn, location } = self;
        let error = sql_error(location);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&error)?;
        // The arrival of every parent this batch has seen, so that links need no lookup.
        let mut arrivals: HashMap<EventId, i64> = HashMap::new();
        let verdicts = append::plan(events, |id| {
            let found = stored_parent(&tx, id).map_err(&error)?;
            Ok(found.map(|(arrival, facts)| {
                arrivals.insert(id, arrival);
                facts
            }))
        })?;
        let mut report = AppendReport::default();
        let mut inserted: Vec<&Event> = Vec::new();
        for (event, verdict) in verdicts {
            match verdict {
                Verdict::Store => {
                    if insert_event(&tx, event, &mut arrivals).map_err(&error)? {
                        inserted.push(event);
                    } else {
                        report.duplicates += 1;
                    }
                }
                Verdict::MissingParents => report.missing_parents.push(event.id),
                Verdict::Invalid(reason) => report.invalid.push((event.id, reason)),
            }
        }
        advance_heads(&tx, &inserted).map_err(&error)?;
        tx.commit().map_err(&error)?;
        report.inserted = inserted.iter().map(|event| event.id).collect();
        Ok(report)
    }

    fn has(&self, id: EventId) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached("SELECT 1 FROM events WHERE id = ?1")
            .and_then(|mut statement| statement.exists(params![id.0]))
            .map_err(sql_error(&self.location))
    }

    fn event_bytes(&self, id: EventId) -> Result<Option<Vec<u8>>, StoreError> {
        self.conn
            .prepare_cached("SELECT bytes FROM events WHERE id = ?1")
            .and_then(|mut statement| {
                statement
                    .query_row(params![id.0], |row| row.get(0))
                    .optional()
            })
            .map_err(sql_error(&self.location))
    }

    /// Calls `f` with the id and bytes of each event of a council, in (depth, id) order, one
    /// row at a time.
    fn for_each_event_bytes(
        &self,
        council: CouncilId,
        f: &mut dyn FnMut(EventId, Vec<u8>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let error = sql_error(&self.location);
        let mut statement = self
            .conn
            .prepare_cached("SELECT id, bytes FROM events WHERE council = ?1 ORDER BY depth, id")
            .map_err(&error)?;
        let mut rows = statement.query(params![council.0]).map_err(&error)?;
        while let Some(row) = rows.next().map_err(&error)? {
            let id = EventId(row.get(0).map_err(&error)?);
            f(id, row.get(1).map_err(&error)?)?;
        }
        Ok(())
    }

    /// The ids of a council's events, in (depth, id) order: read from the index alone.
    fn ids(&self, council: CouncilId) -> Result<Vec<EventId>, StoreError> {
        let error = sql_error(&self.location);
        let mut statement = self
            .conn
            .prepare_cached("SELECT id FROM events WHERE council = ?1 ORDER BY depth, id")
            .map_err(&error)?;
        let ids = statement
            .query_map(params![council.0], |row| row.get(0).map(EventId))
            .and_then(|rows| rows.collect())
            .map_err(&error)?;
        Ok(ids)
    }

    /// The id and bytes of the council's events whose id starts with `prefix`.
    fn events_with_prefix(
        &self,
        council: CouncilId,
        prefix: &[u8],
    ) -> Result<Vec<(EventId, Vec<u8>)>, StoreError> {
        let error = sql_error(&self.location);
        let low = prefix_bound(prefix, 0x00);
        let high = prefix_bound(prefix, 0xff);
        let mut statement = self
            .conn
            // The council is checked here, not in SQL: with it in the query, the planner
            // may walk the council's whole index instead of the id range.
            .prepare_cached("SELECT id, council, bytes FROM events WHERE id >= ?1 AND id <= ?2")
            .map_err(&error)?;
        let found = statement
            .query_map(params![low, high], |row| {
                Ok((
                    EventId(row.get(0)?),
                    row.get::<_, [u8; 32]>(1)?,
                    row.get(2)?,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(&error)?
            .into_iter()
            .filter(|(_, c, _)| *c == council.0)
            .map(|(id, _, bytes)| (id, bytes))
            .collect();
        Ok(found)
    }

    /// A number that changes whenever another connection commits to the database.
    fn data_version(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("PRAGMA data_version", [], |row| row.get(0))
            .map(uint)
            .map_err(sql_error(&self.location))
    }

    fn heads(&self, council: CouncilId) -> Result<Vec<EventId>, StoreError> {
        let error = sql_error(&self.location);
        let mut statement = self
            .conn
            .prepare_cached("SELECT id FROM heads WHERE council = ?1 ORDER BY id")
            .map_err(&error)?;
        let heads = statement
            .query_map(params![council.0], |row| row.get(0).map(EventId))
            .and_then(|rows| rows.collect())
            .map_err(&error)?;
        Ok(heads)
    }

    /// A council's genesis is stored before any of its events, so the geneses list them all.
    fn councils(&self) -> Result<Vec<CouncilId>, StoreError> {
        let error = sql_error(&self.location);
        // Without statistics the planner would rather scan every event of every council.
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT council FROM events INDEXED BY events_genesis
                 WHERE depth = 0 ORDER BY council",
            )
            .map_err(&error)?;
        let councils = statement
            .query_map([], |row| row.get(0).map(CouncilId))
            .and_then(|rows| rows.collect())
            .map_err(&error)?;
        Ok(councils)
    }

    fn event_count(&self, council: CouncilId) -> Result<u64, StoreError> {
        self.conn
            .prepare_cached("SELECT count(*) FROM events WHERE council = ?1")
            .and_then(|mut statement| statement.query_row(params![council.0], |row| row.get(0)))
            .map(uint)
            .map_err(sql_error(&self.location))
    }

    fn last_seq(&self, council: CouncilId, author: PublicKey) -> Result<u64, StoreError> {
        // A seq of 2^63 or more is stored as a negative INTEGER, so the largest seq is the
        // largest negative one if there is any, else the largest of all.
        self.conn
            .prepare_cached(
                "SELECT coalesce(
                    (SELECT max(seq) FROM events WHERE council = ?1 AND author = ?2 AND seq < 0),
                    (SELECT max(seq) FROM events WHERE council = ?1 AND author = ?2),
                    0)",
            )
            .and_then(|mut statement| {
                statement.query_row(params![council.0, author.0], |row| row.get(0))
            })
            .map(uint)
            .map_err(sql_error(&self.location))
    }

    fn put_body(&mut self, hash: [u8; 32], bytes: &[u8]) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO bodies (hash, bytes) VALUES (?1, ?2) ON CONFLICT (hash) DO NOTHING",
            )
            .and_then(|mut statement| statement.execute(params![hash, bytes]))
            .map(drop)
            .map_err(sql_error(&self.location))
    }

    fn body_bytes(&self, hash: [u8; 32]) -> Result<Option<Vec<u8>>, StoreError> {
        self.conn
            .prepare_cached("SELECT bytes FROM bodies WHERE hash = ?1")
            .and_then(|mut statement| {
                statement
                    .query_row(params![hash], |row| row.get(0))
                    .optional()
            })
            .map_err(sql_error(&self.location))
    }

    fn put_projection(
        &mut self,
        council: CouncilId,
        name: &str,
        json: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO projections (council, name, json) VALUES (?1, ?2, ?3)
                 ON CONFLICT (council, name) DO UPDATE SET json = excluded.json",
            )
            .and_then(|mut statement| statement.execute(params![council.0, name, json]))
            .map(drop)
            .map_err(sql_error(&self.location))
    }

    fn projection(&self, council: CouncilId, name: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .prepare_cached("SELECT json FROM projections WHERE council = ?1 AND name = ?2")
            .and_then(|mut statement| {
                statement
                    .query_row(params![council.0, name], |row| row.get(0))
                    .optional()
            })
            .map_err(sql_error(&self.location))
    }

    fn forget_projections(&mut self, council: CouncilId) -> Result<(), StoreError> {
        self.conn
            .execute(
                "DELETE FROM projections WHERE council = ?1",
                params![council.0],
            )
            .map(drop)
            .map_err(sql_error(&self.location))
    }

    fn clear_projections(&mut self) -> Result<(), StoreError> {
        let error = sql_error(&self.location);
        let tx = self.conn.transaction().map_err(&error)?;
        for table in PROJECTION_TABLES {
            tx.execute(&format!("DELETE FROM {table}"), [])
                .map_err(&error)?;
        }
        tx.commit().map_err(&error)
    }

    fn rebuild(&mut self, projections: &[(CouncilId, &str, String)]) -> Result<(), StoreError> {
        let error = sql_error(&self.location);
        let tx = self.conn.transaction().map_err(&error)?;
        for table in PROJECTION_TABLES {
            tx.execute(&format!("DELETE FROM {table}"), [])
                .map_err(&error)?;
        }
        tx.execute_batch(
            "INSERT INTO heads (council, id)
                 SELECT council, id FROM events
                 WHERE NOT EXISTS (SELECT 1 FROM event_parents WHERE parent = events.arrival);",
        )
        .map_err(&error)?;
        {
            let mut statement = tx
                .prepare_cached("INSERT INTO projections (council, name, json) VALUES (?1, ?2, ?3)")
                .map_err(&error)?;
            for (council, name, json) in projections {
                statement
                    .execute(params![council.0, name, json])
                    .map_err(&error)?;
            }
        }
        tx.commit().map_err(&error)
    }

    /// Recomputes the heads of every council from the log's parent links.
    fn rebuild_heads(&mut self) -> Result<(), StoreError> {
        let error = sql_error(&self.location);
        let tx = self.conn.transaction().map_err(&error)?;
        tx.execute_batch(
            "DELETE FROM heads;
             INSERT INTO heads (council, id)
                 SELECT council, id FROM events
                 WHERE NOT EXISTS (SELECT 1 FROM event_parents WHERE parent = events.arrival);",
        )
        .map_err(&error)?;
        tx.commit().map_err(&error)
    }
}

/// Connection settings, applied on every open.
fn configure(conn: &Connection, location: &str) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(32);
    // The first statement that reads the file: one that is not a database fails here.
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if mode != "wal" && location != MEMORY {
        warn!(%location, %mode, "the database could not switch to WAL mode");
    }
    // In WAL mode, NORMAL can lose the last commits on a power cut; FULL syncs the WAL on
    // every commit, so an event acknowledged to the user survives.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
    Ok(())
}

/// The arrival of a stored event, and the facts its children are checked against.
fn stored_parent(conn: &Connection, id: EventId) -> rusqlite::Result<Option<(i64, ParentFacts)>> {
    conn.prepare_cached("SELECT arrival, council, depth, time_ms FROM events WHERE id = ?1")?
        .query_row(params![id.0], |row| {
            let facts = ParentFacts {
                council: CouncilId(row.get(1)?),
                depth: uint(row.get(2)?),
                time_ms: uint(row.get(3)?),
            };
            Ok((row.get(0)?, facts))
        })
        .optional()
}

/// Inserts one event and its links to its parents, whose arrivals are in `arrivals` unless
/// they were given in the batch but already stored. Returns `false` if the event itself was
/// already stored.
fn insert_event(
    conn: &Connection,
    event: &Event,
    arrivals: &mut HashMap<EventId, i64>,
) -> rusqlite::Result<bool> {
    let unsigned = &event.unsigned;
    let changed = conn
        .prepare_cached(
            "INSERT INTO events (id, council, depth, author, seq, kind, time_ms, bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (id) DO NOTHING",
        )?
        .execute(params![
            event.id.0,
            event.council().0,
            int(unsigned.depth),
            unsigned.author.0,
            int(unsigned.seq),
            int(unsigned.kind),
            int(unsigned.time_ms),
            event.bytes,
        ])?;
    if changed == 0 {
        return Ok(false);
    }
    let arrival = conn.last_insert_rowid();
    arrivals.insert(event.id, arrival);
    let mut link =
        conn.prepare_cached("INSERT INTO event_parents (parent, child) VALUES (?1, ?2)")?;
    for parent in &unsigned.parents {
        let parent_arrival = match arrivals.get(parent) {
            Some(parent_arrival) => *parent_arrival,
            None => conn
                .prepare_cached("SELECT arrival FROM events WHERE id = ?1")?
                .query_row(params![parent.0], |row| row.get(0))?,
        };
        link.execute(params![parent_arrival, arrival])?;
    }
    Ok(true)
}

/// Moves the heads past a batch of newly stored events.
fn advance_heads(conn: &Connection, inserted: &[&Event]) -> rusqlite::Result<()> {
    let changes = append::head_changes(inserted);
    let mut remove = conn.prepare_cached("DELETE FROM heads WHERE council = ?1 AND id = ?2")?;
    for (council, parent) in &changes.removed {
        remove.execute(params![council.0, parent.0])?;
    }
    let mut add = conn.prepare_cached(
        "INSERT INTO heads (council, id) VALUES (?1, ?2) ON CONFLICT (council, id) DO NOTHING",
    )?;
    for (council, id) in &changes.added {
        add.execute(params![council.0, id.0])?;
    }
    Ok(())
}

/// Turns a SQLite error into a [`StoreError`] that names the database.
fn sql_error(location: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |error| {
        let corrupt = matches!(
            error.sqlite_error_code(),
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
        ) || matches!(
            // A value of the wrong type or size is not something this code ever wrote.
            error,
            rusqlite::Error::InvalidColumnType(..) | rusqlite::Error::FromSqlConversionFailure(..)
        );
        if corrupt {
            StoreError::Corrupt {
                what: format!("the database {location}"),
                detail: error.to_string(),
            }
        } else {
            StoreError::Sqlite(format!("database {location}: {error}"))
        }
    }
}
