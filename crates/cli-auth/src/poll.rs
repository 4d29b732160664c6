//! Polling the token endpoint until the user approves (RFC 8628 §3.4–§3.5).
//!
//! Three parts, one job: a one-method [`TokenEndpoint`] trait (the WorkOS client
//! implements it; tests replay scripted replies), the pure `next_step` that turns one
//! reply into the next wait or the end, and the thin async loop [`poll_for_tokens`]
//! that owns the deadline and asks a [`Timer`] to sleep. The loop never prints: it
//! reports [`PollEvent`]s to an optional callback, so a UI can draw a countdown.
//!
//! The rules, each tested with exact wait sequences in `poll/tests.rs`:
//! - wait `interval` (absent, 0 ⇒ 5 s) **before** every poll, the first one included;
//! - `authorization_pending`: poll again after `interval`;
//! - `slow_down`: `interval += 5 s` for this and every later poll (§3.5), never lowered;
//! - any other OAuth error stops at once (the endpoint returns it as `Err`);
//! - transient failures (connect error, timeout, 5xx, 429): double the current wait,
//!   capped at 60 s ("MUST reduce frequency", §3.5), at least `Retry-After`; the next
//!   `authorization_pending` brings the wait back to `interval`;
//! - our own deadline, start + `expires_in` on the monotonic clock: the last wait is
//!   clipped to it and no poll is sent at or after it, even if the server keeps saying
//!   pending ([`Error::DeadlineExceeded`]).
//!
//! Dropping the future returned by [`poll_for_tokens`] cancels the login: no poll is
//! sent afterwards and nothing is persisted (there is nothing to persist here).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::error::Error;
use crate::timer::{RetryAfter, Timer, TokioTimer};

#[cfg(test)]
mod tests;

/// The interval used when the server sends none, or a useless one (RFC 8628 §3.2).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// What each `slow_down` adds to the interval (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// The longest wait that backing off from transient failures reaches.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Longer `expires_in` values are clamped (a day is already absurd for a login code).
const MAX_EXPIRES_IN_SECS: u64 = 86_400;
/// Longer intervals are clamped, so `interval + 5 s` can never overflow.
const MAX_INTERVAL_SECS: u64 = 3_600;
/// After this many `slow_down` answers to waits that were long enough on our monotonic
/// clock, suspect a fast clock. cli/oauth saw this under WSL and VMs, where the guest
/// clock runs ahead and every "5 s" wait is shorter in the server's eyes.
const DRIFT_SLOW_DOWNS: u32 = 3;

/// One answer of the token endpoint that does not end the login with an error.
#[derive(Debug)]
pub enum TokenReply<T> {
    /// The user approved: here are the tokens.
    Issued(T),
    /// `authorization_pending`: the user has not finished yet.
    Pending,
    /// `slow_down`: we polled too early in the server's eyes.
    SlowDown,
    /// The attempt failed in a way that may pass: connect error, timeout, 5xx, 429.
    Unavailable(Unavailable),
}

/// A transient failure of one poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    /// What happened, for a progress line: never a body, token or device code.
    pub reason: String,
    /// The server's `Retry-After`, if it sent one.
    pub retry_after: Option<RetryAfter>,
}

/// One attempt at exchanging the device code: the seam between the poller and HTTP.
///
/// Return `Err` for every outcome that must stop the login (`access_denied`,
/// `expired_token`, `invalid_grant`, any other OAuth error, a protocol violation).
pub trait TokenEndpoint: Sync {
    /// What a successful exchange yields.
    type Tokens: Send;

    /// Sends one token request.
    fn exchange(&self) -> impl Future<Output = Result<TokenReply<Self::Tokens>, Error>> + Send;
}

/// Progress of a poll, for a countdown or a log line. Contains no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PollEvent {
    /// About to wait `wait` before the next poll; `time_left` until our deadline.
    Waiting {
        /// The wait about to start.
        wait: Duration,
        /// Time left until the login code expires.
        time_left: Duration,
    },
    /// Sending poll number `attempt` (from 1).
    Polling {
        /// The attempt number.
        attempt: u32,
    },
    /// The server said `authorization_pending`.
    Pending,
    /// The server said `slow_down`; every later wait is `new_interval`.
    SlowDown {
        /// The interval from now on.
        new_interval: Duration,
    },
    /// Repeated `slow_down` although our waits were long enough: the system clock may
    /// be running fast.
    ClockDriftSuspected {
        /// How many such `slow_down` answers arrived.
        slow_downs: u32,
    },
    /// A transient failure; the next poll comes after `after`.
    Retrying {
        /// The wait before the next poll.
        after: Duration,
        /// What failed (sanitized, no secrets).
        reason: String,
    },
    /// The user approved and the tokens arrived.
    Approved,
}

/// A callback that receives every [`PollEvent`].
pub type EventCallback = Arc<dyn Fn(&PollEvent) + Send + Sync>;

/// How to poll: which clock to use and whom to tell about progress.
#[derive(Clone)]
pub struct PollOptions {
    timer: Arc<dyn Timer>,
    on_event: Option<EventCallback>,
}

impl Default for PollOptions {
    fn default() -> Self {
        Self {
            timer: Arc::new(TokioTimer),
            on_event: None,
        }
    }
}

impl std::fmt::Debug for PollOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PollOptions")
            .field("on_event", &self.on_event.is_some())
            .finish_non_exhaustive()
    }
}

impl PollOptions {
    /// Tokio's clock and no callback.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses `timer` for every wait and for the deadline (tests pass a fake).
    pub fn timer(mut self, timer: Arc<dyn Timer>) -> Self {
        self.timer = timer;
        self
    }

    /// Calls `callback` with every [`PollEvent`]. It runs inside the poll loop: keep it
    /// short and non-blocking.
    pub fn on_event(mut self, callback: impl Fn(&PollEvent) + Send + Sync + 'static) -> Self {
        self.on_event = Some(Arc::new(callback));
        self
    }

    fn emit(&self, event: PollEvent) {
        tracing::debug!(?event, "device poll");
        if let Some(callback) = &self.on_event {
            callback(&event);
        }
    }
}

/// The interval to use for a server value in seconds: 0 means "not sent" ⇒ 5 s
/// (RFC 8628 §3.2), anything above an hour is clamped to an hour.
pub fn interval_from_secs(secs: u64) -> Duration {
    match secs {
        0 => DEFAULT_INTERVAL,
        s => Duration::from_secs(s.min(MAX_INTERVAL_SECS)),
    }
}

/// What the loop remembers between polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PollState {
    /// The polling interval, raised by each `slow_down`.
    pub(crate) interval: Duration,
    /// The wait before the next poll, without `Retry-After`; doubles on failures.
    pub(crate) wait: Duration,
    /// `slow_down` answers to polls that came after a full interval.
    pub(crate) honest_slow_downs: u32,
}

impl PollState {
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            interval,
            wait: interval,
            honest_slow_downs: 0,
        }
    }

    fn drift_suspected(&self) -> bool {
        self.honest_slow_downs >= DRIFT_SLOW_DOWNS
    }
}

/// What the loop does after one reply.
#[derive(Debug)]
pub(crate) enum Step<T> {
    /// Return the tokens.
    Done(T),
    /// Sleep this long, then poll again (the deadline may clip it).
    Wait(Duration),
    /// Return this error.
    Stop(Error),
}

/// The pure transition: one reply in, the next step (and events to report) out.
///
/// `since_last_poll` is how long the previous wait really lasted on the monotonic
/// clock; `wall_now` resolves a `Retry-After` date.
pub(crate) fn next_step<T>(
    state: &mut PollState,
    reply: Result<TokenReply<T>, Error>,
    since_last_poll: Duration,
    wall_now: SystemTime,
) -> (Step<T>, Vec<PollEvent>) {
    match reply {
        Ok(TokenReply::Issued(tokens)) => (Step::Done(tokens), vec![PollEvent::Approved]),
        Ok(TokenReply::Pending) => {
            state.wait = state.interval;
            (Step::Wait(state.interval), vec![PollEvent::Pending])
        }
        Ok(TokenReply::SlowDown) => {
            // RFC 8628 §3.5: "the interval MUST be increased by 5 seconds for this and
            // all subsequent requests".
            let honest = since_last_poll >= state.interval;
            state.interval = (state.interval + SLOW_DOWN_STEP).min(Duration::from_secs(
                MAX_INTERVAL_SECS + SLOW_DOWN_STEP.as_secs(),
            ));
            state.wait = state.interval;
            let mut events = vec![PollEvent::SlowDown {
                new_interval: state.interval,
            }];
            if honest {
                state.honest_slow_downs += 1;
                if state.honest_slow_downs == DRIFT_SLOW_DOWNS {
                    events.push(PollEvent::ClockDriftSuspected {
                        slow_downs: state.honest_slow_downs,
                    });
                }
            }
            (Step::Wait(state.interval), events)
        }
        Ok(TokenReply::Unavailable(failure)) => {
            // RFC 8628 §3.5: on connection timeouts the client MUST reduce its polling
            // frequency; treat 5xx and 429 alike. Doubling, capped, never below the
            // interval (a slowed-down interval may already exceed the cap).
            state.wait = (state.wait * 2).min(MAX_BACKOFF).max(state.interval);
            let retry_after = failure
                .retry_after
                .map(|ra| ra.delay_from(wall_now))
                .unwrap_or(Duration::ZERO);
            let after = state.wait.max(retry_after);
            let event = PollEvent::Retrying {
                after,
                reason: failure.reason,
            };
            (Step::Wait(after), vec![event])
        }
        Err(error) => (
            Step::Stop(error.with_clock_drift(state.drift_suspected())),
            Vec::new(),
        ),
    }
}

/// Polls `endpoint` until it issues tokens, refuses, or `expires_in` seconds pass.
///
/// `interval` is the server's value in seconds (0 ⇒ 5 s). The first poll happens after
/// one interval. `expires_in` 0 means the code is already dead: the result is
/// [`Error::DeadlineExceeded`] without any poll. Cancel by dropping the future.
pub async fn poll_for_tokens<E: TokenEndpoint>(
    endpoint: &E,
    expires_in: u64,
    interval: u64,
    options: &PollOptions,
) -> Result<E::Tokens, Error> {
    let timer = &*options.timer;
    let start = timer.now();
    let deadline = start + Duration::from_secs(expires_in.min(MAX_EXPIRES_IN_SECS));
    let mut state = PollState::new(interval_from_secs(interval));
    let mut wait = state.interval;
    let mut last_poll = start;
    let mut attempt = 0u32;
    loop {
        let time_left = deadline.saturating_duration_since(timer.now());
        // Never sleep past the deadline: the last wait is clipped to it.
        let nap = wait.min(time_left);
        if !nap.is_zero() {
            options.emit(PollEvent::Waiting {
                wait: nap,
                time_left,
            });
            timer.sleep(nap).await;
        }
        let now = timer.now();
        if nap < wait || now >= deadline {
            // The code is dead on the server by now (§3.2 `expires_in`): a poll would
            // only earn `expired_token`.
            return Err(Error::DeadlineExceeded {
                waited: now.saturating_duration_since(start),
                clock_drift_suspected: state.drift_suspected(),
            });
        }
        attempt += 1;
        options.emit(PollEvent::Polling { attempt });
        let since_last_poll = now.saturating_duration_since(last_poll);
        last_poll = now;
        let reply = endpoint.exchange().await;
        let (step, events) = next_step(&mut state, reply, since_last_poll, timer.wall_now());
        for event in events {
            options.emit(event);
        }
        match step {
            Step::Done(tokens) => return Ok(tokens),
            Step::Wait(next) => wait = next,
            Step::Stop(error) => return Err(error),
        }
    }
}
