//! `venue`, `import`, `export` and `concert`: the catalog and a concert's changes.

use super::*;

/// `boxoffice concert`.
#[derive(Debug, clap::Args)]
pub(super) struct ConcertArgs {
    #[command(subcommand)]
    pub(super) action: ConcertAction,
}

/// `boxoffice venue`.
#[derive(Debug, clap::Args)]
pub(super) struct VenueArgs {
    #[command(subcommand)]
    pub(super) action: VenueAction,
}

/// `boxoffice import`.
#[derive(Debug, clap::Args)]
pub(super) struct ImportArgs {
    pub(super) file: PathBuf,
    #[arg(long)]
    pub(super) json: bool,
}

/// `boxoffice export`.
#[derive(Debug, clap::Args)]
pub(super) struct ExportArgs {
    #[arg(long, conflicts_with = "json")]
    pub(super) csv: bool,
    #[arg(long)]
    pub(super) json: bool,
    /// Start the CSV with a byte-order mark, so spreadsheets read it as UTF-8
    #[arg(long, conflicts_with = "json")]
    pub(super) bom: bool,
}

pub(super) fn concert(cli: &Cli, args: &ConcertArgs, out: &mut String) -> Result<(), Failure> {
    let ConcertArgs { action } = args;
    let mut ctx = open_ctx(cli)?;
    match action {
        ConcertAction::Reschedule { concert, to, json } => {
            let id = ctx.store.resolve_concert(concert)?;
            let when = chrono::NaiveDateTime::parse_from_str(to.trim(), "%Y-%m-%d %H:%M").map_err(
                |_| {
                    usage(format!(
                        "`{to}` is not a date and time: use \"YYYY-MM-DD HH:MM\" (at the venue)"
                    ))
                },
            )?;
            let r = ctx.store.reschedule_concert(id, when)?;
            ctx.log.write(&format!("rescheduled concert {id} to {to}"));
            show(out, *json, &r, |out| {
                let c = ctx.store.concert(id)?;
                outln!(out, "{}", concert_line(&c));
                outln!(out, "{} ticket holder(s) told", r.notified);
                Ok(())
            })?;
        }
        ConcertAction::Cancel {
            concert,
            reason,
            yes,
            json,
        } => {
            let id = ctx.store.resolve_concert(concert)?;
            let c = ctx.store.concert(id)?;
            if !*yes {
                if !std::io::stdin().is_terminal() {
                    return Err(usage(
                        "cancelling a concert refunds every booking: add --yes to confirm",
                    ));
                }
                eprint!(
                    "Cancel {} ({} booked seats will be refunded)? Type yes: ",
                    concert_line(&c),
                    c.booked_seats
                );
                let mut answer = String::new();
                let _ = std::io::stdin().read_line(&mut answer);
                if answer.trim() != "yes" {
                    return Err(usage("not cancelled"));
                }
            }
            let r = ctx.store.cancel_concert(id, reason, &ctx.processors)?;
            ctx.log.write(&format!("cancelled concert {id}: {r:?}"));
            show(out, *json, &r, |out| {
                outln!(
                    out,
                    "cancelled {}: {} bookings refunded ({}), {} holds released, {} on the waiting list told",
                    concert_line(&c),
                    r.bookings_cancelled,
                    Money::new(r.refunded_cents, &c.currency),
                    r.holds_released,
                    r.waitlist_told
                );
                if r.refunds_pending_cents > 0 {
                    outln!(
                        out,
                        "{} could not be refunded yet; `boxoffice reconcile` finishes it",
                        Money::new(r.refunds_pending_cents, &c.currency)
                    );
                }
                Ok(())
            })?;
        }
        ConcertAction::Rules {
            concert,
            ticket_limit,
            hold_minutes,
            offer_minutes,
            doors_open_minutes,
            json,
        } => {
            let id = ctx.store.resolve_concert(concert)?;
            ctx.store
                .set_concert_rules(id, *ticket_limit, *hold_minutes, *offer_minutes)?;
            if let Some(m) = doors_open_minutes {
                ctx.store.set_doors_open(id, *m)?;
            }
            let c = ctx.store.concert(id)?;
            show(out, *json, &c, |out| {
                outln!(
                    out,
                    "{}: {} tickets per customer, holds last {} min, waiting-list offers {} min",
                    concert_line(&c),
                    c.ticket_limit,
                    c.hold_minutes,
                    c.offer_minutes
                );
                Ok(())
            })?;
        }
    }
    Ok(())
}

pub(super) fn venue(cli: &Cli, args: &VenueArgs, out: &mut String) -> Result<(), Failure> {
    let VenueArgs { action } = args;
    let mut ctx = open_ctx(cli)?;
    match action {
        VenueAction::Add {
            layout_file,
            name,
            city,
            slug,
            json,
        } => {
            let text = std::fs::read_to_string(layout_file)
                .map_err(|e| usage(format!("cannot read {}: {e}", layout_file.display())))?;
            let v = ctx.store.add_venue_from_layout(
                &text,
                name.as_deref(),
                city.as_deref(),
                slug.as_deref(),
            )?;
            ctx.log.write(&format!("venue added: {}", v.slug));
            show(out, *json, &v, |out| {
                outln!(
                    out,
                    "added {} ({}, {}): {} seats; check it with `boxoffice venue show {}`",
                    v.name,
                    v.city,
                    v.slug,
                    v.capacity,
                    v.slug
                );
                Ok(())
            })?;
        }
        VenueAction::Show { venue } => {
            let (v, layout) = ctx.store.venue(venue)?;
            outln!(out, "# {} seats, slug {}", v.capacity, v.slug);
            out.push_str(&boxoffice::catalog::render_layout(&layout));
        }
        VenueAction::List { json } => {
            let venues = ctx.store.venues()?;
            show(out, *json, &venues, |out| {
                let rows: Vec<Vec<String>> = venues
                    .iter()
                    .map(|v| {
                        vec![
                            v.slug.clone(),
                            v.name.clone(),
                            v.city.clone(),
                            v.capacity.to_string(),
                        ]
                    })
                    .collect();
                print_table(out, &["SLUG", "NAME", "CITY", "SEATS"], &rows);
                Ok(())
            })?;
        }
    }
    Ok(())
}

pub(super) fn import(cli: &Cli, args: &ImportArgs, out: &mut String) -> Result<(), Failure> {
    let ImportArgs { file, json } = args;
    let mut ctx = open_ctx(cli)?;
    let text = std::fs::read_to_string(file)
        .map_err(|e| usage(format!("cannot read {}: {e}", file.display())))?;
    let mut bar = Progress::new();
    let report = ctx.store.import_concerts(&text, &mut |phase, done, total| {
        bar.show(phase, done, total)
    });
    bar.finish();
    let report = report?;
    ctx.log
        .write(&format!("import {}: {report:?}", file.display()));
    show(out, *json, &report, |out| {
        outln!(
            out,
            "added {}, updated {}, unchanged {}{}",
            report.added,
            report.updated,
            report.unchanged,
            if report.rescheduled > 0 {
                format!(" ({} rescheduled, ticket holders told)", report.rescheduled)
            } else {
                String::new()
            }
        );
        Ok(())
    })
}

pub(super) fn export(cli: &Cli, args: &ExportArgs, out: &mut String) -> Result<(), Failure> {
    let ExportArgs { csv: _, json, bom } = args;
    let ctx = open_ctx(cli)?;
    show(out, *json, &ctx.store.export_catalog()?, |out| {
        if *bom {
            out.push('\u{feff}');
        }
        out.push_str(&ctx.store.export_csv()?);
        Ok(())
    })
}

#[derive(Debug, Subcommand)]
pub(super) enum VenueAction {
    /// Add a venue from a layout file (the text grid of assets/venues/*.layout)
    Add {
        layout_file: PathBuf,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        city: Option<String>,
        /// Short name for commands and import files [default: from the name]
        #[arg(long)]
        slug: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Print a venue's layout back as a grid
    Show { venue: String },
    /// Every venue
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum ConcertAction {
    /// Move a concert to a new date and time (at the venue); ticket holders are told
    Reschedule {
        concert: String,
        /// The new start, "YYYY-MM-DD HH:MM" at the venue
        #[arg(long, value_name = "YYYY-MM-DD HH:MM")]
        to: String,
        #[arg(long)]
        json: bool,
    },
    /// Call a concert off: every booking refunded, every holder told
    Cancel {
        concert: String,
        /// Told to every customer
        #[arg(long)]
        reason: String,
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
    /// Set the ticket limit, hold time and waiting-list offer time
    Rules {
        concert: String,
        /// Tickets per customer (default 6)
        #[arg(long)]
        ticket_limit: Option<i64>,
        /// Minutes a hold lasts (default 5)
        #[arg(long)]
        hold_minutes: Option<i64>,
        /// Minutes a waiting-list offer lasts (default 120)
        #[arg(long)]
        offer_minutes: Option<i64>,
        /// Minutes before the start the doors open: earlier check-ins are refused (default 120)
        #[arg(long)]
        doors_open_minutes: Option<i64>,
        #[arg(long)]
        json: bool,
    },
}

/// A progress bar on standard error for long imports, only when it is a terminal.
pub(super) struct Progress {
    pub(super) on: bool,
    pub(super) last: usize,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            on: std::io::stderr().is_terminal(),
            last: usize::MAX,
        }
    }

    fn show(&mut self, phase: &str, done: usize, total: usize) {
        if !self.on || total < 2000 {
            return;
        }
        let pct = done * 100 / total.max(1);
        if pct == self.last {
            return;
        }
        self.last = pct;
        let filled = pct * 30 / 100;
        eprint!(
            "\r{phase:<9} [{}{}] {pct:>3}% {done}/{total}",
            "#".repeat(filled),
            ".".repeat(30 - filled)
        );
    }

    fn finish(&self) {
        if self.on && self.last != usize::MAX {
            eprintln!();
        }
    }
}

/// `boxoffice init`.
#[derive(Debug, clap::Args)]
pub(super) struct InitArgs {
    #[arg(long)]
    pub(super) json: bool,
}

pub(super) fn init(cli: &Cli, args: &InitArgs, out: &mut String) -> Result<(), Failure> {
    #[derive(Serialize)]
    struct Made {
        db: PathBuf,
        /// The file was created now (else an empty one was taken over).
        created: bool,
    }
    if cli.demo {
        return Err(usage(
            "init makes a box office for a real catalog: leave out --demo",
        ));
    }
    let path = db_path(cli)?;
    let created = !path.exists();
    let mut store = Store::open(&path, super::ctx::clock(cli)?)?;
    let changed = store.init_own_catalog()?;
    let made = Made { db: path, created };
    show(out, args.json, &made, |out| {
        outln!(
            out,
            "{} box office for your own catalog at {}",
            if changed { "an empty" } else { "already a" },
            made.db.display()
        );
        outln!(out, "next:");
        outln!(
            out,
            "  boxoffice venue add HALL.layout     a venue from its seat layout"
        );
        outln!(
            out,
            "  boxoffice import SEASON.csv         its concerts and prices"
        );
        outln!(
            out,
            "  (the formats: README, and the demo's own assets/venues/*.layout and assets/demo-concerts.csv)"
        );
        Ok(())
    })
}
