//! `simsum sections PATH...`: prints the parsed document tree (or, with `--json`, one JSON
//! object per document) so that users can check what ingestion made of their files. Bad files
//! are reported on stderr and make the exit code 1. Tokens are counted with the model's own
//! tokenizer when its files are on disk, so paragraphs split exactly as indexing splits them.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use simsum::ingest::{self, Document, Format, IngestOptions};

/// Arguments of `simsum sections`.
#[derive(Debug, clap::Args)]
pub struct SectionsArgs {
    /// Files or folders (searched recursively; hidden files and .gitignore'd paths are skipped).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print one JSON object per document (the full model) instead of a tree.
    #[arg(long)]
    pub json: bool,
    /// Read every file as this format: seed, text, markdown, html, jsonl or pdf (default: by
    /// extension).
    #[arg(long, value_parser = super::input_format_value)]
    pub format: Option<String>,
    /// Show initiatives marked as boilerplate in the tree (JSON always includes them, flagged).
    #[arg(long)]
    pub include_boilerplate: bool,
    /// Token budget per initiative (default: the model's max_seq_length); longer paragraphs
    /// are split at sentence boundaries.
    #[arg(long)]
    pub max_tokens: Option<usize>,
}

/// Runs `simsum sections`.
pub fn run(g: &super::Global, a: SectionsArgs) -> anyhow::Result<ExitCode> {
    if let Some(name) = &a.format {
        Format::from_name(name)?;
    }
    let (count, model_max) = super::token_counter(g);
    let opts = IngestOptions {
        format: a.format.clone(),
        max_tokens: a.max_tokens.unwrap_or(model_max),
        verbose: g.verbose,
    };
    let report = ingest::ingest_paths(&a.paths, &opts, &*count);
    if g.verbose {
        for note in &report.notes {
            eprintln!("note: {note}");
        }
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for doc in &report.documents {
        if a.json {
            writeln!(out, "{}", simsum::answer::to_line(doc))?;
        } else {
            write_tree(&mut out, doc, a.include_boilerplate)?;
        }
    }
    out.flush()?;
    for s in &report.skipped {
        match s.line {
            Some(line) => eprintln!("warning: {}:{line}: {}", s.path.display(), s.reason),
            None => eprintln!("warning: {}: {}", s.path.display(), s.reason),
        }
    }
    let skipped = report.skipped.len();
    eprintln!("{} documents, {skipped} skipped", report.documents.len());
    Ok(if skipped > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn write_tree(
    out: &mut impl Write,
    doc: &Document,
    include_boilerplate: bool,
) -> std::io::Result<()> {
    let mut facts = vec![doc.format.clone()];
    facts.extend(doc.date.clone());
    facts.extend(doc.source.clone());
    writeln!(out, "{}  {}  [{}]", doc.id, doc.title, facts.join(", "))?;
    for section in &doc.sections {
        let heading = match &section.number {
            Some(n) if section.heading.is_empty() => n.clone(),
            // `I.` and `1.` were written with their dot; `2.3` and `Chapter 4` without.
            Some(n) if n.contains(['.', ' ']) => format!("{n} {}", section.heading),
            Some(n) => format!("{n}. {}", section.heading),
            None if section.heading.is_empty() => "(introduction)".to_string(),
            None => section.heading.clone(),
        };
        writeln!(out, "  s{}  {heading}", section.ordinal)?;
        let mut hidden = 0;
        for init in &section.initiatives {
            if init.boilerplate && !include_boilerplate {
                hidden += 1;
                continue;
            }
            let local = init.id.split_once('#').map_or(init.id.as_str(), |(_, l)| l);
            let flag = if init.boilerplate {
                " [boilerplate]"
            } else {
                ""
            };
            writeln!(
                out,
                "    {local}{flag}  ({} sentences)  {}",
                init.sentences.len(),
                preview(&init.text, 70)
            )?;
        }
        if hidden > 0 {
            writeln!(
                out,
                "    ({hidden} boilerplate initiative(s) hidden; --include-boilerplate shows them)"
            )?;
        }
        for caption in &section.captions {
            writeln!(out, "    caption: {}", preview(caption, 70))?;
        }
    }
    Ok(())
}

fn preview(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}
