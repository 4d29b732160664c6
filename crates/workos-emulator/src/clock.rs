//! The emulator's sense of time, behind a small seam so tests can move it.
//!
//! Two readings are kept apart on purpose: a monotonic [`Instant`] for every
//! deadline (code expiry, the polling interval, throttling windows), and the
//! wall clock only for what leaves the server as a date (`iat`, `exp`,
//! `created_at`). A wall-clock jump therefore never expires a code early.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

/// A source of time for the emulator.
///
/// Implementations must never let [`Clock::now`] go backwards.
pub trait Clock: Send + Sync + 'static {
    /// Monotonic time, used for expiry, polling intervals and throttling.
    fn now(&self) -> Instant;
    /// Wall-clock time (UTC), used only for timestamps sent to clients.
    fn now_utc(&self) -> OffsetDateTime;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn now_utc(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told to: both readings start at the real
/// time of creation and advance together by [`ManualClock::advance`].
///
/// Tests give one to [`crate::EmulatorBuilder::clock`] and keep a clone to
/// step through expiry and polling intervals without sleeping.
#[derive(Clone)]
pub struct ManualClock {
    inner: Arc<Mutex<(Instant, OffsetDateTime)>>,
}

impl ManualClock {
    /// A clock frozen at the current real time.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Mutex::new((Instant::now(), OffsetDateTime::now_utc()))),
        }
    }

    /// Moves both readings forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        guard.0 += by;
        guard.1 += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock").finish_non_exhaustive()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).0
    }

    fn now_utc(&self) -> OffsetDateTime {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).1
    }
}

/// A clock that follows tokio's clock, so an emulator running inside a test
/// with `tokio::time::pause()` sees time jump exactly when the client's
/// `sleep` auto-advances it. Wall-clock readings move by the same amount.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    origin: tokio::time::Instant,
    origin_utc: OffsetDateTime,
}

impl TokioClock {
    /// Starts following tokio's clock from now.
    pub fn new() -> Self {
        Self {
            origin: tokio::time::Instant::now(),
            origin_utc: OffsetDateTime::now_utc(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn now_utc(&self) -> OffsetDateTime {
        self.origin_utc + (tokio::time::Instant::now() - self.origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let clock = ManualClock::new();
        let (a, wa) = (clock.now(), clock.now_utc());
        assert_eq!(clock.now(), a);
        clock.advance(Duration::from_secs(7));
        assert_eq!(clock.now() - a, Duration::from_secs(7));
        assert_eq!(clock.now_utc() - wa, time::Duration::seconds(7));
    }

    #[tokio::test(start_paused = true)]
    async fn tokio_clock_follows_paused_time() {
        let clock = TokioClock::new();
        let (a, wa) = (clock.now(), clock.now_utc());
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert_eq!(clock.now() - a, Duration::from_secs(30));
        assert_eq!(clock.now_utc() - wa, time::Duration::seconds(30));
    }
}
