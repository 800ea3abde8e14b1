-- Who may add new operations of an origin in a school: the first sender
-- (a box id, or 'gateway'). Origins stored before this table get their owner
-- from the next sender of a new operation.
CREATE TABLE hub_origin_owners (
  school_id TEXT NOT NULL REFERENCES hub_schools(id),
  origin TEXT NOT NULL,
  owner TEXT NOT NULL,
  PRIMARY KEY (school_id, origin)
);
