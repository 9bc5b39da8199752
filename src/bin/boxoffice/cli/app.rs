//! The terminal app (no subcommand), `config`, and the terminal app's render timings for
//! benches/render.rs (not a command: `BOXOFFICE_BENCH_UI` asks for them, see [`BenchUi`]).

use super::*;

/// Render timings instead of the app, for benches/render.rs: `BOXOFFICE_BENCH_UI=first-frame`
/// (start, draw one frame, exit) or `BOXOFFICE_BENCH_UI=concert=big-1,frames=300`. A
/// developer's measurement, so it is not among the commands a clerk sees.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct BenchUi {
    pub(super) concert: Option<String>,
    pub(super) frames: usize,
    pub(super) first_frame_only: bool,
}

impl BenchUi {
    pub(super) fn from_env() -> Option<Result<BenchUi, Failure>> {
        let spec = std::env::var("BOXOFFICE_BENCH_UI").ok()?;
        Some(BenchUi::parse(&spec))
    }

    pub(super) fn parse(spec: &str) -> Result<BenchUi, Failure> {
        let mut b = BenchUi {
            frames: 200,
            ..Default::default()
        };
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.split_once('=') {
                None if part == "first-frame" => b.first_frame_only = true,
                Some(("concert", c)) => b.concert = Some(c.to_string()),
                Some(("frames", n)) => {
                    b.frames = n
                        .parse()
                        .map_err(|_| usage(format!("BOXOFFICE_BENCH_UI: `{n}` is not a number")))?
                }
                _ => {
                    return Err(usage(format!(
                        "BOXOFFICE_BENCH_UI: `{part}` is not first-frame, concert=ID or frames=N"
                    )));
                }
            }
        }
        Ok(b)
    }
}

/// `boxoffice config`.
#[derive(Debug, clap::Args)]
pub(super) struct ConfigArgs {
    #[arg(long)]
    pub(super) json: bool,
}

pub(super) fn bench_ui(cli: &Cli, args: &BenchUi, out: &mut String) -> Result<(), Failure> {
    let BenchUi {
        concert,
        frames,
        first_frame_only,
    } = args;
    let started = std::time::Instant::now();
    let ctx = open_ctx(cli)?;
    let concert = concert
        .as_deref()
        .map(|c| ctx.store.resolve_concert(c))
        .transpose()?;
    let opts = app_options(cli, &ctx)?;
    let app = crate::tui::app::App::new(
        ctx.store,
        ctx.processors,
        opts,
        crate::tui::theme::Theme::new(true),
    );
    out.push_str(&crate::tui::bench::run(
        app,
        started,
        concert,
        (*frames).max(10),
        *first_frame_only,
    ));
    Ok(())
}

pub(super) fn config(cli: &Cli, args: &ConfigArgs, out: &mut String) -> Result<(), Failure> {
    let ConfigArgs { json } = args;
    #[derive(Serialize)]
    struct Shown<'a> {
        key: &'a str,
        value: Option<&'a str>,
        source: String,
    }
    let shown: Vec<Shown> = cli
        .in_force
        .iter()
        .map(|(key, value, source)| Shown {
            key,
            value: value.as_deref(),
            source: source.to_string(),
        })
        .collect();
    show(out, *json, &shown, |out| {
        for s in &shown {
            outln!(
                out,
                "{:<14} {:<44} {}",
                s.key,
                printable(s.value.unwrap_or("-")),
                s.source
            );
        }
        Ok(())
    })
}

/// What the terminal app is told about where things are and how it runs.
pub(super) fn app_options(cli: &Cli, ctx: &Ctx) -> Result<crate::tui::screens::Options, Failure> {
    Ok(crate::tui::screens::Options {
        kiosk: cli.kiosk,
        idle: std::time::Duration::from_secs(cli.idle.unwrap_or(120).max(5)),
        gateway: ctx.gateway.clone(),
        spool: ctx.spool.clone(),
        local: super::ctx::local_dir(ctx.store.path())?,
        utc_offset: *chrono::Local::now().offset(),
        zone: std::env::var("TZ")
            .ok()
            .filter(|z| !z.is_empty())
            .or_else(|| iana_time_zone::get_timezone().ok())
            .and_then(|z| z.trim_start_matches(':').parse().ok()),
        door: cli
            .door
            .as_deref()
            .map(|c| ctx.store.resolve_concert(c))
            .transpose()?,
        printer: cli.printer.clone(),
        printer_codepage: cli.codepage(),
        rehearsal: cli.now.is_some(),
    })
}

/// `boxoffice` with no subcommand: the terminal app.
pub(super) fn run_app(cli: &Cli) -> Result<(), Failure> {
    let hang_up = crate::tui::HangUp::listen()?;
    let ctx = open_ctx(cli)?;
    let dir = super::ctx::local_dir(ctx.store.path())?;
    let throwaway = cli.demo && cli.db.is_none();
    if throwaway {
        let dir = dir.clone();
        hang_up.on_forced_exit(move || {
            let _ = std::fs::remove_dir_all(dir);
        });
    }
    let opts = app_options(cli, &ctx)?;
    let Ctx {
        store,
        processors,
        mut log,
        ..
    } = ctx;
    log.write(&format!(
        "app started (kiosk: {}, demo: {})",
        cli.kiosk, cli.demo
    ));
    // The app keeps a sender of its own for as long as it runs.
    drop(super::ctx::take_sender());
    let app = crate::tui::app::App::new(
        store,
        processors,
        opts,
        crate::tui::theme::Theme::from_env(),
    );
    let result = crate::tui::run(app, &hang_up);
    hang_up.finished();
    if throwaway {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result.map_err(|e| Failure {
        code: 1,
        message: format!("{e:#}"),
    })
}
