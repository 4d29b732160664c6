//! Wire compatibility, proven by WorkOS's official SDKs, unmodified: Rust `workos` 3.x,
//! Python `workos` and Node `@workos-inc/node`. Each SDK program under `tests/interop/`
//! starts a device authorization against the real `workos-cli-auth emulator` process,
//! polls (and must see `authorization_pending`), and waits; this test then approves the
//! code through the verification page's HTML forms, like a person would. The program
//! goes on: tokens, the access JWT verified against the JWKS, a refresh, and a replay
//! of the old refresh token that must fail with `invalid_grant`. The test checks the
//! program's exit status and every checkpoint it printed.
//!
//! Peers (installed by `.ci/setup-peers.sh`): the venv `tests/interop/python/.venv`,
//! `node` with `tests/interop/node/node_modules`, and the cargo project
//! `tests/interop/rust` (its own workspace and target dir). The Rust program is
//! (re)built here with `cargo build --offline --locked` only when `CI` is set or it was
//! built before, so a plain `cargo test` never compiles the SDK's dependency tree.

mod common;
mod support;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use support::{EmulatorProcess, in_ci, peers_present, repo_root, which};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

const CLIENT_ID: &str = "client_01INTEROP";
const EMAIL: &str = "demo@example.com";

/// A test of one printed checkpoint line.
type Checkpoint = Box<dyn Fn(&str) -> bool>;

/// What every SDK program must print, in this order, after its `user_code` line.
fn expected_checkpoints() -> Vec<Checkpoint> {
    vec![
        Box::new(|l| l == "pending"),
        Box::new(|l| l == format!("tokens {EMAIL}")),
        Box::new(|l| l.starts_with("jwks ") && l.ends_with("kid matches")),
        Box::new(|l| l.starts_with("verified sid=session_")),
        Box::new(|l| l == format!("refreshed {EMAIL}")),
        Box::new(|l| l == "replay invalid_grant"),
        Box::new(|l| l == "ok"),
    ]
}

/// Runs one SDK program against a fresh emulator and approves through the page.
async fn drive(name: &str, mut program: Command) {
    let emulator = EmulatorProcess::start(&["--interval", "1"]).await;
    let mut child = program
        .env("INTEROP_BASE_URL", &emulator.url)
        .env("INTEROP_CLIENT_ID", CLIENT_ID)
        .env_remove("WORKOS_API_KEY")
        .env_remove("WORKOS_CLIENT_ID")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{name}: the SDK program starts: {e}"));
    let (tx, mut lines) = mpsc::unbounded_channel();
    let stdout = child.stdout.take().expect("piped stdout");
    tokio::spawn(async move {
        let mut reader = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let stderr = child.stderr.take().expect("piped stderr");
    let stderr = tokio::spawn(async move {
        let mut text = String::new();
        let mut reader = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            text.push_str(&line);
            text.push('\n');
        }
        text
    });

    let mut seen = Vec::new();
    let mut next_line = async |what: &str, seen: &mut Vec<String>| -> Option<String> {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.recv())
            .await
            .unwrap_or_else(|_| panic!("{name}: no `{what}` line within 60 s; got {seen:?}"));
        if let Some(line) = &line {
            seen.push(line.clone());
        }
        line
    };

    let first = next_line("user_code", &mut seen).await;
    let Some(user_code) = first.as_deref().and_then(|l| l.strip_prefix("user_code ")) else {
        let status = child.wait().await;
        panic!(
            "{name}: expected `user_code …`, got {first:?} (exit {status:?})\nstderr:\n{}",
            stderr.await.unwrap_or_default()
        );
    };
    let user_code = user_code.to_owned();

    let mut expected = expected_checkpoints().into_iter();
    let pending = expected.next().expect("the pending checkpoint");
    let line = next_line("pending", &mut seen).await.unwrap_or_default();
    if !pending(&line) {
        let _ = child.kill().await;
        panic!(
            "{name}: expected `pending` before approval, got {line:?}\nstderr:\n{}",
            stderr.await.unwrap_or_default()
        );
    }

    // Approve like a person: the link, the code form, the user, the confirmation.
    let done = common::PageBrowser::new(&emulator.url)
        .decide(&user_code, EMAIL, "approve")
        .await;
    assert!(done.contains("Signed in"), "{name}: {done}");

    for check in expected {
        let line = next_line("checkpoint", &mut seen).await;
        if !line.as_deref().is_some_and(&check) {
            let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
            panic!(
                "{name}: unexpected output {line:?} after {seen:?} (exit {status:?})\nstderr:\n{}",
                stderr.await.unwrap_or_default()
            );
        }
    }
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap_or_else(|_| panic!("{name}: the program did not exit within 30 s"))
        .expect("wait for the SDK program");
    let stderr = stderr.await.unwrap_or_default();
    assert!(status.success(), "{name}: exit {status}\nstderr:\n{stderr}");
    emulator.stop().await;
}

fn interop_dir(sdk: &str) -> PathBuf {
    repo_root().join("tests/interop").join(sdk)
}

#[tokio::test]
async fn the_official_rust_sdk_logs_in_refreshes_and_sees_reuse_rejected() {
    let dir = interop_dir("rust");
    let exe = dir.join("target/debug/workos-interop-rust");
    if !peers_present(
        "interop (Rust SDK)",
        &if in_ci() || exe.is_file() {
            Vec::new()
        } else {
            vec![format!("{} (built by .ci/setup-peers.sh)", exe.display())]
        },
    ) {
        return;
    }
    // Build (or confirm up to date) with the SDK's own lockfile, never downloading.
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .args([
            "build",
            "--offline",
            "--locked",
            "--quiet",
            "--manifest-path",
        ])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .stdin(Stdio::null());
    // Not the variables `cargo test` gives this test: build scripts track some of them
    // (ring's tracks CARGO_MANIFEST_DIR), which would make every run a full rebuild.
    const FROM_CARGO_TEST: [&str; 7] = [
        "CARGO_MANIFEST_",
        "CARGO_PKG_",
        "CARGO_BIN_",
        "CARGO_CRATE_",
        "CARGO_PRIMARY_",
        "CARGO_TARGET_TMPDIR",
        "OUT_DIR",
    ];
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if FROM_CARGO_TEST.iter().any(|p| name.starts_with(p)) {
            cargo.env_remove(&*name);
        }
    }
    let build = cargo.output().await.expect("cargo runs");
    assert!(
        build.status.success(),
        "building tests/interop/rust failed (did .ci/setup-peers.sh run?):\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    drive("Rust workos SDK", Command::new(exe)).await;
}

#[tokio::test]
async fn the_official_python_sdk_logs_in_refreshes_and_sees_reuse_rejected() {
    let dir = interop_dir("python");
    let python = dir.join(".venv/bin/python");
    let mut missing = Vec::new();
    if !python.is_file() {
        missing.push(format!("{} (the venv)", python.display()));
    }
    if !peers_present("interop (Python SDK)", &missing) {
        return;
    }
    let mut program = Command::new(python);
    program
        .arg(dir.join("interop.py"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("WORKOS_BASE_URL")
        .env_remove("WORKOS_ISSUER");
    drive("Python workos SDK", program).await;
}

#[tokio::test]
async fn the_official_node_sdk_logs_in_refreshes_and_sees_reuse_rejected() {
    let dir = interop_dir("node");
    let mut missing = Vec::new();
    let node = which("node");
    if node.is_none() {
        missing.push("node".to_owned());
    }
    if !dir.join("node_modules/@workos-inc/node").is_dir() {
        missing.push("tests/interop/node/node_modules (npm ci)".to_owned());
    }
    if !peers_present("interop (Node SDK)", &missing) {
        return;
    }
    let mut program = Command::new(node.expect("checked"));
    program.arg("interop.mjs").current_dir(dir);
    drive("Node @workos-inc/node SDK", program).await;
}
