//! The standard OAuth door, as AuthKit serves it beside the WorkOS API, so
//! generic OAuth and OIDC clients work unchanged:
//!
//! - `POST /oauth2/device_authorization` (RFC 8628 §3.1–3.2; form `client_id`, `scope`)
//! - `POST /oauth2/token` (RFC 6749 §5.1 answers; device code and refresh grants)
//! - `POST /oauth2/revoke` (RFC 7009; always 200 for unknown tokens)
//! - `GET /oauth2/jwks`
//!
//! The grant logic is `issuance`, shared with `/user_management/…`. Only the
//! response differs: no `user` object; `refresh_token` only with
//! `offline_access`; an OIDC `id_token` with `openid`.

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::authenticate::{DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT, required};
use super::device::DeviceResponse;
use super::{ClientMeta, FormOrJson, present, present_str};
use crate::error::ApiError;
use crate::issuance::{self, Door, Issued, Redemption};
use crate::request_log::GrantTypeTag;
use crate::state::AppState;
use crate::tokens::{self, IdSubject, Jwks, RefreshError, Scope};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth2/device_authorization", post(device_authorization))
        .route("/oauth2/token", post(token))
        .route("/oauth2/revoke", post(revoke))
}

/// `GET /oauth2/jwks`: outside the no-store layer, so clients may cache it.
pub(super) fn jwks_router() -> Router<AppState> {
    Router::new().route("/oauth2/jwks", get(jwks))
}

#[derive(Debug, Deserialize)]
struct DeviceAuthorizationRequest {
    client_id: Option<String>,
    scope: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    device_code: Option<String>,
    refresh_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RevokeRequest {
    token: Option<String>,
    client_id: Option<String>,
}

/// RFC 6749 §5.1, plus the OIDC `id_token`.
#[derive(Debug, Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    /// RFC 6749 §3.3: what was granted, which may be less than asked.
    scope: String,
}

async fn device_authorization(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    FormOrJson(request): FormOrJson<DeviceAuthorizationRequest>,
) -> Result<Json<DeviceResponse>, ApiError> {
    let client_id = present(request.client_id).or_else(|| basic_client_id(&headers));
    let scope = Scope::parse(request.scope.as_deref().unwrap_or_default());
    issuance::start(&state, client_id, Some(scope.to_wire()), meta).map(|s| Json(s.into()))
}

async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    FormOrJson(request): FormOrJson<TokenRequest>,
) -> Response {
    let tag = GrantTypeTag::of(request.grant_type.as_deref());
    // As in `authenticate`: checks here, only the success path on the
    // blocking pool.
    let result = match redeem(&state, &headers, request) {
        Ok((client_id, redemption)) => {
            issuance::finish(&state, redemption, move |state, issued| {
                respond(state, &client_id, issued)
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

fn redeem(
    state: &AppState,
    headers: &HeaderMap,
    request: TokenRequest,
) -> Result<(String, Redemption), ApiError> {
    let grant_type = present_str(request.grant_type.as_deref());
    let client_id = required(
        present(request.client_id).or_else(|| basic_client_id(headers)),
        "client_id",
    )?;
    let redemption = match grant_type {
        Some(DEVICE_CODE_GRANT) => Redemption::Start(issuance::device_code(
            state,
            Door::OAuth,
            &client_id,
            &required(request.device_code, "device_code")?,
        )?),
        Some(REFRESH_TOKEN_GRANT) => Redemption::Refresh {
            client_id: client_id.clone(),
            refresh_token: required(request.refresh_token, "refresh_token")?,
            switch_to: None,
        },
        Some(other) => {
            return Err(ApiError::UnsupportedGrantType(
                other.chars().take(100).collect(),
            ));
        }
        None => return Err(ApiError::InvalidRequest("grant_type is required.".into())),
    };
    Ok((client_id, redemption))
}

/// Shapes `issued` per the session's scope. Sessions started through the
/// WorkOS door have no scope and are treated as holding every supported one.
fn respond(
    state: &AppState,
    client_id: &str,
    issued: Issued,
) -> Result<Json<TokenResponse>, ApiError> {
    let scope = match &issued.session.scope {
        Some(raw) => Scope::parse(raw),
        None => Scope::parse(&tokens::SUPPORTED_SCOPES.join(" ")),
    };
    let id_token = if scope.has("openid") {
        let subject = IdSubject {
            issuer: state.issuer(),
            user_id: &issued.user.id,
            client_id,
            email: &issued.user.email,
            email_verified: issued.user.email_verified,
            name: issued.user.display_name(),
        };
        let ttl = state.config().access_token_ttl;
        let claims = tokens::id_claims(&subject, &scope, ttl, state.now_utc());
        let jwt = state
            .key()
            .sign(&claims)
            .map_err(|e| ApiError::Internal(format!("signing failed: {e}")))?;
        Some(jwt)
    } else {
        None
    };
    Ok(Json(TokenResponse {
        access_token: issued.access_token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        refresh_token: scope.has("offline_access").then_some(issued.refresh_token),
        id_token,
        scope: scope.to_wire(),
    }))
}

/// RFC 7009 §2.1–2.2: revoking a refresh token ends its session. Unknown
/// tokens and access tokens (self-contained JWTs that stay valid until
/// `exp`) answer 200 with no effect, so the endpoint is no token oracle.
async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    FormOrJson(request): FormOrJson<RevokeRequest>,
) -> Response {
    let client_id = present(request.client_id).or_else(|| basic_client_id(&headers));
    let work = move |state: &AppState| {
        let client_id = required(client_id, "client_id")?;
        let token = required(request.token, "token")?;
        let outcome = state
            .with_sessions(&mut state.registry(), |s| s.revoke(&token, &client_id))
            .map_err(issuance::persist_failed)?;
        match outcome {
            Ok(revoked) => {
                tracing::info!(revoked, "token revocation");
                Ok(())
            }
            Err(RefreshError::WrongClient) => Err(ApiError::InvalidGrant(
                "The token was issued to another client.".into(),
            )),
            Err(_) => Ok(()),
        }
    };
    // Only a state directory makes this block (file lock, fsync).
    let result = if state.persists() {
        tokio::task::spawn_blocking(move || work(&state))
            .await
            .unwrap_or_else(|e| Err(ApiError::Internal(format!("revocation task failed: {e}"))))
    } else {
        work(&state)
    };
    match result {
        Ok(()) => Json(serde_json::json!({})).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn jwks(State(state): State<AppState>) -> Json<Jwks> {
    Json(state.key().jwks())
}

/// The client id from `Authorization: Basic` (RFC 6749 §2.3.1), for clients
/// that authenticate that way even without a secret. The secret is ignored.
fn basic_client_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let id = decoded.split(':').next()?;
    // RFC 6749 §2.3.1: the id is form-urlencoded before base64.
    let id = url::form_urlencoded::parse(format!("x={id}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    present(Some(id))
}
