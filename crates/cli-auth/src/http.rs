//! Transport discipline: the one place that configures reqwest and reads bodies.
//!
//! - TLS through rustls with aws-lc-rs and the platform verifier, so the OS trust store
//!   (and a corporate root CA installed there) is honoured; the system proxy settings
//!   (`HTTPS_PROXY`, `NO_PROXY`, …) are honoured too.
//! - A 10 s connect timeout and a 30 s whole-request timeout (reqwest has none by
//!   default): a server that sends one byte every 10 s cannot hold a login hostage.
//! - Redirects are never followed: a 307 would resend the device code or refresh token
//!   to wherever the `Location` points. A 3xx comes back as [`Error::Redirect`].
//! - Bodies are read chunk by chunk and abandoned past a cap (64 KiB for token and
//!   device replies, 1 MiB for metadata such as JWKS).
//! - Only `https://` base URLs, or `http://` on a literal loopback host.
//! - Errors carry our endpoint URL (which never holds a secret) and reqwest's message
//!   without its URL; never a request or response body.

use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderMap, LOCATION, RETRY_AFTER};
use serde::Serialize;
use url::Url;

use crate::error::Error;
use crate::timer::RetryAfter;
use crate::types::check_web_url;

/// The cap for token and device-authorization reply bodies.
pub const TOKEN_BODY_LIMIT: usize = 64 * 1024;
/// The cap for metadata bodies (JWKS, discovery documents).
pub const METADATA_BODY_LIMIT: usize = 1024 * 1024;
/// How long establishing a connection (TCP and TLS) may take.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole request, body included, may take.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Sent on every request.
pub const USER_AGENT: &str = concat!("cli-auth/", env!("CARGO_PKG_VERSION"));

/// A response whose body was read within its cap.
#[derive(Debug)]
pub(crate) struct HttpReply {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    pub(crate) retry_after: Option<RetryAfter>,
    pub(crate) location: Option<String>,
}

/// Builds the HTTP client with the discipline described in the module docs.
pub(crate) fn build_http_client(
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<reqwest::Client, Error> {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, "application/json".parse().expect("static header"));
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .default_headers(headers)
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::Setup {
            message: describe(e),
        })
}

/// Checks a base URL: https, or http on a literal loopback host; no userinfo, query
/// or fragment. The result ends in `/` so endpoint paths can be joined onto it.
pub(crate) fn parse_base_url(raw: &str) -> Result<Url, Error> {
    let refuse = |reason| Error::InvalidBaseUrl {
        url: raw.to_owned(),
        reason,
    };
    let mut url = Url::parse(raw.trim()).map_err(|_| refuse("it is not an absolute url"))?;
    check_web_url(&url).map_err(refuse)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refuse("it must not have a query or a fragment"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// POSTs `body` as JSON and reads the reply within `limit` bytes.
pub(crate) async fn post_json<B: Serialize + ?Sized>(
    client: &reqwest::Client,
    url: &Url,
    body: &B,
    limit: usize,
) -> Result<HttpReply, Error> {
    let response = client
        .post(url.clone())
        .json(body)
        .send()
        .await
        .map_err(|e| transport_error(url, e))?;
    read_reply(response, url, limit).await
}

/// GETs `url` and reads the reply within `limit` bytes (for JWKS and metadata, with
/// [`METADATA_BODY_LIMIT`]).
pub(crate) async fn get(
    client: &reqwest::Client,
    url: &Url,
    limit: usize,
) -> Result<HttpReply, Error> {
    let response = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| transport_error(url, e))?;
    read_reply(response, url, limit).await
}

async fn read_reply(
    mut response: reqwest::Response,
    url: &Url,
    limit: usize,
) -> Result<HttpReply, Error> {
    let status = response.status().as_u16();
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let retry_after = header(RETRY_AFTER).as_deref().and_then(RetryAfter::parse);
    let location = header(LOCATION);
    let body = read_capped(&mut response, url, limit).await?;
    Ok(HttpReply {
        status,
        body,
        retry_after,
        location,
    })
}

/// Reads the body chunk by chunk, giving up as soon as it exceeds `limit`: a 50 MB
/// answer costs at most `limit` bytes of memory.
async fn read_capped(
    response: &mut reqwest::Response,
    url: &Url,
    limit: usize,
) -> Result<Vec<u8>, Error> {
    let too_large = || Error::BodyTooLarge {
        url: url.to_string(),
        limit,
    };
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(url, e))?
    {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn transport_error(url: &Url, error: reqwest::Error) -> Error {
    Error::Transport {
        url: url.to_string(),
        timeout: error.is_timeout(),
        message: describe(error),
    }
}

/// reqwest's message and its causes, without the URL (ours is added by the caller).
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
pub(crate) mod tests;
