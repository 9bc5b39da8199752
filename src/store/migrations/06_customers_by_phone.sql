-- Version 6: the same person by phone, found through an index (the ticket limit asks on every hold).

CREATE INDEX customers_by_phone ON customers (phone) WHERE phone IS NOT NULL;
-- The single-seat-gap rule reads a few columns of a row.
DROP INDEX seats_by_row;
CREATE INDEX seats_by_row ON seats (venue_id, grid_y, grid_x);
-- Every index is written on every hold; this one served no query.
DROP INDEX holds_by_concert_kind;
