-- Version 7: search at the size of a season: "has free seats" reads a per-concert count of claimed
-- seats kept by triggers (instead of counting a sold-out arena's 10,000 claims per row), and
-- a venue filter walks the few matching venues' concerts by date.

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
