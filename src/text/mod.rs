//! What several stages share about language: [`stopwords`] (left out of theme labels, word
//! overlap and copy keys), discourse [`openers`] (sentences that lean on the one before),
//! [`stems`] of content words (the summarizer's word overlap), the terms of the [`lexical`]
//! (BM25) index (English words, Chinese character bigrams), near-[`copies`] (one text
//! republished with names and numbers changed), and the [`cjk`] script facts (which characters
//! are written without spaces, full-width forms, Chinese numerals) that ingest's sentence and
//! section rules and the entity finders share. A leaf module: it depends on nothing else in the
//! crate, so ingest, clustering, search and the summarizer all decide these things here, once.

pub mod cjk;
pub mod copies;
pub mod lexical;
pub mod openers;
pub mod stopwords;

pub use copies::{copy_key, document_families};
pub use openers::leans_on_previous;
pub use stopwords::{is_stopword, is_stopword_lower};

/// The content words of `text`: lower-cased runs of letters and digits, stop words left out,
/// each reduced by the Snowball English stemmer.
pub fn stems(text: &str) -> Vec<String> {
    thread_local! {
        static STEMMER: rust_stemmers::Stemmer =
            rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English);
    }
    STEMMER.with(|stemmer| {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .filter_map(|w| {
                let w = w.to_lowercase();
                (!is_stopword_lower(&w)).then(|| stemmer.stem(&w).into_owned())
            })
            .collect()
    })
}
