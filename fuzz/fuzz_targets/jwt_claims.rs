//! The unverified JWT claims decoder (bookkeeping of `exp`, `sid`, `org_id`): never
//! panics, and its errors never quote the token.
#![no_main]

use cli_auth::{SecretString, is_unsafe_char};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data).into_owned();
    if let Err(error) = cli_auth::decode_unverified(&SecretString::new(token.clone())) {
        let shown = error.to_string();
        assert!(!shown.chars().any(is_unsafe_char), "{shown:?}");
        if token.len() >= 16 {
            assert!(!shown.contains(&token) && !format!("{error:?}").contains(&token));
        }
    }
});
