//! `simsum index PATH...`: ingest files, embed new or changed items, store them in the index
//! directory and say what changed. Bad files are reported and skipped (exit code 1); what was
//! indexed from them before is kept.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use simsum::store::update::{index_paths, IndexPathsOptions, Shard};

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
    /// Input format for all files: seed, text, markdown, html, jsonl or pdf (default: detected
    /// per file).
    #[arg(long, value_parser = super::input_format_value)]
    pub format: Option<String>,
    /// Texts per embedding batch.
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// Index only shard I of N (files by path hash), so N writers can index one corpus into
    /// one Milvus store at once. Files of other shards are neither read nor removed.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Print what was done as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `simsum index`.
pub fn run(g: &super::Global, a: IndexArgs) -> anyhow::Result<ExitCode> {
    let embedder = super::load_embedder(g)?;
    let started = std::time::Instant::now();
    let url = g.store_url()?;
    let mut writer =
        g.open_shard_writer(embedder.as_ref(), a.rebuild, a.shard.unwrap_or(Shard::ALL))?;
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
    let opts = IndexPathsOptions {
        ingest: simsum::ingest::IngestOptions {
            format: a.format.clone(),
            max_tokens: embedder.max_tokens(),
            verbose: g.verbose,
        },
        shard: a.shard,
        rebuild: a.rebuild,
        batch_size: a.batch_size,
        tagger: Some(simsum::entities::TAGGER),
    };
    let run = index_paths(
        writer.as_mut(),
        embedder.as_ref(),
        &a.paths,
        &opts,
        &progress,
    )
    .with_context(|| format!("updating {url}"))?;
    let (report, stats) = (run.report, run.stats);
    for s in &report.skipped {
        match s.line {
            Some(l) => eprintln!("skipped {}:{l}: {}", s.path.display(), s.reason),
            None => eprintln!("skipped {}: {}", s.path.display(), s.reason),
        }
    }
    if g.verbose {
        report.notes.iter().for_each(|n| eprintln!("note: {n}"));
    }
    bar.finish_and_clear();
    let counts = writer.store().counts()?;
    let items = stats.items();
    // Documents of this run that are near-copies of another (same text, names or numbers
    // changed); search, links and themes show each such text once.
    let near_copies = {
        let texts: Vec<Vec<&str>> = report
            .documents
            .iter()
            .map(|d| d.initiatives().map(|(_, i)| i.text.as_str()).collect())
            .collect();
        simsum::text::copies::copies_in(&simsum::text::document_families(&texts))
    };
    if a.json {
        let out = simsum::answer::IndexAnswer {
            added: items.added,
            counts: counts.clone(),
            documents_read: report.documents.len(),
            index: url.to_string(),
            near_copy_documents: near_copies,
            removed: items.removed,
            seconds: started.elapsed().as_secs_f64(),
            skipped: report.skipped.clone(),
            stats: stats.clone(),
            unchanged: items.unchanged,
            updated: items.updated,
        };
        outln!("{}", simsum::answer::to_pretty(&out));
    } else {
        outln!(
            "added {}, updated {}, removed {}, unchanged {}",
            items.added,
            items.updated,
            items.removed,
            items.unchanged
        );
        outln!(
            "{counts} in {url}; embedded {} texts in {:.1} s",
            stats.embedded,
            started.elapsed().as_secs_f64()
        );
        if near_copies > 0 {
            println!(
                "{near_copies} of {} documents read are near-copies of another (shown once in results)",
                report.documents.len()
            );
        }
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
