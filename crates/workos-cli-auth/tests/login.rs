//! End-to-end tests of the real binary: a login approved through the verification
//! page's HTML forms over real HTTP, then `token`, `status`, `logout` on the saved
//! credentials, against the embedded emulator and against an emulator run by the test.

mod common;

use std::time::Duration;

use common::{Login, PageBrowser, cli, looks_like_jwt, run};
use serde_json::Value;
use workos_emulator::{Emulator, RunningEmulator};

const DEMO: &str = "demo@example.com";

#[tokio::test]
async fn embedded_login_through_the_page_then_token_status_and_logout() {
    let home = tempfile::tempdir().unwrap();
    let mut login = Login::spawn({
        let mut c = cli(home.path());
        c.args(["login", "--no-browser"]);
        c
    });
    let (base, code) = login.prompt().await;
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let done = PageBrowser::new(&base).decide(&code, DEMO, "approve").await;
    assert!(done.contains("return to your terminal"), "{done}");
    let fin = login.finish().await;
    assert_eq!(fin.code, Some(0), "{}", fin.stderr);
    assert!(
        fin.stderr.contains("built-in offline emulator"),
        "{}",
        fin.stderr
    );
    assert!(
        fin.stderr.contains(&format!("Logged in as {DEMO}")),
        "{}",
        fin.stderr
    );
    assert!(
        fin.stderr.contains("Saved in profile `local`"),
        "{}",
        fin.stderr
    );
    assert!(
        fin.stdout.is_empty(),
        "human output goes to stderr: {}",
        fin.stdout
    );

    let token = run(with_args(cli(home.path()), &["token"])).await;
    assert_eq!(token.code, Some(0), "{}", token.stderr);
    assert_eq!(token.stdout.lines().count(), 1);
    assert!(looks_like_jwt(&token.stdout), "{}", token.stdout);
    assert!(token.stderr.is_empty(), "{}", token.stderr);

    let status = run(with_args(cli(home.path()), &["status", "--json"])).await;
    assert_eq!(status.code, Some(0), "{}", status.stderr);
    let doc: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(doc["default_profile"], "local");
    assert_eq!(doc["profiles"][0]["profile"], "local");
    assert_eq!(doc["profiles"][0]["user"]["email"], DEMO);
    assert_eq!(doc["profiles"][0]["emulator"], true);
    assert_eq!(doc["profiles"][0]["access_token_valid"], true);
    assert!(
        !status.stdout.contains(token.stdout.trim()),
        "status never prints a token"
    );

    let logout = run(with_args(cli(home.path()), &["logout"])).await;
    assert_eq!(logout.code, Some(0), "{}", logout.stderr);
    assert!(
        logout
            .stderr
            .contains("Removed the credentials of profile `local`"),
        "{}",
        logout.stderr
    );
    assert!(
        logout.stderr.contains("Ended the session"),
        "{}",
        logout.stderr
    );

    let after = run(with_args(cli(home.path()), &["token"])).await;
    assert_eq!(after.code, Some(4), "{}", after.stderr);
    assert!(after.stdout.is_empty());
    assert!(
        after.stderr.contains("workos-cli-auth login"),
        "{}",
        after.stderr
    );
    let status = run(with_args(cli(home.path()), &["status"])).await;
    assert_eq!(status.code, Some(4), "{}", status.stderr);
}

#[tokio::test]
async fn denied_in_the_browser_exits_2_and_saves_nothing() {
    let home = tempfile::tempdir().unwrap();
    let mut login = Login::spawn(with_args(cli(home.path()), &["login", "--no-browser"]));
    let (base, code) = login.prompt().await;
    let done = PageBrowser::new(&base).decide(&code, DEMO, "deny").await;
    assert!(done.contains("denied"), "{done}");
    let fin = login.finish().await;
    assert_eq!(fin.code, Some(2), "{}", fin.stderr);
    assert!(fin.stderr.contains("denied"), "{}", fin.stderr);
    let status = run(with_args(cli(home.path()), &["status"])).await;
    assert_eq!(status.code, Some(4));
}

#[tokio::test]
async fn json_output_has_no_tokens_unless_asked() {
    let emulator = emulator().await;
    for show in [false, true] {
        let home = tempfile::tempdir().unwrap();
        let mut args = vec!["login", "--no-browser", "--json"];
        if show {
            args.push("--show-tokens");
        }
        let fin = approve_login(&emulator, against(cli(home.path()), &emulator, &args)).await;
        assert_eq!(fin.code, Some(0), "{}", fin.stderr);
        let doc: Value =
            serde_json::from_str(fin.stdout.trim()).expect("stdout is one JSON document");
        assert_eq!(doc["status"], "logged_in");
        assert_eq!(doc["user"]["email"], DEMO);
        assert_eq!(doc["profile"], "default");
        assert_eq!(doc["access_token"].is_string(), show, "{doc}");
        assert_eq!(doc["refresh_token"].is_string(), show, "{doc}");
    }
}

#[tokio::test]
async fn expired_local_token_is_refreshed_by_bringing_the_embedded_emulator_back() {
    let home = tempfile::tempdir().unwrap();
    let mut login = Login::spawn(with_args(cli(home.path()), &["login", "--no-browser"]));
    let (base, code) = login.prompt().await;
    PageBrowser::new(&base).decide(&code, DEMO, "approve").await;
    assert_eq!(login.finish().await.code, Some(0));
    let first = run(with_args(cli(home.path()), &["token"])).await.stdout;

    expire_access_token(home.path(), "local");
    let second = run(with_args(cli(home.path()), &["token"])).await;
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert!(looks_like_jwt(&second.stdout));
    assert_ne!(
        first.trim(),
        second.stdout.trim(),
        "a new access token was minted"
    );

    let check = run(with_args(
        cli(home.path()),
        &["status", "--check", "--json"],
    ))
    .await;
    assert_eq!(check.code, Some(0), "{}", check.stderr);
    let doc: Value = serde_json::from_str(&check.stdout).unwrap();
    assert_eq!(doc["profiles"][0]["check"]["ok"], true, "{doc}");
}

#[tokio::test]
async fn thirty_two_processes_share_one_refresh() {
    let emulator = emulator().await;
    let home = tempfile::tempdir().unwrap();
    let fin = approve_login(
        &emulator,
        against(cli(home.path()), &emulator, &["login", "--no-browser"]),
    )
    .await;
    assert_eq!(fin.code, Some(0), "{}", fin.stderr);
    expire_access_token(home.path(), "default");
    let refreshes_before = refresh_count(&emulator);

    let mut tasks = Vec::new();
    for _ in 0..32 {
        tasks.push(tokio::spawn(run(with_args(cli(home.path()), &["token"]))));
    }
    let mut tokens = Vec::new();
    for task in tasks {
        let out = task.await.unwrap();
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        tokens.push(out.stdout.trim().to_owned());
    }
    assert_eq!(
        refresh_count(&emulator) - refreshes_before,
        1,
        "exactly one refresh reached the server"
    );
    let verifier = jwks_key(&emulator).await;
    for token in &tokens {
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.validate_aud = false;
        jsonwebtoken::decode::<Value>(token, &verifier, &validation)
            .expect("token verifies against the JWKS");
    }
    assert!(
        tokens.windows(2).all(|w| w[0] == w[1]),
        "everyone got the one refreshed token"
    );

    // The store is intact: still logged in, and the next refresh works too.
    expire_access_token(home.path(), "default");
    let again = run(with_args(cli(home.path()), &["token"])).await;
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert_eq!(refresh_count(&emulator) - refreshes_before, 2);
}

#[tokio::test]
async fn login_refuses_to_replace_another_users_credential_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("emulator.toml");
    std::fs::write(
        &config,
        "interval = 1\n[[users]]\nemail = \"demo@example.com\"\n[[users]]\nemail = \"ada@example.com\"\n",
    )
    .unwrap();
    let emulator = Emulator::builder()
        .config(workos_emulator::EmulatorConfig::from_toml_file(&config).unwrap())
        .spawn()
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let fin = approve_login(
        &emulator,
        against(cli(home.path()), &emulator, &["login", "--no-browser"]),
    )
    .await;
    assert_eq!(fin.code, Some(0), "{}", fin.stderr);

    let other = approve_as(
        &emulator,
        "ada@example.com",
        against(cli(home.path()), &emulator, &["login", "--no-browser"]),
    )
    .await;
    assert_eq!(other.code, Some(1), "{}", other.stderr);
    assert!(
        other.stderr.contains("holds the login of demo@example.com"),
        "{}",
        other.stderr
    );
    let status = run(with_args(cli(home.path()), &["status", "--json"])).await;
    assert!(status.stdout.contains("demo@example.com") && !status.stdout.contains("ada@"));

    let forced = approve_as(
        &emulator,
        "ada@example.com",
        against(
            cli(home.path()),
            &emulator,
            &["login", "--no-browser", "--force"],
        ),
    )
    .await;
    assert_eq!(forced.code, Some(0), "{}", forced.stderr);
    let status = run(with_args(cli(home.path()), &["status", "--json"])).await;
    assert!(
        status.stdout.contains("ada@example.com"),
        "{}",
        status.stdout
    );
}

#[tokio::test]
async fn env_token_overrides_the_store_and_is_reported() {
    let home = tempfile::tempdir().unwrap();
    let mut token = cli(home.path());
    token
        .arg("token")
        .env("WORKOS_CLI_AUTH_TOKEN", "env-token-value");
    let out = run(token).await;
    assert_eq!(out.code, Some(0));
    assert_eq!(out.stdout, "env-token-value\n");

    let mut status = cli(home.path());
    status
        .args(["status", "--json"])
        .env("WORKOS_CLI_AUTH_TOKEN", "env-token-value");
    let out = run(status).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["env_override"], true);
    assert!(!out.stdout.contains("env-token-value"));

    let mut logout = cli(home.path());
    logout
        .args(["logout", "--all"])
        .env("WORKOS_CLI_AUTH_TOKEN", "env-token-value");
    let out = run(logout).await;
    assert!(
        out.stderr.contains("WORKOS_CLI_AUTH_TOKEN is set"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn profiles_lists_and_switches_the_default() {
    let emulator = emulator().await;
    let home = tempfile::tempdir().unwrap();
    for profile in ["staging", "prod"] {
        let fin = approve_login(
            &emulator,
            against(
                cli(home.path()),
                &emulator,
                &["login", "--no-browser", "--profile", profile],
            ),
        )
        .await;
        assert_eq!(fin.code, Some(0), "{}", fin.stderr);
    }
    let list = run(with_args(cli(home.path()), &["profiles", "list", "--json"])).await;
    let doc: Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(
        doc["default_profile"], "staging",
        "the first login became the default"
    );
    assert_eq!(doc["profiles"].as_array().unwrap().len(), 2);

    let switch = run(with_args(cli(home.path()), &["profiles", "use", "prod"])).await;
    assert_eq!(switch.code, Some(0), "{}", switch.stderr);
    let list = run(with_args(cli(home.path()), &["profiles"])).await;
    assert!(
        list.stdout.lines().any(|l| l.starts_with("* prod")),
        "{}",
        list.stdout
    );
    let bad = run(with_args(cli(home.path()), &["profiles", "use", "../etc"])).await;
    assert_eq!(bad.code, Some(1));
    assert!(bad.stderr.contains("../etc"), "{}", bad.stderr);
}

// ---- helpers ----

fn with_args(mut cmd: tokio::process::Command, args: &[&str]) -> tokio::process::Command {
    cmd.args(args);
    cmd
}

fn against(
    cmd: tokio::process::Command,
    emulator: &RunningEmulator,
    args: &[&str],
) -> tokio::process::Command {
    let mut cmd = with_args(cmd, args);
    cmd.env("WORKOS_CLIENT_ID", "client_test")
        .env("WORKOS_API_BASE_URL", emulator.url());
    cmd
}

async fn emulator() -> RunningEmulator {
    Emulator::builder()
        .interval(Duration::from_secs(1))
        .spawn()
        .await
        .unwrap()
}

async fn approve_login(
    emulator: &RunningEmulator,
    cmd: tokio::process::Command,
) -> common::Finished {
    approve_as(emulator, DEMO, cmd).await
}

async fn approve_as(
    emulator: &RunningEmulator,
    email: &str,
    cmd: tokio::process::Command,
) -> common::Finished {
    let mut login = Login::spawn(cmd);
    let (_, code) = login.prompt().await;
    emulator.approve(&code, email).unwrap();
    login.finish().await
}

fn refresh_count(emulator: &RunningEmulator) -> usize {
    emulator
        .request_log()
        .iter()
        .filter(|r| r.grant_type.as_deref() == Some("refresh_token"))
        .count()
}

async fn jwks_key(emulator: &RunningEmulator) -> jsonwebtoken::DecodingKey {
    let jwks: Value = reqwest::get(format!("{}/sso/jwks/client_test", emulator.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    jsonwebtoken::DecodingKey::from_rsa_components(
        key["n"].as_str().unwrap(),
        key["e"].as_str().unwrap(),
    )
    .unwrap()
}

/// Marks the stored access token as expired, as if its lifetime had passed.
fn expire_access_token(home: &std::path::Path, profile: &str) {
    let path = home.join("profiles").join(format!("{profile}.json"));
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    doc["access_token_expires_at"] = Value::from(1u64);
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
}
