//! Settings in one file: `boxoffice.toml` in the user's config directory (or `--config FILE`,
//! `BOXOFFICE_CONFIG`), keys named like the flags. A flag beats an environment variable, which
//! beats the file, which beats the default; `boxoffice config` shows what is in force and where
//! each came from, secrets masked.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The file, as written. Unknown keys are refused (a typo must not pass silently).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub db: Option<PathBuf>,
    pub spool: Option<PathBuf>,
    pub gateway: Option<PathBuf>,
    pub smtp: Option<String>,
    pub smtp_password: Option<String>,
    pub sms_gateway: Option<String>,
    pub sms_token: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub printer_codepage: Option<String>,
    pub from: Option<String>,
    pub idle: Option<u64>,
    /// `serve`'s: where it listens, its host key, the clerks' keys, sessions at once.
    pub listen: Option<String>,
    pub host_key: Option<PathBuf>,
    pub clerks: Option<PathBuf>,
    pub max_sessions: Option<usize>,
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env(&'static str),
    File(PathBuf),
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Flag => f.write_str("flag"),
            Source::Env(name) => write!(f, "environment ({name})"),
            Source::File(path) => write!(f, "settings file ({})", path.display()),
            Source::Default => f.write_str("default"),
        }
    }
}

/// The settings file to read: `--config`/`BOXOFFICE_CONFIG` (which must exist), or
/// `boxoffice.toml` in the user's config directory (if it does).
pub fn path(explicit: Option<&Path>) -> Result<Option<PathBuf>, String> {
    if let Some(p) = explicit {
        if !p.is_file() {
            return Err(format!("the settings file {} does not exist", p.display()));
        }
        return Ok(Some(p.to_path_buf()));
    }
    Ok(directories::ProjectDirs::from("", "", "boxoffice")
        .map(|d| d.config_dir().join("boxoffice.toml"))
        .filter(|p| p.is_file()))
}

/// Reads and checks a settings file; a bad one is one error naming its line. A file other
/// users may change is refused unread: it says where the database, the mail and the card
/// gateway are, so whoever can write it can send the box office's data elsewhere.
pub fn read(path: &Path) -> Result<File, String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| format!("cannot read the settings file {}: {e}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o022 != 0 {
            return Err(format!(
                "the settings file {} can be changed by other users (mode {:o}); it is not read: \
                 `chmod go-w {}`",
                path.display(),
                mode & 0o777,
                path.display()
            ));
        }
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the settings file {}: {e}", path.display()))?;
    toml::from_str::<File>(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .map(|l| format!(" line {l}"))
            .unwrap_or_default();
        format!(
            "settings file {}{line}: {}",
            path.display(),
            e.message().trim()
        )
    })
}

/// Shows a secret as set or not, never its value.
pub fn masked(value: &Option<String>) -> Option<String> {
    value.as_ref().map(|_| "********".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("boxoffice.toml");
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    #[test]
    fn a_settings_file_reads_every_key_and_a_bad_one_names_its_line() {
        let (_d, p) = file(
            "db = \"/srv/box.db\"\nsmtp = \"smtp://tickets@mail.example:587\"\nsmtp_password = \"s3cret\"\nidle = 90\nfrom = '\"Odeon Box Office\" <tickets@odeon.example>'\n",
        );
        let f = read(&p).unwrap();
        assert_eq!(f.db.as_deref(), Some(Path::new("/srv/box.db")));
        assert_eq!(f.idle, Some(90));
        assert_eq!(f.smtp_password.as_deref(), Some("s3cret"));
        let (_d, p) = file("db = \"/srv/box.db\"\n\nsmpt = \"smtp://x\"\n");
        let e = read(&p).unwrap_err();
        assert!(e.contains("line 3") && e.contains("smpt"), "{e}");
        let (_d, p) = file("idle = \"soon\"\n");
        let e = read(&p).unwrap_err();
        assert!(e.contains("line 1"), "{e}");
        let (_d, p) = file("db = \n");
        assert!(read(&p).unwrap_err().contains("line 1"));
    }

    #[cfg(unix)]
    #[test]
    fn a_settings_file_others_may_change_is_refused_unread() {
        use std::os::unix::fs::PermissionsExt;
        let (_d, p) = file("db = \"/srv/box.db\"\n");
        for mode in [0o620, 0o602, 0o666] {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
            let e = read(&p).unwrap_err();
            assert!(
                e.contains("can be changed by other users") && e.contains("chmod go-w"),
                "{e}"
            );
        }
        // Readable by others is allowed (warned about only when it holds a secret).
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(read(&p).is_ok());
    }
}
