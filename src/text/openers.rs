//! Discourse openers: the words and phrases with which a sentence leans on the one before it
//! ("To this end, ...", "For example, ...", "They ...", "With rich resources, they ..."). A
//! summary that quotes such a sentence without its predecessor starts mid-thought, so the
//! summarizer takes one only together with the sentence before it (see
//! [`crate::summarize`]). One list, used by every stage that picks sentences.

/// Connectives that refer back to what was just said, lower case, as they open a sentence
/// (matched as whole words).
const CONNECTIVES: &[&str] = &[
    "accordingly",
    "additionally",
    "afterwards",
    "after that",
    "also",
    "alternatively",
    "among them",
    "among these",
    "and",
    "as a consequence",
    "as a result",
    "as such",
    "as well",
    "at the same time",
    "besides",
    "but",
    "by contrast",
    "by doing so",
    "consequently",
    "conversely",
    "even so",
    "finally",
    "for example",
    "for instance",
    "for this purpose",
    "for this reason",
    "further",
    "furthermore",
    "hence",
    "however",
    "in addition",
    "in comparison",
    "in contrast",
    "in doing so",
    "in other words",
    "in particular",
    "in response",
    "in short",
    "in spite of this",
    "in that case",
    "in the process",
    "in this case",
    "in this regard",
    "in this respect",
    "in this way",
    "in turn",
    "indeed",
    "instead",
    "lastly",
    "later",
    "likewise",
    "meanwhile",
    "moreover",
    "namely",
    "nevertheless",
    "nonetheless",
    "notably",
    "of these",
    "of them",
    "on the contrary",
    "on the other hand",
    "on this basis",
    "on top of that",
    "or",
    "otherwise",
    "secondly",
    "similarly",
    "since then",
    "so",
    "specifically",
    "still",
    "subsequently",
    "that is",
    "then",
    "therefore",
    "thereby",
    "thus",
    "to do so",
    "to that end",
    "to this end",
    "together with this",
    "what is more",
    "with this",
    "yet",
];

/// Words that point back to something named earlier when they open a sentence (or its main
/// clause): pronouns and demonstratives.
const ANAPHORA: &[&str] = &[
    "another", "both", "he", "her", "hers", "him", "his", "it", "its", "she", "such", "that",
    "their", "theirs", "them", "these", "they", "this", "those",
];

/// Demonstrative phrases that point at the calendar or the text itself, not at the previous
/// sentence ("This year, ...").
const DEICTIC: &[&str] = &[
    "this year",
    "this month",
    "this week",
    "this spring",
    "this summer",
    "this autumn",
    "this winter",
    "these days",
    "this document",
    "this report",
    "this article",
    "this proposal",
    "this rfc",
    "this pep",
    "this page",
    "this section",
];

/// Lower-case words of the start of `sentence` (letters, digits and apostrophes), and whether a
/// comma follows each.
fn leading_words(sentence: &str, n: usize) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut word = String::new();
    for c in sentence.chars() {
        if c.is_alphanumeric() || c == '\'' || c == '\u{2019}' {
            word.extend(c.to_lowercase());
            continue;
        }
        if !word.is_empty() {
            out.push((std::mem::take(&mut word), false));
            if out.len() > n {
                break;
            }
        }
        if matches!(c, ',' | ';' | ':' | '\u{2014}') {
            if let Some(last) = out.last_mut() {
                last.1 = true;
            }
        }
    }
    if !word.is_empty() && out.len() <= n {
        out.push((word, false));
    }
    out
}

fn starts_with_phrase(words: &[(String, bool)], phrase: &str) -> bool {
    let mut k = 0;
    for p in phrase.split(' ') {
        match words.get(k) {
            Some((w, _)) if w == p => k += 1,
            _ => return false,
        }
    }
    true
}

fn opens_anaphorically(words: &[(String, bool)]) -> bool {
    let Some((first, _)) = words.first() else {
        return false;
    };
    if DEICTIC.iter().any(|p| starts_with_phrase(words, p)) {
        return false;
    }
    // "That" opens relative uses too rarely at a sentence start to matter; "it" is also the
    // expletive ("It is important to ...") which still reads as a continuation out of context.
    ANAPHORA.contains(&first.as_str())
}

/// True when `sentence` opens with a discourse connective or an anaphoric word, or when its
/// main clause does after a short introductory phrase ("With rich resources, they have ..."),
/// so that it needs the sentence before it to be understood.
pub fn leans_on_previous(sentence: &str) -> bool {
    let words = leading_words(sentence, 12);
    if words.is_empty() {
        return false;
    }
    if CONNECTIVES.iter().any(|p| starts_with_phrase(&words, p)) {
        return true;
    }
    if opens_anaphorically(&words) {
        return true;
    }
    // An introductory phrase of at most ten words ending in a comma, then a pronoun subject.
    if let Some(comma) = words.iter().take(10).position(|w| w.1) {
        let rest = &words[comma + 1..];
        if let Some((w, _)) = rest.first() {
            return matches!(
                w.as_str(),
                "they" | "it" | "he" | "she" | "this" | "these" | "those" | "such"
            ) && opens_anaphorically(rest);
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connectives_and_pronouns_lean_on_the_previous_sentence() {
        for s in [
            "To this end, the China Association for NGO Cooperation (CANGO) launched a programme.",
            "For example, Beijing Construction Engineering Group built a school.",
            "In addition, the firm trained workers.",
            "However, results were mixed.",
            "They have played an important role.",
            "This helped local people.",
            "Such efforts continue.",
            "With rich resources and strong networks, they have played a key role.",
            "\u{201c}Moreover\u{201d} the team said.",
        ] {
            assert!(leans_on_previous(s), "{s}");
        }
    }

    #[test]
    fn ordinary_openings_stand_alone() {
        for s in [
            "The company trained local workers in construction skills.",
            "This year, the association held three forums.",
            "This report describes the initiatives of 2022.",
            "Thousands of workers were trained in Angola.",
            "Beijing, the capital, hosted the event.",
            "Soon after the forum, the chamber opened an office.",
            "",
        ] {
            assert!(!leans_on_previous(s), "{s}");
        }
    }
}
