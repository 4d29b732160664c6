//! The registry of device authorizations ("grants") and their life cycle:
//! pending → approved or denied → consumed, plus expiry. It decides what a
//! poll of the token endpoint gets, in the order the threat model fixes.
//!
//! No HTTP and no clock of its own: every method takes `now` (monotonic), so
//! expiry and `slow_down` are unit-tested by passing instants. Device codes
//! are stored only as SHA-256 fingerprints.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::codes;
use crate::ids::{self, Fingerprint};

/// How long a consumed or expired grant is remembered, so a late poll still
/// gets `expired_token` / `invalid_grant` rather than looking unknown.
const RETENTION: Duration = Duration::from_secs(600);

/// RFC 8628 §3.5: on `slow_down` the interval grows by 5 s for this and all
/// later requests.
pub(crate) const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// Who asked for the code, restated on the confirmation page so a person can
/// spot a request they did not start (RFC 8628 §5.4, remote phishing), and
/// the scope asked for (RFC 8628 §3.1; only the standard OAuth door sends one).
#[derive(Debug, Clone, Default)]
pub(crate) struct Requester {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub scope: Option<String>,
}

/// Who approved a grant, and for which organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Approval {
    pub user_id: String,
    pub organization_id: Option<String>,
}

#[derive(Debug)]
enum Status {
    Pending,
    Approved(Approval),
    Denied,
    /// Tokens were issued, or the denial was reported: the code is dead.
    Consumed,
}

/// One device authorization.
#[derive(Debug)]
pub(crate) struct Grant {
    pub client_id: String,
    pub created: Instant,
    pub expires_at: Instant,
    pub requester: Requester,
    interval: Duration,
    last_poll: Option<Instant>,
    status: Status,
}

/// A successful poll: the person's approval and the scope the client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Redeemed {
    pub approval: Approval,
    pub scope: Option<String>,
}

/// What the device authorization endpoint hands back.
#[derive(Debug)]
pub(crate) struct IssuedCodes {
    pub device_code: String,
    pub user_code: String,
}

/// Every way a poll fails, named after the RFC 8628 §3.5 / RFC 6749 §5.2 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PollError {
    /// Unknown, consumed or foreign device code.
    InvalidGrant,
    /// The code outlived `expires_in`.
    ExpiredToken,
    /// Polled before the interval elapsed; the interval has grown by 5 s.
    SlowDown,
    /// Still waiting for the person.
    AuthorizationPending,
    /// The person chose Deny.
    AccessDenied,
}

/// The person's answer on the verification page.
#[derive(Debug, Clone)]
pub(crate) enum Decision {
    Approve(Approval),
    Deny,
}

/// The grant registry.
#[derive(Debug)]
pub(crate) struct Grants {
    by_device: HashMap<Fingerprint, Grant>,
    by_user_code: HashMap<String, Fingerprint>,
    lifetime: Duration,
    interval: Duration,
    /// The earliest instant at which [`Grants::sweep`] forgets something
    /// (`None` when empty), so callers can skip a sweep that would find
    /// nothing to remove.
    next_removal: Option<Instant>,
}

/// The tolerance before an early poll earns `slow_down`: an honest client
/// whose timer fires a few hundred milliseconds early (scheduling, network
/// jitter) must never be slowed, or it would drift ever slower.
pub(crate) fn slow_down_grace(interval: Duration) -> Duration {
    Duration::from_secs(1).min(interval / 2)
}

impl Grants {
    /// An empty registry issuing codes that live `lifetime` and ask clients to
    /// poll every `interval`.
    pub(crate) fn new(lifetime: Duration, interval: Duration) -> Self {
        Self {
            by_device: HashMap::new(),
            by_user_code: HashMap::new(),
            lifetime,
            interval,
            next_removal: None,
        }
    }

    /// Grants currently remembered (live, consumed or recently expired).
    pub(crate) fn len(&self) -> usize {
        self.by_device.len()
    }

    /// Starts a device authorization for `client_id`.
    pub(crate) fn issue(
        &mut self,
        client_id: &str,
        requester: Requester,
        now: Instant,
    ) -> IssuedCodes {
        let device_code = codes::new_device_code();
        // With at most a few thousand live codes out of 20^8 a collision is
        // rare; redrawing keeps user codes unique among remembered grants.
        let user_code = loop {
            let candidate = codes::new_user_code();
            if !self.by_user_code.contains_key(&candidate) {
                break candidate;
            }
        };
        let key = ids::fingerprint(&device_code);
        let expires_at = now + self.lifetime;
        let removal = expires_at + RETENTION;
        self.next_removal = Some(self.next_removal.map_or(removal, |t| t.min(removal)));
        self.by_user_code.insert(user_code.clone(), key);
        self.by_device.insert(
            key,
            Grant {
                client_id: client_id.to_owned(),
                created: now,
                expires_at,
                requester,
                interval: self.interval,
                last_poll: None,
                status: Status::Pending,
            },
        );
        IssuedCodes {
            device_code,
            user_code,
        }
    }

    /// Answers one poll of the token endpoint with the device code grant.
    ///
    /// The order of checks is the threat model's: found → issued to this
    /// client → not consumed → not expired → not too early → pending →
    /// denied → consume. Consuming happens under the caller's lock, so of two
    /// racing polls at the approval instant exactly one gets the approval.
    pub(crate) fn poll(
        &mut self,
        device_code: &str,
        client_id: &str,
        now: Instant,
    ) -> Result<Redeemed, PollError> {
        let grant = self
            .by_device
            .get_mut(&ids::fingerprint(device_code))
            .ok_or(PollError::InvalidGrant)?;
        // RFC 6749 §5.2: a grant issued to another client is invalid_grant.
        if grant.client_id != client_id {
            return Err(PollError::InvalidGrant);
        }
        if matches!(grant.status, Status::Consumed) {
            return Err(PollError::InvalidGrant);
        }
        if now >= grant.expires_at {
            return Err(PollError::ExpiredToken);
        }
        // RFC 8628 §3.5: measured from the previous poll, or from issuance
        // for the first one, with a small grace for honest clients.
        let since = grant.last_poll.unwrap_or(grant.created);
        grant.last_poll = Some(now);
        if now.duration_since(since) + slow_down_grace(grant.interval) < grant.interval {
            grant.interval += SLOW_DOWN_STEP;
            return Err(PollError::SlowDown);
        }
        match std::mem::replace(&mut grant.status, Status::Consumed) {
            Status::Pending => {
                grant.status = Status::Pending;
                Err(PollError::AuthorizationPending)
            }
            Status::Denied => Err(PollError::AccessDenied),
            Status::Approved(approval) => Ok(Redeemed {
                approval,
                scope: grant.requester.scope.clone(),
            }),
            Status::Consumed => Err(PollError::InvalidGrant),
        }
    }

    /// The grant behind a normalised user code, if it is still waiting for a
    /// decision. Unknown, expired, decided and consumed codes all give `None`,
    /// so the page cannot tell them apart (no oracle).
    pub(crate) fn pending(&self, user_code: &str, now: Instant) -> Option<&Grant> {
        let key = self.by_user_code.get(user_code)?;
        let grant = self.by_device.get(key)?;
        (matches!(grant.status, Status::Pending) && now < grant.expires_at).then_some(grant)
    }

    /// Records the person's decision. Only a pending, unexpired grant can be
    /// decided, so an approved or denied code can never be approved again.
    pub(crate) fn decide(
        &mut self,
        user_code: &str,
        decision: Decision,
        now: Instant,
    ) -> Result<(), NotPending> {
        let key = self.by_user_code.get(user_code).ok_or(NotPending)?;
        let grant = self.by_device.get_mut(key).ok_or(NotPending)?;
        if !matches!(grant.status, Status::Pending) || now >= grant.expires_at {
            return Err(NotPending);
        }
        grant.status = match decision {
            Decision::Approve(approval) => Status::Approved(approval),
            Decision::Deny => Status::Denied,
        };
        Ok(())
    }

    /// Forgets grants that expired more than [`RETENTION`] ago, so memory
    /// stays bounded however many codes are requested.
    pub(crate) fn sweep(&mut self, now: Instant) {
        let mut next_removal: Option<Instant> = None;
        self.by_device.retain(|_, g| {
            let removal = g.expires_at + RETENTION;
            let keep = now < removal;
            if keep {
                next_removal = Some(next_removal.map_or(removal, |t| t.min(removal)));
            }
            keep
        });
        self.next_removal = next_removal;
        let live = &self.by_device;
        self.by_user_code.retain(|_, key| live.contains_key(key));
    }

    /// Whether [`Grants::sweep`] at `now` would forget at least one grant.
    /// O(1), so a full registry can refuse new grants cheaply.
    pub(crate) fn sweep_would_remove(&self, now: Instant) -> bool {
        self.next_removal.is_some_and(|t| now >= t)
    }
}

/// The user code does not name a grant awaiting a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotPending;

#[cfg(test)]
#[path = "grants_tests.rs"]
mod tests;
