//! The client against a raw one-shot HTTP server: what is sent, and what comes back.

use super::*;
use crate::http::tests::{response, serve_once};

const PLANTED_KEY: &str = "sk_test_planted_api_key";

fn client_for(url: &Url) -> Client {
    Client::builder()
        .api_key(PLANTED_KEY)
        .client_id("client_123")
        .base_url(url.as_str())
        .build()
}

fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

const DEVICE_REPLY: &str = r#"{"device_code":"planted-device-code","user_code":"RRGQ-BJVS",
  "verification_uri":"https://demo.authkit.app/device",
  "verification_uri_complete":"https://demo.authkit.app/device?user_code=RRGQ-BJVS",
  "expires_in":300,"interval":5}"#;

const TOKENS: &str = r#"{"user":{"object":"user","id":"user_01","email":"demo@example.com"},
  "organization_id":"org_01","access_token":"planted-access","refresh_token":"planted-refresh",
  "authentication_method":"GoogleOAuth"}"#;

#[test]
fn build_never_panics_and_defers_config_errors() {
    let client = Client::builder()
        .client_id("client_123")
        .base_url("http://evil.example")
        .build();
    assert!(client.base_url().is_none());
    let err = futures_block_on(client.user_management().authorize_device()).unwrap_err();
    assert!(matches!(err, Error::InvalidBaseUrl { .. }));
    assert!(err.to_string().contains("http://evil.example"), "{err}");

    let err = Client::builder().build();
    assert!(format!("{err:?}").contains("MissingClientId"));
}

#[test]
fn try_build_reports_at_once() {
    assert!(matches!(
        Client::builder().api_key("k").try_build(),
        Err(Error::MissingClientId)
    ));
    assert!(matches!(
        Client::builder()
            .client_id("c")
            .base_url("javascript:x")
            .try_build(),
        Err(Error::InvalidBaseUrl { .. })
    ));
    let client = Client::builder()
        .client_id("c")
        .base_url("https://api.workos.com")
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(2))
        .try_build()
        .unwrap();
    assert_eq!(
        client.base_url().unwrap().as_str(),
        "https://api.workos.com/"
    );
}

#[test]
fn debug_never_shows_the_api_key() {
    let client = client_for(&Url::parse("https://api.workos.com").unwrap());
    let shown = format!(
        "{client:?} {client:#?} {:?}",
        Client::builder().api_key(PLANTED_KEY)
    );
    assert!(!shown.contains("planted"), "{shown}");
    assert!(shown.contains("client_123"));
}

#[tokio::test]
async fn authorize_sends_client_id_only() {
    let (url, server) = serve_once(response("200 OK", &[], DEVICE_REPLY)).await;
    let data = client_for(&url)
        .user_management()
        .authorize_device()
        .await
        .unwrap();
    assert_eq!(data.user_code.as_str(), "RRGQ-BJVS");
    let request = server.await.unwrap();
    let lower = request.to_ascii_lowercase();
    assert!(
        lower.starts_with("post /user_management/authorize/device "),
        "{request}"
    );
    assert!(
        request.ends_with(r#"{"client_id":"client_123"}"#),
        "{request}"
    );
    assert!(
        !request.contains(PLANTED_KEY) && !lower.contains("authorization:"),
        "{request}"
    );
    assert!(!lower.contains("client_secret"));
}

#[tokio::test]
async fn authorize_redirect_is_an_error() {
    let (url, _server) = serve_once(response(
        "308 Permanent Redirect",
        &["location: https://evil.example/"],
        "",
    ))
    .await;
    let err = client_for(&url)
        .user_management()
        .authorize_device()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Redirect { status: 308, .. }), "{err}");
}

#[tokio::test]
async fn exchange_sends_the_device_grant() {
    let body = r#"{"error":"authorization_pending","error_description":"pending"}"#;
    let (url, server) = serve_once(response("400 Bad Request", &[], body)).await;
    let reply = client_for(&url)
        .user_management()
        .exchange_device_code("planted-device-code")
        .await
        .unwrap();
    assert!(matches!(reply, TokenReply::Pending));
    let request = server.await.unwrap();
    assert!(
        request.starts_with("POST /user_management/authenticate "),
        "{request}"
    );
    let json = &request[request.find("\r\n\r\n").unwrap() + 4..];
    let sent: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(sent["grant_type"], DEVICE_CODE_GRANT_TYPE);
    assert_eq!(sent["device_code"], "planted-device-code");
    assert_eq!(sent["client_id"], "client_123");
    assert_eq!(sent.as_object().unwrap().len(), 3, "{sent}");
}

#[tokio::test]
async fn refresh_sends_the_refresh_grant_and_parses_tokens() {
    let (url, server) = serve_once(response("200 OK", &[], TOKENS)).await;
    let old = SecretString::from("planted-old-refresh");
    let tokens = client_for(&url)
        .user_management()
        .authenticate_with_refresh_token(&old, Some("org_01"))
        .await
        .unwrap();
    assert_eq!(tokens.refresh_token.expose(), "planted-refresh");
    assert_eq!(tokens.organization_id.as_deref(), Some("org_01"));
    let request = server.await.unwrap();
    let json = &request[request.find("\r\n\r\n").unwrap() + 4..];
    let sent: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(sent["grant_type"], "refresh_token");
    assert_eq!(sent["refresh_token"], "planted-old-refresh");
    assert_eq!(sent["organization_id"], "org_01");
    assert!(sent.get("client_secret").is_none());
}

#[tokio::test]
async fn refresh_failures_are_typed() {
    let (url, _server) = serve_once(response(
        "400 Bad Request",
        &[],
        r#"{"error":"invalid_grant","error_description":"Refresh token already exchanged."}"#,
    ))
    .await;
    let err = client_for(&url)
        .user_management()
        .authenticate_with_refresh_token(&SecretString::from("r"), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::InvalidGrant);

    let (url, _server) = serve_once(response(
        "503 Service Unavailable",
        &[],
        "<html>down</html>",
    ))
    .await;
    let err = client_for(&url)
        .user_management()
        .authenticate_with_refresh_token(&SecretString::from("r"), None)
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert!(!err.to_string().contains("html"));
}

#[tokio::test]
async fn futures_are_send_and_spawnable() {
    let client = Client::builder()
        .client_id("c")
        .base_url(refused_url())
        .build();
    let c = client.clone();
    let authorize = tokio::spawn(async move { c.user_management().authorize_device().await });
    let err = authorize.await.unwrap().unwrap_err();
    assert!(err.is_transient(), "{err}");

    // Without a client id the poll fails before its first wait, so this spawn is quick.
    let unconfigured = Client::builder().build();
    let poll = tokio::spawn(async move {
        unconfigured
            .user_management()
            .authenticate_with_device_code("d", 300, 5)
            .await
    });
    assert!(matches!(poll.await.unwrap(), Err(Error::MissingClientId)));

    let c = client.clone();
    let refresh = tokio::spawn(async move {
        c.user_management()
            .authenticate_with_refresh_token(&SecretString::from("r"), None)
            .await
    });
    assert!(refresh.await.unwrap().is_err());
}

#[tokio::test(start_paused = true)]
async fn polling_an_unreachable_server_backs_off_until_the_deadline() {
    // A refused connection is transient: the poller keeps trying until expires_in.
    let client = Client::builder()
        .client_id("c")
        .base_url(refused_url())
        .build();
    let err = client
        .user_management()
        .authenticate_with_device_code("d", 20, 5)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DeadlineExceeded { .. }), "{err}");
}

/// Runs a future that completes without I/O (a deferred configuration error).
fn futures_block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}
