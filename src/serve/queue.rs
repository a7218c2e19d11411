//! The embedding queue: one model in memory, requests batched into shared forward passes.
//!
//! As in text-embeddings-inference's router, handlers put jobs on a bounded queue and one
//! backend thread owns the model: it takes the first waiting job, then keeps taking jobs for at
//! most [`QueueLimits::max_wait`] until [`QueueLimits::max_batch`] texts are gathered, runs one
//! forward pass for all of them and answers each job through its own one-shot channel. A full
//! queue answers at once ([`Submit::Full`]), so memory stays bounded under any load. The
//! embedder is synchronous; it never runs on the async runtime's threads.
//!
//! In front of the queue sits a bounded LRU cache of query vectors ([`QueueLimits::cache`]
//! entries, keyed by the exact text): people repeat queries (the web page asks again when a
//! result is opened and closed, clients page through hits), and a repeated query then costs a
//! lookup instead of a forward pass. The vectors are the model's, so an answer from the cache
//! equals a fresh one.
//!
//! Each job says what its texts are ([`InputKind`]): a model with prompts (multilingual-e5)
//! embeds a search query after `query: ` and anything else after `passage: `. A batch that holds
//! both runs one pass per kind, and the cache keys a vector by kind and text.
//!
//! The server's own work (an upload's passages, a re-clustering's label phrases, a posted text to
//! summarise) goes on the same queue as background jobs of at most [`BACKGROUND_BATCH`] texts.
//! The backend sets them aside while queries wait and runs one when none does, or after a few
//! query passes, so a search that arrives during a re-clustering waits for at most one small
//! pass instead of a whole batch (the soak's p99, issue 39).

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{
    sync_channel, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError,
};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lru::LruCache;

use tokio::sync::oneshot;

use crate::embed::{EmbedError, Embedder, Embedding, InputKind, ModelId};

/// Longest text (bytes) the query cache keeps: a key costs its length, so a cache of
/// [`QueueLimits::cache`] entries stays under `cache * (MAX_CACHED_TEXT + vector)` bytes whatever
/// clients send. Queries are short; a text this long is cut by the model anyway (256 tokens).
pub const MAX_CACHED_TEXT: usize = 2048;

/// Bounds of the queue.
#[derive(Debug, Clone)]
pub struct QueueLimits {
    /// Jobs waiting at most; one more is refused (503).
    pub capacity: usize,
    /// Texts per forward pass at most.
    pub max_batch: usize,
    /// Longest a first job waits for company before its batch runs.
    pub max_wait: Duration,
    /// Query vectors kept for repeated texts (0: no cache); 4,096 vectors of 384 floats with
    /// keys of at most [`MAX_CACHED_TEXT`] bytes are at most 14 MB.
    pub cache: usize,
}

impl Default for QueueLimits {
    fn default() -> Self {
        Self {
            capacity: 512,
            max_batch: 32,
            // Continuous batching, as text-embeddings-inference does: what queued while the
            // last pass ran forms the next; waiting for company only delays a lone query
            // (2 ms of a ~4 ms query, measured with `benches/serve.sh`, issue 35).
            max_wait: Duration::ZERO,
            cache: 4096,
        }
    }
}

type Reply = Result<Vec<Embedding>, String>;

/// Vectors by kind of input and text.
type QueryCache = LruCache<(InputKind, String), Embedding>;

struct Job {
    texts: Vec<String>,
    kind: InputKind,
    /// Work of the server's own (an upload, a re-clustering's label phrases): it waits while
    /// queries are queued.
    background: bool,
    reply: oneshot::Sender<Reply>,
}

/// Texts per background job at most: a query that arrives while one runs waits for a pass of
/// this many texts, not of a whole batch.
pub const BACKGROUND_BATCH: usize = 8;

/// Interactive passes after which a waiting background job runs even while queries keep
/// coming, so a busy server still finishes its uploads.
const INTERACTIVE_PASSES_PER_BACKGROUND: usize = 4;

/// Why a job was not taken.
#[derive(Debug)]
pub enum Submit {
    /// The queue is full: answer 503.
    Full,
    /// The backend thread is gone (only after a panic in the model).
    Closed,
}

/// Observations the metrics route reports.
#[derive(Debug, Default)]
pub struct QueueStats {
    /// Jobs waiting now.
    pub depth: AtomicUsize,
    /// Counts of forward passes by texts per pass, in the buckets of [`BATCH_BUCKETS`].
    pub batch_sizes: [AtomicUsize; BATCH_BUCKETS.len() + 1],
    /// Texts embedded in all.
    pub texts: AtomicUsize,
    /// Texts answered from the query cache.
    pub cache_hits: AtomicUsize,
    /// Texts looked up in the query cache and not found.
    pub cache_misses: AtomicUsize,
}

/// Upper bounds of the batch-size histogram buckets (the last, implicit bucket is +Inf).
pub const BATCH_BUCKETS: [usize; 7] = [1, 2, 4, 8, 16, 32, 64];

/// A handle to the queue; cheap to clone.
#[derive(Clone)]
pub struct EmbedQueue {
    tx: SyncSender<Job>,
    stats: Arc<QueueStats>,
    model: ModelId,
    dim: usize,
    max_tokens: usize,
    max_batch: usize,
    capacity: usize,
    /// The model's own token counter (the tokenizer alone is cheap and thread-safe).
    embedder: Arc<dyn Embedder>,
    /// Recent query vectors by kind and text; `None` when the cache is off.
    cache: Option<Arc<Mutex<QueryCache>>>,
}

impl EmbedQueue {
    /// Starts the backend thread that owns `embedder`'s forward passes.
    pub fn start(embedder: Arc<dyn Embedder>, limits: QueueLimits) -> Self {
        let (tx, rx) = sync_channel::<Job>(limits.capacity.max(1));
        let stats = Arc::new(QueueStats::default());
        let q = Self {
            tx,
            stats: stats.clone(),
            model: embedder.model_id(),
            dim: embedder.dim(),
            max_tokens: embedder.max_tokens(),
            max_batch: limits.max_batch.max(1),
            capacity: limits.capacity.max(1),
            embedder: embedder.clone(),
            cache: NonZeroUsize::new(limits.cache).map(|n| Arc::new(Mutex::new(LruCache::new(n)))),
        };
        std::thread::Builder::new()
            .name("simsum-embed".into())
            .spawn(move || backend(rx, embedder, limits, stats))
            .expect("spawning the embedding thread");
        q
    }

    /// Queue statistics.
    pub fn stats(&self) -> &QueueStats {
        &self.stats
    }

    /// The cached vectors of `texts`, in order (`None` where a text is not cached); counts hits
    /// and misses.
    pub fn cached(&self, texts: &[String], kind: InputKind) -> Vec<Option<Embedding>> {
        let Some(cache) = &self.cache else {
            return vec![None; texts.len()];
        };
        // A poisoned lock only means another thread panicked mid-lookup: the map is still whole.
        let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
        let found: Vec<Option<Embedding>> = texts
            .iter()
            .map(|t| {
                (t.len() <= MAX_CACHED_TEXT)
                    .then(|| c.get(&(kind, t.clone())).cloned())
                    .flatten()
            })
            .collect();
        let hits = found.iter().filter(|f| f.is_some()).count();
        self.stats.cache_hits.fetch_add(hits, Ordering::Relaxed);
        self.stats
            .cache_misses
            .fetch_add(texts.len() - hits, Ordering::Relaxed);
        found
    }

    /// Remembers freshly computed vectors for later repeats of the same texts.
    pub fn remember(&self, texts: &[String], kind: InputKind, vectors: &[Embedding]) {
        if let Some(cache) = &self.cache {
            let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
            for (t, v) in texts.iter().zip(vectors) {
                if t.len() <= MAX_CACHED_TEXT {
                    c.put((kind, t.clone()), v.clone());
                }
            }
        }
    }

    /// Puts `texts` on the queue as jobs of at most one batch each, so a large request shares
    /// the model with the queries behind it rather than holding it for one long pass; the
    /// receivers yield the embeddings of each chunk, in order. All or none are queued.
    pub fn submit_chunked(
        &self,
        texts: Vec<String>,
        kind: InputKind,
    ) -> Result<Vec<oneshot::Receiver<Reply>>, Submit> {
        let chunks: Vec<Vec<String>> = texts
            .chunks(self.max_batch)
            .map(<[String]>::to_vec)
            .collect();
        // The queue's free room is not reserved, so a request that does not fit whole is
        // refused before any of it is queued when the queue is visibly too full.
        let free = self
            .capacity
            .saturating_sub(self.stats.depth.load(Ordering::Relaxed));
        if chunks.len() > free {
            return Err(Submit::Full);
        }
        chunks
            .into_iter()
            .map(|c| self.submit_as(c, kind))
            .collect()
    }

    /// Puts `texts` (passages) on the queue as one job; the receiver yields their embeddings in
    /// order.
    pub fn submit(&self, texts: Vec<String>) -> Result<oneshot::Receiver<Reply>, Submit> {
        self.submit_as(texts, InputKind::Passage)
    }

    /// Puts `texts` of `kind` on the queue as one job.
    pub fn submit_as(
        &self,
        texts: Vec<String>,
        kind: InputKind,
    ) -> Result<oneshot::Receiver<Reply>, Submit> {
        let (reply, rx) = oneshot::channel();
        self.stats.depth.fetch_add(1, Ordering::Relaxed);
        match self.tx.try_send(Job {
            texts,
            kind,
            background: false,
            reply,
        }) {
            Ok(()) => Ok(rx),
            Err(e) => {
                self.stats.depth.fetch_sub(1, Ordering::Relaxed);
                Err(match e {
                    TrySendError::Full(_) => Submit::Full,
                    TrySendError::Disconnected(_) => Submit::Closed,
                })
            }
        }
    }

    /// Embeds from a blocking context (uploads, re-clustering, summaries of posted text) as
    /// background jobs of at most [`BACKGROUND_BATCH`] texts: each runs when no query waits (or
    /// after a few query passes), so the server's own work never holds the model while searches
    /// queue. Waits for room when the queue is full.
    fn embed_blocking(
        &self,
        texts: &[&str],
        kind: InputKind,
    ) -> Result<Vec<Embedding>, EmbedError> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(BACKGROUND_BATCH.min(self.max_batch)) {
            let (reply, rx) = oneshot::channel();
            self.stats.depth.fetch_add(1, Ordering::Relaxed);
            let job = Job {
                texts: chunk.iter().map(|t| t.to_string()).collect(),
                kind,
                background: true,
                reply,
            };
            if self.tx.send(job).is_err() {
                self.stats.depth.fetch_sub(1, Ordering::Relaxed);
                return Err(EmbedError::Service("the embedding thread stopped".into()));
            }
            match rx.blocking_recv() {
                Ok(Ok(v)) => out.extend(v),
                Ok(Err(e)) => return Err(EmbedError::Service(e)),
                Err(_) => return Err(EmbedError::Service("the embedding thread stopped".into())),
            }
        }
        Ok(out)
    }
}

/// The queue seen as an [`Embedder`], so library code (indexing an upload, summarising posted
/// text) shares the one model and its batches. Call it from blocking threads only.
impl Embedder for EmbedQueue {
    fn dim(&self) -> usize {
        self.dim
    }
    fn model_id(&self) -> ModelId {
        self.model.clone()
    }
    fn max_tokens(&self) -> usize {
        self.max_tokens
    }
    fn count_tokens(&self, text: &str) -> usize {
        self.embedder.count_tokens(text)
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Embedding>, EmbedError> {
        self.embed_blocking(texts, InputKind::Passage)
    }
    fn embed_as(&self, texts: &[&str], kind: InputKind) -> Result<Vec<Embedding>, EmbedError> {
        self.embed_blocking(texts, kind)
    }
}

fn backend(
    rx: Receiver<Job>,
    embedder: Arc<dyn Embedder>,
    limits: QueueLimits,
    stats: Arc<QueueStats>,
) {
    // Background jobs taken off the channel, waiting for a moment without queries.
    let mut deferred: VecDeque<Job> = VecDeque::new();
    let mut interactive_passes = 0usize;
    loop {
        let first = if deferred.is_empty() {
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        } else {
            match rx.try_recv() {
                Ok(job) => job,
                Err(TryRecvError::Empty) => {
                    // Nothing interactive waits: one background job, then look again.
                    if let Some(job) = deferred.pop_front() {
                        run_jobs(embedder.as_ref(), vec![job], &stats);
                    }
                    interactive_passes = 0;
                    continue;
                }
                Err(TryRecvError::Disconnected) => {
                    for job in deferred.drain(..) {
                        run_jobs(embedder.as_ref(), vec![job], &stats);
                    }
                    return;
                }
            }
        };
        stats.depth.fetch_sub(1, Ordering::Relaxed);
        if first.background {
            deferred.push_back(first);
            continue;
        }
        let mut n = first.texts.len();
        let mut jobs = vec![first];
        let deadline = Instant::now() + limits.max_wait;
        while n < limits.max_batch {
            let left = deadline.saturating_duration_since(Instant::now());
            let next = if left.is_zero() {
                rx.try_recv().map_err(|_| RecvTimeoutError::Timeout)
            } else {
                rx.recv_timeout(left)
            };
            match next {
                Ok(job) => {
                    stats.depth.fetch_sub(1, Ordering::Relaxed);
                    if job.background {
                        deferred.push_back(job);
                    } else {
                        n += job.texts.len();
                        jobs.push(job);
                    }
                }
                Err(_) => break,
            }
        }
        run_jobs(embedder.as_ref(), jobs, &stats);
        // Under a steady stream of queries a background job still gets a turn.
        interactive_passes += 1;
        if interactive_passes >= INTERACTIVE_PASSES_PER_BACKGROUND {
            if let Some(job) = deferred.pop_front() {
                run_jobs(embedder.as_ref(), vec![job], &stats);
            }
            interactive_passes = 0;
        }
    }
}

/// Runs `jobs` as one batch: one forward pass per kind of input the batch holds (usually one),
/// each answer handed out to its jobs in order.
fn run_jobs(embedder: &dyn Embedder, jobs: Vec<Job>, stats: &QueueStats) {
    let total: usize = jobs.iter().map(|j| j.texts.len()).sum();
    let bucket = BATCH_BUCKETS
        .iter()
        .position(|&b| total <= b)
        .unwrap_or(BATCH_BUCKETS.len());
    stats.batch_sizes[bucket].fetch_add(1, Ordering::Relaxed);
    stats.texts.fetch_add(total, Ordering::Relaxed);
    let mut answers: Vec<(InputKind, Result<std::vec::IntoIter<Embedding>, String>)> = Vec::new();
    for kind in [InputKind::Passage, InputKind::Query] {
        let texts: Vec<&str> = jobs
            .iter()
            .filter(|j| j.kind == kind)
            .flat_map(|j| j.texts.iter().map(String::as_str))
            .collect();
        if !texts.is_empty() {
            let result = run_pass(embedder, &texts, kind);
            answers.push((kind, result.map(Vec::into_iter).map_err(|e| e.to_string())));
        }
    }
    for job in jobs {
        let Some((_, answer)) = answers.iter_mut().find(|(k, _)| *k == job.kind) else {
            continue;
        };
        let reply = match answer {
            Ok(all) => Ok(all.by_ref().take(job.texts.len()).collect()),
            Err(msg) => Err(msg.clone()),
        };
        let _ = job.reply.send(reply);
    }
}

/// One forward pass of `texts`. A panic inside the model must not take the thread (and every
/// later query) with it, and neither may a model that answers with the wrong number of vectors.
fn run_pass(
    embedder: &dyn Embedder,
    texts: &[&str],
    kind: InputKind,
) -> Result<Vec<Embedding>, EmbedError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        embedder.embed_as(texts, kind)
    }))
    .unwrap_or_else(|_| Err(EmbedError::Service("the model panicked".into())))
    .and_then(|all| {
        if all.len() == texts.len() {
            Ok(all)
        } else {
            Err(EmbedError::Service(format!(
                "the model returned {} vectors for {} texts",
                all.len(),
                texts.len()
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::HashEmbedder;

    #[test]
    fn batched_answers_equal_single_ones_in_order() {
        let e: Arc<dyn Embedder> = Arc::new(HashEmbedder::new(16));
        let q = EmbedQueue::start(e.clone(), QueueLimits::default());
        let rxs: Vec<_> = (0..20)
            .map(|i| {
                q.submit(vec![format!("text {i}"), format!("other {i}")])
                    .unwrap()
            })
            .collect();
        for (i, rx) in rxs.into_iter().enumerate() {
            let got = rx.blocking_recv().unwrap().unwrap();
            let (a, b) = (format!("text {i}"), format!("other {i}"));
            let want = e.embed(&[a.as_str(), b.as_str()]).unwrap();
            assert_eq!(got, want);
        }
        let passes: usize = q
            .stats()
            .batch_sizes
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum();
        assert!((1..=20).contains(&passes), "{passes} passes");
    }

    #[test]
    fn cached_vectors_equal_fresh_ones_and_the_cache_is_bounded() {
        let e: Arc<dyn Embedder> = Arc::new(HashEmbedder::new(16));
        let limits = QueueLimits {
            cache: 2,
            ..QueueLimits::default()
        };
        let q = EmbedQueue::start(e.clone(), limits);
        let texts: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        assert_eq!(q.cached(&texts, InputKind::Passage), vec![None, None, None]);
        let fresh = e.embed(&["a", "b", "c"]).unwrap();
        q.remember(&texts, InputKind::Passage, &fresh);
        // Two entries at most: "a", the oldest, is gone; "b" and "c" come back unchanged.
        assert_eq!(
            q.cached(&texts, InputKind::Passage),
            vec![None, Some(fresh[1].clone()), Some(fresh[2].clone())]
        );
        assert_eq!(q.stats().cache_hits.load(Ordering::Relaxed), 2);
        assert_eq!(q.stats().cache_misses.load(Ordering::Relaxed), 4);
    }

    /// Embeds a query as the hashing embedder embeds "QUERY " and the text: a model with
    /// prompts, in miniature.
    struct Prompted(HashEmbedder);
    impl Embedder for Prompted {
        fn dim(&self) -> usize {
            self.0.dim()
        }
        fn model_id(&self) -> ModelId {
            self.0.model_id()
        }
        fn max_tokens(&self) -> usize {
            64
        }
        fn count_tokens(&self, t: &str) -> usize {
            self.0.count_tokens(t)
        }
        fn embed(&self, t: &[&str]) -> Result<Vec<Embedding>, EmbedError> {
            self.0.embed(t)
        }
        fn embed_as(&self, t: &[&str], kind: InputKind) -> Result<Vec<Embedding>, EmbedError> {
            match kind {
                InputKind::Passage => self.0.embed(t),
                InputKind::Query => {
                    let p: Vec<String> = t.iter().map(|t| format!("QUERY {t}")).collect();
                    self.0
                        .embed(&p.iter().map(String::as_str).collect::<Vec<_>>())
                }
            }
        }
    }

    #[test]
    fn queries_and_passages_in_one_batch_each_get_their_own_kind() {
        let e = Arc::new(Prompted(HashEmbedder::new(32)));
        let limits = QueueLimits {
            max_wait: Duration::from_millis(50),
            ..QueueLimits::default()
        };
        let q = EmbedQueue::start(e.clone(), limits);
        let rxs: Vec<_> = (0..6)
            .map(|i| {
                let kind = if i % 2 == 0 {
                    InputKind::Query
                } else {
                    InputKind::Passage
                };
                (kind, q.submit_as(vec![format!("text {i}")], kind).unwrap())
            })
            .collect();
        for (i, (kind, rx)) in rxs.into_iter().enumerate() {
            let got = rx.blocking_recv().unwrap().unwrap();
            let want = e.embed_as(&[&format!("text {i}")], kind).unwrap();
            assert_eq!(got, want, "job {i} ({kind:?})");
        }
        let t = vec!["same".to_string()];
        q.remember(
            &t,
            InputKind::Query,
            &e.embed_as(&["same"], InputKind::Query).unwrap(),
        );
        assert_eq!(q.cached(&t, InputKind::Passage), vec![None]);
    }

    /// A 4-dimensional test embedder whose passes run `pass` (which may wait, fail, or answer
    /// too few vectors).
    struct Scripted<F>(F);
    impl<F> Embedder for Scripted<F>
    where
        F: Fn(&[&str]) -> Result<Vec<Embedding>, EmbedError> + Send + Sync,
    {
        fn dim(&self) -> usize {
            4
        }
        fn model_id(&self) -> ModelId {
            HashEmbedder::new(4).model_id()
        }
        fn max_tokens(&self) -> usize {
            8
        }
        fn count_tokens(&self, _: &str) -> usize {
            1
        }
        fn embed(&self, t: &[&str]) -> Result<Vec<Embedding>, EmbedError> {
            (self.0)(t)
        }
    }

    /// Answers one vector too few for its first `bad` passes.
    fn short(bad: usize) -> Arc<dyn Embedder> {
        let calls = AtomicUsize::new(0);
        Arc::new(Scripted(move |t: &[&str]| {
            let mut v = HashEmbedder::new(4).embed(t)?;
            if calls.fetch_add(1, Ordering::Relaxed) < bad {
                v.pop();
            }
            Ok(v)
        }))
    }

    #[test]
    fn a_short_reply_is_an_error_and_the_model_thread_lives_on() {
        let q = EmbedQueue::start(short(1), QueueLimits::default());
        let first = q.submit(vec!["a".into(), "b".into()]).unwrap();
        let err = first.blocking_recv().unwrap().unwrap_err();
        assert!(err.contains("returned 1 vectors for 2 texts"), "{err}");
        // The thread is still there: the next job is answered.
        let next = q.submit(vec!["c".into()]).unwrap();
        assert_eq!(next.blocking_recv().unwrap().unwrap().len(), 1);
        // A blocking caller sees the service's error, not a tokenizer's.
        let q = EmbedQueue::start(short(1), QueueLimits::default());
        let e = q.embed(&["x", "y"]).unwrap_err();
        assert!(matches!(e, EmbedError::Service(_)), "{e:?}");
    }

    #[test]
    fn a_large_request_is_queued_in_batches() {
        let e: Arc<dyn Embedder> = Arc::new(HashEmbedder::new(8));
        let limits = QueueLimits {
            max_batch: 8,
            cache: 0,
            ..QueueLimits::default()
        };
        let q = EmbedQueue::start(e.clone(), limits);
        let texts: Vec<String> = (0..100).map(|i| format!("text {i}")).collect();
        let rxs = q.submit_chunked(texts.clone(), InputKind::Passage).unwrap();
        assert_eq!(rxs.len(), 13);
        let got: Vec<Embedding> = rxs
            .into_iter()
            .flat_map(|rx| rx.blocking_recv().unwrap().unwrap())
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        assert_eq!(got, e.embed(&refs).unwrap());
        // No forward pass took more than one batch (the buckets above 8 stay empty).
        let over: usize = q.stats().batch_sizes[4..]
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum();
        assert_eq!(over, 0, "a pass of more than 8 texts");
    }

    #[test]
    fn background_work_waits_for_queued_queries_and_still_finishes() {
        // Every pass is recorded, and held until `open`.
        let open = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let passes = Arc::new(Mutex::new(Vec::<Vec<String>>::new()));
        let (o, p) = (open.clone(), passes.clone());
        let e = Scripted(move |t: &[&str]| {
            while !o.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(1));
            }
            p.lock()
                .unwrap()
                .push(t.iter().map(|t| t.to_string()).collect());
            HashEmbedder::new(4).embed(t)
        });
        let q = EmbedQueue::start(Arc::new(e), QueueLimits::default());
        // The first query holds the model (its pass waits at the gate).
        let first = q.submit_as(vec!["q0".into()], InputKind::Query).unwrap();
        while q.stats().depth.load(Ordering::Relaxed) > 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        // An upload of 12 passages queues behind it, then two more queries.
        let bg = {
            let q = q.clone();
            std::thread::spawn(move || {
                let texts: Vec<String> = (0..12).map(|i| format!("b{i}")).collect();
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                q.embed(&refs).unwrap().len()
            })
        };
        while q.stats().depth.load(Ordering::Relaxed) < 1 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let later: Vec<_> = ["q1", "q2"]
            .iter()
            .map(|t| q.submit_as(vec![t.to_string()], InputKind::Query).unwrap())
            .collect();
        open.store(true, Ordering::Release);
        first.blocking_recv().unwrap().unwrap();
        for rx in later {
            rx.blocking_recv().unwrap().unwrap();
        }
        assert_eq!(bg.join().unwrap(), 12);
        let passes = passes.lock().unwrap().clone();
        // The queries that queued after the upload ran before it, in one pass; the upload ran in
        // background jobs of at most BACKGROUND_BATCH texts.
        assert_eq!(passes[0], vec!["q0"]);
        assert_eq!(passes[1], vec!["q1", "q2"], "{passes:?}");
        let rest: Vec<&Vec<String>> = passes[2..].iter().collect();
        assert!(
            rest.iter().all(|p| p.len() <= BACKGROUND_BATCH),
            "{passes:?}"
        );
        assert_eq!(
            rest.iter().map(|p| p.len()).sum::<usize>(),
            12,
            "{passes:?}"
        );
    }

    #[test]
    fn long_texts_are_not_cached() {
        let e: Arc<dyn Embedder> = Arc::new(HashEmbedder::new(8));
        let q = EmbedQueue::start(e.clone(), QueueLimits::default());
        let long = "word ".repeat(MAX_CACHED_TEXT);
        let texts = vec![long.clone(), "short".to_string()];
        let v = e.embed(&[long.as_str(), "short"]).unwrap();
        q.remember(&texts, InputKind::Passage, &v);
        assert_eq!(
            q.cached(&texts, InputKind::Passage),
            vec![None, Some(v[1].clone())]
        );
    }

    #[test]
    fn a_full_queue_refuses_at_once() {
        let slow = Scripted(|t: &[&str]| {
            std::thread::sleep(Duration::from_millis(200));
            HashEmbedder::new(4).embed(t)
        });
        let limits = QueueLimits {
            capacity: 2,
            max_batch: 1,
            max_wait: Duration::ZERO,
            cache: 0,
        };
        let q = EmbedQueue::start(Arc::new(slow), limits);
        let mut full = 0;
        let mut taken = Vec::new();
        for _ in 0..10 {
            match q.submit(vec!["x".into()]) {
                Ok(rx) => taken.push(rx),
                Err(Submit::Full) => full += 1,
                Err(Submit::Closed) => panic!("closed"),
            }
        }
        assert!(full >= 6, "only {full} refused");
        for rx in taken {
            assert!(rx.blocking_recv().unwrap().is_ok());
        }
    }
}
