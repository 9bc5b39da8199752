//! Payment processors. Booking code talks only to the [`PaymentProcessor`] trait, so a real
//! gateway plugs in as one more implementation.

pub mod card;
pub mod gateway;
pub mod gateway_pg;
mod ledger;

pub use card::{Brand, Card};
pub use gateway::SimulatedGateway;

use std::fmt;

/// What the customer pays with.
#[derive(Clone, PartialEq, Eq)]
pub enum Tender {
    /// Cash handed over at the counter, in cents.
    Cash {
        /// The cash the customer handed over, in cents.
        tendered_cents: i64,
    },
    /// A validated card; its number lives only as long as this value.
    Card(Card),
    /// A card the customer paid with on the counter's own stand-alone card terminal: the clerk
    /// keyed the amount in there and records what its slip says.
    Terminal(TerminalSlip),
}

/// What a counter's card terminal printed for an approved payment: its approval code, and if
/// the clerk gives them, the card's brand and last four digits (never more of the number).
#[derive(Clone, PartialEq, Eq)]
pub struct TerminalSlip {
    approval: String,
    brand: Option<String>,
    last4: Option<String>,
}

impl TerminalSlip {
    /// Checks what the clerk typed: an approval code of 2 to 12 letters and digits, a brand of
    /// at most 20 letters, exactly four last digits. Anything longer that looks like a card
    /// number is refused without being repeated.
    pub fn new(approval: &str, brand: Option<&str>, last4: Option<&str>) -> crate::Result<Self> {
        let approval = approval.trim().to_ascii_uppercase();
        if !(2..=12).contains(&approval.len())
            || !approval.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(crate::Error::invalid(
                "the terminal's approval code is 2 to 12 letters and digits, as on its slip",
            ));
        }
        let brand = brand.map(str::trim).filter(|b| !b.is_empty());
        if let Some(b) = brand
            && (b.chars().count() > 20
                || !b.chars().all(|c| c.is_alphabetic() || c == ' ' || c == '-'))
        {
            return Err(crate::Error::invalid(
                "the card's brand is a name such as Visa or Mastercard",
            ));
        }
        let last4 = last4.map(str::trim).filter(|l| !l.is_empty());
        if let Some(l) = last4
            && (l.len() != 4 || !l.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(crate::Error::invalid(
                "give the card's last four digits only, never more of its number",
            ));
        }
        Ok(TerminalSlip {
            approval,
            brand: brand.map(str::to_string),
            last4: last4.map(str::to_string),
        })
    }
}

impl Tender {
    /// The processor that takes this tender.
    pub fn processor(&self) -> &'static str {
        match self {
            Tender::Cash { .. } => "cash",
            Tender::Card(_) => "card",
            Tender::Terminal(_) => "terminal",
        }
    }
}

impl fmt::Debug for Tender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tender::Cash { tendered_cents } => write!(f, "Cash({tendered_cents})"),
            Tender::Card(card) => write!(f, "{card:?}"),
            Tender::Terminal(slip) => write!(f, "Terminal({})", slip.approval),
        }
    }
}

/// A request to a processor to take money for a booking.
#[derive(Debug)]
pub struct ChargeRequest<'a> {
    /// The same key never charges twice: a retry returns the first result.
    pub idempotency_key: &'a str,
    /// Always computed from stored prices, never taken from the caller.
    pub amount_cents: i64,
    /// The ISO 4217 code of the concert's currency (`EUR`).
    pub currency: &'a str,
    /// What the customer pays with.
    pub tender: &'a Tender,
    /// What the charge is for, as the processor records it.
    pub description: &'a str,
}

/// What a processor answered to a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    /// The money was taken.
    Approved {
        /// The processor's reference of the charge, kept to refund it.
        reference: String,
        /// The change to hand back, in cents (0 for a card).
        change_cents: i64,
        /// What may be stored about the instrument: "cash", or brand and last four digits.
        detail: String,
    },
    /// The processor refused the charge; nothing was taken.
    Declined {
        /// Why, in the processor's words.
        reason: String,
    },
}

/// A request to a processor to give back money taken by an earlier charge.
#[derive(Debug)]
pub struct RefundRequest<'a> {
    /// The same key never refunds twice: a retry returns the first result.
    pub idempotency_key: &'a str,
    /// The processor's reference of the charge being refunded.
    pub charge_reference: &'a str,
    /// How much to give back, in cents.
    pub amount_cents: i64,
    /// The ISO 4217 code of the charge's currency.
    pub currency: &'a str,
}

/// The processor could not be reached or failed; the outcome of the call is unknown to it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProcessorError(pub String);

/// A way of taking money: the cash drawer, a card gateway.
pub trait PaymentProcessor: Send + Sync {
    /// The name stored with each payment, used to find the processor again for refunds.
    fn name(&self) -> &'static str;
    /// Takes the money a request asks for, or says why not.
    fn charge(&self, req: &ChargeRequest<'_>) -> Result<ChargeOutcome, ProcessorError>;
    /// Returns the refund's reference.
    fn refund(&self, req: &RefundRequest<'_>) -> Result<String, ProcessorError>;
    /// The outcome of an earlier charge by its idempotency key, if the processor saw it.
    fn lookup(&self, idempotency_key: &str) -> Result<Option<ChargeOutcome>, ProcessorError>;
    /// Gives up on a charge: the outcome under `idempotency_key` if the processor has one, and
    /// otherwise a promise that a charge arriving later under it is refused (a real gateway
    /// voids it). This default only looks the key up: a processor that cannot fence may still
    /// capture a late charge, which the store then refunds.
    fn fence(&self, idempotency_key: &str) -> Result<Option<ChargeOutcome>, ProcessorError> {
        self.lookup(idempotency_key)
    }
    /// Every charge and refund in the processor's own books, for `audit`; `None` for one that
    /// keeps none (the cash drawer, which the store's own records stand for).
    fn ledger(&self) -> Result<Option<Vec<LedgerEntry>>, ProcessorError> {
        Ok(None)
    }
}

/// One movement of money in a processor's own books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Whether money was taken or given back.
    pub kind: LedgerKind,
    /// The key the box office charged or refunded under.
    pub idempotency_key: String,
    /// The processor's reference of this charge or refund.
    pub reference: String,
    /// For a refund: the charge it gives money back from.
    pub charge_reference: Option<String>,
    /// How much money moved, in cents.
    pub amount_cents: i64,
}

/// Which way money moved in a processor's books.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerKind {
    /// Money taken (only approved charges are listed).
    Charge,
    /// Money given back.
    Refund,
}

/// The most cash that can be tendered for `due_cents`: a hundred times the round amount (a
/// power of ten, in whole units) at or above what is due, so EUR 10,000.00 for EUR 35.00. A
/// large note for a small ticket is taken; a card number or a run of extra digits typed into
/// the cash field is not, before anyone counts out the change.
pub fn most_cash_for(due_cents: i64) -> i64 {
    let mut round: i64 = 100;
    while round < due_cents && round < i64::MAX / 1000 {
        round *= 10;
    }
    round.saturating_mul(100)
}

/// Whether `tendered_cents` of cash pays `due_cents`: enough, and not more than
/// [`most_cash_for`] (the clerk is asked to check the amount). The one rule for the store, the
/// app and the command line.
pub fn check_cash(tendered_cents: i64, due_cents: i64, currency: &str) -> crate::Result<()> {
    let money = |c| crate::model::Money::new(c, currency).to_string();
    if tendered_cents < due_cents {
        return Err(crate::Error::InsufficientCash {
            due: money(due_cents),
            tendered: money(tendered_cents),
        });
    }
    if tendered_cents > most_cash_for(due_cents) {
        return Err(too_much_cash(due_cents, currency));
    }
    Ok(())
}

/// The refusal of more cash than [`most_cash_for`] `due_cents`: without the amount typed (the
/// clerk has it in front of them, and it may be a card number), one line at 80 columns.
pub fn too_much_cash(due_cents: i64, currency: &str) -> crate::Error {
    let money = |c| crate::model::Money::new(c, currency).to_string();
    crate::Error::invalid(format!(
        "more than {} in cash for {} due: check the amount tendered",
        money(most_cash_for(due_cents)),
        money(due_cents)
    ))
}

/// The box office's cash drawer: approves when enough is tendered and says the change due.
/// It keeps no ledger of its own, so a charge interrupted by a crash is treated as never
/// taken (the clerk hands the cash back) and its seats are released.
#[derive(Debug, Default, Clone, Copy)]
pub struct CashProcessor;

impl PaymentProcessor for CashProcessor {
    fn name(&self) -> &'static str {
        "cash"
    }

    fn charge(&self, req: &ChargeRequest<'_>) -> Result<ChargeOutcome, ProcessorError> {
        let Tender::Cash { tendered_cents } = *req.tender else {
            return Err(ProcessorError("the cash drawer takes only cash".into()));
        };
        if tendered_cents < req.amount_cents {
            return Ok(ChargeOutcome::Declined {
                reason: "not enough cash tendered".into(),
            });
        }
        Ok(ChargeOutcome::Approved {
            reference: format!("cash-{}", req.idempotency_key),
            change_cents: tendered_cents - req.amount_cents,
            // Shown to the customer in the confirmation: money as money.
            detail: format!(
                "cash, tendered {}",
                crate::model::Money::new(tendered_cents, req.currency)
            ),
        })
    }

    fn refund(&self, req: &RefundRequest<'_>) -> Result<String, ProcessorError> {
        Ok(format!("cash-{}", req.idempotency_key))
    }

    fn lookup(&self, _idempotency_key: &str) -> Result<Option<ChargeOutcome>, ProcessorError> {
        Ok(None)
    }
}

/// The counter's own card terminal, a device of its own: the money is taken there before the
/// box office hears of it, so a charge records the slip's approval code and is approved; a
/// refund is made on the terminal by the clerk and recorded here. It keeps no books the box
/// office can read, so `audit` checks it through the store's records, as the cash drawer.
#[derive(Debug, Default, Clone, Copy)]
pub struct CounterTerminal;

impl PaymentProcessor for CounterTerminal {
    fn name(&self) -> &'static str {
        "terminal"
    }

    fn charge(&self, req: &ChargeRequest<'_>) -> Result<ChargeOutcome, ProcessorError> {
        let Tender::Terminal(slip) = req.tender else {
            return Err(ProcessorError(
                "the counter's terminal takes only its own slips".into(),
            ));
        };
        let card = match (&slip.brand, &slip.last4) {
            (Some(b), Some(l)) => format!("{b} ···{l}, "),
            (Some(b), None) => format!("{b}, "),
            (None, Some(l)) => format!("···{l}, "),
            (None, None) => String::new(),
        };
        Ok(ChargeOutcome::Approved {
            reference: format!("terminal-{}", slip.approval),
            change_cents: 0,
            detail: format!(
                "card on the counter's terminal, {card}approval {}",
                slip.approval
            ),
        })
    }

    fn refund(&self, req: &RefundRequest<'_>) -> Result<String, ProcessorError> {
        Ok(format!("terminal-refund-{}", req.idempotency_key))
    }

    fn lookup(&self, _idempotency_key: &str) -> Result<Option<ChargeOutcome>, ProcessorError> {
        Ok(None)
    }
}

/// The processors a box office has, found by name for refunds and reconciliation.
pub struct Processors {
    list: Vec<Box<dyn PaymentProcessor>>,
}

impl Processors {
    /// The processors in `list`, found by their names.
    pub fn new(list: Vec<Box<dyn PaymentProcessor>>) -> Self {
        Processors { list }
    }

    /// Cash only.
    pub fn cash_only() -> Self {
        Processors::new(vec![Box::new(CashProcessor)])
    }

    /// Cash and the simulated card gateway with its ledger at `gateway`: a SQLite file, or a
    /// PostgreSQL URL shared by several box offices.
    pub fn with_gateway(
        gateway: impl AsRef<std::path::Path>,
        clock: std::sync::Arc<dyn crate::Clock>,
    ) -> crate::Result<Self> {
        Ok(Processors::new(vec![
            Box::new(CashProcessor),
            Box::new(CounterTerminal),
            Box::new(gateway::Gateway::open(gateway.as_ref(), clock)?),
        ]))
    }

    /// Every processor configured.
    pub fn all(&self) -> impl Iterator<Item = &dyn PaymentProcessor> {
        self.list.iter().map(|b| b.as_ref())
    }

    /// The processor called `name`, if one is configured.
    pub fn get(&self, name: &str) -> Option<&dyn PaymentProcessor> {
        self.list
            .iter()
            .find(|p| p.name() == name)
            .map(|b| b.as_ref())
    }
}

impl fmt::Debug for Processors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.list.iter().map(|p| p.name()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cash_is_enough_and_not_a_typo() {
        // A hundred times the round amount at or above what is due.
        assert_eq!(most_cash_for(0), 10_000);
        assert_eq!(most_cash_for(100), 10_000);
        assert_eq!(most_cash_for(101), 100_000);
        assert_eq!(most_cash_for(3_500), 1_000_000);
        assert_eq!(most_cash_for(12_900), 10_000_000);
        assert!(most_cash_for(i64::MAX) > 0);
        assert!(check_cash(3_500, 3_500, "EUR").is_ok());
        assert!(check_cash(50_000, 3_500, "EUR").is_ok()); // a 500 note
        assert!(check_cash(1_000_000, 3_500, "EUR").is_ok());
        assert!(matches!(
            check_cash(3_499, 3_500, "EUR"),
            Err(crate::Error::InsufficientCash { .. })
        ));
        match check_cash(1_000_001, 3_500, "EUR") {
            Err(crate::Error::Invalid(m)) => assert_eq!(
                m,
                "more than EUR 10000.00 in cash for EUR 35.00 due: check the amount tendered"
            ),
            other => panic!("{other:?}"),
        }
    }
}
