//! What every stateful command needs first: the credential store, the profile it acts
//! on, and the environment override that can shadow both.

use anyhow::Context as _;
use cli_auth::store::{self, CredentialStore, StoreKind};

use crate::cli::GlobalArgs;

/// An access token given in the environment wins over the store (for CI jobs), like
/// `GH_TOKEN` does for `gh`.
pub const TOKEN_ENV: &str = "WORKOS_CLI_AUTH_TOKEN";

/// The store and profile a command works with.
pub struct Context {
    /// The opened store (opening does no I/O).
    pub store: CredentialStore,
    /// The profile the user named, if any.
    pub explicit_profile: Option<String>,
}

impl Context {
    /// Opens the store chosen by `--store` / `WORKOS_CLI_AUTH_STORE` under
    /// `WORKOS_CLI_AUTH_HOME` (or the platform config directory).
    pub fn open(global: &GlobalArgs) -> anyhow::Result<Self> {
        let root = store::default_root().context("cannot find where to keep credentials")?;
        let kind = global.store.unwrap_or(StoreKind::Auto);
        if let Some(name) = &global.profile {
            store::validate_profile_name(name)?;
        }
        Ok(Self {
            store: CredentialStore::open(root, kind),
            explicit_profile: global.profile.clone(),
        })
    }

    /// The profile to read from: the one named, else the index's default.
    pub fn profile(&self) -> anyhow::Result<String> {
        match &self.explicit_profile {
            Some(name) => Ok(name.clone()),
            None => Ok(self.store.default_profile()?),
        }
    }
}

/// The override token, if set and non-empty.
pub fn env_token() -> Option<cli_auth::SecretString> {
    std::env::var(TOKEN_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(cli_auth::SecretString::new)
}
