//! The simulated card gateway's ledger in PostgreSQL (`--gateway postgres://…`): box offices
//! on several machines share one ledger, so any of them can reconcile any payment. The same
//! tables, answers and rules as the SQLite ledger (`gateway.rs`): one key never charges twice,
//! a fenced key is refused, a refund never passes what is left of its charge. Every change
//! runs under one advisory lock, as the SQLite ledger runs under its write lock.

use super::ledger::{FENCED, outcome_of, recorded, reference};
use super::{ChargeOutcome, ChargeRequest, LedgerEntry, LedgerKind, PaymentProcessor};
use super::{ProcessorError, RefundRequest, Tender};
use crate::clock::Clock;
use crate::error::Result;
use crate::store::engine::PgUrl;
use crate::store::postgres::{connect, server_error};
use std::sync::{Arc, Mutex};

/// The lock every change to the ledger takes first (any number: the gateway's own).
const LEDGER_LOCK: i64 = 0x0067_6174_6577_6179;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS charges (
        idempotency_key TEXT PRIMARY KEY,
        reference    TEXT NOT NULL UNIQUE,
        amount_cents BIGINT NOT NULL,
        currency     TEXT NOT NULL,
        outcome      TEXT NOT NULL,
        card         TEXT NOT NULL,
        created_at   BIGINT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS fences (
        idempotency_key TEXT PRIMARY KEY,
        created_at   BIGINT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS refunds (
        idempotency_key  TEXT PRIMARY KEY,
        reference        TEXT NOT NULL UNIQUE,
        charge_reference TEXT NOT NULL REFERENCES charges(reference),
        amount_cents     BIGINT NOT NULL,
        created_at       BIGINT NOT NULL
    );";

/// The simulated gateway with its ledger on a PostgreSQL server, shared by every box office
/// that names it.
pub struct PgGateway {
    client: Mutex<postgres::Client>,
    url: PgUrl,
    clock: Arc<dyn Clock>,
}

fn unavailable(e: postgres::Error) -> ProcessorError {
    ProcessorError(format!(
        "the card gateway is unavailable ({})",
        e.to_string().replace('\n', " ")
    ))
}

impl PgGateway {
    /// Whether the server ended the connection (restarted, or the network cut): the ledger
    /// must be reached again.
    pub fn is_lost(&self) -> bool {
        self.client
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_closed()
    }

    /// Connects, and makes the ledger's tables if they are not there (under the lock: two
    /// machines starting at once do not both make them).
    pub fn open(url: PgUrl, clock: Arc<dyn Clock>) -> Result<PgGateway> {
        let mut client = connect(&url)?;
        let mut tx = client.transaction().map_err(|e| server_error(&url, &e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LEDGER_LOCK])
            .and_then(|_| tx.batch_execute(SCHEMA))
            .map_err(|e| server_error(&url, &e))?;
        tx.commit().map_err(|e| server_error(&url, &e))?;
        Ok(PgGateway {
            client: Mutex::new(client),
            url,
            clock,
        })
    }

    fn client(&self) -> std::sync::MutexGuard<'_, postgres::Client> {
        self.client.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` in one transaction under the ledger's lock; an answer `f` gives as `Err`
    /// (a refusal) still commits what it did, as the SQLite ledger's does.
    fn locked<T>(
        &self,
        f: impl FnOnce(&mut postgres::Transaction<'_>) -> Result<T, postgres::Error>,
    ) -> Result<T, ProcessorError> {
        let mut client = self.client();
        let mut tx = client.transaction().map_err(unavailable)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LEDGER_LOCK])
            .map_err(unavailable)?;
        let out = f(&mut tx).map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
        Ok(out)
    }

    fn stored(
        tx: &mut impl postgres::GenericClient,
        key: &str,
    ) -> Result<Option<ChargeOutcome>, postgres::Error> {
        Ok(tx
            .query_opt(
                "SELECT reference, outcome, card FROM charges WHERE idempotency_key = $1",
                &[&key],
            )?
            .map(|r| recorded(r.get(0), r.get(1), r.get(2))))
    }

    /// Where the ledger is, for people.
    pub fn shown(&self) -> String {
        self.url.shown()
    }
}

impl PaymentProcessor for PgGateway {
    fn name(&self) -> &'static str {
        "card"
    }

    fn charge(&self, req: &ChargeRequest<'_>) -> Result<ChargeOutcome, ProcessorError> {
        let Tender::Card(card) = req.tender else {
            return Err(ProcessorError("the card gateway takes only cards".into()));
        };
        let outcome = outcome_of(card.number())?;
        let now = self.clock.now().timestamp();
        self.locked(|tx| {
            // The same key never charges twice: it returns the first result.
            if let Some(first) = Self::stored(tx, req.idempotency_key)? {
                return Ok(first);
            }
            let fenced = tx
                .query_opt(
                    "SELECT 1 FROM fences WHERE idempotency_key = $1",
                    &[&req.idempotency_key],
                )?
                .is_some();
            if fenced {
                return Ok(ChargeOutcome::Declined {
                    reason: FENCED.to_string(),
                });
            }
            let reference = reference("ch");
            tx.execute(
                "INSERT INTO charges (idempotency_key, reference, amount_cents, currency, outcome, card, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &req.idempotency_key,
                    &reference,
                    &req.amount_cents,
                    &req.currency,
                    &outcome,
                    &card.summary(),
                    &now,
                ],
            )?;
            Ok(recorded(reference, outcome.to_string(), card.summary()))
        })
    }

    fn refund(&self, req: &RefundRequest<'_>) -> Result<String, ProcessorError> {
        let now = self.clock.now().timestamp();
        self.locked(|tx| {
            if let Some(r) = tx.query_opt(
                "SELECT reference FROM refunds WHERE idempotency_key = $1",
                &[&req.idempotency_key],
            )? {
                return Ok(Ok(r.get::<_, String>(0)));
            }
            let left: Option<i64> = tx
                .query_opt(
                    "SELECT c.amount_cents - CAST(coalesce((SELECT sum(amount_cents) FROM refunds r
                                                 WHERE r.charge_reference = c.reference), 0) AS BIGINT)
                     FROM charges c WHERE c.reference = $1 AND c.outcome = 'approved'",
                    &[&req.charge_reference],
                )?
                .map(|r| r.get(0));
            match left {
                None => {
                    return Ok(Err(ProcessorError(format!(
                        "no charge {} to refund",
                        req.charge_reference
                    ))));
                }
                Some(left) if left < req.amount_cents => {
                    return Ok(Err(ProcessorError(format!(
                        "charge {} has only {left} cents left to refund",
                        req.charge_reference
                    ))));
                }
                Some(_) => {}
            }
            let reference = reference("re");
            tx.execute(
                "INSERT INTO refunds (idempotency_key, reference, charge_reference, amount_cents, created_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &req.idempotency_key,
                    &reference,
                    &req.charge_reference,
                    &req.amount_cents,
                    &now,
                ],
            )?;
            Ok(Ok(reference))
        })?
    }

    fn lookup(&self, idempotency_key: &str) -> Result<Option<ChargeOutcome>, ProcessorError> {
        Self::stored(&mut *self.client(), idempotency_key).map_err(unavailable)
    }

    fn fence(&self, idempotency_key: &str) -> Result<Option<ChargeOutcome>, ProcessorError> {
        let now = self.clock.now().timestamp();
        // In the same transaction as the look-up: a charge either landed before (its outcome)
        // or is refused after.
        self.locked(|tx| {
            if let Some(outcome) = Self::stored(tx, idempotency_key)? {
                return Ok(Some(outcome));
            }
            tx.execute(
                "INSERT INTO fences (idempotency_key, created_at) VALUES ($1, $2)
                 ON CONFLICT (idempotency_key) DO NOTHING",
                &[&idempotency_key, &now],
            )?;
            Ok(None)
        })
    }

    fn ledger(&self) -> Result<Option<Vec<LedgerEntry>>, ProcessorError> {
        let rows = self
            .client()
            .query(
                "SELECT 'charge', idempotency_key, reference, NULL::text, amount_cents FROM charges WHERE outcome = 'approved'
                 UNION ALL
                 SELECT 'refund', idempotency_key, reference, charge_reference, amount_cents FROM refunds
                 ORDER BY 1, 3",
                &[],
            )
            .map_err(unavailable)?;
        Ok(Some(
            rows.iter()
                .map(|r| LedgerEntry {
                    kind: if r.get::<_, String>(0) == "charge" {
                        LedgerKind::Charge
                    } else {
                        LedgerKind::Refund
                    },
                    idempotency_key: r.get(1),
                    reference: r.get(2),
                    charge_reference: r.get(3),
                    amount_cents: r.get(4),
                })
                .collect(),
        ))
    }
}
