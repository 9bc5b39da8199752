-- Version 21: a walk-up sale at the counter names no one. A hold is placed before any details
-- are typed, and a cash customer may give none: the hold's email is NULL then, and so is the
-- email of the customer recorded for its booking (one row per walk-up; NULLs are never equal,
-- so two walk-ups are never the same person for the ticket limit). Both tables are rebuilt
-- because SQLite cannot drop a NOT NULL in place; ids, rows and indexes are kept.

CREATE TABLE customers_v21 (
    id     INTEGER PRIMARY KEY,
    email  TEXT UNIQUE,              -- normalised: trimmed, lower case; NULL for a walk-up
    name   TEXT,
    phone  TEXT
);
INSERT INTO customers_v21 (id, email, name, phone) SELECT id, email, name, phone FROM customers;
DROP TABLE customers;
ALTER TABLE customers_v21 RENAME TO customers;
CREATE INDEX customers_by_phone ON customers (phone) WHERE phone IS NOT NULL;

CREATE TABLE holds_v21 (
    id           TEXT PRIMARY KEY,
    concert_id   INTEGER NOT NULL REFERENCES concerts(id),
    email        TEXT,                -- NULL: a walk-up who gave none
    name         TEXT,
    phone        TEXT,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    state        TEXT NOT NULL CHECK (state = 'live' OR state = 'paying' OR state = 'paid'
                     OR state = 'released' OR state = 'expired' OR state = 'declined'),
    ended_at     INTEGER,
    kind         TEXT NOT NULL DEFAULT 'sale' CHECK (kind = 'sale' OR kind = 'offer' OR kind = 'pool'),
    gap_override INTEGER NOT NULL DEFAULT 0,
    seats        TEXT NOT NULL DEFAULT '[]'
) WITHOUT ROWID;
INSERT INTO holds_v21 (id, concert_id, email, name, phone, created_at, expires_at, state, ended_at, kind, gap_override, seats)
    SELECT id, concert_id, email, name, phone, created_at, expires_at, state, ended_at, kind, gap_override, seats
    FROM holds;
DROP TABLE holds;
ALTER TABLE holds_v21 RENAME TO holds;
CREATE INDEX holds_live ON holds (expires_at) WHERE state = 'live';
CREATE INDEX holds_by_email ON holds (email, concert_id) WHERE email IS NOT NULL;
CREATE INDEX holds_by_phone ON holds (phone, concert_id) WHERE phone IS NOT NULL;
