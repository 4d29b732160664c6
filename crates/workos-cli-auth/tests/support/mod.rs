//! Helpers for the tests that need peers outside Cargo (official SDKs, Chromium): the
//! peer convention, the `emulator` subcommand as a child process, and file locations.
//!
//! Peer convention: when a peer is missing and `CI` is unset, a test prints one line
//! naming `.ci/setup-peers.sh` and passes; when `CI` is set, a missing peer fails the
//! test. Tests never download anything themselves.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_workos-cli-auth");

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// Whether this run is CI (`CI` set to anything but empty, `0` or `false`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Applies the peer convention to `missing` (empty: every peer is there). Returns
/// whether the test should go on; panics in CI when something is missing.
pub fn peers_present(test: &str, missing: &[String]) -> bool {
    if missing.is_empty() {
        return true;
    }
    let what = missing.join(", ");
    assert!(
        !in_ci(),
        "{test}: missing peer(s) in CI: {what}; .ci/setup-peers.sh installs them"
    );
    // Straight to the process's stderr: libtest captures `eprintln!`, and this line is
    // meant to be seen in a passing run.
    let _ = writeln!(
        std::io::stderr(),
        "note: {test} skipped: missing {what}; run .ci/setup-peers.sh (as root) to install"
    );
    false
}

/// The first `name` on `PATH`, like `command -v`.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The workspace target directory, from the test binary's own path
/// (`target/<profile>/deps/<test>`), so a custom `CARGO_TARGET_DIR` is honoured.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo_root().join("target"))
}

/// A running `workos-cli-auth emulator --port 0 …`, killed when dropped.
pub struct EmulatorProcess {
    child: Child,
    /// The base URL it printed on stdout, e.g. `http://127.0.0.1:41234`.
    pub url: String,
}

impl EmulatorProcess {
    /// Starts the emulator subcommand with `args` and waits (bounded) for its URL.
    pub async fn start(args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(["emulator", "--port", "0"])
            .args(args)
            .env_remove("WORKOS_CLIENT_ID")
            .env_remove("WORKOS_API_BASE_URL")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the emulator starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the emulator printed its URL within 30 s")
            .expect("read the emulator's stdout")
            .expect("the emulator printed a line before exiting");
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "unexpected URL {url:?}"
        );
        Self { child, url }
    }

    /// Stops the emulator now.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Polls `condition` every 50 ms until it returns `Some`, for at most `limit`.
pub async fn wait_until<T, F, Fut>(what: &str, limit: Duration, mut condition: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(value) = condition().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
