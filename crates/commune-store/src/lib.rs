//! commune-store: the only part of commune that speaks SQL.
//!
//! Owns the event log on disk (every event's exact signed bytes, with the columns needed to
//! find them), detached bodies, and the projections: caches of the fold that can be emptied and
//! rebuilt from the log at any time. [`Store`] is the one way in; its API is the same whatever
//! database is underneath (SQLite now, PostgreSQL later), and no database type appears in it.
//!
//! Must not interpret events beyond what the log needs (council, parents, depth, time):
//! authorisation and everything else is the fold's job, in `commune-core`. Must not verify
//! signatures: the caller verifies a batch at once before appending. The API is synchronous;
//! the binary calls it from a blocking thread.

mod append;
mod error;
mod sqlite;

use std::path::Path;

use commune_core::{CouncilId, Event, EventId, PublicKey};

pub use append::AppendReport;
pub use error::StoreError;

/// The schema version this build reads and writes.
pub const SCHEMA_VERSION: u32 = sqlite::SCHEMA_VERSION;

/// A node's event log and projections.
#[derive(Debug)]
pub struct Store {
    db: sqlite::Db,
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
        sqlite::Db::open(path).map(|db| Store { db })
    }

    /// An empty store in memory, through the same code as [`Store::open`]: for tests.
    pub fn memory() -> Result<Store, StoreError> {
        sqlite::Db::memory().map(|db| Store { db })
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
        self.db.for_each_event_bytes(council, |id, bytes| {
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

    /// A number that changes whenever another process commits to the database, so that a
    /// long-running process knows its caches are stale.
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
