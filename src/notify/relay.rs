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
    /// machine can read a process's arguments). `ca`: CA certificates (PEM) its certificate
    /// may also come from, beside the public CAs (a company's own).
    pub fn new(url: &str, password: Option<&str>, ca: Option<&[u8]>) -> Result<MailRelay, String> {
        use lettre::transport::smtp::client::{Tls, TlsParameters};
        let bad = |why: &str| format!("--smtp `{}`: {why}", crate::text::without_password(url));
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
        let mode = tls;
        let params = || {
            let mut b = TlsParameters::builder(host.clone());
            if let Some(pem) = ca {
                let cert = lettre::transport::smtp::client::Certificate::from_pem(pem)
                    .map_err(|e| bad(&format!("the CA file: {e}")))?;
                b = b.add_root_certificate(cert);
            }
            b.build().map_err(|e| bad(&e.to_string()))
        };
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
        // A password never crosses the network in clear: AUTH needs TLS, or a relay on this
        // machine that the URL says has none (`?tls=none`, on a loopback address).
        // (An smtp: URL's host is not parsed as an address by the URL parser: read it here.)
        let loopback = parsed.host_str().is_some_and(|h| {
            h.eq_ignore_ascii_case("localhost")
                || h.trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
        if !user.is_empty() && mode == "opportunistic" {
            return Err(bad(
                "tls=opportunistic would send the password in clear to a relay that offers no \
                 TLS; use tls=starttls (the default on port 587) or smtps://",
            ));
        }
        if !user.is_empty() && mode == "none" && !(loopback && tls_asked.as_deref() == Some("none"))
        {
            return Err(bad(&format!(
                "logging in without TLS would send the password in clear; use \
                 smtp://USER@HOST:587 (STARTTLS) or smtps://USER@HOST:465, or, for a relay on \
                 this machine, say so: smtp://USER@localhost:{port}?tls=none"
            )));
        }
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
    /// The URL as it may be shown: a password or a token in it masked.
    shown: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for SmsGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmsGateway({})", self.shown)
    }
}

impl SmsGateway {
    /// A gateway at `url` (http or https), sending with `token` as its bearer token if given.
    /// `ca`: the CA certificates (PEM) its certificate must come from, instead of the public
    /// CAs (a company's own; a file that is the system's bundle keeps the public ones too).
    pub fn new(url: &str, token: Option<&str>, ca: Option<&[u8]>) -> Result<SmsGateway, String> {
        let shown = crate::text::without_password(url);
        let parsed = url::Url::parse(url).map_err(|e| format!("--sms-gateway `{shown}`: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!(
                "--sms-gateway `{shown}`: an http:// or https:// URL of the gateway"
            ));
        }
        let mut config = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .http_status_as_error(false);
        if let Some(pem) = ca {
            let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(format!(
                    "--sms-gateway `{shown}`: the CA file holds no certificate"
                ));
            }
            config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(certs)))
                    .build(),
            );
        }
        let agent = config.build().into();
        Ok(SmsGateway {
            url: url.to_string(),
            shown,
            token: token.map(str::to_string),
            agent,
        })
    }

    /// Where it sends, for `spool status` and the log: its URL, a password or token in it
    /// masked.
    pub fn shown(&self) -> &str {
        &self.shown
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
                    200..=299 => Sent::Accepted(format!("{} (HTTP {status})", self.shown)),
                    400..=499 => Sent::Refused(format!("{}: HTTP {status} {said}", self.shown)),
                    _ => Sent::Later(format!("{}: HTTP {status} {said}", self.shown)),
                }
            }
            Err(e) => Sent::Later(format!("{}: {e}", self.shown)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> String {
        MailRelay::new(url, Some("pw"), None).unwrap_err()
    }

    #[test]
    fn a_login_is_never_sent_without_tls_unless_the_relay_is_this_machine_and_said_so() {
        for url in [
            "smtp://tickets@mail.example:25",
            "smtp://tickets@mail.example:2525?tls=none",
            "smtp://tickets@localhost:25",
        ] {
            let said = refused(url);
            assert!(
                said.contains("password in clear") && said.contains("?tls=none"),
                "{said}"
            );
        }
        let said = refused("smtp://tickets@mail.example:587?tls=opportunistic");
        assert!(said.contains("tls=starttls"), "{said}");
        for url in [
            "smtp://tickets@localhost:25?tls=none",
            "smtp://tickets@127.0.0.1:2525?tls=none",
            "smtp://tickets@[::1]:25?tls=none",
            "smtp://tickets@mail.example:587",
            "smtps://tickets@mail.example",
            "smtp://mail.example:25",
            "smtp://mail.example:587?tls=opportunistic",
        ] {
            let made = MailRelay::new(url, Some("pw"), None);
            assert!(made.is_ok(), "{url}: {made:?}");
        }
    }
}
