//! The per-profile lock that serialises refreshes across processes.
//!
//! Rotating refresh tokens make "two processes refresh at once" a logout: the loser
//! presents a token the winner already rotated out (aws-cli, wrangler and prisma
//! users hit this). The rule (threat model, "cross-process single flight") is: take
//! this lock, then re-read the store, and refresh only if the stored token is still
//! stale. The lock is an OS advisory lock (`flock` on Unix, `LockFileEx` on Windows)
//! on a dedicated empty `<profile>.lock` file, never on the data file, because the
//! data file is replaced by rename on every save and a lock on a replaced inode
//! protects nothing. The OS drops the lock when the process dies, so a crash never
//! leaves a profile locked.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;

use super::StoreError;

/// How long [`CredentialStore::lock`](super::CredentialStore::lock) waits by default:
/// far longer than one refresh round trip, short enough that a wedged process is
/// reported instead of hanging every `token` call behind it.
pub(crate) const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(30);

/// Between attempts; locks are held for one HTTP round trip, so polling is cheap.
const RETRY_EVERY: Duration = Duration::from_millis(20);

/// An exclusive lock on one profile, released when dropped (or when the process exits).
#[derive(Debug)]
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ProfileLock {
    // Held only for its lock; closing the handle releases it.
    _file: File,
    path: PathBuf,
}

impl ProfileLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Waits up to `wait` for the exclusive lock on `path`, creating the file if needed.
#[allow(clippy::incompatible_msrv)]
pub(crate) fn acquire(
    profile: &str,
    path: PathBuf,
    wait: Duration,
) -> Result<ProfileLock, StoreError> {
    let mut options = OpenOptions::new();
    // write access is what Windows wants for LockFileEx; truncate is never asked for,
    // the file stays empty.
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    options.mode(0o600);
    let file = options
        .open(&path)
        .map_err(|e| StoreError::io("open lock file", &path, e))?;
    // std's blocking lock() has no timeout, so poll try_lock() against a deadline.
    // File::try_lock is stable since Rust 1.89; the workspace's declared MSRV (1.88)
    // must be raised to 1.89 for this crate (reported to the lead).
    let deadline = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(ProfileLock { _file: file, path }),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                thread::sleep(RETRY_EVERY);
            }
            Err(TryLockError::WouldBlock) => {
                return Err(StoreError::LockTimeout {
                    profile: profile.to_owned(),
                    path,
                    seconds: wait.as_secs(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(StoreError::io("lock", &path, e)),
        }
    }
}
