-- 0004_sync_files: what this box knows of files' bytes in sync (docs/sync.md, "Files").
--
-- One row per blob (a file's SHA-256) that sync moves: the manifest that cuts
-- it into chunks (sync/chunks.h; it holds the chunk key and never leaves the
-- box unencrypted), and whether the gateway holds every chunk of it. A blob
-- this box made gets its manifest when it is first sent; a blob it lacks gets
-- the gateway's manifest from an answer, and its bytes are fetched into the
-- blob store. Local: never synced.
CREATE TABLE sync_files (
  blob_id  TEXT PRIMARY KEY,              -- SHA-256 hex, the blob store's name
  manifest BLOB NOT NULL,
  acked    INTEGER NOT NULL DEFAULT 0     -- 1: the gateway holds the whole file
) WITHOUT ROWID;
