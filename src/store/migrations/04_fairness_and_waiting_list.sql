-- Version 4: fair booking and the waiting list.

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
