//! Shared helpers for the `session_*` tests: an emulator whose clock is frozen and moves
//! in step with the session's [`Timer`], a temp-dir file store, a device login that
//! needs no waiting, and a local server that answers every request with HTTP 500.
//!
//! Time: the emulator mints `iat`/`exp` from a `ManualClock`, and the sessions read
//! "now" from a `FakeTimer`; [`Harness::advance`] moves both, so "the access token
//! expired" is one call, not a sleep.

#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use cli_auth::session::credential_from_response;
use cli_auth::store::{CredentialStore, StoreKind, StoredCredential};
use cli_auth::{Client, SecretString, Session, Timer, TokenReply};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use workos_emulator::{DEMO_USER_EMAIL, Emulator, EmulatorConfig, ManualClock, RunningEmulator};

pub const CLIENT_ID: &str = "client_01SESSIONTEST";
pub const PROFILE: &str = "default";

/// A timer frozen at its creation that moves only by [`FakeTimer::advance`].
pub struct FakeTimer {
    now: Mutex<(Instant, SystemTime)>,
}

impl FakeTimer {
    pub fn new() -> Arc<Self> {
        Arc::new(FakeTimer {
            now: Mutex::new((Instant::now(), SystemTime::now())),
        })
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap();
        now.0 += by;
        now.1 += by;
    }
}

impl Timer for FakeTimer {
    fn now(&self) -> Instant {
        self.now.lock().unwrap().0
    }

    fn sleep(&self, _: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(std::future::ready(()))
    }

    fn wall_now(&self) -> SystemTime {
        self.now.lock().unwrap().1
    }
}

pub struct Harness {
    pub emu: RunningEmulator,
    pub clock: ManualClock,
    pub timer: Arc<FakeTimer>,
    pub dir: tempfile::TempDir,
    pub store: Arc<CredentialStore>,
    pub ttl: Duration,
}

/// An emulator issuing access tokens for `ttl`, and an empty file store.
pub async fn harness(ttl: Duration) -> Harness {
    harness_with(EmulatorConfig::default(), ttl).await
}

pub async fn harness_with(config: EmulatorConfig, ttl: Duration) -> Harness {
    let clock = ManualClock::new();
    let timer = FakeTimer::new();
    let emu = Emulator::builder()
        .config(config)
        .interval(Duration::from_secs(1))
        .access_token_ttl(ttl)
        .clock(Arc::new(clock.clone()))
        .spawn()
        .await
        .expect("the emulator starts");
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open_store(&dir));
    Harness {
        emu,
        clock,
        timer,
        dir,
        store,
        ttl,
    }
}

/// Another handle on the same store directory, as a second process would open it.
pub fn open_store(dir: &tempfile::TempDir) -> CredentialStore {
    CredentialStore::open(dir.path().to_path_buf(), StoreKind::File)
}

impl Harness {
    /// Moves the emulator's clock and the sessions' clock together.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.timer.advance(by);
    }

    /// "Now" as the sessions see it.
    pub fn timer_now(&self) -> SystemTime {
        self.timer.wall_now()
    }

    /// Moves both clocks past the current access token's expiry.
    pub fn expire(&self) {
        self.advance(self.ttl + Duration::from_secs(1));
    }

    pub fn client(&self) -> Client {
        Client::builder()
            .client_id(CLIENT_ID)
            .base_url(self.emu.url())
            .try_build()
            .unwrap()
    }

    /// A device login approved at once, saved under `profile`.
    pub async fn login(&self, profile: &str) -> StoredCredential {
        self.login_in(profile, None).await
    }

    /// Like [`login`](Self::login), signed in to `organization` if given.
    pub async fn login_in(&self, profile: &str, organization: Option<&str>) -> StoredCredential {
        let client = self.client();
        let um = client.user_management();
        let data = um.authorize_device().await.unwrap();
        let code = data.user_code.as_str();
        match organization {
            Some(org) => self
                .emu
                .approve_in_organization(code, DEMO_USER_EMAIL, org)
                .unwrap(),
            None => self.emu.approve(code, DEMO_USER_EMAIL).unwrap(),
        }
        // One interval on the emulator's clock, so the single poll is not "too early".
        self.advance(Duration::from_secs(1));
        let tokens = match um.exchange_device_code(&data.device_code).await.unwrap() {
            TokenReply::Issued(tokens) => tokens,
            other => panic!("expected tokens, got {other:?}"),
        };
        let cred = credential_from_response(&tokens, profile, CLIENT_ID, self.emu.url()).unwrap();
        let store = self.store.clone();
        let saved = cred.clone();
        tokio::task::spawn_blocking(move || store.save(&saved))
            .await
            .unwrap()
            .unwrap();
        cred
    }

    /// A session on the shared store, reading time from the harness.
    pub fn session(&self, profile: &str) -> Session {
        Session::new(self.store.clone(), profile).with_timer(self.timer.clone())
    }

    /// A session on a store of its own (same directory), as another process.
    pub fn other_process_session(&self, profile: &str) -> Session {
        Session::new(Arc::new(open_store(&self.dir)), profile).with_timer(self.timer.clone())
    }

    /// Refresh-token requests that reached the emulator, whatever their outcome.
    pub fn refresh_requests(&self) -> Vec<u16> {
        self.emu
            .request_log()
            .into_iter()
            .filter(|r| r.grant_type.as_deref() == Some("refresh_token"))
            .map(|r| r.status)
            .collect()
    }

    /// The stored credential, read fresh from disk.
    pub fn stored(&self, profile: &str) -> Option<StoredCredential> {
        open_store(&self.dir).load(profile).unwrap()
    }

    /// Ends the session in the "browser", as `logout` would (wire notes §5).
    pub async fn logout_in_browser(&self, cred: &StoredCredential) {
        let url = cli_auth::session::logout_url(cred).unwrap().unwrap();
        let status = reqwest::get(url).await.unwrap().status();
        assert!(status.is_success(), "{status}");
    }
}

pub fn same(a: &SecretString, b: &SecretString) -> bool {
    a.ct_eq(b)
}

/// A server on 127.0.0.1:0 that answers every request with HTTP 500 and counts them.
pub async fn failing_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                read_request(&mut socket).await;
                let body = "<html>internal error</html>";
                let reply = format!(
                    "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/html\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (url, hits)
}

/// Reads one HTTP/1.1 request (headers and a `content-length` body).
async fn read_request(socket: &mut tokio::net::TcpStream) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let Ok(n) = socket.read(&mut buf).await else {
            return;
        };
        if n == 0 {
            return;
        }
        request.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if request.len() >= end + 4 + length {
                return;
            }
        }
    }
}
