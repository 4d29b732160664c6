//! `workos-cli-auth profiles`: list credential profiles, or choose the default one.

use cli_auth::sanitize;
use serde_json::json;

use crate::cli::{GlobalArgs, ProfilesAction, ProfilesArgs};
use crate::context::Context;
use crate::exit::{self, Exit};
use crate::local;

/// Lists profiles (the default marked `*`), or sets the default with `use NAME`.
pub fn run(global: &GlobalArgs, args: ProfilesArgs) -> anyhow::Result<Exit> {
    let ctx = Context::open(global)?;
    match args.action {
        Some(ProfilesAction::Use { name }) => {
            cli_auth::store::validate_profile_name(&name)?;
            ctx.store.set_default_profile(&name)?;
            if ctx.store.load_metadata(&name)?.is_none() {
                eprintln!(
                    "Default profile is now `{name}` (not logged in yet: run `workos-cli-auth login`)."
                );
            } else {
                eprintln!("Default profile is now `{name}`.");
            }
            Ok(exit::SUCCESS)
        }
        Some(ProfilesAction::List { json }) => list(&ctx, json),
        None => list(&ctx, false),
    }
}

fn list(ctx: &Context, as_json: bool) -> anyhow::Result<Exit> {
    let default = ctx.store.default_profile()?;
    let mut rows = Vec::new();
    for name in ctx.store.profiles()? {
        if let Some(cred) = ctx.store.load_metadata(&name)? {
            rows.push(cred);
        }
    }
    if as_json {
        let doc = json!({
            "default_profile": default,
            "profiles": rows.iter().map(|c| json!({
                "profile": c.profile,
                "default": c.profile == default,
                "email": c.email,
                "user_id": c.user_id,
                "api_base_url": c.api_base_url,
            })).collect::<Vec<_>>(),
        });
        println!("{}", crate::output::json_pretty(&doc));
        return Ok(exit::SUCCESS);
    }
    if rows.is_empty() {
        eprintln!("No profiles yet. Run `workos-cli-auth login`.");
        return Ok(exit::SUCCESS);
    }
    for c in &rows {
        let mark = if c.profile == default { "*" } else { " " };
        let server = if local::is_embedded(&c.api_base_url) {
            "built-in emulator".to_owned()
        } else {
            sanitize(&c.api_base_url, 200)
        };
        let who = sanitize(c.email.as_deref().unwrap_or(&c.user_id), 200);
        println!("{mark} {:<12} {who}  ({server})", c.profile);
    }
    Ok(exit::SUCCESS)
}
