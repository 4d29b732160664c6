//! Shared test helpers: run the real binary with an isolated credential store, read the
//! login prompt from its stderr, and approve through the verification page's HTML
//! forms like a person in a browser would.
#![allow(dead_code)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_workos-cli-auth");

/// A command for the binary with a private file store under `home` and none of the
/// caller's WorkOS settings leaking in.
pub fn cli(home: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("WORKOS_CLI_AUTH_HOME", home)
        .env("WORKOS_CLI_AUTH_STORE", "file")
        .env("NO_COLOR", "1")
        .env_remove("WORKOS_CLIENT_ID")
        .env_remove("WORKOS_API_BASE_URL")
        .env_remove("WORKOS_CLI_AUTH_TOKEN")
        .env_remove("WORKOS_CLI_AUTH_PROFILE")
        .env_remove("BROWSER")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Output of a finished command.
#[derive(Debug)]
pub struct Finished {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs a command to completion (bounded by a generous safety timeout).
pub async fn run(mut cmd: Command) -> Finished {
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("command did not finish in 120 s")
        .expect("command runs");
    Finished {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A running `login`, with its stderr collected line by line.
pub struct Login {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    pub stderr: Vec<String>,
}

impl Login {
    /// Starts `cmd` (a `login` command) and begins collecting stderr.
    pub fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd.spawn().expect("login starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            stderr: Vec::new(),
        }
    }

    /// Waits for the prompt and returns `(base URL, user code)` from the printed
    /// `…/device?user_code=XXXX-XXXX` link.
    pub async fn prompt(&mut self) -> (String, String) {
        loop {
            let line = tokio::time::timeout(Duration::from_secs(60), self.lines.recv())
                .await
                .expect("login printed its prompt within 60 s")
                .unwrap_or_else(|| panic!("login ended before its prompt: {:?}", self.stderr));
            self.stderr.push(line.clone());
            if let Some(at) = line.find("/device?user_code=") {
                let url_start = line.find("http").expect("a URL on the line");
                let base = line[url_start..at].to_owned();
                let code = line[at + "/device?user_code=".len()..].trim().to_owned();
                return (base, code);
            }
        }
    }

    /// Waits for the process to exit and returns its code, stdout and all of stderr.
    pub async fn finish(mut self) -> Finished {
        let mut stdout = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            use tokio::io::AsyncReadExt;
            out.read_to_string(&mut stdout).await.expect("read stdout");
        }
        let status = tokio::time::timeout(Duration::from_secs(120), self.child.wait())
            .await
            .expect("login ended within 120 s")
            .expect("wait");
        while let Some(line) = self.lines.recv().await {
            self.stderr.push(line);
        }
        Finished {
            code: status.code(),
            stdout,
            stderr: self.stderr.join("\n"),
        }
    }
}

/// The value of `<input … name="NAME" value="…">`.
fn input_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

/// A cookie-keeping form submitter, standing in for a person's browser.
pub struct PageBrowser {
    base: String,
    http: reqwest::Client,
    cookie: Option<String>,
}

impl PageBrowser {
    /// A browser pointed at the emulator at `base`.
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: None,
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> (u16, String) {
        let req = match &self.cookie {
            Some(c) => req.header("cookie", c),
            None => req,
        };
        let resp = req.send().await.expect("page request");
        if let Some(set) = resp.headers().get("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            self.cookie = Some(pair);
        }
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// Opens the link the CLI printed, continues with the code, picks `email` and
    /// presses `decision` ("approve" or "deny") on the confirmation page. Returns the
    /// final page's HTML.
    pub async fn decide(&mut self, user_code: &str, email: &str, decision: &str) -> String {
        let url = format!("{}/device?user_code={user_code}", self.base);
        let (status, form) = self.send(self.http.get(url)).await;
        assert_eq!(status, 200, "{form}");
        let csrf = input_value(&form, "csrf").expect("csrf on the code form");
        let post = self.http.post(format!("{}/device", self.base));
        let (status, choose) = self
            .send(post.form(&[("csrf", csrf.as_str()), ("user_code", user_code)]))
            .await;
        assert_eq!(status, 200, "{choose}");
        let csrf = input_value(&choose, "csrf").expect("csrf on the user form");
        let post = self.http.post(format!("{}/device/user", self.base));
        let (status, confirm) = self
            .send(post.form(&[
                ("csrf", csrf.as_str()),
                ("user_code", user_code),
                ("email", email),
            ]))
            .await;
        assert_eq!(status, 200, "{confirm}");
        assert!(
            confirm.contains("choose Deny"),
            "the confirmation warns about phishing"
        );
        let csrf = input_value(&confirm, "csrf").expect("csrf on the confirmation");
        let post = self.http.post(format!("{}/device/decision", self.base));
        let (status, done) = self
            .send(post.form(&[
                ("csrf", csrf.as_str()),
                ("user_code", user_code),
                ("email", email),
                ("decision", decision),
            ]))
            .await;
        assert_eq!(status, 200, "{done}");
        done
    }
}

/// Whether `s` looks like a compact JWS (three base64url parts).
pub fn looks_like_jwt(s: &str) -> bool {
    let parts: Vec<&str> = s.trim().split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}
