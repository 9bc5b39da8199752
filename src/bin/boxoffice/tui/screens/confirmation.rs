//! Confirmation: the booking code (also as a QR code), concert, seats, total, and where the
//! email and SMS went.

use super::{Cx, Level, Outcome, View};
use crate::tui::keys::{Cmd, Ctx};
use crate::tui::widgets::safe;
use boxoffice::notify::outbox::DeliveredFile;
use boxoffice::{Booking, Money, Receipt};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

/// A booking just made: its receipt, the booking as stored, the messages delivered for it and
/// its code as a QR code.
pub struct Confirmation {
    pub receipt: Receipt,
    pub booking: Booking,
    pub files: Vec<DeliveredFile>,
    pub qr: Vec<String>,
}

impl Confirmation {
    /// The confirmation of a payment that went through.
    pub fn new(cx: &mut Cx, receipt: Receipt) -> boxoffice::Result<Confirmation> {
        let booking = cx.store.booking(&receipt.booking_code)?;
        let files = cx
            .store
            .delivered_files(&receipt.booking_code)
            .unwrap_or_default();
        Ok(Confirmation {
            qr: qr_lines(&receipt.booking_code),
            receipt,
            booking,
            files,
        })
    }

    pub fn keys(&self) -> (Ctx, bool) {
        (Ctx::Confirmation, false)
    }

    pub fn key(&mut self, cx: &mut Cx, cmd: Option<Cmd>) -> Outcome {
        match cmd {
            Some(Cmd::Back | Cmd::GoConcerts) => Outcome::NextCustomer,
            Some(Cmd::Print) => {
                match self.print(cx) {
                    Ok(said) => cx.say(Level::Ok, said),
                    Err(e) => cx.fail(&e),
                }
                Outcome::Stay
            }
            _ => Outcome::Stay,
        }
    }

    /// The receipt and the tickets: to the receipt printer, or, without one, as a text file and
    /// a PDF in `receipts/` beside the database (to print from any computer).
    fn print(&self, cx: &mut Cx) -> boxoffice::Result<String> {
        let code = &self.receipt.booking_code;
        let receipt = cx.store.sale_receipt(code)?;
        if let Some(printer) = &cx.opts.printer {
            boxoffice::notify::receipt::send_to_printer(
                printer,
                &receipt.escpos(cx.opts.printer_codepage),
            )?;
            return Ok(format!(
                "receipt and {} ticket(s) sent to the printer",
                receipt.booking.tickets.len()
            ));
        }
        let dir = cx.opts.local.join("receipts");
        let io = |source| boxoffice::Error::Io {
            context: format!("cannot write to {}", dir.display()),
            source,
        };
        boxoffice::files::private_dir(&dir).map_err(io)?;
        let text = dir.join(format!("{code}.txt"));
        let pdf = dir.join(format!("{code}-tickets.pdf"));
        // Printed again, the booking's files are replaced whole (never written through a link).
        let replace = boxoffice::files::Existing::Replace;
        let lines = receipt.lines().join("\n") + "\n";
        boxoffice::files::write_private(&text, lines.as_bytes(), replace).map_err(io)?;
        boxoffice::files::write_private(&pdf, &cx.store.tickets_pdf(code)?, replace).map_err(io)?;
        Ok(format!(
            "no printer set: receipt and tickets saved as {} and {}",
            text.display(),
            pdf.display()
        ))
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let c = self;
        let t = v.theme;
        let qr_width = c.qr.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u16;
        // A QR code cut short scans as nothing: where the whole of it (and its quiet zone)
        // does not fit, the code is said in text instead.
        let qr_fits = area.height >= c.qr.len() as u16 + 2 && area.width >= qr_width + 2 + 30;
        let qr_room = if qr_fits { qr_width + 2 } else { 0 };
        let [text, qr] =
            Layout::horizontal([Constraint::Min(30), Constraint::Length(qr_room)]).areas(area);
        let b = &c.booking;
        let mut lines = vec![
            Line::styled(format!("Booking code  {}", c.receipt.booking_code), t.title),
            Line::raw(""),
            Line::raw(safe(&format!("{} - {}", b.concert.artist, b.concert.title))),
            Line::raw(format!(
                "{} · {}, {}",
                b.concert.start_at_venue(),
                safe(&b.concert.venue),
                safe(&b.concert.city)
            )),
            Line::raw(format!("Seats  {}", c.receipt.seats.join(" "))),
            Line::raw(format!(
                "Total  {} ({}){}",
                Money::new(c.receipt.total_cents, &c.receipt.currency),
                c.receipt.method,
                if c.receipt.change_cents > 0 {
                    format!(
                        ", change {}",
                        Money::new(c.receipt.change_cents, &c.receipt.currency)
                    )
                } else {
                    String::new()
                }
            )),
            Line::raw(""),
        ];
        let walk_up = b.customer.email_address().is_none() && b.customer.phone.is_none();
        if walk_up {
            lines.push(Line::styled(
                "No email or phone given: nothing is sent. p prints the receipt and tickets.",
                t.info,
            ));
        } else if c.files.is_empty() {
            lines.push(Line::styled(
                "The confirmation is waiting in the outbox (see `boxoffice spool status`).",
                t.error,
            ));
        }
        if !qr_fits {
            lines.push(Line::styled(
                format!(
                    "At the door: code {} (a larger window shows its QR code)",
                    c.receipt.booking_code
                ),
                t.info,
            ));
        }
        for f in &c.files {
            lines.push(Line::raw(format!(
                "{} to {}:",
                f.channel,
                safe(&f.recipient)
            )));
            lines.push(Line::styled(format!("  {}", f.path.display()), t.dim));
        }
        frame.render_widget(
            Paragraph::new(lines)
                .block(Block::bordered().title(" Booked "))
                .wrap(Wrap { trim: false }),
            text,
        );
        // Dark on light always, with its quiet zone (the margin `qr_lines` draws): a phone
        // reads it from a dark terminal too, with or without colour.
        let style = t.qr;
        let qr_lines: Vec<Line> =
            c.qr.iter()
                .map(|l| Line::styled(l.clone(), style))
                .collect();
        if qr_fits {
            frame.render_widget(Paragraph::new(qr_lines).block(Block::bordered()), qr);
        }
    }
}

/// The booking code as a QR code in half-block characters, with the standard quiet zone of
/// four modules (a phone finds the code's edge on any background).
pub fn qr_lines(code: &str) -> Vec<String> {
    match qrcode::QrCode::new(code.as_bytes()) {
        Ok(qr) => {
            let colors = qr.to_colors();
            // Dark modules are glyphs: drawn black on white by the theme.
            let art = qrcode::render::Renderer::<qrcode::render::unicode::Dense1x2>::new(
                &colors,
                qr.width(),
                4,
            )
            .build();
            art.lines().map(str::to_string).collect()
        }
        Err(_) => vec![code.to_string()],
    }
}
