//! `POST /user_management/authorize/device`: starts a device authorization
//! (RFC 8628 §3.1–3.2) in WorkOS's shape. Public endpoint: any
//! `Authorization` header is ignored, as a distributed CLI has no secret.
//! The logic (flood guard, auto-approval) is shared with the standard OAuth
//! door in `issuance`.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{ClientMeta, FormOrJson, present};
use crate::error::ApiError;
use crate::issuance::{self, Started};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/user_management/authorize/device", post(authorize))
}

#[derive(Debug, Deserialize)]
struct DeviceRequest {
    client_id: Option<String>,
}

/// The 200 body (RFC 8628 §3.2). `expires_in` and `interval` are integers.
#[derive(Debug, Serialize)]
pub(super) struct DeviceResponse {
    device_code: String,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: String,
    expires_in: u64,
    interval: u64,
}

impl From<Started> for DeviceResponse {
    fn from(s: Started) -> Self {
        Self {
            device_code: s.device_code,
            user_code: s.user_code,
            verification_uri: s.verification_uri,
            verification_uri_complete: s.verification_uri_complete,
            expires_in: s.expires_in,
            interval: s.interval,
        }
    }
}

async fn authorize(
    State(state): State<AppState>,
    meta: ClientMeta,
    FormOrJson(request): FormOrJson<DeviceRequest>,
) -> Result<Json<DeviceResponse>, ApiError> {
    issuance::start(&state, present(request.client_id), None, meta).map(|s| Json(s.into()))
}
