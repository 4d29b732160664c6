//! `workos-cli-auth emulator`: serve the local WorkOS-compatible emulator until Ctrl-C or
//! SIGTERM, for other tools, SDKs and CI jobs to log in against.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use workos_emulator::{Emulator, EmulatorConfig};

use crate::cli::{EmulatorArgs, GlobalArgs};
use crate::exit::{self, Exit};

/// Starts the emulator with the flags applied over the config file, prints where it
/// listens, and waits for a shutdown signal.
pub async fn run(global: &GlobalArgs, args: EmulatorArgs) -> anyhow::Result<Exit> {
    let config = match &args.config {
        Some(path) => EmulatorConfig::from_toml_file(path)
            .with_context(|| format!("cannot load emulator config {}", path.display()))?,
        None => EmulatorConfig::default(),
    };
    let mut builder = Emulator::builder()
        .config(config)
        .bind(SocketAddr::new(args.host, args.port));
    if let Some(issuer) = args.issuer {
        builder = builder.issuer(issuer);
    }
    if let Some(secs) = args.expires_in {
        builder = builder.expires_in(Duration::from_secs(secs));
    }
    if let Some(secs) = args.interval {
        builder = builder.interval(Duration::from_secs(secs));
    }
    if let Some(secs) = args.access_token_ttl {
        builder = builder.access_token_ttl(Duration::from_secs(secs));
    }
    let running = builder
        .spawn()
        .await
        .with_context(|| format!("cannot start the emulator on {}:{}", args.host, args.port))?;
    if !global.quiet {
        eprintln!("WorkOS emulator listening on {}", running.url());
        eprintln!("  verification page: {}/device", running.url());
        eprintln!(
            "  try it: WORKOS_CLIENT_ID=client_local WORKOS_API_BASE_URL={} workos-cli-auth login",
            running.url()
        );
        eprintln!("Press Ctrl-C to stop.");
    }
    // The URL alone on stdout lets scripts start us in the background and read it.
    println!("{}", running.url());
    shutdown_signal().await;
    if !global.quiet {
        eprintln!("Stopping the emulator.");
    }
    running.shutdown().await;
    Ok(exit::SUCCESS)
}

/// Completes on Ctrl-C, or on SIGTERM where there is one (service managers, `docker stop`).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
