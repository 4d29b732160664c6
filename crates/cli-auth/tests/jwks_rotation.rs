//! `JwksVerifier` against a hand-written JWKS server whose answer the test controls:
//! key rotation (one refetch finds the new key), the 1 MiB body cap, and redirects.
//! The keys and JWKS documents are the emulators' own; time is a frozen `FakeTimer`.

mod session_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cli_auth::jwks::{JWKS_CACHE_TTL, JWKS_REFETCH_COOLDOWN};
use cli_auth::{Error, JwksVerifier, SecretString, Timer};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use session_support::FakeTimer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;
use workos_emulator::{Emulator, RunningEmulator};

/// Answers every request with the current `(status line, extra headers, body)`.
struct JwksServer {
    url: Url,
    reply: Arc<Mutex<(String, String, String)>>,
    hits: Arc<AtomicUsize>,
}

impl JwksServer {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!(
            "http://{}/sso/jwks/client_1",
            listener.local_addr().unwrap()
        ))
        .unwrap();
        let reply: Arc<Mutex<(String, String, String)>> = Arc::default();
        let hits = Arc::new(AtomicUsize::new(0));
        let (shared, counter) = (reply.clone(), hits.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let (status, headers, body): (String, String, String) =
                    shared.lock().unwrap().clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    // A GET has no body: the headers arrive in one read in practice,
                    // and the reply does not depend on them.
                    let _ = socket.read(&mut buf).await;
                    let head = format!(
                        "HTTP/1.1 {status}\r\n{headers}content-type: application/json\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(body.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        JwksServer { url, reply, hits }
    }

    fn serve(&self, status: &str, headers: &str, body: String) {
        *self.reply.lock().unwrap() = (status.into(), headers.into(), body);
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// An emulator's JWKS document and a token signed with its key.
struct Key {
    jwks: String,
    kid: String,
    encoding: EncodingKey,
    _emu: RunningEmulator,
}

async fn key() -> Key {
    let emu = Emulator::builder().spawn().await.unwrap();
    let jwks = reqwest::get(format!("{}/sso/jwks/client_1", emu.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    Key {
        jwks,
        kid: emu.state().signing_key_id().to_owned(),
        encoding: EncodingKey::from_rsa_pem(emu.signing_key_pem().as_bytes()).unwrap(),
        _emu: emu,
    }
}

impl Key {
    fn token(&self, timer: &FakeTimer) -> SecretString {
        let now = timer
            .wall_now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        let claims =
            serde_json::json!({"iss": "i", "sub": self.kid, "iat": now, "exp": now + 3600});
        encode(&header, &claims, &self.encoding).unwrap().into()
    }
}

#[tokio::test]
async fn a_rotated_key_is_found_with_one_refetch() {
    let (old, new) = (key().await, key().await);
    assert_ne!(old.kid, new.kid);
    let server = JwksServer::start().await;
    let timer = FakeTimer::new();
    let verifier = JwksVerifier::new(server.url.clone())
        .unwrap()
        .with_timer(timer.clone());

    server.serve("200 OK", "", old.jwks.clone());
    assert_eq!(
        verifier.verify(&old.token(&timer)).await.unwrap().sub,
        old.kid
    );
    assert_eq!(server.hits(), 1);

    // WorkOS rotates: the JWKS now lists only the new key. A minute later (past the
    // cooldown, well within the TTL), a token signed with it arrives.
    server.serve("200 OK", "", new.jwks.clone());
    timer.advance(JWKS_REFETCH_COOLDOWN + Duration::from_secs(1));
    assert!(JWKS_REFETCH_COOLDOWN + Duration::from_secs(1) < JWKS_CACHE_TTL);
    assert_eq!(
        verifier.verify(&new.token(&timer)).await.unwrap().sub,
        new.kid
    );
    assert_eq!(server.hits(), 2, "one refetch");
    assert_eq!(
        verifier.verify(&new.token(&timer)).await.unwrap().sub,
        new.kid
    );
    assert_eq!(server.hits(), 2, "then served from the cache");

    // The retired key is gone from the refreshed cache; within the cooldown nothing
    // is fetched for it.
    let error = verifier.verify(&old.token(&timer)).await.unwrap_err();
    assert!(matches!(error, Error::InvalidToken { .. }), "{error:?}");
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_jwks_over_one_mib_is_not_read() {
    let k = key().await;
    let server = JwksServer::start().await;
    let padded = format!("{}{}", k.jwks, " ".repeat(1024 * 1024));
    server.serve("200 OK", "", padded);
    let verifier = JwksVerifier::new(server.url.clone()).unwrap();
    let error = verifier
        .verify(&k.token(&FakeTimer::new()))
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::BodyTooLarge { limit, .. } if limit == 1024 * 1024),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_redirecting_jwks_endpoint_is_not_followed() {
    let k = key().await;
    let server = JwksServer::start().await;
    server.serve(
        "302 Found",
        "location: http://127.0.0.1:9/evil-jwks\r\n",
        String::new(),
    );
    let verifier = JwksVerifier::new(server.url.clone()).unwrap();
    let error = verifier
        .verify(&k.token(&FakeTimer::new()))
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Redirect { status: 302, .. }),
        "{error:?}"
    );
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn a_failed_fetch_is_reported_and_retried_on_the_next_call() {
    let k = key().await;
    let server = JwksServer::start().await;
    server.serve("503 Service Unavailable", "", "{}".into());
    let timer = FakeTimer::new();
    let verifier = JwksVerifier::new(server.url.clone())
        .unwrap()
        .with_timer(timer.clone());
    let error = verifier.verify(&k.token(&timer)).await.unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    server.serve("200 OK", "", k.jwks.clone());
    verifier.verify(&k.token(&timer)).await.unwrap();
    assert_eq!(server.hits(), 2);
}
