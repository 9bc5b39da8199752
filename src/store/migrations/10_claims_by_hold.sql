-- Version 10: claims stored in the order of their hold (release, payment and expiry find a hold's
-- claims by it): the table is its own claims-by-hold index, one b-tree less written per
-- hold. A hold claims a seat once; only the waiting list's pool took the same seat again,
-- and it now deletes the claims it gives up (they record nothing). The pool's earlier
-- copies are dropped here, keeping the active one (else the latest).

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
