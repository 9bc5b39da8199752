-- Version 9: the listing's counts kept per concert (booked, and kept for the waiting list, beside
-- the claimed count of version 7) instead of counted from an index of every active claim:
-- that index was written on every hold (one page of ten) and read 20,000 entries per
-- sold-out arena on a listing page. Holds that ran out but were not swept yet are
-- subtracted at read time, found through the live holds' expiry index.

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
