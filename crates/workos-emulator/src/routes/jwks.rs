//! `GET /sso/jwks/{client_id}`: the public signing key as a JWKS.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};

use crate::error::ApiError;
use crate::state::AppState;
use crate::tokens::Jwks;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/sso/jwks/{client_id}", get(jwks))
}

async fn jwks(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Json<Jwks>, ApiError> {
    let clients = &state.config().clients;
    if !clients.is_empty() && !clients.contains(&client_id) {
        return Err(ApiError::NotFound);
    }
    Ok(Json(state.key().jwks()))
}
