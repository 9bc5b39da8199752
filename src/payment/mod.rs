//! Payment processors. Booking code talks only to the [`PaymentProcessor`] trait, so a real
//! gateway plugs in as one more implementation.

pub mod card;
pub mod gateway;

pub use card::{Brand, Card};
pub use gateway::SimulatedGateway;

use std::fmt;

/// What the customer pays with.
#[derive(Clone, PartialEq, Eq)]
pub enum Tender {
    /// Cash handed over at the counter, in cents.
    Cash { tendered_cents: i64 },
    /// A validated card; its number lives only as long as this value.
    Card(Card),
}

impl Tender {
    /// The processor that takes this tender.
    pub fn processor(&self) -> &'static str {
        match self {
            Tender::Cash { .. } => "cash",
            Tender::Card(_) => "card",
        }
    }
}

impl fmt::Debug for Tender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tender::Cash { tendered_cents } => write!(f, "Cash({tendered_cents})"),
            Tender::Card(card) => write!(f, "{card:?}"),
        }
    }
}

#[derive(Debug)]
pub struct ChargeRequest<'a> {
    /// The same key never charges twice: a retry returns the first result.
    pub idempotency_key: &'a str,
    /// Always computed from stored prices, never taken from the caller.
    pub amount_cents: i64,
    pub currency: &'a str,
    pub tender: &'a Tender,
    pub description: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    Approved {
        reference: String,
        change_cents: i64,
        /// What may be stored about the instrument: "cash", or brand and last four digits.
        detail: String,
    },
    Declined {
        reason: String,
    },
}

#[derive(Debug)]
pub struct RefundRequest<'a> {
    pub idempotency_key: &'a str,
    /// The processor's reference of the charge being refunded.
    pub charge_reference: &'a str,
    pub amount_cents: i64,
    pub currency: &'a str,
}

/// The processor could not be reached or failed; the outcome of the call is unknown to it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProcessorError(pub String);

pub trait PaymentProcessor: Send + Sync {
    /// The name stored with each payment, used to find the processor again for refunds.
    fn name(&self) -> &'static str;
    fn charge(&self, req: &ChargeRequest<'_>) -> Result<ChargeOutcome, ProcessorError>;
    /// Returns the refund's reference.
    fn refund(&self, req: &RefundRequest<'_>) -> Result<String, ProcessorError>;
    /// The outcome of an earlier charge by its idempotency key, if the processor saw it.
    fn lookup(&self, idempotency_key: &str) -> Result<Option<ChargeOutcome>, ProcessorError>;
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
            detail: format!("cash, tendered {tendered_cents}"),
        })
    }

    fn refund(&self, req: &RefundRequest<'_>) -> Result<String, ProcessorError> {
        Ok(format!("cash-{}", req.idempotency_key))
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
    pub fn new(list: Vec<Box<dyn PaymentProcessor>>) -> Self {
        Processors { list }
    }

    /// Cash only.
    pub fn cash_only() -> Self {
        Processors::new(vec![Box::new(CashProcessor)])
    }

    /// Cash and the simulated card gateway with its ledger at `gateway_path`.
    pub fn with_gateway(
        gateway_path: impl AsRef<std::path::Path>,
        clock: std::sync::Arc<dyn crate::Clock>,
    ) -> crate::Result<Self> {
        Ok(Processors::new(vec![
            Box::new(CashProcessor),
            Box::new(SimulatedGateway::open(gateway_path, clock)?),
        ]))
    }

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
