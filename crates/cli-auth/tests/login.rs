//! End to end against the real emulator on 127.0.0.1:0, with a 1 s polling interval:
//! authorize → approve (programmatically, once the first poll was answered pending) →
//! poll → tokens → refresh, plus the deny path.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cli_auth::{Client, Error, PollEvent, PollOptions};
use workos_emulator::{DEMO_USER_EMAIL, Emulator, RunningEmulator};

async fn emulator() -> RunningEmulator {
    Emulator::builder()
        .interval(Duration::from_secs(1))
        .spawn()
        .await
        .expect("the emulator starts")
}

fn client(emu: &RunningEmulator) -> Client {
    Client::builder()
        .client_id("client_01EXAMPLE")
        .base_url(emu.url())
        .try_build()
        .expect("a loopback base url is accepted")
}

/// Polls in a task and calls `act(user_code)` once the server first said pending.
async fn login_with(
    emu: &RunningEmulator,
    act: impl FnOnce(&RunningEmulator, &str),
) -> (
    Result<cli_auth::AuthenticationResponse, Error>,
    Vec<PollEvent>,
) {
    let client = client(emu);
    let data = client.user_management().authorize_device().await.unwrap();
    assert_eq!(data.interval, 1);
    assert!(data.verification_uri.starts_with(emu.url()));
    assert!(
        data.verification_uri_complete
            .contains(data.user_code.as_str())
    );

    let events = Arc::new(Mutex::new(Vec::new()));
    let (pending_tx, mut pending_rx) = tokio::sync::mpsc::unbounded_channel();
    let sink = events.clone();
    let options = PollOptions::new().on_event(move |e| {
        if *e == PollEvent::Pending {
            let _ = pending_tx.send(());
        }
        sink.lock().unwrap().push(e.clone());
    });
    let device_code = data.device_code.clone();
    let (expires_in, interval) = (data.expires_in, data.interval);
    let poller = tokio::spawn(async move {
        client
            .user_management()
            .poll_device_code(&device_code, expires_in, interval, &options)
            .await
    });
    pending_rx
        .recv()
        .await
        .expect("the first poll is answered pending");
    act(emu, data.user_code.as_str());
    let result = poller.await.unwrap();
    let events = events.lock().unwrap().clone();
    (result, events)
}

#[tokio::test]
async fn full_login_then_refresh() {
    let emu = emulator().await;
    let (result, events) = login_with(&emu, |emu, code| {
        emu.approve(code, DEMO_USER_EMAIL).unwrap();
    })
    .await;
    let tokens = result.unwrap();
    assert_eq!(tokens.user.email, DEMO_USER_EMAIL);
    assert!(!tokens.access_token.is_empty() && !tokens.refresh_token.is_empty());
    assert!(events.contains(&PollEvent::Approved));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, PollEvent::SlowDown { .. })),
        "an honest client is never told to slow down: {events:?}"
    );
    let shown = format!("{tokens:?} {events:?}");
    assert!(!shown.contains(tokens.access_token.expose()));
    assert!(!shown.contains(tokens.refresh_token.expose()));

    // Refresh rotates both tokens; the old refresh token is then dead.
    let um = client(&emu);
    let um = um.user_management();
    let refreshed = um
        .authenticate_with_refresh_token(&tokens.refresh_token, None)
        .await
        .unwrap();
    assert_eq!(refreshed.user.id, tokens.user.id);
    assert!(!refreshed.refresh_token.ct_eq(&tokens.refresh_token));
    let reuse = um
        .authenticate_with_refresh_token(&tokens.refresh_token, None)
        .await
        .unwrap_err();
    assert!(matches!(reuse, Error::InvalidGrant { .. }), "{reuse}");

    // The device code is single use (wire notes §2).
    emu.shutdown().await;
}

#[tokio::test]
async fn polls_are_spaced_by_the_interval() {
    let emu = emulator().await;
    let (result, _) = login_with(&emu, |emu, code| {
        emu.approve(code, DEMO_USER_EMAIL).unwrap();
    })
    .await;
    result.unwrap();
    let log = emu.request_log();
    let authorize = log
        .iter()
        .find(|r| r.path == "/user_management/authorize/device")
        .unwrap();
    let polls: Vec<_> = log
        .iter()
        .filter(|r| r.path == "/user_management/authenticate")
        .collect();
    assert!(polls.len() >= 2, "{log:?}");
    // The first poll comes a full interval after the start, and each later one too.
    assert!(polls[0].at.duration_since(authorize.at) >= Duration::from_millis(950));
    for pair in polls.windows(2) {
        assert!(pair[1].at.duration_since(pair[0].at) >= Duration::from_millis(950));
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn denied_login_stops_with_access_denied() {
    let emu = emulator().await;
    let (result, _) = login_with(&emu, |emu, code| emu.deny(code).unwrap()).await;
    let err = result.unwrap_err();
    assert!(err.is_denied(), "{err}");
    let polls_after = emu
        .request_log()
        .iter()
        .filter(|r| r.path == "/user_management/authenticate")
        .count();
    assert_eq!(polls_after, 2, "pending, then access_denied, then nothing");
    emu.shutdown().await;
}

#[tokio::test]
async fn unknown_client_is_refused_at_start() {
    let emu = Emulator::builder()
        .config(workos_emulator::EmulatorConfig {
            clients: vec!["client_other".into()],
            ..Default::default()
        })
        .spawn()
        .await
        .unwrap();
    let err = client(&emu)
        .user_management()
        .authorize_device()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::OAuth { code, status: 400, .. } if code == "invalid_client"),
        "{err}"
    );
    emu.shutdown().await;
}
