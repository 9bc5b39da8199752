//! boxoffice core: concerts, venues, seats, holds, bookings and payments in one SQLite file.
//!
//! This crate knows nothing of terminals: the CLI and the terminal app in `src/bin/boxoffice/`
//! drive it,
//! and everything they show comes from here. It never prints.

#![forbid(unsafe_code)]

pub mod audit;
pub mod booking;
pub mod catalog;
pub mod changes;
pub mod chores;
pub mod clock;
pub mod codes;
pub mod error;
pub mod failpoint;
pub mod fairness;
pub mod import;
pub mod model;
pub mod notify;
pub mod payment;
pub(crate) mod records;
pub mod report;
pub mod search;
pub mod states;
pub mod store;
pub mod text;

pub use booking::waitlist;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, ErrorKind, Remedy, Result};
pub use model::*;
pub use notify::spool::Spool;
pub use payment::{Card, CashProcessor, PaymentProcessor, Processors, Tender};
pub use search::ConcertQuery;
pub use states::{
    BookingState, ConcertStatus, HoldState, PaymentState, TicketState, WaitlistState,
};
pub use store::Store;
