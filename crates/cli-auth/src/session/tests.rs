//! The pure parts of the session: the margin, freshness, the credential built from a
//! server reply, the fast path over a temp-dir store, and the logout URL. The refresh
//! itself runs against the emulator in `tests/session_refresh.rs`.

use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;

use super::*;
use crate::AuthenticationResponse;
use crate::store::StoreKind;
use crate::workos::user::User;

const S: fn(u64) -> Duration = Duration::from_secs;
const T0: u64 = 1_800_000_000;

fn at(unix: u64) -> SystemTime {
    UNIX_EPOCH + S(unix)
}

/// An (unsigned for our purposes) JWT issued at `iat` for `ttl` seconds.
fn jwt(iat: u64, ttl: u64, sid: &str, org: Option<&str>) -> SecretString {
    let claims = json!({"iss": "i", "sub": "user_1", "sid": sid, "org_id": org,
                        "iat": iat, "exp": iat + ttl});
    encode(&Header::default(), &claims, &EncodingKey::from_secret(b"k"))
        .unwrap()
        .into()
}

fn response(access: SecretString, refresh: &str, org: Option<&str>) -> AuthenticationResponse {
    AuthenticationResponse {
        user: serde_json::from_value::<User>(json!({"id": "user_1", "email": "demo@example.com"}))
            .unwrap(),
        organization_id: org.map(str::to_owned),
        access_token: access,
        refresh_token: refresh.into(),
        authentication_method: None,
        impersonator: None,
    }
}

#[test]
fn margin_is_a_tenth_of_the_lifetime_capped_at_60_s() {
    let table = [
        (Some(Duration::ZERO), Duration::ZERO),
        (Some(S(2)), Duration::from_millis(200)),
        (Some(S(60)), S(6)),
        (Some(S(300)), S(30)),
        (Some(S(600)), S(60)),
        (Some(S(3600)), S(60)),
        (Some(S(86_400)), S(60)),
        (None, S(60)),
    ];
    for (lifetime, margin) in table {
        assert_eq!(refresh_margin(lifetime), margin, "{lifetime:?}");
    }
}

#[test]
fn fresh_means_now_plus_margin_strictly_before_exp() {
    let exp = T0 + 300;
    let lifetime = Some(S(300)); // margin 30 s
    assert!(is_fresh(exp, lifetime, at(T0)));
    assert!(is_fresh(exp, lifetime, at(exp - 31)));
    assert!(
        !is_fresh(exp, lifetime, at(exp - 30)),
        "the boundary is stale"
    );
    assert!(!is_fresh(exp, lifetime, at(exp)));
    assert!(!is_fresh(exp, lifetime, at(exp + 1000)));
    // Unknown lifetime: the full minute.
    assert!(!is_fresh(exp, None, at(exp - 60)));
    assert!(is_fresh(exp, None, at(exp - 61)));
    // A 2 s token is fresh for its first 1.8 s.
    assert!(is_fresh(
        T0 + 2,
        Some(S(2)),
        at(T0) + Duration::from_millis(1799)
    ));
    assert!(!is_fresh(
        T0 + 2,
        Some(S(2)),
        at(T0) + Duration::from_millis(1800)
    ));
    // Absurd values must not overflow (a panic here would break `token`).
    assert!(!is_fresh(u64::MAX, None, at(T0)));
    assert!(!is_fresh(
        exp,
        lifetime,
        SystemTime::UNIX_EPOCH + S(u64::MAX / 4)
    ));
}

#[test]
fn stored_tokens_use_their_own_lifetime_for_the_margin() {
    let short = jwt(T0, 10, "s", None); // margin 1 s
    assert!(stored_token_is_fresh(&short, T0 + 10, at(T0 + 8)));
    assert!(!stored_token_is_fresh(&short, T0 + 10, at(T0 + 9)));
    // Not a JWT: the lifetime is unknown, so the full 60 s margin applies.
    let opaque = SecretString::from("opaque");
    assert!(!stored_token_is_fresh(&opaque, T0 + 60, at(T0)));
    assert!(stored_token_is_fresh(&opaque, T0 + 61, at(T0)));
}

#[test]
fn credential_from_a_login_takes_session_and_expiry_from_the_jwt() {
    let access = jwt(T0, 300, "session_9", Some("org_1"));
    let cred = credential_from_response(
        &response(access.clone(), "refresh-1", None),
        "default",
        "client_1",
        "https://api.workos.com",
    )
    .unwrap();
    assert_eq!(cred.profile, "default");
    assert_eq!(cred.client_id, "client_1");
    assert_eq!(cred.api_base_url, "https://api.workos.com");
    assert_eq!(cred.user_id, "user_1");
    assert_eq!(cred.email.as_deref(), Some("demo@example.com"));
    assert_eq!(cred.session_id.as_deref(), Some("session_9"));
    assert_eq!(
        cred.organization_id.as_deref(),
        Some("org_1"),
        "from org_id"
    );
    assert_eq!(cred.access_token_expires_at, Some(T0 + 300));
    assert!(cred.access_token.unwrap().ct_eq(&access));
    assert_eq!(cred.refresh_token.expose(), "refresh-1");
}

#[test]
fn a_refresh_replaces_the_pair_and_keeps_the_old_refresh_token_if_none_came() {
    let first = credential_from_response(
        &response(jwt(T0, 300, "session_1", None), "refresh-1", None),
        "p",
        "c",
        "https://api.workos.com",
    )
    .unwrap();
    let rotated = updated_credential(
        &first,
        &response(
            jwt(T0 + 400, 300, "session_1", Some("org_2")),
            "refresh-2",
            Some("org_2"),
        ),
    );
    assert_eq!(rotated.refresh_token.expose(), "refresh-2");
    assert_eq!(rotated.access_token_expires_at, Some(T0 + 700));
    assert_eq!(rotated.organization_id.as_deref(), Some("org_2"));

    let without = updated_credential(&rotated, &response(jwt(T0 + 800, 300, "", None), "", None));
    assert_eq!(without.refresh_token.expose(), "refresh-2", "old one kept");
    assert_eq!(without.access_token_expires_at, Some(T0 + 1100));

    // An access token that is not a JWT: stored, but with no expiry, so it is never
    // served from the cache (every call refreshes rather than guessing).
    let opaque = updated_credential(&rotated, &response("opaque".into(), "refresh-3", None));
    assert_eq!(opaque.access_token_expires_at, None);
    assert_eq!(opaque.session_id.as_deref(), Some("session_1"), "kept");
    assert_eq!(opaque.refresh_token.expose(), "refresh-3");
}

#[test]
fn cached_token_is_one_file_read_that_answers_only_fresh_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let store = CredentialStore::open(dir.path().to_path_buf(), StoreKind::File);
    assert!(
        Session::cached_token(&store, "default", at(T0))
            .unwrap()
            .is_none(),
        "nothing stored"
    );

    let access = jwt(T0, 300, "s", None);
    let cred = credential_from_response(
        &response(access.clone(), "planted-refresh", None),
        "default",
        "c",
        "https://api.workos.com",
    )
    .unwrap();
    store.save(&cred).unwrap();
    let hit = Session::cached_token(&store, "default", at(T0 + 100)).unwrap();
    assert!(hit.unwrap().ct_eq(&access));
    assert!(
        Session::cached_token(&store, "default", at(T0 + 271))
            .unwrap()
            .is_none(),
        "inside the 30 s margin"
    );
    let invalid = Session::cached_token(&store, "../etc", at(T0)).unwrap_err();
    assert_eq!(invalid.kind(), crate::ErrorKind::Store);
}

#[test]
fn logout_url_names_the_session() {
    let mut cred = credential_from_response(
        &response(jwt(T0, 300, "session_01&x=y", None), "r", None),
        "p",
        "c",
        "http://127.0.0.1:4000",
    )
    .unwrap();
    let url = logout_url(&cred).unwrap().unwrap();
    assert_eq!(
        url.as_str(),
        "http://127.0.0.1:4000/user_management/sessions/logout?session_id=session_01%26x%3Dy"
    );
    cred.session_id = None;
    assert!(logout_url(&cred).unwrap().is_none());
    cred.session_id = Some("s".into());
    cred.api_base_url = "http://evil.example".into();
    assert!(matches!(
        logout_url(&cred),
        Err(Error::InvalidBaseUrl { .. })
    ));
}

#[test]
fn invalid_profile_names_are_refused_before_anything_is_saved() {
    let error = credential_from_response(
        &response(jwt(T0, 300, "s", None), "r", None),
        "../x",
        "c",
        "https://api.workos.com",
    )
    .unwrap_err();
    assert_eq!(error.kind(), crate::ErrorKind::Store);
}

#[test]
fn closures_are_connectors() {
    fn takes<C: Connector + ?Sized>(_: &C) {}
    let by_closure = |cred: &StoredCredential| {
        let base = cred.api_base_url.clone();
        async move { Client::builder().client_id("c").base_url(base).try_build() }
    };
    takes(&by_closure);
    takes(&DefaultConnector);
}

#[test]
fn debug_output_of_session_types_has_no_secret() {
    let fresh = FreshToken {
        token: "planted-access".into(),
        expires_at: Some(1),
        refreshed: true,
        fallback: None,
    };
    let shown = format!("{fresh:?}");
    assert!(!shown.contains("planted"), "{shown}");
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(CredentialStore::open(dir.path().into(), StoreKind::File));
    let shown = format!("{:?}", Session::new(store, "default"));
    assert!(shown.contains("default"), "{shown}");
}
