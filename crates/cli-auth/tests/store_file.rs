//! The file backend against a real file system: round trip, modes under umask 000,
//! refusal of symlinks and loose permissions, atomic replace, compare-and-clear, delete,
//! profile names, the profiles index, and redaction of every message.
#![cfg(unix)]

mod store_support;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::PathBuf;

use cli_auth::SecretString;
use cli_auth::store::{CredentialStore, StoreError, StoreKind};
use store_support::{mode, sample};

fn file_store(root: PathBuf) -> CredentialStore {
    CredentialStore::open(root, StoreKind::File)
}

#[test]
fn round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path().join("home"));
    assert!(store.load("default").unwrap().is_none());

    let saved = store.save(&sample("default", 1)).unwrap();
    assert_eq!(saved.store, StoreKind::File);
    assert!(saved.fallback.is_none());
    let path = store.profile_path("default").unwrap();
    assert_eq!(saved.location, path.display().to_string());
    assert_eq!(store.location("default"), path.display().to_string());

    let loaded = store.load("default").unwrap().unwrap();
    let want = sample("default", 1);
    assert_eq!(loaded.client_id, want.client_id);
    assert_eq!(loaded.api_base_url, want.api_base_url);
    assert_eq!(loaded.user_id, want.user_id);
    assert_eq!(loaded.email, want.email);
    assert_eq!(loaded.organization_id, want.organization_id);
    assert_eq!(loaded.session_id, want.session_id);
    assert_eq!(loaded.access_token.unwrap().expose(), "planted-access-1");
    assert_eq!(loaded.access_token_expires_at, want.access_token_expires_at);
    assert_eq!(loaded.refresh_token.expose(), "planted-refresh-1");
    assert_eq!(loaded.store, StoreKind::File);
    assert!(loaded.saved_at > 1_600_000_000, "saved_at is set by save");

    let (token, expires) = store.load_access_token("default").unwrap().unwrap();
    assert_eq!(
        (token.expose(), expires),
        ("planted-access-1", 2_000_000_001)
    );
}

/// Row 23: umask 000 on first save still gives 0700 directories and 0600 files.
#[test]
fn modes_are_private_even_under_umask_000() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("nested").join("home");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"umask 000; exec "$0" "$@""#)
        .arg(std::env::current_exe().unwrap())
        .args(["umask_child", "--exact", "--nocapture", "--test-threads=1"])
        .env("STORE_TEST_UMASK_ROOT", &root)
        .status()
        .unwrap();
    assert!(status.success());
    // The control file proves the child really ran with umask 000.
    assert_eq!(mode(&dir.path().join("control")), 0o666);
    assert_eq!(mode(&root), 0o700);
    assert_eq!(mode(&root.join("profiles")), 0o700);
    assert_eq!(mode(&root.join("profiles/default.json")), 0o600);
    assert_eq!(mode(&root.join("profiles/default.lock")), 0o600);
    assert_eq!(mode(&root.join("config.json")), 0o600);
}

/// Runs inside the child started by `modes_are_private_even_under_umask_000`.
#[test]
fn umask_child() {
    let Some(root) = std::env::var_os("STORE_TEST_UMASK_ROOT").map(PathBuf::from) else {
        return;
    };
    let top = root.parent().unwrap().parent().unwrap();
    fs::write(top.join("control"), b"").unwrap();
    let store = file_store(root);
    store.save(&sample("default", 1)).unwrap();
    drop(store.lock("default").unwrap());
    store.set_default_profile("default").unwrap();
}

#[test]
fn existing_loose_directory_is_tightened() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("home");
    fs::create_dir(&root).unwrap();
    fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
    file_store(root.clone())
        .save(&sample("default", 1))
        .unwrap();
    assert_eq!(mode(&root), 0o700);
}

#[test]
fn refuses_a_symlinked_credential_file() {
    let dir = tempfile::tempdir().unwrap();
    let real = file_store(dir.path().join("real"));
    real.save(&sample("default", 1)).unwrap();
    let other = file_store(dir.path().join("other"));
    other.save(&sample("staging", 2)).unwrap();
    let link = other.profile_path("default").unwrap();
    symlink(real.profile_path("default").unwrap(), &link).unwrap();

    for err in [
        other.load("default").unwrap_err(),
        other.load_access_token("default").unwrap_err(),
    ] {
        assert!(matches!(err, StoreError::Symlink { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(&link.display().to_string()), "{text}");
        assert!(text.contains("symbolic link"), "{text}");
    }
}

#[test]
fn refuses_a_group_readable_credential_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path().join("home"));
    store.save(&sample("default", 1)).unwrap();
    let path = store.profile_path("default").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();

    let err = store.load("default").unwrap_err();
    assert!(
        matches!(err, StoreError::InsecurePermissions { mode: 0o644, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&format!("chmod 600 {}", path.display())),
        "{text}"
    );
    assert!(store.load_access_token("default").is_err());
    // Fixing it as told makes it readable again.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    assert!(store.load("default").unwrap().is_some());
}

#[test]
fn refuses_a_symlinked_directory() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    file_store(real.clone())
        .save(&sample("default", 1))
        .unwrap();
    let link = dir.path().join("link");
    symlink(&real, &link).unwrap();
    let store = file_store(link.clone());
    for err in [
        store.load("default").unwrap_err(),
        store.save(&sample("default", 2)).unwrap_err(),
    ] {
        assert!(matches!(err, StoreError::Symlink { .. }), "{err:?}");
        assert!(
            err.to_string().contains(&link.display().to_string()),
            "{err}"
        );
    }
}

#[test]
fn save_replaces_the_file_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path().join("home"));
    store.save(&sample("default", 1)).unwrap();
    let path = store.profile_path("default").unwrap();
    let first_inode = fs::metadata(&path).unwrap().ino();
    store.save(&sample("default", 2)).unwrap();
    // A new inode renamed over the old one: a reader holding the old file descriptor,
    // or racing the save, sees one complete version; nothing was rewritten in place.
    assert_ne!(fs::metadata(&path).unwrap().ino(), first_inode);
    let loaded = store.load("default").unwrap().unwrap();
    assert_eq!(loaded.refresh_token.expose(), "planted-refresh-2");
    let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn compare_and_clear_clears_only_the_failed_token() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path().join("home"));
    store.save(&sample("default", 2)).unwrap();

    // Another process already rotated to token 2; token 1 failing must not log us out.
    let stale = SecretString::from("planted-refresh-1");
    assert!(!store.compare_and_clear("default", &stale).unwrap());
    assert!(store.load("default").unwrap().is_some());

    let current = SecretString::from("planted-refresh-2");
    assert!(store.compare_and_clear("default", &current).unwrap());
    assert!(store.load("default").unwrap().is_none());
    assert!(!store.compare_and_clear("default", &current).unwrap());
}

#[test]
fn delete_removes_the_profile() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path().join("home"));
    store.save(&sample("default", 1)).unwrap();
    store.save(&sample("staging", 1)).unwrap();
    store.delete("default").unwrap();
    assert!(store.load("default").unwrap().is_none());
    assert!(!store.profile_path("default").unwrap().exists());
    assert_eq!(store.profiles().unwrap(), ["staging"]);
    store.delete("default").unwrap();

    // Even an insecure file can be deleted (logout must always work locally).
    let path = store.profile_path("staging").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    store.delete("staging").unwrap();
    assert!(!path.exists());
}

#[test]
fn profile_names_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path().join("home"));
    for bad in ["../escape", "a/b", "", "with space", "x.json"] {
        let err = store.save(&sample(bad, 1)).unwrap_err();
        assert!(
            matches!(err, StoreError::InvalidProfileName { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        assert!(store.load(bad).is_err());
        assert!(store.lock(bad).is_err());
        assert!(store.set_default_profile(bad).is_err());
    }
    assert!(!dir.path().join("escape.json").exists());
}

#[test]
fn profiles_index_and_default() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path().join("home"));
    assert!(store.profiles().unwrap().is_empty());
    assert_eq!(store.default_profile().unwrap(), "default");
    for name in ["staging", "default", "local"] {
        store.save(&sample(name, 1)).unwrap();
    }
    drop(store.lock("default").unwrap());
    assert_eq!(store.profiles().unwrap(), ["default", "local", "staging"]);
    store.set_default_profile("local").unwrap();
    assert_eq!(store.default_profile().unwrap(), "local");
    // A second handle on the same root sees it.
    assert_eq!(
        file_store(dir.path().join("home"))
            .default_profile()
            .unwrap(),
        "local"
    );
}

#[test]
fn truncated_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path().join("home"));
    store.save(&sample("default", 1)).unwrap();
    let path = store.profile_path("default").unwrap();
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = store.load("default").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("truncated") && text.contains(&path.display().to_string()),
        "{text}"
    );
    assert!(!text.contains("planted"), "{text}");
}

/// No token in any `Debug` or `Display` the store produces.
#[test]
fn secrets_never_appear_in_debug_or_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path().join("home"));
    let cred = sample("default", 7);
    let saved = store.save(&cred).unwrap();
    let loaded = store.load("default").unwrap().unwrap();
    let mut texts = vec![
        format!("{cred:?}"),
        format!("{cred:#?}"),
        format!("{loaded:?}"),
        format!("{saved:?}"),
        format!("{store:?}"),
    ];

    let path = store.profile_path("default").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let insecure = store.load("default").unwrap_err();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    // A file whose token sits where a number belongs: serde would quote it.
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, text.replace("2000000007", "\"planted-refresh-7\"")).unwrap();
    let corrupt = store.load("default").unwrap_err();
    for err in [insecure, corrupt] {
        texts.push(format!("{err:?}"));
        texts.push(err.to_string());
    }
    for text in texts {
        assert!(!text.contains("planted-"), "leaked a token: {text}");
    }
}
