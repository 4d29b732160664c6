//! `POST /user_management/authorize/device` success bodies: never panic; whatever is
//! accepted was validated (user code, both URIs on the same origin, positive numbers);
//! every error is terminal-safe and never quotes the device code.
#![no_main]

use cli_auth::{is_unsafe_char, same_origin, validate_user_code, validate_verification_uri};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match cli_auth::fuzzing::device_authorization(data) {
        Ok(reply) => {
            assert!(validate_user_code(&reply.user_code).is_ok());
            let uri = validate_verification_uri(&reply.verification_uri).expect("validated uri");
            let complete = validate_verification_uri(&reply.verification_uri_complete)
                .expect("validated complete uri");
            assert!(same_origin(&uri, &complete));
            assert!(reply.expires_in >= 1 && reply.interval >= 1);
            assert_eq!(format!("{:?}", reply.device_code), "DeviceCode(<redacted>)");
            assert!(format!("{reply:?}").contains("DeviceCode(<redacted>)"));
        }
        Err(error) => {
            let shown = error.to_string();
            assert!(!shown.chars().any(is_unsafe_char), "{shown:?}");
            assert!(shown.chars().count() < 2_000);
        }
    }
});
