//! The chores the core does for every front end: notices leave when the change that queued them
//! commits, start-up ends what ran out and settles what a crash interrupted, and a payment on
//! its own thread delivers its own confirmation.

use crate::common;

use boxoffice::{Processors, Spool, Tender};
use chrono::Duration;
use common::*;
use std::sync::{Arc, Mutex};

fn cash() -> Tender {
    Tender::Cash {
        tendered_cents: 100_000,
    }
}

#[test]
fn a_notice_leaves_when_the_change_that_queued_it_commits() {
    let mut f = fixture();
    let dir = f.dir.path().join("spool");
    f.store.set_spool(Spool::new(&dir));
    let heard = Arc::new(Mutex::new(0));
    let ear = heard.clone();
    f.store
        .on_delivery(move |r| *ear.lock().unwrap() += r.delivered.len());
    let hold = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-1"]), &customer("ann@example.com"))
        .unwrap();
    assert_eq!(spool_files(&dir), 0, "a hold tells nobody");
    let receipt = f
        .store
        .pay(&hold.hold_id, &cash(), &Processors::cash_only())
        .unwrap();
    // No one called deliver: the confirmation is in the spool already.
    assert_eq!(spool_files(&dir), 1);
    assert_eq!(*heard.lock().unwrap(), 1);
    let report = f.store.take_delivery();
    assert_eq!(report.delivered.len(), 1);
    assert_eq!(report.delivered[0].recipient, "ann@example.com");
    assert!(f.store.take_delivery().delivered.is_empty(), "taken once");
    // A cancellation, its notice likewise.
    f.store
        .cancel_booking(&receipt.booking_code, &Processors::cash_only())
        .unwrap();
    assert_eq!(spool_files(&dir), 2);
}

#[test]
fn without_a_spool_notices_wait_in_the_outbox() {
    let mut f = fixture();
    let hold = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-1"]), &customer("ann@example.com"))
        .unwrap();
    f.store
        .pay(&hold.hold_id, &cash(), &Processors::cash_only())
        .unwrap();
    assert_eq!(f.store.outbox_status().unwrap().pending, 1);
    // Set later, the next sweep delivers it.
    let dir = f.dir.path().join("spool");
    f.store.set_spool(Spool::new(&dir));
    f.store.sweep().unwrap();
    assert_eq!(spool_files(&dir), 1);
    assert_eq!(f.store.outbox_status().unwrap().pending, 0);
}

#[test]
fn a_spool_that_cannot_be_written_fails_nothing_and_is_reported() {
    let mut f = fixture();
    // A file where the spool directory should be.
    let blocked = f.dir.path().join("spool");
    std::fs::write(&blocked, "not a directory").unwrap();
    f.store.set_spool(Spool::new(&blocked));
    let hold = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-1"]), &customer("ann@example.com"))
        .unwrap();
    let receipt = f
        .store
        .pay(&hold.hold_id, &cash(), &Processors::cash_only())
        .unwrap();
    assert!(f.store.booking(&receipt.booking_code).is_ok(), "booked");
    let report = f.store.take_delivery();
    assert!(report.delivered.is_empty());
    assert_eq!(report.errors.len(), 1, "{report:?}");
    assert_eq!(f.store.outbox_status().unwrap().pending, 1, "it waits");
}

#[test]
fn start_up_ends_what_ran_out_and_delivers_what_is_due() {
    let mut f = fixture();
    let hold = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-1"]), &customer("ann@example.com"))
        .unwrap();
    let paid = f
        .store
        .hold_seats(f.concert, &seats(&["A-2-1"]), &customer("bob@example.com"))
        .unwrap();
    f.store
        .pay(&paid.hold_id, &cash(), &Processors::cash_only())
        .unwrap();
    f.clock.advance(Duration::minutes(6));
    let mut store = f.reopen();
    let dir = f.dir.path().join("spool");
    store.set_spool(Spool::new(&dir));
    let started = store.start_up(&Processors::cash_only());
    assert!(started.problems.is_empty(), "{:?}", started.problems);
    assert_eq!(started.expired, 1);
    assert_eq!(
        store.hold(&hold.hold_id).unwrap().state,
        boxoffice::HoldState::Expired
    );
    assert_eq!(spool_files(&dir), 1, "bob's confirmation, queued before");
}

#[test]
fn a_payment_on_its_own_thread_delivers_its_confirmation() {
    let mut f = fixture();
    let dir = f.dir.path().join("spool");
    f.store.set_spool(Spool::new(&dir));
    let hold = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-1"]), &customer("ann@example.com"))
        .unwrap();
    let rx = f.store.pay_in_background(
        hold.hold_id.clone(),
        cash(),
        f.dir.path().join("gateway.db"),
    );
    let (paid, delivery) = rx.recv().unwrap();
    let receipt = paid.unwrap();
    assert_eq!(delivery.delivered.len(), 1);
    assert_eq!(spool_files(&dir), 1);
    let booking = f.store.booking(&receipt.booking_code).unwrap();
    assert_eq!(booking.seats[0].seat, "A-1-1");
}

on_postgres_too!(
    a_notice_leaves_when_the_change_that_queued_it_commits,
    without_a_spool_notices_wait_in_the_outbox,
    a_spool_that_cannot_be_written_fails_nothing_and_is_reported,
    start_up_ends_what_ran_out_and_delivers_what_is_due,
    a_payment_on_its_own_thread_delivers_its_confirmation,
);
