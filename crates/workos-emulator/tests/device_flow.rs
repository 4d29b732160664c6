//! The device authorization and device-code polling endpoints over real
//! sockets, including fault rows 25–29 of the threat model. Time is a
//! `ManualClock`: nothing here sleeps.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use support::*;
use workos_emulator::{DEMO_USER_EMAIL, EmulatorConfig, USER_CODE_ALPHABET};

#[tokio::test]
async fn device_authorization_answers_the_workos_shape_for_json() {
    let (emulator, _clock) = spawn_with_clock(|b| b).await;
    let body = start(&emulator).await;
    let device_code = body["device_code"].as_str().unwrap();
    assert_eq!(device_code.len(), 64);
    assert!(device_code.bytes().all(|c| c.is_ascii_alphanumeric()));
    let user_code = body["user_code"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    assert!(
        user_code
            .chars()
            .filter(|&c| c != '-')
            .all(|c| USER_CODE_ALPHABET.contains(c))
    );
    assert_eq!(
        body["verification_uri"],
        format!("{}/device", emulator.url())
    );
    assert_eq!(
        body["verification_uri_complete"],
        format!("{}/device?user_code={user_code}", emulator.url())
    );
    assert_eq!(body["expires_in"], json!(300));
    assert_eq!(body["interval"], json!(5));
}

#[tokio::test]
async fn device_authorization_accepts_a_form_body_and_ignores_authorization() {
    let (emulator, _clock) = spawn_with_clock(|b| b).await;
    let response = http()
        .post(format!(
            "{}/user_management/authorize/device",
            emulator.url()
        ))
        .header("authorization", "Bearer sk_test_ignored")
        .form(&[("client_id", CLIENT)])
        .send()
        .await
        .unwrap();
    let r = reply(response).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body["device_code"].is_string());
    assert_eq!(r.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn device_authorization_requires_a_client_id_and_checks_the_allow_list() {
    let config = EmulatorConfig {
        clients: vec!["client_allowed".into()],
        ..EmulatorConfig::default()
    };
    let (emulator, _clock) = spawn_with_clock(|b| b.config(config)).await;
    let missing = post_json(
        &emulator,
        "/user_management/authorize/device",
        json!({"client_id": null}),
    )
    .await;
    assert_eq!(
        (missing.status, missing.error()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    let unknown = post_form(
        &emulator,
        "/user_management/authorize/device",
        &[("client_id", "client_other")],
    )
    .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        unknown.body,
        json!({"error": "invalid_client", "error_description": "Unknown client"})
    );
    let ok = post_form(
        &emulator,
        "/user_management/authorize/device",
        &[("client_id", "client_allowed")],
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn flooding_device_authorization_gets_429_with_retry_after() {
    let config = EmulatorConfig {
        max_authorizations_per_minute: 3,
        ..EmulatorConfig::default()
    };
    let (emulator, clock) = spawn_with_clock(|b| b.config(config)).await;
    for _ in 0..3 {
        start(&emulator).await;
    }
    let r = post_json(
        &emulator,
        "/user_management/authorize/device",
        json!({"client_id": CLIENT}),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.body["code"], "rate_limit_exceeded");
    assert!(r.headers.contains_key("retry-after"));
    clock.advance(Duration::from_secs(60));
    start(&emulator).await;
}

/// Fault row 25.
#[tokio::test]
async fn polling_before_the_interval_is_slow_down_then_a_compliant_poll_is_pending() {
    let (emulator, clock) = spawn_with_clock(|b| b).await;
    let device_code = start(&emulator).await["device_code"]
        .as_str()
        .unwrap()
        .to_owned();
    clock.advance(Duration::from_secs(1));
    let early = poll(&emulator, &device_code).await;
    assert_eq!(
        (early.status, early.error()),
        (StatusCode::BAD_REQUEST, "slow_down")
    );
    assert!(early.body.get("interval").is_none());
    // RFC 8628 §3.5: the client now waits 5 + 5 seconds.
    clock.advance(Duration::from_secs(10));
    let later = poll(&emulator, &device_code).await;
    assert_eq!(later.error(), "authorization_pending");
    assert!(
        later.body["error_description"]
            .as_str()
            .unwrap()
            .contains("authorization_pending")
    );
    assert_eq!(later.headers["cache-control"], "no-store");
}

/// Fault row 26.
#[tokio::test]
async fn polling_at_the_interval_plus_or_minus_300ms_is_never_slowed_down() {
    let (emulator, clock) = spawn_with_clock(|b| b).await;
    let device_code = start(&emulator).await["device_code"]
        .as_str()
        .unwrap()
        .to_owned();
    for (i, ms) in [4_700u64, 5_300, 4_700, 4_700, 5_300, 4_700]
        .into_iter()
        .enumerate()
    {
        clock.advance(Duration::from_millis(ms));
        let r = poll(&emulator, &device_code).await;
        assert_eq!(r.error(), "authorization_pending", "poll {i}");
    }
}

/// Fault row 27.
#[tokio::test]
async fn a_poll_after_expiry_is_expired_token_even_if_approved_late() {
    let (emulator, clock) = spawn_with_clock(|b| b.expires_in(Duration::from_secs(10))).await;
    let body = start(&emulator).await;
    clock.advance(Duration::from_secs(9));
    emulator
        .approve(body["user_code"].as_str().unwrap(), DEMO_USER_EMAIL)
        .unwrap();
    clock.advance(Duration::from_secs(1));
    let r = poll(&emulator, body["device_code"].as_str().unwrap()).await;
    assert_eq!(
        (r.status, r.error()),
        (StatusCode::BAD_REQUEST, "expired_token")
    );
    // And an expired code can no longer be approved.
    let again = start(&emulator).await;
    clock.advance(Duration::from_secs(10));
    assert!(
        emulator
            .approve(again["user_code"].as_str().unwrap(), DEMO_USER_EMAIL)
            .is_err()
    );
}

/// Fault row 28.
#[tokio::test]
async fn reusing_a_device_code_after_success_is_invalid_grant() {
    let (emulator, clock) = spawn_with_clock(|b| b).await;
    let body = start(&emulator).await;
    let device_code = body["device_code"].as_str().unwrap();
    emulator
        .approve(body["user_code"].as_str().unwrap(), DEMO_USER_EMAIL)
        .unwrap();
    clock.advance(Duration::from_secs(5));
    assert_eq!(poll(&emulator, device_code).await.status, StatusCode::OK);
    clock.advance(Duration::from_secs(5));
    let replay = poll(&emulator, device_code).await;
    assert_eq!(
        (replay.status, replay.error()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
}

/// Fault row 29.
#[tokio::test]
async fn a_denied_code_answers_access_denied_then_invalid_grant_and_is_never_approvable() {
    let (emulator, clock) = spawn_with_clock(|b| b).await;
    let body = start(&emulator).await;
    let (device_code, user_code) = (
        body["device_code"].as_str().unwrap(),
        body["user_code"].as_str().unwrap(),
    );
    emulator.deny(user_code).unwrap();
    assert!(emulator.approve(user_code, DEMO_USER_EMAIL).is_err());
    clock.advance(Duration::from_secs(5));
    assert_eq!(poll(&emulator, device_code).await.error(), "access_denied");
    clock.advance(Duration::from_secs(5));
    assert_eq!(poll(&emulator, device_code).await.error(), "invalid_grant");
    assert!(emulator.approve(user_code, DEMO_USER_EMAIL).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_racing_polls_at_the_approval_instant_yield_exactly_one_token() {
    let (emulator, clock) = spawn_with_clock(|b| b).await;
    let body = start(&emulator).await;
    let device_code = body["device_code"].as_str().unwrap().to_owned();
    emulator
        .approve(body["user_code"].as_str().unwrap(), DEMO_USER_EMAIL)
        .unwrap();
    clock.advance(Duration::from_secs(5));
    let mut polls = tokio::task::JoinSet::new();
    for _ in 0..8 {
        polls.spawn(poll_at(emulator.url().to_owned(), device_code.clone()));
    }
    let statuses = polls.join_all().await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn polls_accept_form_bodies_and_ignore_unknown_fields() {
    let (emulator, clock) = spawn_with_clock(|b| b).await;
    let device_code = start(&emulator).await["device_code"]
        .as_str()
        .unwrap()
        .to_owned();
    clock.advance(Duration::from_secs(5));
    let r = post_form(
        &emulator,
        "/user_management/authenticate",
        &[
            ("grant_type", DEVICE_GRANT),
            ("device_code", &device_code),
            ("client_id", CLIENT),
            ("surprise", "x"),
        ],
    )
    .await;
    assert_eq!(r.error(), "authorization_pending");
    let json_extra = post_json(
        &emulator,
        "/user_management/authenticate",
        json!({"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": CLIENT, "surprise": {"nested": 1}}),
    )
    .await;
    assert_eq!(json_extra.status, StatusCode::BAD_REQUEST);
    assert_ne!(json_extra.error(), "invalid_request");
}

#[tokio::test]
async fn malformed_polls_get_the_right_oauth_error() {
    let (emulator, _clock) = spawn_with_clock(|b| b).await;
    let path = "/user_management/authenticate";
    let no_code = post_json(
        &emulator,
        path,
        json!({"grant_type": DEVICE_GRANT, "device_code": null, "client_id": CLIENT}),
    )
    .await;
    assert_eq!(no_code.error(), "invalid_request");
    let unknown = post_json(
        &emulator,
        path,
        json!({"grant_type": DEVICE_GRANT, "device_code": "nope", "client_id": CLIENT}),
    )
    .await;
    assert_eq!(unknown.error(), "invalid_grant");
    let device_code = start(&emulator).await["device_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let foreign = post_json(&emulator, path, json!({"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": "client_other"})).await;
    assert_eq!(foreign.error(), "invalid_grant");
    let grant = post_form(
        &emulator,
        path,
        &[("grant_type", "password"), ("client_id", CLIENT)],
    )
    .await;
    assert_eq!(grant.error(), "unsupported_grant_type");
    let garbage = http()
        .post(format!("{}{path}", emulator.url()))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let garbage = reply(garbage).await;
    assert_eq!(
        (garbage.status, garbage.error()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
}

#[tokio::test]
async fn every_response_has_a_unique_request_id_and_the_log_records_grant_types() {
    let (emulator, clock) = spawn_with_clock(|b| b).await;
    let device_code = start(&emulator).await["device_code"]
        .as_str()
        .unwrap()
        .to_owned();
    clock.advance(Duration::from_secs(5));
    let pending = poll(&emulator, &device_code).await;
    let client = http();
    let not_found = client
        .get(format!("{}/nope", emulator.url()))
        .send()
        .await
        .unwrap();
    let page = client
        .get(format!("{}/device", emulator.url()))
        .send()
        .await
        .unwrap();
    let css = client
        .get(format!("{}/static/device.css", emulator.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(not_found.status(), StatusCode::NOT_FOUND);
    let mut ids = vec![pending.headers["x-request-id"].to_str().unwrap().to_owned()];
    for r in [&not_found, &page, &css] {
        ids.push(r.headers()["x-request-id"].to_str().unwrap().to_owned());
    }
    assert!(ids.iter().all(|id| id.starts_with("req_")));
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4);

    let log = emulator.request_log();
    let polls: Vec<_> = log
        .iter()
        .filter(|e| e.path == "/user_management/authenticate")
        .collect();
    assert_eq!(polls.len(), 1);
    assert_eq!(polls[0].grant_type.as_deref(), Some(DEVICE_GRANT));
    assert_eq!(polls[0].status, 400);
    assert_eq!(polls[0].at - log[0].at, Duration::from_secs(5));
    assert!(log.iter().any(|e| e.path == "/nope" && e.status == 404));
}
