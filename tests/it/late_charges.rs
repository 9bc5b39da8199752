//! Every captured charge has a booking or a refund: a charge that lands after another terminal
//! gave its payment up (a slow gateway, a suspended laptop, a clock running ahead), and a charge
//! whose answer and whose look-up both failed. The real simulated gateway answers; the
//! processors here only hold its answer back or lose it on the way, as a network would.

use crate::common;

use boxoffice::payment::gateway::{CARD_APPROVE, SimulatedGateway};
use boxoffice::payment::{
    ChargeOutcome, ChargeRequest, LedgerEntry, PaymentProcessor, ProcessorError, RefundRequest,
};
use boxoffice::{Card, CashProcessor, Clock, Error, Processors, SeatStatus, Spool, Store, Tender};
use chrono::Duration;
use common::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

/// The gateway at the other end of a slow line: a charge waits until the test lets it through.
/// `can_fence: false` makes it a processor that cannot refuse a charge it has not seen yet
/// (a real one that can only be asked, not told).
struct SlowLine {
    gateway: SimulatedGateway,
    arrived: Mutex<Sender<()>>,
    go: Mutex<Receiver<()>>,
    can_fence: bool,
}

impl PaymentProcessor for SlowLine {
    fn name(&self) -> &'static str {
        "card"
    }
    fn charge(&self, req: &ChargeRequest<'_>) -> Result<ChargeOutcome, ProcessorError> {
        self.arrived.lock().unwrap().send(()).unwrap();
        self.go.lock().unwrap().recv().unwrap();
        self.gateway.charge(req)
    }
    fn refund(&self, req: &RefundRequest<'_>) -> Result<String, ProcessorError> {
        self.gateway.refund(req)
    }
    fn lookup(&self, key: &str) -> Result<Option<ChargeOutcome>, ProcessorError> {
        self.gateway.lookup(key)
    }
    fn fence(&self, key: &str) -> Result<Option<ChargeOutcome>, ProcessorError> {
        if self.can_fence {
            self.gateway.fence(key)
        } else {
            self.gateway.lookup(key)
        }
    }
    fn ledger(&self) -> Result<Option<Vec<LedgerEntry>>, ProcessorError> {
        self.gateway.ledger()
    }
}

/// The gateway behind a line that can go down: while it is down, a charge still reaches the
/// gateway (or not, with `lose_charges: false`) but its answer is lost, and nothing else gets
/// through.
struct FlakyLine {
    gateway: SimulatedGateway,
    down: AtomicBool,
    charge_reaches_gateway: bool,
}

impl FlakyLine {
    fn cut(&self) -> Result<(), ProcessorError> {
        if self.down.load(Ordering::SeqCst) {
            Err(ProcessorError(
                "the connection to the card gateway was reset".into(),
            ))
        } else {
            Ok(())
        }
    }
}

impl PaymentProcessor for FlakyLine {
    fn name(&self) -> &'static str {
        "card"
    }
    fn charge(&self, req: &ChargeRequest<'_>) -> Result<ChargeOutcome, ProcessorError> {
        if self.down.load(Ordering::SeqCst) && !self.charge_reaches_gateway {
            return self.cut().map(|_| unreachable!());
        }
        let answer = self.gateway.charge(req);
        self.cut()?;
        answer
    }
    fn refund(&self, req: &RefundRequest<'_>) -> Result<String, ProcessorError> {
        self.cut()?;
        self.gateway.refund(req)
    }
    fn lookup(&self, key: &str) -> Result<Option<ChargeOutcome>, ProcessorError> {
        self.cut()?;
        self.gateway.lookup(key)
    }
    fn fence(&self, key: &str) -> Result<Option<ChargeOutcome>, ProcessorError> {
        self.cut()?;
        self.gateway.fence(key)
    }
    fn ledger(&self) -> Result<Option<Vec<LedgerEntry>>, ProcessorError> {
        self.cut()?;
        self.gateway.ledger()
    }
}

fn card(f: &Fixture) -> Tender {
    Tender::Card(Card::parse(CARD_APPROVE, "12/28", "123", f.clock.now()).unwrap())
}

fn status(store: &Store, concert: i64, label: &str) -> SeatStatus {
    seat_status(store, concert, label)
}

/// A card payment under way at one terminal, its charge held on a slow line until `go`.
struct SlowPayment {
    paying: std::thread::JoinHandle<(Store, Result<String, Error>)>,
    go: Sender<()>,
    /// The fixture without its store (the paying thread has it).
    f: Fixture,
}

impl SlowPayment {
    /// Holds `labels` for Ann and pays by card; returns once the charge reached the line.
    fn start(mut f: Fixture, labels: &[&str], can_fence: bool) -> SlowPayment {
        let hold = f
            .store
            .hold_seats(f.concert, &seats(labels), &with_phone("ann@example.com"))
            .unwrap()
            .hold_id;
        let (arrived_tx, arrived) = channel();
        let (go, go_rx) = channel();
        let slow = SlowLine {
            gateway: gateway(&f),
            arrived: Mutex::new(arrived_tx),
            go: Mutex::new(go_rx),
            can_fence,
        };
        let processors = Processors::new(vec![Box::new(CashProcessor), Box::new(slow)]);
        let tender = card(&f);
        // The paying thread takes the store; the fixture keeps one on the same database.
        let kept = f.reopen();
        let mut store = std::mem::replace(&mut f.store, kept);
        let paying = std::thread::spawn(move || {
            let out = store
                .pay(&hold, &tender, &processors)
                .map(|r| r.booking_code);
            (store, out)
        });
        arrived.recv().unwrap();
        SlowPayment { paying, go, f }
    }

    /// Lets the charge through; the fixture with the paying store back, and what it was told.
    fn finish(self) -> (Fixture, Result<String, Error>) {
        self.go.send(()).unwrap();
        let (store, out) = self.paying.join().unwrap();
        let mut f = self.f;
        f.store = store;
        (f, out)
    }
}

/// A payment at one terminal whose charge is held on a slow line while another terminal,
/// whose clock is three minutes ahead, starts up and reconciles. Returns what the paying
/// terminal was told, and the fixture with its store back.
fn charge_lands_after_another_terminal_gave_up(can_fence: bool) -> (Fixture, Result<(), Error>) {
    let slow = SlowPayment::start(fixture(), &["A-2-3", "A-2-4"], can_fence);
    let f = &slow.f;
    // Another terminal starts with its clock past the payment's lease: it gives the payment up.
    f.clock.advance(Duration::minutes(3));
    let mut other = Store::open(&f.db, f.clock.clone()).unwrap();
    let line = SimulatedGateway::open(f.dir.path().join("gateway.db"), f.clock.clone()).unwrap();
    let ours = if can_fence {
        Processors::new(vec![Box::new(CashProcessor), Box::new(line)])
    } else {
        Processors::new(vec![Box::new(CashProcessor), Box::new(AskOnly(line))])
    };
    let report = other.reconcile(&ours).unwrap();
    assert_eq!(report.released, 1, "{report:?}");
    assert_eq!(status(&other, f.concert, "A-2-3"), SeatStatus::Free);
    // Then the charge gets through.
    let (f, out) = slow.finish();
    (f, out.map(|_| ()))
}

/// Another box office (another machine, its clock seconds ahead) starting up while a payment
/// is in flight leaves it alone: its reconcile counts it in flight, the seats stay taken, and
/// the payment books when its charge gets through.
#[test]
fn another_terminal_starting_up_leaves_a_payment_in_flight_alone() {
    let slow = SlowPayment::start(fixture(), &["A-2-3"], true);
    let f = &slow.f;
    f.clock.advance(Duration::seconds(7));
    let mut other = Store::open(&f.db, f.clock.clone()).unwrap();
    let theirs =
        Processors::with_gateway(f.dir.path().join("gateway.db"), f.clock.clone()).unwrap();
    let started = other.start_up(&theirs);
    assert!(started.problems.is_empty(), "{:?}", started.problems);
    assert_eq!(
        (started.reconciled.in_flight, started.reconciled.released),
        (1, 0),
        "{started:?}"
    );
    assert_ne!(status(&other, f.concert, "A-2-3"), SeatStatus::Free);
    let concert = f.concert;
    let (f, out) = slow.finish();
    let code = out.unwrap();
    assert_eq!(
        f.store.booking(&code).unwrap().state,
        boxoffice::BookingState::Confirmed
    );
    assert_eq!(status(&other, concert, "A-2-3"), SeatStatus::Booked);
}

#[test]
fn a_charge_arriving_after_its_payment_was_given_up_is_refused_by_the_fence() {
    let (f, out) = charge_lands_after_another_terminal_gave_up(true);
    let err = out.unwrap_err();
    assert!(matches!(err, Error::PaymentAbandoned(_)), "{err:?}");
    assert!(err.to_string().contains("hold the seats again"), "{err}");
    // Nothing was taken, nothing booked, and the books agree.
    let totals = gateway(&f).totals().unwrap();
    assert_eq!((totals.charges, totals.captured_cents), (0, 0));
    assert_eq!(status(&f.store, f.concert, "A-2-3"), SeatStatus::Free);
    let p = Processors::with_gateway(f.dir.path().join("gateway.db"), f.clock.clone()).unwrap();
    let audit = f.store.audit(&p).unwrap();
    assert!(audit.is_clean(), "{audit:?}");
    assert_eq!(audit.charges_cents, 0);
}

#[test]
fn a_late_charge_a_processor_could_not_refuse_is_refunded_and_the_customer_told() {
    let (mut f, out) = charge_lands_after_another_terminal_gave_up(false);
    let err = out.unwrap_err();
    assert!(matches!(err, Error::PaymentAbandoned(_)), "{err:?}");
    // Taken, and given straight back: never kept without a booking.
    let totals = gateway(&f).totals().unwrap();
    assert_eq!((totals.charges, totals.captured_cents), (1, 6000));
    assert_eq!((totals.refunds, totals.refunded_cents), (1, 6000));
    let p = Processors::with_gateway(f.dir.path().join("gateway.db"), f.clock.clone()).unwrap();
    let audit = f.store.audit(&p).unwrap();
    assert!(audit.is_clean(), "{audit:?}");
    assert_eq!((audit.charges_cents, audit.refunds_cents), (6000, 6000));
    // The customer hears why a charge came and went, by email and SMS.
    let spool_dir = f.dir.path().join("spool");
    f.store
        .deliver_outbox(&Spool::new(&spool_dir), false)
        .unwrap();
    let texts = spool_texts(&spool_dir);
    assert_eq!(texts.len(), 2, "{texts:?}");
    let email = texts.iter().find(|t| t.contains("Subject:")).unwrap();
    assert!(
        email.contains("Refunded: your payment for The Testers"),
        "{email}"
    );
    assert!(email.contains("EUR 60.00"), "{email}");
    assert!(email.contains("refunded to you"), "{email}");
    // The concert's time is the venue's, with its zone named; sentences start as sentences.
    assert!(email.contains("20:00 (CET, Vienna time)"), "{email}");
    assert!(email.contains("Your payment of EUR 60.00"), "{email}");
    let sms = texts.iter().find(|t| t.starts_with("To: +43")).unwrap();
    assert!(sms.contains("refunded in full"), "{sms}");
}

#[test]
fn a_charge_whose_answer_and_look_up_both_failed_is_never_charged_again_under_a_new_key() {
    let mut f = fixture();
    let line = Arc::new(FlakyLine {
        gateway: gateway(&f),
        down: AtomicBool::new(true),
        charge_reaches_gateway: true,
    });
    let p = Processors::new(vec![
        Box::new(CashProcessor),
        Box::new(Shared(line.clone())),
    ]);
    let hold = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-1"]), &customer("bo@example.com"))
        .unwrap()
        .hold_id;
    let err = f.store.pay(&hold, &card(&f), &p).unwrap_err();
    assert!(matches!(err, Error::Unanswered(_)), "{err:?}");
    assert_eq!(err.kind(), boxoffice::ErrorKind::Other);
    // The gateway took it. The seats stay held (the money may be taken) past the hold's time.
    f.clock.advance(Duration::minutes(30));
    f.store.expire_holds().unwrap();
    assert_eq!(status(&f.store, f.concert, "A-1-1"), SeatStatus::Held);
    // A retry, or a reconcile, while the line is still down charges nothing new.
    let again = f.store.pay(&hold, &card(&f), &p).unwrap_err();
    assert!(matches!(again, Error::Unanswered(_)), "{again:?}");
    assert_eq!(f.store.reconcile(&p).unwrap().unreachable, 1);
    assert_eq!(gateway(&f).totals().unwrap().charges, 1);
    // Once the gateway answers, the retry finds the first charge and books with it.
    line.down.store(false, Ordering::SeqCst);
    let receipt = f.store.pay(&hold, &card(&f), &p).unwrap();
    assert_eq!(receipt.total_cents, 5000);
    assert_eq!(gateway(&f).totals().unwrap().charges, 1, "charged once");
    assert_eq!(status(&f.store, f.concert, "A-1-1"), SeatStatus::Booked);
    let audit = f.store.audit(&p).unwrap();
    assert!(audit.is_clean(), "{audit:?}");
    assert_eq!(audit.bookings_cents, 5000);
}

#[test]
fn a_charge_that_never_reached_the_gateway_is_fenced_before_the_retry_charges() {
    let mut f = fixture();
    let line = Arc::new(FlakyLine {
        gateway: gateway(&f),
        down: AtomicBool::new(true),
        charge_reaches_gateway: false,
    });
    let p = Processors::new(vec![
        Box::new(CashProcessor),
        Box::new(Shared(line.clone())),
    ]);
    let hold = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-1"]), &customer("cy@example.com"))
        .unwrap()
        .hold_id;
    assert!(matches!(
        f.store.pay(&hold, &card(&f), &p),
        Err(Error::Unanswered(_))
    ));
    line.down.store(false, Ordering::SeqCst);
    // The gateway never saw the first key: it is fenced, and the retry charges a new one.
    f.store.pay(&hold, &card(&f), &p).unwrap();
    let totals = gateway(&f).totals().unwrap();
    assert_eq!((totals.charges, totals.captured_cents), (1, 5000));
    let first = format!("charge-{hold}-1");
    let late = gateway(&f).charge(&ChargeRequest {
        idempotency_key: &first,
        amount_cents: 5000,
        currency: "EUR",
        tender: &card(&f),
        description: "a packet that was only delayed",
    });
    assert!(
        matches!(late, Ok(ChargeOutcome::Declined { .. })),
        "{late:?}"
    );
    assert!(f.store.audit(&p).unwrap().is_clean());
}

#[test]
fn audit_finds_a_charge_nobody_booked_and_a_booking_nobody_paid() {
    let mut f = fixture();
    let p = Processors::with_gateway(f.dir.path().join("gateway.db"), f.clock.clone()).unwrap();
    let hold = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-3"]), &customer("di@example.com"))
        .unwrap()
        .hold_id;
    let receipt = f.store.pay(&hold, &card(&f), &p).unwrap();
    let cash_hold = f
        .store
        .hold_seats(f.concert, &seats(&["A-2-1"]), &customer("ed@example.com"))
        .unwrap()
        .hold_id;
    f.store
        .pay(
            &cash_hold,
            &Tender::Cash {
                tendered_cents: 5000,
            },
            &p,
        )
        .unwrap();
    let clean = f.store.audit(&p).unwrap();
    assert!(clean.is_clean(), "{clean:?}");
    assert_eq!(
        (
            clean.charges_cents,
            clean.refunds_cents,
            clean.bookings_cents
        ),
        (8000, 0, 8000)
    );
    let methods: Vec<(&str, i64)> = clean
        .by_method
        .iter()
        .map(|m| (m.method.as_str(), m.charges_cents))
        .collect();
    assert_eq!(methods, [("card", 5000), ("cash", 3000)]);
    // Planted: a charge at the gateway the box office never asked for.
    let stray = gateway(&f).charge(&ChargeRequest {
        idempotency_key: "charge-from-nowhere",
        amount_cents: 1234,
        currency: "EUR",
        tender: &card(&f),
        description: "planted",
    });
    assert!(matches!(stray, Ok(ChargeOutcome::Approved { .. })));
    // Planted: the card booking's payment record lost.
    common::sql(f.db_path())
        .db()
        .execute(
            "UPDATE payments SET state = 'failed' WHERE reference = ?1",
            [&receipt.reference],
        )
        .unwrap();
    let audit = f.store.audit(&p).unwrap();
    let whys: Vec<String> = audit
        .unmatched
        .iter()
        .map(|u| format!("{} {}", u.amount_cents, u.why))
        .collect();
    assert!(
        whys.contains(&"1234 charged at the processor, unknown to the box office".to_string()),
        "{whys:?}"
    );
    assert!(
        whys.contains(&"5000 charged at the processor, recorded here as failed".to_string()),
        "{whys:?}"
    );
    assert!(
        whys.contains(&"5000 booking paid by 0 captured charges of 0 cents in all".to_string()),
        "{whys:?}"
    );
    assert_eq!(
        audit
            .unmatched
            .iter()
            .find(|u| u.amount_cents == 5000 && u.why.starts_with("booking"))
            .unwrap()
            .reference,
        receipt.booking_code
    );
}

/// The gateway as a processor that can be asked about a key but not told to refuse it.
struct AskOnly(SimulatedGateway);

impl PaymentProcessor for AskOnly {
    fn name(&self) -> &'static str {
        "card"
    }
    fn charge(&self, req: &ChargeRequest<'_>) -> Result<ChargeOutcome, ProcessorError> {
        self.0.charge(req)
    }
    fn refund(&self, req: &RefundRequest<'_>) -> Result<String, ProcessorError> {
        self.0.refund(req)
    }
    fn lookup(&self, key: &str) -> Result<Option<ChargeOutcome>, ProcessorError> {
        self.0.lookup(key)
    }
    fn ledger(&self) -> Result<Option<Vec<LedgerEntry>>, ProcessorError> {
        self.0.ledger()
    }
}

/// One processor shared with the test, which flips its line.
struct Shared(Arc<FlakyLine>);

impl PaymentProcessor for Shared {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn charge(&self, req: &ChargeRequest<'_>) -> Result<ChargeOutcome, ProcessorError> {
        self.0.charge(req)
    }
    fn refund(&self, req: &RefundRequest<'_>) -> Result<String, ProcessorError> {
        self.0.refund(req)
    }
    fn lookup(&self, key: &str) -> Result<Option<ChargeOutcome>, ProcessorError> {
        self.0.lookup(key)
    }
    fn fence(&self, key: &str) -> Result<Option<ChargeOutcome>, ProcessorError> {
        self.0.fence(key)
    }
    fn ledger(&self) -> Result<Option<Vec<LedgerEntry>>, ProcessorError> {
        self.0.ledger()
    }
}

/// Every message file in a spool, as text.
fn spool_texts(root: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["email/new", "sms"] {
        if let Ok(entries) = std::fs::read_dir(root.join(sub)) {
            for e in entries.flatten() {
                out.push(std::fs::read_to_string(e.path()).unwrap());
            }
        }
    }
    out
}

on_postgres_too!(
    another_terminal_starting_up_leaves_a_payment_in_flight_alone,
    a_charge_arriving_after_its_payment_was_given_up_is_refused_by_the_fence,
    a_late_charge_a_processor_could_not_refuse_is_refunded_and_the_customer_told,
    a_charge_whose_answer_and_look_up_both_failed_is_never_charged_again_under_a_new_key,
    a_charge_that_never_reached_the_gateway_is_fenced_before_the_retry_charges,
    audit_finds_a_charge_nobody_booked_and_a_booking_nobody_paid,
);
