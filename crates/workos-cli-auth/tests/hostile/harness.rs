//! Running the real binary against a hostile server, and the checks every run gets.
//!
//! [`Cli::run`] starts `workos-cli-auth` with `-vvv` and `RUST_LOG=trace` (the most
//! verbose it gets), a private store (`WORKOS_CLI_AUTH_HOME` in a temp dir,
//! `WORKOS_CLI_AUTH_STORE=file`), an API-key canary in the environment and no proxy or
//! WorkOS variables inherited from the machine. Every run's output then passes through
//! the secret canary and the terminal-safety check before the scenario sees it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

use crate::canary::{self, Allow};
use crate::server::{AUTHENTICATE, AUTHORIZE, Action, Response, Server};

pub const BIN: &str = env!("CARGO_BIN_EXE_workos-cli-auth");
pub const CLIENT_ID: &str = "client_test";
pub const USER_CODE: &str = "WDJB-MJHT";

/// A run that takes longer than this is a hang: the test fails instead of waiting on.
const RUN_LIMIT: Duration = Duration::from_secs(90);

/// Variables from the machine that would change what the binary does.
const SCRUBBED: &[&str] = &[
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "WORKOS_CLIENT_ID",
    "WORKOS_API_BASE_URL",
    "WORKOS_CLI_AUTH_PROFILE",
    "WORKOS_CLI_AUTH_TOKEN",
    "BROWSER",
    "CI",
    "SSH_CONNECTION",
    "SSH_TTY",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "RUST_BACKTRACE",
    "NO_COLOR",
];

// ---------------------------------------------------------------------------------
// Protocol fixtures, with the canaries planted.

/// A valid device authorization reply: `interval` 1, `expires_in` 30.
pub fn device(server_url: &str) -> Value {
    json!({
        "device_code": canary::DEVICE_CODE,
        "user_code": USER_CODE,
        "verification_uri": format!("{server_url}/device"),
        "verification_uri_complete": format!("{server_url}/device?user_code={USER_CODE}"),
        "expires_in": 30,
        "interval": 1,
    })
}

/// [`device`] with some members replaced (`Value::Null` removes one).
pub fn device_with(server_url: &str, overrides: Value) -> Value {
    let mut doc = device(server_url);
    for (key, value) in overrides.as_object().expect("an object") {
        match value {
            Value::Null => {
                doc.as_object_mut().unwrap().remove(key);
            }
            v => doc[key] = v.clone(),
        }
    }
    doc
}

pub fn user() -> Value {
    json!({
        "object": "user", "id": "user_01HOSTILE", "email": "hostile@example.com",
        "email_verified": true, "first_name": "Host", "last_name": "Ile",
        "profile_picture_url": null, "external_id": null, "last_sign_in_at": null,
        "locale": null, "metadata": {},
        "created_at": "2025-01-01T00:00:00.000Z", "updated_at": "2025-01-01T00:00:00.000Z"
    })
}

/// A successful authenticate reply with the first canary tokens (valid for an hour).
pub fn tokens() -> Value {
    tokens_with(canary::ACCESS_SIGNATURE, canary::REFRESH_TOKEN, 3600)
}

pub fn tokens_with(access_signature: &str, refresh: &str, exp_in: i64) -> Value {
    json!({
        "user": user(),
        "organization_id": "org_01HOSTILE",
        "access_token": canary::access_token(access_signature, exp_in),
        "refresh_token": refresh,
        "authentication_method": "GoogleOAuth",
        "token_type": "Bearer",
        "expires_in": exp_in.max(0),
    })
}

pub fn oauth_error(status: u16, code: &str, description: &str) -> Action {
    Response::json(
        status,
        json!({"error": code, "error_description": description}),
    )
    .into()
}

pub fn pending() -> Action {
    oauth_error(
        400,
        "authorization_pending",
        "The request failed due to: authorization_pending.",
    )
}

pub fn slow_down() -> Action {
    oauth_error(400, "slow_down", "slow down")
}

pub fn ok_tokens() -> Action {
    Response::json(200, tokens()).into()
}

/// A hostile server: [`device`] with these overrides, then these authenticate answers
/// and pending forever after them.
pub async fn scripted(overrides: Value, polls: Vec<Action>) -> Server {
    let server = Server::start().await;
    let body = device_with(&server.url(), overrides);
    server.on(AUTHORIZE, [Response::json(200, body).into()]);
    server.on(AUTHENTICATE, polls);
    server.then_always(AUTHENTICATE, pending());
    server
}

// ---------------------------------------------------------------------------------
// Running the binary.

/// One captured run.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The last line on stderr that reports the failure (`workos-cli-auth: …`).
    pub fn error_line(&self) -> &str {
        self.stderr
            .lines()
            .rev()
            .find(|l| l.starts_with("workos-cli-auth: "))
            .unwrap_or("")
    }

    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "exit code; stderr:\n{}", self.stderr);
        self
    }

    pub fn assert_stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    pub fn assert_stderr_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.stderr.contains(needle),
            "stderr has {needle:?}:\n{}",
            self.stderr
        );
        self
    }
}

/// Everything on a non-TTY stream must be terminal-safe: no C0 control but the
/// newline, no DEL, C1, bidi or zero-width character (a server string that slipped
/// through unsanitized shows up here whatever it contained).
pub fn assert_terminal_safe(stream: &str, text: &str) {
    if let Some((i, c)) = text
        .char_indices()
        .find(|&(_, c)| c != '\n' && cli_auth::is_unsafe_char(c))
    {
        let start = text[..i].char_indices().rev().nth(80).map_or(0, |(j, _)| j);
        panic!(
            "unsafe character {c:?} on {stream} at byte {i}, after: {:?}",
            &text[start..i]
        );
    }
}

/// How a scenario runs the binary.
pub struct Cli {
    home: tempfile::TempDir,
    env: Vec<(String, String)>,
    verbose: bool,
    allow: Allow,
}

impl Default for Cli {
    fn default() -> Self {
        Self::new()
    }
}

impl Cli {
    /// Most verbose logging, a fresh private file store, the API-key canary in the
    /// environment, `NO_COLOR` so that even our own log lines carry no escape sequence.
    pub fn new() -> Self {
        Self {
            home: tempfile::tempdir().expect("temp dir"),
            env: vec![
                ("RUST_LOG".into(), "trace".into()),
                ("NO_COLOR".into(), "1".into()),
                ("WORKOS_CLI_AUTH_STORE".into(), "file".into()),
                ("WORKOS_API_KEY".into(), canary::API_KEY.into()),
                ("WORKOS_CLIENT_SECRET".into(), canary::API_KEY.into()),
            ],
            verbose: true,
            allow: Allow::Nothing,
        }
    }

    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.retain(|(n, _)| n != name);
        self.env.push((name.into(), value.into()));
        self
    }

    pub fn without_env(mut self, name: &str) -> Self {
        self.env.retain(|(n, _)| n != name);
        self
    }

    /// No `-vvv` (for `--quiet`, which conflicts with it).
    pub fn not_verbose(mut self) -> Self {
        self.verbose = false;
        self
    }

    /// Where secrets may legitimately appear.
    pub fn allow(mut self, allow: Allow) -> Self {
        self.allow = allow;
        self
    }

    /// The store root (`WORKOS_CLI_AUTH_HOME`).
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// `<home>/profiles/<profile>.json`
    pub fn profile_file(&self, profile: &str) -> PathBuf {
        self.home().join("profiles").join(format!("{profile}.json"))
    }

    /// Whether any credential was persisted.
    pub fn stored_profiles(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(self.home().join("profiles")) else {
            return Vec::new();
        };
        dir.filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".json"))
            .collect()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        for name in SCRUBBED {
            cmd.env_remove(name);
        }
        cmd.env("WORKOS_CLI_AUTH_HOME", self.home());
        for (n, v) in &self.env {
            cmd.env(n, v);
        }
        if self.verbose {
            cmd.arg("-vvv");
        }
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// Runs the binary to completion and checks its output (canaries, terminal safety).
    pub async fn run(&self, args: &[&str]) -> Output {
        let child = self.command(args).spawn().expect("spawn the binary");
        self.finish(child).await
    }

    /// Like [`run`](Self::run), with another [`Allow`] for this run only.
    pub async fn run_allowing(&self, allow: Allow, args: &[&str]) -> Output {
        let child = self.command(args).spawn().expect("spawn the binary");
        self.finish_allowing(child, allow).await
    }

    /// `program pre_args… <binary> [-vvv] args…` with the binary's environment (for
    /// `sh -c 'umask 000; exec "$0" "$@"'` and the like).
    pub fn wrapped(&self, program: &str, pre_args: &[&str], args: &[&str]) -> Command {
        let inner = self.command(args);
        let inner = inner.as_std();
        let mut cmd = Command::new(program);
        cmd.args(pre_args)
            .arg(inner.get_program())
            .args(inner.get_args());
        for (k, v) in inner.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// `login --client-id client_test --api-base-url URL --no-browser` plus `extra`.
    pub async fn login(&self, server: &Server, extra: &[&str]) -> Output {
        let url = server.url();
        let mut args = vec![
            "login",
            "--client-id",
            CLIENT_ID,
            "--api-base-url",
            &url,
            "--no-browser",
        ];
        args.extend_from_slice(extra);
        self.run(&args).await
    }

    /// Waits for a spawned child and checks its output like [`run`](Self::run).
    pub async fn finish(&self, child: Child) -> Output {
        self.finish_allowing(child, self.allow).await
    }

    async fn finish_allowing(&self, mut child: Child, allow: Allow) -> Output {
        let mut stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let collect = async {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let (a, b, status) = tokio::join!(
                stdout.read_to_end(&mut out),
                stderr.read_to_end(&mut err),
                child.wait()
            );
            a.and(b).expect("read the child's output");
            (status.expect("wait for the child"), out, err)
        };
        let (status, out, err) = tokio::time::timeout(RUN_LIMIT, collect)
            .await
            .expect("the binary hung");
        let output = Output {
            code: status.code(),
            stdout: String::from_utf8_lossy(&out).into_owned(),
            stderr: String::from_utf8_lossy(&err).into_owned(),
        };
        canary::assert_no_secrets(&output.stdout, &output.stderr, allow);
        assert_terminal_safe("stderr", &output.stderr);
        assert_terminal_safe("stdout", &output.stdout);
        output
    }
}

/// Seconds between consecutive requests.
pub fn gaps(requests: &[crate::server::Request]) -> Vec<f64> {
    requests
        .windows(2)
        .map(|w| w[1].at.duration_since(w[0].at).as_secs_f64())
        .collect()
}

/// Seconds from `a` to `b`.
pub fn secs_between(a: Instant, b: Instant) -> f64 {
    b.saturating_duration_since(a).as_secs_f64()
}

// ---------------------------------------------------------------------------------
// The library layer: the real client and transport under injected time.

/// Virtual time: `sleep` records the duration and advances the clock at once, so the
/// real client can be driven against the hostile server through waits of minutes.
pub struct FakeTimer {
    origin: Instant,
    wall_origin: SystemTime,
    elapsed: std::sync::Mutex<Duration>,
    sleeps: std::sync::Mutex<Vec<Duration>>,
}

impl FakeTimer {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            origin: Instant::now(),
            wall_origin: SystemTime::now(),
            elapsed: std::sync::Mutex::new(Duration::ZERO),
            sleeps: std::sync::Mutex::new(Vec::new()),
        })
    }

    pub fn sleeps(&self) -> Vec<u64> {
        self.sleeps
            .lock()
            .unwrap()
            .iter()
            .map(|d| d.as_secs())
            .collect()
    }

    fn elapsed(&self) -> Duration {
        *self.elapsed.lock().unwrap()
    }
}

impl cli_auth::Timer for FakeTimer {
    fn now(&self) -> Instant {
        self.origin + self.elapsed()
    }

    fn sleep(
        &self,
        d: Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        self.sleeps.lock().unwrap().push(d);
        *self.elapsed.lock().unwrap() += d;
        Box::pin(std::future::ready(()))
    }

    fn wall_now(&self) -> SystemTime {
        self.wall_origin + self.elapsed()
    }
}

/// A library client for the hostile server.
pub fn client(server: &Server) -> cli_auth::Client {
    cli_auth::Client::builder()
        .client_id(CLIENT_ID)
        .base_url(server.url())
        .try_build()
        .expect("a loopback base url is accepted")
}

/// What a library-level login produced.
pub struct LibLogin {
    pub result: Result<cli_auth::AuthenticationResponse, cli_auth::Error>,
    /// Every wait the poller asked for, in whole seconds.
    pub sleeps: Vec<u64>,
    pub interval: u64,
}

/// Authorizes, then polls with the real client and transport under a [`FakeTimer`].
/// The error's `Display` and `Debug` pass through the canary check.
pub async fn lib_login(server: &Server) -> LibLogin {
    let client = client(server);
    let users = client.user_management();
    let data = users.authorize_device().await.expect("authorize");
    let timer = FakeTimer::new();
    let options = cli_auth::PollOptions::new().timer(timer.clone());
    let result = users
        .poll_device_code(&data.device_code, data.expires_in, data.interval, &options)
        .await;
    match &result {
        Ok(tokens) => canary::assert_clean("Debug of the tokens", &format!("{tokens:?}")),
        Err(e) => {
            canary::assert_clean("error Display", &e.to_string());
            canary::assert_clean("error Debug", &format!("{e:?}"));
        }
    }
    canary::assert_clean("Debug of the device reply", &format!("{data:?}"));
    LibLogin {
        result,
        sleeps: timer.sleeps(),
        interval: data.interval,
    }
}
