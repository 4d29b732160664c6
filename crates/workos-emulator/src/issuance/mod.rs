//! The protocol steps both token surfaces share: the WorkOS endpoints
//! (`/user_management/…`) and the standard OAuth ones (`/oauth2/…`). Starting
//! a device authorization, redeeming a device code, rotating a refresh token
//! and minting the access token happen here once, so `authorization_pending`,
//! `slow_down`, `access_denied`, `expired_token`, rotation and reuse
//! detection behave identically whichever door a client uses. The routes only
//! parse the request and shape the JSON.
//!
//! Each grant is split where it stops being cheap: the checks and the
//! bookkeeping in memory (every `authorization_pending` and `slow_down`
//! poll ends there) run on the async worker under the registry lock; the
//! success path, which may touch the state directory (file lock, fsync)
//! and signs an RS256 token (about a millisecond), runs on the blocking
//! pool through [`finish`].

mod authorize;
mod redeem;

use crate::error::ApiError;
use crate::state::AppState;
use crate::tokens::{self, Session, TokenSubject};
use crate::users::User;

pub(crate) use authorize::{Started, start};
pub(crate) use redeem::{NewSession, device_code, select_organization};

/// Which surface a request came through; only the multi-organization case
/// differs between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Door {
    /// `/user_management/authenticate`: a user in several organizations with
    /// none chosen gets `403 organization_selection_required`, as WorkOS does.
    WorkOs,
    /// `/oauth2/token`: standard clients cannot handle that 403, so such a
    /// user gets tokens without an organization (an assumption: AuthKit's
    /// behaviour here is undocumented).
    OAuth,
}

/// Tokens for a session, ready for either response shape.
#[derive(Debug)]
pub(crate) struct Issued {
    pub session: Session,
    pub user: User,
    pub refresh_token: String,
    pub access_token: String,
    /// Access-token lifetime in seconds.
    pub expires_in: u64,
}

/// A token request that passed the quick checks: what is left may block.
#[derive(Debug)]
pub(crate) enum Redemption {
    /// A spent device code or pending authentication: start a session.
    Start(NewSession),
    /// The refresh token grant: rotate, then sign.
    Refresh {
        client_id: String,
        refresh_token: String,
        /// WorkOS's `organization_id` on the refresh grant.
        switch_to: Option<String>,
    },
}

/// Finishes `redemption` and shapes the answer with `respond`. The session
/// change (file I/O with a state directory) and the signing run on the
/// blocking pool. Without a state directory a refresh token is rotated here
/// first, in memory, so an unknown or reused token is answered without
/// the pool (it only signs on success).
pub(crate) async fn finish<T, F>(
    state: &AppState,
    redemption: Redemption,
    respond: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&AppState, Issued) -> Result<T, ApiError> + Send + 'static,
{
    enum Work {
        Start(NewSession),
        Rotate(String, String, Option<String>),
        Mint(Session, String),
    }
    let work = match redemption {
        Redemption::Start(new) => Work::Start(new),
        Redemption::Refresh {
            client_id,
            refresh_token,
            switch_to,
        } if !state.persists() => {
            let (session, token) = redeem::rotate(state, &client_id, &refresh_token, switch_to)?;
            Work::Mint(session, token)
        }
        Redemption::Refresh {
            client_id,
            refresh_token,
            switch_to,
        } => Work::Rotate(client_id, refresh_token, switch_to),
    };
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let issued = match work {
            Work::Start(new) => new.finish(&state)?,
            Work::Rotate(client_id, refresh_token, switch_to) => {
                let (session, token) =
                    redeem::rotate(&state, &client_id, &refresh_token, switch_to)?;
                mint(&state, session, token)?
            }
            Work::Mint(session, token) => mint(&state, session, token)?,
        };
        respond(&state, issued)
    })
    .await
    .unwrap_or_else(|e| Err(ApiError::Internal(format!("token grant task failed: {e}"))))
}

/// A state-directory failure: the client sees a generic 500, the log gets
/// the path and the I/O error (never a token: only fingerprints are stored).
pub(crate) fn persist_failed(e: crate::EmulatorError) -> ApiError {
    ApiError::Internal(format!("cannot persist sessions: {e}"))
}

/// Mints the RS256 access token for `session`.
fn mint(state: &AppState, session: Session, refresh_token: String) -> Result<Issued, ApiError> {
    let user = state
        .directory()
        .by_id(&session.user_id)
        .ok_or_else(|| {
            ApiError::Internal(format!("session user {} is not seeded", session.user_id))
        })?
        .clone();
    let membership = session
        .organization_id
        .as_deref()
        .and_then(|org| user.membership(org));
    let subject = TokenSubject {
        issuer: state.issuer(),
        user_id: &user.id,
        session_id: &session.id,
        authenticated_at: session.created_utc,
        organization_id: session.organization_id.as_deref(),
        role: membership.map(|m| (m.role.as_str(), m.permissions.as_slice())),
    };
    let ttl = state.config().access_token_ttl;
    let claims = tokens::access_claims(&subject, ttl, state.now_utc());
    let access_token = state
        .key()
        .sign(&claims)
        .map_err(|e| ApiError::Internal(format!("signing failed: {e}")))?;
    Ok(Issued {
        session,
        user,
        refresh_token,
        access_token,
        expires_in: ttl.as_secs(),
    })
}
