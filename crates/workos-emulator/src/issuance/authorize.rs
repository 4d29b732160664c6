//! Starting a device authorization (RFC 8628 §3.1–3.2): client checks, the
//! flood guard (threat model row 35), issuing the codes, and auto-approval
//! for unattended CI runs.

use std::time::Duration;

use crate::error::ApiError;
use crate::grants::{Decision, Requester};
use crate::routes::{ClientMeta, MAX_ID_LEN};
use crate::state::{AppState, approval_for};

/// Longest accepted `scope` parameter.
const MAX_SCOPE_LEN: usize = 1024;

/// The RFC 8628 §3.2 answer, the same for both doors.
#[derive(Debug)]
pub(crate) struct Started {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: u64,
    pub interval: u64,
}

/// Starts a device authorization for `client_id` asking for `scope`.
///
/// With `auto_approve` configured the grant is approved as that user at
/// creation: the first poll after the interval gets tokens, as if someone
/// had clicked Approve at once (the interval still applies, so clients are
/// exercised exactly as in production).
pub(crate) fn start(
    state: &AppState,
    client_id: Option<String>,
    scope: Option<String>,
    meta: ClientMeta,
) -> Result<Started, ApiError> {
    let client_id =
        client_id.ok_or_else(|| ApiError::InvalidRequest("client_id is required.".into()))?;
    if client_id.len() > MAX_ID_LEN {
        return Err(ApiError::InvalidRequest("client_id is too long.".into()));
    }
    if scope.as_ref().is_some_and(|s| s.len() > MAX_SCOPE_LEN) {
        return Err(ApiError::InvalidRequest("scope is too long.".into()));
    }
    let config = state.config();
    if !config.clients.is_empty() && !config.clients.contains(&client_id) {
        return Err(ApiError::InvalidClient("Unknown client".into()));
    }
    let auto_approval = match &config.auto_approve {
        Some(email) => Some(approval_for(state.directory().by_email(email).ok_or_else(
            || ApiError::Internal(format!("auto_approve user {email:?} is not seeded")),
        )?)),
        None => None,
    };
    let now = state.now();
    let issued = {
        let mut registry = state.registry();
        // The global cap is checked before the per-client window, so neither
        // map can grow past `max_grants` entries between sweeps. A full
        // registry sweeps at most once a second, and only when a grant can
        // go: a flood of refused requests costs O(1) each, not a full walk.
        if !registry.room_for_grant(config.max_grants, now) {
            return Err(ApiError::RateLimited(Duration::from_secs(60)));
        }
        registry
            .issuance
            .admit(client_id.clone(), now)
            .map_err(ApiError::RateLimited)?;
        let requester = Requester {
            ip: meta.ip,
            user_agent: meta.user_agent,
            scope,
        };
        let issued = registry.grants.issue(&client_id, requester, now);
        if let Some(approval) = auto_approval {
            let decided =
                registry
                    .grants
                    .decide(&issued.user_code, Decision::Approve(approval), now);
            debug_assert!(decided.is_ok(), "a fresh grant is pending");
        }
        issued
    };
    let base = state.base_url();
    Ok(Started {
        verification_uri: format!("{base}/device"),
        verification_uri_complete: format!("{base}/device?user_code={}", issued.user_code),
        device_code: issued.device_code,
        user_code: issued.user_code,
        expires_in: config.expires_in.as_secs(),
        interval: config.interval.as_secs(),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ManualClock;
    use crate::config::EmulatorConfig;

    const CAP: usize = 100;
    /// `expires_in` plus the grants' retention: when a grant can be swept.
    const FORGOTTEN_AFTER: Duration = Duration::from_secs(300 + 600);

    fn full_state(spacing: Duration) -> (AppState, ManualClock) {
        let clock = ManualClock::new();
        let config = EmulatorConfig {
            max_grants: CAP,
            max_authorizations_per_minute: u32::MAX,
            ..EmulatorConfig::default()
        };
        let state =
            AppState::with_clock(config, "http://127.0.0.1:1", Arc::new(clock.clone())).unwrap();
        for _ in 0..CAP {
            authorize(&state).unwrap();
            clock.advance(spacing);
        }
        assert_eq!(state.stored_grants(), CAP);
        (state, clock)
    }

    fn authorize(state: &AppState) -> Result<Started, ApiError> {
        start(state, Some("client_a".into()), None, ClientMeta::default())
    }

    fn refused(result: Result<Started, ApiError>) -> bool {
        matches!(result, Err(ApiError::RateLimited(_)))
    }

    #[test]
    fn a_full_registry_with_nothing_to_forget_never_sweeps() {
        let (state, clock) = full_state(Duration::ZERO);
        for _ in 0..1_000 {
            assert!(refused(authorize(&state)));
            clock.advance(Duration::from_millis(10));
        }
        assert_eq!(state.cap_sweeps(), 0);
        assert_eq!(state.stored_grants(), CAP);
    }

    #[test]
    fn refused_authorizations_sweep_at_most_once_a_second() {
        // One grant every 10 ms, so after FORGOTTEN_AFTER one more becomes
        // sweepable every 10 ms: each refusal could find something to forget.
        let step = Duration::from_millis(10);
        let (state, clock) = full_state(step);
        clock.advance(FORGOTTEN_AFTER - step * u32::try_from(CAP).unwrap());
        // The first grant just became sweepable: one sweep makes room.
        assert!(authorize(&state).is_ok());
        assert_eq!(state.cap_sweeps(), 1);
        // For the rest of that second every request is refused, although a
        // grant becomes sweepable with each one: no sweep runs.
        for _ in 0..99 {
            clock.advance(step);
            assert!(refused(authorize(&state)));
        }
        assert_eq!(state.cap_sweeps(), 1);
        // A second after the last sweep the next one runs and makes room.
        clock.advance(step);
        assert!(authorize(&state).is_ok());
        assert_eq!(state.cap_sweeps(), 2);
        // A thousand requests over ten seconds: at most one sweep a second.
        for _ in 0..1_000 {
            clock.advance(step);
            let _ = authorize(&state);
        }
        assert!(state.cap_sweeps() <= 2 + 10, "{}", state.cap_sweeps());
        assert!(state.stored_grants() <= CAP);
    }
}
