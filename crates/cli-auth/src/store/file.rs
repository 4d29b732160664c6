//! Private files: a 0700 directory, 0600 files, atomic durable replace, paranoid reads.
//!
//! This module knows nothing about credentials: it moves bytes between memory and files
//! that only the current user can read. It owns the three rules of row 22–23 of the
//! threat model: a reader sees the old or the new content, never a torn one (temp file
//! in the same directory → write → fsync → rename → fsync the directory); modes are
//! set at creation, not fixed afterwards, so no umask ever exposes a byte; and a file
//! that is a symlink or readable by others is refused rather than trusted.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};

use zeroize::Zeroizing;

use super::StoreError;

/// Mode of the store directories.
#[cfg(unix)]
const DIR_MODE: u32 = 0o700;
/// Mode of every file we create.
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;
/// A temp file older than this was left by a writer that died (a write takes
/// milliseconds); it may hold a refresh token, so it is removed.
const STALE_TEMP_AGE: Duration = Duration::from_secs(60);

/// Makes sure `dir` exists, is a real directory (not a symlink) and has mode 0700.
///
/// Missing parents are created with default permissions (they are shared places such
/// as `~/.config`); only `dir` itself is ours and is forced to 0700, whatever the umask.
pub(crate) fn ensure_private_dir(dir: &Path) -> Result<(), StoreError> {
    match fs::symlink_metadata(dir) {
        Ok(meta) => check_dir(dir, &meta)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                fs::create_dir_all(parent)
                    .map_err(|e| StoreError::io("create directory", parent, e))?;
            }
            let mut builder = fs::DirBuilder::new();
            #[cfg(unix)]
            builder.mode(DIR_MODE);
            match builder.create(dir) {
                Ok(()) => {}
                // Another process created it between our stat and mkdir: check theirs.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(StoreError::io("create directory", dir, e)),
            }
            let meta = fs::symlink_metadata(dir).map_err(|e| StoreError::io("inspect", dir, e))?;
            check_dir(dir, &meta)?;
        }
        Err(e) => return Err(StoreError::io("inspect", dir, e)),
    }
    Ok(())
}

fn check_dir(dir: &Path, meta: &fs::Metadata) -> Result<(), StoreError> {
    if meta.file_type().is_symlink() {
        return Err(StoreError::Symlink { path: dir.into() });
    }
    if !meta.is_dir() {
        let e = io::Error::new(io::ErrorKind::NotADirectory, "it is not a directory");
        return Err(StoreError::io("use directory", dir, e));
    }
    // The mode passed to mkdir is filtered by the umask (e.g. 0277 would drop our own
    // write bit), and a directory made by hand may be 0755: set it explicitly.
    #[cfg(unix)]
    if meta.mode() & 0o777 != DIR_MODE {
        fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))
            .map_err(|e| StoreError::io("set permissions of", dir, e))?;
    }
    Ok(())
}

/// Reads a private file, or `None` if it does not exist.
///
/// Refuses a symlink (someone could point it at a file they can read later, or swap
/// our credentials for theirs) and a file with any group/other permission bit. The
/// check is made on the opened file too, so a swap between stat and open is caught.
pub(crate) fn read_private(path: &Path) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
    // A concurrent save renames a new file into place; retrying a few times turns that
    // benign race into a clean read of one version or the other.
    for _ in 0..3 {
        if let Some(read) = read_once(path)? {
            return Ok(read);
        }
    }
    Err(StoreError::Corrupt {
        path: path.into(),
        reason: "it kept changing while being read".into(),
    })
}

/// `Ok(None)` means "replaced between stat and open, try again".
#[allow(clippy::type_complexity)]
fn read_once(path: &Path) -> Result<Option<Option<Zeroizing<Vec<u8>>>>, StoreError> {
    let before = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Some(None)),
        Err(e) => return Err(StoreError::io("inspect", path, e)),
    };
    check_file(path, &before)?;
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Some(None)),
        Err(e) => return Err(StoreError::io("open", path, e)),
    };
    let opened = file
        .metadata()
        .map_err(|e| StoreError::io("inspect", path, e))?;
    // Comparing the inode we checked with the inode we opened closes the window in
    // which a symlink could be swapped in after the check.
    #[cfg(unix)]
    if (opened.dev(), opened.ino()) != (before.dev(), before.ino()) {
        return Ok(None);
    }
    check_file(path, &opened)?;
    let mut bytes = Zeroizing::new(Vec::with_capacity(opened.len() as usize));
    file.read_to_end(&mut bytes)
        .map_err(|e| StoreError::io("read", path, e))?;
    Ok(Some(Some(bytes)))
}

fn check_file(path: &Path, meta: &fs::Metadata) -> Result<(), StoreError> {
    if meta.file_type().is_symlink() {
        return Err(StoreError::Symlink { path: path.into() });
    }
    if !meta.is_file() {
        return Err(StoreError::Corrupt {
            path: path.into(),
            reason: "it is not a regular file".into(),
        });
    }
    #[cfg(unix)]
    if meta.mode() & 0o077 != 0 {
        return Err(StoreError::InsecurePermissions {
            path: path.into(),
            mode: meta.mode() & 0o7777,
        });
    }
    Ok(())
}

/// Replaces `dir/name` with `bytes` atomically and durably.
///
/// When this returns `Ok`, the new content survives a power cut; if the process dies at
/// any point before, `dir/name` still holds the complete old content (or is absent, if
/// it was). `dir` must already be private (see [`ensure_private_dir`]).
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
    remove_stale_temps(dir, name);
    let target = dir.join(name);
    let temp = temp_path(dir, name);
    let result = write_temp(&temp, bytes).and_then(|()| {
        // rename(2) within one directory is atomic: readers see the old inode or the new.
        fs::rename(&temp, &target).map_err(|e| StoreError::io("replace", &target, e))?;
        sync_dir(dir)
    });
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

fn write_temp(temp: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    // The mode is applied by open(2) itself, so the file is never readable by others,
    // not even for an instant; umask can only remove bits from 0600.
    #[cfg(unix)]
    options.mode(FILE_MODE);
    let mut file = options
        .open(temp)
        .map_err(|e| StoreError::io("create", temp, e))?;
    file.write_all(bytes)
        .map_err(|e| StoreError::io("write", temp, e))?;
    // Without this fsync a crash after the rename can leave a zero-length file on
    // ext4/xfs: the rename reaches the journal before the data blocks.
    file.sync_all()
        .map_err(|e| StoreError::io("flush", temp, e))
}

/// Deletes `dir/name` durably; a missing file is not an error.
pub(crate) fn remove(dir: &Path, name: &str) -> Result<(), StoreError> {
    let path = dir.join(name);
    match fs::remove_file(&path) {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::io("delete", &path, e)),
    }
}

/// Flushes a directory entry change (create, rename, unlink) to disk.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        let handle = File::open(dir).map_err(|e| StoreError::io("open", dir, e))?;
        handle
            .sync_all()
            .map_err(|e| StoreError::io("flush", dir, e))?;
    }
    // Windows cannot open a directory as a file; MoveFileEx with write-through is the
    // documented durable rename there, and std's rename already replaces atomically.
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A unique sibling name: hidden, and recognisable as ours by [`is_temp_name`].
fn temp_path(dir: &Path, name: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{name}.{}.{nanos}.{n}.tmp", std::process::id()))
}

/// Whether a directory entry is a temp file of ours (so listings can skip it).
pub(crate) fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}

/// Best effort: a failure here must not block a save.
fn remove_stale_temps(dir: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.");
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        if !(file_name.starts_with(&prefix) && is_temp_name(file_name)) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMP_AGE);
        if old {
            let _ = fs::remove_file(entry.path());
        }
    }
}
