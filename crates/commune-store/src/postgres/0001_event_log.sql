-- Schema version 1 on PostgreSQL: the same tables as SQLite's version 1, in PostgreSQL's types.
--
-- The u64 fields of an event (depth, seq, kind, time_ms) are stored as the BIGINT with the
-- same 64 bits, so that any value a signed event carries round-trips exactly. Ids and hashes
-- are 32-byte BYTEAs, which compare byte by byte as SQLite's BLOBs do.

-- The truth: one row per event, with its exact signed bytes. Every other column is a copy of
-- a field of those bytes, kept for indexing.
CREATE TABLE events (
    -- The order in which this database stored its events: for sync bookkeeping, never for
    -- the fold.
    arrival BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id      BYTEA  NOT NULL UNIQUE,
    council BYTEA  NOT NULL,
    depth   BIGINT NOT NULL,
    author  BYTEA  NOT NULL,
    seq     BIGINT NOT NULL,
    kind    BIGINT NOT NULL,
    time_ms BIGINT NOT NULL,
    bytes   BYTEA  NOT NULL
);
-- A council's log in fold order.
CREATE INDEX events_by_council ON events (council, depth, id);
-- An author's events in a council, by seq.
CREATE INDEX events_by_author ON events (council, author, seq);
-- Only a genesis event has depth 0: one row per council.
CREATE INDEX events_genesis ON events (council) WHERE depth = 0;

-- The parents each stored event names, by arrival, written with the event; part of the log's
-- storage, never cleared, so that SQL can find the heads.
CREATE TABLE event_parents (
    parent BIGINT NOT NULL REFERENCES events (arrival),
    child  BIGINT NOT NULL REFERENCES events (arrival),
    PRIMARY KEY (parent, child)
);

-- Detached bodies, by the BLAKE3 hash of their bytes.
CREATE TABLE bodies (
    hash  BYTEA NOT NULL PRIMARY KEY,
    bytes BYTEA NOT NULL
);

-- Projections: caches that can be emptied and rebuilt from the log at any time.

-- The events of each council that no stored event names as a parent.
CREATE TABLE heads (
    council BYTEA NOT NULL,
    id      BYTEA NOT NULL REFERENCES events (id),
    PRIMARY KEY (council, id)
);

-- Named JSON documents per council, computed by the binary from the fold.
CREATE TABLE projections (
    council BYTEA NOT NULL,
    name    TEXT  NOT NULL,
    json    TEXT  NOT NULL,
    PRIMARY KEY (council, name)
);
