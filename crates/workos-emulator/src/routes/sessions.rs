//! `GET /user_management/sessions/logout?session_id=…[&return_to=…]`: ends
//! a session in the browser, as WorkOS does. Later refreshes of that session
//! get `invalid_grant`.
//!
//! `return_to` is honoured only for `https` URLs and `http` on a loopback
//! host, so the endpoint cannot be used as an open redirect to arbitrary
//! schemes (`javascript:`, `file:`) or plain-http hosts.

use std::net::IpAddr;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::error::ApiError;
use crate::pages::views::SignedOutView;
use crate::pages::{Page, security_headers};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/user_management/sessions/logout", get(logout))
        .layer(axum::middleware::map_response(security_headers))
}

#[derive(Debug, Deserialize)]
struct LogoutQuery {
    session_id: Option<String>,
    return_to: Option<String>,
}

async fn logout(State(state): State<AppState>, Query(query): Query<LogoutQuery>) -> Response {
    let Some(session_id) = query.session_id.filter(|s| !s.is_empty()) else {
        return ApiError::InvalidRequest("session_id is required.".into()).into_response();
    };
    let ended = tokio::task::spawn_blocking(move || state.end_session(&session_id)).await;
    let ended = match ended {
        Ok(Ok(ended)) => ended,
        Ok(Err(e)) => {
            return ApiError::Internal(format!("cannot persist the logout: {e}")).into_response();
        }
        Err(e) => return ApiError::Internal(format!("logout task failed: {e}")).into_response(),
    };
    tracing::info!(ended, "logout");
    match query.return_to.as_deref().filter(|u| is_safe_return_url(u)) {
        Some(url) => Redirect::to(url).into_response(),
        None => Page::new(SignedOutView).into_response(),
    }
}

/// `https://…`, or `http://` on 127.0.0.1, ::1 or localhost; no userinfo.
fn is_safe_return_url(raw: &str) -> bool {
    let Ok(url) = url::Url::parse(raw) else {
        return false;
    };
    if !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    match (url.scheme(), url.host()) {
        ("https", Some(_)) => true,
        ("http", Some(url::Host::Domain(d))) => d.eq_ignore_ascii_case("localhost"),
        ("http", Some(url::Host::Ipv4(ip))) => IpAddr::V4(ip).is_loopback(),
        ("http", Some(url::Host::Ipv6(ip))) => IpAddr::V6(ip).is_loopback(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_safe_return_url;

    #[test]
    fn only_https_and_loopback_http_are_followed() {
        assert!(is_safe_return_url("https://example.com/bye"));
        assert!(is_safe_return_url("http://127.0.0.1:8080/done"));
        assert!(is_safe_return_url("http://[::1]/"));
        assert!(is_safe_return_url("http://localhost:3000/"));
        assert!(!is_safe_return_url("http://evil.example/"));
        assert!(!is_safe_return_url("javascript:alert(1)"));
        assert!(!is_safe_return_url("file:///etc/passwd"));
        assert!(!is_safe_return_url("https://user:pw@example.com/"));
        assert!(!is_safe_return_url("/relative"));
    }
}
