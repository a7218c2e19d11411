//! Argument structs (what the user typed) and the dispatch to one module per command. Each
//! command module resolves its arguments (opens files, loads the model) and calls the library.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

/// `println!` that returns the write error instead of panicking, so a closed pipe
/// (`simsum ... | head`) reaches `main`, which ends quietly with exit 0.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

/// `print!` that returns the write error instead of panicking (see `outln!`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)?
    }};
}

pub mod bench;
pub mod cluster;
pub mod compare;
pub mod demo;
pub mod embed;
pub mod facets;
pub mod index;
pub mod links;
pub mod model;
pub mod search;
pub mod sections;
pub mod serve;
pub mod similar;
pub mod store;
pub mod summarize;

/// Semantic similarity and extractive summarization over local sentence embeddings.
#[derive(Debug, Parser)]
#[command(name = "simsum", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Model: a local directory in the Hugging Face layout, a hub name, or `hash:N` (a
    /// model-free hashing embedder, for tests).
    #[arg(long, global = true, env = "SIMSUM_MODEL", default_value = simsum::model::DEFAULT_MODEL)]
    pub model: simsum::model::ModelRef,
    /// Compute device: cpu, cuda[:N], metal or auto (GPU if built in and present, else CPU).
    #[arg(long, global = true, default_value = "auto")]
    pub device: simsum::embed::Device,
    /// Worker threads (default: all cores).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// Index directory.
    #[arg(long, global = true, env = "SIMSUM_INDEX", default_value = ".simsum")]
    pub index: std::path::PathBuf,
    /// Store URL: `dir:PATH` (a local index directory), `milvus://HOST:PORT/NAME` or, over TLS,
    /// `milvus+tls://HOST:PORT/NAME`. Unset: the local index at `--index`.
    #[arg(long, global = true, env = "SIMSUM_STORE")]
    pub store: Option<String>,
    /// Token for a store that needs one (Milvus with authentication: `user:password` or an
    /// API key). Never printed.
    #[arg(
        long,
        global = true,
        env = "SIMSUM_STORE_TOKEN",
        hide_env_values = true
    )]
    pub store_token: Option<String>,
    /// A PEM file of CA certificates to trust, beside the system's, for a `milvus+tls://` store
    /// whose certificate a private CA signed.
    #[arg(long, global = true, env = "SIMSUM_STORE_CA", value_name = "FILE")]
    pub store_ca: Option<std::path::PathBuf>,
    /// Say more about what is happening (model source, device, encodings).
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

impl Global {
    /// The store the options name: `--store`, else the index directory `--index`.
    pub fn store_url(&self) -> anyhow::Result<simsum::store::StoreUrl> {
        let url = match &self.store {
            Some(s) => simsum::store::StoreUrl::parse(s)?,
            None => simsum::store::StoreUrl::Dir(self.index.clone()),
        };
        match &self.store_ca {
            Some(ca) => Ok(url.with_ca(ca.clone())?),
            None => Ok(url),
        }
    }

    /// Keeps a theme report with the store.
    pub fn save_themes(&self, themes: &simsum::store::SavedThemes) -> anyhow::Result<()> {
        let url = self.store_url()?;
        simsum::store::save_themes(&url, self.store_token.as_deref(), themes)
            .with_context(|| format!("keeping the theme report with {url}"))
    }

    /// Opens the store for reading.
    pub fn open_store(&self) -> anyhow::Result<Box<dyn simsum::store::Store>> {
        let url = self.store_url()?;
        simsum::store::open(&url, self.store_token.as_deref())
            .with_context(|| format!("opening {url}"))
    }

    /// Opens the store for writing with the embedder's model (creating it when absent).
    pub fn open_writer(
        &self,
        embedder: &dyn simsum::embed::Embedder,
        rebuild: bool,
    ) -> anyhow::Result<Box<dyn simsum::store::StoreWriter>> {
        let url = self.store_url()?;
        simsum::store::open_writer(
            &url,
            self.store_token.as_deref(),
            &embedder.model_id(),
            embedder.dim(),
            rebuild,
        )
        .with_context(|| format!("opening {url} for writing"))
    }

    /// Opens the store for writing one shard of a corpus (see `simsum index --shard`).
    pub fn open_shard_writer(
        &self,
        embedder: &dyn simsum::embed::Embedder,
        rebuild: bool,
        shard: simsum::store::update::Shard,
    ) -> anyhow::Result<Box<dyn simsum::store::StoreWriter>> {
        let url = self.store_url()?;
        simsum::store::open_shard_writer(
            &url,
            self.store_token.as_deref(),
            &embedder.model_id(),
            embedder.dim(),
            rebuild,
            shard,
        )
        .with_context(|| format!("opening {url} for writing"))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure embedding, index and pipeline performance.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Run the main job on the built-in seed reports.
    Demo(demo::DemoArgs),
    /// Embed texts (one per line) and print JSON Lines.
    Embed(embed::EmbedArgs),
    /// Fetch the model or show where it is.
    #[command(subcommand)]
    Model(model::ModelCommand),
    /// Index files: embed new or changed items and store them in the index directory.
    Index(index::IndexArgs),
    /// Find the stored items most similar to a text.
    Search(search::SearchArgs),
    /// Find the stored items most similar to a stored initiative or section.
    Similar(similar::SimilarArgs),
    /// Pairs of related initiatives across documents.
    Links(links::LinksArgs),
    /// Countries, organisations and years the stored items mention, with counts.
    Facets(facets::FacetsArgs),
    /// Two documents or date ranges compared: shared, new and gone initiatives and themes.
    Compare(compare::CompareArgs),
    /// Themes of the indexed items: labelled clusters, representatives, summaries, a map.
    Cluster(cluster::ClusterArgs),
    /// Extractive summary of files, a stored document, a theme or the results of a query.
    Summarize(summarize::SummarizeArgs),
    /// Manage stores: copy one into another (`store copy --from URL --to URL`).
    #[command(subcommand)]
    Store(store::StoreCommand),
    /// Print the parsed document tree (sections, initiatives, captions) of files or folders.
    Sections(sections::SectionsArgs),
    /// Serve the store over HTTP: a JSON API, OpenAI-compatible embeddings and a web page.
    Serve(serve::ServeArgs),
}

// Value parsers shared by the commands' arguments, so a bad value is a usage error (exit 2)
// that names the flag and the accepted form, the same in every command.

/// `-k`: a number of results from 1 to [`simsum::search::MAX_K`].
pub fn k_value(s: &str) -> Result<usize, String> {
    let max = simsum::search::MAX_K;
    match s.parse::<usize>() {
        Ok(k) if (1..=max).contains(&k) => Ok(k),
        _ => Err(format!("`{s}` is not a whole number in 1..={max}")),
    }
}

/// `--ef`: a whole number in 1..=[`simsum::search::MAX_EF`].
pub fn ef_value(s: &str) -> Result<usize, String> {
    let max = simsum::search::MAX_EF;
    match s.parse::<usize>() {
        Ok(ef) if (1..=max).contains(&ef) => Ok(ef),
        _ => Err(format!("`{s}` is not a whole number in 1..={max}")),
    }
}

/// `--since`/`--until`: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, a date that exists.
pub fn date_value(s: &str) -> Result<String, String> {
    simsum::search::check_date(s).map_err(|e| e.to_string())
}

/// `--format` of input files: a name [`simsum::ingest::Format::from_name`] knows.
pub fn input_format_value(s: &str) -> Result<String, String> {
    simsum::ingest::Format::from_name(s)
        .map(|_| s.to_string())
        .map_err(|e| e.to_string())
}

/// `--level` where items are searched or clustered: initiative or section.
pub fn item_level_value(s: &str) -> Result<simsum::store::Level, String> {
    use simsum::store::Level;
    match s.parse::<Level>() {
        Ok(Level::Sentence) | Err(_) => Err(format!("use initiative or section, not `{s}`")),
        Ok(level) => Ok(level),
    }
}

/// Embedder settings a command may change from their defaults.
#[derive(Debug, Clone)]
pub struct EmbedderOptions {
    pub batch_size: usize,
    pub dtype: simsum::embed::DType,
    pub normalize: bool,
}

impl Default for EmbedderOptions {
    fn default() -> Self {
        Self {
            batch_size: 32,
            dtype: simsum::embed::DType::Auto,
            normalize: true,
        }
    }
}

/// Loads the embedder the global options name, with default settings.
pub fn load_embedder(g: &Global) -> anyhow::Result<Box<dyn simsum::embed::Embedder>> {
    load_embedder_with(g, &EmbedderOptions::default())
}

/// Loads the embedder the global options name. `--model hash:N` selects the model-free
/// [`simsum::embed::HashEmbedder`] (for tests and demos without model files).
pub fn load_embedder_with(
    g: &Global,
    o: &EmbedderOptions,
) -> anyhow::Result<Box<dyn simsum::embed::Embedder>> {
    use simsum::embed::bert::{BertEmbedder, BertOptions};
    use simsum::model::ModelRef;
    let name = match &g.model {
        ModelRef::Hash(dim) => return Ok(Box::new(simsum::embed::HashEmbedder::new(*dim))),
        ModelRef::Named(name) => name,
    };
    let files = simsum::model::resolve(name, &Default::default())?;
    if g.verbose {
        eprintln!(
            "model: {} from {} ({})",
            files.name,
            files.source,
            files.dir.display()
        );
        files.attempts.iter().for_each(|a| eprintln!("  tried {a}"));
    }
    let opts = BertOptions {
        device: g.device,
        dtype: o.dtype,
        batch_size: o.batch_size,
        normalize: o.normalize,
        ..Default::default()
    };
    let embedder = BertEmbedder::load(&files, opts)?;
    if g.verbose {
        eprintln!(
            "device: {:?}, dtype: {} (asked: {}), engine: {:?}, CPU features: {}",
            embedder.device(),
            embedder.dtype(),
            o.dtype,
            embedder.engine(),
            simsum::embed::CpuFeatures::get()
        );
        for (stage, ms) in embedder.load_times() {
            eprintln!("time: model {stage}: {ms:.1} ms");
        }
    }
    for n in embedder.notes() {
        eprintln!("note: {n}");
    }
    Ok(Box::new(embedder))
}

/// Times the stages of a command for `-v`: each lap prints the milliseconds since the last
/// one (and since the process started, from the kernel's start time), so a cold start can be
/// read stage by stage.
pub struct StageClock {
    on: bool,
    last: std::time::Instant,
}

impl StageClock {
    /// A clock that prints only when `on` (the `-v` flag).
    pub fn new(on: bool) -> Self {
        Self {
            on,
            last: std::time::Instant::now(),
        }
    }

    /// Prints `what` with the time since the previous lap.
    pub fn lap(&mut self, what: &str) {
        if self.on {
            eprintln!(
                "time: {what}: {:.1} ms",
                self.last.elapsed().as_secs_f64() * 1e3
            );
        }
        self.last = std::time::Instant::now();
    }
}

/// A token-counting function.
pub type TokenCount = Box<dyn Fn(&str) -> usize>;

/// Counts tokens as the model will, and the model's token budget: the model's own tokenizer
/// when its files are already on disk (never downloads), else the tokenizer-free estimate.
pub fn token_counter(g: &Global) -> (TokenCount, usize) {
    let name = match &g.model {
        simsum::model::ModelRef::Hash(dim) => {
            let e = simsum::embed::HashEmbedder::new(*dim);
            return (
                Box::new(move |t| simsum::embed::Embedder::count_tokens(&e, t)),
                256,
            );
        }
        simsum::model::ModelRef::Named(name) => name,
    };
    let opts = simsum::model::ResolveOptions {
        no_download: true,
        ..Default::default()
    };
    match simsum::model::resolve(name, &opts)
        .map_err(anyhow::Error::from)
        .and_then(|f| Ok(simsum::embed::bert::TokenCounter::load(&f)?))
    {
        Ok(c) => {
            let max = c.max_tokens();
            (Box::new(move |t| c.count(t)), max)
        }
        Err(e) => {
            if g.verbose {
                eprintln!("note: estimating token counts (model tokenizer unavailable: {e})");
            }
            (Box::new(simsum::ingest::estimate_tokens), 256)
        }
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Some(n) = cli.global.threads {
        // Both candle's gemm and our rayon loops read this pool.
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .ok();
    }
    match cli.command {
        Command::Bench(args) => bench::run(&cli.global, args),
        Command::Demo(args) => demo::run(&cli.global, args),
        Command::Embed(args) => embed::run(&cli.global, args),
        Command::Model(args) => model::run(&cli.global, args),
        Command::Index(args) => index::run(&cli.global, args),
        Command::Search(args) => search::run(&cli.global, args),
        Command::Similar(args) => similar::run(&cli.global, args),
        Command::Links(args) => links::run(&cli.global, args),
        Command::Facets(args) => facets::run(&cli.global, args),
        Command::Compare(args) => compare::run(&cli.global, args),
        Command::Sections(args) => sections::run(&cli.global, args),
        Command::Cluster(args) => cluster::run(&cli.global, args),
        Command::Summarize(args) => summarize::run(&cli.global, args),
        Command::Serve(args) => serve::run(&cli.global, args),
        Command::Store(args) => store::run(&cli.global, args),
    }
}
