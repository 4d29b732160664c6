//! The router driven with `tower::ServiceExt::oneshot`, no socket: status
//! codes, JSON shapes and headers per route, and `public_url` handling.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt as _;
use workos_emulator::{AppState, EmulatorConfig, app};

async fn send(
    state: &AppState,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, body)
}

fn form(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn public_url_overrides_the_bound_address_in_verification_uris() {
    let config = EmulatorConfig {
        public_url: Some("https://auth.example.test".into()),
        ..EmulatorConfig::default()
    };
    let state = AppState::new(config, "http://127.0.0.1:1").unwrap();
    let (status, headers, body) = send(
        &state,
        form("/user_management/authorize/device", "client_id=c"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["verification_uri"], "https://auth.example.test/device");
    assert!(headers.contains_key("x-request-id"));
    assert_eq!(state.issuer(), "https://auth.example.test/");
}

#[tokio::test]
async fn a_json_body_without_content_type_is_still_understood() {
    let state = AppState::new(EmulatorConfig::default(), "http://127.0.0.1:1").unwrap();
    let request = Request::post("/user_management/authorize/device")
        .body(Body::from(r#"{"client_id":"c","unknown":[1,2]}"#))
        .unwrap();
    let (status, _, body) = send(&state, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn unknown_paths_are_404_json_with_a_request_id() {
    let state = AppState::new(EmulatorConfig::default(), "http://127.0.0.1:1").unwrap();
    let (status, headers, body) = send(
        &state,
        Request::get("/nowhere").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "not_found");
    assert!(
        headers["x-request-id"]
            .to_str()
            .unwrap()
            .starts_with("req_")
    );
}

#[tokio::test]
async fn jwks_is_served_for_allowed_clients_only_when_an_allow_list_exists() {
    let config = EmulatorConfig {
        clients: vec!["client_ok".into()],
        ..EmulatorConfig::default()
    };
    let state = AppState::new(config, "http://127.0.0.1:1").unwrap();
    let get = |p: &str| Request::get(p).body(Body::empty()).unwrap();
    let (ok, _, body) = send(&state, get("/sso/jwks/client_ok")).await;
    assert_eq!(ok, StatusCode::OK);
    assert_eq!(body["keys"][0]["kid"], state.signing_key_id());
    let (missing, _, _) = send(&state, get("/sso/jwks/client_other")).await;
    assert_eq!(missing, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_missing_grant_type_is_invalid_request_with_no_store() {
    let state = AppState::new(EmulatorConfig::default(), "http://127.0.0.1:1").unwrap();
    let (status, headers, body) =
        send(&state, form("/user_management/authenticate", "client_id=c")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn logout_without_a_session_id_is_invalid_request() {
    let state = AppState::new(EmulatorConfig::default(), "http://127.0.0.1:1").unwrap();
    let request = Request::get("/user_management/sessions/logout")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(&state, request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
}

#[test]
fn a_config_file_can_point_at_a_signing_key_next_to_it() {
    let state = AppState::new(EmulatorConfig::default(), "http://127.0.0.1:1").unwrap();
    let dir = std::env::temp_dir().join(format!("wos-emu-router-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("key.pem"), state.signing_key_pem()).unwrap();
    std::fs::write(dir.join("emulator.toml"), "signing_key_pem = \"key.pem\"\n").unwrap();
    let config = EmulatorConfig::from_toml_file(&dir.join("emulator.toml")).unwrap();
    let again = AppState::new(config, "http://127.0.0.1:1").unwrap();
    assert_eq!(again.signing_key_id(), state.signing_key_id());
}
