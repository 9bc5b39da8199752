//! The seat map: the venue drawn from its layout, every seat with a glyph and a colour, a
//! legend with prices, and the selection with its total (drawn in `draw.rs`); the same map as
//! lines of text for a screen reader (`list.rs`).

mod draw;
pub mod list;

pub use list::SeatList;

use super::{Cx, Held, Level, Outcome, Screen};
use crate::tui::keys::{Cmd, Ctx};
use boxoffice::booking::{BestRequest, GapAdvice};
use boxoffice::catalog::Layout as VenueLayout;
use boxoffice::{CustomerInfo, Error, SeatMap, SeatStatus};
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use std::cell::Cell;
use std::collections::HashMap;

pub(super) const GUTTER: u16 = 4;

/// A concert's seat map: the seats and their statuses, the cursor, the selection and what the
/// gap rule says about it.
pub struct MapState {
    pub map: SeatMap,
    pub layout: VenueLayout,
    pub by_pos: HashMap<(i64, i64), usize>,
    /// Layout lines that have seats, top to bottom.
    pub rows: Vec<i64>,
    /// Layout line to its first seat: the row label and section a drawn line shows.
    pub lines: HashMap<i64, usize>,
    pub cursor: usize,
    pub selected: Vec<i64>,
    pub advice: Option<GapAdvice>,
    /// `b` was pressed: the number being typed.
    pub best_prompt: Option<String>,
    /// Scroll offset (column, line), kept by drawing so the cursor stays in view.
    pub scroll: Cell<(i64, i64)>,
    /// Where the grid was last drawn, for mouse clicks.
    pub grid_area: Cell<Rect>,
    /// Cells per seat and left padding of the last drawing.
    pub grid_geometry: Cell<(i64, u16)>,
    /// When the next hold shown as held runs out: the seats are read again then.
    pub next_expiry: Option<chrono::DateTime<chrono::Utc>>,
    /// The map read as lines of text (Tab), when open.
    pub list: Option<SeatList>,
}

impl MapState {
    /// A concert's seat map, the cursor on the best free seat near the front centre. A
    /// cancelled concert has nothing left to sell, so it is said instead.
    pub fn open(cx: &mut Cx, concert_id: i64) -> Option<MapState> {
        match MapState::read(cx, concert_id) {
            Ok(m) if m.map.concert.status == boxoffice::ConcertStatus::Cancelled => {
                cx.say(
                    Level::Error,
                    "this concert is cancelled; its bookings were refunded",
                );
                None
            }
            Ok(m) => {
                cx.quiet();
                Some(m)
            }
            Err(e) => {
                cx.fail(&e);
                None
            }
        }
    }

    fn read(cx: &mut Cx, concert_id: i64) -> boxoffice::Result<MapState> {
        let map = cx.store.seat_map(concert_id)?;
        let layout = cx.store.concert_layout(concert_id)?;
        let mut by_pos = HashMap::new();
        let mut lines = HashMap::new();
        let mut rows: Vec<i64> = Vec::new();
        for (i, s) in map.seats.iter().enumerate() {
            by_pos.insert((s.x, s.y), i);
            lines.entry(s.y).or_insert(i);
            rows.push(s.y);
        }
        rows.sort_unstable();
        rows.dedup();
        let centre = layout.width as i64 / 2;
        let cursor = map
            .seats
            .iter()
            .enumerate()
            .filter(|(_, s)| s.status == SeatStatus::Free)
            .min_by_key(|(_, s)| (s.y * 4).pow(2) + (s.x - centre).pow(2))
            .map(|(i, _)| i)
            .unwrap_or(0);
        Ok(MapState {
            map,
            layout,
            by_pos,
            rows,
            lines,
            cursor,
            selected: Vec::new(),
            advice: None,
            best_prompt: None,
            scroll: Cell::new((0, 0)),
            grid_area: Cell::new(Rect::default()),
            grid_geometry: Cell::new((1, 0)),
            next_expiry: cx.store.next_expiry(concert_id)?,
            list: None,
        })
    }

    /// The seats selected, in the map's order.
    pub fn chosen(&self) -> Vec<&boxoffice::SeatInfo> {
        self.map
            .seats
            .iter()
            .filter(|s| self.selected.contains(&s.seat_id))
            .collect()
    }

    pub fn keys(&self) -> (Ctx, bool) {
        if self.list.is_some() {
            // Letters and digits are the seats being typed.
            return (Ctx::SeatList, true);
        }
        (Ctx::SeatMap, self.best_prompt.is_some())
    }

    /// Whether a hold shown as held has run out since the seats were read (expiry writes
    /// nothing another terminal could notice).
    pub fn stale(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.next_expiry.is_some_and(|t| t <= now)
    }

    /// Reloads the seats' statuses, keeping the cursor and whatever of the selection is still
    /// free. The layout, positions and rows do not change, so they are not read again.
    pub fn refresh(&mut self, cx: &mut Cx) {
        let map = match cx.store.seat_map(self.map.concert.id) {
            Ok(map) => map,
            Err(e) => return cx.fail(&e),
        };
        let before = self.selected.len();
        self.selected.retain(|id| {
            map.seats
                .iter()
                .any(|s| s.seat_id == *id && s.status == SeatStatus::Free)
        });
        let lost = before - self.selected.len();
        self.map = map;
        self.next_expiry = cx.store.next_expiry(self.map.concert.id).unwrap_or(None);
        self.update_advice(cx);
        if lost > 0 {
            cx.say(
                Level::Error,
                format!("{lost} selected seat(s) were just taken at another terminal"),
            );
        }
    }

    fn update_advice(&mut self, cx: &mut Cx) {
        self.advice = cx
            .store
            .selection_advice(self.map.concert.id, &self.selected)
            .unwrap_or(None);
    }

    fn move_cursor(&mut self, dx: i64, dy: i64) {
        let Some(cur) = self.map.seats.get(self.cursor) else {
            return;
        };
        let (x, y) = (cur.x, cur.y);
        if dy == 0 {
            let next = self
                .map
                .seats
                .iter()
                .enumerate()
                .filter(|(_, s)| s.y == y && (s.x - x).signum() == dx.signum())
                .min_by_key(|(_, s)| (s.x - x).abs());
            if let Some((i, _)) = next {
                self.cursor = i;
            }
            return;
        }
        let pos = self.rows.iter().position(|r| *r == y).unwrap_or(0) as i64;
        let target = (pos + dy).clamp(0, self.rows.len() as i64 - 1) as usize;
        let ty = self.rows[target];
        if let Some((i, _)) = self
            .map
            .seats
            .iter()
            .enumerate()
            .filter(|(_, s)| s.y == ty)
            .min_by_key(|(_, s)| (s.x - x).abs())
        {
            self.cursor = i;
        }
    }

    fn toggle_seat(&mut self, cx: &mut Cx, index: usize) {
        let Some(seat) = self.map.seats.get(index) else {
            return;
        };
        let id = seat.seat_id;
        if let Some(p) = self.selected.iter().position(|s| *s == id) {
            self.selected.remove(p);
        } else if seat.status != SeatStatus::Free {
            let why = match seat.status {
                SeatStatus::Reserved => "is kept for the waiting list",
                SeatStatus::Booked => "is sold",
                _ => "is held by someone else",
            };
            cx.say(Level::Error, format!("{} {why}", seat.seat));
            return;
        } else if self.selected.len() as i64 >= self.map.concert.ticket_limit {
            cx.say(
                Level::Error,
                format!(
                    "at most {} tickets per customer for this concert",
                    self.map.concert.ticket_limit
                ),
            );
            return;
        } else {
            self.selected.push(id);
        }
        cx.quiet();
        self.update_advice(cx);
    }

    pub fn key(&mut self, cx: &mut Cx, cmd: Option<Cmd>, key: &KeyEvent) -> Outcome {
        if self.list.is_some() {
            return self.list_key(cx, cmd, key);
        }
        if let Some(prompt) = &mut self.best_prompt {
            match key.code {
                KeyCode::Enter => {
                    let asked = std::mem::take(prompt);
                    self.best_prompt = None;
                    match parse_best(&asked) {
                        Ok(best) => self.pick_best(cx, best),
                        Err(why) => cx.say(Level::Error, why),
                    }
                }
                KeyCode::Esc => self.best_prompt = None,
                KeyCode::Char(c) if !c.is_control() && prompt.chars().count() < 40 => {
                    prompt.push(c)
                }
                KeyCode::Backspace => {
                    prompt.pop();
                }
                _ => {}
            }
            return Outcome::Stay;
        }
        match cmd {
            Some(Cmd::Left) => self.move_cursor(-1, 0),
            Some(Cmd::Right) => self.move_cursor(1, 0),
            Some(Cmd::Up) => self.move_cursor(0, -1),
            Some(Cmd::Down) => self.move_cursor(0, 1),
            Some(Cmd::PageUp) => self.move_cursor(0, -10),
            Some(Cmd::PageDown) => self.move_cursor(0, 10),
            Some(Cmd::Toggle) => self.toggle_seat(cx, self.cursor),
            Some(Cmd::Best) => self.best_prompt = Some(String::new()),
            Some(Cmd::Clear) => {
                self.selected.clear();
                self.advice = None;
            }
            Some(Cmd::Checkout) => return self.checkout(cx),
            Some(Cmd::ListMode) => {
                self.list = Some(SeatList::default());
                cx.say(
                    Level::Info,
                    "free seats, best first: Enter chooses a line, or type seats (F 10-11)",
                );
            }
            Some(Cmd::Waitlist) => {
                return Outcome::Waitlist {
                    concert: self.map.concert.id,
                    back: Screen::SeatMap,
                    join: false,
                };
            }
            Some(Cmd::Back) => return Outcome::LeaveMap,
            _ => {}
        }
        Outcome::Stay
    }

    fn pick_best(&mut self, cx: &mut Cx, best: BestRequest) {
        let n = best.count;
        match cx.store.suggest_best(self.map.concert.id, &best) {
            Ok(pick) => {
                let text = if pick.together {
                    format!("best {n} together: {}", pick.labels.join(" "))
                } else {
                    format!(
                        "no row has {n} together; best split: {}",
                        pick.labels.join(" ")
                    )
                };
                self.selected = pick.ids.clone();
                if let Some(i) = self.map.seats.iter().position(|s| s.seat_id == pick.ids[0]) {
                    self.cursor = i;
                }
                self.update_advice(cx);
                cx.say(
                    if pick.together {
                        Level::Ok
                    } else {
                        Level::Info
                    },
                    text,
                );
            }
            Err(e) => cx.fail(&e),
        }
    }

    /// A click at a terminal cell: the seat drawn there is toggled.
    pub fn click(&mut self, cx: &mut Cx, column: u16, row: u16) {
        let area = self.grid_area.get();
        if column < area.x
            || row < area.y
            || column >= area.x + area.width
            || row >= area.y + area.height
        {
            return;
        }
        let (sx, sy) = self.scroll.get();
        let (scale, pad) = self.grid_geometry.get();
        if column < area.x + pad {
            return;
        }
        let x = (column - area.x - pad) as i64 / scale + sx;
        let y = (row - area.y) as i64 + sy;
        if let Some(&i) = self.by_pos.get(&(x, y)) {
            self.cursor = i;
            self.toggle_seat(cx, i);
        }
    }

    /// The selection, held at once and taken to the checkout. A refusal (taken, a stranded
    /// seat, the limit, not on sale) keeps the selection and says what to change.
    fn checkout(&mut self, cx: &mut Cx) -> Outcome {
        if self.selected.is_empty() {
            cx.say(
                Level::Error,
                "select seats first: Space on a seat, or b for best available",
            );
            return Outcome::Stay;
        }
        let labels: Vec<String> = self.chosen().iter().map(|s| s.seat.clone()).collect();
        // Held at once, before anything is typed: every check (taken, gap, limit, on sale,
        // waiting list) is made here.
        match cx
            .store
            .hold_seats(self.map.concert.id, &labels, &CustomerInfo::default())
        {
            Ok(hold) => {
                cx.say(Level::Ok, "seats held: take the payment");
                Outcome::Checkout(Box::new(Held {
                    concert: self.map.concert.clone(),
                    hold,
                    holder: None,
                }))
            }
            Err(e) => {
                if matches!(e, Error::SeatsTaken(_) | Error::ReservedForWaitlist(_)) {
                    // What changed is shown: the seats someone else has drop out of the selection.
                    self.refresh(cx);
                }
                cx.fail(&e);
                Outcome::Stay
            }
        }
    }
}

/// A best-available request as a clerk says it: `4`, `4 together, category P`, `4 P`,
/// `4 under EUR 60`, `2 S under 45,50`. The number of seats first; a seat category by its
/// code; a price limit after `under` (or `<`, `max`), typed as money is typed.
pub fn parse_best(text: &str) -> Result<BestRequest, String> {
    // Words, a comma after one set aside (`together, category P`); `45,50` is one word.
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| w.trim_end_matches(',').to_string())
        .filter(|w| !w.is_empty())
        .collect();
    let example = "e.g. 4, 4 P or 4 under 60";
    let count: usize = match words.first().map(|w| w.parse()) {
        Some(Ok(n)) if n > 0 => n,
        _ => return Err(format!("type how many seats first: {example}")),
    };
    let mut best = BestRequest {
        count,
        ..Default::default()
    };
    let mut i = 1;
    while i < words.len() {
        let w = words[i].to_lowercase();
        match w.as_str() {
            "together" | "seats" | "seat" | "in" | "of" | "eur" | "€" | "category" | "cat" => {}
            "under" | "<" | "max" | "below" | "up" => {
                let filler = |w: &str| ["eur", "€", "to"].contains(&w.to_lowercase().as_str());
                let Some(j) = (i + 1..words.len()).find(|&j| !filler(&words[j])) else {
                    return Err(format!("under what price? {example}"));
                };
                let cents = boxoffice::model::parse_money(words[j].trim_start_matches('€'))
                    .map_err(|e| format!("the price limit: {e}"))?;
                best.max_price_cents = Some(cents);
                i = j;
            }
            code if code.len() <= 3 && code.chars().all(|c| c.is_ascii_alphabetic()) => {
                best.category = Some(code.to_ascii_uppercase());
            }
            _ => return Err(format!("`{}` is not understood: {example}", words[i])),
        }
        i += 1;
    }
    Ok(best)
}

#[cfg(test)]
mod best_tests {
    use super::parse_best;

    #[test]
    fn best_available_is_asked_for_as_a_clerk_says_it() {
        let b = parse_best("4").unwrap();
        assert_eq!((b.count, b.category, b.max_price_cents), (4, None, None));
        let b = parse_best("4 together, category P").unwrap();
        assert_eq!((b.count, b.category.as_deref()), (4, Some("P")));
        let b = parse_best("4 under EUR 60").unwrap();
        assert_eq!((b.count, b.max_price_cents), (4, Some(6000)));
        let b = parse_best("2 s under 45,50").unwrap();
        assert_eq!(
            (b.count, b.category.as_deref(), b.max_price_cents),
            (2, Some("S"), Some(4550))
        );
        assert!(parse_best("").is_err());
        assert!(parse_best("P 4").is_err());
        assert!(parse_best("4 under").is_err());
        assert!(parse_best("4 under lots").is_err());
        assert!(parse_best("4 please!").is_err());
    }
}
