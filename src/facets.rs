//! Entity facets of a store: who, where and when as questions over the tags an update stored
//! ([`crate::entities`] computes them; the store keeps them without reading them).
//!
//! - [`EntityFilter`]: `--country`, `--org`, `--year` (and the API's `filters`), resolved to
//!   tag clauses ([`entity_clauses`]) that each store pushes into its nearest-neighbour search
//!   ([`crate::store::ItemFilter::tags`]): a filter matching `m` items gives `min(k, m)`
//!   results, never a page cut short by filtering last.
//! - [`facets`]: every country, organisation and year with its item and document counts.
//! - [`EntityReader`]: the entities of result items, as the typed answers carry them.
//!
//! Organisations are settled here, at question time, against the definitions of every stored
//! document ([`Catalogue`]), so a mention in one document of an acronym defined in another is
//! found.

use std::collections::{HashMap, HashSet};

use crate::answer::{
    CountryFacet, CountryRef, Entities, FacetsAnswer, OrgFacet, OrgRef, YearFacet,
};
use crate::entities::orgs::{acronym_like, name_key};
use crate::entities::{
    self, gazetteer, parse_definition, Catalogue, Organisation, COUNTRY, ORG, ORG_DEF, ORG_NAME,
    YEAR,
};
use crate::store::{tags_of, Level, Store, StoreError, Tag, TagStore};

/// Errors of an entity filter or facet question.
#[derive(Debug, thiserror::Error)]
pub enum FacetError {
    #[error("unknown country `{name}`{}", hint(suggestions))]
    UnknownCountry {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("unknown organisation `{name}`{}", hint(suggestions))]
    UnknownOrg {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("bad year `{0}`: use four digits from 1800 to 2099")]
    BadYear(String),
    #[error("unknown facet kind `{0}`: use country, org or year")]
    BadKind(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn hint(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

/// Which entities a query keeps: an item passes when it mentions any of the countries, any of
/// the organisations and any of the years (an empty list does not filter).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntityFilter {
    /// ISO 3166-1 alpha-2 codes.
    pub countries: Vec<String>,
    /// Organisations as the user named them (acronym or name), resolved against the store.
    pub orgs: Vec<String>,
    pub years: Vec<u16>,
}

impl EntityFilter {
    /// Checks what a user typed: countries by name, code or demonym, years as numbers.
    pub fn parse(
        countries: &[String],
        orgs: &[String],
        years: &[String],
    ) -> Result<Self, FacetError> {
        Ok(Self {
            countries: countries
                .iter()
                .map(|c| parse_country(c))
                .collect::<Result<_, _>>()?,
            orgs: orgs.iter().map(|o| o.trim().to_string()).collect(),
            years: years
                .iter()
                .map(|y| parse_year(y))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Whether it keeps everything.
    pub fn is_empty(&self) -> bool {
        self.countries.is_empty() && self.orgs.is_empty() && self.years.is_empty()
    }
}

/// The alpha-2 code of a country named by code, name, demonym or city.
pub fn parse_country(s: &str) -> Result<String, FacetError> {
    gazetteer()
        .resolve(s)
        .map(|c| c.code.clone())
        .map_err(|suggestions| FacetError::UnknownCountry {
            name: s.to_string(),
            suggestions,
        })
}

/// A year of four digits in [`entities::years::YEARS`].
pub fn parse_year(s: &str) -> Result<u16, FacetError> {
    let t = s.trim();
    t.parse::<u16>()
        .ok()
        .filter(|y| t.len() == 4 && entities::years::YEARS.contains(y))
        .ok_or_else(|| FacetError::BadYear(s.to_string()))
}

/// The organisations defined in the store's documents.
pub fn catalogue(store: &dyn Store) -> Result<Catalogue, StoreError> {
    let defs = tags_of(store)?
        .tag_counts(Level::Initiative, ORG_DEF)?
        .into_iter()
        .filter_map(|c| parse_definition(&c.value));
    Ok(Catalogue::new(defs))
}

/// The tag values that mention an organisation: its acronym (an acronym word) and its names.
struct OrgValues {
    acronyms: Vec<String>,
    names: Vec<String>,
}

fn org_values(orgs: &[&Organisation]) -> OrgValues {
    let mut v = OrgValues {
        acronyms: Vec::new(),
        names: Vec::new(),
    };
    for o in orgs {
        if o.by_acronym() {
            v.acronyms.push(o.acronym.clone());
        } else {
            v.names.push(name_key(&o.acronym));
        }
        v.names.push(o.key());
    }
    v
}

/// The values an organisation filter looks for: a defined acronym or long name, or else a
/// mentioned name that reads as an organisation's ("China Flower Association").
fn resolve_org(
    store: &dyn Store,
    cat: &Catalogue,
    level: Level,
    query: &str,
) -> Result<OrgValues, FacetError> {
    let found = cat.resolve(query);
    if !found.is_empty() {
        return Ok(org_values(&found));
    }
    let key = name_key(query);
    let named = !acronym_like(query.trim())
        && entities::orgs::is_org_name(query.trim())
        && !tags_of(store)?
            .tagged(level, ORG_NAME, std::slice::from_ref(&key))?
            .is_empty();
    if named {
        return Ok(OrgValues {
            acronyms: Vec::new(),
            names: vec![key],
        });
    }
    Err(FacetError::UnknownOrg {
        name: query.to_string(),
        suggestions: cat.suggest(query),
    })
}

/// `(key, document)` of the items of `level` that mention the organisation.
fn org_items(
    store: &dyn Store,
    level: Level,
    v: &OrgValues,
) -> Result<Vec<(u64, String)>, StoreError> {
    let tags = tags_of(store)?;
    let mut items = tags.tagged(level, ORG, &v.acronyms)?;
    items.extend(tags.tagged(level, ORG_NAME, &v.names)?);
    items.sort();
    items.dedup();
    Ok(items)
}

/// An entity filter as tag clauses a store pushes down ([`crate::store::ItemFilter::tags`]):
/// an item passes when it carries one tag of every clause (any country named, any
/// organisation, any year). Organisations are resolved against the store's definitions here.
pub fn entity_clauses(
    store: &dyn Store,
    level: Level,
    filter: &EntityFilter,
) -> Result<Vec<Vec<Tag>>, FacetError> {
    let tag = |kind: &str, value: &str| Tag {
        kind: kind.to_string(),
        value: value.to_string(),
    };
    let mut clauses = Vec::new();
    if !filter.countries.is_empty() {
        clauses.push(filter.countries.iter().map(|c| tag(COUNTRY, c)).collect());
    }
    if !filter.orgs.is_empty() {
        let cat = catalogue(store)?;
        let mut any = Vec::new();
        for q in &filter.orgs {
            let v = resolve_org(store, &cat, level, q)?;
            any.extend(v.acronyms.iter().map(|a| tag(ORG, a)));
            any.extend(v.names.iter().map(|n| tag(ORG_NAME, n)));
        }
        clauses.push(any);
    }
    if !filter.years.is_empty() {
        clauses.push(
            filter
                .years
                .iter()
                .map(|y| tag(YEAR, &y.to_string()))
                .collect(),
        );
    }
    Ok(clauses)
}

/// The keys of the items of `level` that pass `filter`; `None` when it keeps everything (for
/// the questions that filter items they hold, such as links and themes; searches push
/// [`entity_clauses`] down instead).
pub fn allowed_keys(
    store: &dyn Store,
    level: Level,
    filter: &EntityFilter,
) -> Result<Option<HashSet<u64>>, FacetError> {
    if filter.is_empty() {
        return Ok(None);
    }
    let by_tags = crate::store::ItemFilter {
        tags: entity_clauses(store, level, filter)?,
        ..Default::default()
    };
    Ok(crate::store::tag_keys(store, level, &by_tags)?)
}

/// Which facets to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacetKind {
    Country,
    Org,
    Year,
}

impl std::str::FromStr for FacetKind {
    type Err = FacetError;
    fn from_str(s: &str) -> Result<Self, FacetError> {
        match s {
            "country" | "countries" => Ok(Self::Country),
            "org" | "orgs" | "organisation" | "organisations" | "organization" => Ok(Self::Org),
            "year" | "years" => Ok(Self::Year),
            other => Err(FacetError::BadKind(other.to_string())),
        }
    }
}

/// Every country, organisation and year (or those of one kind) with the items of `level` and
/// the documents that mention it, most items first.
pub fn facets(
    store: &dyn Store,
    level: Level,
    kind: Option<FacetKind>,
) -> Result<FacetsAnswer, FacetError> {
    let wants = |k: FacetKind| kind.is_none_or(|w| w == k);
    let mut answer = FacetsAnswer {
        countries: Vec::new(),
        level,
        organisations: Vec::new(),
        years: Vec::new(),
    };
    if wants(FacetKind::Country) {
        answer.countries = tags_of(store)?
            .tag_counts(level, COUNTRY)?
            .into_iter()
            .map(|c| CountryFacet {
                name: country_name(&c.value),
                code: c.value,
                items: c.items,
                documents: c.documents,
            })
            .collect();
    }
    if wants(FacetKind::Org) {
        answer.organisations = org_facets(store, level)?;
    }
    if wants(FacetKind::Year) {
        answer.years = tags_of(store)?
            .tag_counts(level, YEAR)?
            .into_iter()
            .filter_map(|c| {
                Some(YearFacet {
                    year: c.value.parse().ok()?,
                    items: c.items,
                    documents: c.documents,
                })
            })
            .collect();
    }
    Ok(answer)
}

fn org_facets(store: &dyn Store, level: Level) -> Result<Vec<OrgFacet>, StoreError> {
    let cat = catalogue(store)?;
    let mut out = Vec::new();
    for o in &cat.orgs {
        let items = org_items(store, level, &org_values(&[o]))?;
        if items.is_empty() {
            continue;
        }
        let docs: HashSet<&str> = items.iter().map(|(_, d)| d.as_str()).collect();
        out.push(OrgFacet {
            acronym: o.acronym.clone(),
            name: o.name.clone(),
            items: items.len(),
            documents: docs.len(),
        });
    }
    out.sort_by(|a, b| {
        b.items
            .cmp(&a.items)
            .then_with(|| a.acronym.cmp(&b.acronym))
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(out)
}

fn country_name(code: &str) -> String {
    gazetteer()
        .by_code(code)
        .map_or_else(|| code.to_string(), |c| c.name.clone())
}

/// Reads the entities of result items: the store's tags, with organisations settled against
/// its catalogue (read once). Stores that keep no entities give none.
pub struct EntityReader<'a> {
    tags: Option<&'a dyn TagStore>,
    catalogue: Option<Catalogue>,
}

impl<'a> EntityReader<'a> {
    /// A reader for `store`; `None` inside when the store keeps no entities.
    pub fn new(store: &'a dyn Store) -> Result<Self, StoreError> {
        let tags = store.tags();
        let catalogue = match tags {
            Some(t) if t.has_tags()? => Some(catalogue(store)?),
            _ => None,
        };
        Ok(Self { tags, catalogue })
    }

    /// The entities of the items with these keys (`None` for all when the store keeps none).
    pub fn read(&self, keys: &[u64]) -> Result<HashMap<u64, Entities>, StoreError> {
        let (Some(cat), Some(store)) = (&self.catalogue, self.tags) else {
            return Ok(HashMap::new());
        };
        let tags = store.tags_of(keys)?;
        Ok(keys
            .iter()
            .map(|k| {
                (
                    *k,
                    to_entities(tags.get(k).map_or(&[][..], Vec::as_slice), cat),
                )
            })
            .collect())
    }

    /// Whether the store keeps entities.
    pub fn enabled(&self) -> bool {
        self.catalogue.is_some()
    }
}

/// An item's tags as typed entities: countries named, years parsed, organisations those of
/// the catalogue it mentions by acronym or by name.
pub fn to_entities(tags: &[Tag], cat: &Catalogue) -> Entities {
    let mut countries: Vec<CountryRef> = values(tags, COUNTRY)
        .map(|c| CountryRef {
            code: c.to_string(),
            name: country_name(c),
        })
        .collect();
    countries.sort();
    let mut years: Vec<u16> = values(tags, YEAR).filter_map(|y| y.parse().ok()).collect();
    years.sort_unstable();
    let acronyms: HashSet<&str> = values(tags, ORG).collect();
    let names: HashSet<&str> = values(tags, ORG_NAME).collect();
    let mut organisations: Vec<OrgRef> = cat
        .orgs
        .iter()
        .filter(|o| {
            let v = org_values(&[o]);
            v.acronyms.iter().any(|a| acronyms.contains(a.as_str()))
                || v.names.iter().any(|n| names.contains(n.as_str()))
        })
        .map(|o| OrgRef {
            acronym: o.acronym.clone(),
            name: o.name.clone(),
        })
        .collect();
    organisations.sort();
    organisations.dedup();
    Entities {
        countries,
        organisations,
        years,
    }
}

/// The values of the tags of one kind.
fn values<'t>(tags: &'t [Tag], kind: &'t str) -> impl Iterator<Item = &'t str> + 't {
    tags.iter()
        .filter(move |t| t.kind == kind)
        .map(|t| t.value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_filters_are_checked_at_the_face() {
        let f = EntityFilter::parse(
            &["AO".into(), "Moroccan".into(), "UK".into()],
            &["BCEG".into()],
            &["2021".into()],
        )
        .unwrap();
        assert_eq!(f.countries, ["AO", "MA", "GB"]);
        assert_eq!(f.years, [2021]);
        let e = EntityFilter::parse(&["Keyna".into()], &[], &[]).unwrap_err();
        assert!(
            e.to_string().contains("`Keyna`") && e.to_string().contains("Kenya"),
            "{e}"
        );
        for bad in ["21", "20211", "year", "1700"] {
            let e = EntityFilter::parse(&[], &[], &[bad.into()]).unwrap_err();
            assert!(e.to_string().contains(bad), "{e}");
        }
        assert!(EntityFilter::default().is_empty());
    }

    #[test]
    fn tags_become_typed_entities() {
        let text = "Beijing Construction Engineering Group (BCEG) trained Kenyan workers in 2021.";
        let tags = entities::tags(text);
        let cat = Catalogue::new(entities::find_orgs(text).definitions);
        let e = to_entities(&tags, &cat);
        let codes: Vec<&str> = e.countries.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes, ["CN", "KE"]);
        assert_eq!(e.countries[1].name, "Kenya");
        assert_eq!(e.years, [2021]);
        assert_eq!(
            e.organisations,
            [OrgRef {
                acronym: "BCEG".into(),
                name: "Beijing Construction Engineering Group".into()
            }]
        );
        // Defined elsewhere, mentioned here by acronym only.
        let later = entities::tags("BCEG also works in Angola.");
        assert_eq!(to_entities(&later, &cat).organisations.len(), 1);
        assert!(to_entities(&entities::tags("BCEGI works"), &cat)
            .organisations
            .is_empty());
    }

    #[test]
    fn facet_kinds_parse() {
        assert_eq!("country".parse::<FacetKind>().unwrap(), FacetKind::Country);
        assert_eq!("org".parse::<FacetKind>().unwrap(), FacetKind::Org);
        assert!("city"
            .parse::<FacetKind>()
            .unwrap_err()
            .to_string()
            .contains("city"));
    }
}
