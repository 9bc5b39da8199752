//! The seats of the venues a connection has held seats in, kept in memory.
//!
//! A venue's seats are written once, with the venue, in one transaction, and never changed or
//! deleted (no statement updates or deletes a seat). So once a connection has read a row of
//! seats it may keep it: a hold then finds its labels and the seats around them here instead
//! of in two indexes, which was a quarter of a hold's work inside the write lock (and pages
//! every other terminal's commit throws out of the connection's cache). Claims, prices and
//! everything else that changes are still read in the transaction.
//!
//! Rows are read from `seat_rows`, each row of seats one value written beside the seats
//! ([`write_rows`]): from `seats`, a row of 200 cost 2,700 instructions a seat, and a terminal
//! selling all over an arena reads most of its rows.

use crate::error::Result;
use crate::params;
use crate::store::Db;
use crate::store::hash::FastMap;
use crate::store::sql::OptionalExtension;
use std::sync::Arc;

/// One seat as the hold and the single-seat-gap rule need it. Label and category are shared
/// (a copy is a count, not an allocation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexedSeat {
    pub id: i64,
    pub label: Arc<str>,
    pub category: Arc<str>,
    /// Column in the venue's layout.
    pub x: i64,
}

/// Rows of seats by (venue, layout line), and where each label is. Bounded: past
/// [`MAX_ROWS`] rows it starts again (a box office sells a few venues at a time).
#[derive(Default)]
pub(crate) struct SeatIndex {
    rows: FastMap<(i64, i64), Arc<[IndexedSeat]>>,
    labels: FastMap<i64, FastMap<Arc<str>, (i64, usize)>>,
    /// The venue each concert was last seen at (a hint for [`SeatIndex::warm`]; a concert
    /// can move to another venue).
    venues: FastMap<i64, i64>,
}

/// Rows kept before the index starts again: 20,000-seat arenas have 100 to 200 rows.
const MAX_ROWS: usize = 4096;

impl SeatIndex {
    /// The seats of a layout line, ordered by column (empty for a line without seats).
    pub(crate) fn row(
        &mut self,
        conn: &Db,
        venue_id: i64,
        line: i64,
    ) -> Result<Arc<[IndexedSeat]>> {
        if let Some(row) = self.rows.get(&(venue_id, line)) {
            return Ok(row.clone());
        }
        if self.rows.len() >= MAX_ROWS {
            *self = SeatIndex::default();
        }
        let mut st =
            conn.prepare_cached("SELECT seats FROM seat_rows WHERE venue_id = ?1 AND line = ?2")?;
        let mut rows = st.query(params![venue_id, line])?;
        // A line without seats has no row.
        let mut seats = match rows.next()? {
            Some(r) => parse_row(r.get_ref(0)?.as_str()?)?,
            None => Vec::new(),
        };
        drop(rows);
        seats.sort_by_key(|s| s.x);
        let row: Arc<[IndexedSeat]> = seats.into();
        let labels = match self.labels.entry(venue_id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                // Room for every seat of the hall at once: growing the map row by row
                // rehashed it a dozen times for an arena.
                let capacity: i64 = conn
                    .prepare_cached("SELECT capacity FROM venues WHERE id = ?1")?
                    .query_row([venue_id], |r| r.get(0))
                    .optional()?
                    .unwrap_or(0);
                e.insert(FastMap::with_capacity_and_hasher(
                    capacity.clamp(0, 1 << 20) as usize,
                    Default::default(),
                ))
            }
        };
        for (i, s) in row.iter().enumerate() {
            labels.insert(s.label.clone(), (line, i));
        }
        self.rows.insert((venue_id, line), row.clone());
        Ok(row)
    }

    /// The seat with this label (as stored: upper case) and its layout line, or `None` when
    /// the venue has no such seat. An unknown label is asked for every time (it is not kept).
    pub(crate) fn find(
        &mut self,
        conn: &Db,
        venue_id: i64,
        label: &str,
    ) -> Result<Option<(i64, IndexedSeat)>> {
        if let Some(found) = self.lookup(venue_id, label) {
            return Ok(Some(found));
        }
        let line: Option<i64> = conn
            .prepare_cached("SELECT grid_y FROM seats WHERE venue_id = ?1 AND label = ?2")?
            .query_row(params![venue_id, label], |r| r.get(0))
            .optional()?;
        let Some(line) = line else { return Ok(None) };
        let row = self.row(conn, venue_id, line)?;
        Ok(row
            .iter()
            .find(|s| &*s.label == label)
            .map(|s| (line, s.clone())))
    }

    /// Before the write lock is taken: reads the rows of the labels this connection has not
    /// seen yet, so the hold's transaction finds them in memory. Reading a row is two thirds
    /// of a hold's work; done in the transaction, every terminal would wait for it. Only a
    /// hint: the transaction looks the labels up again at the concert's venue as it is then.
    pub(crate) fn warm(&mut self, conn: &Db, concert_id: i64, labels: &[String]) -> Result<()> {
        let venue_id = match self.venues.get(&concert_id) {
            Some(&v) => v,
            None => {
                let found = conn
                    .prepare_cached("SELECT venue_id FROM concerts WHERE id = ?1")?
                    .query_row([concert_id], |r| r.get(0))
                    .optional()?;
                let Some(v) = found else { return Ok(()) };
                self.venues.insert(concert_id, v);
                v
            }
        };
        for label in labels {
            let known = self
                .labels
                .get(&venue_id)
                .is_some_and(|l| l.contains_key(label.as_str()));
            if !known {
                self.find(conn, venue_id, label)?;
            }
        }
        Ok(())
    }

    /// Records where a concert is, as read in a transaction (see [`SeatIndex::warm`]).
    pub(crate) fn note_venue(&mut self, concert_id: i64, venue_id: i64) {
        self.venues.insert(concert_id, venue_id);
    }

    fn lookup(&self, venue_id: i64, label: &str) -> Option<(i64, IndexedSeat)> {
        let &(line, i) = self.labels.get(&venue_id)?.get(label)?;
        let seat = self.rows.get(&(venue_id, line))?.get(i)?;
        Some((line, seat.clone()))
    }
}

/// Writes a new venue's rows of seats into `seat_rows`, from its seats as written (in the
/// venue's transaction: the two never disagree).
pub(crate) fn write_rows(tx: &Db, venue_id: i64) -> Result<()> {
    tx.prepare_cached(tx.pick(
        "INSERT INTO seat_rows (venue_id, line, seats)
         SELECT venue_id, grid_y, json_group_array(json_array(id, grid_x, category, label))
         FROM (SELECT venue_id, grid_y, id, grid_x, category, label FROM seats
               WHERE venue_id = ?1 ORDER BY grid_y, grid_x) AS s
         GROUP BY venue_id, grid_y",
        "INSERT INTO seat_rows (venue_id, line, seats)
         SELECT venue_id, grid_y,
                CAST(json_agg(json_build_array(id, grid_x, category, label) ORDER BY grid_x) AS TEXT)
         FROM seats WHERE venue_id = ?1
         GROUP BY venue_id, grid_y",
    ))?
    .execute([venue_id])?;
    Ok(())
}

/// One row of `seat_rows`: `[[id, column, category, label], ...]`. A hall has a handful of
/// categories: one shared copy of each.
fn parse_row(json: &str) -> Result<Vec<IndexedSeat>> {
    let mut categories: Vec<Arc<str>> = Vec::new();
    let mut seat = |id: i64, x: i64, category: &str, label: &str| {
        let category = match categories.iter().find(|c| &***c == category) {
            Some(c) => c.clone(),
            None => {
                categories.push(category.into());
                categories[categories.len() - 1].clone()
            }
        };
        IndexedSeat {
            id,
            label: label.into(),
            category,
            x,
        }
    };
    if let Some(seats) = plain_row(json, &mut seat) {
        return Ok(seats);
    }
    let seats: Vec<(i64, i64, String, String)> = serde_json::from_str(json).map_err(|e| {
        crate::error::Error::Corrupt(format!("a row of seats cannot be read ({e})"))
    })?;
    Ok(seats
        .into_iter()
        .map(|(id, x, category, label)| seat(id, x, &category, &label))
        .collect())
}

/// A row as SQLite's `json_array` writes it, read without a general JSON parser (which cost
/// three quarters of reading a row): integers, and strings without escapes (labels and
/// categories are letters, digits and dashes). `None` for anything else, which the caller
/// hands to serde_json.
fn plain_row<T>(text: &str, seat: &mut impl FnMut(i64, i64, &str, &str) -> T) -> Option<Vec<T>> {
    let b = text.as_bytes();
    let mut at = 0;
    let skip = |at: &mut usize| {
        while b.get(*at).is_some_and(u8::is_ascii_whitespace) {
            *at += 1;
        }
    };
    let eat = |at: &mut usize, want: u8| -> bool {
        skip(at);
        let hit = b.get(*at) == Some(&want);
        *at += usize::from(hit);
        hit
    };
    let int = |at: &mut usize| -> Option<i64> {
        skip(at);
        let negative = b.get(*at) == Some(&b'-');
        *at += usize::from(negative);
        let start = *at;
        let mut n: i64 = 0;
        while let Some(d) = b.get(*at).filter(|d| d.is_ascii_digit()) {
            n = n.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
            *at += 1;
        }
        (*at > start).then_some(if negative { -n } else { n })
    };
    // Between quotes, up to the closing one; a backslash (an escape) gives up. The quotes are
    // ASCII, so the slice falls on character boundaries.
    let string = |at: &mut usize| -> Option<&str> {
        if !eat(at, b'"') {
            return None;
        }
        let start = *at;
        while let Some(&c) = b.get(*at) {
            match c {
                b'"' => {
                    *at += 1;
                    return Some(&text[start..*at - 1]);
                }
                b'\\' => return None,
                _ => *at += 1,
            }
        }
        None
    };
    let mut seats = Vec::new();
    if !eat(&mut at, b'[') {
        return None;
    }
    if eat(&mut at, b']') {
        skip(&mut at);
        return (at == b.len()).then_some(seats);
    }
    loop {
        if !eat(&mut at, b'[') {
            return None;
        }
        let id = int(&mut at)?;
        eat(&mut at, b',').then_some(())?;
        let x = int(&mut at)?;
        eat(&mut at, b',').then_some(())?;
        let category = string(&mut at)?;
        eat(&mut at, b',').then_some(())?;
        let label = string(&mut at)?;
        eat(&mut at, b']').then_some(())?;
        seats.push(seat(id, x, category, label));
        if eat(&mut at, b']') {
            break;
        }
        eat(&mut at, b',').then_some(())?;
    }
    skip(&mut at);
    (at == b.len()).then_some(seats)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn venue(conn: &Db) {
        conn.execute_batch(
            "CREATE TABLE seats (id INTEGER PRIMARY KEY, venue_id INTEGER, label TEXT,
                 category TEXT, grid_x INTEGER, grid_y INTEGER);
             CREATE TABLE seat_rows (venue_id INTEGER, line INTEGER, seats TEXT,
                 PRIMARY KEY (venue_id, line)) WITHOUT ROWID;
             CREATE TABLE venues (id INTEGER PRIMARY KEY, capacity INTEGER);
             INSERT INTO venues VALUES (1, 3), (2, 1);
             INSERT INTO seats VALUES (1, 1, 'A-2', 'S', 4, 0), (2, 1, 'A-1', 'S', 2, 0),
                 (3, 1, 'B-1', 'P', 2, 1), (4, 2, 'A-1', 'X', 0, 0);",
        )
        .unwrap();
        write_rows(conn, 1).unwrap();
        write_rows(conn, 2).unwrap();
    }

    #[test]
    fn a_row_reads_the_same_with_or_without_the_json_parser() {
        let text = r#"[[7,0,"S","FLR-A-1"],[8,2,"P","FLR-A-2"],[-9,10,"S","B-12-100"]]"#;
        let mut tuple = |i: i64, x: i64, c: &str, l: &str| (i, x, c.to_string(), l.to_string());
        let fast = plain_row(text, &mut tuple).unwrap();
        let json: Vec<(i64, i64, String, String)> = serde_json::from_str(text).unwrap();
        assert_eq!(fast, json);
        assert_eq!(plain_row(" [ ] ", &mut tuple).unwrap().len(), 0);
        // What it does not read is left to serde_json: escapes, other shapes, trailing text,
        // numbers out of range.
        for other in [
            r#"[[1,0,"S","A\u002d1"]]"#,
            r#"[[1,0,"S"]]"#,
            r#"[[1,0,"S","A-1"]] x"#,
            r#"[[99999999999999999999,0,"S","A-1"]]"#,
            r#"{"a":1}"#,
            "[",
        ] {
            assert!(plain_row(other, &mut tuple).is_none(), "{other}");
        }
        let escaped = parse_row(r#"[[1,0,"S","A\u002d1"]]"#).unwrap();
        assert_eq!(&*escaped[0].label, "A-1");
        assert!(matches!(
            parse_row("not json"),
            Err(crate::error::Error::Corrupt(_))
        ));
    }

    /// Every line of every venue, as `seat_rows` has it and as `seats` has it.
    fn rows_both_ways(conn: &Db) -> (Vec<Vec<IndexedSeat>>, Vec<Vec<IndexedSeat>>) {
        let lines: Vec<(i64, i64)> = conn
            .prepare("SELECT DISTINCT venue_id, grid_y FROM seats ORDER BY 1, 2")
            .unwrap()
            .query_map((), |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<crate::store::sql::Result<_>>()
            .unwrap();
        let mut index = SeatIndex::default();
        let mut plain = conn
            .prepare(
                "SELECT id, label, category, grid_x FROM seats
                 WHERE venue_id = ?1 AND grid_y = ?2 ORDER BY grid_x",
            )
            .unwrap();
        lines
            .iter()
            .map(|&(venue, line)| {
                let ours = index.row(conn, venue, line).unwrap().to_vec();
                let theirs = plain
                    .query_map(params![venue, line], |r| {
                        Ok(IndexedSeat {
                            id: r.get(0)?,
                            label: r.get::<String>(1)?.into(),
                            category: r.get::<String>(2)?.into(),
                            x: r.get(3)?,
                        })
                    })
                    .unwrap()
                    .collect::<crate::store::sql::Result<Vec<_>>>()
                    .unwrap();
                (ours, theirs)
            })
            .unzip()
    }

    #[test]
    fn the_rows_written_with_a_venue_are_its_seats() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = crate::Store::open(
            dir.path().join("b.db"),
            std::sync::Arc::new(crate::clock::SystemClock),
        )
        .unwrap();
        store.seed_demo_if_empty().unwrap();
        let (ours, theirs) = rows_both_ways(store.conn());
        assert_eq!(ours.iter().map(Vec::len).sum::<usize>(), 100 + 842 + 10_480);
        assert_eq!(ours, theirs);
    }

    #[test]
    fn an_older_database_gets_its_rows_when_it_is_upgraded() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::store::schema::migrate(&mut conn, 11).unwrap();
        let mut conn = Db::new(conn);
        // A venue as version 11 wrote it: its seats, no rows.
        let layout = crate::catalog::parse_layout(crate::catalog::DEMO_VENUES[1].1).unwrap();
        conn.execute(
            "INSERT INTO venues (id, slug, name, city, timezone, layout, capacity)
             VALUES (1, 'hall', 'Hall', 'Town', 'UTC', '', ?1)",
            [layout.seats.len() as i64],
        )
        .unwrap();
        for s in &layout.seats {
            conn.execute(
                "INSERT INTO seats (venue_id, label, section, row_label, number, category, grid_x, grid_y)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![s.label, s.section, s.row, s.number, s.category, s.x, s.y],
            )
            .unwrap();
        }
        crate::store::schema::migrate(conn.sqlite_mut().unwrap(), 12).unwrap();
        let (ours, theirs) = rows_both_ways(&conn);
        assert_eq!(ours.iter().map(Vec::len).sum::<usize>(), 842);
        assert_eq!(ours, theirs);
    }

    #[test]
    fn finds_labels_per_venue_and_keeps_the_rows_it_read() {
        let conn = Db::new(rusqlite::Connection::open_in_memory().unwrap());
        venue(&conn);
        let mut index = SeatIndex::default();
        let (line, seat) = index.find(&conn, 1, "A-1").unwrap().unwrap();
        assert_eq!((line, seat.id, seat.x), (0, 2, 2));
        assert_eq!(
            &*index.find(&conn, 2, "A-1").unwrap().unwrap().1.category,
            "X"
        );
        assert!(index.find(&conn, 1, "Z-9").unwrap().is_none());
        let row = index.row(&conn, 1, 0).unwrap();
        assert_eq!(row.iter().map(|s| s.id).collect::<Vec<_>>(), [2, 1]);
        // One copy of a category per row read.
        assert!(Arc::ptr_eq(&row[0].category, &row[1].category));
        // Kept: read again from memory even after the tables are gone.
        conn.execute_batch("DROP TABLE seats; DROP TABLE seat_rows")
            .unwrap();
        assert_eq!(index.find(&conn, 1, "A-2").unwrap().unwrap().1.id, 1);
        assert_eq!(index.row(&conn, 1, 0).unwrap().len(), 2);
        // A row never read is not there to be found.
        assert!(index.find(&conn, 1, "B-1").is_err());
    }
}
