//! Exit codes, following `gh`: 0 success, 1 failure, 2 denied or expired (the user must
//! start again), 4 authentication required, 130 interrupted by Ctrl-C.

use std::process::ExitCode;

/// A process exit status chosen by a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit(pub u8);

/// The command did what was asked.
pub const SUCCESS: Exit = Exit(0);
/// Anything went wrong that is not covered below.
pub const FAILURE: Exit = Exit(1);
/// The login was denied in the browser, or the code expired before approval.
pub const DENIED_OR_EXPIRED: Exit = Exit(2);
/// No usable credential: the user must run `login`.
pub const AUTH_REQUIRED: Exit = Exit(4);
/// Interrupted by Ctrl-C (128 + SIGINT).
pub const INTERRUPTED: Exit = Exit(130);

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.0)
    }
}

/// An error that already carries the exit status it must produce.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Fail {
    /// The status to exit with.
    pub exit: Exit,
    /// What to tell the user (already sanitized).
    pub message: String,
}

impl Fail {
    /// An error with an explicit exit status.
    pub fn error(exit: Exit, message: impl Into<String>) -> anyhow::Error {
        anyhow::Error::new(Fail {
            exit,
            message: message.into(),
        })
    }
}

/// Picks the exit status for an error: an explicit [`Fail`] wins, then the library's
/// notions of "log in again" and "denied or expired", then plain failure.
pub fn code_for(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if let Some(fail) = cause.downcast_ref::<Fail>() {
            return fail.exit;
        }
        if let Some(lib) = cause.downcast_ref::<cli_auth::Error>() {
            if lib.is_auth_required() {
                return AUTH_REQUIRED;
            }
            if lib.is_denied() || lib.is_expired() {
                return DENIED_OR_EXPIRED;
            }
        }
    }
    FAILURE
}

/// Formats an error chain as `outer: inner: root` on one line. The library's errors
/// are already sanitized; the text is sanitized again here because context strings
/// can quote server input too.
pub fn render_chain(err: &anyhow::Error) -> String {
    let text = err
        .chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ");
    cli_auth::sanitize(&text, 2000)
}
