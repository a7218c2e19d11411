//! The typed result model: what a question asked of a store answers, as serde structs that
//! both faces serialise, the CLI's `--json` ([`print_json`]) and the API ([`to_json`]), so their
//! outputs cannot drift. The API's OpenAPI schema derives from the same structs (utoipa).
//!
//! Search, similar and links build the hits ([`SearchHit`], [`ItemRef`], [`Link`]); the
//! envelopes ([`SearchAnswer`], [`SimilarAnswer`], [`LinksAnswer`], [`ItemAnswer`]) add the
//! question's settings. JSON keys come out sorted at every level (one [`to_json`] for both
//! faces): that is the order the JSON has always had, and it makes outputs diff cleanly.
//!
//! A leaf above the store: it imports no question module. The vocabulary the answers carry and
//! the questions take as options ([`SearchMode`], [`SummarySentence`]) is defined here and
//! re-exported where the questions live (`search`, `summarize`).
//!
//! JSON shapes (stable; see the README): a [`SearchHit`] serialises as
//! `{best_sentence: {byte_range: [start, end], initiative_id, score, text} | null, boilerplate,
//! copies: [ids], doc: {date, id, path, title}, id, level, rank, score, section: {heading, id},
//! text, why: {aligned: [..], dense, lexical, terms: [{byte_range, term, text}]}}`; a [`Link`]
//! as `{a: ItemRef, aligned: [{score, that, this}], b: ItemRef, score}` with
//! `ItemRef = {copies: [ids], doc: {..}, id, level, section: {..}, text}`.

use serde::Serialize;
use utoipa::ToSchema;

use crate::embed::ModelId;
use crate::ingest::Skipped;
use crate::store::{Counts, DocumentInfo, Level, StoredItem, UpdateStats};

/// The document of a result.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DocRef {
    pub id: String,
    pub title: String,
    pub date: Option<String>,
    pub path: String,
}

/// The section of a result.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SectionRef {
    pub id: String,
    pub heading: String,
}

/// The sentence of a result closest to the query.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BestSentence {
    pub text: String,
    pub score: f32,
    /// Byte range inside the initiative's text (for a section result: inside that sentence's
    /// initiative, named by `initiative_id`).
    #[schema(value_type = Vec<usize>)]
    pub byte_range: [usize; 2],
    pub initiative_id: String,
}

/// A query term as found in a hit's text.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TermMatch {
    /// The word as written in the text (`ADMS`, `meals`, `WIPO-observer`).
    pub text: String,
    /// The query term it matched (lower case, stemmed: `adms`, `meal`).
    pub term: String,
    /// Byte range of `text` inside the hit's text.
    #[schema(value_type = Vec<usize>)]
    pub byte_range: [usize; 2],
}

/// One sentence of an aligned pair.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AlignedSentence {
    /// `<initiative id>:<n>`.
    pub id: String,
    pub text: String,
    /// Byte range inside its initiative's text.
    #[schema(value_type = Vec<usize>)]
    pub byte_range: [usize; 2],
}

/// A sentence of one item and the sentence of another it is closest to: the shared substance
/// behind a `similar` or `links` score.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AlignedSentences {
    /// Cosine of the two sentences.
    pub score: f32,
    /// The sentence on this side (the item asked about; in `links`, item `a`).
    pub this: AlignedSentence,
    /// The sentence on that side (the hit; in `links`, item `b`).
    pub that: AlignedSentence,
}

/// Why a hit matched: what of the query it contains and how each ranking scored it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, ToSchema)]
pub struct Why {
    /// Cosine of the query (or the item asked about) and the hit; null in lexical mode.
    pub dense: Option<f32>,
    /// BM25 score of the query's terms in the hit; null in dense mode and in `similar`.
    pub lexical: Option<f32>,
    /// The query's terms in the hit's text, in reading order (empty in `similar`).
    pub terms: Vec<TermMatch>,
    /// `similar`: the hit's sentences best aligned with the item's (best first; empty in
    /// `search`).
    pub aligned: Vec<AlignedSentences>,
}

/// One ranked result.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SearchHit {
    /// 1-based.
    pub rank: usize,
    /// The ranking's score: cosine (dense, `similar`), BM25 (lexical) or the fused score
    /// (hybrid; its parts are in `why`).
    pub score: f32,
    pub id: String,
    #[schema(value_type = String, example = "initiative")]
    pub level: Level,
    pub doc: DocRef,
    pub section: SectionRef,
    pub text: String,
    pub boilerplate: bool,
    pub best_sentence: Option<BestSentence>,
    /// Ids of the hit's near-copies among the results (other documents' versions of the
    /// same text), best first.
    pub copies: Vec<String>,
    /// How many documents other than the hit's own hold those copies.
    #[serde(skip)]
    pub copy_documents: usize,
    /// Why it matched.
    pub why: Why,
    /// Who, where, when: the countries, organisations and years the item mentions (absent when
    /// the store keeps no entities).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entities: Option<Entities>,
}

/// The entities of an item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Entities {
    pub countries: Vec<CountryRef>,
    pub organisations: Vec<OrgRef>,
    pub years: Vec<u16>,
}

/// A country or territory of ISO 3166-1.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
pub struct CountryRef {
    /// Alpha-2 code.
    #[schema(example = "KE")]
    pub code: String,
    #[schema(example = "Kenya")]
    pub name: String,
}

/// An organisation introduced with an acronym or short name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
pub struct OrgRef {
    #[schema(example = "BCEG")]
    pub acronym: String,
    #[schema(example = "Beijing Construction Engineering Group")]
    pub name: String,
}

/// A country with the items and documents that mention it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CountryFacet {
    pub code: String,
    pub documents: usize,
    pub items: usize,
    pub name: String,
}

/// An organisation with the items and documents that mention it (by either form).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OrgFacet {
    pub acronym: String,
    pub documents: usize,
    pub items: usize,
    pub name: String,
}

/// A year with the items and documents that mention it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct YearFacet {
    pub documents: usize,
    pub items: usize,
    pub year: u16,
}

/// `simsum facets --json` and `GET /v1/facets`: every value, most frequent first. A kind not
/// asked for is an empty list.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FacetsAnswer {
    pub countries: Vec<CountryFacet>,
    /// The level counted as items.
    #[schema(value_type = String, example = "initiative")]
    pub level: Level,
    pub organisations: Vec<OrgFacet>,
    pub years: Vec<YearFacet>,
}

/// An item of one side of `simsum compare` with its closest item on the other side.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CompareItem {
    pub item: ItemRef,
    /// The closest item on the other side (none when that side is empty).
    pub counterpart: Option<ItemRef>,
    /// Cosine similarity of the two.
    pub score: Option<f32>,
}

/// A theme with its members on each side of `simsum compare`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CompareTheme {
    pub a: usize,
    pub b: usize,
    pub id: usize,
    pub title: String,
}

/// `simsum compare A B --json`: what the two sides share, what is new on B and what is gone
/// from A; initiatives best match first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CompareAnswer {
    pub a_documents: Vec<String>,
    pub b_documents: Vec<String>,
    /// Items of A without a counterpart on B at the threshold.
    pub gone: Vec<CompareItem>,
    #[schema(value_type = String, example = "initiative")]
    pub level: Level,
    /// Items of B without a counterpart on A at the threshold.
    pub new: Vec<CompareItem>,
    /// Items of A with a counterpart on B at the threshold.
    pub shared: Vec<CompareItem>,
    pub themes_gone: Vec<CompareTheme>,
    pub themes_new: Vec<CompareTheme>,
    pub themes_shared: Vec<CompareTheme>,
    pub threshold: f32,
}

/// A stored item as named in `similar` and `links` output.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ItemRef {
    pub id: String,
    #[schema(value_type = String, example = "initiative")]
    pub level: Level,
    pub doc: DocRef,
    pub section: SectionRef,
    pub text: String,
    /// Ids of the item's near-copies (in `links`; empty elsewhere).
    pub copies: Vec<String>,
    /// How many documents other than the item's own hold those copies.
    #[serde(skip)]
    pub copy_documents: usize,
    /// The item's entities (absent when the store keeps none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entities: Option<Entities>,
}

/// A pair of related items in different documents.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Link {
    pub score: f32,
    pub a: ItemRef,
    pub b: ItemRef,
    /// Sentences of `a` (`this`) best aligned with sentences of `b` (`that`), best first.
    pub aligned: Vec<AlignedSentences>,
}

impl From<&StoredItem> for ItemRef {
    fn from(i: &StoredItem) -> Self {
        Self {
            id: i.id.clone(),
            level: i.level,
            doc: DocRef::from(i),
            section: SectionRef {
                id: i.section_id.clone(),
                heading: i.heading.clone(),
            },
            text: i.text.clone(),
            copies: Vec::new(),
            copy_documents: 0,
            entities: None,
        }
    }
}

impl From<&StoredItem> for DocRef {
    fn from(i: &StoredItem) -> Self {
        DocRef {
            id: i.doc_id.clone(),
            title: i.doc_title.clone(),
            date: i.doc_date.clone(),
            path: i.doc_path.to_string_lossy().into_owned(),
        }
    }
}

/// `simsum search --json` and `POST /v1/search`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchAnswer {
    /// Whether the search was brute force (no approximate graph).
    pub exact: bool,
    pub k: usize,
    #[schema(value_type = String, example = "initiative")]
    pub level: Level,
    /// How the results were ranked: `hybrid`, `dense` or `lexical`.
    #[schema(value_type = String, example = "hybrid")]
    pub mode: SearchMode,
    pub query: String,
    pub results: Vec<SearchHit>,
}

/// `simsum similar --json` and `GET /v1/items/{id}/similar`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SimilarAnswer {
    /// The item asked about.
    pub item: ItemRef,
    pub k: usize,
    pub other_docs: bool,
    pub results: Vec<SearchHit>,
}

/// `simsum links --json` and `GET /v1/links`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LinksAnswer {
    #[schema(value_type = String, example = "initiative")]
    pub level: Level,
    pub links: Vec<Link>,
    pub threshold: f32,
}

/// One sentence of a stored item, as `GET /v1/items/{id}` lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SentenceRef {
    #[schema(value_type = Vec<usize>)]
    pub byte_range: [usize; 2],
    pub id: String,
    pub text: String,
}

/// `GET /v1/items/{id}`: one stored item with its sentences.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemAnswer {
    pub boilerplate: bool,
    pub item: ItemRef,
    /// For a sentence, its initiative; for an initiative, its section; for a section, none.
    pub parent: Option<String>,
    pub sentences: Vec<SentenceRef>,
}

impl From<&StoredItem> for ItemAnswer {
    fn from(item: &StoredItem) -> Self {
        Self {
            boilerplate: item.boilerplate,
            item: ItemRef::from(item),
            parent: item.parent_id.clone(),
            sentences: item
                .sentences
                .iter()
                .map(|s| SentenceRef {
                    byte_range: [s.byte_range.0, s.byte_range.1],
                    id: s.id.clone(),
                    text: s.text.clone(),
                })
                .collect(),
        }
    }
}

/// `simsum index --json`: what one indexing run read, skipped and changed.
#[derive(Debug, Clone, Serialize)]
pub struct IndexAnswer {
    pub added: usize,
    pub counts: Counts,
    pub documents_read: usize,
    /// The store, as a URL.
    pub index: String,
    pub near_copy_documents: usize,
    pub removed: usize,
    pub seconds: f64,
    pub skipped: Vec<Skipped>,
    pub stats: UpdateStats,
    pub unchanged: usize,
    pub updated: usize,
}

/// `simsum store copy --json`.
#[derive(Debug, Clone, Serialize)]
pub struct CopyAnswer {
    pub counts: Counts,
    pub documents: usize,
    pub from: String,
    pub seconds: f64,
    pub stats: UpdateStats,
    pub to: String,
}

/// `simsum store info --json`: where a store is, what made it, what it holds and how its
/// engine indexes it.
#[derive(Debug, Clone, Serialize)]
pub struct StoreInfoAnswer {
    pub counts: Counts,
    pub dimension: usize,
    pub engine: crate::store::EngineInfo,
    pub exact_threshold: usize,
    pub generation: u64,
    pub model: String,
    pub url: String,
}

/// `GET /v1/documents`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentsAnswer {
    #[schema(value_type = Vec<Object>)]
    pub documents: Vec<DocumentInfo>,
}

/// `POST` and `DELETE /v1/documents`: what a write changed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WriteAnswer {
    #[schema(value_type = Object)]
    pub counts: Counts,
    /// Ids of the documents written (none for a delete).
    pub documents: Vec<String>,
    /// The store's generation after the write.
    pub generation: u64,
    #[schema(value_type = Object)]
    pub stats: UpdateStats,
}

/// The server's bounds, as `/v1/info` reports them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LimitsAnswer {
    pub max_batch: usize,
    pub max_body_bytes: usize,
    pub max_inputs: usize,
    pub max_k: usize,
    pub max_wait_ms: f64,
    pub queue_capacity: usize,
    pub request_timeout_s: f64,
}

/// `GET /v1/info`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InfoAnswer {
    #[schema(value_type = Object)]
    pub counts: Counts,
    pub dimension: usize,
    pub dtype: String,
    pub generation: u64,
    pub limits: LimitsAnswer,
    pub max_tokens: usize,
    #[schema(value_type = Object)]
    pub model: ModelId,
    /// The store, as a URL.
    pub store: String,
    /// Whether uploads and deletes are allowed.
    pub uploads: bool,
}

/// One vector of an OpenAI-compatible embeddings answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EmbeddingData {
    /// Floats, or a base64 string of little-endian float32 bytes.
    #[schema(value_type = Object)]
    pub embedding: EmbeddingVector,
    pub index: usize,
    /// Always `embedding`.
    pub object: &'static str,
}

/// One embedding as `encoding_format` asks: floats, or base64 of little-endian float32 bytes.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum EmbeddingVector {
    Float(Vec<f32>),
    Base64(String),
}

/// Tokens read, as OpenAI reports them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Usage {
    pub prompt_tokens: usize,
    pub total_tokens: usize,
}

/// `POST /v1/embeddings` (the OpenAI shape).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EmbeddingsAnswer {
    pub data: Vec<EmbeddingData>,
    pub model: String,
    /// Always `list`.
    pub object: &'static str,
    pub usage: Usage,
}

/// A theme's place on the map.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MapTheme {
    /// The theme's colour on the map and in the report.
    pub colour: String,
    pub id: usize,
    pub title: String,
    pub x: f64,
    pub y: f64,
}

/// `GET /v1/themes/map`: the items of the last theme report on a 2-D map.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThemeMapAnswer {
    /// The colour of unclustered items.
    pub grey: &'static str,
    pub ids: Vec<String>,
    /// `[x, y, theme index or -1]` per shown item.
    #[schema(value_type = Vec<Vec<f64>>)]
    pub points: Vec<(f32, f32, i64)>,
    pub texts: Vec<String>,
    pub themes: Vec<MapTheme>,
}

/// `GET /health`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

/// One line of `simsum summarize --each --json`: one document's summary.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentSummary {
    pub document: String,
    pub summary: Vec<SummarySentence>,
    pub title: String,
}

/// How a text query ranks items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    /// Dense and lexical rankings fused (`crate::search::Fusion`).
    #[default]
    Hybrid,
    /// Cosine of embeddings only.
    Dense,
    /// BM25 only (no model needed).
    Lexical,
}

impl SearchMode {
    /// All modes.
    pub const ALL: [SearchMode; 3] = [SearchMode::Hybrid, SearchMode::Dense, SearchMode::Lexical];

    /// Name on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SearchMode::Hybrid => "hybrid",
            SearchMode::Dense => "dense",
            SearchMode::Lexical => "lexical",
        }
    }

    /// Whether the query needs an embedding.
    pub fn needs_vector(self) -> bool {
        self != SearchMode::Lexical
    }
}

impl std::str::FromStr for SearchMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("unknown search mode `{s}`: use hybrid, dense or lexical"))
    }
}

impl std::fmt::Display for SearchMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One chosen sentence with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SummarySentence {
    pub text: String,
    /// Id of the initiative the sentence comes from.
    pub initiative: String,
    /// Title of the document the sentence comes from.
    pub document: String,
    /// Blended centrality score in 0..=1 (higher is more central).
    pub score: f32,
    /// Document id (not serialised: the initiative id already starts with it).
    #[serde(skip)]
    pub doc_id: String,
    /// Position of the sentence inside its document (not serialised).
    #[serde(skip)]
    pub position: usize,
}

/// An answer as JSON, keys sorted at every level: what both faces send.
pub fn to_json<T: Serialize>(answer: &T) -> serde_json::Value {
    // Through text, not `to_value`: a `Value` keeps numbers as f64, and `to_value` widens each
    // f32 on the way (0.95 becomes 0.949999988079071); the text keeps an f32's shortest form,
    // which parses back to the same printed number. Plain structs always serialise.
    serde_json::to_string(answer)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(serde_json::Value::Null)
}

/// An answer as the CLI's `--json` and the JSON reports write it: [`to_json`]'s keys, pretty
/// (no newline at the end).
pub fn to_pretty<T: Serialize>(answer: &T) -> String {
    // A `Value` always serialises.
    serde_json::to_string_pretty(&to_json(answer)).unwrap_or_default()
}

/// An answer as one line of JSON Lines (`simsum embed`, `simsum sections --json`): [`to_json`]'s
/// keys, compact (no newline at the end).
pub fn to_line<T: Serialize>(answer: &T) -> String {
    serde_json::to_string(&to_json(answer)).unwrap_or_default()
}

/// Prints an answer as the CLI's `--json` does: [`to_pretty`], then a newline.
pub fn print_json<T: Serialize>(out: &mut dyn std::io::Write, answer: &T) -> std::io::Result<()> {
    writeln!(out, "{}", to_pretty(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Scored {
        z: f32,
        a: f32,
    }

    #[test]
    fn f32_scores_keep_their_shortest_form_and_keys_are_sorted() {
        let s = Scored {
            z: 0.95,
            a: 0.6441058,
        };
        assert_eq!(to_line(&s), r#"{"a":0.6441058,"z":0.95}"#);
        assert_eq!(to_json(&s)["z"], serde_json::json!(0.95));
    }
}
