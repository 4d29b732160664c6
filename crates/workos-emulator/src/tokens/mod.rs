//! Access tokens: the claims WorkOS puts in its RS256 JWTs and their minting.
//! The signing key and JWKS live in `signing_key`, sessions and refresh-token
//! rotation in `refresh`, OIDC ID tokens in `id_token`. No HTTP here; time comes in as an argument.

mod id_token;
mod refresh;
mod signing_key;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids;

pub(crate) use id_token::{IdSubject, SUPPORTED_SCOPES, Scope, id_claims};
pub(crate) use refresh::{RefreshError, Session, Sessions};
pub(crate) use signing_key::{Jwks, SigningKey};

/// The claims of an access token, as WorkOS issues them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub sid: String,
    /// When the session signed in (unix seconds); kept across refreshes. WorkOS's
    /// Python SDK only accepts a session token with a numeric `auth_time`.
    pub auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    pub permissions: Vec<String>,
    pub entitlements: Vec<String>,
    pub feature_flags: Vec<String>,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

/// What goes into one access token besides the time.
#[derive(Debug, Clone)]
pub(crate) struct TokenSubject<'a> {
    pub issuer: &'a str,
    pub user_id: &'a str,
    pub session_id: &'a str,
    /// When the session signed in (`auth_time`).
    pub authenticated_at: OffsetDateTime,
    pub organization_id: Option<&'a str>,
    /// Role and permissions from the membership in `organization_id`.
    pub role: Option<(&'a str, &'a [String])>,
}

/// Builds the claims for `subject` at wall-clock `now_utc`.
///
/// `iat` is truncated to the whole second, so it is never in the future
/// (Python clients rejected WorkOS tokens minted a moment ahead).
pub(crate) fn access_claims(
    subject: &TokenSubject<'_>,
    ttl: Duration,
    now_utc: OffsetDateTime,
) -> AccessClaims {
    let iat = now_utc.unix_timestamp();
    let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
    AccessClaims {
        iss: subject.issuer.to_owned(),
        sub: subject.user_id.to_owned(),
        sid: subject.session_id.to_owned(),
        auth_time: subject.authenticated_at.unix_timestamp(),
        org_id: subject.organization_id.map(str::to_owned),
        role: subject.role.map(|(r, _)| r.to_owned()),
        roles: subject.role.map(|(r, _)| vec![r.to_owned()]),
        permissions: subject.role.map(|(_, p)| p.to_vec()).unwrap_or_default(),
        entitlements: Vec::new(),
        feature_flags: Vec::new(),
        jti: ids::ulid(ids::unix_millis(now_utc)),
        iat,
        exp: iat.saturating_add(ttl),
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};

    use super::*;

    #[test]
    fn minted_tokens_verify_with_rs256_only_and_carry_the_claims() {
        let key = SigningKey::generate().unwrap();
        let perms = vec!["widgets:read".to_owned()];
        let subject = TokenSubject {
            issuer: "http://127.0.0.1:1/",
            user_id: "user_1",
            session_id: "session_1",
            authenticated_at: OffsetDateTime::UNIX_EPOCH,
            organization_id: Some("org_1"),
            role: Some(("admin", &perms)),
        };
        let now = OffsetDateTime::now_utc();
        let claims = access_claims(&subject, Duration::from_secs(300), now);
        assert!(claims.iat <= now.unix_timestamp());
        assert_eq!(claims.exp - claims.iat, 300);
        let jwt = key.sign(&claims).unwrap();

        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.kid.as_deref(), Some(key.kid()));

        let jwks = serde_json::to_value(key.jwks()).unwrap();
        let jwk = &jwks["keys"][0];
        let decoding = DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap(),
            jwk["e"].as_str().unwrap(),
        )
        .unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&["http://127.0.0.1:1/"]);
        let data = jsonwebtoken::decode::<AccessClaims>(&jwt, &decoding, &validation).unwrap();
        assert_eq!(data.claims, claims);
        assert_eq!(data.claims.roles, Some(vec!["admin".to_owned()]));
    }

    #[test]
    fn tokens_without_an_organization_have_no_role_claims() {
        let subject = TokenSubject {
            issuer: "i",
            user_id: "u",
            session_id: "s",
            authenticated_at: OffsetDateTime::UNIX_EPOCH,
            organization_id: None,
            role: None,
        };
        let claims = access_claims(
            &subject,
            Duration::from_secs(60),
            OffsetDateTime::UNIX_EPOCH,
        );
        let json = serde_json::to_value(&claims).unwrap();
        assert!(json.get("org_id").is_none() && json.get("role").is_none());
        assert_eq!(json["permissions"], serde_json::json!([]));
    }
}
