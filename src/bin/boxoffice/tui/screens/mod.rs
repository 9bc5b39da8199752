//! One module per screen. A screen owns its state, its keys and its drawing: its event methods
//! change its state through the [`Cx`] they are given (the store, the status line) and answer
//! with an [`Outcome`] for the app loop (open another screen, start a payment); `draw` reads
//! it through a [`View`]. Screens never call each other: moving between them is an outcome the
//! loop carries out (`app.rs`).

pub mod bookings;
pub mod checkout;
pub mod clerk;
pub mod concerts;
pub mod confirmation;
pub mod door;
pub mod sales;
pub mod seatmap;
pub mod waitlist;

use super::app::{Level, Options, Screen, Status};
use super::theme::Theme;
use crate::applog::Log;
use boxoffice::{Error, Processors, Store};
use chrono::{DateTime, Utc};
use std::sync::mpsc::Receiver;

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
    pub method: checkout::Method,
}

impl Default for Habits {
    fn default() -> Habits {
        Habits {
            method: checkout::Method::Cash,
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
    /// A concert's seat map (a cancelled concert is said instead).
    OpenMap(i64),
    /// Close the seat map and go back to the concert list.
    LeaveMap,
    /// Back to the seat map still open, its statuses read again (a checkout left is released).
    BackToMap,
    /// Back to the screen a screen was opened from.
    Back(Screen),
    /// Take these seats (held) to the checkout.
    Checkout(Box<checkout::Checkout>),
    /// The checkout is left and its hold given back (the clerk said yes): go on to where the
    /// clerk was going.
    Leave(checkout::Leaving),
    /// A payment under way on its own thread.
    Paying(Receiver<boxoffice::chores::PaymentResult>),
    /// Paid and booked.
    Confirmation(Box<confirmation::Confirmation>),
    /// A concert's waiting list (with the join form open when `join`).
    Waitlist {
        concert: i64,
        back: Screen,
        join: bool,
    },
}
