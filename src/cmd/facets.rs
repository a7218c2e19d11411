//! `simsum facets`: every country, organisation and year the stored items mention, with item
//! and document counts; and the `--country`, `--org`, `--year` filters the query commands
//! share ([`EntityArgs`]).

use std::io::Write;
use std::process::ExitCode;

use simsum::facets::{EntityFilter, FacetKind};
use simsum::store::Level;

/// The entity filters of `search`, `similar`, `links`, `cluster` and `summarize --query`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct EntityArgs {
    /// Only items mentioning this country: a name, an ISO code (`AO`) or a demonym
    /// (`Moroccan`); repeat for any of several.
    #[arg(long = "country", value_name = "NAME", value_parser = country_value)]
    pub countries: Vec<String>,
    /// Only items mentioning this organisation, by acronym or name; repeat for any of several.
    #[arg(long = "org", value_name = "NAME")]
    pub orgs: Vec<String>,
    /// Only items mentioning this year; repeat for any of several.
    #[arg(long = "year", value_name = "YYYY", value_parser = year_value)]
    pub years: Vec<u16>,
}

impl EntityArgs {
    /// The typed filter (countries already resolved to codes by the value parser).
    pub fn filter(&self) -> EntityFilter {
        EntityFilter {
            countries: self.countries.clone(),
            orgs: self.orgs.clone(),
            years: self.years.clone(),
        }
    }
}

/// The document filters of `search`, `similar` and `links`: which documents, which dates, which
/// entities.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DocArgs {
    /// Only documents whose id, file name or path matches this glob.
    #[arg(long = "doc", value_name = "GLOB")]
    pub doc: Option<String>,
    /// Only documents dated on or after DATE (YYYY, YYYY-MM or YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = super::date_value)]
    pub since: Option<String>,
    /// Only documents dated on or before DATE (a prefix includes the whole period).
    #[arg(long, value_name = "DATE", value_parser = super::date_value)]
    pub until: Option<String>,
    #[command(flatten)]
    pub entities: EntityArgs,
}

impl DocArgs {
    /// The library's filter.
    pub fn filter(&self) -> simsum::search::DocFilter {
        simsum::search::DocFilter {
            glob: self.doc.clone(),
            since: self.since.clone(),
            until: self.until.clone(),
            entities: self.entities.filter(),
        }
    }
}

/// `--country`: a country the gazetteer knows, as its alpha-2 code.
fn country_value(s: &str) -> Result<String, String> {
    simsum::facets::parse_country(s).map_err(|e| e.to_string())
}

/// `--year`: four digits.
fn year_value(s: &str) -> Result<u16, String> {
    simsum::facets::parse_year(s).map_err(|e| e.to_string())
}

/// Arguments of `simsum facets`.
#[derive(Debug, clap::Args)]
pub struct FacetsArgs {
    /// Only this kind: country, org or year.
    #[arg(long, value_parser = kind_value)]
    pub kind: Option<FacetKind>,
    /// Level counted as items: initiative or section.
    #[arg(long, default_value = "initiative", value_parser = super::item_level_value)]
    pub level: Level,
    /// Print JSON: {"countries":[{"name","code","items","documents"}],"organisations":[...],"years":[...]}.
    #[arg(long)]
    pub json: bool,
}

fn kind_value(s: &str) -> Result<FacetKind, String> {
    s.parse()
        .map_err(|e: simsum::facets::FacetError| e.to_string())
}

/// Runs `simsum facets`.
pub fn run(g: &super::Global, a: FacetsArgs) -> anyhow::Result<ExitCode> {
    let index = g.open_store()?;
    let answer = simsum::facets::facets(index.as_ref(), a.level, a.kind)?;
    let mut out = std::io::stdout().lock();
    if a.json {
        simsum::answer::print_json(&mut out, &answer)?;
        return Ok(ExitCode::SUCCESS);
    }
    let wants = |k: FacetKind| a.kind.is_none_or(|w| w == k);
    if wants(FacetKind::Country) {
        writeln!(out, "countries ({} items, documents)", a.level)?;
        for c in &answer.countries {
            writeln!(
                out,
                "  {:<4} {:<32} {:>6} {:>5}",
                c.code, c.name, c.items, c.documents
            )?;
        }
    }
    if wants(FacetKind::Org) {
        writeln!(out, "organisations")?;
        for o in &answer.organisations {
            let name = super::search::trim(&o.name, 50);
            writeln!(
                out,
                "  {:<10} {:<50} {:>6} {:>5}",
                o.acronym, name, o.items, o.documents
            )?;
        }
    }
    if wants(FacetKind::Year) {
        writeln!(out, "years")?;
        for y in &answer.years {
            writeln!(out, "  {:<6} {:>6} {:>5}", y.year, y.items, y.documents)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
