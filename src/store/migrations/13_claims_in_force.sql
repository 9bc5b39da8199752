-- Version 13: a claim is a seat taken, and nothing else. The claims table keeps only the claims in
-- force, keyed by (concert, seat): one claim per seat is the table's own key, where it was
-- a second b-tree written with every claim beside the table ordered by hold. A hold lists
-- its seats and what they cost (`holds.seats`, JSON `[[seat, cents], ...]`), which is what
-- a hold or a booking that has ended still shows; a hold's claims are found through it.
-- The waiting list's pool, whose seats come and go, finds its claims through an index of
-- the kept ones (which no customer's hold writes).

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
