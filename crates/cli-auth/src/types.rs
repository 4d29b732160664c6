//! Protocol newtypes and the validation of what the user is shown.
//!
//! [`DeviceCode`] is a secret (RFC 8628 §3.2: it is never shown to the user), so it
//! redacts like [`SecretString`]. [`UserCode`] is meant to be shown, but only after
//! [`validate_user_code`] proved it short printable ASCII. The verification URIs are
//! checked on the **raw** string by [`validate_verification_uri`] before any parser
//! normalises away a tab or a newline (threat-model rows 13, 15 and 16).

use std::fmt;
use std::ops::Deref;

use url::{Host, Url};

use crate::error::Error;
use crate::sanitize::is_unsafe_char;
use crate::secret::SecretString;

/// The longest user code accepted. WorkOS sends 9 characters (`XXXX-XXXX`).
pub const MAX_USER_CODE_CHARS: usize = 32;

/// The longest verification URI accepted.
pub const MAX_VERIFICATION_URI_CHARS: usize = 2048;

/// The device code (RFC 8628 §3.2): a secret that only goes back to the token endpoint.
///
/// `Debug` prints `<redacted>` and there is no `Display`. It derefs to `&str` so that
/// `&data.device_code` can be passed where a `&str` is expected (the WorkOS tutorial
/// does); treat that string like [`SecretString::expose`]. Zeroized on drop.
#[derive(Clone, Default)]
pub struct DeviceCode(SecretString);

impl DeviceCode {
    /// Wraps a device code.
    pub fn new(code: impl Into<String>) -> Self {
        Self(SecretString::new(code.into()))
    }

    /// Returns the code, for sending it to the token endpoint.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl Deref for DeviceCode {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for DeviceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceCode(<redacted>)")
    }
}

/// The code the user types or checks in the browser (RFC 8628 §3.2 `user_code`).
///
/// Only [`validate_user_code`] creates one, so its `Display` is safe for a terminal.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UserCode(String);

impl UserCode {
    /// The code as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for UserCode {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Accepts a user code only if it is 1 to [`MAX_USER_CODE_CHARS`] characters of
/// printable ASCII without spaces (`!`..=`~`).
///
/// A user code with an escape sequence, a newline or 100 kB of text is refused with
/// an escaped diagnostic instead of being shown (threat-model rows 13 and 15).
pub fn validate_user_code(raw: &str) -> Result<UserCode, Error> {
    let refuse = |reason| Error::InvalidUserCode {
        code: raw.chars().take(64).collect(),
        reason,
    };
    if raw.is_empty() {
        return Err(refuse("it is empty"));
    }
    if raw.chars().count() > MAX_USER_CODE_CHARS {
        return Err(refuse("it is longer than 32 characters"));
    }
    if !raw.chars().all(|c| c.is_ascii_graphic()) {
        return Err(refuse("it may only contain printable ascii without spaces"));
    }
    Ok(UserCode(raw.to_owned()))
}

/// Accepts a verification URI only if the user may safely be sent there.
///
/// Checked on the raw string: no control, whitespace, bidi or zero-width character
/// (the `url` parser would silently drop tabs and newlines); then parsed: `https`, or
/// `http` only for the literal loopback hosts `127.0.0.1`, `[::1]` and `localhost`
/// (the local emulator); a host is required and userinfo (`user@`) is refused, since
/// `https://api.workos.com@evil.example/` reads as WorkOS but goes elsewhere.
pub fn validate_verification_uri(raw: &str) -> Result<Url, Error> {
    let refuse = |reason| Error::InvalidVerificationUri {
        uri: raw.chars().take(300).collect(),
        reason,
    };
    if raw.is_empty() {
        return Err(refuse("it is empty"));
    }
    if raw.chars().count() > MAX_VERIFICATION_URI_CHARS {
        return Err(refuse("it is longer than 2048 characters"));
    }
    if raw
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || is_unsafe_char(c))
    {
        return Err(refuse("it contains whitespace or control characters"));
    }
    let url = Url::parse(raw).map_err(|_| refuse("it is not an absolute url"))?;
    check_web_url(&url).map_err(refuse)?;
    Ok(url)
}

/// The shared rule for verification URIs and the API base URL: https, or http on a
/// literal loopback host; a host; no userinfo.
pub(crate) fn check_web_url(url: &Url) -> Result<(), &'static str> {
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(url) => {}
        "http" => return Err("plain http is allowed only for 127.0.0.1, [::1] and localhost"),
        _ => return Err("only https urls are allowed"),
    }
    if url.host().is_none() {
        return Err("it has no host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("it contains a user name or password");
    }
    Ok(())
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether two URLs share scheme, host and port (RFC 6454 origin). Only then is
/// `verification_uri_complete` opened instead of `verification_uri`.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.origin() == b.origin()
}

/// The host (and non-default port) of `url` in ASCII: internationalised names come
/// out as punycode (`xn--…`), so a look-alike domain cannot pass as a familiar one.
pub fn ascii_host(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_code_is_redacted_and_derefs() {
        let code = DeviceCode::new("planted-device-code-42");
        assert!(!format!("{code:?}").contains("planted"));
        let as_str: &str = &code;
        assert_eq!(as_str, "planted-device-code-42");
    }

    #[test]
    fn user_code_accepts_workos_shape() {
        let code = validate_user_code("RRGQ-BJVS").unwrap();
        assert_eq!(code.to_string(), "RRGQ-BJVS");
        assert_eq!(&*code, "RRGQ-BJVS");
    }

    #[test]
    fn user_code_with_osc_52_is_refused_and_escaped() {
        // Threat model row 13.
        let err = validate_user_code("AB\u{1b}]52;c;ZXZpbA==\u{7}").unwrap_err();
        let shown = err.to_string();
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
            "{shown}"
        );
        assert!(shown.contains("\\u{1b}"));
    }

    #[test]
    fn user_code_huge_or_with_newline_is_refused() {
        // Threat model row 15.
        let huge = "A".repeat(100_000);
        let err = validate_user_code(&huge).unwrap_err();
        assert!(err.to_string().len() < 200);
        assert!(validate_user_code("ABCD\nEFGH").is_err());
        assert!(validate_user_code("ABCD EFGH").is_err());
        assert!(validate_user_code("ÄBCD-EFGH").is_err());
        assert!(validate_user_code("").is_err());
        assert!(validate_user_code(&"A".repeat(32)).is_ok());
        assert!(validate_user_code(&"A".repeat(33)).is_err());
    }

    #[test]
    fn verification_uri_accepts_https_and_loopback_http() {
        for ok in [
            "https://example.authkit.app/device",
            "http://127.0.0.1:8080/device",
            "http://[::1]:9/device",
            "http://localhost:3000/device?user_code=AB",
        ] {
            assert!(validate_verification_uri(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn verification_uri_refuses_dangerous_ones() {
        // Threat model row 16, plus userinfo and raw-string tricks.
        for bad in [
            "http://evil.example/device",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/html,hi",
            "https://api.workos.com@evil.example/device",
            "https://user:pw@example.com/",
            "https://exam\tple.com/device",
            "https://example.com/dev\nice",
            "https://example.com/\u{202e}ecived",
            " https://example.com/",
            "http://127.0.0.2/device",
            "http://localhost.evil.example/",
            "/device",
            "",
        ] {
            let err = validate_verification_uri(bad).unwrap_err();
            assert!(!err.to_string().contains('\n'), "{err}");
        }
    }

    #[test]
    fn same_origin_compares_scheme_host_port() {
        let base = Url::parse("https://a.authkit.app/device").unwrap();
        let complete = Url::parse("https://a.authkit.app/device?user_code=X").unwrap();
        assert!(same_origin(&base, &complete));
        for other in [
            "https://b.authkit.app/device",
            "http://a.authkit.app/device",
            "https://a.authkit.app:444/device",
        ] {
            assert!(!same_origin(&base, &Url::parse(other).unwrap()), "{other}");
        }
    }

    #[test]
    fn ascii_host_uses_punycode() {
        let url = validate_verification_uri("https://wörkos.example/device").unwrap();
        assert_eq!(ascii_host(&url), "xn--wrkos-jua.example");
        let url = Url::parse("http://127.0.0.1:8080/x").unwrap();
        assert_eq!(ascii_host(&url), "127.0.0.1:8080");
    }
}
