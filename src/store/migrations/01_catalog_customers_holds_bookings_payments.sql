-- Version 1: catalog, customers, holds, bookings, payments.

CREATE TABLE venues (
    id        INTEGER PRIMARY KEY,
    slug      TEXT NOT NULL UNIQUE,
    name      TEXT NOT NULL,
    city      TEXT NOT NULL,
    timezone  TEXT NOT NULL,
    stage     TEXT NOT NULL DEFAULT 'STAGE',
    layout    TEXT NOT NULL,
    capacity  INTEGER NOT NULL
);
CREATE TABLE categories (
    venue_id  INTEGER NOT NULL REFERENCES venues(id),
    code      TEXT NOT NULL,
    name      TEXT NOT NULL,
    PRIMARY KEY (venue_id, code)
) WITHOUT ROWID;
CREATE TABLE seats (
    id        INTEGER PRIMARY KEY,
    venue_id  INTEGER NOT NULL REFERENCES venues(id),
    label     TEXT NOT NULL,
    section   TEXT NOT NULL,
    row_label TEXT NOT NULL,
    number    INTEGER NOT NULL,
    category  TEXT NOT NULL,
    grid_x    INTEGER NOT NULL,
    grid_y    INTEGER NOT NULL,
    UNIQUE (venue_id, label)
);
CREATE TABLE concerts (
    id           INTEGER PRIMARY KEY,
    external_id  TEXT UNIQUE,
    artist       TEXT NOT NULL,
    title        TEXT NOT NULL,
    venue_id     INTEGER NOT NULL REFERENCES venues(id),
    starts_at    INTEGER NOT NULL,   -- unix seconds, UTC
    utc_offset   INTEGER NOT NULL,   -- seconds east of UTC at the venue, at starts_at
    local_date   TEXT NOT NULL,      -- YYYY-MM-DD at the venue (date search)
    local_time   TEXT NOT NULL,      -- HH:MM at the venue (time-of-day search)
    on_sale_at   INTEGER NOT NULL,
    currency     TEXT NOT NULL DEFAULT 'EUR',
    ticket_limit INTEGER NOT NULL DEFAULT 6 CHECK (ticket_limit > 0),
    hold_minutes INTEGER NOT NULL DEFAULT 5 CHECK (hold_minutes > 0),
    status       TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled'))
);
CREATE INDEX concerts_by_start ON concerts (starts_at);
CREATE INDEX concerts_by_date ON concerts (local_date, starts_at);
CREATE TABLE prices (
    concert_id  INTEGER NOT NULL REFERENCES concerts(id),
    category    TEXT NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    PRIMARY KEY (concert_id, category)
) WITHOUT ROWID;
CREATE TABLE customers (
    id     INTEGER PRIMARY KEY,
    email  TEXT NOT NULL UNIQUE,     -- normalised: trimmed, lower case
    name   TEXT,
    phone  TEXT
);
CREATE TABLE holds (
    id          TEXT PRIMARY KEY,
    concert_id  INTEGER NOT NULL REFERENCES concerts(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('live', 'paying', 'paid', 'released', 'expired', 'declined')),
    ended_at    INTEGER
) WITHOUT ROWID;
CREATE INDEX holds_live ON holds (expires_at) WHERE state = 'live';
CREATE INDEX holds_by_customer ON holds (customer_id, concert_id);
CREATE TABLE bookings (
    id           INTEGER PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    concert_id   INTEGER NOT NULL REFERENCES concerts(id),
    customer_id  INTEGER NOT NULL REFERENCES customers(id),
    hold_id      TEXT UNIQUE REFERENCES holds(id),
    total_cents  INTEGER NOT NULL CHECK (total_cents >= 0),
    currency     TEXT NOT NULL,
    method       TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('confirmed', 'cancelled')),
    created_at   INTEGER NOT NULL,
    cancelled_at INTEGER
);
CREATE INDEX bookings_by_customer ON bookings (customer_id);
CREATE INDEX bookings_by_concert ON bookings (concert_id);
-- One row per seat per hold. An active row is the seat's current claim: a live hold,
-- a hold being paid (expires_at NULL: it cannot expire mid-charge) or a booking.
CREATE TABLE claims (
    id          INTEGER PRIMARY KEY,
    concert_id  INTEGER NOT NULL REFERENCES concerts(id),
    seat_id     INTEGER NOT NULL REFERENCES seats(id),
    hold_id     TEXT NOT NULL REFERENCES holds(id),
    booking_id  INTEGER REFERENCES bookings(id),
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    expires_at  INTEGER,
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);
-- Double booking is impossible in the schema: one active claim per seat per concert.
CREATE UNIQUE INDEX one_claim_per_seat ON claims (concert_id, seat_id) WHERE active = 1;
CREATE INDEX claims_by_hold ON claims (hold_id);
CREATE INDEX claims_by_booking ON claims (booking_id) WHERE booking_id IS NOT NULL;
-- Seat counts per concert read from this index alone.
CREATE INDEX claims_counts ON claims (concert_id, booking_id, expires_at) WHERE active = 1;
CREATE TABLE payments (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('charge', 'refund')),
    idempotency_key TEXT NOT NULL UNIQUE,
    hold_id         TEXT REFERENCES holds(id),
    booking_id      INTEGER REFERENCES bookings(id),
    processor       TEXT NOT NULL,
    amount_cents    INTEGER NOT NULL CHECK (amount_cents >= 0),
    currency        TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'captured', 'declined', 'failed')),
    reference       TEXT,
    detail          TEXT,            -- cash tendered / card brand and last four; never a card number
    tendered_cents  INTEGER,
    change_cents    INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX payments_pending ON payments (state) WHERE state = 'pending';
CREATE INDEX payments_by_booking ON payments (booking_id);
CREATE INDEX payments_by_hold ON payments (hold_id);
