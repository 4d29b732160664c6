//! A hostile device-authorization reply (threat-model rows 11, 13, 15, 16): nothing it
//! says reaches the terminal unescaped, nothing invalid is shown or opened, and no poll
//! starts after a refused reply.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::harness::*;
use crate::server::{AUTHENTICATE, AUTHORIZE, Response, Server};

/// The line that shows the code: present only when the reply was accepted.
const SHOWN: &str = "Your one-time code";

/// A server whose authorize endpoint answers `body` (raw JSON text).
async fn authorize_answers(response: Response) -> Server {
    let server = Server::start().await;
    server.on(AUTHORIZE, [response.into()]);
    server.then_always(AUTHENTICATE, pending());
    server
}

/// Runs a login against a device reply with `overrides` that must be refused before
/// anything is shown or polled; returns the output.
async fn refused(overrides: Value) -> Output {
    let server = scripted(overrides, vec![]).await;
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(1).assert_stderr_lacks(SHOWN);
    assert!(server.requests_to(AUTHENTICATE).is_empty(), "polled anyway");
    out
}

/// A `BROWSER` command that records every URL it is asked to open.
fn browser_recorder(cli: &Cli) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let log = cli.home().join("opened.txt");
    let script = cli.home().join("record-browser.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{}'\n", log.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, log)
}

/// A login that may open a browser (through the recorder); returns (output, opened URLs).
async fn login_with_browser(server: &Server) -> (Output, Vec<String>) {
    let cli = Cli::new();
    let (script, log) = browser_recorder(&cli);
    let cli = cli.env("BROWSER", script.to_str().unwrap());
    let url = server.url();
    let out = cli
        .run(&["login", "--client-id", CLIENT_ID, "--api-base-url", &url])
        .await;
    let opened = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    (out, opened)
}

// --- Row 11 ---------------------------------------------------------------------

#[tokio::test]
async fn row11_missing_required_members_fail_before_anything_is_shown() {
    for member in ["expires_in", "user_code", "device_code", "verification_uri"] {
        let out = refused(json!({ member: null })).await;
        assert!(
            out.error_line().contains(&format!("no `{member}`")),
            "{member}: {}",
            out.error_line()
        );
    }
}

#[tokio::test]
async fn zero_negative_or_textual_expires_in_is_refused() {
    for value in [json!(0), json!(-30), json!("soon"), json!(0.5)] {
        let out = refused(json!({ "expires_in": value })).await;
        assert!(out.error_line().contains("expires_in"), "{value}");
    }
}

// --- Rows 13, 15 and Unicode tricks in the user code ----------------------------

#[tokio::test]
async fn row13_user_code_with_osc_52_is_refused_and_shown_escaped() {
    let out = refused(json!({"user_code": "AB\u{1b}]52;c;ZXZpbA==\u{7}CD"})).await;
    assert!(out.error_line().contains(r"\u{1b}]52;c;"), "{}", out.stderr);
}

#[tokio::test]
async fn row15_a_100_kb_user_code_is_refused_with_a_short_diagnostic() {
    let out = refused(json!({"user_code": "A".repeat(100_000)})).await;
    assert!(out.error_line().len() < 400, "{}", out.error_line().len());
    assert!(out.stderr.len() < 200_000);
}

#[tokio::test]
async fn row15_a_user_code_with_a_newline_is_refused() {
    let out = refused(json!({"user_code": "WDJB\nOK Logged in"})).await;
    assert!(out.error_line().contains(r"\u{a}"), "{}", out.error_line());
}

#[tokio::test]
async fn user_code_with_a_bidi_override_is_refused() {
    let out = refused(json!({"user_code": "WDJB-\u{202e}THJM"})).await;
    assert!(
        out.error_line().contains(r"\u{202e}"),
        "{}",
        out.error_line()
    );
}

#[tokio::test]
async fn user_code_with_zero_width_or_non_ascii_characters_is_refused() {
    for code in ["WDJB\u{200d}-MJHT", "WDJB-MJH\u{0422}", "WDJB MJHT", ""] {
        refused(json!({ "user_code": code })).await;
    }
}

// --- Row 16 and the verification URIs ------------------------------------------

#[tokio::test]
async fn row16_dangerous_verification_uris_are_refused_and_never_opened() {
    for uri in [
        "http://evil.example/device",
        "javascript:alert(document.cookie)",
        "file:///etc/passwd",
        "https://api.workos.com@evil.example/device",
    ] {
        let server = scripted(json!({"verification_uri": uri}), vec![]).await;
        let (out, opened) = login_with_browser(&server).await;
        out.assert_code(1).assert_stderr_lacks(SHOWN);
        assert!(opened.is_empty(), "{uri} was opened: {opened:?}");
        assert!(
            out.error_line().contains("verification uri"),
            "{uri}: {}",
            out.stderr
        );
        assert!(server.requests_to(AUTHENTICATE).is_empty());
    }
}

#[tokio::test]
async fn verification_uri_with_a_zero_width_joiner_is_refused() {
    let server = Server::start().await;
    let uri = format!("{}/dev\u{200d}ice", server.url());
    server.on(
        AUTHORIZE,
        [Response::json(
            200,
            device_with(&server.url(), json!({"verification_uri": uri})),
        )
        .into()],
    );
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(1).assert_stderr_lacks(SHOWN);
    assert!(
        out.error_line().contains(r"\u{200d}"),
        "{}",
        out.error_line()
    );
}

#[tokio::test]
async fn the_same_origin_complete_uri_is_opened_after_the_code_is_shown() {
    let server = scripted(json!({}), vec![]).await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let (out, opened) = login_with_browser(&server).await;
    out.assert_code(0).assert_stderr_has(SHOWN);
    let complete = format!("{}/device?user_code={USER_CODE}", server.url());
    assert_eq!(opened, vec![complete]);
    // RFC 8628 §3.3.1: the user code is shown even when the complete URI is opened.
    out.assert_stderr_has(USER_CODE);
}

#[tokio::test]
async fn a_complete_uri_on_another_origin_is_neither_printed_nor_opened() {
    let evil = "https://evil.example/device?user_code=WDJB-MJHT";
    let server = scripted(json!({"verification_uri_complete": evil}), vec![]).await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let (out, opened) = login_with_browser(&server).await;
    out.assert_code(0).assert_stderr_lacks("evil.example");
    assert_eq!(opened, vec![format!("{}/device", server.url())]);
}

#[tokio::test]
async fn an_idn_homoglyph_host_is_shown_as_punycode() {
    // "wоrkos" with a Cyrillic о (U+043E).
    let uri = "https://w\u{43e}rkos.example/device";
    let server = scripted(
        json!({"verification_uri": uri, "verification_uri_complete": null}),
        vec![],
    )
    .await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let out = Cli::new().login(&server, &[]).await;
    let ascii = url::Url::parse(uri).unwrap().to_string();
    assert!(ascii.starts_with("https://xn--"), "{ascii}");
    out.assert_code(0)
        .assert_stderr_has(&ascii)
        .assert_stderr_lacks("w\u{43e}rkos");
}

// --- Malformed JSON -------------------------------------------------------------

async fn refused_body(response: Response) -> Output {
    let server = authorize_answers(response).await;
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(1).assert_stderr_lacks(SHOWN);
    assert!(server.requests_to(AUTHENTICATE).is_empty());
    out
}

#[tokio::test]
async fn duplicate_keys_in_the_device_reply_are_refused() {
    let body = format!(
        r#"{{"device_code":"{}","user_code":"WDJB-MJHT","user_code":"EVIL-CODE",
            "verification_uri":"http://127.0.0.1:1/device","expires_in":30}}"#,
        crate::canary::DEVICE_CODE
    );
    let out = refused_body(Response::text(200, "application/json", &body)).await;
    out.assert_stderr_has("duplicate field `user_code`");
}

#[tokio::test]
async fn wrong_types_in_the_device_reply_are_refused() {
    for overrides in [
        json!({"user_code": 12345678}),
        json!({"device_code": ["a", "b"]}),
        json!({"verification_uri": {"href": "https://x"}}),
        json!({"expires_in": [30]}),
    ] {
        refused(overrides).await;
    }
}

#[tokio::test]
async fn deeply_nested_garbage_is_refused_without_a_crash() {
    // 30 000 levels in a member parsed as a JSON value: 60 kB, under the 64 KiB cap,
    // so it reaches the parser.
    let body = format!(
        r#"{{"expires_in":{}{}}}"#,
        "[".repeat(30_000),
        "]".repeat(30_000)
    );
    let out = refused_body(Response::raw_body(200, body.into_bytes())).await;
    out.assert_stderr_lacks("panicked")
        .assert_stderr_has("recursion limit exceeded");
    let nested = format!(
        r#"{{"device_code":"x","deep":{}1{}}}"#,
        r#"{"a":"#.repeat(5000),
        "}".repeat(5000)
    );
    let out = refused_body(Response::raw_body(200, nested.into_bytes())).await;
    out.assert_stderr_lacks("panicked");
    // The same nesting in a token reply.
    let server = scripted(json!({}), vec![]).await;
    let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    server.then_always(AUTHENTICATE, Response::raw_body(200, deep.into_bytes()));
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(1)
        .assert_stderr_has("not json")
        .assert_stderr_lacks("panicked");
    assert_eq!(server.requests_to(AUTHENTICATE).len(), 1);
}

#[tokio::test]
async fn a_200_html_page_is_refused_and_not_printed() {
    let html = "<!doctype html><title>Login OK</title>HTML-MARKER \u{1b}]8;;https://evil\u{7}";
    let out = refused_body(Response::text(200, "text/html", html)).await;
    out.assert_stderr_lacks("HTML-MARKER")
        .assert_stderr_has("not valid json");
}

#[tokio::test]
async fn an_empty_or_binary_body_is_refused() {
    refused_body(Response::raw_body(200, Vec::new())).await;
    refused_body(Response::raw_body(200, vec![0xff, 0xfe, 0x1b, 0x00, 0x9b])).await;
}

// --- Error answers of the authorize endpoint ------------------------------------

#[tokio::test]
async fn a_403_access_denied_hints_that_cli_auth_is_not_enabled() {
    let server = authorize_answers(Response::json(
        403,
        json!({"error": "access_denied", "error_description": "CLI Auth is disabled"}),
    ))
    .await;
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(1)
        .assert_stderr_has("is CLI Auth enabled for this environment");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_401_without_an_oauth_body_is_reported_by_status() {
    let server = authorize_answers(Response::text(
        401,
        "text/plain",
        "Unauthorized HTML-MARKER",
    ))
    .await;
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(1)
        .assert_stderr_has("HTTP 401")
        .assert_stderr_lacks("HTML-MARKER");
}

#[tokio::test]
async fn invalid_client_is_reported_with_its_escaped_description() {
    let server = authorize_answers(Response::json(
        400,
        json!({"error": "invalid_client", "error_description": "Unknown client \u{1b}[31mRED"}),
    ))
    .await;
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(1)
        .assert_stderr_has("invalid_client")
        .assert_stderr_has(r"\u{1b}[31mRED");
}

#[tokio::test]
async fn slow_down_on_the_authorize_call_stops_without_a_retry_loop() {
    let server = Server::start().await;
    server.then_always(
        AUTHORIZE,
        Response::json(400, json!({"error": "slow_down"})),
    );
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(1).assert_stderr_has("slow_down");
    assert_eq!(server.requests().len(), 1, "the start call was retried");
}

#[tokio::test]
async fn a_429_on_the_authorize_call_is_reported_not_retried() {
    let server = Server::start().await;
    server.then_always(
        AUTHORIZE,
        Response::json(429, json!({"code": "rate_limit_exceeded"})).header("retry-after", "1"),
    );
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(1).assert_stderr_has("HTTP 429");
    assert_eq!(server.requests().len(), 1);
}

// --- What the client sends ------------------------------------------------------

#[tokio::test]
async fn requests_carry_the_client_id_only_and_never_an_api_key() {
    let server = scripted(json!({}), vec![pending()]).await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(0);
    let requests = server.requests();
    assert_eq!(requests[0].path, AUTHORIZE);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].json(), json!({"client_id": CLIENT_ID}));
    for request in &requests {
        let text = request.text();
        assert!(!text.contains(crate::canary::API_KEY), "{text}");
        assert!(!text.contains("sk_test"), "{text}");
        assert!(
            !text.to_ascii_lowercase().contains("client_secret"),
            "{text}"
        );
        assert!(request.header("authorization").is_none(), "{text}");
        assert!(
            request
                .header("user-agent")
                .is_some_and(|ua| ua.starts_with("cli-auth/")),
            "{text}"
        );
    }
    // The device code goes to the token endpoint only.
    assert!(!requests[0].text().contains(crate::canary::DEVICE_CODE));
}

#[tokio::test]
async fn the_prompt_shows_code_url_warning_and_expiry() {
    let server = scripted(json!({"expires_in": 300}), vec![]).await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(0)
        .assert_stderr_has(USER_CODE)
        .assert_stderr_has(&format!("{}/device", server.url()))
        .assert_stderr_has("only if you started this login yourself")
        .assert_stderr_has("expires in 5m 00s");
    let code_at = out.stderr.find(USER_CODE).unwrap();
    let url_at = out
        .stderr
        .find(&format!("{}/device", server.url()))
        .unwrap();
    assert!(code_at < url_at, "the code comes before the URL");
    assert!(out.stdout.is_empty(), "stdout: {}", out.stdout);
}
