//! Seat geometry for fair selling: which seats sit together, which selection would strand a
//! single seat, and the best available seats by distance to the stage centre.
//!
//! A row is split into blocks at aisles (gaps in the layout grid); seats are adjacent only
//! within a block. A seat is stranded when it is free but both its neighbours in the block are
//! taken (or are the block's end): nobody buying two tickets will ever take it.

use std::collections::BTreeMap;
use std::sync::Arc;

/// A seat for the geometry. Label and category are shared with the connection's seat index:
/// the seats around a hold are built for every attempt, and copying two strings a seat was
/// most of that.
#[derive(Debug, Clone)]
pub struct SeatPos {
    /// The seat's number in the store.
    pub id: i64,
    /// The seat's label (`STL-C-12`).
    pub label: Arc<str>,
    /// The code of its category (`P`).
    pub category: Arc<str>,
    /// Its price for the concert, in cents.
    pub price_cents: i64,
    /// The grid column, from 0 at the left.
    pub x: i64,
    /// The grid line, from 0 nearest the stage; seats on one line are a row.
    pub y: i64,
    /// Whether the seat is free to take.
    pub free: bool,
}

/// A suggested set of seats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    /// The seats' labels, in the order picked.
    pub labels: Vec<String>,
    /// The seats' numbers in the store, in the same order as `labels`.
    pub ids: Vec<i64>,
    /// All in one block of one row.
    pub together: bool,
    /// Leaves no single seat stranded.
    pub gap_free: bool,
}

/// The seats of a hall (or part of it) arranged in rows and blocks, for the fairness rules.
pub struct Geometry<'a> {
    seats: &'a [SeatPos],
    /// Blocks of seat indices, each sorted by x.
    blocks: Vec<Vec<usize>>,
    /// Block and position in block of every seat.
    place: Vec<(usize, usize)>,
    centre_x: f64,
}

impl<'a> Geometry<'a> {
    /// `centre_x` is the stage centre in grid columns (half the layout width).
    pub fn new(seats: &'a [SeatPos], centre_x: f64) -> Geometry<'a> {
        let mut rows: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for (i, s) in seats.iter().enumerate() {
            rows.entry(s.y).or_default().push(i);
        }
        let mut blocks: Vec<Vec<usize>> = Vec::new();
        for (_, mut idx) in rows {
            idx.sort_by_key(|i| seats[*i].x);
            let mut block: Vec<usize> = Vec::new();
            for i in idx {
                if let Some(last) = block.last()
                    && seats[i].x != seats[*last].x + 1
                {
                    blocks.push(std::mem::take(&mut block));
                }
                block.push(i);
            }
            if !block.is_empty() {
                blocks.push(block);
            }
        }
        let mut place = vec![(0, 0); seats.len()];
        for (b, block) in blocks.iter().enumerate() {
            for (p, i) in block.iter().enumerate() {
                place[*i] = (b, p);
            }
        }
        Geometry {
            seats,
            blocks,
            place,
            centre_x,
        }
    }

    /// The index in the geometry's seats of the seat numbered `id`; `None` if it is not there.
    pub fn index_of(&self, id: i64) -> Option<usize> {
        self.seats.iter().position(|s| s.id == id)
    }

    /// Free seats of `block` standing alone, treating `taken` as no longer free.
    fn singles(&self, block: usize, taken: &[usize]) -> Vec<usize> {
        let b = &self.blocks[block];
        let free = |p: usize| self.seats[b[p]].free && !taken.contains(&b[p]);
        (0..b.len())
            .filter(|&p| free(p) && (p == 0 || !free(p - 1)) && (p + 1 == b.len() || !free(p + 1)))
            .map(|p| b[p])
            .collect()
    }

    /// The seats a selection would leave stranded that were not stranded before.
    pub fn new_gaps(&self, selection: &[usize]) -> Vec<String> {
        // A selection and a block's single seats are a handful: lists, not hash sets (whose
        // set-up cost more than the rule).
        let taken = selection;
        let mut blocks: Vec<usize> = selection.iter().map(|i| self.place[*i].0).collect();
        blocks.sort_unstable();
        blocks.dedup();
        let mut out = Vec::new();
        for b in blocks {
            let before = self.singles(b, &[]);
            for i in self.singles(b, taken) {
                if !before.contains(&i) {
                    out.push(self.seats[i].label.to_string());
                }
            }
        }
        out
    }

    /// Distance to the stage centre: rows count double, so the front centre comes first.
    fn score(&self, idx: &[usize]) -> f64 {
        let n = idx.len() as f64;
        let x = idx.iter().map(|i| self.seats[*i].x as f64).sum::<f64>() / n;
        let y = idx.iter().map(|i| self.seats[*i].y as f64).sum::<f64>() / n;
        (2.0 * y).powi(2) + (x - self.centre_x).powi(2)
    }

    fn pick(&self, idx: Vec<usize>, together: bool) -> Pick {
        let gap_free = self.new_gaps(&idx).is_empty();
        Pick {
            labels: idx
                .iter()
                .map(|i| self.seats[*i].label.to_string())
                .collect(),
            ids: idx.iter().map(|i| self.seats[*i].id).collect(),
            together,
            gap_free,
        }
    }

    /// The best `n` free seats that pass `accept`: together in one block without stranding a
    /// seat, else together with a gap, else the best split. `None` if fewer than `n` are free.
    pub fn best(&self, n: usize, accept: impl Fn(&SeatPos) -> bool) -> Option<Pick> {
        if n == 0 {
            return None;
        }
        let ok = |i: usize| self.seats[i].free && accept(&self.seats[i]);
        let mut best_clean: Option<(f64, Vec<usize>)> = None;
        let mut best_gappy: Option<(f64, Vec<usize>)> = None;
        for block in &self.blocks {
            if block.len() < n {
                continue;
            }
            for start in 0..=block.len() - n {
                let window = &block[start..start + n];
                if !window.iter().all(|i| ok(*i)) {
                    continue;
                }
                let score = self.score(window);
                let slot = if self.new_gaps(window).is_empty() {
                    &mut best_clean
                } else {
                    &mut best_gappy
                };
                if slot.as_ref().is_none_or(|(s, _)| score < *s) {
                    *slot = Some((score, window.to_vec()));
                }
            }
        }
        if let Some((_, idx)) = best_clean.or(best_gappy) {
            return Some(self.pick(idx, true));
        }
        let mut free: Vec<usize> = (0..self.seats.len()).filter(|i| ok(*i)).collect();
        if free.len() < n {
            return None;
        }
        free.sort_by(|a, b| self.score(&[*a]).total_cmp(&self.score(&[*b])));
        free.truncate(n);
        free.sort_by_key(|i| (self.seats[*i].y, self.seats[*i].x));
        Some(self.pick(free, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row per string: `.` free, `x` taken, ` ` aisle.
    fn venue(rows: &[&str]) -> Vec<SeatPos> {
        let mut out = Vec::new();
        for (y, row) in rows.iter().enumerate() {
            let mut n = 0;
            for (x, c) in row.chars().enumerate() {
                if c == ' ' {
                    continue;
                }
                n += 1;
                out.push(SeatPos {
                    id: (y * 100 + n) as i64,
                    label: format!("{}{n}", (b'A' + y as u8) as char).into(),
                    category: "S".into(),
                    price_cents: 1000,
                    x: x as i64,
                    y: y as i64,
                    free: c == '.',
                });
            }
        }
        out
    }

    fn sel(g: &Geometry, labels: &[&str]) -> Vec<usize> {
        labels
            .iter()
            .map(|l| g.seats.iter().position(|s| &*s.label == *l).unwrap())
            .collect()
    }

    #[test]
    fn a_selection_that_strands_one_seat_is_spotted() {
        let seats = venue(&["x......x"]);
        let g = Geometry::new(&seats, 4.0);
        // Taking A3-A4 leaves A2 alone between A1 (taken) and A3.
        assert_eq!(g.new_gaps(&sel(&g, &["A3", "A4"])), vec!["A2"]);
        assert!(g.new_gaps(&sel(&g, &["A2", "A3"])).is_empty());
        // Against the row's end, too.
        let seats = venue(&["......"]);
        let g = Geometry::new(&seats, 3.0);
        assert_eq!(g.new_gaps(&sel(&g, &["A2", "A3"])), vec!["A1"]);
        // And against an aisle; a gap that already existed is not this selection's fault.
        let seats = venue(&[".... .x.x"]);
        let g = Geometry::new(&seats, 4.0);
        assert_eq!(g.new_gaps(&sel(&g, &["A2", "A3"])), vec!["A1", "A4"]);
        assert!(g.new_gaps(&sel(&g, &["A5"])).is_empty());
    }

    #[test]
    fn best_available_prefers_together_without_a_gap_near_the_front_centre() {
        let seats = venue(&["xx....xx", "........"]);
        let g = Geometry::new(&seats, 3.5);
        let p = g.best(2, |_| true).unwrap();
        assert!(p.together && p.gap_free);
        // A4-A5 is more central but would strand A3.
        assert!(
            p.labels == vec!["A3", "A4"] || p.labels == vec!["A5", "A6"],
            "{p:?}"
        );
        // Four together exist only in row A (exactly) and row B.
        let p = g.best(4, |_| true).unwrap();
        assert_eq!(p.labels, vec!["A3", "A4", "A5", "A6"]);
    }

    #[test]
    fn together_with_a_gap_beats_a_split_and_a_split_is_said() {
        let seats = venue(&["x...x"]);
        let g = Geometry::new(&seats, 2.5);
        let p = g.best(2, |_| true).unwrap();
        assert!(p.together && !p.gap_free, "{p:?}");
        let seats = venue(&["x.x.x", "..x.."]);
        let g = Geometry::new(&seats, 2.5);
        let p = g.best(3, |_| true).unwrap();
        assert!(!p.together);
        assert_eq!(p.labels.len(), 3);
        assert!(g.best(9, |_| true).is_none());
    }

    #[test]
    fn aisles_break_adjacency() {
        let seats = venue(&["xx. .xx"]);
        let g = Geometry::new(&seats, 3.5);
        let p = g.best(2, |_| true).unwrap();
        assert!(!p.together, "{p:?}");
    }
}
