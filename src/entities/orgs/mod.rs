//! Organisations: names introduced with an acronym or a short name ("Beijing Construction
//! Engineering Group (BCEG)", "Jangho Group Company Limited (Jangho)"), and later mentions by
//! either form, within and across documents.
//!
//! A text yields three things ([`find_orgs`]):
//! - definitions: long form and acronym, found by the Schwartz–Hearst rule (the acronym's
//!   letters appear in order in the words before the parenthesis, its first letter starting a
//!   word; the shortest such run of words, widened left over capitalised words), kept when the
//!   long form is a name (capitalised words and connectors) of an organisation (it has a word
//!   like "Association", "Group" or "Ltd": "Belt and Road Initiative (BRI)" and "Advanced
//!   Distribution Management System (ADMS)" are not organisations);
//! - acronym-like words ("BCEG", "CANGO"), matched exactly, so "BCEGI" is not "BCEG";
//! - capitalised names ("China Flower Association") and their endings, normalised by
//!   [`name_key`], so a long form is found where its acronym is not given.
//!
//! In Chinese text a definition is a Chinese name with its English acronym in brackets,
//! `中国国际民间组织合作促进会（CANGO）`: the long form is the run of Chinese characters before
//! the bracket, less the words that lead into a name (`2022年与…`, `由…`), kept when it ends like
//! an organisation (`会`, `协会`, `集团`, `公司`, `大学`, ...). Its acronym is then tagged like any
//! other, so `CANGO` in English and Chinese reports is one organisation.
//!
//! Which of these are organisations is decided when a question is asked, against the
//! definitions of all documents ([`Catalogue`]): same acronym and same long name are one
//! organisation, wherever each was defined. The module is split
//! along those seams: definitions (`definitions.rs`), the catalogue (`catalogue.rs`), and
//! here the mentions and the words they share; `tests.rs` holds each rule above with the seed
//! reports' own sentences.

use super::gazetteer::fold;
use super::tokens::{gap, tokenize, Token};

mod catalogue;
mod definitions;
#[cfg(test)]
mod tests;

pub use catalogue::{Catalogue, Organisation};
use definitions::find_definitions;

/// An organisation as one text introduces it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrgDefinition {
    /// The acronym or short name ("BCEG", "Jangho").
    pub acronym: String,
    /// The long form as written ("Beijing Construction Engineering Group").
    pub name: String,
}

/// What a text says about organisations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgMentions {
    pub definitions: Vec<OrgDefinition>,
    /// Acronym-like words, as written, each once.
    pub acronyms: Vec<String>,
    /// Capitalised names and their endings, as [`name_key`]s, each once.
    pub names: Vec<String>,
}

/// Words that make a long form an organisation's name.
const ORG_HEADS: &[&str] = &[
    "Association",
    "Associations",
    "Organization",
    "Organisation",
    "Council",
    "Group",
    "Company",
    "Co",
    "Ltd",
    "Limited",
    "Inc",
    "LLC",
    "PLC",
    "Plc",
    "GmbH",
    "AG",
    "Corporation",
    "Corp",
    "Bank",
    "Fund",
    "Agency",
    "Institute",
    "Institution",
    "University",
    "College",
    "Academy",
    "Society",
    "Federation",
    "Union",
    "Chamber",
    "Commission",
    "Committee",
    "Ministry",
    "Department",
    "Office",
    "Bureau",
    "Authority",
    "Foundation",
    "Alliance",
    "Network",
    "Centre",
    "Center",
    "Forum",
    "Party",
    "Board",
    "League",
    "Trust",
    "Club",
    "Coalition",
    "Partnership",
    "Consortium",
    "Holding",
    "Holdings",
    "Administration",
    "Secretariat",
    "Assembly",
    "Parliament",
    "Court",
    "Enterprise",
    "Enterprises",
    "Industries",
    "Cooperative",
    "Programme",
    "Army",
    "Police",
    "TV",
    "Television",
    "Radio",
    "News",
    "Media",
    "Press",
    "Brokers",
    "Airlines",
    "Airways",
    "School",
    "Hospital",
    "Museum",
    "Technologies",
];
/// Lower-case words allowed inside a name ("China Association for NGO Cooperation").
const CONNECTORS: &[&str] = &[
    "of", "for", "and", "the", "in", "on", "de", "du", "des", "la", "&",
];
/// Capitalised words that do not start a name ("The China Electricity Council").
const NOT_A_NAME_START: &[&str] = &[
    "The", "A", "An", "In", "On", "At", "For", "During", "By", "With", "From", "To", "And", "Of",
    "Its", "Their", "His", "Her", "This", "That", "These", "Those", "As", "Since", "After",
    "Before", "When", "While", "Under", "Our", "Both", "Also", "But", "Or", "If",
];
/// Most words of a long form.
const MAX_NAME_WORDS: usize = 14;

/// The organisations `text` introduces and mentions.
pub fn find_orgs(text: &str) -> OrgMentions {
    let tokens = tokenize(text);
    let mut definitions = find_definitions(text, &tokens);
    definitions.sort();
    definitions.dedup();
    let mut acronyms: Vec<String> = tokens
        .iter()
        .filter(|t| acronym_like(&t.word))
        .map(|t| t.word.clone())
        .collect();
    acronyms.sort();
    acronyms.dedup();
    let mut names: Vec<String> = name_runs(text, &tokens)
        .into_iter()
        .flat_map(|run| name_endings(&tokens[run.0..run.1]))
        .collect();
    for d in &definitions {
        names.push(name_key(&d.name));
        if !acronym_like(&d.acronym) {
            names.push(name_key(&d.acronym));
        }
    }
    names.sort();
    names.dedup();
    OrgMentions {
        definitions,
        acronyms,
        names,
    }
}

/// A name's key: its words folded to ASCII and lower-cased, without a leading "the".
pub fn name_key(name: &str) -> String {
    let words: Vec<String> = tokenize(&fold(name))
        .into_iter()
        .map(|t| t.word.to_lowercase())
        .collect();
    let start = usize::from(words.first().is_some_and(|w| w == "the"));
    words[start..].join(" ")
}

/// An acronym: one word of 2 to 10 letters and digits, starting with a letter, with at least
/// two capitals and no lower-case letter ("BCEG", "C20"; not "NGOs", "MoU" or a roman
/// numeral such as "IV").
pub fn acronym_like(word: &str) -> bool {
    let n = word.chars().count();
    let caps = word.chars().filter(|c| c.is_uppercase()).count();
    (2..=10).contains(&n)
        && word.chars().next().is_some_and(|c| c.is_alphabetic())
        && word.chars().all(|c| c.is_alphanumeric() || c == '&')
        && caps >= 2
        && !word.chars().any(char::is_lowercase)
        && !roman_numeral(word)
}

fn roman_numeral(word: &str) -> bool {
    word.chars().all(|c| matches!(c, 'I' | 'V' | 'X' | 'L'))
}

/// Whether a long form reads as an organisation's name: it starts with a capital, its words
/// are capitalised or connectors, and one is an organisation word.
pub fn is_org_name(name: &str) -> bool {
    let words: Vec<Token> = tokenize(name);
    !words.is_empty()
        && words.len() <= MAX_NAME_WORDS
        && words[0].capitalised()
        && words
            .iter()
            .all(|w| !w.lowercase() || CONNECTORS.contains(&w.word.as_str()))
        && words.iter().any(|w| ORG_HEADS.contains(&w.word.as_str()))
}

/// Runs of capitalised words joined by spaces (connectors inside, never at the ends): the
/// places a name can be. As `(start, end)` token indices.
fn name_runs(text: &str, tokens: &[Token]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if !tokens[i].capitalised() {
            i += 1;
            continue;
        }
        let mut end = i + 1;
        let mut j = i + 1;
        while j < tokens.len() {
            let g = gap(text, &tokens[j - 1], &tokens[j]);
            let joined = g.trim().is_empty() || g.trim() == "&" || g.trim() == "-";
            if !joined {
                break;
            }
            if tokens[j].capitalised() {
                end = j + 1;
            } else if !CONNECTORS.contains(&tokens[j].word.as_str()) || j + 1 - i > MAX_NAME_WORDS {
                break;
            }
            j += 1;
        }
        runs.push((i, end));
        i = end;
    }
    runs
}

/// The keys of a run's names: the run and each ending of it that starts with a capitalised
/// word and has an organisation word, or has two words and more ("Jiang Tai").
fn name_endings(run: &[Token]) -> Vec<String> {
    let has_head = |ts: &[Token]| ts.iter().any(|t| ORG_HEADS.contains(&t.word.as_str()));
    (0..run.len())
        .filter(|&s| run[s].capitalised() && !NOT_A_NAME_START.contains(&run[s].word.as_str()))
        .map(|s| &run[s..])
        .filter(|ts| has_head(ts) || ts.len() >= 2)
        .map(|ts| {
            ts.iter()
                .map(|t| fold(&t.word).to_lowercase())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}
