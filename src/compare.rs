//! Two reports (or two date ranges) compared: which initiatives are shared, new and gone, each
//! with its closest counterpart on the other side and the score, and which themes are shared,
//! new and gone ("what is new in report IV").
//!
//! A side is a [`DocFilter`] (a document id or glob, or a date range). Each item of one side
//! is matched with its nearest item of the other ([`Store::nearest`], restricted to the other
//! side's documents); at or above the threshold it is shared, below it is new (on side B) or
//! gone (on side A). Themes come from a theme report over the whole store: a theme whose
//! members lie on both sides is shared, on B only new, on A only gone.

use std::collections::HashSet;

use crate::answer::{CompareAnswer, CompareItem, CompareTheme, ItemRef};
use crate::cluster::ThemeReport;
use crate::search::{DocFilter, SearchError};
use crate::store::{DocScope, ItemFilter, Level, Store, StoredItem};

/// Settings of [`compare`].
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// The old side (A) and the new side (B).
    pub a: DocFilter,
    pub b: DocFilter,
    pub level: Level,
    /// Smallest cosine similarity of two items that say the same thing.
    pub threshold: f32,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self {
            a: DocFilter::default(),
            b: DocFilter::default(),
            level: Level::Initiative,
            threshold: 0.6,
        }
    }
}

/// One side, resolved: its filter and its non-boilerplate items.
struct Side {
    documents: Vec<String>,
    items: Vec<StoredItem>,
}

fn side(store: &dyn Store, f: &DocFilter, all: &[StoredItem]) -> Result<Side, SearchError> {
    let filter = f.compile()?;
    let documents: Vec<String> = store
        .documents()?
        .into_iter()
        .filter(|d| filter.matches(d))
        .map(|d| d.id)
        .collect();
    let ids: HashSet<&str> = documents.iter().map(String::as_str).collect();
    let items = all
        .iter()
        .filter(|i| ids.contains(i.doc_id.as_str()))
        .cloned()
        .collect();
    Ok(Side { documents, items })
}

/// Each item of `from` with its closest item on the other side (documents `to` keeps).
fn counterparts(
    store: &dyn Store,
    level: Level,
    from: &Side,
    to: &Side,
) -> Result<Vec<CompareItem>, SearchError> {
    let filter = ItemFilter {
        documents: DocScope {
            ids: Some(std::sync::Arc::new(to.documents.iter().cloned().collect())),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut out = Vec::with_capacity(from.items.len());
    for item in &from.items {
        let near = store.nearest(level, &item.vector, 1, &filter)?;
        let (counterpart, score) = match near.first() {
            Some(&(key, score)) => (
                store.items_by_key(&[key])?.first().map(ItemRef::from),
                Some(score),
            ),
            None => (None, None),
        };
        out.push(CompareItem {
            item: ItemRef::from(item),
            counterpart,
            score,
        });
    }
    Ok(out)
}

/// Compares side A with side B. `themes`, when given, sorts the themes of a report over the
/// store (members are item ids of `opts.level`).
pub fn compare(
    store: &dyn Store,
    opts: &CompareOptions,
    themes: Option<&ThemeReport>,
) -> Result<CompareAnswer, SearchError> {
    let all: Vec<StoredItem> = store
        .items(opts.level)?
        .into_iter()
        .filter(|i| !i.boilerplate)
        .collect();
    let a = side(store, &opts.a, &all)?;
    let b = side(store, &opts.b, &all)?;
    let a_to_b = counterparts(store, opts.level, &a, &b)?;
    let b_to_a = counterparts(store, opts.level, &b, &a)?;
    let close = |c: &CompareItem| c.score.is_some_and(|s| s >= opts.threshold);
    let by_score = |v: &mut Vec<CompareItem>| {
        v.sort_by(|x, y| {
            y.score
                .unwrap_or(-1.0)
                .total_cmp(&x.score.unwrap_or(-1.0))
                .then_with(|| x.item.id.cmp(&y.item.id))
        })
    };
    let (mut shared, mut gone): (Vec<_>, Vec<_>) = a_to_b.into_iter().partition(|c| close(c));
    let mut new: Vec<CompareItem> = b_to_a.into_iter().filter(|c| !close(c)).collect();
    by_score(&mut shared);
    by_score(&mut gone);
    by_score(&mut new);
    let (mut themes_shared, mut themes_new, mut themes_gone) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(report) = themes {
        let in_a: HashSet<&str> = a.items.iter().map(|i| i.id.as_str()).collect();
        let in_b: HashSet<&str> = b.items.iter().map(|i| i.id.as_str()).collect();
        for t in &report.themes {
            let count = |side: &HashSet<&str>| {
                t.members
                    .iter()
                    .filter(|m| side.contains(m.as_str()))
                    .count()
            };
            let entry = CompareTheme {
                id: t.id,
                title: t.title.clone(),
                a: count(&in_a),
                b: count(&in_b),
            };
            match (entry.a > 0, entry.b > 0) {
                (true, true) => themes_shared.push(entry),
                (false, true) => themes_new.push(entry),
                (true, false) => themes_gone.push(entry),
                (false, false) => {}
            }
        }
    }
    Ok(CompareAnswer {
        a_documents: a.documents,
        b_documents: b.documents,
        gone,
        level: opts.level,
        new,
        shared,
        themes_gone,
        themes_new,
        themes_shared,
        threshold: opts.threshold,
    })
}

/// Reads a side as the command line gives it: `FROM..TO` (dates: `2022..2022-12`, either end
/// may be empty) or a document id or glob.
pub fn parse_side(s: &str) -> Result<DocFilter, SearchError> {
    if let Some((from, to)) = s.split_once("..") {
        let date = |d: &str| -> Result<Option<String>, SearchError> {
            if d.is_empty() {
                Ok(None)
            } else {
                crate::search::check_date(d).map(Some)
            }
        };
        return Ok(DocFilter {
            since: date(from)?,
            until: date(to)?,
            ..Default::default()
        });
    }
    Ok(DocFilter {
        glob: Some(s.to_string()),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_are_date_ranges_or_documents() {
        let r = parse_side("2022..2022-12").unwrap();
        assert_eq!(r.since.as_deref(), Some("2022"));
        assert_eq!(r.until.as_deref(), Some("2022-12"));
        assert!(r.glob.is_none());
        let open = parse_side("2023..").unwrap();
        assert_eq!((open.since.as_deref(), open.until), (Some("2023"), None));
        assert_eq!(
            parse_side("report-iv*").unwrap().glob.as_deref(),
            Some("report-iv*")
        );
        assert!(parse_side("2022-13..").is_err());
    }
}
