CREATE TABLE hub_schools (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  feed_head INTEGER NOT NULL DEFAULT 0  -- the last feed number given out
);
CREATE TABLE hub_boxes (
  id TEXT PRIMARY KEY,
  school_id TEXT NOT NULL REFERENCES hub_schools(id),
  sign_public_key BLOB NOT NULL,
  enc_public_key BLOB NOT NULL,
  enc_key_epoch INTEGER NOT NULL,
  certificate BLOB NOT NULL,
  enrolled_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX hub_boxes_school ON hub_boxes(school_id);
CREATE TABLE hub_enrolment_codes (
  code_id BLOB PRIMARY KEY,
  school_id TEXT NOT NULL REFERENCES hub_schools(id),
  sealed_key BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  box_id TEXT
);
CREATE TABLE hub_ops (
  school_id TEXT NOT NULL REFERENCES hub_schools(id),
  origin TEXT NOT NULL,
  seq INTEGER NOT NULL,
  hlc INTEGER NOT NULL,
  record BLOB NOT NULL,
  feed INTEGER NOT NULL,
  PRIMARY KEY (school_id, origin, seq),
  UNIQUE (school_id, feed)
);
CREATE TABLE hub_origins (
  school_id TEXT NOT NULL REFERENCES hub_schools(id),
  origin TEXT NOT NULL,
  contiguous_seq INTEGER NOT NULL,
  PRIMARY KEY (school_id, origin)
);
CREATE TABLE hub_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO hub_counters VALUES ('revocation_version', 0), ('certificate_serial', 0);
CREATE TABLE hub_revocations (
  version INTEGER PRIMARY KEY,
  box_id TEXT NOT NULL UNIQUE REFERENCES hub_boxes(id),
  revoked_at INTEGER NOT NULL
);
CREATE TABLE hub_chunks (
  id TEXT PRIMARY KEY,  -- also the file name under chunks/
  size INTEGER NOT NULL
);
CREATE TABLE hub_uploads (
  id TEXT PRIMARY KEY,
  school_id TEXT NOT NULL REFERENCES hub_schools(id),
  box_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  length INTEGER NOT NULL,
  received INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE hub_upload_parts (
  upload_id TEXT NOT NULL REFERENCES hub_uploads(id) ON DELETE CASCADE,
  start INTEGER NOT NULL,
  bytes BLOB NOT NULL,
  PRIMARY KEY (upload_id, start)
);
