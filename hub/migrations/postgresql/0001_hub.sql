CREATE TABLE hub_schools (
  id text PRIMARY KEY,
  name text NOT NULL,
  created_at bigint NOT NULL,
  feed_head bigint NOT NULL DEFAULT 0  -- the last feed number given out
);
CREATE TABLE hub_boxes (
  id text PRIMARY KEY,
  school_id text NOT NULL REFERENCES hub_schools(id),
  sign_public_key bytea NOT NULL,
  enc_public_key bytea NOT NULL,
  enc_key_epoch bigint NOT NULL,
  certificate bytea NOT NULL,
  enrolled_at bigint NOT NULL,
  revoked_at bigint
);
CREATE INDEX hub_boxes_school ON hub_boxes(school_id);
CREATE TABLE hub_enrolment_codes (
  code_id bytea PRIMARY KEY,
  school_id text NOT NULL REFERENCES hub_schools(id),
  sealed_key bytea NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  used_at bigint,
  box_id text
);
CREATE TABLE hub_ops (
  school_id text NOT NULL REFERENCES hub_schools(id),
  origin text NOT NULL,
  seq bigint NOT NULL,
  hlc bigint NOT NULL,
  record bytea NOT NULL,
  feed bigint NOT NULL,
  PRIMARY KEY (school_id, origin, seq),
  UNIQUE (school_id, feed)
);
CREATE TABLE hub_origins (
  school_id text NOT NULL REFERENCES hub_schools(id),
  origin text NOT NULL,
  contiguous_seq bigint NOT NULL,
  PRIMARY KEY (school_id, origin)
);
CREATE TABLE hub_counters (name text PRIMARY KEY, value bigint NOT NULL);
INSERT INTO hub_counters VALUES ('revocation_version', 0), ('certificate_serial', 0);
CREATE TABLE hub_revocations (
  version bigint PRIMARY KEY,
  box_id text NOT NULL UNIQUE REFERENCES hub_boxes(id),
  revoked_at bigint NOT NULL
);
CREATE TABLE hub_chunks (
  id text PRIMARY KEY,
  size bigint NOT NULL,
  bytes bytea NOT NULL
);
ALTER TABLE hub_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL;  -- ciphertext: do not try to compress
CREATE TABLE hub_uploads (
  id text PRIMARY KEY,
  school_id text NOT NULL REFERENCES hub_schools(id),
  box_id text NOT NULL,
  kind text NOT NULL,
  length bigint NOT NULL,
  received bigint NOT NULL DEFAULT 0,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);
CREATE TABLE hub_upload_parts (
  upload_id text NOT NULL REFERENCES hub_uploads(id) ON DELETE CASCADE,
  start bigint NOT NULL,
  bytes bytea NOT NULL,
  PRIMARY KEY (upload_id, start)
);
