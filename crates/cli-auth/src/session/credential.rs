//! Building the stored record from a server answer, and the logout URL of a stored
//! session. Pure functions: no I/O, no locking (that is `session.rs`'s job).

use url::Url;

use crate::error::Error;
use crate::http::parse_base_url;
use crate::jwks::decode_unverified;
use crate::secret::SecretString;
use crate::store::{StoreKind, StoredCredential, validate_profile_name};
use crate::workos::models::AuthenticationResponse;

/// `cred` after a successful refresh: the new access token with the expiry from its
/// `exp`, the new refresh token (the old one if the server sent none), and the user,
/// organization and session the server now reports.
pub(super) fn updated_credential(
    cred: &StoredCredential,
    response: &AuthenticationResponse,
) -> StoredCredential {
    let claims = decode_unverified(&response.access_token).ok();
    let mut next = cred.clone();
    next.user_id = response.user.id.clone();
    next.email = Some(response.user.email.clone());
    next.organization_id = response
        .organization_id
        .clone()
        .or_else(|| claims.as_ref().and_then(|c| c.org_id.clone()));
    if let Some(sid) = claims.as_ref().and_then(|c| c.sid.clone()) {
        next.session_id = Some(sid);
    }
    next.access_token = Some(response.access_token.clone());
    next.access_token_expires_at = claims.map(|c| c.exp);
    if !response.refresh_token.is_empty() {
        next.refresh_token = response.refresh_token.clone();
    }
    next
}

/// The record to save after a login: the user and tokens from `response`, the session
/// ID and expiry from the access token's claims (read with [`decode_unverified`]:
/// bookkeeping, not a security check). Fails only on an invalid profile name.
pub fn credential_from_response(
    response: &AuthenticationResponse,
    profile: &str,
    client_id: &str,
    api_base_url: &str,
) -> Result<StoredCredential, Error> {
    validate_profile_name(profile)?;
    let blank = StoredCredential {
        profile: profile.to_owned(),
        client_id: client_id.to_owned(),
        api_base_url: api_base_url.to_owned(),
        user_id: String::new(),
        email: None,
        organization_id: None,
        session_id: None,
        access_token: None,
        access_token_expires_at: None,
        refresh_token: SecretString::default(),
        store: StoreKind::Auto,
        saved_at: 0,
    };
    Ok(updated_credential(&blank, response))
}

/// The browser logout URL of `cred`'s session (wire notes §5):
/// `{api_base_url}/user_management/sessions/logout?session_id=<sid>`. Opening it ends
/// the session, so later refreshes fail. `None` when no session ID is stored.
pub fn logout_url(cred: &StoredCredential) -> Result<Option<Url>, Error> {
    let Some(session_id) = cred.session_id.as_deref() else {
        return Ok(None);
    };
    let mut url = parse_base_url(&cred.api_base_url)?
        .join("user_management/sessions/logout")
        .expect("a relative path joins onto a checked base url");
    url.query_pairs_mut().append_pair("session_id", session_id);
    Ok(Some(url))
}
