//! Runs `crates/cli-auth/examples/tutorial.rs` (the WorkOS tutorial, verbatim) as a
//! real process against the emulator, approving its code as soon as the program prints
//! it.
//!
//! Why a process: the tutorial reads its configuration from environment variables, and
//! setting them inside this test process would need `unsafe` (forbidden workspace
//! wide).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use workos_emulator::{DEMO_USER_EMAIL, Emulator};

#[test]
fn tutorial_example_logs_in_against_the_emulator() {
    let example = env!("CARGO_BIN_EXE_tutorial");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emu = runtime
        .block_on(
            Emulator::builder()
                .interval(Duration::from_secs(1))
                .expires_in(Duration::from_secs(30))
                .spawn(),
        )
        .unwrap();

    let mut child = Command::new(example)
        .env("WORKOS_API_KEY", "sk_test_planted_never_sent")
        .env("WORKOS_CLIENT_ID", "client_01EXAMPLE")
        .env("WORKOS_API_BASE_URL", emu.url())
        // webbrowser honours BROWSER: run `true <url>` instead of opening a browser.
        .env("BROWSER", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || lines.next().expect("a line").expect("utf-8");

    let verification_uri = next();
    assert_eq!(verification_uri, format!("{}/device", emu.url()));
    let user_code = next();
    assert_eq!(user_code.len(), 9, "{user_code}");
    let complete = next();
    assert!(complete.ends_with(&user_code), "{complete}");

    emu.approve(&user_code, DEMO_USER_EMAIL).unwrap();
    let access_token = next();
    assert_eq!(access_token.split('.').count(), 3, "a JWT");

    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let log = emu.request_log();
    assert!(
        log.iter()
            .any(|r| r.path == "/user_management/authenticate" && r.status == 200)
    );
    runtime.block_on(emu.shutdown());
}
