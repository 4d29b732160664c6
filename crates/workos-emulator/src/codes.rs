//! Device codes and user codes: generation and the normalisation of what a
//! person types. No HTTP, no state: the grant registry lives in `grants.rs`.
//!
//! RFC 8628 §6.1 recommends a user code alphabet without vowels (so no words
//! are spelled) and without easily confused characters; WorkOS uses the
//! base-20 consonant set below in `XXXX-XXXX` form, and so do we.

use crate::ids;

/// The base-20 user code alphabet of RFC 8628 §6.1.
pub const USER_CODE_ALPHABET: &str = "BCDFGHJKLMNPQRSTVWXZ";

/// Characters in a user code, dash excluded.
pub const USER_CODE_LEN: usize = 8;

/// Characters in a device code (`[A-Za-z0-9]`, about 381 bits).
pub const DEVICE_CODE_LEN: usize = 64;

/// A fresh device code: 64 characters of `[A-Za-z0-9]` from a CSPRNG.
///
/// RFC 8628 §5.2 requires that device codes cannot be guessed; 64 symbols
/// from 62 give far more than the 128 bits the threat model asks for.
pub fn new_device_code() -> String {
    ids::random_string(ids::ALPHANUMERIC, DEVICE_CODE_LEN)
}

/// A fresh user code in `XXXX-XXXX` form, each character uniform over
/// [`USER_CODE_ALPHABET`] (20^8 ≈ 2^34.6 possibilities, RFC 8628 §6.1).
///
/// Uniqueness among live codes is the caller's job (see `grants.rs`).
pub fn new_user_code() -> String {
    let raw = ids::random_string(USER_CODE_ALPHABET.as_bytes(), USER_CODE_LEN);
    format_user_code(&raw)
}

/// Inserts the dash: `WDJBMJHT` → `WDJB-MJHT`.
fn format_user_code(raw: &str) -> String {
    let (a, b) = raw.split_at(USER_CODE_LEN / 2);
    format!("{a}-{b}")
}

/// Normalises what a person typed into the canonical `XXXX-XXXX` form.
///
/// Following RFC 8628 §6.1: uppercase, drop every character outside the
/// alphabet (spaces, dashes, en dashes, anything pasted along), then require
/// exactly eight characters. `wdjb mjht`, `WDJB–MJHT` and `wdjbmjht` all give
/// `WDJB-MJHT`; a ninth alphabet character makes the input invalid (`None`).
pub fn normalize_user_code(input: &str) -> Option<String> {
    // Bound the work on hostile input before touching it.
    if input.len() > 64 {
        return None;
    }
    let kept: String = input
        .chars()
        .map(|c| c.to_ascii_uppercase())
        .filter(|c| USER_CODE_ALPHABET.contains(*c))
        .collect();
    (kept.len() == USER_CODE_LEN).then(|| format_user_code(&kept))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn user_codes_are_two_groups_of_four_from_the_base20_alphabet() {
        for _ in 0..200 {
            let code = new_user_code();
            assert_eq!(code.len(), 9, "{code}");
            assert_eq!(&code[4..5], "-");
            assert!(
                code.chars()
                    .filter(|&c| c != '-')
                    .all(|c| USER_CODE_ALPHABET.contains(c))
            );
        }
    }

    #[test]
    fn user_code_characters_cover_the_whole_alphabet() {
        // 20 symbols, 4000 draws: missing one has probability ~20·(19/20)^4000.
        let seen: HashSet<char> = (0..500)
            .flat_map(|_| new_user_code().chars().collect::<Vec<_>>())
            .filter(|&c| c != '-')
            .collect();
        assert_eq!(seen.len(), 20);
    }

    #[test]
    fn device_codes_are_64_alphanumerics_and_distinct() {
        let a = new_device_code();
        let b = new_device_code();
        assert_eq!(a.len(), DEVICE_CODE_LEN);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn device_codes_use_upper_lower_and_digits() {
        let joined: String = (0..20).map(|_| new_device_code()).collect();
        assert!(joined.bytes().any(|c| c.is_ascii_uppercase()));
        assert!(joined.bytes().any(|c| c.is_ascii_lowercase()));
        assert!(joined.bytes().any(|c| c.is_ascii_digit()));
    }

    #[test]
    fn normalisation_accepts_spaces_dashes_en_dashes_and_lowercase() {
        for input in [
            "wdjb mjht",
            "WDJB–MJHT",
            "wdjbmjht",
            "WDJB-MJHT",
            " w-d-j-b m-j-h-t ",
        ] {
            assert_eq!(
                normalize_user_code(input).as_deref(),
                Some("WDJB-MJHT"),
                "{input}"
            );
        }
    }

    #[test]
    fn normalisation_rejects_a_ninth_character_and_short_input() {
        assert_eq!(normalize_user_code("WDJB-MJHTX"), None);
        assert_eq!(normalize_user_code("WDJB-MJH"), None);
        assert_eq!(normalize_user_code(""), None);
        // Vowels are outside the alphabet, so they are dropped, not counted.
        assert_eq!(normalize_user_code("WDJA-MJH"), None);
        assert_eq!(normalize_user_code(&"B".repeat(100)), None);
    }
}
