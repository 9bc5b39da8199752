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
