//! One answer of `POST /user_management/authenticate` as the poller classifies it.
//! Input: 2 bytes of status, then the body. Never panics; a transient status never
//! stops the login; tokens are issued only on 2xx; errors are terminal-safe and never
//! quote a token string from the body (the seeds plant tokens containing `CANARY`).
#![no_main]

use cli_auth::{TokenReply, is_unsafe_char};
use libfuzzer_sys::fuzz_target;

/// Strings that contain `CANARY` under `access_token` / `refresh_token` (however
/// nested) go to `tokens`; every other string value and key goes to `others`. A token
/// string that also occurs elsewhere in the body may legitimately be quoted from there.
fn strings(
    value: &serde_json::Value,
    inside: bool,
    tokens: &mut Vec<String>,
    others: &mut Vec<String>,
) {
    match value {
        serde_json::Value::String(s) if inside && s.contains("CANARY") => tokens.push(s.clone()),
        serde_json::Value::String(s) => others.push(s.clone()),
        serde_json::Value::Array(items) => items
            .iter()
            .for_each(|v| strings(v, inside, tokens, others)),
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                others.push(k.clone());
                let inside = inside || k == "access_token" || k == "refresh_token";
                strings(v, inside, tokens, others);
            }
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let status = 100 + u16::from_be_bytes([data[0], data[1]]) % 900;
    let body = &data[2..];
    let (mut planted, mut others) = (Vec::new(), Vec::new());
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        strings(&value, false, &mut planted, &mut others);
    }
    planted.retain(|t| !others.iter().any(|o| o.contains(t.as_str())));
    match cli_auth::fuzzing::token_reply(status, body, None, None) {
        Ok(TokenReply::Issued(tokens)) => {
            assert!((200..300).contains(&status));
            let debug = format!("{tokens:?}");
            for s in &planted {
                assert!(!debug.contains(s.as_str()), "token in Debug");
            }
        }
        Ok(TokenReply::Unavailable(u)) => {
            assert!(matches!(status, 408 | 429 | 500..=599));
            assert!(!u.reason.chars().any(is_unsafe_char));
        }
        Ok(TokenReply::Pending | TokenReply::SlowDown) => {}
        Err(error) => {
            assert!(!matches!(status, 408 | 429 | 500..=599));
            let shown = error.to_string();
            let debug = format!("{error:?}");
            assert!(!shown.chars().any(is_unsafe_char), "{shown:?}");
            for s in &planted {
                assert!(!shown.contains(s.as_str()), "token in Display: {shown}");
                assert!(!debug.contains(s.as_str()), "token in Debug: {debug}");
            }
        }
    }
});
