//! The structured request log (`workos_emulator::http` events): every
//! request is one JSON line with method, path, status, request_id,
//! grant_type and latency_ms, and no device code, user code, token or
//! pending-authentication token appears anywhere in the output, even at
//! trace level (threat model row 17, server side).
//!
//! One test per binary: it installs the global subscriber, so events from
//! the blocking pool are captured too.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use support::*;
use workos_emulator::{DEMO_USER_EMAIL, MembershipConfig, OrganizationConfig};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn request_events_are_structured_and_carry_no_secret() {
    let captured = Captured::default();
    let sink = captured.clone();
    tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .init();

    // A multi-organization user, so the pending authentication token is
    // exercised too, plus a refresh, a reuse and a logout.
    let mut config = workos_emulator::EmulatorConfig::default();
    config.organizations.push(OrganizationConfig {
        id: "org_two".into(),
        name: "Two".into(),
    });
    config.users[0].memberships.push(MembershipConfig {
        organization_id: "org_two".into(),
        role: "member".into(),
        permissions: Vec::new(),
    });
    let (emulator, clock) = spawn_with_clock(|b| b.config(config)).await;
    let started = start(&emulator).await;
    let (device_code, user_code) = (
        started["device_code"].as_str().unwrap(),
        started["user_code"].as_str().unwrap(),
    );
    emulator.approve(user_code, DEMO_USER_EMAIL).unwrap();
    clock.advance(Duration::from_secs(5));
    let pending = poll(&emulator, device_code).await;
    let pending_token = pending.body["pending_authentication_token"]
        .as_str()
        .unwrap();
    let tokens = post_json(
        &emulator,
        "/user_management/authenticate",
        json!({"grant_type": "urn:workos:oauth:grant-type:organization-selection",
               "client_id": CLIENT, "pending_authentication_token": pending_token,
               "organization_id": "org_two"}),
    )
    .await;
    let t1 = tokens.body["refresh_token"].as_str().unwrap();
    let rotated = refresh(&emulator, t1, json!({})).await;
    let reuse = refresh(&emulator, t1, json!({})).await;
    assert_eq!(reuse.error(), "invalid_grant");
    emulator.shutdown().await;

    let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for secret in [
        device_code,
        user_code,
        pending_token,
        t1,
        tokens.body["access_token"].as_str().unwrap(),
        rotated.body["refresh_token"].as_str().unwrap(),
        rotated.body["access_token"].as_str().unwrap(),
    ] {
        assert!(!output.contains(secret), "a secret reached the log");
    }

    let requests: Vec<Value> = output
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["target"] == "workos_emulator::http")
        .collect();
    // start, poll, organization selection, refresh, reuse.
    assert_eq!(requests.len(), 5, "one event per request");
    let refresh_event = requests
        .iter()
        .find(|v| v["fields"]["grant_type"] == "refresh_token")
        .expect("a refresh was logged");
    let fields = &refresh_event["fields"];
    assert_eq!(fields["method"], "POST");
    assert_eq!(fields["path"], "/user_management/authenticate");
    assert_eq!(fields["status"], 200);
    assert!(fields["request_id"].as_str().unwrap().starts_with("req_"));
    assert!(fields["latency_ms"].is_u64());
    assert!(output.contains("refresh token reuse detected"));
}
