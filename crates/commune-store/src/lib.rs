//! commune-store: the only part of commune that speaks SQL.
//!
//! Owns the event log on disk (every event's exact signed bytes, with the columns needed to
//! find them), detached bodies, and the projections: caches of the fold that can be emptied and
//! rebuilt from the log at any time. [`Store`] is the one way in; its API is the same whatever
//! database is underneath (an embedded SQLite file, or a PostgreSQL server that several nodes'
//! processes may share), and no database type appears in it.
//!
//! Must not interpret events beyond what the log needs (council, parents, depth, time):
//! authorisation and everything else is the fold's job, in `commune-core`. Must not verify
//! signatures: the caller verifies a batch at once before appending. The API is synchronous;
//! the binary calls it from a blocking thread.

mod append;
mod error;
mod postgres;
mod sqlite;

use std::path::Path;

use commune_core::{CouncilId, Event, EventId, PublicKey};

pub use append::AppendReport;
pub use error::StoreError;

/// The schema version this build reads and writes in a SQLite file.
pub const SCHEMA_VERSION: u32 = sqlite::SCHEMA_VERSION;

/// The schema version this build reads and writes in a PostgreSQL database.
pub const POSTGRES_SCHEMA_VERSION: u32 = postgres::SCHEMA_VERSION;

/// A node's event log and projections.
#[derive(Debug)]
pub struct Store {
    db: Box<dyn Backend>,
}

/// What a database must do for [`Store`]: the same contract on every backend, checked by one
/// test story (`tests/store.rs`). Rows go in and out as ids and bytes; [`Store`] decodes.
pub(crate) trait Backend: Send + std::fmt::Debug {
    /// The database, for messages: a file's path, or a server URL without its password.
    fn location(&self) -> &str;
    fn append(&mut self, events: &[Event]) -> Result<AppendReport, StoreError>;
    fn has(&self, id: EventId) -> Result<bool, StoreError>;
    fn event_bytes(&self, id: EventId) -> Result<Option<Vec<u8>>, StoreError>;
    /// Calls `f` with the id and bytes of each event of a council, in (depth, id) order,
    /// without holding the whole log in memory. `f` may read the store (bodies).
    fn for_each_event_bytes(
        &self,
        council: CouncilId,
        f: &mut dyn FnMut(EventId, Vec<u8>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    fn ids(&self, council: CouncilId) -> Result<Vec<EventId>, StoreError>;
    fn events_with_prefix(
        &self,
        council: CouncilId,
        prefix: &[u8],
    ) -> Result<Vec<(EventId, Vec<u8>)>, StoreError>;
    fn data_version(&self) -> Result<u64, StoreError>;
    fn heads(&self, council: CouncilId) -> Result<Vec<EventId>, StoreError>;
    fn councils(&self) -> Result<Vec<CouncilId>, StoreError>;
    fn event_count(&self, council: CouncilId) -> Result<u64, StoreError>;
    fn last_seq(&self, council: CouncilId, author: PublicKey) -> Result<u64, StoreError>;
    fn put_body(&mut self, hash: [u8; 32], bytes: &[u8]) -> Result<(), StoreError>;
    fn body_bytes(&self, hash: [u8; 32]) -> Result<Option<Vec<u8>>, StoreError>;
    fn put_projection(
        &mut self,
        council: CouncilId,
        name: &str,
        json: &str,
    ) -> Result<(), StoreError>;
    fn projection(&self, council: CouncilId, name: &str) -> Result<Option<String>, StoreError>;
    fn forget_projections(&mut self, council: CouncilId) -> Result<(), StoreError>;
    fn clear_projections(&mut self) -> Result<(), StoreError>;
    fn rebuild_heads(&mut self) -> Result<(), StoreError>;
    fn rebuild(&mut self, projections: &[(CouncilId, &str, String)]) -> Result<(), StoreError>;
}

impl Store {
    /// Opens the SQLite database at `path`, creating the file if it is missing and bringing its
    /// schema up to date.
    ///
    /// Commits are durable: every commit is synced to disk before it returns, so an event
    /// acknowledged to the user survives a crash or a power cut. A file that is not a database
    /// gives [`StoreError::Corrupt`]; one written by a newer commune gives
    /// [`StoreError::NewerSchema`].
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        sqlite::Db::open(path).map(Store::with)
    }

    /// An empty store in memory, through the same code as [`Store::open`]: for tests.
    pub fn memory() -> Result<Store, StoreError> {
        sqlite::Db::memory().map(Store::with)
    }

    /// Opens the store a URL names: `sqlite:PATH` for a SQLite file (as [`Store::open`]), or
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (also `postgresql://`, and
    /// libpq's other URL parameters) for a PostgreSQL database, whose schema is brought up
    /// to date as a file's is.
    ///
    /// Several processes may share one PostgreSQL database: appends are serialised per
    /// council, and [`Store::data_version`] tells each process of the others' new events.
    /// The connection is not encrypted: use a server on the same machine, its Unix socket
    /// (`postgres://USER@%2Frun%2Fpostgresql/DATABASE`), or a private network.
    pub fn connect(url: &str) -> Result<Store, StoreError> {
        if let Some(path) = url.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err(StoreError::Location(redact(url)));
            }
            return Store::open(Path::new(path));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return postgres::Db::connect(url).map(Store::with);
        }
        Err(StoreError::Location(redact(url)))
    }

    fn with(db: impl Backend + 'static) -> Store {
        Store { db: Box::new(db) }
    }

    /// The database, for messages: a file's path, or a server URL without its password.
    pub fn location(&self) -> &str {
        self.db.location()
    }

    /// Stores the events of a batch that fit the log, in one transaction, and moves the heads.
    ///
    /// The events may come in any order, and may be parents of one another. Each event is
    /// either inserted, skipped as a duplicate, held back because a parent is in neither the
    /// store nor the batch (or was itself held back), or refused because its depth, time or
    /// council does not fit its parents; see [`AppendReport`]. None of these fails the batch.
    ///
    /// Signatures are NOT verified here: the caller must have checked them (in a batch, with
    /// `commune_core::event::verify_events`). The events must be as [`Event::decode`] or
    /// `Unsigned::sign` made them, so that their fields match their bytes.
    pub fn append(&mut self, events: &[Event]) -> Result<AppendReport, StoreError> {
        debug_assert!(
            events
                .iter()
                .all(|event| EventId::of(&event.bytes) == event.id)
        );
        let report = self.db.append(events)?;
        tracing::trace!(
            inserted = report.inserted.len(),
            duplicates = report.duplicates,
            missing_parents = report.missing_parents.len(),
            invalid = report.invalid.len(),
            "appended a batch"
        );
        Ok(report)
    }

    /// Whether the event is stored.
    pub fn has(&self, id: EventId) -> Result<bool, StoreError> {
        self.db.has(id)
    }

    /// The stored event with this id.
    pub fn event(&self, id: EventId) -> Result<Option<Event>, StoreError> {
        match self.db.event_bytes(id)? {
            Some(bytes) => self.decode(id, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Every event of a council, in (depth, id) order: the order the fold wants.
    pub fn events_of(&self, council: CouncilId) -> Result<Vec<Event>, StoreError> {
        let mut events = Vec::new();
        self.for_each_event(council, |event| events.push(event))?;
        Ok(events)
    }

    /// Calls `f` with each event of a council in (depth, id) order, one at a time, so that a
    /// long log is never held in memory twice.
    pub fn for_each_event(
        &self,
        council: CouncilId,
        mut f: impl FnMut(Event),
    ) -> Result<(), StoreError> {
        self.db.for_each_event_bytes(council, &mut |id, bytes| {
            f(self.decode(id, &bytes)?);
            Ok(())
        })
    }

    /// The council's heads: its events that no stored event names as a parent, sorted.
    pub fn heads(&self, council: CouncilId) -> Result<Vec<EventId>, StoreError> {
        self.db.heads(council)
    }

    /// The ids of a council's events, in (depth, id) order.
    pub fn ids_of(&self, council: CouncilId) -> Result<Vec<EventId>, StoreError> {
        self.db.ids(council)
    }

    /// The council's events whose id starts with `prefix` (up to 32 bytes): how a sync peer
    /// names the events it wants in few bytes. Usually one event; a short prefix may match
    /// several.
    pub fn events_with_prefix(
        &self,
        council: CouncilId,
        prefix: &[u8],
    ) -> Result<Vec<Event>, StoreError> {
        self.db
            .events_with_prefix(council, prefix)?
            .into_iter()
            .map(|(id, bytes)| self.decode(id, &bytes))
            .collect()
    }

    /// A number that changes whenever another process commits to the database (on
    /// PostgreSQL: whenever another connection has appended events), so that a long-running
    /// process knows its caches are stale. It never changes for this store's own writes, and
    /// on PostgreSQL it is read without asking the server (a listening connection counts the
    /// others' commits), so it is cheap enough to call before every read.
    pub fn data_version(&self) -> Result<u64, StoreError> {
        self.db.data_version()
    }

    /// Every council with events in the store, sorted.
    pub fn councils(&self) -> Result<Vec<CouncilId>, StoreError> {
        self.db.councils()
    }

    /// How many events of the council are stored.
    pub fn event_count(&self, council: CouncilId) -> Result<u64, StoreError> {
        self.db.event_count(council)
    }

    /// The highest seq of the author's stored events in the council, or 0 if there are none.
    pub fn last_seq(&self, council: CouncilId, author: PublicKey) -> Result<u64, StoreError> {
        self.db.last_seq(council, author)
    }

    /// Stores a detached body under the BLAKE3 hash of its bytes, and returns the hash.
    /// Storing the same body twice is harmless.
    pub fn put_body(&mut self, bytes: &[u8]) -> Result<[u8; 32], StoreError> {
        let hash = *blake3::hash(bytes).as_bytes();
        self.db.put_body(hash, bytes)?;
        Ok(hash)
    }

    /// The detached body with this hash; [`StoreError::Corrupt`] if the stored bytes no longer
    /// hash to it.
    pub fn body(&self, hash: [u8; 32]) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(bytes) = self.db.body_bytes(hash)? else {
            return Ok(None);
        };
        let found = blake3::hash(&bytes);
        if found.as_bytes() != &hash {
            return Err(StoreError::Corrupt {
                what: format!(
                    "body {} in the database {}",
                    blake3::Hash::from_bytes(hash).to_hex(),
                    self.db.location()
                ),
                detail: format!("its bytes hash to {}", found.to_hex()),
            });
        }
        Ok(Some(bytes))
    }

    /// Saves a projection: a JSON document computed from the council's fold, under a name.
    /// It replaces any document of that name.
    pub fn put_projection(
        &mut self,
        council: CouncilId,
        name: &str,
        json: &str,
    ) -> Result<(), StoreError> {
        self.db.put_projection(council, name, json)
    }

    /// The projection saved under this name for the council.
    pub fn projection(&self, council: CouncilId, name: &str) -> Result<Option<String>, StoreError> {
        self.db.projection(council, name)
    }

    /// Drops the council's named projections (not its heads), for a writer that is about to
    /// change the log and will save them again after: a crash in between leaves no stale
    /// projection behind.
    pub fn forget_projections(&mut self, council: CouncilId) -> Result<(), StoreError> {
        self.db.forget_projections(council)
    }

    /// Empties every projection, heads included, leaving the log untouched. Call
    /// [`Store::rebuild_heads`] before appending again, since appending moves the heads from
    /// where they are.
    pub fn clear_projections(&mut self) -> Result<(), StoreError> {
        self.db.clear_projections()
    }

    /// Recomputes the heads of every council from the log.
    pub fn rebuild_heads(&mut self) -> Result<(), StoreError> {
        self.db.rebuild_heads()
    }

    /// In one transaction: empties every projection, recomputes the heads of every council
    /// from the log, and saves `projections` (council, name, JSON). A crash leaves either the
    /// old heads and projections or the new ones, never a council without heads.
    pub fn rebuild(&mut self, projections: &[(CouncilId, &str, String)]) -> Result<(), StoreError> {
        self.db.rebuild(projections)
    }

    /// Decodes a stored event, which must still be the event stored under `id`.
    fn decode(&self, id: EventId, bytes: &[u8]) -> Result<Event, StoreError> {
        let corrupt = |detail: String| StoreError::Corrupt {
            what: format!("event {id} in the database {}", self.db.location()),
            detail,
        };
        let event = Event::decode(bytes).map_err(|error| corrupt(error.to_string()))?;
        if event.id != id {
            return Err(corrupt(format!("its bytes hash to {}", event.id)));
        }
        Ok(event)
    }
}

/// A 32-byte id bound: `prefix` (at most 32 bytes of it) then `fill` bytes.
fn prefix_bound(prefix: &[u8], fill: u8) -> Vec<u8> {
    let mut bound = prefix[..prefix.len().min(32)].to_vec();
    bound.resize(32, fill);
    bound
}

/// The signed 64-bit column value with the same bits as a u64 field, so that every value
/// round-trips through databases that have no unsigned integers.
fn int(value: u64) -> i64 {
    value as i64
}

/// The u64 field stored by [`int`].
fn uint(value: i64) -> u64 {
    value as u64
}

/// A URL as it may be shown in a message or a log: without the password of its user part.
fn redact(url: &str) -> String {
    let Some(start) = url.find("://").map(|at| at + 3) else {
        return url.to_owned();
    };
    let rest = &url[start..];
    let Some(at) = rest.find('@') else {
        return url.to_owned();
    };
    match rest[..at].find(':') {
        Some(colon) => format!("{}{}:…{}", &url[..start], &rest[..colon], &rest[at..]),
        None => url.to_owned(),
    }
}
