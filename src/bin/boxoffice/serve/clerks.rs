//! `--clerks FILE`: who may come in over SSH, in OpenSSH's `authorized_keys` format with the
//! clerk's name and what their session is among the options in front of each key:
//!
//! ```text
//! clerk="Anna Gruber" ssh-ed25519 AAAAC3Nza... anna@laptop
//! clerk="Door 1",door=big-1 ssh-ed25519 AAAAC3Nza...
//! clerk="Ben",kiosk,read-only ssh-rsa AAAAB3Nza...
//! ```
//!
//! Keys are Ed25519 (`ssh-keygen -t ed25519`, OpenSSH's default) or ECDSA; an RSA or DSA key is
//! refused with what to make instead (this build has no RSA: the RustCrypto implementation has
//! an advisory without a fix, RUSTSEC-2023-0071).
//!
//! A line without `clerk=`, an option this file does not know, or a key that does not parse is
//! refused with its line number: a typo must not let someone in as the wrong person, or in at
//! all. OpenSSH's restrictions (`restrict`, `pty`, `no-port-forwarding`, ...) are accepted and
//! change nothing: a session here can do nothing else anyway.

use russh::keys::PublicKey;
use std::path::Path;

/// One clerk's key and what their session is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clerk {
    pub name: String,
    pub kiosk: bool,
    pub door: Option<String>,
    pub read_only: bool,
    key: PublicKey,
}

/// Every clerk who may come in.
#[derive(Debug, Default)]
pub struct Clerks(Vec<Clerk>);

/// OpenSSH's own options that only restrict what a session may do: a session here can do
/// none of those things, so they are accepted as written.
const RESTRICTIONS: &[&str] = &[
    "restrict",
    "pty",
    "no-port-forwarding",
    "no-agent-forwarding",
    "no-X11-forwarding",
    "no-user-rc",
];

impl Clerks {
    /// Reads the file; any line that is not right is an error naming the file and the line.
    pub fn read(path: &Path) -> Result<Clerks, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the clerks file {}: {e}", path.display()))?;
        Clerks::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Clerks, String> {
        let mut clerks = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let clerk = parse_line(line).map_err(|e| format!("line {}: {e}", n + 1))?;
            if clerks
                .iter()
                .any(|c: &Clerk| c.key.key_data() == clerk.key.key_data())
            {
                return Err(format!(
                    "line {}: this key is already on an earlier line (one key, one clerk)",
                    n + 1
                ));
            }
            clerks.push(clerk);
        }
        Ok(Clerks(clerks))
    }

    /// The clerk whose key this is (the comment after a key is not part of it).
    pub fn find(&self, key: &PublicKey) -> Option<&Clerk> {
        self.0.iter().find(|c| c.key.key_data() == key.key_data())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

fn parse_line(line: &str) -> Result<Clerk, String> {
    let (options, key) = if starts_with_key_type(line) {
        ("", line)
    } else {
        split_options(line)?
    };
    let key = PublicKey::from_openssh(key.trim())
        .map_err(|e| format!("not a public key in OpenSSH's format ({e})"))?;
    use russh::keys::Algorithm;
    if !matches!(
        key.algorithm(),
        Algorithm::Ed25519
            | Algorithm::Ecdsa { .. }
            | Algorithm::SkEd25519
            | Algorithm::SkEcdsaSha2NistP256
    ) {
        return Err(format!(
            "a {} key is not accepted here; the clerk can make an Ed25519 one: ssh-keygen -t ed25519",
            key.algorithm()
        ));
    }
    let mut clerk = Clerk {
        name: String::new(),
        kiosk: false,
        door: None,
        read_only: false,
        key,
    };
    for option in options_of(options)? {
        match option {
            (name, Some(v)) if name.eq_ignore_ascii_case("clerk") => clerk.name = v,
            (name, Some(v)) if name.eq_ignore_ascii_case("door") => clerk.door = Some(v),
            (name, None) if name.eq_ignore_ascii_case("kiosk") => clerk.kiosk = true,
            (name, None) if name.eq_ignore_ascii_case("read-only") => clerk.read_only = true,
            (name, None) if RESTRICTIONS.iter().any(|r| r.eq_ignore_ascii_case(&name)) => {}
            (name, _) => {
                return Err(format!(
                    "`{name}` is not an option here (clerk=\"NAME\", kiosk, door=CONCERT, \
                     read-only)"
                ));
            }
        }
    }
    let name = clerk.name.trim();
    if name.is_empty() {
        return Err("no clerk=\"NAME\" in front of the key: whose key is it?".into());
    }
    boxoffice::text::check_line("the clerk's name", name)?;
    clerk.name = name.to_string();
    if clerk.door.as_deref().is_some_and(|d| d.trim().is_empty()) {
        return Err("door= names no concert".into());
    }
    Ok(clerk)
}

fn starts_with_key_type(line: &str) -> bool {
    ["ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-"]
        .iter()
        .any(|p| line.starts_with(p))
}

/// The options (up to the first space outside quotes) and what follows them.
fn split_options(line: &str) -> Result<(&str, &str), String> {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ' ' | '\t' if !quoted => return Ok((&line[..i], &line[i + 1..])),
            _ => {}
        }
    }
    Err(if quoted {
        "a quote is not closed".into()
    } else {
        "no key after the options".into()
    })
}

/// `a,b="x, y",c=d` as names with their values (quotes removed).
fn options_of(options: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let mut out = Vec::new();
    let mut rest = options;
    while !rest.is_empty() {
        let end = rest.find([',', '=']).unwrap_or(rest.len());
        let name = rest[..end].trim().to_string();
        if name.is_empty() {
            return Err("an empty option".into());
        }
        rest = &rest[end..];
        let value = if let Some(after) = rest.strip_prefix('=') {
            let (value, tail) = match after.strip_prefix('"') {
                Some(q) => {
                    let close = q.find('"').ok_or("a quote is not closed")?;
                    (&q[..close], &q[close + 1..])
                }
                None => {
                    let close = after.find(',').unwrap_or(after.len());
                    (&after[..close], &after[close..])
                }
            };
            rest = tail;
            Some(value.to_string())
        } else {
            None
        };
        out.push((name, value));
        rest = match rest.strip_prefix(',') {
            Some(r) => r,
            None if rest.is_empty() => rest,
            None => return Err(format!("`{rest}` after an option")),
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJgFB3dvhtzeZQ+pNVc4mCihETcZw0OkbcQj/oTTuQhK";
    const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCrWWOS1V/ONdvLAe0ZdWIbPFvGGLYmORXwAacr+n7zdOmIu8+2QOPLU4ebFG8XX15B/sIve9gnSROLPzo1ra9I/v8H+dUWe3OYRAyNsIJdbMHghsJi5ArKt817+WW7biDjH2e6OWzKf3BZioP/6kbsCr2olmXAzPUJy8DrWYoU/w==";
    const OTHER: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGGuUSsHaTrFVN7vh19ofoZ0bDc6VjzI7+oizxkd5uV0";

    #[test]
    fn a_clerk_is_found_by_key_with_what_their_session_is() {
        let clerks = Clerks::parse(&format!(
            "# the counter\nclerk=\"Anna Gruber\",kiosk {KEY} anna@laptop\n\n\
             restrict,pty,clerk=\"Door, east\",door=big-1,read-only {OTHER}\n"
        ))
        .unwrap();
        assert_eq!(clerks.len(), 2);
        let anna = clerks.find(&PublicKey::from_openssh(KEY).unwrap()).unwrap();
        assert_eq!(
            (
                anna.name.as_str(),
                anna.kiosk,
                anna.door.as_deref(),
                anna.read_only
            ),
            ("Anna Gruber", true, None, false)
        );
        let door = clerks
            .find(&PublicKey::from_openssh(&format!("{OTHER} another comment")).unwrap())
            .unwrap();
        assert_eq!(
            (door.name.as_str(), door.door.as_deref(), door.read_only),
            ("Door, east", Some("big-1"), true)
        );
    }

    #[test]
    fn a_line_that_is_not_right_is_refused_with_its_number() {
        for (text, said) in [
            (format!("{KEY} anna"), "line 1: no clerk="),
            (
                format!("\nclerk=Anna,kiosque {KEY}"),
                "line 2: `kiosque` is not an option",
            ),
            (
                format!("clerk=\"Anna {KEY}"),
                "line 1: a quote is not closed",
            ),
            (
                "clerk=Anna ssh-ed25519 AAAAnotakey".to_string(),
                "line 1: not a public key",
            ),
            (
                format!("command=\"ls\",clerk=A {KEY}"),
                "`command` is not an option",
            ),
            (
                format!("clerk=A {KEY}\nclerk=B {KEY}"),
                "line 2: this key is already on an earlier line",
            ),
            (format!("clerk=\"\" {KEY}"), "no clerk="),
            (
                format!("clerk=R {RSA}"),
                "a ssh-rsa key is not accepted here",
            ),
        ] {
            let e = Clerks::parse(&text).unwrap_err();
            assert!(e.contains(said), "{text:?}: {e}");
        }
        assert!(
            Clerks::parse(&format!("clerk=A {KEY}"))
                .unwrap()
                .find(&PublicKey::from_openssh(OTHER).unwrap())
                .is_none()
        );
    }
}
