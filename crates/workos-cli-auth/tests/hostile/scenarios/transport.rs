//! Transport hostility: redirects, proxies, TLS, oversized and slow bodies, lying
//! framing, dropped connections (threat-model row 18 and the transport principles).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::canary;
use crate::harness::*;
use crate::server::{AUTHENTICATE, AUTHORIZE, Action, Body, Length, Response, Server};

/// A login that fails at the authorize call: exit 1, nothing shown, nothing polled.
async fn start_fails(server: &Server) -> Output {
    let out = Cli::new().login(server, &[]).await;
    out.assert_code(1).assert_stderr_lacks("Your one-time code");
    assert!(server.requests_to(AUTHENTICATE).is_empty());
    out
}

// --- Redirects ------------------------------------------------------------------

#[tokio::test]
async fn a_307_on_the_token_poll_is_never_followed_and_the_target_never_sees_the_code() {
    let target = Server::start().await;
    target.fallback(Response::json(200, tokens()));
    let location = format!("{}/steal", target.url());
    let server = scripted(json!({}), vec![Response::redirect(307, &location).into()]).await;
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(1)
        .assert_stderr_has("redirect (HTTP 307")
        .assert_stderr_has("never followed");
    assert_eq!(target.connections(), 0, "the redirect target was contacted");
    assert_eq!(
        server.requests_to(AUTHENTICATE).len(),
        1,
        "no poll after a redirect"
    );
    assert!(
        target
            .requests()
            .iter()
            .all(|r| !r.text().contains(canary::DEVICE_CODE))
    );
}

#[tokio::test]
async fn a_308_on_the_authorize_post_is_never_followed() {
    let target = Server::start().await;
    let server = Server::start().await;
    server.on(
        AUTHORIZE,
        [Response::redirect(308, &format!("{}{AUTHORIZE}", target.url())).into()],
    );
    let out = start_fails(&server).await;
    out.assert_stderr_has("HTTP 308");
    assert_eq!(target.connections(), 0);
}

#[tokio::test]
async fn a_301_location_is_shown_escaped_and_not_followed() {
    let target = Server::start().await;
    let server = Server::start().await;
    let location = format!("{}/x\u{1b}]52;c;ZXZpbA==\u{7}", target.url());
    server.on(
        AUTHORIZE,
        [Response::raw_body(301, Vec::new())
            .header("location", &location)
            .into()],
    );
    let out = start_fails(&server).await;
    // hyper refuses control characters in a header value; either way nothing is
    // followed and nothing raw is printed (the harness checks the latter).
    assert!(
        out.stderr.contains("HTTP 301") || out.stderr.contains("could not reach"),
        "{}",
        out.stderr
    );
    assert_eq!(target.connections(), 0);

    let server = Server::start().await;
    server.on(
        AUTHORIZE,
        [Response::redirect(301, "https://evil.example/%1B%5B2J").into()],
    );
    let out = start_fails(&server).await;
    out.assert_stderr_has("HTTP 301")
        .assert_stderr_has("evil.example");
}

// --- Base URL discipline ---------------------------------------------------------

#[tokio::test]
async fn plain_http_to_a_non_loopback_host_is_refused_before_any_connection() {
    // 127.0.0.2 is a loopback address but not the literal 127.0.0.1 the rule allows.
    let listener = tokio::net::TcpListener::bind("127.0.0.2:0").await;
    let cli = Cli::new();
    for url in ["http://api.workos.com", "http://10.0.0.1:8080"] {
        let out = cli
            .run(&[
                "login",
                "--client-id",
                CLIENT_ID,
                "--api-base-url",
                url,
                "--no-browser",
            ])
            .await;
        out.assert_code(1)
            .assert_stderr_has("plain http is allowed only");
    }
    if let Ok(listener) = listener {
        let url = format!("http://{}", listener.local_addr().unwrap());
        let out = cli
            .run(&[
                "login",
                "--client-id",
                CLIENT_ID,
                "--api-base-url",
                &url,
                "--no-browser",
            ])
            .await;
        out.assert_code(1)
            .assert_stderr_has("plain http is allowed only");
        let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
        assert!(accepted.is_err(), "a connection was made");
    }
}

#[tokio::test]
async fn base_urls_with_userinfo_or_odd_schemes_are_refused() {
    let cli = Cli::new();
    for url in [
        "https://user:pw@api.workos.com",
        "ftp://api.workos.com",
        "javascript:alert(1)",
        "https://api.workos.com/?next=evil",
    ] {
        let out = cli
            .run(&[
                "login",
                "--client-id",
                CLIENT_ID,
                "--api-base-url",
                url,
                "--no-browser",
            ])
            .await;
        out.assert_code(1).assert_stderr_has("invalid base url");
    }
}

// --- TLS and proxies --------------------------------------------------------------

/// A TLS listener on 127.0.0.1 with a self-signed certificate for `localhost`.
/// Counts connections and completed handshakes.
struct TlsServer {
    port: u16,
    connections: Arc<AtomicUsize>,
    handshakes: Arc<AtomicUsize>,
    plaintext_requests: Arc<AtomicUsize>,
}

async fn tls_server() -> TlsServer {
    use tokio_rustls::rustls::{self, pki_types};
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = pki_types::PrivateKeyDer::Pkcs8(pki_types::PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let handshakes = Arc::new(AtomicUsize::new(0));
    let plaintext_requests = Arc::new(AtomicUsize::new(0));
    let (c, h, p) = (
        connections.clone(),
        handshakes.clone(),
        plaintext_requests.clone(),
    );
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            let (acceptor, h, p) = (acceptor.clone(), h.clone(), p.clone());
            tokio::spawn(async move {
                let mut first = [0u8; 1];
                if socket.peek(&mut first).await.is_ok() && first[0] != 0x16 {
                    // Not a TLS ClientHello: someone fell back to plain HTTP.
                    p.fetch_add(1, Ordering::SeqCst);
                    return;
                }
                if let Ok(mut tls) = acceptor.accept(socket).await {
                    h.fetch_add(1, Ordering::SeqCst);
                    let mut buf = [0u8; 1024];
                    let _ = tls.read(&mut buf).await;
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    TlsServer {
        port,
        connections,
        handshakes,
        plaintext_requests,
    }
}

#[tokio::test]
async fn a_self_signed_certificate_is_refused_with_no_insecure_fallback() {
    let tls = tls_server().await;
    let url = format!("https://localhost:{}", tls.port);
    let out = Cli::new()
        .run(&[
            "login",
            "--client-id",
            CLIENT_ID,
            "--api-base-url",
            &url,
            "--no-browser",
        ])
        .await;
    out.assert_code(1);
    let line = out.error_line().to_ascii_lowercase();
    assert!(line.contains("certificate"), "{}", out.error_line());
    assert!(tls.connections.load(Ordering::SeqCst) >= 1);
    assert_eq!(tls.handshakes.load(Ordering::SeqCst), 0);
    assert_eq!(tls.plaintext_requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn https_proxy_is_honoured_and_no_proxy_bypasses_it() {
    let tls = tls_server().await;
    let proxy = Server::start().await;
    proxy.fallback(Response::raw_body(403, Vec::new()));
    let url = format!("https://localhost:{}", tls.port);
    let args = [
        "login",
        "--client-id",
        CLIENT_ID,
        "--api-base-url",
        &url,
        "--no-browser",
    ];

    let via_proxy = Cli::new().env("HTTPS_PROXY", &proxy.url());
    let out = via_proxy.run(&args).await;
    out.assert_code(1);
    let seen = proxy.requests();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].method, "CONNECT");
    assert_eq!(seen[0].path, format!("localhost:{}", tls.port));
    assert_eq!(tls.connections.load(Ordering::SeqCst), 0);
    // The CONNECT carries no secret: the device code is not even known yet, and the
    // API key is never sent anywhere.
    assert!(!seen[0].text().contains(canary::API_KEY));

    let bypass = Cli::new()
        .env("HTTPS_PROXY", &proxy.url())
        .env("NO_PROXY", "localhost");
    let out = bypass.run(&args).await;
    out.assert_code(1);
    assert_eq!(proxy.requests().len(), 1, "NO_PROXY was ignored");
    assert!(tls.connections.load(Ordering::SeqCst) >= 1);
}

// --- Sizes and time ----------------------------------------------------------------

const FIFTY_MB: u64 = 50 * 1024 * 1024;

#[tokio::test]
async fn row18_a_declared_50_mb_reply_is_refused_by_its_length() {
    let server = Server::start().await;
    server.on(
        AUTHORIZE,
        [Response::raw_body(200, Vec::new())
            .body(Body::Huge {
                len: FIFTY_MB,
                declared: true,
            })
            .into()],
    );
    let out = start_fails(&server).await;
    out.assert_stderr_has("larger than 65536 bytes");
    assert!(
        server.huge_bytes_sent() < FIFTY_MB / 4,
        "{}",
        server.huge_bytes_sent()
    );
}

#[tokio::test]
async fn row18_a_chunked_50_mb_reply_is_abandoned_at_the_cap() {
    let server = Server::start().await;
    server.on(
        AUTHORIZE,
        [Response::raw_body(200, Vec::new())
            .body(Body::Huge {
                len: FIFTY_MB,
                declared: false,
            })
            .into()],
    );
    let out = start_fails(&server).await;
    out.assert_stderr_has("larger than 65536 bytes");
    assert!(
        server.huge_bytes_sent() < FIFTY_MB / 4,
        "{}",
        server.huge_bytes_sent()
    );
}

#[tokio::test]
async fn row18_a_50_mb_token_reply_ends_the_login_without_reading_it() {
    let server = scripted(
        json!({}),
        vec![
            Response::raw_body(200, Vec::new())
                .body(Body::Huge {
                    len: FIFTY_MB,
                    declared: false,
                })
                .into(),
        ],
    )
    .await;
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(1)
        .assert_stderr_has("larger than 65536 bytes");
    assert!(server.huge_bytes_sent() < FIFTY_MB / 4);
    assert!(Cli::new().stored_profiles().is_empty());
}

#[tokio::test]
async fn row18_a_body_trickling_one_byte_every_two_seconds_hits_the_binarys_request_timeout() {
    // The binary's own whole-request timeout (30 s) ends it; the only slow scenario.
    let body = device(&Server::start().await.url())
        .to_string()
        .into_bytes();
    let server = Server::start().await;
    server.on(
        AUTHORIZE,
        [Response::raw_body(200, Vec::new())
            .body(Body::Trickle {
                bytes: body,
                every: Duration::from_secs(2),
            })
            .into()],
    );
    let out = start_fails(&server).await;
    assert!(
        out.error_line().contains("timed out"),
        "{}",
        out.error_line()
    );
}

/// A library client with a 1 s whole-request timeout (the binary's is 30 s).
fn impatient_client(server: &Server) -> cli_auth::Client {
    cli_auth::Client::builder()
        .client_id(CLIENT_ID)
        .base_url(server.url())
        .timeout(Duration::from_secs(1))
        .try_build()
        .unwrap()
}

#[tokio::test]
async fn trickling_endless_and_hanging_replies_time_out_as_transient_errors_lib() {
    let bodies = [
        Action::Respond(Response::raw_body(200, Vec::new()).body(Body::Trickle {
            bytes: vec![b' '; 1000],
            every: Duration::from_millis(200),
        })),
        Action::Respond(
            Response::raw_body(200, Vec::new()).body(Body::EndlessChunked {
                every: Duration::from_millis(100),
            }),
        ),
        Action::Hang,
        Action::Respond(Response::json(200, json!({})).delay(Duration::from_secs(30))),
    ];
    for action in bodies {
        let server = Server::start().await;
        server.on(AUTHORIZE, [action.clone()]);
        let err = impatient_client(&server)
            .user_management()
            .authorize_device()
            .await
            .unwrap_err();
        assert!(err.is_transient(), "{action:?}: {err}");
        assert!(err.to_string().contains("timed out"), "{action:?}: {err}");
    }
}

#[tokio::test]
async fn a_hanging_token_poll_is_a_transient_failure_that_backs_off_lib() {
    let server = scripted(
        json!({"interval": 5, "expires_in": 600}),
        vec![Action::Hang],
    )
    .await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let client = impatient_client(&server);
    let users = client.user_management();
    let data = users.authorize_device().await.unwrap();
    let timer = FakeTimer::new();
    let options = cli_auth::PollOptions::new().timer(timer.clone());
    let tokens = users
        .poll_device_code(&data.device_code, data.expires_in, data.interval, &options)
        .await
        .unwrap();
    assert_eq!(tokens.user.email, "hostile@example.com");
    assert_eq!(timer.sleeps(), vec![5, 10]);
}

// --- Lying framing and broken connections ------------------------------------------

#[tokio::test]
async fn content_length_longer_than_the_body_is_a_clean_error() {
    let body = device(&Server::start().await.url()).to_string();
    let server = Server::start().await;
    server.on(
        AUTHORIZE,
        [Response::text(200, "application/json", &body)
            .length(Length::Lie(body.len() as u64 + 500))
            .into()],
    );
    let out = start_fails(&server).await;
    out.assert_stderr_has("could not reach");
}

#[tokio::test]
async fn content_length_shorter_than_the_body_truncates_to_invalid_json() {
    let body = device(&Server::start().await.url()).to_string();
    let server = Server::start().await;
    server.on(
        AUTHORIZE,
        [Response::text(200, "application/json", &body)
            .length(Length::Lie(20))
            .into()],
    );
    let out = start_fails(&server).await;
    out.assert_stderr_has("not valid json");
}

#[tokio::test]
async fn a_body_without_length_ends_at_close_and_still_parses() {
    let server = Server::start().await;
    let body = device(&server.url()).to_string();
    server.on(
        AUTHORIZE,
        [Response::text(200, "application/json", &body)
            .length(Length::Omit)
            .into()],
    );
    server.then_always(AUTHENTICATE, ok_tokens());
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(0);
}

#[tokio::test]
async fn the_server_closing_mid_body_is_a_clean_error() {
    let raw = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n40\r\n{\"device_code\":\"x\",\"user_".to_vec();
    let server = Server::start().await;
    server.on(AUTHORIZE, [Action::Raw(raw)]);
    let out = start_fails(&server).await;
    out.assert_stderr_has("could not reach");
}

#[tokio::test]
async fn huge_or_countless_headers_are_refused_without_a_hang() {
    let mut big = b"HTTP/1.1 200 OK\r\nx-pad: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 2 * 1024 * 1024));
    big.extend_from_slice(b"\r\ncontent-length: 2\r\n\r\n{}");
    let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..5000 {
        many.extend_from_slice(format!("x-h{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(b"content-length: 2\r\n\r\n{}");
    for raw in [big, many] {
        let server = Server::start().await;
        server.on(AUTHORIZE, [Action::Raw(raw)]);
        let out = start_fails(&server).await;
        out.assert_stderr_has("could not reach");
    }
}

#[tokio::test]
async fn a_dropped_connection_or_garbage_status_line_fails_the_start_cleanly() {
    for action in [
        Action::Drop,
        Action::Raw(b"SSH-2.0-OpenSSH_9.6\r\n".to_vec()),
        Action::Raw(b"HTTP/1.1 999 \x1b[2J\r\n\r\n".to_vec()),
    ] {
        let server = Server::start().await;
        server.on(AUTHORIZE, [action]);
        start_fails(&server).await;
    }
}

#[tokio::test]
async fn connection_refused_fails_the_start_with_the_endpoint_named() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let out = Cli::new()
        .run(&[
            "login",
            "--client-id",
            CLIENT_ID,
            "--api-base-url",
            &url,
            "--no-browser",
        ])
        .await;
    out.assert_code(1)
        .assert_stderr_has(&format!("could not reach {url}{AUTHORIZE}"));
}
