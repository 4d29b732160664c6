//! Test-only admin endpoints, served only when the emulator was started with
//! `admin` (`--admin`) and answered only to loopback peers:
//!
//! - `GET /__emulator/faults`: the queued faults, as specs
//! - `POST /__emulator/faults` `{"faults": ["authenticate:500x2", …]}` (or
//!   `{"fault": "…"}`, or a form `fault=…`): queue more; 400 on a bad spec
//! - `DELETE /__emulator/faults`: drop them all
//! - `POST /__emulator/approve` `{"user_code", "email", "organization_id"?}`:
//!   approve as if the person had clicked, for SDK tests in any language
//!
//! Nothing here exists in production WorkOS; it lets a test drive the
//! emulator over HTTP the way `RunningEmulator::inject` does in-process.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ClientMeta, FormOrJson, present};
use crate::EmulatorError;
use crate::error::ApiError;
use crate::faults::Fault;
use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/__emulator/faults", get(list).post(add).delete(clear))
        .route("/__emulator/approve", post(approve))
}

#[derive(Debug, Deserialize)]
struct FaultsRequest {
    #[serde(default)]
    faults: Vec<String>,
    fault: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ApproveRequest {
    user_code: Option<String>,
    email: Option<String>,
    organization_id: Option<String>,
}

/// The admin surface is for the machine it runs on only.
fn loopback_only(meta: &ClientMeta) -> Result<(), ApiError> {
    match meta.ip {
        Some(ip) if ip.is_loopback() => Ok(()),
        _ => Err(ApiError::Forbidden(
            "The admin endpoints answer loopback clients only.".into(),
        )),
    }
}

fn queued(state: &AppState) -> Json<Value> {
    let specs: Vec<String> = state.faults().iter().map(Fault::to_string).collect();
    Json(json!({ "faults": specs }))
}

async fn list(State(state): State<AppState>, meta: ClientMeta) -> Result<Json<Value>, ApiError> {
    loopback_only(&meta)?;
    Ok(queued(&state))
}

async fn add(
    State(state): State<AppState>,
    meta: ClientMeta,
    FormOrJson(request): FormOrJson<FaultsRequest>,
) -> Result<Json<Value>, ApiError> {
    loopback_only(&meta)?;
    // Parse them all first, so a bad spec queues nothing.
    let faults = request
        .faults
        .iter()
        .chain(request.fault.as_ref())
        .map(|spec| spec.parse::<Fault>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::InvalidRequest(e.to_string()))?;
    for fault in faults {
        state
            .inject(fault)
            .map_err(|e| ApiError::InvalidRequest(e.to_string()))?;
    }
    Ok(queued(&state))
}

async fn clear(State(state): State<AppState>, meta: ClientMeta) -> Result<Json<Value>, ApiError> {
    loopback_only(&meta)?;
    state.clear_faults();
    Ok(queued(&state))
}

async fn approve(
    State(state): State<AppState>,
    meta: ClientMeta,
    FormOrJson(request): FormOrJson<ApproveRequest>,
) -> Result<Json<Value>, ApiError> {
    loopback_only(&meta)?;
    let code = present(request.user_code)
        .ok_or_else(|| ApiError::InvalidRequest("user_code is required.".into()))?;
    let email = present(request.email)
        .ok_or_else(|| ApiError::InvalidRequest("email is required.".into()))?;
    let result = match present(request.organization_id) {
        Some(org) => state.approve_in_organization(&code, &email, &org),
        None => state.approve(&code, &email),
    };
    result.map_err(|e| match e {
        EmulatorError::NoPendingCode(_)
        | EmulatorError::UnknownUser(_)
        | EmulatorError::NotAMember { .. } => ApiError::InvalidRequest(e.to_string()),
        other => ApiError::Internal(other.to_string()),
    })?;
    Ok(Json(json!({ "approved": true })))
}
