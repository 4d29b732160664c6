//! `workos-cli-auth emulator`: serve the local WorkOS-compatible emulator until Ctrl-C or
//! SIGTERM, for other tools, SDKs and CI jobs to log in against.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use workos_emulator::{Emulator, EmulatorConfig};

use crate::cli::GlobalArgs;
use crate::exit::{self, Exit};

/// `emulator` options.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 4100)]
    pub port: u16,

    /// Address to listen on. Keep it on loopback unless you know why not.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// TOML file with users, organizations, clients and timings.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The `iss` claim of issued access tokens.
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,

    /// Lifetime of a device code, in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub expires_in: Option<u64>,

    /// Minimum polling interval handed to clients, in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub interval: Option<u64>,

    /// Lifetime of issued access tokens, in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub access_token_ttl: Option<u64>,
}

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
