//! Organization switching through `Session`, and the emulator's access tokens checked
//! end to end: signature through the JWKS, and the claims a CLI reads.

mod session_support;

use std::time::Duration;

use cli_auth::{DefaultConnector, Error, JwksVerifier, decode_unverified};
use session_support::*;
use workos_emulator::{DEMO_ORG_ID, EmulatorConfig, MembershipConfig, OrganizationConfig};

const ORG_B: &str = "org_01SECOND000000000000000000";
const ORG_ELSEWHERE: &str = "org_01NOTAMEMBER0000000000000";

/// The demo user is an admin of the demo org and a viewer of `ORG_B`, and not a
/// member of `ORG_ELSEWHERE`.
fn two_organizations() -> EmulatorConfig {
    let mut config = EmulatorConfig::default();
    for (id, name) in [(ORG_B, "Second Org"), (ORG_ELSEWHERE, "Elsewhere")] {
        config.organizations.push(OrganizationConfig {
            id: id.into(),
            name: name.into(),
        });
    }
    let user = &mut config.users[0];
    user.memberships[0].role = "admin".into();
    user.memberships[0].permissions = vec!["widgets:read".into(), "widgets:write".into()];
    user.memberships.push(MembershipConfig {
        organization_id: ORG_B.into(),
        role: "viewer".into(),
        permissions: vec!["reports:read".into()],
    });
    config
}

#[tokio::test]
async fn emulator_tokens_verify_and_expose_their_claims() {
    let h = harness_with(two_organizations(), Duration::from_secs(300)).await;
    let cred = h.login_in(PROFILE, Some(DEMO_ORG_ID)).await;
    let token = cred.access_token.clone().unwrap();
    let verifier = JwksVerifier::for_client(&h.client())
        .unwrap()
        .with_timer(h.timer.clone())
        .with_issuer(format!("{}/", h.emu.url()));
    let claims = verifier.verify(&token).await.unwrap();
    assert_eq!(claims.sub, cred.user_id);
    assert_eq!(claims.sid, cred.session_id);
    assert!(claims.sid.as_deref().unwrap().starts_with("session_"));
    assert_eq!(claims.org_id.as_deref(), Some(DEMO_ORG_ID));
    assert_eq!(claims.role.as_deref(), Some("admin"));
    assert_eq!(claims.permissions, vec!["widgets:read", "widgets:write"]);
    assert_eq!(Some(claims.exp), cred.access_token_expires_at);
    assert_eq!(claims.lifetime(), Duration::from_secs(300));
    assert_eq!(claims, decode_unverified(&token).unwrap());

    // The same check through the session, as `status --check` does it.
    let via_session = h.session(PROFILE).verify(&DefaultConnector).await.unwrap();
    assert_eq!(via_session, claims);
}

#[tokio::test]
async fn switching_organization_refreshes_and_persists_the_new_one() {
    let h = harness_with(two_organizations(), Duration::from_secs(300)).await;
    let cred = h.login_in(PROFILE, Some(DEMO_ORG_ID)).await;
    assert_eq!(cred.organization_id.as_deref(), Some(DEMO_ORG_ID));

    // A switch refreshes even though the current token is fresh.
    let switched = h
        .session(PROFILE)
        .switch_organization(ORG_B, &DefaultConnector)
        .await
        .unwrap();
    assert!(switched.refreshed);
    let claims = decode_unverified(&switched.token).unwrap();
    assert_eq!(claims.org_id.as_deref(), Some(ORG_B));
    assert_eq!(claims.role.as_deref(), Some("viewer"));
    assert_eq!(claims.permissions, vec!["reports:read"]);

    let stored = h.stored(PROFILE).unwrap();
    assert_eq!(stored.organization_id.as_deref(), Some(ORG_B));
    assert!(same(stored.access_token.as_ref().unwrap(), &switched.token));
    assert!(!same(&stored.refresh_token, &cred.refresh_token));

    // Later refreshes stay in the chosen organization.
    h.expire();
    let later = h.session(PROFILE).token(&DefaultConnector).await.unwrap();
    assert!(later.refreshed);
    let claims = decode_unverified(&later.token).unwrap();
    assert_eq!(claims.org_id.as_deref(), Some(ORG_B));
    assert_eq!(h.refresh_requests(), vec![200, 200]);
}

#[tokio::test]
async fn switching_to_a_foreign_organization_keeps_the_login() {
    let h = harness_with(two_organizations(), Duration::from_secs(300)).await;
    let cred = h.login_in(PROFILE, Some(DEMO_ORG_ID)).await;
    let error = h
        .session(PROFILE)
        .switch_organization(ORG_ELSEWHERE, &DefaultConnector)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::OAuth { code, .. } if code == "invalid_request"),
        "{error:?}"
    );
    assert!(!error.is_auth_required());
    let kept = h.stored(PROFILE).unwrap();
    assert_eq!(kept.organization_id.as_deref(), Some(DEMO_ORG_ID));
    assert!(same(&kept.refresh_token, &cred.refresh_token));
    // And the kept refresh token still works.
    h.expire();
    assert!(
        h.session(PROFILE)
            .token(&DefaultConnector)
            .await
            .unwrap()
            .refreshed
    );
}
