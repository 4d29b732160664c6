//! Unit tests of the grant life cycle with injected instants.

use super::*;

const LIFE: Duration = Duration::from_secs(300);
const INTERVAL: Duration = Duration::from_secs(5);

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn setup() -> (Grants, IssuedCodes, Instant) {
    let mut grants = Grants::new(LIFE, INTERVAL);
    let t0 = Instant::now();
    let codes = grants.issue("client_a", Requester::default(), t0);
    (grants, codes, t0)
}

fn approval() -> Approval {
    Approval {
        user_id: "user_01X".into(),
        organization_id: Some("org_01X".into()),
    }
}

#[test]
fn unknown_or_foreign_device_codes_are_invalid_grant() {
    let (mut g, codes, t0) = setup();
    assert_eq!(
        g.poll("nope", "client_a", t0 + INTERVAL),
        Err(PollError::InvalidGrant)
    );
    assert_eq!(
        g.poll(&codes.device_code, "client_b", t0 + INTERVAL),
        Err(PollError::InvalidGrant)
    );
}

#[test]
fn first_poll_before_the_interval_is_slow_down_and_raises_the_interval() {
    let (mut g, codes, t0) = setup();
    let d = &codes.device_code;
    assert_eq!(
        g.poll(d, "client_a", t0 + secs(1.0)),
        Err(PollError::SlowDown)
    );
    // The interval is now 10 s, measured from the slowed-down poll.
    assert_eq!(
        g.poll(d, "client_a", t0 + secs(7.0)),
        Err(PollError::SlowDown)
    );
    assert_eq!(
        g.poll(d, "client_a", t0 + secs(7.0 + 15.0)),
        Err(PollError::AuthorizationPending)
    );
}

#[test]
fn polling_at_interval_plus_or_minus_300ms_is_never_slowed() {
    let (mut g, codes, t0) = setup();
    let mut t = t0;
    for i in 0..40 {
        let jitter = if i % 2 == 0 { -0.3 } else { 0.3 };
        t += secs(5.0 + jitter);
        assert_eq!(
            g.poll(&codes.device_code, "client_a", t),
            Err(PollError::AuthorizationPending),
            "poll {i}"
        );
    }
}

#[test]
fn grace_is_about_a_second_and_never_more_than_half_the_interval() {
    assert_eq!(slow_down_grace(secs(5.0)), secs(1.0));
    assert_eq!(slow_down_grace(secs(1.0)), secs(0.5));
    let (mut g, codes, t0) = setup();
    // 3.9 s after issuance is more than the 1 s grace early.
    assert_eq!(
        g.poll(&codes.device_code, "client_a", t0 + secs(3.9)),
        Err(PollError::SlowDown)
    );
}

#[test]
fn expiry_wins_even_when_approved_late() {
    let (mut g, codes, t0) = setup();
    g.decide(
        &codes.user_code,
        Decision::Approve(approval()),
        t0 + secs(299.0),
    )
    .unwrap();
    assert_eq!(
        g.poll(&codes.device_code, "client_a", t0 + LIFE),
        Err(PollError::ExpiredToken)
    );
}

#[test]
fn a_code_cannot_be_approved_after_it_expired() {
    let (mut g, codes, t0) = setup();
    assert_eq!(
        g.decide(&codes.user_code, Decision::Approve(approval()), t0 + LIFE),
        Err(NotPending)
    );
    assert!(g.pending(&codes.user_code, t0 + LIFE).is_none());
}

#[test]
fn approval_is_handed_out_exactly_once() {
    let (mut g, codes, t0) = setup();
    g.decide(&codes.user_code, Decision::Approve(approval()), t0)
        .unwrap();
    assert_eq!(
        g.poll(&codes.device_code, "client_a", t0 + INTERVAL)
            .map(|r| r.approval),
        Ok(approval())
    );
    assert_eq!(
        g.poll(&codes.device_code, "client_a", t0 + INTERVAL * 2),
        Err(PollError::InvalidGrant)
    );
}

#[test]
fn denial_is_reported_once_then_the_code_is_dead_and_never_approvable() {
    let (mut g, codes, t0) = setup();
    g.decide(&codes.user_code, Decision::Deny, t0).unwrap();
    assert_eq!(
        g.decide(&codes.user_code, Decision::Approve(approval()), t0),
        Err(NotPending)
    );
    assert_eq!(
        g.poll(&codes.device_code, "client_a", t0 + INTERVAL),
        Err(PollError::AccessDenied)
    );
    assert_eq!(
        g.poll(&codes.device_code, "client_a", t0 + INTERVAL * 2),
        Err(PollError::InvalidGrant)
    );
}

#[test]
fn user_codes_are_unique_among_remembered_grants() {
    let mut g = Grants::new(LIFE, INTERVAL);
    let t0 = Instant::now();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..2000 {
        let c = g.issue("c", Requester::default(), t0);
        assert!(seen.insert(c.user_code));
    }
}

#[test]
fn sweep_forgets_old_grants_but_keeps_recent_ones() {
    let (mut g, codes, t0) = setup();
    g.sweep(t0 + LIFE);
    assert_eq!(g.len(), 1);
    assert_eq!(
        g.poll(&codes.device_code, "client_a", t0 + LIFE + secs(1.0)),
        Err(PollError::ExpiredToken)
    );
    g.sweep(t0 + LIFE + RETENTION);
    assert_eq!(g.len(), 0);
    assert!(g.by_user_code.is_empty());
}

#[test]
fn sweep_would_remove_tracks_the_earliest_removable_grant() {
    let mut g = Grants::new(LIFE, INTERVAL);
    let t0 = Instant::now();
    assert!(!g.sweep_would_remove(t0 + LIFE + RETENTION));
    g.issue("c", Requester::default(), t0);
    g.issue("c", Requester::default(), t0 + secs(10.0));
    let first = t0 + LIFE + RETENTION;
    assert!(!g.sweep_would_remove(first - secs(0.001)));
    assert!(g.sweep_would_remove(first));
    g.sweep(first);
    assert_eq!(g.len(), 1);
    // The survivor becomes removable ten seconds later, not before.
    assert!(!g.sweep_would_remove(first + secs(9.9)));
    assert!(g.sweep_would_remove(first + secs(10.0)));
    g.sweep(first + secs(10.0));
    assert_eq!(g.len(), 0);
    assert!(!g.sweep_would_remove(first + secs(1_000.0)));
}
