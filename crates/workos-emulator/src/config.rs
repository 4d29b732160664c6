//! The emulator's configuration: seeded users and organizations, the client
//! allow-list, lifetimes, the issuer and the signing key. Defaults match
//! WorkOS (codes live 300 s, clients poll every 5 s, access tokens live 300 s).
//!
//! # The configuration file
//!
//! [`EmulatorConfig::from_toml_file`] reads TOML. Every key is optional;
//! durations are whole seconds. Unknown keys are rejected so typos surface.
//!
//! ```toml
//! # Base URL placed in verification_uri (default: http://<bound address>).
//! public_url = "http://127.0.0.1:8787"
//! # `iss` claim of access tokens (default: "<public_url>/").
//! issuer = "https://api.workos.com/"
//! expires_in = 300          # device/user code lifetime
//! interval = 5              # minimum seconds between polls
//! access_token_ttl = 300    # access token lifetime (`exp - iat`)
//! # PKCS#8 ("PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY") RSA key, at least
//! # 2048 bits, relative to this file. Keeps `kid` and the JWKS stable.
//! signing_key_pem = "emulator-key.pem"
//! # Allowed client ids. Empty or absent: any non-empty client id works.
//! clients = ["client_01EXAMPLE"]
//! max_authorizations_per_minute = 300   # per client; beyond it 429
//! max_grants = 10000        # device authorizations remembered at most; beyond it 429
//! # Keep the signing key and sessions here across restarts (0700, relative
//! # to this file). Absent: everything lives in memory only.
//! state_dir = ".emulator-state"
//! # Approve every device authorization at once as this seeded user, for CI
//! # where nobody clicks. The first poll after `interval` gets tokens.
//! auto_approve = "ada@example.com"
//! # Faults to inject from the start (syntax in `Fault`), and whether the
//! # test-only admin endpoint POST /__emulator/faults is served (loopback only).
//! faults = ["authenticate:slow_down x2", "authenticate:500"]
//! admin = false
//!
//! [[organizations]]
//! id = "org_01EXAMPLE"
//! name = "Example Org"
//!
//! [[users]]
//! email = "ada@example.com"          # required, unique
//! id = "user_01ADA"                  # optional; default derived from the email
//! first_name = "Ada"
//! last_name = "Lovelace"
//! email_verified = true              # default true
//! memberships = [
//!   { organization_id = "org_01EXAMPLE", role = "admin", permissions = ["widgets:write"] },
//! ]
//! ```
//!
//! With no `[[users]]` the built-in demo user ([`DEMO_USER_EMAIL`], a
//! `member` of [`DEMO_ORG_NAME`]) is seeded, so an empty file is valid.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::EmulatorError;
use crate::faults::Fault;

/// Email of the built-in demo user.
pub const DEMO_USER_EMAIL: &str = "demo@example.com";
/// Id of the built-in demo user.
pub const DEMO_USER_ID: &str = "user_01JDEM0VSER000000000000000";
/// Id of the built-in demo organization.
pub const DEMO_ORG_ID: &str = "org_01JDEM00RG0000000000000000";
/// Name of the built-in demo organization.
pub const DEMO_ORG_NAME: &str = "Example Org";

/// Everything that can be configured. `Default` is the demo configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatorConfig {
    /// Base URL for `verification_uri` and the default issuer, without a
    /// trailing slash. `None`: `http://` + the bound address.
    pub public_url: Option<String>,
    /// The `iss` claim. `None`: the public base URL followed by `/`.
    pub issuer: Option<String>,
    /// Lifetime of device and user codes (`expires_in`), default 300 s.
    pub expires_in: Duration,
    /// Minimum time between polls (`interval`), default 5 s, at least 1 s.
    pub interval: Duration,
    /// Access-token lifetime, default 300 s.
    pub access_token_ttl: Duration,
    /// PEM text of the RSA signing key. `None`: a fresh RSA-2048 key.
    pub signing_key_pem: Option<String>,
    /// Allowed client ids; empty means any non-empty client id is accepted.
    pub clients: Vec<String>,
    /// Seeded organizations.
    pub organizations: Vec<OrganizationConfig>,
    /// Seeded users; the verification page offers exactly these.
    pub users: Vec<UserConfig>,
    /// Device authorizations allowed per client per minute (flood guard).
    pub max_authorizations_per_minute: u32,
    /// Device authorizations remembered at most (live, decided, or recently
    /// expired), whatever the per-client budget: beyond it, starting one
    /// answers 429. Bounds memory; default 10,000.
    pub max_grants: usize,
    /// Directory that keeps the signing key and the sessions across
    /// restarts and between processes. `None`: memory only. An explicit
    /// [`EmulatorConfig::signing_key_pem`] wins over the stored key.
    pub state_dir: Option<PathBuf>,
    /// Approve every device authorization at creation as the seeded user
    /// with this email (unattended CI). `None`: a person decides.
    pub auto_approve: Option<String>,
    /// Faults queued at start (see [`Fault`]).
    pub faults: Vec<Fault>,
    /// Serve the test-only admin endpoints under `/__emulator/` (loopback
    /// peers only). Off by default.
    pub admin: bool,
}

/// A seeded organization.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationConfig {
    /// Its id, e.g. `org_01…`.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A seeded user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// Its id; `None` derives a stable `user_01…` id from the email.
    #[serde(default)]
    pub id: Option<String>,
    /// Email address (unique, compared case-insensitively).
    pub email: String,
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// The `email_verified` flag, default true.
    #[serde(default = "default_true")]
    pub email_verified: bool,
    /// Organization memberships. With exactly one, sessions are in that
    /// organization; with several, the user must choose one (the verification
    /// page offers them; the WorkOS token endpoint answers
    /// `organization_selection_required` when none was chosen).
    #[serde(default)]
    pub memberships: Vec<MembershipConfig>,
}

/// Membership of a user in an organization.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipConfig {
    /// Id of a configured organization.
    pub organization_id: String,
    /// The `role` claim, default `member`.
    #[serde(default = "default_role")]
    pub role: String,
    /// The `permissions` claim, default empty.
    #[serde(default)]
    pub permissions: Vec<String>,
}

fn default_true() -> bool {
    true
}

fn default_role() -> String {
    "member".to_owned()
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            public_url: None,
            issuer: None,
            expires_in: Duration::from_secs(300),
            interval: Duration::from_secs(5),
            access_token_ttl: Duration::from_secs(300),
            signing_key_pem: None,
            clients: Vec::new(),
            organizations: vec![demo_org()],
            users: vec![demo_user()],
            max_authorizations_per_minute: 300,
            max_grants: crate::state::MAX_GRANTS,
            state_dir: None,
            auto_approve: None,
            faults: Vec::new(),
            admin: false,
        }
    }
}

fn demo_org() -> OrganizationConfig {
    OrganizationConfig {
        id: DEMO_ORG_ID.to_owned(),
        name: DEMO_ORG_NAME.to_owned(),
    }
}

fn demo_user() -> UserConfig {
    UserConfig {
        id: Some(DEMO_USER_ID.to_owned()),
        email: DEMO_USER_EMAIL.to_owned(),
        first_name: Some("Demo".to_owned()),
        last_name: Some("User".to_owned()),
        email_verified: true,
        memberships: vec![MembershipConfig {
            organization_id: DEMO_ORG_ID.to_owned(),
            role: default_role(),
            permissions: Vec::new(),
        }],
    }
}

/// The file as written; converted into [`EmulatorConfig`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    public_url: Option<String>,
    issuer: Option<String>,
    expires_in: Option<u64>,
    interval: Option<u64>,
    access_token_ttl: Option<u64>,
    signing_key_pem: Option<PathBuf>,
    #[serde(default)]
    clients: Vec<String>,
    #[serde(default)]
    organizations: Vec<OrganizationConfig>,
    #[serde(default)]
    users: Vec<UserConfig>,
    max_authorizations_per_minute: Option<u32>,
    max_grants: Option<usize>,
    state_dir: Option<PathBuf>,
    auto_approve: Option<String>,
    #[serde(default)]
    faults: Vec<String>,
    #[serde(default)]
    admin: bool,
}

impl EmulatorConfig {
    /// Reads and validates a TOML configuration file (format in the module
    /// docs). Relative `signing_key_pem` and `state_dir` paths are resolved
    /// against the file's directory; the key is read now.
    pub fn from_toml_file(path: &Path) -> Result<Self, EmulatorError> {
        let text = std::fs::read_to_string(path).map_err(|source| EmulatorError::ConfigRead {
            path: path.to_owned(),
            source,
        })?;
        let file: ConfigFile = basic_toml::from_str(&text)
            .map_err(|e| EmulatorError::Config(format!("cannot parse {}: {e}", path.display())))?;
        let defaults = Self::default();
        let base_dir = path.parent().unwrap_or(Path::new("."));
        let signing_key_pem = match file.signing_key_pem {
            None => None,
            Some(key_path) => {
                let key_path = base_dir.join(key_path);
                Some(std::fs::read_to_string(&key_path).map_err(|source| {
                    EmulatorError::ConfigRead {
                        path: key_path,
                        source,
                    }
                })?)
            }
        };
        let (organizations, users) = if file.users.is_empty() {
            let mut orgs = file.organizations;
            if !orgs.iter().any(|o| o.id == DEMO_ORG_ID) {
                orgs.push(demo_org());
            }
            (orgs, vec![demo_user()])
        } else {
            (file.organizations, file.users)
        };
        let config = Self {
            public_url: file.public_url,
            issuer: file.issuer,
            expires_in: file
                .expires_in
                .map_or(defaults.expires_in, Duration::from_secs),
            interval: file.interval.map_or(defaults.interval, Duration::from_secs),
            access_token_ttl: file
                .access_token_ttl
                .map_or(defaults.access_token_ttl, Duration::from_secs),
            signing_key_pem,
            clients: file.clients,
            organizations,
            users,
            max_authorizations_per_minute: file
                .max_authorizations_per_minute
                .unwrap_or(defaults.max_authorizations_per_minute),
            max_grants: file.max_grants.unwrap_or(defaults.max_grants),
            state_dir: file.state_dir.map(|dir| base_dir.join(dir)),
            auto_approve: file.auto_approve,
            faults: file
                .faults
                .iter()
                .map(|spec| spec.parse())
                .collect::<Result<_, _>>()?,
            admin: file.admin,
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks the invariants the server relies on: positive lifetimes, an
    /// interval of at least one second, room for at least one grant, unique emails, memberships that name
    /// configured organizations, and at least one user.
    pub fn validate(&self) -> Result<(), EmulatorError> {
        let bad = |m: String| Err(EmulatorError::Config(m));
        if self.expires_in.as_secs() == 0 || self.access_token_ttl.as_secs() == 0 {
            return bad("expires_in and access_token_ttl must be at least 1 second".into());
        }
        if self.interval < Duration::from_secs(1) {
            return bad(format!(
                "interval must be at least 1 second, got {:?}",
                self.interval
            ));
        }
        if self.max_grants == 0 {
            return bad("max_grants must be at least 1".into());
        }
        if self.users.is_empty() {
            return bad("at least one user must be configured".into());
        }
        if self.clients.iter().any(String::is_empty) {
            return bad("client ids must not be empty".into());
        }
        if let Some(url) = &self.public_url
            && (url::Url::parse(url).is_err() || url.ends_with('/'))
        {
            return bad(format!(
                "public_url must be an absolute URL without a trailing slash, got {url:?}"
            ));
        }
        if let Some(email) = &self.auto_approve
            && !self
                .users
                .iter()
                .any(|u| u.email.eq_ignore_ascii_case(email.trim()))
        {
            return bad(format!(
                "auto_approve names {email:?}, which is not a seeded user"
            ));
        }
        let orgs: HashSet<&str> = self.organizations.iter().map(|o| o.id.as_str()).collect();
        let mut emails = HashSet::new();
        for user in &self.users {
            if user.email.trim().is_empty() || !user.email.contains('@') {
                return bad(format!(
                    "user email {:?} is not an email address",
                    user.email
                ));
            }
            if !emails.insert(user.email.to_ascii_lowercase()) {
                return bad(format!("user email {:?} is configured twice", user.email));
            }
            for m in &user.memberships {
                if !orgs.contains(m.organization_id.as_str()) {
                    return bad(format!(
                        "user {:?} is a member of unknown organization {:?}",
                        user.email, m.organization_id
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
