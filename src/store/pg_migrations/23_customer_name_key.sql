-- Version 23: a customer's name as searches fold it (`text::fold`); see the SQLite step of the
-- same name. Existing names are folded by this step's code (`postgres.rs`).

ALTER TABLE customers ADD COLUMN name_key TEXT;
