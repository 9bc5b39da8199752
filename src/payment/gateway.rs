//! A simulated card gateway: the "remote side" of card payments, with its own ledger in its own
//! SQLite file, so that after a crash our database and the gateway can disagree as they do in
//! real life; or in a PostgreSQL database (`--gateway postgres://…`), so that box offices on
//! several machines share one ledger and any of them can reconcile any payment
//! (`gateway_pg.rs`). It stores brand and last four digits, never a card number.
//!
//! Test cards (any future expiry, any CVC of the right length):
//!
//! | number              | outcome                 |
//! |---------------------|-------------------------|
//! | 4242 4242 4242 4242 | approved                |
//! | 4000 0000 0000 0002 | declined                |
//! | 4000 0000 0000 9995 | insufficient funds      |
//! | 4000 0000 0000 0119 | gateway error (no charge) |
//!
//! Any other valid Visa, Mastercard or Amex number is approved.

use super::{
    ChargeOutcome, ChargeRequest, PaymentProcessor, ProcessorError, RefundRequest, Tender,
};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::params;
use crate::store::sql::OptionalExtension;
use std::path::Path;
use std::sync::{Arc, Mutex};

pub use super::ledger::{
    CARD_APPROVE, CARD_DECLINE, CARD_GATEWAY_ERROR, CARD_INSUFFICIENT_FUNDS, FENCED,
};
use super::ledger::{outcome_of, recorded, reference};

/// The simulated gateway with its ledger in a SQLite file of its own.
pub struct SimulatedGateway {
    conn: Mutex<crate::store::Db>,
    clock: Arc<dyn Clock>,
}

/// The simulated gateway, its ledger in either engine, reached at the first card operation
/// (a charge, a refund, a look-up) and not before: a ledger that cannot be reached (a server
/// down, a network cut) stops card payments only, while cash sales, search and the door go on,
/// and it is tried again at the next card operation.
pub struct Gateway {
    location: crate::store::engine::Location,
    clock: Arc<dyn Clock>,
    ledger: Mutex<Option<Ledger>>,
}

/// The ledger, once reached.
enum Ledger {
    /// In a SQLite file.
    Sqlite(SimulatedGateway),
    /// On a PostgreSQL server, shared by several box offices.
    Postgres(Box<super::gateway_pg::PgGateway>),
}

impl Gateway {
    /// The gateway whose ledger `location` names: a PostgreSQL URL, else a SQLite file. Only
    /// the location is checked here (a malformed URL is refused at once).
    pub fn open(location: &Path, clock: Arc<dyn Clock>) -> Result<Gateway> {
        Ok(Gateway {
            location: crate::store::engine::Location::parse(&location.to_string_lossy())?,
            clock,
            ledger: Mutex::new(None),
        })
    }

    /// Runs `f` on the ledger, reaching it first if it is not yet.
    fn with<T>(
        &self,
        f: impl FnOnce(&dyn PaymentProcessor) -> Result<T, ProcessorError>,
    ) -> Result<T, ProcessorError> {
        use crate::store::engine::Location;
        let mut ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        if ledger.is_none() {
            let opened = match &self.location {
                Location::Postgres(url) => {
                    super::gateway_pg::PgGateway::open(url.clone(), self.clock.clone())
                        .map(|g| Ledger::Postgres(Box::new(g)))
                }
                Location::Sqlite(path) => {
                    SimulatedGateway::open(path, self.clock.clone()).map(Ledger::Sqlite)
                }
            };
            *ledger = Some(opened.map_err(|e| {
                ProcessorError(format!(
                    "the card gateway cannot be reached ({e}); card payments wait, cash sells"
                ))
            })?);
        }
        let out = match ledger.as_ref() {
            Some(Ledger::Sqlite(g)) => f(g),
            Some(Ledger::Postgres(g)) => f(g.as_ref()),
            None => Err(ProcessorError("the card gateway is not reached".into())),
        };
        // A server that went away is reached afresh at the next card operation.
        if out.is_err() && matches!(ledger.as_ref(), Some(Ledger::Postgres(g)) if g.is_lost()) {
            *ledger = None;
        }
        out
    }
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gateway")
    }
}

impl PaymentProcessor for Gateway {
    fn name(&self) -> &'static str {
        "card"
    }
    fn charge(&self, req: &ChargeRequest<'_>) -> Result<ChargeOutcome, ProcessorError> {
        self.with(|g| g.charge(req))
    }
    fn refund(&self, req: &RefundRequest<'_>) -> Result<String, ProcessorError> {
        self.with(|g| g.refund(req))
    }
    fn lookup(&self, idempotency_key: &str) -> Result<Option<ChargeOutcome>, ProcessorError> {
        self.with(|g| g.lookup(idempotency_key))
    }
    fn fence(&self, idempotency_key: &str) -> Result<Option<ChargeOutcome>, ProcessorError> {
        self.with(|g| g.fence(idempotency_key))
    }
    fn ledger(&self) -> Result<Option<Vec<super::LedgerEntry>>, ProcessorError> {
        self.with(|g| g.ledger())
    }
}

impl std::fmt::Debug for SimulatedGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SimulatedGateway")
    }
}

/// What the gateway's ledger says, for reconciliation checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerTotals {
    /// How many charges were approved.
    pub charges: i64,
    /// Money the approved charges took, in cents.
    pub captured_cents: i64,
    /// How many refunds were made.
    pub refunds: i64,
    /// Money the refunds gave back, in cents.
    pub refunded_cents: i64,
}

fn gw_err(e: crate::store::sql::Error) -> ProcessorError {
    ProcessorError(format!("the card gateway is unavailable ({e})"))
}

impl SimulatedGateway {
    /// Opens the ledger at `path`, creating the file and its tables if they are not there.
    pub fn open(path: impl AsRef<Path>, clock: Arc<dyn Clock>) -> Result<SimulatedGateway> {
        let path = path.as_ref();
        crate::store::create_private_file(path)?;
        let mut conn = crate::store::open_connection(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                | rusqlite::OpenFlags::SQLITE_OPEN_CREATE
                | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_handler(Some(crate::store::busy_wait))?;
        crate::store::write_ahead_log(&conn)?;
        // Under the write lock: two terminals creating the tables at once would otherwise
        // find them missing together, and the second one's write would fail with "busy".
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             BEGIN IMMEDIATE;
             CREATE TABLE IF NOT EXISTS charges (
                 idempotency_key TEXT PRIMARY KEY,
                 reference   TEXT NOT NULL UNIQUE,
                 amount_cents INTEGER NOT NULL,
                 currency    TEXT NOT NULL,
                 outcome     TEXT NOT NULL,   -- 'approved' or the decline reason
                 card        TEXT NOT NULL,   -- brand and last four only
                 created_at  INTEGER NOT NULL
             );
             -- Keys the box office gave up on before the gateway saw them: a charge arriving
             -- later under one is refused, never captured.
             CREATE TABLE IF NOT EXISTS fences (
                 idempotency_key TEXT PRIMARY KEY,
                 created_at  INTEGER NOT NULL
             );
             CREATE TABLE IF NOT EXISTS refunds (
                 idempotency_key TEXT PRIMARY KEY,
                 reference   TEXT NOT NULL UNIQUE,
                 charge_reference TEXT NOT NULL REFERENCES charges(reference),
                 amount_cents INTEGER NOT NULL,
                 created_at  INTEGER NOT NULL
             );
             COMMIT;",
        )
        .map_err(Error::from)?;
        crate::store::checkpoint_in_background(&mut conn, path)?;
        Ok(SimulatedGateway {
            conn: Mutex::new(crate::store::Db::new(conn)),
            clock,
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, crate::store::Db> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many charges and refunds the ledger holds, and their sums.
    pub fn totals(&self) -> Result<LedgerTotals> {
        let conn = self.conn();
        let (charges, captured) = conn.query_row(
            "SELECT count(*), coalesce(sum(amount_cents), 0) FROM charges WHERE outcome = 'approved'",
            (),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let (refunds, refunded) = conn.query_row(
            "SELECT count(*), coalesce(sum(amount_cents), 0) FROM refunds",
            (),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(LedgerTotals {
            charges,
            captured_cents: captured,
            refunds,
            refunded_cents: refunded,
        })
    }

    fn stored(
        conn: &crate::store::Db,
        key: &str,
    ) -> crate::store::sql::Result<Option<ChargeOutcome>> {
        conn.prepare_cached(
            "SELECT reference, outcome, card FROM charges WHERE idempotency_key = ?1",
        )?
        .query_row([key], |r| Ok(recorded(r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
    }
}

impl SimulatedGateway {
    fn fenced(conn: &crate::store::Db, key: &str) -> crate::store::sql::Result<bool> {
        Ok(conn
            .prepare_cached("SELECT 1 FROM fences WHERE idempotency_key = ?1")?
            .query_row([key], |_| Ok(()))
            .optional()?
            .is_some())
    }
}

impl PaymentProcessor for SimulatedGateway {
    fn name(&self) -> &'static str {
        "card"
    }

    fn charge(&self, req: &ChargeRequest<'_>) -> Result<ChargeOutcome, ProcessorError> {
        let Tender::Card(card) = req.tender else {
            return Err(ProcessorError("the card gateway takes only cards".into()));
        };
        let conn = self.conn();
        // One transaction, its statements from the cache (each charge parsed four before), as
        // for refunds.
        crate::store::immediate(&conn, |tx| {
            // The same key never charges twice: it returns the first result.
            if let Some(first) = Self::stored(tx, req.idempotency_key)? {
                return Ok(Ok(first));
            }
            if Self::fenced(tx, req.idempotency_key)? {
                return Ok(Ok(ChargeOutcome::Declined {
                    reason: FENCED.to_string(),
                }));
            }
            let outcome = match outcome_of(card.number()) {
                Ok(o) => o,
                Err(e) => return Ok(Err(e)),
            };
            let reference = reference("ch");
            tx.prepare_cached(
                "INSERT INTO charges (idempotency_key, reference, amount_cents, currency, outcome, card, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                req.idempotency_key,
                reference,
                req.amount_cents,
                req.currency,
                outcome,
                card.summary(),
                self.clock.now().timestamp()
            ])?;
            Ok(Ok(recorded(reference, outcome.to_string(), card.summary())))
        })
        .map_err(gw_err)?
    }

    fn refund(&self, req: &RefundRequest<'_>) -> Result<String, ProcessorError> {
        let conn = self.conn();
        crate::store::immediate(&conn, |tx| {
            if let Some(r) = tx
                .prepare_cached("SELECT reference FROM refunds WHERE idempotency_key = ?1")?
                .query_row([req.idempotency_key], |r| r.get::<String>(0))
                .optional()?
            {
                return Ok(Ok(r));
            }
            let left: Option<i64> = tx
                .prepare_cached(
                    "SELECT c.amount_cents - coalesce((SELECT sum(amount_cents) FROM refunds r WHERE r.charge_reference = c.reference), 0)
                     FROM charges c WHERE c.reference = ?1 AND c.outcome = 'approved'",
                )?
                .query_row([req.charge_reference], |r| r.get(0))
                .optional()?;
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
            tx.prepare_cached(
                "INSERT INTO refunds (idempotency_key, reference, charge_reference, amount_cents, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![req.idempotency_key, reference, req.charge_reference, req.amount_cents, self.clock.now().timestamp()])?;
            Ok(Ok(reference))
        })
        .map_err(gw_err)?
    }

    fn lookup(&self, idempotency_key: &str) -> Result<Option<ChargeOutcome>, ProcessorError> {
        Self::stored(&self.conn(), idempotency_key).map_err(gw_err)
    }

    fn fence(&self, idempotency_key: &str) -> Result<Option<ChargeOutcome>, ProcessorError> {
        let conn = self.conn();
        // In the same transaction as the look-up: a charge either landed before (its outcome)
        // or is refused after.
        crate::store::immediate(&conn, |tx| {
            if let Some(outcome) = Self::stored(tx, idempotency_key)? {
                return Ok(Some(outcome));
            }
            tx.prepare_cached(
                "INSERT OR IGNORE INTO fences (idempotency_key, created_at) VALUES (?1, ?2)",
            )?
            .execute(params![idempotency_key, self.clock.now().timestamp()])?;
            Ok(None)
        })
        .map_err(gw_err)
    }

    fn ledger(&self) -> Result<Option<Vec<super::LedgerEntry>>, ProcessorError> {
        use super::{LedgerEntry, LedgerKind};
        let conn = self.conn();
        let mut st = conn
            .prepare(
                "SELECT 'charge', idempotency_key, reference, NULL, amount_cents FROM charges WHERE outcome = 'approved'
                 UNION ALL
                 SELECT 'refund', idempotency_key, reference, charge_reference, amount_cents FROM refunds
                 ORDER BY 1, 3",
            )
            .map_err(gw_err)?;
        let rows = st
            .query_map((), |r| {
                Ok(LedgerEntry {
                    kind: if r.get::<String>(0)? == "charge" {
                        LedgerKind::Charge
                    } else {
                        LedgerKind::Refund
                    },
                    idempotency_key: r.get(1)?,
                    reference: r.get(2)?,
                    charge_reference: r.get(3)?,
                    amount_cents: r.get(4)?,
                })
            })
            .and_then(|rows| rows.collect::<crate::store::sql::Result<Vec<_>>>())
            .map_err(gw_err)?;
        Ok(Some(rows))
    }
}
