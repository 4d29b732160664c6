use serde_json::{Value, json};

use super::*;

const DEVICE_CODE: &str = "planted-device-code-0123456789abcdef";

fn reply(overrides: Value) -> Value {
    let mut base = json!({
        "device_code": DEVICE_CODE,
        "user_code": "RRGQ-BJVS",
        "verification_uri": "https://demo.authkit.app/device",
        "verification_uri_complete": "https://demo.authkit.app/device?user_code=RRGQ-BJVS",
        "expires_in": 300,
        "interval": 5
    });
    for (k, v) in overrides.as_object().unwrap() {
        if v.is_null() && k.starts_with('-') {
            base.as_object_mut().unwrap().remove(&k[1..]);
        } else {
            base[k] = v.clone();
        }
    }
    base
}

fn parse(v: Value) -> Result<DeviceAuthorizationResponse, Error> {
    parse_device_authorization(&serde_json::to_vec(&v).unwrap())
}

#[test]
fn valid_reply_parses() {
    let r = parse(reply(json!({}))).unwrap();
    assert_eq!(&*r.device_code, DEVICE_CODE);
    assert_eq!(r.user_code.as_str(), "RRGQ-BJVS");
    assert_eq!(r.verification_uri, "https://demo.authkit.app/device");
    assert_eq!(
        r.verification_uri_complete,
        "https://demo.authkit.app/device?user_code=RRGQ-BJVS"
    );
    assert_eq!((r.expires_in, r.interval), (300, 5));
    assert_eq!(r.verification_host(), "demo.authkit.app");
}

#[test]
fn debug_never_shows_the_device_code() {
    let r = parse(reply(json!({}))).unwrap();
    let shown = format!("{r:?} {r:#?}");
    assert!(!shown.contains("planted"), "{shown}");
    assert!(shown.contains("RRGQ-BJVS"));
}

#[test]
fn missing_interval_means_five() {
    // Threat model row 1.
    let r = parse(reply(json!({"-interval": null}))).unwrap();
    assert_eq!(r.interval, 5);
}

#[test]
fn useless_intervals_mean_five() {
    // Threat model row 2: anything not a positive integer ⇒ 5.
    for bad in [
        json!(0),
        json!(-3),
        json!("abc"),
        json!(1.5),
        json!(0.2),
        json!(null),
        json!(true),
    ] {
        let r = parse(reply(json!({ "interval": bad.clone() }))).unwrap();
        assert_eq!(r.interval, 5, "{bad}");
    }
    for (good, want) in [(json!(7), 7), (json!("7"), 7), (json!(7.0), 7)] {
        let r = parse(reply(json!({ "interval": good.clone() }))).unwrap();
        assert_eq!(r.interval, want, "{good}");
    }
}

#[test]
fn expires_in_accepts_numbers_and_numeric_strings() {
    for (v, want) in [(json!(300), 300), (json!("600"), 600), (json!(299.9), 299)] {
        let r = parse(reply(json!({ "expires_in": v.clone() }))).unwrap();
        assert_eq!(r.expires_in, want, "{v}");
    }
    for bad in [json!(0), json!(-1), json!("soon"), json!(0.5), json!(null)] {
        assert!(
            parse(reply(json!({ "expires_in": bad.clone() }))).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn missing_required_members_are_protocol_errors() {
    // Threat model row 11: refused before anything is shown.
    for name in ["expires_in", "user_code", "device_code", "verification_uri"] {
        let mut v = reply(json!({}));
        v.as_object_mut().unwrap().remove(name);
        let err = parse(v).unwrap_err();
        assert!(err.to_string().contains(name), "{err}");
    }
    assert!(parse(reply(json!({"device_code": ""}))).is_err());
    assert!(parse_device_authorization(b"<html>").is_err());
}

#[test]
fn hostile_user_code_and_uri_are_refused() {
    assert!(matches!(
        parse(reply(json!({"user_code": "A\u{1b}]52;c;eA==\u{7}"}))),
        Err(Error::InvalidUserCode { .. })
    ));
    for uri in [
        "http://evil.example/device",
        "javascript:alert(1)",
        "file:///etc/passwd",
    ] {
        assert!(matches!(
            parse(reply(json!({"verification_uri": uri}))),
            Err(Error::InvalidVerificationUri { .. })
        ));
    }
}

#[test]
fn complete_uri_falls_back_unless_same_origin_and_valid() {
    let base = "https://demo.authkit.app/device";
    for other in [
        "https://evil.example/device?user_code=RRGQ-BJVS",
        "javascript:alert(1)",
        "http://demo.authkit.app/device",
        "https://demo.authkit.app/dev\nice",
    ] {
        let r = parse(reply(json!({ "verification_uri_complete": other }))).unwrap();
        assert_eq!(r.verification_uri_complete, base, "{other}");
    }
    let r = parse(reply(json!({"-verification_uri_complete": null}))).unwrap();
    assert_eq!(r.verification_uri_complete, base);
}

#[test]
fn authentication_response_parses_and_redacts() {
    let r: AuthenticationResponse = serde_json::from_value(json!({
        "user": {"object": "user", "id": "user_01", "email": "demo@example.com"},
        "organization_id": "org_01",
        "access_token": "planted-access-token",
        "refresh_token": "planted-refresh-token",
        "authentication_method": "MagicAuth",
        "impersonator": {"email": "admin@example.com", "reason": null},
        "token_type": "Bearer",
        "expires_in": 300
    }))
    .unwrap();
    assert_eq!(r.access_token.expose(), "planted-access-token");
    assert_eq!(
        r.authentication_method,
        Some(AuthenticationMethod::MagicAuth)
    );
    let shown = format!("{r:?} {r:#?}");
    assert!(!shown.contains("planted"), "{shown}");
}

#[test]
fn error_body_reads_both_spellings() {
    let (code, desc) =
        ErrorBody::parse(br#"{"error":"slow_down","error_description":"wait"}"#).unwrap();
    assert_eq!(
        (code.as_str(), desc.as_deref()),
        ("slow_down", Some("wait"))
    );
    let (code, desc) =
        ErrorBody::parse(br#"{"code":"rate_limit_exceeded","message":"later"}"#).unwrap();
    assert_eq!(
        (code.as_str(), desc.as_deref()),
        ("rate_limit_exceeded", Some("later"))
    );
    assert!(ErrorBody::parse(b"<html>502</html>").is_none());
    assert!(ErrorBody::parse(b"{}").is_none());
}
