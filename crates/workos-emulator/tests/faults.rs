//! Fault injection: queued per endpoint, consumed one per request, through
//! `RunningEmulator::inject`, the builder, the config file and the
//! loopback-only admin endpoint. Faults never touch the grant, so a client
//! that survives them still signs in. Time is a `ManualClock` (or tokio's
//! paused clock for delays): nothing here really waits.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use reqwest::StatusCode;
use serde_json::json;
use support::*;
use tower::ServiceExt as _;
use workos_emulator::{
    AppState, DEMO_USER_EMAIL, EmulatorConfig, Fault, FaultAction, FaultEndpoint, app,
};

#[tokio::test]
async fn a_500_storm_then_the_normal_answers_and_the_grant_is_untouched() {
    let (emulator, clock) = spawn_with_clock(|b| b).await;
    let start = start(&emulator).await;
    let device_code = start["device_code"].as_str().unwrap();
    emulator
        .inject("authenticate:500x2".parse().unwrap())
        .unwrap();
    for _ in 0..2 {
        clock.advance(Duration::from_secs(5));
        let r = poll(&emulator, device_code).await;
        assert_eq!(
            (r.status, r.error()),
            (StatusCode::INTERNAL_SERVER_ERROR, "server_error")
        );
        assert_eq!(r.headers["cache-control"], "no-store");
    }
    assert!(emulator.faults().is_empty());
    emulator
        .approve(start["user_code"].as_str().unwrap(), DEMO_USER_EMAIL)
        .unwrap();
    clock.advance(Duration::from_secs(5));
    assert_eq!(poll(&emulator, device_code).await.status, StatusCode::OK);
}

#[tokio::test]
async fn slow_down_storms_and_429_with_retry_after() {
    let (emulator, clock) = spawn_with_clock(|b| {
        b.fault("authenticate:slow_down x3".parse().unwrap())
            .fault("authenticate:429:retry-after=3".parse().unwrap())
    })
    .await;
    let start = start(&emulator).await;
    let device_code = start["device_code"].as_str().unwrap();
    for _ in 0..3 {
        clock.advance(Duration::from_secs(5));
        let r = poll(&emulator, device_code).await;
        assert_eq!(
            (r.status, r.error()),
            (StatusCode::BAD_REQUEST, "slow_down")
        );
    }
    clock.advance(Duration::from_secs(5));
    let limited = poll(&emulator, device_code).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers["retry-after"], "3");
    assert_eq!(limited.body["code"], "rate_limit_exceeded");
    clock.advance(Duration::from_secs(5));
    // The queue is empty and the grant never saw the faults.
    assert_eq!(
        poll(&emulator, device_code).await.error(),
        "authorization_pending"
    );
    let logged: Vec<u16> = emulator
        .request_log()
        .iter()
        .filter(|r| r.path == "/user_management/authenticate")
        .map(|r| r.status)
        .collect();
    assert_eq!(logged, [400, 400, 400, 429, 400]);
}

#[tokio::test]
async fn faults_target_only_their_endpoint_and_both_doors() {
    let (emulator, _clock) = spawn_with_clock(|b| b).await;
    emulator
        .inject(
            Fault::new(
                FaultEndpoint::Authorize,
                FaultAction::Status {
                    status: 503,
                    retry_after: Some(Duration::from_secs(7)),
                },
            )
            .times(2),
        )
        .unwrap();
    let jwks = http()
        .get(format!("{}/oauth2/jwks", emulator.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.status(), StatusCode::OK);
    let workos = post_form(
        &emulator,
        "/user_management/authorize/device",
        &[("client_id", CLIENT)],
    )
    .await;
    let standard = post_form(
        &emulator,
        "/oauth2/device_authorization",
        &[("client_id", CLIENT)],
    )
    .await;
    for r in [&workos, &standard] {
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers["retry-after"], "7");
    }
    start(&emulator).await;
    emulator.inject("jwks:500".parse().unwrap()).unwrap();
    emulator.clear_faults();
    assert!(emulator.faults().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_delay_holds_the_answer_then_answers_normally() {
    let config = EmulatorConfig {
        faults: vec!["authorize:delay=2s".parse().unwrap()],
        ..EmulatorConfig::default()
    };
    let state = AppState::new(config, "http://127.0.0.1:1").unwrap();
    let request = Request::post("/user_management/authorize/device")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("client_id=c"))
        .unwrap();
    let t0 = tokio::time::Instant::now();
    let response = app(state).oneshot(request).await.unwrap();
    // Paused time: the 2 s pass virtually, exactly.
    assert!(t0.elapsed() >= Duration::from_secs(2));
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_admin_endpoint_is_off_unless_asked_for() {
    let (emulator, _clock) = spawn_with_clock(|b| b).await;
    let r = post_json(
        &emulator,
        "/__emulator/faults",
        json!({"fault": "authenticate:500"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(emulator.faults().is_empty());
}

#[tokio::test]
async fn the_admin_endpoint_queues_lists_and_clears_faults() {
    let (emulator, clock) = spawn_with_clock(|b| b.admin(true)).await;
    let added = post_json(
        &emulator,
        "/__emulator/faults",
        json!({"faults": ["authenticate:500x2", "authenticate:slow_down"]}),
    )
    .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert_eq!(
        added.body["faults"],
        json!(["authenticate:500x2", "authenticate:slow_down"])
    );
    let bad = post_json(
        &emulator,
        "/__emulator/faults",
        json!({"faults": ["authenticate:200", "jwks:500"]}),
    )
    .await;
    assert_eq!(
        (bad.status, bad.error()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    assert_eq!(emulator.faults().len(), 2, "a bad spec queues nothing");

    let start = start(&emulator).await;
    clock.advance(Duration::from_secs(5));
    assert_eq!(
        poll(&emulator, start["device_code"].as_str().unwrap())
            .await
            .status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let cleared = http()
        .delete(format!("{}/__emulator/faults", emulator.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), StatusCode::OK);
    assert!(emulator.faults().is_empty());

    // Approving over HTTP, for SDK tests in other languages.
    let approved = post_json(
        &emulator,
        "/__emulator/approve",
        json!({"user_code": start["user_code"], "email": DEMO_USER_EMAIL}),
    )
    .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    clock.advance(Duration::from_secs(5));
    assert_eq!(
        poll(&emulator, start["device_code"].as_str().unwrap())
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_admin_endpoint_refuses_non_loopback_peers() {
    let config = EmulatorConfig {
        admin: true,
        ..EmulatorConfig::default()
    };
    let state = AppState::new(config, "http://127.0.0.1:1").unwrap();
    let mut request = Request::post("/__emulator/faults")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"fault":"authenticate:500"}"#))
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 7], 40000))));
    let response = app(state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(state.faults().is_empty());
}

#[test]
fn faults_can_come_from_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("emulator.toml");
    std::fs::write(
        &path,
        "faults = [\"authenticate:slow_down x2\"]\nadmin = true\n",
    )
    .unwrap();
    let config = EmulatorConfig::from_toml_file(&path).unwrap();
    assert_eq!(
        config.faults,
        ["authenticate:slow_down x2".parse::<Fault>().unwrap()]
    );
    assert!(config.admin);
    std::fs::write(&path, "faults = [\"authenticate:teapot\"]\n").unwrap();
    let err = EmulatorConfig::from_toml_file(&path).unwrap_err();
    assert!(err.to_string().contains("teapot"), "{err}");
}
