//! The HTML verification flow over real HTTP, driven by a tiny form
//! "browser": the full approve flow ending in tokens, deny, code
//! normalisation (row 30), throttling (row 31), escaping and CSP (row 32),
//! CSRF (row 33) and the security headers.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use support::*;
use workos_emulator::{DEMO_USER_EMAIL, EmulatorConfig, UserConfig};

const GENERIC: &str = "That code is not valid.";

fn two_users() -> EmulatorConfig {
    let mut config = EmulatorConfig::default();
    config.users.push(UserConfig {
        id: None,
        email: "ada@example.com".into(),
        first_name: Some("Ada".into()),
        last_name: Some("Lovelace".into()),
        email_verified: true,
        memberships: Vec::new(),
    });
    config
}

#[tokio::test]
async fn the_full_browser_flow_approves_and_the_next_poll_returns_tokens() {
    let (emulator, clock) = spawn_with_clock(|b| b.config(two_users())).await;
    let start = start(&emulator).await;
    let user_code = start["user_code"].as_str().unwrap();
    let mut browser = Browser::new(&emulator);

    let form = browser.get(&format!("/device?user_code={user_code}")).await;
    assert_eq!(form.status, StatusCode::OK);
    let cookie = browser.cookie.clone().expect("a session cookie");
    assert!(cookie.starts_with("wos_emulator_session="));
    assert!(form.html.contains(&format!("value=\"{user_code}\"")));
    assert!(form.html.contains("autofocus"));

    let choose = browser
        .post(
            "/device",
            &[("csrf", &form.csrf()), ("user_code", user_code)],
        )
        .await;
    assert_eq!(choose.status, StatusCode::OK, "{}", choose.html);
    assert!(choose.html.contains("ada@example.com") && choose.html.contains(DEMO_USER_EMAIL));
    assert!(choose.html.contains("type=\"radio\""));

    clock.advance(Duration::from_secs(130));
    let confirm = browser
        .post(
            "/device/user",
            &[
                ("csrf", &choose.csrf()),
                ("user_code", user_code),
                ("email", DEMO_USER_EMAIL),
                ("other_email", "ADA@example.com"),
            ],
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.html);
    assert!(
        confirm.html.contains(
            "If someone sent you this code or you did not start this yourself, choose Deny"
        )
    );
    assert!(confirm.html.contains(CLIENT));
    assert!(confirm.html.contains("127.0.0.1"));
    assert!(confirm.html.contains("2 minutes ago"));
    assert!(confirm.html.contains(user_code));
    // The typed email wins over the radio button.
    assert_eq!(
        hidden_input(&confirm.html, "email").as_deref(),
        Some("ada@example.com")
    );
    let deny_at = confirm.html.find("value=\"deny\"").unwrap();
    let approve_at = confirm.html.find("value=\"approve\"").unwrap();
    assert!(
        deny_at < approve_at,
        "Deny comes first, so Enter does not approve"
    );

    let done = browser
        .post(
            "/device/decision",
            &[
                ("csrf", &confirm.csrf()),
                ("user_code", user_code),
                ("email", "ada@example.com"),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(
        done.html
            .contains("Signed in. You can close this window and return to your terminal.")
    );

    let tokens = poll(&emulator, start["device_code"].as_str().unwrap()).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    assert_eq!(tokens.body["user"]["email"], "ada@example.com");
    assert!(tokens.body["organization_id"].is_null());
}

#[tokio::test]
async fn denying_in_the_browser_reports_access_denied_and_cannot_be_undone() {
    let (emulator, clock) = spawn_with_clock(|b| b).await;
    let start = start(&emulator).await;
    let user_code = start["user_code"].as_str().unwrap();
    let mut browser = Browser::new(&emulator);
    let choose = browser.enter_code(user_code).await;
    let confirm = browser
        .post(
            "/device/user",
            &[
                ("csrf", &choose.csrf()),
                ("user_code", user_code),
                ("email", DEMO_USER_EMAIL),
            ],
        )
        .await;
    let fields = |decision| {
        [
            ("csrf", confirm.csrf()),
            ("user_code", user_code.to_owned()),
            ("email", DEMO_USER_EMAIL.to_owned()),
            ("decision", decision),
        ]
    };
    let deny = fields("deny".to_owned());
    let deny: Vec<(&str, &str)> = deny.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let denied = browser.post("/device/decision", &deny).await;
    assert!(denied.html.contains("Request denied"));
    let approve = fields("approve".to_owned());
    let approve: Vec<(&str, &str)> = approve.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let again = browser.post("/device/decision", &approve).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.html.contains(GENERIC));
    clock.advance(Duration::from_secs(5));
    assert_eq!(
        poll(&emulator, start["device_code"].as_str().unwrap())
            .await
            .error(),
        "access_denied"
    );
}

/// Fault row 30.
#[tokio::test]
async fn typed_codes_are_normalised_and_a_ninth_character_is_rejected() {
    let (emulator, _clock) = spawn_with_clock(|b| b).await;
    let user_code = start(&emulator).await["user_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let compact = user_code.replace('-', "");
    let variants = [
        format!("{} {}", &compact[..4], &compact[4..]).to_lowercase(),
        format!("{}\u{2013}{}", &compact[..4], &compact[4..]),
        compact.to_lowercase(),
    ];
    for typed in &variants {
        let mut browser = Browser::new(&emulator);
        let page = browser.enter_code(typed).await;
        assert_eq!(page.status, StatusCode::OK, "{typed:?}");
        assert_eq!(
            hidden_input(&page.html, "user_code").as_deref(),
            Some(user_code.as_str()),
            "{typed:?}"
        );
    }
    let mut browser = Browser::new(&emulator);
    let ninth = browser.enter_code(&format!("{user_code}B")).await;
    assert_eq!(ninth.status, StatusCode::BAD_REQUEST);
    assert!(ninth.html.contains(GENERIC));
}

#[tokio::test]
async fn unknown_expired_and_used_codes_get_one_generic_message() {
    let (emulator, clock) = spawn_with_clock(|b| b.expires_in(Duration::from_secs(60))).await;
    let used = start(&emulator).await["user_code"]
        .as_str()
        .unwrap()
        .to_owned();
    emulator.approve(&used, DEMO_USER_EMAIL).unwrap();
    let expired = start(&emulator).await["user_code"]
        .as_str()
        .unwrap()
        .to_owned();
    clock.advance(Duration::from_secs(60));
    let mut bodies = Vec::new();
    for typed in ["BBBB-BBBB", used.as_str(), expired.as_str()] {
        let mut browser = Browser::new(&emulator);
        let page = browser.enter_code(typed).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert!(page.html.contains(GENERIC));
        bodies.push(page.html.replace(typed, "").replace(&page.csrf(), ""));
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "pages differ by more than the echoed code"
    );
}

/// Fault row 33.
#[tokio::test]
async fn approve_without_or_with_a_wrong_csrf_token_is_400_and_changes_nothing() {
    let (emulator, clock) = spawn_with_clock(|b| b).await;
    let start = start(&emulator).await;
    let user_code = start["user_code"].as_str().unwrap();
    let mut browser = Browser::new(&emulator);
    let form = browser.get("/device").await;
    let base = [
        ("user_code", user_code),
        ("email", DEMO_USER_EMAIL),
        ("decision", "approve"),
    ];

    let missing = browser.post("/device/decision", &base).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    let mut wrong = base.to_vec();
    wrong.push(("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert_eq!(
        browser.post("/device/decision", &wrong).await.status,
        StatusCode::BAD_REQUEST
    );
    // A valid token from another browser session does not work either.
    let mut other = Browser::new(&emulator);
    let other_csrf = other.get("/device").await.csrf();
    let mut foreign = base.to_vec();
    foreign.push(("csrf", &other_csrf));
    assert_eq!(
        browser.post("/device/decision", &foreign).await.status,
        StatusCode::BAD_REQUEST
    );
    // No cookie at all, right token.
    let csrf = form.csrf();
    let mut no_cookie = base.to_vec();
    no_cookie.push(("csrf", &csrf));
    browser.cookie = None;
    assert_eq!(
        browser.post("/device/decision", &no_cookie).await.status,
        StatusCode::BAD_REQUEST
    );

    clock.advance(Duration::from_secs(5));
    assert_eq!(
        poll(&emulator, start["device_code"].as_str().unwrap())
            .await
            .error(),
        "authorization_pending"
    );
}

/// Fault row 31.
#[tokio::test]
async fn wrong_codes_are_throttled_per_browser_session() {
    let (emulator, clock) = spawn_with_clock(|b| b).await;
    let user_code = start(&emulator).await["user_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut browser = Browser::new(&emulator);
    let csrf = browser.get("/device").await.csrf();
    for _ in 0..5 {
        let page = browser
            .post("/device", &[("csrf", &csrf), ("user_code", "BBBB-BBBB")])
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
    }
    // Even the right code is refused while throttled.
    let blocked = browser
        .post("/device", &[("csrf", &csrf), ("user_code", &user_code)])
        .await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(blocked.headers.contains_key("retry-after"));
    assert!(blocked.html.contains("Too many attempts"));
    clock.advance(Duration::from_secs(60));
    let ok = browser
        .post("/device", &[("csrf", &csrf), ("user_code", &user_code)])
        .await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn wrong_codes_are_throttled_per_ip_across_fresh_sessions() {
    let (emulator, _clock) = spawn_with_clock(|b| b).await;
    let mut statuses = Vec::new();
    for _ in 0..21 {
        let mut browser = Browser::new(&emulator);
        statuses.push(browser.enter_code("BBBB-BBBB").await.status);
    }
    assert!(statuses[..20].iter().all(|s| *s == StatusCode::BAD_REQUEST));
    assert_eq!(statuses[20], StatusCode::TOO_MANY_REQUESTS);
}

/// Fault row 32.
#[tokio::test]
async fn a_script_sent_as_user_code_comes_back_escaped() {
    let (emulator, _clock) = spawn_with_clock(|b| b).await;
    let mut browser = Browser::new(&emulator);
    let page = browser
        .get("/device?user_code=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.html.contains("<script"), "{}", page.html);
    assert!(escaped_script(&page.html), "{}", page.html);
    let posted = browser
        .post(
            "/device",
            &[("csrf", &page.csrf()), ("user_code", "<script>x</script>")],
        )
        .await;
    assert!(!posted.html.contains("<script"));
    assert!(escaped_script(&posted.html), "{}", posted.html);
}

/// Whether `html` holds `<script>` as escaped text (named or numeric entities).
fn escaped_script(html: &str) -> bool {
    html.contains("&lt;script&gt;") || html.contains("&#60;script&#62;")
}

#[tokio::test]
async fn pages_carry_the_security_headers_and_no_script() {
    let (emulator, _clock) = spawn_with_clock(|b| b).await;
    let mut browser = Browser::new(&emulator);
    for path in [
        "/device",
        "/device?user_code=BBBB-BBBB",
        "/static/device.css",
    ] {
        let page = browser.get(path).await;
        let h = &page.headers;
        assert_eq!(
            h["content-security-policy"],
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            "{path}"
        );
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-store");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(!page.html.contains("<script"));
    }
    let css = browser.get("/static/device.css").await;
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let page = browser.get("/device").await;
    assert!(page.html.contains("href=\"/static/device.css\""));
    assert!(
        !page.html.contains("http://") && !page.html.contains("https://"),
        "no third-party assets"
    );
}

#[tokio::test]
async fn the_session_cookie_is_httponly_and_samesite_strict() {
    let (emulator, _clock) = spawn_with_clock(|b| b).await;
    let response = http()
        .get(format!("{}/device", emulator.url()))
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Strict"));
    assert!(cookie.contains("Path=/"));
}

#[tokio::test]
async fn get_with_a_user_code_never_changes_state() {
    let (emulator, clock) = spawn_with_clock(|b| b).await;
    let start = start(&emulator).await;
    let mut browser = Browser::new(&emulator);
    for _ in 0..3 {
        browser
            .get(&format!(
                "/device?user_code={}&decision=approve",
                start["user_code"].as_str().unwrap()
            ))
            .await;
    }
    clock.advance(Duration::from_secs(5));
    assert_eq!(
        poll(&emulator, start["device_code"].as_str().unwrap())
            .await
            .error(),
        "authorization_pending"
    );
}
