//! The OS keychain, through the keyring ecosystem, with a timeout on every call.
//!
//! Owns: choosing the native store for this platform (Secret Service over D-Bus on
//! Linux, the legacy Keychain on macOS, Credential Manager on Windows), running every
//! call on a helper thread so that a hung D-Bus or an unanswered unlock prompt costs at
//! most the timeout (gh uses the same 3 s), and turning keyring errors into
//! [`StoreError`]s that carry no secret. It stores exactly one small value per entry,
//! the refresh token; what the entry means is decided in `credentials.rs`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use keyring_core::{CredentialStore as NativeStore, Entry, Error as KeyringError};

use super::{KEYCHAIN_SERVICE, StoreError};
use crate::SecretString;

/// How long one keychain call may take before we give up on it.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// Refresh tokens longer than this are refused. Windows caps a credential blob at
/// 2,560 bytes and stores passwords as UTF-16, so 1,024 bytes of UTF-8 always fits.
const MAX_SECRET_BYTES: usize = 1024;

/// The human name of this platform's keychain.
#[cfg(target_os = "linux")]
pub(crate) const BACKEND: &str = "Secret Service";
/// The human name of this platform's keychain.
#[cfg(target_os = "macos")]
pub(crate) const BACKEND: &str = "macOS Keychain";
/// The human name of this platform's keychain.
#[cfg(target_os = "windows")]
pub(crate) const BACKEND: &str = "Windows Credential Manager";
/// The human name of this platform's keychain.
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
pub(crate) const BACKEND: &str = "no supported keychain";

#[cfg(target_os = "linux")]
fn native_store() -> keyring_core::Result<Arc<NativeStore>> {
    let store: Arc<NativeStore> = zbus_secret_service_keyring_store::Store::new()?;
    Ok(store)
}

#[cfg(target_os = "macos")]
fn native_store() -> keyring_core::Result<Arc<NativeStore>> {
    let store: Arc<NativeStore> = apple_native_keyring_store::keychain::Store::new()?;
    Ok(store)
}

#[cfg(target_os = "windows")]
fn native_store() -> keyring_core::Result<Arc<NativeStore>> {
    let store: Arc<NativeStore> = windows_native_keyring_store::Store::new()?;
    Ok(store)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn native_store() -> keyring_core::Result<Arc<NativeStore>> {
    Err(KeyringError::NotSupportedByStore(
        "this platform has no supported OS keychain".into(),
    ))
}

/// A lazily connected handle on the OS keychain. Cheap to create: nothing is contacted
/// until the first call, so the `token` fast path never pays for it.
pub(crate) struct Keychain {
    timeout: Duration,
    shared: Arc<Shared>,
}

struct Shared {
    store: Mutex<Option<Arc<NativeStore>>>,
    /// Set after a timeout: the helper thread may still be stuck holding the D-Bus
    /// connection, so later calls fail at once instead of each waiting again.
    hung: AtomicBool,
}

impl Keychain {
    pub(crate) fn new(timeout: Duration) -> Self {
        Keychain {
            timeout,
            shared: Arc::new(Shared {
                store: Mutex::new(None),
                hung: AtomicBool::new(false),
            }),
        }
    }

    /// Connects and reads a probe entry: succeeds if the keychain answers at all.
    pub(crate) fn probe(&self) -> Result<(), StoreError> {
        self.call("connect", |store| {
            match Entry::new_in_store(store, KEYCHAIN_SERVICE, "probe")?.get_password() {
                Ok(_) | Err(KeyringError::NoEntry) => Ok(()),
                Err(e) => Err(e),
            }
        })
    }

    /// The secret stored under `account`, if any.
    pub(crate) fn get(&self, account: &str) -> Result<Option<SecretString>, StoreError> {
        let account = account.to_owned();
        self.call(
            "read the refresh token",
            move |store| match Entry::new_in_store(store, KEYCHAIN_SERVICE, &account)?
                .get_password()
            {
                Ok(password) => Ok(Some(SecretString::new(password))),
                Err(KeyringError::NoEntry) => Ok(None),
                Err(e) => Err(e),
            },
        )
    }

    /// Stores `secret` under `account`, replacing any previous value.
    pub(crate) fn set(&self, account: &str, secret: &SecretString) -> Result<(), StoreError> {
        if secret.expose().len() > MAX_SECRET_BYTES {
            return Err(StoreError::Keychain {
                backend: BACKEND,
                operation: "save the refresh token",
                reason: format!("it is longer than {MAX_SECRET_BYTES} bytes"),
            });
        }
        let (account, secret) = (account.to_owned(), secret.clone());
        self.call("save the refresh token", move |store| {
            Entry::new_in_store(store, KEYCHAIN_SERVICE, &account)?.set_password(secret.expose())
        })
    }

    /// Deletes the entry for `account`; a missing entry is not an error.
    pub(crate) fn delete(&self, account: &str) -> Result<(), StoreError> {
        let account = account.to_owned();
        self.call(
            "delete the refresh token",
            move |store| match Entry::new_in_store(store, KEYCHAIN_SERVICE, &account)?
                .delete_credential()
            {
                Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
                Err(e) => Err(e),
            },
        )
    }

    /// Runs `op` against the (lazily created) native store on a helper thread, waiting
    /// at most `self.timeout`. A thread that overruns is abandoned, not joined: it holds
    /// no lock of ours that matters, and process exit reclaims it.
    fn call<T, F>(&self, operation: &'static str, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Arc<NativeStore>) -> keyring_core::Result<T> + Send + 'static,
    {
        let timed_out = || StoreError::KeychainTimeout {
            backend: BACKEND,
            operation,
            seconds: self.timeout.as_secs().max(1),
        };
        if self.shared.hung.load(Ordering::SeqCst) {
            return Err(timed_out());
        }
        let (tx, rx) = mpsc::sync_channel(1);
        let shared = Arc::clone(&self.shared);
        let spawned = thread::Builder::new()
            .name("keychain".into())
            .spawn(move || {
                let result = connected(&shared).and_then(|store| op(&store));
                let _ = tx.send(result);
            });
        if let Err(e) = spawned {
            return Err(StoreError::Keychain {
                backend: BACKEND,
                operation,
                reason: format!("cannot start a thread: {e}"),
            });
        }
        match rx.recv_timeout(self.timeout) {
            Ok(result) => result.map_err(|e| StoreError::Keychain {
                backend: BACKEND,
                operation,
                reason: describe(&e),
            }),
            Err(_) => {
                self.shared.hung.store(true, Ordering::SeqCst);
                Err(timed_out())
            }
        }
    }
}

/// The cached native store, connecting on first use.
fn connected(shared: &Shared) -> keyring_core::Result<Arc<NativeStore>> {
    let mut slot = shared.store.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(store) = slot.as_ref() {
        return Ok(Arc::clone(store));
    }
    let store = native_store()?;
    *slot = Some(Arc::clone(&store));
    Ok(store)
}

/// A one-line reason without secrets: `BadEncoding` and `BadDataFormat` carry the stored
/// bytes, so their payloads are never formatted.
fn describe(e: &KeyringError) -> String {
    let text = match e {
        KeyringError::PlatformFailure(err) => err.to_string(),
        KeyringError::NoStorageAccess(err) => format!("access denied or keychain locked: {err}"),
        KeyringError::NoEntry => "no such entry".into(),
        KeyringError::BadEncoding(_) => "the stored value is not UTF-8".into(),
        KeyringError::BadDataFormat(..) => "the stored value is malformed".into(),
        KeyringError::BadStoreFormat(reason) => format!("the keychain is malformed: {reason}"),
        KeyringError::TooLong(name, limit) => format!("{name} is longer than {limit}"),
        KeyringError::Invalid(name, reason) => format!("{name} is invalid: {reason}"),
        KeyringError::Ambiguous(entries) => format!(
            "{} entries match; remove the duplicates with your keychain manager",
            entries.len()
        ),
        KeyringError::NoDefaultStore => "no keychain is configured".into(),
        KeyringError::NotSupportedByStore(what) => format!("not supported: {what}"),
        _ => "unknown keychain error".into(),
    };
    // D-Bus errors can be long; one line is enough for a terminal.
    let line = text.lines().next().unwrap_or_default();
    line.chars().take(300).collect()
}
