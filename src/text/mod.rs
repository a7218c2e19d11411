//! What several stages share about language: [`stopwords`] (left out of theme labels, word
//! overlap and copy keys), discourse [`openers`] (sentences that lean on the one before),
//! [`stems`] of content words (the summarizer's word overlap), the terms of the [`lexical`]
//! (BM25) index (English words, Chinese character bigrams), near-[`copies`] (one text
//! republished with names and numbers changed), and the [`cjk`] script facts (which characters
//! are written without spaces, full-width forms, Chinese numerals) that ingest's sentence and
//! section rules and the entity finders share, an English [`words`] list (the PDF reader's
//! line-end hyphens) and the noun [`phrases`] of a text (theme titles). A leaf module: it depends on nothing else in the
//! crate, so ingest, clustering, search and the summarizer all decide these things here, once.

pub mod cjk;
pub mod copies;
pub mod lexical;
pub mod openers;
pub mod phrases;
pub mod stopwords;
pub mod words;

pub use copies::{copy_key, document_families};
pub use openers::leans_on_previous;
pub use stopwords::{is_stopword, is_stopword_lower};

/// The content words of `text`: lower-cased runs of letters and digits, stop words left out,
/// each reduced by the Snowball English stemmer; a run of Chinese characters gives its
/// character bigrams (one character alone, itself), as the lexical index does.
pub fn stems(text: &str) -> Vec<String> {
    thread_local! {
        static STEMMER: rust_stemmers::Stemmer =
            rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English);
    }
    STEMMER.with(|stemmer| {
        let mut out = Vec::new();
        for word in text.split(|c: char| !c.is_alphanumeric()) {
            for (piece, chinese) in cjk::script_runs(word) {
                if chinese {
                    out.extend(cjk::bigrams(piece).map(str::to_string));
                    continue;
                }
                let w = piece.to_lowercase();
                if !is_stopword_lower(&w) {
                    out.push(stemmer.stem(&w).into_owned());
                }
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_of_english_words_and_chinese_bigrams() {
        assert_eq!(stems("The workers were working"), ["worker", "work"]);
        assert_eq!(
            stems("CANGO参加国际组织的会议"),
            [
                "cango", "参加", "加国", "国际", "际组", "组织", "织的", "的会", "会议"
            ]
        );
        assert_eq!(stems("会"), ["会"]);
    }
}
