//! Pending authentications: what a device-code poll leaves behind when the
//! user belongs to several organizations and none was chosen. WorkOS answers
//! `403 organization_selection_required` with a `pending_authentication_token`;
//! the client then finishes with the organization-selection grant. Tokens are
//! single use, short lived, stored as SHA-256 fingerprints, and bound to the
//! client. No HTTP here; time comes in as an argument.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::ids::{self, Fingerprint};

/// How long a pending authentication token stays redeemable (WorkOS: 10 min).
const LIFETIME: Duration = Duration::from_secs(600);

/// Who authenticated, waiting for an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingAuth {
    pub user_id: String,
    pub client_id: String,
    pub scope: Option<String>,
    expires_at: Instant,
}

/// The pending authentications, by token fingerprint.
#[derive(Debug, Default)]
pub(crate) struct PendingAuths {
    by_token: HashMap<Fingerprint, PendingAuth>,
}

impl PendingAuths {
    /// Records a pending authentication and returns its token.
    pub(crate) fn issue(
        &mut self,
        user_id: &str,
        client_id: &str,
        scope: Option<String>,
        now: Instant,
    ) -> String {
        let token = ids::opaque_secret();
        self.by_token.insert(
            ids::fingerprint(&token),
            PendingAuth {
                user_id: user_id.to_owned(),
                client_id: client_id.to_owned(),
                scope,
                expires_at: now + LIFETIME,
            },
        );
        token
    }

    /// The pending authentication behind `token`, if it is live and was
    /// issued to `client_id`.
    pub(crate) fn peek(&self, token: &str, client_id: &str, now: Instant) -> Option<&PendingAuth> {
        self.by_token
            .get(&ids::fingerprint(token))
            .filter(|p| p.client_id == client_id && now < p.expires_at)
    }

    /// Spends `token` (single use).
    pub(crate) fn consume(&mut self, token: &str) {
        self.by_token.remove(&ids::fingerprint(token));
    }

    /// How many are remembered.
    pub(crate) fn len(&self) -> usize {
        self.by_token.len()
    }

    /// Forgets expired tokens.
    pub(crate) fn sweep(&mut self, now: Instant) {
        self.by_token.retain(|_, p| now < p.expires_at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_single_use_and_bound_to_its_client() {
        let mut p = PendingAuths::default();
        let t0 = Instant::now();
        let token = p.issue("user_1", "client_a", None, t0);
        assert!(p.peek(&token, "client_b", t0).is_none());
        assert_eq!(p.peek(&token, "client_a", t0).unwrap().user_id, "user_1");
        p.consume(&token);
        assert!(p.peek(&token, "client_a", t0).is_none());
    }

    #[test]
    fn tokens_expire_and_are_swept() {
        let mut p = PendingAuths::default();
        let t0 = Instant::now();
        let token = p.issue("user_1", "client_a", None, t0);
        assert!(p.peek(&token, "client_a", t0 + LIFETIME).is_none());
        p.sweep(t0 + LIFETIME);
        assert_eq!(p.len(), 0);
    }
}
