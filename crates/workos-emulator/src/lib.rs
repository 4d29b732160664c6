//! A local, offline, WorkOS-compatible authorization server for CLI Auth:
//! the OAuth 2.0 Device Authorization Grant (RFC 8628) in WorkOS's wire
//! format, with a browser verification page. WorkOS's SDKs and our own
//! `cli-auth` talk to it unchanged.
//!
//! # Endpoints
//!
//! | route | what |
//! |---|---|
//! | `POST /user_management/authorize/device` | start: `device_code`, `user_code`, URIs, `expires_in`, `interval` |
//! | `POST /user_management/authenticate` | poll (device code grant) and refresh (rotating refresh tokens) |
//! | `GET /sso/jwks/{client_id}` | the RS256 signing key, all eight JWK members |
//! | `GET /user_management/sessions/logout` | end a session in the browser |
//! | `GET /device` | the verification page (no JavaScript) |
//! | `POST /oauth2/device_authorization` | start, standard RFC 8628 (form `client_id`, `scope`) |
//! | `POST /oauth2/token` | poll and refresh, standard RFC 6749 §5.1 answers, `id_token` with `openid` |
//! | `POST /oauth2/revoke` | RFC 7009 revocation; revoking a refresh token ends its session |
//! | `GET /oauth2/jwks` | the same key set |
//! | `GET /.well-known/openid-configuration`, `/.well-known/oauth-authorization-server` | RFC 8414 metadata |
//! | `/__emulator/faults`, `/__emulator/approve` | test-only admin, only with [`EmulatorBuilder::admin`], loopback peers only |
//!
//! Every response carries `X-Request-ID`. The full reference, with every
//! flag and configuration key, is `docs/emulator.md`.
//!
//! # Testing clients
//!
//! - [`EmulatorBuilder::state_dir`] keeps the signing key and sessions on
//!   disk, so refresh tokens outlive the process (and several processes can
//!   share one directory).
//! - [`Fault`]s (`authenticate:500x2`, `authenticate:slow_down x3`,
//!   `authenticate:429:retry-after=3`, `authenticate:delay=2s`) are queued
//!   with [`RunningEmulator::inject`], the builder, the config file, or the
//!   admin endpoint, and consumed one per request.
//! - [`EmulatorBuilder::auto_approve`] approves every authorization at once,
//!   for CI where nobody clicks.
//! - Users in several organizations get `organization_selection_required`
//!   unless one was chosen ([`RunningEmulator::approve_in_organization`] or
//!   the verification page's picker).
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> Result<(), workos_emulator::EmulatorError> {
//! use workos_emulator::{DEMO_USER_EMAIL, Emulator};
//!
//! let emulator = Emulator::builder().spawn().await?;
//! // A client POSTs {url}/user_management/authorize/device and shows the
//! // user code; a test can then approve without a browser:
//! # let user_code = "BCDF-GHJK";
//! emulator.approve(user_code, DEMO_USER_EMAIL)?;
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! `codes`, `grants`, `pending_auth`, `throttle` and `tokens` hold the
//! protocol logic with time passed in and no HTTP; `issuance` runs the grant
//! steps both token surfaces share; `routes` (JSON API: WorkOS, standard
//! OAuth, admin) and `pages` (HTML) are thin adapters onto them; `faults`
//! answers from the fault queue in front of the routes; `persist` keeps
//! the key and sessions in the state directory; `state` ties them together
//! behind one mutex.

#![deny(missing_docs)]

mod clock;
mod codes;
mod config;
mod emulator;
mod error;
mod faults;
mod grants;
mod ids;
mod issuance;
mod pages;
mod pending_auth;
mod persist;
mod request_log;
mod routes;
mod state;
mod throttle;
mod tokens;
mod users;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;

pub use clock::{Clock, ManualClock, SystemClock, TokioClock};
pub use codes::{USER_CODE_ALPHABET, normalize_user_code};
pub use config::{
    DEMO_ORG_ID, DEMO_ORG_NAME, DEMO_USER_EMAIL, DEMO_USER_ID, EmulatorConfig, MembershipConfig,
    OrganizationConfig, UserConfig,
};
pub use emulator::{Emulator, EmulatorBuilder, RunningEmulator};
pub use error::EmulatorError;
pub use faults::{Fault, FaultAction, FaultEndpoint};
pub use request_log::LoggedRequest;
pub use state::AppState;

/// How often expired grants and finished throttle windows are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// The whole application as a router, with request ids and logging. Tests
/// can drive it with `tower::ServiceExt::oneshot`, without a socket.
pub fn app(state: AppState) -> Router {
    let mut router = Router::new().merge(routes::router()).merge(pages::router());
    if state.config().admin {
        router = router.merge(routes::admin_router());
    }
    router
        .fallback(not_found)
        // Inside the request log, so faulted answers are logged too.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::apply,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request_log::track,
        ))
        .with_state(state)
}

async fn not_found() -> error::ApiError {
    error::ApiError::NotFound
}

/// Serves [`app`] on `listener` until `shutdown` completes, then finishes
/// in-flight requests. Also sweeps expired state periodically, so memory
/// stays bounded however long it runs.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let sweeper_state = state.clone();
    let sweeper = tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        loop {
            tick.tick().await;
            sweeper_state.sweep();
        }
    });
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await;
    sweeper.abort();
    result
}
