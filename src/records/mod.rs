//! The records with invariants, each written by one module: seats claimed for a concert and the
//! concert's counts of them (`claims`), customers and who counts as the same person
//! (`customer`), booking codes and hold ids (`codes`), new bookings (`bookings`) and their
//! tickets (`tickets`). The rules above
//! (booking, the waiting list, the catalog's demo sales) claim, free and record through here;
//! what reads them (search, notices) needs nothing above it.

use crate::error::{Error, Result};
use crate::model::*;
use crate::params;
use crate::states::HoldState;
use crate::store::sql::OptionalExtension;
use crate::store::ts;
use chrono::{DateTime, Utc};

mod bookings;
mod claims;
mod codes;
mod customer;
#[cfg(test)]
mod tests;
mod tickets;

pub use customer::{clean_name, normalize_email, normalize_phone};

pub(crate) use bookings::*;
pub(crate) use claims::*;
pub(crate) use codes::*;
pub(crate) use customer::*;
pub(crate) use tickets::*;
