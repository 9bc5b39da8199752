-- Version 19: every booked seat is a ticket with a code of its own (random, unguessable, never
-- derived from the booking code), valid until it is checked in at a door or its booking is
-- cancelled; a concert's doors open `doors_minutes` before it starts (a check-in before then is
-- refused); a sale and a refund record the clerk and the terminal that made them (the day's
-- takings by clerk). Existing bookings get their tickets from the migration's Rust step
-- (`schema::after_step`), which draws the codes from the system's random source.

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
CREATE INDEX tickets_by_booking ON tickets (booking_id);
CREATE INDEX tickets_by_concert ON tickets (concert_id, state);

ALTER TABLE concerts ADD COLUMN doors_minutes INTEGER NOT NULL DEFAULT 120;
ALTER TABLE bookings ADD COLUMN clerk TEXT;
ALTER TABLE bookings ADD COLUMN terminal TEXT;
ALTER TABLE payments ADD COLUMN clerk TEXT;
ALTER TABLE payments ADD COLUMN terminal TEXT;
