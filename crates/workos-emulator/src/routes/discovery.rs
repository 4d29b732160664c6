//! Server metadata, so clients can find the standard endpoints from the
//! issuer alone: `GET /.well-known/oauth-authorization-server` (RFC 8414 §3)
//! and `GET /.well-known/openid-configuration` (OIDC Discovery §4). Both
//! serve the same document.
//!
//! There is no authorization endpoint (the emulator implements the device
//! grant only), so `response_types_supported` is honestly empty and no PKCE
//! methods are listed. `end_session_endpoint` is omitted too: WorkOS's logout
//! takes `session_id`, not OIDC's `id_token_hint`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::state::AppState;
use crate::tokens::SUPPORTED_SCOPES;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/oauth-authorization-server", get(metadata))
        .route("/.well-known/openid-configuration", get(metadata))
}

/// RFC 8414 §2 members (plus the OIDC Discovery ones it requires).
#[derive(Debug, Serialize)]
struct Metadata {
    /// Identical to the `iss` of issued tokens (RFC 8414 §3.3).
    issuer: String,
    device_authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    revocation_endpoint: String,
    grant_types_supported: [&'static str; 2],
    response_types_supported: [&'static str; 0],
    scopes_supported: [&'static str; 4],
    token_endpoint_auth_methods_supported: [&'static str; 1],
    revocation_endpoint_auth_methods_supported: [&'static str; 1],
    id_token_signing_alg_values_supported: [&'static str; 1],
    subject_types_supported: [&'static str; 1],
    claims_supported: [&'static str; 8],
}

async fn metadata(State(state): State<AppState>) -> Json<Metadata> {
    let base = state.base_url();
    Json(Metadata {
        issuer: state.issuer().to_owned(),
        device_authorization_endpoint: format!("{base}/oauth2/device_authorization"),
        token_endpoint: format!("{base}/oauth2/token"),
        jwks_uri: format!("{base}/oauth2/jwks"),
        revocation_endpoint: format!("{base}/oauth2/revoke"),
        grant_types_supported: [
            "urn:ietf:params:oauth:grant-type:device_code",
            "refresh_token",
        ],
        response_types_supported: [],
        scopes_supported: SUPPORTED_SCOPES,
        // Public clients: a distributed CLI holds no secret (RFC 8252 §8.4).
        token_endpoint_auth_methods_supported: ["none"],
        revocation_endpoint_auth_methods_supported: ["none"],
        id_token_signing_alg_values_supported: ["RS256"],
        subject_types_supported: ["public"],
        claims_supported: [
            "iss",
            "sub",
            "aud",
            "iat",
            "exp",
            "email",
            "email_verified",
            "name",
        ],
    })
}
