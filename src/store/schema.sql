-- The schema of version 23, as `migrations/` leave it. Generated: BOXOFFICE_WRITE_SCHEMA=1 cargo test --lib schema

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
, clerk TEXT, terminal TEXT);

CREATE TABLE box_office (
    id TEXT NOT NULL    -- random, made once: part of every spool file's name
, demo INTEGER NOT NULL DEFAULT 1);

CREATE TABLE categories (
    venue_id  INTEGER NOT NULL REFERENCES venues(id),
    code      TEXT NOT NULL,
    name      TEXT NOT NULL,
    PRIMARY KEY (venue_id, code)
) WITHOUT ROWID;

CREATE TABLE "claims" (
    concert_id  INTEGER NOT NULL REFERENCES concerts(id),
    seat_id     INTEGER NOT NULL REFERENCES seats(id),
    hold_id     TEXT NOT NULL REFERENCES holds(id),
    booking_id  INTEGER REFERENCES bookings(id),
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    expires_at  INTEGER,
    reserved    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (concert_id, seat_id)
) WITHOUT ROWID;

CREATE VIRTUAL TABLE concert_search USING fts5(
    artist, title, venue, city, tokenize = 'trigram'
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
, offer_minutes INTEGER NOT NULL DEFAULT 120 CHECK (offer_minutes > 0), sequence INTEGER NOT NULL DEFAULT 0, cancel_reason TEXT, claimed INTEGER NOT NULL DEFAULT 0, booked INTEGER NOT NULL DEFAULT 0, reserved INTEGER NOT NULL DEFAULT 0, import_batch TEXT, doors_minutes INTEGER NOT NULL DEFAULT 120);

CREATE TABLE "customers" (
    id     INTEGER PRIMARY KEY,
    email  TEXT UNIQUE,              -- normalised: trimmed, lower case; NULL for a walk-up
    name   TEXT,
    phone  TEXT
, name_key TEXT);

CREATE TABLE door_undos (
    id            INTEGER PRIMARY KEY,
    ticket        TEXT NOT NULL REFERENCES tickets(code),
    door          TEXT,
    clerk         TEXT,
    terminal      TEXT,
    checked_in_at INTEGER NOT NULL,
    undone_at     INTEGER NOT NULL
);

CREATE TABLE "holds" (
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
, terminal TEXT, clerk TEXT) WITHOUT ROWID;

CREATE TABLE imports (
    id           TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    done         INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE "outbox" (
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
, via TEXT, lease_until INTEGER);

CREATE TABLE "payments" (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('charge', 'refund')),
    idempotency_key TEXT NOT NULL UNIQUE,
    hold_id         TEXT REFERENCES holds(id),
    booking_id      INTEGER REFERENCES bookings(id),
    processor       TEXT NOT NULL,
    amount_cents    INTEGER NOT NULL CHECK (amount_cents >= 0),
    currency        TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'captured', 'declined',
                        'failed', 'unanswered')),
    reference       TEXT,
    detail          TEXT,            -- cash tendered / card brand and last four; never a card number
    tendered_cents  INTEGER,
    change_cents    INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
, clerk TEXT, terminal TEXT);

CREATE TABLE prices (
    concert_id  INTEGER NOT NULL REFERENCES concerts(id),
    category    TEXT NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    PRIMARY KEY (concert_id, category)
) WITHOUT ROWID;

CREATE TABLE seat_rows (
    venue_id INTEGER NOT NULL REFERENCES venues(id),
    line     INTEGER NOT NULL,
    seats    TEXT NOT NULL,   -- JSON: [[id, column, category, label], ...]
    PRIMARY KEY (venue_id, line)
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

CREATE TABLE tickets (
    code          TEXT PRIMARY KEY,
    booking_id    INTEGER NOT NULL REFERENCES bookings(id),
    concert_id    INTEGER NOT NULL REFERENCES concerts(id),
    seat_id       INTEGER NOT NULL REFERENCES seats(id),
    state         TEXT NOT NULL DEFAULT 'valid'
                  CHECK (state = 'valid' OR state = 'checked_in' OR state = 'cancelled'),
    checked_in_at INTEGER,
    door          TEXT
) WITHOUT ROWID;

CREATE TABLE venues (
    id        INTEGER PRIMARY KEY,
    slug      TEXT NOT NULL UNIQUE,
    name      TEXT NOT NULL,
    city      TEXT NOT NULL,
    timezone  TEXT NOT NULL,
    stage     TEXT NOT NULL DEFAULT 'STAGE',
    layout    TEXT NOT NULL,
    capacity  INTEGER NOT NULL
, width INTEGER NOT NULL DEFAULT 0, country TEXT);

CREATE TABLE waitlist (
    id               INTEGER PRIMARY KEY,
    concert_id       INTEGER NOT NULL REFERENCES concerts(id),
    customer_id      INTEGER NOT NULL REFERENCES customers(id),
    party            INTEGER NOT NULL CHECK (party > 0),
    category         TEXT,
    joined_at        INTEGER NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('waiting', 'offered', 'booked', 'expired', 'left')),
    hold_id          TEXT REFERENCES holds(id),
    offer_expires_at INTEGER,
    updated_at       INTEGER NOT NULL
);

CREATE INDEX bookings_by_concert ON bookings (concert_id);

CREATE INDEX bookings_by_customer ON bookings (customer_id);

CREATE INDEX claims_by_booking ON claims (booking_id) WHERE booking_id IS NOT NULL;

CREATE INDEX claims_kept ON claims (hold_id) WHERE reserved = 1;

CREATE INDEX concerts_by_date ON concerts (local_date, starts_at);

CREATE INDEX concerts_by_start ON concerts (starts_at);

CREATE INDEX concerts_by_venue_date ON concerts (venue_id, local_date, starts_at);

CREATE INDEX concerts_importing ON concerts (import_batch) WHERE import_batch IS NOT NULL;

CREATE INDEX customers_by_phone ON customers (phone) WHERE phone IS NOT NULL;

CREATE INDEX door_undos_by_ticket ON door_undos (ticket);

CREATE INDEX holds_by_email ON holds (email, concert_id) WHERE email IS NOT NULL;

CREATE INDEX holds_by_phone ON holds (phone, concert_id) WHERE phone IS NOT NULL;

CREATE INDEX holds_live ON holds (expires_at) WHERE state = 'live';

CREATE INDEX holds_live_walk_ups ON holds (terminal, clerk)
    WHERE state = 'live' AND kind = 'sale' AND email IS NULL AND phone IS NULL;

CREATE INDEX outbox_by_booking ON outbox (booking_code);

CREATE INDEX outbox_waiting ON outbox (next_attempt_at) WHERE state != 'delivered';

CREATE INDEX payments_by_booking ON payments (booking_id) WHERE booking_id IS NOT NULL;

CREATE INDEX payments_by_hold ON payments (hold_id);

CREATE INDEX payments_pending ON payments (state) WHERE state = 'pending';

CREATE INDEX payments_unanswered ON payments (hold_id) WHERE state = 'unanswered';

CREATE INDEX seats_by_row ON seats (venue_id, grid_y, grid_x, category, label);

CREATE INDEX tickets_by_booking ON tickets (booking_id);

CREATE INDEX tickets_by_concert ON tickets (concert_id, state);

CREATE INDEX waitlist_by_hold ON waitlist (hold_id);

CREATE UNIQUE INDEX waitlist_once ON waitlist (concert_id, customer_id) WHERE state IN ('waiting', 'offered');

CREATE INDEX waitlist_queue ON waitlist (concert_id, state, id);

CREATE TRIGGER claims_counts_delete AFTER DELETE ON claims BEGIN
    UPDATE concerts SET
        claimed = claimed - 1,
        booked = booked - (old.booking_id IS NOT NULL),
        reserved = reserved - (old.booking_id IS NULL AND old.reserved = 1)
    WHERE id = old.concert_id;
END;

CREATE TRIGGER claims_counts_update AFTER UPDATE OF booking_id, reserved ON claims
    WHEN old.booking_id IS NOT new.booking_id OR old.reserved != new.reserved
BEGIN
    UPDATE concerts SET
        booked = booked + (new.booking_id IS NOT NULL) - (old.booking_id IS NOT NULL),
        reserved = reserved + (new.booking_id IS NULL AND new.reserved = 1)
                            - (old.booking_id IS NULL AND old.reserved = 1)
    WHERE id = new.concert_id;
END;

CREATE TRIGGER concert_search_delete AFTER DELETE ON concerts BEGIN
    DELETE FROM concert_search WHERE rowid = old.id;
END;

CREATE TRIGGER concert_search_insert AFTER INSERT ON concerts BEGIN
    INSERT INTO concert_search (rowid, artist, title, venue, city)
        SELECT new.id, new.artist, new.title, v.name, v.city FROM venues v WHERE v.id = new.venue_id;
END;

CREATE TRIGGER concert_search_update AFTER UPDATE OF artist, title, venue_id ON concerts BEGIN
    DELETE FROM concert_search WHERE rowid = old.id;
    INSERT INTO concert_search (rowid, artist, title, venue, city)
        SELECT new.id, new.artist, new.title, v.name, v.city FROM venues v WHERE v.id = new.venue_id;
END;

CREATE TRIGGER concert_search_venue AFTER UPDATE OF name, city ON venues BEGIN
    UPDATE concert_search SET venue = new.name, city = new.city
        WHERE rowid IN (SELECT id FROM concerts WHERE venue_id = new.id);
END;

