//! The seats of the venues a connection has held seats in, kept in memory.
//!
//! A venue's seats are written once, with the venue, in one transaction, and never changed or
//! deleted (no statement updates or deletes a seat). So once a connection has read a row of
//! seats it may keep it: a hold then finds its labels and the seats around them here instead
//! of in two indexes, which was a quarter of a hold's work inside the write lock (and pages
//! every other terminal's commit throws out of the connection's cache). Claims, prices and
//! everything else that changes are still read in the transaction.

use crate::error::Result;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
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

/// FNV-1a: labels are short and not chosen by an attacker who could flood one bucket (they
/// come from the venue's own layout), so the standard library's SipHash, made for that, was
/// most of the cost of reading a row of seats.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// Rows of seats by (venue, layout line), and where each label is. Bounded: past
/// [`MAX_ROWS`] rows it starts again (a box office sells a few venues at a time).
#[derive(Default)]
pub(crate) struct SeatIndex {
    rows: FnvMap<(i64, i64), Arc<[IndexedSeat]>>,
    labels: FnvMap<i64, FnvMap<Arc<str>, (i64, usize)>>,
    /// The venue each concert was last seen at (a hint for [`SeatIndex::warm`]; a concert
    /// can move to another venue).
    venues: FnvMap<i64, i64>,
}

/// Rows kept before the index starts again: 20,000-seat arenas have 100 to 200 rows.
const MAX_ROWS: usize = 4096;

impl SeatIndex {
    /// The seats of a layout line, ordered by column (empty for a line without seats).
    pub(crate) fn row(
        &mut self,
        conn: &Connection,
        venue_id: i64,
        line: i64,
    ) -> Result<Arc<[IndexedSeat]>> {
        if let Some(row) = self.rows.get(&(venue_id, line)) {
            return Ok(row.clone());
        }
        if self.rows.len() >= MAX_ROWS {
            *self = SeatIndex::default();
        }
        let mut st = conn.prepare_cached(
            "SELECT id, label, category, grid_x FROM seats
             WHERE venue_id = ?1 AND grid_y = ?2 ORDER BY grid_x",
        )?;
        // A hall has a handful of categories: one shared copy of each.
        let mut categories: Vec<Arc<str>> = Vec::new();
        let mut seats = Vec::new();
        let mut rows = st.query(params![venue_id, line])?;
        while let Some(r) = rows.next()? {
            let category = r.get_ref(2)?.as_str().map_err(rusqlite::Error::from)?;
            let category = match categories.iter().find(|c| &***c == category) {
                Some(c) => c.clone(),
                None => {
                    categories.push(category.into());
                    categories[categories.len() - 1].clone()
                }
            };
            seats.push(IndexedSeat {
                id: r.get(0)?,
                label: r
                    .get_ref(1)?
                    .as_str()
                    .map_err(rusqlite::Error::from)?
                    .into(),
                category,
                x: r.get(3)?,
            });
        }
        let row: Arc<[IndexedSeat]> = seats.into();
        let labels = self.labels.entry(venue_id).or_default();
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
        conn: &Connection,
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
    pub(crate) fn warm(
        &mut self,
        conn: &Connection,
        concert_id: i64,
        labels: &[String],
    ) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn venue(conn: &Connection) {
        conn.execute_batch(
            "CREATE TABLE seats (id INTEGER PRIMARY KEY, venue_id INTEGER, label TEXT,
                 category TEXT, grid_x INTEGER, grid_y INTEGER);
             INSERT INTO seats VALUES (1, 1, 'A-2', 'S', 4, 0), (2, 1, 'A-1', 'S', 2, 0),
                 (3, 1, 'B-1', 'P', 2, 1), (4, 2, 'A-1', 'X', 0, 0);",
        )
        .unwrap();
    }

    #[test]
    fn finds_labels_per_venue_and_keeps_the_rows_it_read() {
        let conn = Connection::open_in_memory().unwrap();
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
        // Kept: read again from memory even after the table is gone.
        conn.execute_batch("DROP TABLE seats").unwrap();
        assert_eq!(index.find(&conn, 1, "A-2").unwrap().unwrap().1.id, 1);
        assert_eq!(index.row(&conn, 1, 0).unwrap().len(), 2);
        // A row never read is not there to be found.
        assert!(index.find(&conn, 1, "B-1").is_err());
    }
}
