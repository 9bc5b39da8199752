//! An append-only log beside the database: what happened, never card numbers or CVCs.
//! The terminal app writes here too, never to the screen.

use std::io::Write;
use std::path::Path;

pub struct Log {
    file: Option<std::fs::File>,
}

impl Log {
    pub fn open(path: &Path) -> Log {
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        Log {
            file: options.open(path).ok(),
        }
    }

    pub fn write(&mut self, line: &str) {
        if let Some(f) = &mut self.file {
            let clean: String = line
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            let _ = writeln!(
                f,
                "{} {}",
                chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
                clean
            );
        }
    }
}
