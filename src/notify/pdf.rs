//! A booking's tickets as a PDF, one page per seat: the concert, the venue, the local date and
//! time with its zone, the seat, its category and price, the booking code, the holder's name,
//! and the ticket's QR code (its own code, which the door scans). Written with `pdf-writer`
//! and PDF's standard Helvetica, so the file needs no embedded font and opens anywhere.

use crate::error::Result;
use crate::model::{Booking, Money};
use crate::store::Store;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

/// A6 landscape would cut the QR code close; A5 portrait, in points.
const PAGE: (f32, f32) = (420.0, 595.0);
const MARGIN: f32 = 36.0;
/// One QR module, in points (about 8 pixels at 150 dpi: a phone or a scanner reads it).
const MODULE: f32 = 5.0;

impl Store {
    /// The tickets of booking `code` as a PDF (a cancelled booking's are marked void).
    pub fn tickets_pdf(&self, code: &str) -> Result<Vec<u8>> {
        let booking = self.booking(code)?;
        Ok(render(&booking))
    }
}

/// The PDF of a booking's tickets.
pub fn render(b: &Booking) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let mut next = 5;
    let mut alloc = || {
        next += 1;
        Ref::new(next - 1)
    };
    let pages: Vec<(Ref, Ref)> = b.tickets.iter().map(|_| (alloc(), alloc())).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(pages.iter().map(|p| p.0))
        .count(pages.len() as i32);
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    let when = super::at_venue(b.concert.starts_at, &b.concert.timezone).long;
    for (ticket, (page_id, content_id)) in b.tickets.iter().zip(&pages) {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE.0, PAGE.1));
        page.parent(tree);
        page.contents(*content_id);
        page.resources()
            .fonts()
            .pair(Name(b"F1"), regular)
            .pair(Name(b"F2"), bold);
        page.finish();

        let seat = b.seats.iter().find(|s| s.seat == ticket.seat);
        let mut c = Content::new();
        let mut y = PAGE.1 - MARGIN - 18.0;
        let mut line = |c: &mut Content, font: &[u8], size: f32, text: &str, gap: f32| {
            c.begin_text();
            c.set_font(Name(font), size);
            c.next_line(MARGIN, y);
            c.show(Str(&win_ansi(text)));
            c.end_text();
            y -= gap;
        };
        line(&mut c, b"F2", 20.0, &b.concert.artist, 24.0);
        line(&mut c, b"F1", 13.0, &b.concert.title, 24.0);
        line(
            &mut c,
            b"F1",
            11.0,
            &format!("{}, {}", b.concert.venue, b.concert.city),
            16.0,
        );
        line(&mut c, b"F1", 11.0, &when, 30.0);
        line(&mut c, b"F2", 16.0, &format!("Seat {}", ticket.seat), 20.0);
        if let Some(s) = seat {
            line(
                &mut c,
                b"F1",
                11.0,
                &format!(
                    "{}   {}",
                    s.category_name,
                    Money::new(s.price_cents, &b.currency)
                ),
                16.0,
            );
        }
        line(
            &mut c,
            b"F1",
            11.0,
            &format!("Booking {}", b.booking_code),
            16.0,
        );
        if let Some(name) = &b.customer.name {
            line(&mut c, b"F1", 11.0, &format!("For {name}"), 16.0);
        }
        let void = ticket.state == crate::TicketState::Cancelled;
        if void {
            // The seat's ticket, or the whole booking's, was cancelled: which one it was.
            let why = if b.state == crate::BookingState::Cancelled {
                "VOID: this booking was cancelled"
            } else {
                "VOID: this seat was cancelled"
            };
            line(&mut c, b"F2", 16.0, why, 16.0);
        }
        // The QR code, dark on white with its quiet zone, centred below the text; a void
        // ticket carries none (nothing to scan).
        if let Some(qr) = (!void)
            .then(|| qrcode::QrCode::new(ticket.ticket_code.as_bytes()).ok())
            .flatten()
        {
            let n = qr.width();
            let size = (n as f32 + 8.0) * MODULE;
            let x0 = (PAGE.0 - size) / 2.0;
            let y0 = MARGIN + 28.0;
            c.set_fill_gray(1.0);
            c.rect(x0, y0, size, size);
            c.fill_nonzero();
            c.set_fill_gray(0.0);
            for (i, color) in qr.to_colors().iter().enumerate() {
                if *color == qrcode::Color::Dark {
                    let (col, row) = ((i % n) as f32, (i / n) as f32);
                    c.rect(
                        x0 + (4.0 + col) * MODULE,
                        y0 + size - (5.0 + row) * MODULE,
                        MODULE,
                        MODULE,
                    );
                }
            }
            c.fill_nonzero();
            c.begin_text();
            c.set_font(Name(b"F1"), 10.0);
            c.next_line(x0 + 4.0 * MODULE, MARGIN + 12.0);
            c.show(Str(ticket.ticket_code.as_bytes()));
            c.end_text();
        }
        pdf.stream(*content_id, &c.finish());
    }
    pdf.finish()
}

/// Text for a standard font: WinAnsi (Latin-1 with the euro sign); anything else becomes `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '€' => 0x80,
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            _ => b'?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_outside_latin_1_becomes_a_question_mark_not_garbage() {
        assert_eq!(win_ansi("Müller €5 Ωx"), b"M\xfcller \x805 ?x".to_vec());
    }
}
