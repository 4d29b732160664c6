//! The profiles index: `config.json` at the store root, and the list of saved profiles.
//!
//! A profile is one login (an environment and a user): `default` unless the user picks
//! another, `local` for logins against the embedded emulator. The index only remembers
//! which profile is the default; the list of profiles is the set of `profiles/*.json`
//! files, so it can never disagree with what is actually stored. Keys of `config.json`
//! that this module does not know are preserved, so the CLI may keep its own settings
//! there.

use std::fs;
use std::io;
use std::path::Path;

use serde_json::{Map, Value};

use super::file::{self, is_temp_name};
use super::{DEFAULT_PROFILE, StoreError, validate_profile_name};

/// File name of the index at the store root.
pub(crate) const CONFIG_FILE: &str = "config.json";
const DEFAULT_KEY: &str = "default_profile";

/// Reads `config.json`; a missing file is an empty index.
fn read_config(root: &Path) -> Result<Map<String, Value>, StoreError> {
    let path = root.join(CONFIG_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(e) => return Err(StoreError::io("read", path, e)),
    };
    // The index holds no secret, so serde's message (which may quote a value) is fine.
    serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
        path,
        reason: e.to_string(),
    })
}

/// The default profile: the one named in `config.json`, else [`DEFAULT_PROFILE`].
pub(crate) fn default_profile(root: &Path) -> Result<String, StoreError> {
    let config = read_config(root)?;
    match config.get(DEFAULT_KEY) {
        None | Some(Value::Null) => Ok(DEFAULT_PROFILE.to_owned()),
        Some(Value::String(name)) => {
            validate_profile_name(name)?;
            Ok(name.clone())
        }
        Some(_) => Err(StoreError::Corrupt {
            path: root.join(CONFIG_FILE),
            reason: format!("{DEFAULT_KEY:?} is not a string"),
        }),
    }
}

/// Records `name` as the default profile (atomically, like every write of the store).
pub(crate) fn set_default_profile(root: &Path, name: &str) -> Result<(), StoreError> {
    validate_profile_name(name)?;
    file::ensure_private_dir(root)?;
    let mut config = read_config(root)?;
    config.insert(DEFAULT_KEY.to_owned(), Value::String(name.to_owned()));
    let mut bytes = serde_json::to_vec_pretty(&config).expect("a JSON map always serializes");
    bytes.push(b'\n');
    file::write_atomic(root, CONFIG_FILE, &bytes)
}

/// The saved profiles, sorted: every `<name>.json` in `dir` whose name is valid.
pub(crate) fn list(dir: &Path) -> Result<Vec<String>, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io("list", dir, e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io("list", dir, e))?;
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        if is_temp_name(file_name) {
            continue;
        }
        if let Some(name) = file_name.strip_suffix(".json")
            && validate_profile_name(name).is_ok()
        {
            names.push(name.to_owned());
        }
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_default_until_set() {
        let root = tempfile::tempdir().unwrap();
        assert_eq!(default_profile(root.path()).unwrap(), "default");
        set_default_profile(root.path(), "staging").unwrap();
        assert_eq!(default_profile(root.path()).unwrap(), "staging");
        assert!(set_default_profile(root.path(), "../etc").is_err());
    }

    #[test]
    fn unknown_keys_survive() {
        let root = tempfile::tempdir().unwrap();
        fs::write(root.path().join(CONFIG_FILE), br#"{"theme":"dark"}"#).unwrap();
        set_default_profile(root.path(), "local").unwrap();
        let text = fs::read_to_string(root.path().join(CONFIG_FILE)).unwrap();
        assert!(text.contains("\"theme\": \"dark\""), "{text}");
    }

    #[test]
    fn listing_skips_temp_and_lock_files() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "b.json",
            "a.json",
            ".a.json.1.2.3.tmp",
            "a.lock",
            "bad name.json",
        ] {
            fs::write(dir.path().join(name), b"{}").unwrap();
        }
        assert_eq!(list(dir.path()).unwrap(), ["a", "b"]);
    }
}
