//! Checkout: the seats are held; cash or card, and the customer's details if they give any
//! (checked as typed), with the hold's countdown always in view. Drawn in `draw.rs`.

mod draw;

pub use draw::customer_line;

use super::{Cx, Held, Leaving, Level, Method, Outcome};
use crate::tui::keys::{Cmd, Ctx};
use crate::tui::widgets::{edit, is_ctrl_u};
use boxoffice::booking::{clean_name, normalize_email, normalize_phone};
use boxoffice::model::parse_money;
use boxoffice::{Card, ConcertSummary, CustomerInfo, Error, Hold, Receipt, Tender};
use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use zeroize::{Zeroize, Zeroizing};

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The seats are held: payment, and the customer's details if they give any.
    Payment,
    Paying,
    Declined(String),
}

/// The checkout's fields, in the order Tab visits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Method,
    Tendered,
    Number,
    Expiry,
    Cvc,
    /// The counter terminal's slip: its approval code and the card's last four digits.
    Approval,
    Last4,
    Name,
    Email,
    Phone,
}

/// Selling the seats chosen on the map: they are held first (every rule checked before
/// anything is typed), then paid; the customer's details are asked for only as the sale needs
/// them (a walk-up paying cash gives none).
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
    /// The details the hold carries now (what the clerk typed, as last put on it).
    pub named: CustomerInfo,
    /// A waiting-list offer: held for the person who waited; their details are not typed.
    pub offer: bool,
    pub method: Method,
    pub tendered: String,
    pub number: Zeroizing<String>,
    pub exp: String,
    pub cvc: Zeroizing<String>,
    pub approval: String,
    pub last4: String,
    pub error: Option<String>,
    /// Leaving with a live hold asks first: where to, once the clerk says yes.
    pub asking: Option<Leaving>,
    /// The clerk was told the hold runs out in a minute.
    pub warned: bool,
}

impl Checkout {
    /// The checkout of seats held for a sale: a walk-up's, whose details are typed here, or a
    /// waiting-list offer's, held for the person who waited with their details.
    /// `method`: the one the clerk used last (cash first).
    pub fn open(held: Held, method: Method) -> Checkout {
        let Held {
            concert,
            hold,
            holder,
        } = held;
        let mut c = Checkout::blank(concert, hold.seats.clone(), method);
        c.total_cents = hold.total_cents;
        if let Some(holder) = holder {
            c.name = holder.name.clone().unwrap_or_default();
            c.email = holder.email.clone();
            c.phone = holder.phone.clone().unwrap_or_default();
            c.named = holder;
            c.offer = true;
        }
        c.hold = Some(hold);
        c
    }

    fn blank(concert: ConcertSummary, seats: Vec<String>, method: Method) -> Checkout {
        Checkout {
            concert,
            seats,
            total_cents: 0,
            step: Step::Payment,
            name: String::new(),
            email: String::new(),
            phone: String::new(),
            focus: 0,
            hold: None,
            named: CustomerInfo::default(),
            offer: false,
            method,
            tendered: String::new(),
            number: Zeroizing::new(String::new()),
            exp: String::new(),
            cvc: Zeroizing::new(String::new()),
            approval: String::new(),
            last4: String::new(),
            error: None,
            asking: None,
            warned: false,
        }
    }

    /// The fields Tab visits, for the method chosen.
    pub fn fields(&self) -> Vec<Field> {
        let mut f = vec![Field::Method];
        match self.method {
            Method::Cash => f.push(Field::Tendered),
            Method::Card => f.extend([Field::Number, Field::Expiry, Field::Cvc]),
            Method::Terminal => f.extend([Field::Approval, Field::Last4]),
        }
        if !self.offer {
            f.extend([Field::Name, Field::Email, Field::Phone]);
        }
        f
    }

    /// The field with the cursor.
    pub fn field(&self) -> Field {
        let f = self.fields();
        f[self.focus.min(f.len() - 1)]
    }

    fn focus_on(&mut self, field: Field) {
        if let Some(i) = self.fields().iter().position(|f| *f == field) {
            self.focus = i;
        }
    }

    pub fn keys(&self) -> (Ctx, bool) {
        if self.asking.is_some() {
            return (Ctx::Confirm, false);
        }
        match &self.step {
            Step::Payment => match self.field() {
                Field::Method => (Ctx::Payment, false),
                // Where a name or an address is typed, `?` is text.
                Field::Name | Field::Email | Field::Phone => (Ctx::Checkout, true),
                _ => (Ctx::Payment, true),
            },
            Step::Declined(_) => (Ctx::Declined, false),
            Step::Paying => (Ctx::Payment, false),
        }
    }

    /// A live hold this checkout would give back if it were left.
    pub fn holds_seats(&self) -> bool {
        self.hold.is_some() && self.step == Step::Payment
    }

    /// Leaving asks first while the seats are held; answered by `y` (give them back) or `n`.
    /// Returns whether it asked.
    pub fn ask_before(&mut self, leaving: Leaving, cx: &mut Cx) -> bool {
        if !self.holds_seats() {
            return false;
        }
        self.asking = Some(leaving);
        cx.say(
            Level::Info,
            format!(
                "give back the hold on {}? y releases it, n keeps paying",
                self.seats.join(" ")
            ),
        );
        true
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

    /// A minute or less is left on the hold, and nobody was told yet.
    pub fn hold_runs_out_soon(&mut self, now: DateTime<Utc>) -> bool {
        let soon = self.step == Step::Payment
            && self
                .hold_seconds_left(now)
                .is_some_and(|s| (1..=60).contains(&s));
        soon && !std::mem::replace(&mut self.warned, true)
    }

    /// The hold ran out: the checkout stays as typed (name, email, phone, the amount), and `r`
    /// holds the same seats again.
    pub fn ran_out(&mut self) {
        self.hold = None;
        self.asking = None;
        self.step = Step::Declined("the hold ran out and the seats went back".into());
    }

    /// Ctrl-E: one hold time more, once.
    fn extend(&mut self, cx: &mut Cx) {
        let Some(h) = &self.hold else { return };
        match cx.store.extend_hold(&h.hold_id) {
            Ok(hold) => {
                self.hold = Some(hold);
                self.warned = false;
                cx.say(Level::Ok, "the seats are kept one hold time longer");
            }
            Err(e) => cx.fail(&e),
        }
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

    /// Validation as you type: the problem with each customer field, if any. Every one is
    /// optional; what is typed must be right.
    pub fn field_problems(&self) -> [Option<String>; 3] {
        let name = clean_name(&self.name).err().map(|e| e.to_string());
        let email = if self.email.trim().is_empty() {
            None
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

    /// The customer as typed.
    fn typed(&self) -> CustomerInfo {
        CustomerInfo {
            email: self.email.trim().to_string(),
            name: Some(self.name.trim().to_string()).filter(|n| !n.is_empty()),
            phone: Some(self.phone.trim().to_string()).filter(|p| !p.is_empty()),
        }
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

    /// Holds the same seats again after a decline, for the customer as typed.
    fn hold_again(&mut self, cx: &mut Cx) -> Outcome {
        let customer = self.typed();
        match cx.store.hold_seats(self.concert.id, &self.seats, &customer) {
            Ok(hold) => {
                self.total_cents = hold.total_cents;
                self.hold = Some(hold);
                self.named = customer;
                self.step = Step::Payment;
                self.focus = 0;
                self.error = None;
                cx.say(Level::Ok, "seats held again: take the payment");
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

    /// The details typed, put on the hold if they changed: the person's own rules (their
    /// ticket limit with what they already have, one live hold each) are checked now. A
    /// refusal keeps everything typed and the hold.
    fn name_hold(&mut self, cx: &mut Cx) -> bool {
        if let Some((i, p)) = self
            .field_problems()
            .iter()
            .enumerate()
            .find_map(|(i, p)| p.as_ref().map(|p| (i, p.clone())))
        {
            self.focus_on([Field::Name, Field::Email, Field::Phone][i]);
            cx.say(Level::Error, p);
            return false;
        }
        let typed = self.typed();
        if self.offer || typed == self.named {
            return true;
        }
        let Some(hold) = &self.hold else { return false };
        match cx.store.name_hold(&hold.hold_id, &typed) {
            Ok(h) => {
                if let Some(r) = &h.replaced {
                    cx.say(
                        Level::Info,
                        format!(
                            "this customer's earlier hold on {} was released",
                            r.seats.join(" ")
                        ),
                    );
                }
                self.hold = Some(h);
                self.named = typed;
                true
            }
            Err(e) => {
                cx.fail(&e);
                false
            }
        }
    }

    pub fn key(&mut self, cx: &mut Cx, cmd: Option<Cmd>, key: &KeyEvent) -> Outcome {
        if let Some(leaving) = self.asking {
            match cmd {
                Some(Cmd::Yes) => {
                    self.asking = None;
                    return Outcome::Leave(leaving);
                }
                Some(Cmd::No) => {
                    self.asking = None;
                    cx.say(Level::Info, "the hold is kept: take the payment");
                }
                _ => {}
            }
            return Outcome::Stay;
        }
        match self.step.clone() {
            Step::Payment => {
                let fields = self.fields().len();
                match cmd {
                    Some(Cmd::NextField) => self.focus = (self.focus + 1) % fields,
                    Some(Cmd::PrevField) => self.focus = (self.focus + fields - 1) % fields,
                    Some(Cmd::Left) if self.field() == Field::Method => {
                        self.method = match self.method {
                            Method::Terminal => Method::Card,
                            _ => Method::Cash,
                        }
                    }
                    Some(Cmd::Right) if self.field() == Field::Method => {
                        self.method = match self.method {
                            Method::Cash => Method::Card,
                            _ => Method::Terminal,
                        }
                    }
                    Some(Cmd::Extend) => self.extend(cx),
                    Some(Cmd::Back) => {
                        if !self.ask_before(Leaving::Map, cx) {
                            return Outcome::BackToMap;
                        }
                    }
                    Some(Cmd::Submit) => {
                        if self.name_hold(cx) {
                            return self.submit_payment(cx);
                        }
                    }
                    _ => self.type_key(key),
                }
            }
            Step::Paying => {}
            Step::Declined(_) => match cmd {
                Some(Cmd::Retry) => return self.hold_again(cx),
                Some(Cmd::Back) => return Outcome::BackToMap,
                _ => {}
            },
        }
        Outcome::Stay
    }

    /// A key typed into the field with the cursor.
    fn type_key(&mut self, key: &KeyEvent) {
        let digit = matches!(key.code, KeyCode::Char(d) if d.is_ascii_digit());
        let digits_only = digit || key.code == KeyCode::Backspace || is_ctrl_u(key);
        match self.field() {
            Field::Method => {
                if let KeyCode::Char(ch) = key.code {
                    match ch {
                        'c' | 'C' => self.method = Method::Cash,
                        'k' | 'K' => self.method = Method::Card,
                        't' | 'T' => self.method = Method::Terminal,
                        // Digits go where they mean something: the amount tendered, or the
                        // card's number.
                        _ if digit => {
                            self.focus = 1;
                            self.type_key(key);
                        }
                        _ => {}
                    }
                }
            }
            Field::Tendered => {
                edit(&mut self.tendered, key, 12);
            }
            Field::Number => {
                let separator = matches!(key.code, KeyCode::Char(',' | '.'));
                let digits = self.number.chars().filter(char::is_ascii_digit).count();
                if separator && digits <= 6 {
                    // `45,00`: an amount, not a card number (the method was card from the last
                    // sale): it is cash, the digits typed so far the amount tendered.
                    let typed: String = self.number.chars().filter(char::is_ascii_digit).collect();
                    // Wiped, as a card number always is.
                    self.number.zeroize();
                    self.method = Method::Cash;
                    self.tendered = typed;
                    self.focus = 1;
                    edit(&mut self.tendered, key, 12);
                } else if digits_only || key.code == KeyCode::Char(' ') {
                    edit(&mut self.number, key, 23);
                }
            }
            Field::Expiry => {
                edit(&mut self.exp, key, 7);
            }
            Field::Cvc => {
                if digits_only {
                    edit(&mut self.cvc, key, 4);
                }
            }
            Field::Approval => {
                let separator = matches!(key.code, KeyCode::Char(',' | '.'));
                if separator && self.approval.chars().all(|c| c.is_ascii_digit()) {
                    // `45,00` after a terminal sale: an amount, so cash, as on the card line.
                    self.method = Method::Cash;
                    self.tendered = std::mem::take(&mut self.approval);
                    self.focus = 1;
                    edit(&mut self.tendered, key, 12);
                } else if matches!(key.code, KeyCode::Char(c) if c.is_ascii_alphanumeric())
                    || !matches!(key.code, KeyCode::Char(_))
                {
                    edit(&mut self.approval, key, 12);
                }
            }
            Field::Last4 => {
                if digits_only {
                    edit(&mut self.last4, key, 4);
                }
            }
            Field::Name => {
                edit(&mut self.name, key, 200);
            }
            Field::Email => {
                edit(&mut self.email, key, 200);
            }
            Field::Phone => {
                edit(&mut self.phone, key, 40);
            }
        }
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
            Method::Terminal => match boxoffice::payment::TerminalSlip::new(
                &self.approval,
                None,
                Some(self.last4.as_str()),
            ) {
                Ok(slip) => Tender::Terminal(slip),
                Err(e) => {
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
                Outcome::Confirmation(Box::new(receipt))
            }
            Err(Error::Declined { reason, .. }) => {
                cx.log.write(&format!("declined: {reason}"));
                if let Some(c) = checkout {
                    c.hold = None;
                    c.asking = None;
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
}
