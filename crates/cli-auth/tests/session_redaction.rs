//! Threat-model row 17 for sessions: with every tracing event captured at TRACE level,
//! a login, refreshes, a verification, a 5xx, a bad token and an ended session leave
//! no access or refresh token in any log line, error message or `Debug` string.
//!
//! One test per file: the capturing subscriber is the process-wide default, so events
//! from spawn_blocking threads and the emulator's tasks are seen too.

mod session_support;

use std::fmt::{Debug, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cli_auth::{DefaultConnector, JwksVerifier, SecretString, decode_unverified};
use session_support::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Records every field of every span and event as `name=value` text.
struct Capture {
    text: Arc<Mutex<String>>,
    next_id: AtomicU64,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        span.record(&mut Fields(&mut self.text.lock().unwrap()));
        Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed))
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        values.record(&mut Fields(&mut self.text.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut text = self.text.lock().unwrap();
        let _ = write!(
            text,
            "\n{} {}: ",
            event.metadata().level(),
            event.metadata().target()
        );
        event.record(&mut Fields(&mut text));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_reaches_a_log_line_an_error_or_a_debug_string() {
    let logs = Arc::new(Mutex::new(String::new()));
    tracing::subscriber::set_global_default(Capture {
        text: logs.clone(),
        next_id: AtomicU64::new(1),
    })
    .unwrap();

    let h = harness(Duration::from_secs(60)).await;
    let mut secrets: Vec<SecretString> = Vec::new();
    let mut shown = String::new();
    let mut show = |item: &dyn Debug, text: String| {
        let _ = write!(shown, "{item:?} {text} ");
    };

    // Login, save, refresh twice.
    let cred = h.login(PROFILE).await;
    secrets.extend([
        cred.access_token.clone().unwrap(),
        cred.refresh_token.clone(),
    ]);
    show(&cred, String::new());
    for _ in 0..2 {
        h.expire();
        let fresh = h.session(PROFILE).token(&DefaultConnector).await.unwrap();
        show(&fresh, String::new());
        secrets.push(fresh.token.clone());
    }
    let stored = h.stored(PROFILE).unwrap();
    secrets.push(stored.refresh_token.clone());
    show(&stored, String::new());
    show(&h.session(PROFILE), String::new());
    let claims = decode_unverified(&stored.access_token.clone().unwrap()).unwrap();
    show(&claims, String::new());

    // A verification, and a tampered token.
    let verifier = JwksVerifier::for_client(&h.client())
        .unwrap()
        .with_timer(h.timer.clone());
    verifier
        .verify(stored.access_token.as_ref().unwrap())
        .await
        .unwrap();
    show(&verifier, String::new());
    let tampered = SecretString::from(format!(
        "{}x",
        stored.access_token.as_ref().unwrap().expose()
    ));
    let error = verifier.verify(&tampered).await.unwrap_err();
    show(&error, error.to_string());
    secrets.push(tampered);

    // A refresh answered with HTTP 500: the refresh token was sent, never shown.
    let (failing, _) = failing_server().await;
    let mut broken = h.stored(PROFILE).unwrap();
    broken.api_base_url = failing;
    h.store.save(&broken).unwrap();
    h.expire();
    let error = h
        .session(PROFILE)
        .token(&DefaultConnector)
        .await
        .unwrap_err();
    show(&error, error.to_string());

    // The session ends: invalid_grant, cleared, reported.
    broken.api_base_url = h.emu.url().to_owned();
    h.store.save(&broken).unwrap();
    h.logout_in_browser(&broken).await;
    let error = h
        .session(PROFILE)
        .token(&DefaultConnector)
        .await
        .unwrap_err();
    assert!(error.is_auth_required(), "{error:?}");
    show(
        &error,
        format!("{error} / {:?}", anyhow::Error::from(error.clone())),
    );

    let logs = logs.lock().unwrap().clone();
    assert!(
        logs.contains("refreshing the access token"),
        "the capture works: {logs}"
    );
    assert!(logs.contains("session ended"), "{logs}");
    for secret in &secrets {
        let value = secret.expose();
        assert!(value.len() > 20, "a real token");
        assert!(!logs.contains(value), "a token in the logs");
        assert!(
            !shown.contains(value),
            "a token in an error or Debug output"
        );
        // Not even the signature part of a JWT on its own.
        if let Some((_, signature)) = value.rsplit_once('.') {
            assert!(!logs.contains(signature) && !shown.contains(signature));
        }
    }
}
