//! `POST /user_management/authorize/device`: starts a device authorization
//! (RFC 8628 §3.1–3.2) in WorkOS's shape. Public endpoint: any
//! `Authorization` header is ignored, as a distributed CLI has no secret.

use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{ClientMeta, FormOrJson, MAX_ID_LEN, present};
use crate::error::ApiError;
use crate::grants::Requester;
use crate::state::{AppState, MAX_GRANTS};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/user_management/authorize/device", post(authorize))
}

#[derive(Debug, Deserialize)]
struct DeviceRequest {
    client_id: Option<String>,
}

/// The 200 body (RFC 8628 §3.2). `expires_in` and `interval` are integers.
#[derive(Debug, Serialize)]
struct DeviceResponse {
    device_code: String,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: String,
    expires_in: u64,
    interval: u64,
}

async fn authorize(
    State(state): State<AppState>,
    meta: ClientMeta,
    FormOrJson(request): FormOrJson<DeviceRequest>,
) -> Result<Json<DeviceResponse>, ApiError> {
    let client_id = present(request.client_id)
        .ok_or_else(|| ApiError::InvalidRequest("client_id is required.".into()))?;
    if client_id.len() > MAX_ID_LEN {
        return Err(ApiError::InvalidRequest("client_id is too long.".into()));
    }
    let config = state.config();
    if !config.clients.is_empty() && !config.clients.contains(&client_id) {
        return Err(ApiError::InvalidClient("Unknown client".into()));
    }
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
        };
        registry.grants.issue(&client_id, requester, now)
    };
    let base = state.base_url();
    Ok(Json(DeviceResponse {
        verification_uri: format!("{base}/device"),
        verification_uri_complete: format!("{base}/device?user_code={}", issued.user_code),
        device_code: issued.device_code,
        user_code: issued.user_code,
        expires_in: config.expires_in.as_secs(),
        interval: config.interval.as_secs(),
    }))
}
