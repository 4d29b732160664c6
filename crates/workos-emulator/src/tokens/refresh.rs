//! Sessions and their refresh tokens: creation on a successful device grant,
//! rotation on every refresh, reuse detection, and logout.
//!
//! Refresh tokens are single use (RFC 9700 §4.14.2): each refresh returns a
//! new one and kills the old. Presenting a rotated-out token again means two
//! parties hold it (or one of them stole it), so the whole session is revoked.
//! Tokens are stored only as SHA-256 fingerprints, which is also all the
//! state directory ever sees (`persist`).

use std::collections::{HashMap, VecDeque};

use time::OffsetDateTime;

use crate::ids::{self, Fingerprint};

/// Rotated-out tokens remembered per session for reuse detection. Older ones
/// are forgotten (they then look unknown: still `invalid_grant`).
const REMEMBERED_ROTATIONS: usize = 100;

/// Live sessions kept at most; starting one more ends the oldest, so memory
/// and the state file stay bounded however many logins happen.
pub(crate) const MAX_SESSIONS: usize = 10_000;

/// A signed-in session (`sid`).
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub id: String,
    pub user_id: String,
    pub client_id: String,
    pub organization_id: Option<String>,
    /// The scope granted through the standard OAuth door; `None` for the
    /// WorkOS door (which has no scopes).
    pub scope: Option<String>,
    pub created_utc: OffsetDateTime,
    current: Fingerprint,
    rotated_out: VecDeque<Fingerprint>,
}

impl Session {
    /// Rebuilds a session read back from the state directory.
    #[allow(clippy::too_many_arguments)] // one per persisted field
    pub(crate) fn restore(
        id: String,
        user_id: String,
        client_id: String,
        organization_id: Option<String>,
        scope: Option<String>,
        created_utc: OffsetDateTime,
        current: Fingerprint,
        rotated_out: Vec<Fingerprint>,
    ) -> Self {
        Self {
            id,
            user_id,
            client_id,
            organization_id,
            scope,
            created_utc,
            current,
            rotated_out: rotated_out.into(),
        }
    }

    /// Fingerprint of the current refresh token.
    pub(crate) fn current(&self) -> &Fingerprint {
        &self.current
    }

    /// Fingerprints of rotated-out refresh tokens, oldest first.
    pub(crate) fn rotated_out(&self) -> impl Iterator<Item = &Fingerprint> {
        self.rotated_out.iter()
    }
}

/// Why a refresh failed; all of them are `invalid_grant` on the wire except
/// [`RefreshError::NotAMember`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RefreshError {
    /// Never issued, forgotten, or its session has ended.
    Unknown,
    /// A rotated-out token: the session has now been revoked.
    AlreadyExchanged,
    /// Issued to another client.
    WrongClient,
    /// `organization_id` names an organization the user is not a member of.
    NotAMember(String),
}

#[derive(Debug, Clone)]
struct TokenOwner {
    session_id: String,
}

/// All sessions and the fingerprints of their refresh tokens.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    sessions: HashMap<String, Session>,
    tokens: HashMap<Fingerprint, TokenOwner>,
    /// Bumped by every change, so callers can tell whether to persist.
    revision: u64,
}

impl Sessions {
    /// Rebuilds the registry (and its token index) from restored sessions.
    pub(crate) fn from_sessions(sessions: impl IntoIterator<Item = Session>) -> Self {
        let mut out = Self::default();
        for session in sessions {
            let owner = TokenOwner {
                session_id: session.id.clone(),
            };
            for fp in session.rotated_out.iter().chain([&session.current]) {
                out.tokens.insert(*fp, owner.clone());
            }
            out.sessions.insert(session.id.clone(), session);
        }
        out
    }

    /// Every live session, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Session> {
        self.sessions.values()
    }

    /// A counter that changes whenever a session starts, rotates or ends.
    pub(crate) fn revision(&self) -> u64 {
        self.revision
    }

    /// Starts a session; returns it and its first refresh token.
    pub(crate) fn start(
        &mut self,
        user_id: &str,
        client_id: &str,
        organization_id: Option<String>,
        scope: Option<String>,
        now_utc: OffsetDateTime,
    ) -> (Session, String) {
        if self.sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = self
                .sessions
                .values()
                .min_by_key(|s| s.created_utc)
                .map(|s| s.id.clone())
        {
            self.end(&oldest);
        }
        self.revision += 1;
        let id = ids::object_id("session", ids::unix_millis(now_utc));
        let token = ids::opaque_secret();
        let fp = ids::fingerprint(&token);
        let session = Session {
            id: id.clone(),
            user_id: user_id.to_owned(),
            client_id: client_id.to_owned(),
            organization_id,
            scope,
            created_utc: now_utc,
            current: fp,
            rotated_out: VecDeque::new(),
        };
        self.tokens.insert(
            fp,
            TokenOwner {
                session_id: id.clone(),
            },
        );
        self.sessions.insert(id, session.clone());
        (session, token)
    }

    /// Exchanges `refresh_token` for a new one.
    ///
    /// `choose_org` sees the session and returns the organization the new
    /// tokens are for (or an error, in which case nothing changes). Checks,
    /// in order: known → current (else revoke the session) → same client.
    pub(crate) fn rotate(
        &mut self,
        refresh_token: &str,
        client_id: &str,
        choose_org: impl FnOnce(&Session) -> Result<Option<String>, RefreshError>,
    ) -> Result<(Session, String), RefreshError> {
        let fp = ids::fingerprint(refresh_token);
        let owner = self.tokens.get(&fp).ok_or(RefreshError::Unknown)?.clone();
        let session = self
            .sessions
            .get_mut(&owner.session_id)
            .ok_or(RefreshError::Unknown)?;
        if session.current != fp {
            // Reuse detection: revoke first, then report.
            let sid = owner.session_id.clone();
            self.end(&sid);
            return Err(RefreshError::AlreadyExchanged);
        }
        if session.client_id != client_id {
            return Err(RefreshError::WrongClient);
        }
        let organization_id = choose_org(session)?;
        let token = ids::opaque_secret();
        let new_fp = ids::fingerprint(&token);
        session.rotated_out.push_back(fp);
        if session.rotated_out.len() > REMEMBERED_ROTATIONS
            && let Some(old) = session.rotated_out.pop_front()
        {
            self.tokens.remove(&old);
        }
        session.current = new_fp;
        session.organization_id = organization_id;
        self.revision += 1;
        let snapshot = session.clone();
        self.tokens.insert(new_fp, owner);
        Ok((snapshot, token))
    }

    /// Revokes (RFC 7009 §2.1) the session owning `refresh_token`, current or
    /// rotated out. `Ok(false)` for unknown tokens, which RFC 7009 §2.2 says
    /// to answer with 200 all the same; another client's token is refused.
    pub(crate) fn revoke(
        &mut self,
        refresh_token: &str,
        client_id: &str,
    ) -> Result<bool, RefreshError> {
        let Some(owner) = self.tokens.get(&ids::fingerprint(refresh_token)) else {
            return Ok(false);
        };
        let session_id = owner.session_id.clone();
        match self.sessions.get(&session_id) {
            Some(s) if s.client_id != client_id => Err(RefreshError::WrongClient),
            Some(_) => Ok(self.end(&session_id)),
            None => Ok(false),
        }
    }

    /// Ends a session: its refresh tokens, current and old, stop working.
    /// Returns whether the session existed.
    pub(crate) fn end(&mut self, session_id: &str) -> bool {
        match self.sessions.remove(session_id) {
            Some(session) => {
                self.revision += 1;
                self.tokens.remove(&session.current);
                for fp in &session.rotated_out {
                    self.tokens.remove(fp);
                }
                true
            }
            None => false,
        }
    }

    /// Whether `session_id` is live.
    #[cfg(test)]
    pub(crate) fn is_live(&self, session_id: &str) -> bool {
        self.sessions.contains_key(session_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keep_org(s: &Session) -> Result<Option<String>, RefreshError> {
        Ok(s.organization_id.clone())
    }

    fn started() -> (Sessions, Session, String) {
        let mut s = Sessions::default();
        let (session, token) = s.start(
            "user_1",
            "client_a",
            Some("org_1".into()),
            None,
            OffsetDateTime::UNIX_EPOCH,
        );
        (s, session, token)
    }

    #[test]
    fn rotation_returns_a_new_token_and_kills_the_old_one() {
        let (mut s, session, t1) = started();
        let (same, t2) = s.rotate(&t1, "client_a", keep_org).unwrap();
        assert_eq!(same.id, session.id);
        assert_ne!(t1, t2);
        let (_, t3) = s.rotate(&t2, "client_a", keep_org).unwrap();
        assert_ne!(t2, t3);
    }

    #[test]
    fn reusing_a_rotated_out_token_revokes_the_whole_session() {
        let (mut s, session, t1) = started();
        let (_, t2) = s.rotate(&t1, "client_a", keep_org).unwrap();
        assert_eq!(
            s.rotate(&t1, "client_a", keep_org).unwrap_err(),
            RefreshError::AlreadyExchanged
        );
        assert!(!s.is_live(&session.id));
        // The legitimate holder of the newest token is logged out too.
        assert_eq!(
            s.rotate(&t2, "client_a", keep_org).unwrap_err(),
            RefreshError::Unknown
        );
    }

    #[test]
    fn tokens_are_bound_to_their_client() {
        let (mut s, _, t1) = started();
        assert_eq!(
            s.rotate(&t1, "client_b", keep_org).unwrap_err(),
            RefreshError::WrongClient
        );
        // A failed attempt does not consume the token.
        assert!(s.rotate(&t1, "client_a", keep_org).is_ok());
    }

    #[test]
    fn an_organization_switch_error_changes_nothing() {
        let (mut s, _, t1) = started();
        let refuse = |_: &Session| Err(RefreshError::NotAMember("org_x".into()));
        assert_eq!(
            s.rotate(&t1, "client_a", refuse).unwrap_err(),
            RefreshError::NotAMember("org_x".into())
        );
        let (session, _) = s
            .rotate(&t1, "client_a", |_| Ok(Some("org_2".into())))
            .unwrap();
        assert_eq!(session.organization_id.as_deref(), Some("org_2"));
    }

    #[test]
    fn logout_ends_refresh() {
        let (mut s, session, t1) = started();
        assert!(s.end(&session.id));
        assert_eq!(
            s.rotate(&t1, "client_a", keep_org).unwrap_err(),
            RefreshError::Unknown
        );
        assert!(!s.end(&session.id));
    }

    #[test]
    fn restoring_rebuilds_the_token_index_including_rotated_out_tokens() {
        let (mut s, session, t1) = started();
        let (_, t2) = s.rotate(&t1, "client_a", keep_org).unwrap();
        let copies: Vec<Session> = s.iter().cloned().collect();
        let mut restored = Sessions::from_sessions(copies);
        assert!(restored.is_live(&session.id));
        // The rotated-out token is still recognised as reuse, not as unknown.
        assert_eq!(
            restored.rotate(&t1, "client_a", keep_org).unwrap_err(),
            RefreshError::AlreadyExchanged
        );
        assert_eq!(
            restored.rotate(&t2, "client_a", keep_org).unwrap_err(),
            RefreshError::Unknown
        );
    }

    #[test]
    fn every_change_bumps_the_revision_and_failures_do_not() {
        let (mut s, session, t1) = started();
        let r0 = s.revision();
        assert!(s.rotate("nope", "client_a", keep_org).is_err());
        assert_eq!(s.revision(), r0);
        s.rotate(&t1, "client_a", keep_org).unwrap();
        assert!(s.revision() > r0);
        let r1 = s.revision();
        s.end(&session.id);
        assert!(s.revision() > r1);
    }

    #[test]
    fn revocation_ends_the_session_for_its_own_client_only() {
        let (mut s, session, t1) = started();
        assert_eq!(s.revoke("nope", "client_a"), Ok(false));
        assert_eq!(s.revoke(&t1, "client_b"), Err(RefreshError::WrongClient));
        assert!(s.is_live(&session.id));
        assert_eq!(s.revoke(&t1, "client_a"), Ok(true));
        assert!(!s.is_live(&session.id));
        assert_eq!(s.revoke(&t1, "client_a"), Ok(false));
    }

    #[test]
    fn unknown_tokens_are_rejected() {
        let (mut s, _, _) = started();
        assert_eq!(
            s.rotate("nope", "client_a", keep_org).unwrap_err(),
            RefreshError::Unknown
        );
    }
}
