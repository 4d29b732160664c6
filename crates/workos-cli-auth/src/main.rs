//! `workos-cli-auth`: log in to WorkOS (or the built-in offline emulator) from a terminal.
//!
//! `main` only parses the command line, sets up logging, runs the command and maps the
//! outcome to an exit code; everything else lives in `commands/`.

mod cli;
mod commands;
mod exit;
mod prompt;
mod terminal;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    terminal::init_tracing(cli.global.verbose, cli.global.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("workos-cli-auth: cannot start the async runtime: {err}");
            return exit::FAILURE.into();
        }
    };
    let outcome = runtime.block_on(commands::run(cli));
    match outcome {
        Ok(code) => code.into(),
        Err(err) => {
            eprintln!("workos-cli-auth: {}", exit::render_chain(&err));
            exit::code_for(&err).into()
        }
    }
}
