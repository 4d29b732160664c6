//! The terminal sanitizer: every string a server sends is hostile until escaped.
//!
//! A user code, an `error_description` or a URL goes straight to a terminal. Without
//! escaping, `ESC ] 52` writes the clipboard (OSC 52), `ESC [ 2 J` clears the screen so a
//! fake "Login OK" can be drawn, bidi overrides reorder what the user reads, and
//! zero-width characters hide text. [`sanitize`] makes all of them visible as `\u{..}`
//! and truncates, also when stdout is not a TTY (the output may be `cat`ed later).
//!
//! This module only transforms text; it never prints and never rejects. Validation of
//! the user code and the verification URIs lives in `types.rs`.

/// The character that marks a truncated string.
pub const ELLIPSIS: char = '…';

/// Whether `c` must never reach a terminal raw.
///
/// C0 controls (including `\n` and `\t`: a server string is one line), DEL, C1 controls,
/// the bidi embeddings, overrides and isolates (U+202A–202E, U+2066–2069) and marks
/// (U+200E, U+200F, U+061C), zero-width characters (U+200B–200D, U+2060–2064), the
/// line and paragraph separators (U+2028, U+2029) and the BOM (U+FEFF).
pub fn is_unsafe_char(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{feff}')
}

/// Escapes every unsafe character of `input` as `\u{..}` (lowercase hex, like Rust's
/// `escape_unicode`) and truncates the result to at most `max_chars` characters, the
/// last of which is then [`ELLIPSIS`]. An escape sequence is never cut in half.
///
/// ```
/// use cli_auth::sanitize;
/// assert_eq!(sanitize("ok\u{1b}[2Jfake", 100), "ok\\u{1b}[2Jfake");
/// assert_eq!(sanitize("abcdef", 4), "abc…");
/// ```
pub fn sanitize(input: &str, max_chars: usize) -> String {
    if max_chars == 0 {
        return String::new();
    }
    // Pieces are kept only until the output overflows, so a 50 MB string costs no more
    // than `max_chars` escapes.
    let mut pieces: Vec<(usize, usize)> = Vec::new(); // (byte length in out, chars)
    let mut out = String::new();
    let mut used = 0usize;
    let mut overflow = false;
    for c in input.chars() {
        let before = out.len();
        let n = push_escaped(&mut out, c);
        pieces.push((out.len() - before, n));
        used += n;
        if used > max_chars {
            overflow = true;
            break;
        }
    }
    if !overflow {
        return out;
    }
    // Drop whole pieces until the ellipsis fits.
    while used + 1 > max_chars {
        let Some((bytes, n)) = pieces.pop() else {
            break;
        };
        out.truncate(out.len() - bytes);
        used -= n;
    }
    out.push(ELLIPSIS);
    out
}

/// Appends `c`, escaped if unsafe, and returns how many characters were appended.
fn push_escaped(out: &mut String, c: char) -> usize {
    if is_unsafe_char(c) {
        let escaped = format!("\\u{{{:x}}}", c as u32);
        let n = escaped.len(); // ASCII only
        out.push_str(&escaped);
        n
    } else {
        out.push(c);
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(sanitize("RRGQ-BJVS", 64), "RRGQ-BJVS");
        assert_eq!(sanitize("héllo wörld ✓", 64), "héllo wörld ✓");
    }

    #[test]
    fn osc_52_clipboard_write_is_escaped() {
        // Threat model row 13: ESC ] 52 ; c ; <base64> BEL
        let s = sanitize("AB\u{1b}]52;c;ZXZpbA==\u{7}CD", 100);
        assert_eq!(s, "AB\\u{1b}]52;c;ZXZpbA==\\u{7}CD");
    }

    #[test]
    fn screen_clear_and_fake_success_is_escaped() {
        // Threat model row 14.
        let s = sanitize("\u{1b}[2J\u{1b}[HLogin OK ✓", 100);
        assert_eq!(s, "\\u{1b}[2J\\u{1b}[HLogin OK ✓");
    }

    #[test]
    fn newlines_tabs_del_and_c1_are_escaped() {
        assert_eq!(sanitize("a\nb\tc\rd", 100), "a\\u{a}b\\u{9}c\\u{d}d");
        assert_eq!(sanitize("\u{7f}\u{9b}31m", 100), "\\u{7f}\\u{9b}31m");
    }

    #[test]
    fn bidi_and_zero_width_are_escaped() {
        assert_eq!(sanitize("a\u{202e}b", 100), "a\\u{202e}b");
        assert_eq!(sanitize("\u{2066}x\u{2069}", 100), "\\u{2066}x\\u{2069}");
        assert_eq!(
            sanitize("\u{200b}\u{200d}\u{200e}\u{200f}", 100),
            "\\u{200b}\\u{200d}\\u{200e}\\u{200f}"
        );
        assert_eq!(sanitize("\u{2060}\u{feff}", 100), "\\u{2060}\\u{feff}");
    }

    #[test]
    fn truncates_with_ellipsis() {
        assert_eq!(sanitize("abcdef", 6), "abcdef");
        assert_eq!(sanitize("abcdefg", 6), "abcde…");
        assert_eq!(sanitize("abc", 1), "…");
        assert_eq!(sanitize("abc", 0), "");
    }

    #[test]
    fn truncation_never_splits_an_escape() {
        // "ab" + "\u{1b}" (6 chars) would need 8; with max 7 the escape is dropped whole.
        assert_eq!(sanitize("ab\u{1b}cd", 7), "ab…");
    }

    #[test]
    fn huge_input_is_bounded() {
        let big = "\u{1b}".repeat(100_000);
        let s = sanitize(&big, 80);
        assert!(s.chars().count() <= 80);
        assert!(s.ends_with(ELLIPSIS));
    }

    proptest! {
        #[test]
        fn output_never_contains_an_unsafe_char(input in any::<String>(), max in 0usize..300) {
            let out = sanitize(&input, max);
            prop_assert!(!out.chars().any(is_unsafe_char), "{out:?}");
            prop_assert!(out.chars().count() <= max);
        }

        #[test]
        fn unsafe_heavy_input_is_always_escaped(
            input in proptest::collection::vec(
                prop_oneof![
                    Just('\u{1b}'), Just('\n'), Just('\u{9b}'), Just('\u{202e}'),
                    Just('\u{2067}'), Just('\u{200b}'), Just('\u{feff}'), Just('a'), Just('é'),
                ],
                0..200,
            ).prop_map(|v| v.into_iter().collect::<String>()),
            max in 1usize..120,
        ) {
            let out = sanitize(&input, max);
            prop_assert!(!out.chars().any(is_unsafe_char), "{out:?}");
            prop_assert!(out.chars().count() <= max);
        }
    }
}
