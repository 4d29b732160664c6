//! The per-profile lock: a second holder, in another thread or another process, waits
//! until the first drops its guard (or dies), and a bounded wait ends in a clear error.
#![cfg(unix)]

mod store_support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use cli_auth::store::{CredentialStore, StoreError, StoreKind};
use store_support::rerun_self;

fn store(root: &Path) -> CredentialStore {
    CredentialStore::open(root.to_path_buf(), StoreKind::File)
}

fn wait_for(path: &Path) {
    while !path.exists() {
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn second_thread_waits_for_the_guard() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("home");
    let guard = store(&root).lock("default").unwrap();

    // While held, a non-waiting attempt fails with a message naming profile and file.
    let err = store(&root)
        .with_lock_wait(Duration::ZERO)
        .lock("default")
        .unwrap_err();
    assert!(matches!(err, StoreError::LockTimeout { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("\"default\"") && text.contains("default.lock"),
        "{text}"
    );
    // Other profiles are independent.
    drop(
        store(&root)
            .with_lock_wait(Duration::ZERO)
            .lock("staging")
            .unwrap(),
    );

    let released = Arc::new(AtomicBool::new(false));
    let waiter = {
        let (root, released) = (root.clone(), Arc::clone(&released));
        thread::spawn(move || {
            let _guard = store(&root).lock("default").unwrap();
            released.load(Ordering::SeqCst)
        })
    };
    thread::sleep(Duration::from_millis(100)); // let the waiter block; not asserted on
    released.store(true, Ordering::SeqCst);
    drop(guard);
    assert!(
        waiter.join().unwrap(),
        "the waiter got the lock before it was released"
    );
}

#[test]
fn second_process_waits_for_the_guard() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("home");
    let mut child = rerun_self("lock_holder")
        .env("STORE_TEST_LOCK_DIR", dir.path())
        .spawn()
        .unwrap();
    wait_for(&dir.path().join("held"));

    let err = store(&root)
        .with_lock_wait(Duration::ZERO)
        .lock("default")
        .unwrap_err();
    assert!(matches!(err, StoreError::LockTimeout { .. }), "{err:?}");

    let waiter = {
        let (root, marker) = (root.clone(), dir.path().join("releasing"));
        thread::spawn(move || {
            let _guard = store(&root).lock("default").unwrap();
            marker.exists()
        })
    };
    std::fs::write(dir.path().join("release"), b"").unwrap();
    assert!(
        waiter.join().unwrap(),
        "got the lock while the child still held it"
    );
    assert!(child.wait().unwrap().success());
}

/// Run by `second_process_waits_for_the_guard`: hold the lock until told to release.
#[test]
fn lock_holder() {
    let Some(dir) = std::env::var_os("STORE_TEST_LOCK_DIR").map(PathBuf::from) else {
        return;
    };
    let guard = store(&dir.join("home")).lock("default").unwrap();
    std::fs::write(dir.join("held"), b"").unwrap();
    wait_for(&dir.join("release"));
    std::fs::write(dir.join("releasing"), b"").unwrap();
    drop(guard);
}

#[test]
fn a_killed_holder_releases_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("home");
    let mut child = rerun_self("lock_holder")
        .env("STORE_TEST_LOCK_DIR", dir.path())
        .spawn()
        .unwrap();
    wait_for(&dir.path().join("held"));
    child.kill().unwrap(); // SIGKILL: no destructor runs, the OS drops the lock
    child.wait().unwrap();
    drop(store(&root).lock("default").unwrap());
    assert!(!dir.path().join("releasing").exists());
}
