//! The chores every front end would otherwise have to remember, done by the core:
//!
//! - **start-up**: holds and waiting-list offers whose time is up end, a payment a crash
//!   interrupted is settled, and messages that are due leave ([`Store::start_up`]);
//! - **after each commit**: a transaction that queued a notice has it delivered as soon as it
//!   commits, by the store itself (`Store::write`), once a spool is set ([`Store::set_spool`]):
//!   into the spool's files at once; what leaves through the mail relay or the SMS gateway is
//!   sent by the [`Sender`], on a thread and a connection of its own, so that no hold, payment,
//!   search or door check-in ever waits on a slow server;
//! - **now and then**: the same sweep a terminal runs while it is open ([`Store::sweep`]);
//! - **the payment worker**: a payment taken off the terminal's thread, on its own connection,
//!   delivering its own confirmation ([`Store::pay_in_background`]).
//!
//! What delivery did is kept for the front end to show ([`Store::take_delivery`]); a spool that
//! cannot be written never fails the change that queued the message (it waits in the outbox).

use crate::error::{Error, Result};
use crate::model::ReconcileReport;
use crate::notify::outbox::Routes;
use crate::notify::outbox::SpoolReport;
use crate::payment::{Processors, Tender};
use crate::store::AfterCommit;
use crate::{Receipt, Spool, Store};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

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
    /// The sender of what leaves the machine, woken after each delivery here.
    sender: Option<mpsc::Sender<Wake>>,
}

type DeliveryHook = Box<dyn FnMut(&SpoolReport) + Send>;

impl AfterCommit for Outgoing {
    fn run(&mut self, store: &mut Store) {
        if let Some(sender) = &self.sender {
            let _ = sender.send(Wake::Look);
        }
        let report = store
            .deliver_routes(&self.spool, false, Routes::Files)
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
        let sender = self.outgoing().and_then(|o| o.sender.take());
        self.after_commit = Some(Box::new(Outgoing {
            spool,
            delivery: SpoolReport::default(),
            hook,
            sender,
        }));
    }

    /// Starts the sender of the messages that leave the machine through the spool's mail
    /// relay and SMS gateway ([`Sender`]); `None` when the spool has neither (its files are
    /// written after each commit) or no spool is set. It works on a connection of its own and
    /// is woken by every delivery here; it looks again every `every` for retries.
    pub fn start_sender(&mut self, every: Duration) -> Option<Sender> {
        let spool = self.spool().filter(|s| s.sends_away())?.clone();
        let (db, clock) = (self.path().to_path_buf(), self.clock());
        let (wake, woken) = mpsc::channel();
        let (told, reports) = mpsc::channel();
        let (finished, done) = mpsc::channel();
        std::thread::spawn(move || {
            let mut store = match Store::open(&db, clock) {
                Ok(s) => s,
                Err(e) => {
                    let _ = told.send(SpoolReport {
                        errors: vec![format!("the sender cannot open the box office: {e}")],
                        ..Default::default()
                    });
                    let _ = finished.send(());
                    return;
                }
            };
            loop {
                let report = store
                    .deliver_routes(&spool, false, Routes::Away)
                    .unwrap_or_else(|e| SpoolReport {
                        errors: vec![format!("the outbox: {e}")],
                        ..Default::default()
                    });
                if !(report.delivered.is_empty() && report.errors.is_empty()) {
                    let _ = told.send(report);
                }
                match woken.recv_timeout(every) {
                    Ok(Wake::Look) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                    // One more look (what the last change queued), then done.
                    Ok(Wake::Finish) => {
                        while let Ok(Wake::Look) = woken.try_recv() {}
                        // (A Stop after the Finish is the handle going away: done anyway.)
                        if let Ok(r) = store.deliver_routes(&spool, false, Routes::Away)
                            && !(r.delivered.is_empty() && r.errors.is_empty())
                        {
                            let _ = told.send(r);
                        }
                        let _ = finished.send(());
                        return;
                    }
                    Ok(Wake::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
        });
        if let Some(o) = self.outgoing() {
            o.sender = Some(wake.clone());
        }
        Some(Sender {
            wake,
            reports,
            done,
        })
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
        if self.is_read_only() {
            drop(tender);
            let _ = tx.send((Err(Error::ReadOnlyTerminal), SpoolReport::default()));
            return rx;
        }
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

/// What the sender is told.
enum Wake {
    /// A change queued something: look for due messages now.
    Look,
    /// Send what is due, then stop.
    Finish,
    /// Stop now (after the message being sent, if any).
    Stop,
}

/// The sender of the messages that leave the machine (the mail relay, the SMS gateway), on a
/// thread of its own with a connection of its own ([`Store::start_sender`]): a relay that
/// never answers costs its thread time, never a clerk's. It stops when this is dropped (after
/// the message it is sending, if any) or finished.
pub struct Sender {
    wake: mpsc::Sender<Wake>,
    reports: mpsc::Receiver<SpoolReport>,
    done: mpsc::Receiver<()>,
}

impl Sender {
    /// Wakes it to look for due messages now (it also looks after each delivery of the store
    /// that started it, and now and then by itself).
    pub fn wake(&self) {
        let _ = self.wake.send(Wake::Look);
    }

    /// What it did since the last call: messages sent, and why others wait.
    pub fn take_reports(&self) -> SpoolReport {
        let mut all = SpoolReport::default();
        for r in self.reports.try_iter() {
            all.delivered.extend(r.delivered);
            all.errors.extend(r.errors);
        }
        all
    }

    /// Asks it to send what is due and stop, and waits at most `budget` for it. Returns what
    /// it did meanwhile, and whether it finished: a message it is still sending when the
    /// budget is up waits in the outbox (leased for a minute, then anyone's again).
    pub fn finish(self, budget: Duration) -> (SpoolReport, bool) {
        let deadline = Instant::now() + budget;
        let _ = self.wake.send(Wake::Finish);
        let finished = self
            .done
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .is_ok();
        (self.take_reports(), finished)
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let _ = self.wake.send(Wake::Stop);
    }
}
