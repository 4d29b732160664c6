//! The JSON API surface (the WorkOS endpoints and the standard OAuth ones
//! beside them): merges the per-endpoint routers and owns the two
//! extractors they share: [`FormOrJson`] (WorkOS accepts both encodings on
//! every POST) and [`ClientMeta`] (who is asking, for the confirmation page).

mod admin;
mod authenticate;
mod device;
mod discovery;
mod jwks;
mod oauth2;
mod sessions;

use std::net::{IpAddr, SocketAddr};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// Token and device responses carry secrets; bodies stay small.
const MAX_BODY: usize = 64 * 1024;

/// Longest accepted identifier (client id, organization id).
pub(crate) const MAX_ID_LEN: usize = 256;

/// All JSON API routes (WorkOS and standard OAuth), metadata, plus logout.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(device::router())
        .merge(authenticate::router())
        .merge(oauth2::router())
        // RFC 6749 §5.1: token responses must not be cached.
        .layer(axum::middleware::map_response(no_store))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .merge(jwks::router())
        .merge(oauth2::jwks_router())
        .merge(discovery::router())
        .merge(sessions::router())
}

/// The test-only admin endpoints (`/__emulator/…`), merged only on request.
pub(crate) fn admin_router() -> Router<AppState> {
    admin::router()
        .layer(axum::middleware::map_response(no_store))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

async fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// A request body in JSON or `application/x-www-form-urlencoded`, chosen by
/// `Content-Type` (a body without one is read as a form, unless it starts
/// with `{`). Unknown fields are ignored and JSON `null` reads as absent,
/// because the Rust SDK sends unset optionals as explicit nulls.
#[derive(Debug)]
pub(crate) struct FormOrJson<T>(pub T);

impl<T, S> FromRequest<S> for FormOrJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Decided before the body is read (the headers go with the request);
        // compared without lowercasing into a new string.
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let t = v.split(';').next().unwrap_or("").trim();
                t.eq_ignore_ascii_case("application/json")
                    || t.len() >= 5 && t.as_bytes()[t.len() - 5..].eq_ignore_ascii_case(b"+json")
            });
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|_| ApiError::InvalidRequest("The request body could not be read.".into()))?;
        let is_json = match is_json {
            Some(json) => json,
            None => body.trim_ascii_start().starts_with(b"{"),
        };
        let parsed = if is_json {
            serde_json::from_slice(&body).map_err(|e| e.to_string())
        } else {
            serde_urlencoded::from_bytes(&body).map_err(|e| e.to_string())
        };
        parsed
            .map(FormOrJson)
            .map_err(|e| ApiError::InvalidRequest(format!("The request body is malformed: {e}.")))
    }
}

/// Treats an empty string like an absent field (forms send `key=`).
pub(crate) fn present(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

/// [`present`] for a borrowed value.
pub(crate) fn present_str(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

/// The peer address and `User-Agent` of a request. Forwarding headers are
/// ignored: the emulator is meant to be reached directly on loopback.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientMeta {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ClientMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let user_agent = parts.headers.get(header::USER_AGENT).map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .chars()
                .take(300)
                .collect()
        });
        Ok(Self { ip, user_agent })
    }
}
