//! The stress run shared by `tests/stress.rs` (a CI-sized run) and `examples/stress.rs`
//! (`--long`, for soak runs): several OS processes doing random box-office work on one database
//! file under a shared, stepped clock, killed with SIGKILL at random moments and restarted;
//! afterwards reconcile, flush the spool and check every invariant in SQL and in the gateway.

use boxoffice::booking::BestRequest;
use boxoffice::payment::gateway::*;
use boxoffice::{Card, Clock, ConcertQuery, CustomerInfo, Error, Processors, Spool, Store, Tender};
use chrono::{DateTime, Duration, Utc};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::Instant;

pub const WORKER_ENV: &str = "BOXOFFICE_STRESS_WORKER";
const SMALL: &str = "stress-small"; // 20 seats: sold out in moments, then the waiting list
const LARGE: &str = "demo-16"; // an arena night

fn base() -> DateTime<Utc> {
    "2026-11-25T12:00:00Z".parse().unwrap()
}

/// One clock for every process: seconds after `base`, in a file the orchestrator steps, plus
/// the machine's own offset (machines' clocks are never quite the same).
pub struct FileClock(pub PathBuf, pub i64);

impl Clock for FileClock {
    fn now(&self) -> DateTime<Utc> {
        let secs: i64 = std::fs::read_to_string(&self.0)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        base() + Duration::seconds(secs + self.1)
    }
}

/// How far machine `m`'s clock is off: 0, then 7 s ahead, 4 s behind, ...
fn clock_offset(m: usize) -> i64 {
    [0, 7, -4, 3, -9][m % 5]
}

fn set_clock(dir: &Path, secs: i64) {
    let tmp = dir.join("clock.tmp");
    std::fs::write(&tmp, secs.to_string()).unwrap();
    std::fs::rename(tmp, dir.join("clock")).unwrap();
}

struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

pub struct Config {
    pub procs: usize,
    pub ops: usize,
    pub kills: usize,
    /// Box offices on this many machines: the processes split into groups, each with its own
    /// spool and its clock off by a few seconds; 1 is one machine.
    pub machines: usize,
    /// The shared database (a `postgres://` URL) and the card gateway's (another URL); `None`
    /// is `box.db` and `gateway.db` in the run's directory.
    pub db: Option<(String, String)>,
    /// Email goes through a mail relay that takes connections and never answers (a hung
    /// server): delivered on each worker's sender thread, as the app does, while the run
    /// checks that no sale took the relay's time.
    pub silent_relay: bool,
}

#[derive(Debug, Default)]
#[allow(dead_code)] // read through Debug
pub struct Outcome {
    pub operations: usize,
    pub kills: usize,
    pub bookings: i64,
    pub cancelled: i64,
    pub offers: i64,
    pub messages: i64,
    /// The longest a hold or a payment took in any worker, in milliseconds.
    pub slowest_sale_ms: u64,
    /// Connections the silent relay took (each a sender waiting on it).
    pub relay_connections: usize,
}

/// The worker: `ops` random operations. Expected refusals are part of the game; a storage
/// error or a panic is a bug and fails the run.
pub fn worker(spec: &str) {
    let f: Vec<&str> = spec.split('|').collect();
    let dir = PathBuf::from(f[0]);
    let w: u64 = f[1].parse().unwrap();
    let ops: usize = f[2].parse().unwrap();
    let mut rng = Rng(f[3].parse::<u64>().unwrap() | 1);
    let machine: usize = f[4].parse().unwrap();
    let (db, gateway) = (f[5], f[6]);
    let relay: Option<u16> = f[7].parse().ok();
    let clock: Arc<dyn Clock> = Arc::new(FileClock(dir.join("clock"), clock_offset(machine)));
    let mut store = Store::open(db, clock.clone()).unwrap();
    let processors = Processors::with_gateway(gateway, clock.clone()).unwrap();
    let mut spool = Spool::new(dir.join(format!("spool-{machine}")));
    // With the relay, email leaves on a sender thread of this worker's (the app's way), and
    // the worker never delivers itself: what a sale must not wait for.
    let _sender = relay.map(|port| {
        spool = spool.clone().with_mail_relay(
            boxoffice::notify::relay::MailRelay::new(
                &format!("smtp://127.0.0.1:{port}?tls=none"),
                None,
                None,
            )
            .unwrap(),
        );
        store.set_spool(spool.clone());
        store.start_sender(std::time::Duration::from_secs(1))
    });
    let mut slowest_sale = std::time::Duration::ZERO;
    let small = store.resolve_concert(SMALL).unwrap();
    let large = store.resolve_concert(LARGE).unwrap();
    let mut holds: Vec<String> = Vec::new();
    let mut bookings: Vec<String> = Vec::new();
    let cards = [
        CARD_APPROVE,
        CARD_APPROVE,
        CARD_DECLINE,
        CARD_INSUFFICIENT_FUNDS,
        CARD_GATEWAY_ERROR,
    ];
    for _ in 0..ops {
        let concert = if rng.next(3) == 0 { large } else { small };
        // A few customers per worker, and some shared by all: limits and replacement happen.
        let email = if rng.next(4) == 0 {
            format!("shared{}@stress.test", rng.next(6))
        } else {
            format!("w{w}c{}@stress.test", rng.next(12))
        };
        // Now and then a walk-up at the counter who gives no details.
        let who = if rng.next(10) == 0 {
            CustomerInfo::default()
        } else {
            CustomerInfo {
                email: email.clone(),
                name: Some(format!("Stress {w}")),
                phone: None,
            }
        };
        let op = rng.next(100);
        let began = Instant::now();
        let result: Result<(), Error> = match op {
            0..=9 => store
                .search_concerts(&ConcertQuery {
                    artist: Some(["neon", "me", "a", "rusty"][rng.next(4) as usize].into()),
                    available: rng.next(2) == 0,
                    limit: Some(20),
                    ..Default::default()
                })
                .map(|_| ()),
            10..=29 => store.seat_map(concert).and_then(|map| {
                let start = rng.next(map.seats.len() as u64) as usize;
                let n = 1 + rng.next(3) as usize;
                let labels: Vec<String> = map
                    .seats
                    .iter()
                    .skip(start)
                    .take(n)
                    .map(|s| s.seat.clone())
                    .collect();
                store
                    .hold_seats(concert, &labels, &who)
                    .map(|h| holds.push(h.hold_id))
            }),
            30..=44 => store
                .hold_best(
                    concert,
                    &BestRequest {
                        count: 1 + rng.next(4) as usize,
                        allow_split: rng.next(2) == 0,
                        ..Default::default()
                    },
                    &who,
                )
                .map(|h| holds.push(h.hold_id)),
            45..=66 => match holds.pop() {
                Some(h) => {
                    let tender = if rng.next(3) == 0 {
                        Tender::Cash {
                            tendered_cents: 100_000,
                        }
                    } else {
                        Tender::Card(
                            Card::parse(
                                cards[rng.next(cards.len() as u64) as usize],
                                "12/30",
                                "123",
                                store.now(),
                            )
                            .unwrap(),
                        )
                    };
                    store
                        .pay(&h, &tender, &processors)
                        .map(|r| bookings.push(r.booking_code))
                }
                None => Ok(()),
            },
            67..=74 => match bookings.pop() {
                // Half the time one seat only: the booking stays with the rest.
                Some(code) if rng.next(2) == 0 => match store.booking(&code) {
                    Ok(b) if b.seats.len() > 1 && b.state == boxoffice::BookingState::Confirmed => {
                        let one = [b.seats[0].seat.clone()];
                        store
                            .cancel_seats(&code, &one, &processors)
                            .map(|_| bookings.push(code))
                    }
                    _ => store.cancel_booking(&code, &processors).map(|_| ()),
                },
                Some(code) => store.cancel_booking(&code, &processors).map(|_| ()),
                None => Ok(()),
            },
            75..=84 => store.join_waitlist(small, &who, 2, None).map(|_| ()),
            85..=87 => store.leave_waitlist(small, &email).map(|_| ()),
            88..=92 => match holds.pop() {
                Some(h) => store.release_hold(&h).map(|_| ()),
                None => Ok(()),
            },
            _ => {
                // Pay an offer from the waiting list, if this customer has one.
                let offer =
                    store.waitlist(small).unwrap().into_iter().find(|e| {
                        e.customer == email && e.state == boxoffice::WaitlistState::Offered
                    });
                match offer.and_then(|e| e.offer) {
                    Some(code) => store
                        .pay(
                            &code,
                            &Tender::Cash {
                                tendered_cents: 100_000,
                            },
                            &processors,
                        )
                        .map(|r| bookings.push(r.booking_code)),
                    None => Ok(()),
                }
            }
        };
        // Holds and payments (the sales), whatever their answer.
        if (10..=66).contains(&op) || op >= 93 {
            let took = began.elapsed();
            if took > slowest_sale {
                slowest_sale = took;
                std::fs::write(
                    dir.join(format!("slowest-{w}-{}", std::process::id())),
                    took.as_millis().to_string(),
                )
                .unwrap();
            }
        }
        if let Err(e) = result {
            match e {
                Error::Storage(_) | Error::Corrupt(_) | Error::ReadOnly(_) | Error::Io { .. } => {
                    panic!("worker {w}: {e:?}")
                }
                _ => {}
            }
        }
        if relay.is_none() && rng.next(20) == 0 {
            store.deliver_outbox(&spool, false).unwrap();
        }
    }
}

/// Where the run's box office and card gateway are, and on how many machines it sells.
struct Place<'a> {
    dir: &'a Path,
    db: &'a str,
    gateway: &'a str,
    machines: usize,
    /// The silent relay's port, if the run has one.
    relay: Option<u16>,
}

fn spawn(
    exe: &Path,
    worker_args: &[&str],
    at: &Place<'_>,
    w: usize,
    ops: usize,
    seed: u64,
) -> Child {
    let machine = w % at.machines.max(1);
    Command::new(exe)
        .args(worker_args)
        .env(
            WORKER_ENV,
            format!(
                "{}|{w}|{ops}|{seed}|{machine}|{}|{}|{}",
                at.dir.display(),
                at.db,
                at.gateway,
                at.relay.map(|p| p.to_string()).unwrap_or_default()
            ),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Runs the stress and checks the invariants; panics with every violation.
pub fn run(cfg: Config, exe: &Path, worker_args: &[&str]) -> Outcome {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let (db, gateway) = cfg.db.clone().unwrap_or_else(|| {
        (
            dir.join("box.db").display().to_string(),
            dir.join("gateway.db").display().to_string(),
        )
    });
    let relay_connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let relay = cfg.silent_relay.then(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let counted = relay_connections.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for conn in listener.incoming().flatten() {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                held.push(conn);
            }
        });
        port
    });
    let at = Place {
        dir: &dir,
        db: &db,
        gateway: &gateway,
        machines: cfg.machines,
        relay,
    };
    set_clock(&dir, 0);
    {
        let clock: Arc<dyn Clock> = Arc::new(FileClock(dir.join("clock"), 0));
        let mut store = Store::open(&db, clock).unwrap();
        store.seed_demo_if_empty().unwrap();
        store
            .add_venue(
                "stress-box",
                "venue Stress Box\ncity Testville\ntimezone Europe/Vienna\ncategory S Standard\nsection A Main\n1 |SSSSS SSSSS|\n2 |SSSSS SSSSS|\n",
            )
            .unwrap();
        store
            .add_concert(&boxoffice::catalog::NewConcert {
                external_id: Some(SMALL.into()),
                artist: "Stress Test".into(),
                title: "Small Room".into(),
                venue_slug: "stress-box".into(),
                local_start: (base() + Duration::days(10)).naive_utc(),
                on_sale_at: base() - Duration::days(1),
                prices: vec![("S".into(), 2_000)],
                currency: "EUR".into(),
                ticket_limit: 4,
                hold_minutes: 5,
            })
            .unwrap();
        let small = store.resolve_concert(SMALL).unwrap();
        // Offers that run out within the run, so expiry moves the queue along.
        store
            .set_concert_rules(small, None, None, Some(10))
            .unwrap();
    }
    // Sold out before the doors open: ten pairs, cancelled one by one during the run, so the
    // waiting list fills up and is served while the workers fight over the seats.
    let mut early: Vec<String> = {
        let clock: Arc<dyn Clock> = Arc::new(FileClock(dir.join("clock"), 0));
        let mut store = Store::open(&db, clock).unwrap();
        let small = store.resolve_concert(SMALL).unwrap();
        let cash = Processors::cash_only();
        (0..10)
            .map(|i| {
                let (row, n) = (i / 5 + 1, (i % 5) * 2);
                let seats: Vec<String> = match n {
                    8 => vec![format!("A-{row}-9"), format!("A-{row}-10")],
                    _ => vec![format!("A-{row}-{}", n + 1), format!("A-{row}-{}", n + 2)],
                };
                let who = CustomerInfo {
                    email: format!("early{i}@stress.test"),
                    ..Default::default()
                };
                let h = store.hold_seats_allowing_gap(small, &seats, &who).unwrap();
                store
                    .pay(
                        &h.hold_id,
                        &Tender::Cash {
                            tendered_cents: 10_000,
                        },
                        &cash,
                    )
                    .unwrap()
                    .booking_code
            })
            .collect()
    };
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    let mut children: Vec<Option<Child>> = (0..cfg.procs)
        .map(|w| Some(spawn(exe, worker_args, &at, w, cfg.ops, 1000 + w as u64)))
        .collect();
    let mut clock_secs = 0i64;
    let mut kills = 0;
    let mut restarts = 0u64;
    let started = Instant::now();
    let cancel_clock: Arc<dyn Clock> = Arc::new(FileClock(dir.join("clock"), 0));
    let mut canceller = Store::open(&db, cancel_clock).unwrap();
    let mut tick = 0;
    loop {
        std::thread::sleep(std::time::Duration::from_millis(100));
        tick += 1;
        if tick % 8 == 0
            && let Some(code) = early.pop()
        {
            canceller
                .cancel_booking(&code, &Processors::cash_only())
                .unwrap();
        }
        // The clock moves in steps: holds (5 min) and offers (10 min) run out during the run
        // (in 6 and 12 s). Not faster: a message being delivered is leased for 60 s of the
        // clock, longer than any delivery takes; at 20 s a step that was 0.3 s of real time,
        // less than a delivery on a busy machine, and another machine sent it again.
        clock_secs += 5;
        set_clock(&dir, clock_secs);
        if kills < cfg.kills && rng.next(4) == 0 {
            let alive: Vec<usize> = (0..children.len())
                .filter(|i| children[*i].is_some())
                .collect();
            if !alive.is_empty() {
                let i = alive[rng.next(alive.len() as u64) as usize];
                let mut c = children[i].take().unwrap();
                if c.try_wait().unwrap().is_none() {
                    c.kill().unwrap(); // SIGKILL
                    c.wait().unwrap();
                    kills += 1;
                    restarts += 1;
                    children[i] = Some(spawn(
                        exe,
                        worker_args,
                        &at,
                        i,
                        cfg.ops / 4,
                        9000 + restarts,
                    ));
                } else {
                    children[i] = Some(c);
                }
            }
        }
        let mut running = 0;
        for slot in children.iter_mut() {
            if let Some(c) = slot {
                match c.try_wait().unwrap() {
                    Some(status) => {
                        assert!(status.success(), "a worker failed: {status:?}");
                        *slot = None;
                    }
                    None => running += 1,
                }
            }
        }
        if running == 0 {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 1800,
            "the stress run did not finish"
        );
    }
    drop(canceller);
    // Restart after the last kill: a day later, so every lease and hold has run out.
    set_clock(&dir, clock_secs + 86_400);
    let clock: Arc<dyn Clock> = Arc::new(FileClock(dir.join("clock"), 0));
    let mut store = Store::open(&db, clock.clone()).unwrap();
    let processors = Processors::with_gateway(&gateway, clock).unwrap();
    store.expire_holds().unwrap();
    store.reconcile(&processors).unwrap();
    let report = store
        .deliver_outbox(&Spool::new(dir.join("spool-0")), true)
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let audit = store.audit(&processors).unwrap();
    let takings = store.report(None, None, None).unwrap();
    drop(store);

    let mut problems = crate::common::violations(Path::new(&db), Path::new(&gateway));
    // The day's money check: every charge in the gateway's books and the cash drawer's has
    // its booking or its refund, and every booking was paid.
    problems.extend(
        audit
            .unmatched
            .iter()
            .map(|u| format!("audit: {} {} {}", u.reference, u.amount_cents, u.why)),
    );
    // The takings report counts the same money as the audit, method by method, to the cent.
    for m in &audit.by_method {
        let t = takings.by_method.iter().find(|t| t.method == m.method);
        let (sales, refunds) = t.map_or((0, 0), |t| (t.sales_cents, t.refunds_cents));
        if (sales, refunds) != (m.charges_cents, m.refunds_cents) {
            problems.push(format!(
                "report {}: sales {sales} refunds {refunds}, audit charges {} refunds {}",
                m.method, m.charges_cents, m.refunds_cents
            ));
        }
    }
    let conn = crate::common::sql(&db);
    let pg = conn.kind() == boxoffice::store::Kind::Postgres;
    let one = |sql: &str| -> i64 { conn.db().query_row(sql, (), |r| r.get(0)).unwrap() };
    // And with the bookings: what was kept is what the confirmed bookings cost.
    let booked =
        one("SELECT coalesce(sum(total_cents), 0) FROM bookings WHERE state = 'confirmed'");
    if takings.sales_cents() - takings.refunds_cents() != booked {
        problems.push(format!(
            "report keeps {} net, confirmed bookings cost {booked}",
            takings.sales_cents() - takings.refunds_cents()
        ));
    }
    // Every booked seat has one ticket; a confirmed booking's tickets are void exactly for the
    // seats cancelled out of it (no longer listed), and those seats are not claimed by it.
    let (seat, seats_of) = crate::common::listed_seats_sql(pg);
    let ticketless = one(&format!(
        "SELECT count(*) FROM bookings b JOIN holds h ON h.id = b.hold_id CROSS JOIN {}
         WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.booking_id = b.id AND t.seat_id = {seat})",
        seats_of("h")
    ));
    let void = one(&format!(
        "SELECT count(*) FROM tickets t JOIN bookings b ON b.id = t.booking_id JOIN holds h ON h.id = b.hold_id
         WHERE b.state = 'confirmed'
           AND (t.state = 'cancelled') = EXISTS (SELECT 1 FROM {} WHERE {seat} = t.seat_id)",
        seats_of("h")
    ));
    let claimed_gone = one(
        "SELECT count(*) FROM claims c JOIN tickets t ON t.booking_id = c.booking_id AND t.seat_id = c.seat_id
         WHERE t.state = 'cancelled'",
    );
    if ticketless + void + claimed_gone > 0 {
        problems.push(format!(
            "{ticketless} booked seats without a ticket, {void} tickets of confirmed bookings \
             void for a seat kept or valid for a seat cancelled, {claimed_gone} cancelled seats \
             still claimed"
        ));
    }
    let partial = one(
        "SELECT count(*) FROM bookings b WHERE b.state = 'confirmed'
           AND EXISTS (SELECT 1 FROM tickets t WHERE t.booking_id = b.id AND t.state = 'cancelled')",
    );
    eprintln!("partly cancelled bookings: {partial}");
    // No customer over the limit on any concert.
    let over = one(
        "SELECT count(*) FROM (SELECT coalesce(h.email, h.id), c.concert_id FROM claims c JOIN holds h ON h.id = c.hold_id
         JOIN concerts co ON co.id = c.concert_id
         WHERE h.kind != 'pool' GROUP BY 1, 2 HAVING count(*) > max(co.ticket_limit)) AS o",
    );
    if over > 0 {
        problems.push(format!("{over} customers over the ticket limit"));
    }
    // Served in join order (every party is 2): nobody got an offer while someone who joined
    // earlier was still waiting for one.
    let unfair = one(
        "SELECT count(*) FROM waitlist b JOIN holds bh ON bh.id = b.hold_id
         JOIN waitlist a ON a.concert_id = b.concert_id AND a.id < b.id AND a.hold_id IS NULL
         WHERE a.state = 'waiting' OR (a.state = 'left' AND a.updated_at > bh.created_at)",
    );
    if unfair > 0 {
        problems.push(format!("{unfair} offers jumped the queue"));
    }
    // Every notice is exactly one file in the spool of the machine that delivered it. On one
    // machine, always (a second try finds the file under its one name). With several, a
    // sender killed after writing a message and before recording it leaves it to another
    // machine, which writes it once more, under the same name (the same Message-ID): at most
    // one such copy per kill, and none without kills.
    let rows = one("SELECT count(*) FROM outbox");
    let delivered = one("SELECT count(*) FROM outbox WHERE state = 'delivered'");
    let spools: Vec<PathBuf> = (0..cfg.machines.max(1))
        .map(|m| dir.join(format!("spool-{m}")))
        .collect();
    let mut names: Vec<String> = spools
        .iter()
        .flat_map(|s| crate::common::spool_names(s))
        .collect();
    let files = names.len() as i64;
    names.sort();
    names.dedup();
    let distinct = names.len() as i64;
    let again = files - distinct;
    if again > 0 {
        eprintln!("{again} notices written again by another machine after their sender was killed");
    }
    if rows != delivered
        || rows != distinct
        || again > kills as i64
        || (cfg.machines <= 1 && again > 0)
    {
        problems.push(format!(
            "{rows} notices, {delivered} delivered, {distinct} distinct files, {again} copies"
        ));
    }
    // Every message parses in an outside mail parser, and every calendar entry in an outside
    // calendar parser (Python's email and icalendar, where installed; `.ci/run` installs them).
    let checker =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/check_messages.py");
    let has_icalendar = std::process::Command::new("python3")
        .args(["-c", "import icalendar"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if has_icalendar {
        for spool in spools.iter().filter(|s| s.exists()) {
            let out = std::process::Command::new("python3")
                .arg(&checker)
                .arg(spool)
                .output()
                .unwrap();
            if !out.status.success() {
                problems.push(format!(
                    "a message does not parse: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            println!("{}", String::from_utf8_lossy(&out.stdout).trim());
        }
    } else {
        eprintln!("skipped parsing the messages: python3 with icalendar is not installed");
    }
    assert!(problems.is_empty(), "invariants broken: {problems:?}");
    let slowest_sale_ms = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("slowest-"))
        .filter_map(|e| {
            std::fs::read_to_string(e.path())
                .ok()?
                .trim()
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap_or(0);
    Outcome {
        slowest_sale_ms,
        relay_connections: relay_connections.load(std::sync::atomic::Ordering::SeqCst),
        operations: cfg.procs * cfg.ops + restarts as usize * (cfg.ops / 4),
        kills,
        bookings: one(
            "SELECT count(*) FROM bookings WHERE customer_id IN (SELECT id FROM customers WHERE email LIKE '%@stress.test')",
        ),
        cancelled: one(
            "SELECT count(*) FROM bookings WHERE state = 'cancelled' AND customer_id IN (SELECT id FROM customers WHERE email LIKE '%@stress.test')",
        ),
        offers: one("SELECT count(*) FROM waitlist WHERE hold_id IS NOT NULL"),
        messages: rows,
    }
}
