//! Sessions and their refresh tokens: creation on a successful device grant,
//! rotation on every refresh, reuse detection, and logout.
//!
//! Refresh tokens are single use (RFC 9700 §4.14.2): each refresh returns a
//! new one and kills the old. Presenting a rotated-out token again means two
//! parties hold it (or one of them stole it), so the whole session is revoked.
//! Tokens are stored only as SHA-256 fingerprints.

use std::collections::{HashMap, VecDeque};

use time::OffsetDateTime;

use crate::ids::{self, Fingerprint};

/// Rotated-out tokens remembered per session for reuse detection. Older ones
/// are forgotten (they then look unknown: still `invalid_grant`).
const REMEMBERED_ROTATIONS: usize = 100;

/// A signed-in session (`sid`).
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub id: String,
    pub user_id: String,
    pub client_id: String,
    pub organization_id: Option<String>,
    pub created_utc: OffsetDateTime,
    current: Fingerprint,
    rotated_out: VecDeque<Fingerprint>,
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
}

impl Sessions {
    /// Starts a session; returns it and its first refresh token.
    pub(crate) fn start(
        &mut self,
        user_id: &str,
        client_id: &str,
        organization_id: Option<String>,
        now_utc: OffsetDateTime,
    ) -> (Session, String) {
        let id = ids::object_id("session", ids::unix_millis(now_utc));
        let token = ids::opaque_secret();
        let fp = ids::fingerprint(&token);
        let session = Session {
            id: id.clone(),
            user_id: user_id.to_owned(),
            client_id: client_id.to_owned(),
            organization_id,
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
        let snapshot = session.clone();
        self.tokens.insert(new_fp, owner);
        Ok((snapshot, token))
    }

    /// Ends a session: its refresh tokens, current and old, stop working.
    /// Returns whether the session existed.
    pub(crate) fn end(&mut self, session_id: &str) -> bool {
        match self.sessions.remove(session_id) {
            Some(session) => {
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
    fn unknown_tokens_are_rejected() {
        let (mut s, _, _) = started();
        assert_eq!(
            s.rotate("nope", "client_a", keep_org).unwrap_err(),
            RefreshError::Unknown
        );
    }
}
