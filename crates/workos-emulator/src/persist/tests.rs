//! Unit tests of the state directory: permissions, atomic replacement,
//! symlink refusal, the lock, and the key created once.

use time::OffsetDateTime;

use super::*;

fn dir() -> (tempfile::TempDir, StateDir) {
    let tmp = tempfile::tempdir().unwrap();
    let state = StateDir::open(&tmp.path().join("state")).unwrap();
    (tmp, state)
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_key_is_created_once_and_reloaded_with_the_same_kid() {
    let (_tmp, state) = dir();
    let first = state.load_or_create_key().unwrap();
    let again = StateDir::open(&state.path)
        .unwrap()
        .load_or_create_key()
        .unwrap();
    assert_eq!(first.kid(), again.kid());
    assert_eq!(first.pem(), again.pem());
}

#[cfg(unix)]
#[test]
fn the_directory_is_0700_and_every_file_0600() {
    let (_tmp, state) = dir();
    state.load_or_create_key().unwrap();
    let lock = state.lock().unwrap();
    state.save_sessions(&lock, &Sessions::default()).unwrap();
    assert_eq!(mode(&state.path), 0o700);
    for name in [LOCK_FILE, KEY_FILE, SESSIONS_FILE] {
        assert_eq!(mode(&state.path.join(name)), 0o600, "{name}");
    }
}

#[cfg(unix)]
#[test]
fn an_existing_loose_directory_is_tightened() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("loose");
    fs::create_dir(&path).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    StateDir::open(&path).unwrap();
    assert_eq!(mode(&path), 0o700);
}

#[test]
fn saving_replaces_the_file_and_leaves_no_temp_files() {
    let (_tmp, state) = dir();
    let lock = state.lock().unwrap();
    let mut sessions = Sessions::default();
    state.save_sessions(&lock, &sessions).unwrap();
    sessions.start("user_1", "client_a", None, None, OffsetDateTime::UNIX_EPOCH);
    state.save_sessions(&lock, &sessions).unwrap();
    assert_eq!(state.load_sessions(&lock).unwrap().iter().count(), 1);
    let names: Vec<String> = fs::read_dir(&state.path)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn a_missing_sessions_file_reads_as_empty_and_a_corrupt_one_is_an_error() {
    let (_tmp, state) = dir();
    let lock = state.lock().unwrap();
    assert_eq!(state.load_sessions(&lock).unwrap().iter().count(), 0);
    fs::write(state.path.join(SESSIONS_FILE), b"{").unwrap();
    let err = state.load_sessions(&lock).unwrap_err();
    assert!(err.to_string().contains(SESSIONS_FILE), "{err}");
}

#[cfg(unix)]
#[test]
fn symlinked_files_and_directories_are_refused() {
    let (tmp, state) = dir();
    let elsewhere = tmp.path().join("elsewhere.pem");
    fs::write(&elsewhere, b"x").unwrap();
    std::os::unix::fs::symlink(&elsewhere, state.path.join(KEY_FILE)).unwrap();
    assert!(state.load_or_create_key().is_err());
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&state.path, &link).unwrap();
    assert!(StateDir::open(&link).is_err());
}

#[test]
fn the_lock_excludes_a_second_handle_until_released() {
    let (_tmp, state) = dir();
    let held = state.lock().unwrap();
    let other = open_private(&state.path.join(LOCK_FILE), false).unwrap();
    assert!(other.try_lock().is_err());
    drop(held);
    assert!(other.try_lock().is_ok());
}
