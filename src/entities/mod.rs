//! Who, where, when: the entities of a text, as pure functions over it.
//!
//! - [`countries`]: countries and territories mentioned by name, demonym or city, from the
//!   ISO 3166 [`gazetteer`] (a data file compiled in, with its licence beside it);
//! - [`orgs`]: organisations introduced with an acronym or a short name, and mentions of
//!   either form;
//! - [`years`]: years mentioned, ranges counting each year.
//!
//! Chinese text is read too: countries by their Chinese names, years written `2021年`,
//! organisations given as a Chinese name with the English acronym beside it
//! (`中国国际民间组织合作促进会（CANGO）`); each finder says how.
//!
//! An update stores an item's entities as [`Tag`]s ([`TAGGER`] computes them from the item's
//! text, so an unchanged text keeps its tags and only changed items are tagged again). The
//! store keeps them as data it does not interpret; [`crate::facets`] asks questions of them.

pub mod countries;
pub mod gazetteer;
pub mod orgs;
pub mod tokens;
pub mod years;

use crate::store::{Tag, Tagger};
pub use countries::find_countries;
pub use gazetteer::{gazetteer, Country};
pub use orgs::{find_orgs, Catalogue, OrgDefinition, OrgMentions, Organisation};
pub use years::find_years;

/// Tag kind of a country mention; the value is the ISO 3166-1 alpha-2 code (`KE`).
pub const COUNTRY: &str = "country";
/// Tag kind of a year mention; the value is the year (`2021`).
pub const YEAR: &str = "year";
/// Tag kind of an acronym-like word (`BCEG`), as written.
pub const ORG: &str = "org";
/// Tag kind of a capitalised name or its ending, as an [`orgs::name_key`].
pub const ORG_NAME: &str = "org-name";
/// Tag kind of an organisation's definition: `ACRONYM<TAB>Long Name`.
pub const ORG_DEF: &str = "org-def";

/// The rules that made the stored tags; a change here re-tags every stored item on the next
/// update. Bump it whenever a finder or the gazetteer data changes what it finds.
pub const RULES_VERSION: &str = "entities-2";

/// What an update uses to tag items.
pub const TAGGER: Tagger = Tagger {
    version: RULES_VERSION,
    tag: tags,
};

/// The entities of one text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entities {
    /// Alpha-2 codes, sorted, each once.
    pub countries: Vec<String>,
    pub orgs: OrgMentions,
    /// Years, ascending, each once.
    pub years: Vec<u16>,
}

/// The entities of `text`.
pub fn extract(text: &str) -> Entities {
    let mut countries: Vec<String> = find_countries(text).into_iter().map(|m| m.code).collect();
    countries.sort();
    countries.dedup();
    Entities {
        countries,
        orgs: find_orgs(text),
        years: find_years(text),
    }
}

/// The tags of `text`: its entities as kind and value, sorted.
pub fn tags(text: &str) -> Vec<Tag> {
    let e = extract(text);
    let tag = |kind: &str, value: String| Tag {
        kind: kind.to_string(),
        value,
    };
    let mut out: Vec<Tag> = Vec::new();
    out.extend(e.countries.into_iter().map(|c| tag(COUNTRY, c)));
    out.extend(e.years.into_iter().map(|y| tag(YEAR, y.to_string())));
    out.extend(e.orgs.acronyms.into_iter().map(|a| tag(ORG, a)));
    out.extend(e.orgs.names.into_iter().map(|n| tag(ORG_NAME, n)));
    out.extend(
        e.orgs
            .definitions
            .into_iter()
            .map(|d| tag(ORG_DEF, format!("{}\t{}", d.acronym, d.name))),
    );
    out.sort();
    out.dedup();
    out
}

/// Reads an [`ORG_DEF`] tag's value back; `None` for a malformed one.
pub fn parse_definition(value: &str) -> Option<OrgDefinition> {
    let (acronym, name) = value.split_once('\t')?;
    (!acronym.is_empty() && !name.is_empty()).then(|| OrgDefinition {
        acronym: acronym.to_string(),
        name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_paragraph_yields_its_countries_organisations_and_years() {
        let text = "For example, Beijing Construction Engineering Group (BCEG) has trained a \
                    large number of skilled workers in more than 20 countries (regions). \
                    Focused training was available in its training base in Angola since 2021.";
        let e = extract(text);
        assert_eq!(e.countries, ["AO", "CN"]);
        assert_eq!(e.years, [2021]);
        assert_eq!(
            e.orgs.definitions,
            [OrgDefinition {
                acronym: "BCEG".into(),
                name: "Beijing Construction Engineering Group".into()
            }]
        );
        let t = tags(text);
        let has = |k: &str, v: &str| t.iter().any(|x| x.kind == k && x.value == v);
        assert!(has(COUNTRY, "AO") && has(COUNTRY, "CN") && has(YEAR, "2021"));
        assert!(has(ORG, "BCEG"));
        assert!(has(ORG_NAME, "beijing construction engineering group"));
        assert!(has(ORG_DEF, "BCEG\tBeijing Construction Engineering Group"));
        let def = t.iter().find(|x| x.kind == ORG_DEF).unwrap();
        assert_eq!(parse_definition(&def.value).unwrap().acronym, "BCEG");
        assert!(parse_definition("no tab").is_none());
    }

    #[test]
    fn tags_of_an_empty_text_are_none() {
        assert!(tags("").is_empty());
        assert!(tags("   \n").is_empty());
    }
}
