//! `simsum serve`: the HTTP face of the library (an API and a web page), as `cmd/` is the
//! command-line face. Neither the library below nor this module knows which store it reads.
//!
//! Shape, after text-embeddings-inference's router: handlers ([`handlers`]) parse a request,
//! put query texts on the bounded embedding [`queue`] (one model, batched forward passes, a
//! dedicated thread) and run store work on blocking threads. Reads go to the last committed
//! store handle, swapped atomically when the store's generation changes (an upload here, or a
//! `simsum index` run in another process, noticed within a second); writers are serialised and
//! never block readers. Errors take one shape and get their status in one place ([`error`]).
//! The web page's files are compiled in ([`web`]); nothing is fetched at run time.

pub mod api;
pub mod documents;
pub mod error;
pub mod handlers;
pub mod metrics;
pub mod queue;
pub mod themes;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::embed::Embedder;
use crate::store::{Store, StoreError, StoreUrl};
pub use error::ApiError;
pub use queue::{EmbedQueue, QueueLimits};

/// Limits that keep one client from taking the server's memory or time.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest `k` (results per query); above it: 422.
    pub max_k: usize,
    /// Largest request body in bytes; above it: 413.
    pub max_body_bytes: usize,
    /// Most inputs in one `/v1/embeddings` request; above it: 422.
    pub max_inputs: usize,
    /// Longest a request may take before it is answered 503.
    pub request_timeout: Duration,
    /// The embedding queue's bounds.
    pub queue: QueueLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_k: 1000,
            max_body_bytes: 8 << 20,
            max_inputs: 2048,
            request_timeout: Duration::from_secs(120),
            queue: QueueLimits::default(),
        }
    }
}

/// Everything the server is started with.
#[derive(Clone)]
pub struct ServeConfig {
    /// The store to read (and write uploads to).
    pub store: StoreUrl,
    /// The store's token, if it needs one (never logged).
    pub store_token: Option<String>,
    /// When set, every route but `/health` (and the page's static files) needs
    /// `Authorization: Bearer KEY`.
    pub api_key: Option<String>,
    /// Whether `POST`/`DELETE /v1/documents` may change the store.
    pub allow_uploads: bool,
    /// The model's precision, as `/v1/info` reports it (`f32`, `f16`, `bf16`).
    pub dtype: String,
    pub limits: Limits,
}

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("store", &self.store)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("allow_uploads", &self.allow_uploads)
            .field("limits", &self.limits)
            .finish()
    }
}

/// Errors that stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("refusing to listen on {addr} without an API key: anyone who can reach it could read and change the index; pass --api-key KEY (or set SIMSUM_API_KEY), or listen on a loopback address such as 127.0.0.1:7700")]
    ExposedWithoutKey { addr: SocketAddr },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

/// Refuses a non-loopback address without an API key (the decision lives here only).
pub fn check_exposure(addr: SocketAddr, api_key: Option<&str>) -> Result<(), ServeError> {
    if addr.ip().is_loopback() || api_key.is_some_and(|k| !k.is_empty()) {
        Ok(())
    } else {
        Err(ServeError::ExposedWithoutKey { addr })
    }
}

/// A committed state of the store, as readers see it.
pub struct StoreHandle {
    pub store: Box<dyn Store>,
    /// The generation it was opened at.
    pub generation: u64,
}

impl StoreHandle {
    fn open(url: &StoreUrl, token: Option<&str>) -> Result<Self, StoreError> {
        let store = crate::store::open(url, token)?;
        let generation = store.generation()?;
        Ok(Self { store, generation })
    }
}

/// State shared by all handlers.
pub struct AppState {
    pub config: ServeConfig,
    pub reader: ArcSwap<StoreHandle>,
    pub queue: EmbedQueue,
    /// Serialises writers: one upload or delete at a time (searches never take it).
    pub writer: Arc<tokio::sync::Mutex<()>>,
    /// Serialises re-clustering (`POST /v1/themes`); the guard lives as long as the
    /// clustering, not the request (a client that hangs up does not free it early).
    pub themes: Arc<tokio::sync::Mutex<()>>,
    pub metrics: metrics::Metrics,
    /// Set when the store handle was swapped: the poller gives freed memory back on its next
    /// tick, once the searches still reading the old handle (and so its memory) are done.
    pub(crate) memory_to_return: std::sync::atomic::AtomicBool,
}

impl AppState {
    /// The current committed store.
    pub fn store(&self) -> Arc<StoreHandle> {
        self.reader.load_full()
    }

    /// Reopens the store when its generation moved; returns whether it did.
    pub fn refresh(&self) -> Result<bool, StoreError> {
        let cur = self.reader.load();
        let generation = cur.store.generation()?;
        if generation == cur.generation {
            return Ok(false);
        }
        let next = StoreHandle::open(&self.config.store, self.config.store_token.as_deref())?;
        self.reader.store(Arc::new(next));
        self.memory_to_return
            .store(true, std::sync::atomic::Ordering::Relaxed);
        Ok(true)
    }
}

/// Gives the free pages of the C allocator (glibc's `malloc`, which the `simsum` binary uses on
/// Linux and SQLite uses everywhere) back to the system: glibc keeps what a re-clustering or a
/// store reopen freed, and a server that does both every few minutes would otherwise sit up to
/// twice its live heap (BENCHMARKS.md, "the soak's memory"). Called after a re-clustering and a
/// second after a store reopen, where a few milliseconds do not matter; a no-op on other C
/// libraries.
pub(crate) fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::os::raw::c_int;
        }
        // SAFETY: glibc's `malloc_trim` takes no pointers and may be called from any thread at
        // any time; it locks each arena while it walks it.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// A server ready to run: its router and state.
pub struct App {
    pub state: Arc<AppState>,
    pub router: Router,
}

/// Opens the store, checks it was built by `embedder`'s model, starts the embedding thread and
/// builds the router.
pub fn build(config: ServeConfig, embedder: Arc<dyn Embedder>) -> Result<App, ServeError> {
    let handle = StoreHandle::open(&config.store, config.store_token.as_deref())?;
    handle
        .store
        .check_model(&embedder.model_id(), embedder.dim())?;
    let queue = EmbedQueue::start(embedder, config.limits.queue.clone());
    let state = Arc::new(AppState {
        reader: ArcSwap::from_pointee(handle),
        queue,
        writer: Default::default(),
        themes: Default::default(),
        metrics: Default::default(),
        memory_to_return: Default::default(),
        config,
    });
    let router = router(state.clone());
    Ok(App { state, router })
}

fn router(state: Arc<AppState>) -> Router {
    use tower_http::catch_panic::CatchPanicLayer;
    use tower_http::compression::CompressionLayer;
    use tower_http::timeout::TimeoutLayer;
    let limits = state.config.limits.clone();
    let api = Router::new()
        .route("/v1/info", get(handlers::info))
        .route("/v1/search", post(handlers::search))
        .route("/v1/items/{id}", get(handlers::item))
        .route("/v1/items/{id}/similar", get(handlers::similar))
        .route("/v1/links", get(handlers::links))
        .route("/v1/facets", get(handlers::facets))
        .route(
            "/v1/documents",
            get(handlers::documents).post(handlers::upload),
        )
        .route(
            "/v1/documents/{id}",
            get(handlers::document).delete(handlers::delete_document),
        )
        .route(
            "/v1/themes",
            get(handlers::themes).post(handlers::recluster),
        )
        .route("/v1/themes/map", get(handlers::theme_map))
        .route("/v1/summarize", post(handlers::summarize))
        .route("/v1/embeddings", post(handlers::embeddings))
        .route("/metrics", get(handlers::metrics))
        .route("/openapi.json", get(handlers::openapi))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_key,
        ));
    Router::new()
        .route("/health", get(handlers::health))
        .merge(web::routes())
        .merge(api)
        .fallback(handlers::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            limits.request_timeout,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .with_state(state)
}

/// A panic in a handler: logged, answered 500 in the usual shape; the server goes on.
fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    ApiError::Internal(format!("the handler panicked: {what}")).into_response()
}

async fn require_key(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if let Some(key) = state.config.api_key.as_deref() {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !constant_time_eq(given.as_bytes(), key.as_bytes()) {
            return ApiError::Unauthorized.into_response();
        }
    }
    next.run(req).await
}

/// Compares without an early exit, so response times do not reveal how much of a key matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, &x) in a.iter().enumerate() {
        diff |= (x ^ b.get(i % b.len().max(1)).copied().unwrap_or(0)) as usize;
    }
    diff == 0
}

async fn observe(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "(unmatched)".into());
    let resp = next.run(req).await;
    state
        .metrics
        .observe(&method, &route, resp.status().as_u16(), started.elapsed());
    resp
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting, finishes the
/// requests in flight and returns. Also polls the store's generation every second, so changes
/// committed by other processes become visible without a restart.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    // Whoever embeds the library gets the same refusal as the CLI: not reachable from
    // elsewhere without a key.
    check_exposure(listener.local_addr()?, app.state.config.api_key.as_deref())?;
    let state = app.state.clone();
    let poller = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let s = state.clone();
            match tokio::task::spawn_blocking(move || {
                // A swap on the last tick (here or by a write) has had a second to let go of
                // the old handle.
                if s.memory_to_return
                    .swap(false, std::sync::atomic::Ordering::Relaxed)
                {
                    return_freed_memory();
                }
                s.refresh()
            })
            .await
            {
                Ok(Err(e)) => eprintln!("simsum serve: could not reopen the store: {e}"),
                Err(e) => eprintln!("simsum serve: store refresh failed: {e}"),
                Ok(Ok(_)) => {}
            }
        }
    });
    let result = axum::serve(listener, app.router)
        .with_graceful_shutdown(shutdown)
        .await;
    poller.abort();
    result.map_err(ServeError::Io)
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This process's resident anonymous memory (heap and stacks), in bytes.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn rss_anon() -> usize {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("RssAnon:")).unwrap();
        let kb: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kb * 1024
    }

    /// What a re-clustering leaves: many small blocks freed below one that lives on, which glibc
    /// keeps resident (it only trims the top of a heap by itself) until `malloc_trim`.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn freed_memory_below_a_live_block_goes_back_to_the_system() {
        const BLOCKS: usize = 256 * 1024;
        let freed = std::thread::spawn(|| {
            let mut blocks: Vec<Box<[u8; 512]>> =
                (0..BLOCKS).map(|_| Box::new([1u8; 512])).collect();
            let pinned = Box::new([2u8; 512]);
            blocks.clear();
            blocks.shrink_to_fit();
            let before = rss_anon();
            return_freed_memory();
            let after = rss_anon();
            assert_eq!(pinned[0], 2);
            before.saturating_sub(after)
        })
        .join()
        .unwrap();
        // 128 MiB were freed; other tests allocate beside this one, so ask for half.
        assert!(
            freed >= BLOCKS * 512 / 2,
            "malloc_trim gave back {} MiB of the 128 MiB freed",
            freed >> 20
        );
    }

    #[test]
    fn exposure_needs_a_key_off_loopback() {
        let lo: SocketAddr = "127.0.0.1:7700".parse().unwrap();
        let lo6: SocketAddr = "[::1]:7700".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:7700".parse().unwrap();
        assert!(check_exposure(lo, None).is_ok());
        assert!(check_exposure(lo6, None).is_ok());
        assert!(check_exposure(any, None).is_err());
        assert!(check_exposure(any, Some("")).is_err());
        assert!(check_exposure(any, Some("k")).is_ok());
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_and_the_router_goes_on() {
        use axum::body::Body;
        use tower::ServiceExt;
        async fn boom() -> &'static str {
            panic!("boom")
        }
        let app: Router = Router::new()
            .route("/boom", get(boom))
            .route("/ok", get(|| async { "ok" }))
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(
                panic_response,
            ));
        let get_ = |p: &str| axum::http::Request::get(p).body(Body::empty()).unwrap();
        let r = app.clone().oneshot(get_("/boom")).await.unwrap();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["code"], "internal");
        assert!(v["error"]["message"].as_str().unwrap().contains("boom"));
        assert_eq!(
            app.oneshot(get_("/ok")).await.unwrap().status(),
            StatusCode::OK
        );
    }

    #[test]
    fn overload_says_when_to_retry() {
        let r = ApiError::Overloaded("full".into()).into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        let r = ApiError::TooLarge(10).into_response();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(r.headers().get(header::RETRY_AFTER).is_none());
    }

    /// The hash embedder, each call slowed by `delay`.
    struct Slow(crate::embed::HashEmbedder, Duration);
    impl Embedder for Slow {
        fn dim(&self) -> usize {
            self.0.dim()
        }
        fn model_id(&self) -> crate::embed::ModelId {
            self.0.model_id()
        }
        fn max_tokens(&self) -> usize {
            self.0.max_tokens()
        }
        fn count_tokens(&self, t: &str) -> usize {
            self.0.count_tokens(t)
        }
        fn embed(
            &self,
            t: &[&str],
        ) -> Result<Vec<crate::embed::Embedding>, crate::embed::EmbedError> {
            std::thread::sleep(self.1);
            self.0.embed(t)
        }
    }

    /// An index of the seed reports made with `hash:64`, and a server over it whose queue
    /// embeds with `delay` per call.
    fn seed_app(delay: Duration, api_key: Option<&str>) -> (tempfile::TempDir, App) {
        let dir = tempfile::tempdir().unwrap();
        let url = StoreUrl::Dir(dir.path().join("idx"));
        let hash = crate::embed::HashEmbedder::new(64);
        let mut w = crate::store::open_writer(&url, None, &hash.model_id(), 64, false).unwrap();
        let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
        crate::store::update::index_paths(
            w.as_mut(),
            &hash,
            &[seeds],
            &Default::default(),
            &|_, _| {},
        )
        .unwrap();
        drop(w);
        let config = ServeConfig {
            store: url,
            store_token: None,
            api_key: api_key.map(Into::into),
            allow_uploads: true,
            dtype: "f32".into(),
            limits: Limits::default(),
        };
        let app = build(config, Arc::new(Slow(hash, delay))).unwrap();
        (dir, app)
    }

    #[tokio::test]
    async fn the_library_refuses_an_exposed_listener_without_a_key() {
        let (_dir, app) = seed_app(Duration::ZERO, None);
        let any = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
        let r = serve(any, app, std::future::ready(())).await;
        assert!(
            matches!(r, Err(ServeError::ExposedWithoutKey { .. })),
            "{r:?}"
        );
        let (_dir, app) = seed_app(Duration::ZERO, Some("k"));
        let any = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
        assert!(serve(any, app, std::future::ready(())).await.is_ok());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_client_that_hangs_up_does_not_free_the_clustering_slot() {
        use axum::body::Body;
        use tower::ServiceExt;
        // Labels embed through the queue: 150 ms a call keeps clustering busy for a while.
        let (_dir, app) = seed_app(Duration::from_millis(150), None);
        let post = || {
            axum::http::Request::post("/v1/themes")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .unwrap()
        };
        let mut first = tokio::spawn(app.router.clone().oneshot(post()));
        // Wait until the first request holds the slot (its clustering has started). Peeking
        // takes the lock for an instant: a request refused in that instant is sent again.
        let started = Instant::now();
        while app.state.themes.try_lock().is_ok() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "clustering never started"
            );
            if first.is_finished() {
                first = tokio::spawn(app.router.clone().oneshot(post()));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The client goes away while its clustering runs on.
        first.abort();
        let _ = first.await;
        let r = app.router.clone().oneshot(post()).await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "a second clustering started while the first still ran"
        );
    }

    #[test]
    fn keys_compare_whole() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secre", b"secret"));
        assert!(!constant_time_eq(b"secrex", b"secret"));
        assert!(!constant_time_eq(b"", b"secret"));
    }
}
