//! The errors a clerk must be able to tell apart. Every message says what happened, in words
//! that fit any front end; what to do about it in a front end's own terms (a flag, a command, a
//! key) is that front end's to add, from [`Error::remedy`].

use chrono::{DateTime, Utc};

/// The result of the core's operations, with [`Error`] unless it says otherwise.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the core refuses or fails at, each in words for the clerk.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that cannot be right: a bad date, an empty seat list, a malformed email.
    #[error("{0}")]
    Invalid(String),
    /// No concert has this number or external id (as typed).
    #[error("there is no concert {0}")]
    ConcertNotFound(String),
    /// The venue has no seats with these labels.
    #[error("no such seat at this venue: {}", .0.join(", "))]
    UnknownSeats(Vec<String>),
    /// No hold has this id.
    #[error("no hold {0}; it may have been mistyped")]
    HoldNotFound(String),
    /// No booking has this code.
    #[error("no booking with code {0}")]
    BookingNotFound(String),
    /// No venue has this slug, number or name.
    #[error("no venue {0}")]
    VenueNotFound(String),
    /// Someone else holds or has booked these seats (by label); nothing was held.
    #[error("{}: {}; nothing was held, pick other seats", if .0.len() == 1 { "seat already taken" } else { "seats already taken" }, .0.join(", "))]
    SeatsTaken(Vec<String>),
    /// These seats (by label) are kept for the waiting list.
    #[error("reserved for the waiting list: {}; people are waiting for this concert", .0.join(", "))]
    ReservedForWaitlist(Vec<String>),
    /// The customer would have more tickets for the concert than its limit allows.
    #[error(
        "ticket limit reached: at most {limit} per customer for this concert; they have {have} and asked for {asked}"
    )]
    LimitReached {
        /// The concert's ticket limit per customer.
        limit: i64,
        /// The tickets they hold or have booked for it already.
        have: i64,
        /// The tickets this hold asked for.
        asked: i64,
    },
    /// The selection would leave single seats free on their own (the gap rule).
    #[error("that selection would leave {} on its own; try {} instead", .stranded.join(", "), .suggestion.join(" "))]
    WouldStrandSeat {
        /// The seats it would strand, by label.
        stranded: Vec<String>,
        /// A selection of the same size that strands nobody, by label.
        suggestion: Vec<String>,
    },
    /// No row has the seats asked for side by side; the best split is offered instead.
    #[error("no row has {n} seats together; the best split is {}", .suggestion.join(" "))]
    NotTogether {
        /// How many seats were asked for.
        n: usize,
        /// The best split, by label.
        suggestion: Vec<String>,
    },
    /// Fewer seats are free than asked for (of the category or price asked); it says what.
    #[error("not enough free seats: {0}")]
    NotEnoughSeats(String),
    /// The hold ran out before it was paid; its seats are free again.
    #[error("hold {id} expired at {at}; its seats are free again, hold them again")]
    HoldExpired {
        /// The hold's id.
        id: String,
        /// When it ran out (UTC).
        at: DateTime<Utc>,
    },
    /// The hold ended some other way (released or declined) and cannot be paid.
    #[error("hold {id} is no longer live ({state}); hold the seats again")]
    HoldNotLive {
        /// The hold's id.
        id: String,
        /// The state it ended in.
        state: crate::HoldState,
    },
    /// The hold was paid already.
    #[error("hold {id} is already paid: booking {code}")]
    AlreadyPaid {
        /// The hold's id.
        id: String,
        /// The code of the booking it paid for.
        code: String,
    },
    /// Another terminal is paying this hold (its id) now.
    #[error("a payment for hold {0} is already in progress; wait for it")]
    PaymentInProgress(String),
    /// The payment of this hold (its id) was given up at another terminal.
    #[error(
        "the payment for hold {0} took too long and was given up at another terminal; nothing was kept (a late charge is refunded); hold the seats again"
    )]
    PaymentAbandoned(String),
    /// The processor did not answer and could not be asked; what it said (the hold stays frozen).
    #[error(
        "the payment processor did not answer ({0}) and could not say whether it charged; the seats stay held and nothing is charged again until it answers: try the payment again in a moment"
    )]
    Unanswered(String),
    /// The booking (its code) was cancelled already.
    #[error("booking {0} is already cancelled")]
    AlreadyCancelled(String),
    /// The concert (its number) was called off.
    #[error("concert {0} is cancelled")]
    ConcertCancelled(String),
    /// Sales for the concert have not opened yet.
    #[error("not on sale yet: sales open {venue_time}")]
    NotOnSale {
        /// When they open (UTC).
        at: DateTime<Utc>,
        /// The opening as the venue's clock shows it, labelled (`Thu 10 Dec 10:00 CET`).
        venue_time: String,
    },
    /// This terminal (or this clerk) already keeps as many walk-up holds, unpaid and with no
    /// one's details, as one counter may: one more would let a terminal sit on a show.
    #[error(
        "{by} already keeps {limit} walk-up holds that are not paid: take a payment or let one \
         go first"
    )]
    WalkUpHolds {
        /// The most one terminal or clerk may keep at once.
        limit: i64,
        /// Who keeps them: `this terminal (kiosk-2)` or `clerk anna`.
        by: String,
    },
    /// The concert has started: its seats are no longer sold.
    #[error("sales have closed: the concert started {venue_time}")]
    SalesClosed {
        /// When it started (UTC).
        at: DateTime<Utc>,
        /// The start as the venue's clock shows it, labelled.
        venue_time: String,
    },
    /// The cash tendered is less than what is due.
    #[error("not enough cash: {due} due, {tendered} tendered")]
    InsufficientCash {
        /// What is due, as money (`EUR 35.00`).
        due: String,
        /// What was tendered, as money.
        tendered: String,
    },
    /// The card's details cannot be right (number, expiry or code); it says which.
    #[error("{0}")]
    CardInvalid(String),
    /// The processor declined the payment; the hold's seats were released.
    #[error("payment declined: {reason}; the seats were released")]
    Declined {
        /// Why, in the processor's words.
        reason: String,
        /// The concert the seats were for.
        concert_id: i64,
        /// The seats released, by label, to hold again.
        seats: Vec<String>,
        /// The customer's email, to hold the seats again for them.
        customer: String,
    },
    /// The processor failed and never saw the charge (its words); nothing was charged.
    #[error("the payment processor failed: {0}; nothing was charged, try again")]
    Processor(String),
    /// An import file's bad rows; nothing was imported.
    #[error("nothing was imported; fix these rows and run it again:\n{}", .0.iter().map(|r| format!("  line {}: {}", r.line, r.message)).collect::<Vec<_>>().join("\n"))]
    ImportRejected(Vec<RowError>),
    /// A layout file that cannot be read.
    #[error("layout line {line}: {message}")]
    Layout {
        /// The line the problem is on, from 1 (0: the file as a whole).
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// The processor took the money, then the booking could not be written (twice): what
    /// happened to the money, and what becomes of it. Settled by reconcile (every terminal
    /// runs it at start; `boxoffice reconcile` at once) as soon as the box office can write.
    // The first words say what to do, so a status line cut at 80 columns still says it.
    #[error("{}", if *.cash {
        format!("hand the {money} cash back: the booking could not be written ({cause}); nothing was sold, the seats are freed once the box office can write")
    } else {
        format!("{money} was charged, not yet booked ({cause}): nothing is lost, it is booked (or refunded) once the box office can write")
    })]
    TakenNotBooked {
        /// The amount, as money (`EUR 68.00`).
        money: String,
        /// Cash (the drawer keeps no books: the sale is given up) or a processor with books
        /// of its own (the charge is found there and booked).
        cash: bool,
        /// Why the booking could not be written (the storage's words).
        cause: String,
    },
    /// Another terminal holds the database's write lock too long; try again.
    #[error("the database is busy (another terminal is writing); try again in a moment")]
    Busy,
    /// The disk is full (what the database said); nothing was changed.
    #[error("the disk is full ({0}); nothing was changed: free some space and try again")]
    DiskFull(String),
    /// The database cannot be written (why, and which file).
    #[error("the database is read-only: {0}")]
    ReadOnly(String),
    /// This terminal was opened to look, not to sell ([`crate::Store::set_read_only`]).
    #[error("this terminal is read-only: it shows everything and changes nothing")]
    ReadOnlyTerminal,
    /// The database is damaged or not a box office's (what could not be read).
    #[error("the database file is damaged or not a boxoffice database: {0}")]
    Corrupt(String),
    /// The database's schema is newer than this build knows.
    #[error(
        "this database was written by a newer boxoffice (schema {found}, this build knows up to {supported}); upgrade boxoffice to open it"
    )]
    SchemaTooNew {
        /// The schema version the database has.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    #[error("database error: {0}")]
    /// A statement failed for a reason none of the others names (`store::sql` maps them).
    Storage(Box<dyn std::error::Error + Send + Sync>),
    /// The PostgreSQL server: unreachable, a refused login, no such database, a failed
    /// statement; said in one line naming the server and what to do.
    #[error("{0}")]
    Server(String),
    /// A file or device could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What was being done (`cannot create PATH`).
        context: String,
        /// The operating system's error.
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
    /// Settling what was taken now, once the box office can write.
    SettleNow,
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
            Error::TakenNotBooked { .. } => Some(Remedy::SettleNow),
            _ => None,
        }
    }
}

/// A bad row of an import file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// The line of the file, from 1.
    pub line: usize,
    /// What is wrong with the row.
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
    /// How a caller should react to this error (see [`ErrorKind`]).
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
            | NotOnSale { .. }
            | SalesClosed { .. }
            | WalkUpHolds { .. }
            | ReadOnlyTerminal => ErrorKind::Unavailable,
            _ => ErrorKind::Other,
        }
    }

    /// An [`Error::Invalid`] saying `msg`.
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
