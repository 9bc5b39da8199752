//! Every "now" in the core comes from a [`Clock`], so expiry is testable without sleeping.

use chrono::{DateTime, Duration, Utc};
use std::sync::Mutex;

/// Where the core reads the time: [`SystemClock`] in use, a [`ManualClock`] in tests.
pub trait Clock: Send + Sync {
    /// The current moment (UTC).
    fn now(&self) -> DateTime<Utc>;

    /// Whether this is the machine's own clock ([`SystemClock`]). A box office on PostgreSQL
    /// then stamps its changes with the server's clock, the one all machines share, never
    /// this machine's; a clock a test set keeps its moment on every engine.
    fn is_wall_clock(&self) -> bool {
        false
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn is_wall_clock(&self) -> bool {
        true
    }
}

/// A clock that only moves when told to: for tests, demos and scripted runs.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock standing at `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        ManualClock {
            now: Mutex::new(now),
        }
    }

    /// Moves the clock to `now` (back as well as forward).
    pub fn set(&self, now: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }

    fn is_wall_clock(&self) -> bool {
        (**self).is_wall_clock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::minutes(5));
        assert_eq!(clock.now(), start + Duration::minutes(5));
    }
}
