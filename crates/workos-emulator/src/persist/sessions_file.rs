//! The on-disk shape of `sessions.json`: a versioned list of sessions whose
//! refresh tokens appear only as lowercase-hex SHA-256 fingerprints, the
//! current one and the rotated-out ones kept for reuse detection
//! (RFC 9700 §4.14.2). A raw token never reaches this file.
//!
//! ```json
//! {"version": 1, "sessions": [{"id": "session_01…", "user_id": "user_01…",
//!   "client_id": "client_…", "organization_id": "org_01…",
//!   "created_at_ms": 1714567890123, "current": "9f86…", "rotated_out": ["2c26…"]}]}
//! ```

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids;
use crate::tokens::{Session, Sessions};

/// Bumped on an incompatible change; other versions are refused, not guessed.
const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionsFile {
    version: u32,
    sessions: Vec<SessionRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionRecord {
    id: String,
    user_id: String,
    client_id: String,
    organization_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    /// Unix milliseconds: WorkOS timestamps carry milliseconds, no more.
    created_at_ms: i64,
    current: String,
    rotated_out: Vec<String>,
}

/// Serialises every live session, sorted by id so the file is stable.
pub(super) fn encode(sessions: &Sessions) -> Result<Vec<u8>, String> {
    let mut records: Vec<SessionRecord> = sessions
        .iter()
        .map(|s| SessionRecord {
            id: s.id.clone(),
            user_id: s.user_id.clone(),
            client_id: s.client_id.clone(),
            organization_id: s.organization_id.clone(),
            scope: s.scope.clone(),
            created_at_ms: i64::try_from(ids::unix_millis(s.created_utc)).unwrap_or(i64::MAX),
            current: ids::fingerprint_hex(s.current()),
            rotated_out: s.rotated_out().map(ids::fingerprint_hex).collect(),
        })
        .collect();
    records.sort_by(|a, b| a.id.cmp(&b.id));
    let file = SessionsFile {
        version: VERSION,
        sessions: records,
    };
    serde_json::to_vec_pretty(&file).map_err(|e| e.to_string())
}

/// Parses the file; any malformed entry fails the whole read, because a
/// half-loaded registry would silently log people out.
pub(super) fn decode(bytes: &[u8]) -> Result<Sessions, String> {
    let file: SessionsFile = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if file.version != VERSION {
        return Err(format!(
            "unsupported sessions file version {} (expected {VERSION})",
            file.version
        ));
    }
    let sessions = file
        .sessions
        .into_iter()
        .map(|r| {
            let bad_fp = || format!("session {:?} has a malformed fingerprint", r.id);
            let current = ids::fingerprint_from_hex(&r.current).ok_or_else(bad_fp)?;
            let rotated_out = r
                .rotated_out
                .iter()
                .map(|h| ids::fingerprint_from_hex(h).ok_or_else(bad_fp))
                .collect::<Result<Vec<_>, _>>()?;
            let created =
                OffsetDateTime::from_unix_timestamp_nanos(i128::from(r.created_at_ms) * 1_000_000)
                    .map_err(|_| format!("session {:?} has an impossible created_at_ms", r.id))?;
            Ok(Session::restore(
                r.id,
                r.user_id,
                r.client_id,
                r.organization_id,
                r.scope,
                created,
                current,
                rotated_out,
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Sessions::from_sessions(sessions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_round_trip_and_only_fingerprints_are_written() {
        let mut sessions = Sessions::default();
        let now = OffsetDateTime::from_unix_timestamp(1_714_567_890).unwrap();
        let (session, t1) = sessions.start(
            "user_1",
            "client_a",
            Some("org_1".into()),
            Some("openid offline_access".into()),
            now,
        );
        let (_, t2) = sessions
            .rotate(&t1, "client_a", |s| Ok(s.organization_id.clone()))
            .unwrap();

        let bytes = encode(&sessions).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            !text.contains(&t1) && !text.contains(&t2),
            "a raw token was written"
        );
        assert!(text.contains(&ids::fingerprint_hex(&ids::fingerprint(&t2))));

        let mut back = decode(&bytes).unwrap();
        let restored = back.iter().next().unwrap().clone();
        assert_eq!(restored.id, session.id);
        assert_eq!(restored.organization_id.as_deref(), Some("org_1"));
        assert_eq!(restored.created_utc, now);
        assert_eq!(restored.scope.as_deref(), Some("openid offline_access"));
        let keep = |s: &Session| Ok(s.organization_id.clone());
        assert!(back.rotate(&t2, "client_a", keep).is_ok());
    }

    #[test]
    fn malformed_files_are_refused() {
        assert!(decode(b"not json").is_err());
        assert!(decode(br#"{"version": 2, "sessions": []}"#).is_err());
        let bad_fp = br#"{"version": 1, "sessions": [{"id": "s", "user_id": "u",
            "client_id": "c", "organization_id": null, "created_at_ms": 0,
            "current": "xyz", "rotated_out": []}]}"#;
        assert!(decode(bad_fp).unwrap_err().contains("fingerprint"));
        assert_eq!(
            decode(br#"{"version": 1, "sessions": []}"#)
                .unwrap()
                .iter()
                .count(),
            0
        );
    }
}
