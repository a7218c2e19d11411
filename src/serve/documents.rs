//! Documents: the list, one document's tree (the shape `simsum sections --json` prints), and
//! the two writes, upload and delete.
//!
//! Writes are serialised by [`AppState::writer`] and go through the store's [`StoreWriter`],
//! which commits atomically: a write either lands whole or leaves the previous state, also
//! when the server is stopped during it. Readers keep the committed handle they hold and see
//! the new state once the write commits and the handle is swapped. An uploaded document is
//! stored under the virtual path `/uploads/NAME`; deleting a document is an update whose
//! scope is that document's path and which brings no documents.

use std::path::PathBuf;

use axum::extract::State;

use super::api::UploadRequest;
use super::handlers::{answer, blocking, ok, with_store, ApiJson, ApiPath, ApiResult};
use super::{ApiError, AppState};
use crate::answer::{DocumentsAnswer, WriteAnswer};
use crate::ingest::{Document, IngestOptions};
use crate::store::{Level, StoredItem, UpdateOptions};
use std::sync::Arc;

type S = State<Arc<AppState>>;

/// Longest upload name accepted.
const MAX_NAME: usize = 200;

/// All stored documents.
#[utoipa::path(get, path = "/v1/documents", responses((status = 200, description = "`{documents: [{id, title, date, path}]}`")))]
pub async fn documents(State(state): S) -> ApiResult {
    with_store(&state, move |h| {
        let docs = h.store.documents()?;
        Ok(answer(&DocumentsAnswer { documents: docs }))
    })
    .await
}

/// One document's tree of sections, initiatives and sentences.
#[utoipa::path(get, path = "/v1/documents/{id}", params(("id" = String, Path, description = "Document id")),
    responses((status = 200, description = "The document tree, as one line of `simsum sections --json`"),
              (status = 404, body = super::error::ErrorBody)))]
pub async fn document(State(state): S, ApiPath(id): ApiPath) -> ApiResult {
    with_store(&state, move |h| {
        let store = h.store.as_ref();
        let Some(info) = store.documents()?.into_iter().find(|d| d.id == id) else {
            return Err(ApiError::NotFound(format!("no document `{id}`")));
        };
        let of_doc = |level| -> Result<Vec<StoredItem>, ApiError> {
            Ok(store.items_of_document(level, &id)?)
        };
        let sections = of_doc(Level::Section)?;
        let initiatives = of_doc(Level::Initiative)?;
        let mut doc = crate::store::update::document_shell(&info, "");
        for s in &sections {
            let inits: Vec<&StoredItem> = initiatives
                .iter()
                .filter(|i| i.section_id == s.id)
                .collect();
            let ordinal =
                s.id.rsplit_once("#s")
                    .and_then(|(_, n)| n.parse().ok())
                    .unwrap_or(0);
            doc.sections
                .push(crate::store::update::section_tree(s, ordinal, &inits));
        }
        Ok(ok(crate::answer::to_json(&doc)))
    })
    .await
}

/// Checks an upload's name: a plain file name, so it cannot point anywhere else.
fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' '));
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "name must be a file name of at most {MAX_NAME} letters, digits, `.`, `-`, `_` or spaces"
        )))
    }
}

fn uploads_refused() -> ApiError {
    ApiError::ReadOnly
}

/// Indexes a new or changed document (only its new or changed paragraphs are embedded).
#[utoipa::path(post, path = "/v1/documents", request_body = UploadRequest,
    responses((status = 200, description = "`{documents: [ids], stats, counts, generation}`"),
              (status = 400, body = super::error::ErrorBody), (status = 413, body = super::error::ErrorBody),
              (status = 503, body = super::error::ErrorBody)))]
pub async fn upload(State(state): S, ApiJson(req): ApiJson<UploadRequest>) -> ApiResult {
    if !state.config.allow_uploads {
        return Err(uploads_refused());
    }
    check_name(&req.name)?;
    if let Some(f) = &req.format {
        crate::ingest::Format::from_name(f).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    }
    let path = PathBuf::from("/uploads").join(&req.name);
    let opts = IngestOptions {
        format: req.format.clone(),
        max_tokens: crate::embed::Embedder::max_tokens(&state.queue),
        verbose: false,
    };
    // Parsing tokenises every paragraph (and may read a PDF): CPU work, off the async threads.
    let q = state.queue.clone();
    let at = path.clone();
    let docs = blocking(move || {
        let count = |t: &str| crate::embed::Embedder::count_tokens(&q, t);
        let docs = crate::ingest::parse_document(&at, req.text.as_bytes(), &opts, &count)
            .map_err(|e| ApiError::BadRequest(format!("{}: {e}", req.name)))?;
        if docs.iter().all(|d| d.initiatives().next().is_none()) {
            return Err(ApiError::BadRequest(format!(
                "{}: no paragraphs of text found",
                req.name
            )));
        }
        Ok(docs)
    })
    .await?;
    write(&state, docs, path).await
}

/// Removes a stored document and its items.
#[utoipa::path(delete, path = "/v1/documents/{id}", params(("id" = String, Path, description = "Document id")),
    responses((status = 200, description = "`{documents: [], stats, counts, generation}`"),
              (status = 404, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn delete_document(State(state): S, ApiPath(id): ApiPath) -> ApiResult {
    if !state.config.allow_uploads {
        return Err(uploads_refused());
    }
    let path = with_store(&state, move |h| {
        let docs = h.store.documents()?;
        let Some(doc) = docs.iter().find(|d| d.id == id) else {
            return Err(ApiError::NotFound(format!("no document `{id}`")));
        };
        let sharing = docs.iter().filter(|d| d.path.starts_with(&doc.path)).count();
        if sharing > 1 {
            return Err(ApiError::OutOfRange(format!(
                "document `{id}` comes from {} together with {} other(s); edit that file and run `simsum index` instead",
                doc.path.display(),
                sharing - 1
            )));
        }
        Ok(doc.path.clone())
    })
    .await?;
    write(&state, Vec::new(), path).await
}

/// One serialised write: `docs` replace whatever was stored from `path`.
async fn write(state: &Arc<AppState>, docs: Vec<Document>, path: PathBuf) -> ApiResult {
    // The guard moves into the blocking task: a client that hangs up does not free the writer
    // slot while its write is still running.
    let one_writer = state.writer.clone().lock_owned().await;
    let st = state.clone();
    blocking(move || {
        let _one_writer = one_writer;
        let q = &st.queue;
        let model = crate::embed::Embedder::model_id(q);
        let dim = crate::embed::Embedder::dim(q);
        let mut writer = crate::store::open_writer(
            &st.config.store,
            st.config.store_token.as_deref(),
            &model,
            dim,
            false,
        )?;
        let opts = UpdateOptions {
            scope: vec![path],
            tagger: Some(crate::entities::TAGGER),
            ..Default::default()
        };
        let stats = writer.update(&docs, q, &opts, &|_, _| {})?;
        let counts = writer.store().counts()?;
        drop(writer);
        st.refresh()?;
        Ok(answer(&WriteAnswer {
            counts,
            documents: docs.iter().map(|d| d.id.clone()).collect(),
            generation: st.store().generation,
            stats,
        }))
    })
    .await
}
