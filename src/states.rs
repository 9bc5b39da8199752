//! The states of a hold, a booking, a payment and a waiting-list entry, and the kinds of holds,
//! payments and notices: enums that read and write the same words in the database, in JSON and
//! on screen (`live`, `cancelled`, `offer`, ...), so a state is compared by the compiler, not
//! spelled by hand. None compares equal to a string: a word read from elsewhere is parsed first.

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
        /// Seats held, for the customer to pay before the hold runs out.
        Live = "live",
        /// A payment is in flight (the seats are kept without a time limit).
        Paying = "paying",
        /// Paid: its seats are a booking's now.
        Paid = "paid",
        /// Given back before it ran out: by a clerk, for a newer hold, or its payment given up.
        Released = "released",
        /// Ran out unpaid; its seats are free again.
        Expired = "expired",
        /// Its payment was declined; its seats were released.
        Declined = "declined",
    }
);

states!(
    /// A booking is confirmed until it is cancelled.
    BookingState {
        /// Paid for; its tickets get their holders in.
        Confirmed = "confirmed",
        /// Cancelled: its seats are free again and its tickets void.
        Cancelled = "cancelled",
    }
);

states!(
    /// A charge or refund at a processor.
    PaymentState {
        /// Recorded before it goes out; not answered yet.
        Pending = "pending",
        /// Done: the money was taken (a charge) or given back (a refund).
        Captured = "captured",
        /// The processor refused the charge; nothing was taken.
        Declined = "declined",
        /// Given up: the processor failed or never saw it, so nothing was taken.
        Failed = "failed",
        /// The answer and the look-up both failed: nothing is charged again under this key
        /// until the processor answers.
        Unanswered = "unanswered",
    }
);

states!(
    /// A place on a waiting list.
    WaitlistState {
        /// In the queue, waiting for seats to be offered.
        Waiting = "waiting",
        /// Seats are held for them (an offer hold) until the offer runs out.
        Offered = "offered",
        /// The offer was paid for.
        Booked = "booked",
        /// The offer ran out or its payment failed; the seats went back.
        Expired = "expired",
        /// Left the queue, or turned the offer down.
        Left = "left",
    }
);

states!(
    /// A ticket gets its holder in once: valid until checked in at a door; void once its
    /// booking is cancelled.
    TicketState {
        /// Not used yet: it gets its holder in.
        Valid = "valid",
        /// Used: its holder went in at a door.
        CheckedIn = "checked_in",
        /// Void: its booking, or its seat, was cancelled.
        Cancelled = "cancelled",
    }
);

states!(
    /// A concert goes ahead unless it is called off.
    ConcertStatus {
        /// Going ahead, on sale from its on-sale time.
        Scheduled = "scheduled",
        /// Called off: its bookings are cancelled and refunded.
        Cancelled = "cancelled",
    }
);

states!(
    /// What a hold is for.
    HoldKind {
        /// Seats held for a sale at the counter or the command line.
        Sale = "sale",
        /// Seats offered from the waiting list, held for the person who waited.
        Offer = "offer",
        /// Seats freed on a concert with a waiting list, kept for it until offered.
        Pool = "pool",
    }
);

states!(
    /// A payment's direction at its processor.
    PaymentKind {
        /// Money taken from the customer.
        Charge = "charge",
        /// Money given back to the customer.
        Refund = "refund",
    }
);

states!(
    /// What a notice to a customer tells them (an outbox row's `kind`).
    NoticeKind {
        /// Paid and booked: the tickets come with it.
        Confirmation = "confirmation",
        /// The concert moved to another time.
        Rescheduled = "rescheduled",
        /// A booking, or some of its seats, cancelled.
        Cancellation = "cancellation",
        /// A charge that landed after its payment was given up, refunded.
        Refund = "refund",
        /// The concert was called off, and the booking refunded.
        ConcertCancelled = "concert_cancelled",
        /// Seats are offered from the waiting list, to pay before the offer ends.
        WaitlistOffer = "waitlist_offer",
        /// An offer from the waiting list ended unpaid.
        WaitlistExpired = "waitlist_expired",
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
            .chain(HoldKind::ALL.iter().map(|s| s.as_str()))
            .chain(PaymentKind::ALL.iter().map(|s| s.as_str()))
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
        for k in NoticeKind::ALL {
            assert_eq!(k.as_str().parse::<NoticeKind>().unwrap(), *k);
        }
        assert!("gone".parse::<BookingState>().is_err());
        assert_eq!(
            serde_json::to_string(&PaymentState::Unanswered).unwrap(),
            "\"unanswered\""
        );
    }
}
