//! Fixed-window counters for brute-force and flood limits: wrong user codes
//! per browser session, per IP and globally, and device authorizations per
//! client. Pure data with injected `now`; callers decide what a key is.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Counts events per key in windows of fixed length.
#[derive(Debug)]
pub(crate) struct Throttle<K> {
    limit: u32,
    window: Duration,
    counts: HashMap<K, (Instant, u32)>,
}

impl<K: Eq + Hash> Throttle<K> {
    /// Allows `limit` events per key per `window`.
    pub(crate) fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            counts: HashMap::new(),
        }
    }

    /// `Err(retry_after)` if `key` has used up its budget in the current window.
    pub(crate) fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        match self.counts.get(key) {
            Some(&(start, n)) if n >= self.limit && now < start + self.window => {
                Err(start + self.window - now)
            }
            _ => Ok(()),
        }
    }

    /// Counts one event for `key`.
    pub(crate) fn record(&mut self, key: K, now: Instant) {
        let window = self.window;
        let entry = self.counts.entry(key).or_insert((now, 0));
        if now >= entry.0 + window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    /// Checks and, if allowed, counts in one step.
    pub(crate) fn admit(&mut self, key: K, now: Instant) -> Result<(), Duration> {
        self.check(&key, now)?;
        self.record(key, now);
        Ok(())
    }

    /// Drops windows that have ended, bounding memory.
    pub(crate) fn sweep(&mut self, now: Instant) {
        let window = self.window;
        self.counts.retain(|_, (start, _)| now < *start + window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_until_the_window_ends() {
        let mut t = Throttle::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(t.admit("ip", t0).is_ok());
        }
        assert_eq!(
            t.admit("ip", t0 + Duration::from_secs(20)),
            Err(Duration::from_secs(40))
        );
        assert!(t.check(&"other", t0).is_ok());
        assert!(t.admit("ip", t0 + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn sweep_drops_finished_windows() {
        let mut t = Throttle::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        t.record("a", t0);
        t.sweep(t0 + Duration::from_secs(61));
        assert!(t.counts.is_empty());
    }
}
