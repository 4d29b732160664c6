//! The time seam of the poller, and `Retry-After`, the one header that needs a clock.
//!
//! The poller never calls `Instant::now`, `SystemTime::now` or `tokio::time::sleep`
//! itself: it asks a [`Timer`]. Production uses [`TokioTimer`]; tests pass a fake that
//! advances virtual time and records every sleep, so no test waits on the wall clock
//! (the habit of cli/oauth's injected poller).
//!
//! Waits and the deadline use the monotonic clock ([`Timer::now`]): a wall clock that
//! jumps (NTP, suspend, a user fixing the date) must not shorten or stretch a wait.
//! The wall clock ([`Timer::wall_now`]) is used only to turn a `Retry-After`
//! HTTP-date into a delay.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant, SystemTime};

/// A source of monotonic time, wall time and sleeps.
pub trait Timer: Send + Sync {
    /// The current monotonic instant.
    fn now(&self) -> Instant;

    /// Completes after `duration` has elapsed on the monotonic clock.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;

    /// The current wall-clock time, used only to interpret a `Retry-After` date.
    fn wall_now(&self) -> SystemTime;
}

/// The default [`Timer`]: tokio's clock and sleep (so `tokio::time::pause` works too)
/// and the system wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTimer;

impl Timer for TokioTimer {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }

    fn wall_now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A `Retry-After` header value (RFC 9110 §10.2.3), not yet resolved against a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: 30`
    Delay(Duration),
    /// `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`
    At(SystemTime),
}

impl RetryAfter {
    /// Parses delta-seconds or an HTTP-date; anything else is ignored (`None`).
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        if let Ok(secs) = value.parse::<u64>() {
            return Some(RetryAfter::Delay(Duration::from_secs(secs)));
        }
        httpdate::parse_http_date(value).ok().map(RetryAfter::At)
    }

    /// How long to wait from `wall_now`; a date in the past means "now".
    pub fn delay_from(&self, wall_now: SystemTime) -> Duration {
        match *self {
            RetryAfter::Delay(d) => d,
            RetryAfter::At(at) => at.duration_since(wall_now).unwrap_or(Duration::ZERO),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_delta_seconds() {
        assert_eq!(
            RetryAfter::parse(" 30 "),
            Some(RetryAfter::Delay(Duration::from_secs(30)))
        );
    }

    #[test]
    fn parses_http_date_against_wall_clock() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        let ra = RetryAfter::parse("Wed, 21 Oct 2015 07:28:45 GMT").unwrap();
        assert_eq!(ra.delay_from(now), Duration::from_secs(45));
        let past = RetryAfter::parse("Wed, 21 Oct 2015 07:00:00 GMT").unwrap();
        assert_eq!(past.delay_from(now), Duration::ZERO);
    }

    #[test]
    fn ignores_garbage() {
        assert_eq!(RetryAfter::parse("soon"), None);
        assert_eq!(RetryAfter::parse("-5"), None);
        assert_eq!(RetryAfter::parse(""), None);
    }

    #[tokio::test(start_paused = true)]
    async fn tokio_timer_follows_paused_clock() {
        let t = TokioTimer;
        let start = t.now();
        t.sleep(Duration::from_secs(7)).await;
        assert!(t.now() - start >= Duration::from_secs(7));
    }
}
