//! The money check a manager runs at the end of a day: every charge and refund in each
//! processor's own books against the box office's records and its bookings.
//!
//! The rule it checks is the one the payment flow promises: money taken has either a booking
//! (still confirmed, or cancelled and refunded) or a refund, and every booking was paid. A
//! processor that keeps no books of its own (the cash drawer) is checked through the store's
//! records of it. A refund is linked to its charge by key (`refund-` and the charge's key).

use crate::error::Result;
use crate::payment::{LedgerKind, Processors};
use crate::states::{BookingState, PaymentKind, PaymentState};
use crate::store::Store;
use serde::Serialize;
use std::collections::HashMap;

/// Totals of one payment method.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MethodTotals {
    /// The processor's name as the payments record it (`cash`, `card`).
    pub method: String,
    /// Money taken (charges approved, in the processor's books where it keeps them).
    pub charges_cents: i64,
    /// Money given back.
    pub refunds_cents: i64,
    /// What the bookings paid with it cost (confirmed and cancelled alike).
    pub bookings_cents: i64,
}

/// Something that does not add up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmatched {
    /// The processor's reference, a booking code, or the payment's key where there is neither.
    pub reference: String,
    /// How much money is in question, in cents (0 for a processor that could not be checked).
    pub amount_cents: i64,
    /// What does not add up, in a sentence for the manager.
    pub why: String,
}

/// The result of [`Store::audit`]: the day's money totals, and everything that does not add up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Audit {
    /// Money taken by all processors, in cents.
    pub charges_cents: i64,
    /// Money given back by all processors, in cents.
    pub refunds_cents: i64,
    /// What all bookings cost, confirmed and cancelled alike, in cents.
    pub bookings_cents: i64,
    /// The totals of each payment method, sorted by its name.
    pub by_method: Vec<MethodTotals>,
    /// The charges, refunds, payments and bookings that do not add up; empty when all is well.
    pub unmatched: Vec<Unmatched>,
}

impl Audit {
    /// Whether everything adds up: nothing is unmatched.
    pub fn is_clean(&self) -> bool {
        self.unmatched.is_empty()
    }
}

/// A payment as the store recorded it.
struct Recorded {
    kind: PaymentKind,
    key: String,
    processor: String,
    amount: i64,
    state: PaymentState,
    reference: Option<String>,
    booking: Option<(String, BookingState, i64)>,
}

impl Store {
    /// Checks every processor's books against the store's (see the module's description).
    /// A processor that cannot be asked is listed as unmatched, never skipped silently.
    pub fn audit(&self, processors: &Processors) -> Result<Audit> {
        let recorded: Vec<Recorded> = {
            let mut st = self.conn().prepare(
                "SELECT p.kind, p.idempotency_key, p.processor, p.amount_cents, p.state, p.reference,
                        b.code, b.state, b.total_cents
                 FROM payments p LEFT JOIN bookings b ON b.id = p.booking_id ORDER BY p.id",
            )?;
            st.query_map((), |r| {
                Ok(Recorded {
                    kind: r.get(0)?,
                    key: r.get(1)?,
                    processor: r.get(2)?,
                    amount: r.get(3)?,
                    state: r.get(4)?,
                    reference: r.get(5)?,
                    booking: match r.get::<Option<String>>(6)? {
                        Some(code) => Some((code, r.get(7)?, r.get(8)?)),
                        None => None,
                    },
                })
            })?
            .collect::<crate::store::sql::Result<_>>()?
        };
        let by_key: HashMap<&str, &Recorded> =
            recorded.iter().map(|p| (p.key.as_str(), p)).collect();
        let mut audit = Audit::default();
        let mut totals: HashMap<String, MethodTotals> = HashMap::new();
        let mut unmatched = |reference: &str, amount_cents: i64, why: String| {
            audit.unmatched.push(Unmatched {
                reference: reference.to_string(),
                amount_cents,
                why,
            })
        };

        // What the processors' own books say was taken and given back, by key; for one
        // without books, what the store recorded as done.
        // Every processor configured (a charge nobody recorded is still money taken), and every
        // one the records name.
        let mut names: Vec<&str> = recorded
            .iter()
            .map(|p| p.processor.as_str())
            .chain(processors.all().map(|p| p.name()))
            .collect();
        names.sort_unstable();
        names.dedup();
        let mut taken: HashMap<String, (String, i64)> = HashMap::new();
        let mut given: HashMap<String, i64> = HashMap::new();
        let mut unused: Vec<String> = Vec::new();
        for name in names {
            let Some(processor) = processors.get(name) else {
                unmatched(
                    name,
                    0,
                    format!("no {name} processor is configured to check"),
                );
                continue;
            };
            let method = totals
                .entry(name.to_string())
                .or_insert_with(|| MethodTotals {
                    method: name.to_string(),
                    ..Default::default()
                });
            match processor.ledger() {
                Ok(Some(entries)) => {
                    for e in entries {
                        match e.kind {
                            LedgerKind::Charge => {
                                method.charges_cents += e.amount_cents;
                                taken.insert(e.idempotency_key, (e.reference, e.amount_cents));
                            }
                            LedgerKind::Refund => {
                                method.refunds_cents += e.amount_cents;
                                given.insert(e.idempotency_key, e.amount_cents);
                            }
                        }
                    }
                }
                Ok(None) => {
                    // No books of its own and nothing recorded: nothing to check, no line.
                    if !recorded.iter().any(|p| p.processor == name) {
                        unused.push(name.to_string());
                    }
                    for p in recorded
                        .iter()
                        .filter(|p| p.processor == name && p.state == PaymentState::Captured)
                    {
                        if p.kind == PaymentKind::Charge {
                            method.charges_cents += p.amount;
                            let reference = p.reference.clone().unwrap_or_else(|| p.key.clone());
                            taken.insert(p.key.clone(), (reference, p.amount));
                        } else {
                            method.refunds_cents += p.amount;
                            given.insert(p.key.clone(), p.amount);
                        }
                    }
                }
                Err(e) => unmatched(name, 0, format!("its books could not be read: {}", e.0)),
            }
        }

        // What was given back of each charge, by the charge's key: its refund, and the refunds
        // of seats cancelled out of its booking (`refund-KEY-part-N`).
        let mut refunded_of: HashMap<&str, i64> = HashMap::new();
        for (key, amount) in &given {
            if let Some(charge) = crate::booking::refunded_charge(key) {
                *refunded_of.entry(charge).or_default() += amount;
            }
        }
        // Every charge taken: known here, recorded as taken, with a booking or a refund.
        let mut taken_sorted: Vec<(&String, &(String, i64))> = taken.iter().collect();
        taken_sorted.sort();
        for (key, (reference, amount)) in taken_sorted {
            let refunded = refunded_of.get(key.as_str()).copied().unwrap_or(0);
            let Some(p) = by_key.get(key.as_str()) else {
                unmatched(
                    reference,
                    *amount,
                    "charged at the processor, unknown to the box office".into(),
                );
                continue;
            };
            if p.state != PaymentState::Captured {
                unmatched(
                    reference,
                    *amount,
                    format!("charged at the processor, recorded here as {}", p.state),
                );
                continue;
            }
            if p.amount != *amount {
                unmatched(
                    reference,
                    *amount,
                    format!("charged {amount} cents, recorded as {} cents", p.amount),
                );
                continue;
            }
            let why = match &p.booking {
                None if refunded == *amount => None,
                None if refunded > 0 => Some("no booking, and refunded only in part"),
                None => Some("no booking and no refund"),
                Some((_, BookingState::Cancelled, _)) if refunded != *amount => {
                    Some("its booking was cancelled and it is not refunded")
                }
                Some(_) if refunded > *amount => Some("refunded more than was taken"),
                Some(_) => None,
            };
            if let Some(why) = why {
                unmatched(reference, *amount, why.to_string());
            }
        }
        // Everything the store says was done happened at the processor.
        for p in &recorded {
            let done = match p.kind.as_str() {
                "charge" => taken.contains_key(&p.key),
                _ => given.contains_key(&p.key),
            };
            let reference = p.reference.as_deref().unwrap_or(&p.key);
            match (p.kind.as_str(), p.state.as_str()) {
                ("charge", "captured") | ("refund", "captured") if !done => unmatched(
                    reference,
                    p.amount,
                    format!("recorded as a {} here, unknown to the processor", p.kind),
                ),
                ("refund", "pending") => unmatched(
                    reference,
                    p.amount,
                    "refund not made yet (`reconcile` retries it)".into(),
                ),
                ("charge", "pending") | ("charge", "unanswered") => unmatched(
                    reference,
                    p.amount,
                    "payment still waiting for its processor's answer".into(),
                ),
                _ => {}
            }
        }
        // Every booking was paid, once, its total (what was charged, less the seats cancelled
        // out of it: their refunds).
        let bookings: Vec<(String, String, i64, i64, i64)> = {
            let mut st = self.conn().prepare(
                "SELECT b.code, b.method, b.total_cents,
                        (SELECT count(*) FROM payments p WHERE p.booking_id = b.id AND p.kind = 'charge' AND p.state = 'captured'),
                        (SELECT coalesce(sum(amount_cents), 0) FROM payments p WHERE p.booking_id = b.id AND p.kind = 'charge' AND p.state = 'captured')
                        - (SELECT coalesce(sum(amount_cents), 0) FROM payments p WHERE p.booking_id = b.id AND p.kind = 'refund' AND p.idempotency_key LIKE '%-part-%')
                 FROM bookings b ORDER BY b.id",
            )?;
            st.query_map((), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<crate::store::sql::Result<_>>()?
        };
        for (code, method, total, charges, paid) in bookings {
            totals
                .entry(method.clone())
                .or_insert_with(|| MethodTotals {
                    method: method.clone(),
                    ..Default::default()
                })
                .bookings_cents += total;
            if charges != 1 || paid != total {
                unmatched(
                    &code,
                    total,
                    format!("booking paid by {charges} captured charges of {paid} cents in all"),
                );
            }
        }
        for name in &unused {
            if totals.get(name).is_some_and(|m| {
                m.charges_cents == 0 && m.refunds_cents == 0 && m.bookings_cents == 0
            }) {
                totals.remove(name);
            }
        }
        let mut by_method: Vec<MethodTotals> = totals.into_values().collect();
        by_method.sort_by(|a, b| a.method.cmp(&b.method));
        audit.charges_cents = by_method.iter().map(|m| m.charges_cents).sum();
        audit.refunds_cents = by_method.iter().map(|m| m.refunds_cents).sum();
        audit.bookings_cents = by_method.iter().map(|m| m.bookings_cents).sum();
        audit.by_method = by_method;
        Ok(audit)
    }
}
