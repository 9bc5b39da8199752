//! The app's state and `update`: every change of state goes through [`App::update`] with an
//! [`Action`], so behaviour is tested without a terminal. Drawing only reads the state.

use super::keys::{self, Cmd, Ctx};
use super::theme::Theme;
use crate::applog::Log;
use boxoffice::booking::{BestRequest, GapAdvice, clean_name, normalize_email, normalize_phone};
use boxoffice::catalog::Layout;
use boxoffice::notify::spool::DeliveredFile;
use boxoffice::{
    Booking, Card, ConcertQuery, ConcertSummary, CustomerInfo, Error, Hold, Processors, Receipt,
    SeatMap, SeatStatus, Spool, Store, Tender, WaitlistEntry, model::parse_money,
};
use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use std::cell::Cell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// How many concerts the list shows at most (the search narrows it).
pub const LIST_LIMIT: usize = 500;

#[derive(Debug, Clone)]
pub struct Options {
    pub kiosk: bool,
    /// Kiosk mode: clear customer details after this long without a key.
    pub idle: Duration,
    pub db: PathBuf,
    pub gateway: PathBuf,
    /// Where messages go (the spool, or a relay and gateway).
    pub spool: Spool,
    /// The clerk's time zone, for times not tied to a venue (the clock, deadlines).
    pub utc_offset: chrono::FixedOffset,
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Concerts,
    SeatMap,
    Checkout,
    Confirmation,
    Bookings,
    Waitlist,
    Sales,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Ok,
    Error,
}

#[derive(Debug, Clone)]
pub struct Status {
    pub text: String,
    pub level: Level,
}

#[derive(Debug, Default)]
pub struct Concerts {
    pub query: String,
    pub typing: bool,
    pub error: Option<String>,
    pub list: Vec<ConcertSummary>,
    pub selected: usize,
}

pub struct MapState {
    pub map: SeatMap,
    pub layout: Layout,
    pub by_pos: HashMap<(i64, i64), usize>,
    /// Layout lines that have seats, top to bottom.
    pub rows: Vec<i64>,
    /// Layout line to its first seat: the row label and section a drawn line shows.
    pub lines: HashMap<i64, usize>,
    pub cursor: usize,
    pub selected: Vec<i64>,
    pub advice: Option<GapAdvice>,
    /// `b` was pressed: the number being typed.
    pub best_prompt: Option<String>,
    /// Scroll offset (column, line), kept by drawing so the cursor stays in view.
    pub scroll: Cell<(i64, i64)>,
    /// Where the grid was last drawn, for mouse clicks.
    pub grid_area: Cell<Rect>,
    /// Cells per seat and left padding of the last drawing.
    pub grid_geometry: Cell<(i64, u16)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Cash,
    Card,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Details,
    Payment,
    Paying,
    Declined(String),
}

pub struct Checkout {
    pub concert: ConcertSummary,
    pub seats: Vec<String>,
    pub total_cents: i64,
    pub step: Step,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub focus: usize,
    pub hold: Option<Hold>,
    pub method: Method,
    pub tendered: String,
    pub number: Zeroizing<String>,
    pub exp: String,
    pub cvc: Zeroizing<String>,
    pub error: Option<String>,
}

pub struct Confirmation {
    pub receipt: Receipt,
    pub booking: Booking,
    pub files: Vec<DeliveredFile>,
    pub qr: Vec<String>,
}

#[derive(Default)]
pub struct Bookings {
    pub query: String,
    pub typing: bool,
    pub list: Vec<Booking>,
    pub selected: usize,
    pub confirm_cancel: bool,
    pub searched: bool,
}

pub struct JoinForm {
    pub email: String,
    pub phone: String,
    pub party: String,
    pub focus: usize,
}

pub struct WaitState {
    pub concert: ConcertSummary,
    pub entries: Vec<WaitlistEntry>,
    pub selected: usize,
    pub form: Option<JoinForm>,
    pub back: Screen,
}

#[derive(Default)]
pub struct Sales {
    pub list: Vec<ConcertSummary>,
    pub selected: usize,
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
    pub status: Option<Status>,
    pub concerts: Concerts,
    pub map: Option<MapState>,
    pub checkout: Option<Checkout>,
    pub confirmation: Option<Confirmation>,
    pub bookings: Bookings,
    pub waitlist: Option<WaitState>,
    pub sales: Sales,
    pub last_input: Instant,
    pub last_sweep: Instant,
    pub data_version: i64,
    pub spinner: usize,
    pub paying: Option<mpsc::Receiver<boxoffice::chores::PaymentResult>>,
}

/// Edits a text field with a key; returns true if the key was for the field.
fn edit(text: &mut String, key: &KeyEvent, max: usize) -> bool {
    match key.code {
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
                && !c.is_control() =>
        {
            if text.chars().count() < max {
                text.push(c);
            }
            true
        }
        KeyCode::Backspace => {
            text.pop();
            true
        }
        _ => false,
    }
}

fn clamp(i: usize, len: usize) -> usize {
    if len == 0 { 0 } else { i.min(len - 1) }
}

fn step(i: usize, by: isize, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    (i as isize + by).clamp(0, len as isize - 1) as usize
}

impl App {
    pub fn new(store: Store, processors: Processors, opts: Options, theme: Theme) -> App {
        let log = Log::open(
            &opts
                .db
                .parent()
                .map(|d| d.join("boxoffice.log"))
                .unwrap_or_else(|| PathBuf::from("boxoffice.log")),
        );
        let mut store = store;
        store.set_spool(opts.spool.clone());
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
            status: None,
            concerts: Concerts {
                typing: true,
                ..Default::default()
            },
            map: None,
            checkout: None,
            confirmation: None,
            bookings: Bookings::default(),
            waitlist: None,
            sales: Sales::default(),
            last_input: now,
            last_sweep: now,
            spinner: 0,
            paying: None,
        };
        app.search();
        app
    }

    fn say(&mut self, level: Level, text: impl Into<String>) {
        let text = text.into();
        if level == Level::Error {
            self.log.write(&format!("shown error: {text}"));
        }
        self.status = Some(Status { text, level });
    }

    fn fail(&mut self, e: &Error) {
        self.say(Level::Error, e.to_string());
    }

    /// The key context of what has focus now.
    pub fn ctx(&self) -> (Ctx, bool) {
        match self.screen {
            Screen::Concerts => (Ctx::Concerts, self.concerts.typing),
            Screen::SeatMap => (
                Ctx::SeatMap,
                self.map.as_ref().is_some_and(|m| m.best_prompt.is_some()),
            ),
            Screen::Checkout => match self.checkout.as_ref().map(|c| &c.step) {
                Some(Step::Payment) => {
                    let on_method = self.checkout.as_ref().is_some_and(|c| c.focus == 0);
                    (Ctx::Payment, !on_method)
                }
                Some(Step::Declined(_)) => (Ctx::Declined, false),
                Some(Step::Paying) => (Ctx::Payment, false),
                _ => (Ctx::Checkout, true),
            },
            Screen::Confirmation => (Ctx::Confirmation, false),
            Screen::Bookings if self.bookings.confirm_cancel => (Ctx::Confirm, false),
            Screen::Bookings => (Ctx::Bookings, self.bookings.typing),
            Screen::Waitlist if self.waitlist.as_ref().is_some_and(|w| w.form.is_some()) => {
                (Ctx::JoinForm, true)
            }
            Screen::Waitlist => (Ctx::Waitlist, false),
            Screen::Sales => (Ctx::Sales, false),
        }
    }

    pub fn update(&mut self, action: Action) {
        match action {
            Action::Key(key) => {
                self.last_input = Instant::now();
                self.on_key(key);
            }
            Action::Click { column, row } => {
                self.last_input = Instant::now();
                self.on_click(column, row);
            }
            Action::Tick(now) => self.on_tick(now),
            Action::Resize => {}
            Action::Paid(result) => self.on_paid(*result),
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
        let cmd = keys::lookup(ctx, &key, typing);
        match cmd {
            Some(Cmd::Quit) if !self.opts.kiosk => {
                self.quit = true;
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
            Some(Cmd::GoConcerts) if ctx != Ctx::Confirmation => {
                self.go_concerts();
                return;
            }
            Some(Cmd::GoBookings) => {
                self.leave_checkout();
                self.screen = Screen::Bookings;
                self.bookings.typing = true;
                return;
            }
            Some(Cmd::GoSales) => {
                self.leave_checkout();
                self.open_sales();
                return;
            }
            _ => {}
        }
        match self.screen {
            Screen::Concerts => self.concerts_key(cmd, &key),
            Screen::SeatMap => self.map_key(cmd, &key),
            Screen::Checkout => self.checkout_key(cmd, &key),
            Screen::Confirmation => {
                if matches!(cmd, Some(Cmd::Back | Cmd::GoConcerts)) {
                    self.go_concerts();
                }
            }
            Screen::Bookings => self.bookings_key(cmd, &key),
            Screen::Waitlist => self.waitlist_key(cmd, &key),
            Screen::Sales => self.sales_key(cmd),
        }
    }

    // ---- concerts ----

    pub fn search(&mut self) {
        match ConcertQuery::parse(&self.concerts.query) {
            Ok(mut q) => {
                q.limit = Some(LIST_LIMIT);
                match self.store.search_concerts(&q) {
                    Ok(list) => {
                        self.concerts.error = None;
                        self.concerts.list = list;
                        self.concerts.selected =
                            clamp(self.concerts.selected, self.concerts.list.len());
                    }
                    Err(e) => self.concerts.error = Some(e.to_string()),
                }
            }
            // A bad field value is shown under the box; the list stays as it was.
            Err(e) => self.concerts.error = Some(e.to_string()),
        }
    }

    fn go_concerts(&mut self) {
        self.leave_checkout();
        self.confirmation = None;
        self.screen = Screen::Concerts;
        self.search();
    }

    fn concerts_key(&mut self, cmd: Option<Cmd>, key: &KeyEvent) {
        let len = self.concerts.list.len();
        match cmd {
            Some(Cmd::Up) => self.concerts.selected = step(self.concerts.selected, -1, len),
            Some(Cmd::Down) => self.concerts.selected = step(self.concerts.selected, 1, len),
            Some(Cmd::PageUp) => self.concerts.selected = step(self.concerts.selected, -10, len),
            Some(Cmd::PageDown) => self.concerts.selected = step(self.concerts.selected, 10, len),
            Some(Cmd::SwitchFocus) => self.concerts.typing = !self.concerts.typing,
            Some(Cmd::FocusSearch) => self.concerts.typing = true,
            Some(Cmd::Back) => {
                if !self.concerts.query.is_empty() {
                    self.concerts.query.clear();
                    self.search();
                } else {
                    self.concerts.typing = false;
                }
            }
            Some(Cmd::Open) => {
                if let Some(c) = self.concerts.list.get(self.concerts.selected).cloned() {
                    if c.sold_out && c.status != "cancelled" {
                        self.open_waitlist(c.id, Screen::Concerts, true);
                    } else {
                        self.open_map(c.id);
                    }
                }
            }
            Some(Cmd::Waitlist) => {
                if let Some(c) = self.concerts.list.get(self.concerts.selected) {
                    let id = c.id;
                    self.open_waitlist(id, Screen::Concerts, false);
                }
            }
            _ if self.concerts.typing && edit(&mut self.concerts.query, key, 200) => {
                self.concerts.selected = 0;
                self.search();
            }
            _ => {}
        }
    }

    // ---- seat map ----

    /// Opens a concert's seat map, from whichever screen: a cancelled concert has nothing left
    /// to sell, so it is said instead.
    pub fn open_map(&mut self, concert_id: i64) {
        match self.load_map(concert_id) {
            Ok(m) if m.map.concert.status == boxoffice::ConcertStatus::Cancelled => self.say(
                Level::Error,
                "this concert is cancelled; its bookings were refunded",
            ),
            Ok(m) => {
                self.map = Some(m);
                self.screen = Screen::SeatMap;
                self.status = None;
            }
            Err(e) => self.fail(&e),
        }
    }

    fn load_map(&self, concert_id: i64) -> boxoffice::Result<MapState> {
        let map = self.store.seat_map(concert_id)?;
        let layout = self.store.concert_layout(concert_id)?;
        let mut by_pos = HashMap::new();
        let mut lines = HashMap::new();
        let mut rows: Vec<i64> = Vec::new();
        for (i, s) in map.seats.iter().enumerate() {
            by_pos.insert((s.x, s.y), i);
            lines.entry(s.y).or_insert(i);
            rows.push(s.y);
        }
        rows.sort_unstable();
        rows.dedup();
        // Start at the best free seat near the front centre.
        let centre = layout.width as i64 / 2;
        let cursor = map
            .seats
            .iter()
            .enumerate()
            .filter(|(_, s)| s.status == SeatStatus::Free)
            .min_by_key(|(_, s)| (s.y * 4).pow(2) + (s.x - centre).pow(2))
            .map(|(i, _)| i)
            .unwrap_or(0);
        Ok(MapState {
            map,
            layout,
            by_pos,
            rows,
            lines,
            cursor,
            selected: Vec::new(),
            advice: None,
            best_prompt: None,
            scroll: Cell::new((0, 0)),
            grid_area: Cell::new(Rect::default()),
            grid_geometry: Cell::new((1, 0)),
        })
    }

    /// Leaves the checkout for the seat map, with the seats' statuses as they are now.
    fn back_to_map(&mut self) {
        self.checkout = None;
        self.screen = Screen::SeatMap;
        self.refresh_map();
    }

    /// Reloads the seats' statuses, keeping the cursor and whatever of the selection is still
    /// free. The layout, positions and rows do not change, so they are not read again.
    fn refresh_map(&mut self) {
        let Some(m) = &self.map else { return };
        let map = match self.store.seat_map(m.map.concert.id) {
            Ok(map) => map,
            Err(e) => return self.fail(&e),
        };
        let Some(m) = &mut self.map else { return };
        let before = m.selected.len();
        m.selected.retain(|id| {
            map.seats
                .iter()
                .any(|s| s.seat_id == *id && s.status == SeatStatus::Free)
        });
        let lost = before - m.selected.len();
        m.map = map;
        self.update_advice();
        if lost > 0 {
            self.say(
                Level::Error,
                format!("{lost} selected seat(s) were just taken at another terminal"),
            );
        }
    }

    fn update_advice(&mut self) {
        let Some(m) = &self.map else { return };
        let advice = self
            .store
            .selection_advice(m.map.concert.id, &m.selected)
            .unwrap_or(None);
        if let Some(m) = &mut self.map {
            m.advice = advice;
        }
    }

    fn move_cursor(m: &mut MapState, dx: i64, dy: i64) {
        let Some(cur) = m.map.seats.get(m.cursor) else {
            return;
        };
        let (x, y) = (cur.x, cur.y);
        if dy == 0 {
            let next = m
                .map
                .seats
                .iter()
                .enumerate()
                .filter(|(_, s)| s.y == y && (s.x - x).signum() == dx.signum())
                .min_by_key(|(_, s)| (s.x - x).abs());
            if let Some((i, _)) = next {
                m.cursor = i;
            }
            return;
        }
        let pos = m.rows.iter().position(|r| *r == y).unwrap_or(0) as i64;
        let target = (pos + dy).clamp(0, m.rows.len() as i64 - 1) as usize;
        let ty = m.rows[target];
        if let Some((i, _)) = m
            .map
            .seats
            .iter()
            .enumerate()
            .filter(|(_, s)| s.y == ty)
            .min_by_key(|(_, s)| (s.x - x).abs())
        {
            m.cursor = i;
        }
    }

    fn toggle_seat(&mut self, index: usize) {
        let Some(m) = &mut self.map else { return };
        let Some(seat) = m.map.seats.get(index) else {
            return;
        };
        let id = seat.seat_id;
        if let Some(p) = m.selected.iter().position(|s| *s == id) {
            m.selected.remove(p);
        } else if seat.status != SeatStatus::Free {
            let why = match seat.status {
                SeatStatus::Reserved => "is kept for the waiting list",
                SeatStatus::Booked => "is sold",
                _ => "is held by someone else",
            };
            let text = format!("{} {why}", seat.seat);
            self.say(Level::Error, text);
            return;
        } else if m.selected.len() as i64 >= m.map.concert.ticket_limit {
            let text = format!(
                "at most {} tickets per customer for this concert",
                m.map.concert.ticket_limit
            );
            self.say(Level::Error, text);
            return;
        } else {
            m.selected.push(id);
        }
        self.status = None;
        self.update_advice();
    }

    fn map_key(&mut self, cmd: Option<Cmd>, key: &KeyEvent) {
        let Some(m) = &mut self.map else { return };
        if let Some(prompt) = &mut m.best_prompt {
            match key.code {
                KeyCode::Enter => {
                    let n: usize = prompt.parse().unwrap_or(0);
                    m.best_prompt = None;
                    self.pick_best(n);
                }
                KeyCode::Esc => m.best_prompt = None,
                KeyCode::Char(c) if c.is_ascii_digit() && prompt.len() < 2 => prompt.push(c),
                KeyCode::Backspace => {
                    prompt.pop();
                }
                _ => {}
            }
            return;
        }
        match cmd {
            Some(Cmd::Left) => Self::move_cursor(m, -1, 0),
            Some(Cmd::Right) => Self::move_cursor(m, 1, 0),
            Some(Cmd::Up) => Self::move_cursor(m, 0, -1),
            Some(Cmd::Down) => Self::move_cursor(m, 0, 1),
            Some(Cmd::PageUp) => Self::move_cursor(m, 0, -10),
            Some(Cmd::PageDown) => Self::move_cursor(m, 0, 10),
            Some(Cmd::Toggle) => {
                let c = m.cursor;
                self.toggle_seat(c);
            }
            Some(Cmd::Best) => m.best_prompt = Some(String::new()),
            Some(Cmd::Clear) => {
                m.selected.clear();
                m.advice = None;
            }
            Some(Cmd::Checkout) => self.start_checkout(),
            Some(Cmd::Waitlist) => {
                let id = m.map.concert.id;
                self.open_waitlist(id, Screen::SeatMap, false);
            }
            Some(Cmd::Back) => {
                self.map = None;
                self.screen = Screen::Concerts;
                self.search();
            }
            _ => {}
        }
    }

    fn pick_best(&mut self, n: usize) {
        let Some(m) = &self.map else { return };
        if n == 0 {
            self.say(Level::Error, "type how many seats, e.g. b 4 Enter");
            return;
        }
        let best = BestRequest {
            count: n,
            ..Default::default()
        };
        match self.store.suggest_best(m.map.concert.id, &best) {
            Ok(pick) => {
                let text = if pick.together {
                    format!("best {n} together: {}", pick.labels.join(" "))
                } else {
                    format!(
                        "no row has {n} together; best split: {}",
                        pick.labels.join(" ")
                    )
                };
                if let Some(m) = &mut self.map {
                    m.selected = pick.ids.clone();
                    if let Some(i) = m.map.seats.iter().position(|s| s.seat_id == pick.ids[0]) {
                        m.cursor = i;
                    }
                }
                self.update_advice();
                self.say(
                    if pick.together {
                        Level::Ok
                    } else {
                        Level::Info
                    },
                    text,
                );
            }
            Err(e) => self.fail(&e),
        }
    }

    fn on_click(&mut self, column: u16, row: u16) {
        if self.screen != Screen::SeatMap {
            return;
        }
        let Some(m) = &mut self.map else { return };
        let area = m.grid_area.get();
        if column < area.x
            || row < area.y
            || column >= area.x + area.width
            || row >= area.y + area.height
        {
            return;
        }
        let (sx, sy) = m.scroll.get();
        let (scale, pad) = m.grid_geometry.get();
        if column < area.x + pad {
            return;
        }
        let x = (column - area.x - pad) as i64 / scale + sx;
        let y = (row - area.y) as i64 + sy;
        if let Some(&i) = m.by_pos.get(&(x, y)) {
            m.cursor = i;
            self.toggle_seat(i);
        }
    }

    // ---- checkout ----

    fn start_checkout(&mut self) {
        let Some(m) = &self.map else { return };
        if m.selected.is_empty() {
            self.say(
                Level::Error,
                "select seats first: Space on a seat, or b for best available",
            );
            return;
        }
        let seats: Vec<&boxoffice::SeatInfo> = m
            .map
            .seats
            .iter()
            .filter(|s| m.selected.contains(&s.seat_id))
            .collect();
        self.checkout = Some(Checkout {
            concert: m.map.concert.clone(),
            seats: seats.iter().map(|s| s.seat.clone()).collect(),
            total_cents: seats.iter().map(|s| s.price_cents).sum(),
            step: Step::Details,
            name: String::new(),
            email: String::new(),
            phone: String::new(),
            focus: 0,
            hold: None,
            method: Method::Card,
            tendered: String::new(),
            number: Zeroizing::new(String::new()),
            exp: String::new(),
            cvc: Zeroizing::new(String::new()),
            error: None,
        });
        self.screen = Screen::Checkout;
        self.status = None;
    }

    /// Validation as you type: the problem with each customer field, if any.
    pub fn field_problems(c: &Checkout) -> [Option<String>; 3] {
        let name = clean_name(&c.name).err().map(|e| e.to_string());
        let email = if c.email.is_empty() {
            Some("needed for the confirmation".to_string())
        } else {
            normalize_email(&c.email).err().map(|e| e.to_string())
        };
        let phone = if c.phone.trim().is_empty() {
            None
        } else {
            normalize_phone(&c.phone, c.concert.country.as_deref())
                .err()
                .map(|e| e.to_string())
        };
        [name, email, phone]
    }

    /// Leaving checkout gives an unpaid hold back, and says so.
    fn leave_checkout(&mut self) {
        if let Some(c) = self.checkout.take()
            && let Some(h) = c.hold
            && c.step != Step::Paying
            && self.store.release_hold(&h.hold_id).is_ok()
        {
            self.say(
                Level::Info,
                format!("released the hold on {}", h.seats.join(" ")),
            );
        }
    }

    fn place_hold(&mut self) {
        let Some(c) = &self.checkout else { return };
        let customer = CustomerInfo {
            email: c.email.clone(),
            name: Some(c.name.clone()).filter(|n| !n.trim().is_empty()),
            phone: Some(c.phone.clone()).filter(|p| !p.trim().is_empty()),
        };
        let (concert, seats) = (c.concert.id, c.seats.clone());
        match self.store.hold_seats(concert, &seats, &customer) {
            Ok(hold) => {
                let replaced = hold.replaced.clone();
                if let Some(c) = &mut self.checkout {
                    c.total_cents = hold.total_cents;
                    c.hold = Some(hold);
                    c.step = Step::Payment;
                    c.focus = 0;
                    c.error = None;
                }
                match replaced {
                    Some(r) => self.say(
                        Level::Info,
                        format!(
                            "held; this customer's earlier hold on {} was released",
                            r.seats.join(" ")
                        ),
                    ),
                    None => self.say(Level::Ok, "seats held: take the payment"),
                }
            }
            Err(
                e @ (Error::SeatsTaken(_)
                | Error::ReservedForWaitlist(_)
                | Error::WouldStrandSeat { .. }),
            ) => {
                self.back_to_map();
                self.fail(&e);
            }
            Err(e) => {
                if let Some(c) = &mut self.checkout {
                    c.error = Some(e.to_string());
                }
                self.fail(&e);
            }
        }
    }

    fn checkout_key(&mut self, cmd: Option<Cmd>, key: &KeyEvent) {
        let Some(c) = &mut self.checkout else { return };
        match c.step.clone() {
            Step::Details => match cmd {
                Some(Cmd::NextField) => c.focus = (c.focus + 1) % 3,
                Some(Cmd::PrevField) => c.focus = (c.focus + 2) % 3,
                Some(Cmd::Back) => {
                    self.checkout = None;
                    self.screen = Screen::SeatMap;
                }
                Some(Cmd::Submit) => {
                    let problems = Self::field_problems(c);
                    if let Some((i, p)) = problems
                        .iter()
                        .enumerate()
                        .find_map(|(i, p)| p.as_ref().map(|p| (i, p.clone())))
                    {
                        c.focus = i;
                        self.say(Level::Error, p);
                    } else {
                        self.place_hold();
                    }
                }
                _ => {
                    let field = match c.focus {
                        0 => &mut c.name,
                        1 => &mut c.email,
                        _ => &mut c.phone,
                    };
                    edit(field, key, 200);
                }
            },
            Step::Payment => {
                let fields = if c.method == Method::Cash { 2 } else { 4 };
                match cmd {
                    Some(Cmd::NextField) => c.focus = (c.focus + 1) % fields,
                    Some(Cmd::PrevField) => c.focus = (c.focus + fields - 1) % fields,
                    Some(Cmd::Toggle) if c.focus == 0 => {
                        c.method = if c.method == Method::Cash {
                            Method::Card
                        } else {
                            Method::Cash
                        };
                    }
                    Some(Cmd::Back) => {
                        self.leave_checkout();
                        self.screen = Screen::SeatMap;
                        self.refresh_map();
                    }
                    Some(Cmd::Submit) => self.submit_payment(),
                    _ => match (c.method, c.focus) {
                        (_, 0) => {
                            if let KeyCode::Char(ch) = key.code {
                                match ch {
                                    'c' | 'C' => c.method = Method::Cash,
                                    'k' | 'K' => c.method = Method::Card,
                                    _ => {}
                                }
                            }
                        }
                        (Method::Cash, _) => {
                            edit(&mut c.tendered, key, 12);
                        }
                        (Method::Card, 1) => {
                            if matches!(key.code, KeyCode::Char(d) if d.is_ascii_digit() || d == ' ')
                                || key.code == KeyCode::Backspace
                            {
                                edit(&mut c.number, key, 23);
                            }
                        }
                        (Method::Card, 2) => {
                            edit(&mut c.exp, key, 7);
                        }
                        (Method::Card, _) => {
                            if matches!(key.code, KeyCode::Char(d) if d.is_ascii_digit())
                                || key.code == KeyCode::Backspace
                            {
                                edit(&mut c.cvc, key, 4);
                            }
                        }
                    },
                }
            }
            Step::Paying => {}
            Step::Declined(_) => match cmd {
                Some(Cmd::Retry) => self.place_hold(),
                Some(Cmd::Back) => {
                    self.back_to_map();
                }
                _ => {}
            },
        }
    }

    fn submit_payment(&mut self) {
        let now = self.store.now();
        let Some(c) = &mut self.checkout else { return };
        let Some(hold) = c.hold.clone() else { return };
        let tender = match c.method {
            Method::Cash => match parse_money(&c.tendered) {
                Ok(t) => {
                    match boxoffice::payment::check_cash(t, c.total_cents, &c.concert.currency) {
                        Ok(()) => Tender::Cash { tendered_cents: t },
                        Err(e) => {
                            // The hold stays; the clerk retypes the amount.
                            self.fail(&e);
                            return;
                        }
                    }
                }
                Err(boxoffice::model::MoneyError::TooMuch) => {
                    // As for an amount past what this sale can take: the hold stays.
                    let e = boxoffice::payment::too_much_cash(c.total_cents, &c.concert.currency);
                    self.fail(&e);
                    return;
                }
                Err(why) => {
                    self.say(Level::Error, format!("cash tendered: {why}"));
                    return;
                }
            },
            Method::Card => match Card::parse(&c.number, &c.exp, &c.cvc, now) {
                Ok(card) => Tender::Card(card),
                Err(e) => {
                    // A typo changes nothing: the hold stays and the clerk retypes.
                    self.fail(&e);
                    return;
                }
            },
        };
        c.step = Step::Paying;
        c.cvc = Zeroizing::new(String::new());
        let rx =
            self.store
                .pay_in_background(hold.hold_id.clone(), tender, self.opts.gateway.clone());
        self.paying = Some(rx);
        self.say(Level::Info, "taking the payment");
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

    fn on_paid(&mut self, result: boxoffice::Result<Receipt>) {
        match result {
            Ok(receipt) => {
                self.log.write(&format!(
                    "booked {} ({} cents, {})",
                    receipt.booking_code, receipt.total_cents, receipt.method
                ));
                let booking = match self.store.booking(&receipt.booking_code) {
                    Ok(b) => b,
                    Err(e) => return self.fail(&e),
                };
                let files = self
                    .store
                    .delivered_files(&receipt.booking_code)
                    .unwrap_or_default();
                self.confirmation = Some(Confirmation {
                    qr: qr_lines(&receipt.booking_code),
                    receipt,
                    booking,
                    files,
                });
                self.checkout = None;
                self.map = None;
                self.screen = Screen::Confirmation;
                self.say(Level::Ok, "paid and booked");
            }
            Err(Error::Declined { reason, .. }) => {
                self.log.write(&format!("declined: {reason}"));
                if let Some(c) = &mut self.checkout {
                    c.hold = None;
                    c.step = Step::Declined(reason.clone());
                }
                self.say(
                    Level::Error,
                    format!("declined: {reason}; r holds the same seats again"),
                );
            }
            Err(e @ (Error::HoldExpired { .. } | Error::HoldNotLive { .. })) => {
                self.back_to_map();
                self.fail(&e);
            }
            Err(e) => {
                if let Some(c) = &mut self.checkout {
                    c.step = Step::Payment;
                    // The hold is live again after a processor failure: show its new deadline.
                    if let Some(h) = &c.hold
                        && let Ok(fresh) = self.store.hold(&h.hold_id)
                    {
                        c.hold = Some(fresh);
                    }
                }
                self.fail(&e);
            }
        }
    }

    /// Shows a message that could not leave (the store delivers after each change; the
    /// message waits in the outbox); never fatal.
    fn show_delivery(&mut self, report: boxoffice::notify::spool::SpoolReport) {
        if let Some(e) = report.errors.first() {
            let msg = format!("{e}; messages wait (boxoffice spool status)");
            self.log.write(&msg);
            self.say(Level::Error, msg);
        }
    }

    // ---- bookings ----

    fn bookings_key(&mut self, cmd: Option<Cmd>, key: &KeyEvent) {
        if self.bookings.confirm_cancel {
            match cmd {
                Some(Cmd::Yes) => {
                    self.bookings.confirm_cancel = false;
                    self.cancel_selected();
                }
                Some(Cmd::No) => {
                    self.bookings.confirm_cancel = false;
                    self.say(Level::Info, "kept the booking");
                }
                _ => {}
            }
            return;
        }
        let len = self.bookings.list.len();
        match cmd {
            Some(Cmd::Up) => self.bookings.selected = step(self.bookings.selected, -1, len),
            Some(Cmd::Down) => self.bookings.selected = step(self.bookings.selected, 1, len),
            Some(Cmd::SwitchFocus) => self.bookings.typing = !self.bookings.typing,
            Some(Cmd::Open) => self.find_bookings(),
            Some(Cmd::CancelBooking) => match self.bookings.list.get(self.bookings.selected) {
                Some(b) if b.state == boxoffice::BookingState::Confirmed => {
                    self.bookings.confirm_cancel = true
                }
                Some(b) => {
                    let t = format!("booking {} is already {}", b.booking_code, b.state);
                    self.say(Level::Error, t);
                }
                None => self.say(Level::Error, "find a booking first"),
            },
            Some(Cmd::Back) => {
                if !self.bookings.query.is_empty() {
                    self.bookings = Bookings {
                        typing: true,
                        ..Default::default()
                    };
                } else {
                    self.go_concerts();
                }
            }
            _ if self.bookings.typing => {
                edit(&mut self.bookings.query, key, 100);
            }
            _ => {}
        }
    }

    fn find_bookings(&mut self) {
        match self.store.find_bookings(&self.bookings.query) {
            Ok(list) => {
                self.bookings.searched = true;
                self.bookings.selected = 0;
                self.bookings.typing = list.is_empty();
                let n = list.len();
                self.bookings.list = list;
                if n == 0 {
                    self.say(Level::Info, "no booking matches that code, email or phone");
                } else {
                    self.status = None;
                }
            }
            Err(e) => self.fail(&e),
        }
    }

    fn cancel_selected(&mut self) {
        let Some(b) = self.bookings.list.get(self.bookings.selected) else {
            return;
        };
        let code = b.booking_code.clone();
        match self.store.cancel_booking(&code, &self.processors) {
            Ok(c) => {
                self.log.write(&format!("cancelled {code}"));
                let money = boxoffice::Money::new(c.refunded_cents, &c.currency);
                let pending = if c.refund_pending_cents > 0 {
                    " (part of the refund is pending: reconcile retries it)"
                } else {
                    ""
                };
                self.say(
                    Level::Ok,
                    format!(
                        "cancelled {code}; refunded {money} by {}{pending}",
                        c.method
                    ),
                );
                if let Ok(fresh) = self.store.booking(&code)
                    && let Some(slot) = self.bookings.list.get_mut(self.bookings.selected)
                {
                    *slot = fresh;
                }
            }
            Err(e) => self.fail(&e),
        }
    }

    // ---- waiting list ----

    pub fn open_waitlist(&mut self, concert_id: i64, back: Screen, join: bool) {
        let concert = match self.store.concert(concert_id) {
            Ok(c) => c,
            Err(e) => return self.fail(&e),
        };
        let entries = self.store.waitlist(concert_id).unwrap_or_default();
        self.waitlist = Some(WaitState {
            concert,
            entries,
            selected: 0,
            form: join.then(|| JoinForm {
                email: String::new(),
                phone: String::new(),
                party: "2".into(),
                focus: 0,
            }),
            back,
        });
        self.screen = Screen::Waitlist;
        if join {
            self.say(
                Level::Info,
                "sold out: put the customer on the waiting list",
            );
        }
    }

    fn waitlist_key(&mut self, cmd: Option<Cmd>, key: &KeyEvent) {
        let Some(w) = &mut self.waitlist else { return };
        if let Some(f) = &mut w.form {
            match cmd {
                Some(Cmd::NextField) => f.focus = (f.focus + 1) % 3,
                Some(Cmd::PrevField) => f.focus = (f.focus + 2) % 3,
                Some(Cmd::Back) => w.form = None,
                Some(Cmd::Submit) => {
                    let party: i64 = f.party.trim().parse().unwrap_or(0);
                    let customer = CustomerInfo {
                        email: f.email.clone(),
                        name: None,
                        phone: Some(f.phone.clone()).filter(|p| !p.trim().is_empty()),
                    };
                    let id = w.concert.id;
                    match self.store.join_waitlist(id, &customer, party, None) {
                        Ok(e) => {
                            let text = format!(
                                "{} is number {} on the waiting list",
                                e.customer,
                                e.position.unwrap_or_default()
                            );
                            if let Some(w) = &mut self.waitlist {
                                w.form = None;
                            }
                            self.refresh_waitlist();
                            self.say(Level::Ok, text);
                        }
                        Err(e) => self.fail(&e),
                    }
                }
                _ => {
                    let field = match f.focus {
                        0 => &mut f.email,
                        1 => &mut f.phone,
                        _ => &mut f.party,
                    };
                    edit(field, key, 120);
                }
            }
            return;
        }
        let len = w.entries.len();
        match cmd {
            Some(Cmd::Up) => w.selected = step(w.selected, -1, len),
            Some(Cmd::Down) => w.selected = step(w.selected, 1, len),
            Some(Cmd::Join) => {
                w.form = Some(JoinForm {
                    email: String::new(),
                    phone: String::new(),
                    party: "2".into(),
                    focus: 0,
                })
            }
            Some(Cmd::Back) => {
                let back = w.back;
                self.waitlist = None;
                match back {
                    Screen::SeatMap if self.map.is_some() => {
                        self.screen = Screen::SeatMap;
                        self.refresh_map();
                    }
                    _ => self.go_concerts(),
                }
            }
            _ => {}
        }
    }

    fn refresh_waitlist(&mut self) {
        let Some(w) = &mut self.waitlist else { return };
        if let Ok(c) = self.store.concert(w.concert.id) {
            w.concert = c;
        }
        w.entries = self.store.waitlist(w.concert.id).unwrap_or_default();
        w.selected = clamp(w.selected, w.entries.len());
    }

    // ---- sales ----

    fn open_sales(&mut self) {
        self.screen = Screen::Sales;
        self.refresh_sales();
    }

    fn refresh_sales(&mut self) {
        match self.store.search_concerts(&ConcertQuery {
            limit: Some(LIST_LIMIT),
            ..Default::default()
        }) {
            Ok(list) => {
                self.sales.list = list;
                self.sales.selected = clamp(self.sales.selected, self.sales.list.len());
            }
            Err(e) => self.fail(&e),
        }
    }

    fn sales_key(&mut self, cmd: Option<Cmd>) {
        let len = self.sales.list.len();
        match cmd {
            Some(Cmd::Up) => self.sales.selected = step(self.sales.selected, -1, len),
            Some(Cmd::Down) => self.sales.selected = step(self.sales.selected, 1, len),
            Some(Cmd::PageUp) => self.sales.selected = step(self.sales.selected, -10, len),
            Some(Cmd::PageDown) => self.sales.selected = step(self.sales.selected, 10, len),
            Some(Cmd::Open) => {
                if let Some(c) = self.sales.list.get(self.sales.selected) {
                    let id = c.id;
                    self.open_map(id);
                }
            }
            Some(Cmd::Back) => self.go_concerts(),
            _ => {}
        }
    }

    // ---- time ----

    /// Seconds left on the checkout's hold, by the store's clock.
    pub fn hold_seconds_left(&self) -> Option<i64> {
        let h = self.checkout.as_ref()?.hold.as_ref()?;
        Some((h.expires_at - self.store.now()).num_seconds().max(0))
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.store.now()
    }

    fn has_customer_details(&self) -> bool {
        match self.screen {
            Screen::Checkout | Screen::Confirmation => true,
            Screen::Bookings => !self.bookings.query.is_empty() || !self.bookings.list.is_empty(),
            Screen::Waitlist => self.waitlist.as_ref().is_some_and(|w| w.form.is_some()),
            _ => false,
        }
    }

    fn on_tick(&mut self, now: Instant) {
        self.spinner = self.spinner.wrapping_add(1);
        self.poll_payment(None);
        // Kiosk: clear a walked-away customer's details and give their seats back.
        if self.opts.kiosk
            && self.has_customer_details()
            && now.duration_since(self.last_input) >= self.opts.idle
        {
            self.leave_checkout();
            self.confirmation = None;
            self.bookings = Bookings::default();
            self.waitlist = None;
            self.map = None;
            self.concerts.query.clear();
            self.concerts.typing = true;
            self.screen = Screen::Concerts;
            self.search();
            self.say(Level::Info, "cleared after inactivity");
            self.last_input = now;
        }
        let delivery = self.store.take_delivery();
        self.show_delivery(delivery);
        // The hold ran out while the customer was deciding.
        if let Some(c) = &self.checkout
            && c.step == Step::Payment
            && self.hold_seconds_left() == Some(0)
        {
            self.back_to_map();
            self.say(
                Level::Error,
                "the hold expired and the seats were released; select them again",
            );
        }
        // Move expired holds and waiting-list offers along now and then.
        if now.duration_since(self.last_sweep) >= Duration::from_secs(5) {
            self.last_sweep = now;
            if let Err(e) = self.store.sweep() {
                self.log.write(&format!("expire: {e}"));
            }
        }
        // Another terminal changed something: reload what is on screen.
        let version = self.store.data_version().unwrap_or(self.data_version);
        if version != self.data_version {
            self.data_version = version;
            self.refresh_screen();
        }
    }

    pub fn refresh_screen(&mut self) {
        match self.screen {
            Screen::Concerts => self.search(),
            Screen::SeatMap => self.refresh_map(),
            Screen::Waitlist => self.refresh_waitlist(),
            Screen::Sales => self.refresh_sales(),
            _ => {}
        }
    }
}

/// The booking code as a QR code in half-block characters, with a one-module margin.
pub fn qr_lines(code: &str) -> Vec<String> {
    match qrcode::QrCode::new(code.as_bytes()) {
        Ok(qr) => {
            let colors = qr.to_colors();
            // Dark modules are glyphs: drawn black on white by the theme.
            let art = qrcode::render::Renderer::<qrcode::render::unicode::Dense1x2>::new(
                &colors,
                qr.width(),
                1,
            )
            .build();
            art.lines().map(str::to_string).collect()
        }
        Err(_) => vec![code.to_string()],
    }
}
