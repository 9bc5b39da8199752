//! boxoffice core: concerts, venues, seats, holds, bookings and payments in one SQLite file,
//! or in a PostgreSQL database that box offices on several machines share.
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
pub mod files;
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
pub use model::{
    BookedSeat, Booking, Cancellation, Category, ConcertSummary, CustomerInfo, FreeRun, Hold,
    MOST_MONEY_CENTS, Money, MoneyError, Receipt, ReconcileReport, ReplacedHold, SeatCounts,
    SeatInfo, SeatMap, SeatStatus, Ticket, Venue, WaitlistEntry, parse_cents, parse_money,
    venue_clock,
};
pub use notify::spool::Spool;
pub use payment::{Card, CashProcessor, PaymentProcessor, Processors, Tender};
pub use search::ConcertQuery;
pub use states::{
    BookingState, ConcertStatus, HoldKind, HoldState, NoticeKind, PaymentKind, PaymentState,
    TicketState, WaitlistState,
};
pub use store::Store;
