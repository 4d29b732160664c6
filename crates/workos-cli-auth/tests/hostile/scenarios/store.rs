//! After the login: `token`, `status` and `logout` over a credential store that a
//! hostile server fills (threat-model rows 19–24, symlinks, compare-and-clear).
//!
//! Every run uses a private `WORKOS_CLI_AUTH_HOME` and the file backend; the refresh
//! goes to the hostile server, whose URL the login stored.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde_json::{Value, json};

use crate::canary::{self, Allow};
use crate::harness::*;
use crate::server::{AUTHENTICATE, Action, Response, Server};

/// Logs `cli` in against a fresh hostile server whose tokens expire in `exp_in`
/// seconds (negative: already expired, so `token` must refresh). The server's
/// authenticate queue is empty afterwards, ready for the refresh script.
async fn logged_in(cli: &Cli, exp_in: i64) -> Server {
    let server = scripted(json!({}), vec![]).await;
    let body = tokens_with(canary::ACCESS_SIGNATURE, canary::REFRESH_TOKEN, exp_in);
    server.on(AUTHENTICATE, [Response::json(200, body).into()]);
    let out = cli.login(&server, &[]).await;
    out.assert_code(0);
    assert_eq!(cli.stored_profiles(), vec!["default.json".to_owned()]);
    server
}

fn rotated() -> Action {
    Response::json(
        200,
        tokens_with(canary::ACCESS_SIGNATURE_2, canary::REFRESH_TOKEN_2, 3600),
    )
    .into()
}

fn profile_text(cli: &Cli) -> String {
    std::fs::read_to_string(cli.profile_file("default")).expect("the profile file")
}

fn refreshes(server: &Server) -> Vec<crate::server::Request> {
    server
        .requests_to(AUTHENTICATE)
        .into_iter()
        .filter(|r| r.json()["grant_type"] == "refresh_token")
        .collect()
}

// --- Rows 19–21: refresh -----------------------------------------------------------

#[tokio::test]
async fn row19_a_rotated_refresh_token_replaces_the_old_one_before_the_token_is_printed() {
    let cli = Cli::new();
    let server = logged_in(&cli, -60).await;
    assert!(profile_text(&cli).contains(canary::REFRESH_TOKEN));
    server.on(AUTHENTICATE, [rotated()]);
    let out = cli
        .run_allowing(Allow::AccessTokenOnStdout, &["token"])
        .await;
    out.assert_code(0);
    assert!(
        out.stdout.trim().ends_with(canary::ACCESS_SIGNATURE_2),
        "{}",
        out.stdout
    );
    assert_eq!(out.stdout.lines().count(), 1, "token prints only the token");
    let sent = refreshes(&server);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].json()["refresh_token"], canary::REFRESH_TOKEN);
    assert_eq!(sent[0].json()["client_id"], CLIENT_ID);
    let stored = profile_text(&cli);
    assert!(stored.contains(canary::REFRESH_TOKEN_2));
    assert!(
        !stored.contains(canary::REFRESH_TOKEN),
        "the old refresh token was kept"
    );
    // The fresh token is now served from disk, without another refresh.
    let again = cli
        .run_allowing(Allow::AccessTokenOnStdout, &["token"])
        .await;
    again.assert_code(0);
    assert_eq!(again.stdout, out.stdout);
    assert_eq!(refreshes(&server).len(), 1);
}

#[tokio::test]
async fn row20_thirty_two_concurrent_token_calls_refresh_once_and_nobody_is_logged_out() {
    let cli = Cli::new();
    let server = logged_in(&cli, -60).await;
    // One slow success; any second refresh with the old token would be a reuse, which
    // a real server punishes by ending the session.
    server.on(
        AUTHENTICATE,
        [match rotated() {
            Action::Respond(r) => r.delay(Duration::from_millis(500)).into(),
            other => other,
        }],
    );
    server.then_always(
        AUTHENTICATE,
        oauth_error(400, "invalid_grant", "Refresh token already exchanged."),
    );
    let runs = (0..32).map(|_| cli.run_allowing(Allow::AccessTokenOnStdout, &["token"]));
    let outs = futures_join(runs).await;
    for out in &outs {
        out.assert_code(0);
        assert!(
            out.stdout.trim().ends_with(canary::ACCESS_SIGNATURE_2),
            "{}",
            out.stdout
        );
    }
    assert_eq!(
        refreshes(&server).len(),
        1,
        "more than one refresh reached the server"
    );
    assert!(profile_text(&cli).contains(canary::REFRESH_TOKEN_2));
}

#[tokio::test]
async fn row21_a_failed_refresh_keeps_the_credentials_and_reports_the_error() {
    let failures = [
        Response::json(503, json!({"message": "down for maintenance"})).into(),
        Response::text(500, "text/html", "<h1>HTML-MARKER</h1>").into(),
        Action::Drop,
    ];
    for failure in failures {
        let cli = Cli::new();
        let server = logged_in(&cli, -60).await;
        let before = profile_text(&cli);
        server.on(AUTHENTICATE, [failure.clone()]);
        let out = cli.run(&["token"]).await;
        assert_eq!(out.code, Some(1), "{failure:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{failure:?}: printed {}", out.stdout);
        out.assert_stderr_lacks("HTML-MARKER");
        assert!(
            !out.error_line().is_empty(),
            "{failure:?}: no error reported"
        );
        assert_eq!(
            profile_text(&cli),
            before,
            "{failure:?}: credentials changed"
        );
        assert_eq!(
            refreshes(&server).len(),
            1,
            "{failure:?}: retried in a loop"
        );
    }
}

#[tokio::test]
async fn row22_killing_token_mid_refresh_leaves_the_old_credentials_intact() {
    // The library's crash test (cli-auth/tests/store_crash.rs) kills a writer inside
    // the write itself; here the binary dies while the refresh is in flight.
    let cli = Cli::new();
    let server = logged_in(&cli, -60).await;
    let before = profile_text(&cli);
    server.on(AUTHENTICATE, [Action::Hang]);
    let mut child = cli.command(&["token"]).spawn().unwrap();
    server.wait_for(AUTHENTICATE, 2).await;
    child.start_kill().unwrap();
    let _ = child.wait().await;
    assert_eq!(profile_text(&cli), before);
    let status = cli.run(&["status", "--json"]).await;
    status.assert_code(0);
}

#[tokio::test]
async fn invalid_grant_on_refresh_clears_the_credential_that_failed_and_asks_for_login() {
    let cli = Cli::new();
    let server = logged_in(&cli, -60).await;
    server.on(
        AUTHENTICATE,
        [oauth_error(
            400,
            "invalid_grant",
            "Session has ended \u{1b}[2J",
        )],
    );
    let out = cli.run(&["token"]).await;
    out.assert_code(4).assert_stderr_has("login");
    assert!(out.stdout.is_empty());
    assert!(
        cli.stored_profiles().is_empty(),
        "the dead credential was kept"
    );
    let again = cli.run(&["token"]).await;
    again.assert_code(4);
    assert_eq!(
        refreshes(&server).len(),
        1,
        "a second refresh was attempted"
    );
}

#[test]
fn compare_and_clear_keeps_a_credential_rotated_by_another_process() {
    use cli_auth::SecretString;
    use cli_auth::store::{CredentialStore, StoreKind, StoredCredential};
    let home = tempfile::tempdir().unwrap();
    let store = CredentialStore::open(home.path().to_owned(), StoreKind::File);
    let cred = StoredCredential {
        profile: "default".into(),
        client_id: CLIENT_ID.into(),
        api_base_url: "https://api.workos.com".into(),
        user_id: "user_01".into(),
        email: None,
        organization_id: None,
        session_id: None,
        access_token: None,
        access_token_expires_at: None,
        refresh_token: canary::REFRESH_TOKEN_2.into(),
        store: StoreKind::File,
        saved_at: 0,
    };
    store.save(&cred).unwrap();
    // Our refresh with the old token failed, but someone already stored a new one.
    let failed = SecretString::from(canary::REFRESH_TOKEN);
    assert!(!store.compare_and_clear("default", &failed).unwrap());
    assert!(store.load("default").unwrap().is_some());
    let current = SecretString::from(canary::REFRESH_TOKEN_2);
    assert!(store.compare_and_clear("default", &current).unwrap());
    assert!(store.load("default").unwrap().is_none());
    canary::assert_clean("StoredCredential Debug", &format!("{cred:?}"));
}

// --- Rows 23–24: how the file is created ----------------------------------------------

fn mode(path: &std::path::Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn row23_under_umask_000_the_file_is_0600_and_the_directories_0700() {
    let cli = Cli::new();
    let server = scripted(json!({}), vec![]).await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let url = server.url();
    let mut cmd = cli.wrapped(
        "sh",
        &["-c", "umask 000 && exec \"$0\" \"$@\""],
        &[
            "login",
            "--client-id",
            CLIENT_ID,
            "--api-base-url",
            &url,
            "--no-browser",
        ],
    );
    let out = cli.finish(cmd.spawn().unwrap()).await;
    out.assert_code(0);
    assert_eq!(mode(cli.home()), 0o700);
    assert_eq!(mode(&cli.home().join("profiles")), 0o700);
    assert_eq!(mode(&cli.profile_file("default")), 0o600);
}

#[tokio::test]
async fn row24_without_a_secret_service_auto_falls_back_to_an_announced_0600_file() {
    let cli = Cli::new().env("WORKOS_CLI_AUTH_STORE", "auto").env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/workos-cli-auth-bus",
    );
    let server = scripted(json!({}), vec![]).await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let out = cli.login(&server, &[]).await;
    out.assert_code(0).assert_stderr_has("plain text");
    assert_eq!(mode(&cli.profile_file("default")), 0o600);
    assert!(profile_text(&cli).contains(canary::REFRESH_TOKEN));
}

// --- Refusing a tampered store -------------------------------------------------------

#[tokio::test]
async fn a_symlinked_credential_file_is_refused() {
    let cli = Cli::new();
    logged_in(&cli, 3600).await;
    let file = cli.profile_file("default");
    let elsewhere = cli.home().join("elsewhere.json");
    std::fs::rename(&file, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &file).unwrap();
    let out = cli.run(&["token"]).await;
    assert_ne!(out.code, Some(0));
    assert!(out.stdout.is_empty(), "printed a token from a symlink");
    out.assert_stderr_has("symbolic link");
}

#[tokio::test]
async fn a_group_readable_credential_file_is_refused() {
    let cli = Cli::new();
    logged_in(&cli, 3600).await;
    let file = cli.profile_file("default");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = cli.run(&["token"]).await;
    assert_ne!(out.code, Some(0));
    assert!(out.stdout.is_empty());
    out.assert_stderr_has("chmod 600");
}

#[tokio::test]
async fn a_truncated_credential_file_is_reported_without_its_contents() {
    let cli = Cli::new();
    logged_in(&cli, 3600).await;
    let file = cli.profile_file("default");
    let text = profile_text(&cli);
    std::fs::write(&file, &text[..text.len() / 2]).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = cli.run(&["token"]).await;
    assert_ne!(out.code, Some(0));
    assert!(out.stdout.is_empty());
}

// --- token / status / logout --------------------------------------------------------

#[tokio::test]
async fn token_without_a_login_exits_4_with_nothing_on_stdout() {
    let out = Cli::new().run(&["token"]).await;
    out.assert_code(4)
        .assert_stderr_has("workos-cli-auth login");
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn a_fresh_token_is_printed_from_disk_without_the_network() {
    let cli = Cli::new();
    let server = logged_in(&cli, 3600).await;
    let before = server.requests().len();
    let out = cli
        .run_allowing(Allow::AccessTokenOnStdout, &["token"])
        .await;
    out.assert_code(0);
    assert!(out.stdout.trim().ends_with(canary::ACCESS_SIGNATURE));
    assert_eq!(server.requests().len(), before);
}

#[tokio::test]
async fn status_json_is_valid_and_carries_no_token() {
    let cli = Cli::new();
    logged_in(&cli, 3600).await;
    let out = cli.run(&["status", "--json"]).await;
    out.assert_code(0);
    let doc: Value = serde_json::from_str(&out.stdout).expect("status --json is JSON");
    assert!(doc.to_string().contains("hostile@example.com"), "{doc}");
}

#[tokio::test]
async fn status_without_a_login_exits_non_zero() {
    let out = Cli::new().run(&["status"]).await;
    assert_ne!(out.code, Some(0));
    assert!(!out.stdout.contains("Logged in"));
}

#[tokio::test]
async fn status_escapes_hostile_stored_strings() {
    let cli = Cli::new();
    let server = scripted(json!({}), vec![]).await;
    let mut body = tokens();
    body["user"]["email"] = json!("evil\u{1b}[2J\u{1b}]52;c;eA==\u{7}@example.com");
    body["organization_id"] = json!("org\u{202e}");
    server.then_always(AUTHENTICATE, Response::json(200, body));
    cli.login(&server, &[]).await.assert_code(0);
    // The harness fails the run on any raw escape, bidi or C1 character on stdout.
    let out = cli.run(&["status"]).await;
    out.assert_code(0);
    assert!(out.stdout.contains(r"evil\u{1b}[2J"), "{}", out.stdout);
}

#[tokio::test]
async fn logout_removes_the_credential_and_encodes_a_hostile_session_id() {
    let cli = Cli::new();
    let server = scripted(json!({}), vec![]).await;
    let sid = "sess\u{1b}[2J&return_to=https://evil.example/";
    let mut body = tokens();
    body["access_token"] = json!(canary::access_token_for_session(
        canary::ACCESS_SIGNATURE,
        3600,
        sid
    ));
    server.then_always(AUTHENTICATE, Response::json(200, body));
    cli.login(&server, &[]).await.assert_code(0);
    let out = cli.run(&["logout", "--no-browser"]).await;
    out.assert_code(0)
        .assert_stderr_has("user_management/sessions/logout?session_id=sess%1B%5B2J%26return_to%3D")
        .assert_stderr_lacks("&return_to=");
    assert!(cli.stored_profiles().is_empty());
    let token = cli.run(&["token"]).await;
    token.assert_code(4);
}

// --- helpers ---------------------------------------------------------------------------

async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    // Poll them all concurrently on this task (the futures borrow `cli`).
    let mut pinned: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, out) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *out = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(|o| o.expect("finished")).collect()
}
