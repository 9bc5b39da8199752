//! Failpoints: named places where a test can make the process die, as if killed, to prove that
//! recovery works from every step. Compiled out of release builds.

/// Aborts the process if the environment variable `BOXOFFICE_FAILPOINT` names this point.
#[inline]
pub fn hit(name: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("BOXOFFICE_FAILPOINT").is_ok_and(|v| v == name) {
        std::process::abort();
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}

/// Stalls the process here, as a hung or suspended terminal would, if `BOXOFFICE_FAILPOINT`
/// names this point: until the file `BOXOFFICE_FAILPOINT_UNTIL` names exists (a minute at
/// most); then carries on. Compiled out of release builds.
#[inline]
pub fn stall(name: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("BOXOFFICE_FAILPOINT").is_ok_and(|v| v == name) {
        let until = std::env::var_os("BOXOFFICE_FAILPOINT_UNTIL").map(std::path::PathBuf::from);
        for _ in 0..600 {
            if until.as_ref().is_some_and(|f| f.exists()) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}
