//! The spool: messages become files a mail or SMS gateway (or a person) picks up, and where
//! each channel goes instead when a relay or gateway is configured (`outbox.rs` decides and
//! records; this file writes).
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
use crate::files::private_dir;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use super::email::ascii_address;
use super::email::render_email;
use super::message::Message;

/// A message as a Maildir file holds it: with the machine's line ends (`\n`), as mail
/// clients reading the directory expect (mutt showed `^M` at the end of every header line).
/// What goes to a relay keeps SMTP's `\r\n`.
fn local_line_ends(message: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len());
    let mut bytes = message.iter().peekable();
    while let Some(&b) = bytes.next() {
        if b == b'\r' && bytes.peek() == Some(&&b'\n') {
            continue;
        }
        out.push(b);
    }
    out
}
use lettre::message::Mailbox;

/// The sender of every email unless [`Spool::with_from`] sets another.
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

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

impl Spool {
    /// A spool in the directory `root` (created when the first message is written), with no relay
    /// or gateway and the default sender ([`FROM`]).
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

    /// Whether some messages leave the machine (a mail relay or an SMS gateway is configured):
    /// those are sent by a sender of their own ([`Store::start_sender`](crate::Store)).
    pub fn sends_away(&self) -> bool {
        self.relay.is_some() || self.sms_gateway.is_some()
    }

    /// The mail relay email goes through, if one is configured.
    pub(super) fn relay(&self) -> Option<&super::relay::MailRelay> {
        self.relay.as_ref()
    }

    /// The SMS gateway SMS go through, if one is configured.
    pub(super) fn sms_gateway(&self) -> Option<&super::relay::SmsGateway> {
        self.sms_gateway.as_ref()
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

    /// The spool's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The Maildir email is written to: `<spool>/email`.
    pub fn email_dir(&self) -> PathBuf {
        self.root.join("email")
    }

    /// The directory SMS are written to: `<spool>/sms`.
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
    fn final_path(&self, row: &Message) -> PathBuf {
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
    fn tmp_path(&self, row: &Message) -> PathBuf {
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
        row: &Message,
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

    /// Writes the message into its file in the spool (once, whatever happens on the way).
    pub(super) fn write(&self, row: &Message) -> std::io::Result<PathBuf> {
        self.ensure()?;
        let final_path = self.final_path(row);
        let bytes = match row.channel.as_str() {
            "sms" => format!("To: {}\n\n{}\n", row.recipient, row.body).into_bytes(),
            _ => local_line_ends(render_email(row, &self.from).map_err(std::io::Error::other)?),
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

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::io("spool", e)
    }
}
