//! Entry points for the fuzz targets in `fuzz/` and the property tests: the parsers
//! that turn server bytes into protocol values are private (`workos::models`,
//! `workos::reply`), and fuzzing them through a socket would be a thousand times
//! slower. Hidden from the docs and **not part of the API**: no semver promise.

use url::Url;

use crate::error::Error;
use crate::http::HttpReply;
use crate::poll::TokenReply;
use crate::timer::RetryAfter;
use crate::workos::models::{
    AuthenticationResponse, DeviceAuthorizationResponse, ErrorBody, parse_device_authorization,
};
use crate::workos::reply::device_token_reply;

/// Parses and validates a `POST /user_management/authorize/device` success body.
pub fn device_authorization(body: &[u8]) -> Result<DeviceAuthorizationResponse, Error> {
    parse_device_authorization(body)
}

/// Reads an OAuth error body (RFC 6749 §5.2, or WorkOS's `code`/`message`):
/// `(code, description)` if it names an error.
pub fn oauth_error(body: &[u8]) -> Option<(String, Option<String>)> {
    ErrorBody::parse(body)
}

/// Classifies one answer of `POST /user_management/authenticate` to a device-code
/// poll, exactly as the poller sees it: `status` and `body` as received, plus the raw
/// `Retry-After` and `Location` header values.
pub fn token_reply(
    status: u16,
    body: &[u8],
    retry_after: Option<&str>,
    location: Option<&str>,
) -> Result<TokenReply<AuthenticationResponse>, Error> {
    let url =
        Url::parse("https://api.workos.com/user_management/authenticate").expect("a static url");
    let reply = HttpReply {
        status,
        body: body.to_vec(),
        retry_after: retry_after.and_then(RetryAfter::parse),
        location: location.map(str::to_owned),
    };
    device_token_reply(Ok(reply), &url)
}
