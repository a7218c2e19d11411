//! Themes over time (`simsum cluster --over year|month|document`): how many of each theme's
//! members fall in each period, by their document's date (or per document), so a report can
//! show when a theme rose and faded.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::ThemeReport;
use crate::store::{Level, Store, StoreError};

/// The period a member is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Over {
    /// The year of the document's date (`2023`).
    Year,
    /// The month of the document's date (`2023-01`).
    Month,
    /// The document itself (its id).
    Document,
}

impl std::str::FromStr for Over {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "year" => Ok(Self::Year),
            "month" => Ok(Self::Month),
            "document" => Ok(Self::Document),
            other => Err(format!(
                "unknown period `{other}`: use year, month or document"
            )),
        }
    }
}

/// Label of members whose document has no date.
pub const UNDATED: &str = "undated";

/// Members of a theme in one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodCount {
    pub period: String,
    pub items: usize,
}

impl Over {
    /// The period of a document with this id and date.
    pub fn period(self, doc_id: &str, date: Option<&str>) -> String {
        let cut = |n: usize| {
            date.and_then(|d| d.get(..n))
                .map_or_else(|| UNDATED.to_string(), str::to_string)
        };
        match self {
            Over::Year => cut(4),
            Over::Month => cut(7),
            Over::Document => doc_id.to_string(),
        }
    }
}

/// Sets each theme's `over`: its members counted per period, in period order (documents by
/// date, then id; undated last), every period of the report listed so the themes' charts
/// share one axis.
pub fn count_over(
    store: &dyn Store,
    report: &mut ThemeReport,
    level: Level,
    over: Over,
) -> Result<(), StoreError> {
    let docs: HashMap<String, Option<String>> = store
        .documents()?
        .into_iter()
        .map(|d| (d.id, d.date))
        .collect();
    let period_of: HashMap<String, String> = store
        .items(level)?
        .into_iter()
        .map(|i| {
            let date = docs.get(&i.doc_id).cloned().flatten();
            (i.id, over.period(&i.doc_id, date.as_deref()))
        })
        .collect();
    // Sort key of a period: documents by their date, then id; dates as text; undated last.
    let key = |p: &str| -> (bool, String, String) {
        let date = match over {
            Over::Document => docs.get(p).cloned().flatten().unwrap_or_default(),
            _ => p.to_string(),
        };
        (p == UNDATED, date, p.to_string())
    };
    let mut all: Vec<String> = Vec::new();
    let mut counts: Vec<BTreeMap<String, usize>> = Vec::new();
    for t in &report.themes {
        let mut c = BTreeMap::new();
        for m in &t.members {
            if let Some(p) = period_of.get(m) {
                *c.entry(p.clone()).or_insert(0) += 1;
                all.push(p.clone());
            }
        }
        counts.push(c);
    }
    all.sort_by_key(|p| key(p));
    all.dedup();
    for (t, c) in report.themes.iter_mut().zip(counts) {
        t.over = all
            .iter()
            .map(|p| PeriodCount {
                period: p.clone(),
                items: c.get(p).copied().unwrap_or(0),
            })
            .collect();
    }
    Ok(())
}

/// The period in which a theme has most members (the first such, in period order).
pub fn peak(over: &[PeriodCount]) -> Option<&PeriodCount> {
    over.iter()
        .filter(|p| p.items > 0)
        .fold(None, |best: Option<&PeriodCount>, p| match best {
            Some(b) if b.items >= p.items => Some(b),
            _ => Some(p),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_come_from_the_documents_date_or_id() {
        assert_eq!(Over::Year.period("a", Some("2023-01-30")), "2023");
        assert_eq!(Over::Month.period("a", Some("2023-01-30")), "2023-01");
        assert_eq!(Over::Document.period("a", Some("2023-01-30")), "a");
        assert_eq!(Over::Year.period("a", None), UNDATED);
        assert_eq!(Over::Month.period("a", Some("2023")), UNDATED);
        assert!("week".parse::<Over>().unwrap_err().contains("week"));
        assert_eq!("month".parse::<Over>().unwrap(), Over::Month);
    }

    #[test]
    fn the_peak_is_the_busiest_period() {
        let p = |period: &str, items| PeriodCount {
            period: period.into(),
            items,
        };
        let over = [p("2021", 1), p("2022", 4), p("2023", 4), p("2024", 0)];
        assert_eq!(peak(&over).unwrap().period, "2022");
        assert!(peak(&[p("2021", 0)]).is_none());
    }
}
