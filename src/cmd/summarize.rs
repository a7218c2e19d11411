//! `simsum summarize`: an extractive summary of files (embedded on the fly), a stored document,
//! a theme of the last `simsum cluster` run, or the top results of a query (stored vectors,
//! nothing re-embedded but the query).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use simsum::cluster::indexed::cluster_index_with;
use simsum::cluster::lineage::Previous;
use simsum::cluster::{ClusterParams, ThemeReport};
use simsum::store::Store;
use simsum::store::{Level, StoredItem};
use simsum::summarize::{embed_documents, summarize, units_from_items, Length, SummaryParams};

/// Arguments of `simsum summarize`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["paths", "doc", "theme", "query"])))]
pub struct SummarizeArgs {
    /// Files or folders to summarize (need not be indexed; several give one cross-document summary).
    pub paths: Vec<PathBuf>,
    /// A stored document, by id (as `search` prints it).
    #[arg(long, value_name = "ID")]
    pub doc: Option<String>,
    /// A theme of the last `simsum cluster` run, by its id (ids stay with a theme from run to run).
    #[arg(long, value_name = "ID")]
    pub theme: Option<usize>,
    /// The top results of this query.
    #[arg(long, value_name = "TEXT")]
    pub query: Option<String>,
    /// Results of --query to summarize (1 to 10000).
    #[arg(short, long, default_value_t = 10, value_parser = super::k_value, allow_negative_numbers = true)]
    pub k: usize,
    /// How --query ranks: hybrid (dense and BM25 fused), dense or lexical.
    #[arg(long, default_value = "hybrid")]
    pub mode: simsum::search::SearchMode,
    /// At most N sentences.
    #[arg(long, value_name = "N", conflicts_with = "words")]
    pub sentences: Option<usize>,
    /// At most N words.
    #[arg(long, value_name = "N")]
    pub words: Option<usize>,
    /// Input format for PATHs (seed, text, markdown, html, jsonl, pdf); default: from the
    /// extension.
    #[arg(long, value_parser = super::input_format_value)]
    pub format: Option<String>,
    /// With PATHs: one summary per document (JSON Lines with --json) instead of one for all.
    #[arg(long)]
    pub each: bool,
    /// Weight of a sentence's place in its document against its content score (0 to 1; 0:
    /// content only).
    #[arg(long, value_name = "W", default_value_t = simsum::summarize::POSITION_WEIGHT)]
    pub position_weight: f32,
    /// Weight of word overlap (TF-IDF on stemmed words) against embedding similarity between
    /// sentences (0 to 1; 0: embeddings only).
    #[arg(long, value_name = "W", default_value_t = simsum::summarize::LEXICAL_WEIGHT)]
    pub lexical_weight: f32,
    /// How sentences are scored: learned (weights fitted on public data; --position-weight is
    /// not read) or blend (centrality, closeness and position, hand-set).
    #[arg(long, value_name = "NAME", default_value = "learned")]
    pub scorer: simsum::summarize::Scorer,
    /// With --query: only results mentioning these countries, organisations or years.
    #[command(flatten)]
    pub entities: super::facets::EntityArgs,
    /// Print JSON: {"summary":[{"text","initiative","document","score"}],"params":{...}}.
    #[arg(long)]
    pub json: bool,
}

/// Runs `simsum summarize`.
pub fn run(g: &super::Global, a: SummarizeArgs) -> anyhow::Result<ExitCode> {
    let params = SummaryParams {
        length: match (a.sentences, a.words) {
            (Some(0), _) | (_, Some(0)) => bail!("--sentences and --words must be at least 1"),
            (Some(n), _) => Length::Sentences(n),
            (_, Some(n)) => Length::Words(n),
            _ => Length::Auto,
        },
        position_weight: if (0.0..=1.0).contains(&a.position_weight) {
            a.position_weight
        } else {
            bail!("--position-weight must be between 0 and 1")
        },
        lexical_weight: if (0.0..=1.0).contains(&a.lexical_weight) {
            a.lexical_weight
        } else {
            bail!("--lexical-weight must be between 0 and 1")
        },
        scorer: a.scorer,
        ..Default::default()
    };
    let mut status = ExitCode::SUCCESS;
    let units = if !a.paths.is_empty() {
        let (count, max_tokens) = super::token_counter(g);
        let opts = simsum::ingest::IngestOptions {
            format: a.format.clone(),
            max_tokens,
            verbose: g.verbose,
        };
        // The model loads while the files are read and split (both take ~0.1 s).
        let (report, embedder) = std::thread::scope(|s| {
            let loading = s.spawn(|| super::load_embedder(g));
            let report = simsum::ingest::ingest_paths(&a.paths, &opts, &*count);
            let embedder = loading
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("loading the model panicked")));
            (report, embedder)
        });
        for s in &report.skipped {
            let at = s.line.map(|l| format!(":{l}")).unwrap_or_default();
            eprintln!("skipped {}{at}: {}", s.path.display(), s.reason);
            status = ExitCode::from(1);
        }
        if report.documents.is_empty() {
            bail!("no document could be read from the given paths");
        }
        let embedder = embedder?;
        let units = embed_documents(&report.documents, embedder.as_ref())?;
        if a.each {
            print_each(&report.documents, units, &params, a.json)?;
            return Ok(status);
        }
        units
    } else {
        if a.each {
            bail!("--each needs PATHs");
        }
        let index = g.open_store()?;
        units_from_items(&stored_items(g, index.as_ref(), &a)?)
    };
    let summary = summarize(&units, &params)?;
    if summary.sentences.is_empty() && !a.json {
        eprintln!("nothing to summarize: no sentences outside boilerplate");
    }
    out!("{}", simsum::report::render_summary(&summary, a.json));
    Ok(status)
}

/// One summary per document, in input order.
fn print_each(
    docs: &[simsum::ingest::Document],
    units: Vec<simsum::summarize::SentenceUnit>,
    params: &SummaryParams,
    json: bool,
) -> anyhow::Result<()> {
    use std::io::Write;
    let mut by_doc: HashMap<String, Vec<simsum::summarize::SentenceUnit>> = HashMap::new();
    for u in units {
        by_doc.entry(u.doc_id.clone()).or_default().push(u);
    }
    let mut out = std::io::stdout().lock();
    for d in docs {
        let summary = summarize(by_doc.get(&d.id).map_or(&[][..], Vec::as_slice), params)?;
        if json {
            let line = simsum::answer::DocumentSummary {
                document: d.id.clone(),
                summary: summary.sentences,
                title: d.title.clone(),
            };
            writeln!(out, "{}", simsum::answer::to_json(&line))?;
        } else {
            writeln!(out, "== {} ({})", d.title, d.id)?;
            write!(out, "{}", simsum::report::render_summary(&summary, false))?;
        }
    }
    Ok(())
}

/// The stored items that `--doc`, `--theme` or `--query` name.
fn stored_items(
    g: &super::Global,
    index: &dyn Store,
    a: &SummarizeArgs,
) -> anyhow::Result<Vec<StoredItem>> {
    if let Some(doc) = &a.doc {
        let Some(items) = simsum::summarize::document_items(index, doc)? else {
            let known: Vec<String> = index.documents()?.into_iter().map(|d| d.id).collect();
            bail!(
                "no document `{doc}` in {}; stored documents: {}",
                index.info().url,
                known.join(", ")
            );
        };
        return Ok(items);
    }
    if let Some(query) = &a.query {
        simsum::search::check_query(query)?;
        let opts = simsum::search::SearchOptions {
            k: a.k.max(1),
            level: Level::Initiative,
            mode: a.mode,
            docs: simsum::search::DocFilter::of_entities(a.entities.filter()),
            ..Default::default()
        };
        let hits = if a.mode.needs_vector() {
            let embedder = super::load_embedder(g)?;
            index.check_model(&embedder.model_id(), embedder.dim())?;
            simsum::search::search(index, embedder.as_ref(), query, &opts)?
        } else {
            let filter = opts.docs.compile()?;
            simsum::search::search_text(index, query, None, &opts, &filter)?
        };
        return hits
            .iter()
            .map(|h| Ok(index.item(&h.id)?))
            .collect::<anyhow::Result<Vec<_>>>();
    }
    let theme = a.theme.unwrap_or_default();
    let report = last_report(g, index)?;
    let level: Level = report
        .params
        .level
        .as_deref()
        .unwrap_or("initiative")
        .parse()
        .map_err(anyhow::Error::msg)?;
    let Some(t) = report.themes.iter().find(|t| t.id == theme) else {
        bail!(
            "no theme {theme}: the last `simsum cluster` found {} ({})",
            report.themes.len(),
            simsum::report::theme_ids(&report)
        );
    };
    Ok(simsum::summarize::member_items(index, level, &t.members)?)
}

/// The theme report `simsum cluster` saved; clustered again with the same settings (and
/// saved) when it is missing or the index changed since.
pub(crate) fn last_report(g: &super::Global, index: &dyn Store) -> anyhow::Result<ThemeReport> {
    let saved = ThemeReport::load(index)?;
    let generation = index.generation()?;
    match saved {
        Some((gen, report)) if gen == generation => Ok(report),
        other => {
            let (params, level) = match &other {
                Some((_, r)) => (
                    r.params.cluster.clone(),
                    r.params
                        .level
                        .clone()
                        .unwrap_or_else(|| "initiative".into()),
                ),
                None => (ClusterParams::default(), "initiative".into()),
            };
            eprintln!(
                "note: clustering {} again (index changed or never clustered)",
                index.info().url
            );
            let level: Level = level.parse().map_err(anyhow::Error::msg)?;
            // The themes carry on from the last report, so `--theme ID` keeps its meaning.
            let previous = other.as_ref().map(|(gen, report)| Previous {
                generation: *gen,
                report,
            });
            let t = cluster_index_with(index, level, &params, None, None, previous)
                .with_context(|| format!("clustering {}", index.info().url))?;
            g.save_themes(&t.report.to_saved(generation))?;
            Ok(t.report)
        }
    }
}
