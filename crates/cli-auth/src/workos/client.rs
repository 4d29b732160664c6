//! The tutorial-compatible WorkOS client: start the device flow, exchange the device
//! code, refresh. HTTP only; the timing of the poll lives in [`crate::poll`].
//!
//! A distributed CLI is a **public client** (wire notes §1): it sends its client ID and
//! never an API key or `client_secret`. [`ClientBuilder::api_key`] exists only so that
//! WorkOS's tutorial compiles unchanged; the key is stored redacted and never sent.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::error::Error;
use crate::http::{self, DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, TOKEN_BODY_LIMIT};
use crate::poll::{PollOptions, TokenEndpoint, TokenReply, poll_for_tokens};
use crate::secret::SecretString;
use crate::workos::models::{
    AuthenticationResponse, AuthorizeDeviceRequest, DeviceAuthorizationResponse, DeviceCodeRequest,
    RefreshRequest, parse_device_authorization,
};
use crate::workos::reply::{Answer, authorize_error, classify_authenticate, device_token_reply};
use crate::workos::{
    AUTHENTICATE_PATH, AUTHORIZE_DEVICE_PATH, BASE_URL_ENV, DEFAULT_BASE_URL,
    DEVICE_CODE_GRANT_TYPE, REFRESH_TOKEN_GRANT_TYPE, endpoint,
};

/// A WorkOS API client. Cheap to clone.
///
/// Built by [`Client::builder`]. If the configuration is invalid (bad base URL, no
/// client ID), [`ClientBuilder::build`] still returns a client and every call returns
/// that configuration error; use [`ClientBuilder::try_build`] to see it at once.
#[derive(Clone)]
pub struct Client {
    inner: Result<Arc<Inner>, Error>,
}

struct Inner {
    http: reqwest::Client,
    base_url: Url,
    client_id: String,
    /// Never sent; see the module docs.
    _api_key: Option<SecretString>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Ok(inner) => f
                .debug_struct("Client")
                .field("base_url", &inner.base_url.as_str())
                .field("client_id", &inner.client_id)
                .field("api_key", &inner._api_key)
                .finish(),
            Err(error) => f.debug_struct("Client").field("error", error).finish(),
        }
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The User Management API (device flow, refresh).
    pub fn user_management(&self) -> UserManagement<'_> {
        UserManagement { client: self }
    }

    /// The base URL in use, or `None` if the configuration was invalid.
    pub fn base_url(&self) -> Option<&Url> {
        self.inner.as_ref().ok().map(|inner| &inner.base_url)
    }

    /// The client ID, or `None` if the configuration was invalid.
    pub fn client_id(&self) -> Option<&str> {
        self.inner
            .as_ref()
            .ok()
            .map(|inner| inner.client_id.as_str())
    }

    /// The configuration error every call of this client returns, if any.
    pub(crate) fn config_error(&self) -> Option<Error> {
        self.inner.as_ref().err().cloned()
    }

    fn inner(&self) -> Result<&Inner, Error> {
        self.inner.as_deref().map_err(Clone::clone)
    }
}

/// Configures a [`Client`].
#[derive(Debug, Default)]
pub struct ClientBuilder {
    api_key: Option<SecretString>,
    client_id: Option<String>,
    base_url: Option<String>,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
}

impl ClientBuilder {
    /// Accepted for compatibility with the WorkOS tutorial, stored redacted, and
    /// **never sent**: CLI Auth is public. A CLI you ship must never embed an API key,
    /// since anyone can extract it from the binary.
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::new(api_key.into()));
        self
    }

    /// The WorkOS client ID (`client_...`). Required.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// The API base URL. Default: the `WORKOS_API_BASE_URL` environment variable if set
    /// and non-empty, else `https://api.workos.com`. Must be `https://`, or `http://` on
    /// `127.0.0.1`, `[::1]` or `localhost`.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// How long connecting (TCP and TLS) may take. Default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long one whole request, body included, may take. Default 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Builds the client. Never panics: a configuration error is returned by the
    /// first call made with the client.
    pub fn build(self) -> Client {
        self.try_build()
            .unwrap_or_else(|error| Client { inner: Err(error) })
    }

    /// Builds the client, reporting a configuration error at once.
    pub fn try_build(self) -> Result<Client, Error> {
        let client_id = self
            .client_id
            .filter(|id| !id.trim().is_empty())
            .ok_or(Error::MissingClientId)?;
        let raw_base = self
            .base_url
            .or_else(|| {
                std::env::var(BASE_URL_ENV)
                    .ok()
                    .filter(|v| !v.trim().is_empty())
            })
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let base_url = http::parse_base_url(&raw_base)?;
        let http = http::build_http_client(
            self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            self.timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT),
        )?;
        Ok(Client {
            inner: Ok(Arc::new(Inner {
                http,
                base_url,
                client_id,
                _api_key: self.api_key,
            })),
        })
    }
}

/// The User Management API: the device flow and refresh.
#[derive(Debug, Clone, Copy)]
pub struct UserManagement<'a> {
    client: &'a Client,
}

impl UserManagement<'_> {
    /// Starts a device login (`POST /user_management/authorize/device`, RFC 8628 §3.1).
    ///
    /// The reply is validated before it is returned (see
    /// [`DeviceAuthorizationResponse`]): show `user_code` and `verification_uri`, then
    /// open `verification_uri_complete`.
    pub async fn authorize_device(&self) -> Result<DeviceAuthorizationResponse, Error> {
        let inner = self.client.inner()?;
        let url = endpoint(&inner.base_url, AUTHORIZE_DEVICE_PATH);
        let body = AuthorizeDeviceRequest {
            client_id: &inner.client_id,
        };
        let reply = http::post_json(&inner.http, &url, &body, TOKEN_BODY_LIMIT).await?;
        match reply.status {
            200..=299 => parse_device_authorization(&reply.body),
            _ => Err(authorize_error(reply, &url)),
        }
    }

    /// Polls until the user approves, declines, or the code expires, with the
    /// default timer and no progress callback. `interval` 0 means 5 s.
    ///
    /// Drop the future to cancel.
    pub async fn authenticate_with_device_code(
        &self,
        device_code: &str,
        expires_in: u64,
        interval: u64,
    ) -> Result<AuthenticationResponse, Error> {
        self.poll_device_code(device_code, expires_in, interval, &PollOptions::default())
            .await
    }

    /// Like [`authenticate_with_device_code`](Self::authenticate_with_device_code), with
    /// an injected timer and a progress callback (for a countdown).
    pub async fn poll_device_code(
        &self,
        device_code: &str,
        expires_in: u64,
        interval: u64,
        options: &PollOptions,
    ) -> Result<AuthenticationResponse, Error> {
        let grant = DeviceCodeGrant {
            inner: self.client.inner()?,
            device_code,
        };
        poll_for_tokens(&grant, expires_in, interval, options).await
    }

    /// Sends one device-code token request, without waiting or retrying.
    pub async fn exchange_device_code(
        &self,
        device_code: &str,
    ) -> Result<TokenReply<AuthenticationResponse>, Error> {
        DeviceCodeGrant {
            inner: self.client.inner()?,
            device_code,
        }
        .exchange()
        .await
    }

    /// Exchanges a refresh token for a new access token **and a new refresh token**
    /// (refresh tokens are single use: persist the new one before using the access
    /// token). `organization_id` switches the session's organization.
    pub async fn authenticate_with_refresh_token(
        &self,
        refresh_token: &SecretString,
        organization_id: Option<&str>,
    ) -> Result<AuthenticationResponse, Error> {
        let inner = self.client.inner()?;
        let url = endpoint(&inner.base_url, AUTHENTICATE_PATH);
        let body = RefreshRequest {
            grant_type: REFRESH_TOKEN_GRANT_TYPE,
            refresh_token: refresh_token.expose(),
            client_id: &inner.client_id,
            organization_id,
        };
        let reply = http::post_json(&inner.http, &url, &body, TOKEN_BODY_LIMIT).await?;
        match classify_authenticate(reply, &url)? {
            Answer::Tokens(tokens) => Ok(*tokens),
            Answer::Retry { status, .. } => Err(Error::Http {
                status,
                url: url.to_string(),
            }),
            Answer::Pending | Answer::SlowDown => Err(Error::protocol(
                "the server answered a refresh with a device-flow error",
            )),
        }
    }
}

/// The device-code grant as the poller's [`TokenEndpoint`].
struct DeviceCodeGrant<'a> {
    inner: &'a Inner,
    device_code: &'a str,
}

impl TokenEndpoint for DeviceCodeGrant<'_> {
    type Tokens = AuthenticationResponse;

    async fn exchange(&self) -> Result<TokenReply<AuthenticationResponse>, Error> {
        let url = endpoint(&self.inner.base_url, AUTHENTICATE_PATH);
        let body = DeviceCodeRequest {
            grant_type: DEVICE_CODE_GRANT_TYPE,
            device_code: self.device_code,
            client_id: &self.inner.client_id,
        };
        let reply = http::post_json(&self.inner.http, &url, &body, TOKEN_BODY_LIMIT).await;
        device_token_reply(reply, &url)
    }
}

#[cfg(test)]
mod tests;
