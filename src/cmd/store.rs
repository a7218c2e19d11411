//! `simsum store copy --from URL --to URL`: moves an index between stores (a local index
//! directory and a Milvus server, either way) with its vectors, without running the model.
//! `simsum store info URL`: what a store holds and how its engine indexes it.

use std::process::ExitCode;

use anyhow::Context;

/// Store subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum StoreCommand {
    /// Copy documents, items and vectors from one store into another (no embedding).
    Copy(CopyArgs),
    /// Show a store's model, counts, engine version and index parameters.
    Info(InfoArgs),
}

/// Arguments of `simsum store info`.
#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    /// The store: `dir:PATH` or `milvus://HOST:PORT/NAME`.
    pub url: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
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
        StoreCommand::Info(a) => info(g, a),
    }
}

fn info(g: &super::Global, a: InfoArgs) -> anyhow::Result<ExitCode> {
    let url = simsum::store::StoreUrl::parse(&a.url)?;
    let store = simsum::store::open(&url, g.store_token.as_deref())
        .with_context(|| format!("opening {url}"))?;
    let i = store.info();
    let out = simsum::answer::StoreInfoAnswer {
        counts: store.counts()?,
        dimension: i.dimension,
        engine: store.engine_info()?,
        exact_threshold: i.exact_threshold,
        generation: store.generation()?,
        model: i.model.name.clone(),
        url: url.to_string(),
    };
    if a.json {
        simsum::answer::print_json(&mut std::io::stdout().lock(), &out)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("store      {}", out.url);
    println!("model      {} ({}-d)", out.model, out.dimension);
    println!("holds      {}", out.counts);
    println!("generation {}", out.generation);
    println!("engine     {} {}", out.engine.engine, out.engine.version);
    println!("exact below {} items of a level", out.exact_threshold);
    for l in &out.engine.levels {
        let ef = l
            .ef_search
            .map_or("per query: max(k, 128) or --ef".to_string(), |e| {
                e.to_string()
            });
        println!(
            "  {:<10} {} {} ef {}; {} of {} rows indexed",
            l.level.as_str(),
            l.index_type,
            l.params,
            ef,
            l.indexed_rows,
            l.total_rows
        );
    }
    Ok(ExitCode::SUCCESS)
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
        println!("{}", simsum::answer::to_pretty(&out));
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
