//! The request log and the middleware that feeds it: every response gets a
//! unique `X-Request-ID` (as WorkOS sends), one tracing line, and one
//! [`LoggedRequest`] entry that tests assert on.
//!
//! Only the method, path (never the query), grant type, status and latency
//! are kept: no device code, token or other secret reaches the log.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use crate::ids;
use crate::state::AppState;

const X_REQUEST_ID: axum::http::HeaderName = axum::http::HeaderName::from_static("x-request-id");

/// Entries kept; older ones are dropped so memory stays bounded.
const CAPACITY: usize = 10_000;

/// One served request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// The `X-Request-ID` sent back.
    pub request_id: String,
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// `grant_type` of a token request, if one was given.
    pub grant_type: Option<String>,
    /// Response status code.
    pub status: u16,
    /// When the request arrived, on the emulator's monotonic clock.
    pub at: Instant,
}

/// Set by the token endpoint on its response so the log can show the grant.
/// The standard grant types are borrowed, so tagging a poll allocates nothing.
#[derive(Debug, Clone)]
pub(crate) struct GrantTypeTag(Cow<'static, str>);

impl GrantTypeTag {
    /// The tag for a request's `grant_type` (`None` when absent or empty),
    /// cut to 100 characters.
    pub(crate) fn of(grant_type: Option<&str>) -> Option<Self> {
        const KNOWN: [&str; 3] = [
            "urn:ietf:params:oauth:grant-type:device_code",
            "refresh_token",
            "urn:workos:oauth:grant-type:organization-selection",
        ];
        let grant_type = grant_type.filter(|g| !g.is_empty())?;
        Some(Self(match KNOWN.iter().find(|k| **k == grant_type) {
            Some(known) => Cow::Borrowed(*known),
            None => Cow::Owned(grant_type.chars().take(100).collect()),
        }))
    }
}

/// A bounded, oldest-first list of [`LoggedRequest`]s.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: VecDeque<LoggedRequest>,
}

impl RequestLog {
    fn push(&mut self, entry: LoggedRequest) {
        if self.entries.len() == CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    pub(crate) fn snapshot(&self) -> Vec<LoggedRequest> {
        self.entries.iter().cloned().collect()
    }
}

/// Middleware: stamps `X-Request-ID`, logs, and records the request.
pub(crate) async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let at = state.now();
    // Real elapsed time (tokio's clock, so paused-time tests stay exact):
    // latency is about the server, not the emulated protocol clock.
    let started = tokio::time::Instant::now();
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let request_id = ids::request_id();
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    let grant_type = response
        .extensions_mut()
        .remove::<GrantTypeTag>()
        .map(|g| g.0.into_owned());
    let status = response.status().as_u16();
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    // One structured event per request under a stable target, so operators
    // can filter (`RUST_LOG=workos_emulator::http=info`) and `--json` logs
    // carry named fields. The path has no query and no field is a secret.
    tracing::info!(
        target: "workos_emulator::http",
        %request_id,
        %method,
        %path,
        status,
        grant_type = grant_type.as_deref(),
        latency_ms,
        "request"
    );
    state.lock_log().push(LoggedRequest {
        request_id,
        method,
        path,
        grant_type,
        status,
        at,
    });
    response
}
