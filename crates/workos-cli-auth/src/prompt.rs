//! How a login looks in the terminal: the code and URL, the optional QR code, a spinner
//! with a countdown on a TTY (plain lines otherwise), and the closing line.
//!
//! Everything goes to stderr so stdout stays clean for `--json`. Every string that came
//! from the server passes through [`cli_auth::sanitize`] first: a hostile
//! server must not be able to clear the screen, write the clipboard (OSC 52) or paint a
//! fake "logged in" line.

use std::time::{Duration, Instant};

use cli_auth::{AuthenticationResponse, DeviceAuthorizationResponse, PollEvent, sanitize};
use indicatif::{ProgressBar, ProgressStyle};

use crate::terminal::{Surroundings, qr_code, short_duration};

/// Longest server string we echo; anything longer is cut with an ellipsis.
const MAX_ECHO: usize = 200;

/// The login's terminal presentation.
pub struct Prompt {
    env: Surroundings,
    quiet: bool,
}

impl Prompt {
    /// A prompt for these surroundings; `quiet` keeps only errors and requested output.
    pub fn new(env: Surroundings, quiet: bool) -> Self {
        Self { env, quiet }
    }

    /// Prints a line on stderr unless quiet.
    pub fn note(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }

    /// Shows the one-time code first, then where to enter it (the code is what the user
    /// checks on the page), a phishing warning and the expiry. The device code is never
    /// shown: it is the secret the CLI polls with.
    pub fn show_code(&self, data: &DeviceAuthorizationResponse, qr: bool) {
        let code = sanitize(&data.user_code, MAX_ECHO);
        let uri = sanitize(&ascii_url(&data.verification_uri), MAX_ECHO);
        let complete = sanitize(&ascii_url(&data.verification_uri_complete), MAX_ECHO);
        // The code is shown even in quiet mode: without it the login cannot proceed.
        eprintln!();
        eprintln!("  Your one-time code: {}", self.bold(&code));
        eprintln!();
        eprintln!("  Open {uri} and enter the code, or go straight to:");
        eprintln!("  {complete}");
        if let Some(qr) = qr
            .then(|| qr_code(&data.verification_uri_complete))
            .flatten()
        {
            eprintln!("{qr}");
        }
        eprintln!();
        eprintln!(
            "  Continue only if you started this login yourself. The code expires in {}.",
            short_duration(Duration::from_secs(data.expires_in))
        );
        eprintln!();
    }

    /// Starts the waiting indicator and returns the callback that keeps it current.
    pub fn waiting(&self, expires_in: u64) -> Waiting {
        let deadline = Instant::now() + Duration::from_secs(expires_in);
        if self.env.stderr_tty && !self.quiet {
            let bar = ProgressBar::new_spinner();
            let style =
                ProgressStyle::with_template("{spinner} {msg} ({left} left, Ctrl-C to cancel)")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner())
                    .with_key(
                        "left",
                        move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                            let left = deadline.saturating_duration_since(Instant::now());
                            let _ = w.write_str(&short_duration(left));
                        },
                    );
            bar.set_style(style);
            bar.set_message("Waiting for approval in the browser");
            bar.enable_steady_tick(Duration::from_millis(120));
            Waiting {
                bar: Some(bar),
                quiet: self.quiet,
            }
        } else {
            self.note(&format!(
                "Waiting for approval in the browser (expires in {})...",
                short_duration(Duration::from_secs(expires_in))
            ));
            Waiting {
                bar: None,
                quiet: self.quiet,
            }
        }
    }

    /// The closing line: who signed in, and into which organization.
    pub fn success(&self, resp: &AuthenticationResponse) {
        let who = sanitize(&resp.user.email, MAX_ECHO);
        let line = match &resp.organization_id {
            Some(org) => format!(
                "Logged in as {who} (organization {})",
                sanitize(org, MAX_ECHO)
            ),
            None => format!("Logged in as {who}"),
        };
        self.note(&format!("{} {line}", self.tick()));
    }

    fn bold(&self, s: &str) -> String {
        if self.env.stderr_tty && !self.env.no_color {
            format!("\u{1b}[1m{s}\u{1b}[0m")
        } else {
            s.to_owned()
        }
    }

    fn tick(&self) -> &'static str {
        if self.env.stderr_tty { "✓" } else { "OK:" }
    }
}

/// A verification URI as the user should read it: host in ASCII (an internationalised
/// name comes out as punycode, `xn--…`, so a look-alike of a familiar domain shows as
/// what it is) and the rest percent-encoded, as the `url` crate serializes it.
fn ascii_url(raw: &str) -> String {
    url::Url::parse(raw).map_or_else(|_| raw.to_owned(), |u| u.to_string())
}

/// The waiting indicator; [`Waiting::observer`] feeds it poll events.
pub struct Waiting {
    bar: Option<ProgressBar>,
    quiet: bool,
}

impl Waiting {
    /// A callback for the poller: updates the spinner's message, or prints a plain
    /// line for the events a person needs to know about.
    pub fn observer(&self) -> impl Fn(&PollEvent) + Send + Sync + 'static {
        let bar = self.bar.clone();
        let quiet = self.quiet;
        move |event: &PollEvent| {
            let Some(text) = describe(event) else { return };
            match &bar {
                Some(bar) => bar.set_message(text),
                None if !quiet => eprintln!("{text}"),
                None => {}
            }
        }
    }

    /// Removes the spinner before the closing line is printed.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// What a person should read about a poll event, if anything. Pending polls and plain
/// waits say nothing new in plain mode, so they print nothing.
fn describe(event: &PollEvent) -> Option<String> {
    match event {
        PollEvent::SlowDown { new_interval } => Some(format!(
            "The server asked us to slow down; checking every {}",
            short_duration(*new_interval)
        )),
        PollEvent::Retrying { after, reason } => Some(format!(
            "Could not reach the server ({}); retrying in {}",
            sanitize(reason, MAX_ECHO),
            short_duration(*after)
        )),
        _ => None,
    }
}
