//! OpenID Connect ID tokens for the standard OAuth door (`/oauth2/token`
//! with the `openid` scope): OIDC Core §2 claims, signed RS256 with the same
//! key as access tokens. Profile and email claims follow the granted scopes
//! (OIDC Core §5.4). No HTTP here; time comes in as an argument.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The scopes this server understands (RFC 6749 §3.3); others are ignored.
pub(crate) const SUPPORTED_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// The claims of an ID token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IdClaims {
    pub iss: String,
    pub sub: String,
    /// OIDC Core §2: the client id of the relying party.
    pub aud: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub iat: i64,
    pub exp: i64,
}

/// Who the ID token is about.
#[derive(Debug, Clone)]
pub(crate) struct IdSubject<'a> {
    pub issuer: &'a str,
    pub user_id: &'a str,
    pub client_id: &'a str,
    pub email: &'a str,
    pub email_verified: bool,
    pub name: String,
}

/// A parsed, space-separated scope (RFC 6749 §3.3), keeping only the
/// supported values in a canonical order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Scope(Vec<&'static str>);

impl Scope {
    /// Parses `raw`, dropping unknown values (RFC 6749 §3.3 lets the server
    /// grant less than asked; the response then states what was granted).
    pub(crate) fn parse(raw: &str) -> Self {
        let asked: Vec<&str> = raw.split(' ').filter(|s| !s.is_empty()).collect();
        Self(
            SUPPORTED_SCOPES
                .into_iter()
                .filter(|s| asked.contains(s))
                .collect(),
        )
    }

    /// Whether `value` was granted.
    pub(crate) fn has(&self, value: &str) -> bool {
        self.0.contains(&value)
    }

    /// The space-separated form.
    pub(crate) fn to_wire(&self) -> String {
        self.0.join(" ")
    }
}

/// Builds the ID token claims for `subject` under `scope` at `now_utc`.
pub(crate) fn id_claims(
    subject: &IdSubject<'_>,
    scope: &Scope,
    ttl: Duration,
    now_utc: OffsetDateTime,
) -> IdClaims {
    let iat = now_utc.unix_timestamp();
    let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
    let email = scope.has("email");
    IdClaims {
        iss: subject.issuer.to_owned(),
        sub: subject.user_id.to_owned(),
        aud: subject.client_id.to_owned(),
        email: email.then(|| subject.email.to_owned()),
        email_verified: email.then_some(subject.email_verified),
        name: scope.has("profile").then(|| subject.name.clone()),
        iat,
        exp: iat.saturating_add(ttl),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_keep_only_supported_values_in_canonical_order() {
        let s = Scope::parse("offline_access  custom openid email");
        assert_eq!(s.to_wire(), "openid email offline_access");
        assert!(s.has("openid") && !s.has("profile"));
        assert_eq!(Scope::parse("").to_wire(), "");
    }

    #[test]
    fn claims_follow_the_scopes() {
        let subject = IdSubject {
            issuer: "http://127.0.0.1:1/",
            user_id: "user_1",
            client_id: "client_a",
            email: "a@example.com",
            email_verified: true,
            name: "Ada".into(),
        };
        let ttl = Duration::from_secs(60);
        let t = OffsetDateTime::UNIX_EPOCH;
        let full = id_claims(&subject, &Scope::parse("openid profile email"), ttl, t);
        assert_eq!(full.aud, "client_a");
        assert_eq!(full.email.as_deref(), Some("a@example.com"));
        assert_eq!(full.email_verified, Some(true));
        assert_eq!(full.name.as_deref(), Some("Ada"));
        assert_eq!(full.exp - full.iat, 60);
        let bare = id_claims(&subject, &Scope::parse("openid"), ttl, t);
        assert_eq!((bare.email, bare.name), (None, None));
    }
}
