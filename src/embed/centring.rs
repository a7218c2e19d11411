//! Per-language centring: taking the language out of a multilingual model's vectors.
//!
//! multilingual-e5 puts a sentence and its translation close, but two unrelated sentences of one
//! language closer still (issue 37: an English sentence and its Chinese version at cosine 0.85,
//! two unrelated Chinese sentences at 0.88), so in an index holding both languages the query's
//! own language wins over its meaning. Much of that shared part is a constant offset per
//! language (Libovický et al., "On the Language Neutrality of Pre-trained Multilingual
//! Representations", 2020): subtracting each language's mean vector and renormalising removes
//! it. The means here are fixed per model, kind of input (query, passage) and language
//! ([`Language::of`]), measured once on reference texts that simsum ships (the seed reports'
//! English paragraphs, the Chinese test report's) by `examples/e5_centres.rs`, and kept in
//! `centres/<model>.json`; they are applied inside the embedder, so an index, its queries,
//! themes and links all see centred vectors. BENCHMARKS.md ("2026-12-07 (2)") has the measured
//! effect on cross-lingual known-item search.

use std::collections::HashMap;

use super::{normalize, InputKind};
use crate::text::cjk::Language;

/// The mean vectors of one model, by language and kind of input.
#[derive(Debug, Clone)]
pub struct LanguageCentres {
    means: HashMap<(Language, InputKind), Vec<f32>>,
}

#[derive(serde::Deserialize)]
struct CentresFile {
    #[serde(default)]
    means: HashMap<String, Vec<f32>>,
}

/// The centres simsum ships, by model name.
const SHIPPED: [(&str, &str); 1] = [(
    crate::model::E5_MODEL,
    include_str!("centres/multilingual-e5-small.json"),
)];

fn key_name(lang: Language, kind: InputKind) -> String {
    let kind = match kind {
        InputKind::Query => "query",
        InputKind::Passage => "passage",
    };
    format!("{}/{kind}", lang.as_str())
}

impl LanguageCentres {
    /// The shipped centres of `model` (of dimension `dim`), if it has any.
    pub fn for_model(model: &str, dim: usize) -> Option<Self> {
        let (_, json) = SHIPPED.iter().find(|(m, _)| *m == model)?;
        Self::from_json(json, dim)
    }

    /// Centres from their file's text; `None` unless all four means are there with `dim`
    /// values each.
    pub fn from_json(json: &str, dim: usize) -> Option<Self> {
        let file: CentresFile = serde_json::from_str(json).ok()?;
        let mut means = HashMap::new();
        for lang in [Language::Chinese, Language::Other] {
            for kind in [InputKind::Query, InputKind::Passage] {
                let m = file.means.get(&key_name(lang, kind))?;
                if m.len() != dim {
                    return None;
                }
                means.insert((lang, kind), m.clone());
            }
        }
        Some(Self { means })
    }

    /// `v` (the L2-normalised vector of `text` as `kind`) minus its language's mean,
    /// renormalised.
    pub fn apply(&self, text: &str, kind: InputKind, v: &mut [f32]) {
        if let Some(m) = self.means.get(&(Language::of(text), kind)) {
            v.iter_mut().zip(m).for_each(|(x, m)| *x -= m);
            normalize(v);
        }
    }

    /// The file `examples/e5_centres.rs` writes for these means.
    pub fn to_json(means: &[(Language, InputKind, Vec<f32>)], about: serde_json::Value) -> String {
        let m: serde_json::Map<String, serde_json::Value> = means
            .iter()
            .map(|(l, k, v)| (key_name(*l, *k), serde_json::json!(v)))
            .collect();
        let mut out = about;
        out["means"] = serde_json::Value::Object(m);
        serde_json::to_string(&out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_language_loses_its_own_mean() {
        let means = vec![
            (Language::Chinese, InputKind::Passage, vec![0.0, 0.5]),
            (Language::Chinese, InputKind::Query, vec![0.0, 0.5]),
            (Language::Other, InputKind::Passage, vec![0.0, -0.5]),
            (Language::Other, InputKind::Query, vec![0.0, -0.5]),
        ];
        let c =
            LanguageCentres::from_json(&LanguageCentres::to_json(&means, serde_json::json!({})), 2)
                .unwrap();
        let mut zh = vec![0.6, 0.8];
        c.apply("中文", InputKind::Passage, &mut zh);
        let mut en = vec![0.6, -0.2];
        c.apply("English", InputKind::Passage, &mut en);
        // The two differed only by their languages' offsets: centred, they agree.
        assert!((zh[0] - en[0]).abs() < 1e-6 && (zh[1] - en[1]).abs() < 1e-6);
        assert!(LanguageCentres::from_json("{}", 2).is_none());
        assert!(LanguageCentres::from_json(
            &LanguageCentres::to_json(&means, serde_json::json!({})),
            3
        )
        .is_none());
    }
}
