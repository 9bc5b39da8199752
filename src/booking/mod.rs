//! The seat state machine: hold (atomic, with a time to live), pay, confirm, cancel, expire.
//!
//! ```text
//! hold: live --pay--> paying --approved--> paid (booking confirmed)
//!         |              \--declined--> declined (seats free)
//!         +--release--> released      +--expiry--> expired (seats free)
//! ```

use crate::error::{Error, Result};
use crate::model::*;
use crate::payment::{ChargeOutcome, ChargeRequest, Processors, RefundRequest, Tender};
use crate::search::summaries;
use crate::states::{BookingState, HoldKind, HoldState, PaymentState, WaitlistState};
use crate::store::seat_index::SeatIndex;
use crate::store::sql::OptionalExtension;
use crate::store::{SEAT_STATUS_SQL, Store, from_ts, ts};
use crate::{named_params, params};
use chrono::{DateTime, Duration, Utc};
use std::sync::LazyLock;

mod best;
mod cancel;
pub mod door;
mod extend;
mod gap;
mod holds;
mod payment;
mod read;
#[cfg(test)]
mod tests;
pub mod waitlist;
mod walk_ups;

pub use crate::records::{clean_name, normalize_email, normalize_phone};
pub use best::BestRequest;
pub use gap::GapAdvice;
pub use walk_ups::WALK_UP_HOLDS;

use crate::records::*;
pub(crate) use best::*;
pub(crate) use cancel::*;
pub(crate) use gap::*;
pub(crate) use holds::*;

/// How long a payment may be in flight before `reconcile` treats it as interrupted. A card
/// gateway answers (or times out) well within this.
pub const PAYMENT_LEASE: Duration = Duration::minutes(2);

/// The most seats one hold may ask for (a ticket limit is far lower; this refuses a runaway
/// list before any work is done for it).
pub const MAX_SEATS_PER_HOLD: usize = 500;
