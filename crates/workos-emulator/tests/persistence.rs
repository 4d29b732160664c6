//! The state directory across emulator lifetimes and between live emulators:
//! a refresh token issued by one instance refreshes on the next, the `kid`
//! is stable, logout and reuse detection persist, concurrent instances lose
//! no update, and no raw token is ever written.

mod support;

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::*;
use workos_emulator::{DEMO_USER_ID, ManualClock, RunningEmulator};

async fn spawn_in(dir: &Path) -> (RunningEmulator, ManualClock) {
    let dir = dir.to_owned();
    spawn_with_clock(move |b| b.state_dir(dir)).await
}

async fn kid(emulator: &RunningEmulator) -> Value {
    let jwks: Value = http()
        .get(format!("{}/sso/jwks/{CLIENT}", emulator.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"][0]["kid"].clone()
}

/// The `sid` claim, read without verification (the test only needs the id).
fn sid(access_token: &str) -> String {
    let payload = access_token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["sid"].as_str().unwrap().to_owned()
}

fn token(body: &Value) -> String {
    body["refresh_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_token_issued_before_a_restart_refreshes_after_it_with_the_same_kid() {
    let tmp = tempfile::tempdir().unwrap();
    let (first, clock) = spawn_in(tmp.path()).await;
    let signed_in = sign_in(&first, &clock).await;
    let kid_before = kid(&first).await;
    first.shutdown().await;

    let (second, _) = spawn_in(tmp.path()).await;
    assert_eq!(kid(&second).await, kid_before);
    let refreshed = refresh(&second, &token(&signed_in), json!({})).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    assert_eq!(refreshed.body["user"]["id"], DEMO_USER_ID);
    assert_eq!(
        refreshed.body["organization_id"],
        signed_in["organization_id"]
    );
    let access = refreshed.body["access_token"].as_str().unwrap();
    assert_eq!(
        sid(access),
        sid(signed_in["access_token"].as_str().unwrap())
    );
}

#[tokio::test]
async fn a_logout_persists_across_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let (first, clock) = spawn_in(tmp.path()).await;
    let signed_in = sign_in(&first, &clock).await;
    let session = sid(signed_in["access_token"].as_str().unwrap());
    let logout = http()
        .get(format!(
            "{}/user_management/sessions/logout?session_id={session}",
            first.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::OK);
    first.shutdown().await;

    let (second, _) = spawn_in(tmp.path()).await;
    let r = refresh(&second, &token(&signed_in), json!({})).await;
    assert_eq!(
        (r.status, r.error()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    assert!(!second.end_session(&session).unwrap(), "already ended");
}

/// Fault row 34, across a restart.
#[tokio::test]
async fn reuse_detection_persists_across_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let (first, clock) = spawn_in(tmp.path()).await;
    let t1 = token(&sign_in(&first, &clock).await);
    let rotated = refresh(&first, &t1, json!({})).await;
    assert_eq!(rotated.status, StatusCode::OK);
    let t2 = token(&rotated.body);
    first.shutdown().await;

    let (second, _) = spawn_in(tmp.path()).await;
    let reuse = refresh(&second, &t1, json!({})).await;
    assert_eq!(reuse.error(), "invalid_grant");
    assert_eq!(
        reuse.body["error_description"],
        "Refresh token already exchanged."
    );
    second.shutdown().await;

    // The revocation itself persisted: the newest token is dead too.
    let (third, _) = spawn_in(tmp.path()).await;
    assert_eq!(
        refresh(&third, &t2, json!({})).await.error(),
        "invalid_grant"
    );
}

#[tokio::test]
async fn two_live_emulators_on_one_directory_see_each_others_rotations() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, clock) = spawn_in(tmp.path()).await;
    let (b, _) = spawn_in(tmp.path()).await;
    assert_eq!(kid(&a).await, kid(&b).await);
    let t1 = token(&sign_in(&a, &clock).await);
    assert_eq!(refresh(&b, &t1, json!({})).await.status, StatusCode::OK);
    // `a` re-reads the file inside the lock, so t1 is rotated out there too.
    let reuse = refresh(&a, &t1, json!({})).await;
    assert_eq!(
        reuse.body["error_description"],
        "Refresh token already exchanged."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sign_ins_on_two_emulators_lose_no_session() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, clock_a) = spawn_in(tmp.path()).await;
    let (b, clock_b) = spawn_in(tmp.path()).await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (issuer, clock, refresher) = if i % 2 == 0 {
            (a.clone(), clock_a.clone(), b.clone())
        } else {
            (b.clone(), clock_b.clone(), a.clone())
        };
        tasks.push(tokio::spawn(async move {
            let t = token(&sign_in(&issuer, &clock).await);
            refresh(&refresher, &t, json!({})).await.status
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    let file: Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("sessions.json")).unwrap()).unwrap();
    assert_eq!(file["sessions"].as_array().unwrap().len(), 8);
}

#[tokio::test]
async fn the_state_files_hold_fingerprints_never_tokens() {
    let tmp = tempfile::tempdir().unwrap();
    let (emulator, clock) = spawn_in(tmp.path()).await;
    let signed_in = sign_in(&emulator, &clock).await;
    let refreshed = refresh(&emulator, &token(&signed_in), json!({})).await;
    let text = std::fs::read_to_string(tmp.path().join("sessions.json")).unwrap();
    for secret in [
        token(&signed_in),
        token(&refreshed.body),
        refreshed.body["access_token"].as_str().unwrap().to_owned(),
    ] {
        assert!(
            !text.contains(&secret),
            "a raw token reached the state file"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(tmp.path()), 0o700);
        assert_eq!(mode(&tmp.path().join("sessions.json")), 0o600);
        assert_eq!(mode(&tmp.path().join("signing-key.pem")), 0o600);
    }
}
