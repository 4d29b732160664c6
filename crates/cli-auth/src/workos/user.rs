//! The WorkOS user object and the members that describe how a user signed in.
//!
//! Mirrors the wire (see the wire notes §2): every key of the user object, optional
//! where WorkOS may send `null`, unknown keys ignored. Only `id` and `email` are
//! required, so a future WorkOS release that drops or renames a cosmetic member does
//! not break every login.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A WorkOS user (`"object": "user"`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct User {
    /// Always `"user"` on the wire; defaults to it when absent.
    #[serde(default = "user_object")]
    pub object: String,
    /// The user ID (`user_01…`).
    pub id: String,
    /// The email address.
    pub email: String,
    /// Whether the email address was verified; `false` when absent or `null`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub email_verified: bool,
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Avatar URL. A server string: sanitize before printing.
    #[serde(default)]
    pub profile_picture_url: Option<String>,
    /// The ID in the application's own user table, if set.
    #[serde(default)]
    pub external_id: Option<String>,
    /// ISO-8601 timestamp of the last sign-in.
    #[serde(default)]
    pub last_sign_in_at: Option<String>,
    /// Preferred locale.
    #[serde(default)]
    pub locale: Option<String>,
    /// Free-form metadata; empty when absent or `null`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// ISO-8601 creation timestamp.
    #[serde(default)]
    pub created_at: Option<String>,
    /// ISO-8601 update timestamp.
    #[serde(default)]
    pub updated_at: Option<String>,
}

fn user_object() -> String {
    "user".to_owned()
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Who is acting on the user's behalf when an admin impersonates them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Impersonator {
    /// The impersonating admin's email.
    pub email: String,
    /// Why, as entered by the admin; may be `null`.
    #[serde(default)]
    pub reason: Option<String>,
}

macro_rules! authentication_methods {
    ($($variant:ident => $wire:literal),* $(,)?) => {
        /// How the user authenticated (`authentication_method`).
        ///
        /// An open set: a value this version does not know is kept as
        /// [`AuthenticationMethod::Other`] instead of failing the login.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum AuthenticationMethod {
            $(
                #[doc = concat!("`", $wire, "`")]
                $variant,
            )*
            /// A value unknown to this version, kept as sent.
            Other(String),
        }

        impl AuthenticationMethod {
            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $(AuthenticationMethod::$variant => $wire,)*
                    AuthenticationMethod::Other(s) => s,
                }
            }

            /// Parses the wire spelling; never fails.
            pub fn from_wire(s: &str) -> Self {
                match s {
                    $($wire => AuthenticationMethod::$variant,)*
                    other => AuthenticationMethod::Other(other.to_owned()),
                }
            }
        }
    };
}

authentication_methods! {
    Sso => "SSO",
    Password => "Password",
    Passkey => "Passkey",
    AppleOAuth => "AppleOAuth",
    BitbucketOAuth => "BitbucketOAuth",
    CrossAppAuth => "CrossAppAuth",
    DiscordOAuth => "DiscordOAuth",
    ExternalAuth => "ExternalAuth",
    GitHubOAuth => "GitHubOAuth",
    GitLabOAuth => "GitLabOAuth",
    GoogleOAuth => "GoogleOAuth",
    IntuitOAuth => "IntuitOAuth",
    LinkedInOAuth => "LinkedInOAuth",
    MicrosoftOAuth => "MicrosoftOAuth",
    SalesforceOAuth => "SalesforceOAuth",
    SlackOAuth => "SlackOAuth",
    VercelMarketplaceOAuth => "VercelMarketplaceOAuth",
    VercelOAuth => "VercelOAuth",
    XeroOAuth => "XeroOAuth",
    MagicAuth => "MagicAuth",
    Impersonation => "Impersonation",
    MigratedSession => "MigratedSession",
}

impl fmt::Display for AuthenticationMethod {
    /// The wire spelling. An `Other` value comes from the server: sanitize it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AuthenticationMethod {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|s| Self::from_wire(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn full_user_object_parses() {
        let user: User = serde_json::from_value(json!({
            "object": "user", "id": "user_01", "email": "demo@example.com",
            "email_verified": true, "first_name": "Demo", "last_name": null,
            "profile_picture_url": null, "external_id": null, "last_sign_in_at": null,
            "locale": "en-US", "metadata": {"team": "x"},
            "created_at": "2025-01-01T00:00:00.000Z", "updated_at": "2025-01-01T00:00:00.000Z",
            "some_future_field": 1
        }))
        .unwrap();
        assert_eq!(user.id, "user_01");
        assert!(user.email_verified);
        assert_eq!(user.first_name.as_deref(), Some("Demo"));
        assert_eq!(user.metadata["team"], "x");
    }

    #[test]
    fn minimal_user_with_nulls_parses() {
        let user: User = serde_json::from_value(json!({
            "id": "user_01", "email": "a@b.c", "email_verified": null, "metadata": null
        }))
        .unwrap();
        assert_eq!(user.object, "user");
        assert!(!user.email_verified);
        assert!(user.metadata.is_empty());
    }

    #[test]
    fn user_without_id_or_email_is_refused() {
        assert!(serde_json::from_value::<User>(json!({"email": "a@b.c"})).is_err());
        assert!(serde_json::from_value::<User>(json!({"id": "user_01"})).is_err());
    }

    #[test]
    fn authentication_method_is_open() {
        let known: AuthenticationMethod = serde_json::from_value(json!("GitHubOAuth")).unwrap();
        assert_eq!(known, AuthenticationMethod::GitHubOAuth);
        assert_eq!(
            serde_json::from_value::<AuthenticationMethod>(json!("SSO")).unwrap(),
            AuthenticationMethod::Sso
        );
        let new: AuthenticationMethod = serde_json::from_value(json!("QuantumAuth")).unwrap();
        assert_eq!(new, AuthenticationMethod::Other("QuantumAuth".into()));
        assert_eq!(new.to_string(), "QuantumAuth");
    }

    #[test]
    fn impersonator_reason_may_be_null() {
        let i: Impersonator =
            serde_json::from_value(json!({"email": "admin@x.y", "reason": null})).unwrap();
        assert_eq!(i.reason, None);
    }
}
