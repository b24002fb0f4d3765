//! Time for the gateway, injected: the core never reads the wall clock. Replay and tests use
//! [`ManualClock`]; the HTTP mode supplies a real clock from outside this module.

use std::sync::atomic::{AtomicU64, Ordering};

/// A source of "now" in nanoseconds since the Unix epoch.
pub trait Clock {
    /// The current time, ns.
    fn now_ns(&self) -> u64;
}

/// A clock that moves only when told to.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: AtomicU64,
}

impl ManualClock {
    /// A clock reading `start_ns`.
    pub fn new(start_ns: u64) -> Self {
        ManualClock {
            now: AtomicU64::new(start_ns),
        }
    }

    /// Moves the clock forward by `ns`.
    pub fn advance(&self, ns: u64) {
        self.now.fetch_add(ns, Ordering::Relaxed);
    }

    /// Sets the clock; it never moves backwards.
    pub fn set(&self, now_ns: u64) {
        self.now.fetch_max(now_ns, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn now_ns(&self) -> u64 {
        self.now.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_forward_when_told() {
        let clock = ManualClock::new(5);
        assert_eq!(clock.now_ns(), 5);
        clock.advance(10);
        assert_eq!(clock.now_ns(), 15);
        clock.set(3);
        assert_eq!(clock.now_ns(), 15);
        clock.set(20);
        assert_eq!(clock.now_ns(), 20);
    }
}
