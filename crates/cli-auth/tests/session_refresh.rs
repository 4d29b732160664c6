//! `Session` against the emulator over real sockets, with a temp-dir file store and
//! clocks that move only when told to (threat model rows 19–21, and the in-process
//! half of row 20: the binary's 32-process version is the lead's).

mod session_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cli_auth::store::StoredCredential;
use cli_auth::{Client, DefaultConnector, Error, ErrorKind, Session, decode_unverified};
use session_support::*;

const TTL: Duration = Duration::from_secs(120);

#[tokio::test]
async fn a_saved_login_is_served_from_the_cache_without_any_request() {
    let h = harness(TTL).await;
    let cred = h.login(PROFILE).await;
    let cached = Session::cached_token(&h.store, PROFILE, h.timer_now()).unwrap();
    assert!(same(&cached.unwrap(), cred.access_token.as_ref().unwrap()));

    let fresh = h.session(PROFILE).token(&DefaultConnector).await.unwrap();
    assert!(!fresh.refreshed);
    assert!(same(&fresh.token, cred.access_token.as_ref().unwrap()));
    assert!(h.refresh_requests().is_empty());
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_the_rotated_pair_saved_before_use() {
    let h = harness(TTL).await;
    let first = h.login(PROFILE).await;
    h.expire();
    assert!(
        Session::cached_token(&h.store, PROFILE, h.timer_now())
            .unwrap()
            .is_none()
    );

    let fresh = h.session(PROFILE).token(&DefaultConnector).await.unwrap();
    assert!(fresh.refreshed);
    assert_eq!(h.refresh_requests(), vec![200], "exactly one refresh");

    // Row 19: by the time the token is returned, the new pair is on disk.
    let stored = h.stored(PROFILE).unwrap();
    assert!(same(stored.access_token.as_ref().unwrap(), &fresh.token));
    assert!(
        !same(&stored.refresh_token, &first.refresh_token),
        "rotated"
    );
    let claims = decode_unverified(&fresh.token).unwrap();
    assert_eq!(stored.access_token_expires_at, Some(claims.exp));
    assert_eq!(fresh.expires_at, Some(claims.exp));
    assert_eq!(stored.session_id, first.session_id);
    assert_eq!(stored.user_id, first.user_id);
    assert!(claims.exp > first.access_token_expires_at.unwrap());

    // The stored refresh token is the live one: the next expiry refreshes fine.
    h.expire();
    assert!(
        h.session(PROFILE)
            .token(&DefaultConnector)
            .await
            .unwrap()
            .refreshed
    );
    assert_eq!(h.refresh_requests(), vec![200, 200]);
}

#[tokio::test]
async fn a_second_process_uses_the_token_the_first_refreshed() {
    let h = harness(TTL).await;
    h.login(PROFILE).await;
    h.expire();
    let first = h
        .other_process_session(PROFILE)
        .token(&DefaultConnector)
        .await
        .unwrap();
    let second = h
        .other_process_session(PROFILE)
        .token(&DefaultConnector)
        .await
        .unwrap();
    assert!(first.refreshed && !second.refreshed);
    assert!(same(&first.token, &second.token));
    assert_eq!(h.refresh_requests(), vec![200]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_concurrent_callers_share_one_refresh() {
    let h = harness(TTL).await;
    h.login(PROFILE).await;
    h.expire();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let session = h.other_process_session(PROFILE);
            tokio::spawn(async move { session.token(&DefaultConnector).await })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap().unwrap());
    }
    assert_eq!(
        h.refresh_requests(),
        vec![200],
        "one refresh reached the server"
    );
    assert_eq!(results.iter().filter(|r| r.refreshed).count(), 1);
    let stored = h.stored(PROFILE).unwrap();
    for r in &results {
        assert!(same(&r.token, stored.access_token.as_ref().unwrap()));
    }
    // And the token is genuine.
    let verifier = cli_auth::JwksVerifier::for_client(&h.client())
        .unwrap()
        .with_timer(h.timer.clone());
    verifier.verify(&results[0].token).await.unwrap();
}

#[tokio::test]
async fn a_session_ended_in_the_browser_is_cleared_and_reported() {
    let h = harness(TTL).await;
    let cred = h.login(PROFILE).await;
    h.logout_in_browser(&cred).await;
    h.expire();
    let error = h
        .session(PROFILE)
        .token(&DefaultConnector)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::SessionEnded { profile } if profile == PROFILE),
        "{error:?}"
    );
    assert_eq!(error.kind(), ErrorKind::SessionEnded);
    assert_eq!(h.refresh_requests(), vec![400], "one attempt, no loop");
    assert!(h.stored(PROFILE).is_none(), "cleared");

    let again = h
        .session(PROFILE)
        .token(&DefaultConnector)
        .await
        .unwrap_err();
    assert!(matches!(again, Error::NotLoggedIn { .. }), "{again:?}");
    assert_eq!(h.refresh_requests(), vec![400], "nothing to refresh");
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_ends_the_session() {
    let h = harness(TTL).await;
    let old = h.login(PROFILE).await;
    h.expire();
    h.session(PROFILE).token(&DefaultConnector).await.unwrap();
    // A stale copy (a restored backup, a process that ignored the lock) puts the
    // rotated-out token back; the server sees reuse and revokes the session.
    h.store.save(&old).unwrap();
    h.expire();
    let error = h
        .session(PROFILE)
        .token(&DefaultConnector)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::SessionEnded { .. }), "{error:?}");
    assert!(h.stored(PROFILE).is_none());
    assert_eq!(h.refresh_requests(), vec![200, 400]);
}

#[tokio::test]
async fn a_failed_refresh_never_clears_a_newer_login() {
    let h = harness(TTL).await;
    let old = h.login(PROFILE).await;
    h.logout_in_browser(&old).await;
    h.expire();
    let newer = StoredCredential {
        profile: PROFILE.into(),
        ..h.login("scratch").await
    };

    // While this session holds the lock and refreshes with the old token, "another
    // process" (one that did not take the lock) saves a brand-new login.
    let store = h.store.clone();
    let replacement = newer.clone();
    let base = h.emu.url().to_owned();
    let connector = move |_: &StoredCredential| {
        let (store, replacement, base) = (store.clone(), replacement.clone(), base.clone());
        async move {
            tokio::task::spawn_blocking(move || store.save(&replacement))
                .await
                .unwrap()?;
            Client::builder()
                .client_id(CLIENT_ID)
                .base_url(base)
                .try_build()
        }
    };
    let error = h.session(PROFILE).token(&connector).await.unwrap_err();
    assert!(matches!(error, Error::SessionEnded { .. }), "{error:?}");

    let kept = h.stored(PROFILE).expect("the newer login survives");
    assert!(same(&kept.refresh_token, &newer.refresh_token));
    assert!(!same(&kept.refresh_token, &old.refresh_token));
    let next = h.session(PROFILE).token(&DefaultConnector).await.unwrap();
    assert!(!next.refreshed);
    assert!(same(&next.token, newer.access_token.as_ref().unwrap()));
    assert_eq!(h.refresh_requests(), vec![400]);
}

#[tokio::test]
async fn a_5xx_refresh_keeps_the_credential_and_reports_the_error() {
    let h = harness(TTL).await;
    let mut cred = h.login(PROFILE).await;
    let (failing, hits) = failing_server().await;
    cred.api_base_url = failing;
    h.store.save(&cred).unwrap();
    h.expire();

    let error = h
        .session(PROFILE)
        .token(&DefaultConnector)
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Http { status: 500, .. }),
        "{error:?}"
    );
    assert!(error.is_transient());
    assert!(!error.to_string().contains("<html>"), "{error}");
    assert_eq!(hits.load(Ordering::SeqCst), 1, "one attempt, no retry loop");

    let kept = h.stored(PROFILE).unwrap();
    assert!(same(&kept.refresh_token, &cred.refresh_token));
    assert!(same(
        kept.access_token.as_ref().unwrap(),
        cred.access_token.as_ref().unwrap()
    ));
}

#[tokio::test]
async fn an_unreachable_server_keeps_the_credential() {
    let h = harness(TTL).await;
    let mut cred = h.login(PROFILE).await;
    // A stopped emulator: its port now refuses connections.
    let stopped = workos_emulator::Emulator::builder().spawn().await.unwrap();
    cred.api_base_url = stopped.url().to_owned();
    stopped.shutdown().await;
    h.store.save(&cred).unwrap();
    h.expire();

    let error = h
        .session(PROFILE)
        .token(&DefaultConnector)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Transport { url, .. } if url.starts_with(&cred.api_base_url)),
        "{error:?}"
    );
    assert!(error.is_transient());
    let kept = h.stored(PROFILE).unwrap();
    assert!(same(&kept.refresh_token, &cred.refresh_token));
}

#[tokio::test]
async fn a_rotated_pair_that_cannot_be_saved_is_never_handed_out() {
    let h = harness(TTL).await;
    h.login(PROFILE).await;
    h.expire();
    // After the lock is taken, the profiles directory becomes a symlink, which the
    // store refuses: the refresh succeeds on the server, the save fails.
    let root = h.dir.path().to_path_buf();
    let base = h.emu.url().to_owned();
    let connector = move |_: &StoredCredential| {
        let (root, base) = (root.clone(), base.clone());
        async move {
            std::fs::rename(root.join("profiles"), root.join("profiles-real")).unwrap();
            std::os::unix::fs::symlink(root.join("profiles-real"), root.join("profiles")).unwrap();
            Client::builder()
                .client_id(CLIENT_ID)
                .base_url(base)
                .try_build()
        }
    };
    let error = h.session(PROFILE).token(&connector).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Store, "{error:?}");
    assert_eq!(h.refresh_requests(), vec![200]);
}

#[tokio::test]
async fn the_connector_is_asked_only_when_a_refresh_is_due() {
    let h = harness(TTL).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let base = h.emu.url().to_owned();
    let connector = move |cred: &StoredCredential| {
        counted.fetch_add(1, Ordering::SeqCst);
        assert_eq!(cred.client_id, CLIENT_ID);
        let base = base.clone();
        async move {
            Client::builder()
                .client_id(CLIENT_ID)
                .base_url(base)
                .try_build()
        }
    };
    let session = h.session(PROFILE);
    let missing = session.token(&connector).await.unwrap_err();
    assert!(matches!(missing, Error::NotLoggedIn { .. }), "{missing:?}");
    assert!(missing.is_auth_required());

    h.login(PROFILE).await;
    session.token(&connector).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 0, "fresh: no connector");
    h.expire();
    session.token(&connector).await.unwrap();
    session.token(&connector).await.unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "one refresh, one connection"
    );
}

#[tokio::test]
async fn a_rejected_token_is_replaced_at_most_once() {
    let h = harness(TTL).await;
    let cred = h.login(PROFILE).await;
    let rejected = cred.access_token.clone().unwrap();
    let session = h.session(PROFILE);
    let first = session
        .refresh_rejected(&rejected, &DefaultConnector)
        .await
        .unwrap();
    assert!(first.refreshed && !same(&first.token, &rejected));
    // A second caller that saw the same rejection gets the replacement, no refresh.
    let second = h
        .other_process_session(PROFILE)
        .refresh_rejected(&rejected, &DefaultConnector)
        .await
        .unwrap();
    assert!(!second.refreshed && same(&second.token, &first.token));
    assert_eq!(h.refresh_requests(), vec![200]);
}
