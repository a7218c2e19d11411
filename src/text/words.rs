//! English words: whether a string is a word of a general English word list. The list is
//! SCOWL's American English (Debian's `wamerican` 2020.12.07: 73,604 words once lower-cased,
//! possessives left out; `data/words-en.txt`, its licence in `data/words-en.LICENSE`), sorted
//! bytewise so a lookup is a binary search over the text compiled into the binary.
//!
//! Ingest's PDF reader asks it what a hyphen at a line end was: a compound's own hyphen joins
//! two words (`municipal-level`, `Chinese-foreign`) and stays; a typesetter's hyphen splits one
//! word (`coordi-nated`) and goes.

use std::sync::OnceLock;

const WORDS: &str = include_str!("data/words-en.txt");

fn words() -> &'static [&'static str] {
    static LIST: OnceLock<Vec<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| WORDS.lines().filter(|w| !w.is_empty()).collect())
}

/// Whether `word` (any case) is in the English word list.
pub fn is_english_word(word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    let lower = word.to_lowercase();
    words().binary_search(&lower.as_str()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_for_binary_search() {
        assert!(words().windows(2).all(|w| w[0] < w[1]));
        assert!(words().len() > 70_000);
    }

    #[test]
    fn words_and_non_words() {
        for w in [
            "cooperation",
            "Coordinated",
            "foreign",
            "Chinese",
            "level",
            "job",
        ] {
            assert!(is_english_word(w), "{w}");
        }
        for w in [
            "coordi",
            "nated",
            "chineseforeign",
            "municipallevel",
            "",
            "workfor",
        ] {
            assert!(!is_english_word(w), "{w}");
        }
    }
}
