//! A generic OAuth client, the `oauth2` crate (5.x), runs the device flow
//! end to end against the standard endpoints: discovery → device
//! authorization → programmatic approval → `exchange_device_access_token`
//! polling with its own sleep function → refresh → revocation. The sleep
//! function advances the emulator's `ManualClock`, so nothing really waits.
//!
//! `oauth2` is built without default features (its `reqwest` feature pulls
//! reqwest 0.12 and ring); `AsyncHttpClient` is implemented here over the
//! workspace reqwest.

mod support;

use std::sync::Mutex;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use oauth2::basic::BasicClient;
use oauth2::{
    ClientId, DeviceAuthorizationUrl, HttpRequest, HttpResponse, RevocationUrl, Scope,
    StandardDeviceAuthorizationResponse, StandardRevocableToken, TokenResponse, TokenUrl,
};
use serde_json::Value;
use support::*;
use workos_emulator::{DEMO_USER_EMAIL, DEMO_USER_ID};

/// `oauth2`'s HTTP seam over the workspace reqwest (no redirects followed).
async fn send(
    client: reqwest::Client,
    request: HttpRequest,
) -> Result<HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response = client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut builder = oauth2::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let body = response.bytes().await?.to_vec();
    Ok(builder.body(body).expect("a valid response"))
}

async fn discover(base: &str) -> Value {
    http()
        .get(format!("{base}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn url(metadata: &Value, key: &str) -> String {
    metadata[key].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_oauth2_crate_completes_the_device_flow_refreshes_and_revokes() {
    let (emulator, clock) = spawn_with_clock(|b| b).await;
    let metadata = discover(emulator.url()).await;
    assert_eq!(metadata["issuer"], format!("{}/", emulator.url()));

    let client = BasicClient::new(ClientId::new(CLIENT.into()))
        .set_device_authorization_url(
            DeviceAuthorizationUrl::new(url(&metadata, "device_authorization_endpoint")).unwrap(),
        )
        .set_token_uri(TokenUrl::new(url(&metadata, "token_endpoint")).unwrap())
        .set_revocation_url(RevocationUrl::new(url(&metadata, "revocation_endpoint")).unwrap());
    let reqwest_client = http();
    let http_client = move |request| send(reqwest_client.clone(), request);

    let details: StandardDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scopes(["openid", "profile", "email", "offline_access"].map(|s| Scope::new(s.into())))
        .request_async(&http_client)
        .await
        .unwrap();
    assert_eq!(details.interval(), Duration::from_secs(5));
    let user_code = details.user_code().secret().clone();

    // The person approves during the first wait; the sleep function moves
    // the emulator's clock instead of sleeping, and records each wait.
    clock.advance(details.interval());
    let waits = Mutex::new(Vec::new());
    let sleep = |d: Duration| {
        waits.lock().unwrap().push(d);
        clock.advance(d);
        let _ = emulator.approve(&user_code, DEMO_USER_EMAIL);
        std::future::ready(())
    };
    let tokens = client
        .exchange_device_access_token(&details)
        .request_async(&http_client, sleep, None)
        .await
        .unwrap();
    // One pending answer, one wait of exactly the interval, then tokens.
    assert_eq!(*waits.lock().unwrap(), [Duration::from_secs(5)]);
    assert_eq!(tokens.expires_in(), Some(Duration::from_secs(300)));
    let refresh = tokens
        .refresh_token()
        .expect("offline_access grants a refresh token");

    let refreshed = client
        .exchange_refresh_token(refresh)
        .request_async(&http_client)
        .await
        .unwrap();
    let rotated = refreshed.refresh_token().unwrap().clone();
    assert_ne!(rotated.secret(), refresh.secret());

    // Revoking the refresh token ends the session (RFC 7009); unknown
    // tokens are answered 200 all the same. `oauth2` refuses a plain-http
    // revocation URL (RFC 7009 §2 requires TLS), so these go by hand.
    let revocation = url(&metadata, "revocation_endpoint");
    assert!(
        client
            .revoke_token(StandardRevocableToken::RefreshToken(rotated.clone()))
            .is_err()
    );
    for token in [rotated.secret().as_str(), "unknown"] {
        let r = http()
            .post(&revocation)
            .form(&[
                ("token", token),
                ("client_id", CLIENT),
                ("token_type_hint", "refresh_token"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK);
    }
    let after = client
        .exchange_refresh_token(&rotated)
        .request_async(&http_client)
        .await
        .unwrap_err();
    assert!(format!("{after:?}").contains("invalid_grant"), "{after:?}");
}

/// The raw RFC 6749 §5.1 body: no `user`, an OIDC `id_token` verifiable
/// against `jwks_uri` with `aud` = the client id.
#[tokio::test]
async fn the_token_response_is_standard_and_the_id_token_verifies() {
    let (emulator, clock) = spawn_with_clock(|b| b).await;
    let metadata = discover(emulator.url()).await;
    let start = post_form(
        &emulator,
        "/oauth2/device_authorization",
        &[
            ("client_id", CLIENT),
            ("scope", "openid email profile offline_access"),
        ],
    )
    .await;
    assert_eq!(start.status, reqwest::StatusCode::OK, "{}", start.body);
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
    assert_eq!(r.status, reqwest::StatusCode::OK, "{}", r.body);
    assert_eq!(r.headers["cache-control"], "no-store");
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["scope"], "openid profile email offline_access");
    assert!(r.body.get("user").is_none());

    let jwks: Value = http()
        .get(url(&metadata, "jwks_uri"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    let decoding =
        DecodingKey::from_rsa_components(key["n"].as_str().unwrap(), key["e"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[CLIENT]);
    validation.set_issuer(&[metadata["issuer"].as_str().unwrap()]);
    let claims =
        jsonwebtoken::decode::<Value>(r.body["id_token"].as_str().unwrap(), &decoding, &validation)
            .unwrap()
            .claims;
    assert_eq!(claims["sub"], DEMO_USER_ID);
    assert_eq!(claims["email"], DEMO_USER_EMAIL);
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], "Demo User");
}

#[tokio::test]
async fn without_offline_access_or_openid_there_is_no_refresh_or_id_token() {
    let (emulator, clock) = spawn_with_clock(|b| b).await;
    let start = post_form(
        &emulator,
        "/oauth2/device_authorization",
        &[("client_id", CLIENT), ("scope", "email")],
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
    assert_eq!(r.status, reqwest::StatusCode::OK, "{}", r.body);
    assert!(r.body["access_token"].is_string());
    assert!(r.body.get("refresh_token").is_none());
    assert!(r.body.get("id_token").is_none());
}

#[tokio::test]
async fn errors_follow_rfc_6749_and_the_shared_grant_logic() {
    let (emulator, _clock) = spawn_with_clock(|b| b).await;
    let start = post_form(
        &emulator,
        "/oauth2/device_authorization",
        &[("client_id", CLIENT), ("scope", "openid")],
    )
    .await;
    let device_code = start.body["device_code"].as_str().unwrap();
    let fields = [
        ("grant_type", DEVICE_GRANT),
        ("device_code", device_code),
        ("client_id", CLIENT),
    ];
    // Polled at once: too early (the same `slow_down` as the WorkOS door).
    let early = post_form(&emulator, "/oauth2/token", &fields).await;
    assert_eq!((early.status.as_u16(), early.error()), (400, "slow_down"));
    let bad = post_form(
        &emulator,
        "/oauth2/token",
        &[("grant_type", "password"), ("client_id", CLIENT)],
    )
    .await;
    assert_eq!(bad.error(), "unsupported_grant_type");
    let missing = post_form(&emulator, "/oauth2/token", &[("grant_type", DEVICE_GRANT)]).await;
    assert_eq!(missing.error(), "invalid_request");
}

#[tokio::test]
async fn both_metadata_documents_list_the_standard_endpoints() {
    let (emulator, _clock) = spawn_with_clock(|b| b).await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let m: Value = http()
            .get(format!("{}{path}", emulator.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            m["grant_types_supported"],
            serde_json::json!([
                "urn:ietf:params:oauth:grant-type:device_code",
                "refresh_token"
            ])
        );
        assert_eq!(
            m["scopes_supported"],
            serde_json::json!(["openid", "profile", "email", "offline_access"])
        );
        assert_eq!(
            m["token_endpoint_auth_methods_supported"],
            serde_json::json!(["none"])
        );
        assert_eq!(
            m["id_token_signing_alg_values_supported"],
            serde_json::json!(["RS256"])
        );
        assert_eq!(
            m["token_endpoint"],
            format!("{}/oauth2/token", emulator.url())
        );
        assert_eq!(
            m["revocation_endpoint"],
            format!("{}/oauth2/revoke", emulator.url())
        );
        assert_eq!(m["jwks_uri"], format!("{}/oauth2/jwks", emulator.url()));
    }
}
