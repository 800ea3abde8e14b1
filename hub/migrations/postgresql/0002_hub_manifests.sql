CREATE TABLE hub_manifests (
  school_id text NOT NULL REFERENCES hub_schools(id),
  blob_id text NOT NULL,
  manifest bytea NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (school_id, blob_id)
);
