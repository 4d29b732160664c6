//! `Retry-After` values (delta-seconds or an HTTP-date): parsing and resolving against
//! any wall-clock time never panics.
#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let secs = u64::from_le_bytes(data[..8].try_into().expect("8 bytes")) % 100_000_000_000;
    let Ok(value) = std::str::from_utf8(&data[8..]) else {
        return;
    };
    if let Some(retry_after) = cli_auth::RetryAfter::parse(value) {
        let _ = retry_after.delay_from(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
    }
});
