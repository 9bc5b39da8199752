//! One module per screen. A screen owns its state, its keys and its drawing: its event methods
//! change its state through the [`Cx`] they are given (the store, the status line) and answer
//! with an [`Outcome`] for the app loop (open another screen, start a payment); `draw` reads
//! it through a [`View`]. Screens never call each other: moving between them is an outcome the
//! loop carries out (`app.rs`), which also makes the screen it opens (a screen asks for a
//! checkout with the seats it [`Held`]; it does not build one). The words every screen and the
//! loop share (the options, which screen, the status line, the minimum size) are here, below
//! the screens and the loop alike.

pub mod bookings;
pub mod checkout;
pub mod clerk;
pub mod concerts;
pub mod confirmation;
pub mod door;
pub mod sales;
pub mod seatmap;
pub mod waitlist;

use super::theme::Theme;
use crate::applog::Log;
use boxoffice::{ConcertSummary, CustomerInfo, Error, Hold, Processors, Receipt, Spool, Store};
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Options {
    pub kiosk: bool,
    /// Kiosk mode: clear customer details after this long without a key.
    pub idle: Duration,
    /// Where this machine keeps its own files: the log, printed receipts (beside a SQLite
    /// file; the data directory for a PostgreSQL box office).
    pub local: PathBuf,
    pub gateway: PathBuf,
    /// Where messages go (the spool, or a relay and gateway).
    pub spool: Spool,
    /// The clerk's time zone, for times not tied to a venue (the clock, deadlines).
    pub utc_offset: chrono::FixedOffset,
    /// The machine's time zone by name, when it has one (the header clock's abbreviation).
    pub zone: Option<chrono_tz::Tz>,
    /// Door mode: this concert's door, and nothing else (`boxoffice --door CONCERT`).
    pub door: Option<i64>,
    /// The receipt printer (ESC/POS), if there is one.
    pub printer: Option<PathBuf>,
    /// The code page it prints in.
    pub printer_codepage: boxoffice::notify::codepage::CodePage,
    /// The clock is one set with `--now` (a rehearsal on a throwaway demo), not the real one:
    /// the top line and the first status say so.
    pub rehearsal: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Concerts,
    SeatMap,
    Checkout,
    Confirmation,
    Bookings,
    Waitlist,
    Sales,
    Door,
    /// A kiosk started without a clerk asks who is at the counter.
    Clerk,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Ok,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub level: Level,
}

pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Cash,
    Card,
    /// A card on the counter's own terminal: the slip's approval code is recorded.
    Terminal,
}

/// Where the clerk was going when the checkout asked whether to give the hold back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaving {
    Map,
    Concerts,
    Bookings,
    Sales,
    Quit,
}

/// Seats held for a sale, for the checkout the loop opens: a walk-up's (`holder` is `None`:
/// the details are typed at the checkout) or a waiting-list offer's (held for the person who
/// waited, with their details).
pub struct Held {
    pub concert: ConcertSummary,
    pub hold: Hold,
    pub holder: Option<CustomerInfo>,
}

/// What a screen's event may use: the store and processors, the log, the options, and the
/// status line it may set.
pub struct Cx<'a> {
    pub store: &'a mut Store,
    pub processors: &'a Processors,
    pub log: &'a mut Log,
    pub opts: &'a Options,
    pub status: &'a mut Option<Status>,
    /// What the clerk did last that the next sale starts from.
    pub habits: &'a mut Habits,
}

/// The clerk's habits at this terminal: the payment method used last is the next sale's
/// default (cash first at a counter).
#[derive(Debug, Clone, Copy)]
pub struct Habits {
    pub method: Method,
}

impl Default for Habits {
    fn default() -> Habits {
        Habits {
            method: Method::Cash,
        }
    }
}

impl Cx<'_> {
    pub fn say(&mut self, level: Level, text: impl Into<String>) {
        let text = text.into();
        if level == Level::Error {
            self.log.write(&format!("shown error: {text}"));
        }
        *self.status = Some(Status { text, level });
    }

    pub fn fail(&mut self, e: &Error) {
        self.say(Level::Error, e.to_string());
    }

    /// Clears the status line.
    pub fn quiet(&mut self) {
        *self.status = None;
    }

    /// The checkout of the waiting-list offer with this code (its hold id, as the notice
    /// gave it), or why it cannot be paid (said on the status line).
    pub fn offer_checkout(&mut self, code: &str) -> Outcome {
        let cx = self;
        let found = cx.store.hold(code).and_then(|hold| {
            if hold.kind != boxoffice::HoldKind::Offer {
                return Err(Error::invalid(format!(
                    "{} is a hold, not a waiting-list offer",
                    hold.hold_id
                )));
            }
            let concert = cx.store.concert(hold.concert_id)?;
            let holder = cx.store.hold_customer(&hold.hold_id)?;
            Ok((hold, concert, holder))
        });
        match found {
            Ok((hold, _, _))
                if hold.state != boxoffice::HoldState::Live
                    || hold.expires_at <= cx.store.now() =>
            {
                let state = match hold.state {
                    boxoffice::HoldState::Live => boxoffice::HoldState::Expired,
                    s => s,
                };
                cx.say(
                    Level::Error,
                    format!("the offer {} is {state}: it cannot be paid", hold.hold_id),
                );
                Outcome::Stay
            }
            Ok((hold, concert, holder)) => {
                cx.say(Level::Ok, "the offer's seats are held: take the payment");
                Outcome::Checkout(Box::new(Held {
                    concert,
                    hold,
                    holder: Some(holder),
                }))
            }
            Err(e) => {
                cx.fail(&e);
                Outcome::Stay
            }
        }
    }
}

/// What drawing may read besides the screen's own state.
pub struct View<'a> {
    pub theme: &'a Theme,
    /// The store's clock (hold countdowns).
    pub now: DateTime<Utc>,
    /// Frames of the "working" spinner.
    pub spinner: usize,
}

/// What a screen asks of the app loop after an event.
pub enum Outcome {
    /// Nothing beyond the screen's own state.
    Stay,
    /// The concert list, searched afresh.
    Concerts,
    /// The next customer at the counter: the concert list with an empty search, typing into
    /// it (what the last customer searched for is gone).
    NextCustomer,
    /// A concert's seat map (a cancelled concert is said instead).
    OpenMap(i64),
    /// Close the seat map and go back to the concert list.
    LeaveMap,
    /// Back to the seat map still open, its statuses read again (a checkout left is released).
    BackToMap,
    /// Back to the screen a screen was opened from.
    Back(Screen),
    /// Take these seats, held, to the checkout.
    Checkout(Box<Held>),
    /// The checkout is left and its hold given back (the clerk said yes): go on to where the
    /// clerk was going.
    Leave(Leaving),
    /// A payment under way on its own thread.
    Paying(Receiver<boxoffice::chores::PaymentResult>),
    /// Paid and booked.
    Confirmation(Box<Receipt>),
    /// A concert's waiting list (with the join form open when `join`).
    Waitlist {
        concert: i64,
        back: Screen,
        join: bool,
    },
}
