-- 0001_init: the school's data. Shipped migrations are never edited; add 0002_… instead.
--
-- Conventions: every synced row has a random UUID `id`, `created_at` and
-- `updated_at` (ISO 8601 UTC text, so text order is time order) and
-- `author_id` (the user who made the change, NULL for the system).
-- Deletions of synced rows are soft (`deleted_at`) so sync can carry tombstones.

CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  login         TEXT NOT NULL UNIQUE COLLATE NOCASE,
  display_name  TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('student', 'teacher', 'admin')),
  password_hash TEXT NOT NULL,
  disabled_at   TEXT,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL,
  author_id     TEXT
);

CREATE TABLE classes (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  author_id  TEXT
);

CREATE TABLE class_members (
  id         TEXT PRIMARY KEY,
  class_id   TEXT NOT NULL REFERENCES classes(id),
  user_id    TEXT NOT NULL REFERENCES users(id),
  role       TEXT NOT NULL CHECK (role IN ('student', 'teacher')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  author_id  TEXT,
  UNIQUE (class_id, user_id)
);
CREATE INDEX class_members_by_user ON class_members(user_id, class_id);

-- Opaque session tokens: only their SHA-256 is stored.
CREATE TABLE sessions (
  token_hash BLOB PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users(id),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions(user_id);

-- Uploaded files. The bytes live in the blob store under their SHA-256;
-- several rows may share one blob.
CREATE TABLE files (
  id           TEXT PRIMARY KEY,
  sha256       TEXT NOT NULL,
  size         INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  name         TEXT NOT NULL,
  owner_id     TEXT NOT NULL REFERENCES users(id),
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  author_id    TEXT
);
CREATE INDEX files_by_owner ON files(owner_id);

CREATE TABLE courses (
  id         TEXT PRIMARY KEY,
  class_id   TEXT NOT NULL REFERENCES classes(id),
  title      TEXT NOT NULL,
  deleted_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  author_id  TEXT
);
CREATE INDEX courses_by_class ON courses(class_id);

CREATE TABLE sections (
  id         TEXT PRIMARY KEY,
  course_id  TEXT NOT NULL REFERENCES courses(id),
  title      TEXT NOT NULL,
  position   INTEGER NOT NULL DEFAULT 0,
  deleted_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  author_id  TEXT
);
CREATE INDEX sections_by_course ON sections(course_id, position);

CREATE TABLE resources (
  id         TEXT PRIMARY KEY,
  section_id TEXT NOT NULL REFERENCES sections(id),
  kind       TEXT NOT NULL CHECK (kind IN ('file', 'link', 'text')),
  title      TEXT NOT NULL,
  file_id    TEXT REFERENCES files(id),
  url        TEXT,
  body       TEXT,
  position   INTEGER NOT NULL DEFAULT 0,
  deleted_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  author_id  TEXT,
  CHECK ((kind = 'file' AND file_id IS NOT NULL) OR (kind = 'link' AND url IS NOT NULL) OR
         (kind = 'text' AND body IS NOT NULL))
);
CREATE INDEX resources_by_section ON resources(section_id, position);

-- The cahier de textes: one row per homework entry.
CREATE TABLE homework (
  id           TEXT PRIMARY KEY,
  class_id     TEXT NOT NULL REFERENCES classes(id),
  subject      TEXT NOT NULL,
  title        TEXT NOT NULL,
  instructions TEXT NOT NULL DEFAULT '',
  given_at     TEXT NOT NULL,
  due_at       TEXT NOT NULL,
  published    INTEGER NOT NULL DEFAULT 0,
  deleted_at   TEXT,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  author_id    TEXT
);
CREATE INDEX homework_by_class_due ON homework(class_id, due_at);

CREATE TABLE homework_attachments (
  homework_id TEXT NOT NULL REFERENCES homework(id),
  file_id     TEXT NOT NULL REFERENCES files(id),
  position    INTEGER NOT NULL,
  PRIMARY KEY (homework_id, file_id)
) WITHOUT ROWID;
CREATE INDEX homework_attachments_by_file ON homework_attachments(file_id);

-- One submission per student per homework; each hand-in adds a version.
CREATE TABLE submissions (
  id              TEXT PRIMARY KEY,
  homework_id     TEXT NOT NULL REFERENCES homework(id),
  student_id      TEXT NOT NULL REFERENCES users(id),
  status          TEXT NOT NULL CHECK (status IN ('handed_in', 'returned')),
  current_version INTEGER NOT NULL,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  author_id       TEXT,
  UNIQUE (homework_id, student_id)
);
CREATE INDEX submissions_by_student ON submissions(student_id);

CREATE TABLE submission_versions (
  id            TEXT PRIMARY KEY,
  submission_id TEXT NOT NULL REFERENCES submissions(id),
  version       INTEGER NOT NULL,
  text          TEXT NOT NULL DEFAULT '',
  submitted_at  TEXT NOT NULL,
  late          INTEGER NOT NULL DEFAULT 0,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL,
  author_id     TEXT,
  UNIQUE (submission_id, version)
);

CREATE TABLE submission_files (
  version_id TEXT NOT NULL REFERENCES submission_versions(id),
  file_id    TEXT NOT NULL REFERENCES files(id),
  position   INTEGER NOT NULL,
  PRIMARY KEY (version_id, file_id)
) WITHOUT ROWID;
CREATE INDEX submission_files_by_file ON submission_files(file_id);

CREATE TABLE feedback (
  id            TEXT PRIMARY KEY,
  submission_id TEXT NOT NULL UNIQUE REFERENCES submissions(id),
  comment       TEXT NOT NULL DEFAULT '',
  grade         REAL CHECK (grade IS NULL OR (grade >= 0 AND grade <= 20)),
  returned_at   TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL,
  author_id     TEXT
);

CREATE TABLE feedback_files (
  feedback_id TEXT NOT NULL REFERENCES feedback(id),
  file_id     TEXT NOT NULL REFERENCES files(id),
  position    INTEGER NOT NULL,
  PRIMARY KEY (feedback_id, file_id)
) WITHOUT ROWID;
CREATE INDEX feedback_files_by_file ON feedback_files(file_id);

-- Who did what. Kept 12 months (older rows are purged at start-up and daily).
CREATE TABLE audit_log (
  seq         INTEGER PRIMARY KEY,
  at          TEXT NOT NULL,
  actor_id    TEXT,
  actor_login TEXT,
  action      TEXT NOT NULL,
  object_type TEXT,
  object_id   TEXT,
  detail      TEXT,
  address     TEXT
);
CREATE INDEX audit_log_by_time ON audit_log(at);

-- Box-wide settings (school name, setup state, …).
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
