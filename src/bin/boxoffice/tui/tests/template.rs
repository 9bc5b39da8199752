//! The demo box office every app test starts from: filled once per test process, copied for
//! each rig.

use boxoffice::{ManualClock, Store};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// The demo as of `now` (the rigs' one moment), filled once per test process (about a second each) into a file
/// that every rig copies. The file's folder is removed when the next test process starts.
pub fn demo(now: DateTime<Utc>) -> &'static std::path::Path {
    static TEMPLATE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let base = std::env::temp_dir().join("boxoffice-app-tests");
        // The folders of test processes that have ended.
        for e in std::fs::read_dir(&base).into_iter().flatten().flatten() {
            let pid = e.file_name().to_string_lossy().into_owned();
            if pid.parse::<u32>().is_ok() && !std::path::Path::new("/proc").join(&pid).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        let home = base.join(std::process::id().to_string());
        std::fs::create_dir_all(&home).unwrap();
        let (seeded, path) = (home.join("seeded.db"), home.join("demo.db"));
        for p in [&seeded, &path] {
            let _ = std::fs::remove_file(p);
        }
        let mut store = Store::open(&seeded, Arc::new(ManualClock::new(now))).unwrap();
        store.seed_demo_if_empty().unwrap();
        // One whole file, whatever is still in the write-ahead log (a closed store's log is
        // folded in by its checkpoint thread, which may not have finished).
        let into = path.to_string_lossy().into_owned();
        store
            .db()
            .execute("VACUUM INTO ?1", [into.as_str()])
            .unwrap();
        path
    })
}
