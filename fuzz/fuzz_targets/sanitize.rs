//! The terminal sanitizer. Input: 1 byte of limit, then the text. The output never
//! holds a control, bidi or zero-width character and never exceeds the limit.
#![no_main]

use cli_auth::{is_unsafe_char, sanitize};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&limit, text)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(text);
    let limit = usize::from(limit);
    let out = sanitize(&text, limit);
    assert!(!out.chars().any(is_unsafe_char), "{out:?}");
    assert!(out.chars().count() <= limit);
    if !text.chars().any(is_unsafe_char) && text.chars().count() <= limit {
        assert_eq!(out, text);
    }
});
