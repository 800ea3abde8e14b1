-- 0002_sync_journal: the change journal that sync reads and writes (docs/sync.md).
--
-- Every change to a synced table is captured, in the same transaction as the
-- change, as one operation: (origin, seq) names it everywhere; hlc orders it.
-- Operations received from peers are kept here too, so that a replica can
-- forward them (the gateway relays between boxes).

-- This replica: its origin id (a UUID made at first start), the last sequence
-- number it gave, and its hybrid logical clock (48-bit ms << 16 | counter).
CREATE TABLE sync_state (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  origin         TEXT NOT NULL,
  last_seq       INTEGER NOT NULL DEFAULT 0,
  hlc            INTEGER NOT NULL DEFAULT 0,
  gateway_origin TEXT  -- the ENT gateway's origin id: its edits of published material win
);

-- The operation log. `pk` is the JSON array of the row's primary-key values
-- (in key order); `cols` the JSON object of the columns it sets (empty for a
-- deletion). `base` is the newest hlc of an operation on the same row known
-- to the origin when it made this one (what it had seen).
CREATE TABLE sync_ops (
  origin TEXT NOT NULL,
  seq    INTEGER NOT NULL,
  hlc    INTEGER NOT NULL,
  base   INTEGER NOT NULL,
  tbl    TEXT NOT NULL,
  pk     TEXT NOT NULL,
  kind   INTEGER NOT NULL CHECK (kind IN (1, 2, 3)),  -- 1 insert, 2 update, 3 delete
  cols   TEXT NOT NULL,
  PRIMARY KEY (origin, seq)
) WITHOUT ROWID;
CREATE INDEX sync_ops_by_row ON sync_ops(tbl, pk, hlc);

-- The version vector: for each other origin, the highest seq such that every
-- operation 1..seq of that origin is in sync_ops (this replica's own is
-- sync_state.last_seq).
CREATE TABLE sync_cursors (
  origin TEXT PRIMARY KEY,
  seq    INTEGER NOT NULL
) WITHOUT ROWID;

-- Rows whose operations arrived before a row they refer to (or that lack a
-- required column): applied as soon as what they need arrives.
CREATE TABLE sync_pending (
  tbl TEXT NOT NULL,
  pk  TEXT NOT NULL,
  PRIMARY KEY (tbl, pk)
) WITHOUT ROWID;

-- Concurrent edits resolved by a rule. Local to each replica (every party
-- detects the same conflicts from the same operations). `id` derives from the
-- losing operation and the column, so a conflict is recorded once.
CREATE TABLE sync_conflicts (
  id            TEXT PRIMARY KEY,
  tbl           TEXT NOT NULL,
  pk            TEXT NOT NULL,
  col           TEXT NOT NULL,
  rule          TEXT NOT NULL,
  class_id      TEXT,
  winner_origin TEXT NOT NULL,
  winner_seq    INTEGER NOT NULL,
  winner_value  TEXT,
  loser_origin  TEXT NOT NULL,
  loser_seq     INTEGER NOT NULL,
  loser_value   TEXT,
  detected_at   TEXT NOT NULL,
  resolved_at   TEXT
) WITHOUT ROWID;
CREATE INDEX sync_conflicts_open ON sync_conflicts(resolved_at, detected_at);
