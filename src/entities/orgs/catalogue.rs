//! The organisations defined across a corpus: one per acronym and long name, wherever each
//! was defined; what a user's query means and what it may have meant.

use super::{acronym_like, name_key, OrgDefinition};
use crate::entities::gazetteer::edit_distance;

/// One organisation of the catalogue: an acronym and a long name (several definitions with the
/// same acronym and name key are one organisation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub acronym: String,
    /// The long name as first written.
    pub name: String,
}

impl Organisation {
    /// Its long name's key ([`name_key`]).
    pub fn key(&self) -> String {
        name_key(&self.name)
    }

    /// Whether mentions of it are found by the acronym word (an acronym) or by name (a short
    /// name such as "Jangho").
    pub fn by_acronym(&self) -> bool {
        acronym_like(&self.acronym)
    }
}

/// The organisations defined across a corpus.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub orgs: Vec<Organisation>,
}

impl Catalogue {
    /// One organisation per (acronym, name key), in the order first given.
    pub fn new(definitions: impl IntoIterator<Item = OrgDefinition>) -> Self {
        let mut orgs: Vec<Organisation> = Vec::new();
        for d in definitions {
            let key = name_key(&d.name);
            if !orgs
                .iter()
                .any(|o| o.acronym == d.acronym && o.key() == key)
            {
                orgs.push(Organisation {
                    acronym: d.acronym,
                    name: d.name,
                });
            }
        }
        Self { orgs }
    }

    /// The organisations a user means by `query`: an acronym (exactly as defined, else
    /// ignoring case) or a long name (by key). Empty when none.
    pub fn resolve(&self, query: &str) -> Vec<&Organisation> {
        let q = query.trim();
        let exact: Vec<&Organisation> = self.orgs.iter().filter(|o| o.acronym == q).collect();
        if !exact.is_empty() {
            return exact;
        }
        let key = name_key(q);
        self.orgs
            .iter()
            .filter(|o| o.acronym.eq_ignore_ascii_case(q) || o.key() == key)
            .collect()
    }

    /// Up to three acronyms or names closest to `query`.
    pub fn suggest(&self, query: &str) -> Vec<String> {
        let q = query.trim().to_lowercase();
        let mut scored: Vec<(usize, String)> = self
            .orgs
            .iter()
            .flat_map(|o| {
                [
                    (
                        edit_distance(&q, &o.acronym.to_lowercase()),
                        o.acronym.clone(),
                    ),
                    (edit_distance(&q, &o.key()), o.name.clone()),
                ]
            })
            .collect();
        scored.sort();
        scored.dedup_by(|a, b| a.1 == b.1);
        let limit = (q.chars().count() / 2).max(2);
        scored
            .into_iter()
            .filter(|(d, _)| *d <= limit)
            .take(3)
            .map(|(_, n)| n)
            .collect()
    }
}
