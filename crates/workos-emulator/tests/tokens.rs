//! Issued tokens over real sockets: the `AuthenticateResponse` shape, the
//! JWT verified against the JWKS fetched over HTTP, refresh-token rotation,
//! reuse detection (fault row 34), organization switching and logout.

mod support;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::*;
use workos_emulator::{
    DEMO_ORG_ID, DEMO_USER_EMAIL, DEMO_USER_ID, Emulator, EmulatorConfig, MembershipConfig,
    OrganizationConfig,
};

async fn fetch_jwks(url: &str) -> Value {
    let response = http()
        .get(format!("{url}/sso/jwks/{CLIENT}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn verify(jwt: &str, jwks: &Value, issuer: &str) -> Value {
    let header = jsonwebtoken::decode_header(jwt).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| Some(k["kid"].as_str().unwrap()) == header.kid.as_deref())
        .expect("the token's kid is in the JWKS");
    let decoding =
        DecodingKey::from_rsa_components(key["n"].as_str().unwrap(), key["e"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(jwt, &decoding, &validation)
        .unwrap()
        .claims
}

#[tokio::test]
async fn the_token_response_has_the_workos_shape_and_every_user_key() {
    let (emulator, clock) =
        spawn_with_clock(|b| b.access_token_ttl(Duration::from_secs(120))).await;
    let body = sign_in(&emulator, &clock).await;
    let user = body["user"].as_object().unwrap();
    for key in [
        "object",
        "id",
        "email",
        "email_verified",
        "first_name",
        "last_name",
        "profile_picture_url",
        "external_id",
        "last_sign_in_at",
        "locale",
        "metadata",
        "created_at",
        "updated_at",
    ] {
        assert!(user.contains_key(key), "user.{key} missing");
    }
    assert_eq!(user["object"], "user");
    assert_eq!(user["id"], DEMO_USER_ID);
    assert_eq!(user["email"], DEMO_USER_EMAIL);
    let created = user["created_at"].as_str().unwrap();
    assert!(
        created.ends_with('Z') && created.len() == "2024-01-01T00:00:00.000Z".len(),
        "{created}"
    );
    assert_eq!(body["organization_id"], DEMO_ORG_ID);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], json!(120));
    assert_eq!(body["authentication_method"], "Password");
    assert!(body["refresh_token"].as_str().unwrap().len() >= 32);
}

#[tokio::test]
async fn the_access_token_verifies_against_the_jwks_fetched_over_http() {
    let (emulator, clock) = spawn_with_clock(|b| b.issuer("https://api.workos.com/")).await;
    let body = sign_in(&emulator, &clock).await;
    let jwks = fetch_jwks(emulator.url()).await;
    let claims = verify(
        body["access_token"].as_str().unwrap(),
        &jwks,
        "https://api.workos.com/",
    );
    assert_eq!(claims["sub"], DEMO_USER_ID);
    assert!(claims["sid"].as_str().unwrap().starts_with("session_01"));
    assert_eq!(claims["org_id"], DEMO_ORG_ID);
    assert_eq!(claims["role"], "member");
    assert_eq!(claims["roles"], json!(["member"]));
    assert_eq!(claims["permissions"], json!([]));
    assert!(claims["jti"].is_string());
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, 300);
    let now = time::OffsetDateTime::now_utc().unix_timestamp() + 5; // the manual clock moved 5 s
    assert!(iat <= now, "iat {iat} is in the future");
}

#[tokio::test]
async fn the_default_issuer_is_the_base_url_with_a_slash() {
    let (emulator, clock) = spawn_with_clock(|b| b).await;
    let body = sign_in(&emulator, &clock).await;
    let jwks = fetch_jwks(emulator.url()).await;
    let issuer = format!("{}/", emulator.url());
    verify(body["access_token"].as_str().unwrap(), &jwks, &issuer);
}

#[tokio::test]
async fn the_jwks_has_all_eight_members_and_x5c_is_the_keys_der_certificate() {
    let emulator = Emulator::builder().spawn().await.unwrap();
    let jwks = fetch_jwks(emulator.url()).await;
    let key = jwks["keys"][0].as_object().unwrap();
    let mut names: Vec<&str> = key.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["alg", "e", "kid", "kty", "n", "use", "x5c", "x5t#S256"]
    );
    assert_eq!(
        (
            key["alg"].as_str(),
            key["kty"].as_str(),
            key["use"].as_str()
        ),
        (Some("RS256"), Some("RSA"), Some("sig"))
    );
    assert!(
        key["kid"]
            .as_str()
            .unwrap()
            .starts_with("sso_oidc_key_pair_")
    );

    let der = STANDARD.decode(key["x5c"][0].as_str().unwrap()).unwrap();
    // A DER SEQUENCE whose long-form length covers exactly the rest.
    assert_eq!(der[0], 0x30);
    assert_eq!(der[1], 0x82);
    assert_eq!(
        usize::from(der[2]) << 8 | usize::from(der[3]),
        der.len() - 4
    );
    // The certificate carries this very modulus.
    let n = URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap();
    assert_eq!(n.len(), 256);
    assert!(der.windows(n.len()).any(|w| w == n.as_slice()));
    let thumbprint = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der);
    assert_eq!(key["x5t#S256"], URL_SAFE_NO_PAD.encode(thumbprint.as_ref()));
}

#[tokio::test]
async fn a_persisted_signing_key_keeps_the_kid_across_restarts() {
    let first = Emulator::builder().spawn().await.unwrap();
    let pem = first.signing_key_pem();
    let kid = fetch_jwks(first.url()).await["keys"][0]["kid"].clone();
    first.shutdown().await;
    let second = Emulator::builder()
        .signing_key_pem(pem)
        .spawn()
        .await
        .unwrap();
    assert_eq!(fetch_jwks(second.url()).await["keys"][0]["kid"], kid);
}

/// Fault row 34 and rotation.
#[tokio::test]
async fn refresh_rotates_and_reuse_of_a_rotated_token_revokes_the_session() {
    let (emulator, clock) = spawn_with_clock(|b| b).await;
    let first = sign_in(&emulator, &clock).await;
    let t1 = first["refresh_token"].as_str().unwrap();
    let second = refresh(&emulator, t1, json!({"organization_id": null})).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(second.headers["cache-control"], "no-store");
    let t2 = second.body["refresh_token"].as_str().unwrap();
    assert_ne!(t1, t2);
    assert_ne!(first["access_token"], second.body["access_token"]);
    assert_eq!(second.body["user"]["id"], DEMO_USER_ID);

    let reuse = refresh(&emulator, t1, json!({})).await;
    assert_eq!(
        (reuse.status, reuse.error()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    assert_eq!(
        reuse.body["error_description"],
        "Refresh token already exchanged."
    );
    // Reuse detection revoked the session: the newest token is dead too.
    assert_eq!(
        refresh(&emulator, t2, json!({})).await.error(),
        "invalid_grant"
    );
}

#[tokio::test]
async fn refresh_tokens_are_bound_to_their_client_and_accept_form_bodies() {
    let (emulator, clock) = spawn_with_clock(|b| b).await;
    let t1 = sign_in(&emulator, &clock).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = "/user_management/authenticate";
    let foreign = post_form(
        &emulator,
        path,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "client_other"),
            ("refresh_token", &t1),
        ],
    )
    .await;
    assert_eq!(foreign.error(), "invalid_grant");
    let ok = post_form(
        &emulator,
        path,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT),
            ("refresh_token", &t1),
        ],
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}

#[tokio::test]
async fn refresh_switches_to_an_organization_the_user_belongs_to_only() {
    let mut config = EmulatorConfig::default();
    config.organizations.push(OrganizationConfig {
        id: "org_second".into(),
        name: "Second".into(),
    });
    config.users[0].memberships.push(MembershipConfig {
        organization_id: "org_second".into(),
        role: "admin".into(),
        permissions: vec!["widgets:write".into()],
    });
    let (emulator, clock) = spawn_with_clock(|b| b.config(config)).await;
    // A user in two organizations signs in to one chosen on the page.
    let start = start(&emulator).await;
    emulator
        .approve_in_organization(
            start["user_code"].as_str().unwrap(),
            DEMO_USER_EMAIL,
            DEMO_ORG_ID,
        )
        .unwrap();
    clock.advance(Duration::from_secs(5));
    let signed_in = poll(&emulator, start["device_code"].as_str().unwrap()).await;
    assert_eq!(signed_in.body["organization_id"], DEMO_ORG_ID);
    let t1 = signed_in.body["refresh_token"].as_str().unwrap().to_owned();
    let refused = refresh(&emulator, &t1, json!({"organization_id": "org_elsewhere"})).await;
    assert_eq!(
        (refused.status, refused.error()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    let switched = refresh(&emulator, &t1, json!({"organization_id": "org_second"})).await;
    assert_eq!(switched.status, StatusCode::OK, "{}", switched.body);
    assert_eq!(switched.body["organization_id"], "org_second");
    let jwks = fetch_jwks(emulator.url()).await;
    let claims = verify(
        switched.body["access_token"].as_str().unwrap(),
        &jwks,
        &format!("{}/", emulator.url()),
    );
    assert_eq!(claims["org_id"], "org_second");
    assert_eq!(claims["role"], "admin");
    assert_eq!(claims["permissions"], json!(["widgets:write"]));
}

#[tokio::test]
async fn logout_ends_the_session_so_refresh_fails() {
    let (emulator, clock) = spawn_with_clock(|b| b).await;
    let body = sign_in(&emulator, &clock).await;
    let jwks = fetch_jwks(emulator.url()).await;
    let claims = verify(
        body["access_token"].as_str().unwrap(),
        &jwks,
        &format!("{}/", emulator.url()),
    );
    let sid = claims["sid"].as_str().unwrap();
    let page = http()
        .get(format!(
            "{}/user_management/sessions/logout?session_id={sid}",
            emulator.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(page.text().await.unwrap().contains("You are signed out"));
    let r = refresh(
        &emulator,
        body["refresh_token"].as_str().unwrap(),
        json!({}),
    )
    .await;
    assert_eq!(r.error(), "invalid_grant");
}

#[tokio::test]
async fn logout_redirects_only_to_safe_return_urls() {
    let (emulator, clock) = spawn_with_clock(|b| b).await;
    let body = sign_in(&emulator, &clock).await;
    let jwks = fetch_jwks(emulator.url()).await;
    let claims = verify(
        body["access_token"].as_str().unwrap(),
        &jwks,
        &format!("{}/", emulator.url()),
    );
    let sid = claims["sid"].as_str().unwrap();
    let base = format!(
        "{}/user_management/sessions/logout?session_id={sid}",
        emulator.url()
    );
    let client = http();
    let safe = client
        .get(format!("{base}&return_to=http%3A%2F%2F127.0.0.1%3A9%2Fbye"))
        .send()
        .await
        .unwrap();
    assert_eq!(safe.status(), StatusCode::SEE_OTHER);
    assert_eq!(safe.headers()["location"], "http://127.0.0.1:9/bye");
    let evil = client
        .get(format!("{base}&return_to=javascript%3Aalert(1)"))
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), StatusCode::OK);
    assert!(evil.headers().get("location").is_none());
}
