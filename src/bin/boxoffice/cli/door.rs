//! `ticket` and `checkin`: a booking's tickets (as a PDF), and the door, where a scanner types
//! a ticket's code and Enter, as a keyboard does.

use super::*;
use boxoffice::booking::door::{CheckIn, Entry};

/// `boxoffice checkin`.
#[derive(Debug, clap::Args)]
pub(super) struct CheckinArgs {
    /// The ticket's code, as scanned from its QR code
    pub(super) ticket: String,
    /// Which door (shown when the ticket is scanned again elsewhere)
    #[arg(long)]
    pub(super) door: Option<String>,
    /// Refuse tickets for any other concert (number or external id)
    #[arg(long)]
    pub(super) concert: Option<String>,
    /// Reverse a mistaken scan: the ticket is valid again (only the last admission at this
    /// --door, within 5 minutes of it)
    #[arg(long)]
    pub(super) undo: bool,
    #[arg(long)]
    pub(super) json: bool,
}

/// `boxoffice ticket`.
#[derive(Debug, clap::Args)]
pub(super) struct TicketArgs {
    /// The booking's code
    pub(super) code: String,
    /// Write the tickets to this PDF file, one page per seat with its QR code (a new file,
    /// the owner's only; an existing one only with --replace)
    #[arg(long, value_name = "FILE")]
    pub(super) pdf: Option<PathBuf>,
    /// Replace the file --pdf names if it is there
    #[arg(long, requires = "pdf")]
    pub(super) replace: bool,
    #[arg(long)]
    pub(super) json: bool,
}

pub(super) fn ticket(cli: &Cli, args: &TicketArgs, out: &mut String) -> Result<(), Failure> {
    let TicketArgs {
        code,
        pdf,
        replace,
        json,
    } = args;
    let ctx = open_ctx(cli)?;
    let booking = ctx.store.booking(code)?;
    if let Some(path) = pdf {
        let bytes = ctx.store.tickets_pdf(code)?;
        let existing = match replace {
            true => boxoffice::files::Existing::Replace,
            false => boxoffice::files::Existing::Keep,
        };
        boxoffice::files::write_private(path, &bytes, existing).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                usage(format!(
                    "{} is there already (a file, or a symbolic link); nothing was written: \
                     name a new file, or add --replace",
                    path.display()
                ))
            } else {
                anyhow::anyhow!("cannot write {}: {e}", path.display()).into()
            }
        })?;
    }
    show(out, *json, &booking.tickets, |out| {
        for t in &booking.tickets {
            outln!(out, "{:<12} {}  {}", t.seat, t.ticket_code, t.state);
        }
        if let Some(path) = pdf {
            outln!(
                out,
                "{} ticket(s) written to {}",
                booking.tickets.len(),
                path.display()
            );
        }
        Ok(())
    })
}

pub(super) fn checkin(cli: &Cli, args: &CheckinArgs, out: &mut String) -> Result<(), Failure> {
    let CheckinArgs {
        ticket,
        door,
        concert,
        undo,
        json,
    } = args;
    let mut ctx = open_ctx(cli)?;
    let concert = concert
        .as_deref()
        .map(|c| ctx.store.resolve_concert(c))
        .transpose()?;
    let scan = if *undo {
        ctx.store.undo_check_in(ticket, door.as_deref(), concert)?
    } else {
        ctx.store.check_in(ticket, door.as_deref(), concert)?
    };
    // Who did it, at which door, what, and how it went (an undo above all: the record of it).
    let clerk = ctx.store.operator().clerk.clone();
    ctx.log.write(&format!(
        "door {} (clerk {}): {} {} {}{}",
        door.as_deref().unwrap_or("-"),
        clerk.as_deref().unwrap_or("-"),
        if *undo { "undo" } else { "scan" },
        scan.ticket,
        match scan.result {
            Entry::Admitted => "admitted",
            Entry::Refused => "refused",
        },
        scan.reason
            .map(|r| format!(" ({})", r.as_str()))
            .unwrap_or_default()
    ));
    show(out, *json, &scan, |out| {
        outln!(out, "{}", door_line(&scan, *undo));
        Ok(())
    })?;
    match scan.result {
        Entry::Admitted => Ok(()),
        Entry::Refused => Err(Failure {
            code: 3,
            message: format!(
                "refused: {}",
                scan.reason.map(|r| r.as_str()).unwrap_or("refused")
            ),
        }),
    }
}

/// What a door steward reads: ADMITTED or REFUSED, the seat and the name, or why not (times as
/// the venue's clock shows them).
pub(crate) fn door_line(scan: &CheckIn, undo: bool) -> String {
    let who = printable(&scan.holder());
    match scan.result {
        Entry::Admitted if undo => format!("UNDONE    {who}: the ticket is valid again"),
        Entry::Admitted => format!(
            "ADMITTED  {who}{}",
            scan.concert_id
                .map(|c| format!("  (concert #{c})"))
                .unwrap_or_default()
        ),
        Entry::Refused => format!("REFUSED   {}", printable(&scan.why())),
    }
}
