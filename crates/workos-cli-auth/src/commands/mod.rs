//! One module per command; [`run`] dispatches the parsed command line to it.

pub mod emulator;
mod login;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

/// Runs the chosen command and returns the exit status it asks for.
pub async fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Login(args) => login::run(&cli.global, args).await,
        Command::Emulator(args) => emulator::run(&cli.global, args).await,
    }
}
