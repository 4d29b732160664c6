//! The two success replies of WorkOS CLI Auth, parsed strictly where it matters.
//!
//! The device authorization reply (wire notes §1) is read into a loose wire struct
//! first, then checked member by member: everything the user will see is validated
//! here, before anything is shown (threat-model rows 11, 13, 15, 16). The authenticate
//! reply (§2) maps onto [`AuthenticationResponse`] directly; unknown members are
//! ignored everywhere.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::error::Error;
use crate::poll::DEFAULT_INTERVAL;
use crate::secret::SecretString;
use crate::types::{
    DeviceCode, UserCode, ascii_host, same_origin, validate_user_code, validate_verification_uri,
};
use crate::workos::user::{AuthenticationMethod, Impersonator, User};

/// The answer to `POST /user_management/authorize/device` (RFC 8628 §3.2), validated.
#[derive(Debug, Clone)]
pub struct DeviceAuthorizationResponse {
    /// The secret code the poller sends back; never shown. Derefs to `&str`.
    pub device_code: DeviceCode,
    /// The code to show the user (validated: short printable ASCII).
    pub user_code: UserCode,
    /// Where the user enters the code (validated: https or loopback http, no
    /// userinfo, no control characters). Always show it as text.
    pub verification_uri: String,
    /// The URI with the code filled in, to open in the browser. It is the server's
    /// value only if that is valid and has the same origin as `verification_uri`;
    /// otherwise (or when absent) it equals `verification_uri`.
    pub verification_uri_complete: String,
    /// Seconds until both codes expire (positive; fractions are rounded down).
    pub expires_in: u64,
    /// Seconds to wait between polls. Anything that is not a positive integer
    /// (absent, 0, negative, `"abc"`, 1.5) becomes 5 (RFC 8628 §3.2 default), so a
    /// hostile or sloppy value can never cause a busy loop.
    pub interval: u64,
}

impl DeviceAuthorizationResponse {
    /// The host of `verification_uri` in ASCII (punycode for international names), for
    /// a "check that your browser shows …" line.
    pub fn verification_host(&self) -> String {
        Url::parse(&self.verification_uri)
            .map(|url| ascii_host(&url))
            .unwrap_or_default()
    }
}

/// The wire shape, before validation: every member optional, numbers loose.
#[derive(Deserialize)]
struct WireDeviceAuthorization {
    device_code: Option<String>,
    user_code: Option<String>,
    verification_uri: Option<String>,
    verification_uri_complete: Option<String>,
    expires_in: Option<Value>,
    interval: Option<Value>,
}

/// Parses and validates a device authorization reply body.
pub(crate) fn parse_device_authorization(
    body: &[u8],
) -> Result<DeviceAuthorizationResponse, Error> {
    let wire: WireDeviceAuthorization = serde_json::from_slice(body).map_err(|e| {
        Error::protocol(format!(
            "the device authorization reply is not valid json: {e}"
        ))
    })?;
    let missing =
        |name: &str| Error::protocol(format!("the device authorization reply has no `{name}`"));

    let device_code = wire
        .device_code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| missing("device_code"))?;
    let user_code = validate_user_code(&wire.user_code.ok_or_else(|| missing("user_code"))?)?;
    let raw_uri = wire
        .verification_uri
        .ok_or_else(|| missing("verification_uri"))?;
    let uri = validate_verification_uri(&raw_uri)?;
    let expires_in = match wire.expires_in {
        None | Some(Value::Null) => return Err(missing("expires_in")),
        Some(v) => positive_seconds(&v).ok_or_else(|| {
            Error::protocol(format!(
                "`expires_in` must be a positive number of seconds, got {v}"
            ))
        })?,
    };
    let interval = wire
        .interval
        .as_ref()
        .and_then(positive_integer)
        .unwrap_or(DEFAULT_INTERVAL.as_secs());
    let verification_uri_complete = match wire.verification_uri_complete {
        Some(raw) => match validate_verification_uri(&raw) {
            Ok(complete) if same_origin(&uri, &complete) => raw,
            // Falling back is safe: the user can still type the code at `verification_uri`.
            Ok(_) => {
                tracing::warn!(
                    "verification_uri_complete has another origin than verification_uri; ignoring it"
                );
                raw_uri.clone()
            }
            Err(error) => {
                tracing::warn!(%error, "ignoring verification_uri_complete");
                raw_uri.clone()
            }
        },
        None => raw_uri.clone(),
    };
    Ok(DeviceAuthorizationResponse {
        device_code: DeviceCode::new(device_code),
        user_code,
        verification_uri: raw_uri,
        verification_uri_complete,
        expires_in,
        interval,
    })
}

/// A positive integer, as a JSON number (`5`, `5.0`) or a numeric string (`"5"`).
fn positive_integer(v: &Value) -> Option<u64> {
    let n = match v {
        Value::Number(n) => n.as_u64().or_else(|| whole(n.as_f64()?)),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }?;
    (n > 0).then_some(n)
}

/// A positive number of seconds, rounded down; at least one whole second.
fn positive_seconds(v: &Value) -> Option<u64> {
    let f = match v {
        Value::Number(n) => return n.as_u64().filter(|&n| n > 0).or_else(|| floor(n.as_f64()?)),
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    floor(f)
}

fn whole(f: f64) -> Option<u64> {
    (f.fract() == 0.0).then(|| floor(f)).flatten()
}

fn floor(f: f64) -> Option<u64> {
    // `as` saturates; the finite and ≥ 1 checks keep NaN and tiny values out.
    (f.is_finite() && f >= 1.0).then(|| f.floor() as u64)
}

/// The answer to `POST /user_management/authenticate` (wire notes §2).
///
/// `Debug` prints the tokens as `<redacted>`.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthenticationResponse {
    /// The signed-in user.
    pub user: User,
    /// The organization the session belongs to, if any.
    #[serde(default)]
    pub organization_id: Option<String>,
    /// The access token (a JWT, RS256). Short-lived: read its `exp`, never assume.
    pub access_token: SecretString,
    /// The refresh token: opaque and **single use** (each refresh returns a new one).
    pub refresh_token: SecretString,
    /// How the user signed in, if the server says.
    #[serde(default)]
    pub authentication_method: Option<AuthenticationMethod>,
    /// Set when an admin is impersonating the user.
    #[serde(default)]
    pub impersonator: Option<Impersonator>,
}

/// An OAuth error body (RFC 6749 §5.2); WorkOS also uses `code` / `message`, and the
/// SDKs read `code ?? error` and `message ?? error_description`.
#[derive(Deserialize)]
pub(crate) struct ErrorBody {
    error: Option<String>,
    code: Option<String>,
    error_description: Option<String>,
    message: Option<String>,
}

impl ErrorBody {
    /// `(code, description)` if the body names an error.
    pub(crate) fn parse(body: &[u8]) -> Option<(String, Option<String>)> {
        let parsed: ErrorBody = serde_json::from_slice(body).ok()?;
        let code = parsed.error.or(parsed.code)?;
        Some((code, parsed.error_description.or(parsed.message)))
    }
}

/// Body of `POST /user_management/authorize/device`: the client ID only (a public
/// client sends no API key and no `client_secret`).
#[derive(Serialize)]
pub(crate) struct AuthorizeDeviceRequest<'a> {
    pub(crate) client_id: &'a str,
}

/// Body of the device-code grant on `POST /user_management/authenticate`.
#[derive(Serialize)]
pub(crate) struct DeviceCodeRequest<'a> {
    pub(crate) grant_type: &'static str,
    pub(crate) device_code: &'a str,
    pub(crate) client_id: &'a str,
}

/// Body of the refresh-token grant on `POST /user_management/authenticate`.
#[derive(Serialize)]
pub(crate) struct RefreshRequest<'a> {
    pub(crate) grant_type: &'static str,
    pub(crate) refresh_token: &'a str,
    pub(crate) client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) organization_id: Option<&'a str>,
}

#[cfg(test)]
mod tests;
