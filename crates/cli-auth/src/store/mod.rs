//! Where credentials live between runs ("stay logged in").
//!
//! This module owns the on-disk layout under one root directory, the choice between the
//! OS keychain and a plain 0600 file, atomic and durable writes, the per-profile lock
//! that serialises refreshes across processes, and the profiles index. It never talks
//! to the network, never prints, and never puts a token into an error, a log line or a
//! `Debug` string: the CLI decides what to tell the user (for example the
//! [`FallbackNotice`] "credentials saved in plain text at …").
//!
//! # Layout
//!
//! ```text
//! <root>/                      0700  WORKOS_CLI_AUTH_HOME, else <config dir>/workos-cli-auth
//!   config.json                0600  {"default_profile": "default"}
//!   profiles/                  0700
//!     <profile>.json           0600  metadata + short-lived access token (+ refresh token
//!                                    when the file backend is used)
//!     <profile>.lock                 empty; only ever locked, never read or written
//! keychain: service "workos-cli-auth", account "<profile>:<client_id>" -> refresh token
//! ```
//!
//! # Why the access token sits in the file even with a keychain
//!
//! `token` is called by credential chains before every command, so it must answer from
//! one small local file read, without a keychain round trip (which is slow, can prompt,
//! and can hang on a headless D-Bus). The access token lives minutes; the refresh token
//! is the long-lived secret and is the only thing the keychain holds. A stolen profile
//! file therefore grants access for at most the remaining lifetime of one access token.
//!
//! # Why keyutils is not a fallback
//!
//! The Linux kernel keyring (keyutils) is cleared on reboot and its persistent keyring
//! expires after a few idle days, so using it for the refresh token would silently log
//! users out. Without a Secret Service we fall back to the 0600 file and say so.

mod credentials;
mod error;
mod file;
mod keychain;
mod lock;
mod profiles;
mod record;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

pub use credentials::{CredentialStore, Saved};
pub use error::{FallbackNotice, StoreError};
pub use lock::ProfileLock;
pub use record::StoredCredential;

/// Environment variable naming the root directory of the store.
pub const HOME_ENV: &str = "WORKOS_CLI_AUTH_HOME";
/// Environment variable choosing the backend: `auto`, `keychain` or `file`.
pub const STORE_ENV: &str = "WORKOS_CLI_AUTH_STORE";
/// The profile used when the user names none and the index names none.
pub const DEFAULT_PROFILE: &str = "default";
/// The profile used by logins against the embedded emulator.
pub const LOCAL_PROFILE: &str = "local";
/// Keychain service name under which refresh tokens are stored.
pub const KEYCHAIN_SERVICE: &str = "workos-cli-auth";

/// Which backend holds the refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StoreKind {
    /// Try the OS keychain; if it is missing or does not answer in time, use the file
    /// backend and report a [`FallbackNotice`].
    #[default]
    Auto,
    /// Only the OS keychain; fail if it is unavailable.
    Keychain,
    /// Only the 0600 file under the store root (plain text).
    File,
}

impl StoreKind {
    /// The lowercase name used by `--store` and [`STORE_ENV`].
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Auto => "auto",
            StoreKind::Keychain => "keychain",
            StoreKind::File => "file",
        }
    }

    /// Reads [`STORE_ENV`]; unset or empty means [`StoreKind::Auto`].
    pub fn from_env() -> Result<Self, StoreError> {
        match std::env::var(STORE_ENV) {
            Ok(value) if !value.trim().is_empty() => value.parse(),
            _ => Ok(StoreKind::Auto),
        }
    }
}

impl fmt::Display for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StoreKind {
    type Err = StoreError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(StoreKind::Auto),
            "keychain" => Ok(StoreKind::Keychain),
            "file" => Ok(StoreKind::File),
            _ => Err(StoreError::InvalidStoreKind {
                value: value.to_owned(),
            }),
        }
    }
}

/// The root directory: [`HOME_ENV`] if set and non-empty, else
/// `<platform config dir>/workos-cli-auth` (`~/.config/workos-cli-auth` on Linux).
pub fn default_root() -> Result<PathBuf, StoreError> {
    if let Some(home) = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    dirs::config_dir()
        .map(|dir| dir.join("workos-cli-auth"))
        .ok_or(StoreError::NoHome)
}

/// Checks a profile name: 1 to 64 ASCII letters, digits, `-` or `_`.
///
/// The name becomes a file name and part of a keychain account, so anything that could
/// traverse directories (`..`, `/`) or collide after case folding tricks is refused.
pub fn validate_profile_name(name: &str) -> Result<(), StoreError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidProfileName {
            name: name.to_owned(),
        })
    }
}

/// Seconds since the Unix epoch, saturating at 0 for clocks set before 1970.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names() {
        for good in ["default", "local", "a", "Prod_2-eu", &"x".repeat(64)] {
            assert!(validate_profile_name(good).is_ok(), "{good}");
        }
        for bad in ["", "..", "a/b", "a b", "é", "a.json", &"x".repeat(65)] {
            let err = validate_profile_name(bad).unwrap_err();
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn store_kind_parses() {
        assert_eq!(
            "keychain".parse::<StoreKind>().unwrap(),
            StoreKind::Keychain
        );
        assert_eq!(" FILE ".parse::<StoreKind>().unwrap(), StoreKind::File);
        assert_eq!("auto".parse::<StoreKind>().unwrap(), StoreKind::Auto);
        let err = "vault".parse::<StoreKind>().unwrap_err().to_string();
        assert!(err.contains("\"vault\""), "{err}");
    }
}
