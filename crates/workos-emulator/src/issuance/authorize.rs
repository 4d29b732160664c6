//! Starting a device authorization (RFC 8628 §3.1–3.2): client checks, the
//! flood guard (threat model row 35), issuing the codes, and auto-approval
//! for unattended CI runs.

use std::time::Duration;

use crate::error::ApiError;
use crate::grants::{Decision, Requester};
use crate::routes::{ClientMeta, MAX_ID_LEN};
use crate::state::{AppState, MAX_GRANTS, approval_for};

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
        // map can grow past MAX_GRANTS entries between sweeps.
        if registry.grants.len() >= MAX_GRANTS {
            registry.grants.sweep(now);
            if registry.grants.len() >= MAX_GRANTS {
                return Err(ApiError::RateLimited(Duration::from_secs(60)));
            }
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
