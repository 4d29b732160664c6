//! Users in several organizations, and auto-approval for unattended CI.
//!
//! A multi-organization user with no organization chosen gets WorkOS's
//! `403 organization_selection_required` on the device-code grant (assumed
//! for this grant; see docs/emulator.md), then finishes with the
//! organization-selection grant. Choosing on the verification page, or with
//! `approve_in_organization`, issues tokens for that organization directly.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::*;
use workos_emulator::{
    DEMO_ORG_ID, DEMO_USER_EMAIL, Emulator, EmulatorConfig, EmulatorError, MembershipConfig,
    OrganizationConfig,
};

const SECOND_ORG: &str = "org_second";
const ORG_SELECTION: &str = "urn:workos:oauth:grant-type:organization-selection";

fn two_orgs() -> EmulatorConfig {
    let mut config = EmulatorConfig::default();
    config.organizations.push(OrganizationConfig {
        id: SECOND_ORG.into(),
        name: "Second Org".into(),
    });
    config.users[0].memberships.push(MembershipConfig {
        organization_id: SECOND_ORG.into(),
        role: "admin".into(),
        permissions: Vec::new(),
    });
    config
}

async fn select(emulator: &workos_emulator::RunningEmulator, token: &str, org: &str) -> Reply {
    post_json(
        emulator,
        "/user_management/authenticate",
        json!({"grant_type": ORG_SELECTION, "client_id": CLIENT,
               "pending_authentication_token": token, "organization_id": org}),
    )
    .await
}

#[tokio::test]
async fn no_organization_chosen_gets_403_then_the_selection_grant_finishes() {
    let (emulator, clock) = spawn_with_clock(|b| b.config(two_orgs())).await;
    let start = start(&emulator).await;
    emulator
        .approve(start["user_code"].as_str().unwrap(), DEMO_USER_EMAIL)
        .unwrap();
    clock.advance(Duration::from_secs(5));
    let r = poll(&emulator, start["device_code"].as_str().unwrap()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.body["code"], "organization_selection_required");
    assert!(r.body["message"].is_string());
    assert_eq!(
        r.body["organizations"],
        json!([{"id": DEMO_ORG_ID, "name": "Example Org"}, {"id": SECOND_ORG, "name": "Second Org"}])
    );
    let token = r.body["pending_authentication_token"].as_str().unwrap();

    // The device code is spent; a wrong organization does not spend the token.
    clock.advance(Duration::from_secs(5));
    let replay = poll(&emulator, start["device_code"].as_str().unwrap()).await;
    assert_eq!(replay.error(), "invalid_grant");
    assert_eq!(
        select(&emulator, token, "org_elsewhere").await.error(),
        "invalid_request"
    );

    let done = select(&emulator, token, SECOND_ORG).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["organization_id"], SECOND_ORG);
    assert!(done.body["user"].is_object() && done.body["refresh_token"].is_string());
    assert_eq!(
        select(&emulator, token, SECOND_ORG).await.error(),
        "invalid_grant"
    );
}

#[tokio::test]
async fn an_organization_chosen_up_front_issues_tokens_for_it() {
    let (emulator, clock) = spawn_with_clock(|b| b.config(two_orgs())).await;
    let start = start(&emulator).await;
    let code = start["user_code"].as_str().unwrap();
    let err = emulator
        .approve_in_organization(code, DEMO_USER_EMAIL, "org_elsewhere")
        .unwrap_err();
    assert!(matches!(err, EmulatorError::NotAMember { .. }), "{err}");
    emulator
        .approve_in_organization(code, DEMO_USER_EMAIL, SECOND_ORG)
        .unwrap();
    clock.advance(Duration::from_secs(5));
    let r = poll(&emulator, start["device_code"].as_str().unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["organization_id"], SECOND_ORG);
}

#[tokio::test]
async fn the_verification_page_offers_the_organizations_and_honours_the_pick() {
    let (emulator, clock) = spawn_with_clock(|b| b.config(two_orgs())).await;
    let start = start(&emulator).await;
    let code = start["user_code"].as_str().unwrap();
    let mut browser = Browser::new(&emulator);
    let choose = browser.enter_code(code).await;
    assert!(choose.html.contains("2 organizations"));
    let confirm = browser
        .post(
            "/device/user",
            &[
                ("csrf", &choose.csrf()),
                ("user_code", code),
                ("email", DEMO_USER_EMAIL),
            ],
        )
        .await;
    assert!(
        confirm
            .html
            .contains("name=\"organization_id\" value=\"\" checked")
    );
    assert!(confirm.html.contains(&format!("value=\"{SECOND_ORG}\"")));
    let csrf = confirm.csrf();
    for (org, status) in [
        ("org_elsewhere", StatusCode::BAD_REQUEST),
        (SECOND_ORG, StatusCode::OK),
    ] {
        let fields = [
            ("csrf", csrf.as_str()),
            ("user_code", code),
            ("email", DEMO_USER_EMAIL),
            ("organization_id", org),
            ("decision", "approve"),
        ];
        assert_eq!(
            browser.post("/device/decision", &fields).await.status,
            status
        );
    }
    clock.advance(Duration::from_secs(5));
    let r = poll(&emulator, start["device_code"].as_str().unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["organization_id"], SECOND_ORG);
}

/// Standard clients cannot handle the 403: the OAuth door signs the user in
/// without an organization (an assumption; AuthKit does not document it).
#[tokio::test]
async fn the_standard_door_issues_tokens_without_an_organization() {
    let (emulator, clock) = spawn_with_clock(|b| b.config(two_orgs())).await;
    let start = post_form(
        &emulator,
        "/oauth2/device_authorization",
        &[("client_id", CLIENT)],
    )
    .await;
    emulator
        .approve(start.body["user_code"].as_str().unwrap(), DEMO_USER_EMAIL)
        .unwrap();
    clock.advance(Duration::from_secs(5));
    let r = post_form(
        &emulator,
        "/oauth2/token",
        &[
            ("grant_type", DEVICE_GRANT),
            ("device_code", start.body["device_code"].as_str().unwrap()),
            ("client_id", CLIENT),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let payload = r.body["access_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap();
    use base64::Engine as _;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert!(claims.get("org_id").is_none());
}

#[tokio::test]
async fn auto_approve_answers_the_first_poll_after_the_interval_with_tokens() {
    let (emulator, clock) = spawn_with_clock(|b| b.auto_approve(DEMO_USER_EMAIL)).await;
    let start = start(&emulator).await;
    clock.advance(Duration::from_secs(5));
    let r = poll(&emulator, start["device_code"].as_str().unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["user"]["email"], DEMO_USER_EMAIL);
    assert_eq!(r.body["organization_id"], DEMO_ORG_ID);
}

#[tokio::test]
async fn auto_approve_refuses_an_unknown_user_at_start() {
    let err = Emulator::builder()
        .auto_approve("nobody@example.com")
        .spawn()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("nobody@example.com"), "{err}");
}
