-- Version 3: the outbox: notices written in the same transaction as the change they report.

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
