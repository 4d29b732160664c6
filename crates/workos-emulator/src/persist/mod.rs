//! The state directory: what outlives one emulator process, so a refresh
//! token issued by one process's in-process emulator can be refreshed by
//! another started later from the same directory.
//!
//! ```text
//! <state_dir>/            0700
//!   emulator.lock         0600  empty; exclusively locked around every read-modify-write
//!   signing-key.pem       0600  PKCS#8 RSA key, created on first start (stable `kid`)
//!   sessions.json         0600  live sessions: SHA-256 of refresh tokens, never the tokens
//! ```
//!
//! Writes are atomic (temp file in the same directory → fsync → rename →
//! fsync the directory), so a crash leaves the old or the new file, never a
//! torn one. Two processes may share a directory: every change takes the lock
//! and re-reads the file inside it, so no update is lost. Device-flow grants
//! live only in memory (they last minutes). Nothing here speaks HTTP.

mod sessions_file;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use crate::EmulatorError;
use crate::ids;
use crate::tokens::{Sessions, SigningKey};

const LOCK_FILE: &str = "emulator.lock";
const KEY_FILE: &str = "signing-key.pem";
const SESSIONS_FILE: &str = "sessions.json";

/// A state directory, created (or tightened) to 0700 when opened.
#[derive(Debug, Clone)]
pub(crate) struct StateDir {
    path: PathBuf,
}

/// Proof that the directory lock is held; released when dropped.
#[derive(Debug)]
pub(crate) struct StateLock {
    _file: File,
}

impl StateDir {
    /// Opens `path`, creating it (and missing parents) if needed. The
    /// directory itself is set to 0700: it holds a private key.
    pub(crate) fn open(path: &Path) -> Result<Self, EmulatorError> {
        let err = |source| EmulatorError::StateDir {
            path: path.to_owned(),
            source,
        };
        if let Ok(meta) = fs::symlink_metadata(path)
            && meta.file_type().is_symlink()
        {
            return Err(err(refused("is a symlink")));
        }
        fs::create_dir_all(path).map_err(err)?;
        restrict(path, 0o700).map_err(err)?;
        Ok(Self {
            path: path.to_owned(),
        })
    }

    /// Blocks until this process holds the exclusive lock on the directory
    /// (an OS file lock, so it excludes other processes and other handles
    /// in this one). Held only for short synchronous sections.
    pub(crate) fn lock(&self) -> Result<StateLock, EmulatorError> {
        let path = self.path.join(LOCK_FILE);
        let file = open_private(&path, false)
            .and_then(|f| f.lock().map(|()| f))
            .map_err(|source| EmulatorError::StateDir { path, source })?;
        Ok(StateLock { _file: file })
    }

    /// The signing key in `signing-key.pem`, generated and written on first
    /// use. The lock makes two first starts agree on one key.
    pub(crate) fn load_or_create_key(&self) -> Result<SigningKey, EmulatorError> {
        let _lock = self.lock()?;
        let path = self.path.join(KEY_FILE);
        match read_private(&path).map_err(|source| self.error(KEY_FILE, source))? {
            Some(bytes) => {
                let pem = String::from_utf8(bytes)
                    .map_err(|_| self.error(KEY_FILE, invalid("not UTF-8 PEM text")))?;
                SigningKey::from_pem(&pem)
            }
            None => {
                let key = SigningKey::generate()?;
                self.write_atomic(KEY_FILE, key.pem().as_bytes())?;
                tracing::info!(path = %path.display(), kid = key.kid(), "created the signing key");
                Ok(key)
            }
        }
    }

    /// Reads `sessions.json` (empty when absent). Takes the lock as a
    /// witness: a read outside it could miss another process's update.
    pub(crate) fn load_sessions(&self, _lock: &StateLock) -> Result<Sessions, EmulatorError> {
        let path = self.path.join(SESSIONS_FILE);
        match read_private(&path).map_err(|source| self.error(SESSIONS_FILE, source))? {
            None => Ok(Sessions::default()),
            Some(bytes) => sessions_file::decode(&bytes)
                .map_err(|reason| self.error(SESSIONS_FILE, invalid(&reason))),
        }
    }

    /// Replaces `sessions.json` atomically.
    pub(crate) fn save_sessions(
        &self,
        _lock: &StateLock,
        sessions: &Sessions,
    ) -> Result<(), EmulatorError> {
        let bytes = sessions_file::encode(sessions)
            .map_err(|reason| self.error(SESSIONS_FILE, invalid(&reason)))?;
        self.write_atomic(SESSIONS_FILE, &bytes)
    }

    /// Temp file (0600, `create_new`) → write → fsync → rename → fsync dir.
    fn write_atomic(&self, name: &str, bytes: &[u8]) -> Result<(), EmulatorError> {
        let tmp = self.path.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            ids::random_string(ids::ALPHANUMERIC, 8)
        ));
        let result = (|| {
            let mut file = open_private(&tmp, true)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            drop(file);
            fs::rename(&tmp, self.path.join(name))?;
            sync_dir(&self.path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map_err(|source| self.error(name, source))
    }

    fn error(&self, name: &str, source: io::Error) -> EmulatorError {
        EmulatorError::StateDir {
            path: self.path.join(name),
            source,
        }
    }
}

/// Opens (or with `create_new`, creates) a file readable by the owner only.
fn open_private(path: &Path, create_new: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true).truncate(false);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    // The mode above is filtered by the umask; state it exactly.
    restrict(path, 0o600)?;
    Ok(file)
}

/// The file's bytes, `None` if it does not exist. Symlinks are refused, so
/// the directory cannot be used to read or clobber files elsewhere.
fn read_private(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
        Ok(meta) if !meta.file_type().is_file() => return Err(refused("is not a regular file")),
        Ok(_) => {}
    }
    fs::read(path).map(Some)
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

/// Makes a rename durable (POSIX: the directory entry is data of the
/// directory). Windows cannot open directories this way and needs no fsync.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

fn refused(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, why.to_owned())
}

fn invalid(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.to_owned())
}

#[cfg(test)]
mod tests;
