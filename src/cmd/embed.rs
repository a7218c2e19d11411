//! `simsum embed`: texts in (one per line), JSON Lines out, in input order.

use std::io::{BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

#[derive(Debug, clap::Args)]
pub struct EmbedArgs {
    /// Read texts from this file instead of stdin (one text per line).
    #[arg(long, short)]
    pub input: Option<PathBuf>,
    /// Texts per forward pass.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Precision: auto (bf16 weight products where the CPU has AVX-512 BF16, f16 on CUDA, else
    /// f32), f32 (exact parity with sentence-transformers), f16 or bf16.
    #[arg(long, default_value = "auto")]
    pub dtype: simsum::embed::DType,
    /// Print raw pooled vectors instead of L2-normalised ones.
    #[arg(long)]
    pub no_normalize: bool,
    /// Replace invalid UTF-8 with U+FFFD instead of stopping with an error.
    #[arg(long)]
    pub lossy: bool,
    /// Write the vectors to this float32 .npy matrix (one row per line) instead of JSON Lines.
    #[arg(long)]
    pub npy: Option<PathBuf>,
    /// What the texts are: `passage` (default) or `query`. Models of the E5 family embed a
    /// query with their query prompt, as `simsum search` does; others embed both alike.
    #[arg(long = "as", value_name = "KIND", default_value = "passage", value_parser = parse_kind)]
    pub kind: simsum::embed::InputKind,
}

fn parse_kind(name: &str) -> Result<simsum::embed::InputKind, String> {
    simsum::embed::InputKind::from_name(name)
        .ok_or_else(|| format!("`{name}` is not `passage`, `document` or `query`"))
}

/// Splits input into lines, failing on invalid UTF-8 with the 1-based line number.
pub fn read_lines(mut reader: impl Read, lossy: bool, name: &str) -> anyhow::Result<Vec<String>> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {name}"))?;
    let mut lines = Vec::new();
    // No bytes, no texts (not one empty text).
    if bytes.is_empty() {
        return Ok(lines);
    }
    for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match std::str::from_utf8(line) {
            Ok(s) => lines.push(s.to_string()),
            Err(e) if !lossy => anyhow::bail!(
                "{name}:{}: invalid UTF-8 at byte {} of the line; fix the encoding or pass --lossy",
                n + 1,
                e.valid_up_to()
            ),
            Err(_) => lines.push(String::from_utf8_lossy(line).into_owned()),
        }
    }
    if bytes.ends_with(b"\n") {
        lines.pop();
    }
    Ok(lines)
}

pub fn run(g: &super::Global, a: EmbedArgs) -> anyhow::Result<ExitCode> {
    let (texts, name) = match &a.input {
        Some(p) => {
            let f = std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?;
            (
                read_lines(f, a.lossy, &p.display().to_string())?,
                p.display().to_string(),
            )
        }
        None => (
            read_lines(std::io::stdin().lock(), a.lossy, "<stdin>")?,
            "<stdin>".into(),
        ),
    };
    let opts = super::EmbedderOptions {
        batch_size: a.batch_size,
        dtype: a.dtype,
        normalize: !a.no_normalize,
    };
    let embedder = super::load_embedder_with(g, &opts)?;
    let show_progress = std::io::stderr().is_terminal() && texts.len() > 256;
    let bar = if show_progress {
        indicatif::ProgressBar::new(texts.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut truncated = 0usize;
    let mut matrix: Vec<f32> = Vec::new();
    // Chunks bound memory on large inputs while keeping batches full.
    let chunk = (a.batch_size.max(1) * 64).max(1024);
    for (c, block) in texts.chunks(chunk).enumerate() {
        let refs: Vec<&str> = block.iter().map(String::as_str).collect();
        let embs = embedder
            .embed_as(&refs, a.kind)
            .with_context(|| format!("embedding {name}"))?;
        for (j, (text, e)) in block.iter().zip(embs).enumerate() {
            truncated += e.truncated as usize;
            if a.npy.is_some() {
                matrix.extend_from_slice(&e.vector);
                continue;
            }
            let line = EmbedLine {
                embedding: &e.vector,
                id: c * chunk + j,
                n_tokens: e.n_tokens,
                text,
                truncated: e.truncated,
            };
            writeln!(out, "{}", simsum::answer::to_line(&line))?;
        }
        bar.inc(block.len() as u64);
    }
    out.flush()?;
    bar.finish_and_clear();
    if let Some(path) = &a.npy {
        simsum::bench::write_npy(path, texts.len(), embedder.dim(), &matrix)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if truncated > 0 {
        eprintln!(
            "warning: {truncated} of {} inputs were longer than the model's {} tokens and were truncated",
            texts.len(),
            embedder.max_tokens()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// One line of `simsum embed`'s JSON Lines output.
#[derive(serde::Serialize)]
struct EmbedLine<'a> {
    embedding: &'a [f32],
    id: usize,
    n_tokens: usize,
    text: &'a str,
    truncated: bool,
}
