//! RFC 8628 §3.5 polling against a hostile token endpoint (threat-model rows 1–10, 12).
//!
//! The binary runs in real time, so its scenarios use `interval: 1` and assert counts,
//! order and the minimum spacing the protocol demands, never speed. Where the
//! protocol's own numbers (5 s default, +5 s per `slow_down`, doubling to 60 s, a 30 s
//! `Retry-After`) would take minutes, the real client and transport run against the
//! same hostile server under a fake timer and the exact wait sequence is asserted.

use serde_json::json;

use crate::harness::*;
use crate::server::{AUTHENTICATE, AUTHORIZE, Action, Response};

/// Spacing tolerance for real-time assertions: a wait of N s may show up as N − 0.1 s
/// between two request arrivals (the first request's arrival is stamped after it was
/// sent).
const SLACK: f64 = 0.1;

// --- Row 1: no interval ----------------------------------------------------------

#[tokio::test]
async fn row01_absent_interval_means_five_second_waits_lib() {
    let server = scripted(json!({"interval": null}), vec![pending(), pending()]).await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let login = lib_login(&server).await;
    assert!(login.result.is_ok());
    assert_eq!(login.interval, 5);
    assert_eq!(login.sleeps, vec![5, 5, 5]);
    assert_eq!(server.requests_to(AUTHENTICATE).len(), 3);
}

#[tokio::test]
async fn row01_absent_interval_first_poll_waits_five_seconds_binary() {
    let server = scripted(json!({"interval": null, "expires_in": 7}), vec![]).await;
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(2);
    let authorize = &server.requests_to(AUTHORIZE)[0];
    let polls = server.requests_to(AUTHENTICATE);
    assert_eq!(
        polls.len(),
        1,
        "one poll at 5 s, none at 10 s (after the 7 s deadline)"
    );
    assert!(secs_between(authorize.at, polls[0].at) >= 5.0 - SLACK);
}

// --- Row 2: useless intervals ----------------------------------------------------

#[tokio::test]
async fn row02_zero_negative_text_and_fractional_intervals_mean_five_seconds_lib() {
    for interval in [json!(0), json!(-3), json!("abc"), json!(1.5)] {
        let server = scripted(json!({"interval": interval}), vec![pending()]).await;
        server.then_always(AUTHENTICATE, ok_tokens());
        let login = lib_login(&server).await;
        assert!(login.result.is_ok(), "{interval}");
        assert_eq!(login.interval, 5, "{interval}");
        assert_eq!(login.sleeps, vec![5, 5], "{interval}");
    }
}

#[tokio::test]
async fn row02_useless_intervals_never_busy_loop_binary() {
    // With a 3 s lifetime and a 5 s interval, not a single poll may be sent.
    let runs = [json!(0), json!(-3), json!("abc"), json!(1.5)].map(|interval| async move {
        let server = scripted(json!({"interval": interval, "expires_in": 3}), vec![]).await;
        let out = Cli::new().login(&server, &[]).await;
        (interval, out, server.requests_to(AUTHENTICATE).len())
    });
    for (interval, out, polls) in futures_join_all(runs).await {
        out.assert_code(2);
        assert_eq!(polls, 0, "interval {interval} polled");
        out.assert_stderr_has("gave up waiting");
    }
}

// --- Row 3: slow_down ------------------------------------------------------------

#[tokio::test]
async fn row03_three_slow_downs_wait_10_15_20_and_stay_at_20_lib() {
    let server = scripted(
        json!({"interval": 5, "expires_in": 600}),
        vec![slow_down(), slow_down(), slow_down(), pending(), pending()],
    )
    .await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let login = lib_login(&server).await;
    assert!(login.result.is_ok());
    assert_eq!(login.sleeps, vec![5, 10, 15, 20, 20, 20]);
}

#[tokio::test]
async fn row03_slow_down_adds_five_seconds_binary() {
    let server = scripted(json!({}), vec![slow_down()]).await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(0)
        .assert_stderr_has("asked us to slow down; checking every 6s");
    let polls = server.requests_to(AUTHENTICATE);
    assert_eq!(polls.len(), 2);
    assert!(gaps(&polls)[0] >= 6.0 - SLACK, "{:?}", gaps(&polls));
}

#[tokio::test]
async fn slow_down_repeated_despite_honest_waits_suggests_a_fast_clock() {
    // Three slow_downs to waits that were long enough, then the code expires.
    let server = scripted(
        json!({"interval": 5, "expires_in": 600}),
        vec![
            slow_down(),
            slow_down(),
            slow_down(),
            oauth_error(400, "expired_token", "expired"),
        ],
    )
    .await;
    let login = lib_login(&server).await;
    let err = login.result.unwrap_err();
    assert!(err.is_expired());
    assert!(
        err.to_string()
            .contains("the system clock may be running fast"),
        "{err}"
    );
}

// --- Row 4: pending ×5 then tokens ----------------------------------------------

#[tokio::test]
async fn row04_five_pendings_then_tokens_take_exactly_six_polls_none_early() {
    let server = scripted(json!({}), vec![pending(); 5]).await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(0).assert_stderr_has("hostile@example.com");
    let authorize = &server.requests_to(AUTHORIZE)[0];
    let polls = server.requests_to(AUTHENTICATE);
    assert_eq!(polls.len(), 6);
    assert!(secs_between(authorize.at, polls[0].at) >= 1.0 - SLACK);
    for gap in gaps(&polls) {
        assert!(gap >= 1.0 - SLACK, "a poll came early: {:?}", gaps(&polls));
    }
    for poll in &polls {
        let body = poll.json();
        assert_eq!(
            body["grant_type"],
            "urn:ietf:params:oauth:grant-type:device_code"
        );
        assert_eq!(body["device_code"], crate::canary::DEVICE_CODE);
        assert_eq!(body["client_id"], CLIENT_ID);
    }
}

// --- Rows 5–8: transient failures -----------------------------------------------

#[tokio::test]
async fn row05_http_500_doubles_the_next_wait_then_succeeds() {
    let server = scripted(
        json!({}),
        vec![Response::json(500, json!({"error": "server_error"})).into()],
    )
    .await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(0)
        .assert_stderr_has("the server answered HTTP 500); retrying in 2s");
    let polls = server.requests_to(AUTHENTICATE);
    assert_eq!(polls.len(), 2);
    assert!(gaps(&polls)[0] >= 2.0 - SLACK, "{:?}", gaps(&polls));
}

#[tokio::test]
async fn row06_502_with_an_html_body_is_transient_and_never_printed() {
    let html = "<html><body><h1>502 Bad Gateway</h1>HTML-MARKER \u{1b}[2J</body></html>";
    let server = scripted(
        json!({}),
        vec![Response::text(502, "text/html", html).into()],
    )
    .await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(0)
        .assert_stderr_lacks("HTML-MARKER")
        .assert_stderr_lacks("<html>");
    assert_eq!(server.requests_to(AUTHENTICATE).len(), 2);
}

#[tokio::test]
async fn row07_two_dropped_connections_double_the_wait_twice_binary() {
    let server = scripted(json!({}), vec![Action::Drop, Action::Drop]).await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(0)
        .assert_stderr_has("Could not reach the server");
    let polls = server.requests_to(AUTHENTICATE);
    assert_eq!(polls.len(), 3);
    let g = gaps(&polls);
    assert!(g[0] >= 2.0 - SLACK && g[1] >= 4.0 - SLACK, "{g:?}");
}

#[tokio::test]
async fn row07_connection_failures_wait_10_then_20_then_continue_lib() {
    let server = scripted(
        json!({"interval": 5, "expires_in": 600}),
        vec![Action::Drop, Action::Drop, pending()],
    )
    .await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let login = lib_login(&server).await;
    assert!(login.result.is_ok());
    assert_eq!(login.sleeps, vec![5, 10, 20, 5]);
}

#[tokio::test]
async fn row07_backoff_is_capped_at_sixty_seconds_lib() {
    let server = scripted(
        json!({"interval": 5, "expires_in": 1000}),
        vec![Action::Drop; 6],
    )
    .await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let login = lib_login(&server).await;
    assert!(login.result.is_ok());
    assert_eq!(login.sleeps, vec![5, 10, 20, 40, 60, 60, 60]);
}

#[tokio::test]
async fn row08_429_retry_after_30_delays_the_next_poll_lib() {
    let server = scripted(
        json!({"interval": 5, "expires_in": 600}),
        vec![
            Response::json(
                429,
                json!({"code": "rate_limit_exceeded", "message": "slow"}),
            )
            .header("retry-after", "30")
            .into(),
        ],
    )
    .await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let login = lib_login(&server).await;
    assert!(login.result.is_ok());
    assert_eq!(login.sleeps, vec![5, 30]);
}

#[tokio::test]
async fn row08_429_retry_after_seconds_is_honoured_binary() {
    let server = scripted(
        json!({}),
        vec![
            Response::json(429, json!({"code": "rate_limit_exceeded"}))
                .header("retry-after", "3")
                .into(),
        ],
    )
    .await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(0);
    let polls = server.requests_to(AUTHENTICATE);
    assert_eq!(polls.len(), 2);
    assert!(gaps(&polls)[0] >= 3.0 - SLACK, "{:?}", gaps(&polls));
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured_binary() {
    // A date three whole seconds ahead of the moment the 503 is built; the next poll
    // must not arrive before it (HTTP-dates have one-second resolution).
    let server = scripted(json!({}), vec![]).await;
    let not_before = std::time::SystemTime::now() + std::time::Duration::from_secs(4);
    let date = httpdate_fmt(not_before);
    server.on(
        AUTHENTICATE,
        [Response::json(503, json!({}))
            .header("retry-after", &date)
            .into()],
    );
    server.then_always(AUTHENTICATE, ok_tokens());
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(0);
    let polls = server.requests_to(AUTHENTICATE);
    assert_eq!(polls.len(), 2);
    let floor = not_before - std::time::Duration::from_millis(1000 + 100);
    assert!(
        polls[1].wall >= floor,
        "second poll came before Retry-After {date}"
    );
}

#[tokio::test]
async fn garbage_retry_after_falls_back_to_doubling_lib() {
    let server = scripted(
        json!({"interval": 5, "expires_in": 600}),
        vec![
            Response::json(503, json!({}))
                .header("retry-after", "soon, maybe")
                .into(),
        ],
    )
    .await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let login = lib_login(&server).await;
    assert!(login.result.is_ok());
    assert_eq!(login.sleeps, vec![5, 10]);
}

// --- Row 9: terminal errors -----------------------------------------------------

#[tokio::test]
async fn row09_denied_expired_invalid_grant_and_unknown_errors_stop_at_once() {
    let cases = [
        ("access_denied", 2, "denied in the browser"),
        ("expired_token", 2, "expired before it was approved"),
        ("invalid_grant", 1, "invalid_grant"),
        ("unheard_of_error", 1, "unheard_of_error"),
    ]
    .map(|(code, exit, message)| async move {
        let server = scripted(json!({}), vec![oauth_error(400, code, "nope")]).await;
        let out = Cli::new().login(&server, &[]).await;
        (
            code,
            exit,
            message,
            out,
            server.requests_to(AUTHENTICATE).len(),
        )
    });
    for (code, exit, message, out, polls) in futures_join_all(cases).await {
        out.assert_code(exit);
        assert!(out.error_line().contains(message), "{code}: {}", out.stderr);
        assert_eq!(polls, 1, "{code}: polled again after a terminal error");
    }
}

// --- Row 10: local deadline -----------------------------------------------------

#[tokio::test]
async fn row10_pending_forever_stops_at_the_local_deadline() {
    let server = scripted(json!({"expires_in": 3}), vec![]).await;
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(2).assert_stderr_has("gave up waiting");
    let authorize = server.requests_to(AUTHORIZE)[0].at;
    let polls = server.requests_to(AUTHENTICATE);
    assert!(!polls.is_empty() && polls.len() <= 2, "{}", polls.len());
    for poll in &polls {
        assert!(
            secs_between(authorize, poll.at) < 3.0,
            "a poll after the deadline"
        );
    }
}

// --- Row 12 and odd token replies ----------------------------------------------

#[tokio::test]
async fn row12_a_200_with_neither_tokens_nor_error_is_a_protocol_error() {
    let server = scripted(
        json!({}),
        vec![Response::json(200, json!({"hello": "world"})).into()],
    )
    .await;
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(1)
        .assert_stderr_has("neither tokens nor an error");
    assert_eq!(server.requests_to(AUTHENTICATE).len(), 1);
    assert!(Cli::new().stored_profiles().is_empty());
}

#[tokio::test]
async fn a_200_carrying_an_error_member_stops_the_login() {
    let server = scripted(
        json!({}),
        vec![Response::json(200, json!({"error": "access_denied"})).into()],
    )
    .await;
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(2).assert_stderr_has("denied");
    assert_eq!(server.requests_to(AUTHENTICATE).len(), 1);
}

#[tokio::test]
async fn token_reply_with_wrong_types_never_quotes_the_values() {
    let mut body = tokens();
    body["refresh_token"] = json!(["REFRESHTOKEN-CANARY-c41d8e2f7a"]);
    body["access_token"] = json!({"nested": crate::canary::ACCESS_SIGNATURE});
    let server = scripted(json!({}), vec![Response::json(200, body).into()]).await;
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(1).assert_stderr_has("wrong type");
    assert_eq!(server.requests_to(AUTHENTICATE).len(), 1);
}

#[tokio::test]
async fn token_reply_missing_the_user_is_refused_by_name() {
    let mut body = tokens();
    body.as_object_mut().unwrap().remove("user");
    let server = scripted(json!({}), vec![Response::json(200, body).into()]).await;
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(1).assert_stderr_has("missing field `user`");
}

#[tokio::test]
async fn ambiguous_duplicate_error_members_stop_instead_of_continuing() {
    let body = r#"{"error":"authorization_pending","error":"access_denied"}"#;
    let server = scripted(
        json!({}),
        vec![Response::text(400, "application/json", body).into()],
    )
    .await;
    let out = Cli::new().login(&server, &[]).await;
    assert_ne!(out.code, Some(0));
    assert_eq!(server.requests_to(AUTHENTICATE).len(), 1);
}

#[tokio::test]
async fn unknown_members_and_an_unknown_authentication_method_are_accepted() {
    let mut body = tokens();
    body["authentication_method"] = json!("QuantumOAuth");
    body["future_member"] = json!({"deeply": [1, 2, {"x": null}]});
    body["user"]["future_user_member"] = json!(true);
    let server = scripted(json!({"future": "member"}), vec![]).await;
    server.then_always(AUTHENTICATE, Response::json(200, body));
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(0)
        .assert_stderr_has("Logged in as hostile@example.com");
}

// --- helpers --------------------------------------------------------------------

/// Runs independent scenarios concurrently, each on its own task.
async fn futures_join_all<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("scenario task"));
    }
    out
}

pub fn httpdate_fmt(t: std::time::SystemTime) -> String {
    // RFC 9110 IMF-fixdate, without a date crate.
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let days = secs / 86_400;
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    // Civil-from-days (Howard Hinnant).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(month <= 2);
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(month - 1) as usize];
    format!("{weekday}, {d:02} {mon} {y} {h:02}:{m:02}:{s:02} GMT")
}

#[test]
fn httpdate_fmt_matches_a_known_date() {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_445_412_480);
    assert_eq!(httpdate_fmt(t), "Wed, 21 Oct 2015 07:28:00 GMT");
}
