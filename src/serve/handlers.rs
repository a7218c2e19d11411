//! The API's handlers: each checks its input (400 malformed, 422 out of range), gets query
//! vectors from the embedding queue, runs store work on a blocking thread against the current
//! committed store and answers the JSON its CLI counterpart prints with `--json`.
//! Writes (uploads, deletes) and themes live in [`super::documents`] and [`super::themes`].

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::embed::InputKind;

use super::api::{EmbeddingsRequest, FacetsQuery, LinksQuery, SearchRequest, SimilarQuery};
use super::error::{rejection, ApiError};
use super::queue::Submit;
use super::AppState;
use crate::answer::{
    EmbeddingData, EmbeddingVector, EmbeddingsAnswer, InfoAnswer, ItemAnswer, ItemRef,
    LimitsAnswer, LinksAnswer, SearchAnswer, SimilarAnswer, Usage,
};
use crate::search::{DocFilter, LinkOptions, SearchOptions};
use crate::store::Level;

pub use super::documents::{delete_document, document, documents, upload};
pub use super::themes::{recluster, summarize, theme_map, themes};

type S = State<Arc<AppState>>;
pub(crate) type ApiResult = Result<Response, ApiError>;

/// A JSON body whose rejections take the API's error shape (400, or 413 over the limit).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(r) => Err(rejection(
                r.status(),
                r.body_text(),
                state.config.limits.max_body_bytes,
            )),
        }
    }
}

/// A query string whose rejections take the API's error shape (400).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts<Arc<AppState>> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(p: &mut Parts, s: &Arc<AppState>) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(p, s)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|r| ApiError::BadRequest(r.body_text()))
    }
}

/// A path parameter whose rejections take the API's error shape (400).
pub struct ApiPath(pub String);

impl FromRequestParts<Arc<AppState>> for ApiPath {
    type Rejection = ApiError;
    async fn from_request_parts(p: &mut Parts, s: &Arc<AppState>) -> Result<Self, ApiError> {
        axum::extract::Path::<String>::from_request_parts(p, s)
            .await
            .map(|q| ApiPath(q.0))
            .map_err(|r| ApiError::BadRequest(r.body_text()))
    }
}

/// Runs `f` with the current store handle on a blocking thread (see [`blocking`]).
pub(crate) async fn with_store<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&super::StoreHandle) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let st = state.clone();
    blocking(move || f(&st.store())).await
}

/// Runs store work on a blocking thread; a panic there becomes a 500, not a dead server.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(ApiError::Internal(format!("a store task failed: {e}"))))
}

/// Embeds `texts` through the queue (503 when it is full).
pub(crate) async fn embed(
    state: &AppState,
    texts: Vec<String>,
    kind: crate::embed::InputKind,
) -> Result<Vec<crate::embed::Embedding>, ApiError> {
    let mut found = state.queue.cached(&texts, kind);
    let missing: Vec<String> = texts
        .iter()
        .zip(&found)
        .filter(|(_, f)| f.is_none())
        .map(|(t, _)| t.clone())
        .collect();
    if !missing.is_empty() {
        let rxs = state
            .queue
            .submit_chunked(missing.clone(), kind)
            .map_err(|e| match e {
                Submit::Full => {
                    ApiError::Overloaded("the embedding queue is full; retry shortly".into())
                }
                Submit::Closed => ApiError::Internal("the embedding thread stopped".into()),
            })?;
        let mut fresh = Vec::with_capacity(missing.len());
        for rx in rxs {
            fresh.extend(
                rx.await
                    .map_err(|_| ApiError::Internal("the embedding thread stopped".into()))?
                    .map_err(ApiError::Internal)?,
            );
        }
        state.queue.remember(&missing, kind, &fresh);
        let mut fresh = fresh.into_iter();
        for slot in found.iter_mut().filter(|f| f.is_none()) {
            *slot = fresh.next();
        }
    }
    found
        .into_iter()
        .map(|f| f.ok_or_else(|| ApiError::Internal("an embedding went missing".into())))
        .collect()
}

/// `k` within 1 and the server's maximum (422 otherwise).
pub(crate) fn check_k(
    state: &AppState,
    k: Option<usize>,
    default: usize,
) -> Result<usize, ApiError> {
    let k = k.unwrap_or(default);
    let max = state.config.limits.max_k;
    if k == 0 || k > max {
        return Err(ApiError::OutOfRange(format!(
            "k must be between 1 and {max}, got {k}"
        )));
    }
    Ok(k)
}

/// `"ef"`: absent, or 1 to [`crate::search::MAX_EF`] (422 otherwise).
pub(crate) fn check_ef(ef: Option<usize>) -> Result<Option<usize>, ApiError> {
    let max = crate::search::MAX_EF;
    match ef {
        Some(e) if e == 0 || e > max => Err(ApiError::OutOfRange(format!(
            "ef must be between 1 and {max}, got {e}"
        ))),
        other => Ok(other),
    }
}

/// `initiative` or `section` (400 otherwise).
pub(crate) fn query_level(level: Option<&str>) -> Result<Level, ApiError> {
    match level.unwrap_or("initiative") {
        "initiative" => Ok(Level::Initiative),
        "section" => Ok(Level::Section),
        other => Err(ApiError::BadRequest(format!(
            "level must be `initiative` or `section`, got `{other}`"
        ))),
    }
}

/// The `mode` of a search request: `hybrid` (default), `dense` or `lexical`.
pub(crate) fn search_mode(mode: Option<&str>) -> Result<crate::search::SearchMode, ApiError> {
    mode.map_or(Ok(Default::default()), |m| {
        m.parse()
            .map_err(|e: String| ApiError::BadRequest(format!("mode: {e}")))
    })
}

#[utoipa::path(get, path = "/health", responses((status = 200, description = "`{\"status\":\"ok\"}`")), security(()))]
pub async fn health() -> Response {
    answer(&crate::answer::Health { status: "ok" })
}

/// Model, dimension, dtype, counts, store generation and the server's limits.
#[utoipa::path(get, path = "/v1/info", responses((status = 200, description = "Model, dimension, dtype, counts, generation, limits"), (status = 401, body = super::error::ErrorBody)))]
pub async fn info(State(state): S) -> ApiResult {
    let st = state.clone();
    blocking(move || {
        let h = st.store();
        let info = h.store.info();
        let counts = h.store.counts()?;
        let l = &st.config.limits;
        Ok(answer(&InfoAnswer {
            counts,
            dimension: info.dimension,
            dtype: st.config.dtype.clone(),
            generation: h.generation,
            limits: LimitsAnswer {
                max_batch: l.queue.max_batch,
                max_body_bytes: l.max_body_bytes,
                max_inputs: l.max_inputs,
                max_k: l.max_k,
                max_wait_ms: l.queue.max_wait.as_secs_f64() * 1000.0,
                queue_capacity: l.queue.capacity,
                request_timeout_s: l.request_timeout.as_secs_f64(),
            },
            max_tokens: crate::embed::Embedder::max_tokens(&st.queue),
            model: info.model,
            store: info.url,
            uploads: st.config.allow_uploads,
        }))
    })
    .await
}

/// Ranked items most similar to a text; the JSON of `simsum search --json`.
#[utoipa::path(post, path = "/v1/search", request_body = SearchRequest,
    responses((status = 200, body = crate::answer::SearchAnswer, description = "What `simsum search --json` prints"),
              (status = 400, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody),
              (status = 503, body = super::error::ErrorBody)))]
pub async fn search(State(state): S, ApiJson(req): ApiJson<SearchRequest>) -> ApiResult {
    let k = check_k(&state, req.k, 10)?;
    let level = query_level(req.level.as_deref())?;
    let opts = SearchOptions {
        k,
        level,
        docs: DocFilter {
            glob: req.doc.clone(),
            since: req.since.clone(),
            until: req.until.clone(),
            entities: req.filters.to_filter()?,
        },
        include_boilerplate: req.include_boilerplate.unwrap_or(false),
        other_docs: false,
        exact: req.exact.unwrap_or(false),
        mode: search_mode(req.mode.as_deref())?,
        fusion: Default::default(),
        ef: check_ef(req.ef)?,
    };
    let filter = opts.docs.compile()?;
    crate::search::check_query(&req.query)?;
    let vector = if opts.mode.needs_vector() {
        Some(crate::search::query_vector(
            embed(&state, vec![req.query.clone()], InputKind::Query).await?,
        ))
    } else {
        None
    };
    let (exact, mode) = (opts.exact, opts.mode);
    with_store(&state, move |h| {
        let store = h.store.as_ref();
        let hits =
            crate::search::search_text(store, &req.query, vector.as_deref(), &opts, &filter)?;
        Ok(answer(&SearchAnswer {
            exact: exact || !store.uses_graph(level)?,
            k,
            level,
            mode,
            query: req.query,
            results: hits,
        }))
    })
    .await
}

/// One stored item with its sentences.
#[utoipa::path(get, path = "/v1/items/{id}", params(("id" = String, Path, description = "Item id, e.g. `report#s1.p2`")),
    responses((status = 200, body = crate::answer::ItemAnswer, description = "The item, its parent and its sentences"),
              (status = 404, body = super::error::ErrorBody)))]
pub async fn item(State(state): S, ApiPath(id): ApiPath) -> ApiResult {
    with_store(&state, move |h| {
        let item = h.store.item(&id)?;
        Ok(answer(&ItemAnswer::from(&item)))
    })
    .await
}

/// Items most like a stored one; the JSON of `simsum similar --json`.
#[utoipa::path(get, path = "/v1/items/{id}/similar", params(("id" = String, Path, description = "Item id"), SimilarQuery),
    responses((status = 200, body = crate::answer::SimilarAnswer, description = "What `simsum similar --json` prints"),
              (status = 404, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn similar(
    State(state): S,
    ApiPath(id): ApiPath,
    ApiQuery(q): ApiQuery<SimilarQuery>,
) -> ApiResult {
    let k = check_k(&state, q.k, 10)?;
    let other_docs = q.other_docs.unwrap_or(false);
    let entities = q.entities()?;
    with_store(&state, move |h| {
        let opts = SearchOptions {
            k,
            other_docs,
            docs: DocFilter::of_entities(entities),
            ..Default::default()
        };
        let (item, hits) = crate::search::similar(h.store.as_ref(), &id, &opts)?;
        Ok(answer(&SimilarAnswer {
            item: ItemRef::from(&item),
            k,
            other_docs,
            results: hits,
        }))
    })
    .await
}

/// Pairs of related initiatives across documents; the JSON of `simsum links --json`.
#[utoipa::path(get, path = "/v1/links", params(LinksQuery),
    responses((status = 200, body = crate::answer::LinksAnswer, description = "What `simsum links --json` prints"),
              (status = 422, body = super::error::ErrorBody)))]
pub async fn links(State(state): S, ApiQuery(q): ApiQuery<LinksQuery>) -> ApiResult {
    let threshold = q.threshold.unwrap_or(0.6);
    if !(-1.0..=1.0).contains(&threshold) {
        return Err(ApiError::OutOfRange(format!(
            "threshold must be between -1 and 1, got {threshold}"
        )));
    }
    let per_item = check_k(&state, q.per_item, 5)?;
    let entities = q.entities()?;
    with_store(&state, move |h| {
        let opts = LinkOptions {
            threshold,
            per_item,
            docs: DocFilter::of_entities(entities),
            ..Default::default()
        };
        let links = crate::search::links(h.store.as_ref(), &opts)?;
        Ok(answer(&LinksAnswer {
            level: opts.level,
            links,
            threshold,
        }))
    })
    .await
}

/// Countries, organisations and years with their item and document counts; the JSON of
/// `simsum facets --json`.
#[utoipa::path(get, path = "/v1/facets", params(FacetsQuery),
    responses((status = 200, body = crate::answer::FacetsAnswer, description = "What `simsum facets --json` prints"),
              (status = 400, body = super::error::ErrorBody)))]
pub async fn facets(State(state): S, ApiQuery(q): ApiQuery<FacetsQuery>) -> ApiResult {
    let level = query_level(q.level.as_deref())?;
    let kind = q
        .kind
        .as_deref()
        .map(str::parse::<crate::facets::FacetKind>)
        .transpose()?;
    with_store(&state, move |h| {
        Ok(answer(&crate::facets::facets(
            h.store.as_ref(),
            level,
            kind,
        )?))
    })
    .await
}

/// OpenAI-compatible embeddings, equal to `simsum embed`'s vectors.
#[utoipa::path(post, path = "/v1/embeddings", request_body = EmbeddingsRequest,
    responses((status = 200, description = "`{object: \"list\", data: [{object: \"embedding\", index, embedding}], model, usage: {prompt_tokens, total_tokens}}`"),
              (status = 400, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody),
              (status = 503, body = super::error::ErrorBody)))]
pub async fn embeddings(State(state): S, ApiJson(req): ApiJson<EmbeddingsRequest>) -> ApiResult {
    let texts: Vec<String> = match req.input {
        Value::String(s) => vec![s],
        Value::Array(a) if !a.is_empty() => a
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(ApiError::BadRequest(
                    "input must be a string or an array of strings (token arrays are not accepted)"
                        .into(),
                )),
            })
            .collect::<Result<_, _>>()?,
        Value::Array(_) => return Err(ApiError::BadRequest("input is an empty array".into())),
        _ => {
            return Err(ApiError::BadRequest(
                "input must be a string or an array of strings".into(),
            ))
        }
    };
    let max = state.config.limits.max_inputs;
    if texts.len() > max {
        return Err(ApiError::OutOfRange(format!(
            "at most {max} inputs per request, got {}",
            texts.len()
        )));
    }
    let base64 = match req.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "encoding_format must be `float` or `base64`, got `{other}`"
            )))
        }
    };
    let kind = match req.input_type.as_deref() {
        None => InputKind::Passage,
        Some(name) => InputKind::from_name(name).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "input_type must be `passage`, `document` or `query`, got `{name}`"
            ))
        })?,
    };
    let embs = embed(&state, texts, kind).await?;
    let tokens: usize = embs.iter().map(|e| e.n_tokens).sum();
    let data: Vec<EmbeddingData> = embs
        .iter()
        .enumerate()
        .map(|(index, e)| {
            let embedding = if base64 {
                let bytes: Vec<u8> = e.vector.iter().flat_map(|x| x.to_le_bytes()).collect();
                EmbeddingVector::Base64(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                EmbeddingVector::Float(e.vector.clone())
            };
            EmbeddingData {
                embedding,
                index,
                object: "embedding",
            }
        })
        .collect();
    Ok(answer(&EmbeddingsAnswer {
        data,
        model: crate::embed::Embedder::model_id(&state.queue).name,
        object: "list",
        usage: Usage {
            prompt_tokens: tokens,
            total_tokens: tokens,
        },
    }))
}

/// Prometheus text: requests by route and status, latency, batch sizes, queue depth.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): S) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(state.queue.stats()),
    )
        .into_response()
}

/// This API's OpenAPI 3 description.
pub async fn openapi() -> Response {
    use utoipa::OpenApi;
    Json(super::api::ApiDoc::openapi()).into_response()
}

/// Unknown routes: 404 in the error shape.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such route; see /openapi.json".into())
}

/// 200 with a typed answer, serialised as the CLI's `--json` serialises it.
pub(crate) fn answer<T: serde::Serialize>(a: &T) -> Response {
    ok(crate::answer::to_json(a))
}

/// 200 with a JSON body (shared by the other handler modules).
pub(crate) fn ok(v: Value) -> Response {
    (StatusCode::OK, Json(v)).into_response()
}
