//! `workos-cli-auth emulator`: serve the local WorkOS-compatible emulator until Ctrl-C or
//! SIGTERM, for other tools, SDKs and CI jobs to log in against.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use workos_emulator::{Emulator, EmulatorConfig, Fault};

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

    /// RSA private key (PKCS#8 or PKCS#1 PEM) to sign tokens with, for a stable `kid`.
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,

    /// Keep the signing key and sessions in this directory (created 0700), so refresh
    /// tokens survive a restart. Without it everything lives in memory.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Base URL put in `verification_uri` and the default issuer, when clients reach the
    /// emulator through another address (a container port mapping, a proxy).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,

    /// Approve every device authorization at once as this seeded user, for CI where
    /// nobody clicks. The first poll after the interval gets tokens.
    #[arg(long, value_name = "EMAIL")]
    pub auto_approve: Option<String>,

    /// Inject a fault, ENDPOINT:ACTION[xN]; repeat for more. Endpoints: authorize,
    /// authenticate, jwks, revoke. Actions: a 4xx/5xx status (`500x2`), with
    /// `:retry-after=S` (`429:retry-after=3`), `slow_down` (`slow_down x3`), `delay=2s`.
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<Fault>,

    /// Serve the test-only admin endpoints (POST/GET/DELETE /__emulator/faults,
    /// POST /__emulator/approve) to loopback clients.
    #[arg(long)]
    pub admin: bool,

    /// Log one JSON object per line (method, path, status, request_id, grant_type,
    /// latency_ms) instead of text. Never logs codes or tokens. (`main` reads this
    /// flag when it installs the log subscriber, before the command runs.)
    #[arg(long)]
    pub json: bool,
}

/// Starts the emulator with the flags applied over the config file, prints where it
/// listens, and waits for a shutdown signal.
pub async fn run(global: &GlobalArgs, args: EmulatorArgs) -> anyhow::Result<Exit> {
    let notes = startup_notes(&args);
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
    if let Some(path) = &args.signing_key {
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the signing key {}", path.display()))?;
        builder = builder.signing_key_pem(pem);
    }
    if let Some(dir) = args.state_dir {
        builder = builder.state_dir(dir);
    }
    if let Some(url) = args.public_url {
        builder = builder.public_url(url);
    }
    if let Some(email) = args.auto_approve {
        builder = builder.auto_approve(email);
    }
    for fault in args.faults {
        builder = builder.fault(fault);
    }
    if args.admin {
        builder = builder.admin(true);
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
        for note in notes {
            eprintln!("  {note}");
        }
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

/// One line per non-default behaviour, so nobody mistakes a faulty or
/// self-approving emulator for a faithful one.
fn startup_notes(args: &EmulatorArgs) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(dir) = &args.state_dir {
        notes.push(format!("state kept in {}", dir.display()));
    }
    if let Some(email) = &args.auto_approve {
        notes.push(format!("auto-approving every sign-in as {email}"));
    }
    for fault in &args.faults {
        notes.push(format!("fault queued: {fault}"));
    }
    if args.admin {
        notes.push(
            "admin endpoints on (loopback only): /__emulator/faults, /__emulator/approve".into(),
        );
    }
    notes
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
