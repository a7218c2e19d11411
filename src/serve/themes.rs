//! Themes and summaries: the last theme report (the JSON of `simsum cluster --format json`),
//! clustering again, the report's 2-D map, and extractive summaries of a document, a theme, a
//! query's results or posted text (the JSON of `simsum summarize --json`).
//!
//! The map reuses the HTML report's projection ([`crate::cluster::layout::project_2d`]); a
//! saved report keeps member ids but not centroids, so they are recomputed from the stored
//! vectors of the members.

use std::path::Path;
use std::sync::Arc;

use axum::extract::State;

use super::api::{SummarizeRequest, ThemesRequest};
use super::handlers::{
    answer, blocking, check_k, embed, ok, query_level, with_store, ApiJson, ApiResult,
};
use super::{ApiError, AppState};
use crate::answer::{MapTheme, ThemeMapAnswer};
use crate::cluster::lineage::{previous_assignment, Previous};
use crate::cluster::{ClusterParams, ThemeCount, ThemeReport};
use crate::store::{Level, Store, StoredItem};
use crate::summarize::{Length, SummaryParams};

type S = State<Arc<AppState>>;

/// Most characters of an item's text sent with the map.
const MAP_TEXT_CHARS: usize = 280;

fn saved_report(store: &dyn Store) -> Result<ThemeReport, ApiError> {
    ThemeReport::load(store)?.map(|(_, r)| r).ok_or_else(|| {
        ApiError::NotFound("no theme report yet: POST /v1/themes (or run `simsum cluster`)".into())
    })
}

fn report_level(r: &ThemeReport) -> Level {
    r.params
        .level
        .as_deref()
        .and_then(|l| l.parse().ok())
        .unwrap_or(Level::Initiative)
}

/// The last theme report.
#[utoipa::path(get, path = "/v1/themes",
    responses((status = 200, description = "The theme report, as `simsum cluster --format json`"),
              (status = 404, body = super::error::ErrorBody)))]
pub async fn themes(State(state): S) -> ApiResult {
    with_store(&state, move |h| {
        let r = saved_report(h.store.as_ref())?;
        Ok(ok(crate::answer::to_json(&r)))
    })
    .await
}

/// The settings of `POST /v1/themes`, checked: level, clustering parameters, periods.
fn recluster_settings(
    req: &ThemesRequest,
) -> Result<(Level, ClusterParams, Option<crate::cluster::over::Over>), ApiError> {
    let level = query_level(req.level.as_deref())?;
    let themes = match req.themes.clone() {
        None => ThemeCount::Auto,
        Some(v) => ThemeCount::try_from(v).map_err(ApiError::BadRequest)?,
    };
    if matches!(themes, ThemeCount::Fixed(n) if n == 0 || n > 10_000) {
        return Err(ApiError::OutOfRange(
            "themes must be `auto` or 1 to 10000".into(),
        ));
    }
    let resolution = req.resolution.unwrap_or(1.0);
    if !(resolution.is_finite() && resolution > 0.0 && resolution <= 100.0) {
        return Err(ApiError::OutOfRange(format!(
            "resolution must be above 0 and at most 100, got {resolution}"
        )));
    }
    if req.min_size.is_some_and(|m| m == 0 || m > 1_000_000) {
        return Err(ApiError::OutOfRange("min_size must be 1 to 1000000".into()));
    }
    let over = req
        .over
        .as_deref()
        .map(str::parse::<crate::cluster::over::Over>)
        .transpose()
        .map_err(ApiError::BadRequest)?;
    let params = ClusterParams {
        themes,
        min_size: req.min_size,
        seed: req.seed.unwrap_or(42),
        resolution,
        ..Default::default()
    };
    Ok((level, params, over))
}

/// Clusters the stored items again with these parameters, keeps and returns the report; the
/// themes that carry on from the last report keep their ids and titles unless `fresh`.
#[utoipa::path(post, path = "/v1/themes", request_body = ThemesRequest,
    responses((status = 200, description = "The new theme report, as `simsum cluster --format json`"),
              (status = 400, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody),
              (status = 503, body = super::error::ErrorBody)))]
pub async fn recluster(State(state): S, ApiJson(req): ApiJson<ThemesRequest>) -> ApiResult {
    let (level, params, over) = recluster_settings(&req)?;
    let fresh = req.fresh.unwrap_or(false);
    // One clustering at a time: a second request while one runs is told to come back.
    let Ok(one) = state.themes.clone().try_lock_owned() else {
        return Err(ApiError::Overloaded(
            "clustering is already running; retry shortly".into(),
        ));
    };
    let st = state.clone();
    blocking(move || {
        let _one = one;
        let h = st.store();
        let last = if fresh {
            None
        } else {
            ThemeReport::load(h.store.as_ref())?
        };
        let previous = last.as_ref().map(|(generation, report)| Previous {
            generation: *generation,
            report,
        });
        let mut t = crate::cluster::indexed::cluster_index_with(
            h.store.as_ref(),
            level,
            &params,
            Some(&st.queue as &dyn crate::embed::Embedder),
            None,
            previous,
        )
        .map_err(|e| ApiError::Internal(format!("clustering: {e}")))?;
        if let Some(over) = over {
            crate::cluster::over::count_over(h.store.as_ref(), &mut t.report, level, over)?;
        }
        crate::store::save_themes(
            &st.config.store,
            st.config.store_token.as_deref(),
            &t.report.to_saved(h.generation),
        )?;
        let body = ok(crate::answer::to_json(&t.report));
        drop(t);
        super::return_freed_memory();
        Ok(body)
    })
    .await
}

/// The last report's items on a 2-D map.
#[utoipa::path(get, path = "/v1/themes/map",
    responses((status = 200, description = "`{points: [[x, y, theme index or -1]], ids, texts, themes: [{id, title, x, y, colour}], grey}`"),
              (status = 404, body = super::error::ErrorBody)))]
pub async fn theme_map(State(state): S) -> ApiResult {
    with_store(&state, move |h| {
        let report = saved_report(h.store.as_ref())?;
        let items = h.store.knn_items(report_level(&report))?;
        let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
        let assignment = previous_assignment(&ids, &report);
        let dim = items.first().map_or(0, |i| i.vector.len());
        let mut centroids = vec![vec![0.0f32; dim]; report.themes.len()];
        for (i, a) in items.iter().zip(&assignment) {
            if let Some(t) = a {
                centroids[*t]
                    .iter_mut()
                    .zip(&i.vector)
                    .for_each(|(c, x)| *c += x);
            }
        }
        centroids
            .iter_mut()
            .for_each(|c| crate::embed::normalize(c));
        let vectors: Vec<&[f32]> = items.iter().map(|i| i.vector.as_slice()).collect();
        let points = crate::cluster::layout::project_2d(&vectors, &assignment, &centroids);
        let stride = items.len().div_ceil(crate::report::MAX_MAP_POINTS).max(1);
        let shown: Vec<usize> = (0..items.len()).step_by(stride).collect();
        let mut sums = vec![(0.0f64, 0.0f64, 0usize); report.themes.len()];
        for (a, p) in assignment.iter().zip(&points) {
            if let Some(t) = *a {
                sums[t].0 += p[0] as f64;
                sums[t].1 += p[1] as f64;
                sums[t].2 += 1;
            }
        }
        let round = |x: f32| (x * 1000.0).round() / 1000.0;
        let mean = |sum: f64, n: usize| if n > 0 { sum / n as f64 } else { 0.0 };
        Ok(answer(&ThemeMapAnswer {
            grey: "#b0b0b0",
            ids: shown.iter().map(|&i| items[i].id.clone()).collect(),
            points: shown
                .iter()
                .map(|&i| {
                    let theme = assignment[i].map_or(-1, |t| t as i64);
                    (round(points[i][0]), round(points[i][1]), theme)
                })
                .collect(),
            texts: shown
                .iter()
                .map(|&i| crate::report::truncate(&items[i].text, MAP_TEXT_CHARS))
                .collect(),
            themes: report
                .themes
                .iter()
                .zip(&sums)
                .enumerate()
                .map(|(k, (t, s))| MapTheme {
                    colour: crate::report::theme_colour(k).to_string(),
                    id: t.id,
                    title: t.title.clone(),
                    x: mean(s.0, s.2),
                    y: mean(s.1, s.2),
                })
                .collect(),
        }))
    })
    .await
}

/// An extractive summary of a stored document, a theme, a query's results or posted text.
#[utoipa::path(post, path = "/v1/summarize", request_body = SummarizeRequest,
    responses((status = 200, description = "`{summary: [{text, initiative, document, score}], params}` as `simsum summarize --json`"),
              (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
              (status = 422, body = super::error::ErrorBody)))]
pub async fn summarize(State(state): S, ApiJson(req): ApiJson<SummarizeRequest>) -> ApiResult {
    let given = [
        req.doc.is_some(),
        req.theme.is_some(),
        req.query.is_some(),
        req.text.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(ApiError::BadRequest(
            "give exactly one of `doc`, `theme`, `query`, `text`".into(),
        ));
    }
    let length = match (req.sentences, req.words) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "give `sentences` or `words`, not both".into(),
            ))
        }
        (Some(n), _) | (_, Some(n)) if n == 0 || n > 100_000 => {
            return Err(ApiError::OutOfRange(
                "sentences and words must be 1 to 100000".into(),
            ))
        }
        (Some(n), _) => Length::Sentences(n),
        (_, Some(n)) => Length::Words(n),
        _ => Length::Auto,
    };
    let scorer = match &req.scorer {
        Some(name) => name.parse().map_err(ApiError::BadRequest)?,
        None => crate::summarize::Scorer::default(),
    };
    let params = SummaryParams {
        length,
        scorer,
        ..Default::default()
    };
    let query_vector = match &req.query {
        Some(q) => {
            crate::search::check_query(q)?;
            let v = crate::search::query_vector(
                embed(&state, vec![q.clone()], crate::embed::InputKind::Query).await?,
            );
            Some((v, check_k(&state, req.k, 10)?))
        }
        None => None,
    };
    if let Some(f) = &req.format {
        crate::ingest::Format::from_name(f).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    }
    let st = state.clone();
    blocking(move || {
        let h = st.store();
        let store = h.store.as_ref();
        let units = if let Some(text) = &req.text {
            let q = &st.queue;
            let opts = crate::ingest::IngestOptions {
                format: req.format.clone(),
                max_tokens: crate::embed::Embedder::max_tokens(q),
                verbose: false,
            };
            let count = |t: &str| crate::embed::Embedder::count_tokens(q, t);
            let docs = crate::ingest::parse_document(
                Path::new("posted.txt"),
                text.as_bytes(),
                &opts,
                &count,
            )
            .map_err(|e| ApiError::BadRequest(format!("text: {e}")))?;
            crate::summarize::embed_documents(&docs, q)
                .map_err(|e| ApiError::Internal(e.to_string()))?
        } else {
            crate::summarize::units_from_items(&stored_items(store, &req, query_vector)?)
        };
        let summary = crate::summarize::summarize(&units, &params)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(ok(crate::answer::to_json(&summary)))
    })
    .await
}

/// The stored items a summary request names (404 when the document or theme is unknown).
fn stored_items(
    store: &dyn Store,
    req: &SummarizeRequest,
    query: Option<(Vec<f32>, usize)>,
) -> Result<Vec<StoredItem>, ApiError> {
    if let Some(doc) = &req.doc {
        return crate::summarize::document_items(store, doc)?
            .ok_or_else(|| ApiError::NotFound(format!("no document `{doc}`")));
    }
    if let Some((v, k)) = query {
        let opts = crate::search::SearchOptions {
            k,
            docs: crate::search::DocFilter::of_entities(req.filters.to_filter()?),
            ..Default::default()
        };
        let filter = opts.docs.compile()?;
        let text = req.query.as_deref().unwrap_or_default();
        let hits = crate::search::search_text(store, text, Some(&v), &opts, &filter)?;
        return hits.iter().map(|h| Ok(store.item(&h.id)?)).collect();
    }
    let id = req.theme.unwrap_or_default();
    let report = saved_report(store)?;
    let Some(t) = report.themes.iter().find(|t| t.id == id) else {
        return Err(ApiError::NotFound(format!(
            "no theme {id}: the last report has {} ({})",
            report.themes.len(),
            crate::report::theme_ids(&report)
        )));
    };
    Ok(crate::summarize::member_items(
        store,
        report_level(&report),
        &t.members,
    )?)
}
