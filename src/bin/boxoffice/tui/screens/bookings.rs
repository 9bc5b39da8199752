//! Bookings: find by code, email, name or phone (or a waiting-list offer's code, which opens
//! its checkout); see one; cancel all or some of its seats (asks first) and see the refund.

use super::{Cx, Level, Outcome, View};
use crate::tui::keys::{Cmd, Ctx};
use crate::tui::widgets::{centered, edit, safe, step};
use boxoffice::{Booking, Money};
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Table, TableState, Wrap};

/// Finding bookings, and cancelling one.
#[derive(Default)]
pub struct Bookings {
    pub query: String,
    pub typing: bool,
    pub list: Vec<Booking>,
    pub selected: usize,
    /// `c` was pressed: the seats to cancel, as typed (every seat of the booking at first).
    pub cancelling: Option<String>,
    pub searched: bool,
    /// The search just ran: the next letter typed starts a new one (the last stays shown).
    pub typed_over: bool,
}

impl Bookings {
    /// An empty search, typing into it.
    pub fn new() -> Bookings {
        Bookings {
            typing: true,
            ..Default::default()
        }
    }

    pub fn keys(&self) -> (Ctx, bool) {
        if self.cancelling.is_some() {
            (Ctx::CancelSeats, true)
        } else {
            (Ctx::Bookings, self.typing)
        }
    }

    /// Opened again: the cursor in the search box.
    pub fn focus_search(&mut self) {
        self.typing = true;
    }

    /// Whether a customer's details are on screen (kiosk mode clears them when idle).
    pub fn shows_customer(&self) -> bool {
        !self.query.is_empty() || !self.list.is_empty()
    }

    pub fn key(&mut self, cx: &mut Cx, cmd: Option<Cmd>, key: &KeyEvent) -> Outcome {
        if let Some(seats) = &mut self.cancelling {
            match cmd {
                Some(Cmd::Submit) => {
                    let booked: Vec<String> = self
                        .list
                        .get(self.selected)
                        .map(|b| b.seats.iter().map(|s| s.seat.clone()).collect())
                        .unwrap_or_default();
                    let seats = typed_seats(seats, &booked);
                    // A refusal (a seat not in the booking) keeps the field as typed.
                    if self.cancel_selected(cx, &seats) {
                        self.cancelling = None;
                    }
                }
                Some(Cmd::Back) => {
                    self.cancelling = None;
                    cx.say(Level::Info, "kept the booking");
                }
                _ => {
                    edit(seats, key, 400);
                }
            }
            return Outcome::Stay;
        }
        let len = self.list.len();
        match cmd {
            Some(Cmd::Up) => self.selected = step(self.selected, -1, len),
            Some(Cmd::Down) => self.selected = step(self.selected, 1, len),
            Some(Cmd::SwitchFocus) => self.typing = !self.typing,
            Some(Cmd::Open) => return self.find(cx),
            Some(Cmd::CancelBooking) => match self.list.get(self.selected) {
                Some(b) if b.state == boxoffice::BookingState::Confirmed => {
                    let all: Vec<&str> = b.seats.iter().map(|s| s.seat.as_str()).collect();
                    self.cancelling = Some(all.join(" "));
                }
                Some(b) => {
                    let t = format!("booking {} is already {}", b.booking_code, b.state);
                    cx.say(Level::Error, t);
                }
                None => cx.say(Level::Error, "find a booking first"),
            },
            Some(Cmd::Back) => {
                if self.query.is_empty() {
                    return Outcome::Concerts;
                }
                *self = Bookings::new();
            }
            _ if self.typing => {
                if std::mem::take(&mut self.typed_over)
                    && matches!(key.code, ratatui::crossterm::event::KeyCode::Char(_))
                {
                    self.query.clear();
                }
                edit(&mut self.query, key, 100);
            }
            _ => {}
        }
        Outcome::Stay
    }

    fn find(&mut self, cx: &mut Cx) -> Outcome {
        // A waiting-list offer's code, as its notice gave it: its checkout.
        let q = self.query.trim();
        if q.len() >= 6
            && let Ok(h) = cx.store.hold(q)
            && h.kind == boxoffice::HoldKind::Offer
        {
            return cx.offer_checkout(q);
        }
        // Nothing typed: today's sales at this terminal.
        let found = if self.query.trim().is_empty() {
            let (from, to) =
                boxoffice::report::local_day(boxoffice::report::local_today(cx.store.now()));
            let terminal = cx.store.operator().terminal.clone();
            match (from, to) {
                (Some(from), Some(to)) => cx.store.sales_at(from, to, terminal.as_deref()),
                _ => Ok(Vec::new()),
            }
        } else {
            cx.store.find_bookings(&self.query)
        };
        match found {
            Ok(list) => {
                self.searched = true;
                self.selected = 0;
                // The focus stays in the search: the next name typed is a new search (it was
                // dropped, and a `c` in it opened the cancel box); Tab moves to the list.
                self.typing = true;
                self.typed_over = true;
                let n = list.len();
                self.list = list;
                if n == 0 && self.query.trim().is_empty() {
                    cx.say(Level::Info, "no sales at this terminal today");
                } else if n == 0 {
                    cx.say(
                        Level::Info,
                        "no booking matches that code, email, name or phone",
                    );
                } else {
                    cx.quiet();
                }
            }
            Err(e) => cx.fail(&e),
        }
        Outcome::Stay
    }

    /// Cancels these seats of the selected booking (all of them: the booking). Returns
    /// whether it was done.
    fn cancel_selected(&mut self, cx: &mut Cx, seats: &[String]) -> bool {
        let Some(b) = self.list.get(self.selected) else {
            return false;
        };
        let code = b.booking_code.clone();
        match cx.store.cancel_seats(&code, seats, cx.processors) {
            Ok(c) => {
                cx.log.write(&format!("cancelled {code}"));
                let money = Money::new(c.refunded_cents, &c.currency);
                let pending = if c.refund_pending_cents > 0 {
                    " (part of the refund is pending: reconcile retries it)"
                } else {
                    ""
                };
                let what = if c.seats.len() == b.seats.len() {
                    code.clone()
                } else {
                    format!("{} of {code}", c.seats.join(" "))
                };
                cx.say(
                    Level::Ok,
                    format!(
                        "cancelled {what}; refunded {money} by {}{pending}",
                        c.method
                    ),
                );
                if let Ok(fresh) = cx.store.booking(&code)
                    && let Some(slot) = self.list.get_mut(self.selected)
                {
                    *slot = fresh;
                }
                true
            }
            Err(e) => {
                cx.fail(&e);
                false
            }
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let t = v.theme;
        let s = self;
        let [search, list, detail] = Layout::vertical([
            Constraint::Length(3),
            Constraint::Min(3),
            Constraint::Length(7),
        ])
        .areas(area);
        let mut spans = vec![Span::styled(
            safe(&s.query),
            if s.typing { t.field_focus } else { t.field },
        )];
        if s.typing {
            spans.push(Span::styled("_", t.cursor));
        }
        frame.render_widget(
            Paragraph::new(Line::from(spans)).block(
                Block::bordered()
                    .title(" Find: code, email, name or phone (Enter alone: today's sales here) ")
                    .border_style(if s.typing { t.highlight } else { t.dim }),
            ),
            search,
        );
        let rows = s.list.iter().map(|b| {
            Row::new(vec![
                Cell::from(b.booking_code.clone()),
                Cell::from(b.concert.local_start.format("%d %b").to_string()),
                Cell::from(safe(&b.concert.artist)),
                Cell::from(safe(
                    b.customer
                        .email_address()
                        .or(b.customer.phone.as_deref())
                        .or(b.customer.name.as_deref())
                        .unwrap_or("walk-up"),
                )),
                Cell::from(b.seats.len().to_string()),
                Cell::from(Money::new(b.total_cents, &b.currency).to_string()),
                Cell::from(b.state.as_str()).style(
                    if b.state == boxoffice::BookingState::Cancelled {
                        t.error
                    } else {
                        t.ok
                    },
                ),
            ])
        });
        let table = Table::new(
            rows,
            [
                Constraint::Length(6),
                Constraint::Length(6),
                Constraint::Fill(1),
                Constraint::Fill(1),
                Constraint::Length(3),
                Constraint::Length(11),
                Constraint::Length(9),
            ],
        )
        .header(
            Row::new(["Code", "Date", "Concert", "Customer", "#", "Total", "State"]).style(t.title),
        )
        .row_highlight_style(t.selected_row)
        .block(Block::bordered().title(if s.searched && s.list.is_empty() {
            " No match "
        } else {
            " Bookings "
        }));
        let mut state =
            TableState::default().with_selected((!s.list.is_empty()).then_some(s.selected));
        frame.render_stateful_widget(&table, list, &mut state);
        if let Some(b) = s.list.get(s.selected) {
            let seats: Vec<&str> = b.seats.iter().map(|x| x.seat.as_str()).collect();
            let mut lines = vec![
                Line::raw(safe(&format!(
                    "{} - {}, {} {}",
                    b.concert.artist,
                    b.concert.title,
                    b.concert.at_venue(b.concert.starts_at),
                    b.concert.venue
                ))),
                Line::raw(safe(&super::checkout::customer_line(&b.customer))),
                Line::raw(format!(
                    "Seats {}  paid {} by {}",
                    seats.join(" "),
                    Money::new(b.total_cents, &b.currency),
                    b.method
                )),
            ];
            if b.state == boxoffice::BookingState::Cancelled {
                lines.push(Line::styled(
                    format!(
                        "Cancelled; refunded {}",
                        Money::new(b.refunded_cents, &b.currency)
                    ),
                    t.error,
                ));
            } else if b.refunded_cents > 0 {
                let gone: Vec<&str> = b
                    .tickets
                    .iter()
                    .filter(|t| t.state == boxoffice::TicketState::Cancelled)
                    .map(|t| t.seat.as_str())
                    .collect();
                lines.push(Line::styled(
                    format!(
                        "Seats {} cancelled; refunded {}",
                        gone.join(" "),
                        Money::new(b.refunded_cents, &b.currency)
                    ),
                    t.info,
                ));
            }
            frame.render_widget(
                Paragraph::new(lines)
                    .block(Block::bordered().title(format!(" {} ", b.booking_code)))
                    .wrap(Wrap { trim: true }),
                detail,
            );
            if let Some(typed) = &s.cancelling {
                let popup = centered(area, 64, 7);
                frame.render_widget(Clear, popup);
                // The refund as the seats are typed: what Enter would do.
                let booked: Vec<String> = b.seats.iter().map(|x| x.seat.clone()).collect();
                let named = typed_seats(typed, &booked);
                let picked: Vec<&boxoffice::BookedSeat> =
                    b.seats.iter().filter(|x| named.contains(&x.seat)).collect();
                let unknown: Vec<&str> = named
                    .iter()
                    .filter(|n| !b.seats.iter().any(|x| &x.seat == *n))
                    .map(String::as_str)
                    .collect();
                let refund: i64 = picked.iter().map(|x| x.price_cents).sum();
                let whole = picked.len() == b.seats.len();
                let note = if !unknown.is_empty() {
                    Some(format!("not in this booking: {}", unknown.join(" ")))
                } else if picked.is_empty() {
                    Some("type the seats to cancel".to_string())
                } else {
                    None
                };
                let mut lines =
                    crate::tui::widgets::field(t, "Seats", &safe(typed), true, note.as_deref());
                lines.push(Line::raw(if whole {
                    format!(
                        "Refund {} by {} · the whole booking",
                        Money::new(refund, &b.currency),
                        b.method
                    )
                } else {
                    format!(
                        "Refund {} by {} · {} of {} seats; the rest stays",
                        Money::new(refund, &b.currency),
                        b.method,
                        picked.len(),
                        b.seats.len()
                    )
                }));
                lines.push(Line::styled(
                    "Enter  cancel and refund    Esc  keep it    Ctrl-U clears",
                    t.highlight,
                ));
                frame.render_widget(
                    Paragraph::new(lines)
                        .wrap(Wrap { trim: false })
                        .block(Block::bordered().title(format!(" Cancel {} ", b.booking_code))),
                    popup,
                );
            }
        }
    }
}

/// The seats typed in the cancel box, as the booking's labels: whole labels (`stl-a-12,
/// STL-A-13` is two), or as people say them, the row (and the section where rows share a
/// name) and a seat or a range: `F-11`, `F 11`, `A 11-12`, `STL A 11-12`. What matches none of
/// the booking's seats is kept as typed (and named as not in the booking).
fn typed_seats(text: &str, booked: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for group in text.split(',') {
        let words: Vec<String> = group
            .split_whitespace()
            .map(str::to_ascii_uppercase)
            .collect();
        if words.is_empty() {
            continue;
        }
        let whole = words
            .iter()
            .all(|w| booked.iter().any(|b| b.eq_ignore_ascii_case(w)));
        let found = match whole {
            true => None,
            false => as_said(&words, booked),
        };
        for label in found.unwrap_or(words) {
            if !out.contains(&label) {
                out.push(label);
            }
        }
    }
    out
}

/// `F-11`, `A 11-12`, `STL A 11-12` as the booking's labels, each matching exactly one of its
/// seats; `None` when the words are not a row and seats, or a seat is not in the booking.
fn as_said(words: &[String], booked: &[String]) -> Option<Vec<String>> {
    let joined = words.join(" ").replace(" - ", "-");
    let mut parts: Vec<String> = joined.split(' ').map(str::to_string).collect();
    if parts.len() == 1 {
        let w = parts.remove(0);
        let at = w.find(|c: char| c.is_ascii_digit())?;
        let (row, numbers) = w.split_at(at);
        parts = vec![row.trim_end_matches('-').to_string(), numbers.to_string()];
    }
    let (section, row, range) = match parts.as_slice() {
        [row, range] => (None, row, range),
        [section, row, range] => (Some(section), row, range),
        _ => return None,
    };
    let (from, to): (i64, i64) = match range.split_once('-') {
        Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
        None => (range.parse().ok()?, range.parse().ok()?),
    };
    if row.is_empty() || to < from || to - from > 500 {
        return None;
    }
    (from..=to)
        .map(|n| {
            let tail = format!("-{row}-{n}");
            let mut hits = booked.iter().filter(|b| {
                let b = b.to_ascii_uppercase();
                (b.ends_with(&tail) || b == tail[1..])
                    && section.is_none_or(|s| b.starts_with(&format!("{s}-")))
            });
            match (hits.next(), hits.next()) {
                (Some(one), None) => Some(one.clone()),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seats_are_read_as_people_say_them_in_the_cancel_box() {
        let booked: Vec<String> = ["STL-F-10", "STL-F-11", "STL-A-11", "STL-A-12", "BAL-A-12"]
            .map(String::from)
            .to_vec();
        let said = |t: &str| typed_seats(t, &booked);
        assert_eq!(said("stl-f-11"), ["STL-F-11"]);
        assert_eq!(said("STL-F-10 stl-f-11"), ["STL-F-10", "STL-F-11"]);
        assert_eq!(said("F-11"), ["STL-F-11"]);
        assert_eq!(said("f 10-11"), ["STL-F-10", "STL-F-11"]);
        assert_eq!(said("F10 - 11"), ["STL-F-10", "STL-F-11"]);
        assert_eq!(said("A 11"), ["STL-A-11"]);
        // Two sections have a row A seat 12: the section says which.
        assert_eq!(said("BAL A 12"), ["BAL-A-12"]);
        assert_eq!(
            said("A 12"),
            ["A", "12"],
            "ambiguous: kept as typed, refused"
        );
        assert_eq!(
            said("F-11, A 11-12"),
            ["STL-F-11", "A", "11-12"],
            "A 12 is two seats"
        );
        assert_eq!(
            said("Z 1"),
            ["Z", "1"],
            "not in the booking: kept, and named"
        );
    }
}
