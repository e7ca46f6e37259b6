-- Schema version 1: the event log, its parent links, detached bodies, and the projections.
--
-- The u64 fields of an event (depth, seq, kind, time_ms) are stored as the INTEGER with the
-- same 64 bits, so that any value a signed event carries round-trips exactly. Ids and hashes
-- are 32-byte BLOBs.

-- The truth: one row per event, with its exact signed bytes. Every other column is a copy of
-- a field of those bytes, kept for indexing.
CREATE TABLE events (
    -- The order in which this node stored its events: for sync bookkeeping, never for the fold.
    arrival INTEGER PRIMARY KEY,
    id      BLOB    NOT NULL UNIQUE,
    council BLOB    NOT NULL,
    depth   INTEGER NOT NULL,
    author  BLOB    NOT NULL,
    seq     INTEGER NOT NULL,
    kind    INTEGER NOT NULL,
    time_ms INTEGER NOT NULL,
    bytes   BLOB    NOT NULL
);
-- A council's log in fold order.
CREATE INDEX events_by_council ON events (council, depth, id);
-- An author's events in a council, by seq.
CREATE INDEX events_by_author ON events (council, author, seq);
-- Only a genesis event has depth 0: one row per council.
CREATE INDEX events_genesis ON events (council) WHERE depth = 0;

-- The parents each stored event names, by arrival, written with the event. Like an index, it
-- is part of the log's storage and is never cleared; it lets SQL find the heads. Arrivals,
-- not ids, because parents are mostly recent events: new rows land at the end of the tree
-- instead of at random places in it.
CREATE TABLE event_parents (
    parent INTEGER NOT NULL REFERENCES events (arrival),
    child  INTEGER NOT NULL REFERENCES events (arrival),
    PRIMARY KEY (parent, child)
) WITHOUT ROWID;

-- Detached bodies, by the BLAKE3 hash of their bytes. A body may be deleted (redacted) while
-- the events that name it stay.
CREATE TABLE bodies (
    hash  BLOB NOT NULL PRIMARY KEY,
    bytes BLOB NOT NULL
);

-- Projections: caches that can be emptied and rebuilt from the log at any time.

-- The events of each council that no stored event names as a parent.
CREATE TABLE heads (
    council BLOB NOT NULL,
    id      BLOB NOT NULL REFERENCES events (id),
    PRIMARY KEY (council, id)
) WITHOUT ROWID;

-- Named JSON documents per council, computed by the binary from the fold.
CREATE TABLE projections (
    council BLOB NOT NULL,
    name    TEXT NOT NULL,
    json    TEXT NOT NULL,
    PRIMARY KEY (council, name)
) WITHOUT ROWID;
