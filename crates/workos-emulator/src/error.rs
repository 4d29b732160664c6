//! Errors: [`EmulatorError`] for the library API, and `ApiError`, the one
//! place that turns a failure of the JSON API into an HTTP status and an
//! OAuth-shaped body (RFC 6749 §5.2, as WorkOS sends it).
//!
//! Client mistakes keep their description; internal failures answer a
//! generic 500 and the detail goes to the log only.

use std::borrow::Cow;
use std::path::PathBuf;
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Errors of the library API (building, starting and driving the emulator).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The configuration is invalid; the message says which value and why.
    #[error("invalid emulator configuration: {0}")]
    Config(String),
    /// A configuration or key file could not be read.
    #[error("cannot read {path}: {source}")]
    ConfigRead {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The signing key could not be generated, parsed or used.
    #[error("signing key error: {0}")]
    Key(String),
    /// Binding the listening socket failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The requested address.
        addr: std::net::SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// No device authorization awaiting a decision has this user code (it
    /// is unknown, malformed, expired, or already approved or denied).
    #[error("no pending device authorization with user code {0:?}")]
    NoPendingCode(String),
    /// No seeded user has this email.
    #[error("no seeded user with email {0:?}")]
    UnknownUser(String),
    /// A fault spec could not be parsed; the message quotes it and says why.
    #[error("invalid fault {0}")]
    InvalidFault(String),
    /// The fault queue is full (see `RunningEmulator::clear_faults`).
    #[error("too many queued faults")]
    TooManyFaults,
    /// The user is not a member of the organization they were to sign in to.
    #[error("{email:?} is not a member of organization {organization_id:?}")]
    NotAMember {
        /// The user's email.
        email: String,
        /// The organization asked for.
        organization_id: String,
    },
    /// The state directory or a file in it could not be used (unreadable,
    /// corrupt, a symlink, or the lock failed).
    #[error("state directory error at {path}: {source}")]
    StateDir {
        /// The directory or file.
        path: PathBuf,
        /// The I/O error (corrupt contents are `InvalidData`).
        source: std::io::Error,
    },
}

/// A failure of the JSON API, rendered as `{"error", "error_description"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApiError {
    /// 400 `invalid_request`: a required field is missing or malformed.
    InvalidRequest(String),
    /// 400 `invalid_client`: the client id is not allowed.
    InvalidClient(String),
    /// 400 `invalid_grant`: unknown, used or foreign device code or refresh token.
    InvalidGrant(String),
    /// 400 `expired_token`: the device code outlived `expires_in`.
    ExpiredToken,
    /// 400 `slow_down`: polled before the interval elapsed.
    SlowDown,
    /// 400 `authorization_pending`: the person has not decided yet.
    AuthorizationPending,
    /// 400 `access_denied`: the person chose Deny.
    AccessDenied,
    /// 400 `unsupported_grant_type`.
    UnsupportedGrantType(String),
    /// 429 `rate_limit_exceeded` with `Retry-After`.
    RateLimited(Duration),
    /// 403 `organization_selection_required`: the user belongs to several
    /// organizations and none was chosen (WorkOS's shape, with the token the
    /// organization-selection grant redeems).
    OrganizationSelectionRequired {
        /// The pending authentication token (a secret: redacted in `Debug`).
        pending_authentication_token: PendingToken,
        /// The organizations to choose from.
        organizations: Vec<OrganizationChoice>,
    },
    /// A status chosen by fault injection (`faults`), e.g. 500, or 429
    /// with `Retry-After`.
    Injected {
        /// The status to answer.
        status: StatusCode,
        /// The `Retry-After` header, if any.
        retry_after: Option<Duration>,
    },
    /// 403 `forbidden`: e.g. the admin endpoints from a non-loopback peer.
    Forbidden(String),
    /// 404 for paths the emulator does not serve.
    NotFound,
    /// 500 with a generic body; the detail is logged, never sent.
    Internal(String),
}

/// One organization offered in `organization_selection_required`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct OrganizationChoice {
    pub id: String,
    pub name: String,
}

/// A pending authentication token inside an error: sent in the body, never
/// shown by `Debug`, so it cannot reach a log line.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct PendingToken(String);

impl std::fmt::Debug for PendingToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingToken([redacted])")
    }
}

impl ApiError {
    /// The 403 a multi-organization user's device-code poll gets.
    pub(crate) fn organization_selection_required(
        token: String,
        organizations: Vec<OrganizationChoice>,
    ) -> Self {
        Self::OrganizationSelectionRequired {
            pending_authentication_token: PendingToken(token),
            organizations,
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, Cow<'static, str>) {
        let bad = StatusCode::BAD_REQUEST;
        let fixed = Cow::Borrowed;
        match self {
            Self::InvalidRequest(d) => (bad, "invalid_request", Cow::Owned(d.clone())),
            Self::InvalidClient(d) => (bad, "invalid_client", Cow::Owned(d.clone())),
            Self::InvalidGrant(d) => (bad, "invalid_grant", Cow::Owned(d.clone())),
            Self::ExpiredToken => (bad, "expired_token", fixed("The device code has expired.")),
            Self::SlowDown => (
                bad,
                "slow_down",
                fixed("The request failed due to: slow_down. Poll less often."),
            ),
            // The Rust SDK 1.0.1 keeps polling only when the description
            // contains the code word, so it must appear verbatim.
            Self::AuthorizationPending => (
                bad,
                "authorization_pending",
                fixed("The request failed due to: authorization_pending."),
            ),
            Self::AccessDenied => (bad, "access_denied", fixed("The user denied the request.")),
            Self::UnsupportedGrantType(g) => (
                bad,
                "unsupported_grant_type",
                Cow::Owned(format!("Unsupported grant type {g:?}.")),
            ),
            Self::RateLimited(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_exceeded",
                fixed("Too many requests. Try again later."),
            ),
            Self::OrganizationSelectionRequired { .. } => (
                StatusCode::FORBIDDEN,
                "organization_selection_required",
                fixed("The user must choose an organization to sign in to."),
            ),
            Self::Injected { status, .. } => (
                *status,
                match status.as_u16() {
                    429 => "rate_limit_exceeded",
                    500..=599 => "server_error",
                    _ => "invalid_request",
                },
                Cow::Owned(format!("Injected fault: HTTP {}.", status.as_u16())),
            ),
            Self::Forbidden(d) => (StatusCode::FORBIDDEN, "forbidden", Cow::Owned(d.clone())),
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found", fixed("Not Found")),
            Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                fixed("Internal server error."),
            ),
        }
    }
}

/// The usual body: RFC 6749 §5.2. Fields in alphabetical order, as the
/// `serde_json::Value` maps this replaced wrote them.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

/// WorkOS's `{code, message}` shape beside the OAuth one (SDKs read
/// `code ?? error`), for 429s.
#[derive(Serialize)]
struct WorkOsErrorBody<'a> {
    code: &'a str,
    error: &'a str,
    error_description: &'a str,
    message: &'a str,
}

/// `organization_selection_required`, with the token to redeem.
#[derive(Serialize)]
struct OrganizationSelectionBody<'a> {
    code: &'a str,
    error: &'a str,
    error_description: &'a str,
    message: &'a str,
    organizations: &'a [OrganizationChoice],
    pending_authentication_token: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let (status, code, description) = self.parts();
        let description = description.as_ref();
        let mut response = match &self {
            Self::OrganizationSelectionRequired {
                pending_authentication_token,
                organizations,
            } => (
                status,
                Json(OrganizationSelectionBody {
                    code,
                    error: code,
                    error_description: description,
                    message: description,
                    organizations,
                    pending_authentication_token: &pending_authentication_token.0,
                }),
            )
                .into_response(),
            Self::RateLimited(_)
            | Self::Injected {
                status: StatusCode::TOO_MANY_REQUESTS,
                ..
            } => (
                status,
                Json(WorkOsErrorBody {
                    code,
                    error: code,
                    error_description: description,
                    message: description,
                }),
            )
                .into_response(),
            _ => (
                status,
                Json(ErrorBody {
                    error: code,
                    error_description: description,
                }),
            )
                .into_response(),
        };
        let retry_after = match self {
            Self::RateLimited(after) => Some(after),
            Self::Injected { retry_after, .. } => retry_after,
            _ => None,
        };
        if let Some(after) = retry_after {
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_description_contains_the_code_word() {
        let (status, code, description) = ApiError::AuthorizationPending.parts();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(code, "authorization_pending");
        assert!(description.contains("authorization_pending"));
    }

    #[test]
    fn internal_errors_do_not_leak_their_detail() {
        let (status, _, description) = ApiError::Internal("secret detail".into()).parts();
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!description.contains("secret"));
    }

    #[test]
    fn the_pending_token_is_in_the_body_but_not_in_debug() {
        let e = ApiError::organization_selection_required(
            "tok_secret".into(),
            vec![OrganizationChoice {
                id: "org_1".into(),
                name: "One".into(),
            }],
        );
        assert!(!format!("{e:?}").contains("tok_secret"));
        let r = e.into_response();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn rate_limits_carry_retry_after() {
        let r = ApiError::RateLimited(Duration::from_millis(1500)).into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
    }
}
