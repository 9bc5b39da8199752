//! Every key, defined once as data: the same table dispatches keys, fills the footer hints and
//! the `?` help, so what is shown is what works.
//!
//! Over 800 lines because most of it is that one table, a binding to a few lines: split by
//! screen, the order that decides which binding wins (a screen's before the global ones)
//! would be spread over files.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where a key applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    Global,
    Concerts,
    SeatMap,
    SeatList,
    Checkout,
    Payment,
    Declined,
    Confirmation,
    Bookings,
    Confirm,
    CancelSeats,
    Waitlist,
    JoinForm,
    Sales,
    Door,
    Clerk,
}

impl Ctx {
    /// The contexts of the screen this one is part of, this one first: the help shows them
    /// together.
    pub fn family(self) -> Vec<Ctx> {
        let all: &[Ctx] = match self {
            Ctx::Checkout | Ctx::Payment | Ctx::Declined => {
                &[Ctx::Checkout, Ctx::Payment, Ctx::Declined]
            }
            Ctx::SeatMap | Ctx::SeatList => &[Ctx::SeatMap, Ctx::SeatList],
            Ctx::Bookings | Ctx::Confirm | Ctx::CancelSeats => {
                &[Ctx::Bookings, Ctx::Confirm, Ctx::CancelSeats]
            }
            Ctx::Waitlist | Ctx::JoinForm => &[Ctx::Waitlist, Ctx::JoinForm],
            other => return vec![other],
        };
        let mut family = vec![self];
        family.extend(all.iter().copied().filter(|c| *c != self));
        family
    }

    pub fn title(self) -> &'static str {
        match self {
            Ctx::Global => "Everywhere",
            Ctx::Concerts => "Concerts",
            Ctx::SeatMap => "Seat map",
            Ctx::SeatList => "Seat map as a list (for screen readers and slow links)",
            Ctx::Checkout => "Checkout: the customer's details (optional)",
            Ctx::Payment => "Checkout: payment",
            Ctx::Declined => "Payment declined",
            Ctx::Confirmation => "Confirmation",
            Ctx::Bookings => "Bookings",
            Ctx::Confirm => "Confirm",
            Ctx::CancelSeats => "Cancel seats of a booking",
            Ctx::Waitlist => "Waiting list",
            Ctx::JoinForm => "Join the waiting list",
            Ctx::Sales => "Sales",
            Ctx::Door => "Door (boxoffice --door CONCERT)",
            Ctx::Clerk => "Kiosk start: the clerk",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Quit,
    KioskQuit,
    Help,
    Back,
    GoConcerts,
    GoBookings,
    GoSales,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Open,
    SwitchFocus,
    FocusSearch,
    Toggle,
    Best,
    Clear,
    Checkout,
    Waitlist,
    Join,
    NextField,
    PrevField,
    Submit,
    Retry,
    /// Keep the checkout's seats one hold time longer (once).
    Extend,
    CancelBooking,
    Yes,
    No,
    Undo,
    Print,
    Takings,
    PayOffer,
    Remove,
    ListMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// A key as the keymap names it.
pub enum Key {
    /// A letter, digit or sign, as typed (`B` is shift-b).
    Char(char),
    /// A key with a name: arrows, Enter, Tab, Esc, ...
    Named(KeyCode),
    /// Ctrl and a letter.
    Ctrl(char),
}

pub struct Binding {
    pub ctx: Ctx,
    pub keys: &'static [Key],
    pub cmd: Cmd,
    /// Short words for the footer; empty keeps it out of the footer (still in `?`).
    pub label: &'static str,
    pub help: &'static str,
    /// The keys as shown to people.
    pub shown: &'static str,
}

use Cmd::*;
use Key::{Char, Ctrl, Named};

const fn bind(
    ctx: Ctx,
    keys: &'static [Key],
    cmd: Cmd,
    shown: &'static str,
    label: &'static str,
    help: &'static str,
) -> Binding {
    Binding {
        ctx,
        keys,
        cmd,
        label,
        help,
        shown,
    }
}

pub const KEYMAP: &[Binding] = &[
    // Screen-specific keys first: they win over the global ones.
    bind(
        Ctx::Concerts,
        &[Named(KeyCode::Up), Char('k')],
        Up,
        "↑↓",
        "move",
        "previous / next concert",
    ),
    bind(
        Ctx::Concerts,
        &[Named(KeyCode::Down), Char('j')],
        Down,
        "",
        "",
        "next concert",
    ),
    bind(
        Ctx::Concerts,
        &[Named(KeyCode::PageUp)],
        PageUp,
        "PgUp/PgDn",
        "",
        "a page up / down",
    ),
    bind(
        Ctx::Concerts,
        &[Named(KeyCode::PageDown)],
        PageDown,
        "",
        "",
        "a page down",
    ),
    bind(
        Ctx::Concerts,
        &[Named(KeyCode::Enter)],
        Open,
        "Enter",
        "open",
        "seat map (waiting list if sold out)",
    ),
    bind(
        Ctx::Concerts,
        &[Named(KeyCode::Tab), Named(KeyCode::BackTab)],
        SwitchFocus,
        "Tab",
        "search/list",
        "switch between the search box and the list",
    ),
    bind(
        Ctx::Concerts,
        &[Char('/')],
        FocusSearch,
        "/",
        "",
        "type a search (artist, venue:, date:FROM..TO, after:19:00, free)",
    ),
    bind(
        Ctx::Concerts,
        &[Char('w')],
        Waitlist,
        "w",
        "",
        "the concert's waiting list",
    ),
    bind(Ctx::Concerts, &[Char('B')], GoBookings, "B", "", "bookings"),
    bind(Ctx::Concerts, &[Char('S')], GoSales, "S", "", "sales"),
    bind(
        Ctx::Concerts,
        &[Char('q')],
        Quit,
        "q",
        "quit",
        "quit (not in kiosk mode)",
    ),
    bind(
        Ctx::SeatMap,
        &[Named(KeyCode::Left), Char('h')],
        Left,
        "←↑↓→ hjkl",
        "move",
        "move between seats",
    ),
    bind(
        Ctx::SeatMap,
        &[Named(KeyCode::Right), Char('l')],
        Right,
        "",
        "",
        "next seat right",
    ),
    bind(
        Ctx::SeatMap,
        &[Named(KeyCode::Up), Char('k')],
        Up,
        "",
        "",
        "row above",
    ),
    bind(
        Ctx::SeatMap,
        &[Named(KeyCode::Down), Char('j')],
        Down,
        "",
        "",
        "row below",
    ),
    bind(
        Ctx::SeatMap,
        &[Named(KeyCode::PageUp)],
        PageUp,
        "PgUp/PgDn",
        "",
        "jump ten rows",
    ),
    bind(
        Ctx::SeatMap,
        &[Named(KeyCode::PageDown)],
        PageDown,
        "",
        "",
        "jump ten rows down",
    ),
    bind(
        Ctx::SeatMap,
        &[Char(' ')],
        Toggle,
        "Space",
        "select",
        "select / unselect the seat (or click it)",
    ),
    bind(
        Ctx::SeatMap,
        &[Char('b')],
        Best,
        "b",
        "best",
        "best available: type how many, then Enter",
    ),
    bind(
        Ctx::SeatMap,
        &[Char('c')],
        Clear,
        "c",
        "",
        "clear the selection",
    ),
    bind(
        Ctx::SeatMap,
        &[Named(KeyCode::Enter)],
        Checkout,
        "Enter",
        "hold",
        "hold the selected seats at once, then take the payment",
    ),
    bind(
        Ctx::SeatMap,
        &[Char('w')],
        Waitlist,
        "w",
        "",
        "the concert's waiting list",
    ),
    bind(
        Ctx::SeatMap,
        &[Named(KeyCode::Tab), Char('v')],
        ListMode,
        "Tab",
        "list",
        "the free seats as text, best first (screen readers)",
    ),
    bind(
        Ctx::SeatList,
        &[Named(KeyCode::Up)],
        Up,
        "↑↓",
        "move",
        "previous / next line",
    ),
    bind(
        Ctx::SeatList,
        &[Named(KeyCode::Down)],
        Down,
        "",
        "",
        "next line",
    ),
    bind(
        Ctx::SeatList,
        &[Named(KeyCode::PageUp)],
        PageUp,
        "PgUp/PgDn",
        "",
        "ten lines up / down",
    ),
    bind(
        Ctx::SeatList,
        &[Named(KeyCode::PageDown)],
        PageDown,
        "",
        "",
        "ten lines down",
    ),
    bind(
        Ctx::SeatList,
        &[Named(KeyCode::Enter)],
        Open,
        "Enter",
        "choose / hold",
        "choose the line, the seats typed (F 10-11) or best 4; again: hold",
    ),
    bind(
        Ctx::SeatList,
        &[Named(KeyCode::Tab)],
        ListMode,
        "Tab",
        "map",
        "back to the seat map drawn as a grid",
    ),
    bind(
        Ctx::SeatList,
        &[Named(KeyCode::Esc)],
        Back,
        "Esc",
        "clear/map",
        "clear what was typed, else back to the grid",
    ),
    bind(
        Ctx::Checkout,
        &[Named(KeyCode::Tab), Named(KeyCode::Down)],
        NextField,
        "Tab",
        "next",
        "next field",
    ),
    bind(
        Ctx::Checkout,
        &[Named(KeyCode::BackTab), Named(KeyCode::Up)],
        PrevField,
        "S-Tab",
        "",
        "previous field",
    ),
    bind(
        Ctx::Checkout,
        &[Named(KeyCode::Enter)],
        Submit,
        "Enter",
        "pay",
        "take the payment (the details typed go on the hold first)",
    ),
    bind(
        Ctx::Payment,
        &[Ctrl('e')],
        Extend,
        "Ctrl-E",
        "",
        "keep the seats one hold time longer (once, unless people wait for the concert)",
    ),
    bind(
        Ctx::Checkout,
        &[Ctrl('e')],
        Extend,
        "Ctrl-E",
        "",
        "keep the seats one hold time longer (once, unless people wait for the concert)",
    ),
    bind(
        Ctx::Payment,
        &[Named(KeyCode::Tab), Named(KeyCode::Down)],
        NextField,
        "Tab",
        "next",
        "next field",
    ),
    bind(
        Ctx::Payment,
        &[Named(KeyCode::BackTab), Named(KeyCode::Up)],
        PrevField,
        "S-Tab",
        "",
        "previous field",
    ),
    bind(
        Ctx::Payment,
        &[Named(KeyCode::Left)],
        Left,
        "←→",
        "method",
        "cash, card or the counter's terminal (on the method line; the method used last is the next sale's)",
    ),
    bind(
        Ctx::Payment,
        &[Named(KeyCode::Right)],
        Right,
        "",
        "",
        "card (on the method line)",
    ),
    bind(
        Ctx::Payment,
        &[Named(KeyCode::Enter)],
        Submit,
        "Enter",
        "pay",
        "take the payment",
    ),
    bind(
        Ctx::Declined,
        &[Char('r'), Named(KeyCode::Enter)],
        Retry,
        "r",
        "hold again",
        "hold the same seats again and retry",
    ),
    bind(
        Ctx::Confirmation,
        &[Named(KeyCode::Enter)],
        GoConcerts,
        "Enter",
        "next customer",
        "back to the concerts for the next customer",
    ),
    bind(
        Ctx::Confirmation,
        &[Char('p')],
        Print,
        "p",
        "print",
        "print the receipt and the tickets (on the receipt printer, else as files)",
    ),
    bind(
        Ctx::Bookings,
        &[Named(KeyCode::Up)],
        Up,
        "↑↓",
        "move",
        "previous / next booking",
    ),
    bind(
        Ctx::Bookings,
        &[Named(KeyCode::Down)],
        Down,
        "",
        "",
        "next booking",
    ),
    bind(
        Ctx::Bookings,
        &[Named(KeyCode::Tab), Named(KeyCode::BackTab)],
        SwitchFocus,
        "Tab",
        "search/list",
        "switch between the search box and the list",
    ),
    bind(
        Ctx::Bookings,
        &[Named(KeyCode::Enter)],
        Open,
        "Enter",
        "find",
        "find by booking code, email or phone",
    ),
    bind(
        Ctx::Bookings,
        &[Char('c')],
        CancelBooking,
        "c",
        "cancel booking",
        "cancel the booking, or some of its seats (asks first), and refund them",
    ),
    bind(Ctx::Confirm, &[Char('y')], Yes, "y", "yes", "yes, do it"),
    bind(
        Ctx::CancelSeats,
        &[Named(KeyCode::Enter)],
        Submit,
        "Enter",
        "cancel these seats",
        "cancel the seats typed (all of them: the booking) and refund them",
    ),
    bind(
        Ctx::CancelSeats,
        &[Named(KeyCode::Esc)],
        Back,
        "Esc",
        "keep it",
        "keep the booking as it is",
    ),
    bind(
        Ctx::Confirm,
        &[Char('n'), Named(KeyCode::Esc)],
        No,
        "n",
        "no",
        "no, keep it",
    ),
    bind(
        Ctx::Waitlist,
        &[Named(KeyCode::Up), Char('k')],
        Up,
        "↑↓",
        "move",
        "previous / next entry",
    ),
    bind(
        Ctx::Waitlist,
        &[Named(KeyCode::Down), Char('j')],
        Down,
        "",
        "",
        "next entry",
    ),
    bind(
        Ctx::Waitlist,
        &[Char('a'), Named(KeyCode::Enter)],
        Join,
        "a",
        "add someone",
        "add a customer to the waiting list",
    ),
    bind(
        Ctx::Waitlist,
        &[Char('p')],
        PayOffer,
        "p",
        "pay offer",
        "take the payment for the selected person's offer (its checkout)",
    ),
    bind(
        Ctx::Waitlist,
        &[Char('x'), Named(KeyCode::Delete)],
        Remove,
        "x",
        "remove",
        "take the selected person off the waiting list (asks first)",
    ),
    bind(
        Ctx::JoinForm,
        &[Named(KeyCode::Tab), Named(KeyCode::Down)],
        NextField,
        "Tab",
        "next",
        "next field",
    ),
    bind(
        Ctx::JoinForm,
        &[Named(KeyCode::BackTab), Named(KeyCode::Up)],
        PrevField,
        "S-Tab",
        "",
        "previous field",
    ),
    bind(
        Ctx::JoinForm,
        &[Named(KeyCode::Enter)],
        Submit,
        "Enter",
        "join",
        "put them on the waiting list",
    ),
    bind(
        Ctx::Sales,
        &[Named(KeyCode::Up), Char('k')],
        Up,
        "↑↓",
        "move",
        "previous / next concert",
    ),
    bind(
        Ctx::Sales,
        &[Named(KeyCode::Down), Char('j')],
        Down,
        "",
        "",
        "next concert",
    ),
    bind(
        Ctx::Sales,
        &[Named(KeyCode::PageUp)],
        PageUp,
        "PgUp/PgDn",
        "",
        "a page up / down",
    ),
    bind(
        Ctx::Sales,
        &[Named(KeyCode::PageDown)],
        PageDown,
        "",
        "",
        "a page down",
    ),
    bind(
        Ctx::Sales,
        &[Named(KeyCode::Enter)],
        Open,
        "Enter",
        "seat map",
        "the concert's seat map",
    ),
    bind(
        Ctx::Sales,
        &[Char('t')],
        Takings,
        "t",
        "takings",
        "today's takings at this terminal's clerk: by method, the cash drawer, tickets (again: hide)",
    ),
    bind(
        Ctx::Clerk,
        &[Named(KeyCode::Enter)],
        Submit,
        "Enter",
        "start",
        "start selling under this name",
    ),
    bind(
        Ctx::Door,
        &[Named(KeyCode::Enter)],
        Submit,
        "Enter",
        "check in",
        "check the scanned ticket in (the scanner sends Enter itself)",
    ),
    bind(
        Ctx::Door,
        &[Ctrl('z')],
        Undo,
        "Ctrl-Z",
        "undo",
        "undo the last admission (a mistaken scan): the ticket is valid again",
    ),
    bind(
        Ctx::Door,
        &[Named(KeyCode::Esc)],
        Back,
        "Esc",
        "clear",
        "clear what was typed",
    ),
    bind(
        Ctx::Global,
        &[Named(KeyCode::Esc)],
        Back,
        "Esc",
        "back",
        "back (clears a search first)",
    ),
    bind(
        Ctx::Global,
        &[Named(KeyCode::F(1)), Char('?')],
        Help,
        "?/F1",
        "help",
        "all keys",
    ),
    bind(
        Ctx::Global,
        &[Named(KeyCode::F(2))],
        GoConcerts,
        "F2",
        "",
        "concerts",
    ),
    bind(
        Ctx::Global,
        &[Named(KeyCode::F(3))],
        GoBookings,
        "F3",
        "",
        "bookings",
    ),
    bind(
        Ctx::Global,
        &[Named(KeyCode::F(4))],
        GoSales,
        "F4",
        "",
        "sales",
    ),
    bind(
        Ctx::Global,
        &[Ctrl('c')],
        Quit,
        "Ctrl-C",
        "",
        "quit from anywhere (not in kiosk mode)",
    ),
    bind(
        Ctx::Global,
        &[Ctrl('q')],
        KioskQuit,
        "Ctrl-Q",
        "",
        "quit, also in kiosk mode",
    ),
];

fn matches(k: &Key, key: &KeyEvent) -> bool {
    match k {
        Key::Ctrl(c) => {
            key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char(*c)
        }
        Key::Char(c) => {
            !key.modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
                && key.code == KeyCode::Char(*c)
        }
        Key::Named(code) => key.code == *code,
    }
}

/// The command for `key` in `ctx`. While a text field has focus (`typing`), printable keys
/// belong to the field and only the other keys are looked up.
pub fn lookup(ctx: Ctx, key: &KeyEvent, typing: bool) -> Option<Cmd> {
    let printable = matches!(key.code, KeyCode::Char(_))
        && !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
    if typing && printable {
        return None;
    }
    KEYMAP
        .iter()
        .filter(|b| b.ctx == ctx || b.ctx == Ctx::Global)
        .find(|b| b.keys.iter().any(|k| matches(k, key)))
        .map(|b| b.cmd)
}

/// Footer hints for a context: its keys with a label, then the global ones with a label.
pub fn hints(ctx: Ctx, typing: bool, kiosk: bool) -> Vec<(&'static str, &'static str)> {
    KEYMAP
        .iter()
        .filter(|b| (b.ctx == ctx || b.ctx == Ctx::Global) && !b.label.is_empty())
        // A screen's own key hides the global one it overrides (Esc clears at the door).
        .filter(|b| {
            b.ctx == ctx
                || !KEYMAP
                    .iter()
                    .any(|o| o.ctx == ctx && o.keys.iter().any(|k| b.keys.contains(k)))
        })
        .filter(|b| !(kiosk && b.cmd == Cmd::Quit))
        .filter(|b| !typing || !b.keys.iter().all(|k| matches!(k, Key::Char(_))))
        .map(|b| (b.shown, b.label))
        .collect()
}

/// Every binding for the help screen, grouped by context in table order.
pub fn help(kiosk: bool, here: Ctx, only_here: bool) -> Vec<(Ctx, &'static str, &'static str)> {
    let mut out: Vec<(Ctx, &'static str, &'static str)> = Vec::new();
    // The screen the clerk is on first (with the parts of it), then what works everywhere,
    // then the other screens, unless this terminal has no other screen (a door).
    let mut order: Vec<Ctx> = here.family();
    if !order.contains(&Ctx::Global) {
        order.push(Ctx::Global);
    }
    if !only_here {
        for b in KEYMAP {
            if !order.contains(&b.ctx) {
                order.push(b.ctx);
            }
        }
    }
    for ctx in order {
        for b in KEYMAP
            .iter()
            .filter(|b| b.ctx == ctx && !b.shown.is_empty())
        {
            let help = if kiosk && b.cmd == Cmd::Quit {
                "does not quit in kiosk mode: use Ctrl-Q"
            } else {
                b.help
            };
            out.push((ctx, b.shown, help));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `?` opens the help of the screen the clerk is on, its parts together, then what works
    /// everywhere; a door terminal's help is the door's alone.
    #[test]
    fn the_help_starts_with_the_screen_you_are_on() {
        let at = |here: Ctx, only: bool| -> Vec<Ctx> {
            let mut seen: Vec<Ctx> = Vec::new();
            for (ctx, _, _) in help(false, here, only) {
                if seen.last() != Some(&ctx) {
                    seen.push(ctx);
                }
            }
            seen
        };
        assert_eq!(at(Ctx::Door, true), [Ctx::Door, Ctx::Global]);
        let pay = at(Ctx::Payment, false);
        assert_eq!(
            pay[..4],
            [Ctx::Payment, Ctx::Checkout, Ctx::Declined, Ctx::Global]
        );
        assert!(pay.contains(&Ctx::Concerts), "the rest follows: {pay:?}");
        assert_eq!(at(Ctx::Bookings, false)[0], Ctx::Bookings);
        // Every context is in the full help exactly once.
        let all = at(Ctx::Concerts, false);
        for (i, c) in all.iter().enumerate() {
            assert!(!all[..i].contains(c), "{c:?} twice: {all:?}");
        }
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn screen_keys_win_over_global_ones_and_typing_keeps_letters() {
        assert_eq!(
            lookup(Ctx::Concerts, &key(KeyCode::Char('q')), false),
            Some(Cmd::Quit)
        );
        assert_eq!(lookup(Ctx::Concerts, &key(KeyCode::Char('q')), true), None);
        assert_eq!(
            lookup(Ctx::Concerts, &key(KeyCode::Down), true),
            Some(Cmd::Down)
        );
        assert_eq!(
            lookup(Ctx::SeatMap, &key(KeyCode::Esc), false),
            Some(Cmd::Back)
        );
        assert_eq!(
            lookup(Ctx::Confirm, &key(KeyCode::Esc), false),
            Some(Cmd::No)
        );
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(lookup(Ctx::SeatMap, &ctrl_c, false), Some(Cmd::Quit));
        assert_eq!(lookup(Ctx::Checkout, &ctrl_c, true), Some(Cmd::Quit));
    }

    #[test]
    fn every_footer_hint_is_a_key_that_works() {
        for ctx in [
            Ctx::Concerts,
            Ctx::SeatMap,
            Ctx::Checkout,
            Ctx::Payment,
            Ctx::Bookings,
            Ctx::Sales,
        ] {
            let hints = hints(ctx, false, false);
            assert!(hints.iter().any(|(_, l)| *l == "help"), "{ctx:?}");
            assert!(!hints.is_empty());
        }
        assert!(
            !hints(Ctx::Concerts, false, true)
                .iter()
                .any(|(_, l)| *l == "quit")
        );
    }
}
