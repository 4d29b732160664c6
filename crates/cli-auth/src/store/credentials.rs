//! [`CredentialStore`]: the public face of the store, tying the file, keychain, lock
//! and index modules together.
//!
//! Owns the policy: which backend a save uses (and the announced `Auto` fallback), the
//! order of writes so that a crash never leaves a profile file pointing at a missing
//! secret, and compare-and-clear after a failed refresh. Every method blocks (file I/O,
//! and up to the keychain timeout); async callers should use `spawn_blocking`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use super::keychain::{self, BACKEND, Keychain};
use super::lock::{self, DEFAULT_LOCK_WAIT, ProfileLock};
use super::{
    FallbackNotice, StoreError, StoreKind, StoredCredential, default_root, file, profiles, record,
    unix_now, validate_profile_name,
};
use crate::SecretString;

/// Where the credentials of one profile are kept. Cheap to open: nothing is read and the
/// keychain is not contacted until a method needs it.
pub struct CredentialStore {
    root: PathBuf,
    kind: StoreKind,
    keychain: Keychain,
    lock_wait: Duration,
    /// Set once `Auto` has seen the keychain fail in this process: (reason, detail).
    /// Later saves go straight to the file instead of waiting on the keychain again.
    fallback: OnceLock<(String, String)>,
}

/// What [`CredentialStore::save`] did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Saved {
    /// Where the refresh token now lives: [`StoreKind::Keychain`] or [`StoreKind::File`].
    pub store: StoreKind,
    /// Human text for it, as [`CredentialStore::location`] gives.
    pub location: String,
    /// Present when `Auto` wanted the keychain and had to use the plain file; the CLI
    /// must show it ("credentials saved in plain text at …").
    pub fallback: Option<FallbackNotice>,
}

impl std::fmt::Debug for CredentialStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialStore")
            .field("root", &self.root)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl CredentialStore {
    /// A store rooted at `root` (tests pass a temp dir) using backend `kind`.
    pub fn open(root: PathBuf, kind: StoreKind) -> Self {
        CredentialStore {
            root,
            kind,
            keychain: Keychain::new(keychain::DEFAULT_TIMEOUT),
            lock_wait: DEFAULT_LOCK_WAIT,
            fallback: OnceLock::new(),
        }
    }

    /// A store at [`default_root`] with the backend from `WORKOS_CLI_AUTH_STORE`.
    /// A `--store` flag should override the kind: `open(store.root().into(), flag)`.
    pub fn from_env() -> Result<Self, StoreError> {
        Ok(Self::open(default_root()?, StoreKind::from_env()?))
    }

    /// Replaces the per-call keychain timeout (3 s by default).
    pub fn with_keychain_timeout(mut self, timeout: Duration) -> Self {
        self.keychain = Keychain::new(timeout);
        self
    }

    /// Replaces how long [`lock`](Self::lock) waits (30 s by default).
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// Asks the OS keychain for a harmless probe entry, within the timeout: `Ok` if it
    /// answers. For diagnostics (`status`, doctor commands); `save` does not need it.
    pub fn probe_keychain(&self) -> Result<(), StoreError> {
        self.keychain.probe()
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The backend this store was opened with.
    pub fn kind(&self) -> StoreKind {
        self.kind
    }

    fn profiles_dir(&self) -> PathBuf {
        self.root.join("profiles")
    }

    /// The profile file: `<root>/profiles/<profile>.json`.
    pub fn profile_path(&self, profile: &str) -> Result<PathBuf, StoreError> {
        validate_profile_name(profile)?;
        Ok(self.profiles_dir().join(format!("{profile}.json")))
    }

    /// Reads the profile file, refusing a symlinked store directory or file.
    fn read_record(&self, profile: &str) -> Result<Option<record::Decoded>, StoreError> {
        let path = self.profile_path(profile)?;
        for dir in [self.root.clone(), self.profiles_dir()] {
            if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(StoreError::Symlink { path: dir });
            }
        }
        match file::read_private(&path)? {
            Some(bytes) => record::decode(&path, profile, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// The full credential of `profile`, or `None` if it has never been saved.
    ///
    /// Contacts the keychain when the record says the refresh token lives there,
    /// whatever kind this store was opened with (so `--store file` can still read an
    /// older keychain login); a record whose keychain entry has vanished is
    /// [`StoreError::MissingSecret`].
    pub fn load(&self, profile: &str) -> Result<Option<StoredCredential>, StoreError> {
        let Some(decoded) = self.read_record(profile)? else {
            return Ok(None);
        };
        let mut cred = decoded.cred;
        cred.refresh_token = match (cred.store, decoded.refresh_token) {
            (StoreKind::File, Some(token)) => token,
            _ => self
                .keychain
                .get(&account(profile, &cred.client_id))?
                .ok_or_else(|| StoreError::MissingSecret {
                    profile: profile.to_owned(),
                    backend: BACKEND,
                })?,
        };
        Ok(Some(cred))
    }

    /// The profile's record without its refresh token, from the file alone: never the
    /// keychain, so `status` stays offline and instant. `refresh_token` is empty in the
    /// result; use [`load`](Self::load) when the refresh token is needed.
    pub fn load_metadata(&self, profile: &str) -> Result<Option<StoredCredential>, StoreError> {
        Ok(self.read_record(profile)?.map(|d| {
            let mut cred = d.cred;
            cred.refresh_token = SecretString::default();
            cred
        }))
    }

    /// The fast path for `token`: the stored access token and its expiry (Unix
    /// seconds), from one small file read and never the keychain. `None` when nothing is
    /// stored or no access token was saved; checking the expiry is the caller's job.
    pub fn load_access_token(
        &self,
        profile: &str,
    ) -> Result<Option<(SecretString, u64)>, StoreError> {
        Ok(self.read_record(profile)?.and_then(|d| {
            let cred = d.cred;
            cred.access_token.zip(cred.access_token_expires_at)
        }))
    }

    /// Saves `cred` durably: when this returns `Ok`, a crash or power cut cannot lose it.
    ///
    /// `cred.store` and `cred.saved_at` are filled in here. Order of writes: the
    /// keychain entry first, then the profile file (atomically), then removal of an
    /// entry the new record no longer uses. A crash after the first step leaves the old
    /// file, which names its own keychain account (`<profile>:<client_id>`), so the
    /// reader sees the old login or, for a refresh of the same client, the old
    /// metadata with the *new* refresh token, which is the one the server now accepts.
    /// Writing the file first would be worse: it could point at a secret not yet written.
    pub fn save(&self, cred: &StoredCredential) -> Result<Saved, StoreError> {
        let path = self.profile_path(&cred.profile)?;
        file::ensure_private_dir(&self.root)?;
        file::ensure_private_dir(&self.profiles_dir())?;
        // Best effort: an unreadable old record only means no cleanup of its entry.
        let previous = self.read_record(&cred.profile).ok().flatten();
        let new_account = account(&cred.profile, &cred.client_id);

        let (store, fallback) = match self.kind {
            StoreKind::File => (StoreKind::File, None),
            StoreKind::Keychain => {
                self.keychain.set(&new_account, &cred.refresh_token)?;
                (StoreKind::Keychain, None)
            }
            StoreKind::Auto => match self.fallback.get() {
                Some(reason) => (StoreKind::File, Some(reason.clone())),
                None => match self.keychain.set(&new_account, &cred.refresh_token) {
                    Ok(()) => (StoreKind::Keychain, None),
                    Err(e) => {
                        let reason = fallback_reason(&e);
                        let _ = self.fallback.set(reason.clone());
                        (StoreKind::File, Some(reason))
                    }
                },
            },
        };

        let mut stored = cred.clone();
        stored.store = store;
        stored.saved_at = unix_now();
        file::write_atomic(
            &self.profiles_dir(),
            &format!("{}.json", cred.profile),
            &record::encode(&stored),
        )?;

        if let Some(old) = previous.filter(|old| old.cred.store == StoreKind::Keychain) {
            let old_account = account(&cred.profile, &old.cred.client_id);
            if store == StoreKind::File || old_account != new_account {
                // The new file no longer points at it; a failure leaves an orphan secret
                // in the keychain but loses nothing, so it does not fail the save.
                let _ = self.keychain.delete(&old_account);
            }
        }
        Ok(Saved {
            store,
            location: describe(store, &path),
            fallback: fallback.map(|(reason, detail)| FallbackNotice {
                reason,
                detail,
                path,
            }),
        })
    }

    /// After the server rejected `failed_refresh_token` (`invalid_grant`): deletes the
    /// profile only if it still holds that very token, and says whether it did.
    ///
    /// Another process may have rotated the token meanwhile; its fresh login must
    /// survive. Call this while holding [`lock`](Self::lock) (not taken here: the lock is
    /// not re-entrant, even within one process).
    pub fn compare_and_clear(
        &self,
        profile: &str,
        failed_refresh_token: &SecretString,
    ) -> Result<bool, StoreError> {
        match self.load(profile)? {
            Some(current) if current.refresh_token.ct_eq(failed_refresh_token) => {
                self.delete(profile)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Deletes the profile: the file first (from then on it is logged out everywhere),
    /// then its keychain entry. Deleting a profile that does not exist is not an error.
    pub fn delete(&self, profile: &str) -> Result<(), StoreError> {
        validate_profile_name(profile)?;
        // A corrupt or insecure file must still be deletable; it just cannot tell us
        // which keychain entry it used.
        let previous = self.read_record(profile).ok().flatten();
        file::remove(&self.profiles_dir(), &format!("{profile}.json"))?;
        match previous {
            Some(old) if old.cred.store == StoreKind::Keychain => {
                self.keychain.delete(&account(profile, &old.cred.client_id))
            }
            _ => Ok(()),
        }
    }

    /// Takes the exclusive cross-process lock of `profile`, waiting up to 30 s (see
    /// [`with_lock_wait`](Self::with_lock_wait)). After taking it, re-read the store:
    /// another process may have refreshed already.
    pub fn lock(&self, profile: &str) -> Result<ProfileLock, StoreError> {
        validate_profile_name(profile)?;
        file::ensure_private_dir(&self.root)?;
        file::ensure_private_dir(&self.profiles_dir())?;
        let path = self.profiles_dir().join(format!("{profile}.lock"));
        lock::acquire(profile, path, self.lock_wait)
    }

    /// The saved profiles, sorted by name.
    pub fn profiles(&self) -> Result<Vec<String>, StoreError> {
        profiles::list(&self.profiles_dir())
    }

    /// The default profile: the one set with [`set_default_profile`](Self::set_default_profile),
    /// else [`DEFAULT_PROFILE`](super::DEFAULT_PROFILE).
    pub fn default_profile(&self) -> Result<String, StoreError> {
        profiles::default_profile(&self.root)
    }

    /// Makes `profile` the default (it need not be saved yet).
    pub fn set_default_profile(&self, profile: &str) -> Result<(), StoreError> {
        profiles::set_default_profile(&self.root, profile)
    }

    /// Human text for where the refresh token of `profile` is or would be kept:
    /// `keychain (Secret Service)` or the file path. Never contacts the keychain.
    pub fn location(&self, profile: &str) -> String {
        let Ok(path) = self.profile_path(profile) else {
            return format!("invalid profile {profile:?}");
        };
        if let Ok(Some(decoded)) = self.read_record(profile) {
            return describe(decoded.cred.store, &path);
        }
        match (self.kind, self.fallback.get()) {
            (StoreKind::Auto, None) => format!(
                "{}, or {} if it is unavailable",
                describe(StoreKind::Keychain, &path),
                path.display()
            ),
            (StoreKind::Auto, Some(_)) => describe(StoreKind::File, &path),
            (kind, _) => describe(kind, &path),
        }
    }
}

/// The keychain account of a profile: the client ID is part of it, so a login to another
/// environment under the same profile never reads or overwrites the other's token.
fn account(profile: &str, client_id: &str) -> String {
    format!("{profile}:{client_id}")
}

fn describe(store: StoreKind, path: &Path) -> String {
    match store {
        StoreKind::File => path.display().to_string(),
        _ => format!("keychain ({BACKEND})"),
    }
}

/// (short reason for the user, full error for `--verbose`).
fn fallback_reason(error: &StoreError) -> (String, String) {
    let reason = match error {
        StoreError::KeychainTimeout { seconds, .. } => {
            format!("the {BACKEND} did not answer within {seconds} s")
        }
        StoreError::Keychain { reason, .. } if !looks_absent(reason) => {
            format!("the {BACKEND} could not store it")
        }
        _ => format!("no {BACKEND} on this machine"),
    };
    (reason, error.to_string())
}

/// Whether a keychain error means "there is no keychain here" (no D-Bus session, no
/// Secret Service provider, unsupported platform) rather than "it refused".
fn looks_absent(reason: &str) -> bool {
    let reason = reason.to_ascii_lowercase();
    [
        "serviceunknown",
        "not provided by any",
        "no such file",
        "connection refused",
        "address",
        "not supported",
        "dbus_session_bus",
    ]
    .iter()
    .any(|needle| reason.contains(needle))
}
