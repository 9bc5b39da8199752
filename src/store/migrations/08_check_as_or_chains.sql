-- Version 8: a hold at the speed of the disk. A CHECK with a list of more than two values
-- (`state IN ('live', 'paying', …)`) makes SQLite build a temporary b-tree on every INSERT
-- (a tenth of a hold's time): the same rules as OR chains, on the tables written per hold
-- and per payment (SQLite cannot alter a CHECK: the tables are rebuilt, with foreign key
-- enforcement off, see `migrate`). The single-seat-gap check reads a few seats of a row from
-- the row index alone.

CREATE TABLE holds_v8 (
    id           TEXT PRIMARY KEY,
    concert_id   INTEGER NOT NULL REFERENCES concerts(id),
    customer_id  INTEGER NOT NULL REFERENCES customers(id),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    state        TEXT NOT NULL CHECK (state = 'live' OR state = 'paying' OR state = 'paid'
                     OR state = 'released' OR state = 'expired' OR state = 'declined'),
    ended_at     INTEGER,
    kind         TEXT NOT NULL DEFAULT 'sale' CHECK (kind = 'sale' OR kind = 'offer' OR kind = 'pool'),
    gap_override INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO holds_v8 (id, concert_id, customer_id, created_at, expires_at, state, ended_at, kind, gap_override)
    SELECT id, concert_id, customer_id, created_at, expires_at, state, ended_at, kind, gap_override FROM holds;
DROP TABLE holds;
ALTER TABLE holds_v8 RENAME TO holds;
CREATE INDEX holds_live ON holds (expires_at) WHERE state = 'live';
CREATE INDEX holds_by_customer ON holds (customer_id, concert_id);

CREATE TABLE payments_v8 (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('charge', 'refund')),
    idempotency_key TEXT NOT NULL UNIQUE,
    hold_id         TEXT REFERENCES holds(id),
    booking_id      INTEGER REFERENCES bookings(id),
    processor       TEXT NOT NULL,
    amount_cents    INTEGER NOT NULL CHECK (amount_cents >= 0),
    currency        TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state = 'pending' OR state = 'captured'
                        OR state = 'declined' OR state = 'failed'),
    reference       TEXT,
    detail          TEXT,            -- cash tendered / card brand and last four; never a card number
    tendered_cents  INTEGER,
    change_cents    INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
INSERT INTO payments_v8 SELECT id, kind, idempotency_key, hold_id, booking_id, processor,
    amount_cents, currency, state, reference, detail, tendered_cents, change_cents, created_at,
    updated_at FROM payments;
DROP TABLE payments;
ALTER TABLE payments_v8 RENAME TO payments;
CREATE INDEX payments_pending ON payments (state) WHERE state = 'pending';
CREATE INDEX payments_by_booking ON payments (booking_id);
CREATE INDEX payments_by_hold ON payments (hold_id);

CREATE TABLE outbox_v8 (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient       TEXT NOT NULL,
    customer_id     INTEGER REFERENCES customers(id),
    subject         TEXT NOT NULL DEFAULT '',
    body            TEXT NOT NULL,
    calendar        TEXT,
    booking_code    TEXT,
    created_at      INTEGER NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state = 'pending' OR state = 'delivered' OR state = 'failed'),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    delivered_at    INTEGER,
    file            TEXT
);
INSERT INTO outbox_v8 SELECT id, kind, channel, recipient, customer_id, subject, body, calendar,
    booking_code, created_at, state, attempts, next_attempt_at, last_error, delivered_at, file
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v8 RENAME TO outbox;
CREATE INDEX outbox_waiting ON outbox (next_attempt_at) WHERE state != 'delivered';
CREATE INDEX outbox_by_booking ON outbox (booking_code);

DROP INDEX seats_by_row;
CREATE INDEX seats_by_row ON seats (venue_id, grid_y, grid_x, category, label);
-- A trigger program per inserted claim cost more than the claim: whoever inserts claims
-- adds them to the count once per statement (`booking::count_new_claims`). Releasing and
-- deleting claims are still counted by the triggers.
DROP TRIGGER claims_claimed_insert;
