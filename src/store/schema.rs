//! Schema migrations, applied in order on `PRAGMA user_version`. Never edit a released
//! migration: add a new one, so an old database file upgrades in place.

use crate::error::Result;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

const MIGRATIONS: &[&str] = &[
    // 1: catalog, customers, holds, bookings, payments.
    r#"
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
    "#,
    // 2: substring search served from an index (FTS5 trigram) instead of scanning every row.
    r#"
    CREATE VIRTUAL TABLE concert_search USING fts5(
        artist, title, venue, city, tokenize = 'trigram'
    );
    INSERT INTO concert_search (rowid, artist, title, venue, city)
        SELECT c.id, c.artist, c.title, v.name, v.city FROM concerts c JOIN venues v ON v.id = c.venue_id;
    CREATE TRIGGER concert_search_insert AFTER INSERT ON concerts BEGIN
        INSERT INTO concert_search (rowid, artist, title, venue, city)
            SELECT new.id, new.artist, new.title, v.name, v.city FROM venues v WHERE v.id = new.venue_id;
    END;
    CREATE TRIGGER concert_search_update AFTER UPDATE OF artist, title, venue_id ON concerts BEGIN
        DELETE FROM concert_search WHERE rowid = old.id;
        INSERT INTO concert_search (rowid, artist, title, venue, city)
            SELECT new.id, new.artist, new.title, v.name, v.city FROM venues v WHERE v.id = new.venue_id;
    END;
    CREATE TRIGGER concert_search_delete AFTER DELETE ON concerts BEGIN
        DELETE FROM concert_search WHERE rowid = old.id;
    END;
    CREATE TRIGGER concert_search_venue AFTER UPDATE OF name, city ON venues BEGIN
        UPDATE concert_search SET venue = new.name, city = new.city
            WHERE rowid IN (SELECT id FROM concerts WHERE venue_id = new.id);
    END;
    "#,
    // 3: the outbox: notices written in the same transaction as the change they report.
    r#"
    CREATE TABLE outbox (
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
        state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error      TEXT,
        delivered_at    INTEGER,
        file            TEXT
    );
    CREATE INDEX outbox_waiting ON outbox (next_attempt_at) WHERE state != 'delivered';
    CREATE INDEX outbox_by_booking ON outbox (booking_code);
    "#,
    // 4: fair booking and the waiting list.
    r#"
    ALTER TABLE concerts ADD COLUMN offer_minutes INTEGER NOT NULL DEFAULT 120 CHECK (offer_minutes > 0);
    ALTER TABLE venues ADD COLUMN width INTEGER NOT NULL DEFAULT 0;
    UPDATE venues SET width = coalesce((SELECT max(grid_x) + 1 FROM seats WHERE venue_id = venues.id), 0);
    -- sale: a customer's hold; offer: seats offered to a waiting-list entry;
    -- pool: freed seats kept for the waiting list (one per concert, never expires).
    ALTER TABLE holds ADD COLUMN kind TEXT NOT NULL DEFAULT 'sale' CHECK (kind IN ('sale', 'offer', 'pool'));
    ALTER TABLE holds ADD COLUMN gap_override INTEGER NOT NULL DEFAULT 0;
    -- 1 while a seat is reserved for the waiting list (pooled or offered).
    ALTER TABLE claims ADD COLUMN reserved INTEGER NOT NULL DEFAULT 0;
    DROP INDEX claims_counts;
    CREATE INDEX claims_counts ON claims (concert_id, reserved, booking_id, expires_at) WHERE active = 1;
    CREATE INDEX seats_by_row ON seats (venue_id, grid_y);
    CREATE INDEX holds_by_concert_kind ON holds (concert_id, kind, state);
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
    -- One entry per customer per concert while it is in the queue.
    CREATE UNIQUE INDEX waitlist_once ON waitlist (concert_id, customer_id) WHERE state IN ('waiting', 'offered');
    CREATE INDEX waitlist_queue ON waitlist (concert_id, state, id);
    CREATE INDEX waitlist_by_hold ON waitlist (hold_id);
    "#,
    // 5: catalog changes: a concert's calendar sequence (reschedules) and why it was cancelled;
    // every concert gets an external id so exports re-import onto the same rows.
    r#"
    ALTER TABLE concerts ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE concerts ADD COLUMN cancel_reason TEXT;
    UPDATE concerts SET external_id = 'bx-' || id WHERE external_id IS NULL;
    "#,
    // 6: the same person by phone, found through an index (the ticket limit asks on every hold).
    r#"
    CREATE INDEX customers_by_phone ON customers (phone) WHERE phone IS NOT NULL;
    -- The single-seat-gap rule reads a few columns of a row.
    DROP INDEX seats_by_row;
    CREATE INDEX seats_by_row ON seats (venue_id, grid_y, grid_x);
    -- Every index is written on every hold; this one served no query.
    DROP INDEX holds_by_concert_kind;
    "#,
    // 7: search at the size of a season: "has free seats" reads a per-concert count of claimed
    // seats kept by triggers (instead of counting a sold-out arena's 10,000 claims per row), and
    // a venue filter walks the few matching venues' concerts by date.
    r#"
    ALTER TABLE concerts ADD COLUMN claimed INTEGER NOT NULL DEFAULT 0;
    UPDATE concerts SET claimed = (SELECT count(*) FROM claims WHERE concert_id = concerts.id AND active = 1);
    CREATE TRIGGER claims_claimed_insert AFTER INSERT ON claims WHEN new.active = 1 BEGIN
        UPDATE concerts SET claimed = claimed + 1 WHERE id = new.concert_id;
    END;
    CREATE TRIGGER claims_claimed_update AFTER UPDATE OF active ON claims WHEN old.active != new.active BEGIN
        UPDATE concerts SET claimed = claimed + new.active - old.active WHERE id = new.concert_id;
    END;
    CREATE TRIGGER claims_claimed_delete AFTER DELETE ON claims WHEN old.active = 1 BEGIN
        UPDATE concerts SET claimed = claimed - 1 WHERE id = old.concert_id;
    END;
    CREATE INDEX concerts_by_venue_date ON concerts (venue_id, local_date, starts_at);
    "#,
    // 8: a hold at the speed of the disk. A CHECK with a list of more than two values
    // (`state IN ('live', 'paying', …)`) makes SQLite build a temporary b-tree on every INSERT
    // (a tenth of a hold's time): the same rules as OR chains, on the tables written per hold
    // and per payment (SQLite cannot alter a CHECK: the tables are rebuilt, with foreign key
    // enforcement off, see `migrate`). The single-seat-gap check reads a few seats of a row from
    // the row index alone.
    r#"
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
    "#,
    // 9: the listing's counts kept per concert (booked, and kept for the waiting list, beside
    // the claimed count of version 7) instead of counted from an index of every active claim:
    // that index was written on every hold (one page of ten) and read 20,000 entries per
    // sold-out arena on a listing page. Holds that ran out but were not swept yet are
    // subtracted at read time, found through the live holds' expiry index.
    r#"
    ALTER TABLE concerts ADD COLUMN booked INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE concerts ADD COLUMN reserved INTEGER NOT NULL DEFAULT 0;
    UPDATE concerts SET
        booked = (SELECT count(*) FROM claims WHERE concert_id = concerts.id AND active = 1
                      AND booking_id IS NOT NULL),
        reserved = (SELECT count(*) FROM claims WHERE concert_id = concerts.id AND active = 1
                      AND booking_id IS NULL AND reserved = 1);
    DROP TRIGGER claims_claimed_update;
    DROP TRIGGER claims_claimed_delete;
    CREATE TRIGGER claims_counts_update AFTER UPDATE OF active, booking_id, reserved ON claims
        WHEN old.active != new.active OR old.booking_id IS NOT new.booking_id OR old.reserved != new.reserved
    BEGIN
        UPDATE concerts SET
            claimed = claimed + new.active - old.active,
            booked = booked + (new.active = 1 AND new.booking_id IS NOT NULL)
                            - (old.active = 1 AND old.booking_id IS NOT NULL),
            reserved = reserved + (new.active = 1 AND new.booking_id IS NULL AND new.reserved = 1)
                                - (old.active = 1 AND old.booking_id IS NULL AND old.reserved = 1)
        WHERE id = new.concert_id;
    END;
    CREATE TRIGGER claims_counts_delete AFTER DELETE ON claims WHEN old.active = 1 BEGIN
        UPDATE concerts SET
            claimed = claimed - 1,
            booked = booked - (old.booking_id IS NOT NULL),
            reserved = reserved - (old.booking_id IS NULL AND old.reserved = 1)
        WHERE id = old.concert_id;
    END;
    DROP INDEX claims_counts;
    "#,
    // 10: claims stored in the order of their hold (release, payment and expiry find a hold's
    // claims by it): the table is its own claims-by-hold index, one b-tree less written per
    // hold. A hold claims a seat once; only the waiting list's pool took the same seat again,
    // and it now deletes the claims it gives up (they record nothing). The pool's earlier
    // copies are dropped here, keeping the active one (else the latest).
    r#"
    CREATE TABLE claims_v10 (
        hold_id     TEXT NOT NULL REFERENCES holds(id),
        seat_id     INTEGER NOT NULL REFERENCES seats(id),
        concert_id  INTEGER NOT NULL REFERENCES concerts(id),
        booking_id  INTEGER REFERENCES bookings(id),
        price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
        expires_at  INTEGER,
        active      INTEGER NOT NULL DEFAULT 1 CHECK (active = 0 OR active = 1),
        reserved    INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (hold_id, seat_id)
    ) WITHOUT ROWID;
    INSERT INTO claims_v10 (hold_id, seat_id, concert_id, booking_id, price_cents, expires_at, active, reserved)
        SELECT hold_id, seat_id, concert_id, booking_id, price_cents, expires_at, active, reserved
        FROM claims c
        WHERE c.id = (SELECT c2.id FROM claims c2 WHERE c2.hold_id = c.hold_id AND c2.seat_id = c.seat_id
                      ORDER BY c2.active DESC, c2.id DESC LIMIT 1);
    DROP TABLE claims;
    ALTER TABLE claims_v10 RENAME TO claims;
    -- Double booking is impossible in the schema: one active claim per seat per concert.
    CREATE UNIQUE INDEX one_claim_per_seat ON claims (concert_id, seat_id) WHERE active = 1;
    CREATE INDEX claims_by_booking ON claims (booking_id) WHERE booking_id IS NOT NULL;
    CREATE TRIGGER claims_counts_update AFTER UPDATE OF active, booking_id, reserved ON claims
        WHEN old.active != new.active OR old.booking_id IS NOT new.booking_id OR old.reserved != new.reserved
    BEGIN
        UPDATE concerts SET
            claimed = claimed + new.active - old.active,
            booked = booked + (new.active = 1 AND new.booking_id IS NOT NULL)
                            - (old.active = 1 AND old.booking_id IS NOT NULL),
            reserved = reserved + (new.active = 1 AND new.booking_id IS NULL AND new.reserved = 1)
                                - (old.active = 1 AND old.booking_id IS NULL AND old.reserved = 1)
        WHERE id = new.concert_id;
    END;
    CREATE TRIGGER claims_counts_delete AFTER DELETE ON claims WHEN old.active = 1 BEGIN
        UPDATE concerts SET
            claimed = claimed - 1,
            booked = booked - (old.booking_id IS NOT NULL),
            reserved = reserved - (old.booking_id IS NULL AND old.reserved = 1)
        WHERE id = old.concert_id;
    END;
    "#,
    // 11: a hold names the person it is for (email, name and phone as given, normalised)
    // instead of pointing at a customer row: the customer is recorded when there is something
    // to keep, a booking or a place on the waiting list. A new customer's row and its email
    // index were two of the eight b-trees every hold wrote. The person's holds on a concert are
    // found by email and by phone (the ticket limit, one live hold per person).
    r#"
    CREATE TABLE holds_v11 (
        id           TEXT PRIMARY KEY,
        concert_id   INTEGER NOT NULL REFERENCES concerts(id),
        email        TEXT NOT NULL,
        name         TEXT,
        phone        TEXT,
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL,
        state        TEXT NOT NULL CHECK (state = 'live' OR state = 'paying' OR state = 'paid'
                         OR state = 'released' OR state = 'expired' OR state = 'declined'),
        ended_at     INTEGER,
        kind         TEXT NOT NULL DEFAULT 'sale' CHECK (kind = 'sale' OR kind = 'offer' OR kind = 'pool'),
        gap_override INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    INSERT INTO holds_v11 (id, concert_id, email, name, phone, created_at, expires_at, state, ended_at, kind, gap_override)
        SELECT h.id, h.concert_id, cu.email, cu.name, cu.phone, h.created_at, h.expires_at, h.state,
               h.ended_at, h.kind, h.gap_override
        FROM holds h JOIN customers cu ON cu.id = h.customer_id;
    DROP TABLE holds;
    ALTER TABLE holds_v11 RENAME TO holds;
    CREATE INDEX holds_live ON holds (expires_at) WHERE state = 'live';
    CREATE INDEX holds_by_email ON holds (email, concert_id);
    CREATE INDEX holds_by_phone ON holds (phone, concert_id) WHERE phone IS NOT NULL;
    "#,
    // 12: each row of a venue's seats as one value, for a terminal's seat index
    // (store::seat_index): reading a row of 200 seats from `seats` cost 2,700 instructions a
    // seat, and a terminal reads every row it sells in. Seats never change once their venue is
    // written, so the rows are written once, beside them.
    r#"
    CREATE TABLE seat_rows (
        venue_id INTEGER NOT NULL REFERENCES venues(id),
        line     INTEGER NOT NULL,
        seats    TEXT NOT NULL,   -- JSON: [[id, column, category, label], ...]
        PRIMARY KEY (venue_id, line)
    ) WITHOUT ROWID;
    INSERT INTO seat_rows (venue_id, line, seats)
        SELECT venue_id, grid_y, json_group_array(json_array(id, grid_x, category, label))
        FROM (SELECT venue_id, grid_y, id, grid_x, category, label FROM seats
              ORDER BY venue_id, grid_y, grid_x)
        GROUP BY venue_id, grid_y;
    "#,
    // 13: a claim is a seat taken, and nothing else. The claims table keeps only the claims in
    // force, keyed by (concert, seat): one claim per seat is the table's own key, where it was
    // a second b-tree written with every claim beside the table ordered by hold. A hold lists
    // its seats and what they cost (`holds.seats`, JSON `[[seat, cents], ...]`), which is what
    // a hold or a booking that has ended still shows; a hold's claims are found through it.
    // The waiting list's pool, whose seats come and go, finds its claims through an index of
    // the kept ones (which no customer's hold writes).
    r#"
    ALTER TABLE holds ADD COLUMN seats TEXT NOT NULL DEFAULT '[]';
    UPDATE holds SET seats = (
        SELECT json_group_array(json_array(seat_id, price_cents))
        FROM (SELECT seat_id, price_cents FROM claims c WHERE c.hold_id = holds.id ORDER BY seat_id))
    WHERE kind != 'pool' AND EXISTS (SELECT 1 FROM claims c WHERE c.hold_id = holds.id);
    CREATE TABLE claims_v13 (
        concert_id  INTEGER NOT NULL REFERENCES concerts(id),
        seat_id     INTEGER NOT NULL REFERENCES seats(id),
        hold_id     TEXT NOT NULL REFERENCES holds(id),
        booking_id  INTEGER REFERENCES bookings(id),
        price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
        expires_at  INTEGER,
        reserved    INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (concert_id, seat_id)
    ) WITHOUT ROWID;
    INSERT INTO claims_v13 (concert_id, seat_id, hold_id, booking_id, price_cents, expires_at, reserved)
        SELECT concert_id, seat_id, hold_id, booking_id, price_cents, expires_at, reserved
        FROM claims WHERE active = 1;
    DROP TABLE claims;
    ALTER TABLE claims_v13 RENAME TO claims;
    CREATE INDEX claims_by_booking ON claims (booking_id) WHERE booking_id IS NOT NULL;
    CREATE INDEX claims_kept ON claims (hold_id) WHERE reserved = 1;
    CREATE TRIGGER claims_counts_update AFTER UPDATE OF booking_id, reserved ON claims
        WHEN old.booking_id IS NOT new.booking_id OR old.reserved != new.reserved
    BEGIN
        UPDATE concerts SET
            booked = booked + (new.booking_id IS NOT NULL) - (old.booking_id IS NOT NULL),
            reserved = reserved + (new.booking_id IS NULL AND new.reserved = 1)
                                - (old.booking_id IS NULL AND old.reserved = 1)
        WHERE id = new.concert_id;
    END;
    CREATE TRIGGER claims_counts_delete AFTER DELETE ON claims BEGIN
        UPDATE concerts SET
            claimed = claimed - 1,
            booked = booked - (old.booking_id IS NOT NULL),
            reserved = reserved - (old.booking_id IS NULL AND old.reserved = 1)
        WHERE id = old.concert_id;
    END;
    "#,
    // 14: payments are found by booking only once they have one: a charge is recorded before
    // its booking exists, and every pending charge put a NULL into the booking index, a page
    // more written by the payment's first durable commit (BENCHMARKS.md).
    r#"
    DROP INDEX payments_by_booking;
    CREATE INDEX payments_by_booking ON payments (booking_id) WHERE booking_id IS NOT NULL;
    "#,
    // 15: a charge whose result and whose look-up both failed is 'unanswered' (the processor
    // may have taken it: nothing is charged again until it answers for this key); and the box
    // office's own id, so that two databases sharing one spool never name two files alike.
    r#"
    CREATE TABLE payments_v15 (
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
    );
    INSERT INTO payments_v15 SELECT id, kind, idempotency_key, hold_id, booking_id, processor,
        amount_cents, currency, state, reference, detail, tendered_cents, change_cents, created_at,
        updated_at FROM payments;
    DROP TABLE payments;
    ALTER TABLE payments_v15 RENAME TO payments;
    CREATE INDEX payments_pending ON payments (state) WHERE state = 'pending';
    CREATE INDEX payments_unanswered ON payments (hold_id) WHERE state = 'unanswered';
    CREATE INDEX payments_by_booking ON payments (booking_id) WHERE booking_id IS NOT NULL;
    CREATE INDEX payments_by_hold ON payments (hold_id);

    CREATE TABLE box_office (
        id TEXT NOT NULL    -- random, made once: part of every spool file's name
    );
    INSERT INTO box_office (id) VALUES (lower(hex(randomblob(8))));
    "#,
    // 16: a large import writes its new concerts a few hundred to a transaction, so the counter
    // keeps selling meanwhile; they carry the import's id and stay invisible until its last
    // transaction marks the import done (one row), so the import is still all or nothing. The
    // ids are cleared afterwards, a chunk at a time. An import that died is found by its lease
    // (or its process gone): its rows are removed, or, if it was done, cleared.
    r#"
    ALTER TABLE concerts ADD COLUMN import_batch TEXT;
    CREATE INDEX concerts_importing ON concerts (import_batch) WHERE import_batch IS NOT NULL;
    CREATE TABLE imports (
        id           TEXT PRIMARY KEY,
        host         TEXT NOT NULL,
        pid          INTEGER NOT NULL,
        started_at   INTEGER NOT NULL,
        heartbeat_at INTEGER NOT NULL,
        done         INTEGER NOT NULL DEFAULT 0
    );
    "#,
    // 17: messages can leave through a mail relay or an SMS gateway: where each went (`via`:
    // spool, smtp or sms-gateway; `file` keeps the path, or the server and what it answered),
    // and a lease on a row being sent, so two terminals never send one message twice.
    r#"
    ALTER TABLE outbox ADD COLUMN via TEXT;
    ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
    UPDATE outbox SET via = 'spool' WHERE state = 'delivered';
    "#,
    // 18: a venue's country (ISO 3166 code), which decides a phone number typed without one;
    // NULL: from the venue's time zone (`catalog::country_of_zone`).
    r#"
    ALTER TABLE venues ADD COLUMN country TEXT;
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to `target`, each step in one IMMEDIATE transaction so two processes
/// starting at once do not both migrate. Foreign keys are not enforced while a step runs (a
/// step may rebuild a table others refer to, SQLite's documented way to change a constraint);
/// each step is checked with `PRAGMA foreign_key_check` before it commits.
pub(crate) fn migrate(conn: &mut Connection, target: i64) -> Result<()> {
    let enforced: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    let out = migrate_steps(conn, target);
    if enforced {
        conn.execute_batch("PRAGMA foreign_keys = ON")?;
    }
    out
}

fn migrate_steps(conn: &mut Connection, target: i64) -> Result<()> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if current >= target {
            return Ok(());
        }
        tx.execute_batch(MIGRATIONS[current as usize])?;
        let broken: Option<String> = tx
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .optional()?;
        if let Some(table) = broken {
            return Err(crate::error::Error::Corrupt(format!(
                "upgrading it to version {} would leave rows of {table} pointing nowhere; \
                 nothing was changed",
                current + 1
            )));
        }
        tx.execute_batch(&format!("PRAGMA user_version = {}", current + 1))?;
        tx.commit()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Venue 1 with seats A-1 to A-`seats` in one row, and concert 1 there.
    fn hall(conn: &Connection, seats: i64) {
        conn.execute(
            "INSERT INTO venues (id, slug, name, city, timezone, layout, capacity)
             VALUES (1, 'v', 'V', 'C', 'UTC', '', ?1)",
            [seats],
        )
        .unwrap();
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
             INSERT INTO seats (id, venue_id, label, section, row_label, number, category, grid_x, grid_y)
             SELECT i, 1, 'A-' || i, 'A', 'A', i, 'S', i - 1, 0 FROM n",
            [seats],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO concerts (id, artist, title, venue_id, starts_at, utc_offset, local_date, local_time, on_sale_at)
             VALUES (1, 'a', 't', 1, 0, 0, '2030-01-01', '20:00', 0)",
            [],
        )
        .unwrap();
    }

    fn assert_no_dangling_rows(conn: &Connection) {
        let dangling: Option<String> = conn
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .optional()
            .unwrap();
        assert_eq!(dangling, None);
    }

    #[test]
    fn version_13_keeps_the_claims_in_force_and_each_hold_lists_its_seats() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, 12).unwrap();
        hall(&conn, 3);
        conn.execute_batch(
            "             INSERT INTO customers (id, email) VALUES (1, 'paid@example.com');
             -- An expired hold of seats 1 and 2 (its claims no longer in force), then a booking
             -- of seat 2 and a live hold of seat 3.
             INSERT INTO holds (id, concert_id, email, created_at, expires_at, state)
                 VALUES ('HOLD', 1, 'gone@example.com', 0, 300, 'expired'),
                        ('PAID', 1, 'paid@example.com', 400, 700, 'paid'),
                        ('LIVE', 1, 'live@example.com', 500, 800, 'live');
             INSERT INTO bookings (id, code, concert_id, customer_id, hold_id, total_cents, currency, method, state, created_at)
                 VALUES (1, 'BOOK01', 1, 1, 'PAID', 200, 'EUR', 'cash', 'confirmed', 450);
             INSERT INTO claims (hold_id, seat_id, concert_id, booking_id, price_cents, expires_at, active)
                 VALUES ('HOLD', 1, 1, NULL, 100, 300, 0), ('HOLD', 2, 1, NULL, 100, 300, 0),
                        ('PAID', 2, 1, 1, 200, NULL, 1), ('LIVE', 3, 1, NULL, 150, 800, 1);
             UPDATE concerts SET claimed = 2, booked = 1;",
        )
        .unwrap();
        migrate(&mut conn, 13).unwrap();
        let rows = |sql: &str| -> Vec<String> {
            conn.prepare(sql)
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        assert_eq!(
            rows("SELECT id || ' ' || seats FROM holds ORDER BY id"),
            ["HOLD [[1,100],[2,100]]", "LIVE [[3,150]]", "PAID [[2,200]]"]
        );
        assert_eq!(
            rows("SELECT seat_id || ' ' || hold_id FROM claims ORDER BY seat_id"),
            ["2 PAID", "3 LIVE"]
        );
        // One claim per seat is the table's key now.
        let err = conn
            .execute(
                "INSERT INTO claims (concert_id, seat_id, hold_id, price_cents) VALUES (1, 3, 'HOLD', 0)",
                [],
            )
            .unwrap_err();
        assert!(err.to_string().contains("UNIQUE"), "{err}");
        // The counts follow what the claims do.
        conn.execute_batch(
            "DELETE FROM claims WHERE hold_id = 'LIVE';
             UPDATE claims SET booking_id = NULL WHERE hold_id = 'PAID';",
        )
        .unwrap();
        assert_eq!(
            rows("SELECT claimed || ' ' || booked FROM concerts"),
            ["1 0"]
        );
        assert_no_dangling_rows(&conn);
    }

    #[test]
    fn version_11_writes_each_holds_person_into_it_and_finds_them_by_email_and_phone() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, 10).unwrap();
        hall(&conn, 2);
        conn.execute_batch(
            "             INSERT INTO customers (id, email, name, phone)
                 VALUES (1, 'ann@example.com', 'Ann', '+4366012345'), (2, 'bo@example.com', NULL, NULL);
             INSERT INTO holds (id, concert_id, customer_id, created_at, expires_at, state, kind)
                 VALUES ('H1', 1, 1, 0, 300, 'live', 'sale'), ('H2', 1, 2, 0, 300, 'paid', 'sale');
             INSERT INTO claims (hold_id, seat_id, concert_id, price_cents, expires_at)
                 VALUES ('H1', 1, 1, 100, 300), ('H2', 2, 1, 100, NULL);",
        )
        .unwrap();
        migrate(&mut conn, 11).unwrap();
        let holds: Vec<String> = conn
            .prepare(
                "SELECT id || ' ' || email || ' ' || coalesce(name, '-') || ' ' || coalesce(phone, '-')
                     || ' ' || state FROM holds ORDER BY id",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            holds,
            [
                "H1 ann@example.com Ann +4366012345 live",
                "H2 bo@example.com - - paid"
            ]
        );
        // The person's holds come from the new indexes; the claims still point at their holds.
        let plan = |sql: &str| -> String {
            conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map([], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<rusqlite::Result<Vec<_>>>()
                .unwrap()
                .join("; ")
        };
        assert!(
            plan("SELECT id FROM holds WHERE email = 'ann@example.com' AND concert_id = 1")
                .contains("holds_by_email"),
        );
        assert!(
            plan("SELECT id FROM holds WHERE phone = '+4366012345' AND concert_id = 1")
                .contains("holds_by_phone"),
        );
        assert_no_dangling_rows(&conn);
        let err = conn
            .execute(
                "INSERT INTO holds (id, concert_id, email, created_at, expires_at, state) VALUES ('H3', 1, 'c@example.com', 0, 0, 'lost')",
                [],
            )
            .unwrap_err();
        assert!(err.to_string().contains("CHECK"), "{err}");
    }

    #[test]
    fn version_10_keeps_one_claim_per_hold_and_seat_and_the_counts_follow() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, 9).unwrap();
        hall(&conn, 2);
        conn.execute_batch(
            "             INSERT INTO customers (id, email) VALUES (1, 'pool@example.com');
             INSERT INTO holds (id, concert_id, customer_id, created_at, expires_at, state, kind)
                 VALUES ('POOL-1', 1, 1, 0, 9, 'live', 'pool');
             -- The pool kept seat 1 three times (kept now, in the middle) and seat 2 twice.
             INSERT INTO claims (id, concert_id, seat_id, hold_id, price_cents, active, reserved)
                 VALUES (1, 1, 1, 'POOL-1', 0, 0, 1), (2, 1, 1, 'POOL-1', 0, 1, 1),
                        (3, 1, 1, 'POOL-1', 0, 0, 1), (4, 1, 2, 'POOL-1', 0, 0, 1),
                        (5, 1, 2, 'POOL-1', 0, 0, 1);
             UPDATE concerts SET claimed = 1, reserved = 1;",
        )
        .unwrap();
        migrate(&mut conn, 10).unwrap();
        let rows: Vec<(i64, i64)> = conn
            .prepare("SELECT seat_id, active FROM claims ORDER BY seat_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(rows, [(1, 1), (2, 0)]);
        // The rebuilt table keeps the counts: giving the kept seat up counts it out.
        conn.execute("DELETE FROM claims WHERE seat_id = 1", [])
            .unwrap();
        let counts: (i64, i64) = conn
            .query_row("SELECT claimed, reserved FROM concerts", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(counts, (0, 0));
    }
}
