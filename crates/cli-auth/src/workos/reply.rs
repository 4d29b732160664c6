//! Turning one HTTP answer of WorkOS into a protocol outcome.
//!
//! Pure functions over [`HttpReply`], so every status/body combination is unit-tested
//! without a server. The rules (wire notes §2, RFC 6749 §5.2, RFC 8628 §3.5):
//! - 2xx with tokens: issued; 2xx with an `error` member: an error (some servers do
//!   that); 2xx with neither: a protocol error (threat-model row 12);
//! - 3xx: never followed, an error;
//! - 408, 429 and 5xx: transient, whatever the body (a 502 HTML page is never shown);
//! - other 4xx: the OAuth error body decides; `authorization_pending` and `slow_down`
//!   keep the poll going, everything else stops it.
//!
//! Response bodies never reach an error message except through the named members
//! `error` / `error_description`.

use url::Url;

use crate::error::Error;
use crate::http::HttpReply;
use crate::poll::{TokenReply, Unavailable};
use crate::sanitize::sanitize;
use crate::timer::RetryAfter;
use crate::workos::models::{AuthenticationResponse, ErrorBody};

/// What one answer of the authenticate endpoint means.
#[derive(Debug)]
pub(crate) enum Answer {
    Tokens(Box<AuthenticationResponse>),
    Pending,
    SlowDown,
    /// Try again later (408, 429, 5xx).
    Retry {
        status: u16,
        retry_after: Option<RetryAfter>,
    },
}

/// Classifies an answer of `POST /user_management/authenticate`.
pub(crate) fn classify_authenticate(reply: HttpReply, url: &Url) -> Result<Answer, Error> {
    match reply.status {
        200..=299 => parse_tokens(&reply.body, reply.status),
        300..=399 => Err(redirect(reply)),
        408 | 429 | 500..=599 => Ok(Answer::Retry {
            status: reply.status,
            retry_after: reply.retry_after,
        }),
        400..=499 => match ErrorBody::parse(&reply.body) {
            Some((code, description)) => oauth_error(code, description, reply.status),
            None => Err(http_error(reply.status, url)),
        },
        status => Err(http_error(status, url)),
    }
}

/// What one device-code poll means for the poller: like [`classify_authenticate`], but
/// a transport failure or a retryable status is [`TokenReply::Unavailable`].
pub(crate) fn device_token_reply(
    reply: Result<HttpReply, Error>,
    url: &Url,
) -> Result<TokenReply<AuthenticationResponse>, Error> {
    let reply = match reply {
        Ok(reply) => reply,
        // RFC 8628 §3.5: connection failures and timeouts slow the poll down, they do
        // not end the login.
        Err(Error::Transport {
            message, timeout, ..
        }) => {
            let reason = match timeout {
                true => "the request timed out".to_owned(),
                false => format!("could not connect: {}", sanitize(&message, 160)),
            };
            return Ok(TokenReply::Unavailable(Unavailable {
                reason,
                retry_after: None,
            }));
        }
        Err(other) => return Err(other),
    };
    Ok(match classify_authenticate(reply, url)? {
        Answer::Tokens(tokens) => TokenReply::Issued(*tokens),
        Answer::Pending => TokenReply::Pending,
        Answer::SlowDown => TokenReply::SlowDown,
        Answer::Retry {
            status,
            retry_after,
        } => TokenReply::Unavailable(Unavailable {
            reason: format!("the server answered HTTP {status}"),
            retry_after,
        }),
    })
}

/// Classifies a non-2xx answer of `POST /user_management/authorize/device`. Every
/// OAuth error is reported as [`Error::OAuth`]: an `access_denied` here means CLI Auth
/// is not enabled, not that a user declined.
pub(crate) fn authorize_error(reply: HttpReply, url: &Url) -> Error {
    match reply.status {
        300..=399 => redirect(reply),
        status => match ErrorBody::parse(&reply.body) {
            Some((code, description)) if (400..=499).contains(&status) => Error::OAuth {
                code,
                description,
                status,
            },
            _ => http_error(status, url),
        },
    }
}

fn parse_tokens(body: &[u8], status: u16) -> Result<Answer, Error> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| Error::protocol("the token reply is not json"))?;
    let has_tokens = value.get("access_token").is_some() || value.get("refresh_token").is_some();
    if has_tokens {
        return serde_json::from_value::<AuthenticationResponse>(value)
            .map(|tokens| Answer::Tokens(Box::new(tokens)))
            .map_err(|e| {
                // A type error would quote the offending value, which may be a
                // (malformed) token: only "missing field" messages are passed on.
                let detail = e.to_string();
                match detail.starts_with("missing field") {
                    true => Error::protocol(format!("the token reply is incomplete: {detail}")),
                    false => Error::protocol("a member of the token reply has the wrong type"),
                }
            });
    }
    match ErrorBody::parse(body) {
        Some((code, description)) => oauth_error(code, description, status),
        None => Err(Error::protocol(
            "the token reply has neither tokens nor an error",
        )),
    }
}

fn oauth_error(code: String, description: Option<String>, status: u16) -> Result<Answer, Error> {
    // RFC 8628 §3.5: pending and slow_down continue the poll; every other code ends it.
    Err(match code.as_str() {
        "authorization_pending" => return Ok(Answer::Pending),
        "slow_down" => return Ok(Answer::SlowDown),
        "access_denied" => Error::AccessDenied { description },
        "expired_token" => Error::ExpiredToken {
            clock_drift_suspected: false,
        },
        "invalid_grant" => Error::InvalidGrant { description },
        _ => Error::OAuth {
            code,
            description,
            status,
        },
    })
}

fn redirect(reply: HttpReply) -> Error {
    Error::Redirect {
        status: reply.status,
        location: reply.location,
    }
}

fn http_error(status: u16, url: &Url) -> Error {
    Error::Http {
        status,
        url: url.to_string(),
    }
}

#[cfg(test)]
mod tests;
