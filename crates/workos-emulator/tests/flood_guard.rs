//! Threat model row 35: 1,000 device authorizations a minute from one client
//! get 429 with `Retry-After` once past the per-client budget, the number of
//! stored grants never exceeds the caps, and sweeping forgets expired ones.
//! Driven through the router (no socket) on a `ManualClock`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt as _;
use workos_emulator::{AppState, EmulatorConfig, ManualClock, app};

async fn authorize(router: &Router, client_id: &str) -> (StatusCode, Option<String>) {
    let request = Request::post("/user_management/authorize/device")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("client_id={client_id}")))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status(), retry_after)
}

fn state_with(config: EmulatorConfig) -> (AppState, Router, ManualClock) {
    let clock = ManualClock::new();
    let state =
        AppState::with_clock(config, "http://127.0.0.1:1", Arc::new(clock.clone())).unwrap();
    (state.clone(), app(state), clock)
}

#[tokio::test]
async fn a_thousand_authorizations_a_minute_from_one_client_are_throttled_and_bounded() {
    let (state, router, clock) = state_with(EmulatorConfig::default());
    let budget = EmulatorConfig::default().max_authorizations_per_minute as usize;
    let mut admitted = 0;
    let mut limited = Vec::new();
    for i in 0..1_000 {
        // 1,000 over one minute: one every 60 ms.
        if i > 0 {
            clock.advance(Duration::from_millis(60));
        }
        match authorize(&router, "client_flood").await {
            (StatusCode::OK, _) => admitted += 1,
            (StatusCode::TOO_MANY_REQUESTS, retry_after) => limited.push(retry_after),
            (other, _) => panic!("unexpected {other}"),
        }
    }
    assert_eq!(admitted, budget);
    assert_eq!(limited.len(), 1_000 - budget);
    for retry_after in &limited {
        let secs: u64 = retry_after
            .as_deref()
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!((1..=60).contains(&secs), "{secs}");
    }
    assert!(state.stored_grants() <= budget);

    // Another client is not starved by the flood.
    assert_eq!(authorize(&router, "client_other").await.0, StatusCode::OK);

    // Expired grants are forgotten once their retention has passed.
    clock.advance(Duration::from_secs(300 + 600 + 1));
    state.sweep();
    assert_eq!(state.stored_grants(), 0);
    assert_eq!(authorize(&router, "client_flood").await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_global_cap_bounds_grants_whatever_the_per_client_budget() {
    let config = EmulatorConfig {
        max_authorizations_per_minute: u32::MAX,
        ..EmulatorConfig::default()
    };
    let (state, router, _clock) = state_with(config);
    let mut first_refusal = None;
    for i in 0..10_001 {
        let (status, retry_after) = authorize(&router, "client_flood").await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(retry_after.is_some());
            first_refusal = Some(i);
            break;
        }
    }
    assert_eq!(first_refusal, Some(10_000));
    assert_eq!(state.stored_grants(), 10_000);
}
