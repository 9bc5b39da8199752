-- Version 23: a customer's name as searches fold it (`text::fold`: `Müller`, `Mueller` and
-- `muller` alike), so the bookings search finds them whichever way either was typed. Written
-- with the name by its one writer (`records/customer.rs`); existing names are folded by this
-- step's code (`schema.rs`, `postgres.rs`).

ALTER TABLE customers ADD COLUMN name_key TEXT;
