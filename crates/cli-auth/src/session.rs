//! Sessions: a valid access token on demand, safe across processes ("stay logged in").
//!
//! This module owns *when* to refresh and the discipline around it (threat model,
//! "Tokens, storage, refresh", rows 19–21):
//! - a token is **fresh** while `now + margin < exp`, with a margin of 10 % of the
//!   token's lifetime, at most 60 s ([`refresh_margin`]);
//! - the **fast path** ([`Session::cached_token`]) is one small file read: no keychain,
//!   no runtime, no network, no signature check;
//! - the **slow path** ([`Session::access_token`]) takes the profile's cross-process
//!   lock, **re-reads** the store (another process may have refreshed while we waited),
//!   and only then refreshes, once; the rotated pair is saved durably *before* the new
//!   access token is handed out, because WorkOS refresh tokens are single use (wire
//!   notes §3) and a lost one is a logout;
//! - `invalid_grant` clears the stored credential only if it still holds the token
//!   that failed (compare-and-clear) and reports [`Error::SessionEnded`]; any other
//!   failure (5xx, timeout, no connection) keeps everything and reports the error.
//!
//! It must not: loop (at most one refresh per call), print, put a token into an error
//! or a log line, or decide how to reach the server. That is the caller's
//! [`Connector`], because the CLI's embedded emulator has no fixed address; it is asked
//! only once a refresh is really needed, after the lock and the re-read.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::Error;
use crate::jwks::{AccessTokenClaims, JwksVerifier, decode_unverified};
use crate::secret::SecretString;
use crate::store::{CredentialStore, FallbackNotice, ProfileLock, StoredCredential};
use crate::timer::{Timer, TokioTimer};
use crate::workos::Client;

mod credential;
#[cfg(test)]
mod tests;

use credential::updated_credential;
pub use credential::{credential_from_response, logout_url};

/// The largest refresh margin: refresh at most this long before `exp`.
pub const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// How long before expiry a token stops counting as fresh: 10 % of its lifetime
/// (`exp − iat`), at most [`MAX_REFRESH_MARGIN`]; the full 60 s when the lifetime is
/// unknown (the token is not a readable JWT).
///
/// Why: a token must not expire between `token` printing it and the server receiving
/// it (a command that runs a few seconds, a skewed clock), so a margin is needed; but
/// a fixed 60 s would make a token that lives 60 s or less (a dashboard setting,
/// wire notes §4) never fresh, so every call would refresh. 10 % keeps the margin
/// proportional and 60 s caps it for the common 5-minute and longer lifetimes
/// (5 min → 30 s, 10 min and more → 60 s, 2 s → 200 ms).
pub fn refresh_margin(lifetime: Option<Duration>) -> Duration {
    match lifetime {
        Some(lifetime) => (lifetime / 10).min(MAX_REFRESH_MARGIN),
        None => MAX_REFRESH_MARGIN,
    }
}

/// Whether a token that expires at `expires_at` (Unix seconds) and was issued for
/// `lifetime` is still fresh at `now`: `now + refresh_margin(lifetime) < exp`.
///
/// An `expires_at` too large for the platform's clock is not fresh: such a value can
/// only come from a damaged file, and refreshing is always safe.
pub fn is_fresh(expires_at: u64, lifetime: Option<Duration>, now: SystemTime) -> bool {
    let Some(exp) = UNIX_EPOCH.checked_add(Duration::from_secs(expires_at)) else {
        return false;
    };
    now.checked_add(refresh_margin(lifetime))
        .is_some_and(|deadline| deadline < exp)
}

/// Freshness of a stored token: the stored expiry decides; the token's own `iat`/`exp`
/// (read without any signature work) only give the lifetime for the margin.
fn stored_token_is_fresh(token: &SecretString, expires_at: u64, now: SystemTime) -> bool {
    let lifetime = decode_unverified(token).ok().map(|c| c.lifetime());
    is_fresh(expires_at, lifetime, now)
}

/// How a [`Session`] reaches the server that issued a credential, when (and only when)
/// it has to refresh.
///
/// Implement it for the CLI's embedded emulator (start it, then build a client for
/// its address), or pass a closure `|cred: &StoredCredential| async move { … }`
/// (the future must not borrow `cred`: clone what it needs).
pub trait Connector: Send + Sync {
    /// A client for `cred`'s server and client ID.
    fn client_for(
        &self,
        cred: &StoredCredential,
    ) -> impl Future<Output = Result<Client, Error>> + Send;
}

/// Builds a [`Client`] from the credential's own `client_id` and `api_base_url`:
/// enough for WorkOS and for an emulator at a fixed address.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultConnector;

impl Connector for DefaultConnector {
    async fn client_for(&self, cred: &StoredCredential) -> Result<Client, Error> {
        Client::builder()
            .client_id(&cred.client_id)
            .base_url(&cred.api_base_url)
            .try_build()
    }
}

impl<F, Fut> Connector for F
where
    F: Fn(&StoredCredential) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Client, Error>> + Send,
{
    fn client_for(
        &self,
        cred: &StoredCredential,
    ) -> impl Future<Output = Result<Client, Error>> + Send {
        self(cred)
    }
}

/// A valid access token, and how it was obtained.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FreshToken {
    /// The access token. `Debug` shows `<redacted>`.
    pub token: SecretString,
    /// When it expires, in Unix seconds (`None` if the server's token is not a
    /// readable JWT).
    pub expires_at: Option<u64>,
    /// Whether this call refreshed (`false`: the stored token was fresh, possibly
    /// because another process had just refreshed it).
    pub refreshed: bool,
    /// Set when saving the rotated pair fell back to the plain-text file; the CLI
    /// must show it (threat-model row 24).
    pub fallback: Option<FallbackNotice>,
}

/// The stored login of one profile, refreshed on demand.
///
/// ```no_run
/// # async fn run() -> Result<(), cli_auth::Error> {
/// use std::time::SystemTime;
/// use cli_auth::{DefaultConnector, Session};
/// use cli_auth::store::CredentialStore;
///
/// let store = CredentialStore::from_env()?;
/// // Fast path: one file read, no runtime needed.
/// if let Some(token) = Session::cached_token(&store, "default", SystemTime::now())? {
///     println!("{}", token.expose());
///     return Ok(());
/// }
/// // Slow path: lock, re-read, refresh once, save, then hand out the token.
/// let session = Session::new(store, "default");
/// println!("{}", session.access_token(&DefaultConnector).await?.expose());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Session {
    store: Arc<CredentialStore>,
    profile: String,
    timer: Arc<dyn Timer>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("store", &self.store)
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

/// What the caller wants from one trip through the lock.
enum Want {
    /// A fresh token; refresh only if the stored one is stale.
    Fresh,
    /// The API server refused this token: refresh unless the store already holds
    /// another fresh one.
    Replace(SecretString),
    /// Refresh into this organization, whatever the stored token's state.
    Organization(String),
}

/// What the store held once the lock was taken.
enum Reread {
    Fresh(SecretString, u64),
    Stale(Box<StoredCredential>),
}

impl Session {
    /// The session of `profile` in `store` (a [`CredentialStore`] or an
    /// `Arc<CredentialStore>`), reading the wall clock through [`TokioTimer`].
    pub fn new(store: impl Into<Arc<CredentialStore>>, profile: impl Into<String>) -> Self {
        Session {
            store: store.into(),
            profile: profile.into(),
            timer: Arc::new(TokioTimer),
        }
    }

    /// The fast path: the stored access token of `profile` if it is fresh at `now`.
    ///
    /// One small file read ([`CredentialStore::load_access_token`]): no keychain, no
    /// tokio, no network, no signature check (the token's payload is decoded only to
    /// size the margin). `Ok(None)` means "stale, or nothing stored": take the slow
    /// path, which tells the two apart. Blocking; fine before any runtime exists.
    pub fn cached_token(
        store: &CredentialStore,
        profile: &str,
        now: SystemTime,
    ) -> Result<Option<SecretString>, Error> {
        Ok(store
            .load_access_token(profile)?
            .filter(|(token, expires_at)| stored_token_is_fresh(token, *expires_at, now))
            .map(|(token, _)| token))
    }

    /// Reads "now" from `timer` ([`Timer::wall_now`]) instead of the system clock.
    pub fn with_timer(mut self, timer: Arc<dyn Timer>) -> Self {
        self.timer = timer;
        self
    }

    /// The profile.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// The store.
    pub fn store(&self) -> &Arc<CredentialStore> {
        &self.store
    }

    /// A valid access token: the stored one while fresh, else one refreshed (at most
    /// once) under the profile lock, through `connector`. See [`token`](Self::token).
    pub async fn access_token<C: Connector + ?Sized>(
        &self,
        connector: &C,
    ) -> Result<SecretString, Error> {
        self.token(connector).await.map(|fresh| fresh.token)
    }

    /// A valid access token, with how it was obtained.
    ///
    /// 1. The stored token, if fresh (one file read).
    /// 2. Otherwise take the profile lock (waiting for another process's refresh) and
    ///    re-read: if the token is fresh now, someone else refreshed; use theirs.
    /// 3. Otherwise ask `connector` for a client and refresh once with the stored
    ///    refresh token and organization, save the rotated pair durably, and return
    ///    the new token. The connector is not called in cases 1 and 2.
    ///
    /// # Errors
    /// [`Error::NotLoggedIn`] if nothing is stored; [`Error::SessionEnded`] after
    /// `invalid_grant` (the credential is cleared if it still holds the failed
    /// token); [`Error::Store`] if the store fails (a rotated pair that could not be
    /// saved is never handed out); the refresh's own error otherwise (transient ones
    /// such as 5xx or timeouts leave the stored credential untouched).
    ///
    /// # Cancellation
    /// Once the refresh request is sent, it and the save run to completion on their
    /// own task even if this future is dropped, so a caller's timeout cannot lose a
    /// rotated refresh token.
    pub async fn token<C: Connector + ?Sized>(&self, connector: &C) -> Result<FreshToken, Error> {
        self.obtain(Want::Fresh, connector).await
    }

    /// After an API rejected `rejected` (401) although it looked fresh (revoked,
    /// clock skew): refresh once, unless another process already replaced it with a
    /// fresh token, which is returned instead. The reactive "at most once" of the
    /// threat model: call it once per failed request, never in a loop.
    pub async fn refresh_rejected<C: Connector + ?Sized>(
        &self,
        rejected: &SecretString,
        connector: &C,
    ) -> Result<FreshToken, Error> {
        self.obtain(Want::Replace(rejected.clone()), connector)
            .await
    }

    /// Refreshes into `organization_id` (wire notes §3) under the same lock discipline
    /// and saves the new organization with the rotated pair. The server refuses an
    /// organization the user is not a member of; the stored login is then kept.
    pub async fn switch_organization<C: Connector + ?Sized>(
        &self,
        organization_id: &str,
        connector: &C,
    ) -> Result<FreshToken, Error> {
        self.obtain(Want::Organization(organization_id.to_owned()), connector)
            .await
    }

    /// A valid access token (as [`token`](Self::token)), checked against its issuer's
    /// JWKS ([`JwksVerifier::for_client`] on the connector's client): an end-to-end
    /// "is this login really good" for `status --check`. Always calls `connector`.
    pub async fn verify<C: Connector + ?Sized>(
        &self,
        connector: &C,
    ) -> Result<AccessTokenClaims, Error> {
        let fresh = self.token(connector).await?;
        let (store, profile) = (self.store.clone(), self.profile.clone());
        let cred = blocking(move || store.load_metadata(&profile))
            .await?
            .ok_or_else(|| Error::NotLoggedIn {
                profile: self.profile.clone(),
            })?;
        let client = connector.client_for(&cred).await?;
        JwksVerifier::for_client(&client)?
            .with_timer(self.timer.clone())
            .verify(&fresh.token)
            .await
    }

    async fn obtain<C: Connector + ?Sized>(
        &self,
        want: Want,
        connector: &C,
    ) -> Result<FreshToken, Error> {
        if let Want::Fresh = want {
            let (store, profile, timer) = self.parts();
            let cached = blocking(move || {
                Ok::<_, Error>(
                    store
                        .load_access_token(&profile)?
                        .filter(|(t, exp)| stored_token_is_fresh(t, *exp, timer.wall_now())),
                )
            })
            .await?;
            if let Some((token, expires_at)) = cached {
                return Ok(unchanged(token, expires_at));
            }
        }

        let (store, profile, timer) = self.parts();
        let (lock, reread, want) = blocking(move || {
            let lock = store.lock(&profile)?;
            let reread = reread(&store, &profile, &want, timer.wall_now());
            reread.map(|r| (lock, r, want))
        })
        .await?;
        let cred = match reread {
            Reread::Fresh(token, expires_at) => return Ok(unchanged(token, expires_at)),
            Reread::Stale(cred) => cred,
        };

        let client = connector.client_for(&cred).await?;
        let organization_id = match want {
            Want::Organization(org) => Some(org),
            Want::Fresh | Want::Replace(_) => cred.organization_id.clone(),
        };
        let store = self.store.clone();
        // Past this point the refresh token may be rotated on the server: finish on a
        // task of its own so that dropping our future cannot lose the new pair.
        let task = tokio::spawn(refresh_and_save(store, lock, cred, client, organization_id));
        match task.await {
            Ok(result) => result,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }

    fn parts(&self) -> (Arc<CredentialStore>, String, Arc<dyn Timer>) {
        (self.store.clone(), self.profile.clone(), self.timer.clone())
    }
}

/// Under the lock: is there a token to hand out, or the full credential to refresh?
/// Reads only the profile file first, so the processes that lost the race never touch
/// the keychain.
fn reread(
    store: &CredentialStore,
    profile: &str,
    want: &Want,
    now: SystemTime,
) -> Result<Reread, Error> {
    let usable = |rejected: Option<&SecretString>| -> Result<Option<Reread>, Error> {
        Ok(store
            .load_access_token(profile)?
            .filter(|(token, _)| rejected.is_none_or(|r| !token.ct_eq(r)))
            .filter(|(token, exp)| stored_token_is_fresh(token, *exp, now))
            .map(|(token, exp)| Reread::Fresh(token, exp)))
    };
    let fresh = match want {
        Want::Fresh => usable(None)?,
        Want::Replace(rejected) => usable(Some(rejected))?,
        Want::Organization(_) => None,
    };
    if let Some(fresh) = fresh {
        return Ok(fresh);
    }
    match store.load(profile)? {
        Some(cred) => Ok(Reread::Stale(Box::new(cred))),
        None => Err(Error::NotLoggedIn {
            profile: profile.to_owned(),
        }),
    }
}

/// One refresh, then the save, with the profile lock held throughout.
async fn refresh_and_save(
    store: Arc<CredentialStore>,
    lock: ProfileLock,
    cred: Box<StoredCredential>,
    client: Client,
    organization_id: Option<String>,
) -> Result<FreshToken, Error> {
    let profile = cred.profile.clone();
    tracing::debug!(%profile, "refreshing the access token");
    let reply = client
        .user_management()
        .authenticate_with_refresh_token(&cred.refresh_token, organization_id.as_deref())
        .await;
    let result = match reply {
        Ok(response) => {
            let next = updated_credential(&cred, &response);
            let token = response.access_token.clone();
            let expires_at = next.access_token_expires_at;
            // Row 19: the rotated pair is on disk before anyone sees the new token.
            let saved = blocking(move || store.save(&next)).await?;
            Ok(FreshToken {
                token,
                expires_at,
                refreshed: true,
                fallback: saved.fallback,
            })
        }
        Err(Error::InvalidGrant { .. }) => {
            // Only the token that failed is cleared: a newer login saved meanwhile
            // (by a process that did not wait for this lock) survives.
            let failed = cred.refresh_token.clone();
            let name = profile.clone();
            match blocking(move || store.compare_and_clear(&name, &failed)).await {
                Ok(cleared) => tracing::info!(%profile, cleared, "refresh refused; session ended"),
                Err(error) => tracing::warn!(%profile, %error, "could not clear the ended session"),
            }
            Err(Error::SessionEnded { profile })
        }
        // Row 21: 5xx, timeouts, transport errors: keep everything.
        Err(error) => Err(error),
    };
    drop(lock);
    result
}

fn unchanged(token: SecretString, expires_at: u64) -> FreshToken {
    FreshToken {
        token,
        expires_at: Some(expires_at),
        refreshed: false,
        fallback: None,
    }
}

/// Runs a blocking store call off the async threads. A panic in it is resumed here.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(value) => value,
        // A blocking task is cancelled only when the runtime shuts down before it
        // starts, and then nobody polls this future any more: the panic is unobservable.
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}
