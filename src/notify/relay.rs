//! Where messages leave the machine, when configured: a mail relay (SMTP submission) for email
//! and an HTTP SMS gateway for SMS. Without them the spool's files are the delivery.
//!
//! Both answer the spooler in the same three ways: sent (with what the other side said), a
//! refusal that will not change (5xx from the relay, 4xx from the gateway: the message is
//! marked failed with the server's words), or a failure worth retrying (4xx from the relay,
//! 5xx or no answer from the gateway: retried with the outbox's backoff).

use std::time::Duration;

/// How long a relay or gateway may take to answer before the attempt counts as failed (and is
/// retried later).
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// What became of one message sent to a relay or gateway.
#[derive(Debug)]
pub enum Sent {
    /// Accepted: where it went, and what the server said.
    Accepted(String),
    /// Refused for good: the server's words.
    Refused(String),
    /// Not now (busy, unreachable, timed out): the reason; it is retried.
    Later(String),
}

/// An SMTP submission relay: `smtp://USER@HOST:587` (STARTTLS required), `smtps://USER@HOST:465`
/// (TLS from the start), `smtp://HOST:25` (no TLS; any port with `?tls=none`).
#[derive(Clone)]
pub struct MailRelay {
    transport: lettre::SmtpTransport,
    shown: String,
}

impl std::fmt::Debug for MailRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MailRelay({})", self.shown)
    }
}

impl MailRelay {
    /// The relay at `url`, logging in with the URL's user and `password` (from the environment
    /// or the settings file: a password in the URL is refused, since other users of the
    /// machine can read a process's arguments).
    pub fn new(url: &str, password: Option<&str>) -> Result<MailRelay, String> {
        use lettre::transport::smtp::client::{Tls, TlsParameters};
        let bad = |why: &str| format!("--smtp `{url}`: {why}");
        let parsed = url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
        if parsed.password().is_some() {
            return Err(bad(
                "the password goes in BOXOFFICE_SMTP_PASSWORD or the settings file, not in the URL",
            ));
        }
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("no host (smtp://USER@HOST:587)"))?
            .to_string();
        let tls_asked = parsed
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.to_string());
        let (port, tls) = match (parsed.scheme(), tls_asked.as_deref()) {
            ("smtps", None | Some("wrapper")) => (parsed.port().unwrap_or(465), "wrapper"),
            ("smtp", Some("none")) => (parsed.port().unwrap_or(25), "none"),
            ("smtp", Some("opportunistic")) => (parsed.port().unwrap_or(587), "opportunistic"),
            ("smtp", Some("starttls" | "required")) => (parsed.port().unwrap_or(587), "starttls"),
            ("smtp", None) => match parsed.port().unwrap_or(587) {
                25 => (25, "none"),
                port => (port, "starttls"),
            },
            ("smtp" | "smtps", Some(other)) => {
                return Err(bad(&format!(
                    "tls={other} is not one of none, starttls, opportunistic"
                )));
            }
            (other, _) => return Err(bad(&format!("`{other}:` is not smtp: or smtps:"))),
        };
        let params = || TlsParameters::new(host.clone()).map_err(|e| bad(&e.to_string()));
        let tls = match tls {
            "wrapper" => Tls::Wrapper(params()?),
            "starttls" => Tls::Required(params()?),
            "opportunistic" => Tls::Opportunistic(params()?),
            _ => Tls::None,
        };
        let mut builder = lettre::SmtpTransport::builder_dangerous(host.clone())
            .port(port)
            .tls(tls)
            .timeout(Some(TIMEOUT));
        let user = parsed.username();
        if !user.is_empty() {
            let user = url::form_urlencoded::parse(format!("u={user}").as_bytes())
                .next()
                .map(|(_, v)| v.to_string())
                .unwrap_or_default();
            let password = password.ok_or_else(|| {
                bad("a user is given but no password: set BOXOFFICE_SMTP_PASSWORD or smtp_password in the settings file")
            })?;
            builder =
                builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
                    user,
                    password.to_string(),
                ));
        }
        let shown = format!("{}://{host}:{port}", parsed.scheme());
        Ok(MailRelay {
            transport: builder.build(),
            shown,
        })
    }

    /// Where it sends, for `spool status` and the log (no user, no password).
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Sends one message as rendered (the same bytes the spool would write).
    pub fn send(&self, from: &str, to: &str, message: &[u8]) -> Sent {
        use lettre::Transport;
        let envelope = match (from.parse(), to.parse()) {
            (Ok(from), Ok(to)) => match lettre::address::Envelope::new(Some(from), vec![to]) {
                Ok(e) => e,
                Err(e) => return Sent::Refused(format!("bad envelope: {e}")),
            },
            (Err(e), _) | (_, Err(e)) => return Sent::Refused(format!("bad address: {e}")),
        };
        match self.transport.send_raw(&envelope, message) {
            Ok(response) => Sent::Accepted(format!(
                "{} ({} {})",
                self.shown,
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
            Err(e) if e.is_permanent() => Sent::Refused(format!("{}: {e}", self.shown)),
            Err(e) => Sent::Later(format!("{}: {e}", self.shown)),
        }
    }
}

/// An HTTP SMS gateway: each message a `POST` of `{"to": "+43…", "text": "…", "reference":
/// "…"}` (JSON) with `Authorization: Bearer TOKEN`. 2xx is sent; 4xx refused for good; 5xx, a
/// time-out or no connection is tried again later. `reference` is the same for every attempt
/// at one message, so a gateway can drop a repeat.
#[derive(Clone)]
pub struct SmsGateway {
    url: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for SmsGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmsGateway({})", self.url)
    }
}

impl SmsGateway {
    /// A gateway at `url` (http or https), sending with `token` as its bearer token if given.
    pub fn new(url: &str, token: Option<&str>) -> Result<SmsGateway, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("--sms-gateway `{url}`: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!(
                "--sms-gateway `{url}`: an http:// or https:// URL of the gateway"
            ));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(SmsGateway {
            url: url.to_string(),
            token: token.map(str::to_string),
            agent,
        })
    }

    /// Where it sends, for `spool status` and the log: its URL as given.
    pub fn shown(&self) -> &str {
        &self.url
    }

    /// Sends one SMS `text` to the number `to`, under `reference` (the same for every attempt).
    pub fn send(&self, to: &str, text: &str, reference: &str) -> Sent {
        let body =
            serde_json::json!({ "to": to, "text": text, "reference": reference }).to_string();
        let mut request = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json");
        if let Some(token) = &self.token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        match request.send(&body) {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let said: String = response
                    .body_mut()
                    .read_to_string()
                    .unwrap_or_default()
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(200)
                    .collect();
                match status {
                    200..=299 => Sent::Accepted(format!("{} (HTTP {status})", self.url)),
                    400..=499 => Sent::Refused(format!("{}: HTTP {status} {said}", self.url)),
                    _ => Sent::Later(format!("{}: HTTP {status} {said}", self.url)),
                }
            }
            Err(e) => Sent::Later(format!("{}: {e}", self.url)),
        }
    }
}
