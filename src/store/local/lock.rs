//! The writer lock: an exclusive advisory lock on `<index>/lock`, held for the whole of an
//! update so a second `simsum index` fails at once with "index is locked" instead of
//! interleaving writes. Readers never take it (SQLite gives them a consistent snapshot and graph
//! files are verified before use). The lock dies with the process, so a killed writer never
//! leaves a stale lock behind.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::Path;

use fs4::{FileExt, TryLockError};

use super::files::IndexFiles;
use crate::store::StoreError;

/// A held writer lock; released on drop.
#[derive(Debug)]
pub struct WriterLock {
    file: File,
}

impl WriterLock {
    /// Takes the lock of the index in `dir` without waiting.
    pub fn try_acquire(dir: &Path) -> Result<Self, StoreError> {
        let path = IndexFiles::new(dir).lock();
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                file.read_to_string(&mut holder).ok();
                return Err(StoreError::Locked {
                    dir: dir.to_path_buf(),
                    holder: holder.trim().to_string(),
                });
            }
            Err(TryLockError::Error(source)) => return Err(io(source)),
        }
        // Who holds it, for the error message of the next writer.
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        write!(file, "pid {}", std::process::id()).map_err(io)?;
        Ok(Self { file })
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = FileExt::unlock(&self.file);
    }
}
