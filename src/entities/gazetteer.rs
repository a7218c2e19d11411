//! The country gazetteer: ISO 3166-1 countries and territories with their codes, names,
//! demonyms and capitals, from `data/countries.tsv` (world-countries 5.1.0, ODbL; see
//! `data/README.md`), plus simsum's own rules in `data/extra.tsv` (short names like "UK" and
//! "Britain", large cities, names too ambiguous to match alone, and phrases such as "Indian
//! Ocean" that hide a country's name). Both files are compiled in. Chinese names
//! come from `data/countries-zh.tsv` (the same package's `translations.zho`) and the `zh-`
//! rules of `data/extra.tsv`; Chinese text has no spaces, so they are found inside runs of
//! Chinese characters, longest first ([`Gazetteer::chinese_prefix`]).
//!
//! Two uses: [`Gazetteer::resolve`] turns what a user typed (`AO`, `Angola`, `Angolan`) into a
//! country for a filter, and [`Gazetteer::phrases_from`] gives the mention finder
//! ([`super::countries`]) the phrases that may start at a word.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use super::tokens::tokenize;

const COUNTRIES: &str = include_str!("data/countries.tsv");
const EXTRA: &str = include_str!("data/extra.tsv");
const CHINESE: &str = include_str!("data/countries-zh.tsv");

/// A country or territory of ISO 3166-1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-2 code (`KE`): the value stored and filtered on.
    pub code: String,
    /// ISO 3166-1 alpha-3 code (`KEN`).
    pub alpha3: String,
    /// Common English short name ("Kenya").
    pub name: String,
    /// Official name ("Republic of Kenya").
    pub official: String,
    /// A sovereign state (not a territory).
    pub independent: bool,
}

/// What a phrase of the gazetteer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NameKind {
    /// A name of the country ("Kenya", "UK", "Republic of Kenya").
    Name,
    /// A demonym ("Kenyan", "Kenyans").
    Demonym,
    /// A capital or large city ("Nairobi").
    Place,
}

/// A phrase the mention finder looks for: its words and what it stands for (`None`: a phrase
/// that hides the country names inside it, like "Indian Ocean").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrase {
    pub words: Vec<String>,
    pub country: Option<usize>,
    pub kind: NameKind,
}

/// The loaded gazetteer.
#[derive(Debug)]
pub struct Gazetteer {
    countries: Vec<Country>,
    /// Alpha-2 and alpha-3 codes, upper case, to the country.
    codes: HashMap<String, usize>,
    /// Every name, demonym and place, lower-cased and folded to ASCII, to the country.
    lookup: HashMap<String, usize>,
    /// Phrases by first word (as written, and in capitals), longest first.
    phrases: HashMap<String, Vec<Phrase>>,
    /// Chinese names and cities to their country; `None` for a phrase that hides the names
    /// inside it (`印度洋`, the Indian Ocean).
    chinese: HashMap<String, Option<usize>>,
    /// Characters in the longest key of `chinese`.
    chinese_longest: usize,
}

/// The built-in gazetteer (loaded on first use).
pub fn gazetteer() -> &'static Gazetteer {
    static G: OnceLock<Gazetteer> = OnceLock::new();
    // The data is compiled in; `tests::built_in_data_loads` fails the build's tests if it is
    // ever malformed, so this cannot fail at run time.
    G.get_or_init(|| {
        Gazetteer::parse(COUNTRIES, EXTRA)
            .and_then(|g| g.with_chinese(CHINESE, EXTRA))
            .expect("the built-in gazetteer data is valid")
    })
}

/// Folds the Latin letters with diacritics common in country names to ASCII ("Türkiye" ->
/// "Turkiye", "Côte" -> "Cote"); other characters are kept.
pub fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' => 'a',
            'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' => 'A',
            'ç' | 'č' | 'ć' => 'c',
            'Ç' | 'Č' => 'C',
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' => 'e',
            'É' | 'È' | 'Ê' => 'E',
            'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ı' => 'i',
            'Í' | 'Î' | 'İ' => 'I',
            'ñ' | 'ń' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => 'o',
            'Ó' | 'Ö' | 'Ø' => 'O',
            'ù' | 'ú' | 'û' | 'ü' | 'ū' => 'u',
            'Ú' | 'Ü' => 'U',
            'ý' | 'ÿ' => 'y',
            'ş' | 'ș' | 'š' => 's',
            'Ş' | 'Ș' | 'Š' => 'S',
            'ț' | 'ţ' => 't',
            'ğ' => 'g',
            'ž' => 'z',
            'Ž' => 'Z',
            '\u{2019}' => '\'',
            c => c,
        })
        .collect()
}

/// The key of a name in [`Gazetteer::lookup`]: its words, folded and lower-cased.
fn lookup_key(s: &str) -> String {
    tokenize(&fold(s))
        .into_iter()
        .map(|t| t.word.to_lowercase())
        .collect::<Vec<_>>()
        .join(" ")
}

/// One name of the data before ambiguities are settled.
struct Candidate {
    text: String,
    kind: NameKind,
    /// Assigned by a rule of extra.tsv (wins over the data when a name is ambiguous).
    explicit: bool,
}

impl Gazetteer {
    /// Builds the gazetteer from the text of countries.tsv and extra.tsv.
    pub fn parse(countries_tsv: &str, extra_tsv: &str) -> Result<Self, String> {
        let (countries, mut names) = parse_countries(countries_tsv)?;
        let codes: HashMap<String, usize> = countries
            .iter()
            .enumerate()
            .flat_map(|(i, c)| [(c.code.clone(), i), (c.alpha3.clone(), i)])
            .collect();
        let mut dropped: BTreeSet<String> = BTreeSet::new();
        let mut blocks: Vec<String> = Vec::new();
        for (n, line) in data_lines(extra_tsv) {
            let f: Vec<&str> = line.split('\t').collect();
            let at = |i: usize| f.get(i).copied().unwrap_or("");
            let country = || {
                codes
                    .get(at(2))
                    .copied()
                    .ok_or_else(|| format!("extra.tsv:{n}: unknown alpha-2 code `{}`", at(2)))
            };
            let kind = match at(0) {
                "name" => NameKind::Name,
                "demonym" => NameKind::Demonym,
                "city" => NameKind::Place,
                "drop" => {
                    dropped.insert(at(1).to_string());
                    continue;
                }
                "block" => {
                    blocks.push(at(1).to_string());
                    continue;
                }
                // Chinese rules: see `with_chinese`.
                zh if zh.starts_with("zh-") => continue,
                other => return Err(format!("extra.tsv:{n}: unknown rule `{other}`")),
            };
            names.push((
                country()?,
                Candidate {
                    text: at(1).to_string(),
                    kind,
                    explicit: true,
                },
            ));
        }
        let settled = settle(&countries, names, &dropped);
        Ok(Self::index(countries, codes, settled, blocks))
    }

    fn index(
        countries: Vec<Country>,
        codes: HashMap<String, usize>,
        names: Vec<(String, usize, NameKind)>,
        blocks: Vec<String>,
    ) -> Self {
        let mut lookup = HashMap::new();
        let mut phrases: HashMap<String, Vec<Phrase>> = HashMap::new();
        let mut add = |text: &str, country: Option<usize>, kind: NameKind| {
            let words: Vec<String> = tokenize(text).into_iter().map(|t| t.word).collect();
            let Some(first) = words.first().cloned() else {
                return;
            };
            let phrase = Phrase {
                words: words.clone(),
                country,
                kind,
            };
            let upper = first.to_uppercase();
            if upper != first {
                phrases.entry(upper).or_default().push(phrase.clone());
            }
            phrases.entry(first).or_default().push(phrase);
        };
        for (text, c, kind) in &names {
            add(text, Some(*c), *kind);
            lookup.entry(lookup_key(text)).or_insert(*c);
        }
        for b in &blocks {
            add(b, None, NameKind::Name);
        }
        for list in phrases.values_mut() {
            list.sort_by_key(|p| std::cmp::Reverse(p.words.len()));
            list.dedup();
        }
        Self {
            countries,
            codes,
            lookup,
            phrases,
            chinese: HashMap::new(),
            chinese_longest: 0,
        }
    }

    /// Adds the Chinese names of countries-zh.tsv (alpha-2, common name, official name) and the
    /// `zh-` rules of extra.tsv: `zh-name` and `zh-city` (another name, a city standing for one
    /// country), `zh-drop` (a name of the data too ambiguous to match), `zh-block` (a phrase
    /// that hides the names inside it). A rule wins over the data.
    pub fn with_chinese(mut self, chinese_tsv: &str, extra_tsv: &str) -> Result<Self, String> {
        let code = |file: &str, n: usize, c: &str| {
            self.codes
                .get(c)
                .copied()
                .ok_or_else(|| format!("{file}:{n}: unknown alpha-2 code `{c}`"))
        };
        let mut data: Vec<(String, usize)> = Vec::new();
        for (n, line) in data_lines(chinese_tsv) {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() != 3 {
                return Err(format!(
                    "countries-zh.tsv:{n}: expected 3 fields: alpha-2, common and official name"
                ));
            }
            let c = code("countries-zh.tsv", n, f[0])?;
            data.extend([(f[1].to_string(), c), (f[2].to_string(), c)]);
        }
        let mut rules: Vec<(String, Option<usize>)> = Vec::new();
        let mut dropped: BTreeSet<String> = BTreeSet::new();
        for (n, line) in data_lines(extra_tsv) {
            let f: Vec<&str> = line.split('\t').collect();
            let at = |i: usize| f.get(i).copied().unwrap_or("").to_string();
            match f[0] {
                "zh-name" | "zh-city" => rules.push((at(1), Some(code("extra.tsv", n, &at(2))?))),
                "zh-block" => rules.push((at(1), None)),
                "zh-drop" => {
                    dropped.insert(at(1));
                }
                zh if zh.starts_with("zh-") => {
                    return Err(format!("extra.tsv:{n}: unknown rule `{zh}`"));
                }
                _ => {}
            }
        }
        for (text, c) in data.into_iter().filter(|(t, _)| !dropped.contains(t)) {
            self.chinese.entry(text).or_insert(Some(c));
        }
        self.chinese.extend(rules);
        self.chinese.retain(|k, _| !k.is_empty());
        self.chinese_longest = self
            .chinese
            .keys()
            .map(|k| k.chars().count())
            .max()
            .unwrap_or(0);
        Ok(self)
    }

    /// The longest Chinese name, city or blocking phrase that `text` starts with: its length in
    /// bytes and its country (`None` for a blocking phrase).
    pub fn chinese_prefix(&self, text: &str) -> Option<(usize, Option<usize>)> {
        let ends: Vec<usize> = text
            .char_indices()
            .map(|(i, c)| i + c.len_utf8())
            .take(self.chinese_longest)
            .collect();
        ends.into_iter()
            .rev()
            .find_map(|end| self.chinese.get(&text[..end]).map(|&c| (end, c)))
    }

    /// All countries and territories, by alpha-2 code.
    pub fn countries(&self) -> &[Country] {
        &self.countries
    }

    /// The country with this alpha-2 code.
    pub fn by_code(&self, code: &str) -> Option<&Country> {
        self.codes
            .get(&code.to_uppercase())
            .map(|&i| &self.countries[i])
    }

    /// The index of a country in [`Self::countries`].
    pub fn country(&self, index: usize) -> &Country {
        &self.countries[index]
    }

    /// Phrases that may start at the word `first`, longest first.
    pub fn phrases_from(&self, first: &str) -> &[Phrase] {
        self.phrases.get(first).map_or(&[], Vec::as_slice)
    }

    /// The country a user means: an ISO code (`AO`, `AGO`, any case), a name ("angola",
    /// "United Kingdom", "UK", "Britain"), a demonym ("Moroccan") or a city ("Nairobi").
    /// `Err` carries up to three close known names, for the error message.
    pub fn resolve(&self, query: &str) -> Result<&Country, Vec<String>> {
        let q = query.trim();
        let ascii_code = (2..=3).contains(&q.len()) && q.bytes().all(|b| b.is_ascii_alphabetic());
        if ascii_code {
            if let Some(c) = self.by_code(q) {
                return Ok(c);
            }
        }
        if let Some(&i) = self.lookup.get(&lookup_key(q)) {
            return Ok(&self.countries[i]);
        }
        if let Some(&Some(i)) = self.chinese.get(q) {
            return Ok(&self.countries[i]);
        }
        Err(self.suggest(q))
    }

    /// Up to three country names closest to `query` (by edit distance on lower-case text).
    pub fn suggest(&self, query: &str) -> Vec<String> {
        let q = lookup_key(query);
        let mut scored: Vec<(usize, &str)> = self
            .countries
            .iter()
            .map(|c| {
                let d = edit_distance(&q, &lookup_key(&c.name));
                (d, c.name.as_str())
            })
            .collect();
        scored.sort();
        let limit = (q.chars().count() / 2).max(2);
        scored
            .into_iter()
            .filter(|(d, _)| *d <= limit)
            .take(3)
            .map(|(_, n)| n.to_string())
            .collect()
    }
}

/// Lines of a data file that are not comments or blank, with their 1-based numbers.
fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
}

/// Countries and their names, demonyms and capitals from countries.tsv.
/// Countries, and each name with the index of its country.
type ParsedCountries = (Vec<Country>, Vec<(usize, Candidate)>);

fn parse_countries(text: &str) -> Result<ParsedCountries, String> {
    let mut countries = Vec::new();
    let mut names = Vec::new();
    for (n, line) in data_lines(text) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 8 || f[0].len() != 2 || f[1].len() != 3 {
            return Err(format!(
                "countries.tsv:{n}: expected 8 fields starting with alpha-2 and alpha-3 codes"
            ));
        }
        let i = countries.len();
        countries.push(Country {
            code: f[0].to_string(),
            alpha3: f[1].to_string(),
            name: f[2].to_string(),
            official: f[3].to_string(),
            independent: f[7] == "1",
        });
        let list = |s: &'_ str| -> Vec<String> {
            s.split('|')
                .flat_map(|x| x.split(", "))
                .flat_map(|x| x.split(" or "))
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect()
        };
        let mut push = |text: String, kind| {
            names.push((
                i,
                Candidate {
                    text,
                    kind,
                    explicit: false,
                },
            ))
        };
        push(f[2].to_string(), NameKind::Name);
        push(f[3].to_string(), NameKind::Name);
        // Inverted ISO forms ("Korea, Republic of") never occur in running text.
        for name in f[4]
            .split('|')
            .filter(|x| !x.is_empty() && !x.contains(','))
        {
            push(name.to_string(), NameKind::Name);
        }
        for d in list(f[5]) {
            // Plurals of demonyms ending in -n or -i: "Kenyans", "Israelis".
            if d.ends_with('n') || d.ends_with('i') {
                push(format!("{d}s"), NameKind::Demonym);
            }
            push(d, NameKind::Demonym);
        }
        for capital in f[6].split('|').filter(|x| !x.is_empty()) {
            push(capital.to_string(), NameKind::Place);
        }
    }
    Ok((countries, names))
}

/// Settles names that stand for several countries and applies the drop rules: a rule of
/// extra.tsv decides; otherwise the one sovereign state among them; otherwise the name is
/// dropped ("Congolese": both Congos). Adds the ASCII-folded form of each name ("Turkiye").
/// Returns `(text, country, kind)`, each text once.
fn settle(
    countries: &[Country],
    names: Vec<(usize, Candidate)>,
    dropped: &BTreeSet<String>,
) -> Vec<(String, usize, NameKind)> {
    let mut by_text: HashMap<String, Vec<(usize, NameKind, bool)>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for (c, cand) in names {
        let mut forms = vec![cand.text.clone()];
        let folded = fold(&cand.text);
        if folded != cand.text {
            forms.push(folded);
        }
        for form in forms {
            if dropped.contains(&form) {
                continue;
            }
            let e = by_text.entry(form.clone()).or_default();
            if e.is_empty() {
                order.push(form);
            }
            e.push((c, cand.kind, cand.explicit));
        }
    }
    let mut out = Vec::new();
    for text in order {
        let claims = &by_text[&text];
        let mut explicit: Vec<&(usize, NameKind, bool)> = claims.iter().filter(|c| c.2).collect();
        explicit.dedup_by_key(|c| c.0);
        let mut distinct: Vec<usize> = claims.iter().map(|c| c.0).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let pick = if let [one] = explicit.as_slice() {
            Some((one.0, one.1))
        } else if distinct.len() == 1 {
            Some((claims[0].0, claims[0].1))
        } else {
            let sovereign: Vec<usize> = distinct
                .iter()
                .copied()
                .filter(|&c| countries[c].independent)
                .collect();
            match sovereign.as_slice() {
                [one] => claims.iter().find(|c| c.0 == *one).map(|c| (c.0, c.1)),
                _ => None,
            }
        };
        if let Some((c, kind)) = pick {
            out.push((text, c, kind));
        }
    }
    out
}

/// Levenshtein distance over characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_data_loads() {
        let g = Gazetteer::parse(COUNTRIES, EXTRA).unwrap();
        assert!(g.countries().len() >= 249, "{}", g.countries().len());
        assert_eq!(g.by_code("ao").unwrap().name, "Angola");
        assert_eq!(g.by_code("GBR").unwrap().code, "GB");
    }

    #[test]
    fn users_name_countries_by_code_name_demonym_or_city() {
        let g = gazetteer();
        for (q, code) in [
            ("AO", "AO"),
            ("ao", "AO"),
            ("AGO", "AO"),
            ("Angola", "AO"),
            ("angolan", "AO"),
            ("UK", "GB"),
            ("United Kingdom", "GB"),
            ("Britain", "GB"),
            ("British", "GB"),
            ("south korea", "KR"),
            ("Moroccan", "MA"),
            ("Nairobi", "KE"),
            ("Turkey", "TR"),
            ("Türkiye", "TR"),
            ("turkiye", "TR"),
            ("Cote d'Ivoire", "CI"),
            ("the Netherlands", "NL"),
            ("Dutch", "NL"),
            ("American", "US"),
            ("Indian", "IN"),
            ("安哥拉", "AO"),
            ("中华人民共和国", "CN"),
            ("台湾", "TW"),
            ("北京", "CN"),
        ] {
            assert_eq!(g.resolve(q).map(|c| c.code.as_str()), Ok(code), "{q}");
        }
    }

    #[test]
    fn unknown_countries_come_with_close_names() {
        let g = gazetteer();
        let e = g.resolve("Keyna").unwrap_err();
        assert_eq!(e.first().map(String::as_str), Some("Kenya"), "{e:?}");
        assert!(g.resolve("Atlantis").is_err());
        // Two-letter codes that are not ISO 3166-1 are not countries.
        assert!(g.resolve("ZZ").is_err());
    }

    #[test]
    fn ambiguous_names_are_settled_deliberately() {
        let g = gazetteer();
        // Both Congos say "Congolese": no country rather than the wrong one.
        assert!(g.resolve("Congolese").is_err());
        assert!(g.resolve("Congo").is_err());
        // The sovereign state wins over a territory ("Dutch": not Caribbean Netherlands).
        assert_eq!(g.resolve("Dutch").unwrap().code, "NL");
        assert_eq!(g.resolve("Norwegian").unwrap().code, "NO");
        // A rule of extra.tsv decides between two states.
        assert_eq!(g.resolve("Dominican").unwrap().code, "DO");
        // Dropped: a word, not a country ("Island" is Iceland's Icelandic name).
        assert!(g.resolve("Island").is_err());
    }

    #[test]
    fn malformed_data_is_an_error_naming_the_line() {
        let e = Gazetteer::parse("KE\tKEN\tKenya\n", "").unwrap_err();
        assert!(e.contains("countries.tsv:1"), "{e}");
        let e = Gazetteer::parse(
            "KE\tKEN\tKenya\tRepublic of Kenya\t\tKenyan\tNairobi\t1\n",
            "# c\ncity\tMombasa\tXX\n",
        )
        .unwrap_err();
        assert!(e.contains("extra.tsv:2") && e.contains("XX"), "{e}");
    }

    #[test]
    fn chinese_names_are_found_longest_first() {
        let g = gazetteer();
        let code = |text: &'static str| {
            g.chinese_prefix(text)
                .map(|(len, c)| (&text[..len], c.map(|c| g.country(c).code.as_str())))
        };
        assert_eq!(code("安哥拉的培训基地"), Some(("安哥拉", Some("AO"))));
        assert_eq!(code("巴布亚新几内亚"), Some(("巴布亚新几内亚", Some("PG"))));
        assert_eq!(code("南苏丹共和国"), Some(("南苏丹共和国", Some("SS"))));
        assert_eq!(code("印度洋"), Some(("印度洋", None)));
        assert_eq!(code("黑山羊"), None);
        assert_eq!(code("合作"), None);
    }

    #[test]
    fn malformed_chinese_data_is_an_error_naming_the_line() {
        let g = || Gazetteer::parse(COUNTRIES, "").unwrap();
        let e = g().with_chinese("# c\nKE\t肯尼亚\n", "").unwrap_err();
        assert!(e.contains("countries-zh.tsv:2"), "{e}");
        let e = g().with_chinese("XX\t某国\t某国\n", "").unwrap_err();
        assert!(e.contains("countries-zh.tsv:1") && e.contains("XX"), "{e}");
        let e = g().with_chinese("", "zh-city\t蒙巴萨\tXX\n").unwrap_err();
        assert!(e.contains("extra.tsv:1") && e.contains("XX"), "{e}");
        let e = g().with_chinese("", "zh-town\t蒙巴萨\tKE\n").unwrap_err();
        assert!(e.contains("unknown rule"), "{e}");
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kenya", "keyna"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("chad", "chad"), 0);
    }
}
