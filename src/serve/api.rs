//! Request types of the API and its OpenAPI description (`GET /openapi.json`).
//!
//! Each request type derives its schema next to its serde derive, with an example per field.
//! Responses are the library's typed result model ([`crate::answer`]), serialised by the same
//! function the CLI's `--json` uses, so each route answers exactly what the matching command
//! prints; search, similar, links and items derive their schemas from those structs.

use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::error::{ErrorBody, ErrorDetail};

/// `POST /v1/search`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    /// The query text.
    #[schema(example = "school meals for every child")]
    pub query: String,
    /// Number of results (1 to the server's `max_k`, see `/v1/info`).
    #[schema(example = 10, minimum = 1)]
    pub k: Option<usize>,
    /// `initiative` (default) or `section`.
    #[schema(example = "initiative")]
    pub level: Option<String>,
    /// Only documents whose id, file name or path matches this glob.
    #[schema(example = "report-2023*")]
    pub doc: Option<String>,
    /// Only documents dated on or after (YYYY, YYYY-MM or YYYY-MM-DD).
    #[schema(example = "2022")]
    pub since: Option<String>,
    /// Only documents dated on or before (a prefix includes the whole period).
    #[schema(example = "2024-06")]
    pub until: Option<String>,
    /// Also return boilerplate paragraphs.
    #[schema(example = false)]
    pub include_boilerplate: Option<bool>,
    /// Brute-force search even where the HNSW graph would be used.
    #[schema(example = false)]
    pub exact: Option<bool>,
    /// The HNSW candidate list of an approximate search (1 to 4096; default: the larger of k
    /// and 128).
    #[schema(example = 128)]
    pub ef: Option<usize>,
    /// How to rank: `hybrid` (default: dense and BM25 fused), `dense` or `lexical`.
    #[schema(example = "hybrid")]
    pub mode: Option<String>,
    /// Only items mentioning these countries, organisations and years.
    #[serde(default)]
    pub filters: Filters,
}

/// Entity filters: an item passes when it mentions any of the countries, any of the
/// organisations and any of the years (an empty or absent list does not filter). An unknown
/// country or organisation is a 400 naming it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    /// Names, ISO 3166-1 codes or demonyms.
    #[schema(example = json!(["KE", "Moroccan"]))]
    #[serde(default)]
    pub country: Vec<String>,
    /// Acronyms or names.
    #[schema(example = json!(["BCEG"]))]
    #[serde(default)]
    pub org: Vec<String>,
    #[schema(example = json!([2021]))]
    #[serde(default)]
    pub year: Vec<u16>,
}

impl Filters {
    /// The typed filter (countries resolved, years checked).
    pub fn to_filter(&self) -> Result<crate::facets::EntityFilter, super::error::ApiError> {
        let years: Vec<String> = self.year.iter().map(u16::to_string).collect();
        Ok(crate::facets::EntityFilter::parse(
            &self.country,
            &self.org,
            &years,
        )?)
    }

    /// Filters from comma-separated query parameters (`country=KE,AO&year=2021`).
    pub fn from_query(
        country: Option<&str>,
        org: Option<&str>,
        year: Option<&str>,
    ) -> Result<crate::facets::EntityFilter, super::error::ApiError> {
        let list = |s: Option<&str>| -> Vec<String> {
            s.map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
        };
        Ok(crate::facets::EntityFilter::parse(
            &list(country),
            &list(org),
            &list(year),
        )?)
    }
}

/// A query of a route that takes entity filters as query parameters: the struct as written,
/// then `country`, `org` and `year` (comma-separated lists), and `entities()` to read them.
macro_rules! entity_query {
    ($(#[$meta:meta])* pub struct $name:ident { $($fields:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Deserialize, IntoParams)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            $($fields)*
            /// Only items mentioning one of these countries (comma-separated names, codes, demonyms).
            #[param(example = "KE,AO")]
            pub country: Option<String>,
            /// Only items mentioning one of these organisations (comma-separated).
            #[param(example = "BCEG")]
            pub org: Option<String>,
            /// Only items mentioning one of these years (comma-separated).
            #[param(example = "2021")]
            pub year: Option<String>,
        }

        impl $name {
            /// The entity filter of `country`, `org` and `year`.
            pub fn entities(&self) -> Result<crate::facets::EntityFilter, super::error::ApiError> {
                Filters::from_query(self.country.as_deref(), self.org.as_deref(), self.year.as_deref())
            }
        }
    };
}

entity_query! {
    /// Query of `GET /v1/items/{id}/similar`.
    pub struct SimilarQuery {
        /// Number of results (default 10).
        #[param(example = 10, minimum = 1)]
        pub k: Option<usize>,
        /// Only results from other documents.
        #[param(example = true)]
        pub other_docs: Option<bool>,
    }
}

/// Query of `GET /v1/facets`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FacetsQuery {
    /// Only this kind: `country`, `org` or `year`.
    #[param(example = "country")]
    pub kind: Option<String>,
    /// `initiative` (default) or `section`.
    #[param(example = "initiative")]
    pub level: Option<String>,
}

entity_query! {
    /// Query of `GET /v1/links`.
    pub struct LinksQuery {
        /// Smallest cosine similarity of a pair (-1 to 1, default 0.6).
        #[param(example = 0.6)]
        pub threshold: Option<f32>,
        /// Most links per item (default 5).
        #[param(example = 5, minimum = 1)]
        pub per_item: Option<usize>,
    }
}

/// `POST /v1/documents`: a new or changed document.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    /// A file name (letters, digits, `.`, `-`, `_`, space); its extension picks the format
    /// unless `format` is given, and it names the document.
    #[schema(example = "city-report-2024.md")]
    pub name: String,
    /// The document's text.
    #[schema(example = "# Housing\n\nThe city will build 500 homes for families.")]
    pub text: String,
    /// `text`, `seed`, `markdown`, `html` or `jsonl`.
    #[schema(example = "markdown")]
    pub format: Option<String>,
}

/// `POST /v1/themes`: cluster again.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThemesRequest {
    /// `initiative` (default) or `section`.
    #[schema(example = "initiative")]
    pub level: Option<String>,
    /// `"auto"` (default) or a number of themes.
    #[schema(value_type = Object, example = "auto")]
    pub themes: Option<serde_json::Value>,
    /// Smallest theme (default: from the number of items).
    #[schema(example = 3)]
    pub min_size: Option<usize>,
    /// Seed of the community detection (default 42).
    #[schema(example = 42)]
    pub seed: Option<u64>,
    /// Modularity resolution (default 1; higher gives more, smaller themes).
    #[schema(example = 1.0)]
    pub resolution: Option<f64>,
    /// Count each theme's members per period: `year`, `month` or `document` (as `simsum
    /// cluster --over`); adds `over` to each theme.
    #[schema(example = "year")]
    pub over: Option<String>,
    /// Cluster from scratch (as `simsum cluster --fresh`): ignore the last report, number the
    /// themes from 1. By default the themes that carry on keep their ids and titles.
    #[schema(example = false)]
    pub fresh: Option<bool>,
}

/// `POST /v1/summarize`: exactly one of `doc`, `theme`, `query`, `text`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SummarizeRequest {
    /// A stored document's id.
    #[schema(example = "city-report-2024")]
    pub doc: Option<String>,
    /// A theme of the last report, by its id.
    #[schema(example = 1)]
    pub theme: Option<usize>,
    /// Summarize the top results of this query.
    #[schema(example = "public transport")]
    pub query: Option<String>,
    /// Summarize this text (not stored).
    #[schema(example = "The council met. It approved the budget. Parks get more money.")]
    pub text: Option<String>,
    /// Format of `text` (default: plain text).
    #[schema(example = "text")]
    pub format: Option<String>,
    /// Results of `query` to summarize (default 10).
    #[schema(example = 10)]
    pub k: Option<usize>,
    /// At most this many words.
    #[schema(example = 80)]
    pub words: Option<usize>,
    /// At most this many sentences.
    #[schema(example = 3)]
    pub sentences: Option<usize>,
    /// How sentences are scored: `learned` (default: fitted weights) or `blend` (the earlier
    /// hand-set centrality, position and lexical blend), as `simsum summarize --scorer`.
    #[schema(example = "learned")]
    pub scorer: Option<String>,
    /// With `query`: only items mentioning these countries, organisations and years.
    #[serde(default)]
    pub filters: Filters,
}

/// `POST /v1/embeddings` (OpenAI-compatible).
#[derive(Debug, Deserialize, ToSchema)]
pub struct EmbeddingsRequest {
    /// A string or an array of strings.
    #[schema(value_type = Object, example = json!(["first text", "second text"]))]
    pub input: serde_json::Value,
    /// Accepted for compatibility; the server's one model answers.
    #[schema(example = "sentence-transformers/all-MiniLM-L6-v2")]
    pub model: Option<String>,
    /// `float` (default) or `base64` (little-endian float32 bytes).
    #[schema(example = "float")]
    pub encoding_format: Option<String>,
    /// Accepted for compatibility and ignored.
    #[schema(example = "user-1")]
    pub user: Option<String>,
    /// `passage` (default; also `document`) or `query`: models of the E5 family embed a
    /// search query with their query prompt, as `POST /v1/search` does; others embed both alike.
    #[schema(example = "query")]
    pub input_type: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "simsum",
        description = "Semantic search, similar initiatives, themes and summaries over a simsum store; OpenAI-compatible embeddings. Errors: {\"error\":{\"code\",\"message\"}}."
    ),
    paths(
        super::handlers::health,
        super::handlers::info,
        super::handlers::search,
        super::handlers::item,
        super::handlers::similar,
        super::handlers::links,
        super::handlers::facets,
        super::documents::documents,
        super::documents::document,
        super::documents::upload,
        super::documents::delete_document,
        super::themes::themes,
        super::themes::recluster,
        super::themes::theme_map,
        super::themes::summarize,
        super::handlers::embeddings,
        super::handlers::metrics,
    ),
    components(schemas(
        SearchRequest,
        UploadRequest,
        ThemesRequest,
        SummarizeRequest,
        EmbeddingsRequest,
        Filters,
        ErrorBody,
        ErrorDetail,
        crate::answer::SearchAnswer,
        crate::answer::SimilarAnswer,
        crate::answer::LinksAnswer,
        crate::answer::ItemAnswer,
        crate::answer::FacetsAnswer
    )),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
