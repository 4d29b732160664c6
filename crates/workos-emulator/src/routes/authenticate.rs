//! `POST /user_management/authenticate`: the device code grant (RFC 8628
//! §3.4–3.5), the refresh token grant (RFC 6749 §6) and WorkOS's
//! organization-selection grant, all answered with WorkOS's
//! `AuthenticateResponse`. The grant logic lives in `issuance`, shared with
//! `/oauth2/token`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{FormOrJson, MAX_ID_LEN, present, present_str};
use crate::error::ApiError;
use crate::issuance::{self, Door, Issued, Redemption};
use crate::request_log::GrantTypeTag;
use crate::state::AppState;
use crate::users::UserObject;

/// RFC 8628 §3.4.
pub(super) const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 6749 §6.
pub(super) const REFRESH_TOKEN_GRANT: &str = "refresh_token";
/// WorkOS: finish a pending authentication in a chosen organization.
const ORGANIZATION_SELECTION_GRANT: &str = "urn:workos:oauth:grant-type:organization-selection";

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/user_management/authenticate", post(authenticate))
}

/// Fields of every grant; optional extras (`ip_address`, `device_id`,
/// `user_agent`) and anything unknown are ignored.
#[derive(Debug, Deserialize)]
struct AuthenticateRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    device_code: Option<String>,
    refresh_token: Option<String>,
    organization_id: Option<String>,
    pending_authentication_token: Option<String>,
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
    let tag = GrantTypeTag::of(request.grant_type.as_deref());
    // The checks run here, on the async worker: a pending or early poll is a
    // map lookup under a briefly held lock. Only the success path (session
    // file I/O, RS256 signing) goes to the blocking pool, in `finish`.
    let result = match redeem(&state, request) {
        Ok(redemption) => {
            issuance::finish(&state, redemption, |state, issued| {
                Ok(respond(state, issued))
            })
            .await
        }
        Err(e) => Err(e),
    };
    let mut response = result.into_response();
    if let Some(tag) = tag {
        response.extensions_mut().insert(tag);
    }
    response
}

fn redeem(state: &AppState, request: AuthenticateRequest) -> Result<Redemption, ApiError> {
    match present_str(request.grant_type.as_deref()) {
        Some(DEVICE_CODE_GRANT) => issuance::device_code(
            state,
            Door::WorkOs,
            &required(request.client_id, "client_id")?,
            &required(request.device_code, "device_code")?,
        )
        .map(Redemption::Start),
        Some(REFRESH_TOKEN_GRANT) => Ok(Redemption::Refresh {
            client_id: required(request.client_id, "client_id")?,
            refresh_token: required(request.refresh_token, "refresh_token")?,
            switch_to: present(request.organization_id),
        }),
        Some(ORGANIZATION_SELECTION_GRANT) => issuance::select_organization(
            state,
            &required(request.client_id, "client_id")?,
            &required(
                request.pending_authentication_token,
                "pending_authentication_token",
            )?,
            &required(request.organization_id, "organization_id")?,
        )
        .map(Redemption::Start),
        Some(other) => Err(ApiError::UnsupportedGrantType(
            other.chars().take(100).collect(),
        )),
        None => Err(ApiError::InvalidRequest("grant_type is required.".into())),
    }
}

/// A required, non-empty, bounded field.
pub(super) fn required(value: Option<String>, name: &str) -> Result<String, ApiError> {
    let value =
        present(value).ok_or_else(|| ApiError::InvalidRequest(format!("{name} is required.")))?;
    if value.len() > 4 * MAX_ID_LEN {
        return Err(ApiError::InvalidRequest(format!("{name} is too long.")));
    }
    Ok(value)
}

fn respond(state: &AppState, issued: Issued) -> Json<AuthenticateResponse> {
    Json(AuthenticateResponse {
        user: state
            .directory()
            .user_object(&issued.user, issued.session.created_utc),
        organization_id: issued.session.organization_id,
        access_token: issued.access_token,
        refresh_token: issued.refresh_token,
        authentication_method: "Password",
        token_type: "Bearer",
        expires_in: issued.expires_in,
    })
}
