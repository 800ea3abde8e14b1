CREATE TABLE hub_origin_owners (
  school_id text NOT NULL REFERENCES hub_schools(id),
  origin text NOT NULL,
  owner text NOT NULL,
  PRIMARY KEY (school_id, origin)
);
