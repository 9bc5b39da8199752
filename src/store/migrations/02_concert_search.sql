-- Version 2: substring search served from an index (FTS5 trigram) instead of scanning every row.

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
