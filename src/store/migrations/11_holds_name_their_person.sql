-- Version 11: a hold names the person it is for (email, name and phone as given, normalised)
-- instead of pointing at a customer row: the customer is recorded when there is something
-- to keep, a booking or a place on the waiting list. A new customer's row and its email
-- index were two of the eight b-trees every hold wrote. The person's holds on a concert are
-- found by email and by phone (the ticket limit, one live hold per person).

CREATE TABLE holds_v11 (
    id           TEXT PRIMARY KEY,
    concert_id   INTEGER NOT NULL REFERENCES concerts(id),
    email        TEXT NOT NULL,
    name         TEXT,
    phone        TEXT,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    state        TEXT NOT NULL CHECK (state = 'live' OR state = 'paying' OR state = 'paid'
                     OR state = 'released' OR state = 'expired' OR state = 'declined'),
    ended_at     INTEGER,
    kind         TEXT NOT NULL DEFAULT 'sale' CHECK (kind = 'sale' OR kind = 'offer' OR kind = 'pool'),
    gap_override INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO holds_v11 (id, concert_id, email, name, phone, created_at, expires_at, state, ended_at, kind, gap_override)
    SELECT h.id, h.concert_id, cu.email, cu.name, cu.phone, h.created_at, h.expires_at, h.state,
           h.ended_at, h.kind, h.gap_override
    FROM holds h JOIN customers cu ON cu.id = h.customer_id;
DROP TABLE holds;
ALTER TABLE holds_v11 RENAME TO holds;
CREATE INDEX holds_live ON holds (expires_at) WHERE state = 'live';
CREATE INDEX holds_by_email ON holds (email, concert_id);
CREATE INDEX holds_by_phone ON holds (phone, concert_id) WHERE phone IS NOT NULL;
