-- 0003_login_cards: printed login cards. Shipped migrations are never edited.
--
-- A card carries a random token (in its QR code) that logs one student in.
-- Only the token's SHA-256 is stored. A student has at most one live card per
-- class (each class's teacher may print their own): issuing again for the
-- class replaces the row; resetting the password or ending the account
-- deletes all of the student's cards, leaving the class deletes that class's.
-- Cards are credentials of this box, like sessions: they are not synchronised.
CREATE TABLE login_cards (
  token_hash BLOB PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users(id),
  class_id   TEXT NOT NULL REFERENCES classes(id),
  created_at TEXT NOT NULL,
  author_id  TEXT,
  UNIQUE (user_id, class_id)
) WITHOUT ROWID;
CREATE INDEX login_cards_by_class ON login_cards(class_id);
