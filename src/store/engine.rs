//! Where a box office lives: a SQLite file (the default: zero set-up), or a PostgreSQL
//! database reached by URL (`postgres://USER@HOST:PORT/DBNAME`), for box offices on several
//! machines selling one inventory. Parsing the URL and finding its password are here; talking
//! to the server is `postgres.rs`. A URL that cannot be used is an [`Error::Server`], as an
//! unreachable server is: the box office cannot be reached either way (exit 1).

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The engine and where its data is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file at this path.
    Sqlite(PathBuf),
    /// A PostgreSQL database.
    Postgres(PgUrl),
}

impl Location {
    /// Whether the box office is on a PostgreSQL server.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Location::Postgres(_))
    }

    /// `postgres://…` or `postgresql://…` is a PostgreSQL database; anything else is a SQLite
    /// file, as always.
    pub fn parse(text: &str) -> Result<Location> {
        let t = text.trim();
        for scheme in ["postgres://", "postgresql://"] {
            if let Some(rest) = t.strip_prefix(scheme) {
                return PgUrl::parse(rest, t).map(Location::Postgres);
            }
        }
        Ok(Location::Sqlite(PathBuf::from(text)))
    }
}

/// How to reach the server: a host name (TCP) or a Unix-socket directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgHost {
    /// A host name or address, reached over TCP.
    Tcp(String),
    /// The directory holding the server's Unix socket (`/run/postgresql`).
    Socket(PathBuf),
}

/// TLS to the server, with libpq's meanings (through rustls).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Never TLS.
    Disable,
    /// TLS if the server offers it, else without (the default, as libpq's).
    Prefer,
    /// Only over TLS; the certificate is checked against `sslrootcert` if one is given.
    Require,
    /// Only over TLS, with a certificate from the CA in `sslrootcert` (any host name).
    VerifyCa,
    /// Only over TLS, with a certificate from the CA in `sslrootcert` for the host named.
    VerifyFull,
}

/// A PostgreSQL database as the URL names it. Never holds a password: that comes from
/// `PGPASSWORD` or `~/.pgpass` when connecting ([`PgUrl::password`]), so it is never on a
/// command line where the machine's other users can read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgUrl {
    /// The user to log in as: the URL's, else `PGUSER`, else `USER`.
    pub user: String,
    /// Where the server is: the URL's host, else the local socket directory, else `localhost`.
    pub host: PgHost,
    /// The server's TCP port (5432 unless the URL says).
    pub port: u16,
    /// The file of CA certificates (PEM) the server's certificate must come from
    /// (`sslrootcert=FILE`; else `~/.postgresql/root.crt` where there is one, as libpq).
    pub sslrootcert: Option<PathBuf>,
    /// The database's name.
    pub dbname: String,
    /// The URL's `sslmode` (`prefer` unless it says).
    pub sslmode: SslMode,
}

/// Undoes URL percent-encoding (`%2F` is `/`).
fn decode(s: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    Error::Server(format!("`{s}`: a % must be followed by two hex digits"))
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Error::Server(format!("`{s}` is not UTF-8 once decoded")))
}

impl PgUrl {
    fn parse(rest: &str, whole: &str) -> Result<PgUrl> {
        let bad = |why: &str| {
            Error::Server(format!(
                "`{}` is not a PostgreSQL URL: {why} (postgres://USER@HOST:PORT/DBNAME, or \
                 postgres:///DBNAME?host=/run/postgresql for a Unix socket)",
                crate::text::without_password(whole)
            ))
        };
        let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = main
            .split_once('/')
            .ok_or_else(|| bad("no database name"))?;
        let dbname = decode(path)?;
        if dbname.is_empty() || dbname.contains('/') {
            return Err(bad("no database name"));
        }
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        if userinfo.is_some_and(|u| u.contains(':')) {
            return Err(Error::Server(
                "a password in the database URL is refused (it would show in the process list): \
                 set PGPASSWORD, or put it in ~/.pgpass"
                    .to_string(),
            ));
        }
        let mut user = match userinfo {
            Some(u) if !u.is_empty() => Some(decode(u)?),
            _ => None,
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => (
                h,
                Some(
                    p.parse::<u16>()
                        .map_err(|_| bad("the port is not a number"))?,
                ),
            ),
            _ => (hostport, None),
        };
        let mut host = (!host.is_empty())
            .then(|| decode(host.trim_start_matches('[').trim_end_matches(']')))
            .transpose()?;
        let mut port = port;
        let mut sslmode = SslMode::Prefer;
        let mut sslrootcert = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = decode(value)?;
            match key {
                "host" => host = Some(value),
                "port" => {
                    port = Some(value.parse().map_err(|_| bad("the port is not a number"))?);
                }
                "user" => user = Some(value),
                "sslmode" => {
                    sslmode = match value.as_str() {
                        "disable" => SslMode::Disable,
                        "prefer" => SslMode::Prefer,
                        "require" => SslMode::Require,
                        "verify-ca" => SslMode::VerifyCa,
                        "verify-full" => SslMode::VerifyFull,
                        other => {
                            return Err(bad(&format!(
                                "sslmode `{other}`: use disable, prefer, require, verify-ca or \
                                 verify-full"
                            )));
                        }
                    }
                }
                "sslrootcert" => sslrootcert = Some(PathBuf::from(value)),
                other => {
                    return Err(bad(&format!(
                        "unknown setting `{other}` (host, port, user, sslmode and sslrootcert \
                         are known)"
                    )));
                }
            }
        }
        let host = match host {
            Some(h) if h.starts_with('/') => PgHost::Socket(PathBuf::from(h)),
            Some(h) => PgHost::Tcp(h),
            // As libpq: the local Unix socket where the system keeps it, else localhost.
            None if Path::new("/run/postgresql").is_dir() => {
                PgHost::Socket(PathBuf::from("/run/postgresql"))
            }
            None => PgHost::Tcp("localhost".into()),
        };
        let user = user
            .or_else(|| std::env::var("PGUSER").ok())
            .or_else(|| std::env::var("USER").ok())
            .filter(|u| !u.is_empty())
            .ok_or_else(|| bad("no user name (give USER@ in the URL)"))?;
        Ok(PgUrl {
            user,
            host,
            port: port.unwrap_or(5432),
            sslrootcert: sslrootcert.or_else(|| {
                let home = std::env::var_os("HOME")?;
                let default = Path::new(&home).join(".postgresql/root.crt");
                default.is_file().then_some(default)
            }),
            dbname,
            sslmode,
        })
    }

    /// Where it is, for people: `boxoffice on /run/postgresql (socket) as anna`.
    pub fn shown(&self) -> String {
        let at = match &self.host {
            PgHost::Tcp(h) => format!("{h}:{}", self.port),
            PgHost::Socket(d) => format!("{} (socket)", d.display()),
        };
        format!("{} on {at} as {}", self.dbname, self.user)
    }

    /// The password, if one is set: `PGPASSWORD`, else the first matching line of
    /// `PGPASSFILE` or `~/.pgpass` (`host:port:database:user:password`, `*` matching
    /// anything; a socket's host is `localhost`), as libpq reads them. A password file others
    /// can read is ignored, as libpq ignores it.
    pub fn password(&self) -> Option<String> {
        if let Ok(p) = std::env::var("PGPASSWORD") {
            return Some(p);
        }
        let file = std::env::var_os("PGPASSFILE")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pgpass")))?;
        self.password_in(&file)
    }

    /// The password a `.pgpass` file gives this URL.
    fn password_in(&self, file: &Path) -> Option<String> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file).ok()?.permissions().mode();
            if mode & 0o077 != 0 {
                return None;
            }
        }
        let text = std::fs::read_to_string(file).ok()?;
        // A socket's host is `localhost`, or its directory as the URL names it (psql takes both).
        let hosts: Vec<String> = match &self.host {
            PgHost::Tcp(h) => vec![h.clone()],
            PgHost::Socket(dir) => vec!["localhost".into(), dir.display().to_string()],
        };
        let port = self.port.to_string();
        text.lines()
            .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
            .find_map(|line| {
                let fields = split_pgpass(line);
                if fields.len() != 5 {
                    return None;
                }
                let host_fits = fields[0] == "*" || hosts.contains(&fields[0]);
                let rest = [port.as_str(), &self.dbname, &self.user];
                (host_fits
                    && rest
                        .iter()
                        .zip(&fields[1..4])
                        .all(|(w, f)| f == "*" || f == w))
                .then(|| fields[4].clone())
            })
    }
}

/// A `.pgpass` line's five fields (`\:` and `\\` are a colon and a backslash).
fn split_pgpass(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.last_mut().expect("one field at least").push(n);
                }
            }
            ':' => out.push(String::new()),
            c => out.last_mut().expect("one field at least").push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(text: &str) -> PgUrl {
        match Location::parse(text).unwrap() {
            Location::Postgres(u) => u,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn a_url_names_a_postgres_database_and_anything_else_a_file() {
        assert_eq!(
            Location::parse("box.db").unwrap(),
            Location::Sqlite("box.db".into())
        );
        let u = pg("postgres://anna@db.example.com:5433/boxoffice");
        assert_eq!(u.user, "anna");
        assert_eq!(u.host, PgHost::Tcp("db.example.com".into()));
        assert_eq!((u.port, u.dbname.as_str()), (5433, "boxoffice"));
        assert_eq!(u.sslmode, SslMode::Prefer);
        let u = pg("postgresql://anna@localhost/box?sslmode=disable");
        assert_eq!((u.port, u.sslmode), (5432, SslMode::Disable));
        let u = pg("postgres://anna@/boxoffice?host=/tmp/pg%20dir");
        assert_eq!(u.host, PgHost::Socket("/tmp/pg dir".into()));
        assert_eq!(u.shown(), "boxoffice on /tmp/pg dir (socket) as anna");
        let u = pg("postgres://anna@[::1]:6000/b");
        assert_eq!((u.host, u.port), (PgHost::Tcp("::1".into()), 6000));
    }

    #[test]
    fn a_wrong_url_is_one_clear_error_and_a_password_in_it_is_refused() {
        for (text, says) in [
            ("postgres://anna@host", "no database name"),
            ("postgres://anna@host:port/db", "port is not a number"),
            (
                "postgres://anna@host/db?sslmode=maybe",
                "use disable, prefer, require, verify-ca or verify-full",
            ),
            (
                "postgres://anna@host/db?colour=red",
                "unknown setting `colour`",
            ),
            ("postgres://anna:secret@host/db", "PGPASSWORD"),
            ("postgres://anna:secret@host", "no database name"),
            ("postgres://anna:secret@host:port/db", "PGPASSWORD"),
        ] {
            let e = Location::parse(text).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
            assert!(!e.contains("secret"), "{e}");
            assert!(!e.contains('\n'), "one line: {e}");
        }
    }

    #[test]
    fn the_password_file_is_read_as_libpq_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(
            &file,
            "# comment\nother:5432:*:anna:wrong\n*:5432:box\\:office:anna:right\n",
        )
        .unwrap();
        let u = PgUrl {
            user: "anna".into(),
            host: PgHost::Tcp("db".into()),
            port: 5432,
            dbname: "box:office".into(),
            sslmode: SslMode::Prefer,
            sslrootcert: None,
        };
        // Read as a file only its owner can read; others' reading it makes it ignored.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert_eq!(u.password_in(&file).as_deref(), Some("right"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert_eq!(u.password_in(&file), None);
        }
        // A socket: its line may name `localhost` or the socket's directory.
        std::fs::write(&file, "/run/pg:5432:*:anna:by-socket\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let socket = PgUrl {
            host: PgHost::Socket("/run/pg".into()),
            ..u
        };
        assert_eq!(socket.password_in(&file).as_deref(), Some("by-socket"));
    }
}
