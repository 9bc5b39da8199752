//! Checkout: the customer's details (validated as you type), then cash or card, with the
//! hold's countdown always in view.

use super::confirmation::Confirmation;
use super::{Cx, Outcome, View};
use crate::tui::app::Level;
use crate::tui::keys::{Cmd, Ctx};
use crate::tui::widgets::{compact, edit, field, safe};
use boxoffice::booking::{clean_name, normalize_email, normalize_phone};
use boxoffice::model::parse_money;
use boxoffice::{Card, ConcertSummary, CustomerInfo, Error, Hold, Money, Receipt, Tender};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use zeroize::Zeroizing;

const SPINNER: [&str; 4] = ["|", "/", "-", "\\"];

/// The card number as shown, also while it is typed: only the last four digits, in groups, so
/// the full number never reaches the screen (or a recording of it).
/// No copy of the digits is made: the typed number is the only one, and it is wiped.
pub fn masked_number(number: &str) -> String {
    let digits = || number.chars().filter(|c| c.is_ascii_digit());
    let n = digits().count();
    let mut out = String::new();
    for (i, d) in digits().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(if i + 4 >= n { d } else { '*' });
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Cash,
    Card,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Details,
    Payment,
    Paying,
    Declined(String),
}

/// Selling the seats chosen on the map: the customer's details, the hold, the payment.
pub struct Checkout {
    pub concert: ConcertSummary,
    pub seats: Vec<String>,
    pub total_cents: i64,
    pub step: Step,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub focus: usize,
    pub hold: Option<Hold>,
    pub method: Method,
    pub tendered: String,
    pub number: Zeroizing<String>,
    pub exp: String,
    pub cvc: Zeroizing<String>,
    pub error: Option<String>,
}

impl Checkout {
    /// `method`: the one the clerk used last (cash first).
    pub fn new(
        concert: ConcertSummary,
        seats: Vec<String>,
        total_cents: i64,
        method: Method,
    ) -> Checkout {
        Checkout {
            concert,
            seats,
            total_cents,
            step: Step::Details,
            name: String::new(),
            email: String::new(),
            phone: String::new(),
            focus: 0,
            hold: None,
            method,
            tendered: String::new(),
            number: Zeroizing::new(String::new()),
            exp: String::new(),
            cvc: Zeroizing::new(String::new()),
            error: None,
        }
    }

    pub fn keys(&self) -> (Ctx, bool) {
        match &self.step {
            Step::Payment => (Ctx::Payment, self.focus != 0),
            Step::Declined(_) => (Ctx::Declined, false),
            Step::Paying => (Ctx::Payment, false),
            Step::Details => (Ctx::Checkout, true),
        }
    }

    /// Seconds left on the hold at `now`, once there is one.
    pub fn hold_seconds_left(&self, now: DateTime<Utc>) -> Option<i64> {
        let h = self.hold.as_ref()?;
        Some((h.expires_at - now).num_seconds().max(0))
    }

    /// The hold ran out while the customer was deciding.
    pub fn hold_ran_out(&self, now: DateTime<Utc>) -> bool {
        self.step == Step::Payment && self.hold_seconds_left(now) == Some(0)
    }

    /// The hold this checkout is taking payment for, if it ended elsewhere (released or
    /// replaced at another terminal, or run out): what to tell the clerk.
    pub fn hold_ended(&self, cx: &mut Cx) -> Option<String> {
        let h = self.hold.as_ref().filter(|_| self.step == Step::Payment)?;
        let now = cx.store.now();
        match cx.store.hold(&h.hold_id) {
            Ok(fresh) if fresh.state == boxoffice::HoldState::Live && fresh.expires_at > now => {
                None
            }
            Ok(fresh) if fresh.state == boxoffice::HoldState::Released => Some(format!(
                "the hold on {} was released elsewhere (another terminal, or a newer hold for \
                 this customer); the selection is kept: Enter holds it again",
                h.seats.join(" ")
            )),
            Ok(fresh) if fresh.state == boxoffice::HoldState::Paid => Some(format!(
                "the hold on {} was paid at another terminal",
                h.seats.join(" ")
            )),
            Ok(_) => {
                Some("the hold expired and the seats were released; select them again".to_string())
            }
            Err(e) => Some(e.to_string()),
        }
    }

    /// Validation as you type: the problem with each customer field, if any.
    pub fn field_problems(&self) -> [Option<String>; 3] {
        let name = clean_name(&self.name).err().map(|e| e.to_string());
        let email = if self.email.is_empty() {
            Some("needed for the confirmation".to_string())
        } else {
            normalize_email(&self.email).err().map(|e| e.to_string())
        };
        let phone = if self.phone.trim().is_empty() {
            None
        } else {
            normalize_phone(&self.phone, self.concert.country.as_deref())
                .err()
                .map(|e| e.to_string())
        };
        [name, email, phone]
    }

    /// Leaving the checkout gives an unpaid hold back, and says so.
    pub fn leave(self, cx: &mut Cx) {
        if let Some(h) = self.hold
            && self.step != Step::Paying
            && cx.store.release_hold(&h.hold_id).is_ok()
        {
            cx.say(
                Level::Info,
                format!("released the hold on {}", h.seats.join(" ")),
            );
        }
    }

    fn place_hold(&mut self, cx: &mut Cx) -> Outcome {
        let customer = CustomerInfo {
            email: self.email.clone(),
            name: Some(self.name.clone()).filter(|n| !n.trim().is_empty()),
            phone: Some(self.phone.clone()).filter(|p| !p.trim().is_empty()),
        };
        match cx.store.hold_seats(self.concert.id, &self.seats, &customer) {
            Ok(hold) => {
                let replaced = hold.replaced.clone();
                self.total_cents = hold.total_cents;
                self.hold = Some(hold);
                self.step = Step::Payment;
                self.focus = 0;
                self.error = None;
                match replaced {
                    Some(r) => cx.say(
                        Level::Info,
                        format!(
                            "held; this customer's earlier hold on {} was released",
                            r.seats.join(" ")
                        ),
                    ),
                    None => cx.say(Level::Ok, "seats held: take the payment"),
                }
                Outcome::Stay
            }
            Err(
                e @ (Error::SeatsTaken(_)
                | Error::ReservedForWaitlist(_)
                | Error::WouldStrandSeat { .. }),
            ) => {
                cx.fail(&e);
                Outcome::BackToMap
            }
            Err(e) => {
                self.error = Some(e.to_string());
                cx.fail(&e);
                Outcome::Stay
            }
        }
    }

    pub fn key(&mut self, cx: &mut Cx, cmd: Option<Cmd>, key: &KeyEvent) -> Outcome {
        match self.step.clone() {
            Step::Details => match cmd {
                Some(Cmd::NextField) => self.focus = (self.focus + 1) % 3,
                Some(Cmd::PrevField) => self.focus = (self.focus + 2) % 3,
                Some(Cmd::Back) => return Outcome::BackToMap,
                Some(Cmd::Submit) => {
                    let problems = self.field_problems();
                    if let Some((i, p)) = problems
                        .iter()
                        .enumerate()
                        .find_map(|(i, p)| p.as_ref().map(|p| (i, p.clone())))
                    {
                        self.focus = i;
                        cx.say(Level::Error, p);
                    } else {
                        return self.place_hold(cx);
                    }
                }
                _ => {
                    let field = match self.focus {
                        0 => &mut self.name,
                        1 => &mut self.email,
                        _ => &mut self.phone,
                    };
                    edit(field, key, 200);
                }
            },
            Step::Payment => {
                let fields = if self.method == Method::Cash { 2 } else { 4 };
                match cmd {
                    Some(Cmd::NextField) => self.focus = (self.focus + 1) % fields,
                    Some(Cmd::PrevField) => self.focus = (self.focus + fields - 1) % fields,
                    Some(Cmd::Left) if self.focus == 0 => self.method = Method::Cash,
                    Some(Cmd::Right) if self.focus == 0 => self.method = Method::Card,
                    Some(Cmd::Back) => return Outcome::BackToMap,
                    Some(Cmd::Submit) => return self.submit_payment(cx),
                    _ => match (self.method, self.focus) {
                        (_, 0) => {
                            if let KeyCode::Char(ch) = key.code {
                                match ch {
                                    'c' | 'C' => self.method = Method::Cash,
                                    'k' | 'K' => self.method = Method::Card,
                                    // Digits go where they mean something: the amount
                                    // tendered, or the card's number.
                                    d if d.is_ascii_digit() => {
                                        self.focus = 1;
                                        match self.method {
                                            Method::Cash => edit(&mut self.tendered, key, 12),
                                            Method::Card => edit(&mut self.number, key, 23),
                                        };
                                    }
                                    _ => {}
                                }
                            }
                        }
                        (Method::Cash, _) => {
                            edit(&mut self.tendered, key, 12);
                        }
                        (Method::Card, 1) => {
                            if matches!(key.code, KeyCode::Char(d) if d.is_ascii_digit() || d == ' ')
                                || key.code == KeyCode::Backspace
                            {
                                edit(&mut self.number, key, 23);
                            }
                        }
                        (Method::Card, 2) => {
                            edit(&mut self.exp, key, 7);
                        }
                        (Method::Card, _) => {
                            if matches!(key.code, KeyCode::Char(d) if d.is_ascii_digit())
                                || key.code == KeyCode::Backspace
                            {
                                edit(&mut self.cvc, key, 4);
                            }
                        }
                    },
                }
            }
            Step::Paying => {}
            Step::Declined(_) => match cmd {
                Some(Cmd::Retry) => return self.place_hold(cx),
                Some(Cmd::Back) => return Outcome::BackToMap,
                _ => {}
            },
        }
        Outcome::Stay
    }

    fn submit_payment(&mut self, cx: &mut Cx) -> Outcome {
        let now = cx.store.now();
        let Some(hold) = self.hold.clone() else {
            return Outcome::Stay;
        };
        let tender = match self.method {
            Method::Cash => match parse_money(&self.tendered) {
                Ok(t) => {
                    match boxoffice::payment::check_cash(
                        t,
                        self.total_cents,
                        &self.concert.currency,
                    ) {
                        Ok(()) => Tender::Cash { tendered_cents: t },
                        Err(e) => {
                            // The hold stays; the clerk retypes the amount.
                            cx.fail(&e);
                            return Outcome::Stay;
                        }
                    }
                }
                Err(boxoffice::model::MoneyError::TooMuch) => {
                    // As for an amount past what this sale can take: the hold stays.
                    let e =
                        boxoffice::payment::too_much_cash(self.total_cents, &self.concert.currency);
                    cx.fail(&e);
                    return Outcome::Stay;
                }
                Err(why) => {
                    cx.say(Level::Error, format!("cash tendered: {why}"));
                    return Outcome::Stay;
                }
            },
            Method::Card => match Card::parse(&self.number, &self.exp, &self.cvc, now) {
                Ok(card) => Tender::Card(card),
                Err(e) => {
                    // A typo changes nothing: the hold stays and the clerk retypes.
                    cx.fail(&e);
                    return Outcome::Stay;
                }
            },
        };
        self.step = Step::Paying;
        self.cvc = Zeroizing::new(String::new());
        cx.habits.method = self.method;
        let rx = cx
            .store
            .pay_in_background(hold.hold_id.clone(), tender, cx.opts.gateway.clone());
        cx.say(Level::Info, "taking the payment");
        Outcome::Paying(rx)
    }

    /// What became of the payment this checkout started (`None`: the checkout was left while it
    /// was under way; a booking made is still shown).
    pub fn paid(
        checkout: Option<&mut Checkout>,
        cx: &mut Cx,
        result: boxoffice::Result<Receipt>,
    ) -> Outcome {
        match result {
            Ok(receipt) => {
                cx.log.write(&format!(
                    "booked {} ({} cents, {})",
                    receipt.booking_code, receipt.total_cents, receipt.method
                ));
                match Confirmation::new(cx, receipt) {
                    Ok(c) => {
                        cx.say(Level::Ok, "paid and booked");
                        Outcome::Confirmation(Box::new(c))
                    }
                    Err(e) => {
                        cx.fail(&e);
                        Outcome::Stay
                    }
                }
            }
            Err(Error::Declined { reason, .. }) => {
                cx.log.write(&format!("declined: {reason}"));
                if let Some(c) = checkout {
                    c.hold = None;
                    c.step = Step::Declined(reason.clone());
                }
                cx.say(
                    Level::Error,
                    format!("declined: {reason}; r holds the same seats again"),
                );
                Outcome::Stay
            }
            Err(e @ (Error::HoldExpired { .. } | Error::HoldNotLive { .. })) => {
                cx.fail(&e);
                Outcome::BackToMap
            }
            Err(e) => {
                if let Some(c) = checkout {
                    c.step = Step::Payment;
                    // The hold is live again after a processor failure: show its new deadline.
                    if let Some(h) = &c.hold
                        && let Ok(fresh) = cx.store.hold(&h.hold_id)
                    {
                        c.hold = Some(fresh);
                    }
                }
                cx.fail(&e);
                Outcome::Stay
            }
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let c = self;
        let t = v.theme;
        let [summary, form] =
            Layout::vertical([Constraint::Length(6), Constraint::Min(0)]).areas(area);
        let countdown = match c.hold_seconds_left(v.now) {
            Some(s) => Span::styled(
                format!("Hold expires in {}:{:02}", s / 60, s % 60),
                if s < 60 { t.error } else { t.highlight },
            ),
            None => Span::styled(
                "Not held yet: enter the customer, then Enter holds the seats",
                t.dim,
            ),
        };
        let lines = vec![
            Line::styled(
                safe(&format!("{} - {}", c.concert.artist, c.concert.title)),
                t.title,
            ),
            Line::raw(format!(
                "{} · {}",
                c.concert.local_start.format("%a %d %b %Y %H:%M"),
                safe(&c.concert.venue)
            )),
            Line::raw(format!(
                "Seats {}   Total {}",
                c.seats.join(" "),
                Money::new(c.total_cents, &c.concert.currency)
            )),
            Line::from(countdown),
        ];
        frame.render_widget(
            Paragraph::new(lines).block(Block::bordered().title(" Order ")),
            summary,
        );
        let mut lines: Vec<Line> = Vec::new();
        match &c.step {
            Step::Details => {
                let problems = c.field_problems();
                for (i, (label, value)) in
                    [("Name", &c.name), ("Email", &c.email), ("Phone", &c.phone)]
                        .into_iter()
                        .enumerate()
                {
                    lines.extend(field(
                        t,
                        label,
                        &safe(value),
                        c.focus == i,
                        problems[i].as_deref(),
                    ));
                }
                lines.push(Line::styled(
                    "The phone is optional: with it the customer also gets an SMS.",
                    t.dim,
                ));
            }
            Step::Payment | Step::Paying => {
                let method = Line::from(vec![
                    Span::styled(
                        format!("{:<10}", "Method"),
                        if c.focus == 0 {
                            t.highlight
                        } else {
                            Default::default()
                        },
                    ),
                    Span::styled(
                        " Cash ",
                        if c.method == Method::Cash {
                            t.tab_active
                        } else {
                            t.tab
                        },
                    ),
                    Span::raw(" "),
                    Span::styled(
                        " Card ",
                        if c.method == Method::Card {
                            t.tab_active
                        } else {
                            t.tab
                        },
                    ),
                    Span::styled(
                        if c.focus == 0 {
                            "  <- -> to switch"
                        } else {
                            ""
                        },
                        t.dim,
                    ),
                ]);
                lines.push(method);
                lines.push(Line::raw(""));
                match c.method {
                    Method::Cash => {
                        let money = |cents| Money::new(cents, &c.concert.currency).to_string();
                        let most = boxoffice::payment::most_cash_for(c.total_cents);
                        // What is wrong with the amount goes under the field; the change below it.
                        let (problem, change) = match parse_money(&c.tendered) {
                            _ if c.tendered.is_empty() => (
                                None,
                                Line::styled("Type the cash handed over, e.g. 50 or 50.00", t.dim),
                            ),
                            Err(boxoffice::model::MoneyError::TooMuch) => (
                                Some(format!("more than {}: check the amount", money(most))),
                                Line::raw(""),
                            ),
                            Ok(v) if v > most => (
                                Some(format!("more than {}: check the amount", money(most))),
                                Line::raw(""),
                            ),
                            Ok(v) if v >= c.total_cents => (
                                None,
                                Line::styled(
                                    format!("Change due {}", money(v - c.total_cents)),
                                    t.ok,
                                ),
                            ),
                            Ok(v) => (
                                Some(format!("{} short", money(c.total_cents - v))),
                                Line::raw(""),
                            ),
                            Err(why) => (Some(why.to_string()), Line::raw("")),
                        };
                        lines.extend(field(
                            t,
                            "Tendered",
                            &c.tendered,
                            c.focus == 1,
                            problem.as_deref(),
                        ));
                        lines.push(change);
                    }
                    Method::Card => {
                        // Wiped when the frame is drawn, like the typed number itself.
                        let digits: zeroize::Zeroizing<String> = zeroize::Zeroizing::new(
                            c.number.chars().filter(|d| d.is_ascii_digit()).collect(),
                        );
                        let number_note =
                            if digits.len() >= 13 && !boxoffice::payment::card::luhn_ok(&digits) {
                                Some("the check digit does not match: retype")
                            } else {
                                None
                            };
                        lines.extend(field(
                            t,
                            "Card",
                            &masked_number(&c.number),
                            c.focus == 1,
                            number_note,
                        ));
                        let exp_note = boxoffice::payment::card::expiry_problem(&c.exp, v.now);
                        lines.extend(field(
                            t,
                            "Expiry",
                            &c.exp,
                            c.focus == 2,
                            exp_note.as_deref(),
                        ));
                        let cvc_note = boxoffice::payment::card::cvc_problem(&c.number, &c.cvc);
                        lines.extend(field(
                            t,
                            "CVC",
                            &"*".repeat(c.cvc.len()),
                            c.focus == 3,
                            cvc_note.as_deref(),
                        ));
                        lines.push(Line::styled(
                        "Test cards: 4242 4242 4242 4242 approves, 4000 0000 0000 0002 declines",
                        t.dim,
                    ));
                    }
                }
                if c.step == Step::Paying {
                    lines.push(Line::raw(""));
                    lines.push(Line::styled(
                        format!(
                            "{} Taking the payment...",
                            SPINNER[v.spinner % SPINNER.len()]
                        ),
                        t.info,
                    ));
                }
            }
            Step::Declined(reason) => {
                lines.push(Line::styled(format!("Payment declined: {reason}"), t.error));
                lines.push(Line::raw("The seats were released."));
                lines.push(Line::raw(""));
                lines.push(Line::styled(
                    "r  hold the same seats again and retry    Esc  back to the seat map",
                    t.highlight,
                ));
            }
        }
        if let Some(e) = &c.error {
            lines.push(Line::styled(format!("! {e}"), t.error));
        }
        let title = match c.step {
            Step::Details => " Customer ",
            _ => " Payment ",
        };
        let lines = compact(lines, form.height.saturating_sub(2) as usize);
        frame.render_widget(
            Paragraph::new(lines)
                .block(Block::bordered().title(title))
                .wrap(Wrap { trim: false }),
            form,
        );
    }
}
