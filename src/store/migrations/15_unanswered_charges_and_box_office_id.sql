-- Version 15: a charge whose result and whose look-up both failed is 'unanswered' (the processor
-- may have taken it: nothing is charged again until it answers for this key); and the box
-- office's own id, so that two databases sharing one spool never name two files alike.

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
