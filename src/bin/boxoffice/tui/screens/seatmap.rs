//! The seat map: the venue drawn from its layout, every seat with a glyph and a colour, a
//! legend with prices, and the selection with its total.

use super::checkout::Checkout;
use super::{Cx, Outcome, View};
use crate::tui::app::{Level, Screen};
use crate::tui::keys::{Cmd, Ctx};
use crate::tui::theme::{SELECTED_GLYPH, Theme, glyph};
use crate::tui::widgets::{edit, safe, step};
use boxoffice::booking::{BestRequest, GapAdvice};
use boxoffice::catalog::Layout as VenueLayout;
use boxoffice::{Error, Money, SeatMap, SeatStatus};
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use std::cell::Cell;
use std::collections::HashMap;

use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

const GUTTER: u16 = 4;

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

/// The seat map as lines of text, one a run of free seats, best first: for a screen reader
/// and a slow link. A line is chosen with Enter, or seats by typing `F 10-11`; Enter again
/// holds what was chosen.
#[derive(Debug, Default)]
pub struct SeatList {
    pub cursor: usize,
    pub typed: String,
    /// A choice was just made: the next Enter holds it.
    pub chosen: bool,
    /// The first line shown (kept by drawing so the cursor stays in view).
    pub scroll: Cell<usize>,
}

/// A run of free seats as a line a screen reader says well: `Row F, seats 10 to 14 free,
/// Premium EUR 69.00`; with the section where the hall has more than one.
pub fn run_line(run: &boxoffice::FreeRun, sections: bool, currency: &str) -> String {
    let row = if sections {
        format!("{} row {}", run.section, run.row)
    } else {
        format!("Row {}", run.row)
    };
    let seats = if run.first == run.last {
        format!("seat {} free", run.first)
    } else {
        format!("seats {} to {} free", run.first, run.last)
    };
    format!(
        "{row}, {seats}, {} {}",
        run.category_name,
        Money::new(run.price_cents, currency)
    )
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

    pub fn keys(&self) -> (Ctx, bool) {
        if self.list.is_some() {
            // Letters and digits are the seats being typed.
            return (Ctx::SeatList, true);
        }
        (Ctx::SeatMap, self.best_prompt.is_some())
    }

    fn list_key(&mut self, cx: &mut Cx, cmd: Option<Cmd>, key: &KeyEvent) -> Outcome {
        let runs = self.map.free_runs();
        let Some(list) = self.list.as_mut() else {
            return Outcome::Stay;
        };
        let moved = |list: &mut SeatList, by: isize| {
            list.cursor = step(list.cursor, by, runs.len());
            list.chosen = false;
        };
        match cmd {
            Some(Cmd::Up) => moved(list, -1),
            Some(Cmd::Down) => moved(list, 1),
            Some(Cmd::PageUp) => moved(list, -10),
            Some(Cmd::PageDown) => moved(list, 10),
            Some(Cmd::ListMode) => self.list = None,
            Some(Cmd::Back) if !list.typed.is_empty() => list.typed.clear(),
            Some(Cmd::Back) => self.list = None,
            Some(Cmd::Open) if list.typed.trim().is_empty() && list.chosen => {
                return self.checkout(cx);
            }
            Some(Cmd::Open)
                if list
                    .typed
                    .trim_start()
                    .get(..5)
                    .is_some_and(|w| w.eq_ignore_ascii_case("best ")) =>
            {
                // `best 4`, `best 4 P`: best available, as `b` asks on the grid (`b 4` here
                // is row B's seat 4).
                let asked = std::mem::take(&mut list.typed);
                match parse_best(asked.trim_start()[5..].trim()) {
                    Ok(best) => {
                        self.pick_best(cx, best);
                        if let Some(list) = self.list.as_mut() {
                            list.chosen = !self.selected.is_empty();
                        }
                    }
                    Err(why) => {
                        if let Some(list) = self.list.as_mut() {
                            list.typed = asked;
                        }
                        cx.say(Level::Error, why);
                    }
                }
            }
            Some(Cmd::Open) => {
                let typed = std::mem::take(&mut list.typed);
                let limit = self.map.concert.ticket_limit;
                let picked = if typed.trim().is_empty() {
                    match runs.get(list.cursor) {
                        Some(run) if run.seat_ids.len() as i64 > limit => Err(format!(
                            "{} seats free together there, at most {limit} a customer: type                              which, e.g. {} {}-{}",
                            run.seat_ids.len(),
                            run.row,
                            run.first,
                            run.first + 1
                        )),
                        Some(run) => Ok(run.seat_ids.clone()),
                        None => Err("no free seats".to_string()),
                    }
                } else {
                    self.map.block(&typed).and_then(|ids| {
                        if ids.len() as i64 > limit {
                            Err(format!(
                                "at most {limit} tickets per customer for this concert"
                            ))
                        } else {
                            Ok(ids)
                        }
                    })
                };
                match picked {
                    Ok(ids) => {
                        list.chosen = true;
                        self.selected = ids;
                        self.update_advice(cx);
                        let labels: Vec<&str> = self
                            .map
                            .seats
                            .iter()
                            .filter(|s| self.selected.contains(&s.seat_id))
                            .map(|s| s.seat.as_str())
                            .collect();
                        let total: i64 = self
                            .map
                            .seats
                            .iter()
                            .filter(|s| self.selected.contains(&s.seat_id))
                            .map(|s| s.price_cents)
                            .sum();
                        let advice = self
                            .advice
                            .as_ref()
                            .map(|a| format!("; it leaves {} on its own", a.stranded.join(", ")))
                            .unwrap_or_default();
                        cx.say(
                            Level::Ok,
                            format!(
                                "chosen {}, {}{advice}: Enter holds them",
                                labels.join(" "),
                                Money::new(total, &self.map.concert.currency)
                            ),
                        );
                    }
                    Err(why) => {
                        // What was typed stays, to correct.
                        if let Some(list) = self.list.as_mut() {
                            list.typed = typed;
                        }
                        cx.say(Level::Error, why);
                    }
                }
            }
            _ => {
                list.chosen = false;
                edit(&mut list.typed, key, 40);
            }
        }
        Outcome::Stay
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
        let labels: Vec<String> = self
            .map
            .seats
            .iter()
            .filter(|s| self.selected.contains(&s.seat_id))
            .map(|s| s.seat.clone())
            .collect();
        match Checkout::start(cx, self.map.concert.clone(), labels, cx.habits.method) {
            Ok(c) => {
                cx.say(Level::Ok, "seats held: take the payment");
                Outcome::Checkout(Box::new(c))
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

    pub fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let m = self;
        let t = v.theme;
        let [head, map, legend, panel] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(5),
            Constraint::Length(2),
            Constraint::Length(3),
        ])
        .areas(area);
        let c = &m.map.concert;
        frame.render_widget(
            Line::from(vec![
                Span::styled(safe(&format!("{} - {}", c.artist, c.title)), t.title),
                Span::raw(format!(
                    " · {} · {}",
                    c.at_venue(c.starts_at),
                    safe(&c.venue),
                )),
            ]),
            head,
        );
        match &m.list {
            Some(list) => {
                let [lines, typed] = Layout::vertical([Constraint::Min(3), Constraint::Length(2)])
                    .areas(map.union(legend));
                draw_list(frame, t, m, list, lines);
                frame.render_widget(
                    Paragraph::new(vec![
                        Line::from(vec![
                            Span::styled("Seats: ", t.dim),
                            Span::styled(safe(&list.typed), t.field_focus),
                            Span::styled("_", t.cursor),
                        ]),
                        Line::styled(
                            "Type seats (F 10-11) or best 4, or pick a line: Enter chooses, again holds",
                            t.dim,
                        ),
                    ]),
                    typed,
                );
            }
            None => {
                draw_grid(frame.buffer_mut(), t, m, map);
                draw_legend(frame, t, m, legend);
            }
        }
        draw_panel(frame, t, m, panel);
    }
}

/// The free seats as lines of text, best first; the line with the cursor marked `>` (no colour
/// needed), chosen seats marked `*`.
fn draw_list(frame: &mut Frame, t: &Theme, m: &MapState, list: &SeatList, area: Rect) {
    let runs = m.map.free_runs();
    let mut sections: Vec<&str> = runs.iter().map(|r| r.section.as_str()).collect();
    sections.sort_unstable();
    sections.dedup();
    let room = area.height.saturating_sub(2) as usize;
    let cursor = list.cursor.min(runs.len().saturating_sub(1));
    let mut top = list.scroll.get();
    if cursor < top {
        top = cursor;
    } else if room > 0 && cursor >= top + room {
        top = cursor + 1 - room;
    }
    list.scroll.set(top);
    let lines: Vec<Line> = if runs.is_empty() {
        vec![Line::raw("No free seats.")]
    } else {
        runs.iter()
            .enumerate()
            .skip(top)
            .take(room.max(1))
            .map(|(i, r)| {
                let chosen = r.seat_ids.iter().any(|id| m.selected.contains(id));
                let text = format!(
                    "{}{} {}",
                    if i == cursor { ">" } else { " " },
                    if chosen { "*" } else { " " },
                    safe(&run_line(r, sections.len() > 1, &m.map.concert.currency))
                );
                if i == cursor {
                    Line::styled(text, t.selected_row)
                } else {
                    Line::raw(text)
                }
            })
            .collect()
    };
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(format!(
            " Free seats, best first: {} lines (Tab: the map) ",
            runs.len()
        ))),
        area,
    );
}

fn category_index(m: &MapState, code: &str) -> usize {
    // Cheapest first, so the palette reads calm to bright.
    let n = m.map.categories.len();
    m.map
        .categories
        .iter()
        .position(|k| k.code == code)
        .map(|i| n - 1 - i)
        .unwrap_or(0)
}

fn draw_grid(buf: &mut Buffer, t: &Theme, m: &MapState, area: Rect) {
    let max_y = m.rows.last().copied().unwrap_or(0);
    let width = m.layout.width as i64;
    let block = Block::bordered();
    let inner = block.inner(area);
    // Stage on the first line, then the grid beside a gutter of row labels.
    let grid = Rect::new(
        inner.x + GUTTER,
        inner.y + 1,
        inner.width.saturating_sub(GUTTER),
        inner.height.saturating_sub(1),
    );
    // Small venues are drawn two cells per seat and centred; large ones one cell and scrolled.
    let scale: i64 = if width * 2 <= grid.width as i64 { 2 } else { 1 };
    let pad = ((grid.width as i64 - width * scale).max(0) / 2) as u16;
    m.grid_area.set(grid);
    m.grid_geometry.set((scale, pad));
    let (mut sx, mut sy) = m.scroll.get();
    if let Some(cur) = m.map.seats.get(m.cursor) {
        let (w, h) = (grid.width as i64, grid.height as i64);
        if cur.x < sx {
            sx = cur.x;
        } else if cur.x >= sx + w {
            sx = cur.x - w + 1;
        }
        if cur.y < sy {
            sy = cur.y.saturating_sub(1).max(0);
        } else if cur.y >= sy + h {
            sy = cur.y - h + 1;
        }
        sx = sx.clamp(0, (width - w).max(0));
        sy = sy.clamp(0, (max_y + 1 - h).max(0));
    }
    m.scroll.set((sx, sy));
    let title = format!(
        " Seat map · rows {}-{} of {} · cols {}-{} of {} ",
        sy + 1,
        (sy + grid.height as i64).min(max_y + 1),
        max_y + 1,
        sx + 1,
        (sx + grid.width as i64).min(width),
        width
    );
    ratatui::widgets::Widget::render(block.title(title), area, buf);
    // Stage, centred over the layout.
    let stage = format!("[ {} ]", safe(&m.layout.stage));
    let centre = (width * scale) / 2 - sx * scale + pad as i64;
    let stage_x = grid.x as i64 + centre - stage.chars().count() as i64 / 2;
    if stage_x >= inner.x as i64 {
        buf.set_stringn(
            stage_x as u16,
            inner.y,
            &stage,
            (inner.right() as i64 - stage_x).max(0) as usize,
            t.highlight,
        );
    } else {
        buf.set_stringn(inner.x, inner.y, &stage, inner.width as usize, t.highlight);
    }
    for dy in 0..grid.height {
        let y = sy + dy as i64;
        let row_seat = m.lines.get(&y).map(|i| &m.map.seats[*i]);
        let label = match row_seat {
            Some(s) => s.row.clone(),
            None => match m.lines.get(&(y + 1)).map(|i| &m.map.seats[*i]) {
                // The blank line before a section carries its name.
                Some(next) => {
                    let name = m
                        .layout
                        .sections
                        .iter()
                        .find(|(code, _)| *code == next.section)
                        .map(|(_, n)| n.clone())
                        .unwrap_or_default();
                    buf.set_stringn(grid.x, grid.y + dy, safe(&name), grid.width as usize, t.dim);
                    continue;
                }
                None => continue,
            },
        };
        buf.set_stringn(
            inner.x,
            grid.y + dy,
            format!("{:>3} ", safe(&label)),
            GUTTER as usize,
            t.dim,
        );
        for dx in 0..(grid.width.saturating_sub(pad) as i64 / scale) as u16 {
            let x = sx + dx as i64;
            let Some(&i) = m.by_pos.get(&(x, y)) else {
                continue;
            };
            let s = &m.map.seats[i];
            let selected = m.selected.contains(&s.seat_id);
            let (ch, mut style) = if selected {
                (SELECTED_GLYPH, t.selected_seat())
            } else if s.status == SeatStatus::Free {
                (
                    s.category
                        .to_ascii_lowercase()
                        .chars()
                        .next()
                        .unwrap_or('.'),
                    t.category(category_index(m, &s.category)),
                )
            } else {
                (glyph(s.status), t.seat(s.status))
            };
            if i == m.cursor {
                style = style.patch(t.cursor);
            }
            let cx = grid.x + pad + dx * scale as u16;
            if let Some(cell) = buf.cell_mut((cx, grid.y + dy)) {
                cell.set_char(ch).set_style(style);
            }
        }
    }
}

fn draw_legend(frame: &mut Frame, t: &Theme, m: &MapState, area: Rect) {
    let mut spans: Vec<Span> = Vec::new();
    for k in m.map.categories.iter().rev() {
        let price = m
            .map
            .seats
            .iter()
            .find(|s| s.category == k.code)
            .map(|s| format!("{}.{:02}", s.price_cents / 100, s.price_cents % 100))
            .unwrap_or_default();
        spans.push(Span::styled(
            k.code.to_ascii_lowercase(),
            t.category(category_index(m, &k.code)),
        ));
        spans.push(Span::raw(format!(" {} {price}  ", safe(&k.name))));
    }
    let categories = Line::from(std::mem::take(&mut spans));
    for (status, name) in [
        (SeatStatus::Held, "held"),
        (SeatStatus::Booked, "sold"),
        (SeatStatus::Reserved, "waitlist"),
    ] {
        spans.push(Span::styled(glyph(status).to_string(), t.seat(status)));
        spans.push(Span::raw(format!(" {name}  ")));
    }
    spans.push(Span::styled(SELECTED_GLYPH.to_string(), t.selected_seat()));
    spans.push(Span::raw(" selected  "));
    spans.push(Span::styled("reversed", t.cursor));
    spans.push(Span::raw(" cursor"));
    frame.render_widget(Paragraph::new(vec![categories, Line::from(spans)]), area);
}

fn draw_panel(frame: &mut Frame, t: &Theme, m: &MapState, area: Rect) {
    let cursor = m.map.seats.get(m.cursor).map(|s| {
        format!(
            "{} {} {}",
            s.seat,
            Money::new(s.price_cents, &m.map.concert.currency),
            s.status
        )
    });
    let chosen: Vec<&boxoffice::SeatInfo> = m
        .map
        .seats
        .iter()
        .filter(|s| m.selected.contains(&s.seat_id))
        .collect();
    let total: i64 = chosen.iter().map(|s| s.price_cents).sum();
    let counts = &m.map.counts;
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!(
                "{} free {} held {} sold{} · ",
                counts.free,
                counts.held,
                counts.booked,
                if counts.reserved > 0 {
                    format!(" {} wait list", counts.reserved)
                } else {
                    String::new()
                }
            ),
            t.dim,
        ),
        Span::styled("Seat ", t.dim),
        Span::raw(cursor.unwrap_or_default()),
    ])];
    lines.push(Line::from(vec![
        Span::styled("Selected ", t.dim),
        Span::styled(
            if chosen.is_empty() {
                "none".to_string()
            } else {
                // The total first: ten seats' labels may not fit, the amount always does.
                format!(
                    "{} seat{} = {}: {}",
                    chosen.len(),
                    if chosen.len() == 1 { "" } else { "s" },
                    Money::new(total, &m.map.concert.currency),
                    chosen
                        .iter()
                        .map(|s| s.seat.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            },
            t.highlight,
        ),
    ]));
    if let Some(p) = &m.best_prompt {
        lines.push(Line::from(vec![
            Span::styled("Best: how many (4, 4 P, 4 under 60)? ", t.info),
            Span::styled(p.clone(), t.field_focus),
            Span::styled("_ Enter", t.cursor),
        ]));
    } else if let Some(a) = &m.advice {
        let text = match &a.suggestion {
            Some(s) => format!(
                "! leaves {} on its own; {} would not",
                a.stranded.join(", "),
                s.join(" ")
            ),
            None => format!(
                "! leaves {} on its own (no other choice of this size avoids it)",
                a.stranded.join(", ")
            ),
        };
        lines.push(Line::styled(text, t.error));
    }
    frame.render_widget(Paragraph::new(lines), area);
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
