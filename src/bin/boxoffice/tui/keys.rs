//! Every key, defined once as data: the same table dispatches keys, fills the footer hints and
//! the `?` help, so what is shown is what works.

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
pub enum K {
    Char(char),
    Code(KeyCode),
    Ctrl(char),
}

pub struct Binding {
    pub ctx: Ctx,
    pub keys: &'static [K],
    pub cmd: Cmd,
    /// Short words for the footer; empty keeps it out of the footer (still in `?`).
    pub label: &'static str,
    pub help: &'static str,
    /// The keys as shown to people.
    pub shown: &'static str,
}

use Cmd::*;
use K::{Char as C, Code, Ctrl};

const fn b(
    ctx: Ctx,
    keys: &'static [K],
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
    b(
        Ctx::Concerts,
        &[Code(KeyCode::Up), C('k')],
        Up,
        "↑↓",
        "move",
        "previous / next concert",
    ),
    b(
        Ctx::Concerts,
        &[Code(KeyCode::Down), C('j')],
        Down,
        "",
        "",
        "next concert",
    ),
    b(
        Ctx::Concerts,
        &[Code(KeyCode::PageUp)],
        PageUp,
        "PgUp/PgDn",
        "",
        "a page up / down",
    ),
    b(
        Ctx::Concerts,
        &[Code(KeyCode::PageDown)],
        PageDown,
        "",
        "",
        "a page down",
    ),
    b(
        Ctx::Concerts,
        &[Code(KeyCode::Enter)],
        Open,
        "Enter",
        "open",
        "seat map (waiting list if sold out)",
    ),
    b(
        Ctx::Concerts,
        &[Code(KeyCode::Tab), Code(KeyCode::BackTab)],
        SwitchFocus,
        "Tab",
        "search/list",
        "switch between the search box and the list",
    ),
    b(
        Ctx::Concerts,
        &[C('/')],
        FocusSearch,
        "/",
        "",
        "type a search (artist, venue:, date:FROM..TO, after:19:00, free)",
    ),
    b(
        Ctx::Concerts,
        &[C('w')],
        Waitlist,
        "w",
        "",
        "the concert's waiting list",
    ),
    b(Ctx::Concerts, &[C('B')], GoBookings, "B", "", "bookings"),
    b(Ctx::Concerts, &[C('S')], GoSales, "S", "", "sales"),
    b(
        Ctx::Concerts,
        &[C('q')],
        Quit,
        "q",
        "quit",
        "quit (not in kiosk mode)",
    ),
    b(
        Ctx::SeatMap,
        &[Code(KeyCode::Left), C('h')],
        Left,
        "←↑↓→ hjkl",
        "move",
        "move between seats",
    ),
    b(
        Ctx::SeatMap,
        &[Code(KeyCode::Right), C('l')],
        Right,
        "",
        "",
        "next seat right",
    ),
    b(
        Ctx::SeatMap,
        &[Code(KeyCode::Up), C('k')],
        Up,
        "",
        "",
        "row above",
    ),
    b(
        Ctx::SeatMap,
        &[Code(KeyCode::Down), C('j')],
        Down,
        "",
        "",
        "row below",
    ),
    b(
        Ctx::SeatMap,
        &[Code(KeyCode::PageUp)],
        PageUp,
        "PgUp/PgDn",
        "",
        "jump ten rows",
    ),
    b(
        Ctx::SeatMap,
        &[Code(KeyCode::PageDown)],
        PageDown,
        "",
        "",
        "jump ten rows down",
    ),
    b(
        Ctx::SeatMap,
        &[C(' ')],
        Toggle,
        "Space",
        "select",
        "select / unselect the seat (or click it)",
    ),
    b(
        Ctx::SeatMap,
        &[C('b')],
        Best,
        "b",
        "best",
        "best available: type how many, then Enter",
    ),
    b(
        Ctx::SeatMap,
        &[C('c')],
        Clear,
        "c",
        "",
        "clear the selection",
    ),
    b(
        Ctx::SeatMap,
        &[Code(KeyCode::Enter)],
        Checkout,
        "Enter",
        "hold",
        "hold the selected seats at once, then take the payment",
    ),
    b(
        Ctx::SeatMap,
        &[C('w')],
        Waitlist,
        "w",
        "",
        "the concert's waiting list",
    ),
    b(
        Ctx::SeatMap,
        &[Code(KeyCode::Tab), C('v')],
        ListMode,
        "Tab",
        "list",
        "the free seats as text, best first (screen readers)",
    ),
    b(
        Ctx::SeatList,
        &[Code(KeyCode::Up)],
        Up,
        "↑↓",
        "move",
        "previous / next line",
    ),
    b(
        Ctx::SeatList,
        &[Code(KeyCode::Down)],
        Down,
        "",
        "",
        "next line",
    ),
    b(
        Ctx::SeatList,
        &[Code(KeyCode::PageUp)],
        PageUp,
        "PgUp/PgDn",
        "",
        "ten lines up / down",
    ),
    b(
        Ctx::SeatList,
        &[Code(KeyCode::PageDown)],
        PageDown,
        "",
        "",
        "ten lines down",
    ),
    b(
        Ctx::SeatList,
        &[Code(KeyCode::Enter)],
        Open,
        "Enter",
        "choose / hold",
        "choose the line, the seats typed (F 10-11) or best 4; again: hold",
    ),
    b(
        Ctx::SeatList,
        &[Code(KeyCode::Tab)],
        ListMode,
        "Tab",
        "map",
        "back to the seat map drawn as a grid",
    ),
    b(
        Ctx::SeatList,
        &[Code(KeyCode::Esc)],
        Back,
        "Esc",
        "clear/map",
        "clear what was typed, else back to the grid",
    ),
    b(
        Ctx::Checkout,
        &[Code(KeyCode::Tab), Code(KeyCode::Down)],
        NextField,
        "Tab",
        "next",
        "next field",
    ),
    b(
        Ctx::Checkout,
        &[Code(KeyCode::BackTab), Code(KeyCode::Up)],
        PrevField,
        "S-Tab",
        "",
        "previous field",
    ),
    b(
        Ctx::Checkout,
        &[Code(KeyCode::Enter)],
        Submit,
        "Enter",
        "pay",
        "take the payment (the details typed go on the hold first)",
    ),
    b(
        Ctx::Payment,
        &[Code(KeyCode::Tab), Code(KeyCode::Down)],
        NextField,
        "Tab",
        "next",
        "next field",
    ),
    b(
        Ctx::Payment,
        &[Code(KeyCode::BackTab), Code(KeyCode::Up)],
        PrevField,
        "S-Tab",
        "",
        "previous field",
    ),
    b(
        Ctx::Payment,
        &[Code(KeyCode::Left)],
        Left,
        "←→",
        "cash/card",
        "cash (on the method line; the method used last is the next sale's)",
    ),
    b(
        Ctx::Payment,
        &[Code(KeyCode::Right)],
        Right,
        "",
        "",
        "card (on the method line)",
    ),
    b(
        Ctx::Payment,
        &[Code(KeyCode::Enter)],
        Submit,
        "Enter",
        "pay",
        "take the payment",
    ),
    b(
        Ctx::Declined,
        &[C('r'), Code(KeyCode::Enter)],
        Retry,
        "r",
        "hold again",
        "hold the same seats again and retry",
    ),
    b(
        Ctx::Confirmation,
        &[Code(KeyCode::Enter)],
        GoConcerts,
        "Enter",
        "next customer",
        "back to the concerts for the next customer",
    ),
    b(
        Ctx::Confirmation,
        &[C('p')],
        Print,
        "p",
        "print",
        "print the receipt and the tickets (on the receipt printer, else as files)",
    ),
    b(
        Ctx::Bookings,
        &[Code(KeyCode::Up)],
        Up,
        "↑↓",
        "move",
        "previous / next booking",
    ),
    b(
        Ctx::Bookings,
        &[Code(KeyCode::Down)],
        Down,
        "",
        "",
        "next booking",
    ),
    b(
        Ctx::Bookings,
        &[Code(KeyCode::Tab), Code(KeyCode::BackTab)],
        SwitchFocus,
        "Tab",
        "search/list",
        "switch between the search box and the list",
    ),
    b(
        Ctx::Bookings,
        &[Code(KeyCode::Enter)],
        Open,
        "Enter",
        "find",
        "find by booking code, email or phone",
    ),
    b(
        Ctx::Bookings,
        &[C('c')],
        CancelBooking,
        "c",
        "cancel booking",
        "cancel the booking, or some of its seats (asks first), and refund them",
    ),
    b(Ctx::Confirm, &[C('y')], Yes, "y", "yes", "yes, do it"),
    b(
        Ctx::CancelSeats,
        &[Code(KeyCode::Enter)],
        Submit,
        "Enter",
        "cancel these seats",
        "cancel the seats typed (all of them: the booking) and refund them",
    ),
    b(
        Ctx::CancelSeats,
        &[Code(KeyCode::Esc)],
        Back,
        "Esc",
        "keep it",
        "keep the booking as it is",
    ),
    b(
        Ctx::Confirm,
        &[C('n'), Code(KeyCode::Esc)],
        No,
        "n",
        "no",
        "no, keep it",
    ),
    b(
        Ctx::Waitlist,
        &[Code(KeyCode::Up), C('k')],
        Up,
        "↑↓",
        "move",
        "previous / next entry",
    ),
    b(
        Ctx::Waitlist,
        &[Code(KeyCode::Down), C('j')],
        Down,
        "",
        "",
        "next entry",
    ),
    b(
        Ctx::Waitlist,
        &[C('a'), Code(KeyCode::Enter)],
        Join,
        "a",
        "add someone",
        "add a customer to the waiting list",
    ),
    b(
        Ctx::Waitlist,
        &[C('p')],
        PayOffer,
        "p",
        "pay offer",
        "take the payment for the selected person's offer (its checkout)",
    ),
    b(
        Ctx::Waitlist,
        &[C('x'), Code(KeyCode::Delete)],
        Remove,
        "x",
        "remove",
        "take the selected person off the waiting list (asks first)",
    ),
    b(
        Ctx::JoinForm,
        &[Code(KeyCode::Tab), Code(KeyCode::Down)],
        NextField,
        "Tab",
        "next",
        "next field",
    ),
    b(
        Ctx::JoinForm,
        &[Code(KeyCode::BackTab), Code(KeyCode::Up)],
        PrevField,
        "S-Tab",
        "",
        "previous field",
    ),
    b(
        Ctx::JoinForm,
        &[Code(KeyCode::Enter)],
        Submit,
        "Enter",
        "join",
        "put them on the waiting list",
    ),
    b(
        Ctx::Sales,
        &[Code(KeyCode::Up), C('k')],
        Up,
        "↑↓",
        "move",
        "previous / next concert",
    ),
    b(
        Ctx::Sales,
        &[Code(KeyCode::Down), C('j')],
        Down,
        "",
        "",
        "next concert",
    ),
    b(
        Ctx::Sales,
        &[Code(KeyCode::PageUp)],
        PageUp,
        "PgUp/PgDn",
        "",
        "a page up / down",
    ),
    b(
        Ctx::Sales,
        &[Code(KeyCode::PageDown)],
        PageDown,
        "",
        "",
        "a page down",
    ),
    b(
        Ctx::Sales,
        &[Code(KeyCode::Enter)],
        Open,
        "Enter",
        "seat map",
        "the concert's seat map",
    ),
    b(
        Ctx::Sales,
        &[C('t')],
        Takings,
        "t",
        "takings",
        "today's takings at this terminal's clerk: by method, the cash drawer, tickets (again: hide)",
    ),
    b(
        Ctx::Clerk,
        &[Code(KeyCode::Enter)],
        Submit,
        "Enter",
        "start",
        "start selling under this name",
    ),
    b(
        Ctx::Door,
        &[Code(KeyCode::Enter)],
        Submit,
        "Enter",
        "check in",
        "check the scanned ticket in (the scanner sends Enter itself)",
    ),
    b(
        Ctx::Door,
        &[Ctrl('z')],
        Undo,
        "Ctrl-Z",
        "undo",
        "undo the last admission (a mistaken scan): the ticket is valid again",
    ),
    b(
        Ctx::Door,
        &[Code(KeyCode::Esc)],
        Back,
        "Esc",
        "clear",
        "clear what was typed",
    ),
    b(
        Ctx::Global,
        &[Code(KeyCode::Esc)],
        Back,
        "Esc",
        "back",
        "back (clears a search first)",
    ),
    b(
        Ctx::Global,
        &[Code(KeyCode::F(1)), C('?')],
        Help,
        "?/F1",
        "help",
        "all keys",
    ),
    b(
        Ctx::Global,
        &[Code(KeyCode::F(2))],
        GoConcerts,
        "F2",
        "",
        "concerts",
    ),
    b(
        Ctx::Global,
        &[Code(KeyCode::F(3))],
        GoBookings,
        "F3",
        "",
        "bookings",
    ),
    b(
        Ctx::Global,
        &[Code(KeyCode::F(4))],
        GoSales,
        "F4",
        "",
        "sales",
    ),
    b(
        Ctx::Global,
        &[Ctrl('c')],
        Quit,
        "Ctrl-C",
        "",
        "quit from anywhere (not in kiosk mode)",
    ),
    b(
        Ctx::Global,
        &[Ctrl('q')],
        KioskQuit,
        "Ctrl-Q",
        "",
        "quit, also in kiosk mode",
    ),
];

fn matches(k: &K, key: &KeyEvent) -> bool {
    match k {
        K::Ctrl(c) => {
            key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char(*c)
        }
        K::Char(c) => {
            !key.modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
                && key.code == KeyCode::Char(*c)
        }
        K::Code(code) => key.code == *code,
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
        .filter(|b| !typing || !b.keys.iter().all(|k| matches!(k, K::Char(_))))
        .map(|b| (b.shown, b.label))
        .collect()
}

/// Every binding for the help screen, grouped by context in table order.
pub fn help(kiosk: bool) -> Vec<(Ctx, &'static str, &'static str)> {
    let mut out: Vec<(Ctx, &'static str, &'static str)> = Vec::new();
    let mut order: Vec<Ctx> = Vec::new();
    for b in KEYMAP {
        if !order.contains(&b.ctx) {
            order.push(b.ctx);
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
