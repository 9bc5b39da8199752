//! The card ledger's rules, the same whichever engine keeps it (`gateway.rs` in a SQLite file,
//! `gateway_pg.rs` on a PostgreSQL server): what each test card does, how a recorded charge
//! reads back, the references the gateway hands out, and why a fenced key is refused.

use super::{ChargeOutcome, ProcessorError};

/// A test card the gateway approves (as it does any other valid number not listed here).
pub const CARD_APPROVE: &str = "4242424242424242";
/// A test card the gateway declines.
pub const CARD_DECLINE: &str = "4000000000000002";
/// A test card declined for insufficient funds.
pub const CARD_INSUFFICIENT_FUNDS: &str = "4000000000009995";
/// A test card whose charge fails at the gateway, with nothing charged.
pub const CARD_GATEWAY_ERROR: &str = "4000000000000119";

/// What a test card does, by its number: the outcome recorded, or the gateway's own failure.
pub(super) fn outcome_of(number: &str) -> Result<&'static str, ProcessorError> {
    Ok(match number {
        CARD_GATEWAY_ERROR => {
            return Err(ProcessorError(
                "the card gateway reported an internal error".into(),
            ));
        }
        CARD_DECLINE => "the card was declined by the bank; ask for another card or cash",
        CARD_INSUFFICIENT_FUNDS => "insufficient funds on the card; ask for another card or cash",
        _ => "approved",
    })
}

/// The outcome as the charge recorded it.
pub(super) fn recorded(reference: String, outcome: String, card: String) -> ChargeOutcome {
    if outcome == "approved" {
        ChargeOutcome::Approved {
            reference,
            change_cents: 0,
            detail: card,
        }
    } else {
        ChargeOutcome::Declined { reason: outcome }
    }
}

/// A new reference for a charge or refund (`ch_…`, `re_…`).
pub(super) fn reference(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// Why a charge under a key the box office gave up on was refused.
pub const FENCED: &str =
    "the payment was given up before the card gateway saw it; nothing was charged";
