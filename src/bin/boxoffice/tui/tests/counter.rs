//! The counter's newer flows without a terminal: screens answering with outcomes, printing,
//! takings, the door, the payment's habits, the map and checkout kept true, the kiosk's
//! warning.

use super::*;

/// A screen answers an event with where to go; only the loop moves between screens. The
/// answer is checked without the loop, then what the loop does with it.
#[test]
fn a_screen_answers_with_where_to_go_and_the_loop_goes_there() {
    use crate::tui::keys::Cmd;
    use crate::tui::screens::Outcome;
    use crate::tui::screens::sales::Sales;
    let mut r = rig();
    let first = r.app.concerts.list[0].id;
    let mut sales = Sales {
        list: r.app.concerts.list.clone(),
        ..Default::default()
    };
    let app = &mut r.app;
    let cx = &mut crate::tui::screens::Cx {
        store: &mut app.store,
        processors: &app.processors,
        log: &mut app.log,
        opts: &app.opts,
        status: &mut app.status,
        habits: &mut app.habits,
    };
    assert!(matches!(sales.key(cx, Some(Cmd::Open)), Outcome::OpenMap(id) if id == first));
    assert!(matches!(sales.key(cx, Some(Cmd::Back)), Outcome::Concerts));
    assert!(matches!(sales.key(cx, Some(Cmd::Down)), Outcome::Stay));
    assert_eq!(sales.selected, 1);
    // The seat map's Esc leaves it: the loop closes the map and lists the concerts.
    r.app.open_map(first);
    assert_eq!(r.app.screen, Screen::SeatMap);
    press(&mut r.app, KeyCode::Esc);
    assert!(r.app.map.is_none());
    assert_eq!(r.app.screen, Screen::Concerts);
}

/// Two best seats at the Neon concert, sold to Ann by the approving test card.
fn sell_two_by_card(app: &mut App) {
    open(app, "Neon");
    select_best(app, 2);
    fill_customer(app);
    pay_card(app, "4242 4242 4242 4242");
}

/// On the confirmation, `p` prints the receipt and the tickets: to the receipt printer as
/// ESC/POS when one is set, else as a text file and a PDF beside the database.
#[test]
fn the_confirmation_prints_to_the_printer_or_to_files() {
    let mut r = rig();
    sell_two_by_card(&mut r.app);
    assert_eq!(r.app.screen, Screen::Confirmation);
    let code = r
        .app
        .confirmation
        .as_ref()
        .unwrap()
        .receipt
        .booking_code
        .clone();
    press(&mut r.app, KeyCode::Char('p'));
    let text = std::fs::read_to_string(r.dir.path().join(format!("receipts/{code}.txt"))).unwrap();
    assert!(text.contains(&format!("Booking {code}")), "{text}");
    assert!(
        text.contains("ending 4242"),
        "card brand and last four: {text}"
    );
    assert!(!text.contains("4242 4242"), "never the number");
    assert!(
        r.dir
            .path()
            .join(format!("receipts/{code}-tickets.pdf"))
            .exists()
    );
    assert!(said(&r.app).contains("no printer set"));
    // With a printer: ESC/POS, the receipt then a ticket each with its QR code.
    let printer = r.dir.path().join("lp0");
    r.app.opts.printer = Some(printer.clone());
    press(&mut r.app, KeyCode::Char('p'));
    let bytes = std::fs::read(&printer).unwrap();
    assert_eq!(&bytes[..2], b"\x1b@");
    let tickets = r.app.store.booking(&code).unwrap().tickets;
    for t in &tickets {
        let stored = [b"1P0".as_slice(), t.ticket_code.as_bytes()].concat();
        assert!(
            bytes.windows(stored.len()).any(|w| w == stored),
            "QR of {}",
            t.ticket_code
        );
    }
    assert!(said(&r.app).contains("sent to the printer"));
}

/// The Sales screen's takings (`t`): today's sales by method and the cash drawer, for the
/// clerk at this terminal; the same figures as `boxoffice report`.
#[test]
fn the_sales_screen_shows_todays_takings() {
    let mut r = rig();
    r.app
        .store
        .set_operator(boxoffice::store::Operator {
            clerk: Some("anna".into()),
            terminal: Some("kiosk-1".into()),
        })
        .unwrap();
    sell_two_by_card(&mut r.app);
    let total = r.app.confirmation.as_ref().unwrap().receipt.total_cents;
    press(&mut r.app, KeyCode::F(4));
    press(&mut r.app, KeyCode::Char('t'));
    let report = r.app.sales.takings.clone().unwrap();
    assert_eq!(report.clerk.as_deref(), Some("anna"));
    assert_eq!(
        report.by_method.len(),
        1,
        "only anna's card sale, not the demo's"
    );
    assert_eq!(report.by_method[0].sales_cents, total);
    let screen = screen_text(&r.app, 80, 24);
    assert!(screen.contains("Takings today, clerk anna"), "{screen}");
    assert!(screen.contains("cash in the drawer EUR 0.00"), "{screen}");
    press(&mut r.app, KeyCode::Char('t'));
    assert!(r.app.sales.takings.is_none());
}

/// With nothing found, the list's header stays where it is with results.
#[test]
fn the_concert_list_header_stays_aligned_without_results() {
    let mut r = rig();
    let header = |app: &App| {
        screen_text(app, 80, 24)
            .lines()
            .find(|l| l.contains("Date") && l.contains("Artist"))
            .unwrap()
            .to_string()
    };
    let with = header(&r.app);
    typ(&mut r.app, "zzzzzz");
    assert!(r.app.concerts.list.is_empty());
    assert_eq!(header(&r.app), with);
}

/// A hold made at another terminal shows as held; once it runs out, the seats show as free
/// again on the next tick, though running out writes nothing another terminal could see.
#[test]
fn a_hold_that_runs_out_elsewhere_frees_its_seats_on_an_open_map() {
    let mut r = rig();
    open(&mut r.app, "Neon");
    hold_at_another_terminal(&r, "FLR-J-1");
    let status = |app: &App| {
        app.map
            .as_ref()
            .unwrap()
            .map
            .seats
            .iter()
            .find(|s| s.seat == "FLR-J-1")
            .unwrap()
            .status
    };
    r.app.update(Action::Tick(std::time::Instant::now()));
    assert_eq!(status(&r.app), SeatStatus::Held);
    r.clock.advance(Duration::minutes(6));
    r.app.update(Action::Tick(std::time::Instant::now()));
    assert_eq!(
        status(&r.app),
        SeatStatus::Free,
        "freed without a key or a write"
    );
}

/// A checkout whose hold was released at another terminal says so at once and goes back to
/// the map with the selection, instead of counting down a hold that no longer exists.
#[test]
fn a_checkout_whose_hold_ended_elsewhere_says_so_and_keeps_the_selection() {
    let mut r = rig();
    open(&mut r.app, "Neon");
    select_best(&mut r.app, 2);
    fill_customer(&mut r.app);
    let hold = r.app.checkout.as_ref().unwrap().hold.clone().unwrap();
    let selected = r.app.map.as_ref().unwrap().selected.clone();
    let mut other = Store::open(r.db.clone(), r.clock.clone()).unwrap();
    other.release_hold(&hold.hold_id).unwrap();
    r.app.update(Action::Tick(std::time::Instant::now()));
    assert_eq!(r.app.screen, Screen::SeatMap);
    assert!(r.app.checkout.is_none());
    assert_eq!(r.app.map.as_ref().unwrap().selected, selected);
    assert!(said(&r.app).contains("was released elsewhere"));
}

/// Cash first at the counter, then whatever the clerk used last; digits typed on the method
/// line go to the amount; Ctrl-U clears a field; expiry and security code are checked as typed.
#[test]
fn the_payment_starts_from_cash_and_the_clerks_last_method() {
    let mut r = rig();
    open(&mut r.app, "Neon");
    select_best(&mut r.app, 1);
    fill_customer(&mut r.app);
    let c = r.app.checkout.as_ref().unwrap();
    assert_eq!(c.method, crate::tui::screens::Method::Cash);
    assert_eq!(c.focus, 0, "on the method line");
    typ(&mut r.app, "40");
    let c = r.app.checkout.as_ref().unwrap();
    assert_eq!(
        (c.focus, c.tendered.as_str()),
        (1, "40"),
        "digits go to the amount"
    );
    ctrl(&mut r.app, 'u');
    assert_eq!(
        r.app.checkout.as_ref().unwrap().tendered,
        "",
        "Ctrl-U clears"
    );
    // Card: the expiry and the code are checked while typed, not only on Enter.
    press(&mut r.app, KeyCode::BackTab);
    press(&mut r.app, KeyCode::Right);
    press(&mut r.app, KeyCode::Tab);
    typ(&mut r.app, "4242424242424242");
    press(&mut r.app, KeyCode::Tab);
    typ(&mut r.app, "1228");
    press(&mut r.app, KeyCode::Tab);
    typ(&mut r.app, "1");
    let screen = screen_text(&r.app, 80, 24);
    assert!(screen.contains("the expiry is MM/YY"), "{screen}");
    assert!(screen.contains("3 digits on a Visa card"), "{screen}");
    // Paid by card: the next sale starts from card.
    let c = r.app.checkout.as_mut().unwrap();
    c.exp = "12/28".into();
    c.cvc = zeroize::Zeroizing::new("123".into());
    press(&mut r.app, KeyCode::Enter);
    r.app.poll_payment(Some(std::time::Duration::from_secs(10)));
    assert_eq!(r.app.screen, Screen::Confirmation);
    let concert = r.app.confirmation.as_ref().unwrap().receipt.concert_id;
    press(&mut r.app, KeyCode::Enter);
    r.app.open_map(concert);
    select_best(&mut r.app, 1);
    press(&mut r.app, KeyCode::Enter);
    assert_eq!(
        r.app.checkout.as_ref().unwrap().method,
        crate::tui::screens::Method::Card
    );
    // Cash typed as people type it after a card sale: the decimal comma says it is an amount,
    // so it is cash, and not a card number `4500`.
    typ(&mut r.app, "45,00");
    let c = r.app.checkout.as_ref().unwrap();
    assert_eq!(c.method, crate::tui::screens::Method::Cash);
    assert_eq!(c.tendered, "45,00");
    assert!(c.number.is_empty(), "nothing left in the card number");
    assert!(screen_text(&r.app, 80, 24).contains("Change due"));
}

/// A letter typed into the search never falls through to a command: Esc on an empty search
/// keeps the focus there (Tab moves it), so typing `quartet` searches instead of quitting.
#[test]
fn the_search_keeps_the_focus_so_letters_never_become_commands() {
    let mut r = rig();
    press(&mut r.app, KeyCode::Esc);
    typ(&mut r.app, "quartet");
    assert!(!r.app.quit);
    assert_eq!(r.app.concerts.query, "quartet");
    press(&mut r.app, KeyCode::Esc); // clears
    press(&mut r.app, KeyCode::Esc); // stays, and says how to leave
    assert!(r.app.concerts.typing);
    assert!(said(&r.app).contains("Tab moves to the list"));
    press(&mut r.app, KeyCode::Tab);
    assert!(!r.app.concerts.typing);
    typ(&mut r.app, "q");
    assert!(r.app.quit, "q quits from the list, as the footer says");
}

/// An idle kiosk warns ten seconds before it clears a customer's details, and any key keeps
/// them.
#[test]
fn an_idle_kiosk_warns_before_it_clears_and_a_key_keeps_the_screen() {
    let mut r = rig_with(true);
    typ(&mut r.app, "Anna");
    press(&mut r.app, KeyCode::Enter);
    open(&mut r.app, "Neon");
    select_best(&mut r.app, 2);
    fill_customer(&mut r.app);
    assert_eq!(r.app.screen, Screen::Checkout);
    let start = r.app.last_input;
    r.app
        .update(Action::Tick(start + std::time::Duration::from_secs(52)));
    assert_eq!(r.app.screen, Screen::Checkout);
    let warning = said(&r.app);
    assert!(
        warning.contains("clears in 8 s; any key keeps it"),
        "{warning}"
    );
    press(&mut r.app, KeyCode::Down); // any key
    assert!(r.app.status.is_none(), "the warning goes with the key");
    // The idle time counts from the key: half a minute later, kept and no warning.
    let keyed = r.app.last_input;
    r.app
        .update(Action::Tick(keyed + std::time::Duration::from_secs(30)));
    assert_eq!(r.app.screen, Screen::Checkout);
    assert!(r.app.checkout.as_ref().unwrap().hold.is_some());
    assert!(r.app.status.is_none());
    // Without another key, a minute after it: cleared.
    r.app
        .update(Action::Tick(keyed + std::time::Duration::from_secs(61)));
    assert_eq!(r.app.screen, Screen::Concerts);
}

/// Enter on an empty bookings search lists today's sales at this terminal.
#[test]
fn enter_on_an_empty_bookings_search_lists_todays_sales_here() {
    let mut r = rig();
    r.app
        .store
        .set_operator(boxoffice::store::Operator {
            clerk: None,
            terminal: Some("kiosk-3".into()),
        })
        .unwrap();
    press(&mut r.app, KeyCode::F(3));
    press(&mut r.app, KeyCode::Enter);
    assert!(r.app.bookings.list.is_empty(), "nothing sold here yet");
    assert!(said(&r.app).contains("no sales at this terminal today"));
    press(&mut r.app, KeyCode::F(2));
    sell_two_by_card(&mut r.app);
    let code = r
        .app
        .confirmation
        .as_ref()
        .unwrap()
        .receipt
        .booking_code
        .clone();
    press(&mut r.app, KeyCode::F(3));
    press(&mut r.app, KeyCode::Enter);
    let list: Vec<&str> = r
        .app
        .bookings
        .list
        .iter()
        .map(|b| b.booking_code.as_str())
        .collect();
    assert_eq!(list, [code.as_str()]);
}

/// At 60x16, the smallest size the app draws, every payment field is in view, the security
/// code included, and the header keeps its clock.
#[test]
fn every_payment_field_is_in_view_at_60_by_16() {
    let mut r = rig();
    open(&mut r.app, "Neon");
    select_best(&mut r.app, 2);
    fill_customer(&mut r.app);
    press(&mut r.app, KeyCode::Right);
    let screen = screen_text(&r.app, 60, 16);
    for needed in [
        "Method",
        "Card",
        "Expiry",
        "CVC",
        "13:00 CET",
        "Total EUR 68.00",
    ] {
        assert!(
            screen.contains(needed),
            "{needed} is not in view:\n{screen}"
        );
    }
    // The customer's fields below come into view as the cursor reaches them.
    for field in [Field::Name, Field::Email, Field::Phone] {
        focus(&mut r.app, field);
        let screen = screen_text(&r.app, 60, 16);
        let label = format!("{field:?}");
        assert!(
            screen
                .lines()
                .any(|l| l.contains(&format!("│{label}")) && l.contains('_')),
            "{label} is not in view with the cursor:\n{screen}"
        );
    }
}

/// Best available as a clerk asks for it, on the seat map: "2 S", "2 under 30".
#[test]
fn best_available_by_category_and_price_from_the_seat_map() {
    let mut r = rig();
    open(&mut r.app, "Neon");
    let ask = |app: &mut App, text: &str| {
        press(app, KeyCode::Char('b'));
        typ(app, text);
        press(app, KeyCode::Enter);
        let m = app.map.as_ref().unwrap();
        m.map
            .seats
            .iter()
            .filter(|s| m.selected.contains(&s.seat_id))
            .map(|s| (s.category.clone(), s.price_cents))
            .collect::<Vec<_>>()
    };
    let chosen = ask(&mut r.app, "2 S");
    assert_eq!(chosen.len(), 2, "{:?}", r.app.status);
    assert!(chosen.iter().all(|(c, _)| c == "S"), "{chosen:?}");
    let chosen = ask(&mut r.app, "2 under 30");
    assert_eq!(chosen.len(), 2);
    assert!(chosen.iter().all(|(_, p)| *p <= 3000), "{chosen:?}");
    ask(&mut r.app, "2 Z");
    assert!(said(&r.app).contains("no seat category Z"));
}

/// The seat map as lines of text (Tab): runs of free seats, best first, readable without
/// colour; a line chosen by Enter or seats typed as `A 4-5`, Enter again holds them.
#[test]
fn the_seat_map_reads_as_a_list_and_seats_are_chosen_by_typing_them() {
    let mut r = rig();
    open(&mut r.app, "Neon");
    press(&mut r.app, KeyCode::Tab);
    let screen = screen_text(&r.app, 80, 24);
    let runs = r.app.map.as_ref().unwrap().map.free_runs();
    assert!(screen.contains("Free seats, best first"), "{screen}");
    let first = super::super::screens::seatmap::list::run_line(&runs[0], false, "EUR");
    assert!(screen.contains(&format!(">  {first}")), "{screen}");
    assert!(
        first.starts_with("Row ") && first.contains(" free, "),
        "{first}"
    );
    // Letters are seats being typed, never commands: `b` and `w` stay text.
    typ(&mut r.app, "zz");
    assert_eq!(
        r.app.map.as_ref().unwrap().list.as_ref().unwrap().typed,
        "zz"
    );
    press(&mut r.app, KeyCode::Enter);
    assert!(said(&r.app).contains("e.g. F 10-11"));
    press(&mut r.app, KeyCode::Esc); // clears what was typed
    // Seats typed as a clerk says them.
    let run = &runs[0];
    typ(
        &mut r.app,
        &format!("{} {}-{}", run.row.to_lowercase(), run.first, run.first + 1),
    );
    press(&mut r.app, KeyCode::Enter);
    let m = r.app.map.as_ref().unwrap();
    assert_eq!(m.selected, run.seat_ids[..2].to_vec());
    assert!(said(&r.app).contains("Enter holds them"));
    assert!(screen_text(&r.app, 80, 24).contains(&format!(">* {first}")));
    press(&mut r.app, KeyCode::Enter);
    assert_eq!(r.app.screen, Screen::Checkout);
    assert_eq!(
        r.app
            .checkout
            .as_ref()
            .unwrap()
            .hold
            .as_ref()
            .unwrap()
            .seats,
        run.labels[..2].to_vec()
    );
    // Best available is asked for in words: `best 2` (`b 2` would be row B's seat 2).
    press(&mut r.app, KeyCode::Esc);
    typ(&mut r.app, "y");
    typ(&mut r.app, "best 2");
    press(&mut r.app, KeyCode::Enter);
    assert_eq!(r.app.map.as_ref().unwrap().selected.len(), 2);
    assert!(said(&r.app).contains("best 2 together"));
    press(&mut r.app, KeyCode::Enter);
    assert_eq!(r.app.screen, Screen::Checkout);
    // Back on the map the list is still open; Tab returns to the grid.
    press(&mut r.app, KeyCode::Esc);
    typ(&mut r.app, "y");
    assert_eq!(r.app.screen, Screen::SeatMap);
    press(&mut r.app, KeyCode::Tab);
    assert!(r.app.map.as_ref().unwrap().list.is_none());
}

/// A status line belongs to the screen that made it: a refusal on the seat map is not shown
/// on the bookings screen the clerk moves to; what the move itself says is.
#[test]
fn a_status_line_stays_with_the_screen_that_made_it() {
    let mut r = rig();
    open(&mut r.app, "Neon");
    typ(&mut r.app, "zz"); // not a command on the map: nothing said
    press(&mut r.app, KeyCode::Enter); // nothing selected
    assert!(said(&r.app).contains("select seats first"));
    press(&mut r.app, KeyCode::F(3));
    assert_eq!(r.app.screen, Screen::Bookings);
    assert!(r.app.status.is_none(), "{:?}", r.app.status);
    // Leaving a checkout says what became of the hold, on the screen it leads to.
    let mut r = rig();
    open(&mut r.app, "Neon");
    select_best(&mut r.app, 1);
    press(&mut r.app, KeyCode::Enter);
    press(&mut r.app, KeyCode::Esc);
    typ(&mut r.app, "y");
    assert_eq!(r.app.screen, Screen::SeatMap);
    assert!(said(&r.app).contains("released the hold"));
}

/// Every time shown is the venue's, labelled with its zone: a concert in summer reads CEST.
#[test]
fn concert_times_read_in_the_venues_zone_with_its_abbreviation() {
    let mut r = rig();
    typ(&mut r.app, "aurora");
    let screen = screen_text(&r.app, 80, 24);
    assert!(screen.contains("11:30 CEST"), "{screen}");
    assert!(screen.contains("20:00 CET "), "{screen}");
}

/// An arena with every seat free shows all of `10480/10480` at 80x24 (it was cut to
/// `10480/1048`).
#[test]
fn the_free_column_shows_a_whole_arena_at_80_columns() {
    let mut r = rig();
    typ(&mut r.app, "global");
    let screen = screen_text(&r.app, 80, 24);
    let row = screen
        .lines()
        .find(|l| l.contains("Global Beats"))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(row.contains("10480/10480 "), "{row}");
}

/// The door's header follows a reschedule made at another terminal, without a key.
#[test]
fn the_doors_header_shows_the_new_date_after_a_reschedule() {
    let mut r = rig_door("demo-13");
    assert_eq!(r.app.screen, Screen::Door);
    let id = r.app.opts.door.unwrap();
    let before = screen_text(&r.app, 80, 24);
    let mut other = Store::open(r.db.clone(), r.clock.clone()).unwrap();
    let was = other.concert(id).unwrap().local_start.naive_local();
    let moved = was + chrono::Duration::days(3);
    other.reschedule_concert(id, moved).unwrap();
    r.app.update(Action::Tick(std::time::Instant::now()));
    let after = screen_text(&r.app, 80, 24);
    let day = moved.format("%d %b").to_string();
    assert!(
        after.contains(&day),
        "the new date {day}:\n{after}\nbefore:\n{before}"
    );
    assert_ne!(before, after);
}
