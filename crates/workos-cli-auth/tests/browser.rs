//! The verification page in a real browser: headless Chromium driven over WebDriver
//! (chromedriver, `fantoccini`), with the real `workos-cli-auth login --no-browser`
//! waiting on the other side. Each test names what it proves: approve and deny end to
//! end, one generic message for wrong, expired and used codes, code normalisation as
//! typed, throttling per browser session, CSRF, security headers and CSP, escaping of a
//! script in the URL, a 375 px wide viewport and keyboard-only use.
//!
//! Peers: `chromium` and `chromedriver` (Debian packages, installed by
//! `.ci/setup-peers.sh`). Screenshots of every page go to `target/screenshots/`; with
//! `UPDATE_SCREENSHOTS=1` they are also copied to `docs/screenshots/`.

mod common;
mod support;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use support::{EmulatorProcess, peers_present, repo_root, target_dir, wait_until, which};
use tokio::io::{AsyncBufReadExt, BufReader};

const EMAIL: &str = "demo@example.com";
const CLIENT_ID: &str = "client_01BROWSER";
/// The one message for every code that cannot be used.
const GENERIC: &str = "That code is not valid.";
const TITLE_SUFFIX: &str = " · WorkOS emulator";

// ---------------------------------------------------------------------------------
// Harness: chromedriver + headless Chromium, one private profile per test.
// ---------------------------------------------------------------------------------

/// A chromedriver process (in its own process group, with the Chromium it starts) and
/// one WebDriver session. Dropping it kills the whole group.
struct Chrome {
    client: Client,
    driver_group: u32,
    _driver: tokio::process::Child,
    _profile: tempfile::TempDir,
}

impl Chrome {
    /// Starts chromedriver on a free port and a fresh headless Chromium, or returns
    /// `None` (outside CI) when either is missing.
    async fn start(test: &str) -> Option<Self> {
        let chromium = ["chromium", "chromium-browser", "google-chrome"]
            .iter()
            .find_map(|name| which(name));
        let chromedriver = which("chromedriver");
        let mut missing = Vec::new();
        if chromium.is_none() {
            missing.push("chromium".to_owned());
        }
        if chromedriver.is_none() {
            missing.push("chromedriver (Debian: chromium-driver)".to_owned());
        }
        if !peers_present(test, &missing) {
            return None;
        }
        let (chromium, chromedriver) = (chromium?, chromedriver?);

        let mut driver = tokio::process::Command::new(chromedriver)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let driver_group = driver.id().expect("chromedriver pid");
        let mut lines = BufReader::new(driver.stdout.take().expect("piped stdout")).lines();
        let port = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.split("started successfully on port ").nth(1) {
                    return rest.trim_end_matches('.').trim().parse::<u16>().ok();
                }
            }
            None
        })
        .await
        .expect("chromedriver reported its port within 30 s")
        .expect("chromedriver printed its port");
        // Keep draining its stdout so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

        let profile = tempfile::tempdir().expect("a temporary profile directory");
        let args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-extensions".to_owned(),
            "--disable-default-apps".to_owned(),
            "--no-first-run".to_owned(),
            "--no-default-browser-check".to_owned(),
            "--disable-quic".to_owned(),
            "--hide-scrollbars".to_owned(),
            "--force-device-scale-factor=1".to_owned(),
            "--window-size=900,760".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session with headless Chromium");
        Some(Self {
            client,
            driver_group,
            _driver: driver,
            _profile: profile,
        })
    }

    /// Ends the WebDriver session (Chromium exits); the driver dies on drop.
    async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    async fn title(&self) -> String {
        self.client.title().await.expect("title")
    }

    async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"))
            .text()
            .await
            .expect("element text")
    }

    async fn value(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"))
            .prop("value")
            .await
            .expect("value property")
            .unwrap_or_default()
    }

    async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("execute {script}: {e}"))
    }

    /// Clicks `css`, which submits a form or follows a link, and waits for the next page.
    async fn click(&self, css: &str) {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"));
        self.navigating(css, async || {
            element
                .click()
                .await
                .unwrap_or_else(|e| panic!("click {css}: {e}"));
        })
        .await;
    }

    /// Runs `action`, which leads to another page, and waits until that page has loaded
    /// (the old document is gone and the new one is complete): a bounded poll.
    async fn navigating(&self, what: &str, action: impl AsyncFnOnce()) {
        self.js("window.__stale = true; return null;").await;
        action().await;
        wait_until(
            &format!("the page after {what}"),
            Duration::from_secs(15),
            || async {
                let fresh = self
                    .client
                    .execute(
                        "return window.__stale !== true && document.readyState === 'complete';",
                        Vec::new(),
                    )
                    .await;
                matches!(fresh, Ok(Value::Bool(true))).then_some(())
            },
        )
        .await;
    }

    /// Types `text` into the code field and presses Continue.
    async fn submit_code(&self, text: &str) {
        let field = self
            .client
            .find(Locator::Id("user_code"))
            .await
            .expect("the code field");
        field.clear().await.expect("clear the code field");
        field.send_keys(text).await.expect("type the code");
        self.click("form button[type=submit]").await;
    }

    /// Presses and releases one key, on whatever has the focus (a keyboard, not a
    /// WebDriver element command).
    async fn press(&self, key: char) {
        let keys = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.client.perform_actions(keys).await.expect("key press");
    }

    /// The focused element, described as `tag#id[name=value]`.
    async fn focused(&self) -> String {
        self.js(
            "const e = document.activeElement; return e.tagName.toLowerCase() + '#' + (e.id || '') \
             + '[' + (e.getAttribute('name') || '') + '=' + (e.getAttribute('value') || '') + ']';",
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Saves a PNG of the current page as `<name>.png` (see the module docs).
    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        save_screenshot(name, &png);
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        // chromedriver and the Chromium it launched share the group we gave it.
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver_group)])
            .stderr(Stdio::null())
            .status();
    }
}

fn save_screenshot(name: &str, png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let dir = target_dir().join("screenshots");
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    if std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let docs: PathBuf = repo_root().join("docs/screenshots");
        std::fs::create_dir_all(&docs).expect("create docs/screenshots");
        std::fs::write(docs.join(format!("{name}.png")), png).expect("write screenshot");
    }
}

// ---------------------------------------------------------------------------------
// The CLI side.
// ---------------------------------------------------------------------------------

/// A `login --no-browser` against a running emulator, with its prompt read: returns
/// the process, the printed verification link and the user code.
async fn login_against(
    emulator: &EmulatorProcess,
    home: &tempfile::TempDir,
) -> (common::Login, String, String) {
    let mut cmd = common::cli(home.path());
    cmd.args([
        "login",
        "--no-browser",
        "--client-id",
        CLIENT_ID,
        "--api-base-url",
        &emulator.url,
    ]);
    let mut login = common::Login::spawn(cmd);
    let (base, code) = login.prompt().await;
    (login, format!("{base}/device?user_code={code}"), code)
}

/// A `login --no-browser` with no client ID: the CLI starts its embedded emulator.
async fn login_embedded(home: &tempfile::TempDir) -> (common::Login, String, String, String) {
    let mut cmd = common::cli(home.path());
    cmd.args(["login", "--no-browser"]);
    let mut login = common::Login::spawn(cmd);
    let (base, code) = login.prompt().await;
    let link = format!("{base}/device?user_code={code}");
    (login, base, link, code)
}

/// `ABCD-EFGH` → (`ABCD`, `EFGH`).
fn halves(code: &str) -> (&str, &str) {
    code.split_once('-').expect("a XXXX-XXXX code")
}

/// The heading and the alert of the current page.
async fn heading_and_alert(chrome: &Chrome) -> (String, String) {
    (chrome.text("h1").await, chrome.text("[role=alert]").await)
}

// ---------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn approving_in_the_browser_logs_the_waiting_cli_in() {
    let Some(chrome) = Chrome::start("browser: approve").await else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let (login, base, _link, code) = login_embedded(&home).await;

    // Enter the code by hand on the bare page.
    chrome.goto(&format!("{base}/device")).await;
    assert_eq!(
        chrome.title().await,
        format!("Sign in to your CLI{TITLE_SUFFIX}")
    );
    chrome
        .client
        .find(Locator::Id("user_code"))
        .await
        .unwrap()
        .send_keys(&code)
        .await
        .unwrap();
    chrome.screenshot("enter-code").await;
    chrome.click("form button[type=submit]").await;

    // Choose the user.
    assert_eq!(chrome.text("h1").await, "Who is signing in?");
    assert!(chrome.text("main").await.contains(EMAIL));
    chrome.screenshot("choose-user").await;
    chrome
        .client
        .find(Locator::Css(&format!(
            "input[type=radio][value=\"{EMAIL}\"]"
        )))
        .await
        .expect("the demo user's radio button")
        .click()
        .await
        .expect("choose the demo user");
    chrome.click("form button[type=submit]").await;

    // Read the confirmation, approve.
    assert_eq!(chrome.text("h1").await, "Confirm sign-in");
    let facts = chrome.text("main").await;
    assert!(
        facts.contains(
            "If someone sent you this code or you did not start this yourself, choose Deny."
        ),
        "{facts}"
    );
    assert!(facts.contains(&code), "{facts}");
    chrome.screenshot("confirm").await;
    chrome.click("button[value=approve]").await;
    assert_eq!(chrome.text("h1").await, "Signed in");
    chrome.screenshot("signed-in").await;

    let done = login.finish().await;
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(
        done.stderr.contains(&format!("Logged in as {EMAIL}")),
        "{}",
        done.stderr
    );
    chrome.close().await;
}

#[tokio::test]
async fn denying_in_the_browser_makes_the_cli_exit_2() {
    let Some(chrome) = Chrome::start("browser: deny").await else {
        return;
    };
    let emulator = EmulatorProcess::start(&["--interval", "1"]).await;
    let home = tempfile::tempdir().unwrap();
    let (login, link, _code) = login_against(&emulator, &home).await;

    chrome.goto(&link).await;
    chrome.click("form button[type=submit]").await;
    chrome.click("form button[type=submit]").await;
    assert_eq!(chrome.text("h1").await, "Confirm sign-in");
    chrome.click("button[value=deny]").await;
    assert_eq!(chrome.text("h1").await, "Request denied");
    chrome.screenshot("denied").await;

    let done = login.finish().await;
    assert_eq!(done.code, Some(2), "{}", done.stderr);
    assert!(!done.stderr.contains("Logged in as"), "{}", done.stderr);
    chrome.close().await;
}

#[tokio::test]
async fn wrong_expired_and_used_codes_all_show_the_same_generic_message() {
    let Some(chrome) = Chrome::start("browser: generic message").await else {
        return;
    };
    let emulator = EmulatorProcess::start(&["--interval", "1"]).await;
    let short = EmulatorProcess::start(&["--interval", "1", "--expires-in", "1"]).await;

    // Used: a login approved and finished.
    let home = tempfile::tempdir().unwrap();
    let (login, _link, used) = login_against(&emulator, &home).await;
    let approved = common::PageBrowser::new(&emulator.url)
        .decide(&used, EMAIL, "approve")
        .await;
    assert!(approved.contains("Signed in"));
    let done = login.finish().await;
    assert_eq!(done.code, Some(0), "{}", done.stderr);

    // Expired: a 1-second code; the CLI gives up first (exit 2), so it has expired.
    let home = tempfile::tempdir().unwrap();
    let (login, _link, expired) = login_against(&short, &home).await;
    let done = login.finish().await;
    assert_eq!(done.code, Some(2), "{}", done.stderr);

    let mut pages = Vec::new();
    for (base, typed, label) in [
        (&emulator.url, "BBBB-BBBB", "wrong"),
        (&emulator.url, used.as_str(), "used"),
        (&short.url, expired.as_str(), "expired"),
    ] {
        chrome.goto(&format!("{base}/device")).await;
        chrome.submit_code(typed).await;
        let (h1, alert) = heading_and_alert(&chrome).await;
        assert!(alert.starts_with(GENERIC), "{label}: {alert}");
        assert_eq!(chrome.value("#user_code").await, typed, "{label}");
        if label == "wrong" {
            chrome.screenshot("invalid-code").await;
        }
        pages.push((h1, alert, chrome.title().await));
    }
    assert!(
        pages.windows(2).all(|w| w[0] == w[1]),
        "wrong, used and expired codes must look the same: {pages:#?}"
    );
    chrome.close().await;
}

#[tokio::test]
async fn typed_codes_are_normalised_spaces_en_dashes_and_lower_case() {
    let Some(chrome) = Chrome::start("browser: normalisation").await else {
        return;
    };
    let emulator = EmulatorProcess::start(&["--interval", "1"]).await;
    let home = tempfile::tempdir().unwrap();
    let (login, _link, code) = login_against(&emulator, &home).await;
    let (a, b) = halves(&code);
    let variants = [
        format!("{a} {b}").to_lowercase(),
        format!("{a}\u{2013}{b}"),
        format!("{a}{b}").to_lowercase(),
    ];
    for typed in &variants {
        chrome.goto(&format!("{}/device", emulator.url)).await;
        chrome.submit_code(typed).await;
        assert_eq!(chrome.text("h1").await, "Who is signing in?", "{typed:?}");
        assert_eq!(
            chrome.value("input[name=user_code]").await,
            code,
            "{typed:?} normalises to {code}"
        );
    }
    // The last one goes through to the end.
    chrome.click("form button[type=submit]").await;
    chrome.click("button[value=approve]").await;
    assert_eq!(chrome.text("h1").await, "Signed in");
    let done = login.finish().await;
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    chrome.close().await;
}

#[tokio::test]
async fn wrong_codes_throttle_the_browser_session_but_not_a_fresh_one() {
    let Some(chrome) = Chrome::start("browser: throttling").await else {
        return;
    };
    let emulator = EmulatorProcess::start(&["--interval", "1"]).await;
    let home = tempfile::tempdir().unwrap();
    let (_login, _link, code) = login_against(&emulator, &home).await;

    chrome.goto(&format!("{}/device", emulator.url)).await;
    let mut attempts = 0;
    loop {
        attempts += 1;
        assert!(attempts <= 10, "no throttling after 10 wrong codes");
        chrome.submit_code("BBBB-BBBB").await;
        if chrome.text("h1").await == "Too many attempts" {
            break;
        }
        assert!(chrome.text("[role=alert]").await.starts_with(GENERIC));
    }
    assert!(attempts > 1, "the first wrong code is not throttled");
    chrome.screenshot("throttled").await;

    // Even the right code is refused in this session.
    chrome.goto(&format!("{}/device", emulator.url)).await;
    chrome.submit_code(&code).await;
    assert_eq!(chrome.text("h1").await, "Too many attempts");

    // A new browser session (no cookie) is not throttled by this one.
    chrome.client.delete_all_cookies().await.unwrap();
    chrome.goto(&format!("{}/device", emulator.url)).await;
    chrome.submit_code(&code).await;
    assert_eq!(chrome.text("h1").await, "Who is signing in?");
    chrome.close().await;
}

#[tokio::test]
async fn a_tampered_or_missing_csrf_token_is_refused_and_approves_nothing() {
    let Some(chrome) = Chrome::start("browser: CSRF").await else {
        return;
    };
    let emulator = EmulatorProcess::start(&["--interval", "1"]).await;
    let home = tempfile::tempdir().unwrap();
    let (login, link, _code) = login_against(&emulator, &home).await;

    for tamper in [
        "document.querySelector('input[name=csrf]').value = 'A'.repeat(43);",
        "document.querySelector('input[name=csrf]').remove();",
    ] {
        chrome.goto(&link).await;
        chrome.click("form button[type=submit]").await;
        chrome.click("form button[type=submit]").await;
        assert_eq!(chrome.text("h1").await, "Confirm sign-in");
        chrome.js(tamper).await;
        chrome.click("button[value=approve]").await;
        assert_eq!(chrome.text("h1").await, "This form has expired", "{tamper}");
    }
    // Nothing was approved: the untampered form can still deny, and the CLI then
    // reports the denial (an approval that slipped through would have logged it in,
    // and a decided code cannot be decided again).
    chrome.goto(&link).await;
    chrome.click("form button[type=submit]").await;
    chrome.click("form button[type=submit]").await;
    chrome.click("button[value=deny]").await;
    assert_eq!(chrome.text("h1").await, "Request denied");
    let done = login.finish().await;
    assert_eq!(done.code, Some(2), "{}", done.stderr);
    chrome.close().await;
}

#[tokio::test]
async fn security_headers_are_sent_and_csp_blocks_inline_script_in_the_browser() {
    let emulator = EmulatorProcess::start(&[]).await;
    let response = reqwest::get(format!("{}/device", emulator.url))
        .await
        .expect("GET /device");
    let h = response.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "CSP lacks {directive}: {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("script-src"));
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let cookie = h["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));

    let Some(chrome) = Chrome::start("browser: CSP").await else {
        return;
    };
    chrome.goto(&format!("{}/device", emulator.url)).await;
    let title = chrome.title().await;
    // An inline script added to the live page is refused by the CSP (WebDriver's own
    // `execute` is exempt; the element it inserts is not).
    chrome
        .js("window.__violations = [];
             document.addEventListener('securitypolicyviolation',
               e => window.__violations.push(e.effectiveDirective));
             const s = document.createElement('script');
             s.textContent = \"document.title = 'pwned'\";
             document.body.appendChild(s);
             return null;")
        .await;
    let violation = wait_until(
        "a CSP violation report",
        Duration::from_secs(10),
        || async {
            chrome
                .js("return window.__violations[0] || null;")
                .await
                .as_str()
                .map(str::to_owned)
        },
    )
    .await;
    assert!(violation.starts_with("script-src"), "{violation}");
    assert_eq!(chrome.title().await, title, "the inline script ran");
    chrome.close().await;
}

#[tokio::test]
async fn a_script_in_the_user_code_parameter_is_shown_as_text_and_never_runs() {
    let Some(chrome) = Chrome::start("browser: escaping").await else {
        return;
    };
    let emulator = EmulatorProcess::start(&[]).await;
    let payload = "\"><script>document.title='pwned'</script>";
    chrome
        .goto(&format!(
            "{}/device?user_code=%22%3E%3Cscript%3Edocument.title%3D%27pwned%27%3C%2Fscript%3E",
            emulator.url
        ))
        .await;
    assert_eq!(
        chrome.title().await,
        format!("Sign in to your CLI{TITLE_SUFFIX}")
    );
    assert!(
        chrome.client.get_alert_text().await.is_err(),
        "no alert is open"
    );
    assert_eq!(chrome.js("return document.scripts.length;").await, json!(0));
    // The text is kept, as text, in the code field (the page echoes 32 characters).
    let shown = chrome.value("#user_code").await;
    assert!(
        shown.contains("<script>") && payload.starts_with(&shown),
        "{shown:?}"
    );

    // Submitted, it comes back escaped on the error page too.
    chrome.click("form button[type=submit]").await;
    assert!(chrome.text("[role=alert]").await.starts_with(GENERIC));
    assert_eq!(chrome.js("return document.scripts.length;").await, json!(0));
    assert_eq!(
        chrome.title().await,
        format!("Sign in to your CLI{TITLE_SUFFIX}")
    );
    chrome.close().await;
}

#[tokio::test]
async fn the_page_works_at_375_px_wide_and_with_the_keyboard_alone() {
    let Some(chrome) = Chrome::start("browser: narrow + keyboard").await else {
        return;
    };
    chrome.client.set_window_size(375, 812).await.unwrap();
    let emulator = EmulatorProcess::start(&["--interval", "1"]).await;
    let home = tempfile::tempdir().unwrap();
    let (login, _link, code) = login_against(&emulator, &home).await;

    let fits = async |page: &str| {
        let width = chrome.js("return window.innerWidth;").await;
        assert!(
            width.as_u64().is_some_and(|w| w <= 375),
            "{page}: viewport {width}"
        );
        let scroll = chrome
            .js("return document.scrollingElement.scrollWidth;")
            .await;
        assert!(
            scroll.as_u64().is_some_and(|w| w <= 375),
            "{page}: horizontal scroll, scrollWidth {scroll}"
        );
        // Every control is displayed and inside the viewport horizontally.
        let outside = chrome
            .js("return [...document.querySelectorAll('input:not([type=hidden]), button')]
                   .filter(e => { const r = e.getBoundingClientRect();
                                  return r.width === 0 || r.left < 0 || r.right > window.innerWidth; })
                   .map(e => e.outerHTML);")
            .await;
        assert_eq!(outside, json!([]), "{page}: controls outside the viewport");
    };

    // Enter the code: the field has the focus on arrival (autofocus); type, press Enter.
    chrome.goto(&format!("{}/device", emulator.url)).await;
    fits("enter code").await;
    assert_eq!(chrome.focused().await, "input#user_code[user_code=]");
    for c in code.chars() {
        chrome.press(c).await;
    }
    chrome.screenshot("narrow-375px").await;
    chrome
        .navigating("Enter", async || chrome.press(Key::Enter.into()).await)
        .await;
    assert_eq!(chrome.text("h1").await, "Who is signing in?");
    fits("choose user").await;
    chrome.screenshot("narrow-375px-choose-user").await;

    // Choose user: Tab to Continue (the first user is preselected), press Space.
    let mut tabs = 0;
    while !chrome.focused().await.starts_with("button#") {
        tabs += 1;
        assert!(tabs <= 6, "Tab never reached Continue");
        chrome.press(Key::Tab.into()).await;
    }
    chrome
        .navigating("Space", async || chrome.press(' ').await)
        .await;
    assert_eq!(chrome.text("h1").await, "Confirm sign-in");
    fits("confirm").await;

    // Confirm: Tab reaches Deny first, then Approve; Enter on Approve.
    let mut order = Vec::new();
    while !chrome.focused().await.contains("[decision=approve]") {
        assert!(order.len() <= 6, "Tab never reached Approve: {order:?}");
        chrome.press(Key::Tab.into()).await;
        order.push(chrome.focused().await);
    }
    let deny_at = order.iter().position(|f| f.contains("[decision=deny]"));
    assert!(
        deny_at.is_some_and(|d| d + 1 == order.len() - 1),
        "{order:?}"
    );
    chrome
        .navigating("Enter", async || chrome.press(Key::Enter.into()).await)
        .await;
    assert_eq!(chrome.text("h1").await, "Signed in");
    fits("signed in").await;

    let done = login.finish().await;
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    chrome.close().await;
}
