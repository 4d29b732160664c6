//! Shared helpers for the `store_*` integration tests: sample records and re-running the
//! test binary itself as a child process (for umask, SIGKILL, lock contention and
//! D-Bus environment cases, none of which can be set up inside one test process).

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use cli_auth::store::{StoreKind, StoredCredential};

/// A record whose fields all derive from `n`, so a mix of two saves is detectable.
pub fn sample(profile: &str, n: u64) -> StoredCredential {
    StoredCredential {
        profile: profile.into(),
        client_id: "client_01TEST".into(),
        api_base_url: "https://api.workos.com".into(),
        user_id: format!("user_{n}"),
        email: Some(format!("user{n}@example.com")),
        organization_id: Some("org_1".into()),
        session_id: Some(format!("session_{n}")),
        access_token: Some(format!("planted-access-{n}").into()),
        access_token_expires_at: Some(2_000_000_000 + n),
        refresh_token: format!("planted-refresh-{n}").into(),
        store: StoreKind::Auto,
        saved_at: 0,
    }
}

/// The same test binary, running only the test `name`, with output shown.
pub fn rerun_self(name: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("test binary path"));
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"]);
    cmd
}

/// Permission bits of `path` (without following a final symlink).
#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}
