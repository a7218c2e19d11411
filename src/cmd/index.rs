//! `simsum index PATH...`: ingest files, embed new or changed items, store them in the index
//! directory and say what changed. Bad files are reported and skipped (exit code 1); what was
//! indexed from them before is kept.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use simsum::index::{IndexWriter, UpdateOptions};

/// Arguments of `simsum index`.
#[derive(Debug, clap::Args)]
pub struct IndexArgs {
    /// Files or folders to index.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Drop everything stored and index from scratch (also the fix for a model change or a
    /// corrupt index).
    #[arg(long)]
    pub rebuild: bool,
    /// Input format for all files (default: detected per file).
    #[arg(long)]
    pub format: Option<String>,
    /// Texts per embedding batch.
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// Print what was done as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `simsum index`.
pub fn run(g: &super::Global, a: IndexArgs) -> anyhow::Result<ExitCode> {
    let embedder = super::load_embedder(g)?;
    let started = std::time::Instant::now();
    let mut writer = IndexWriter::open(&g.index, &embedder.model_id(), embedder.dim(), a.rebuild)?;
    let opts = ingest_shim::IngestOptions {
        format: a.format.clone(),
        max_tokens: embedder.max_tokens(),
        verbose: g.verbose,
    };
    let count = |t: &str| embedder.count_tokens(t);
    let report = ingest_shim::ingest_paths(&a.paths, &opts, &count);
    for s in &report.skipped {
        match s.line {
            Some(l) => eprintln!("skipped {}:{l}: {}", s.path.display(), s.reason),
            None => eprintln!("skipped {}: {}", s.path.display(), s.reason),
        }
    }
    if g.verbose {
        report.notes.iter().for_each(|n| eprintln!("note: {n}"));
    }
    let bar = if std::io::stderr().is_terminal() && !a.json {
        indicatif::ProgressBar::new(0).with_style(
            indicatif::ProgressStyle::with_template("embedding {bar:30} {pos}/{len} texts ({eta})")
                .expect("valid template"),
        )
    } else {
        indicatif::ProgressBar::hidden()
    };
    let progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let update = UpdateOptions {
        scope: a.paths.clone(),
        keep_paths: report.skipped.iter().map(|s| s.path.clone()).collect(),
        rebuild: a.rebuild,
        batch_size: a.batch_size,
    };
    let stats = writer
        .update(&report.documents, embedder.as_ref(), &update, &progress)
        .with_context(|| format!("updating index {}", g.index.display()))?;
    bar.finish_and_clear();
    let counts = writer.index().manifest().counts.clone();
    let items = stats.items();
    if a.json {
        let out = serde_json::json!({
            "index": g.index,
            "documents_read": report.documents.len(),
            "skipped": report.skipped.iter().map(|s| serde_json::json!({"path": s.path, "line": s.line, "reason": s.reason})).collect::<Vec<_>>(),
            "added": items.added, "updated": items.updated, "removed": items.removed, "unchanged": items.unchanged,
            "stats": stats,
            "counts": counts,
            "seconds": started.elapsed().as_secs_f64(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "added {}, updated {}, removed {}, unchanged {}",
            items.added, items.updated, items.removed, items.unchanged
        );
        println!(
            "{} documents, {} sections, {} initiatives, {} sentences in {}; embedded {} texts in {:.1} s",
            counts.documents,
            counts.sections,
            counts.initiatives,
            counts.sentences,
            g.index.display(),
            stats.embedded,
            started.elapsed().as_secs_f64()
        );
        if g.verbose {
            for (level, what) in &stats.graphs {
                eprintln!("graph {level}: {what}");
            }
        }
    }
    Ok(if report.skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// TEMPORARY: a minimal stand-in for `simsum::ingest::ingest_paths` (same signature) until the
/// ingestion module lands on main; remove it then and call the real one.
mod ingest_shim {
    use std::path::{Path, PathBuf};

    use sha2::{Digest, Sha256};
    use simsum::ingest::{Document, Initiative, Section, Sentence};

    #[derive(Debug, Default, Clone)]
    #[allow(dead_code)]
    pub struct IngestOptions {
        pub format: Option<String>,
        pub max_tokens: usize,
        pub verbose: bool,
    }

    pub struct Skipped {
        pub path: PathBuf,
        pub line: Option<usize>,
        pub reason: String,
    }

    pub struct IngestReport {
        pub documents: Vec<Document>,
        pub skipped: Vec<Skipped>,
        pub notes: Vec<String>,
    }

    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            entries.sort();
            entries.iter().for_each(|e| walk(e, out));
        } else {
            out.push(p.to_path_buf());
        }
    }

    pub fn ingest_paths(
        paths: &[PathBuf],
        _opts: &IngestOptions,
        _count_tokens: &dyn Fn(&str) -> usize,
    ) -> IngestReport {
        let mut files = Vec::new();
        paths.iter().for_each(|p| walk(p, &mut files));
        let mut report = IngestReport {
            documents: Vec::new(),
            skipped: Vec::new(),
            notes: Vec::new(),
        };
        for f in files {
            if f.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                continue;
            }
            match std::fs::read(&f).map_err(|e| e.to_string()).and_then(|b| {
                String::from_utf8(b.clone())
                    .map(|t| (t, b))
                    .map_err(|_| "not UTF-8 text".to_string())
            }) {
                Ok((text, bytes)) => report.documents.push(parse(&f, &text, &bytes)),
                Err(reason) => report.skipped.push(Skipped {
                    path: f,
                    line: None,
                    reason,
                }),
            }
        }
        report
    }

    fn parse(path: &Path, text: &str, bytes: &[u8]) -> Document {
        let id: String = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_lowercase())
            .unwrap_or_default()
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '-' })
            .collect();
        let mut doc = Document {
            id: id.clone(),
            title: String::new(),
            date: None,
            source: None,
            path: path.to_path_buf(),
            content_hash: hex::encode(Sha256::digest(bytes)),
            format: "text".into(),
            metadata: Default::default(),
            sections: Vec::new(),
        };
        let new_section = |n: usize, heading: &str| Section {
            id: format!("{id}#s{n}"),
            ordinal: n,
            heading: heading.to_string(),
            number: None,
            byte_range: (0, 0),
            captions: Vec::new(),
            initiatives: Vec::new(),
        };
        doc.sections.push(new_section(0, ""));
        for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
            if doc.title.is_empty() {
                let mut lines = para.lines();
                doc.title = lines.next().unwrap_or_default().trim().to_string();
                for l in lines {
                    if let Some(d) = l.strip_prefix("Date:") {
                        doc.date = Some(d.trim().to_string());
                    } else if let Some(s) = l.strip_prefix("Source:") {
                        doc.source = Some(s.trim().to_string());
                    }
                }
                continue;
            }
            if para.starts_with("fontSize:") {
                continue;
            }
            let is_heading = para.len() < 150
                && !para.ends_with(['.', '!', '?', '"', ':'])
                && !para.contains('\n');
            if is_heading {
                let n = doc.sections.len();
                doc.sections.push(new_section(n, para));
                continue;
            }
            let section = doc.sections.last_mut().expect("one section");
            let pid = format!("{}.p{}", section.id, section.initiatives.len() + 1);
            let mut sentences = Vec::new();
            let mut start = 0;
            for (i, c) in para.char_indices() {
                let end = i + c.len_utf8();
                let at_break = matches!(c, '.' | '!' | '?') && para[end..].starts_with(' ');
                if at_break || end == para.len() {
                    let s = para[start..end].trim();
                    if !s.is_empty() {
                        let off = start + para[start..end].find(s).unwrap_or(0);
                        sentences.push(Sentence {
                            text: s.to_string(),
                            byte_range: (off, off + s.len()),
                        });
                    }
                    start = end;
                }
            }
            section.initiatives.push(Initiative {
                id: pid,
                text: para.to_string(),
                boilerplate: false,
                sentences,
            });
        }
        doc.sections.retain(|s| !s.initiatives.is_empty());
        doc
    }
}
