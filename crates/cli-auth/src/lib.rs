//! Log in through the browser from a Rust CLI, with WorkOS CLI Auth: the OAuth 2.0
//! Device Authorization Grant ([RFC 8628]).
//!
//! # A tour
//!
//! 1. Build a [`Client`] with your WorkOS client ID. A CLI is a *public* client: it
//!    sends no API key ([`ClientBuilder::api_key`] exists for tutorial compatibility
//!    and is never sent).
//! 2. [`UserManagement::authorize_device`] starts the login and returns a
//!    [`DeviceAuthorizationResponse`], already validated: the [`UserCode`] is short
//!    printable ASCII, the verification URIs are https (or loopback http) without
//!    userinfo, and `verification_uri_complete` has the same origin as
//!    `verification_uri`.
//! 3. Show the user code and the verification URI, then open the browser.
//! 4. [`UserManagement::authenticate_with_device_code`] polls until the user approves
//!    (RFC 8628 §3.4–3.5: the interval, `slow_down`, backoff on failures, a local
//!    deadline). [`UserManagement::poll_device_code`] does the same with a progress
//!    callback ([`PollEvent`]) and an injectable [`Timer`].
//! 5. You get an [`AuthenticationResponse`]: the [`User`] and the tokens, each a
//!    [`SecretString`] that never prints. Refresh with
//!    [`UserManagement::authenticate_with_refresh_token`].
//!
//! Every string from the server is hostile: print it through [`sanitize()`]. Errors are
//! one [`Error`] type whose `Display` already does that; [`Error::kind`] maps outcomes
//! to exit codes.
//!
//! To stay logged in, save the login
//! ([`session::credential_from_response`]) in a [`store::CredentialStore`], then ask a
//! [`Session`] for an access token: it refreshes (once, under a cross-process lock, via
//! a [`Connector`]) only when the stored token is stale.
//! [`JwksVerifier`] checks an access token's signature against the WorkOS JWKS.
//!
//! The modules: `sanitize` (terminal escaping), `types` (the codes and URI
//! validation), `secret`, `error`, `http` (timeouts, no redirects, body caps),
//! `timer` and `poll` (the state machine), `workos` (wire models and the client),
//! [`store`] (credentials on disk and in the keychain), [`session`] (fresh tokens,
//! refresh discipline) and [`jwks`] (claims and signature verification).
//!
//! # Example
//!
//! ```no_run
//! use cli_auth::{Client, Error, sanitize};
//!
//! # async fn login() -> Result<(), Error> {
//! let client = Client::builder().client_id("client_123").build();
//! let um = client.user_management();
//! let data = um.authorize_device().await?;
//! println!("Your code: {}", data.user_code);
//! println!("Open {} (check that it shows {})", data.verification_uri, data.verification_host());
//! let _ = data.verification_uri_complete; // hand this to `webbrowser::open`
//! let tokens = um
//!     .authenticate_with_device_code(&data.device_code, data.expires_in, data.interval)
//!     .await?;
//! println!("Logged in as {}", sanitize(&tokens.user.email, 200));
//! let refreshed = um
//!     .authenticate_with_refresh_token(&tokens.refresh_token, None)
//!     .await?;
//! assert!(!refreshed.access_token.is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! [RFC 8628]: https://www.rfc-editor.org/rfc/rfc8628
#![deny(missing_docs)]

mod error;
#[doc(hidden)]
pub mod fuzzing;
mod http;
pub mod jwks;
pub mod poll;
mod sanitize;
mod secret;
pub mod session;
pub mod store;
mod timer;
mod types;
mod workos;

pub use error::{Error, ErrorKind};
pub use http::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, METADATA_BODY_LIMIT, TOKEN_BODY_LIMIT,
    USER_AGENT,
};
pub use jwks::{AccessTokenClaims, JwksVerifier, decode_unverified};
pub use poll::{PollEvent, PollOptions, TokenEndpoint, TokenReply, Unavailable};
pub use sanitize::{ELLIPSIS, is_unsafe_char, sanitize};
pub use secret::SecretString;
pub use session::{Connector, DefaultConnector, FreshToken, Session};
pub use timer::{RetryAfter, Timer, TokioTimer};
pub use types::{
    DeviceCode, MAX_USER_CODE_CHARS, MAX_VERIFICATION_URI_CHARS, UserCode, ascii_host, same_origin,
    validate_user_code, validate_verification_uri,
};
pub use workos::models::{AuthenticationResponse, DeviceAuthorizationResponse};
pub use workos::user::{AuthenticationMethod, Impersonator, User};
pub use workos::{BASE_URL_ENV, Client, ClientBuilder, DEFAULT_BASE_URL, UserManagement};
