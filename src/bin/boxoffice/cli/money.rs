//! `reconcile`, `audit` and `spool`: the money and the messages.

use super::*;

/// `boxoffice reconcile`.
#[derive(Debug, clap::Args)]
pub(super) struct ReconcileArgs {
    #[arg(long)]
    pub(super) json: bool,
}

/// `boxoffice audit`.
#[derive(Debug, clap::Args)]
pub(super) struct AuditArgs {
    #[arg(long)]
    pub(super) json: bool,
}

/// `boxoffice spool`.
#[derive(Debug, clap::Args)]
pub(super) struct SpoolArgs {
    #[command(subcommand)]
    pub(super) action: SpoolAction,
}

/// `boxoffice report`.
#[derive(Debug, clap::Args)]
pub(super) struct ReportArgs {
    /// The day, in this terminal's time zone [default: today]
    #[arg(long, value_name = "YYYY-MM-DD", conflicts_with = "all")]
    pub(super) day: Option<String>,
    /// Everything ever taken, not one day
    #[arg(long)]
    pub(super) all: bool,
    #[arg(long)]
    pub(super) json: bool,
}

pub(super) fn report(cli: &Cli, args: &ReportArgs, out: &mut String) -> Result<(), Failure> {
    let ReportArgs { day, all, json } = args;
    let day = day.as_deref().map(search::parse_date).transpose()?;
    let ctx = open_ctx(cli)?;
    let day = match (day, *all) {
        (Some(d), _) => Some(d),
        (None, true) => None,
        (None, false) => Some(boxoffice::report::local_today(ctx.store.now())),
    };
    let (from, to) = match day {
        Some(d) => boxoffice::report::local_day(d),
        None => (None, None),
    };
    let report = ctx.store.report(from, to, cli.clerk.as_deref())?;
    show(out, *json, &report, |out| {
        let money = |c: i64| Money::new(c, "EUR").plain();
        outln!(
            out,
            "takings {}{}",
            day.map(|d| d.format("%a %d %b %Y").to_string())
                .unwrap_or_else(|| "of every day".into()),
            cli.clerk
                .as_deref()
                .map(|c| format!(", clerk {}", printable(c)))
                .unwrap_or_else(|| ", every clerk".into())
        );
        outln!(out, "{:<10} {:>14} {:>14}", "method", "sales", "refunds");
        for m in &report.by_method {
            outln!(
                out,
                "{:<10} {:>14} {:>14}",
                m.method,
                money(m.sales_cents),
                money(m.refunds_cents)
            );
        }
        outln!(
            out,
            "{:<10} {:>14} {:>14}",
            "total",
            money(report.sales_cents()),
            money(report.refunds_cents())
        );
        outln!(
            out,
            "cash in the drawer {}",
            money(report.cash_in_drawer_cents)
        );
        if !report.concerts.is_empty() {
            outln!(out, "{:<40} {:>7} {:>10}", "concert", "sold", "checked in");
            for c in &report.concerts {
                outln!(
                    out,
                    "{:<40} {:>7} {:>10}",
                    truncate(&format!("#{} {}", c.id, printable(&c.artist)), 40),
                    c.tickets_sold,
                    c.checked_in
                );
            }
        }
        Ok(())
    })
}

pub(super) fn reconcile(cli: &Cli, args: &ReconcileArgs, out: &mut String) -> Result<(), Failure> {
    let ReconcileArgs { json } = args;
    let mut ctx = open_ctx(cli)?;
    let again = ctx.store.reconcile(&ctx.processors)?;
    ctx.log.write(&format!("reconcile: {again:?}"));
    // Start-up has just done the work: what it did is this command's answer too.
    let mut report = std::mem::take(&mut ctx.started);
    report.absorb(again);
    show(out, *json, &report, |out| {
        outln!(
            out,
            "confirmed {} ({}), released {}, refunded {}, refunds completed {}, in flight {}, processor unreachable {}",
            report.confirmed.len(),
            report.confirmed.join(" "),
            report.released,
            report.refunded,
            report.refunds_completed,
            report.in_flight,
            report.unreachable
        );
        Ok(())
    })
}

pub(super) fn audit(cli: &Cli, args: &AuditArgs, out: &mut String) -> Result<(), Failure> {
    let AuditArgs { json } = args;
    let mut ctx = open_ctx(cli)?;
    let audit = ctx.store.audit(&ctx.processors)?;
    ctx.log.write(&format!(
        "audit: {} unmatched, charges {} refunds {} bookings {}",
        audit.unmatched.len(),
        audit.charges_cents,
        audit.refunds_cents,
        audit.bookings_cents
    ));
    show(out, *json, &audit, |out| {
        let money = |c| Money::new(c, "EUR").plain();
        outln!(
            out,
            "{:<10} {:>14} {:>14} {:>14}",
            "method",
            "charges",
            "refunds",
            "bookings"
        );
        for m in &audit.by_method {
            outln!(
                out,
                "{:<10} {:>14} {:>14} {:>14}",
                m.method,
                money(m.charges_cents),
                money(m.refunds_cents),
                money(m.bookings_cents)
            );
        }
        outln!(
            out,
            "{:<10} {:>14} {:>14} {:>14}",
            "total",
            money(audit.charges_cents),
            money(audit.refunds_cents),
            money(audit.bookings_cents)
        );
        if audit.is_clean() {
            outln!(out, "every charge has its booking or its refund");
        }
        for u in &audit.unmatched {
            outln!(
                out,
                "unmatched {} {}: {}",
                printable(&u.reference),
                money(u.amount_cents),
                u.why
            );
        }
        Ok(())
    })?;
    if !audit.is_clean() {
        return Err(Failure {
            code: 1,
            message: format!(
                "{} {} not match",
                audit.unmatched.len(),
                if audit.unmatched.len() == 1 {
                    "entry does"
                } else {
                    "entries do"
                }
            ),
        });
    }
    Ok(())
}

pub(super) fn spool(cli: &Cli, args: &SpoolArgs, out: &mut String) -> Result<(), Failure> {
    let SpoolArgs { action } = args;
    let mut ctx = open_ctx(cli)?;
    let json = match action {
        SpoolAction::Status { json } => *json,
        SpoolAction::Flush { json } | SpoolAction::Send { json } => {
            let failed_too = matches!(action, SpoolAction::Flush { .. });
            let report = ctx.store.deliver_outbox(&ctx.spool, failed_too)?;
            if !*json {
                outln!(out, "delivered {}", report.delivered.len());
                for e in &report.errors {
                    outln!(out, "error     {e}");
                }
            }
            *json
        }
    };
    let status = ctx.store.outbox_status()?;
    show(out, json, &status, |out| {
        outln!(
            out,
            "spool {}: {} delivered, {} pending, {} failed",
            ctx.spool.root().display(),
            status.delivered,
            status.pending,
            status.failed
        );
        let (email_to, sms_to) = ctx.spool.routes();
        outln!(out, "email to {email_to}");
        outln!(out, "sms to   {sms_to}");
        for r in &status.by_route {
            outln!(out, "{:<12} {} delivered", r.via, r.delivered);
        }
        if status.missing > 0 {
            outln!(
                out,
                "{} delivered {} no longer in the spool (moved or deleted since)",
                status.missing,
                if status.missing == 1 {
                    "message is"
                } else {
                    "messages are"
                }
            );
        }
        for w in &status.waiting {
            outln!(
                out,
                "#{} {} {} to {}: {} after {} attempts{}",
                w.id,
                w.kind,
                w.channel,
                w.recipient,
                w.state,
                w.attempts,
                w.last_error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            );
        }
        Ok(())
    })
}

#[derive(Debug, Subcommand)]
pub(super) enum SpoolAction {
    /// What is waiting to be written to the spool, and why
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Write every waiting message now, failed ones included
    Flush {
        #[arg(long)]
        json: bool,
    },
    /// Send every message that is due now, through the relay and gateway too, taking as long
    /// as they take (other commands give them a few seconds after their output)
    Send {
        #[arg(long)]
        json: bool,
    },
}
