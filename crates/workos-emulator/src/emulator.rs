//! The programmatic front door: [`Emulator::builder`] configures an instance,
//! [`EmulatorBuilder::spawn`] binds a socket and serves on a tokio task, and
//! [`RunningEmulator`] lets tests approve or deny codes and read the request
//! log. Dropping the handle stops the server.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::EmulatorError;
use crate::clock::{Clock, SystemClock};
use crate::config::EmulatorConfig;
use crate::faults::Fault;
use crate::request_log::LoggedRequest;
use crate::state::AppState;

/// Entry point for running an emulator in-process.
#[derive(Debug, Clone, Copy)]
pub struct Emulator;

impl Emulator {
    /// A builder with the demo configuration, bound to `127.0.0.1:0`.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder {
            config: EmulatorConfig::default(),
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            clock: Arc::new(SystemClock),
        }
    }
}

/// Configures an emulator before [`EmulatorBuilder::spawn`].
///
/// [`EmulatorBuilder::config`] replaces the whole configuration, so call it
/// before the single-setting methods.
#[must_use]
pub struct EmulatorBuilder {
    config: EmulatorConfig,
    bind: SocketAddr,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for EmulatorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorBuilder")
            .field("bind", &self.bind)
            .finish_non_exhaustive()
    }
}

impl EmulatorBuilder {
    /// Replaces the whole configuration.
    pub fn config(mut self, config: EmulatorConfig) -> Self {
        self.config = config;
        self
    }

    /// The address to listen on (default `127.0.0.1:0`, an ephemeral port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// The base URL put in `verification_uri` and the default issuer, when
    /// clients reach the emulator through another address than the bound
    /// one (no trailing slash), e.g. a container's published port.
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.config.public_url = Some(url.into());
        self
    }

    /// The `iss` claim of access tokens (default: the base URL + `/`).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.config.issuer = Some(issuer.into());
        self
    }

    /// Lifetime of device and user codes (whole seconds; default 300 s).
    pub fn expires_in(mut self, d: Duration) -> Self {
        self.config.expires_in = d;
        self
    }

    /// Minimum time between polls (whole seconds, at least 1; default 5 s).
    pub fn interval(mut self, d: Duration) -> Self {
        self.config.interval = d;
        self
    }

    /// Access-token lifetime (default 300 s).
    pub fn access_token_ttl(mut self, d: Duration) -> Self {
        self.config.access_token_ttl = d;
        self
    }

    /// Signs with this PEM key instead of a fresh one (stable `kid` and JWKS).
    pub fn signing_key_pem(mut self, pem: impl Into<String>) -> Self {
        self.config.signing_key_pem = Some(pem.into());
        self
    }

    /// Keeps the signing key (created 0600 on first start) and the sessions
    /// (refresh-token fingerprints, rotated-out ones for reuse detection,
    /// organization, user) in `dir`, created 0700. The next emulator started
    /// on the same directory, in this process or another, has the same `kid`
    /// and honours the refresh tokens this one issued; logouts persist too.
    /// Pending device authorizations do not persist.
    ///
    /// Several processes may share one directory: every change happens under
    /// an exclusive file lock on a fresh read of the state.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.state_dir = Some(dir.into());
        self
    }

    /// Approves every device authorization at creation as the seeded user
    /// with `email`, for CI where nobody clicks: the first poll after the
    /// interval gets tokens. Spawning fails if no such user is seeded.
    pub fn auto_approve(mut self, email: impl Into<String>) -> Self {
        self.config.auto_approve = Some(email.into());
        self
    }

    /// Queues `fault` from the start (more can be added with
    /// [`RunningEmulator::inject`]).
    pub fn fault(mut self, fault: Fault) -> Self {
        self.config.faults.push(fault);
        self
    }

    /// Serves the test-only admin endpoints (`/__emulator/faults`,
    /// `/__emulator/approve`) to loopback peers. Off by default.
    pub fn admin(mut self, on: bool) -> Self {
        self.config.admin = on;
        self
    }

    /// Uses `clock` instead of the system clock, e.g. a
    /// [`crate::ManualClock`] to test expiry without sleeping, or a
    /// [`crate::TokioClock`] to follow a paused tokio clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Binds the socket and serves on a new tokio task.
    pub async fn spawn(self) -> Result<RunningEmulator, EmulatorError> {
        let listener =
            TcpListener::bind(self.bind)
                .await
                .map_err(|source| EmulatorError::Bind {
                    addr: self.bind,
                    source,
                })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                addr: self.bind,
                source,
            })?;
        // An unspecified bind address (0.0.0.0) is reached through loopback.
        let reachable = if addr.ip().is_unspecified() {
            SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port()))
        } else {
            addr
        };
        let url = format!("http://{reachable}");
        let state = AppState::with_clock(self.config, &url, self.clock)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(crate::serve(listener, state.clone(), shutdown));
        tracing::info!(%url, "WorkOS emulator listening");
        Ok(RunningEmulator {
            state,
            addr,
            url,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// A running emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningEmulator {
    state: AppState,
    addr: SocketAddr,
    url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningEmulator {
    /// The base URL, e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state, e.g. to build more routers over it.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Approves the pending authorization with `user_code` as the seeded user
    /// with `user_email`, as if they had clicked Approve.
    pub fn approve(&self, user_code: &str, user_email: &str) -> Result<(), EmulatorError> {
        self.state.approve(user_code, user_email)
    }

    /// Approves as `user_email` signed in to `organization_id`, as the
    /// verification page's organization picker does for users in several
    /// organizations (plain [`RunningEmulator::approve`] leaves the choice
    /// open, and the WorkOS token endpoint then answers
    /// `organization_selection_required`).
    pub fn approve_in_organization(
        &self,
        user_code: &str,
        user_email: &str,
        organization_id: &str,
    ) -> Result<(), EmulatorError> {
        self.state
            .approve_in_organization(user_code, user_email, organization_id)
    }

    /// Denies the pending authorization with `user_code`.
    pub fn deny(&self, user_code: &str) -> Result<(), EmulatorError> {
        self.state.deny(user_code)
    }

    /// Ends the session `session_id` as the logout endpoint does (persisted
    /// with a state directory). Returns whether it was live.
    pub fn end_session(&self, session_id: &str) -> Result<bool, EmulatorError> {
        self.state.end_session(session_id)
    }

    /// Queues `fault` behind those already queued for its endpoint; each
    /// later request to that endpoint consumes one of its `times`.
    pub fn inject(&self, fault: Fault) -> Result<(), EmulatorError> {
        self.state.inject(fault)
    }

    /// The faults still queued, with their remaining counts.
    pub fn faults(&self) -> Vec<Fault> {
        self.state.faults()
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        self.state.clear_faults();
    }

    /// Every request served so far, oldest first.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.state.request_log()
    }

    /// The signing key as PKCS#8 PEM, to persist for a stable JWKS.
    pub fn signing_key_pem(&self) -> String {
        self.state.signing_key_pem()
    }

    /// Stops accepting connections and waits (at most 5 s) for in-flight
    /// requests to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if wait_at_most(Duration::from_secs(5), task).await.is_none() {
                abort.abort();
            }
        }
    }
}

async fn wait_at_most<F: Future>(limit: Duration, f: F) -> Option<F::Output> {
    tokio::time::timeout(limit, f).await.ok()
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
