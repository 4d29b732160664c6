//! `workos-cli-auth token`: print a valid access token on stdout, and nothing else.
//!
//! Credential chains call this before every command, so the common case (a fresh token
//! on disk) is one small file read with no async runtime, no keychain and no network.
//! Only a stale token starts the runtime and refreshes under the profile lock.

use std::io::Write;
use std::time::SystemTime;

use cli_auth::SecretString;
use cli_auth::session::Session;

use crate::cli::{GlobalArgs, TokenArgs};
use crate::commands::{block_on, connect::Connect};
use crate::context::{Context, env_token};
use crate::exit::{self, Exit, Fail};

/// Prints the token of the selected profile, refreshing it first if it is stale.
pub fn run(global: &GlobalArgs, _args: TokenArgs) -> anyhow::Result<Exit> {
    if let Some(token) = env_token() {
        return print(&token);
    }
    let ctx = Context::open(global)?;
    let profile = ctx.profile()?;
    if let Some(token) = Session::cached_token(&ctx.store, &profile, SystemTime::now())? {
        return print(&token);
    }
    if ctx.store.load_metadata(&profile)?.is_none() {
        return Err(not_logged_in(&profile));
    }
    let root = ctx.store.root().to_owned();
    let session = Session::new(ctx.store, profile.clone());
    let token = block_on(async move { session.access_token(&Connect::new(root)).await })?
        .map_err(|err| crate::commands::auth_failure(err, &profile))?;
    print(&token)
}

/// The error for "nothing stored", with the command that fixes it.
pub fn not_logged_in(profile: &str) -> anyhow::Error {
    Fail::error(
        exit::AUTH_REQUIRED,
        format!("not logged in (profile `{profile}`); run `workos-cli-auth login`"),
    )
}

/// Writes the token and a newline to stdout; a closed pipe (`| head -c0`) is not an error.
fn print(token: &SecretString) -> anyhow::Result<Exit> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{}", token.expose()).and_then(|()| out.flush()) {
        Ok(()) => Ok(exit::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(exit::SUCCESS),
        Err(e) => Err(e.into()),
    }
}
