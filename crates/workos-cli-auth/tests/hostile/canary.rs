//! Secret canaries: known values planted as the device code, the tokens and an API key
//! in every hostile response and in the environment of every run. Every captured
//! stdout and stderr of the hostile suite goes through [`assert_no_secrets`] (the
//! harness calls it on each run), so a secret that leaks into any output, log line,
//! error chain or panic message fails the scenario that leaked it.

use std::time::{SystemTime, UNIX_EPOCH};

/// The device code the hostile server hands out.
pub const DEVICE_CODE: &str = "DEVICECODE-CANARY-5b1e0c7a9d3f";
/// The refresh tokens the hostile server hands out (the first login, then a rotation).
pub const REFRESH_TOKEN: &str = "REFRESHTOKEN-CANARY-c41d8e2f7a";
pub const REFRESH_TOKEN_2: &str = "REFRESHTOKEN-CANARY-ROTATED-9e1f";
/// The signature part of every access token (the whole token is checked too).
pub const ACCESS_SIGNATURE: &str = "ACCESSTOKEN-CANARY-0a1b2c3d4e";
pub const ACCESS_SIGNATURE_2: &str = "ACCESSTOKEN-CANARY-ROTATED-77aa";
/// An API key in the environment: a public client must never send or print it.
pub const API_KEY: &str = "sk_test_CANARY_9f8e7d6c5b4a3928";

/// Every fixed secret; any output containing one of them (or the word `CANARY`, which
/// only secrets carry) leaked.
pub const ALL: [&str; 6] = [
    DEVICE_CODE,
    REFRESH_TOKEN,
    REFRESH_TOKEN_2,
    ACCESS_SIGNATURE,
    ACCESS_SIGNATURE_2,
    API_KEY,
];

/// Where printing a secret is the point of the command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allow {
    /// Nowhere.
    Nothing,
    /// `token`: stdout may hold access tokens (and nothing else secret).
    AccessTokenOnStdout,
    /// `login --json --show-tokens`: stdout may hold the access and refresh tokens.
    TokensOnStdout,
}

/// Panics (naming the canary and the stream) if `text` contains a secret.
pub fn assert_clean(stream: &str, text: &str) {
    for secret in ALL {
        assert!(
            !text.contains(secret),
            "secret {secret} leaked on {stream}:\n{text}"
        );
    }
    assert!(
        !text.contains("CANARY"),
        "a canary leaked on {stream}:\n{text}"
    );
}

/// The canary check for one run's captured streams.
pub fn assert_no_secrets(stdout: &str, stderr: &str, allow: Allow) {
    assert_clean("stderr", stderr);
    match allow {
        Allow::Nothing => assert_clean("stdout", stdout),
        Allow::AccessTokenOnStdout => {
            let rest = strip_access_tokens(stdout);
            assert_clean("stdout (besides the access token)", &rest);
        }
        Allow::TokensOnStdout => {
            let rest = strip_access_tokens(stdout)
                .replace(REFRESH_TOKEN, "")
                .replace(REFRESH_TOKEN_2, "");
            assert_clean("stdout (besides the tokens)", &rest);
        }
    }
}

fn strip_access_tokens(text: &str) -> String {
    text.replace(ACCESS_SIGNATURE, "")
        .replace(ACCESS_SIGNATURE_2, "")
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// A JWT-shaped access token (RS256 header, WorkOS-like claims) whose signature is
/// the canary. `exp_in` may be negative for an already-expired token.
pub fn access_token(signature: &str, exp_in: i64) -> String {
    access_token_for_session(signature, exp_in, "session_01HOSTILE")
}

/// [`access_token`] with the given `sid` claim.
pub fn access_token_for_session(signature: &str, exp_in: i64, sid: &str) -> String {
    let now = unix_now() as i64;
    let header = r#"{"alg":"RS256","kid":"hostile_key","typ":"JWT"}"#;
    let claims = serde_json::json!({
        "iss": "https://hostile.invalid/",
        "sub": "user_01HOSTILE",
        "sid": sid,
        "org_id": "org_01HOSTILE",
        "jti": "jti_01HOSTILE",
        "iat": now - 10,
        "exp": now + exp_in,
    });
    format!(
        "{}.{}.{signature}",
        base64url(header.as_bytes()),
        base64url(claims.to_string().as_bytes())
    )
}

fn base64url(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[test]
fn base64url_matches_known_vectors() {
    assert_eq!(base64url(b"f"), "Zg");
    assert_eq!(base64url(b"fo"), "Zm8");
    assert_eq!(base64url(b"foo"), "Zm9v");
    assert_eq!(base64url(b"\xfb\xff"), "-_8");
}

#[test]
fn the_canary_check_catches_a_leak() {
    let leaked = std::panic::catch_unwind(|| {
        assert_no_secrets("", &format!("debug: {DEVICE_CODE}"), Allow::Nothing)
    });
    assert!(leaked.is_err());
    let token = access_token(ACCESS_SIGNATURE, 60);
    assert_no_secrets(&format!("{token}\n"), "", Allow::AccessTokenOnStdout);
    let leaked = std::panic::catch_unwind(|| {
        assert_no_secrets(REFRESH_TOKEN, "", Allow::AccessTokenOnStdout)
    });
    assert!(leaked.is_err());
}
