//! What the binary knows about its surroundings: is stderr a terminal, may a browser be
//! opened here, how to draw a QR code, and where log lines go. The environment is read
//! once into [`Surroundings`] so the decisions are pure functions with table tests.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Sends log lines to stderr. `-v` raises the level; `RUST_LOG` overrides it. Nothing
/// secret is ever passed to `tracing`, so even `-vvv` is safe to paste in an issue.
/// The `emulator` command logs its notable events (decisions, logouts, refresh-token
/// reuse) by default and one line per request with `-v` or `--json` (structured);
/// other commands stay quiet unless asked.
pub fn init_tracing(verbose: u8, quiet: bool, emulator: bool, json: bool) {
    let level = match (quiet, verbose, emulator) {
        (true, _, _) => "error",
        // One access-log line per request costs the emulator about a third of its
        // per-poll CPU (bench/emulator.sh), so it is opt-in: `-v` or `--json`.
        (_, 0, true) if json => "warn,workos_emulator=info",
        (_, 0, true) => "warn,workos_emulator=info,workos_emulator::http=warn",
        (_, 0, false) => "warn",
        (_, 1, _) => "info",
        (_, 2, _) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    // Colour only on a terminal that did not opt out: CI logs stay readable.
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// The parts of the environment that change how a login is presented.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Surroundings {
    /// stderr is a terminal (spinner and countdown instead of plain lines).
    pub stderr_tty: bool,
    /// `SSH_CONNECTION` or `SSH_TTY` is set: the browser would open on the wrong machine.
    pub ssh: bool,
    /// `CI` is set to anything but `false`/`0`.
    pub ci: bool,
    /// A graphical display is reachable (always true off Linux/BSD).
    pub display: bool,
    /// `BROWSER` names a browser command explicitly.
    pub browser_env: bool,
    /// `NO_COLOR` is set.
    pub no_color: bool,
}

impl Surroundings {
    /// Reads the process environment once.
    pub fn detect() -> Self {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        let display = if cfg!(any(
            target_os = "linux",
            target_os = "freebsd",
            target_os = "openbsd"
        )) {
            set("DISPLAY") || set("WAYLAND_DISPLAY")
        } else {
            true
        };
        Self {
            stderr_tty: std::io::stderr().is_terminal(),
            ssh: set("SSH_CONNECTION") || set("SSH_TTY"),
            ci,
            display,
            browser_env: set("BROWSER"),
            no_color: set("NO_COLOR"),
        }
    }
}

/// Whether to open a browser, and if not, why (told to the user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserPlan {
    /// Open the verification page.
    Open,
    /// Do not; the reason completes "Not opening a browser: …".
    Skip(&'static str),
}

/// Decides whether to open a browser. `--no-browser` and `CI` always win; an explicit
/// `BROWSER` is honoured even over SSH or without a display, because the user chose it
/// (a text browser, or a script that forwards the URL).
pub fn browser_plan(no_browser: bool, env: &Surroundings) -> BrowserPlan {
    if no_browser {
        BrowserPlan::Skip("--no-browser was given")
    } else if env.ci {
        BrowserPlan::Skip("CI is set")
    } else if env.browser_env {
        BrowserPlan::Open
    } else if env.ssh {
        BrowserPlan::Skip("this is an SSH session; open the URL on your own device")
    } else if !env.display {
        BrowserPlan::Skip("no graphical display was found")
    } else {
        BrowserPlan::Open
    }
}

/// Whether to print a QR code: when asked, or over SSH where the user's phone is the
/// quickest browser at hand.
pub fn want_qr(asked: bool, env: &Surroundings) -> bool {
    asked || env.ssh
}

/// Renders `url` as a QR code with half-block characters (two modules per row of text),
/// with the quiet zone the spec requires so phone cameras can find it.
pub fn qr_code(url: &str) -> Option<String> {
    let code = qrcode::QrCode::new(url.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}

/// Formats a duration as `4m 05s` or `42s` for the countdown.
pub fn short_duration(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 {
        format!("{}m {:02}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn desktop() -> Surroundings {
        Surroundings {
            stderr_tty: true,
            display: true,
            ..Surroundings::default()
        }
    }

    #[test]
    fn browser_plan_table() {
        let cases: &[(&str, bool, Surroundings, bool)] = &[
            ("desktop opens", false, desktop(), true),
            ("--no-browser skips", true, desktop(), false),
            (
                "CI skips",
                false,
                Surroundings {
                    ci: true,
                    ..desktop()
                },
                false,
            ),
            (
                "CI beats BROWSER",
                false,
                Surroundings {
                    ci: true,
                    browser_env: true,
                    ..desktop()
                },
                false,
            ),
            (
                "ssh skips",
                false,
                Surroundings {
                    ssh: true,
                    ..desktop()
                },
                false,
            ),
            (
                "no display skips",
                false,
                Surroundings {
                    display: false,
                    ..desktop()
                },
                false,
            ),
            (
                "BROWSER over ssh opens",
                false,
                Surroundings {
                    ssh: true,
                    browser_env: true,
                    ..desktop()
                },
                true,
            ),
            (
                "BROWSER without display opens",
                false,
                Surroundings {
                    display: false,
                    browser_env: true,
                    ..desktop()
                },
                true,
            ),
        ];
        for (name, no_browser, env, opens) in cases {
            let plan = browser_plan(*no_browser, env);
            assert_eq!(plan == BrowserPlan::Open, *opens, "{name}: {plan:?}");
        }
    }

    #[test]
    fn qr_shown_when_asked_or_over_ssh() {
        assert!(want_qr(true, &desktop()));
        assert!(!want_qr(false, &desktop()));
        assert!(want_qr(
            false,
            &Surroundings {
                ssh: true,
                ..desktop()
            }
        ));
    }

    #[test]
    fn qr_code_renders_blocks_with_quiet_zone() {
        let qr = qr_code("http://127.0.0.1:4100/device?user_code=WDJB-MJHT").unwrap();
        assert!(qr.lines().count() > 10);
        assert!(qr.contains('█') || qr.contains('▀') || qr.contains('▄'));
    }

    #[test]
    fn durations_are_short() {
        assert_eq!(short_duration(Duration::from_secs(42)), "42s");
        assert_eq!(short_duration(Duration::from_secs(245)), "4m 05s");
    }
}
