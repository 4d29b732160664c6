//! The credential record and its JSON form on disk (`profiles/<name>.json`).
//!
//! This is the only place where a secret is turned back into plain text for storage:
//! [`SecretString`] deliberately has no `Serialize`, so the writer below calls
//! `expose()` field by field, into a buffer that is zeroized after use. Parse errors are
//! reduced to a category and a position, because serde's own messages can quote the
//! offending value, which may be a token.

use std::path::Path;

use serde::{Deserialize, Serialize, Serializer};
use zeroize::Zeroizing;

use super::{StoreError, StoreKind};
use crate::SecretString;

/// Bumped when the file format changes incompatibly; older readers refuse newer files.
const FORMAT_VERSION: u32 = 1;

/// Everything remembered about one login.
///
/// `Debug` is safe to print: tokens are [`SecretString`]s and show as `<redacted>`.
#[derive(Clone, Debug)]
pub struct StoredCredential {
    /// The profile this login belongs to (see [`validate_profile_name`](super::validate_profile_name)).
    pub profile: String,
    /// The WorkOS client ID the tokens were issued to.
    pub client_id: String,
    /// The API base URL the tokens come from (WorkOS or the emulator).
    pub api_base_url: String,
    /// The WorkOS user ID (`user_…`).
    pub user_id: String,
    /// The user's e-mail address, if the server sent one.
    pub email: Option<String>,
    /// The organization the session is scoped to, if any.
    pub organization_id: Option<String>,
    /// The WorkOS session ID (`sid`), used by logout.
    pub session_id: Option<String>,
    /// The current access token; it lives minutes and is kept in the profile file so
    /// that `token` needs no keychain round trip.
    pub access_token: Option<SecretString>,
    /// When `access_token` expires, in Unix seconds.
    pub access_token_expires_at: Option<u64>,
    /// The long-lived refresh token.
    pub refresh_token: SecretString,
    /// Where the refresh token lives: [`StoreKind::Keychain`] or [`StoreKind::File`].
    /// Set by [`CredentialStore::save`](super::CredentialStore::save); the value passed in is ignored.
    pub store: StoreKind,
    /// When this record was saved, in Unix seconds. Set by `save`.
    pub saved_at: u64,
}

#[derive(Serialize)]
struct FileOut<'a> {
    version: u32,
    profile: &'a str,
    client_id: &'a str,
    api_base_url: &'a str,
    user_id: &'a str,
    email: Option<&'a str>,
    organization_id: Option<&'a str>,
    session_id: Option<&'a str>,
    #[serde(serialize_with = "expose_opt")]
    access_token: Option<&'a SecretString>,
    access_token_expires_at: Option<u64>,
    #[serde(serialize_with = "expose_opt", skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a SecretString>,
    store: &'static str,
    saved_at: u64,
}

#[derive(Deserialize)]
struct FileIn {
    version: u32,
    profile: String,
    client_id: String,
    api_base_url: String,
    user_id: String,
    email: Option<String>,
    organization_id: Option<String>,
    session_id: Option<String>,
    access_token: Option<SecretString>,
    access_token_expires_at: Option<u64>,
    refresh_token: Option<SecretString>,
    store: String,
    saved_at: u64,
}

/// The private serde helper: the one place a secret is written out.
fn expose_opt<S: Serializer>(value: &Option<&SecretString>, ser: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(secret) => ser.serialize_str(secret.expose()),
        None => ser.serialize_none(),
    }
}

/// Encodes `cred` for its profile file. The refresh token is included only when the
/// file backend holds it (`cred.store == File`).
pub(crate) fn encode(cred: &StoredCredential) -> Zeroizing<Vec<u8>> {
    let out = FileOut {
        version: FORMAT_VERSION,
        profile: &cred.profile,
        client_id: &cred.client_id,
        api_base_url: &cred.api_base_url,
        user_id: &cred.user_id,
        email: cred.email.as_deref(),
        organization_id: cred.organization_id.as_deref(),
        session_id: cred.session_id.as_deref(),
        access_token: cred.access_token.as_ref(),
        access_token_expires_at: cred.access_token_expires_at,
        refresh_token: (cred.store == StoreKind::File).then_some(&cred.refresh_token),
        store: cred.store.as_str(),
        saved_at: cred.saved_at,
    };
    // Pre-sized so the buffer never reallocates (a reallocation would leave an
    // un-zeroized copy of the tokens in freed memory); records are well under 8 KiB.
    let mut buf = Zeroizing::new(Vec::with_capacity(8192));
    serde_json::to_writer_pretty(&mut *buf, &out).expect("serializing strings cannot fail");
    buf.push(b'\n');
    buf
}

/// A decoded profile file. `refresh_token` is `None` when the keychain holds it.
pub(crate) struct Decoded {
    pub(crate) cred: StoredCredential,
    pub(crate) refresh_token: Option<SecretString>,
}

/// Decodes the profile file at `path`, which must belong to `profile`.
pub(crate) fn decode(path: &Path, profile: &str, bytes: &[u8]) -> Result<Decoded, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        path: path.into(),
        reason,
    };
    let file: FileIn = serde_json::from_slice(bytes).map_err(|e| {
        // Only the category and position: e.to_string() may quote a stored token.
        let what = match e.classify() {
            serde_json::error::Category::Eof => "it is truncated",
            serde_json::error::Category::Syntax => "it is not valid JSON",
            serde_json::error::Category::Data => "it does not have the expected fields",
            serde_json::error::Category::Io => "it could not be read",
        };
        corrupt(format!("{what} (line {}, column {})", e.line(), e.column()))
    })?;
    if file.version != FORMAT_VERSION {
        return Err(corrupt(format!(
            "it has format version {} and this program reads version {FORMAT_VERSION}",
            file.version
        )));
    }
    if file.profile != profile {
        return Err(corrupt(format!(
            "it belongs to profile {:?}, not {profile:?}",
            file.profile
        )));
    }
    let store = match file.store.as_str() {
        "keychain" => StoreKind::Keychain,
        "file" => StoreKind::File,
        other => return Err(corrupt(format!("unknown store {other:?}"))),
    };
    if store == StoreKind::File && file.refresh_token.is_none() {
        return Err(corrupt("it has no refresh token".into()));
    }
    Ok(Decoded {
        refresh_token: file.refresh_token,
        cred: StoredCredential {
            profile: file.profile,
            client_id: file.client_id,
            api_base_url: file.api_base_url,
            user_id: file.user_id,
            email: file.email,
            organization_id: file.organization_id,
            session_id: file.session_id,
            access_token: file.access_token,
            access_token_expires_at: file.access_token_expires_at,
            refresh_token: SecretString::default(),
            store,
            saved_at: file.saved_at,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(store: StoreKind) -> StoredCredential {
        StoredCredential {
            profile: "default".into(),
            client_id: "client_1".into(),
            api_base_url: "https://api.workos.com".into(),
            user_id: "user_1".into(),
            email: Some("a@example.com".into()),
            organization_id: None,
            session_id: Some("session_1".into()),
            access_token: Some("planted-access".into()),
            access_token_expires_at: Some(1_900_000_000),
            refresh_token: "planted-refresh".into(),
            store,
            saved_at: 1_800_000_000,
        }
    }

    #[test]
    fn file_backend_keeps_the_refresh_token_in_the_file() {
        let bytes = encode(&sample(StoreKind::File));
        let decoded = decode(Path::new("x.json"), "default", &bytes).unwrap();
        assert_eq!(decoded.refresh_token.unwrap().expose(), "planted-refresh");
        assert_eq!(
            decoded.cred.access_token.unwrap().expose(),
            "planted-access"
        );
        assert_eq!(decoded.cred.email.as_deref(), Some("a@example.com"));
    }

    #[test]
    fn keychain_backend_leaves_the_refresh_token_out() {
        let bytes = encode(&sample(StoreKind::Keychain));
        assert!(!String::from_utf8_lossy(&bytes).contains("planted-refresh"));
        let decoded = decode(Path::new("x.json"), "default", &bytes).unwrap();
        assert!(decoded.refresh_token.is_none());
        assert_eq!(decoded.cred.store, StoreKind::Keychain);
    }

    #[test]
    fn parse_errors_never_quote_the_content() {
        let bad = br#"{"version":1,"profile":"default","access_token":42,"refresh_token":"planted-refresh"}"#;
        let err = decode(Path::new("x.json"), "default", bad).err().unwrap();
        assert!(!err.to_string().contains("planted"), "{err}");
        let torn = &encode(&sample(StoreKind::File))[..40];
        let err = decode(Path::new("x.json"), "default", torn).err().unwrap();
        assert!(err.to_string().contains("truncated"), "{err}");
    }

    #[test]
    fn debug_is_redacted() {
        let text = format!("{:?}", sample(StoreKind::File));
        assert!(!text.contains("planted"), "{text}");
    }
}
