//! Errors of the credential store, and the notice that announces a plain-text fallback.
//!
//! Every message is an end-user sentence that quotes the path or profile name involved
//! and, where there is one, the fix. None may carry a token: keychain and JSON errors
//! are reduced to their kind and position before they get here (see `keychain.rs` and
//! `record.rs`), because their own `Display` can echo stored bytes.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// What went wrong while reading or writing stored credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A profile name outside `[A-Za-z0-9_-]{1,64}`.
    #[error("invalid profile name {name:?}: use 1 to 64 ASCII letters, digits, '-' or '_'")]
    InvalidProfileName {
        /// The rejected name, as given.
        name: String,
    },
    /// A `--store` / `WORKOS_CLI_AUTH_STORE` value that is not `auto`, `keychain` or `file`.
    #[error("invalid credential store {value:?}: expected \"auto\", \"keychain\" or \"file\"")]
    InvalidStoreKind {
        /// The rejected value, as given.
        value: String,
    },
    /// Neither `WORKOS_CLI_AUTH_HOME` nor a platform configuration directory is known.
    #[error("cannot find a configuration directory: set WORKOS_CLI_AUTH_HOME to a directory")]
    NoHome,
    /// A file-system operation failed.
    #[error("could not {action} {path}: {source}")]
    Io {
        /// What we were doing, e.g. "write" or "create directory".
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A credential file or the store directory is a symbolic link.
    #[error(
        "refusing to use {path}: it is a symbolic link; remove it (`rm {path}`) and log in again"
    )]
    Symlink {
        /// The symbolic link.
        path: PathBuf,
    },
    /// A credential file that group or others may read or write.
    #[error(
        "refusing to read {path}: its permissions are {mode:04o}, so other users may read it; \
         fix with `chmod 600 {path}` (and consider logging in again)"
    )]
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A file exists but is not what we wrote (truncated by hand, edited, wrong version).
    #[error("cannot read {path}: {reason}; delete it and log in again")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong, without any of the file's contents.
        reason: String,
    },
    /// The OS keychain answered with an error.
    #[error("keychain ({backend}) could not {operation}: {reason}")]
    Keychain {
        /// The keychain's name, e.g. "Secret Service".
        backend: &'static str,
        /// What we asked it to do.
        operation: &'static str,
        /// Why it failed, without any secret.
        reason: String,
    },
    /// The OS keychain did not answer within the timeout (a hung D-Bus, a prompt nobody sees).
    #[error(
        "keychain ({backend}) did not answer within {seconds} s while trying to {operation}; \
         use `--store file` or WORKOS_CLI_AUTH_STORE=file to store credentials in a file instead"
    )]
    KeychainTimeout {
        /// The keychain's name.
        backend: &'static str,
        /// What we asked it to do.
        operation: &'static str,
        /// The timeout, in seconds.
        seconds: u64,
    },
    /// The profile file says the refresh token is in the keychain, but it is not there.
    #[error(
        "the refresh token of profile {profile:?} is missing from the keychain ({backend}); log in again"
    )]
    MissingSecret {
        /// The profile.
        profile: String,
        /// The keychain's name.
        backend: &'static str,
    },
    /// Another process held the profile lock for too long.
    #[error(
        "timed out after {seconds} s waiting for the lock {path}: another workos-cli-auth \
         process is using profile {profile:?}"
    )]
    LockTimeout {
        /// The profile.
        profile: String,
        /// The lock file.
        path: PathBuf,
        /// How long we waited.
        seconds: u64,
    },
}

impl StoreError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        StoreError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// Tells the caller that `Auto` fell back to the plain-text file, and why.
///
/// The CLI must show it (row 24 of the threat model): `Display` gives
/// `credentials saved in plain text at <path> (<reason>)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FallbackNotice {
    /// Why the keychain was not used, e.g. "no Secret Service on this machine".
    pub reason: String,
    /// The keychain's own error, for `--verbose` output (never contains a secret).
    pub detail: String,
    /// The 0600 file that now holds the refresh token.
    pub path: PathBuf,
}

impl fmt::Display for FallbackNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "credentials saved in plain text at {} ({})",
            self.path.display(),
            self.reason
        )
    }
}
