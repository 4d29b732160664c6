//! The command line: global flags with environment fallbacks and one struct per command.
//! Parsing only; nothing here looks at the terminal, the network or the disk.

use clap::{Args, Parser, Subcommand};

use crate::commands::emulator::EmulatorArgs;

/// Log in to WorkOS from a terminal with the OAuth 2.0 Device Authorization Grant.
///
/// With no client configured, `login` uses a built-in offline emulator, so you can
/// try the whole flow without a WorkOS account.
#[derive(Debug, Parser)]
#[command(name = "workos-cli-auth", version, propagate_version = true)]
#[command(after_help = "Examples:\n  \
    workos-cli-auth login                          # offline, against the built-in emulator\n  \
    workos-cli-auth login --client-id client_01H…  # against WorkOS\n  \
    workos-cli-auth status                         # who is logged in (offline)\n  \
    workos-cli-auth token                          # a fresh access token for scripts\n  \
    workos-cli-auth logout                         # forget it and end the session\n  \
    workos-cli-auth emulator --port 4100           # run the emulator for other tools")]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// WorkOS client ID (public; never an API key). Without it, `login` uses the
    /// built-in offline emulator.
    #[arg(long, env = "WORKOS_CLIENT_ID", global = true, value_name = "ID")]
    pub client_id: Option<String>,

    /// WorkOS API base URL (https, or http on a loopback address).
    #[arg(
        long,
        env = "WORKOS_API_BASE_URL",
        global = true,
        value_name = "URL",
        default_value = "https://api.workos.com"
    )]
    pub api_base_url: String,

    /// Credential profile to use (default: the one `profiles use` chose, else `default`;
    /// logins against the built-in emulator use `local`).
    #[arg(
        long,
        env = "WORKOS_CLI_AUTH_PROFILE",
        global = true,
        value_name = "NAME"
    )]
    pub profile: Option<String>,

    /// Where to keep credentials: the OS keychain with an announced plain-file fallback
    /// (auto), only the keychain, or only a 0600 file.
    #[arg(
        long,
        env = "WORKOS_CLI_AUTH_STORE",
        global = true,
        value_name = "auto|keychain|file"
    )]
    pub store: Option<cli_auth::store::StoreKind>,

    /// More logging on stderr (-v info, -vv debug, -vvv trace). Secrets are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Print only errors and requested output.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in through the browser (device authorization, RFC 8628).
    ///
    /// Shows a one-time code and a URL, opens the browser when there is one, waits
    /// until you approve or deny, and saves the credentials in the selected profile.
    Login(LoginArgs),
    /// Show who is logged in, per profile (offline unless --check).
    Status(StatusArgs),
    /// Print a valid access token on stdout, refreshing it if needed.
    ///
    /// Nothing else is written to stdout, so `$(workos-cli-auth token)` is safe in scripts.
    /// When WORKOS_CLI_AUTH_TOKEN is set, that value is printed instead.
    Token(TokenArgs),
    /// Forget stored credentials and end the WorkOS session.
    Logout(LogoutArgs),
    /// List credential profiles, or choose the default one.
    Profiles(ProfilesArgs),
    /// Run the local WorkOS-compatible emulator until Ctrl-C.
    Emulator(Box<EmulatorArgs>),
}

/// `login` options.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Do not open a browser; only print the URL and the code.
    #[arg(long)]
    pub no_browser: bool,

    /// Also show the URL as a QR code (on by default over SSH).
    #[arg(long)]
    pub qr: bool,

    /// Print the result as JSON on stdout (no tokens unless --show-tokens).
    #[arg(long)]
    pub json: bool,

    /// Include the access and refresh tokens in the --json output.
    #[arg(long, requires = "json")]
    pub show_tokens: bool,

    /// Replace a credential of another user in the same profile.
    #[arg(long)]
    pub force: bool,
}

/// `status` options.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print the status as JSON on stdout.
    #[arg(long)]
    pub json: bool,

    /// Verify online: refresh if needed and check the access token's signature against
    /// the issuer's JWKS.
    #[arg(long)]
    pub check: bool,
}

/// `token` options.
#[derive(Debug, Args)]
pub struct TokenArgs {}

/// `logout` options.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Log out of every profile.
    #[arg(long, conflicts_with = "profile")]
    pub all: bool,

    /// Print the WorkOS logout URL instead of opening it in a browser.
    #[arg(long)]
    pub no_browser: bool,
}

/// `profiles` options.
#[derive(Debug, Args)]
pub struct ProfilesArgs {
    /// What to do; without one, list the profiles.
    #[command(subcommand)]
    pub action: Option<ProfilesAction>,
}

/// `profiles` subcommands.
#[derive(Debug, Subcommand)]
pub enum ProfilesAction {
    /// List profiles (the default is marked with `*`).
    List {
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Make NAME the default profile.
    Use {
        /// The profile name.
        name: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn show_tokens_requires_json() {
        let parsed = Cli::try_parse_from(["workos-cli-auth", "login", "--show-tokens"]);
        assert!(parsed.is_err());
    }
}
