//! The unverified JWT claims decoder (bookkeeping of `exp`, `sid`, `org_id`): never
//! panics, and its errors never quote the token. The input becomes the header and
//! claims; a fixed canary signature is appended, which must never show up in an error.
#![no_main]

use cli_auth::{SecretString, is_unsafe_char};
use libfuzzer_sys::fuzz_target;

const SIGNATURE: &str = "SIGNATURE-CANARY-7f3a9c1e";

fuzz_target!(|data: &[u8]| {
    let token = format!("{}.{SIGNATURE}", String::from_utf8_lossy(data));
    if let Err(error) = cli_auth::decode_unverified(&SecretString::new(token)) {
        let shown = error.to_string();
        assert!(!shown.chars().any(is_unsafe_char), "{shown:?}");
        assert!(!shown.contains(SIGNATURE), "{shown}");
        assert!(!format!("{error:?}").contains(SIGNATURE));
    }
});
