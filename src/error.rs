//! The errors a clerk must be able to tell apart. Every message says what happened, in words
//! that fit any front end; what to do about it in a front end's own terms (a flag, a command, a
//! key) is that front end's to add, from [`Error::remedy`].

use chrono::{DateTime, Utc};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that cannot be right: a bad date, an empty seat list, a malformed email.
    #[error("{0}")]
    Invalid(String),
    #[error("there is no concert {0}")]
    ConcertNotFound(String),
    #[error("no such seat at this venue: {}", .0.join(", "))]
    UnknownSeats(Vec<String>),
    #[error("no hold {0}; it may have been mistyped")]
    HoldNotFound(String),
    #[error("no booking with code {0}")]
    BookingNotFound(String),
    #[error("no venue {0}")]
    VenueNotFound(String),
    #[error("{}: {}; nothing was held, pick other seats", if .0.len() == 1 { "seat already taken" } else { "seats already taken" }, .0.join(", "))]
    SeatsTaken(Vec<String>),
    #[error("reserved for the waiting list: {}; people are waiting for this concert", .0.join(", "))]
    ReservedForWaitlist(Vec<String>),
    #[error(
        "ticket limit reached: at most {limit} per customer for this concert; they have {have} and asked for {asked}"
    )]
    LimitReached { limit: i64, have: i64, asked: i64 },
    #[error("that selection would leave {} on its own; try {} instead", .stranded.join(", "), .suggestion.join(" "))]
    WouldStrandSeat {
        stranded: Vec<String>,
        suggestion: Vec<String>,
    },
    #[error("no row has {n} seats together; the best split is {}", .suggestion.join(" "))]
    NotTogether { n: usize, suggestion: Vec<String> },
    #[error("not enough free seats: {0}")]
    NotEnoughSeats(String),
    #[error("hold {id} expired at {at}; its seats are free again, hold them again")]
    HoldExpired { id: String, at: DateTime<Utc> },
    #[error("hold {id} is no longer live ({state}); hold the seats again")]
    HoldNotLive { id: String, state: crate::HoldState },
    #[error("hold {id} is already paid: booking {code}")]
    AlreadyPaid { id: String, code: String },
    #[error("a payment for hold {0} is already in progress; wait for it")]
    PaymentInProgress(String),
    #[error(
        "the payment for hold {0} took too long and was given up at another terminal; nothing was kept (a late charge is refunded); hold the seats again"
    )]
    PaymentAbandoned(String),
    #[error(
        "the payment processor did not answer ({0}) and could not say whether it charged; the seats stay held and nothing is charged again until it answers: try the payment again in a moment"
    )]
    Unanswered(String),
    #[error("booking {0} is already cancelled")]
    AlreadyCancelled(String),
    #[error("concert {0} is cancelled")]
    ConcertCancelled(String),
    #[error("not on sale yet: sales open {venue_time}")]
    NotOnSale {
        at: DateTime<Utc>,
        /// The opening as the venue's clock shows it, labelled (`Thu 10 Dec 10:00 CET`).
        venue_time: String,
    },
    #[error("not enough cash: {due} due, {tendered} tendered")]
    InsufficientCash { due: String, tendered: String },
    #[error("{0}")]
    CardInvalid(String),
    #[error("payment declined: {reason}; the seats were released")]
    Declined {
        reason: String,
        concert_id: i64,
        seats: Vec<String>,
        customer: String,
    },
    #[error("the payment processor failed: {0}; nothing was charged, try again")]
    Processor(String),
    #[error("nothing was imported; fix these rows and run it again:\n{}", .0.iter().map(|r| format!("  line {}: {}", r.line, r.message)).collect::<Vec<_>>().join("\n"))]
    ImportRejected(Vec<RowError>),
    #[error("layout line {line}: {message}")]
    Layout { line: usize, message: String },
    #[error("the database is busy (another terminal is writing); try again in a moment")]
    Busy,
    #[error("the disk is full ({0}); nothing was changed: free some space and try again")]
    DiskFull(String),
    #[error("the database is read-only: {0}")]
    ReadOnly(String),
    #[error("the database file is damaged or not a boxoffice database: {0}")]
    Corrupt(String),
    #[error(
        "this database was written by a newer boxoffice (schema {found}, this build knows up to {supported}); upgrade boxoffice to open it"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("database error: {0}")]
    /// A statement failed for a reason none of the others names (`store::sql` maps them).
    Storage(Box<dyn std::error::Error + Send + Sync>),
    /// The PostgreSQL server: unreachable, a refused login, no such database, a failed
    /// statement; said in one line naming the server and what to do.
    #[error("{0}")]
    Server(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

/// What a person can do about an error, for a front end to say in its own terms (the command
/// line names a flag or a command; the terminal app, a key or a screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    /// See which concerts there are.
    ListConcerts,
    /// See the concert's seat labels.
    ListSeats,
    /// The clerk may hold the selection anyway (the override is recorded).
    AllowGap,
    /// The clerk may take the best split.
    AllowSplit,
    /// Settle the interrupted payment now instead of waiting for it.
    Reconcile,
}

impl Error {
    /// What to do about this error, when there is something to do beyond what it says.
    pub fn remedy(&self) -> Option<Remedy> {
        match self {
            Error::ConcertNotFound(_) => Some(Remedy::ListConcerts),
            Error::UnknownSeats(_) => Some(Remedy::ListSeats),
            Error::WouldStrandSeat { .. } => Some(Remedy::AllowGap),
            Error::NotTogether { .. } => Some(Remedy::AllowSplit),
            Error::PaymentInProgress(_) => Some(Remedy::Reconcile),
            _ => None,
        }
    }
}

/// A bad row of an import file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub line: usize,
    pub message: String,
}

/// How a caller should react to an error; the CLI turns this into its exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request cannot be right as typed (exit 2).
    Usage,
    /// A seat or hold is not available now; someone else has it or time ran out (exit 3).
    Unavailable,
    /// Anything else (exit 1).
    Other,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        use Error::*;
        match self {
            Invalid(_)
            | CardInvalid(_)
            | ConcertNotFound(_)
            | UnknownSeats(_)
            | HoldNotFound(_)
            | BookingNotFound(_)
            | VenueNotFound(_)
            | Layout { .. }
            | ImportRejected(_) => ErrorKind::Usage,
            SeatsTaken(_)
            | ReservedForWaitlist(_)
            | LimitReached { .. }
            | WouldStrandSeat { .. }
            | NotTogether { .. }
            | NotEnoughSeats(_)
            | HoldExpired { .. }
            | HoldNotLive { .. }
            | AlreadyPaid { .. }
            | PaymentInProgress(_)
            | PaymentAbandoned(_)
            | ConcertCancelled(_)
            | NotOnSale { .. } => ErrorKind::Unavailable,
            _ => ErrorKind::Other,
        }
    }

    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
