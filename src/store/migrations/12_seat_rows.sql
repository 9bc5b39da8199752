-- Version 12: each row of a venue's seats as one value, for a terminal's seat index
-- (store::seat_index): reading a row of 200 seats from `seats` cost 2,700 instructions a
-- seat, and a terminal reads every row it sells in. Seats never change once their venue is
-- written, so the rows are written once, beside them.

CREATE TABLE seat_rows (
    venue_id INTEGER NOT NULL REFERENCES venues(id),
    line     INTEGER NOT NULL,
    seats    TEXT NOT NULL,   -- JSON: [[id, column, category, label], ...]
    PRIMARY KEY (venue_id, line)
) WITHOUT ROWID;
INSERT INTO seat_rows (venue_id, line, seats)
    SELECT venue_id, grid_y, json_group_array(json_array(id, grid_x, category, label))
    FROM (SELECT venue_id, grid_y, id, grid_x, category, label FROM seats
          ORDER BY venue_id, grid_y, grid_x)
    GROUP BY venue_id, grid_y;
