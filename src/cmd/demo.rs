//! `simsum demo`: the main job on the built-in seed reports.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use simsum::embed::dot;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Folder of reports to run on.
    #[arg(long, default_value = "seeds")]
    pub seeds: PathBuf,
    /// How many similar pairs to print.
    #[arg(long, default_value_t = 5)]
    pub pairs: usize,
}

pub fn run(g: &super::Global, a: DemoArgs) -> anyhow::Result<ExitCode> {
    let mut paragraphs: Vec<(String, String)> = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&a.seeds)
        .with_context(|| {
            format!(
                "reading {} (run from the repository root)",
                a.seeds.display()
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for f in &files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let name = f
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        for p in text
            .split("\n\n")
            .map(str::trim)
            .filter(|p| p.split_whitespace().count() >= 25)
        {
            paragraphs.push((name.clone(), p.to_string()));
        }
    }
    // Paragraphs shared verbatim by several documents (an editor's note) are boilerplate.
    let shared: std::collections::HashSet<String> = paragraphs
        .iter()
        .filter(|(d, p)| paragraphs.iter().any(|(d2, p2)| d2 != d && p2 == p))
        .map(|(_, p)| p.clone())
        .collect();
    paragraphs.retain(|(_, p)| !shared.contains(p));
    let embedder = super::load_embedder(g)?;
    let texts: Vec<&str> = paragraphs.iter().map(|(_, p)| p.as_str()).collect();
    let t = std::time::Instant::now();
    let vectors = embedder.embed(&texts)?;
    println!(
        "embedded {} paragraphs of {} documents in {:.2} s",
        texts.len(),
        files.len(),
        t.elapsed().as_secs_f64()
    );
    let mut pairs = Vec::new();
    for i in 0..paragraphs.len() {
        for j in i + 1..paragraphs.len() {
            if paragraphs[i].0 != paragraphs[j].0 {
                pairs.push((dot(&vectors[i].vector, &vectors[j].vector), i, j));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("\nmost similar paragraphs across documents:");
    for (s, i, j) in pairs.iter().take(a.pairs) {
        println!("\n{s:.3}");
        println!("  {}: {}", paragraphs[*i].0, trim(&paragraphs[*i].1, 110));
        println!("  {}: {}", paragraphs[*j].0, trim(&paragraphs[*j].1, 110));
    }
    Ok(ExitCode::SUCCESS)
}

fn trim(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}
