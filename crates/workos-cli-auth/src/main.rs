//! `workos-cli-auth`: log in to WorkOS (or the built-in offline emulator) from a terminal.
//!
//! `main` only parses the command line, sets up logging, runs the command and maps the
//! outcome to an exit code; everything else lives in `commands/`. No async runtime is
//! started here: `token` answers from one file read when it can, and only commands that
//! need the network start one.

mod cli;
mod commands;
mod context;
mod exit;
mod local;
mod output;
mod prompt;
mod terminal;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let emulator_json = matches!(&cli.command, cli::Command::Emulator(args) if args.json);
    let is_emulator = matches!(&cli.command, cli::Command::Emulator(_));
    terminal::init_tracing(
        cli.global.verbose,
        cli.global.quiet,
        is_emulator,
        emulator_json,
    );
    match commands::run(cli) {
        Ok(code) => code.into(),
        Err(err) => {
            eprintln!("workos-cli-auth: {}", exit::render_chain(&err));
            exit::code_for(&err).into()
        }
    }
}
