//! Access-token claims, and their verification against the WorkOS JWKS.
//!
//! This module owns two things:
//! - [`AccessTokenClaims`] and [`decode_unverified`]: reading `exp`, `iat`, `sid` and
//!   `org_id` out of a token we just received from the server over TLS, to decide
//!   when to refresh and what to store. That is bookkeeping, **not** a security check.
//! - [`JwksVerifier`]: the security check, for code that *receives* an access token
//!   (an API server, a test) and must know it is genuine. It fetches
//!   `GET {base}/sso/jwks/{client_id}` (wire notes §4) through the crate's transport
//!   (`http.rs`: timeouts, no redirects, a 1 MiB body cap), caches the keys for
//!   5 minutes, refetches once when a token names an unknown `kid` (key rotation), and
//!   accepts RS256 only (RFC 8725 §3.1: an allow-list of algorithms; never `none`,
//!   never HMAC, which would let the public key act as a shared secret).
//!
//! It must not: print or log a token, put a token or a claim value into an error, or
//! read the clock itself (time comes from a [`Timer`], so the cache TTL and expiry are
//! tested without sleeping).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Deserializer};
use url::Url;

use crate::error::Error;
use crate::http::{self, DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, METADATA_BODY_LIMIT};
use crate::sanitize::sanitize;
use crate::secret::SecretString;
use crate::timer::{Timer, TokioTimer};
use crate::types::check_web_url;
use crate::workos::Client;

/// How long fetched keys are trusted before they are fetched again. The WorkOS SDKs
/// cache their JWKS for 5 to 10 minutes (wire notes §4).
pub const JWKS_CACHE_TTL: Duration = Duration::from_secs(5 * 60);

/// After a fetch, an unknown `kid` triggers no new fetch for this long. Without it, a
/// stream of forged tokens with random key ids would turn every verification into a
/// request to WorkOS. The same 30 s as `jose`'s remote JWKS `cooldownDuration`.
pub const JWKS_REFETCH_COOLDOWN: Duration = Duration::from_secs(30);

/// Tolerated clock skew when checking `exp` (the jsonwebtoken default, and what the
/// WorkOS SDKs allow).
pub const EXP_LEEWAY: Duration = Duration::from_secs(60);

/// The claims of a WorkOS access token (wire notes §4; RFC 9068). Unknown claims are
/// ignored; list claims that are absent or `null` are empty.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct AccessTokenClaims {
    /// The issuer. WorkOS has used both `https://api.workos.com/` and
    /// `https://api.workos.com/user_management/<client_id>`: compare it only against a
    /// configured value ([`JwksVerifier::with_issuer`]).
    pub iss: String,
    /// The user ID (`user_…`).
    pub sub: String,
    /// The session ID, needed to log out (wire notes §5).
    #[serde(default)]
    pub sid: Option<String>,
    /// The organization the session is scoped to.
    #[serde(default)]
    pub org_id: Option<String>,
    /// The user's role in `org_id`.
    #[serde(default)]
    pub role: Option<String>,
    /// All of the user's roles in `org_id`.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub roles: Vec<String>,
    /// The permissions granted by the role(s).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub permissions: Vec<String>,
    /// Entitlements of the organization.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub entitlements: Vec<String>,
    /// Feature flags enabled for the user or organization.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub feature_flags: Vec<String>,
    /// Issued at, in Unix seconds.
    #[serde(deserialize_with = "numeric_date")]
    pub iat: u64,
    /// Expires at, in Unix seconds.
    #[serde(deserialize_with = "numeric_date")]
    pub exp: u64,
    /// The token's unique ID.
    #[serde(default)]
    pub jti: Option<String>,
    /// Set when an admin impersonates the user (RFC 8693 §4.1 `act`).
    #[serde(default)]
    pub act: Option<Actor>,
}

impl AccessTokenClaims {
    /// `exp − iat`: how long the token was issued for (zero if `iat` is after `exp`).
    pub fn lifetime(&self) -> Duration {
        Duration::from_secs(self.exp.saturating_sub(self.iat))
    }
}

/// The `act` claim: who is acting for the user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Actor {
    /// The acting party; WorkOS puts the impersonating admin's e-mail here.
    pub sub: String,
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

/// RFC 7519 §2 NumericDate: an integer or a non-negative decimal (rounded down).
fn numeric_date<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    n.as_u64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(|f| f as u64)
        })
        .ok_or_else(|| serde::de::Error::custom("a NumericDate must be a non-negative number"))
}

/// Reads the claims of `token` **without checking its signature**.
///
/// For bookkeeping on a token that just came from the server over TLS: when it
/// expires, its session ID, its organization. It is *not* a security check; anything
/// that accepts a token from someone else must use [`JwksVerifier::verify`].
pub fn decode_unverified(token: &SecretString) -> Result<AccessTokenClaims, Error> {
    jsonwebtoken::dangerous::insecure_decode_claims::<AccessTokenClaims>(token.expose())
        .map_err(|e| invalid(claims_reason(&e)))
}

/// Verifies access tokens against the JWKS of one WorkOS client. Cheap to share
/// (`Arc`); concurrent calls are fine.
///
/// ```no_run
/// # async fn check(client: &cli_auth::Client, token: &cli_auth::SecretString)
/// #     -> Result<(), cli_auth::Error> {
/// let verifier = cli_auth::JwksVerifier::for_client(client)?;
/// let claims = verifier.verify(token).await?;
/// println!("user {} in organization {:?}", claims.sub, claims.org_id);
/// # Ok(())
/// # }
/// ```
pub struct JwksVerifier {
    url: Url,
    http: reqwest::Client,
    timer: Arc<dyn Timer>,
    issuer: Option<String>,
    /// The last good key set; a std mutex because it is never held across `.await`.
    cache: Mutex<Option<KeySet>>,
    /// Single flight for fetches: concurrent verifications after expiry (or on the
    /// same unknown `kid`) cause one request, not one each.
    fetching: tokio::sync::Mutex<()>,
}

/// Fetched keys by `kid`, and when (monotonic) they were fetched.
#[derive(Clone)]
struct KeySet {
    fetched_at: Instant,
    keys: Arc<HashMap<String, DecodingKey>>,
}

impl std::fmt::Debug for JwksVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksVerifier")
            .field("url", &self.url.as_str())
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl JwksVerifier {
    /// A verifier for the JWKS at `jwks_url` (https, or http on a loopback host), with
    /// the default transport and [`TokioTimer`].
    pub fn new(jwks_url: Url) -> Result<Self, Error> {
        check_web_url(&jwks_url).map_err(|reason| Error::InvalidBaseUrl {
            url: jwks_url.to_string(),
            reason,
        })?;
        Ok(JwksVerifier {
            url: jwks_url,
            http: http::build_http_client(DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT)?,
            timer: Arc::new(TokioTimer),
            issuer: None,
            cache: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    /// A verifier for `client`'s tokens: `GET {base_url}/sso/jwks/{client_id}`.
    pub fn for_client(client: &Client) -> Result<Self, Error> {
        let (Some(base), Some(client_id)) = (client.base_url(), client.client_id()) else {
            // The client's own configuration error, as every other call reports it.
            return Err(client.config_error().unwrap_or(Error::MissingClientId));
        };
        Self::new(jwks_url(base, client_id))
    }

    /// Also require `iss` to equal `issuer` exactly. Off by default, because WorkOS
    /// has used two forms (wire notes §4); set it when you know yours.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Uses `timer` for the cache age ([`Timer::now`]) and for `exp`
    /// ([`Timer::wall_now`]) instead of the real clocks.
    pub fn with_timer(mut self, timer: Arc<dyn Timer>) -> Self {
        self.timer = timer;
        self
    }

    /// The JWKS URL.
    pub fn jwks_url(&self) -> &Url {
        &self.url
    }

    /// Checks `token` and returns its claims: RS256 only, a `kid` present in the JWKS,
    /// a valid signature, not expired (with [`EXP_LEEWAY`]), and `iss` if configured.
    ///
    /// Fetches the JWKS when the cache is empty or older than [`JWKS_CACHE_TTL`], and
    /// once more when `kid` is unknown (unless a fetch happened within
    /// [`JWKS_REFETCH_COOLDOWN`]).
    pub async fn verify(&self, token: &SecretString) -> Result<AccessTokenClaims, Error> {
        let header = jsonwebtoken::decode_header(token.expose()).map_err(|_| {
            invalid("its header is not a JWS header with a supported algorithm (never `none`)")
        })?;
        if header.alg != Algorithm::RS256 {
            return Err(invalid(format!(
                "it is signed with {:?}; only RS256 is accepted",
                header.alg
            )));
        }
        let kid = header
            .kid
            .filter(|k| !k.is_empty())
            .ok_or_else(|| invalid("its header has no key id (kid)"))?;
        let key = self.key_for(&kid).await?;

        let mut validation = Validation::new(Algorithm::RS256);
        // Expiry is checked below against the injected clock; WorkOS sets no `aud`
        // and no SDK checks one (wire notes §4).
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
        }
        let claims = jsonwebtoken::decode::<AccessTokenClaims>(token.expose(), &key, &validation)
            .map_err(|e| invalid(claims_reason(&e)))?
            .claims;

        let now = unix_seconds(self.timer.wall_now());
        if claims.exp.saturating_add(EXP_LEEWAY.as_secs()) < now {
            return Err(invalid(format!(
                "it expired {} s ago",
                now.saturating_sub(claims.exp)
            )));
        }
        Ok(claims)
    }

    /// The key named `kid`: from the cache while it is fresh, else after one fetch.
    async fn key_for(&self, kid: &str) -> Result<DecodingKey, Error> {
        let now = self.timer.now();
        if let Some(found) = self.cached(kid, now, |age| age < JWKS_CACHE_TTL) {
            return Ok(found);
        }
        let _single_flight = self.fetching.lock().await;
        // Another caller may have fetched while we waited for the flight.
        let now = self.timer.now();
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(set) = &cached {
            let age = now.saturating_duration_since(set.fetched_at);
            if let Some(key) = set.keys.get(kid).filter(|_| age < JWKS_CACHE_TTL) {
                return Ok(key.clone());
            }
            if age < JWKS_REFETCH_COOLDOWN {
                return Err(unknown_kid(kid));
            }
        }
        let keys = Arc::new(self.fetch().await?);
        let found = keys.get(kid).cloned();
        *self.cache.lock().unwrap_or_else(PoisonError::into_inner) = Some(KeySet {
            fetched_at: self.timer.now(),
            keys,
        });
        found.ok_or_else(|| unknown_kid(kid))
    }

    fn cached(
        &self,
        kid: &str,
        now: Instant,
        fresh: impl Fn(Duration) -> bool,
    ) -> Option<DecodingKey> {
        let guard = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let set = guard.as_ref()?;
        fresh(now.saturating_duration_since(set.fetched_at))
            .then(|| set.keys.get(kid).cloned())
            .flatten()
    }

    /// One `GET` of the JWKS, capped at [`METADATA_BODY_LIMIT`].
    async fn fetch(&self) -> Result<HashMap<String, DecodingKey>, Error> {
        let reply = http::get(&self.http, &self.url, METADATA_BODY_LIMIT).await?;
        match reply.status {
            200..=299 => parse_jwks(&reply.body),
            300..=399 => Err(Error::Redirect {
                status: reply.status,
                location: reply.location,
            }),
            status => Err(Error::Http {
                status,
                url: self.url.to_string(),
            }),
        }
    }
}

/// `{base}/sso/jwks/{client_id}`, with the client ID as one percent-encoded segment.
pub(crate) fn jwks_url(base: &Url, client_id: &str) -> Url {
    let mut url = base.clone();
    url.path_segments_mut()
        .expect("a checked http(s) base url has a path")
        .pop_if_empty()
        .extend(["sso", "jwks", client_id]);
    url
}

/// The wire shape of one JWK; only what RS256 verification needs.
#[derive(Deserialize)]
struct WireJwk {
    kty: Option<String>,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

#[derive(Deserialize)]
struct WireJwks {
    keys: Vec<serde_json::Value>,
}

/// The usable RS256 signing keys of a JWKS document, by `kid`. Keys of other types,
/// other algorithms, for encryption, without `kid`, or malformed are skipped rather
/// than failing the set, so a future key type does not break verification.
pub(crate) fn parse_jwks(body: &[u8]) -> Result<HashMap<String, DecodingKey>, Error> {
    let set: WireJwks = serde_json::from_slice(body)
        .map_err(|_| Error::protocol("the JWKS is not a JSON object with a `keys` array"))?;
    let keys: HashMap<String, DecodingKey> = set
        .keys
        .into_iter()
        .filter_map(|value| serde_json::from_value::<WireJwk>(value).ok())
        .filter(|k| k.kty.as_deref() == Some("RSA"))
        .filter(|k| k.alg.as_deref().is_none_or(|a| a == "RS256"))
        .filter(|k| k.use_.as_deref().is_none_or(|u| u == "sig"))
        .filter_map(|k| {
            let key = DecodingKey::from_rsa_components(k.n.as_deref()?, k.e.as_deref()?).ok()?;
            Some((k.kid.filter(|kid| !kid.is_empty())?, key))
        })
        .collect();
    if keys.is_empty() {
        return Err(Error::protocol("the JWKS has no usable RS256 signing key"));
    }
    Ok(keys)
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidToken {
        reason: reason.into(),
    }
}

fn unknown_kid(kid: &str) -> Error {
    invalid(format!(
        "its key id \"{}\" is not in the JWKS",
        sanitize(kid, 80)
    ))
}

/// Why decoding failed, from jsonwebtoken's error *kind* only: its `Display` of a JSON
/// error can quote the offending value.
fn claims_reason(error: &jsonwebtoken::errors::Error) -> String {
    match error.kind() {
        JwtErrorKind::InvalidSignature => "its signature does not match the key".into(),
        JwtErrorKind::InvalidIssuer => "it was issued by another issuer".into(),
        JwtErrorKind::InvalidAlgorithm => "its algorithm does not match the key".into(),
        JwtErrorKind::MissingRequiredClaim(claim) => {
            format!("it has no `{}` claim", sanitize(claim, 20))
        }
        JwtErrorKind::Json(e) if e.to_string().starts_with("missing field") => {
            let field = e.to_string();
            let field = field.split('`').nth(1).unwrap_or("?");
            format!("it has no `{}` claim", sanitize(field, 20))
        }
        JwtErrorKind::Json(_) => "its claims are not valid access-token claims".into(),
        _ => "it is not a well-formed JWT".into(),
    }
}

/// Unix seconds, 0 for a clock before 1970.
pub(crate) fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
