//! Random and derived identifiers: opaque secrets, WorkOS-style object ids
//! (`user_01…`, `session_01…`), request ids, and the SHA-256 fingerprints
//! under which secrets are stored.
//!
//! Everything random comes from `aws_lc_rs::rand` (a CSPRNG) and every
//! alphabet is sampled by rejection, so no character is more likely than
//! another (no modulo bias). This module knows nothing about HTTP.

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// `[A-Za-z0-9]`: the alphabet of device codes and refresh tokens.
pub(crate) const ALPHANUMERIC: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Crockford base 32 as used by ULIDs (no I, L, O, U).
const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Draws `len` characters uniformly from `alphabet` (at most 256 symbols).
///
/// Rejection sampling: a random byte is used only when it falls below the
/// largest multiple of the alphabet size, so each symbol is equally likely.
pub(crate) fn random_string(alphabet: &[u8], len: usize) -> String {
    assert!(!alphabet.is_empty() && alphabet.len() <= 256);
    let n = alphabet.len();
    let limit = 256 - (256 % n);
    let rng = SystemRandom::new();
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        // An error here means the OS has no entropy source: nothing safe can
        // be issued without one, so failing loudly is the only option.
        rng.fill(&mut buf).expect("the system CSPRNG failed");
        for &b in &buf {
            if usize::from(b) < limit && out.len() < len {
                out.push(char::from(alphabet[usize::from(b) % n]));
            }
        }
    }
    out
}

/// A fresh opaque secret: 64 characters of `[A-Za-z0-9]` (about 381 bits),
/// the shape WorkOS uses for device codes.
pub(crate) fn opaque_secret() -> String {
    random_string(ALPHANUMERIC, 64)
}

/// A new WorkOS-style id: `prefix` + `_` + a 26-character ULID-like body whose
/// first ten characters encode the current wall-clock milliseconds (so ids sort
/// by creation time, like production) and the rest are random.
pub(crate) fn object_id(prefix: &str, unix_millis: u128) -> String {
    format!("{prefix}_{}", ulid(unix_millis))
}

/// A 26-character ULID-like string: ten characters of timestamp, sixteen
/// random ones, all Crockford base 32.
pub(crate) fn ulid(unix_millis: u128) -> String {
    let mut time_part = [0u8; 10];
    let mut t = unix_millis & ((1u128 << 48) - 1);
    for slot in time_part.iter_mut().rev() {
        *slot = CROCKFORD[(t % 32) as usize];
        t /= 32;
    }
    let time_part = String::from_utf8_lossy(&time_part).into_owned();
    format!("{time_part}{}", random_string(CROCKFORD, 16))
}

/// A deterministic WorkOS-style id derived from `seed`, so a configured user
/// without an explicit id keeps the same id across restarts.
pub(crate) fn derived_id(prefix: &str, seed: &str) -> String {
    let hash = digest::digest(&digest::SHA256, seed.as_bytes());
    let body: String = hash
        .as_ref()
        .iter()
        .take(24)
        .map(|b| char::from(CROCKFORD[usize::from(b % 32)]))
        .collect();
    format!("{prefix}_01{body}")
}

/// A request id for the `X-Request-ID` header: `req_` and 26 Crockford
/// base-32 characters, 13 drawn at random once per process and 13 encoding
/// a per-process counter. Unique within the process, unlikely to collide
/// across processes (65 random bits), and costs no RNG call per request.
/// Not a secret: nothing is authorized by it.
pub(crate) fn request_id() -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| random_string(CROCKFORD, 13));
    let mut n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut id = String::with_capacity(4 + 26);
    id.push_str("req_");
    id.push_str(prefix);
    // 13 characters of 5 bits hold all 64 bits of the counter.
    let mut digits = [0u8; 13];
    for slot in digits.iter_mut().rev() {
        *slot = CROCKFORD[(n % 32) as usize];
        n /= 32;
    }
    id.extend(digits.iter().map(|&b| char::from(b)));
    id
}

/// The SHA-256 of a secret: the registry stores fingerprints of device codes
/// and refresh tokens, never the secrets themselves.
pub(crate) type Fingerprint = [u8; 32];

/// Computes the [`Fingerprint`] of a secret.
pub(crate) fn fingerprint(secret: &str) -> Fingerprint {
    let hash = digest::digest(&digest::SHA256, secret.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(hash.as_ref());
    out
}

/// Lowercase hex of a fingerprint, as it is written to the state directory.
pub(crate) fn fingerprint_hex(fp: &Fingerprint) -> String {
    fp.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses [`fingerprint_hex`] output; `None` unless exactly 64 hex digits.
pub(crate) fn fingerprint_from_hex(hex: &str) -> Option<Fingerprint> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(hex.as_bytes().chunks(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *slot = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

/// Unix milliseconds of a wall-clock time (0 before the epoch).
pub(crate) fn unix_millis(t: time::OffsetDateTime) -> u128 {
    u128::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_string_uses_only_the_alphabet_and_the_requested_length() {
        let s = random_string(b"AB", 500);
        assert_eq!(s.len(), 500);
        assert!(s.chars().all(|c| c == 'A' || c == 'B'));
        // Both symbols show up: 500 draws all equal has probability 2^-499.
        assert!(s.contains('A') && s.contains('B'));
    }

    #[test]
    fn object_ids_have_the_workos_shape() {
        let id = object_id("user", 1_700_000_000_000);
        let body = id.strip_prefix("user_").unwrap();
        assert_eq!(body.len(), 26);
        assert!(body.starts_with("01"));
        assert!(body.bytes().all(|b| CROCKFORD.contains(&b)));
    }

    #[test]
    fn request_ids_have_the_old_shape_and_are_unique() {
        let a = request_id();
        let b = request_id();
        assert_ne!(a, b);
        for id in [&a, &b] {
            let body = id.strip_prefix("req_").unwrap();
            assert_eq!(body.len(), 26);
            assert!(body.bytes().all(|c| CROCKFORD.contains(&c)));
        }
        assert_eq!(a[..17], b[..17], "one random prefix per process");
    }

    #[test]
    fn fingerprints_round_trip_through_hex() {
        let fp = fingerprint("secret");
        let hex = fingerprint_hex(&fp);
        assert_eq!(hex.len(), 64);
        assert_eq!(fingerprint_from_hex(&hex), Some(fp));
        assert_eq!(fingerprint_from_hex(&hex[..62]), None);
        assert_eq!(fingerprint_from_hex(&"zz".repeat(32)), None);
        assert_eq!(fingerprint_from_hex(&"é".repeat(32)), None);
    }

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        assert_eq!(derived_id("user", "a@x"), derived_id("user", "a@x"));
        assert_ne!(derived_id("user", "a@x"), derived_id("user", "b@x"));
        assert_eq!(derived_id("org", "x").len(), "org_".len() + 26);
    }
}
