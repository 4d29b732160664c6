//! `AppState`: the cheap-clone handle every handler receives. It owns the
//! configuration, the seeded users, the signing key, the clock, and the
//! mutable registry (grants, sessions, throttles) behind one std `Mutex`.
//!
//! The lock is never held across an `.await`: handlers take it, do pure
//! bookkeeping, and drop it. One lock also makes "consume the approval" and
//! "rotate the refresh token" atomic without further care.
//!
//! With a state directory, sessions change only through
//! [`AppState::with_sessions`]: under the directory's file lock, on a fresh
//! read of the file, written back when something changed. Another process
//! sharing the directory therefore never loses an update, and a token it
//! rotated is seen here as rotated out (reuse detection across processes).

use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
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
use crate::faults::FaultQueue;
use crate::grants::{Approval, Decision, Grants, NotPending};
use crate::pending_auth::PendingAuths;
use crate::persist::StateDir;
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

/// Default upper bound on remembered grants, whatever the per-client limit
/// ([`EmulatorConfig::max_grants`]).
pub(crate) const MAX_GRANTS: usize = 10_000;

/// A full registry sweeps to make room at most this often: a sweep walks
/// every grant under the lock, so sweeping on every refused authorization
/// would let a flood of them hold the lock for good.
pub(crate) const CAP_SWEEP_EVERY: Duration = Duration::from_secs(1);

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
    store: Option<StateDir>,
    registry: Mutex<Registry>,
    faults: Mutex<FaultQueue>,
    /// Whether `faults` may hold anything: written under its lock, read
    /// without it, so requests skip the lock while no fault is queued.
    faults_queued: AtomicBool,
    log: Mutex<RequestLog>,
}

/// Everything that changes while serving.
pub(crate) struct Registry {
    pub grants: Grants,
    pub sessions: Sessions,
    /// Multi-organization sign-ins waiting for an organization.
    pub pending_auth: PendingAuths,
    /// Device authorizations per client id.
    pub issuance: Throttle<String>,
    pub wrong_by_browser: Throttle<String>,
    pub wrong_by_ip: Throttle<Option<IpAddr>>,
    pub wrong_global: Throttle<()>,
    /// When a full registry last swept to make room, and how often it has.
    last_cap_sweep: Option<Instant>,
    cap_sweeps: u64,
}

impl Registry {
    /// Makes room among the grants when there are `max` of them or more:
    /// sweeps, but only when a grant can actually be forgotten and at most
    /// once per [`CAP_SWEEP_EVERY`]. Returns whether there is room now.
    pub(crate) fn room_for_grant(&mut self, max: usize, now: Instant) -> bool {
        if self.grants.len() < max {
            return true;
        }
        let throttled = self
            .last_cap_sweep
            .is_some_and(|last| now < last + CAP_SWEEP_EVERY);
        if !throttled && self.grants.sweep_would_remove(now) {
            self.last_cap_sweep = Some(now);
            self.cap_sweeps += 1;
            self.grants.sweep(now);
        }
        self.grants.len() < max
    }
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
        let store = config
            .state_dir
            .as_deref()
            .map(StateDir::open)
            .transpose()?;
        let key = match (&config.signing_key_pem, &store) {
            (Some(pem), _) => SigningKey::from_pem(pem)?,
            (None, Some(dir)) => dir.load_or_create_key()?,
            (None, None) => SigningKey::generate()?,
        };
        // Read now so a corrupt file fails the start, not the first refresh.
        let sessions = match &store {
            Some(dir) => dir.load_sessions(&dir.lock()?)?,
            None => Sessions::default(),
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
            sessions,
            pending_auth: PendingAuths::default(),
            issuance: Throttle::new(config.max_authorizations_per_minute, MINUTE),
            wrong_by_browser: Throttle::new(WRONG_CODES_PER_BROWSER, MINUTE),
            wrong_by_ip: Throttle::new(WRONG_CODES_PER_IP, MINUTE),
            wrong_global: Throttle::new(WRONG_CODES_GLOBAL, MINUTE),
            last_cap_sweep: None,
            cap_sweeps: 0,
        };
        let directory = Directory::from_config(&config, clock.now_utc());
        let faults_queued = AtomicBool::new(!config.faults.is_empty());
        let mut faults = FaultQueue::default();
        for fault in &config.faults {
            faults
                .push(*fault)
                .map_err(|_| EmulatorError::TooManyFaults)?;
        }
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                base_url,
                issuer,
                directory,
                key,
                clock,
                csrf_key,
                store,
                registry: Mutex::new(registry),
                faults: Mutex::new(faults),
                faults_queued,
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
        self.approve_with(user_code, approval)
    }

    /// Approves like [`AppState::approve`], signing in to `organization_id`
    /// (one of the user's memberships), as the verification page's
    /// organization picker does for users in several organizations.
    pub fn approve_in_organization(
        &self,
        user_code: &str,
        user_email: &str,
        organization_id: &str,
    ) -> Result<(), EmulatorError> {
        let user = self
            .directory()
            .by_email(user_email)
            .ok_or_else(|| EmulatorError::UnknownUser(user_email.to_owned()))?;
        if user.membership(organization_id).is_none() {
            return Err(EmulatorError::NotAMember {
                email: user_email.to_owned(),
                organization_id: organization_id.to_owned(),
            });
        }
        let approval = Approval {
            user_id: user.id.clone(),
            organization_id: Some(organization_id.to_owned()),
        };
        self.approve_with(user_code, approval)
    }

    fn approve_with(&self, user_code: &str, approval: Approval) -> Result<(), EmulatorError> {
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

    /// Ends the session `session_id` (its refresh tokens stop working), as
    /// the logout endpoint does. Returns whether it was live.
    pub fn end_session(&self, session_id: &str) -> Result<bool, EmulatorError> {
        let mut registry = self.registry();
        self.with_sessions(&mut registry, |sessions| sessions.end(session_id))
    }

    /// The fault queue (its public face is in `faults::queue`).
    pub(crate) fn lock_faults(&self) -> MutexGuard<'_, FaultQueue> {
        self.inner
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a fault may be queued; `false` means certainly none (the
    /// request path then skips the fault lock). Exact when read under it.
    pub(crate) fn faults_may_be_queued(&self) -> bool {
        self.inner.faults_queued.load(Ordering::Acquire)
    }

    /// Records, under the fault lock, whether the queue is empty now.
    pub(crate) fn set_faults_queued(&self, queued: bool) {
        self.inner.faults_queued.store(queued, Ordering::Release);
    }

    /// Whether sessions persist in a state directory: then changing them
    /// means file I/O, which belongs on the blocking pool.
    pub(crate) fn persists(&self) -> bool {
        self.inner.store.is_some()
    }

    /// The state directory, if sessions and the key persist.
    pub fn state_dir(&self) -> Option<&Path> {
        self.inner.config.state_dir.as_deref()
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

    /// Runs `change` on the sessions of `registry` (the caller holds the
    /// registry lock). With a state directory this happens under the
    /// directory lock on a fresh read of `sessions.json`, which is written
    /// back atomically if the revision moved. File I/O is synchronous and
    /// short; the async handlers call this from `spawn_blocking`.
    pub(crate) fn with_sessions<R>(
        &self,
        registry: &mut Registry,
        change: impl FnOnce(&mut Sessions) -> R,
    ) -> Result<R, EmulatorError> {
        let Some(dir) = &self.inner.store else {
            return Ok(change(&mut registry.sessions));
        };
        let lock = dir.lock()?;
        registry.sessions = dir.load_sessions(&lock)?;
        let before = registry.sessions.revision();
        let out = change(&mut registry.sessions);
        if registry.sessions.revision() != before {
            dir.save_sessions(&lock, &registry.sessions)?;
        }
        Ok(out)
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

    /// How many times a full registry has swept to make room for a grant.
    #[cfg(test)]
    pub(crate) fn cap_sweeps(&self) -> u64 {
        self.registry().cap_sweeps
    }

    /// How many device authorizations are remembered (live, decided, or
    /// recently expired): bounded by the flood guard and by sweeping.
    pub fn stored_grants(&self) -> usize {
        self.registry().grants.len()
    }

    /// Forgets expired grants, pending authentications and finished
    /// throttle windows. [`crate::serve`] calls it every 30 s; a test on a
    /// [`crate::ManualClock`] can call it after advancing the clock.
    pub fn sweep(&self) {
        let now = self.now();
        let mut registry = self.registry();
        registry.grants.sweep(now);
        registry.pending_auth.sweep(now);
        registry.issuance.sweep(now);
        registry.wrong_by_browser.sweep(now);
        registry.wrong_by_ip.sweep(now);
        registry.wrong_global.sweep(now);
    }
}

/// An approval with no organization chosen: a user with exactly one
/// membership signs in to it; with several, the choice is left open, so the
/// WorkOS token endpoint answers `organization_selection_required` as
/// production does (the refresh grant can switch later either way).
pub(crate) fn approval_for(user: &User) -> Approval {
    let organization_id = match user.memberships.as_slice() {
        [only] => Some(only.organization_id.clone()),
        _ => None,
    };
    Approval {
        user_id: user.id.clone(),
        organization_id,
    }
}
