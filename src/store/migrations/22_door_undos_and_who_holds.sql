-- Version 22: an undo at the door is on the record (which ticket, which door, who, when, and
-- when it had gone in), and a hold names the terminal and the clerk that made it, so that one
-- terminal cannot keep most of a show in walk-up holds nobody pays.

CREATE TABLE door_undos (
    id            INTEGER PRIMARY KEY,
    ticket        TEXT NOT NULL REFERENCES tickets(code),
    door          TEXT,
    clerk         TEXT,
    terminal      TEXT,
    checked_in_at INTEGER NOT NULL,
    undone_at     INTEGER NOT NULL
);
CREATE INDEX door_undos_by_ticket ON door_undos (ticket);

ALTER TABLE holds ADD COLUMN terminal TEXT;
ALTER TABLE holds ADD COLUMN clerk TEXT;
CREATE INDEX holds_live_walk_ups ON holds (terminal, clerk)
    WHERE state = 'live' AND kind = 'sale' AND email IS NULL AND phone IS NULL;
