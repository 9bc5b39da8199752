//! Bookings: find by code, email or phone; see one; cancel it (asks first) and see the refund.

use super::{Cx, Outcome, View};
use crate::tui::app::Level;
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
    pub confirm_cancel: bool,
    pub searched: bool,
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
        if self.confirm_cancel {
            (Ctx::Confirm, false)
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
        if self.confirm_cancel {
            match cmd {
                Some(Cmd::Yes) => {
                    self.confirm_cancel = false;
                    self.cancel_selected(cx);
                }
                Some(Cmd::No) => {
                    self.confirm_cancel = false;
                    cx.say(Level::Info, "kept the booking");
                }
                _ => {}
            }
            return Outcome::Stay;
        }
        let len = self.list.len();
        match cmd {
            Some(Cmd::Up) => self.selected = step(self.selected, -1, len),
            Some(Cmd::Down) => self.selected = step(self.selected, 1, len),
            Some(Cmd::SwitchFocus) => self.typing = !self.typing,
            Some(Cmd::Open) => self.find(cx),
            Some(Cmd::CancelBooking) => match self.list.get(self.selected) {
                Some(b) if b.state == boxoffice::BookingState::Confirmed => {
                    self.confirm_cancel = true
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
                edit(&mut self.query, key, 100);
            }
            _ => {}
        }
        Outcome::Stay
    }

    fn find(&mut self, cx: &mut Cx) {
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
                self.typing = list.is_empty();
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
    }

    fn cancel_selected(&mut self, cx: &mut Cx) {
        let Some(b) = self.list.get(self.selected) else {
            return;
        };
        let code = b.booking_code.clone();
        match cx.store.cancel_booking(&code, cx.processors) {
            Ok(c) => {
                cx.log.write(&format!("cancelled {code}"));
                let money = Money::new(c.refunded_cents, &c.currency);
                let pending = if c.refund_pending_cents > 0 {
                    " (part of the refund is pending: reconcile retries it)"
                } else {
                    ""
                };
                cx.say(
                    Level::Ok,
                    format!(
                        "cancelled {code}; refunded {money} by {}{pending}",
                        c.method
                    ),
                );
                if let Ok(fresh) = cx.store.booking(&code)
                    && let Some(slot) = self.list.get_mut(self.selected)
                {
                    *slot = fresh;
                }
            }
            Err(e) => cx.fail(&e),
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let t = v.theme;
        let s = self;
        let [search, list, detail] = Layout::vertical([
            Constraint::Length(3),
            Constraint::Min(3),
            Constraint::Length(6),
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
                Cell::from(safe(&b.customer.email)),
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
                    b.concert.local_start.format("%a %d %b %H:%M"),
                    b.concert.venue
                ))),
                Line::raw(safe(&format!(
                    "{}{} {}",
                    b.customer
                        .name
                        .as_deref()
                        .map(|n| format!("{n}, "))
                        .unwrap_or_default(),
                    b.customer.email,
                    b.customer.phone.as_deref().unwrap_or("")
                ))),
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
            }
            frame.render_widget(
                Paragraph::new(lines)
                    .block(Block::bordered().title(format!(" {} ", b.booking_code)))
                    .wrap(Wrap { trim: true }),
                detail,
            );
            if s.confirm_cancel {
                let popup = centered(area, 60, 6);
                frame.render_widget(Clear, popup);
                frame.render_widget(
                    Paragraph::new(vec![
                        Line::raw(format!(
                            "Cancel booking {} ({} seat{})?",
                            b.booking_code,
                            b.seats.len(),
                            if b.seats.len() == 1 { "" } else { "s" }
                        )),
                        Line::raw(format!(
                            "{} is refunded by {}.",
                            Money::new(b.total_cents, &b.currency),
                            b.method
                        )),
                        Line::styled("y  yes, cancel and refund     n  no, keep it", t.highlight),
                    ])
                    .block(Block::bordered().title(" Cancel booking ")),
                    popup,
                );
            }
        }
    }
}
