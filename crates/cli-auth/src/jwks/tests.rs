//! Claims decoding, JWKS parsing, and the verifier against the emulator's JWKS over a
//! real socket, with an injected clock (the cache TTL and the refetch cooldown are
//! stepped through without sleeping). Test tokens are signed here with the emulator's
//! own private key, so their headers (alg, kid) and claims can be chosen freely.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::{Value, json};
use workos_emulator::{Emulator, RunningEmulator};

use super::*;

const CLIENT_ID: &str = "client_01JWKSTEST";

/// Both clocks frozen; they move only by [`FakeTimer::advance`].
struct FakeTimer {
    now: Mutex<(Instant, SystemTime)>,
}

impl FakeTimer {
    fn new() -> Arc<Self> {
        Arc::new(FakeTimer {
            now: Mutex::new((Instant::now(), SystemTime::now())),
        })
    }

    fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap();
        now.0 += by;
        now.1 += by;
    }

    fn unix(&self) -> u64 {
        unix_seconds(self.wall_now())
    }
}

impl Timer for FakeTimer {
    fn now(&self) -> Instant {
        self.now.lock().unwrap().0
    }

    fn sleep(&self, _: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(std::future::ready(()))
    }

    fn wall_now(&self) -> SystemTime {
        self.now.lock().unwrap().1
    }
}

struct Fixture {
    emu: RunningEmulator,
    timer: Arc<FakeTimer>,
    verifier: JwksVerifier,
    key: EncodingKey,
    kid: String,
}

async fn fixture() -> Fixture {
    let emu = Emulator::builder().spawn().await.unwrap();
    let timer = FakeTimer::new();
    let client = Client::builder()
        .client_id(CLIENT_ID)
        .base_url(emu.url())
        .try_build()
        .unwrap();
    let verifier = JwksVerifier::for_client(&client)
        .unwrap()
        .with_timer(timer.clone());
    let key = EncodingKey::from_rsa_pem(emu.signing_key_pem().as_bytes()).unwrap();
    let kid = emu.state().signing_key_id().to_owned();
    Fixture {
        emu,
        timer,
        verifier,
        key,
        kid,
    }
}

impl Fixture {
    fn claims(&self) -> Value {
        let now = self.timer.unix();
        json!({
            "iss": "https://api.workos.com/", "sub": "user_1", "sid": "session_1",
            "org_id": "org_1", "role": "admin", "roles": ["admin"],
            "permissions": ["widgets:read"], "jti": "jti_1",
            "iat": now, "exp": now + 300,
        })
    }

    fn sign(&self, kid: Option<&str>, claims: &Value) -> SecretString {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = kid.map(str::to_owned);
        encode(&header, claims, &self.key).unwrap().into()
    }

    fn valid(&self) -> SecretString {
        self.sign(Some(&self.kid), &self.claims())
    }

    fn jwks_fetches(&self) -> usize {
        self.emu
            .request_log()
            .iter()
            .filter(|r| r.path == format!("/sso/jwks/{CLIENT_ID}"))
            .count()
    }
}

fn reason(error: Error) -> String {
    match error {
        Error::InvalidToken { reason } => reason,
        other => panic!("expected InvalidToken, got {other:?}"),
    }
}

#[test]
fn claims_decode_with_defaults_and_unknown_members_ignored() {
    let token: SecretString = encode(
        &Header::default(),
        &json!({
            "iss": "i", "sub": "user_1", "iat": 1_700_000_000, "exp": 1_700_000_300.9,
            "roles": null, "act": {"sub": "admin@example.com"}, "future_claim": {"x": 1},
        }),
        &EncodingKey::from_secret(b"unverified"),
    )
    .unwrap()
    .into();
    let claims = decode_unverified(&token).unwrap();
    assert_eq!(claims.sub, "user_1");
    assert_eq!(claims.exp, 1_700_000_300);
    assert_eq!(claims.lifetime(), Duration::from_secs(300));
    assert_eq!(claims.sid, None);
    assert!(claims.roles.is_empty() && claims.permissions.is_empty());
    assert_eq!(claims.act.unwrap().sub, "admin@example.com");
}

#[test]
fn undecodable_tokens_are_errors_that_never_quote_the_token() {
    let opaque = SecretString::from("planted-opaque-refresh-token");
    let missing_exp: SecretString = encode(
        &Header::default(),
        &json!({"iss": "i", "sub": "planted-sub", "iat": 1}),
        &EncodingKey::from_secret(b"k"),
    )
    .unwrap()
    .into();
    let wrong_type: SecretString = encode(
        &Header::default(),
        &json!({"iss": "i", "sub": "s", "iat": 1, "exp": "planted-exp"}),
        &EncodingKey::from_secret(b"k"),
    )
    .unwrap()
    .into();
    for token in [&opaque, &missing_exp, &wrong_type] {
        let error = decode_unverified(token).unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("planted"), "{shown}");
        assert!(!shown.contains(token.expose()), "{shown}");
        assert_eq!(error.kind(), crate::ErrorKind::InvalidToken);
    }
    let shown = decode_unverified(&missing_exp).unwrap_err().to_string();
    assert!(shown.contains("no `exp` claim"), "{shown}");
}

#[test]
fn jwks_parsing_keeps_only_rs256_signing_keys() {
    let emulator_like = |kid: &str| {
        json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
               "n": "AQAB", "e": "AQAB", "x5c": ["..."], "x5t#S256": "..."})
    };
    let body = json!({"keys": [
        emulator_like("good"),
        {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "a", "y": "b"},
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
        {"kty": "RSA", "kid": "rs512", "alg": "RS512", "n": "AQAB", "e": "AQAB"},
        {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        "not even an object",
    ]});
    let keys = parse_jwks(body.to_string().as_bytes()).unwrap();
    assert_eq!(keys.keys().collect::<Vec<_>>(), vec!["good"]);

    let none = parse_jwks(br#"{"keys": [{"kty": "oct", "kid": "x", "k": "c2VjcmV0"}]}"#);
    assert!(matches!(none, Err(Error::Protocol { .. })));
    assert!(matches!(parse_jwks(b"<html>"), Err(Error::Protocol { .. })));
}

#[test]
fn jwks_url_encodes_the_client_id_as_one_segment() {
    let base = Url::parse("https://api.workos.com/").unwrap();
    assert_eq!(
        jwks_url(&base, "client_01").as_str(),
        "https://api.workos.com/sso/jwks/client_01"
    );
    assert_eq!(
        jwks_url(&base, "a/../b?c").as_str(),
        "https://api.workos.com/sso/jwks/a%2F..%2Fb%3Fc"
    );
    let nested = Url::parse("http://127.0.0.1:9/prefix/").unwrap();
    assert_eq!(
        jwks_url(&nested, "c").as_str(),
        "http://127.0.0.1:9/prefix/sso/jwks/c"
    );
}

#[test]
fn plain_http_jwks_urls_are_refused_off_loopback() {
    let error = JwksVerifier::new(Url::parse("http://evil.example/jwks").unwrap()).unwrap_err();
    assert!(matches!(error, Error::InvalidBaseUrl { .. }), "{error:?}");
}

#[tokio::test]
async fn a_genuine_token_verifies_and_exposes_its_claims() {
    let f = fixture().await;
    let claims = f.verifier.verify(&f.valid()).await.unwrap();
    assert_eq!(claims.sub, "user_1");
    assert_eq!(claims.sid.as_deref(), Some("session_1"));
    assert_eq!(claims.org_id.as_deref(), Some("org_1"));
    assert_eq!(claims.role.as_deref(), Some("admin"));
    assert_eq!(claims.permissions, vec!["widgets:read"]);
}

#[tokio::test]
async fn alg_none_is_rejected() {
    let f = fixture().await;
    let valid = f.valid();
    let payload = valid.expose().split('.').nth(1).unwrap();
    // {"alg":"none","typ":"JWT","kid":<none>} with an empty signature.
    let none = SecretString::from(format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}."));
    let r = reason(f.verifier.verify(&none).await.unwrap_err());
    assert!(r.contains("never `none`"), "{r}");
    assert_eq!(f.jwks_fetches(), 0, "rejected before any fetch");
}

#[tokio::test]
async fn hs256_is_rejected_even_with_a_known_kid() {
    let f = fixture().await;
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(f.kid.clone());
    // The classic confusion attack: the public key used as an HMAC secret.
    let forged: SecretString = encode(
        &header,
        &f.claims(),
        &EncodingKey::from_secret(f.emu.signing_key_pem().as_bytes()),
    )
    .unwrap()
    .into();
    let r = reason(f.verifier.verify(&forged).await.unwrap_err());
    assert!(r.contains("HS256") && r.contains("only RS256"), "{r}");
}

#[tokio::test]
async fn a_token_without_kid_is_rejected() {
    let f = fixture().await;
    let token = f.sign(None, &f.claims());
    let r = reason(f.verifier.verify(&token).await.unwrap_err());
    assert!(r.contains("no key id"), "{r}");
}

#[tokio::test]
async fn expiry_is_checked_against_the_injected_clock_with_60_s_leeway() {
    let f = fixture().await;
    let mut claims = f.claims();
    claims["exp"] = json!(f.timer.unix() - 30);
    let within_leeway = f.sign(Some(&f.kid), &claims);
    f.verifier.verify(&within_leeway).await.unwrap();

    claims["exp"] = json!(f.timer.unix() - 61);
    let expired = f.sign(Some(&f.kid), &claims);
    let r = reason(f.verifier.verify(&expired).await.unwrap_err());
    assert!(r.contains("expired 61 s ago"), "{r}");

    // The same token that verified a moment ago fails once the clock moves on.
    f.timer.advance(Duration::from_secs(31));
    assert!(f.verifier.verify(&within_leeway).await.is_err());
}

#[tokio::test]
async fn a_bad_signature_is_rejected_and_the_token_never_shown() {
    let f = fixture().await;
    let genuine = f.valid();
    let mut claims = f.claims();
    claims["sub"] = json!("user_admin");
    let other = f.sign(Some(&f.kid), &claims);
    let (g, o) = (genuine.expose(), other.expose());
    // The tampered claims with the genuine signature.
    let tampered = format!(
        "{}.{}",
        o.rsplit_once('.').unwrap().0,
        g.rsplit_once('.').unwrap().1
    );
    let error = f
        .verifier
        .verify(&tampered.clone().into())
        .await
        .unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(
        !shown.contains(&tampered) && !shown.contains("user_admin"),
        "{shown}"
    );
    assert!(reason(error).contains("signature does not match"));
}

#[tokio::test]
async fn issuer_is_checked_only_when_configured() {
    let f = fixture().await;
    let token = f.valid();
    let strict = JwksVerifier::new(f.verifier.jwks_url().clone())
        .unwrap()
        .with_timer(f.timer.clone())
        .with_issuer("https://api.workos.com/user_management/client_01JWKSTEST");
    let r = reason(strict.verify(&token).await.unwrap_err());
    assert!(r.contains("another issuer"), "{r}");
    let matching = strict.with_issuer("https://api.workos.com/");
    matching.verify(&token).await.unwrap();
}

#[tokio::test]
async fn keys_are_cached_for_the_ttl_and_refetched_after_it() {
    let f = fixture().await;
    let token = f.valid();
    f.verifier.verify(&token).await.unwrap();
    f.verifier.verify(&token).await.unwrap();
    assert_eq!(f.jwks_fetches(), 1);

    f.timer.advance(JWKS_CACHE_TTL - Duration::from_secs(1));
    f.verifier.verify(&token).await.unwrap();
    assert_eq!(f.jwks_fetches(), 1, "still within the TTL");

    f.timer.advance(Duration::from_secs(2));
    f.verifier.verify(&token).await.unwrap();
    assert_eq!(f.jwks_fetches(), 2, "one fetch once the TTL passed");
}

#[tokio::test]
async fn an_unknown_kid_refetches_once_outside_the_cooldown() {
    let f = fixture().await;
    f.verifier.verify(&f.valid()).await.unwrap();
    assert_eq!(f.jwks_fetches(), 1);
    let rotated = f.sign(Some("sso_oidc_key_pair_ROTATED"), &f.claims());

    // Just fetched: an unknown kid is not worth another request yet.
    let r = reason(f.verifier.verify(&rotated).await.unwrap_err());
    assert!(
        r.contains("sso_oidc_key_pair_ROTATED") && r.contains("not in the JWKS"),
        "{r}"
    );
    assert_eq!(f.jwks_fetches(), 1);

    f.timer
        .advance(JWKS_REFETCH_COOLDOWN + Duration::from_secs(1));
    assert!(f.verifier.verify(&rotated).await.is_err());
    assert_eq!(
        f.jwks_fetches(),
        2,
        "exactly one refetch for the unknown kid"
    );
    assert!(f.verifier.verify(&rotated).await.is_err());
    assert_eq!(f.jwks_fetches(), 2, "and not one per verification");
    // The known key still verifies from the refreshed cache.
    f.verifier.verify(&f.valid()).await.unwrap();
    assert_eq!(f.jwks_fetches(), 2);
}

#[tokio::test]
async fn concurrent_first_verifications_fetch_once() {
    let f = Arc::new(fixture().await);
    let token = f.valid();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (f, token) = (f.clone(), token.clone());
            tokio::spawn(async move { f.verifier.verify(&token).await.map(|c| c.sub) })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), "user_1");
    }
    assert_eq!(f.jwks_fetches(), 1);
}

#[tokio::test]
async fn a_failing_jwks_endpoint_is_an_http_error() {
    let emu = Emulator::builder()
        .config(workos_emulator::EmulatorConfig {
            clients: vec!["client_other".into()],
            ..Default::default()
        })
        .spawn()
        .await
        .unwrap();
    let url = Url::parse(&format!("{}/sso/jwks/{CLIENT_ID}", emu.url())).unwrap();
    let verifier = JwksVerifier::new(url).unwrap();
    let token: SecretString = encode(
        &Header {
            kid: Some("k".into()),
            ..Header::new(Algorithm::RS256)
        },
        &json!({"iss": "i", "sub": "s", "iat": 1, "exp": 2}),
        &EncodingKey::from_rsa_pem(emu.signing_key_pem().as_bytes()).unwrap(),
    )
    .unwrap()
    .into();
    let error = verifier.verify(&token).await.unwrap_err();
    assert!(
        matches!(error, Error::Http { status: 404, .. }),
        "{error:?}"
    );
}
