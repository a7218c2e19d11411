//! `simsum store copy --from URL --to URL`: moves an index between stores (a local index
//! directory and a Milvus server, either way) with its vectors, without running the model.

use std::process::ExitCode;

use anyhow::Context;

/// Store subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum StoreCommand {
    /// Copy documents, items and vectors from one store into another (no embedding).
    Copy(CopyArgs),
}

/// Arguments of `simsum store copy`.
#[derive(Debug, clap::Args)]
pub struct CopyArgs {
    /// The store to read: `dir:PATH` or `milvus://HOST:PORT/NAME`.
    #[arg(long)]
    pub from: String,
    /// The store to write (created when absent): `dir:PATH` or `milvus://HOST:PORT/NAME`.
    #[arg(long)]
    pub to: String,
    /// Empty the destination first.
    #[arg(long)]
    pub rebuild: bool,
    /// Print what was done as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs a `simsum store` subcommand.
pub fn run(g: &super::Global, cmd: StoreCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        StoreCommand::Copy(a) => copy(g, a),
    }
}

fn copy(g: &super::Global, a: CopyArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let token = g.store_token.as_deref();
    let from_url = simsum::store::StoreUrl::parse(&a.from)?;
    let to_url = simsum::store::StoreUrl::parse(&a.to)?;
    let from =
        simsum::store::open(&from_url, token).with_context(|| format!("opening {from_url}"))?;
    let info = from.info();
    let mut to = simsum::store::open_writer(&to_url, token, &info.model, info.dimension, a.rebuild)
        .with_context(|| format!("opening {to_url} for writing"))?;
    let done = simsum::store::update::copy_tagged(
        from.as_ref(),
        to.as_mut(),
        Some(simsum::entities::TAGGER),
    )
    .with_context(|| format!("copying {from_url} to {to_url}"))?;
    let counts = to.store().counts()?;
    if a.json {
        let out = simsum::answer::CopyAnswer {
            counts: counts.clone(),
            documents: done.documents,
            from: from_url.to_string(),
            seconds: started.elapsed().as_secs_f64(),
            stats: done.stats.clone(),
            to: to_url.to_string(),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&simsum::answer::to_json(&out))?
        );
    } else {
        let items = done.stats.items();
        println!(
            "copied {} documents from {from_url} to {to_url}: added {}, updated {}, unchanged {}; embedded {} texts",
            done.documents, items.added, items.updated, items.unchanged, done.stats.embedded
        );
        println!(
            "{counts} in {to_url} ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}
