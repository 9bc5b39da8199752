//! The sale as a clerk makes it: the seats held first, the details only as the sale needs
//! them, leaving asks while seats are held; a booking's seats cancelled one by one; a
//! waiting-list offer paid from the app.

use super::*;
use crate::tui::screens::Method;
use boxoffice::Tender;

#[test]
fn leaving_checkout_gives_the_hold_back() {
    let mut r = rig();
    open(&mut r.app, "Neon");
    select_best(&mut r.app, 2);
    fill_customer(&mut r.app);
    let hold = r.app.checkout.as_ref().unwrap().hold.clone().unwrap();
    // Esc asks first: n keeps paying, the hold untouched.
    press(&mut r.app, KeyCode::Esc);
    assert_eq!(r.app.screen, Screen::Checkout);
    assert!(screen_text(&r.app, 80, 24).contains("Give back the hold on"));
    typ(&mut r.app, "n");
    assert_eq!(r.app.screen, Screen::Checkout);
    assert_eq!(
        r.app.store.hold(&hold.hold_id).unwrap().state,
        boxoffice::HoldState::Live
    );
    // So does leaving for another screen, or quitting; y gives the seats back.
    press(&mut r.app, KeyCode::F(3));
    assert_eq!(r.app.screen, Screen::Checkout);
    typ(&mut r.app, "n");
    ctrl(&mut r.app, 'c');
    assert!(!r.app.quit, "asked before quitting with a live hold");
    typ(&mut r.app, "n");
    press(&mut r.app, KeyCode::Esc);
    typ(&mut r.app, "y");
    assert_eq!(r.app.screen, Screen::SeatMap);
    assert_eq!(
        r.app.store.hold(&hold.hold_id).unwrap().state,
        boxoffice::HoldState::Released
    );
}

#[test]
fn bookings_are_found_by_email_and_cancelled_after_a_confirm() {
    let mut r = rig();
    open(&mut r.app, "Neon");
    select_best(&mut r.app, 2);
    fill_customer(&mut r.app);
    pay_card(&mut r.app, "4242424242424242");
    let code = r
        .app
        .confirmation
        .as_ref()
        .unwrap()
        .receipt
        .booking_code
        .clone();
    press(&mut r.app, KeyCode::F(3));
    assert_eq!(r.app.screen, Screen::Bookings);
    typ(&mut r.app, "ANN@example.com");
    press(&mut r.app, KeyCode::Enter);
    assert_eq!(r.app.bookings.list[0].booking_code, code);
    // The focus stays in the search after a match: a name typed now is a new search, and its
    // `c` is a letter; Tab moves to the list, where `c` cancels.
    typ(&mut r.app, "jacob");
    assert_eq!(r.app.bookings.query, "jacob", "a new search, not appended");
    assert!(
        r.app.bookings.cancelling.is_none(),
        "the c of jacob is a letter"
    );
    for _ in 0..5 {
        press(&mut r.app, KeyCode::Backspace);
    }
    typ(&mut r.app, "ANN@example.com");
    press(&mut r.app, KeyCode::Enter);
    press(&mut r.app, KeyCode::Tab);
    typ(&mut r.app, "c");
    let seats: Vec<String> = r
        .app
        .store
        .booking(&code)
        .unwrap()
        .seats
        .iter()
        .map(|s| s.seat.clone())
        .collect();
    assert_eq!(
        r.app.bookings.cancelling.as_deref(),
        Some(seats.join(" ").as_str())
    );
    press(&mut r.app, KeyCode::Esc);
    assert!(r.app.bookings.cancelling.is_none());
    assert_eq!(
        r.app.store.booking(&code).unwrap().state,
        boxoffice::BookingState::Confirmed
    );
    // One seat of the two: the rest stays booked.
    typ(&mut r.app, "c");
    ctrl(&mut r.app, 'u');
    typ(&mut r.app, &seats[1].to_lowercase());
    assert!(screen_text(&r.app, 80, 24).contains("1 of 2 seats; the rest stays"));
    press(&mut r.app, KeyCode::Enter);
    let b = r.app.store.booking(&code).unwrap();
    assert_eq!((b.state.as_str(), b.seats.len()), ("confirmed", 1));
    assert!(said(&r.app).contains(&format!("cancelled {} of {code}", seats[1])));
    assert!(screen_text(&r.app, 80, 24).contains(&format!("Seats {} cancelled", seats[1])));
    // Then the rest: the field holds what is left.
    typ(&mut r.app, "c");
    assert_eq!(
        r.app.bookings.cancelling.as_deref(),
        Some(seats[0].as_str())
    );
    press(&mut r.app, KeyCode::Enter);
    assert_eq!(
        r.app.store.booking(&code).unwrap().state,
        boxoffice::BookingState::Cancelled
    );
    assert!(said(&r.app).contains("refunded EUR"));
}

/// A walk-up paying cash: Enter holds, the amount typed goes to the tendered field, Enter
/// pays; no details, nothing sent, the confirmation says so.
#[test]
fn a_walk_up_pays_cash_without_giving_any_details() {
    let mut r = rig();
    open(&mut r.app, "Neon");
    select_best(&mut r.app, 2);
    press(&mut r.app, KeyCode::Enter);
    let c = r.app.checkout.as_ref().unwrap();
    assert_eq!(c.field(), Field::Method);
    assert!(c.hold.is_some(), "held before anything is typed");
    typ(&mut r.app, "100");
    press(&mut r.app, KeyCode::Enter);
    r.app.poll_payment(Some(std::time::Duration::from_secs(5)));
    assert_eq!(r.app.screen, Screen::Confirmation);
    let conf = r.app.confirmation.as_ref().unwrap();
    assert_eq!(conf.receipt.change_cents, 10_000 - conf.receipt.total_cents);
    assert_eq!(conf.booking.customer.email_address(), None);
    assert!(conf.files.is_empty());
    let screen = screen_text(&r.app, 80, 24);
    assert!(
        screen.contains("No email or phone given: nothing is sent"),
        "{screen}"
    );
    assert!(!screen.contains("waiting in the outbox"), "{screen}");
}

/// A hold refused on the map (a seat just taken elsewhere) keeps the rest of the selection
/// and says what happened; nothing was typed to lose.
#[test]
fn a_refused_hold_keeps_the_selection_on_the_map_and_says_why() {
    let mut r = rig();
    open(&mut r.app, "Neon");
    select_best(&mut r.app, 2);
    let m = r.app.map.as_ref().unwrap();
    let labels: Vec<String> = m
        .map
        .seats
        .iter()
        .filter(|s| m.selected.contains(&s.seat_id))
        .map(|s| s.seat.clone())
        .collect();
    // Another clerk takes one of them (overriding the gap rule, as a clerk may).
    let mut other = Store::open(r.db.clone(), r.clock.clone()).unwrap();
    other
        .hold_seats_allowing_gap(
            m.map.concert.id,
            &labels[..1],
            &boxoffice::CustomerInfo::default(),
        )
        .unwrap();
    press(&mut r.app, KeyCode::Enter);
    assert_eq!(r.app.screen, Screen::SeatMap);
    assert!(r.app.checkout.is_none());
    let status = &said(&r.app);
    assert!(status.contains(&labels[0]), "{status}");
    let m = r.app.map.as_ref().unwrap();
    let kept: Vec<&str> = m
        .map
        .seats
        .iter()
        .filter(|s| m.selected.contains(&s.seat_id))
        .map(|s| s.seat.as_str())
        .collect();
    assert_eq!(kept, vec![labels[1].as_str()]);
}

/// Details typed at the checkout meet the person's rules when the payment is taken: over
/// their ticket limit, nothing typed is lost and the hold stays.
#[test]
fn a_customer_over_their_limit_is_refused_at_payment_and_nothing_typed_is_lost() {
    let mut r = rig();
    open(&mut r.app, "Neon");
    // Ann bought five of her six at another terminal.
    let concert = r.app.map.as_ref().unwrap().map.concert.id;
    let mut other = Store::open(r.db.clone(), r.clock.clone()).unwrap();
    let ann = boxoffice::CustomerInfo {
        email: "ann@example.com".into(),
        ..Default::default()
    };
    let five = other
        .hold_best(
            concert,
            &boxoffice::booking::BestRequest {
                count: 5,
                category: None,
                max_price_cents: None,
                allow_split: true,
            },
            &ann,
        )
        .unwrap();
    other
        .pay(
            &five.hold_id,
            &Tender::Cash {
                tendered_cents: 100_000,
            },
            &Processors::cash_only(),
        )
        .unwrap();
    r.app.refresh_screen();
    select_best(&mut r.app, 2);
    press(&mut r.app, KeyCode::Enter);
    focus(&mut r.app, Field::Email);
    typ(&mut r.app, "Ann@Example.com");
    focus(&mut r.app, Field::Tendered);
    typ(&mut r.app, "200");
    press(&mut r.app, KeyCode::Enter);
    r.app
        .poll_payment(Some(std::time::Duration::from_millis(200)));
    assert_eq!(r.app.screen, Screen::Checkout);
    let status = &said(&r.app);
    assert!(status.contains("ticket limit"), "{status}");
    let c = r.app.checkout.as_ref().unwrap();
    assert_eq!(
        (c.email.as_str(), c.tendered.as_str()),
        ("Ann@Example.com", "200")
    );
    let hold = c.hold.clone().unwrap();
    assert_eq!(
        r.app.store.hold(&hold.hold_id).unwrap().state,
        boxoffice::HoldState::Live
    );
    // Without the email (a walk-up after all), the same sale goes through.
    focus(&mut r.app, Field::Email);
    ctrl(&mut r.app, 'u');
    press(&mut r.app, KeyCode::Enter);
    r.app.poll_payment(Some(std::time::Duration::from_secs(5)));
    assert_eq!(r.app.screen, Screen::Confirmation);
}

/// A sold-out concert's waiting list: the first person's offer is paid from the app (from
/// the list with `p`, or by typing the offer's code in the bookings search), and someone is
/// taken off the list after a confirm.
#[test]
fn a_waiting_list_offer_is_paid_from_the_app_and_an_entry_removed() {
    let mut r = rig();
    open(&mut r.app, "Paper Lanterns");
    assert_eq!(r.app.screen, Screen::Waitlist);
    let concert = r.app.waitlist.as_ref().unwrap().concert.id;
    for who in [
        "first@example.com",
        "second@example.com",
        "third@example.com",
    ] {
        if r.app.waitlist.as_ref().unwrap().form.is_none() {
            typ(&mut r.app, "a");
        }
        typ(&mut r.app, who);
        press(&mut r.app, KeyCode::Tab);
        press(&mut r.app, KeyCode::Tab);
        ctrl(&mut r.app, 'u');
        typ(&mut r.app, "1");
        press(&mut r.app, KeyCode::Enter);
    }
    // A one-seat booking is cancelled: its seat is offered to the first in line.
    let conn = rusqlite::Connection::open(&r.db).unwrap();
    let code: String = conn
        .query_row(
            "SELECT b.code FROM bookings b JOIN holds h ON h.id = b.hold_id
             WHERE b.concert_id = ?1 AND b.state = 'confirmed' AND h.seats LIKE '[[%]]'
               AND h.seats NOT LIKE '%],[%' LIMIT 1",
            [concert],
            |r| r.get(0),
        )
        .unwrap();
    r.app
        .store
        .cancel_booking(&code, &Processors::cash_only())
        .unwrap();
    r.app.refresh_screen();
    let w = r.app.waitlist.as_ref().unwrap();
    assert_eq!(w.entries[0].state, boxoffice::WaitlistState::Offered);
    let offer = w.entries[0].offer.clone().unwrap();
    // `p` on someone only waiting says there is no offer.
    press(&mut r.app, KeyCode::Down);
    typ(&mut r.app, "p");
    assert_eq!(r.app.screen, Screen::Waitlist);
    assert!(said(&r.app).contains("no offer"));
    // The offer's code in the bookings search opens its checkout, for the person who waited.
    press(&mut r.app, KeyCode::F(3));
    typ(&mut r.app, &offer.to_lowercase());
    press(&mut r.app, KeyCode::Enter);
    assert_eq!(r.app.screen, Screen::Checkout);
    let c = r.app.checkout.as_ref().unwrap();
    assert!(c.offer);
    assert_eq!(c.email, "first@example.com");
    assert!(
        !c.fields().contains(&Field::Email),
        "an offer's person is not retyped"
    );
    assert!(screen_text(&r.app, 80, 24).contains("(waiting list)"));
    typ(&mut r.app, "100");
    press(&mut r.app, KeyCode::Enter);
    r.app.poll_payment(Some(std::time::Duration::from_secs(5)));
    assert_eq!(r.app.screen, Screen::Confirmation);
    assert_eq!(
        r.app.confirmation.as_ref().unwrap().booking.customer.email,
        "first@example.com"
    );
    // Back at the list: the second person is taken off after a confirm.
    r.app.carry_out(crate::tui::screens::Outcome::Waitlist {
        concert,
        back: Screen::Concerts,
        join: false,
    });
    let w = r.app.waitlist.as_ref().unwrap();
    assert_eq!(w.entries[0].state, boxoffice::WaitlistState::Booked);
    let second = w
        .entries
        .iter()
        .position(|e| e.customer == "second@example.com")
        .unwrap();
    r.app.waitlist.as_mut().unwrap().selected = second;
    typ(&mut r.app, "x");
    typ(&mut r.app, "n");
    assert_eq!(
        r.app.store.waitlist(concert).unwrap()[second].state,
        boxoffice::WaitlistState::Waiting
    );
    typ(&mut r.app, "x");
    typ(&mut r.app, "y");
    let after = r.app.store.waitlist(concert).unwrap();
    let e = after
        .iter()
        .find(|e| e.customer == "second@example.com")
        .unwrap();
    assert_eq!(e.state, boxoffice::WaitlistState::Left);
    assert!(said(&r.app).contains("off the waiting list"));
}

/// A mail relay that takes the connection and never says a word (a hung server, a firewall
/// that swallows the packets): the sale at the counter goes on as if it were not there, and
/// the confirmation waits in the outbox for the app's sender (it used to cost the payment the
/// relay's whole time-out, 10 s, and the sweep the same again for every message due).
#[test]
fn a_relay_that_never_answers_slows_no_sale_and_its_message_waits() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    let mut r = rig_sending(false, Some(&format!("smtp://127.0.0.1:{port}?tls=none")));
    assert!(
        r.app.sender.is_some(),
        "the app sends through the relay on a thread"
    );
    let started = std::time::Instant::now();
    open(&mut r.app, "Neon");
    select_best(&mut r.app, 2);
    fill_customer(&mut r.app);
    press(&mut r.app, KeyCode::Left); // cash
    press(&mut r.app, KeyCode::Tab);
    typ(&mut r.app, "200");
    press(&mut r.app, KeyCode::Enter);
    r.app.poll_payment(Some(std::time::Duration::from_secs(10)));
    assert_eq!(r.app.screen, Screen::Confirmation, "{}", said(&r.app));
    for _ in 0..3 {
        r.app.update(Action::Tick(std::time::Instant::now()));
    }
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(8),
        "the sale waited on the relay: {took:?}"
    );
    // Nothing lost: the confirmation is in the outbox, still pending.
    let status = r.app.store.outbox_status().unwrap();
    assert_eq!((status.pending, status.delivered), (1, 0), "{status:?}");
}

/// After a sale, the next customer starts with an empty search: the artist typed next is the
/// whole query (it was appended to the last one: `neonmarta`, no concert).
#[test]
fn the_next_customer_starts_with_an_empty_search() {
    let mut r = rig();
    open(&mut r.app, "Neon");
    select_best(&mut r.app, 1);
    fill_customer(&mut r.app);
    press(&mut r.app, KeyCode::Left); // cash
    press(&mut r.app, KeyCode::Tab);
    typ(&mut r.app, "50");
    press(&mut r.app, KeyCode::Enter);
    r.app.poll_payment(Some(std::time::Duration::from_secs(10)));
    assert_eq!(r.app.screen, Screen::Confirmation, "{}", said(&r.app));
    press(&mut r.app, KeyCode::Enter); // next customer
    assert_eq!(r.app.screen, Screen::Concerts);
    typ(&mut r.app, "marta");
    assert_eq!(r.app.concerts.query, "marta");
    let screen = screen_text(&r.app, 80, 24);
    assert!(screen.contains("Marta Silva"), "{screen}");
}

/// At 60x16 the booking's QR code cannot be drawn whole (a code cut short scans as nothing):
/// the code is said in text; at 80x24 the QR code is there.
#[test]
fn a_window_too_small_for_the_qr_code_shows_the_code_as_text() {
    let mut r = rig();
    open(&mut r.app, "Neon");
    select_best(&mut r.app, 1);
    fill_customer(&mut r.app);
    press(&mut r.app, KeyCode::Left); // cash
    press(&mut r.app, KeyCode::Tab);
    typ(&mut r.app, "50");
    press(&mut r.app, KeyCode::Enter);
    r.app.poll_payment(Some(std::time::Duration::from_secs(10)));
    assert_eq!(r.app.screen, Screen::Confirmation, "{}", said(&r.app));
    let code = r
        .app
        .confirmation
        .as_ref()
        .unwrap()
        .receipt
        .booking_code
        .clone();
    let small = screen_text(&r.app, 60, 16);
    assert!(
        small.contains(&format!("At the door: code {code}")),
        "{small}"
    );
    assert!(
        !small.contains('▀') && !small.contains('█'),
        "no QR cut short:\n{small}"
    );
    let big = screen_text(&r.app, 80, 24);
    assert!(big.contains('▀') || big.contains('█'), "{big}");
    assert!(!big.contains("At the door: code"), "{big}");
}

#[test]
fn cash_is_typed_the_way_people_type_it_with_a_decimal_comma() {
    let mut r = rig();
    open(&mut r.app, "Neon");
    select_best(&mut r.app, 1);
    fill_customer(&mut r.app);
    press(&mut r.app, KeyCode::Left); // cash
    press(&mut r.app, KeyCode::Tab);
    // Once read as 20000.00: the booking confirmed with EUR 19,966 change.
    typ(&mut r.app, "200,00");
    let screen = screen_text(&r.app, 80, 24);
    assert!(screen.contains("Change due EUR 166.00"), "{screen}");
    for _ in 0..6 {
        press(&mut r.app, KeyCode::Backspace);
    }
    // Read two ways: said under the field, never guessed, and Enter changes nothing.
    typ(&mut r.app, "1.234,50");
    let screen = screen_text(&r.app, 80, 24);
    assert!(screen.contains("thousands separator"), "{screen}");
    assert!(!screen.contains("Change due"), "{screen}");
    press(&mut r.app, KeyCode::Enter);
    let c = r.app.checkout.as_ref().unwrap();
    assert_eq!(c.step, Step::Payment);
    assert!(c.hold.is_some());
    for _ in 0..8 {
        press(&mut r.app, KeyCode::Backspace);
    }
    typ(&mut r.app, "200,00");
    press(&mut r.app, KeyCode::Enter);
    r.app.poll_payment(Some(std::time::Duration::from_secs(5)));
    let receipt = &r.app.confirmation.as_ref().expect("confirmed").receipt;
    assert_eq!(receipt.tendered_cents, Some(20_000));
    assert_eq!(receipt.change_cents, 16_600);
}

/// Ctrl-E keeps a checkout's seats one hold time longer, once; not where people wait for the
/// concert.
#[test]
fn ctrl_e_keeps_the_seats_longer_once() {
    let mut r = rig();
    open(&mut r.app, "Neon");
    select_best(&mut r.app, 1);
    fill_customer(&mut r.app);
    let left = |r: &Rig| r.app.hold_seconds_left().unwrap();
    r.clock.advance(Duration::minutes(4));
    ctrl(&mut r.app, 'e');
    assert!(
        said(&r.app).contains("kept one hold time longer"),
        "{}",
        said(&r.app)
    );
    assert!(left(&r) > 5 * 60, "{}", left(&r));
    ctrl(&mut r.app, 'e');
    assert!(
        said(&r.app).contains("extended once already"),
        "{}",
        said(&r.app)
    );
    assert!(left(&r) <= 6 * 60);
}

/// A card on the counter's own terminal: `t` on the method line, the slip's approval code and
/// last four digits, Enter; the sale is booked as the terminal's, and a slip typed wrong keeps
/// the hold and says why.
#[test]
fn a_card_on_the_counters_terminal_is_sold_from_its_slip() {
    let mut r = rig();
    open(&mut r.app, "Neon");
    select_best(&mut r.app, 2);
    press(&mut r.app, KeyCode::Enter);
    typ(&mut r.app, "t");
    assert_eq!(r.app.checkout.as_ref().unwrap().method, Method::Terminal);
    let screen = screen_text(&r.app, 80, 24);
    assert!(
        screen.contains("Approval") && screen.contains("Last 4"),
        "{screen}"
    );
    press(&mut r.app, KeyCode::Tab);
    typ(&mut r.app, "x");
    press(&mut r.app, KeyCode::Enter);
    assert_eq!(
        r.app.screen,
        Screen::Checkout,
        "a wrong slip keeps the hold"
    );
    assert!(said(&r.app).contains("approval code"), "{}", said(&r.app));
    press(&mut r.app, KeyCode::Backspace);
    typ(&mut r.app, "A1B2C3");
    press(&mut r.app, KeyCode::Tab);
    typ(&mut r.app, "4242");
    press(&mut r.app, KeyCode::Enter);
    r.app.poll_payment(Some(std::time::Duration::from_secs(5)));
    assert_eq!(r.app.screen, Screen::Confirmation);
    let conf = r.app.confirmation.as_ref().unwrap();
    assert_eq!(conf.receipt.method, "terminal");
    assert_eq!(conf.receipt.reference, "terminal-A1B2C3");
    // The next sale starts on the terminal; cash typed as money still goes to cash.
    press(&mut r.app, KeyCode::Enter);
    open(&mut r.app, "Neon");
    select_best(&mut r.app, 1);
    press(&mut r.app, KeyCode::Enter);
    assert_eq!(r.app.checkout.as_ref().unwrap().method, Method::Terminal);
    typ(&mut r.app, "45,00");
    let c = r.app.checkout.as_ref().unwrap();
    assert_eq!((c.method, c.tendered.as_str()), (Method::Cash, "45,00"));
}
