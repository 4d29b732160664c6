//! Property tests for the invariants the fuzz targets in `fuzz/` check, plus the
//! unit-level secret canary over every public type that holds a secret.
//!
//! - the sanitizer: no control, bidi or zero-width character ever comes out, the
//!   output fits the limit, and safe text that fits is left alone;
//! - the verification-URI validator: accepted ⇒ https or loopback http, no userinfo,
//!   no control or whitespace character in the raw string;
//! - the user-code validator: accepted ⇒ 1–32 printable ASCII without spaces;
//! - the device-authorization parser and the token-reply classifier: never panic;
//!   what they accept is validated; their errors are terminal-safe and never quote a
//!   token or device code;
//! - the JWT claims decoder and `Retry-After`: never panic, never echo the token.

use std::time::{Duration, SystemTime};

use cli_auth::fuzzing;
use cli_auth::{
    Client, Error, MAX_USER_CODE_CHARS, RetryAfter, SecretString, TokenReply, is_unsafe_char,
    same_origin, sanitize, validate_user_code, validate_verification_uri,
};
use proptest::prelude::*;
use serde_json::{Value, json};

// --- Strategies ---------------------------------------------------------------------

/// Characters that attack terminals, mixed with ordinary ones.
fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>(),
        2 => proptest::char::range('\u{0}', '\u{9f}'),
        1 => prop::sample::select(vec![
            '\u{1b}', '\u{7}', '\n', '\r', '\t', '\u{7f}', '\u{9b}', '\u{9d}', '\u{61c}',
            '\u{200b}', '\u{200d}', '\u{200e}', '\u{202a}', '\u{202e}', '\u{2028}', '\u{2029}',
            '\u{2060}', '\u{2064}', '\u{2066}', '\u{2069}', '\u{feff}', 'é', '✓', '𝔘',
        ]),
    ]
}

fn hostile_string(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(hostile_char(), 0..max).prop_map(|v| v.into_iter().collect())
}

/// URI-shaped strings: a scheme, optional userinfo, a host, a port, a path, each
/// sometimes poisoned.
fn uri_like() -> impl Strategy<Value = String> {
    let scheme = prop::sample::select(vec![
        "https://",
        "http://",
        "HTTPS://",
        "javascript:",
        "file://",
        "data:",
        "ftp://",
        "",
        "https:/",
        "//",
    ]);
    let userinfo = prop::sample::select(vec!["", "", "", "user@", "u:p@", "api.workos.com@"]);
    let host = prop::sample::select(vec![
        "example.authkit.app",
        "127.0.0.1",
        "127.0.0.2",
        "[::1]",
        "localhost",
        "localhost.evil.example",
        "w\u{43e}rkos.example",
        "xn--wrkos-jye.example",
        "10.0.0.1",
        "",
        "exa mple.com",
        "exa\tmple.com",
    ]);
    let port = prop::sample::select(vec!["", ":443", ":8080", ":0", ":99999"]);
    (
        scheme,
        userinfo,
        host,
        port,
        hostile_string(12),
        hostile_string(4),
    )
        .prop_map(|(scheme, userinfo, host, port, path, extra)| {
            format!("{scheme}{userinfo}{host}{port}/device{path}{extra}")
        })
}

/// JSON values for one member: the right type, the wrong type, hostile text.
fn member_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        (0u64..1000).prop_map(Value::from),
        hostile_string(40).prop_map(Value::from),
        uri_like().prop_map(Value::from),
        Just(json!("WDJB-MJHT")),
        Just(json!("https://example.authkit.app/device")),
        Just(json!(
            "https://example.authkit.app/device?user_code=WDJB-MJHT"
        )),
        Just(json!(["a", 1])),
        Just(json!({"nested": {"x": 1}})),
    ]
}

const DEVICE_CANARY: &str = "DEVICECODE-CANARY-proptest";
const ACCESS_CANARY: &str = "ACCESSTOKEN-CANARY-proptest";
const REFRESH_CANARY: &str = "REFRESHTOKEN-CANARY-proptest";

fn device_body() -> impl Strategy<Value = Vec<u8>> {
    let members = proptest::collection::btree_map(
        prop::sample::select(vec![
            "device_code",
            "user_code",
            "verification_uri",
            "verification_uri_complete",
            "expires_in",
            "interval",
            "unknown",
        ]),
        member_value(),
        0..7,
    );
    (members, any::<bool>()).prop_map(|(members, plant)| {
        let mut doc = serde_json::Map::new();
        for (k, v) in members {
            doc.insert(k.to_owned(), v);
        }
        if plant {
            doc.insert("device_code".into(), json!(DEVICE_CANARY));
        }
        Value::Object(doc).to_string().into_bytes()
    })
}

fn token_body() -> impl Strategy<Value = Vec<u8>> {
    let user = prop_oneof![
        Just(json!({"id": "user_01", "email": "a@b.c"})),
        Just(json!({"id": 5, "email": "a@b.c"})),
        Just(json!("user")),
        Just(Value::Null),
    ];
    let secret = |canary: &'static str| {
        prop_oneof![
            Just(json!(canary)),
            Just(json!([canary])),
            Just(json!({"t": canary})),
            Just(json!(7)),
            Just(Value::Null),
        ]
    };
    let code = prop::sample::select(vec![
        "",
        "authorization_pending",
        "slow_down",
        "access_denied",
        "expired_token",
        "invalid_grant",
        "invalid_client",
        "weird\u{1b}[2J",
    ]);
    (
        user,
        secret(ACCESS_CANARY),
        secret(REFRESH_CANARY),
        code,
        hostile_string(30),
        any::<u8>(),
    )
        .prop_map(|(user, access, refresh, code, description, shape)| {
            let mut doc = serde_json::Map::new();
            if shape & 1 != 0 {
                doc.insert("user".into(), user);
            }
            if shape & 2 != 0 {
                doc.insert("access_token".into(), access);
            }
            if shape & 4 != 0 {
                doc.insert("refresh_token".into(), refresh);
            }
            if shape & 8 != 0 {
                let key = if shape & 16 != 0 { "error" } else { "code" };
                doc.insert(key.into(), json!(code));
            }
            if shape & 32 != 0 {
                let key = if shape & 64 != 0 {
                    "error_description"
                } else {
                    "message"
                };
                doc.insert(key.into(), json!(description));
            }
            Value::Object(doc).to_string().into_bytes()
        })
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        prop::sample::select(vec![
            200u16, 201, 204, 301, 307, 308, 400, 401, 403, 404, 408, 429, 500, 502, 503
        ]),
        100u16..1000,
    ]
}

/// An error as the user would see it and as a log would record it.
fn assert_error_is_safe(error: &Error) -> Result<(), TestCaseError> {
    let shown = error.to_string();
    let debug = format!("{error:?}");
    prop_assert!(
        !shown.chars().any(is_unsafe_char),
        "unsafe char in {shown:?}"
    );
    prop_assert!(
        shown.chars().count() < 2_000,
        "unbounded message: {}",
        shown.len()
    );
    for canary in [DEVICE_CANARY, ACCESS_CANARY, REFRESH_CANARY] {
        prop_assert!(!shown.contains(canary), "{canary} in Display: {shown}");
        prop_assert!(!debug.contains(canary), "{canary} in Debug: {debug}");
    }
    Ok(())
}

// --- Properties ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn sanitize_output_is_terminal_safe_and_bounded(input in hostile_string(300), max in 0usize..200) {
        let out = sanitize(&input, max);
        prop_assert!(!out.chars().any(is_unsafe_char), "{out:?}");
        prop_assert!(out.chars().count() <= max);
    }

    #[test]
    fn sanitize_leaves_safe_text_that_fits_alone(input in any::<String>()) {
        let fits = input.chars().count();
        if !input.chars().any(is_unsafe_char) {
            prop_assert_eq!(sanitize(&input, fits), input.clone());
        }
        // Escaping is idempotent once nothing is cut: escapes are plain ASCII.
        let once = sanitize(&input, usize::MAX);
        prop_assert_eq!(sanitize(&once, usize::MAX), once);
    }

    #[test]
    fn accepted_verification_uris_are_https_or_loopback_http(raw in uri_like()) {
        if let Ok(url) = validate_verification_uri(&raw) {
            prop_assert!(!raw.chars().any(|c| c.is_whitespace() || c.is_control() || is_unsafe_char(c)), "{raw:?}");
            let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
            prop_assert!(url.scheme() == "https" || (url.scheme() == "http" && loopback), "{raw:?}");
            prop_assert!(url.username().is_empty() && url.password().is_none(), "{raw:?}");
            prop_assert!(url.host().is_some());
            prop_assert!(url.as_str().is_ascii(), "shown form is not ASCII: {url}");
        }
    }

    #[test]
    fn accepted_user_codes_are_short_printable_ascii(raw in hostile_string(40)) {
        match validate_user_code(&raw) {
            Ok(code) => {
                prop_assert!((1..=MAX_USER_CODE_CHARS).contains(&code.len()));
                prop_assert!(code.chars().all(|c| c.is_ascii_graphic()));
                prop_assert_eq!(sanitize(&code, 64), code.to_string());
            }
            Err(e) => assert_error_is_safe(&e)?,
        }
    }

    #[test]
    fn device_authorization_parser_validates_what_it_accepts(body in device_body()) {
        match fuzzing::device_authorization(&body) {
            Ok(data) => {
                prop_assert!(validate_user_code(&data.user_code).is_ok());
                let uri = validate_verification_uri(&data.verification_uri);
                prop_assert!(uri.is_ok());
                let complete = validate_verification_uri(&data.verification_uri_complete);
                prop_assert!(same_origin(&uri.unwrap(), &complete.unwrap()));
                prop_assert!(data.expires_in >= 1 && data.interval >= 1);
                prop_assert!(!data.device_code.is_empty());
                let debug = format!("{data:?}");
                prop_assert!(!debug.contains(DEVICE_CANARY));
            }
            Err(e) => assert_error_is_safe(&e)?,
        }
    }

    #[test]
    fn device_authorization_parser_survives_arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Err(e) = fuzzing::device_authorization(&body) {
            assert_error_is_safe(&e)?;
        }
    }

    #[test]
    fn token_replies_never_leak_tokens_and_never_issue_on_failure(
        status in status(),
        body in token_body(),
        retry_after in proptest::option::of(hostile_string(30)),
        location in proptest::option::of(hostile_string(30)),
    ) {
        let reply = fuzzing::token_reply(status, &body, retry_after.as_deref(), location.as_deref());
        match reply {
            Ok(TokenReply::Issued(tokens)) => {
                prop_assert!((200..300).contains(&status));
                let debug = format!("{tokens:?}");
                prop_assert!(!debug.contains(ACCESS_CANARY) && !debug.contains(REFRESH_CANARY));
            }
            Ok(TokenReply::Unavailable(u)) => {
                prop_assert!(matches!(status, 408 | 429 | 500..=599), "{status}");
                prop_assert!(!u.reason.chars().any(is_unsafe_char));
            }
            Ok(TokenReply::Pending | TokenReply::SlowDown) => {
                prop_assert!((200..300).contains(&status) || (400..500).contains(&status));
            }
            Err(e) => {
                prop_assert!(!matches!(status, 408 | 429 | 500..=599), "a transient status stopped the login");
                assert_error_is_safe(&e)?;
            }
        }
    }

    #[test]
    fn oauth_error_parser_reads_either_spelling(code in hostile_string(20), description in proptest::option::of(hostile_string(20)), wire_names in any::<bool>()) {
        let (c, d) = if wire_names { ("error", "error_description") } else { ("code", "message") };
        let mut doc = json!({ c: code });
        if let Some(desc) = &description {
            doc[d] = json!(desc);
        }
        let parsed = fuzzing::oauth_error(doc.to_string().as_bytes());
        prop_assert_eq!(parsed, Some((code, description)));
    }

    #[test]
    fn jwt_decoder_never_panics_or_echoes_the_token(
        header in hostile_string(40),
        claims in hostile_string(40),
        dots in 0usize..4,
    ) {
        let token = match dots {
            0 => format!("{header}{claims}{ACCESS_CANARY}"),
            1 => format!("{header}.{ACCESS_CANARY}"),
            2 => format!("{header}.{claims}.{ACCESS_CANARY}"),
            _ => format!("eyJhbGciOiJSUzI1NiJ9.{claims}.{ACCESS_CANARY}.x"),
        };
        if let Err(e) = cli_auth::decode_unverified(&SecretString::new(token)) {
            assert_error_is_safe(&e)?;
        }
    }

    #[test]
    fn retry_after_never_panics_and_dates_resolve_within_bounds(value in hostile_string(40), offset in 0u64..10_000_000_000) {
        if let Some(ra) = RetryAfter::parse(&value) {
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(offset);
            let _ = ra.delay_from(now);
        }
    }
}

// --- Regressions the fuzzers and properties found ------------------------------------------

// (none yet; a crashing input goes here as a plain #[test] with the bytes inline)

// --- The unit-level secret canary ---------------------------------------------------------------

fn assert_no_canary(what: &str, text: &str) {
    for canary in [
        DEVICE_CANARY,
        ACCESS_CANARY,
        REFRESH_CANARY,
        "sk_test_CANARY",
    ] {
        assert!(
            !text.contains(canary),
            "{canary} leaked through {what}: {text}"
        );
    }
}

fn canary_tokens_body() -> Vec<u8> {
    json!({
        "user": {"id": "user_01", "email": "a@b.c"},
        "access_token": ACCESS_CANARY,
        "refresh_token": REFRESH_CANARY,
    })
    .to_string()
    .into_bytes()
}

#[test]
fn debug_of_every_secret_holding_type_is_redacted() {
    let secret = SecretString::new(ACCESS_CANARY.to_owned());
    assert_no_canary("SecretString", &format!("{secret:?} {secret:#?}"));

    let device = json!({
        "device_code": DEVICE_CANARY, "user_code": "WDJB-MJHT",
        "verification_uri": "https://example.authkit.app/device", "expires_in": 300
    });
    let data = fuzzing::device_authorization(device.to_string().as_bytes()).unwrap();
    assert_no_canary(
        "DeviceAuthorizationResponse",
        &format!("{data:?} {data:#?}"),
    );
    assert_no_canary("DeviceCode", &format!("{:?}", data.device_code));

    let Ok(TokenReply::Issued(tokens)) =
        fuzzing::token_reply(200, &canary_tokens_body(), None, None)
    else {
        panic!("the canary tokens parse");
    };
    assert_no_canary("AuthenticationResponse", &format!("{tokens:?} {tokens:#?}"));

    let client = Client::builder()
        .client_id("client_01")
        .api_key("sk_test_CANARY_unit")
        .build();
    assert_no_canary("Client", &format!("{client:?}"));
    let builder = Client::builder().api_key("sk_test_CANARY_unit");
    assert_no_canary("ClientBuilder", &format!("{builder:?}"));

    let cred = cli_auth::store::StoredCredential {
        profile: "default".into(),
        client_id: "client_01".into(),
        api_base_url: "https://api.workos.com".into(),
        user_id: "user_01".into(),
        email: None,
        organization_id: None,
        session_id: None,
        access_token: Some(ACCESS_CANARY.into()),
        access_token_expires_at: Some(1),
        refresh_token: REFRESH_CANARY.into(),
        store: cli_auth::store::StoreKind::File,
        saved_at: 0,
    };
    assert_no_canary("StoredCredential", &format!("{cred:?} {cred:#?}"));
}

#[test]
fn errors_built_from_canary_laden_replies_never_quote_them() {
    // Wrong types around the tokens, an error body next to them, truncated JSON.
    let bodies = [
        json!({"user": {"id": "u", "email": "e"}, "access_token": [ACCESS_CANARY], "refresh_token": REFRESH_CANARY}),
        json!({"user": 5, "access_token": ACCESS_CANARY, "refresh_token": REFRESH_CANARY}),
        json!({"access_token": ACCESS_CANARY}),
        json!({"error": "invalid_grant", "refresh_token": {"x": REFRESH_CANARY}}),
    ];
    for body in bodies {
        for status in [200, 400] {
            if let Err(e) = fuzzing::token_reply(status, body.to_string().as_bytes(), None, None) {
                assert_no_canary("error Display", &e.to_string());
                assert_no_canary("error Debug", &format!("{e:?}"));
            }
        }
    }
    let truncated = &canary_tokens_body()[..60];
    let e = fuzzing::token_reply(200, truncated, None, None).unwrap_err();
    assert_no_canary("truncated reply error", &format!("{e} {e:?}"));

    let device = format!(r#"{{"device_code":"{DEVICE_CANARY}","user_code":7}}"#);
    let e = fuzzing::device_authorization(device.as_bytes()).unwrap_err();
    assert_no_canary("device reply error", &format!("{e} {e:?}"));

    let jwt = SecretString::new(format!("not-a-jwt.{ACCESS_CANARY}"));
    let e = cli_auth::decode_unverified(&jwt).unwrap_err();
    assert_no_canary("JWT decode error", &format!("{e} {e:?}"));
}

#[test]
fn a_panic_that_formats_secrets_with_debug_carries_none() {
    let Ok(TokenReply::Issued(tokens)) =
        fuzzing::token_reply(200, &canary_tokens_body(), None, None)
    else {
        panic!("the canary tokens parse");
    };
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let caught = std::panic::catch_unwind(|| panic!("unexpected reply: {tokens:?}"));
    std::panic::set_hook(hook);
    let payload = caught.unwrap_err();
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("unexpected reply"));
    assert_no_canary("panic message", &message);
}
