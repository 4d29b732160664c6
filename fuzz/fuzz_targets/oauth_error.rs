//! OAuth error bodies (RFC 6749 §5.2 and WorkOS's `code`/`message`): never panic, and
//! the error a 400 with that body becomes is terminal-safe and bounded, whatever the
//! code and description contain.
#![no_main]

use cli_auth::{TokenReply, is_unsafe_char};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = cli_auth::fuzzing::oauth_error(data);
    match cli_auth::fuzzing::token_reply(400, data, None, None) {
        Ok(TokenReply::Pending) => {
            assert_eq!(
                parsed.map(|(c, _)| c).as_deref(),
                Some("authorization_pending")
            )
        }
        Ok(TokenReply::SlowDown) => {
            assert_eq!(parsed.map(|(c, _)| c).as_deref(), Some("slow_down"))
        }
        Ok(other) => panic!("a 400 became {other:?}"),
        Err(error) => {
            let shown = error.to_string();
            assert!(!shown.chars().any(is_unsafe_char), "{shown:?}");
            assert!(shown.chars().count() < 1_000, "{}", shown.len());
        }
    }
});
