//! Row 22 (acceptance): `kill -9` during a credential write leaves the old or the new
//! record intact, never a truncated or unreadable one.
//!
//! A child process (this test binary, re-run as `crash_writer`) saves records with
//! growing content in a tight loop; the parent SIGKILLs it after a random short delay,
//! 50 times, and after each kill loads the profile. Delays only spread the kills over
//! different points of the write; nothing here measures speed.
#![cfg(unix)]

mod store_support;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use cli_auth::store::{CredentialStore, StoreKind, StoredCredential};
use store_support::{rerun_self, sample};

const KILLS: u32 = 50;

/// A record whose every field is derived from `n`, with a body that grows and shrinks
/// so successive files have different lengths (a torn write then shows as a mix).
fn record(n: u64) -> StoredCredential {
    let mut cred = sample("default", n);
    let pad = "x".repeat((n as usize * 37) % 3000);
    cred.refresh_token = format!("planted-refresh-{n}-{pad}").into();
    cred
}

/// Checks that `cred` is exactly what `record(n)` wrote for one `n`, and returns `n`.
fn check_consistent(cred: &StoredCredential) -> u64 {
    let n: u64 = cred.user_id.strip_prefix("user_").unwrap().parse().unwrap();
    let want = record(n);
    assert_eq!(cred.refresh_token.expose(), want.refresh_token.expose());
    assert_eq!(
        cred.access_token.as_ref().unwrap().expose(),
        want.access_token.as_ref().unwrap().expose()
    );
    assert_eq!(cred.session_id, want.session_id);
    assert_eq!(cred.email, want.email);
    assert_eq!(cred.access_token_expires_at, want.access_token_expires_at);
    n
}

/// xorshift seeded from the clock: varied kill points without a rand dependency.
fn next_delay(state: &mut u64) -> Duration {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    Duration::from_micros(2_000 + *state % 40_000)
}

#[test]
fn kill_during_save_leaves_old_or_new_record() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("home");
    let store = CredentialStore::open(root.clone(), StoreKind::File);
    let mut seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut last_seen: Option<u64> = None;
    let mut next_start = 0u64;
    for kill in 0..KILLS {
        let mut child = rerun_self("crash_writer")
            .env("STORE_TEST_CRASH_ROOT", &root)
            .env("STORE_TEST_CRASH_START", next_start.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(next_delay(&mut seed));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();

        let loaded = store
            .load("default")
            .unwrap_or_else(|e| panic!("after kill {kill}: unreadable store: {e}"));
        match loaded {
            Some(cred) => {
                let n = check_consistent(&cred);
                // Never older than what a previous round already saw on disk.
                assert!(last_seen.is_none_or(|prev| n >= prev), "went back in time");
                last_seen = Some(n);
                next_start = n + 1;
            }
            None => assert!(last_seen.is_none(), "after kill {kill}: record vanished"),
        }
        next_start += 1_000;
    }
    assert!(last_seen.is_some(), "the writer never completed a save");
}

/// The writer run by `kill_during_save_leaves_old_or_new_record`; a no-op otherwise.
#[test]
fn crash_writer() {
    let Some(root) = std::env::var_os("STORE_TEST_CRASH_ROOT").map(PathBuf::from) else {
        return;
    };
    let start: u64 = std::env::var("STORE_TEST_CRASH_START")
        .unwrap()
        .parse()
        .unwrap();
    let store = CredentialStore::open(root, StoreKind::File);
    for n in start.. {
        store.save(&record(n)).unwrap();
    }
}
