//! `AppState`: the cheap-clone handle every handler receives. It owns the
//! configuration, the seeded users, the signing key, the clock, and the
//! mutable registry (grants, sessions, throttles) behind one std `Mutex`.
//!
//! The lock is never held across an `.await`: handlers take it, do pure
//! bookkeeping, and drop it. One lock also makes "consume the approval" and
//! "rotate the refresh token" atomic without further care.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;

use crate::EmulatorError;
use crate::clock::{Clock, SystemClock};
use crate::codes;
use crate::config::EmulatorConfig;
use crate::grants::{Approval, Decision, Grants, NotPending};
use crate::request_log::{LoggedRequest, RequestLog};
use crate::throttle::Throttle;
use crate::tokens::{Sessions, SigningKey};
use crate::users::{Directory, User};

const MINUTE: Duration = Duration::from_secs(60);

/// Wrong user codes tolerated per minute, per browser session, per IP and in
/// total. With N live codes a guess wins with probability N/20^8, so these
/// keep guessing hopeless (RFC 8628 §5.1).
pub(crate) const WRONG_CODES_PER_BROWSER: u32 = 5;
pub(crate) const WRONG_CODES_PER_IP: u32 = 20;
pub(crate) const WRONG_CODES_GLOBAL: u32 = 200;

/// Upper bound on remembered grants, whatever the per-client limit.
pub(crate) const MAX_GRANTS: usize = 10_000;

/// Shared state of one emulator instance. Cloning is cheap (an `Arc`).
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: EmulatorConfig,
    base_url: String,
    issuer: String,
    directory: Directory,
    key: SigningKey,
    clock: Arc<dyn Clock>,
    csrf_key: hmac::Key,
    registry: Mutex<Registry>,
    log: Mutex<RequestLog>,
}

/// Everything that changes while serving.
pub(crate) struct Registry {
    pub grants: Grants,
    pub sessions: Sessions,
    /// Device authorizations per client id.
    pub issuance: Throttle<String>,
    pub wrong_by_browser: Throttle<String>,
    pub wrong_by_ip: Throttle<Option<IpAddr>>,
    pub wrong_global: Throttle<()>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("base_url", &self.inner.base_url)
            .field("issuer", &self.inner.issuer)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State for a server reachable at `base_url` (e.g. `http://127.0.0.1:8787`,
    /// no trailing slash), on the real clock. `config.public_url` overrides
    /// `base_url` when set.
    pub fn new(config: EmulatorConfig, base_url: &str) -> Result<Self, EmulatorError> {
        Self::with_clock(config, base_url, Arc::new(SystemClock))
    }

    /// Like [`AppState::new`], with an injected clock (tests pass a
    /// [`crate::ManualClock`] to step through expiry without sleeping).
    pub fn with_clock(
        config: EmulatorConfig,
        base_url: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, EmulatorError> {
        config.validate()?;
        let key = match &config.signing_key_pem {
            Some(pem) => SigningKey::from_pem(pem)?,
            None => SigningKey::generate()?,
        };
        let base_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| base_url.trim_end_matches('/').to_owned());
        let issuer = config
            .issuer
            .clone()
            .unwrap_or_else(|| format!("{base_url}/"));
        let csrf_key = hmac::Key::generate(hmac::HMAC_SHA256, &SystemRandom::new())
            .map_err(|_| EmulatorError::Key("cannot generate the CSRF key".into()))?;
        let registry = Registry {
            grants: Grants::new(config.expires_in, config.interval),
            sessions: Sessions::default(),
            issuance: Throttle::new(config.max_authorizations_per_minute, MINUTE),
            wrong_by_browser: Throttle::new(WRONG_CODES_PER_BROWSER, MINUTE),
            wrong_by_ip: Throttle::new(WRONG_CODES_PER_IP, MINUTE),
            wrong_global: Throttle::new(WRONG_CODES_GLOBAL, MINUTE),
        };
        let directory = Directory::from_config(&config, clock.now_utc());
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                base_url,
                issuer,
                directory,
                key,
                clock,
                csrf_key,
                registry: Mutex::new(registry),
                log: Mutex::new(RequestLog::default()),
            }),
        })
    }

    /// The public base URL (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The `iss` claim of issued access tokens.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The signing key as PKCS#8 PEM, so a caller can persist it and pass it
    /// back as `signing_key_pem` to keep the JWKS stable across restarts.
    pub fn signing_key_pem(&self) -> String {
        self.inner.key.pem().to_owned()
    }

    /// The `kid` of the signing key.
    pub fn signing_key_id(&self) -> &str {
        self.inner.key.kid()
    }

    /// Approves the pending authorization with `user_code` (any spelling the
    /// verification page accepts) as the seeded user with `user_email`.
    pub fn approve(&self, user_code: &str, user_email: &str) -> Result<(), EmulatorError> {
        let user = self
            .directory()
            .by_email(user_email)
            .ok_or_else(|| EmulatorError::UnknownUser(user_email.to_owned()))?;
        let approval = approval_for(user);
        let code = codes::normalize_user_code(user_code)
            .ok_or_else(|| EmulatorError::NoPendingCode(user_code.to_owned()))?;
        self.decide(&code, Decision::Approve(approval))
            .map_err(|NotPending| EmulatorError::NoPendingCode(user_code.to_owned()))
    }

    /// Denies the pending authorization with `user_code`.
    pub fn deny(&self, user_code: &str) -> Result<(), EmulatorError> {
        let code = codes::normalize_user_code(user_code)
            .ok_or_else(|| EmulatorError::NoPendingCode(user_code.to_owned()))?;
        self.decide(&code, Decision::Deny)
            .map_err(|NotPending| EmulatorError::NoPendingCode(user_code.to_owned()))
    }

    /// Every request served so far, oldest first (the newest 10 000 are kept).
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.lock_log().snapshot()
    }

    pub(crate) fn decide(
        &self,
        normalized_code: &str,
        decision: Decision,
    ) -> Result<(), NotPending> {
        let now = self.now();
        self.registry()
            .grants
            .decide(normalized_code, decision, now)
    }

    pub(crate) fn config(&self) -> &EmulatorConfig {
        &self.inner.config
    }

    pub(crate) fn directory(&self) -> &Directory {
        &self.inner.directory
    }

    pub(crate) fn key(&self) -> &SigningKey {
        &self.inner.key
    }

    pub(crate) fn now(&self) -> Instant {
        self.inner.clock.now()
    }

    pub(crate) fn now_utc(&self) -> OffsetDateTime {
        self.inner.clock.now_utc()
    }

    /// The registry; a panic elsewhere never wedges the server.
    pub(crate) fn registry(&self) -> MutexGuard<'_, Registry> {
        self.inner
            .registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn lock_log(&self) -> MutexGuard<'_, RequestLog> {
        self.inner
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The CSRF token for a browser session: an HMAC of its id under a key
    /// that never leaves the process, so nothing per-session is stored.
    pub(crate) fn csrf_token(&self, browser_session: &str) -> String {
        let tag = hmac::sign(&self.inner.csrf_key, browser_session.as_bytes());
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    }

    /// Constant-time check of a submitted CSRF token.
    pub(crate) fn csrf_valid(&self, browser_session: &str, token: &str) -> bool {
        match URL_SAFE_NO_PAD.decode(token) {
            Ok(tag) => hmac::verify(&self.inner.csrf_key, browser_session.as_bytes(), &tag).is_ok(),
            Err(_) => false,
        }
    }

    /// Forgets expired grants and finished throttle windows.
    pub(crate) fn sweep(&self) {
        let now = self.now();
        let mut registry = self.registry();
        registry.grants.sweep(now);
        registry.issuance.sweep(now);
        registry.wrong_by_browser.sweep(now);
        registry.wrong_by_ip.sweep(now);
        registry.wrong_global.sweep(now);
    }
}

/// A user signs in to their first organization, if any (WorkOS asks users in
/// several organizations to pick; the refresh grant can switch later).
pub(crate) fn approval_for(user: &User) -> Approval {
    Approval {
        user_id: user.id.clone(),
        organization_id: user.memberships.first().map(|m| m.organization_id.clone()),
    }
}
