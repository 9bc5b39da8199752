//! The spool: outbox rows become files a mail or SMS gateway (or a person) picks up.
//!
//! ```text
//! <spool>/email/{tmp,new,cur}/   Maildir: one RFC 5322 message per file
//! <spool>/sms/                   one message per file: recipient and text
//! ```
//!
//! A file is written under a temporary name of its own (unique to the writing process), synced,
//! then linked into place; its name comes from the box office's id and the outbox row, so a
//! retry after a crash finds it and never writes a second copy, and two box offices sharing
//! one spool never name two messages alike. Nothing is written through a symbolic link, and
//! nothing is written over a file the spooler did not write: temporary files are created
//! exclusively (`O_CREAT|O_EXCL` fails on any existing name, a dangling symbolic link
//! included), a file is put in place with `link(2)` (which never replaces an existing name),
//! and every spool directory must be a real directory.
//! A spool that cannot be written never blocks or undoes a booking: the row stays pending and
//! is retried with backoff, then marked failed with the reason.

use crate::error::{Error, Result};
use crate::params;
use crate::store::{Store, from_ts, ts};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use super::email::ascii_address;
use super::email::render_email;
use lettre::message::Mailbox;

/// After this many failed attempts a message is marked failed (`spool flush` retries it).
pub const MAX_ATTEMPTS: i64 = 6;

pub const FROM: &str = "boxoffice <boxoffice@localhost>";

/// Where outgoing messages go: files in the spool directory, or, when configured, a mail relay
/// for email and an SMS gateway for SMS (the spool directory still holds what the other takes).
#[derive(Debug, Clone)]
pub struct Spool {
    root: PathBuf,
    relay: Option<super::relay::MailRelay>,
    sms_gateway: Option<super::relay::SmsGateway>,
    from: String,
}

/// How long a terminal sending a message keeps others from sending the same one: longer than
/// a relay's time-out, so a message is sent twice only when its sender died after sending and
/// before recording it (then once more, with the same `Message-ID`).
const SEND_LEASE_SECS: i64 = 60;

#[derive(Debug, Clone, Serialize)]
pub struct DeliveredFile {
    pub channel: String,
    pub recipient: String,
    pub path: PathBuf,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SpoolReport {
    pub delivered: Vec<DeliveredFile>,
    /// Rows that failed this time (they stay pending until their attempts run out).
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub kind: String,
    pub channel: String,
    pub recipient: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub file: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct OutboxStatus {
    pub pending: i64,
    pub failed: i64,
    pub delivered: i64,
    /// Every row not yet delivered.
    pub waiting: Vec<OutboxRow>,
    /// Delivered rows whose file is no longer in the spool (moved or deleted since): not
    /// counted as delivered.
    pub missing: i64,
    /// Delivered messages by where they went: `spool` (files), `smtp` (the mail relay),
    /// `sms-gateway`.
    pub by_route: Vec<RouteCount>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RouteCount {
    pub via: String,
    pub delivered: i64,
}

fn private_dir(path: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(path)
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

impl Spool {
    pub fn new(root: impl Into<PathBuf>) -> Spool {
        Spool {
            root: root.into(),
            relay: None,
            sms_gateway: None,
            from: FROM.to_string(),
        }
    }

    /// Email goes through this relay instead of into the Maildir.
    pub fn with_mail_relay(mut self, relay: super::relay::MailRelay) -> Spool {
        self.relay = Some(relay);
        self
    }

    /// SMS go through this gateway instead of into `sms/`.
    pub fn with_sms_gateway(mut self, gateway: super::relay::SmsGateway) -> Spool {
        self.sms_gateway = Some(gateway);
        self
    }

    /// The sender of every email: `"Odeon Box Office" <tickets@odeon.example>`.
    pub fn with_from(mut self, from: &str) -> Result<Spool> {
        let mailbox: Mailbox = from
            .trim()
            .parse()
            .map_err(|e| Error::invalid(format!("--from `{from}` is not a sender address: {e}")))?;
        self.from = mailbox.to_string();
        Ok(self)
    }

    /// The sender of every email.
    pub fn from(&self) -> &str {
        &self.from
    }

    /// Where email and SMS go, for `spool status`: (email, sms).
    pub fn routes(&self) -> (String, String) {
        (
            self.relay
                .as_ref()
                .map(|r| r.shown().to_string())
                .unwrap_or_else(|| self.email_dir().display().to_string()),
            self.sms_gateway
                .as_ref()
                .map(|g| g.shown().to_string())
                .unwrap_or_else(|| self.sms_dir().display().to_string()),
        )
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn email_dir(&self) -> PathBuf {
        self.root.join("email")
    }

    pub fn sms_dir(&self) -> PathBuf {
        self.root.join("sms")
    }

    /// Creates the spool's directories, and refuses any that is not a real directory (a
    /// symbolic link put there would send messages, and personal data, somewhere else).
    fn ensure(&self) -> std::io::Result<()> {
        for sub in ["tmp", "new", "cur"] {
            private_dir(&self.email_dir().join(sub))?;
        }
        private_dir(&self.sms_dir())?;
        for dir in [
            self.email_dir(),
            self.email_dir().join("tmp"),
            self.email_dir().join("new"),
            self.email_dir().join("cur"),
            self.sms_dir(),
        ] {
            if !std::fs::symlink_metadata(&dir)?.file_type().is_dir() {
                return Err(std::io::Error::other(format!(
                    "{} is not a directory (a symbolic link?); nothing is written through it",
                    dir.display()
                )));
            }
        }
        Ok(())
    }

    /// Where a row's file ends up: its name derives from the box office and the row alone.
    fn final_path(&self, row: &Row) -> PathBuf {
        match row.channel.as_str() {
            "sms" => self.sms_dir().join(format!(
                "{}-{}-{}.txt",
                row.created_at, row.box_office, row.id
            )),
            _ => self.email_dir().join("new").join(format!(
                "{}.boxoffice-{}-{}.localhost",
                row.created_at, row.box_office, row.id
            )),
        }
    }

    /// A temporary name no other process (and no other attempt) uses.
    fn tmp_path(&self, row: &Row) -> PathBuf {
        let unique = format!(
            "{}.{}.{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple(),
            row.id
        );
        match row.channel.as_str() {
            "sms" => self.sms_dir().join(format!(".{unique}.tmp")),
            _ => self.email_dir().join("tmp").join(unique),
        }
    }

    /// Whether the row's file is already in place (a crash after it was linked, before the row
    /// was marked; or another terminal delivering the same row at the same moment): a regular
    /// file with exactly these bytes. A mail client may have moved it to `cur/` with flags
    /// appended. Anything else under its name was not written by the spooler, and is left alone.
    fn already_delivered(
        &self,
        row: &Row,
        final_path: &Path,
        bytes: &[u8],
    ) -> std::io::Result<bool> {
        match std::fs::symlink_metadata(final_path) {
            Ok(meta)
                if meta.file_type().is_file()
                    && row.written_as(&std::fs::read(final_path)?, bytes) =>
            {
                return Ok(true);
            }
            Ok(_) => {
                return Err(std::io::Error::other(format!(
                    "{} exists and was not written by boxoffice; it is left alone",
                    final_path.display()
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        if row.channel == "email"
            && let Some(name) = final_path.file_name().and_then(|n| n.to_str())
            && let Ok(entries) = std::fs::read_dir(self.email_dir().join("cur"))
        {
            return Ok(entries.flatten().any(|e| {
                e.file_name().to_string_lossy().starts_with(name)
                    && e.file_type().is_ok_and(|t| t.is_file())
            }));
        }
        Ok(false)
    }

    /// Whether the row leaves through a relay or gateway (not into a file).
    fn sends_away(&self, row: &Row) -> bool {
        match row.channel.as_str() {
            "email" => self.relay.is_some(),
            _ => self.sms_gateway.is_some(),
        }
    }

    /// Sends one row where it goes: the relay or gateway if one is configured for its
    /// channel, else a file in the spool.
    fn deliver_row(&self, row: &Row) -> Outcome {
        use super::relay::Sent;
        let sent = match (row.channel.as_str(), &self.relay, &self.sms_gateway) {
            ("email", Some(relay), _) => {
                let message = match render_email(row, &self.from) {
                    Ok(m) => m,
                    Err(e) => return Outcome::Refused(e),
                };
                let from = self
                    .from
                    .parse::<Mailbox>()
                    .map(|m| m.email.to_string())
                    .unwrap_or_default();
                (
                    relay.send(&from, &ascii_address(&row.recipient), &message),
                    "smtp",
                )
            }
            ("sms", _, Some(gateway)) => (
                gateway.send(&row.recipient, &row.body, &row.reference()),
                "sms-gateway",
            ),
            _ => {
                return match self.write_row(row) {
                    Ok(path) => Outcome::Done {
                        via: "spool",
                        to: path.to_string_lossy().to_string(),
                    },
                    Err(e) => {
                        Outcome::Later(format!("cannot write to {}: {e}", self.root.display()))
                    }
                };
            }
        };
        match sent {
            (Sent::Accepted(to), via) => Outcome::Done { via, to },
            (Sent::Refused(why), _) => Outcome::Refused(why),
            (Sent::Later(why), _) => Outcome::Later(why),
        }
    }

    fn write_row(&self, row: &Row) -> std::io::Result<PathBuf> {
        self.ensure()?;
        let final_path = self.final_path(row);
        let bytes = match row.channel.as_str() {
            "sms" => format!("To: {}\n\n{}\n", row.recipient, row.body).into_bytes(),
            _ => render_email(row, &self.from).map_err(std::io::Error::other)?,
        };
        if self.already_delivered(row, &final_path, &bytes)? {
            return Ok(final_path);
        }
        let tmp = self.tmp_path(row);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        let written = file.write_all(&bytes).and_then(|_| file.sync_all());
        drop(file);
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        crate::failpoint::hit("spool:before-rename");
        let placed = std::fs::hard_link(&tmp, &final_path);
        let _ = std::fs::remove_file(&tmp);
        match placed {
            Ok(()) => {}
            // Delivered by another terminal meanwhile, or something else took the name.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if !self.already_delivered(row, &final_path, &bytes)? {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
        sync_dir(final_path.parent().unwrap_or(&self.root))?;
        crate::failpoint::hit("spool:after-rename");
        Ok(final_path)
    }
}

pub(super) struct Row {
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

/// What became of one message.
enum Outcome {
    /// Delivered: `via` spool, smtp or sms-gateway; `to` the file, or the server and its answer.
    Done { via: &'static str, to: String },
    /// Refused for good (the server's words): marked failed at once.
    Refused(String),
    /// Not now: retried with backoff.
    Later(String),
}

impl Row {
    /// The same for every attempt at this message, unique to the box office: an SMS gateway's
    /// `reference`.
    fn reference(&self) -> String {
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
    fn written_as(&self, existing: &[u8], bytes: &[u8]) -> bool {
        if existing == bytes {
            return true;
        }
        let header = format!("Message-ID: {}\r\n", self.message_id());
        self.channel == "email"
            && existing
                .windows(header.len())
                .any(|w| w.eq_ignore_ascii_case(header.as_bytes()))
    }
}

fn backoff(attempts: i64) -> Duration {
    Duration::seconds(30 * (1 << (attempts.clamp(1, 8) - 1)))
}

impl Store {
    /// Writes every due outbox row to the spool (with `include_failed`, also rows that ran out
    /// of attempts, and pending rows not yet due). Never fails because the spool does: each
    /// row that cannot be written is rescheduled and the reason kept.
    pub fn deliver_outbox(&mut self, spool: &Spool, include_failed: bool) -> Result<SpoolReport> {
        let now = self.now();
        let box_office: std::rc::Rc<str> = self
            .conn()
            .query_row("SELECT id FROM box_office", (), |r| r.get::<String>(0))?
            .into();
        let rows: Vec<Row> = {
            let mut st = self.conn().prepare(
                "SELECT o.id, o.channel, o.recipient, cu.name, o.subject, o.body, o.calendar, o.booking_code, o.created_at, o.attempts,
                        o.kind
                 FROM outbox o LEFT JOIN customers cu ON cu.id = o.customer_id
                 WHERE (o.state = 'pending' AND (o.next_attempt_at <= ?1 OR ?2))
                    OR (o.state = 'failed' AND ?2)
                 ORDER BY o.id",
            )?;
            st.query_map(params![ts(now), include_failed], |r| {
                Ok(Row {
                    id: r.get(0)?,
                    channel: r.get(1)?,
                    recipient: r.get(2)?,
                    name: r.get(3)?,
                    subject: r.get(4)?,
                    body: r.get(5)?,
                    calendar: r.get(6)?,
                    booking_code: r.get(7)?,
                    created_at: r.get(8)?,
                    attempts: r.get(9)?,
                    box_office: box_office.clone(),
                    // Filled below for an email confirming a booking.
                    tickets_pdf: (r.get::<String>(10)? == "confirmation"
                        && r.get::<String>(1)? == "email")
                        .then(Vec::new),
                })
            })?
            .collect::<crate::store::sql::Result<_>>()?
        };
        // A confirmation carries the tickets: rendered as the message is, from the booking as
        // it is now (a ticket voided since says so).
        let mut rows = rows;
        for row in &mut rows {
            if row.tickets_pdf.is_some() {
                row.tickets_pdf = row
                    .booking_code
                    .as_deref()
                    .and_then(|c| self.tickets_pdf(c).ok());
            }
        }
        let mut report = SpoolReport::default();
        for row in rows {
            // Taken for the time it takes to send: another terminal delivering at the same
            // moment leaves it alone. (A file in the spool of a box office on one machine needs
            // no lease: it is linked into place under its one name, and a second writer finds
            // it there. Machines sharing a PostgreSQL box office each have their own spool:
            // there the lease is what makes one machine deliver it.)
            let shared = self.kind() == crate::store::Kind::Postgres;
            let taken = if !spool.sends_away(&row) && !shared {
                1
            } else {
                self.write(|tx, now| {
                    Ok(tx
                    .prepare_cached(
                        "UPDATE outbox SET lease_until = ?2 WHERE id = ?1 AND state != 'delivered'
                         AND (lease_until IS NULL OR lease_until <= ?3)",
                    )?
                    .execute(params![row.id, ts(now) + SEND_LEASE_SECS, ts(now)])?)
                })?
            };
            if taken == 0 {
                continue;
            }
            let outcome = spool.deliver_row(&row);
            crate::failpoint::hit("relay:after-send");
            match outcome {
                Outcome::Done { via, to } => {
                    self.write(|tx, _| {
                        tx.execute(
                            "UPDATE outbox SET state = 'delivered', delivered_at = ?2, file = ?3, via = ?4,
                                 last_error = NULL, lease_until = NULL WHERE id = ?1",
                            params![row.id, ts(now), to, via],
                        )?;
                        Ok(())
                    })?;
                    report.delivered.push(DeliveredFile {
                        channel: row.channel.clone(),
                        recipient: row.recipient.clone(),
                        path: PathBuf::from(to),
                    });
                }
                Outcome::Refused(why) => {
                    self.write(|tx, _| {
                        tx.execute(
                            "UPDATE outbox SET attempts = attempts + 1, state = 'failed', last_error = ?2,
                                 lease_until = NULL WHERE id = ?1",
                            params![row.id, why],
                        )?;
                        Ok(())
                    })?;
                    report.errors.push(why);
                }
                Outcome::Later(why) => {
                    let attempts = row.attempts + 1;
                    let state = if attempts >= MAX_ATTEMPTS {
                        "failed"
                    } else {
                        "pending"
                    };
                    self.write(|tx, _| {
                        tx.execute(
                            "UPDATE outbox SET attempts = ?2, state = ?3, next_attempt_at = ?4, last_error = ?5,
                                 lease_until = NULL WHERE id = ?1",
                            params![row.id, attempts, state, ts(now + backoff(attempts)), why],
                        )?;
                        Ok(())
                    })?;
                    report.errors.push(why);
                }
            }
        }
        Ok(report)
    }

    pub fn outbox_status(&self) -> Result<OutboxStatus> {
        let mut status = OutboxStatus::default();
        let mut st = self.conn().prepare(
            "SELECT state, count(*) FROM outbox WHERE state != 'delivered' GROUP BY state",
        )?;
        for row in st.query_map((), |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)))? {
            let (state, n) = row?;
            match state.as_str() {
                "pending" => status.pending = n,
                _ => status.failed += n,
            }
        }
        // Delivered is what is really on disk: each directory listed once, a message a mail
        // client moved to `cur/` (with flags after its name) included.
        let files: Vec<Option<String>> = self
            .conn()
            .prepare(
                "SELECT file FROM outbox WHERE state = 'delivered' AND coalesce(via, 'spool') = 'spool'",
            )?
            .query_map((), |r| r.get(0))?
            .collect::<crate::store::sql::Result<_>>()?;
        let mut listed: std::collections::HashMap<PathBuf, std::collections::HashSet<String>> =
            Default::default();
        for dir in files.iter().flatten().filter_map(|f| Path::new(f).parent()) {
            for dir in [dir.to_path_buf(), dir.with_file_name("cur")] {
                listed.entry(dir).or_insert_with_key(|dir| {
                    std::fs::read_dir(dir)
                        .map(|entries| {
                            entries
                                .flatten()
                                .map(|e| {
                                    let name = e.file_name().to_string_lossy().to_string();
                                    match name.split_once(":2,") {
                                        Some((base, _)) => base.to_string(),
                                        None => name,
                                    }
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                });
            }
        }
        let present = |dir: &Path, name: &str| listed.get(dir).is_some_and(|n| n.contains(name));
        for file in &files {
            let on_disk = file.as_deref().is_some_and(|f| {
                let path = Path::new(f);
                let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
                    return false;
                };
                let name = name.to_string_lossy();
                present(dir, &name)
                    || dir.file_name().is_some_and(|d| d == "new")
                        && present(&dir.with_file_name("cur"), &name)
            });
            if on_disk {
                status.delivered += 1;
            } else {
                status.missing += 1;
            }
        }
        // What left through a relay or gateway: counted by where it went.
        let mut st = self.conn().prepare(
            "SELECT via, count(*) FROM outbox WHERE state = 'delivered' AND via IN ('smtp', 'sms-gateway')
             GROUP BY via ORDER BY via",
        )?;
        for row in st.query_map((), |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)))? {
            let (via, n) = row?;
            status.delivered += n;
            status.by_route.push(RouteCount { via, delivered: n });
        }
        let on_disk = status.delivered - status.by_route.iter().map(|r| r.delivered).sum::<i64>();
        if on_disk > 0 || status.by_route.is_empty() {
            status.by_route.insert(
                0,
                RouteCount {
                    via: "spool".into(),
                    delivered: on_disk,
                },
            );
        }
        let mut st = self.conn().prepare(
            "SELECT id, kind, channel, recipient, state, attempts, next_attempt_at, last_error, file
             FROM outbox WHERE state != 'delivered' ORDER BY id",
        )?;
        status.waiting = st
            .query_map((), |r| {
                Ok(OutboxRow {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    channel: r.get(2)?,
                    recipient: r.get(3)?,
                    state: r.get(4)?,
                    attempts: r.get(5)?,
                    next_attempt_at: from_ts(r.get(6)?),
                    last_error: r.get(7)?,
                    file: r.get(8)?,
                })
            })?
            .collect::<crate::store::sql::Result<_>>()?;
        Ok(status)
    }

    /// The files delivered for a booking (where its email and SMS went).
    pub fn delivered_files(&self, booking_code: &str) -> Result<Vec<DeliveredFile>> {
        let mut st = self.conn().prepare(
            "SELECT channel, recipient, file FROM outbox WHERE booking_code = ?1 AND state = 'delivered' ORDER BY id",
        )?;
        let rows = st.query_map([booking_code], |r| {
            Ok(DeliveredFile {
                channel: r.get(0)?,
                recipient: r.get(1)?,
                path: PathBuf::from(r.get::<String>(2)?),
            })
        })?;
        Ok(rows.collect::<crate::store::sql::Result<_>>()?)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::io("spool", e)
    }
}
