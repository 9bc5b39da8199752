//! The states of a hold, a booking, a payment and a waiting-list entry: enums that read and
//! write the same words in the database, in JSON and on screen (`live`, `cancelled`, ...), so a
//! state is compared by the compiler, not spelled by hand.

use crate::error::Error;
use std::fmt;

macro_rules! states {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every state, in the order of the life it describes.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word the database, JSON and the screen use.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                match s {
                    $($word => Ok($name::$variant),)+
                    other => Err(Error::Corrupt(format!(
                        "`{other}` is not a {} state",
                        stringify!($name)
                    ))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl $crate::store::sql::ToSql for $name {
            fn to_value(&self) -> $crate::store::sql::ValueRef<'_> {
                $crate::store::sql::ValueRef::Text(self.as_str())
            }
        }

        impl $crate::store::sql::FromSql for $name {
            fn from_value(
                value: $crate::store::sql::ValueRef<'_>,
            ) -> $crate::store::sql::Result<Self> {
                value
                    .as_str()?
                    .parse()
                    .map_err(|e: Error| $crate::store::sql::Error::Type(e.to_string()))
            }
        }
    };
}

states!(
    /// A hold's life: `live` until paid, released, expired or declined.
    HoldState {
        Live = "live",
        /// A payment is in flight (the seats are kept without a time limit).
        Paying = "paying",
        Paid = "paid",
        Released = "released",
        Expired = "expired",
        Declined = "declined",
    }
);

states!(
    /// A booking is confirmed until it is cancelled.
    BookingState {
        Confirmed = "confirmed",
        Cancelled = "cancelled",
    }
);

states!(
    /// A charge or refund at a processor.
    PaymentState {
        /// Recorded before it goes out; not answered yet.
        Pending = "pending",
        Captured = "captured",
        Declined = "declined",
        Failed = "failed",
        /// The answer and the look-up both failed: nothing is charged again under this key
        /// until the processor answers.
        Unanswered = "unanswered",
    }
);

states!(
    /// A place on a waiting list.
    WaitlistState {
        Waiting = "waiting",
        Offered = "offered",
        Booked = "booked",
        Expired = "expired",
        Left = "left",
    }
);

states!(
    /// A ticket gets its holder in once: valid until checked in at a door; void once its
    /// booking is cancelled.
    TicketState {
        Valid = "valid",
        CheckedIn = "checked_in",
        Cancelled = "cancelled",
    }
);

states!(
    /// A concert goes ahead unless it is called off.
    ConcertStatus {
        Scheduled = "scheduled",
        Cancelled = "cancelled",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Each state's word is the one the schema's CHECK constraints allow, and reads back.
    #[test]
    fn every_state_reads_back_from_its_word_and_the_schema_allows_it() {
        let schema = include_str!("store/schema.sql");
        let words: Vec<&str> = HoldState::ALL
            .iter()
            .map(|s| s.as_str())
            .chain(BookingState::ALL.iter().map(|s| s.as_str()))
            .chain(PaymentState::ALL.iter().map(|s| s.as_str()))
            .chain(WaitlistState::ALL.iter().map(|s| s.as_str()))
            .chain(ConcertStatus::ALL.iter().map(|s| s.as_str()))
            .chain(TicketState::ALL.iter().map(|s| s.as_str()))
            .collect();
        for w in words {
            assert!(
                schema.contains(&format!("'{w}'")),
                "{w} is not in the schema"
            );
        }
        for s in HoldState::ALL {
            assert_eq!(s.as_str().parse::<HoldState>().unwrap(), *s);
        }
        for s in WaitlistState::ALL {
            assert_eq!(s.to_string().parse::<WaitlistState>().unwrap(), *s);
        }
        assert!("gone".parse::<BookingState>().is_err());
        assert_eq!(
            serde_json::to_string(&PaymentState::Unanswered).unwrap(),
            "\"unanswered\""
        );
    }
}
