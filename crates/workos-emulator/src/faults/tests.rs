//! Unit tests of the fault spec syntax.

use super::*;

fn parse(s: &str) -> Fault {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn the_documented_specs_parse() {
    let f = parse("authenticate:500x2");
    assert_eq!(f.endpoint, FaultEndpoint::Authenticate);
    assert_eq!(
        f.action,
        FaultAction::Status {
            status: 500,
            retry_after: None
        }
    );
    assert_eq!(f.times, 2);

    let f = parse("authenticate:slow_down x3");
    assert_eq!((f.action, f.times), (FaultAction::SlowDown, 3));

    let f = parse("authenticate:429:retry-after=3");
    assert_eq!(
        (f.action, f.times),
        (
            FaultAction::Status {
                status: 429,
                retry_after: Some(Duration::from_secs(3))
            },
            1
        )
    );

    assert_eq!(
        parse("authenticate:delay=2s").action,
        FaultAction::Delay(Duration::from_secs(2))
    );
    assert_eq!(
        parse("jwks:delay=250ms").action,
        FaultAction::Delay(Duration::from_millis(250))
    );
    assert_eq!(
        parse("authorize:delay=3").action,
        FaultAction::Delay(Duration::from_secs(3))
    );
    let f = parse("AUTHORIZE:503:retry-after=10x2");
    assert_eq!(f.endpoint, FaultEndpoint::Authorize);
    assert_eq!(f.times, 2);
}

#[test]
fn display_round_trips() {
    for spec in [
        "authenticate:500x2",
        "authenticate:slow_down x3",
        "authenticate:429:retry-after=3",
        "authenticate:delay=2s",
        "revoke:503:retry-after=1x4",
    ] {
        let f = parse(spec);
        assert_eq!(parse(&f.to_string()), f, "{spec} → {f}");
    }
}

#[test]
fn nonsense_is_refused_with_the_spec_quoted() {
    for spec in [
        "",
        "authenticate",
        "nowhere:500",
        "authenticate:200",
        "authenticate:600",
        "authenticate:500x0",
        "authenticate:500x",
        "authenticate:slowdown",
        "authenticate:delay=forever",
        "authenticate:delay=7200s",
        "authenticate:429:retry=3",
    ] {
        let err = spec.parse::<Fault>().unwrap_err();
        assert!(err.to_string().contains(&format!("{spec:?}")), "{err}");
    }
}

#[test]
fn requests_map_to_endpoints() {
    use FaultEndpoint::*;
    assert_eq!(
        FaultEndpoint::of("POST", "/oauth2/device_authorization"),
        Some(Authorize)
    );
    assert_eq!(
        FaultEndpoint::of("POST", "/user_management/authenticate"),
        Some(Authenticate)
    );
    assert_eq!(FaultEndpoint::of("GET", "/sso/jwks/client_1"), Some(Jwks));
    assert_eq!(FaultEndpoint::of("POST", "/oauth2/revoke"), Some(Revoke));
    assert_eq!(FaultEndpoint::of("GET", "/device"), None);
    assert_eq!(FaultEndpoint::of("GET", "/oauth2/token"), None);
}
