//! The user-code validator: accepted ⇒ 1 to 32 printable ASCII characters without
//! spaces, shown unchanged by the sanitizer; refused ⇒ a terminal-safe, short message.
#![no_main]

use cli_auth::{MAX_USER_CODE_CHARS, is_unsafe_char, sanitize, validate_user_code};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    match validate_user_code(&raw) {
        Ok(code) => {
            assert!((1..=MAX_USER_CODE_CHARS).contains(&code.len()));
            assert!(code.chars().all(|c| c.is_ascii_graphic()));
            assert_eq!(sanitize(&code, 64), code.as_str());
        }
        Err(error) => {
            let shown = error.to_string();
            assert!(!shown.chars().any(is_unsafe_char), "{shown:?}");
            assert!(shown.chars().count() < 300, "{}", shown.len());
        }
    }
});
