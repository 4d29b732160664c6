use super::*;

fn url() -> Url {
    Url::parse("https://api.workos.com/user_management/authenticate").unwrap()
}

fn reply(status: u16, body: &str) -> HttpReply {
    HttpReply {
        status,
        body: body.as_bytes().to_vec(),
        retry_after: None,
        location: None,
    }
}

fn classify(status: u16, body: &str) -> Result<Answer, Error> {
    classify_authenticate(reply(status, body), &url())
}

const TOKENS: &str = r#"{"user":{"id":"user_01","email":"demo@example.com"},
    "access_token":"planted-access","refresh_token":"planted-refresh"}"#;

#[test]
fn tokens_are_issued() {
    assert!(matches!(classify(200, TOKENS), Ok(Answer::Tokens(_))));
}

#[test]
fn pending_and_slow_down_continue() {
    let pending = r#"{"error":"authorization_pending","error_description":"The request failed due to: authorization_pending."}"#;
    assert!(matches!(classify(400, pending), Ok(Answer::Pending)));
    assert!(matches!(
        classify(400, r#"{"error":"slow_down"}"#),
        Ok(Answer::SlowDown)
    ));
    // Some servers answer errors with 200.
    assert!(matches!(
        classify(200, r#"{"error":"authorization_pending"}"#),
        Ok(Answer::Pending)
    ));
}

#[test]
fn refusals_are_typed_errors() {
    assert!(matches!(
        classify(400, r#"{"error":"access_denied","error_description":"no"}"#),
        Err(Error::AccessDenied { description: Some(d) }) if d == "no"
    ));
    assert!(matches!(
        classify(400, r#"{"error":"expired_token"}"#),
        Err(Error::ExpiredToken { .. })
    ));
    assert!(matches!(
        classify(400, r#"{"error":"invalid_grant"}"#),
        Err(Error::InvalidGrant { .. })
    ));
    assert!(matches!(
        classify(
            403,
            r#"{"code":"organization_selection_required","message":"pick one"}"#
        ),
        Err(Error::OAuth { status: 403, .. })
    ));
}

#[test]
fn row_12_neither_tokens_nor_error_is_a_protocol_error() {
    let err = classify(200, r#"{"hello":"world"}"#).unwrap_err();
    assert!(
        err.to_string().contains("neither tokens nor an error"),
        "{err}"
    );
    assert!(matches!(
        classify(200, "<html>"),
        Err(Error::Protocol { .. })
    ));
    assert!(matches!(classify(200, ""), Err(Error::Protocol { .. })));
}

#[test]
fn incomplete_tokens_name_the_member_but_never_a_value() {
    let err = classify(
        200,
        r#"{"access_token":"planted-a","refresh_token":"planted-r"}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("missing field `user`"), "{err}");
    let err = classify(
        200,
        r#"{"user":{"id":"u","email":"e"},"access_token":"planted-a","refresh_token":["planted-r"]}"#,
    )
    .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("planted"), "{shown}");
}

#[test]
fn retryable_statuses_whatever_the_body() {
    for status in [408, 429, 500, 502, 503, 504] {
        let html = "<html>planted</html>";
        assert!(
            matches!(classify(status, html), Ok(Answer::Retry { status: s, .. }) if s == status)
        );
    }
}

#[test]
fn redirects_and_odd_statuses_are_errors() {
    let mut r = reply(307, "");
    r.location = Some("https://evil.example/steal".into());
    let err = classify_authenticate(r, &url()).unwrap_err();
    assert!(matches!(err, Error::Redirect { status: 307, .. }));
    assert!(err.to_string().contains("never followed"));
    let err = classify(404, "<html>not found</html>").unwrap_err();
    assert!(matches!(err, Error::Http { status: 404, .. }));
    assert!(!err.to_string().contains("html"));
}

#[test]
fn transport_failures_are_unavailable_while_polling() {
    let timeout = Err(Error::Transport {
        url: url().to_string(),
        message: "operation timed out".into(),
        timeout: true,
    });
    assert!(matches!(
        device_token_reply(timeout, &url()),
        Ok(TokenReply::Unavailable(Unavailable { reason, .. })) if reason.contains("timed out")
    ));
    let refused = Err(Error::Transport {
        url: url().to_string(),
        message: "connection refused\n\u{1b}[2J".into(),
        timeout: false,
    });
    let Ok(TokenReply::Unavailable(u)) = device_token_reply(refused, &url()) else {
        panic!("not unavailable");
    };
    assert!(
        !u.reason.contains('\u{1b}') && !u.reason.contains('\n'),
        "{}",
        u.reason
    );
    let too_big = Err(Error::BodyTooLarge {
        url: url().to_string(),
        limit: 10,
    });
    assert!(matches!(
        device_token_reply(too_big, &url()),
        Err(Error::BodyTooLarge { .. })
    ));
}

#[test]
fn authorize_errors() {
    let e = authorize_error(
        reply(
            403,
            r#"{"error":"access_denied","error_description":"CLI Auth disabled"}"#,
        ),
        &url(),
    );
    assert!(matches!(&e, Error::OAuth { status: 403, code, .. } if code == "access_denied"));
    assert!(!e.is_denied());
    let e = authorize_error(
        reply(
            400,
            r#"{"error":"invalid_client","error_description":"Unknown client"}"#,
        ),
        &url(),
    );
    assert!(e.to_string().contains("Unknown client"), "{e}");
    assert!(matches!(
        authorize_error(reply(502, "<html>"), &url()),
        Error::Http { status: 502, .. }
    ));
    assert!(matches!(
        authorize_error(reply(301, ""), &url()),
        Error::Redirect { status: 301, .. }
    ));
}
