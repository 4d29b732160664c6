//! Machine-readable output. `--json` documents carry strings that came from a server
//! (e-mail addresses, names, IDs), and a terminal obeys some characters that JSON leaves
//! raw, so every document is printed through [`json`] or [`json_pretty`].

use serde_json::Value;

/// Compact JSON that is also safe to show on a terminal: serde_json escapes C0 controls
/// but writes DEL, C1 controls, bidi overrides and zero-width characters raw. Each such
/// character becomes a `\uXXXX` escape, which every JSON parser reads back unchanged.
pub fn json(value: &Value) -> String {
    escape_unsafe(&value.to_string())
}

/// Like [`json`], indented for people.
pub fn json_pretty(value: &Value) -> String {
    escape_unsafe(&format!("{value:#}"))
}

fn escape_unsafe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        // A raw newline can only be the pretty printer's own layout: serde_json escapes
        // every C0 control inside strings.
        if cli_auth::is_unsafe_char(c) && c != '\n' {
            // Every unsafe character is in the Basic Multilingual Plane: one escape.
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_output_escapes_what_a_terminal_would_obey() {
        let value = json!({"email": "a\u{202e}b\u{9b}31m\u{200b}\u{7f}\u{1b}[2J é"});
        for text in [json(&value), json_pretty(&value)] {
            assert!(
                !text
                    .chars()
                    .any(|c| cli_auth::is_unsafe_char(c) && c != '\n'),
                "{text:?}"
            );
            assert!(text.contains(r"\u202e") && text.contains(r"\u009b") && text.contains('é'));
            let back: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back, value);
        }
    }
}
