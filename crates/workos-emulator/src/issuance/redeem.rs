//! The three ways to get tokens: redeem a device code (RFC 8628 §3.4–3.5),
//! rotate a refresh token (RFC 6749 §6, single use per RFC 9700 §4.14.2),
//! and finish a pending authentication by choosing an organization (WorkOS's
//! organization-selection grant).

use std::time::Duration;

use super::{Door, Issued, mint, persist_failed};
use crate::error::{ApiError, OrganizationChoice};
use crate::grants::PollError;
use crate::routes::MAX_ID_LEN;
use crate::state::AppState;
use crate::tokens::RefreshError;
use crate::tokens::Session;

/// A redeemed device code or pending authentication: every check passed and
/// the code is spent; what is left is starting the session (which may touch
/// the state directory) and signing, both for [`NewSession::finish`].
#[derive(Debug)]
pub(crate) struct NewSession {
    user_id: String,
    client_id: String,
    organization_id: Option<String>,
    scope: Option<String>,
}

impl NewSession {
    /// Starts the session and mints its tokens. May do file I/O (with a
    /// state directory) and signs an RS256 token: run it on the blocking pool.
    pub(crate) fn finish(self, state: &AppState) -> Result<Issued, ApiError> {
        let now_utc = state.now_utc();
        let (session, refresh_token) = state
            .with_sessions(&mut state.registry(), |sessions| {
                sessions.start(
                    &self.user_id,
                    &self.client_id,
                    self.organization_id,
                    self.scope,
                    now_utc,
                )
            })
            .map_err(persist_failed)?;
        mint(state, session, refresh_token)
    }
}

/// Redeems `device_code`: pure in-memory bookkeeping under the registry
/// lock, cheap enough for the async worker (this is every poll's path).
/// Polling and consuming happen under one lock, so of two racing polls at
/// the approval instant exactly one gets the approval.
pub(crate) fn device_code(
    state: &AppState,
    door: Door,
    client_id: &str,
    device_code: &str,
) -> Result<NewSession, ApiError> {
    let now = state.now();
    let mut registry = state.registry();
    let redeemed = registry
        .grants
        .poll(device_code, client_id, now)
        .map_err(|e| match e {
            PollError::InvalidGrant => ApiError::InvalidGrant(
                "The device code is invalid, was issued to another client, or has already been used."
                    .into(),
            ),
            PollError::ExpiredToken => ApiError::ExpiredToken,
            PollError::SlowDown => ApiError::SlowDown,
            PollError::AuthorizationPending => ApiError::AuthorizationPending,
            PollError::AccessDenied => ApiError::AccessDenied,
        })?;
    let approval = redeemed.approval;
    let directory = state.directory();
    let user = directory.by_id(&approval.user_id).ok_or_else(|| {
        ApiError::Internal(format!("approved user {} is not seeded", approval.user_id))
    })?;
    if door == Door::WorkOs && approval.organization_id.is_none() && user.memberships.len() > 1 {
        // The device code is spent either way; the client continues with the
        // pending authentication token (organization-selection grant).
        if registry.pending_auth.len() >= state.config().max_grants {
            registry.pending_auth.sweep(now);
            if registry.pending_auth.len() >= state.config().max_grants {
                return Err(ApiError::RateLimited(Duration::from_secs(60)));
            }
        }
        let token = registry
            .pending_auth
            .issue(&user.id, client_id, redeemed.scope, now);
        let organizations = user
            .memberships
            .iter()
            .map(|m| OrganizationChoice {
                id: m.organization_id.clone(),
                name: directory
                    .organization_name(&m.organization_id)
                    .unwrap_or(&m.organization_id)
                    .to_owned(),
            })
            .collect();
        return Err(ApiError::organization_selection_required(
            token,
            organizations,
        ));
    }
    Ok(NewSession {
        user_id: approval.user_id,
        client_id: client_id.to_owned(),
        organization_id: approval.organization_id,
        scope: redeemed.scope,
    })
}

/// Rotates `refresh_token`; `switch_to` moves the session to another of the
/// user's organizations (WorkOS's `organization_id` on the refresh grant).
/// File I/O with a state directory; in memory otherwise.
pub(crate) fn rotate(
    state: &AppState,
    client_id: &str,
    refresh_token: &str,
    switch_to: Option<String>,
) -> Result<(Session, String), ApiError> {
    let directory = state.directory();
    let rotated = state
        .with_sessions(&mut state.registry(), |sessions| {
            sessions.rotate(refresh_token, client_id, |session| {
                let Some(org) = switch_to else {
                    return Ok(session.organization_id.clone());
                };
                match directory.by_id(&session.user_id) {
                    Some(user) if user.membership(&org).is_some() => Ok(Some(org)),
                    _ => Err(RefreshError::NotAMember(org)),
                }
            })
        })
        .map_err(persist_failed)?;
    let (session, refresh_token) = rotated.map_err(|e| match e {
        RefreshError::Unknown => {
            ApiError::InvalidGrant("The refresh token is invalid or its session has ended.".into())
        }
        RefreshError::AlreadyExchanged => {
            tracing::warn!("refresh token reuse detected; session revoked");
            ApiError::InvalidGrant("Refresh token already exchanged.".into())
        }
        RefreshError::WrongClient => {
            ApiError::InvalidGrant("The refresh token was issued to another client.".into())
        }
        RefreshError::NotAMember(org) => not_a_member(&org),
    })?;
    Ok((session, refresh_token))
}

/// Redeems a pending authentication in `organization_id` (in memory, cheap):
/// a wrong choice does not spend the token, a right one does.
pub(crate) fn select_organization(
    state: &AppState,
    client_id: &str,
    pending_token: &str,
    organization_id: &str,
) -> Result<NewSession, ApiError> {
    let now = state.now();
    let mut registry = state.registry();
    let pending = registry
        .pending_auth
        .peek(pending_token, client_id, now)
        .cloned()
        .ok_or_else(|| {
            ApiError::InvalidGrant(
                "The pending authentication token is invalid, expired or already used.".into(),
            )
        })?;
    // A wrong choice does not spend the token, so the user can pick again.
    let member = state
        .directory()
        .by_id(&pending.user_id)
        .is_some_and(|u| u.membership(organization_id).is_some());
    if !member {
        return Err(not_a_member(organization_id));
    }
    registry.pending_auth.consume(pending_token);
    Ok(NewSession {
        user_id: pending.user_id,
        client_id: client_id.to_owned(),
        organization_id: Some(organization_id.to_owned()),
        scope: pending.scope,
    })
}

fn not_a_member(org: &str) -> ApiError {
    ApiError::InvalidRequest(format!(
        "The user is not a member of organization {:?}.",
        org.chars().take(MAX_ID_LEN).collect::<String>()
    ))
}
