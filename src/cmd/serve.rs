//! `simsum serve`: resolves the address, key and store, loads the model once, and hands them
//! to [`simsum::serve`], which runs until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;
#[cfg(feature = "server")]
use std::sync::Arc;

#[cfg(feature = "server")]
use anyhow::Context;

/// Arguments of `simsum serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on. Anything but a loopback address needs --api-key.
    #[arg(long, default_value = "127.0.0.1:7700")]
    pub addr: SocketAddr,
    /// Require `Authorization: Bearer KEY` on every route but /health. Never printed.
    #[arg(long, env = "SIMSUM_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Refuse uploads and deletes (POST/DELETE /v1/documents answer 403).
    #[arg(long)]
    pub read_only: bool,
    /// Largest `k` a request may ask for.
    #[arg(long, default_value_t = 1000)]
    pub max_k: usize,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 8 << 20)]
    pub max_body: usize,
    /// Embedding jobs that may wait; more are answered 503.
    #[arg(long, default_value_t = 512)]
    pub queue: usize,
    /// Texts per forward pass at most.
    #[arg(long, default_value_t = 32)]
    pub max_batch: usize,
    /// Longest a query waits for others to share its forward pass, in milliseconds. 0 (the
    /// default): a pass takes the queries already waiting and runs at once; under load they
    /// gather while the previous pass runs, so batches form without delaying a lone query.
    #[arg(long, default_value_t = 0)]
    pub max_wait_ms: u64,
    /// Query vectors kept for repeated query texts (0 turns the cache off).
    #[arg(long, default_value_t = 4096)]
    pub query_cache: usize,
}

/// Without the `server` feature: says so.
#[cfg(not(feature = "server"))]
pub fn run(_: &super::Global, _: ServeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!(
        "this simsum was built without the HTTP server (cargo feature `server`); rebuild with `cargo install simsum --features server`, or use the CLI's commands"
    )
}

/// Runs `simsum serve`.
#[cfg(feature = "server")]
pub fn run(g: &super::Global, a: ServeArgs) -> anyhow::Result<ExitCode> {
    simsum::serve::check_exposure(a.addr, a.api_key.as_deref())?;
    // Where the binary runs on mimalloc (src/main.rs): a user's MIMALLOC_PURGE_DELAY wins;
    // otherwise freed memory goes back at once.
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        crate::purge_freed_memory_at_once();
    }
    let embedder: Arc<dyn simsum::embed::Embedder> = Arc::from(super::load_embedder(g)?);
    let config = simsum::serve::ServeConfig {
        store: g.store_url()?,
        store_token: g.store_token.clone(),
        api_key: a.api_key.clone().filter(|k| !k.is_empty()),
        allow_uploads: !a.read_only,
        dtype: embedder.model_id().dtype,
        limits: simsum::serve::Limits {
            max_k: a.max_k.max(1),
            max_body_bytes: a.max_body,
            queue: simsum::serve::QueueLimits {
                capacity: a.queue.max(1),
                max_batch: a.max_batch.max(1),
                max_wait: std::time::Duration::from_millis(a.max_wait_ms),
                cache: a.query_cache,
            },
            ..Default::default()
        },
    };
    let url = config.store.clone();
    let app = simsum::serve::build(config, embedder).with_context(|| format!("serving {url}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(a.addr)
            .await
            .with_context(|| format!("listening on {}", a.addr))?;
        let local = listener.local_addr()?;
        // The one line tests and scripts wait for: the bound address (port 0 picks one).
        eprintln!(
            "simsum serve: listening on http://{local} ({url}{})",
            if a.api_key.is_some() {
                ", API key required"
            } else {
                ""
            }
        );
        simsum::serve::serve(listener, app, simsum::serve::shutdown_signal()).await?;
        eprintln!("simsum serve: stopped");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
