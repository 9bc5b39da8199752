//! One outbox row as a message to deliver: what the email and SMS writers, the spool and the
//! relay read, and the names that stay the same for every attempt at it (its `Message-ID`,
//! an SMS gateway's reference).

/// One outbox row, read for delivery.
pub(super) struct Message {
    pub(super) id: i64,
    pub(super) channel: String,
    pub(super) recipient: String,
    pub(super) name: Option<String>,
    pub(super) subject: String,
    pub(super) body: String,
    pub(super) calendar: Option<String>,
    pub(super) booking_code: Option<String>,
    pub(super) created_at: i64,
    pub(super) attempts: i64,
    /// The box office's id: part of the file's name.
    pub(super) box_office: std::rc::Rc<str>,
    /// A confirmation's tickets, attached as a PDF.
    pub(super) tickets_pdf: Option<Vec<u8>>,
}

impl Message {
    /// The same for every attempt at this message, unique to the box office: an SMS gateway's
    /// `reference`.
    pub(super) fn reference(&self) -> String {
        format!("boxoffice-{}-{}", self.box_office, self.id)
    }

    /// The email's `Message-ID`: the same for every attempt at this row, and unique to the box
    /// office.
    pub(super) fn message_id(&self) -> String {
        format!(
            "<outbox-{}-{}.{}@boxoffice.localhost>",
            self.box_office,
            self.id,
            self.booking_code.as_deref().unwrap_or("notice")
        )
    }

    /// Whether `existing` is this row's message as the spooler wrote it: the same bytes (an
    /// SMS), or an email with this row's `Message-ID` (a multipart email's boundaries differ
    /// from one rendering to the next).
    pub(super) fn written_as(&self, existing: &[u8], bytes: &[u8]) -> bool {
        if existing == bytes {
            return true;
        }
        // Its header line, with either line end (a Maildir file has `\n`, a relay's `\r\n`).
        let header = format!("Message-ID: {}", self.message_id());
        self.channel == "email"
            && existing.windows(header.len() + 1).any(|w| {
                w[..header.len()].eq_ignore_ascii_case(header.as_bytes())
                    && matches!(w[header.len()], b'\r' | b'\n')
            })
    }
}
