//! The HTML side: the `Page` wrapper that renders an askama view into a
//! response, the security headers every page carries, the browser-session
//! cookie that CSRF tokens are bound to, and the stylesheet route.
//!
//! Pages contain no JavaScript at all; the CSP forbids scripts outright and
//! the stylesheet is served from `/static/device.css`, so no `unsafe-inline`
//! is needed.

mod verify;
pub(crate) mod views;

use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::ids;
use crate::state::AppState;

/// The cookie naming the browser session.
pub(crate) const COOKIE_NAME: &str = "wos_emulator_session";
const SESSION_ID_LEN: usize = 32;

/// `default-src 'none'` plus the two same-origin sources pages need.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

const STYLESHEET: &str = include_str!("../../assets/device.css");

/// The verification pages and their stylesheet.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(verify::router())
        .route("/static/device.css", get(stylesheet))
        .layer(axum::middleware::map_response(security_headers))
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLESHEET,
    )
}

/// Adds the page security headers (threat model, "Verification page").
pub(crate) async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// A rendered page: a view plus status, optional cookie and `Retry-After`.
pub(crate) struct Page<T> {
    status: StatusCode,
    view: T,
    cookie: Option<String>,
    retry_after: Option<Duration>,
}

impl<T: Template> Page<T> {
    /// A 200 page.
    pub(crate) fn new(view: T) -> Self {
        Self {
            status: StatusCode::OK,
            view,
            cookie: None,
            retry_after: None,
        }
    }

    /// Sets the status code.
    pub(crate) fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Sets the browser-session cookie to `session_id`.
    pub(crate) fn set_session(mut self, session_id: &str) -> Self {
        // HttpOnly: no script may read it; SameSite=Strict: no other site can
        // make the browser send it with a forged form post.
        self.cookie = Some(format!(
            "{COOKIE_NAME}={session_id}; HttpOnly; SameSite=Strict; Path=/"
        ));
        self
    }

    /// Adds `Retry-After`.
    pub(crate) fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }
}

impl<T: Template> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        let body = match self.view.render() {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(error = %e, "page rendering failed");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html("<!doctype html><title>Error</title><p>Internal server error.</p>"),
                )
                    .into_response();
            }
        };
        let mut response = (self.status, Html(body)).into_response();
        let headers = response.headers_mut();
        if let Some(cookie) = self.cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::SET_COOKIE, cookie);
        }
        if let Some(after) = self.retry_after {
            let secs = after.as_secs().max(1);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                headers.insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// The browser session id from the `Cookie` header, if well formed.
pub(crate) fn browser_session(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_owned())
        .filter(|v| v.len() == SESSION_ID_LEN && v.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// A new random browser session id.
pub(crate) fn new_browser_session() -> String {
    ids::random_string(ids::ALPHANUMERIC, SESSION_ID_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others_and_validated() {
        let id = new_browser_session();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("a=b; {COOKIE_NAME}={id}; c=d")).unwrap(),
        );
        assert_eq!(browser_session(&headers), Some(id));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("wos_emulator_session=short"),
        );
        assert_eq!(browser_session(&headers), None);
    }
}
