//! Definitions of organisations: "Long Form (ACRONYM)" by the Schwartz–Hearst rule, "Long
//! Form (Short Name)", and in Chinese `中文名称（ACRONYM）`, with the word lists each uses.

use super::{acronym_like, is_org_name, OrgDefinition, MAX_NAME_WORDS, NOT_A_NAME_START};
use crate::entities::gazetteer::gazetteer;
use crate::entities::tokens::{gap, tokenize, Token};
use crate::text::cjk;

/// Words after a comma that continue a company's name ("Co., Ltd.", "Technology, Inc").
const CORPORATE_SUFFIXES: &[&str] = &[
    "Ltd", "Inc", "LLC", "Limited", "Co", "Corp", "Plc", "PLC", "GmbH", "AG", "SA",
];
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

/// Definitions: "Long Form (ACRONYM)" and "Long Form (Short Name)", and in Chinese
/// `中文名称（ACRONYM）` (full-width or ASCII brackets).
pub(super) fn find_definitions(text: &str, tokens: &[Token]) -> Vec<OrgDefinition> {
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
