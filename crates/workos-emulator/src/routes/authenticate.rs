//! `POST /user_management/authenticate`: the device code grant (RFC 8628
//! §3.4–3.5) and the refresh token grant (RFC 6749 §6), both answered with
//! WorkOS's `AuthenticateResponse`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{FormOrJson, MAX_ID_LEN, present};
use crate::error::ApiError;
use crate::grants::PollError;
use crate::request_log::GrantTypeTag;
use crate::state::AppState;
use crate::tokens::{self, RefreshError, Session, TokenSubject};
use crate::users::UserObject;

/// RFC 8628 §3.4.
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const REFRESH_TOKEN_GRANT: &str = "refresh_token";

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/user_management/authenticate", post(authenticate))
}

/// Fields of both grants; optional extras (`ip_address`, `device_id`,
/// `user_agent`) and anything unknown are ignored.
#[derive(Debug, Deserialize)]
struct AuthenticateRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    device_code: Option<String>,
    refresh_token: Option<String>,
    organization_id: Option<String>,
}

/// WorkOS's `AuthenticateResponse`, plus `token_type` and `expires_in` so
/// generic OAuth clients can read it too.
#[derive(Debug, Serialize)]
struct AuthenticateResponse {
    user: UserObject,
    organization_id: Option<String>,
    access_token: String,
    refresh_token: String,
    authentication_method: &'static str,
    token_type: &'static str,
    expires_in: u64,
}

async fn authenticate(
    State(state): State<AppState>,
    FormOrJson(request): FormOrJson<AuthenticateRequest>,
) -> Response {
    let grant_type = present(request.grant_type.clone());
    let result = match grant_type.as_deref() {
        Some(DEVICE_CODE_GRANT) => device_code_grant(&state, request),
        Some(REFRESH_TOKEN_GRANT) => refresh_token_grant(&state, request),
        Some(other) => Err(ApiError::UnsupportedGrantType(
            other.chars().take(100).collect(),
        )),
        None => Err(ApiError::InvalidRequest("grant_type is required.".into())),
    };
    let mut response = result.into_response();
    if let Some(grant_type) = grant_type {
        response.extensions_mut().insert(GrantTypeTag(grant_type));
    }
    response
}

fn required(value: Option<String>, name: &str) -> Result<String, ApiError> {
    let value =
        present(value).ok_or_else(|| ApiError::InvalidRequest(format!("{name} is required.")))?;
    if value.len() > 4 * MAX_ID_LEN {
        return Err(ApiError::InvalidRequest(format!("{name} is too long.")));
    }
    Ok(value)
}

fn device_code_grant(
    state: &AppState,
    request: AuthenticateRequest,
) -> Result<Json<AuthenticateResponse>, ApiError> {
    let device_code = required(request.device_code, "device_code")?;
    let client_id = required(request.client_id, "client_id")?;
    let now = state.now();
    let now_utc = state.now_utc();
    let (session, refresh_token) = {
        let mut registry = state.registry();
        // Polling and consuming happen under one lock: of two racing polls
        // at the approval instant exactly one sees the approval.
        let approval = registry.grants.poll(&device_code, &client_id, now).map_err(|e| match e {
            PollError::InvalidGrant => ApiError::InvalidGrant(
                "The device code is invalid, was issued to another client, or has already been used.".into(),
            ),
            PollError::ExpiredToken => ApiError::ExpiredToken,
            PollError::SlowDown => ApiError::SlowDown,
            PollError::AuthorizationPending => ApiError::AuthorizationPending,
            PollError::AccessDenied => ApiError::AccessDenied,
        })?;
        registry.sessions.start(
            &approval.user_id,
            &client_id,
            approval.organization_id,
            now_utc,
        )
    };
    token_response(state, &session, refresh_token)
}

fn refresh_token_grant(
    state: &AppState,
    request: AuthenticateRequest,
) -> Result<Json<AuthenticateResponse>, ApiError> {
    let refresh_token = required(request.refresh_token, "refresh_token")?;
    let client_id = required(request.client_id, "client_id")?;
    let switch_to = present(request.organization_id);
    let directory = state.directory();
    let rotated = state
        .registry()
        .sessions
        .rotate(&refresh_token, &client_id, |session| {
            let Some(org) = switch_to else {
                return Ok(session.organization_id.clone());
            };
            match directory.by_id(&session.user_id) {
                Some(user) if user.membership(&org).is_some() => Ok(Some(org)),
                _ => Err(RefreshError::NotAMember(org)),
            }
        });
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
        RefreshError::NotAMember(org) => ApiError::InvalidRequest(format!(
            "The user is not a member of organization {:?}.",
            org.chars().take(MAX_ID_LEN).collect::<String>()
        )),
    })?;
    token_response(state, &session, refresh_token)
}

/// Mints the access token for `session` and assembles the response.
fn token_response(
    state: &AppState,
    session: &Session,
    refresh_token: String,
) -> Result<Json<AuthenticateResponse>, ApiError> {
    let user = state.directory().by_id(&session.user_id).ok_or_else(|| {
        ApiError::Internal(format!("session user {} is not seeded", session.user_id))
    })?;
    let membership = session
        .organization_id
        .as_deref()
        .and_then(|org| user.membership(org));
    let subject = TokenSubject {
        issuer: state.issuer(),
        user_id: &user.id,
        session_id: &session.id,
        organization_id: session.organization_id.as_deref(),
        role: membership.map(|m| (m.role.as_str(), m.permissions.as_slice())),
    };
    let ttl = state.config().access_token_ttl;
    let claims = tokens::access_claims(&subject, ttl, state.now_utc());
    let access_token = state
        .key()
        .sign(&claims)
        .map_err(|e| ApiError::Internal(format!("signing failed: {e}")))?;
    Ok(Json(AuthenticateResponse {
        user: state.directory().user_object(user, session.created_utc),
        organization_id: session.organization_id.clone(),
        access_token,
        refresh_token,
        authentication_method: "Password",
        token_type: "Bearer",
        expires_in: ttl.as_secs(),
    }))
}
