//! `workos-cli-auth status`: who is logged in, per profile. Offline by default (the
//! profile files only, never the keychain or the network); `--check` refreshes when
//! needed and verifies the access token against the issuer's JWKS.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cli_auth::sanitize;
use cli_auth::session::Session;
use cli_auth::store::StoredCredential;
use serde_json::{Value, json};

use crate::cli::{GlobalArgs, StatusArgs};
use crate::commands::{block_on, connect::Connect};
use crate::context::{Context, TOKEN_ENV, env_token};
use crate::exit::{self, Exit};
use crate::local;
use crate::terminal::short_duration;

/// Longest stored string echoed back (they came from a server once).
const MAX_ECHO: usize = 200;

/// Reports every profile (or the one named with `--profile`); exit 4 when none exists.
pub fn run(global: &GlobalArgs, args: StatusArgs) -> anyhow::Result<Exit> {
    let ctx = Context::open(global)?;
    let default = ctx.store.default_profile()?;
    let names = match &ctx.explicit_profile {
        Some(name) => vec![name.clone()],
        None => ctx.store.profiles()?,
    };
    let mut reports = Vec::new();
    for name in &names {
        if let Some(cred) = ctx.store.load_metadata(name)? {
            let location = ctx.store.location(name);
            reports.push(Report {
                cred,
                location,
                check: None,
            });
        }
    }
    if args.check && !reports.is_empty() {
        check_all(&ctx, &mut reports)?;
    }
    let env_override = env_token().is_some();
    let now = unix_now();

    if args.json {
        let doc = json!({
            "logged_in": !reports.is_empty() || env_override,
            "env_override": env_override,
            "default_profile": default,
            "profiles": reports.iter().map(|r| r.json(&default, now)).collect::<Vec<_>>(),
        });
        println!("{}", crate::output::json_pretty(&doc));
    } else {
        if env_override {
            eprintln!(
                "{TOKEN_ENV} is set: `token` prints it, and the stored credentials below are not used."
            );
        }
        for r in &reports {
            r.print(&default, now);
        }
        if reports.is_empty() && !env_override {
            eprintln!("Not logged in. Run `workos-cli-auth login`.");
        }
    }
    let failed_check = reports.iter().any(|r| matches!(r.check, Some(Err(_))));
    Ok(if reports.is_empty() && !env_override {
        exit::AUTH_REQUIRED
    } else if failed_check {
        exit::FAILURE
    } else {
        exit::SUCCESS
    })
}

struct Report {
    cred: StoredCredential,
    location: String,
    /// `--check`: the verified subject, or why verification failed (sanitized).
    check: Option<Result<String, String>>,
}

impl Report {
    fn server(&self) -> String {
        if local::is_embedded(&self.cred.api_base_url) {
            "the built-in emulator".to_owned()
        } else {
            sanitize(&self.cred.api_base_url, MAX_ECHO)
        }
    }

    fn who(&self) -> String {
        let id = sanitize(&self.cred.user_id, MAX_ECHO);
        match &self.cred.email {
            Some(email) => format!("{} ({id})", sanitize(email, MAX_ECHO)),
            None => id,
        }
    }

    fn print(&self, default: &str, now: u64) {
        let c = &self.cred;
        let marker = if c.profile == default {
            " (default)"
        } else {
            ""
        };
        println!("{}{marker}", sanitize(&c.profile, MAX_ECHO));
        println!("  Logged in to {} as {}", self.server(), self.who());
        if let Some(org) = &c.organization_id {
            println!("  Organization: {}", sanitize(org, MAX_ECHO));
        }
        println!("  Client ID:    {}", sanitize(&c.client_id, MAX_ECHO));
        println!(
            "  Access token: {}",
            expiry_text(c.access_token_expires_at, now)
        );
        println!("  Stored in:    {}", self.location);
        match &self.check {
            Some(Ok(sub)) => println!("  Check:        ok, signature verified for {sub}"),
            Some(Err(why)) => println!("  Check:        FAILED: {why}"),
            None => {}
        }
    }

    fn json(&self, default: &str, now: u64) -> Value {
        let c = &self.cred;
        let mut doc = json!({
            "profile": c.profile,
            "default": c.profile == default,
            "api_base_url": c.api_base_url,
            "emulator": local::is_embedded(&c.api_base_url),
            "client_id": c.client_id,
            "user": { "id": c.user_id, "email": c.email },
            "organization_id": c.organization_id,
            "session_id": c.session_id,
            "access_token_expires_at": c.access_token_expires_at,
            "access_token_valid": c.access_token_expires_at.is_some_and(|exp| exp > now),
            "store": c.store.as_str(),
            "location": self.location,
        });
        if let Some(check) = &self.check {
            doc["check"] = match check {
                Ok(sub) => json!({ "ok": true, "sub": sub }),
                Err(why) => json!({ "ok": false, "error": why }),
            };
        }
        doc
    }
}

/// `--check`: a valid token per profile (refreshing under the lock if needed), then a
/// signature check against the issuer's JWKS.
fn check_all(ctx: &Context, reports: &mut [Report]) -> anyhow::Result<()> {
    let root = ctx.store.root().to_owned();
    let kind = ctx.store.kind();
    let profiles: Vec<String> = reports.iter().map(|r| r.cred.profile.clone()).collect();
    let results = block_on(async move {
        let connect = Connect::new(root.clone());
        let mut out = Vec::new();
        for profile in profiles {
            let store = cli_auth::store::CredentialStore::open(root.clone(), kind);
            let session = Session::new(store, profile);
            out.push(session.verify(&connect).await);
        }
        connect.shutdown().await;
        out
    })?;
    for (report, result) in reports.iter_mut().zip(results) {
        report.check = Some(
            result
                .map(|claims| sanitize(&claims.sub, MAX_ECHO))
                .map_err(|e| e.to_string()),
        );
    }
    Ok(())
}

fn expiry_text(expires_at: Option<u64>, now: u64) -> String {
    match expires_at {
        None => "none stored (refreshed on next use)".to_owned(),
        Some(exp) if exp > now => format!(
            "valid for {} (until {})",
            short_duration(Duration::from_secs(exp - now)),
            rfc3339(exp)
        ),
        Some(exp) => format!(
            "expired {} ago (refreshed on next use)",
            short_duration(Duration::from_secs(now - exp))
        ),
    }
}

fn rfc3339(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
