//! `workos-cli-auth login`: the device authorization flow (RFC 8628) from a terminal.
//!
//! With a client ID it talks to WorkOS; without one it starts the emulator in this
//! process on an ephemeral loopback port, so a newcomer's first command works offline.
//! On success the credentials are saved in the selected profile (`local` for the
//! built-in emulator); nothing is saved when the login fails or is cancelled.

use anyhow::Context as _;
use cli_auth::store::{self, CredentialStore, Saved, StoredCredential};
use cli_auth::{AuthenticationResponse, Client, PollOptions, sanitize};
use serde_json::json;
use workos_emulator::RunningEmulator;

use crate::cli::{GlobalArgs, LoginArgs};
use crate::context::{Context, TOKEN_ENV, env_token};
use crate::exit::{self, Exit, Fail};
use crate::local;
use crate::prompt::Prompt;
use crate::terminal::{BrowserPlan, Surroundings, browser_plan, want_qr};

/// Where the login goes: WorkOS, or an emulator this process runs for the occasion.
struct Target {
    client_id: String,
    base_url: String,
    /// The profile the credentials are saved in.
    profile: String,
    /// Keeps the embedded emulator serving until the login is over.
    embedded: Option<RunningEmulator>,
}

impl Target {
    async fn resolve(global: &GlobalArgs, ctx: &Context, prompt: &Prompt) -> anyhow::Result<Self> {
        if let Some(client_id) = &global.client_id {
            return Ok(Self {
                client_id: client_id.clone(),
                base_url: global.api_base_url.clone(),
                profile: ctx.profile()?,
                embedded: None,
            });
        }
        let emulator = local::start(ctx.store.root()).await?;
        prompt.note(&format!(
            "No WorkOS client configured: using the built-in offline emulator at {} \
             (to log in to WorkOS, pass --client-id or set WORKOS_CLIENT_ID).",
            emulator.url()
        ));
        Ok(Self {
            client_id: local::CLIENT_ID.to_owned(),
            base_url: emulator.url().to_owned(),
            profile: ctx
                .explicit_profile
                .clone()
                .unwrap_or_else(|| store::LOCAL_PROFILE.to_owned()),
            embedded: Some(emulator),
        })
    }

    /// The base URL recorded with the credentials: the embedded emulator's port changes
    /// every run, so it is stored as a placeholder the CLI knows how to bring back.
    fn stored_base_url(&self) -> &str {
        if self.embedded.is_some() {
            local::BASE_URL
        } else {
            &self.base_url
        }
    }
}

/// Runs one login, saves the credentials and reports who signed in.
pub async fn run(global: &GlobalArgs, args: LoginArgs) -> anyhow::Result<Exit> {
    let env = Surroundings::detect();
    let prompt = Prompt::new(env.clone(), global.quiet || args.json);
    let ctx = Context::open(global)?;
    if env_token().is_some() {
        prompt.note(&format!(
            "Note: {TOKEN_ENV} is set, so `token` keeps printing it instead of this login."
        ));
    }
    let target = Target::resolve(global, &ctx, &prompt).await?;
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
            return Err(Fail::error(exit::INTERRUPTED, "login cancelled; nothing was saved"));
        }
    };
    waiting.finish();
    let resp = outcome.context("login failed")?;

    let cred = cli_auth::session::credential_from_response(
        &resp,
        &target.profile,
        &target.client_id,
        target.stored_base_url(),
    )?;
    let saved = save(ctx.store, cred, args.force).await?;
    if let Some(notice) = &saved.fallback {
        eprintln!("Warning: {notice}");
    }
    if args.json {
        let mut doc = result_json(&resp, &target, args.show_tokens);
        doc["profile"] = json!(target.profile);
        doc["stored_in"] = json!(saved.location);
        println!("{}", crate::output::json(&doc));
    } else {
        prompt.success(&resp);
        prompt.note(&format!(
            "Saved in profile `{}` ({}).",
            target.profile,
            sanitize(&saved.location, 300)
        ));
    }
    if let Some(emulator) = target.embedded {
        emulator.shutdown().await;
    }
    Ok(exit::SUCCESS)
}

/// Saves under the profile lock. Refuses to replace another user's login in the same
/// profile unless `force`, and makes the profile the default when the default has no
/// login yet (so a first `login` followed by `token` just works).
async fn save(
    store: CredentialStore,
    cred: StoredCredential,
    force: bool,
) -> anyhow::Result<Saved> {
    tokio::task::spawn_blocking(move || -> anyhow::Result<Saved> {
        let _lock = store.lock(&cred.profile)?;
        if let Some(existing) = store.load_metadata(&cred.profile)?
            && existing.user_id != cred.user_id
            && !force
        {
            let who = sanitize(existing.email.as_deref().unwrap_or(&existing.user_id), 200);
            return Err(Fail::error(
                exit::FAILURE,
                format!(
                    "profile `{}` holds the login of {who}; nothing was saved. \
                     Use --force to replace it, or --profile NAME to keep both",
                    cred.profile
                ),
            ));
        }
        let saved = store.save(&cred)?;
        let default = store.default_profile()?;
        if default != cred.profile && store.load_metadata(&default)?.is_none() {
            store.set_default_profile(&cred.profile)?;
        }
        Ok(saved)
    })
    .await
    .context("the credential writer stopped unexpectedly")?
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
