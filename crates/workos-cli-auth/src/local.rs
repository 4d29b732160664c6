//! The built-in emulator as a login target. A login against it is stored in the `local`
//! profile with a placeholder base URL, because the emulator listens on a fresh
//! ephemeral port each time; its signing key and sessions live in the store's
//! `emulator/` directory, so a later process can bring it back up in-process to refresh
//! or end the session.

use std::path::{Path, PathBuf};

use anyhow::Context;
use workos_emulator::{Emulator, RunningEmulator};

/// The client ID the embedded emulator knows this CLI by.
pub const CLIENT_ID: &str = "client_workos_cli_auth_local";

/// Stored as the API base URL of credentials issued by the embedded emulator.
pub const BASE_URL: &str = "embedded:emulator";

/// Where the embedded emulator keeps its signing key and sessions.
pub fn state_dir(store_root: &Path) -> PathBuf {
    store_root.join("emulator")
}

/// Whether a stored base URL means "the embedded emulator".
pub fn is_embedded(base_url: &str) -> bool {
    base_url == BASE_URL
}

/// Starts the embedded emulator on an ephemeral loopback port over the persisted state.
pub async fn start(store_root: &Path) -> anyhow::Result<RunningEmulator> {
    Emulator::builder()
        .state_dir(state_dir(store_root))
        .spawn()
        .await
        .context("cannot start the built-in emulator")
}
