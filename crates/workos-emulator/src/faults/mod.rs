//! Fault injection, for people testing clients against an imperfect server:
//! `slow_down` storms, 5xx, 429 with `Retry-After`, and slow answers, queued
//! per endpoint and consumed one per request. Everything a client must
//! survive per RFC 8628 §3.5 and the threat model's client rows (3, 5, 6, 8)
//! can be provoked on purpose, deterministically.
//!
//! A fault is written `ENDPOINT:ACTION[xN]` (on the command line, in the
//! configuration file and to the admin endpoint):
//!
//! | spec | effect on the next N requests (default 1) |
//! |---|---|
//! | `authenticate:500x2` | HTTP 500 `server_error`, twice |
//! | `authenticate:slow_down x3` | 400 `slow_down`, three times |
//! | `authenticate:429:retry-after=3` | 429 `rate_limit_exceeded` with `Retry-After: 3` |
//! | `authorize:503:retry-after=10x2` | 503 with `Retry-After: 10`, twice |
//! | `authenticate:delay=2s` | wait 2 s, then answer normally (`500ms`, `2` also work) |
//!
//! Endpoints: `authorize` (both device authorization endpoints),
//! `authenticate` (`/user_management/authenticate` and `/oauth2/token`),
//! `jwks`, `revoke`. The queue and the middleware live in `queue`.

mod queue;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::EmulatorError;

pub(crate) use queue::{FaultQueue, apply};

/// The endpoint a [`Fault`] targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultEndpoint {
    /// `POST /user_management/authorize/device` and `POST /oauth2/device_authorization`.
    Authorize,
    /// `POST /user_management/authenticate` and `POST /oauth2/token`.
    Authenticate,
    /// `GET /sso/jwks/{client_id}` and `GET /oauth2/jwks`.
    Jwks,
    /// `POST /oauth2/revoke`.
    Revoke,
}

/// What a [`Fault`] does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultAction {
    /// Answer this HTTP status (400–599) with an OAuth-shaped body, and a
    /// `Retry-After` header (whole seconds) when given.
    Status {
        /// The status code.
        status: u16,
        /// The `Retry-After` value, if any.
        retry_after: Option<Duration>,
    },
    /// Answer `400 slow_down` without touching the grant.
    SlowDown,
    /// Wait this long, then answer normally.
    Delay(Duration),
}

/// One queued fault: `action` on the next `times` requests to `endpoint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// The endpoint it targets.
    pub endpoint: FaultEndpoint,
    /// What happens.
    pub action: FaultAction,
    /// How many requests it affects (at least 1).
    pub times: u32,
}

impl Fault {
    /// `action` on the next request to `endpoint`.
    pub fn new(endpoint: FaultEndpoint, action: FaultAction) -> Self {
        Self {
            endpoint,
            action,
            times: 1,
        }
    }

    /// The same fault on the next `n` requests (at least 1).
    #[must_use]
    pub fn times(mut self, n: u32) -> Self {
        self.times = n.max(1);
        self
    }
}

impl FaultEndpoint {
    const NAMES: [(&'static str, Self); 4] = [
        ("authorize", Self::Authorize),
        ("authenticate", Self::Authenticate),
        ("jwks", Self::Jwks),
        ("revoke", Self::Revoke),
    ];

    /// The endpoint serving `method path`, if faults can target it.
    pub(crate) fn of(method: &str, path: &str) -> Option<Self> {
        match (method, path) {
            ("POST", "/user_management/authorize/device" | "/oauth2/device_authorization") => {
                Some(Self::Authorize)
            }
            ("POST", "/user_management/authenticate" | "/oauth2/token") => Some(Self::Authenticate),
            ("GET", "/oauth2/jwks") => Some(Self::Jwks),
            ("GET", p) if p.starts_with("/sso/jwks/") => Some(Self::Jwks),
            ("POST", "/oauth2/revoke") => Some(Self::Revoke),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, e)| *e == self)
            .map_or("?", |(n, _)| n)
    }
}

impl FromStr for Fault {
    type Err = EmulatorError;

    /// Parses `ENDPOINT:ACTION[xN]` (see the module docs).
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| EmulatorError::InvalidFault(format!("{spec:?}: {why}"));
        let (endpoint, rest) = spec
            .trim()
            .split_once(':')
            .ok_or_else(|| bad("expected ENDPOINT:ACTION"))?;
        let endpoint = FaultEndpoint::NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(endpoint.trim()))
            .map(|(_, e)| *e)
            .ok_or_else(|| bad("the endpoint must be authorize, authenticate, jwks or revoke"))?;
        let (action, times) =
            split_times(rest.trim()).ok_or_else(|| bad("xN needs a count of at least 1"))?;
        let action = parse_action(action.trim()).ok_or_else(|| {
            bad("the action must be a 4xx/5xx status (with optional :retry-after=S), slow_down or delay=D")
        })?;
        Ok(Fault::new(endpoint, action).times(times))
    }
}

/// Splits a trailing `xN` (optionally after a space) off the action.
fn split_times(s: &str) -> Option<(&str, u32)> {
    match s.rfind(['x', 'X']) {
        Some(i) if s[i + 1..].chars().all(|c| c.is_ascii_digit()) && i + 1 < s.len() => {
            let n: u32 = s[i + 1..].parse().ok()?;
            (n >= 1).then_some((&s[..i], n))
        }
        _ => Some((s, 1)),
    }
}

fn parse_action(s: &str) -> Option<FaultAction> {
    if s.eq_ignore_ascii_case("slow_down") {
        return Some(FaultAction::SlowDown);
    }
    if let Some(d) = s.strip_prefix("delay=") {
        return parse_duration(d).map(FaultAction::Delay);
    }
    let (status, retry_after) = match s.split_once(':') {
        Some((status, param)) => {
            let secs = param.trim().strip_prefix("retry-after=")?;
            (status, Some(Duration::from_secs(secs.parse().ok()?)))
        }
        None => (s, None),
    };
    let status: u16 = status.trim().parse().ok()?;
    (400..=599)
        .contains(&status)
        .then_some(FaultAction::Status {
            status,
            retry_after,
        })
}

/// `2s`, `500ms`, `2` (seconds), at most an hour.
fn parse_duration(s: &str) -> Option<Duration> {
    let d = if let Some(ms) = s.strip_suffix("ms") {
        Duration::from_millis(ms.parse().ok()?)
    } else {
        Duration::from_secs(s.strip_suffix('s').unwrap_or(s).parse().ok()?)
    };
    (d <= Duration::from_secs(3600)).then_some(d)
}

impl fmt::Display for Fault {
    /// The spec form, which parses back to the same fault.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.endpoint.name())?;
        match self.action {
            FaultAction::SlowDown => f.write_str("slow_down")?,
            FaultAction::Delay(d) => write!(f, "delay={}ms", d.as_millis())?,
            FaultAction::Status {
                status,
                retry_after: None,
            } => write!(f, "{status}")?,
            FaultAction::Status {
                status,
                retry_after: Some(r),
            } => write!(f, "{status}:retry-after={}", r.as_secs())?,
        }
        if self.times > 1 {
            write!(f, "x{}", self.times)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
