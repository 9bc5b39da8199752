//! The app loop's state and `update`: every change goes through [`App::update`] with an
//! [`Action`], so behaviour is tested without a terminal. The loop owns what all screens share
//! (the store, the status line, the help, which screen is open, the payment under way) and
//! routes each event to the open screen, which answers with an [`Outcome`]; it never reads a
//! screen's fields (`screens/`).

use super::keys::{self, Cmd, Ctx};
use super::screens::bookings::Bookings;
use super::screens::checkout::Checkout;
use super::screens::clerk::Clerk;
use super::screens::concerts::Concerts;
use super::screens::confirmation::Confirmation;
use super::screens::door::Door;
use super::screens::sales::Sales;
use super::screens::seatmap::MapState;
use super::screens::waitlist::WaitState;
use super::screens::{Cx, Habits, Leaving, MIN_HEIGHT, MIN_WIDTH, Outcome, View};
use super::screens::{Level, Options, Screen, Status};
use super::theme::Theme;
use crate::applog::Log;
use boxoffice::{Processors, Receipt, Store};
use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub enum Action {
    Key(KeyEvent),
    /// A left click at a terminal cell.
    Click {
        column: u16,
        row: u16,
    },
    Tick(Instant),
    Resize,
    /// A payment finished on the worker thread.
    Paid(Box<boxoffice::Result<Receipt>>),
}

pub struct App {
    pub store: Store,
    pub processors: Processors,
    pub log: Log,
    pub opts: Options,
    pub theme: Theme,
    pub screen: Screen,
    pub help: bool,
    pub help_scroll: u16,
    pub quit: bool,
    /// The screen was read again since it was last drawn (the event loop redraws).
    pub reread: bool,
    pub status: Option<Status>,
    pub concerts: Concerts,
    pub map: Option<MapState>,
    pub checkout: Option<Checkout>,
    pub confirmation: Option<Confirmation>,
    pub bookings: Bookings,
    pub waitlist: Option<WaitState>,
    pub sales: Sales,
    pub door: Option<Door>,
    pub clerk: Option<Clerk>,
    pub last_input: Instant,
    pub last_sweep: Instant,
    pub data_version: i64,
    pub spinner: usize,
    pub paying: Option<mpsc::Receiver<boxoffice::chores::PaymentResult>>,
    pub habits: Habits,
    /// The terminal's size at the last drawing: too small, keys are ignored (what they would
    /// do cannot be seen).
    pub drawn_size: std::cell::Cell<(u16, u16)>,
    /// A kiosk said it will clear the screen unless a key comes.
    pub kiosk_warned: bool,
    /// What leaves through the mail relay or the SMS gateway goes on its own thread: the app
    /// never waits on a server (`None` when the spool writes files only).
    pub sender: Option<boxoffice::chores::Sender>,
}

/// How long before clearing an idle kiosk's screen it says so.
pub const KIOSK_WARNING: Duration = Duration::from_secs(10);

/// What a screen's event may use, borrowed field by field from the app (so the screen's own
/// state can be borrowed beside it).
macro_rules! cx {
    ($app:ident) => {
        &mut Cx {
            store: &mut $app.store,
            processors: &$app.processors,
            log: &mut $app.log,
            opts: &$app.opts,
            status: &mut $app.status,
            habits: &mut $app.habits,
        }
    };
}

impl App {
    pub fn new(store: Store, processors: Processors, opts: Options, theme: Theme) -> App {
        let log = Log::open(&opts.local.join("boxoffice.log"));
        let mut store = store;
        store.set_spool(opts.spool.clone());
        // What delivery says goes to the log and the status line, never over the screen.
        let mut delivery_log = Log::open(&opts.local.join("boxoffice.log"));
        store.on_delivery(move |report| {
            for e in &report.errors {
                delivery_log.write(&format!("spool: {e}"));
            }
        });
        let sender = store.start_sender(Duration::from_secs(30));
        let now = Instant::now();
        let mut app = App {
            data_version: store.data_version().unwrap_or(0),
            store,
            processors,
            log,
            opts,
            theme,
            screen: Screen::Concerts,
            help: false,
            help_scroll: 0,
            quit: false,
            reread: false,
            status: None,
            concerts: Concerts::unsearched(),
            map: None,
            checkout: None,
            confirmation: None,
            bookings: Bookings::new(),
            waitlist: None,
            sales: Sales::default(),
            door: None,
            clerk: None,
            last_input: now,
            last_sweep: now,
            spinner: 0,
            paying: None,
            habits: Habits::default(),
            drawn_size: std::cell::Cell::new((u16::MAX, u16::MAX)),
            kiosk_warned: false,
            sender,
        };
        app.concerts = Concerts::new(cx!(app));
        if let Some(concert) = app.opts.door {
            app.door = Door::open(cx!(app), concert);
            app.screen = Screen::Door;
        } else if app.opts.kiosk && app.store.operator().clerk.is_none() {
            app.clerk = Some(Clerk::default());
            app.screen = Screen::Clerk;
        }
        if app.opts.rehearsal {
            // Whoever looks must know this is not today at a real box office.
            let now = app.now();
            let at = match app.opts.zone {
                Some(zone) => now.with_timezone(&zone).format("%a %d %b %Y %H:%M %Z"),
                None => now
                    .with_timezone(&app.opts.utc_offset)
                    .format("%a %d %b %Y %H:%M"),
            }
            .to_string();
            app.say(
                Level::Info,
                format!("rehearsal: the clock says {at}, not today"),
            );
        }
        app
    }

    /// What drawing may read besides a screen's own state.
    pub fn view(&self) -> View<'_> {
        View {
            theme: &self.theme,
            now: self.store.now(),
            spinner: self.spinner,
        }
    }

    fn say(&mut self, level: Level, text: impl Into<String>) {
        cx!(self).say(level, text);
    }

    /// The key context of what has focus now.
    pub fn ctx(&self) -> (Ctx, bool) {
        let open = match self.screen {
            Screen::Concerts => Some(self.concerts.keys()),
            Screen::SeatMap => self.map.as_ref().map(MapState::keys),
            Screen::Checkout => self.checkout.as_ref().map(Checkout::keys),
            Screen::Confirmation => self.confirmation.as_ref().map(Confirmation::keys),
            Screen::Bookings => Some(self.bookings.keys()),
            Screen::Waitlist => self.waitlist.as_ref().map(WaitState::keys),
            Screen::Sales => Some(self.sales.keys()),
            Screen::Door => self.door.as_ref().map(Door::keys),
            Screen::Clerk => self.clerk.as_ref().map(Clerk::keys),
        };
        open.unwrap_or((Ctx::Concerts, false))
    }

    pub fn update(&mut self, action: Action) {
        // A status line belongs to the screen that made it: one left over from the screen
        // before is not carried onto the next (what this event said is kept).
        let before = (self.screen, self.status.clone());
        self.handle(action);
        if self.screen != before.0 && self.status.is_some() && self.status == before.1 {
            self.status = None;
        }
    }

    fn handle(&mut self, action: Action) {
        match action {
            Action::Key(key) => {
                self.last_input = Instant::now();
                if std::mem::take(&mut self.kiosk_warned) {
                    self.status = None;
                }
                self.on_key(key);
            }
            Action::Click { column, row } => {
                self.last_input = Instant::now();
                if self.screen == Screen::SeatMap
                    && let Some(m) = &mut self.map
                {
                    m.click(cx!(self), column, row);
                }
            }
            Action::Tick(now) => self.on_tick(now),
            Action::Resize => {}
            Action::Paid(result) => {
                // The payment's own connection queued its confirmation: send it now.
                if let Some(sender) = &self.sender {
                    sender.wake();
                }
                let out = Checkout::paid(self.checkout.as_mut(), cx!(self), *result);
                self.carry_out(out);
            }
        }
    }

    fn on_key(&mut self, key: KeyEvent) {
        if self.help {
            // Arrows scroll; any of the closing keys closes; everything else is ignored.
            match key.code {
                KeyCode::Up | KeyCode::Char('k') => {
                    self.help_scroll = self.help_scroll.saturating_sub(1)
                }
                KeyCode::Down | KeyCode::Char('j') => {
                    self.help_scroll = self.help_scroll.saturating_add(1).min(200)
                }
                KeyCode::PageUp => self.help_scroll = self.help_scroll.saturating_sub(10),
                KeyCode::PageDown => {
                    self.help_scroll = self.help_scroll.saturating_add(10).min(200)
                }
                KeyCode::Esc
                | KeyCode::F(1)
                | KeyCode::Char('?')
                | KeyCode::Enter
                | KeyCode::Char('q') => {
                    self.help = false;
                    self.help_scroll = 0;
                }
                _ => {}
            }
            return;
        }
        let (ctx, typing) = self.ctx();
        let (w, h) = self.drawn_size.get();
        if w < MIN_WIDTH || h < MIN_HEIGHT {
            // Only leaving works on a screen too small to show what a key would do.
            let cmd = keys::lookup(ctx, &key, typing);
            if cmd == Some(Cmd::KioskQuit) || (cmd == Some(Cmd::Quit) && !self.opts.kiosk) {
                self.quit = true;
            }
            return;
        }
        // `?` is help from every screen, the start screen's search included; only where a
        // person's name or address is typed could it be text.
        if key.code == KeyCode::Char('?')
            && !matches!(ctx, Ctx::Checkout | Ctx::JoinForm | Ctx::Clerk)
        {
            self.help = true;
            return;
        }
        let cmd = keys::lookup(ctx, &key, typing);
        match cmd {
            Some(Cmd::Quit) if !self.opts.kiosk => {
                self.leave_to(Leaving::Quit);
                return;
            }
            Some(Cmd::Quit) => {
                self.say(Level::Info, "kiosk mode: Ctrl-Q quits");
                return;
            }
            Some(Cmd::KioskQuit) => {
                self.quit = true;
                return;
            }
            Some(Cmd::Help) if !typing || key.code == KeyCode::F(1) => {
                self.help = true;
                return;
            }
            // A door terminal only scans; a kiosk sells once its clerk is named.
            Some(Cmd::GoConcerts | Cmd::GoBookings | Cmd::GoSales)
                if self.opts.door.is_some() || self.screen == Screen::Clerk =>
            {
                return;
            }
            Some(Cmd::GoConcerts) if ctx != Ctx::Confirmation => {
                self.leave_to(Leaving::Concerts);
                return;
            }
            Some(Cmd::GoBookings) => {
                self.leave_to(Leaving::Bookings);
                return;
            }
            Some(Cmd::GoSales) => {
                self.leave_to(Leaving::Sales);
                return;
            }
            _ => {}
        }
        let out = match self.screen {
            Screen::Concerts => self.concerts.key(cx!(self), cmd, &key),
            Screen::SeatMap => match &mut self.map {
                Some(m) => m.key(cx!(self), cmd, &key),
                None => Outcome::Stay,
            },
            Screen::Checkout => match &mut self.checkout {
                Some(c) => c.key(cx!(self), cmd, &key),
                None => Outcome::Stay,
            },
            Screen::Confirmation => match &mut self.confirmation {
                Some(c) => c.key(cx!(self), cmd),
                None => Outcome::Stay,
            },
            Screen::Bookings => self.bookings.key(cx!(self), cmd, &key),
            Screen::Waitlist => match &mut self.waitlist {
                Some(w) => w.key(cx!(self), cmd, &key),
                None => Outcome::Stay,
            },
            Screen::Sales => self.sales.key(cx!(self), cmd),
            Screen::Door => match &mut self.door {
                Some(d) => d.key(cx!(self), cmd, &key),
                None => Outcome::Stay,
            },
            Screen::Clerk => match &mut self.clerk {
                Some(c) => match c.key(cx!(self), cmd, &key) {
                    Outcome::Concerts => {
                        self.clerk = None;
                        Outcome::Concerts
                    }
                    out => out,
                },
                None => Outcome::Stay,
            },
        };
        self.carry_out(out);
    }

    /// Does what a screen asked: the one place screens are opened and left.
    pub fn carry_out(&mut self, out: Outcome) {
        match out {
            Outcome::Stay => {}
            Outcome::Concerts => self.go_concerts(),
            Outcome::NextCustomer => {
                self.go_concerts();
                self.concerts = Concerts::new(cx!(self));
            }
            Outcome::OpenMap(id) => self.open_map(id),
            Outcome::LeaveMap => {
                self.map = None;
                self.screen = Screen::Concerts;
                self.concerts.search(cx!(self));
            }
            Outcome::BackToMap => self.back_to_map(),
            Outcome::Back(back) => {
                self.waitlist = None;
                match back {
                    Screen::SeatMap if self.map.is_some() => self.back_to_map(),
                    _ => self.go_concerts(),
                }
            }
            Outcome::Checkout(held) => {
                self.checkout = Some(Checkout::open(*held, self.habits.method));
                self.screen = Screen::Checkout;
            }
            Outcome::Leave(leaving) => self.go(leaving),
            Outcome::Paying(rx) => self.paying = Some(rx),
            Outcome::Confirmation(receipt) => match Confirmation::new(cx!(self), *receipt) {
                Ok(c) => {
                    self.say(Level::Ok, "paid and booked");
                    self.confirmation = Some(c);
                    self.checkout = None;
                    self.map = None;
                    self.screen = Screen::Confirmation;
                }
                Err(e) => cx!(self).fail(&e),
            },
            Outcome::Waitlist {
                concert,
                back,
                join,
            } => {
                if let Some(w) = WaitState::open(cx!(self), concert, back, join) {
                    self.waitlist = Some(w);
                    self.screen = Screen::Waitlist;
                }
            }
        }
    }

    /// Goes where the clerk asked; from a checkout holding seats, asks first (the seats would
    /// go back).
    fn leave_to(&mut self, leaving: Leaving) {
        if self.screen == Screen::Checkout
            && let Some(c) = self.checkout.as_mut()
            && c.asking.is_none()
            && c.ask_before(leaving, cx!(self))
        {
            return;
        }
        self.go(leaving);
    }

    /// Goes there (a checkout left gives its hold back).
    fn go(&mut self, leaving: Leaving) {
        match leaving {
            Leaving::Map => self.back_to_map(),
            Leaving::Concerts => self.go_concerts(),
            Leaving::Bookings => {
                self.leave_checkout();
                self.screen = Screen::Bookings;
                self.bookings.focus_search();
            }
            Leaving::Sales => {
                self.leave_checkout();
                self.screen = Screen::Sales;
                self.sales.refresh(cx!(self));
            }
            Leaving::Quit => {
                self.leave_checkout();
                self.quit = true;
            }
        }
    }

    fn go_concerts(&mut self) {
        self.leave_checkout();
        self.confirmation = None;
        self.screen = Screen::Concerts;
        self.concerts.search(cx!(self));
    }

    /// Opens a concert's seat map, from whichever screen.
    pub fn open_map(&mut self, concert_id: i64) {
        if let Some(m) = MapState::open(cx!(self), concert_id) {
            self.map = Some(m);
            self.screen = Screen::SeatMap;
        }
    }

    /// Leaves the checkout (an unpaid hold is given back) for the seat map, with the seats'
    /// statuses as they are now.
    fn back_to_map(&mut self) {
        let concert = self.checkout.as_ref().map(|c| c.concert.id);
        self.leave_checkout();
        match (concert, &self.map) {
            // A checkout opened from elsewhere (a waiting-list offer): its concert's map.
            (Some(id), m) if m.as_ref().is_none_or(|m| m.map.concert.id != id) => {
                self.open_map(id);
                if self.map.as_ref().is_none_or(|m| m.map.concert.id != id) {
                    self.go_concerts();
                }
            }
            _ => {
                self.screen = Screen::SeatMap;
                if let Some(m) = &mut self.map {
                    m.refresh(cx!(self));
                }
            }
        }
    }

    /// The hold the open checkout keeps (seats held, not paid), if any.
    pub fn open_hold(&self) -> Option<String> {
        self.checkout
            .as_ref()
            .filter(|c| c.holds_seats())
            .and_then(|c| c.hold.as_ref())
            .map(|h| h.hold_id.clone())
    }

    /// The terminal went away (a hang-up, a closed window): an open checkout gives its hold
    /// back, as leaving it does.
    pub fn hang_up(&mut self) {
        self.leave_checkout();
    }

    fn leave_checkout(&mut self) {
        if let Some(c) = self.checkout.take() {
            c.leave(cx!(self));
        }
    }

    /// For tests and the event loop: a finished payment, if there is one.
    pub fn poll_payment(&mut self, wait: Option<Duration>) {
        let Some(rx) = &self.paying else { return };
        let got = match wait {
            Some(d) => rx.recv_timeout(d).ok(),
            None => rx.try_recv().ok(),
        };
        if let Some((result, delivery)) = got {
            self.paying = None;
            self.show_delivery(delivery);
            self.update(Action::Paid(Box::new(result)));
        }
    }

    /// Shows a message that could not leave (the store delivers after each change; the
    /// message waits in the outbox); never fatal.
    fn show_delivery(&mut self, report: boxoffice::notify::outbox::SpoolReport) {
        if let Some(e) = report.errors.first() {
            let msg = format!("{e}; messages wait (boxoffice spool status)");
            self.log.write(&msg);
            self.say(Level::Error, msg);
        }
    }

    /// Seconds left on the checkout's hold, by the store's clock.
    #[cfg(test)]
    pub fn hold_seconds_left(&self) -> Option<i64> {
        self.checkout.as_ref()?.hold_seconds_left(self.store.now())
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.store.now()
    }

    fn has_customer_details(&self) -> bool {
        match self.screen {
            Screen::Checkout | Screen::Confirmation => true,
            Screen::Bookings => self.bookings.shows_customer(),
            Screen::Waitlist => self
                .waitlist
                .as_ref()
                .is_some_and(WaitState::shows_customer),
            _ => false,
        }
    }

    fn on_tick(&mut self, now: Instant) {
        self.spinner = self.spinner.wrapping_add(1);
        self.poll_payment(None);
        // Kiosk: clear a walked-away customer's details and give their seats back, after a
        // warning ten seconds before that any key answers.
        let idle = now.duration_since(self.last_input);
        let warn_from = self.opts.idle.saturating_sub(KIOSK_WARNING);
        if self.opts.kiosk
            && self.has_customer_details()
            && idle >= warn_from
            && idle < self.opts.idle
        {
            let left = (self.opts.idle - idle).as_secs().max(1);
            self.say(
                Level::Info,
                format!("no key for a while: this screen clears in {left} s; any key keeps it"),
            );
            self.kiosk_warned = true;
        }
        if self.opts.kiosk
            && self.has_customer_details()
            && now.duration_since(self.last_input) >= self.opts.idle
        {
            self.kiosk_warned = false;
            self.leave_checkout();
            self.confirmation = None;
            self.bookings = Bookings::default();
            self.waitlist = None;
            self.map = None;
            self.screen = Screen::Concerts;
            self.concerts = Concerts::new(cx!(self));
            self.say(Level::Info, "cleared after inactivity");
            self.last_input = now;
        }
        let mut delivery = self.store.take_delivery();
        if let Some(sender) = &self.sender {
            let sent = sender.take_reports();
            delivery.delivered.extend(sent.delivered);
            delivery.errors.extend(sent.errors);
        }
        self.show_delivery(delivery);
        // A minute before the hold runs out the clerk is told (and may keep it longer); when
        // it runs out, what was typed stays and one key holds the same seats again.
        let store_now = self.store.now();
        if let Some(c) = self.checkout.as_mut() {
            if c.hold_runs_out_soon(store_now) {
                self.say(
                    Level::Error,
                    "the hold runs out in a minute: Ctrl-E keeps the seats longer (once)",
                );
            } else if c.hold_ran_out(store_now) {
                c.ran_out();
                self.say(
                    Level::Error,
                    "the hold ran out and the seats went back; r holds them again",
                );
            }
        }
        // Move expired holds and waiting-list offers along now and then.
        // (A read-only terminal leaves that to the others: a hold's end shows by its time.)
        if now.duration_since(self.last_sweep) >= Duration::from_secs(5)
            && !self.store.is_read_only()
        {
            self.last_sweep = now;
            if let Err(e) = self.store.sweep() {
                self.log.write(&format!("expire: {e}"));
            }
        }
        // Another terminal changed something: reload what is on screen. A hold running out
        // changes nothing anyone could notice: the seat map reads its seats again when the
        // next one it shows as held is due.
        let version = self.store.data_version().unwrap_or(self.data_version);
        let stale = self.screen == Screen::SeatMap
            && self.map.as_ref().is_some_and(|m| m.stale(self.store.now()));
        if version != self.data_version || stale {
            self.data_version = version;
            self.refresh_screen();
        }
    }

    pub fn refresh_screen(&mut self) {
        self.reread = true;
        match self.screen {
            Screen::Checkout => {
                let ended = self.checkout.as_ref().and_then(|c| c.hold_ended(cx!(self)));
                if let Some(why) = ended {
                    self.back_to_map();
                    self.say(Level::Error, why);
                }
            }
            Screen::Concerts => self.concerts.search(cx!(self)),
            Screen::SeatMap => {
                if let Some(m) = &mut self.map {
                    m.refresh(cx!(self));
                }
            }
            Screen::Waitlist => {
                if let Some(w) = &mut self.waitlist {
                    w.refresh(cx!(self));
                }
            }
            Screen::Sales => self.sales.refresh(cx!(self)),
            Screen::Door => {
                if let Some(d) = &mut self.door {
                    d.refresh(cx!(self));
                }
            }
            _ => {}
        }
    }
}
