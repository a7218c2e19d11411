//! Every path of an index directory, and the one way a file gets there. [`IndexFiles`] names
//! each file (`manifest.json`, `index.sqlite`, `lock`, `themes.json`, `graph/<level>/`) and is
//! the only code that writes or replaces them: small files through [`write_atomic`] (a unique
//! temporary name, fsync of the file, rename, fsync of the folder), a graph by filling a fresh
//! folder and swapping it into place. Each JSON file carries a format version its reader checks.
//!
//! So a process killed at any instant leaves every file either as it was or as it was meant to
//! be, never half written; the database has its own journal (see `sqlite.rs`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::layout::{FORMAT_VERSION, OLDEST_READABLE_FORMAT};
use super::manifest::Manifest;
use crate::store::{Level, SavedThemes, StoreError};

/// The human-readable manifest (JSON).
pub const MANIFEST_FILE: &str = "manifest.json";
/// The SQLite database: the source of truth for documents, items and vectors.
pub const DB_FILE: &str = "index.sqlite";
/// The writer lock file.
pub const LOCK_FILE: &str = "lock";
/// Folder of derived HNSW graphs, one sub-folder per level.
pub const GRAPH_DIR: &str = "graph";
/// The last theme report (JSON), kept for `summarize --theme` and the server.
pub const THEMES_FILE: &str = "themes.json";
/// Version of the `themes.json` layout. A report of another version (or of none: written before
/// versions) is treated as absent and made again from the index, as any derived file is.
pub const THEMES_FORMAT: u32 = 1;

/// Writes `bytes` to `path` so that a reader (or a crash) sees the old file or the new one,
/// never a mix: a temporary file with a unique name in the same folder, fsynced, renamed over
/// `path`, then the folder fsynced so the rename itself survives a power loss.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::model::write_atomic(path, bytes)
}

/// Makes a folder's entries (creations, renames) durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        // Windows cannot open a folder as a file; NTFS journals renames itself.
        let _ = dir;
        Ok(())
    }
}

/// `themes.json`: the saved report with the layout version in front.
#[derive(Serialize, Deserialize)]
struct ThemesFile {
    format_version: u32,
    #[serde(flatten)]
    saved: SavedThemes,
}

/// The paths of one index directory; the only writer of its files.
#[derive(Debug, Clone)]
pub struct IndexFiles {
    dir: PathBuf,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl IndexFiles {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    /// The index directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn manifest(&self) -> PathBuf {
        self.dir.join(MANIFEST_FILE)
    }

    pub fn db(&self) -> PathBuf {
        self.dir.join(DB_FILE)
    }

    pub fn lock(&self) -> PathBuf {
        self.dir.join(LOCK_FILE)
    }

    pub fn themes(&self) -> PathBuf {
        self.dir.join(THEMES_FILE)
    }

    fn graph_root(&self) -> PathBuf {
        self.dir.join(GRAPH_DIR)
    }

    /// The folder of a level's saved graph.
    pub fn graph(&self, level: Level) -> PathBuf {
        self.graph_root().join(level.as_str())
    }

    /// Creates the index directory (for a new index).
    pub fn create_dir(&self) -> Result<(), StoreError> {
        std::fs::create_dir_all(&self.dir).map_err(io_err(&self.dir))
    }

    /// Reads `manifest.json`, checking its format version before the rest so that a newer
    /// format is reported as such.
    pub fn read_manifest(&self) -> Result<Manifest, StoreError> {
        let path = self.manifest();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound {
                    dir: self.dir.clone(),
                })
            }
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        let bad = |reason: String| StoreError::Manifest {
            path: path.clone(),
            reason,
        };
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        let found = value
            .get("format_version")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| bad("no `format_version`".into()))? as u32;
        if found > FORMAT_VERSION {
            return Err(StoreError::NewerFormat {
                path,
                found,
                supported: FORMAT_VERSION,
            });
        }
        if found < OLDEST_READABLE_FORMAT {
            return Err(StoreError::OlderFormat {
                path,
                found,
                oldest: OLDEST_READABLE_FORMAT,
            });
        }
        serde_json::from_value(value).map_err(|e| bad(e.to_string()))
    }

    /// Whether the directory has a manifest (an index was created here).
    pub fn has_manifest(&self) -> bool {
        self.manifest().exists()
    }

    pub fn write_manifest(&self, m: &Manifest) -> Result<(), StoreError> {
        let path = self.manifest();
        let mut json = serde_json::to_vec_pretty(m).expect("manifest serialises");
        json.push(b'\n');
        write_atomic(&path, &json).map_err(io_err(&path))
    }

    /// The saved theme report; `None` when there is none, or it is unreadable or of another
    /// layout version (it is made again from the index).
    pub fn read_themes(&self) -> Result<Option<SavedThemes>, StoreError> {
        let path = self.themes();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        Ok(serde_json::from_slice::<ThemesFile>(&bytes)
            .ok()
            .filter(|f| f.format_version == THEMES_FORMAT)
            .map(|f| f.saved))
    }

    pub fn write_themes(&self, saved: &SavedThemes) -> Result<(), StoreError> {
        let path = self.themes();
        let file = ThemesFile {
            format_version: THEMES_FORMAT,
            saved: saved.clone(),
        };
        let json = serde_json::to_vec(&file).expect("theme report serialises");
        write_atomic(&path, &json).map_err(io_err(&path))
    }

    /// Replaces a level's graph folder: `fill` writes the new graph into a fresh folder with a
    /// name unique to this process, which is fsynced and then swapped into place. A crash
    /// leaves the old graph, no graph (readers then search exactly and the next writer builds
    /// it), or the new one; leftovers are cleared by [`Self::clear_leftovers`].
    pub fn replace_graph(
        &self,
        level: Level,
        fill: impl FnOnce(&Path) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let root = self.graph_root();
        std::fs::create_dir_all(&root).map_err(io_err(&root))?;
        let pid = std::process::id();
        let tmp = root.join(format!("{}.tmp-{pid}", level.as_str()));
        let _ = std::fs::remove_dir_all(&tmp);
        fill(&tmp)?;
        sync_dir(&tmp).map_err(io_err(&tmp))?;
        let target = self.graph(level);
        let old = root.join(format!("{}.old-{pid}", level.as_str()));
        if target.exists() {
            std::fs::rename(&target, &old).map_err(io_err(&target))?;
        }
        std::fs::rename(&tmp, &target).map_err(io_err(&tmp))?;
        sync_dir(&root).map_err(io_err(&root))?;
        let _ = std::fs::remove_dir_all(&old);
        Ok(())
    }

    /// Deletes a level's graph (the level became small enough for exact search).
    pub fn remove_graph(&self, level: Level) -> Result<(), StoreError> {
        let dir = self.graph(level);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
        }
        Ok(())
    }

    /// Removes what a killed writer may have left: temporary files of [`write_atomic`] and
    /// half-written or superseded graph folders. Only a writer holding the lock calls this, so
    /// none of them is in use.
    pub fn clear_leftovers(&self) {
        let is_tmp = |name: &str| name.starts_with(".tmp");
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                if is_tmp(&e.file_name().to_string_lossy()) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        if let Ok(entries) = std::fs::read_dir(self.graph_root()) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.contains(".tmp-") || name.contains(".old-") {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    }

    /// Moves an unreadable database aside (kept for inspection, named with `stamp`) and drops
    /// the graphs derived from it, before a rebuild starts a fresh one.
    pub fn set_aside_broken(&self, stamp: u64) -> Result<(), StoreError> {
        for name in [
            DB_FILE.to_string(),
            format!("{DB_FILE}-wal"),
            format!("{DB_FILE}-shm"),
        ] {
            let p = self.dir.join(&name);
            if p.exists() {
                let to = self.dir.join(format!("{name}.broken-{stamp}"));
                std::fs::rename(&p, &to).map_err(io_err(&p))?;
            }
        }
        let _ = std::fs::remove_dir_all(self.graph_root());
        sync_dir(&self.dir).map_err(io_err(&self.dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary_file() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("a.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.json"]);
    }

    #[test]
    fn themes_of_another_layout_version_read_as_absent() {
        let tmp = tempfile::tempdir().unwrap();
        let files = IndexFiles::new(tmp.path());
        assert!(files.read_themes().unwrap().is_none());
        // Written before versions: no `format_version`.
        std::fs::write(files.themes(), br#"{"generation":1,"report":{}}"#).unwrap();
        assert!(files.read_themes().unwrap().is_none());
        std::fs::write(files.themes(), br#"{"format_version":99,"generation":1}"#).unwrap();
        assert!(files.read_themes().unwrap().is_none());
    }
}
