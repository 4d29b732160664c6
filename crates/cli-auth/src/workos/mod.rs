//! WorkOS CLI Auth: endpoint paths, base-URL handling, the wire models and the client.
//!
//! `models` and `user` mirror the wire; `reply` turns an HTTP answer into a protocol
//! outcome; `client` is the tutorial-compatible [`Client`] that sends the requests. None
//! of them sleeps or prints: timing belongs to [`crate::poll`], output to the caller.

use url::Url;

pub(crate) mod client;
pub(crate) mod models;
pub(crate) mod reply;
pub(crate) mod user;

pub use client::{Client, ClientBuilder, UserManagement};

/// The production API.
pub const DEFAULT_BASE_URL: &str = "https://api.workos.com";

/// Read by [`ClientBuilder::build`] as the base URL when
/// [`ClientBuilder::base_url`] was not called (for example to point the unchanged
/// WorkOS tutorial at a local emulator).
pub const BASE_URL_ENV: &str = "WORKOS_API_BASE_URL";

/// Starts the device flow (wire notes §1).
const AUTHORIZE_DEVICE_PATH: &str = "user_management/authorize/device";
/// Exchanges a device code or a refresh token (wire notes §2, §3).
const AUTHENTICATE_PATH: &str = "user_management/authenticate";

/// RFC 8628 §3.4.
const DEVICE_CODE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 6749 §6.
const REFRESH_TOKEN_GRANT_TYPE: &str = "refresh_token";

/// Joins an endpoint path onto a base URL that [`crate::http`] checked (it ends in `/`).
fn endpoint(base: &Url, path: &str) -> Url {
    base.join(path)
        .expect("a relative path joins onto a checked base url")
}
