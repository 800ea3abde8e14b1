CREATE TABLE hub_manifests (
  school_id TEXT NOT NULL REFERENCES hub_schools(id),
  blob_id TEXT NOT NULL,  -- SHA-256 hex of the whole file
  manifest BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (school_id, blob_id)
);
