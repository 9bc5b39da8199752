//! The terminal app (no subcommand), `config`, and the hidden `bench-ui` for benches/render.rs.

use super::*;

/// `boxoffice bench-ui`.
#[derive(Debug, clap::Args)]
pub(super) struct BenchUiArgs {
    #[arg(long)]
    pub(super) concert: Option<String>,
    #[arg(long, default_value_t = 200)]
    pub(super) frames: usize,
    #[arg(long)]
    pub(super) first_frame_only: bool,
}

/// `boxoffice config`.
#[derive(Debug, clap::Args)]
pub(super) struct ConfigArgs {
    #[arg(long)]
    pub(super) json: bool,
}

pub(super) fn bench_ui(cli: &Cli, args: &BenchUiArgs, out: &mut String) -> Result<(), Failure> {
    let BenchUiArgs {
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
    let opts = app_options(cli, &ctx);
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
pub(super) fn app_options(cli: &Cli, ctx: &Ctx) -> crate::tui::app::Options {
    crate::tui::app::Options {
        kiosk: cli.kiosk,
        idle: std::time::Duration::from_secs(cli.idle.unwrap_or(120).max(5)),
        gateway: ctx.gateway.clone(),
        spool: ctx.spool.clone(),
        db: ctx.store.path().to_path_buf(),
        utc_offset: *chrono::Local::now().offset(),
    }
}

/// `boxoffice` with no subcommand: the terminal app.
pub(super) fn run_app(cli: &Cli) -> Result<(), Failure> {
    let ctx = open_ctx(cli)?;
    let db = ctx.store.path().to_path_buf();
    let dir = db.parent().map(PathBuf::from).unwrap_or_default();
    let opts = app_options(cli, &ctx);
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
    let app = crate::tui::app::App::new(
        store,
        processors,
        opts,
        crate::tui::theme::Theme::from_env(),
    );
    let result = crate::tui::run(app);
    if cli.demo && cli.db.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result.map_err(|e| Failure {
        code: 1,
        message: format!("{e:#}"),
    })
}
