//! The one public error type of the crate.
//!
//! Messages are lowercase sentences without a final period that quote the offending
//! input, never a secret: no device code, token, API key or response body appears in
//! any variant. Strings that come from the server (`error_description`, an invalid
//! user code, …) are stored raw, so a caller can inspect them, but `Display` always
//! passes them through [`sanitize`](crate::sanitize) and truncates them.
//!
//! A caller that maps outcomes to exit codes uses [`Error::kind`] (or
//! [`Error::is_denied`] / [`Error::is_expired`] / [`Error::is_auth_required`]) instead
//! of matching variants, so new variants do not break it.

use std::sync::Arc;
use std::time::Duration;

use crate::sanitize::sanitize;
use crate::store::StoreError;

/// How many characters of a server-supplied string an error message shows.
const SHOWN_CHARS: usize = 200;

/// Everything that can go wrong while logging in or refreshing.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The user declined the request in the browser (`access_denied`).
    #[error("the login was denied in the browser{}", suffix(.description))]
    AccessDenied {
        /// The server's `error_description`, raw.
        description: Option<String>,
    },

    /// The server says the device code expired (`expired_token`, RFC 8628 §3.5).
    #[error("the login code expired before it was approved; start a new login{}", drift(*.clock_drift_suspected))]
    ExpiredToken {
        /// Several `slow_down` answers arrived although every wait was long enough.
        clock_drift_suspected: bool,
    },

    /// Our own deadline (start + `expires_in`) passed while the server still said
    /// `authorization_pending`.
    #[error("gave up waiting after {} s: the login was not approved in time; start a new login{}", .waited.as_secs(), drift(*.clock_drift_suspected))]
    DeadlineExceeded {
        /// How long the poller waited in total.
        waited: Duration,
        /// Several `slow_down` answers arrived although every wait was long enough.
        clock_drift_suspected: bool,
    },

    /// The device code or refresh token was refused (`invalid_grant`): unknown, already
    /// used, or the session ended.
    #[error("the server refused the grant (invalid_grant){}", suffix(.description))]
    InvalidGrant {
        /// The server's `error_description`, raw.
        description: Option<String>,
    },

    /// Any other OAuth error answer (`invalid_client`, `invalid_request`, …).
    #[error("the server answered \"{}\" (HTTP {status}){}{}", sanitize(.code, 64), suffix(.description), hint(.code, *.status))]
    OAuth {
        /// The `error` (or `code`) member, raw.
        code: String,
        /// The `error_description` (or `message`) member, raw.
        description: Option<String>,
        /// The HTTP status.
        status: u16,
    },

    /// An HTTP status that is neither success nor an OAuth error body (a 404 page, a
    /// 5xx outside polling, a 429 from the start endpoint). The body is never kept.
    #[error("the server answered HTTP {status} at {url}")]
    Http {
        /// The HTTP status.
        status: u16,
        /// The endpoint (our own URL: it never carries a secret).
        url: String,
    },

    /// The server answered with a redirect, which is never followed: it would resend
    /// the device code or refresh token to another place.
    #[error("the server answered with a redirect (HTTP {status}{}), which is never followed; check the base url", location_suffix(.location))]
    Redirect {
        /// The HTTP status (3xx).
        status: u16,
        /// The `Location` header, raw.
        location: Option<String>,
    },

    /// The server could not be reached, or the request timed out.
    #[error("could not reach {url}: {}", sanitize(.message, 300))]
    Transport {
        /// The endpoint (our own URL: it never carries a secret).
        url: String,
        /// What failed, without any request or response body.
        message: String,
        /// Whether a timeout (connect or whole request) fired.
        timeout: bool,
    },

    /// The response body exceeded the size cap and was not read further.
    #[error("the response from {url} is larger than {limit} bytes; refusing to read it")]
    BodyTooLarge {
        /// The endpoint.
        url: String,
        /// The cap in bytes.
        limit: usize,
    },

    /// The server's answer does not follow the protocol (a missing required member,
    /// a body that is not JSON, a 200 with neither tokens nor an error).
    #[error("invalid response from the server: {}", sanitize(.message, 300))]
    Protocol {
        /// What is wrong; may quote server data, raw.
        message: String,
    },

    /// The `user_code` is not short printable ASCII (RFC 8628 §6.1; threat-model
    /// rows 13 and 15).
    #[error("refusing the user code \"{}\": {reason}", sanitize(.code, 40))]
    InvalidUserCode {
        /// The code as received, raw.
        code: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// A verification URI is not one the user may be sent to (threat-model row 16).
    #[error("refusing the verification uri \"{}\": {reason}", sanitize(.uri, 120))]
    InvalidVerificationUri {
        /// The URI as received, raw.
        uri: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// The configured base URL is unusable.
    #[error("invalid base url \"{}\": {reason}", sanitize(.url, 120))]
    InvalidBaseUrl {
        /// The URL as configured.
        url: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// The client was built without a client ID.
    #[error("no client id: call ClientBuilder::client_id with your WorkOS client id (client_...)")]
    MissingClientId,

    /// The HTTP client could not be set up (for example the TLS trust store).
    #[error("could not set up the http client: {}", sanitize(.message, 300))]
    Setup {
        /// What failed.
        message: String,
    },

    /// The credential store failed (file system, keychain, lock). Shared behind an
    /// `Arc` because [`StoreError`] holds an `io::Error`, which is not `Clone`; convert
    /// with `?` or `Error::from`.
    #[error(transparent)]
    Store(Arc<StoreError>),

    /// Nothing is stored for this profile: the user has to log in first.
    #[error("not logged in (profile \"{}\"); log in first", sanitize(.profile, 64))]
    NotLoggedIn {
        /// The profile that was asked for.
        profile: String,
    },

    /// The server refused the stored refresh token (`invalid_grant`: logged out
    /// elsewhere, the session expired, or the token was reused), and the stored
    /// credential was cleared. Worded without a command name, so a CLI built on this
    /// library can add its own ("run `mycli login`").
    #[error("the session for profile \"{}\" has ended; log in again", sanitize(.profile, 64))]
    SessionEnded {
        /// The profile whose session ended.
        profile: String,
    },

    /// An access token failed verification (signature, algorithm, key id, expiry,
    /// issuer) or could not be decoded. The token itself is never part of the error.
    #[error("the access token is not valid: {}", sanitize(.reason, 200))]
    InvalidToken {
        /// What is wrong with it; never the token or its claims' values.
        reason: String,
    },
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        Error::Store(Arc::new(error))
    }
}

/// A coarse classification of [`Error`], for exit codes and retry decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The user declined.
    Denied,
    /// The code expired, on the server's word or by our own deadline.
    Expired,
    /// The grant was refused (`invalid_grant`): log in again.
    InvalidGrant,
    /// The server could not be reached or failed (transport, 5xx, 429).
    Unavailable,
    /// The server answered something that is not valid, or refused the request.
    Server,
    /// Our configuration is wrong (base URL, client id, TLS setup).
    Config,
    /// Nothing is stored for the profile: log in first. With
    /// [`SessionEnded`](Self::SessionEnded), what [`Error::is_auth_required`] means
    /// (`gh` and the CLI exit with status 4).
    NotLoggedIn,
    /// The stored session ended (`invalid_grant` on refresh): log in again.
    SessionEnded,
    /// An access token failed verification.
    InvalidToken,
    /// The local credential store failed (disk, keychain, lock).
    Store,
}

impl Error {
    /// The coarse class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::AccessDenied { .. } => ErrorKind::Denied,
            Error::ExpiredToken { .. } | Error::DeadlineExceeded { .. } => ErrorKind::Expired,
            Error::InvalidGrant { .. } => ErrorKind::InvalidGrant,
            Error::Transport { .. } => ErrorKind::Unavailable,
            Error::Http { status, .. } if *status >= 500 || *status == 429 || *status == 408 => {
                ErrorKind::Unavailable
            }
            Error::Http { .. }
            | Error::OAuth { .. }
            | Error::Redirect { .. }
            | Error::BodyTooLarge { .. }
            | Error::Protocol { .. }
            | Error::InvalidUserCode { .. }
            | Error::InvalidVerificationUri { .. } => ErrorKind::Server,
            Error::InvalidBaseUrl { .. } | Error::MissingClientId | Error::Setup { .. } => {
                ErrorKind::Config
            }
            Error::NotLoggedIn { .. } => ErrorKind::NotLoggedIn,
            Error::SessionEnded { .. } => ErrorKind::SessionEnded,
            Error::InvalidToken { .. } => ErrorKind::InvalidToken,
            Error::Store(_) => ErrorKind::Store,
        }
    }

    /// Whether the user has to log in (again): nothing stored, or the session ended.
    pub fn is_auth_required(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::NotLoggedIn | ErrorKind::SessionEnded
        )
    }

    /// Whether the user declined the login.
    pub fn is_denied(&self) -> bool {
        self.kind() == ErrorKind::Denied
    }

    /// Whether the login code expired (server `expired_token` or our own deadline).
    pub fn is_expired(&self) -> bool {
        self.kind() == ErrorKind::Expired
    }

    /// Whether trying again later may succeed (network failure, 5xx, 429).
    pub fn is_transient(&self) -> bool {
        self.kind() == ErrorKind::Unavailable
    }

    /// Marks an expiry as probably caused by a fast system clock.
    pub(crate) fn with_clock_drift(self, suspected: bool) -> Self {
        match self {
            Error::ExpiredToken { .. } => Error::ExpiredToken {
                clock_drift_suspected: suspected,
            },
            other => other,
        }
    }

    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        Error::Protocol {
            message: message.into(),
        }
    }
}

fn suffix(description: &Option<String>) -> String {
    match description {
        Some(d) if !d.trim().is_empty() => format!(": {}", sanitize(d, SHOWN_CHARS)),
        _ => String::new(),
    }
}

fn location_suffix(location: &Option<String>) -> String {
    match location {
        Some(l) => format!(" to \"{}\"", sanitize(l, 120)),
        None => String::new(),
    }
}

/// The clock-drift hint, after cli/oauth: a VM or WSL clock that runs fast makes an
/// honest client poll "too early" in the server's eyes, again and again.
fn drift(suspected: bool) -> &'static str {
    if suspected {
        " (the server asked to slow down repeatedly although every wait was long enough: \
         the system clock may be running fast, as happens in some VMs and WSL)"
    } else {
        ""
    }
}

/// The common setup mistake from the wire notes: a 403 `access_denied` on the start
/// endpoint means CLI Auth is not enabled for the environment.
fn hint(code: &str, status: u16) -> &'static str {
    if status == 403 && code == "access_denied" {
        " (is CLI Auth enabled for this environment in the WorkOS dashboard?)"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync_static<T: Send + Sync + 'static>() {}

    #[test]
    fn works_with_anyhow() {
        assert_send_sync_static::<Error>();
        let e: anyhow::Error = Error::MissingClientId.into();
        assert!(e.to_string().contains("client id"));
    }

    #[test]
    fn server_text_is_sanitized_and_truncated() {
        // Threat model row 14.
        let e = Error::OAuth {
            code: "invalid_request".into(),
            description: Some(format!("\u{1b}[2JLogin OK ✓{}", "x".repeat(10_000))),
            status: 400,
        };
        let shown = e.to_string();
        assert!(!shown.contains('\u{1b}'));
        assert!(shown.contains("\\u{1b}[2JLogin OK"));
        assert!(shown.len() < 600, "{shown}");
    }

    #[test]
    fn kinds_map_for_exit_codes() {
        assert!(Error::AccessDenied { description: None }.is_denied());
        let expired = Error::ExpiredToken {
            clock_drift_suspected: false,
        };
        assert!(expired.is_expired());
        let deadline = Error::DeadlineExceeded {
            waited: Duration::from_secs(300),
            clock_drift_suspected: false,
        };
        assert!(deadline.is_expired());
        let http = Error::Http {
            status: 503,
            url: "https://api.workos.com".into(),
        };
        assert!(http.is_transient());
        assert_eq!(Error::MissingClientId.kind(), ErrorKind::Config);
        let ended = Error::SessionEnded {
            profile: "default".into(),
        };
        assert!(ended.is_auth_required() && !ended.is_transient());
        let missing = Error::NotLoggedIn {
            profile: "default".into(),
        };
        assert_eq!(missing.kind(), ErrorKind::NotLoggedIn);
        assert!(missing.is_auth_required());
        assert_eq!(ended.kind(), ErrorKind::SessionEnded);
        let invalid = Error::InvalidToken {
            reason: "bad signature".into(),
        };
        assert_eq!(invalid.kind(), ErrorKind::InvalidToken);
        let store = Error::from(StoreError::NoHome);
        assert_eq!(store.kind(), ErrorKind::Store);
        assert!(!store.is_auth_required());
    }

    #[test]
    fn session_messages_name_the_profile_but_no_command() {
        let ended = Error::SessionEnded {
            profile: "prod".into(),
        }
        .to_string();
        assert_eq!(
            ended,
            "the session for profile \"prod\" has ended; log in again"
        );
        assert!(!ended.contains("workos-cli-auth"));
        let missing = Error::NotLoggedIn {
            profile: "dev\u{1b}[2J".into(),
        }
        .to_string();
        assert!(
            missing.contains("\\u{1b}[2J") && !missing.contains('\u{1b}'),
            "{missing}"
        );
    }

    #[test]
    fn store_errors_convert_and_keep_their_message_and_source() {
        let io = StoreError::Io {
            action: "write",
            path: "/tmp/x".into(),
            source: std::io::Error::other("disk full"),
        };
        let text = io.to_string();
        let e: Error = io.into();
        assert_eq!(e.to_string(), text);
        let cloned = e.clone();
        assert!(std::error::Error::source(&cloned).is_some());
    }

    #[test]
    fn drift_hint_is_shown() {
        let e = Error::ExpiredToken {
            clock_drift_suspected: false,
        }
        .with_clock_drift(true);
        assert!(e.to_string().contains("system clock may be running fast"));
    }

    #[test]
    fn cli_auth_not_enabled_hint() {
        let e = Error::OAuth {
            code: "access_denied".into(),
            description: None,
            status: 403,
        };
        assert!(e.to_string().contains("CLI Auth enabled"));
        assert!(!e.is_denied());
    }
}
