//! Assembles the document model from the blocks a parser recognises (headings, paragraphs,
//! captions), whatever the input format. It owns id assignment (`<doc>#s<n>.p<m>[.<part>]`),
//! sentence splitting and the token-budget split of long paragraphs, so every format gets the
//! same ids and the same budget rules. Every heading, caption and paragraph passes through it,
//! so it is also where HTML character references are decoded ([`CharRefs`]), once, before
//! whitespace is normalised (`&nbsp;` is whitespace) and sentences are split.

use super::decode::CharRefs;
use super::sentences::{normalize_whitespace, split_sentences};
use super::{Initiative, Section, Sentence};

/// Builds the sections of one document from a stream of blocks.
pub(crate) struct SectionBuilder<'a> {
    doc_id: String,
    char_refs: CharRefs,
    max_tokens: usize,
    count_tokens: &'a dyn Fn(&str) -> usize,
    /// Tokens the counter adds to every text (`[CLS]`, `[SEP]`); subtracted when summing parts.
    specials: usize,
    sections: Vec<Section>,
    current: Section,
    paragraphs: usize,
}

impl<'a> SectionBuilder<'a> {
    pub fn new(
        doc_id: &str,
        char_refs: CharRefs,
        max_tokens: usize,
        count_tokens: &'a dyn Fn(&str) -> usize,
    ) -> Self {
        let max_tokens = max_tokens.max(1);
        let specials = count_tokens("").min(max_tokens - 1);
        SectionBuilder {
            doc_id: doc_id.to_string(),
            char_refs,
            max_tokens,
            count_tokens,
            specials,
            sections: Vec::new(),
            current: new_section(doc_id, 0, String::new(), None, 0),
            paragraphs: 0,
        }
    }

    /// Starts a new section at byte `offset` of the decoded source.
    pub fn heading(&mut self, number: Option<String>, heading: &str, offset: usize) {
        self.close(offset);
        let ordinal = self.sections.last().map_or(1, |s| s.ordinal + 1);
        self.current = new_section(&self.doc_id, ordinal, self.clean(heading), number, offset);
        self.paragraphs = 0;
    }

    /// Adds a caption (short non-sentence line) to the current section.
    pub fn caption(&mut self, text: &str) {
        let text = self.clean(text);
        if !text.is_empty() {
            self.current.captions.push(text);
        }
    }

    /// Adds a paragraph of running text, split into several initiatives when it exceeds the budget.
    pub fn paragraph(&mut self, raw: &str) {
        let text = self.clean(raw);
        self.push_paragraph(text);
    }

    /// Text as it enters the model: references decoded, whitespace collapsed.
    fn clean(&self, raw: &str) -> String {
        normalize_whitespace(&self.char_refs.apply(raw))
    }

    /// Adds a paragraph that is already [`clean`](Self::clean).
    fn push_paragraph(&mut self, text: String) {
        if text.is_empty() {
            return;
        }
        self.paragraphs += 1;
        let base = format!("{}.p{}", self.current.id, self.paragraphs);
        let sentences = split_sentences(&text);
        if (self.count_tokens)(&text) <= self.max_tokens {
            self.current
                .initiatives
                .push(initiative(base, &text, &sentences));
            return;
        }
        let units = self.fit_units(&text, &sentences);
        let chunks = self.pack(&text, &units);
        for (k, (first, last)) in chunks.into_iter().enumerate() {
            let (start, end) = (units[first].0, units[last].1);
            let piece: Vec<(usize, usize)> = units[first..=last].to_vec();
            let mut init = initiative(format!("{base}.{}", k + 1), &text[start..end], &[]);
            init.sentences = piece
                .iter()
                .map(|&(s, e)| Sentence {
                    text: text[s..e].to_string(),
                    byte_range: (s - start, e - start),
                })
                .collect();
            self.current.initiatives.push(init);
        }
    }

    /// Closes the last section at `end` and returns all sections; an empty intro is dropped.
    /// A document made only of short unpunctuated lines (a one-line record such as a package
    /// description, a list of titles) has no captions *between paragraphs*: its lines are its
    /// content, and become its initiatives.
    pub fn finish(mut self, end: usize) -> Vec<Section> {
        self.close(end);
        if self.sections.iter().all(|s| s.initiatives.is_empty()) {
            for mut section in std::mem::take(&mut self.sections) {
                let captions = std::mem::take(&mut section.captions);
                let range = section.byte_range;
                self.current = section;
                self.paragraphs = 0;
                // Captions are clean already: decoding them again would undo a written `&amp;amp;`.
                for c in captions {
                    self.push_paragraph(c);
                }
                let mut section = std::mem::replace(
                    &mut self.current,
                    new_section(&self.doc_id, 0, String::new(), None, range.1),
                );
                section.byte_range = range;
                self.sections.push(section);
            }
        }
        self.sections
    }

    fn close(&mut self, end: usize) {
        let mut section = std::mem::replace(
            &mut self.current,
            new_section(&self.doc_id, 0, String::new(), None, end),
        );
        section.byte_range.1 = end.max(section.byte_range.0);
        let empty_intro =
            section.ordinal == 0 && section.initiatives.is_empty() && section.captions.is_empty();
        if !empty_intro {
            self.sections.push(section);
        }
    }

    fn cost(&self, text: &str) -> usize {
        (self.count_tokens)(text).saturating_sub(self.specials)
    }

    /// Sentences that fit the budget alone stay whole; a longer one is cut at word boundaries
    /// (and a single over-long word at character boundaries).
    fn fit_units(&self, text: &str, sentences: &[(usize, usize)]) -> Vec<(usize, usize)> {
        let budget = self.max_tokens - self.specials;
        let mut units = Vec::with_capacity(sentences.len());
        for &(s, e) in sentences {
            if self.cost(&text[s..e]) <= budget {
                units.push((s, e));
                continue;
            }
            for (ws, we) in words(text, s, e) {
                if self.cost(&text[ws..we]) <= budget {
                    units.push((ws, we));
                } else {
                    self.split_word(text, ws, we, &mut units);
                }
            }
        }
        units
    }

    fn split_word(&self, text: &str, mut s: usize, e: usize, units: &mut Vec<(usize, usize)>) {
        let budget = self.max_tokens - self.specials;
        while s < e {
            let mut take = budget.max(1);
            loop {
                let end = text[s..e]
                    .char_indices()
                    .nth(take)
                    .map_or(e, |(i, _)| s + i);
                if take == 1 || self.cost(&text[s..end]) <= budget {
                    units.push((s, end));
                    s = end;
                    break;
                }
                take /= 2;
            }
        }
    }

    /// Greedily packs consecutive units into chunks within the budget, checking each chunk
    /// with the real counter (token counts are nearly but not exactly additive).
    fn pack(&self, text: &str, units: &[(usize, usize)]) -> Vec<(usize, usize)> {
        let costs: Vec<usize> = units.iter().map(|&(s, e)| self.cost(&text[s..e])).collect();
        let mut chunks = Vec::new();
        let mut i = 0;
        while i < units.len() {
            let mut j = i + 1;
            let mut sum = self.specials + costs[i];
            while j < units.len() && sum + costs[j] <= self.max_tokens {
                sum += costs[j];
                j += 1;
            }
            while j > i + 1
                && (self.count_tokens)(&text[units[i].0..units[j - 1].1]) > self.max_tokens
            {
                j -= 1;
            }
            chunks.push((i, j - 1));
            i = j;
        }
        chunks
    }
}

fn new_section(
    doc_id: &str,
    ordinal: usize,
    heading: String,
    number: Option<String>,
    offset: usize,
) -> Section {
    Section {
        id: format!("{doc_id}#s{ordinal}"),
        ordinal,
        heading,
        number,
        byte_range: (offset, offset),
        captions: Vec::new(),
        initiatives: Vec::new(),
    }
}

fn initiative(id: String, text: &str, sentences: &[(usize, usize)]) -> Initiative {
    Initiative {
        id,
        text: text.to_string(),
        boilerplate: false,
        sentences: sentences
            .iter()
            .map(|&(s, e)| Sentence {
                text: text[s..e].to_string(),
                byte_range: (s, e),
            })
            .collect(),
    }
}

/// Word byte ranges within `text[s..e]`.
fn words(text: &str, s: usize, e: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    let base = text.as_ptr() as usize;
    text[s..e]
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(move |w| {
            let ws = w.as_ptr() as usize - base;
            (ws, ws + w.len())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words_count(t: &str) -> usize {
        2 + t.split_whitespace().count()
    }

    /// The sections of document `d` with one paragraph, split at `max_tokens`.
    fn one_paragraph(max_tokens: usize, text: &str) -> Vec<Section> {
        let mut b = SectionBuilder::new("d", CharRefs::Decode, max_tokens, &words_count);
        b.paragraph(text);
        b.finish(0)
    }

    #[test]
    fn long_paragraph_splits_at_sentences() {
        let s = one_paragraph(8, "One two three. Four five six. Seven eight nine. Ten.");
        let ids: Vec<_> = s[0].initiatives.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["d#s0.p1.1", "d#s0.p1.2"]);
        assert_eq!(s[0].initiatives[0].text, "One two three. Four five six.");
        assert_eq!(s[0].initiatives[1].text, "Seven eight nine. Ten.");
        assert_eq!(s[0].initiatives[1].sentences[1].byte_range, (18, 22));
    }

    #[test]
    fn references_are_decoded_once_even_when_captions_become_paragraphs() {
        let mut b = SectionBuilder::new("d", CharRefs::Decode, 100, &words_count);
        b.caption("Fish &amp;amp; chips&nbsp;&amp; AT&T");
        let s = b.finish(0);
        assert!(s[0].captions.is_empty());
        assert_eq!(s[0].initiatives[0].text, "Fish &amp; chips & AT&T");
        let mut b = SectionBuilder::new("d", CharRefs::Decoded, 100, &words_count);
        b.heading(None, "Fish &amp;amp; chips", 0);
        assert_eq!(b.finish(0)[0].heading, "Fish &amp;amp; chips");
    }

    #[test]
    fn over_long_sentence_splits_at_words() {
        let s = one_paragraph(5, "a b c d e f g.");
        let texts: Vec<_> = s[0].initiatives.iter().map(|i| i.text.as_str()).collect();
        assert_eq!(texts, ["a b c", "d e f", "g."]);
    }
}
