//! The errors of the store, worded for the person who has to act on them.
//!
//! Owns [`StoreError`]. Must not expose the types of a database driver: the binary sees the
//! same errors whichever backend is underneath.

/// Why the store could not do what was asked.
///
/// Events that do not fit the log (a missing parent, a wrong depth) are not errors: they are
/// reported in [`AppendReport`](crate::AppendReport) and the rest of the batch goes in.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file, or one row in it, cannot be read back as it was written.
    #[error(
        "{what} is corrupt ({detail}); restore the database from a backup, or move the file \
         aside and re-sync your councils from a peer"
    )]
    Corrupt {
        /// The database file, or the event or body in it, that cannot be read.
        what: String,
        /// What the database or the decoder said.
        detail: String,
    },
    /// The database was written by a newer commune, whose schema this one does not know.
    #[error(
        "the database {path} has schema version {found}, but this commune understands only up \
         to version {supported}; upgrade commune to open it"
    )]
    NewerSchema {
        path: String,
        found: u32,
        supported: u32,
    },
    /// Any other failure of the database: a full disk, a locked file, a permission.
    #[error("{0}")]
    Sqlite(String),
    /// A failure of a PostgreSQL server or of the connection to it.
    #[error("{0}")]
    Postgres(String),
    /// A store named by a URL this build cannot open.
    #[error(
        "{0:?} names no store: use sqlite:PATH for a SQLite file, or \
         postgres://USER:PASSWORD@HOST:PORT/DATABASE for a PostgreSQL database"
    )]
    Location(String),
}
