//! The chores every front end would otherwise have to remember, done by the core:
//!
//! - **start-up**: holds and waiting-list offers whose time is up end, a payment a crash
//!   interrupted is settled, and messages that are due leave ([`Store::start_up`]);
//! - **after each commit**: a transaction that queued a notice has it delivered as soon as it
//!   commits, by the store itself (`Store::write`), once a spool is set ([`Store::set_spool`]);
//! - **now and then**: the same sweep a terminal runs while it is open ([`Store::sweep`]);
//! - **the payment worker**: a payment taken off the terminal's thread, on its own connection,
//!   delivering its own confirmation ([`Store::pay_in_background`]).
//!
//! What delivery did is kept for the front end to show ([`Store::take_delivery`]); a spool that
//! cannot be written never fails the change that queued the message (it waits in the outbox).

use crate::error::Result;
use crate::model::ReconcileReport;
use crate::notify::outbox::SpoolReport;
use crate::payment::{Processors, Tender};
use crate::store::AfterCommit;
use crate::{Receipt, Spool, Store};
use std::path::PathBuf;
use std::sync::mpsc;

/// What start-up did.
#[derive(Debug, Default)]
pub struct StartUp {
    /// Holds (and offers) that ran out while no terminal was open.
    pub expired: usize,
    /// What reconcile settled.
    pub reconciled: ReconcileReport,
    /// Chores that failed (each is retried at the next start or sweep; none stops the start).
    pub problems: Vec<String>,
}

/// A payment under way on its own thread: its result, and what delivering its messages did.
pub type PaymentResult = (Result<Receipt>, SpoolReport);

/// Where notices go and what became of them: the store runs it after each commit that queued
/// one (`store::AfterCommit`).
struct Outgoing {
    spool: Spool,
    /// What delivering did since a front end last asked.
    delivery: SpoolReport,
    /// The front end's ear for each delivery.
    hook: Option<DeliveryHook>,
}

type DeliveryHook = Box<dyn FnMut(&SpoolReport) + Send>;

impl AfterCommit for Outgoing {
    fn run(&mut self, store: &mut Store) {
        let report = store
            .deliver_outbox(&self.spool, false)
            .unwrap_or_else(|e| SpoolReport {
                errors: vec![format!("the outbox: {e}")],
                ..Default::default()
            });
        if report.delivered.is_empty() && report.errors.is_empty() {
            return;
        }
        if let Some(hook) = &mut self.hook {
            hook(&report);
        }
        self.delivery.delivered.extend(report.delivered);
        self.delivery.errors.extend(report.errors);
    }

    fn as_any(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

impl Store {
    fn outgoing(&mut self) -> Option<&mut Outgoing> {
        self.after_commit
            .as_mut()
            .and_then(|w| w.as_any().downcast_mut::<Outgoing>())
    }

    /// Sends notices through `spool` from now on: each transaction that queues one delivers it
    /// when it commits.
    pub fn set_spool(&mut self, spool: Spool) {
        let hook = self.outgoing().and_then(|o| o.hook.take());
        self.after_commit = Some(Box::new(Outgoing {
            spool,
            delivery: SpoolReport::default(),
            hook,
        }));
    }

    /// Calls `hook` with what each delivery did, as it happens (a front end logs or shows the
    /// messages that wait). What it is given is also kept for [`Store::take_delivery`]. Needs a
    /// spool ([`Store::set_spool`]) first.
    pub fn on_delivery(&mut self, hook: impl FnMut(&SpoolReport) + Send + 'static) {
        if let Some(o) = self.outgoing() {
            o.hook = Some(Box::new(hook));
        }
    }

    /// The spool notices are delivered through, if one was set ([`Store::set_spool`]).
    pub fn spool(&mut self) -> Option<&Spool> {
        self.outgoing().map(|o| &o.spool)
    }

    /// What delivering did since the last call: files written, messages sent, and why others
    /// wait.
    pub fn take_delivery(&mut self) -> SpoolReport {
        self.outgoing()
            .map(|o| std::mem::take(&mut o.delivery))
            .unwrap_or_default()
    }

    /// Delivers what is due (new notices, and earlier ones whose retry time has come) through
    /// the spool set, if any.
    pub fn deliver_due(&mut self) {
        self.run_after_commit();
    }

    /// Holds and offers whose time is up end; messages that are due leave.
    pub fn sweep(&mut self) -> Result<usize> {
        let ended = self.expire_holds();
        self.deliver_due();
        ended
    }

    /// Everything a box office does when a terminal or a command starts: expired holds end,
    /// an interrupted payment is settled with its processor, due messages leave. Never fails:
    /// what could not be done is listed and retried next time.
    pub fn start_up(&mut self, processors: &Processors) -> StartUp {
        let mut out = StartUp::default();
        match self.expire_holds() {
            Ok(n) => out.expired = n,
            Err(e) => out.problems.push(format!("expiring holds: {e}")),
        }
        match self.reconcile(processors) {
            Ok(r) => out.reconciled = r,
            Err(e) => out.problems.push(format!("reconcile: {e}")),
        }
        self.deliver_due();
        out
    }

    /// Pays `hold_id` on a thread of its own, with its own connection to this database (a card
    /// gateway may take seconds; the terminal keeps drawing). The confirmation or the notice of
    /// a decline is delivered by that connection when its transaction commits.
    pub fn pay_in_background(
        &mut self,
        hold_id: String,
        tender: Tender,
        gateway: PathBuf,
    ) -> mpsc::Receiver<PaymentResult> {
        let (tx, rx) = mpsc::channel();
        let (db, clock) = (self.path().to_path_buf(), self.clock());
        // The sale is this terminal's: its clerk and name go with it.
        let operator = self.operator().clone();
        let spool = self.spool().cloned();
        std::thread::spawn(move || {
            let mut delivery = SpoolReport::default();
            let result = (|| {
                let mut store = Store::open(&db, clock.clone())?;
                store.set_operator(operator)?;
                if let Some(spool) = spool {
                    store.set_spool(spool);
                }
                let processors = Processors::with_gateway(&gateway, clock)?;
                let paid = store.pay(&hold_id, &tender, &processors);
                delivery = store.take_delivery();
                paid
            })();
            drop(tender);
            let _ = tx.send((result, delivery));
        });
        rx
    }
}
