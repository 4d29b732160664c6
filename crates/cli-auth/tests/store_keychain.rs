//! The keychain backend against a real Secret Service, and the `Auto` fallback when
//! there is none (row 24) or when it hangs.
//!
//! Needs a D-Bus session with an unlocked Secret Service, e.g.
//! `dbus-run-session -- sh -c 'echo -n test | gnome-keyring-daemon --unlock --components=secrets; cargo test -p cli-auth --test store_keychain'`.
//! Without one the Secret Service tests print why and return, unless
//! `WORKOS_CLI_AUTH_REQUIRE_SECRET_SERVICE=1`, which makes them fail (CI sets it).
#![cfg(target_os = "linux")]

mod store_support;

use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cli_auth::SecretString;
use cli_auth::store::{CredentialStore, KEYCHAIN_SERVICE, StoreError, StoreKind};
use keyring_core::{CredentialStore as NativeStore, Entry};
use store_support::{mode, rerun_self, sample};

/// `None` (after saying why) when no Secret Service answers and none is required.
fn secret_service(root: &Path, kind: StoreKind) -> Option<CredentialStore> {
    let store = CredentialStore::open(root.to_path_buf(), kind);
    match store.probe_keychain() {
        Ok(()) => Some(store),
        Err(e) if std::env::var("WORKOS_CLI_AUTH_REQUIRE_SECRET_SERVICE").as_deref() == Ok("1") => {
            panic!("WORKOS_CLI_AUTH_REQUIRE_SECRET_SERVICE=1 but no Secret Service: {e}")
        }
        Err(e) => {
            eprintln!("skipping: no Secret Service reachable ({e})");
            None
        }
    }
}

/// Reads the keychain entry directly, bypassing our store.
fn keychain_entry(account: &str) -> Option<String> {
    let native: Arc<NativeStore> = zbus_secret_service_keyring_store::Store::new().unwrap();
    match Entry::new_in_store(&native, KEYCHAIN_SERVICE, account)
        .unwrap()
        .get_password()
    {
        Ok(password) => Some(password),
        Err(keyring_core::Error::NoEntry) => None,
        Err(e) => panic!("reading the keychain directly: {e}"),
    }
}

/// Profile names unique to this run, so reruns and parallel tests never collide.
fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", std::process::id())
}

#[test]
fn keychain_round_trip_keeps_the_refresh_token_out_of_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let Some(store) = secret_service(dir.path(), StoreKind::Keychain) else {
        return;
    };
    let profile = unique("kc");
    let account = format!("{profile}:client_01TEST");

    let saved = store.save(&sample(&profile, 1)).unwrap();
    assert_eq!(saved.store, StoreKind::Keychain);
    assert_eq!(saved.location, "keychain (Secret Service)");
    assert_eq!(store.location(&profile), "keychain (Secret Service)");
    assert_eq!(
        keychain_entry(&account).as_deref(),
        Some("planted-refresh-1")
    );
    let file = std::fs::read_to_string(store.profile_path(&profile).unwrap()).unwrap();
    assert!(
        !file.contains("planted-refresh"),
        "refresh token leaked into the file"
    );
    assert!(
        file.contains("planted-access-1"),
        "access token is kept for the fast path"
    );

    let loaded = store.load(&profile).unwrap().unwrap();
    assert_eq!(loaded.refresh_token.expose(), "planted-refresh-1");
    assert_eq!(loaded.store, StoreKind::Keychain);
    let (token, _) = store.load_access_token(&profile).unwrap().unwrap();
    assert_eq!(token.expose(), "planted-access-1");

    // A refresh rotates the token in place.
    store.save(&sample(&profile, 2)).unwrap();
    assert_eq!(
        keychain_entry(&account).as_deref(),
        Some("planted-refresh-2")
    );

    assert!(
        !store
            .compare_and_clear(&profile, &SecretString::from("planted-refresh-1"))
            .unwrap()
    );
    assert!(
        store
            .compare_and_clear(&profile, &SecretString::from("planted-refresh-2"))
            .unwrap()
    );
    assert!(store.load(&profile).unwrap().is_none());
    assert_eq!(keychain_entry(&account), None);
}

#[test]
fn switching_to_the_file_backend_removes_the_keychain_entry() {
    let dir = tempfile::tempdir().unwrap();
    let Some(keychain) = secret_service(dir.path(), StoreKind::Keychain) else {
        return;
    };
    let profile = unique("switch");
    let account = format!("{profile}:client_01TEST");
    keychain.save(&sample(&profile, 1)).unwrap();
    assert!(keychain_entry(&account).is_some());

    let file = CredentialStore::open(dir.path().to_path_buf(), StoreKind::File);
    file.save(&sample(&profile, 2)).unwrap();
    assert_eq!(keychain_entry(&account), None);
    assert_eq!(
        file.load(&profile).unwrap().unwrap().refresh_token.expose(),
        "planted-refresh-2"
    );

    // And back: delete removes the entry too.
    keychain.save(&sample(&profile, 3)).unwrap();
    assert!(keychain_entry(&account).is_some());
    keychain.delete(&profile).unwrap();
    assert_eq!(keychain_entry(&account), None);
    assert!(keychain.load(&profile).unwrap().is_none());
}

#[test]
fn missing_keychain_entry_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let Some(store) = secret_service(dir.path(), StoreKind::Keychain) else {
        return;
    };
    let profile = unique("missing");
    store.save(&sample(&profile, 1)).unwrap();
    let native: Arc<NativeStore> = zbus_secret_service_keyring_store::Store::new().unwrap();
    Entry::new_in_store(
        &native,
        KEYCHAIN_SERVICE,
        &format!("{profile}:client_01TEST"),
    )
    .unwrap()
    .delete_credential()
    .unwrap();
    let err = store.load(&profile).unwrap_err();
    assert!(matches!(err, StoreError::MissingSecret { .. }), "{err:?}");
    assert!(err.to_string().contains("log in again"), "{err}");
    store.delete(&profile).unwrap();
}

#[test]
fn auto_uses_the_keychain_when_it_answers() {
    let dir = tempfile::tempdir().unwrap();
    let Some(store) = secret_service(dir.path(), StoreKind::Auto) else {
        return;
    };
    let profile = unique("auto");
    let saved = store.save(&sample(&profile, 1)).unwrap();
    assert_eq!(saved.store, StoreKind::Keychain);
    assert!(saved.fallback.is_none());
    store.delete(&profile).unwrap();
}

/// Row 24: no Secret Service (the bus address points nowhere) → an announced 0600 file.
#[test]
fn auto_falls_back_to_the_file_without_a_secret_service() {
    let dir = tempfile::tempdir().unwrap();
    let status = rerun_self("fallback_child")
        .env("STORE_TEST_FALLBACK_ROOT", dir.path().join("home"))
        .env(
            "STORE_TEST_FALLBACK_EXPECT",
            "no Secret Service on this machine",
        )
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/workos-cli-auth/bus",
        )
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(mode(&dir.path().join("home/profiles/default.json")), 0o600);
}

/// A bus that accepts connections and never answers: the timeout must turn it into a
/// fallback instead of a hang.
#[test]
fn auto_falls_back_when_the_keychain_hangs() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("silent-bus");
    let listener = UnixListener::bind(&socket).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream); // keep it open, say nothing
        }
    });
    let status = rerun_self("fallback_child")
        .env("STORE_TEST_FALLBACK_ROOT", dir.path().join("home"))
        .env("STORE_TEST_FALLBACK_EXPECT", "did not answer within")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", socket.display()),
        )
        .status()
        .unwrap();
    assert!(status.success());
}

/// Run by the two fallback tests, in a process whose D-Bus address they chose.
#[test]
fn fallback_child() {
    let Some(root) = std::env::var_os("STORE_TEST_FALLBACK_ROOT").map(PathBuf::from) else {
        return;
    };
    let expect = std::env::var("STORE_TEST_FALLBACK_EXPECT").unwrap();
    let store = CredentialStore::open(root, StoreKind::Auto)
        .with_keychain_timeout(Duration::from_millis(500));
    let saved = store.save(&sample("default", 1)).unwrap();
    assert_eq!(saved.store, StoreKind::File);
    let notice = saved.fallback.expect("the fallback is reported");
    let path = store.profile_path("default").unwrap();
    assert_eq!(notice.path, path);
    assert!(notice.reason.contains(&expect), "{notice:?}");
    let text = notice.to_string();
    assert!(
        text.starts_with(&format!(
            "credentials saved in plain text at {}",
            path.display()
        )),
        "{text}"
    );
    assert!(!format!("{notice:?}").contains("planted"), "{notice:?}");
    // The file now holds the refresh token, and loading needs no keychain.
    let loaded = store.load("default").unwrap().unwrap();
    assert_eq!(loaded.refresh_token.expose(), "planted-refresh-1");
    // Forcing the keychain instead is an error, not a silent fallback.
    let forced = CredentialStore::open(store.root().to_path_buf(), StoreKind::Keychain)
        .with_keychain_timeout(Duration::from_millis(500));
    let err = forced.save(&sample("other", 1)).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Keychain { .. } | StoreError::KeychainTimeout { .. }
        ),
        "{err:?}"
    );
    assert!(!err.to_string().contains("planted"), "{err}");
}

/// The `token` fast path reads the access token without contacting the keychain: the
/// child's bus is a socket we watch, and it must see no connection.
#[test]
fn fast_path_never_contacts_the_keychain() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("home");
    // A keychain-backed record, written by hand so no keychain is needed to set it up.
    let file_store = CredentialStore::open(root.clone(), StoreKind::File);
    file_store.save(&sample("default", 1)).unwrap();
    let path = file_store.profile_path("default").unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text
        .replace("\"store\": \"file\"", "\"store\": \"keychain\"")
        .replace("  \"refresh_token\": \"planted-refresh-1\",\n", "");
    std::fs::write(&path, text).unwrap();

    let socket = dir.path().join("watched-bus");
    let listener = UnixListener::bind(&socket).unwrap();
    listener.set_nonblocking(true).unwrap();
    let run = |mode: &str| {
        rerun_self("fast_path_child")
            .env("STORE_TEST_FAST_ROOT", &root)
            .env("STORE_TEST_FAST_MODE", mode)
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                format!("unix:path={}", socket.display()),
            )
            .status()
            .unwrap()
    };
    assert!(run("token").success());
    assert!(
        listener.accept().is_err(),
        "the fast path connected to the keychain"
    );
    // Control: a full load does go to the keychain for the refresh token.
    assert!(run("load").success());
    assert!(
        listener.accept().is_ok(),
        "load should have contacted the keychain"
    );
}

/// Run by `fast_path_never_contacts_the_keychain`.
#[test]
fn fast_path_child() {
    let Some(root) = std::env::var_os("STORE_TEST_FAST_ROOT").map(PathBuf::from) else {
        return;
    };
    let store = CredentialStore::open(root, StoreKind::Keychain)
        .with_keychain_timeout(Duration::from_millis(300));
    if std::env::var("STORE_TEST_FAST_MODE").unwrap() == "token" {
        let (token, expires) = store.load_access_token("default").unwrap().unwrap();
        assert_eq!(
            (token.expose(), expires),
            ("planted-access-1", 2_000_000_001)
        );
    } else {
        assert!(
            store.load("default").is_err(),
            "the silent keychain cannot answer"
        );
    }
}
