//! The poller under injected time: a fake timer that records every sleep and advances
//! virtual time at once, and a fake endpoint that replays scripted replies and records
//! when each poll arrived. Every case asserts the exact wait sequence. No test sleeps.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Instant;

use url::Url;

use super::*;
use crate::http::HttpReply;
use crate::workos::models::{AuthenticationResponse, parse_device_authorization};
use crate::workos::reply::device_token_reply;

fn s(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

fn secs(list: &[u64]) -> Vec<Duration> {
    list.iter().copied().map(s).collect()
}

/// Virtual time: `sleep` records the duration and advances the clock instantly.
struct FakeTimer {
    origin: Instant,
    wall_origin: SystemTime,
    elapsed: Mutex<Duration>,
    sleeps: Mutex<Vec<Duration>>,
}

impl FakeTimer {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            origin: Instant::now(),
            wall_origin: httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap(),
            elapsed: Mutex::new(Duration::ZERO),
            sleeps: Mutex::new(Vec::new()),
        })
    }
    fn elapsed(&self) -> Duration {
        *self.elapsed.lock().unwrap()
    }
    fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().unwrap().clone()
    }
}

impl Timer for FakeTimer {
    fn now(&self) -> Instant {
        self.origin + self.elapsed()
    }
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        self.sleeps.lock().unwrap().push(d);
        *self.elapsed.lock().unwrap() += d;
        Box::pin(std::future::ready(()))
    }
    fn wall_now(&self) -> SystemTime {
        self.wall_origin + self.elapsed()
    }
}

/// What the fake endpoint answers: a ready-made reply, or an HTTP answer that goes
/// through the real WorkOS classification.
enum Scripted {
    Reply(Result<TokenReply<&'static str>, Error>),
    Http(Result<HttpReply, Error>),
}

struct FakeEndpoint {
    timer: Arc<FakeTimer>,
    script: Mutex<VecDeque<Scripted>>,
    calls: Mutex<Vec<Duration>>,
}

impl TokenEndpoint for FakeEndpoint {
    type Tokens = &'static str;

    async fn exchange(&self) -> Result<TokenReply<&'static str>, Error> {
        self.calls.lock().unwrap().push(self.timer.elapsed());
        // An exhausted script means the user never acts: pending forever.
        match self.script.lock().unwrap().pop_front() {
            None => Ok(TokenReply::Pending),
            Some(Scripted::Reply(reply)) => reply,
            Some(Scripted::Http(http)) => {
                let url =
                    Url::parse("https://api.workos.com/user_management/authenticate").unwrap();
                device_token_reply(http, &url).map(|reply| match reply {
                    TokenReply::Issued(_) => TokenReply::Issued("tokens"),
                    TokenReply::Pending => TokenReply::Pending,
                    TokenReply::SlowDown => TokenReply::SlowDown,
                    TokenReply::Unavailable(u) => TokenReply::Unavailable(u),
                })
            }
        }
    }
}

struct Outcome {
    result: Result<&'static str, Error>,
    sleeps: Vec<Duration>,
    calls: Vec<Duration>,
    events: Vec<PollEvent>,
}

async fn run(script: Vec<Scripted>, expires_in: u64, interval: u64) -> Outcome {
    let timer = FakeTimer::new();
    let endpoint = FakeEndpoint {
        timer: timer.clone(),
        script: Mutex::new(script.into()),
        calls: Mutex::new(Vec::new()),
    };
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let options = PollOptions::new()
        .timer(timer.clone())
        .on_event(move |e| sink.lock().unwrap().push(e.clone()));
    let result = poll_for_tokens(&endpoint, expires_in, interval, &options).await;
    let events = events.lock().unwrap().clone();
    Outcome {
        result,
        sleeps: timer.sleeps(),
        calls: endpoint.calls.into_inner().unwrap(),
        events,
    }
}

fn pending() -> Scripted {
    Scripted::Reply(Ok(TokenReply::Pending))
}
fn slow_down() -> Scripted {
    Scripted::Reply(Ok(TokenReply::SlowDown))
}
fn issued() -> Scripted {
    Scripted::Reply(Ok(TokenReply::Issued("tokens")))
}
fn failed(error: Error) -> Scripted {
    Scripted::Reply(Err(error))
}
fn http(status: u16, retry_after: Option<RetryAfter>, body: &str) -> Scripted {
    Scripted::Http(Ok(HttpReply {
        status,
        body: body.as_bytes().to_vec(),
        retry_after,
        location: None,
    }))
}
fn connect_timeout() -> Scripted {
    Scripted::Http(Err(Error::Transport {
        url: "https://api.workos.com/user_management/authenticate".into(),
        message: "operation timed out".into(),
        timeout: true,
    }))
}

const TOKENS: &str = r#"{"user":{"id":"user_01","email":"demo@example.com"},
    "access_token":"planted-access","refresh_token":"planted-refresh"}"#;

#[tokio::test]
async fn row_1_no_interval_waits_five_before_every_poll() {
    let out = run(vec![pending(), issued()], 300, 0).await;
    assert_eq!(out.result.unwrap(), "tokens");
    assert_eq!(out.sleeps, secs(&[5, 5]));
    assert_eq!(out.calls, secs(&[5, 10]));
}

#[tokio::test]
async fn row_2_useless_wire_intervals_wait_five() {
    for bad in [r#"0"#, r#"-3"#, r#""abc""#, r#"1.5"#] {
        let body = format!(
            r#"{{"device_code":"d","user_code":"ABCD-EFGH","verification_uri":"https://x.authkit.app/device","expires_in":300,"interval":{bad}}}"#
        );
        let data = parse_device_authorization(body.as_bytes()).unwrap();
        let out = run(vec![pending(), issued()], data.expires_in, data.interval).await;
        assert_eq!(out.sleeps, secs(&[5, 5]), "interval {bad}");
    }
}

#[tokio::test]
async fn row_3_slow_down_three_times_waits_10_15_20_and_stays() {
    let script = vec![
        slow_down(),
        slow_down(),
        slow_down(),
        pending(),
        pending(),
        issued(),
    ];
    let out = run(script, 300, 5).await;
    assert_eq!(out.result.unwrap(), "tokens");
    assert_eq!(out.sleeps, secs(&[5, 10, 15, 20, 20, 20]));
    assert_eq!(out.calls, secs(&[5, 15, 30, 50, 70, 90]));
    let intervals: Vec<_> = out
        .events
        .iter()
        .filter_map(|e| match e {
            PollEvent::SlowDown { new_interval } => Some(*new_interval),
            _ => None,
        })
        .collect();
    assert_eq!(intervals, secs(&[10, 15, 20]));
}

#[tokio::test]
async fn row_4_pending_five_times_then_tokens_takes_exactly_six_polls() {
    let mut script: Vec<_> = (0..5).map(|_| pending()).collect();
    script.push(issued());
    let out = run(script, 300, 5).await;
    assert_eq!(out.result.unwrap(), "tokens");
    assert_eq!(out.calls, secs(&[5, 10, 15, 20, 25, 30]));
    assert_eq!(out.sleeps, secs(&[5, 5, 5, 5, 5, 5]));
}

#[tokio::test]
async fn row_5_http_500_then_tokens_doubles_the_wait() {
    let out = run(vec![http(500, None, "{}"), http(200, None, TOKENS)], 300, 5).await;
    assert_eq!(out.result.unwrap(), "tokens");
    assert_eq!(out.sleeps, secs(&[5, 10]));
}

#[tokio::test]
async fn row_6_502_html_is_transient_and_never_shown() {
    let html = "<html><body>planted-html-\u{1b}[2J Bad Gateway</body></html>";
    let out = run(vec![http(502, None, html), http(200, None, TOKENS)], 300, 5).await;
    assert_eq!(out.result.unwrap(), "tokens");
    assert_eq!(out.sleeps, secs(&[5, 10]));
    let shown = format!("{:?}", out.events);
    assert!(
        !shown.contains("planted-html") && !shown.contains("<html"),
        "{shown}"
    );
    assert!(out.events.iter().any(|e| matches!(e,
        PollEvent::Retrying { after, reason } if *after == s(10) && reason.contains("502"))));
}

#[tokio::test]
async fn row_7_two_connect_timeouts_wait_10_then_20_then_continue() {
    let script = vec![
        connect_timeout(),
        connect_timeout(),
        pending(),
        pending(),
        issued(),
    ];
    let out = run(script, 300, 5).await;
    assert_eq!(out.result.unwrap(), "tokens");
    // The wait returns to the interval after the first pending.
    assert_eq!(out.sleeps, secs(&[5, 10, 20, 5, 5]));
}

#[tokio::test]
async fn row_8_retry_after_seconds_is_honoured() {
    let ra = Some(RetryAfter::Delay(s(30)));
    let out = run(
        vec![http(429, ra, r#"{"code":"rate_limit_exceeded"}"#), issued()],
        300,
        5,
    )
    .await;
    assert_eq!(out.result.unwrap(), "tokens");
    assert_eq!(out.sleeps, secs(&[5, 30]));
    assert!(out.calls[1] - out.calls[0] >= s(30));
}

#[tokio::test]
async fn retry_after_http_date_uses_the_injected_wall_clock() {
    // The first poll happens at 07:28:05 on the fake wall clock.
    let at = RetryAfter::parse("Wed, 21 Oct 2015 07:28:45 GMT");
    let out = run(vec![http(503, at, ""), issued()], 300, 5).await;
    assert_eq!(out.sleeps, secs(&[5, 40]));
}

#[tokio::test]
async fn retry_after_is_bounded_by_the_deadline() {
    let ra = Some(RetryAfter::Delay(s(300)));
    let out = run(vec![http(429, ra, "")], 20, 5).await;
    assert!(matches!(out.result, Err(Error::DeadlineExceeded { .. })));
    assert_eq!(out.sleeps, secs(&[5, 15]));
    assert_eq!(out.calls, secs(&[5]));
}

#[tokio::test]
async fn row_9_refusals_stop_at_once() {
    type Check = fn(&Error) -> bool;
    let cases: Vec<(Scripted, Check)> = vec![
        (http(400, None, r#"{"error":"access_denied"}"#), |e| {
            matches!(e, Error::AccessDenied { .. })
        }),
        (http(400, None, r#"{"error":"expired_token"}"#), |e| {
            matches!(e, Error::ExpiredToken { .. })
        }),
        (http(400, None, r#"{"error":"invalid_grant"}"#), |e| {
            matches!(e, Error::InvalidGrant { .. })
        }),
        (
            http(
                400,
                None,
                r#"{"error":"invalid_client","error_description":"Unknown client"}"#,
            ),
            |e| matches!(e, Error::OAuth { code, status: 400, .. } if code == "invalid_client"),
        ),
        (http(400, None, r#"{"error":"something_new"}"#), |e| {
            matches!(e, Error::OAuth { .. })
        }),
        (http(200, None, r#"{"unrelated":true}"#), |e| {
            matches!(e, Error::Protocol { .. })
        }),
        (failed(Error::AccessDenied { description: None }), |e| {
            e.is_denied()
        }),
    ];
    for (reply, check) in cases {
        let out = run(vec![pending(), reply, pending(), issued()], 300, 5).await;
        let err = out.result.unwrap_err();
        assert!(check(&err), "{err:?}");
        assert_eq!(
            out.calls,
            secs(&[5, 10]),
            "{err:?}: no poll after the refusal"
        );
    }
}

#[tokio::test]
async fn row_10_pending_forever_stops_at_our_own_deadline() {
    let out = run(vec![], 2, 5).await;
    assert!(matches!(out.result, Err(Error::DeadlineExceeded { waited, .. }) if waited == s(2)));
    assert_eq!(
        out.sleeps,
        secs(&[2]),
        "the only wait is clipped to the deadline"
    );
    assert!(out.calls.is_empty(), "no poll at or after the deadline");

    let out = run(vec![], 12, 5).await;
    let err = out.result.unwrap_err();
    assert!(err.is_expired(), "{err}");
    assert_eq!(out.sleeps, secs(&[5, 5, 2]));
    assert_eq!(out.calls, secs(&[5, 10]));
}

#[tokio::test]
async fn backoff_doubles_up_to_sixty_seconds() {
    let mut script: Vec<_> = (0..6).map(|_| http(503, None, "")).collect();
    script.extend([pending(), issued()]);
    let out = run(script, 600, 5).await;
    assert_eq!(out.result.unwrap(), "tokens");
    assert_eq!(out.sleeps, secs(&[5, 10, 20, 40, 60, 60, 60, 5]));
}

#[tokio::test]
async fn repeated_slow_down_suggests_a_fast_clock() {
    let script = vec![
        slow_down(),
        slow_down(),
        slow_down(),
        http(400, None, r#"{"error":"expired_token"}"#),
    ];
    let out = run(script, 300, 5).await;
    assert!(
        out.events
            .contains(&PollEvent::ClockDriftSuspected { slow_downs: 3 })
    );
    let err = out.result.unwrap_err();
    assert!(matches!(
        err,
        Error::ExpiredToken {
            clock_drift_suspected: true
        }
    ));
    assert!(
        err.to_string().contains("clock may be running fast"),
        "{err}"
    );

    let out = run(vec![slow_down(), slow_down(), slow_down()], 100, 5).await;
    assert!(matches!(
        out.result,
        Err(Error::DeadlineExceeded {
            clock_drift_suspected: true,
            ..
        })
    ));
    assert_eq!(out.sleeps, secs(&[5, 10, 15, 20, 20, 20, 10]));

    let out = run(vec![slow_down(), slow_down()], 60, 5).await;
    assert!(matches!(
        out.result,
        Err(Error::DeadlineExceeded {
            clock_drift_suspected: false,
            ..
        })
    ));
}

#[tokio::test]
async fn events_describe_the_countdown() {
    let out = run(vec![pending(), issued()], 300, 5).await;
    assert_eq!(
        out.events,
        vec![
            PollEvent::Waiting {
                wait: s(5),
                time_left: s(300)
            },
            PollEvent::Polling { attempt: 1 },
            PollEvent::Pending,
            PollEvent::Waiting {
                wait: s(5),
                time_left: s(295)
            },
            PollEvent::Polling { attempt: 2 },
            PollEvent::Approved,
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn dropping_the_future_cancels_polling() {
    let timer = FakeTimer::new(); // only used to timestamp calls
    let endpoint = FakeEndpoint {
        timer,
        script: Mutex::new(VecDeque::new()),
        calls: Mutex::new(Vec::new()),
    };
    let options = PollOptions::new(); // the real TokioTimer, on tokio's paused clock
    let polling = poll_for_tokens(&endpoint, 300, 5, &options);
    assert!(tokio::time::timeout(s(12), polling).await.is_err());
    assert_eq!(
        endpoint.calls.lock().unwrap().len(),
        2,
        "polls at 5 s and 10 s"
    );
    tokio::time::advance(s(100)).await;
    assert_eq!(
        endpoint.calls.lock().unwrap().len(),
        2,
        "nothing after the drop"
    );
}

#[test]
fn poll_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let timer = FakeTimer::new();
    let endpoint = FakeEndpoint {
        timer,
        script: Mutex::new(VecDeque::new()),
        calls: Mutex::new(Vec::new()),
    };
    let options = PollOptions::new();
    assert_send(&poll_for_tokens(&endpoint, 300, 5, &options));
}

// The pure transition, table-tested.

fn step(
    state: &mut PollState,
    reply: Result<TokenReply<()>, Error>,
    since: u64,
) -> Option<Duration> {
    match next_step(state, reply, s(since), SystemTime::UNIX_EPOCH).0 {
        Step::Wait(d) => Some(d),
        Step::Done(()) | Step::Stop(_) => None,
    }
}

#[test]
fn next_step_table() {
    let unavailable = || {
        Ok(TokenReply::Unavailable(Unavailable {
            reason: "x".into(),
            retry_after: None,
        }))
    };
    let mut st = PollState::new(s(5));
    assert_eq!(step(&mut st, Ok(TokenReply::Pending), 5), Some(s(5)));
    assert_eq!(step(&mut st, unavailable(), 5), Some(s(10)));
    assert_eq!(step(&mut st, unavailable(), 10), Some(s(20)));
    assert_eq!(step(&mut st, Ok(TokenReply::SlowDown), 20), Some(s(10)));
    assert_eq!(st.interval, s(10));
    assert_eq!(step(&mut st, Ok(TokenReply::Pending), 10), Some(s(10)));
    assert_eq!(step(&mut st, Ok(TokenReply::Issued(())), 10), None);
    assert_eq!(
        step(&mut st, Err(Error::InvalidGrant { description: None }), 10),
        None
    );
}

#[test]
fn backoff_never_drops_below_a_slowed_interval() {
    let mut st = PollState::new(s(70));
    let reply = Ok(TokenReply::Unavailable(Unavailable {
        reason: "x".into(),
        retry_after: None,
    }));
    assert_eq!(step(&mut st, reply, 70), Some(s(70)));
}

#[test]
fn slow_down_after_a_short_wait_is_not_counted_as_drift() {
    let mut st = PollState::new(s(5));
    for _ in 0..3 {
        step(&mut st, Ok(TokenReply::SlowDown), 1);
    }
    assert_eq!(st.honest_slow_downs, 0);
    assert_eq!(st.interval, s(20));
}

#[test]
fn interval_zero_and_huge_are_normalised() {
    assert_eq!(interval_from_secs(0), DEFAULT_INTERVAL);
    assert_eq!(interval_from_secs(7), s(7));
    assert_eq!(interval_from_secs(u64::MAX), s(3600));
}

#[test]
fn tokens_fixture_parses_as_the_real_response_type() {
    // The HTTP path of the fake endpoint parses into the real AuthenticationResponse.
    let parsed: AuthenticationResponse = serde_json::from_str(TOKENS).unwrap();
    assert_eq!(parsed.user.id, "user_01");
}
