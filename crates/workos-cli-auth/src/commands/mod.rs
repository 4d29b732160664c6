//! One module per command; [`run`] dispatches the parsed command line to it.

mod connect;
pub mod emulator;
mod login;
mod logout;
mod profiles;
mod status;
mod token;

use std::future::Future;

use anyhow::Context;

use crate::cli::{Cli, Command};
use crate::exit::{Exit, Fail};

/// Runs the chosen command and returns the exit status it asks for.
pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    let global = &cli.global;
    match cli.command {
        Command::Login(args) => block_on(login::run(global, args))?,
        Command::Status(args) => status::run(global, args),
        Command::Token(args) => token::run(global, args),
        Command::Logout(args) => block_on(logout::run(global, args))?,
        Command::Profiles(args) => profiles::run(global, args),
        Command::Emulator(args) => serve(emulator::run(global, *args))?,
    }
}

/// Runs a client command's future on a small runtime (two workers are plenty for a
/// handful of requests). Commands call this only once they know they need the network,
/// so the `token` fast path never pays for a runtime.
pub fn block_on<F: Future>(future: F) -> anyhow::Result<F::Output> {
    run_on(
        tokio::runtime::Builder::new_multi_thread().worker_threads(2),
        future,
    )
}

/// Runs the emulator server with one worker per available core (tokio's default): more
/// workers than cores only adds context switches to the request path.
fn serve<F: Future>(future: F) -> anyhow::Result<F::Output> {
    run_on(&mut tokio::runtime::Builder::new_multi_thread(), future)
}

fn run_on<F: Future>(
    builder: &mut tokio::runtime::Builder,
    future: F,
) -> anyhow::Result<F::Output> {
    let runtime = builder
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    Ok(runtime.block_on(future))
}

/// Maps a library error from a refresh to the CLI's wording: a session that has ended
/// or a missing login asks for `login` with exit code 4; anything else passes through.
pub fn auth_failure(err: cli_auth::Error, profile: &str) -> anyhow::Error {
    match err.kind() {
        cli_auth::ErrorKind::NotLoggedIn | cli_auth::ErrorKind::SessionEnded => Fail::error(
            crate::exit::AUTH_REQUIRED,
            format!("{err}; run `workos-cli-auth login --profile {profile}`"),
        ),
        _ => anyhow::Error::new(err),
    }
}
