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
//! organisation, wherever each was defined. (A third of the module is its tests: each rule
//! above with the seed reports' own sentences.)

use super::gazetteer::{edit_distance, fold, gazetteer};
use super::tokens::{gap, tokenize, Token};
use crate::text::cjk;

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
/// Words after a comma that continue a company's name ("Co., Ltd.", "Technology, Inc").
const CORPORATE_SUFFIXES: &[&str] = &[
    "Ltd", "Inc", "LLC", "Limited", "Co", "Corp", "Plc", "PLC", "GmbH", "AG", "SA",
];
/// Most words of a long form.
const MAX_NAME_WORDS: usize = 14;
/// Most characters of a Chinese long form.
const MAX_CHINESE_NAME: usize = 30;
/// How Chinese names of organisations end.
const CHINESE_ORG_HEADS: &[&str] = &[
    "会",
    "组织",
    "集团",
    "公司",
    "中心",
    "大学",
    "学院",
    "研究院",
    "研究所",
    "银行",
    "基金",
    "联盟",
    "论坛",
    "办公室",
    "部",
    "局",
    "署",
    "院",
    "所",
    "委",
    "厅",
    "党",
    "机构",
    "协会",
    "学会",
    "联合会",
    "商会",
    "集团公司",
    "有限公司",
    "合作社",
    "医院",
    "博物馆",
    "电视台",
    "出版社",
    "报社",
    "网络",
    "平台",
    "政府",
    "法院",
];
/// Words of scope that Chinese names of organisations start with (besides places).
const CHINESE_SCOPES: &[&str] = &[
    "中华",
    "全国",
    "国际",
    "世界",
    "亚洲",
    "东亚",
    "亚太",
    "欧洲",
    "非洲",
    "美洲",
    "联合国",
    "东盟",
    "金砖",
    "首都",
    "国家",
    "中央",
    "国务院",
];
/// Words that lead into a Chinese name without being part of it (`2022年与中国…`), taken off
/// its front, longest first, again and again. Characters that often begin names themselves
/// (`同` of 同济大学, `经` of 经济, `对` of 对外) are left out.
const CHINESE_LEADS: &[&str] = &[
    "以及", "其中", "包括", "此外", "例如", "联合", "通过", "携手", "会同", "支持", "参加", "加入",
    "邀请", "委托", "同时", "另外", "依托", "牵头", "指导", "主办", "承办", "年", "月", "日", "由",
    "与", "和", "及", "在", "为", "是", "将", "把", "被", "向", "据", "让", "并", "的", "了", "等",
    "跟",
];

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

/// Definitions: "Long Form (ACRONYM)" and "Long Form (Short Name)", and in Chinese
/// `中文名称（ACRONYM）` (full-width or ASCII brackets).
fn find_definitions(text: &str, tokens: &[Token]) -> Vec<OrgDefinition> {
    let mut out = Vec::new();
    for (open, bracket) in text.match_indices(['(', '（']) {
        let inner = &text[open + bracket.len()..];
        let Some(close) = inner.find([')', '）']) else {
            continue;
        };
        let short = inner[..close].trim();
        if short.is_empty() || short.len() > 40 {
            continue;
        }
        let after_chinese = text[..open].chars().next_back().is_some_and(cjk::is_cjk);
        if after_chinese {
            if let Some(name) = acronym_like(short)
                .then(|| chinese_long_form(&text[..open]))
                .flatten()
            {
                out.push(OrgDefinition {
                    acronym: short.to_string(),
                    name,
                });
            }
            continue;
        }
        let before: Vec<&Token> = tokens.iter().filter(|t| t.end <= open).collect();
        let window = window_before(text, &before);
        let found = if acronym_like(short) {
            schwartz_hearst(text, window, short)
        } else {
            short_name(text, window, short)
        };
        if let Some(name) = found.filter(|n| is_org_name(n)) {
            out.push(OrgDefinition {
                acronym: short.to_string(),
                name,
            });
        }
    }
    out
}

/// The Chinese name that `before` ends with: its last run of Chinese characters (at most
/// [`MAX_CHINESE_NAME`]), after its last `的`, from the first place or scope word in it
/// (`中国`, `北京`, `世界`, `东亚`: names start with one), or else less the words that lead
/// into a name; kept when it ends like an organisation.
fn chinese_long_form(before: &str) -> Option<String> {
    let start = before
        .char_indices()
        .rev()
        .take_while(|&(_, c)| cjk::is_cjk(c))
        .take(MAX_CHINESE_NAME)
        .last()
        .map(|(i, _)| i)?;
    let mut name = &before[start..];
    if let Some(i) = name.rfind('的') {
        name = &name[i + '的'.len_utf8()..];
    }
    if let Some(i) = name
        .char_indices()
        .map(|(i, _)| i)
        .find(|&i| starts_with_place(&name[i..]))
    {
        name = &name[i..];
    } else {
        while let Some(rest) = CHINESE_LEADS
            .iter()
            .filter_map(|lead| name.strip_prefix(lead))
            .min_by_key(|rest| rest.len())
        {
            name = rest;
        }
    }
    let org = name.chars().count() >= 3 && CHINESE_ORG_HEADS.iter().any(|h| name.ends_with(h));
    org.then(|| name.to_string())
}

/// Whether `text` starts with a place (a country or city of the gazetteer) or a word of scope
/// that Chinese names of organisations start with.
fn starts_with_place(text: &str) -> bool {
    CHINESE_SCOPES.iter().any(|w| text.starts_with(w))
        || gazetteer()
            .chinese_prefix(text)
            .is_some_and(|(_, c)| c.is_some())
}

/// The words before a parenthesis that may belong to the long form: back to a clause break
/// (`;`, `:`, a quote, a line break, a sentence end, or a comma not followed by "Ltd", "Inc"
/// and the like), at most [`MAX_NAME_WORDS`] of them.
fn window_before<'a>(text: &str, before: &[&'a Token]) -> Vec<&'a Token> {
    let mut start = before.len();
    while start > 0 && before.len() - start < MAX_NAME_WORDS {
        let t = before[start - 1];
        if start < before.len() {
            let next = before[start];
            let g = gap(text, t, next);
            let sentence_end = g.contains(". ") && !CORPORATE_SUFFIXES.contains(&t.word.as_str());
            let comma_break = g.contains(',') && !CORPORATE_SUFFIXES.contains(&next.word.as_str());
            if g.contains([';', ':', '"', '\u{201c}', '\u{201d}', '\n'])
                || sentence_end
                || comma_break
            {
                break;
            }
        }
        start -= 1;
    }
    before[start..].to_vec()
}

/// The shortest run of words ending the window in which the acronym's letters and digits
/// appear in order, its first one starting a word, widened left over capitalised words.
fn schwartz_hearst(text: &str, window: Vec<&Token>, acronym: &str) -> Option<String> {
    let short: Vec<char> = acronym
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let last = window.last()?;
    for s in (0..window.len()).rev() {
        let first = window[s];
        if !first.capitalised() || NOT_A_NAME_START.contains(&first.word.as_str()) {
            continue;
        }
        let long = &text[first.start..last.end];
        if letters_in_order(long, &short) {
            let mut from = s;
            while from > 0
                && window[from - 1].capitalised()
                && !NOT_A_NAME_START.contains(&window[from - 1].word.as_str())
            {
                from -= 1;
            }
            return Some(text[window[from].start..name_end(text, last)].to_string());
        }
    }
    None
}

/// Whether `short`'s characters appear in `long` in order, the first at the start of a word.
fn letters_in_order(long: &str, short: &[char]) -> bool {
    let l: Vec<char> = long.chars().flat_map(char::to_lowercase).collect();
    let mut li = l.len();
    for (k, &c) in short.iter().enumerate().rev() {
        loop {
            if li == 0 {
                return false;
            }
            li -= 1;
            let at_word_start = li == 0 || !l[li - 1].is_alphanumeric();
            if l[li] == c && (k > 0 || at_word_start) {
                break;
            }
        }
    }
    true
}

/// "Jangho Group Company Limited (Jangho)": the window from the words of the short name on.
fn short_name(text: &str, window: Vec<&Token>, short: &str) -> Option<String> {
    let words: Vec<String> = tokenize(short).into_iter().map(|t| t.word).collect();
    let capitalised = words
        .iter()
        .all(|w| w.chars().next().is_some_and(char::is_uppercase));
    if words.is_empty() || words.len() > 3 || !capitalised {
        return None;
    }
    let s = (0..window.len()).find(|&s| {
        window.len() - s > words.len()
            && words
                .iter()
                .enumerate()
                .all(|(k, w)| window[s + k].word == *w)
    })?;
    Some(text[window[s].start..name_end(text, window.last()?)].to_string())
}

/// Where a name ending in `last` ends: after the dot of "Ltd." and the like.
fn name_end(text: &str, last: &Token) -> usize {
    let dotted = text[last.end..].starts_with('.');
    if dotted && CORPORATE_SUFFIXES.contains(&last.word.as_str()) {
        last.end + 1
    } else {
        last.end
    }
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

/// One organisation of the catalogue: an acronym and a long name (several definitions with the
/// same acronym and name key are one organisation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub acronym: String,
    /// The long name as first written.
    pub name: String,
}

impl Organisation {
    /// Its long name's key ([`name_key`]).
    pub fn key(&self) -> String {
        name_key(&self.name)
    }

    /// Whether mentions of it are found by the acronym word (an acronym) or by name (a short
    /// name such as "Jangho").
    pub fn by_acronym(&self) -> bool {
        acronym_like(&self.acronym)
    }
}

/// The organisations defined across a corpus.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub orgs: Vec<Organisation>,
}

impl Catalogue {
    /// One organisation per (acronym, name key), in the order first given.
    pub fn new(definitions: impl IntoIterator<Item = OrgDefinition>) -> Self {
        let mut orgs: Vec<Organisation> = Vec::new();
        for d in definitions {
            let key = name_key(&d.name);
            if !orgs
                .iter()
                .any(|o| o.acronym == d.acronym && o.key() == key)
            {
                orgs.push(Organisation {
                    acronym: d.acronym,
                    name: d.name,
                });
            }
        }
        Self { orgs }
    }

    /// The organisations a user means by `query`: an acronym (exactly as defined, else
    /// ignoring case) or a long name (by key). Empty when none.
    pub fn resolve(&self, query: &str) -> Vec<&Organisation> {
        let q = query.trim();
        let exact: Vec<&Organisation> = self.orgs.iter().filter(|o| o.acronym == q).collect();
        if !exact.is_empty() {
            return exact;
        }
        let key = name_key(q);
        self.orgs
            .iter()
            .filter(|o| o.acronym.eq_ignore_ascii_case(q) || o.key() == key)
            .collect()
    }

    /// Up to three acronyms or names closest to `query`.
    pub fn suggest(&self, query: &str) -> Vec<String> {
        let q = query.trim().to_lowercase();
        let mut scored: Vec<(usize, String)> = self
            .orgs
            .iter()
            .flat_map(|o| {
                [
                    (
                        edit_distance(&q, &o.acronym.to_lowercase()),
                        o.acronym.clone(),
                    ),
                    (edit_distance(&q, &o.key()), o.name.clone()),
                ]
            })
            .collect();
        scored.sort();
        scored.dedup_by(|a, b| a.1 == b.1);
        let limit = (q.chars().count() / 2).max(2);
        scored
            .into_iter()
            .filter(|(d, _)| *d <= limit)
            .take(3)
            .map(|(_, n)| n)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defs(text: &str) -> Vec<(String, String)> {
        find_orgs(text)
            .definitions
            .into_iter()
            .map(|d| (d.acronym, d.name))
            .collect()
    }

    fn pair(a: &str, n: &str) -> (String, String) {
        (a.to_string(), n.to_string())
    }

    #[test]
    fn acronyms_after_long_names_are_definitions() {
        assert_eq!(
            defs("For example, Beijing Construction Engineering Group (BCEG) has trained"),
            [pair("BCEG", "Beijing Construction Engineering Group")]
        );
        assert_eq!(
            defs("To this end, the China Association for NGO Cooperation (CANGO) launched"),
            [pair("CANGO", "China Association for NGO Cooperation")]
        );
        assert_eq!(
            defs("The China Electricity Council (CEC), taking advantage"),
            [pair("CEC", "China Electricity Council")]
        );
        assert_eq!(
            defs("status at the World Intellectual Property Organization (WIPO) in 2022"),
            [pair("WIPO", "World Intellectual Property Organization")]
        );
        assert_eq!(
            defs("UK and Mauritius branches of Beijing Construction Engineering Group International (BCEGI) have"),
            [pair("BCEGI", "Beijing Construction Engineering Group International")]
        );
    }

    #[test]
    fn company_names_keep_their_suffixes_and_commas() {
        assert_eq!(
            defs("Subsidiaries of Beijing Sifang Automation Co., Ltd. (SIFANG) in India"),
            [pair("SIFANG", "Beijing Sifang Automation Co., Ltd.")]
        );
        assert_eq!(
            defs("Capital Group, BAIC Group, Beijing Enterprises Group Company Limited (BG), and"),
            [pair("BG", "Beijing Enterprises Group Company Limited")]
        );
        assert_eq!(
            defs("StarTimes, Beijing GeoEnviron Engineering & Technology, Inc (BGE), and"),
            [pair(
                "BGE",
                "Beijing GeoEnviron Engineering & Technology, Inc"
            )]
        );
        assert_eq!(
            defs("including Beijing Capital Development Holding (Group) Co., Ltd. (BCDH), Capital"),
            [pair(
                "BCDH",
                "Beijing Capital Development Holding (Group) Co., Ltd."
            )]
        );
    }

    #[test]
    fn short_names_in_parentheses_are_definitions() {
        assert_eq!(
            defs("Watchdata, Jangho Group Company Limited (Jangho), and"),
            [pair("Jangho", "Jangho Group Company Limited")]
        );
        assert_eq!(
            defs("around the world, Jiang Tai Insurance Brokers Co., Ltd. (Jiang Tai) has"),
            [pair("Jiang Tai", "Jiang Tai Insurance Brokers Co., Ltd.")]
        );
    }

    #[test]
    fn things_that_are_not_organisations_are_not_defined() {
        assert!(
            defs("Phase II of the Advanced Distribution Management System (ADMS) project")
                .is_empty()
        );
        assert!(defs("the Belt and Road Initiative (BRI)").is_empty());
        assert!(defs("traditional Chinese medicine (TCM) and healthcare").is_empty());
        assert!(defs("Beijing's People-to-People Diplomacy (III): National").is_empty());
        assert!(defs("Task Force of Malaysia (Covid-19) in issuing").is_empty());
        assert!(defs("a sentence (with an aside) here").is_empty());
        assert!(defs("unbalanced (BCEG").is_empty());
    }

    #[test]
    fn acronym_words_are_exact() {
        let m = find_orgs("BCEGI UK Sponsors and BCEG's workers; NGOs and CANGO.");
        assert_eq!(m.acronyms, ["BCEG", "BCEGI", "CANGO", "UK"]);
        assert!(!acronym_like("IV") && !acronym_like("Jangho") && !acronym_like("B"));
    }

    #[test]
    fn names_are_found_without_their_acronym() {
        let m = find_orgs("Designed by China Flower Association, the garden won.");
        assert!(
            m.names.contains(&"china flower association".to_string()),
            "{:?}",
            m.names
        );
        assert!(m.names.contains(&"flower association".to_string()));
        let m = find_orgs("Beijing Construction Engineering Group International has grown.");
        assert!(!m
            .names
            .contains(&name_key("Beijing Construction Engineering Group")));
        let m = find_orgs("The DAJIUXING platform sponsored by Jiang Tai is available");
        assert!(m.names.contains(&"jiang tai".to_string()), "{:?}", m.names);
    }

    #[test]
    fn one_acronym_and_name_is_one_organisation_across_documents() {
        let a = find_orgs("Beijing Construction Engineering Group (BCEG) has trained");
        let b = find_orgs("the Beijing Construction Engineering Group (BCEG) in Angola");
        let c = find_orgs("Beijing Construction Engineering Group International (BCEGI)");
        let cat = Catalogue::new(
            [a.definitions, b.definitions, c.definitions]
                .into_iter()
                .flatten(),
        );
        assert_eq!(cat.orgs.len(), 2);
        let bceg = cat.resolve("BCEG");
        assert_eq!(bceg.len(), 1);
        assert_eq!(bceg[0].name, "Beijing Construction Engineering Group");
        assert_eq!(cat.resolve("bceg").len(), 1);
        assert_eq!(
            cat.resolve("beijing construction engineering group")[0].acronym,
            "BCEG"
        );
        assert_eq!(cat.resolve("BCEGI")[0].acronym, "BCEGI");
        assert!(cat.resolve("CANGO").is_empty());
        assert_eq!(
            cat.suggest("BCGE").first().map(String::as_str),
            Some("BCEG")
        );
    }

    #[test]
    fn chinese_names_with_their_english_acronyms() {
        let defs = |t: &str| -> Vec<(String, String)> {
            find_orgs(t)
                .definitions
                .into_iter()
                .map(|d| (d.acronym, d.name))
                .collect()
        };
        let pair = |a: &str, n: &str| (a.to_string(), n.to_string());
        assert_eq!(
            defs("2021年，中国国际民间组织合作促进会（CANGO）启动了项目。"),
            [pair("CANGO", "中国国际民间组织合作促进会")]
        );
        assert_eq!(
            defs("深度参与东亚及西太平洋电力工业协会（AESIEAP）的机制建设，获得世界知识产权组织（WIPO）观察员地位"),
            [
                pair("AESIEAP", "东亚及西太平洋电力工业协会"),
                pair("WIPO", "世界知识产权组织")
            ]
        );
        // Without a place in it, the words that lead into the name come off.
        assert_eq!(
            defs("此外，与可持续发展促进会（SDPA）合作。在北京举办的绿色发展基金会（GDF）"),
            [
                pair("GDF", "绿色发展基金会"),
                pair("SDPA", "可持续发展促进会")
            ]
        );
        assert_eq!(
            defs("2022年与中国海外发展协会(CODA)共同举办研讨会，由中国电力企业联合会（CEC）主导。"),
            [
                pair("CEC", "中国电力企业联合会"),
                pair("CODA", "中国海外发展协会")
            ]
        );
        // Not organisations: a plan, a short name in brackets, an English name.
        assert!(defs("推进“一带一路”倡议（BRI）").is_empty());
        assert!(defs("中国花卉协会（花协）").is_empty());
        let m = find_orgs("CANGO参加了C20峰会，中国国际民间组织合作促进会（CANGO）分享了经验。");
        assert_eq!(m.acronyms, ["CANGO"]);
        assert!(m.names.contains(&"中国国际民间组织合作促进会".to_string()));
    }
}
