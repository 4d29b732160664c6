//! Redacting containers for secrets: device codes, access and refresh tokens, API keys.
//!
//! A secret cannot be printed by accident: `Debug` writes `<redacted>`, there is no
//! `Display`, and the value comes out only through [`SecretString::expose`], which is
//! easy to grep for in review. The buffer is zeroized when the value is dropped.

use std::fmt;

use serde::{Deserialize, Deserializer};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A string that must never be printed, logged or included in an error message.
///
/// ```
/// use cli_auth::SecretString;
/// let token = SecretString::new("eyJhbGciOi...".to_owned());
/// assert_eq!(format!("{token:?}"), "<redacted>");
/// assert_eq!(token.expose(), "eyJhbGciOi...");
/// ```
#[derive(Clone, Default, Zeroize, ZeroizeOnDrop)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps `value`; from now on it is only reachable through [`expose`](Self::expose).
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// Returns the secret itself.
    ///
    /// # Security
    /// Call this only to send the secret to the server it belongs to, to store it, or
    /// to print it because the user explicitly asked for it (`token`, `--show-tokens`).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Compares two secrets without an early exit on the first differing byte.
    pub fn ct_eq(&self, other: &SecretString) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = SecretString::new("planted-secret-123".into());
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(&s)), "Some(<redacted>)");
        assert!(!format!("{s:#?}").contains("planted"));
    }

    #[test]
    fn expose_returns_value() {
        let s: SecretString = "abc".into();
        assert_eq!(s.expose(), "abc");
        assert!(!s.is_empty());
    }

    #[test]
    fn ct_eq_compares_content() {
        let a = SecretString::from("same");
        assert!(a.ct_eq(&SecretString::from("same")));
        assert!(!a.ct_eq(&SecretString::from("diff")));
        assert!(!a.ct_eq(&SecretString::from("same-but-longer")));
    }

    #[test]
    fn deserializes_from_json_string() {
        let s: SecretString = serde_json::from_str("\"tok\"").unwrap();
        assert_eq!(s.expose(), "tok");
    }
}
