//! The seeded user directory: users with resolved ids, their memberships,
//! and the WorkOS `user` object as it appears in `AuthenticateResponse`.

use serde::Serialize;
use time::OffsetDateTime;

use crate::config::{EmulatorConfig, MembershipConfig, OrganizationConfig};
use crate::ids;

/// A seeded user with its id resolved.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email_verified: bool,
    pub memberships: Vec<MembershipConfig>,
}

impl User {
    /// "First Last", or the email when no name is configured.
    pub(crate) fn display_name(&self) -> String {
        let name = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if name.is_empty() {
            self.email.clone()
        } else {
            name
        }
    }

    /// The membership in `organization_id`, if any.
    pub(crate) fn membership(&self, organization_id: &str) -> Option<&MembershipConfig> {
        self.memberships
            .iter()
            .find(|m| m.organization_id == organization_id)
    }
}

/// All seeded users and organizations.
#[derive(Debug, Clone)]
pub(crate) struct Directory {
    users: Vec<User>,
    organizations: Vec<OrganizationConfig>,
    /// When the directory was loaded: the users' `created_at`.
    created_at: OffsetDateTime,
}

impl Directory {
    /// Resolves the configured users (deriving missing ids from the email).
    pub(crate) fn from_config(config: &EmulatorConfig, now_utc: OffsetDateTime) -> Self {
        let users = config
            .users
            .iter()
            .map(|u| User {
                id: u
                    .id
                    .clone()
                    .unwrap_or_else(|| ids::derived_id("user", &u.email.to_ascii_lowercase())),
                email: u.email.clone(),
                first_name: u.first_name.clone(),
                last_name: u.last_name.clone(),
                email_verified: u.email_verified,
                memberships: u.memberships.clone(),
            })
            .collect();
        Self {
            users,
            organizations: config.organizations.clone(),
            created_at: now_utc,
        }
    }

    /// Every user, in configuration order.
    pub(crate) fn users(&self) -> &[User] {
        &self.users
    }

    /// The user with this email (case-insensitive).
    pub(crate) fn by_email(&self, email: &str) -> Option<&User> {
        let email = email.trim();
        self.users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }

    /// The user with this id.
    pub(crate) fn by_id(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    /// The name of an organization, for pages.
    pub(crate) fn organization_name(&self, id: &str) -> Option<&str> {
        self.organizations
            .iter()
            .find(|o| o.id == id)
            .map(|o| o.name.as_str())
    }

    /// The WorkOS `user` object. Every key is present, nulls included: the
    /// Python SDK fails without the nullable ones, the Rust SDK without
    /// `object`, `id`, `email`, `email_verified`, `created_at`, `updated_at`.
    pub(crate) fn user_object(&self, user: &User, last_sign_in: OffsetDateTime) -> UserObject {
        UserObject {
            object: "user",
            id: user.id.clone(),
            email: user.email.clone(),
            email_verified: user.email_verified,
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            profile_picture_url: None,
            external_id: None,
            last_sign_in_at: Some(iso8601_millis(last_sign_in)),
            locale: None,
            metadata: serde_json::Map::new(),
            created_at: iso8601_millis(self.created_at),
            updated_at: iso8601_millis(last_sign_in.max(self.created_at)),
        }
    }
}

/// The WorkOS user object on the wire.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct UserObject {
    object: &'static str,
    id: String,
    email: String,
    email_verified: bool,
    first_name: Option<String>,
    last_name: Option<String>,
    profile_picture_url: Option<String>,
    external_id: Option<String>,
    last_sign_in_at: Option<String>,
    locale: Option<String>,
    metadata: serde_json::Map<String, serde_json::Value>,
    created_at: String,
    updated_at: String,
}

/// `2024-05-01T12:34:56.789Z`: ISO 8601 in UTC with milliseconds, as WorkOS
/// sends timestamps.
pub(crate) fn iso8601_millis(t: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        let t = time::macros::datetime!(2024-05-01 12:34:56.789123 UTC);
        assert_eq!(iso8601_millis(t), "2024-05-01T12:34:56.789Z");
        let t = time::macros::datetime!(2024-05-01 12:34:56 UTC);
        assert_eq!(iso8601_millis(t), "2024-05-01T12:34:56.000Z");
        let t = time::macros::datetime!(2024-05-01 12:34:56.1 UTC);
        assert_eq!(iso8601_millis(t), "2024-05-01T12:34:56.100Z");
    }

    #[test]
    fn user_object_has_every_key_including_nulls() {
        let dir = Directory::from_config(&EmulatorConfig::default(), OffsetDateTime::UNIX_EPOCH);
        let user = dir.by_email("DEMO@example.com").unwrap();
        let json = serde_json::to_value(dir.user_object(user, OffsetDateTime::UNIX_EPOCH)).unwrap();
        for key in [
            "object",
            "id",
            "email",
            "email_verified",
            "first_name",
            "last_name",
            "profile_picture_url",
            "external_id",
            "last_sign_in_at",
            "locale",
            "metadata",
            "created_at",
            "updated_at",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        assert_eq!(json["object"], "user");
        assert!(json["profile_picture_url"].is_null());
        assert_eq!(json["metadata"], serde_json::json!({}));
    }

    #[test]
    fn missing_ids_are_derived_from_the_email() {
        let mut config = EmulatorConfig::default();
        config.users[0].id = None;
        let a = Directory::from_config(&config, OffsetDateTime::UNIX_EPOCH);
        let b = Directory::from_config(&config, OffsetDateTime::UNIX_EPOCH);
        assert!(a.users()[0].id.starts_with("user_01"));
        assert_eq!(a.users()[0].id, b.users()[0].id);
    }
}
