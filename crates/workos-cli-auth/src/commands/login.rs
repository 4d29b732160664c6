//! `workos-cli-auth login`: the device authorization flow (RFC 8628) from a terminal.
//!
//! With a client ID it talks to WorkOS; without one it starts the emulator in this
//! process on an ephemeral loopback port, so a newcomer's first command works offline.

use anyhow::Context;
use cli_auth::{AuthenticationResponse, Client, PollOptions};
use serde_json::json;
use workos_emulator::{Emulator, RunningEmulator};

use crate::cli::{GlobalArgs, LoginArgs};
use crate::exit::{self, Exit, Fail};
use crate::prompt::Prompt;
use crate::terminal::{BrowserPlan, Surroundings, browser_plan, want_qr};

/// The client ID the embedded emulator knows this CLI by.
pub const LOCAL_CLIENT_ID: &str = "client_workos_cli_auth_local";

/// Where the login goes: WorkOS, or an emulator this process runs for the occasion.
struct Target {
    client_id: String,
    base_url: String,
    /// Keeps the embedded emulator serving until the login is over.
    embedded: Option<RunningEmulator>,
}

impl Target {
    async fn resolve(global: &GlobalArgs, prompt: &Prompt) -> anyhow::Result<Self> {
        if let Some(client_id) = &global.client_id {
            return Ok(Self {
                client_id: client_id.clone(),
                base_url: global.api_base_url.clone(),
                embedded: None,
            });
        }
        let emulator = Emulator::builder()
            .spawn()
            .await
            .context("cannot start the built-in emulator")?;
        prompt.note(&format!(
            "No WorkOS client configured: using the built-in offline emulator at {} \
             (to log in to WorkOS, pass --client-id or set WORKOS_CLIENT_ID).",
            emulator.url()
        ));
        Ok(Self {
            client_id: LOCAL_CLIENT_ID.to_owned(),
            base_url: emulator.url().to_owned(),
            embedded: Some(emulator),
        })
    }
}

/// Runs one login and reports who signed in.
pub async fn run(global: &GlobalArgs, args: LoginArgs) -> anyhow::Result<Exit> {
    let env = Surroundings::detect();
    let prompt = Prompt::new(env.clone(), global.quiet || args.json);
    let target = Target::resolve(global, &prompt).await?;
    let client = Client::builder()
        .client_id(target.client_id.clone())
        .base_url(target.base_url.clone())
        .try_build()
        .context("invalid client configuration")?;

    let data = client
        .user_management()
        .authorize_device()
        .await
        .context("could not start the login")?;

    prompt.show_code(&data, want_qr(args.qr, &env));
    match browser_plan(args.no_browser, &env) {
        BrowserPlan::Open => {
            let url = data.verification_uri_complete.clone();
            // `webbrowser` runs the browser by argv, never through a shell. It can
            // "succeed" with nothing on screen, which is why the URL is always printed.
            let opened = tokio::task::spawn_blocking(move || open_browser(&url)).await;
            match opened {
                Ok(Ok(())) => prompt.note("Opened the verification page in your browser."),
                _ => prompt.note("Could not open a browser; open the URL above yourself."),
            }
        }
        BrowserPlan::Skip(why) => prompt.note(&format!("Not opening a browser: {why}.")),
    }

    let waiting = prompt.waiting(data.expires_in);
    let options = PollOptions::new().on_event(waiting.observer());
    let users = client.user_management();
    let poll = users.poll_device_code(&data.device_code, data.expires_in, data.interval, &options);
    let outcome = tokio::select! {
        outcome = poll => outcome,
        _ = tokio::signal::ctrl_c() => {
            waiting.finish();
            return Err(Fail::new(exit::INTERRUPTED, "login cancelled; nothing was saved"));
        }
    };
    waiting.finish();
    let resp = outcome.context("login failed")?;

    if args.json {
        println!("{}", result_json(&resp, &target, args.show_tokens));
    } else {
        prompt.success(&resp);
        prompt.note("Tokens are not saved yet: each run of `login` signs in afresh.");
    }
    drop(target.embedded);
    Ok(exit::SUCCESS)
}

fn open_browser(url: &str) -> std::io::Result<()> {
    let options = webbrowser::BrowserOptions::new()
        .with_suppress_output(true)
        .clone();
    webbrowser::open_browser_with_options(webbrowser::Browser::Default, url, &options)
}

/// The `--json` document. Field names are a stable interface; tokens appear only when
/// explicitly requested.
fn result_json(
    resp: &AuthenticationResponse,
    target: &Target,
    show_tokens: bool,
) -> serde_json::Value {
    let user = &resp.user;
    let mut doc = json!({
        "status": "logged_in",
        "user": {
            "id": user.id,
            "email": user.email,
            "email_verified": user.email_verified,
            "first_name": user.first_name,
            "last_name": user.last_name,
        },
        "organization_id": resp.organization_id,
        "authentication_method": resp.authentication_method.as_ref().map(|m| m.as_str().to_owned()),
        "client_id": target.client_id,
        "api_base_url": target.base_url,
        "emulator": target.embedded.is_some(),
    });
    if show_tokens {
        doc["access_token"] = json!(resp.access_token.expose());
        doc["refresh_token"] = json!(resp.refresh_token.expose());
    }
    doc
}
