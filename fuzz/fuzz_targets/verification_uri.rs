//! The verification-URI validator: accepted ⇒ https or loopback http, a host, no
//! userinfo, no control or whitespace character in the raw string, and an ASCII
//! (punycode) serialization.
#![no_main]

use cli_auth::{is_unsafe_char, validate_verification_uri};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    match validate_verification_uri(raw) {
        Ok(url) => {
            assert!(
                !raw.chars()
                    .any(|c| c.is_whitespace() || c.is_control() || is_unsafe_char(c))
            );
            let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
            assert!(
                url.scheme() == "https" || (url.scheme() == "http" && loopback),
                "{raw:?}"
            );
            assert!(url.host().is_some());
            assert!(
                url.username().is_empty() && url.password().is_none(),
                "{raw:?}"
            );
            assert!(url.as_str().is_ascii());
        }
        Err(error) => {
            let shown = error.to_string();
            assert!(!shown.chars().any(is_unsafe_char), "{shown:?}");
        }
    }
});
