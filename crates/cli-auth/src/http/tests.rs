//! Transport tests against a raw TCP server on 127.0.0.1:0 that answers one canned
//! response and hands back the request it received.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::*;

/// Serves `response` to one connection; the task yields the raw request.
pub(crate) async fn serve_once(response: Vec<u8>) -> (Url, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let task = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = socket.read(&mut buf).await.unwrap();
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if request.len() >= end + 4 + length {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        let _ = socket.write_all(&response).await;
        let _ = socket.shutdown().await;
        String::from_utf8_lossy(&request).to_string()
    });
    (url, task)
}

fn client() -> reqwest::Client {
    build_http_client(DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT).unwrap()
}

pub(crate) fn response(status_line: &str, headers: &[&str], body: &str) -> Vec<u8> {
    let mut r = format!("HTTP/1.1 {status_line}\r\n");
    for h in headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    r.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ));
    r.into_bytes()
}

#[test]
fn base_url_rules() {
    assert_eq!(
        parse_base_url("https://api.workos.com").unwrap().as_str(),
        "https://api.workos.com/"
    );
    assert_eq!(
        parse_base_url("http://127.0.0.1:8080/prefix")
            .unwrap()
            .as_str(),
        "http://127.0.0.1:8080/prefix/"
    );
    assert!(parse_base_url("http://[::1]:1/").is_ok());
    assert!(parse_base_url("http://localhost:1/").is_ok());
    for bad in [
        "http://api.workos.com",
        "ftp://api.workos.com",
        "https://user:pw@api.workos.com",
        "https://api.workos.com/?x=1",
        "api.workos.com",
    ] {
        let err = parse_base_url(bad).unwrap_err();
        assert!(err.to_string().contains(bad), "{err}");
    }
}

#[tokio::test]
async fn posts_json_with_user_agent() {
    let (url, server) = serve_once(response("200 OK", &[], r#"{"ok":true}"#)).await;
    let reply = post_json(
        &client(),
        &url,
        &serde_json::json!({"client_id": "client_1"}),
        TOKEN_BODY_LIMIT,
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, br#"{"ok":true}"#);
    let request = server.await.unwrap().to_ascii_lowercase();
    assert!(request.starts_with("post / http/1.1"), "{request}");
    assert!(request.contains(&format!("user-agent: {}", USER_AGENT.to_ascii_lowercase())));
    assert!(request.contains("content-type: application/json"));
    assert!(request.contains(r#"{"client_id":"client_1"}"#));
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let location = format!("location: http://{}/steal", elsewhere.local_addr().unwrap());
    let (url, server) = serve_once(response("307 Temporary Redirect", &[&location], "")).await;
    let reply = post_json(&client(), &url, "secret-device-code", TOKEN_BODY_LIMIT)
        .await
        .unwrap();
    server.await.unwrap();
    assert_eq!(reply.status, 307);
    assert!(reply.location.unwrap().ends_with("/steal"));
    assert_eq!(
        elsewhere.accept().unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "the redirect target was contacted"
    );
}

#[tokio::test]
async fn declared_oversized_body_is_refused() {
    let raw = b"HTTP/1.1 200 OK\r\ncontent-length: 52428800\r\nconnection: close\r\n\r\n{".to_vec();
    let (url, _server) = serve_once(raw).await;
    let err = post_json(&client(), &url, "{}", TOKEN_BODY_LIMIT)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::BodyTooLarge {
                limit: TOKEN_BODY_LIMIT,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn chunked_oversized_body_is_aborted() {
    // No content-length: the cap must trip while reading chunks.
    let mut raw =
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_vec();
    let chunk = "x".repeat(16 * 1024);
    for _ in 0..8 {
        raw.extend_from_slice(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes());
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    let (url, _server) = serve_once(raw).await;
    let err = get(&client(), &url, TOKEN_BODY_LIMIT).await.unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { .. }), "{err}");
}

#[tokio::test]
async fn body_within_metadata_cap_is_read() {
    let body = "y".repeat(100 * 1024);
    let (url, _server) = serve_once(response("200 OK", &[], &body)).await;
    let reply = get(&client(), &url, METADATA_BODY_LIMIT).await.unwrap();
    assert_eq!(reply.body.len(), body.len());
}

#[tokio::test]
async fn retry_after_header_is_parsed() {
    let (url, _server) = serve_once(response(
        "429 Too Many Requests",
        &["retry-after: 30"],
        "{}",
    ))
    .await;
    let reply = post_json(&client(), &url, "{}", TOKEN_BODY_LIMIT)
        .await
        .unwrap();
    assert_eq!(
        reply.retry_after,
        Some(RetryAfter::Delay(Duration::from_secs(30)))
    );
}

#[tokio::test]
async fn connection_refused_is_a_transport_error_without_secrets() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = Url::parse(&format!(
        "http://127.0.0.1:{port}/user_management/authenticate"
    ))
    .unwrap();
    let err = post_json(
        &client(),
        &url,
        &serde_json::json!({"device_code": "planted-secret"}),
        TOKEN_BODY_LIMIT,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::Transport { timeout: false, .. }),
        "{err:?}"
    );
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("planted"), "{shown}");
    assert!(shown.contains("/user_management/authenticate"));
}
