//! Near-copies: texts that say the same thing word for word except for names and numbers, as
//! when one report is republished by several offices with the city renamed.
//!
//! The rule has two parts, both needed. The *copy key* is a hash of the text with every run of
//! capitalised words (names, with any numeric suffix: `Tianjin7`, `Tianjin 7`) replaced by one
//! placeholder, every number by another, case and punctuation folded; two items can only be copies when their keys are equal. The *cosine
//! check* then asks for embedding similarity of at least [`COPY_COSINE`], which keeps apart
//! texts whose words match but whose names carry the meaning. Keys need no index and no schema:
//! they are computed from item text wherever items are read, so grouping works for every store.
//!
//! Text shared *verbatim* by otherwise different documents (an editor's note) is boilerplate, not
//! a copy: [`document_families`] tells documents that are copies of each other apart from
//! documents that merely share a paragraph, and `ingest::mark_boilerplate` counts families.

use std::collections::HashMap;

use super::stopwords::is_stopword_lower;
use crate::embed::cosine;

/// Smallest cosine similarity of two items with equal copy keys for them to be copies.
/// Measured (benches/quality/README.md, "Near-copies", `examples/text_quality.rs`): the seed
/// paragraphs with the city renamed score 0.75-1.0 against their original with
/// all-MiniLM-L6-v2, and two renamed versions of one short paragraph can score below 0.7 against
/// each other (a city name moves a short paragraph's vector a lot). Cosine alone therefore
/// cannot tell copies from related text; the key does, and this floor only keeps apart texts of
/// the same wording whose names make them unrelated statements.
pub const COPY_COSINE: f32 = 0.5;

/// Texts with fewer lower-case (non-name, non-number) words than this have no copy key: a
/// heading or a list of names says too little for its shape to identify it.
pub const MIN_KEY_WORDS: usize = 4;

/// Share of their keyed paragraphs two documents must have in common, each way, to be copies of
/// each other.
pub const DOCUMENT_OVERLAP: f64 = 0.8;

/// What a word stands for in a copy key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// A name: a capitalised word that is not a stop word, including one with a numeric
    /// suffix (`Tianjin7`, `B2B`), and a number written right after a name (`Tianjin 7`,
    /// `Tianjin-7`, `Office_2`): a renamed copy may number its city where the original named it.
    Name,
    /// A number, a word that starts with a digit (`1,200`, `2022`, `3rd`, `5G`) or a
    /// lower-case word with digits in it (`covid19`).
    Number,
    /// Any other word: kept, lower-cased.
    Word,
}

/// Words of `text` (letters, digits and apostrophes) with the text between each and the one
/// before it.
fn words_with_gaps(text: &str) -> impl Iterator<Item = (&str, &str)> {
    let is_word = |c: char| c.is_alphanumeric() || c == '\'' || c == '\u{2019}';
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find(is_word)?;
        let (gap, tail) = rest.split_at(start);
        let end = tail.find(|c: char| !is_word(c)).unwrap_or(tail.len());
        let (word, after) = tail.split_at(end);
        rest = after;
        Some((gap, word))
    })
}

/// The text as the copy key sees it: lower-case words, `N` for each run of names (capitalised
/// words that are not stop words, with any numeric suffix), `#` for each run of numbers, single
/// spaces.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // The kind of the last word written, so a run of names or numbers is one token.
    let mut last = Token::Word;
    // Whether the last word was a number, so `1,200` after a name stays one suffix.
    let mut last_numeric = false;
    for (gap, raw) in words_with_gaps(text) {
        let mut w = raw.trim_matches(|c| c == '\'' || c == '\u{2019}');
        for suffix in ["'s", "\u{2019}s"] {
            if let Some(x) = w.strip_suffix(suffix) {
                w = x;
            }
        }
        let Some(first) = w.chars().next() else {
            continue;
        };
        let lower = w.to_lowercase();
        let has_digit = w.chars().any(char::is_numeric);
        let numeric = first.is_numeric();
        let kind = if numeric {
            // A number joined to the name before it is that name's suffix: a renamed copy may
            // number its city (`Tianjin 7`, `Tianjin-7`) where the original only named it.
            let joined = matches!(gap, " " | "-" | "_" | "\u{a0}")
                || (last_numeric && matches!(gap, "," | "."));
            if last == Token::Name && joined {
                Token::Name
            } else {
                Token::Number
            }
        } else if first.is_uppercase() && (has_digit || !is_stopword_lower(&lower)) {
            Token::Name
        } else if has_digit {
            Token::Number
        } else {
            Token::Word
        };
        last_numeric = numeric;
        if kind != Token::Word && kind == last {
            continue;
        }
        last = kind;
        let token = match kind {
            Token::Name => "N",
            Token::Number => "#",
            Token::Word => lower.as_str(),
        };
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(token);
    }
    out
}

/// The copy key of a text: a stable 64-bit hash (FNV-1a) of [`normalise`]d text, or `None` when
/// it has fewer than [`MIN_KEY_WORDS`] ordinary words.
pub fn copy_key(text: &str) -> Option<u64> {
    let norm = normalise(text);
    let words = norm.split(' ').filter(|w| *w != "N" && *w != "#").count();
    if words < MIN_KEY_WORDS {
        return None;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in norm.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    Some(h)
}

/// Whether two items are near-copies: equal copy keys and cosine at least [`COPY_COSINE`].
pub fn are_copies(key_a: Option<u64>, a: &[f32], key_b: Option<u64>, b: &[f32]) -> bool {
    key_a.is_some() && key_a == key_b && cosine(a, b) >= COPY_COSINE
}

/// Members of a group an item is compared with before it starts a group of its own.
const LINK_CHECKS: usize = 32;

/// Groups with an item's key it is compared with before it starts a group of its own. Many
/// unrelated texts can share a key (short formulaic ones), and without this bound grouping
/// them would be quadratic; past it an item may stay apart from a copy, never join a stranger.
const GROUP_CHECKS: usize = 64;

/// Groups items into near-copy groups: each item joins the first group (in input order) with
/// its copy key that holds a member it is close enough to (among the first [`LINK_CHECKS`]
/// members of the first [`GROUP_CHECKS`] groups), else starts one. Each renamed city moves the
/// vector its own way, so two copies may be further apart than either is from the original:
/// any member close enough links, not only the first. Every index appears in exactly one group;
/// groups are in the order of their first member, members in input order. Linear in the number
/// of items: only items with equal keys are ever compared, at most
/// `GROUP_CHECKS * LINK_CHECKS` times each.
pub fn group(keys: &[Option<u64>], vectors: &[&[f32]]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_key: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, key) in keys.iter().enumerate() {
        let found = key.and_then(|k| {
            by_key.get(&k).and_then(|gs| {
                gs.iter().take(GROUP_CHECKS).copied().find(|&g| {
                    groups[g]
                        .iter()
                        .take(LINK_CHECKS)
                        .any(|&m| cosine(vectors[m], vectors[i]) >= COPY_COSINE)
                })
            })
        });
        match found {
            Some(g) => groups[g].push(i),
            None => {
                if let Some(k) = key {
                    by_key.entry(*k).or_default().push(groups.len());
                }
                groups.push(vec![i]);
            }
        }
    }
    groups
}

/// Families of documents that are copies of each other: `docs[d]` lists document d's paragraph
/// texts; the result gives each document the index of the first document of its family. Two
/// documents are copies when at least [`DOCUMENT_OVERLAP`] of the distinct copy keys of each are
/// found in the other (keys only: documents have no vectors when they are read). Each document
/// is compared with one member per family, so sharing one paragraph with many documents costs
/// one count per family.
pub fn document_families(docs: &[Vec<&str>]) -> Vec<usize> {
    let keys: Vec<Vec<u64>> = docs
        .iter()
        .map(|paras| {
            let mut k: Vec<u64> = paras.iter().filter_map(|t| copy_key(t)).collect();
            k.sort_unstable();
            k.dedup();
            k
        })
        .collect();
    let mut family = vec![0usize; docs.len()];
    // Key -> the family heads (first documents) that hold it.
    let mut heads_with: HashMap<u64, Vec<usize>> = HashMap::new();
    for d in 0..docs.len() {
        let mut shared: HashMap<usize, usize> = HashMap::new();
        for k in &keys[d] {
            for &h in heads_with.get(k).map_or(&[][..], Vec::as_slice) {
                *shared.entry(h).or_default() += 1;
            }
        }
        let mut best: Option<(usize, usize)> = None;
        for (&h, &n) in &shared {
            let each_way = (n as f64 / keys[d].len() as f64).min(n as f64 / keys[h].len() as f64);
            if each_way >= DOCUMENT_OVERLAP && best.is_none_or(|(bh, bn)| (n, bh) > (bn, h)) {
                best = Some((h, n));
            }
        }
        match best {
            Some((h, _)) => family[d] = h,
            None => {
                family[d] = d;
                for k in &keys[d] {
                    heads_with.entry(*k).or_default().push(d);
                }
            }
        }
    }
    family
}

/// How many documents are near-copies of an earlier one, from [`document_families`].
pub fn copies_in(families: &[usize]) -> usize {
    families
        .iter()
        .enumerate()
        .filter(|&(d, &f)| f != d)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_fold_into_placeholders() {
        assert_eq!(
            normalise("In 2022, Beijing's Foreign Affairs Office trained 1,200 workers."),
            "in # N trained # workers"
        );
        assert_eq!(
            copy_key("The New York office trained 300 local workers in 2021."),
            copy_key("The Shanghai office trained 45 local workers in 2023.")
        );
        assert_ne!(
            copy_key("The Shanghai office trained local workers."),
            copy_key("The Shanghai office hired local workers.")
        );
        assert_eq!(copy_key("Beijing and Shanghai"), None);
    }

    #[test]
    fn names_with_numeric_suffixes_mask_like_names() {
        let original = "Over the past three years, Beijing has carried out 1,200 exchanges with \
                        Beijing Construction Engineering Group and Beijing's partners.";
        for city in [
            "Tianjin7",
            "Tianjin 7",
            "Tianjin-17",
            "Tianjin_20",
            "Tianjin 1,200",
        ] {
            let copy = original.replace("Beijing", city);
            assert_eq!(normalise(&copy), normalise(original), "{copy}");
            assert_eq!(copy_key(&copy), copy_key(original), "{copy}");
        }
        assert_eq!(
            normalise("Tianjin20 and B2B firms in 2022, Office 3 hired 40."),
            "N and N firms in # N hired #"
        );
        // A number after a comma is a number of its own, not the name's suffix.
        assert_eq!(normalise("in Tianjin, 2022 was"), "in N # was");
        // Lower-case words with digits are numbers, as before.
        assert_eq!(normalise("the covid19 and mp3 files"), "the # and # files");
    }

    #[test]
    fn a_shared_boilerplate_sentence_does_not_make_copies() {
        let note = "This series looks at the work of many associations in Beijing.";
        let a = format!("{note} The chamber trained local workers in welding and masonry.");
        let b = format!("{note} A university sent doctors to work in rural clinics.");
        assert_ne!(copy_key(&a), copy_key(&b));
        // Even with identical vectors, different keys keep them apart.
        let v = [1.0f32, 0.0];
        assert!(!are_copies(copy_key(&a), &v, copy_key(&b), &v));
        let keys = [
            copy_key(&a),
            copy_key(&b),
            copy_key(&a.replace("Beijing", "Tianjin3")),
        ];
        let refs: Vec<&[f32]> = vec![&v, &v, &v];
        assert_eq!(group(&keys, &refs), vec![vec![0, 2], vec![1]]);
    }

    #[test]
    fn a_crowded_key_is_compared_a_bounded_number_of_times() {
        // Unrelated texts with one key (orthogonal vectors): each starts its own group, and an
        // item past GROUP_CHECKS groups is not compared with the later ones.
        let n = GROUP_CHECKS + 10;
        let vectors: Vec<Vec<f32>> = (0..n)
            .map(|i| (0..n).map(|j| f32::from(u8::from(i == j))).collect())
            .collect();
        let mut refs: Vec<&[f32]> = vectors.iter().map(Vec::as_slice).collect();
        let mut keys = vec![Some(7); n];
        let groups = group(&keys, &refs);
        assert_eq!(groups.len(), n);
        // A copy of the first item still finds it; a copy of the last one stays apart.
        refs.extend([refs[0], refs[n - 1]]);
        keys.extend([Some(7), Some(7)]);
        let groups = group(&keys, &refs);
        assert_eq!(groups[0], vec![0, n]);
        assert_eq!(groups.len(), n + 1);
    }

    #[test]
    fn groups_need_equal_keys_and_close_vectors() {
        let keys = [Some(1), Some(1), Some(2), Some(1), None, None];
        let v: Vec<Vec<f32>> = vec![
            vec![1.0, 0.0],
            vec![0.99, 0.1],
            vec![1.0, 0.0],
            vec![0.0, 1.0],
            vec![1.0, 0.0],
            vec![1.0, 0.0],
        ];
        let refs: Vec<&[f32]> = v.iter().map(Vec::as_slice).collect();
        assert_eq!(
            group(&keys, &refs),
            vec![vec![0, 1], vec![2], vec![3], vec![4], vec![5]]
        );
    }

    #[test]
    fn families_join_copies_not_documents_sharing_a_note() {
        let note = "Editor's note: this series looks at the work of many associations in Beijing.";
        let a = vec![
            note,
            "The Beijing chamber trained local workers in welding and masonry.",
            "The Beijing chamber opened an office abroad to help small firms.",
            "Volunteers from Beijing taught children to read in three schools.",
        ];
        let a_copy: Vec<String> = a.iter().map(|t| t.replace("Beijing", "Tianjin")).collect();
        let b = vec![
            note,
            "A university in Beijing sent doctors to work in rural clinics.",
            "Students collected books for libraries in the mountains.",
            "A theatre festival brought actors from twelve countries together.",
        ];
        let docs = vec![a.clone(), a_copy.iter().map(String::as_str).collect(), b];
        let f = document_families(&docs);
        assert_eq!(f, vec![0, 0, 2]);
        assert_eq!(copies_in(&f), 1);
    }
}
