//! The waiting list of a concert: the queue with positions, states and offer deadlines, and a
//! form to add someone.

use super::{Cx, Level, Outcome, Screen, View};
use crate::tui::keys::{Cmd, Ctx};
use crate::tui::widgets::{centered, clamp, edit, field, safe, step};
use boxoffice::{ConcertSummary, CustomerInfo, WaitlistEntry};
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Table, TableState};

/// Adding someone to the waiting list.
pub struct JoinForm {
    pub email: String,
    pub phone: String,
    pub party: String,
    pub focus: usize,
}

impl JoinForm {
    fn new() -> JoinForm {
        JoinForm {
            email: String::new(),
            phone: String::new(),
            party: "2".into(),
            focus: 0,
        }
    }
}

/// A concert's waiting list, opened from `back`.
pub struct WaitState {
    pub concert: ConcertSummary,
    pub entries: Vec<WaitlistEntry>,
    pub selected: usize,
    pub form: Option<JoinForm>,
    pub back: Screen,
    /// `x` was pressed: taking the selected person off the list is being confirmed.
    pub confirm_remove: bool,
}

impl WaitState {
    /// The concert's waiting list, with the join form open when `join` (a sold-out concert
    /// was chosen to sell).
    pub fn open(cx: &mut Cx, concert_id: i64, back: Screen, join: bool) -> Option<WaitState> {
        let concert = match cx.store.concert(concert_id) {
            Ok(c) => c,
            Err(e) => {
                cx.fail(&e);
                return None;
            }
        };
        let entries = cx.store.waitlist(concert_id).unwrap_or_default();
        if join {
            cx.say(
                Level::Info,
                "sold out: put the customer on the waiting list",
            );
        }
        Some(WaitState {
            concert,
            entries,
            selected: 0,
            form: join.then(JoinForm::new),
            back,
            confirm_remove: false,
        })
    }

    pub fn keys(&self) -> (Ctx, bool) {
        if self.confirm_remove {
            (Ctx::Confirm, false)
        } else if self.form.is_some() {
            (Ctx::JoinForm, true)
        } else {
            (Ctx::Waitlist, false)
        }
    }

    /// Whether a customer's details are being typed (kiosk mode clears them when idle).
    pub fn shows_customer(&self) -> bool {
        self.form.is_some()
    }

    pub fn refresh(&mut self, cx: &mut Cx) {
        if let Ok(c) = cx.store.concert(self.concert.id) {
            self.concert = c;
        }
        self.entries = cx.store.waitlist(self.concert.id).unwrap_or_default();
        self.selected = clamp(self.selected, self.entries.len());
    }

    pub fn key(&mut self, cx: &mut Cx, cmd: Option<Cmd>, key: &KeyEvent) -> Outcome {
        if let Some(f) = &mut self.form {
            match cmd {
                Some(Cmd::NextField) => f.focus = (f.focus + 1) % 3,
                Some(Cmd::PrevField) => f.focus = (f.focus + 2) % 3,
                Some(Cmd::Back) => self.form = None,
                Some(Cmd::Submit) => {
                    let party: i64 = f.party.trim().parse().unwrap_or(0);
                    let customer = CustomerInfo {
                        email: f.email.clone(),
                        name: None,
                        phone: Some(f.phone.clone()).filter(|p| !p.trim().is_empty()),
                    };
                    match cx
                        .store
                        .join_waitlist(self.concert.id, &customer, party, None)
                    {
                        Ok(e) => {
                            let text = format!(
                                "{} is number {} on the waiting list",
                                e.customer,
                                e.position.unwrap_or_default()
                            );
                            self.form = None;
                            self.refresh(cx);
                            cx.say(Level::Ok, text);
                        }
                        Err(e) => cx.fail(&e),
                    }
                }
                _ => {
                    let field = match f.focus {
                        0 => &mut f.email,
                        1 => &mut f.phone,
                        _ => &mut f.party,
                    };
                    edit(field, key, 120);
                }
            }
            return Outcome::Stay;
        }
        if self.confirm_remove {
            self.confirm_remove = false;
            match (cmd, self.entries.get(self.selected)) {
                (Some(Cmd::Yes), Some(e)) => {
                    match cx.store.leave_waitlist(self.concert.id, &e.customer) {
                        Ok(left) => {
                            let text = format!("{} is off the waiting list", left.customer);
                            self.refresh(cx);
                            cx.say(Level::Ok, text);
                        }
                        Err(e) => cx.fail(&e),
                    }
                }
                _ => cx.say(Level::Info, "kept on the waiting list"),
            }
            return Outcome::Stay;
        }
        let len = self.entries.len();
        let selected = self.entries.get(self.selected);
        let waiting = |e: &&WaitlistEntry| {
            matches!(
                e.state,
                boxoffice::WaitlistState::Waiting | boxoffice::WaitlistState::Offered
            )
        };
        match cmd {
            Some(Cmd::Up) => self.selected = step(self.selected, -1, len),
            Some(Cmd::Down) => self.selected = step(self.selected, 1, len),
            Some(Cmd::Join) => self.form = Some(JoinForm::new()),
            Some(Cmd::PayOffer) => match selected.and_then(|e| e.offer.clone().map(|o| (e, o))) {
                Some((e, offer)) if e.state == boxoffice::WaitlistState::Offered => {
                    return cx.offer_checkout(&offer);
                }
                _ => cx.say(
                    Level::Error,
                    "no offer to pay: select someone whose state is offered",
                ),
            },
            Some(Cmd::Remove) => match selected.filter(waiting) {
                Some(e) => {
                    self.confirm_remove = true;
                    cx.say(
                        Level::Info,
                        format!(
                            "take {} off the waiting list{}? y yes, n no",
                            e.customer,
                            if e.state == boxoffice::WaitlistState::Offered {
                                " (their offer's seats go to the next person)"
                            } else {
                                ""
                            }
                        ),
                    );
                }
                None => cx.say(Level::Error, "select someone still waiting or offered"),
            },
            Some(Cmd::Back) => return Outcome::Back(self.back),
            _ => {}
        }
        Outcome::Stay
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let w = self;
        let t = v.theme;
        let [head, list] =
            Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(area);
        let c = &w.concert;
        frame.render_widget(
            Paragraph::new(vec![
                Line::styled(safe(&format!("{} - {}", c.artist, c.title)), t.title),
                Line::raw(format!(
                    "{} · {} · {} free, {} kept for the list, {} waiting",
                    c.at_venue(c.starts_at),
                    safe(&c.venue),
                    c.free_seats,
                    c.reserved_seats,
                    c.waiting
                )),
            ]),
            head,
        );
        let rows = w.entries.iter().map(|e| {
            Row::new(vec![
                Cell::from(e.position.map(|p| p.to_string()).unwrap_or("-".into())),
                Cell::from(safe(&e.customer)),
                Cell::from(e.party.to_string()),
                Cell::from(e.state.as_str()).style(match e.state.as_str() {
                    "offered" => t.info,
                    "booked" => t.ok,
                    "expired" | "left" => t.dim,
                    _ => Default::default(),
                }),
                Cell::from(e.offer_seats.join(" ")),
                Cell::from(
                    // The venue's clock, labelled, like every deadline shown.
                    e.offer_expires_at
                        .map(|d| {
                            let full = c.at_venue(d);
                            // `Thu 10 Dec 10:00 CET` without the date: `Thu 10:00 CET`.
                            let mut parts: Vec<&str> = full.split(' ').collect();
                            if parts.len() == 5 {
                                parts.drain(1..3);
                            }
                            parts.join(" ")
                        })
                        .unwrap_or_default(),
                ),
            ])
        });
        let table = Table::new(
            rows,
            [
                Constraint::Length(3),
                Constraint::Fill(2),
                Constraint::Length(5),
                Constraint::Length(8),
                Constraint::Fill(1),
                Constraint::Length(13),
            ],
        )
        .header(
            Row::new([
                "Pos",
                "Customer",
                "Party",
                "State",
                "Offered seats",
                "Pay by",
            ])
            .style(t.title),
        )
        .row_highlight_style(t.selected_row)
        .block(Block::bordered().title(" Waiting list (first come, first served) "));
        let mut state =
            TableState::default().with_selected((!w.entries.is_empty()).then_some(w.selected));
        frame.render_stateful_widget(&table, list, &mut state);
        if let Some(f) = &w.form {
            let popup = centered(area, 64, 11);
            frame.render_widget(Clear, popup);
            let party_ok = f
                .party
                .trim()
                .parse::<i64>()
                .is_ok_and(|p| p >= 1 && p <= c.ticket_limit);
            let mut lines = Vec::new();
            lines.extend(field(t, "Email", &safe(&f.email), f.focus == 0, None));
            lines.extend(field(t, "Phone", &safe(&f.phone), f.focus == 1, None));
            let note = format!("1 to {}", c.ticket_limit);
            lines.extend(field(
                t,
                "Party",
                &f.party,
                f.focus == 2,
                (!party_ok).then_some(note.as_str()),
            ));
            lines.push(Line::styled(
                "Enter joins. Email (and SMS) tells them when seats free up.",
                t.dim,
            ));
            frame.render_widget(
                Paragraph::new(lines).block(Block::bordered().title(" Join the waiting list ")),
                popup,
            );
        }
    }
}
