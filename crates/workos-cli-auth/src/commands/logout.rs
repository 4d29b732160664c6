//! `workos-cli-auth logout`: forget the stored credentials and end the WorkOS session.
//!
//! A shipped CLI cannot revoke sessions with an API key, so ending the session means
//! opening WorkOS's logout URL (built from the token's `sid`) in the user's browser. For
//! the built-in emulator the CLI calls that URL itself. Local deletion always happens,
//! even when the server step fails, and the user is told what did and did not work.

use std::time::Duration;

use anyhow::Context as _;
use cli_auth::sanitize;
use cli_auth::store::StoredCredential;

use crate::cli::{GlobalArgs, LogoutArgs};
use crate::commands::connect::Connect;
use crate::commands::token::not_logged_in;
use crate::context::{Context, TOKEN_ENV, env_token};
use crate::exit::{self, Exit};
use crate::local;
use crate::terminal::{BrowserPlan, Surroundings, browser_plan};

/// Logs out of the selected profile, or of all of them with `--all`.
pub async fn run(global: &GlobalArgs, args: LogoutArgs) -> anyhow::Result<Exit> {
    let ctx = Context::open(global)?;
    if env_token().is_some() {
        eprintln!("Note: {TOKEN_ENV} is set; it stays in effect after this logout.");
    }
    let profiles = if args.all {
        ctx.store.profiles()?
    } else {
        vec![ctx.profile()?]
    };
    let connect = Connect::new(ctx.store.root().to_owned());
    let env = Surroundings::detect();
    let mut logged_out = 0;
    let mut failures = 0;
    for profile in &profiles {
        let Some(cred) = ctx.store.load_metadata(profile)? else {
            if !args.all {
                return Err(not_logged_in(profile));
            }
            continue;
        };
        let location = ctx.store.location(profile);
        ctx.store
            .delete(profile)
            .with_context(|| format!("could not delete the credentials of profile `{profile}`"))?;
        logged_out += 1;
        eprintln!("Removed the credentials of profile `{profile}` ({location}).");
        if let Err(err) = end_session(&cred, &connect, &args, &env).await {
            failures += 1;
            eprintln!(
                "Could not end the session on the server: {}",
                sanitize(&format!("{err:#}"), 500)
            );
        }
    }
    connect.shutdown().await;
    if logged_out == 0 {
        eprintln!("No stored credentials; nothing to do.");
    }
    Ok(if failures > 0 {
        exit::FAILURE
    } else {
        exit::SUCCESS
    })
}

/// Ends the server-side session of `cred`, if it recorded one.
async fn end_session(
    cred: &StoredCredential,
    connect: &Connect,
    args: &LogoutArgs,
    env: &Surroundings,
) -> anyhow::Result<()> {
    if cred.session_id.is_none() {
        eprintln!("The credential named no session; nothing to end on the server.");
        return Ok(());
    }
    // The embedded emulator's credential stores a placeholder base URL; ask the
    // connector for the live one.
    let mut live = cred.clone();
    live.api_base_url = connect.base_url(cred).await?;
    let Some(url) = cli_auth::session::logout_url(&live)? else {
        return Ok(());
    };
    if local::is_embedded(&cred.api_base_url) {
        // Our own offline server: end the session directly instead of a browser trip.
        let status = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?
            .get(url)
            .send()
            .await?
            .status();
        anyhow::ensure!(status.is_success(), "the emulator answered {status}");
        eprintln!("Ended the session on the built-in emulator.");
        return Ok(());
    }
    let shown = sanitize(url.as_str(), 500);
    match browser_plan(args.no_browser, env) {
        BrowserPlan::Open => {
            let target = url.to_string();
            let opened = tokio::task::spawn_blocking(move || webbrowser::open(&target)).await;
            if matches!(opened, Ok(Ok(()))) {
                eprintln!("Opened {shown} to end the WorkOS session in your browser.");
            } else {
                eprintln!("Open {shown} in your browser to end the WorkOS session.");
            }
        }
        BrowserPlan::Skip(_) => {
            eprintln!("To end the WorkOS session, open: {shown}");
        }
    }
    Ok(())
}
