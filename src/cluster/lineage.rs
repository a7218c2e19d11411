//! Themes that stay put: a new [`ThemeReport`] is matched with the last saved one by the member
//! items the themes share, so a theme that carries on keeps its id and its title from one run to
//! the next, and what changed is said rather than left to be guessed.
//!
//! The matching ([`match_themes`]) counts, for every old theme and new theme, the members they
//! share. Only old members still in the index count (an old theme's *surviving* members), so
//! deleted documents do not make a theme look split. A pair is *linked* when the new theme holds
//! at least a quarter of the old theme's surviving members (and at least two of them, unless
//! fewer survive); it is the old theme's *major* successor when it holds at least half. Then:
//!
//! - each old id passes to at most one new theme, greedily by the number of shared members
//!   (largest first), so a merged theme keeps the id of its largest contributor and the largest
//!   part of a split theme keeps the old id;
//! - a new theme that is the major successor of two or more old themes is `merged`; one whose
//!   old theme (the one it took the id of, or its largest source) is linked to two or more new
//!   themes is `split`; one that took an id otherwise is `grown` when it has more members than
//!   the old theme had, else `kept`; one linked to no old theme is `new`;
//! - a theme keeps the old title as well when it holds at least half of the old theme's
//!   surviving members (so a small remnant that kept the id is titled afresh);
//! - old themes linked to no new theme are `gone`; new ids start above the highest id any
//!   report of this line has used ([`Lineage::last_id`]), so an id never names two themes.
//!
//! Everything is deterministic: ties go to the lower old id, then the earlier (larger) new theme.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::ThemeReport;

/// What became of a theme since the last report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThemeChange {
    /// The same theme, no larger than before.
    Kept,
    /// The same theme with more members than before.
    Grown,
    /// No earlier theme leads to it (or the report was made from scratch).
    #[default]
    New,
    /// Holds the better part of two or more earlier themes (`from`, largest contributor first;
    /// the theme carries the first one's id).
    Merged,
    /// Part of an earlier theme whose members went to two or more themes; the largest part
    /// keeps the old id, the others get new ids.
    Split,
}

impl ThemeChange {
    /// The word used in JSON and in the reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ThemeChange::Kept => "kept",
            ThemeChange::Grown => "grown",
            ThemeChange::New => "new",
            ThemeChange::Merged => "merged",
            ThemeChange::Split => "split",
        }
    }
}

/// An earlier theme that no theme of this report carries on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoneTheme {
    pub id: usize,
    pub title: String,
    /// Its size in the earlier report.
    pub size: usize,
}

/// How a report's themes relate to the report before it (a report saved before lineage existed
/// reads as one with none).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Lineage {
    /// Generation of the saved report the themes were matched with; `None` when they were
    /// clustered from scratch (the first run, `--fresh`, or a report of another level).
    pub compared_with: Option<u64>,
    /// Earlier themes with no successor, by id.
    pub gone: Vec<GoneTheme>,
    /// The highest theme id this line of reports has given; new themes are numbered above it.
    pub last_id: usize,
}

/// The report a new one is matched with, and the generation it describes.
#[derive(Debug, Clone, Copy)]
pub struct Previous<'a> {
    pub generation: u64,
    pub report: &'a ThemeReport,
}

/// An old theme as the matching sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct OldTheme<'a> {
    pub id: usize,
    pub size: usize,
    pub members: &'a [String],
}

/// What the matching decided for one new theme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Succession {
    pub id: usize,
    pub change: ThemeChange,
    /// Ids of the linked old themes, most shared members first.
    pub from: Vec<usize>,
    /// The old theme (index into the old themes) whose title the new theme keeps.
    pub keeps_title_of: Option<usize>,
}

/// The outcome of [`match_themes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matching {
    /// One per new theme, in the new themes' order.
    pub themes: Vec<Succession>,
    /// Indices (into the old themes) of the themes with no successor, by id.
    pub gone: Vec<usize>,
    /// The highest id given, after numbering the new themes.
    pub last_id: usize,
}

/// Shared members of old and new themes: `links[n]` holds `(old index, shared)` for every old
/// theme linked to new theme `n`, most shared first; `alive[o]` counts old theme `o`'s members
/// still present.
struct Overlap {
    links: Vec<Vec<(usize, usize)>>,
    alive: Vec<usize>,
}

impl Overlap {
    fn new(old: &[OldTheme], new: &[&[String]], present: &HashSet<&str>) -> Self {
        let mut old_of: HashMap<&str, usize> = HashMap::new();
        let mut alive = vec![0usize; old.len()];
        for (o, t) in old.iter().enumerate() {
            for m in t.members {
                if present.contains(m.as_str()) && old_of.insert(m.as_str(), o).is_none() {
                    alive[o] += 1;
                }
            }
        }
        let links = new
            .iter()
            .map(|members| {
                let mut shared: HashMap<usize, usize> = HashMap::new();
                for m in members.iter() {
                    if let Some(&o) = old_of.get(m.as_str()) {
                        *shared.entry(o).or_default() += 1;
                    }
                }
                let mut l: Vec<(usize, usize)> = shared
                    .into_iter()
                    .filter(|&(o, c)| is_link(c, alive[o]))
                    .collect();
                l.sort_by(|a, b| b.1.cmp(&a.1).then(old[a.0].id.cmp(&old[b.0].id)));
                l
            })
            .collect();
        Self { links, alive }
    }

    /// Whether `shared` members are at least half of old theme `o`'s surviving members.
    fn is_major(&self, o: usize, shared: usize) -> bool {
        2 * shared >= self.alive[o]
    }
}

/// A new theme holding `shared` of an old theme's `alive` members carries part of it on.
fn is_link(shared: usize, alive: usize) -> bool {
    shared > 0 && 4 * shared >= alive && shared >= alive.min(2)
}

/// Matches the `new` themes (their member ids, in report order) with the `old` ones. `present`
/// holds every item id the new report covers (clustered or not); `last_id` is the highest id
/// given so far.
pub fn match_themes(
    old: &[OldTheme],
    new: &[&[String]],
    present: &HashSet<&str>,
    last_id: usize,
) -> Matching {
    let overlap = Overlap::new(old, new, present);
    let successors = successor_counts(old.len(), &overlap);
    // How many old themes have each new theme as their major successor.
    let mut majors = vec![0usize; new.len()];
    for n in major_successors(old.len(), &overlap).into_iter().flatten() {
        majors[n] += 1;
    }
    let heirs = inherit_ids(old, &overlap);
    let mut last_id = old.iter().map(|t| t.id).fold(last_id, usize::max);
    let themes = (0..new.len())
        .map(|n| {
            let links = &overlap.links[n];
            let source = heirs[n].or_else(|| links.first().map(|l| l.0));
            let change = match source {
                None => ThemeChange::New,
                Some(_) if majors[n] >= 2 => ThemeChange::Merged,
                Some(o) if successors[o] >= 2 || heirs[n].is_none() => ThemeChange::Split,
                Some(o) if new[n].len() > old[o].size => ThemeChange::Grown,
                Some(_) => ThemeChange::Kept,
            };
            let id = match heirs[n] {
                Some(o) => old[o].id,
                None => {
                    last_id += 1;
                    last_id
                }
            };
            let keeps_title_of = heirs[n].filter(|&o| {
                links
                    .iter()
                    .any(|&(lo, shared)| lo == o && overlap.is_major(o, shared))
            });
            Succession {
                id,
                change,
                from: links.iter().map(|&(o, _)| old[o].id).collect(),
                keeps_title_of,
            }
        })
        .collect();
    let mut gone: Vec<usize> = (0..old.len()).filter(|&o| successors[o] == 0).collect();
    gone.sort_by_key(|&o| old[o].id);
    Matching {
        themes,
        gone,
        last_id,
    }
}

/// How many new themes each old theme is linked to.
fn successor_counts(n_old: usize, overlap: &Overlap) -> Vec<usize> {
    let mut counts = vec![0usize; n_old];
    for links in &overlap.links {
        for &(o, _) in links {
            counts[o] += 1;
        }
    }
    counts
}

/// Each old theme's major successor (the new theme holding at least half of its surviving
/// members; the one holding most, then the earliest, when two hold exactly half).
fn major_successors(n_old: usize, overlap: &Overlap) -> Vec<Option<usize>> {
    let mut best: Vec<Option<(usize, usize)>> = vec![None; n_old];
    for (n, links) in overlap.links.iter().enumerate() {
        for &(o, shared) in links {
            if overlap.is_major(o, shared) && best[o].is_none_or(|(_, s)| shared > s) {
                best[o] = Some((n, shared));
            }
        }
    }
    best.into_iter().map(|b| b.map(|(n, _)| n)).collect()
}

/// The old theme whose id each new theme takes: linked pairs by shared members (most first,
/// then lower old id, then earlier new theme), each old id and each new theme used once.
fn inherit_ids(old: &[OldTheme], overlap: &Overlap) -> Vec<Option<usize>> {
    let mut pairs: Vec<(usize, usize, usize)> = overlap
        .links
        .iter()
        .enumerate()
        .flat_map(|(n, links)| links.iter().map(move |&(o, shared)| (shared, o, n)))
        .collect();
    pairs.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(old[a.1].id.cmp(&old[b.1].id))
            .then(a.2.cmp(&b.2))
    });
    let mut heirs = vec![None; overlap.links.len()];
    let mut used = vec![false; old.len()];
    for (_, o, n) in pairs {
        if !used[o] && heirs[n].is_none() {
            used[o] = true;
            heirs[n] = Some(o);
        }
    }
    heirs
}

/// Gives `report`'s themes their ids, titles and changes from `previous` (or numbers them from
/// 1, all `new`, without one), and records the lineage. Neighbour references follow the new
/// ids and titles. Call it once, on a freshly clustered report whose ids are still 1..n.
pub fn carry_over(report: &mut ThemeReport, previous: Option<Previous>) {
    let Some(prev) = previous else {
        for t in &mut report.themes {
            t.change = ThemeChange::New;
            t.from.clear();
        }
        report.lineage = Lineage {
            compared_with: None,
            gone: Vec::new(),
            last_id: report.themes.iter().map(|t| t.id).max().unwrap_or(0),
        };
        return;
    };
    let old: Vec<OldTheme> = prev
        .report
        .themes
        .iter()
        .map(|t| OldTheme {
            id: t.id,
            size: t.size,
            members: &t.members,
        })
        .collect();
    let present: HashSet<&str> = report
        .themes
        .iter()
        .flat_map(|t| t.members.iter())
        .chain(&report.unclustered)
        .map(String::as_str)
        .collect();
    let new: Vec<&[String]> = report.themes.iter().map(|t| t.members.as_slice()).collect();
    let last_id = prev
        .report
        .lineage
        .gone
        .iter()
        .map(|g| g.id)
        .fold(prev.report.lineage.last_id, usize::max);
    let m = match_themes(&old, &new, &present, last_id);
    apply(report, prev, m);
}

/// Writes a [`Matching`] into the report.
fn apply(report: &mut ThemeReport, prev: Previous, m: Matching) {
    let old = &prev.report.themes;
    // Fresh titles that a kept title now uses are replaced (titles stay unique).
    let kept: HashSet<String> = m
        .themes
        .iter()
        .filter_map(|s| s.keeps_title_of.map(|o| old[o].title.to_lowercase()))
        .collect();
    for (t, s) in report.themes.iter_mut().zip(&m.themes) {
        t.id = s.id;
        t.change = s.change;
        t.from = s.from.clone();
        match s.keeps_title_of {
            Some(o) => t.title = old[o].title.clone(),
            None if kept.contains(&t.title.to_lowercase()) => {
                t.title = untaken_title(t, &kept);
            }
            None => {}
        }
    }
    // Neighbours were numbered by position (id = index + 1) when the report was made.
    let named: Vec<(usize, String)> = report
        .themes
        .iter()
        .map(|t| (t.id, t.title.clone()))
        .collect();
    for t in &mut report.themes {
        for nb in &mut t.neighbours {
            if let Some((id, title)) = nb.id.checked_sub(1).and_then(|i| named.get(i)) {
                nb.id = *id;
                nb.title = title.clone();
            }
        }
    }
    report.lineage = Lineage {
        compared_with: Some(prev.generation),
        gone: m
            .gone
            .iter()
            .map(|&o| GoneTheme {
                id: old[o].id,
                title: old[o].title.clone(),
                size: old[o].size,
            })
            .collect(),
        last_id: m.last_id,
    };
}

/// A title for `t` that no kept title uses: its first keyphrase that is free, else its title
/// with its id.
fn untaken_title(t: &super::Theme, taken: &HashSet<String>) -> String {
    t.keyphrases
        .iter()
        .map(|k| capitalise(k))
        .find(|k| !taken.contains(&k.to_lowercase()))
        .unwrap_or_else(|| format!("{} ({})", t.title, t.id))
}

/// `s` with its first letter in upper case.
pub(crate) fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Each item's theme index in `previous`, for items of `ids` that were clustered there: the
/// start of a clustering that should land close to the last one, and the theme map's colours.
pub fn previous_assignment(ids: &[&str], previous: &ThemeReport) -> Vec<Option<usize>> {
    let theme_of: HashMap<&str, usize> = previous
        .themes
        .iter()
        .enumerate()
        .flat_map(|(t, th)| th.members.iter().map(move |m| (m.as_str(), t)))
        .collect();
    ids.iter().map(|id| theme_of.get(id).copied()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{ReportParams, Theme, ThemeNeighbour};

    fn ids(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("{prefix}{i}")).collect()
    }

    fn old<'a>(id: usize, members: &'a [String]) -> OldTheme<'a> {
        OldTheme {
            id,
            size: members.len(),
            members,
        }
    }

    /// Every id of the old and new themes plus `extra` (unclustered items).
    fn present<'a>(
        old: &[&'a [String]],
        new: &[&'a [String]],
        extra: &'a [String],
    ) -> HashSet<&'a str> {
        old.iter()
            .chain(new)
            .flat_map(|m| m.iter())
            .chain(extra)
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn a_theme_with_the_same_members_is_kept_and_one_with_more_has_grown() {
        let a = ids("a", 0..6);
        let b = ids("b", 0..4);
        let b_more: Vec<String> = b.iter().cloned().chain(ids("n", 0..3)).collect();
        let olds = [old(3, &a), old(8, &b)];
        let new: [&[String]; 2] = [&a, &b_more];
        let m = match_themes(&olds, &new, &present(&[&a, &b], &new, &[]), 8);
        assert_eq!(m.themes[0].id, 3);
        assert_eq!(m.themes[0].change, ThemeChange::Kept);
        assert_eq!(m.themes[0].from, vec![3]);
        assert_eq!(m.themes[0].keeps_title_of, Some(0));
        assert_eq!(m.themes[1].id, 8);
        assert_eq!(m.themes[1].change, ThemeChange::Grown);
        assert_eq!(m.themes[1].keeps_title_of, Some(1));
        assert!(m.gone.is_empty());
        assert_eq!(m.last_id, 8);
    }

    #[test]
    fn new_themes_are_numbered_above_every_id_used() {
        let a = ids("a", 0..5);
        let fresh = ids("n", 0..4);
        let other = ids("m", 0..3);
        let olds = [old(2, &a)];
        let new: [&[String]; 3] = [&a, &fresh, &other];
        // Ids up to 11 were given before (themes since gone).
        let m = match_themes(&olds, &new, &present(&[&a], &new, &[]), 11);
        assert_eq!(m.themes[0].id, 2);
        assert_eq!(
            (m.themes[1].id, m.themes[1].change, m.themes[1].from.len()),
            (12, ThemeChange::New, 0)
        );
        assert_eq!((m.themes[2].id, m.themes[2].change), (13, ThemeChange::New));
        assert_eq!(m.themes[1].keeps_title_of, None);
        assert_eq!(m.last_id, 13);
    }

    #[test]
    fn two_themes_in_one_are_merged_under_the_larger_ones_id() {
        let a = ids("a", 0..4);
        let b = ids("b", 0..7);
        let both: Vec<String> = a.iter().chain(&b).cloned().collect();
        let olds = [old(1, &a), old(2, &b)];
        let new: [&[String]; 1] = [&both];
        let m = match_themes(&olds, &new, &present(&[&a, &b], &new, &[]), 2);
        let s = &m.themes[0];
        assert_eq!(s.change, ThemeChange::Merged);
        assert_eq!(s.id, 2, "the larger contributor's id");
        assert_eq!(s.from, vec![2, 1]);
        assert_eq!(s.keeps_title_of, Some(1));
        assert!(m.gone.is_empty(), "a merged theme is not gone");
    }

    #[test]
    fn a_theme_in_two_parts_is_split_and_the_larger_part_keeps_the_id() {
        let a = ids("a", 0..10);
        let (big, small) = (a[..6].to_vec(), a[6..].to_vec());
        let olds = [old(5, &a)];
        let new: [&[String]; 2] = [&small, &big];
        let m = match_themes(&olds, &new, &present(&[&a], &new, &[]), 5);
        assert_eq!(
            (m.themes[1].id, m.themes[1].change),
            (5, ThemeChange::Split)
        );
        assert_eq!(m.themes[1].keeps_title_of, Some(0));
        assert_eq!(
            (m.themes[0].id, m.themes[0].change),
            (6, ThemeChange::Split)
        );
        assert_eq!(m.themes[0].from, vec![5]);
        assert_eq!(m.themes[0].keeps_title_of, None);
    }

    #[test]
    fn a_theme_whose_members_scatter_or_leave_is_gone() {
        let a = ids("a", 0..6);
        let c = ids("c", 0..8);
        // c's members: one in the new theme, the rest unclustered.
        let new_a: Vec<String> = a.iter().cloned().chain([c[0].clone()]).collect();
        let olds = [old(1, &a), old(4, &c)];
        let new: [&[String]; 1] = [&new_a];
        let m = match_themes(&olds, &new, &present(&[&a, &c], &new, &c[1..]), 4);
        assert_eq!(m.gone, vec![1]);
        assert_eq!(m.themes[0].change, ThemeChange::Grown);
        assert_eq!(m.themes[0].from, vec![1], "one member of c is no link");
    }

    #[test]
    fn deleted_members_do_not_count_against_a_theme() {
        // Half of a's items were deleted from the index; the rest stayed together.
        let a = ids("a", 0..8);
        let kept = a[..4].to_vec();
        let b = ids("b", 0..10);
        let olds = [old(1, &a), old(2, &b)];
        let new: [&[String]; 2] = [&b, &kept];
        let m = match_themes(&olds, &new, &present(&[&b], &new, &[]), 2);
        assert_eq!((m.themes[1].id, m.themes[1].change), (1, ThemeChange::Kept));
        assert_eq!(m.themes[1].keeps_title_of, Some(0));
        assert!(m.gone.is_empty());
    }

    #[test]
    fn the_matching_is_deterministic_under_ties() {
        // Two old themes of equal size in one new theme, twice: same answer both times, the
        // lower old id wins the tie.
        let a = ids("a", 0..4);
        let b = ids("b", 0..4);
        let both: Vec<String> = b.iter().chain(&a).cloned().collect();
        let olds = [old(7, &b), old(6, &a)];
        let new: [&[String]; 1] = [&both];
        let p = present(&[&a, &b], &new, &[]);
        let first = match_themes(&olds, &new, &p, 7);
        assert_eq!(first, match_themes(&olds, &new, &p, 7));
        assert_eq!(first.themes[0].id, 6);
        assert_eq!(first.themes[0].from, vec![6, 7]);
    }

    fn theme(id: usize, title: &str, members: &[String], neighbour: usize) -> Theme {
        Theme {
            id,
            title: title.into(),
            change: ThemeChange::New,
            from: Vec::new(),
            keyphrases: vec!["water supply".into(), "wells".into()],
            size: members.len(),
            documents: Vec::new(),
            representatives: Vec::new(),
            members: members.to_vec(),
            cohesion: 0.5,
            neighbours: vec![ThemeNeighbour {
                id: neighbour,
                title: String::new(),
                similarity: 0.3,
            }],
            summary: None,
            over: Vec::new(),
            member_indices: Vec::new(),
            centroid: Vec::new(),
        }
    }

    fn report(themes: Vec<Theme>, unclustered: Vec<String>) -> ThemeReport {
        let last_id = themes.len();
        ThemeReport {
            themes,
            unclustered,
            params: ReportParams {
                cluster: Default::default(),
                min_size_used: 2,
                resolution_used: 1.0,
                items: 0,
                k: 3,
                level: Some("initiative".into()),
                phrase_vectors: "member-mean".into(),
                modularity: 0.0,
                copies: 0,
            },
            lineage: Lineage {
                last_id,
                ..Lineage::default()
            },
            assignment: Vec::new(),
        }
    }

    #[test]
    fn carry_over_renames_themes_neighbours_and_records_what_went() {
        let (a, b, c) = (ids("a", 0..5), ids("b", 0..4), ids("c", 0..3));
        let mut before = report(
            vec![
                theme(1, "Water Supply", &a, 2),
                theme(2, "School Meals", &b, 1),
                theme(3, "Roads", &c, 1),
            ],
            Vec::new(),
        );
        before.lineage.last_id = 9;
        let n = ids("n", 0..6);
        let b_more: Vec<String> = b.iter().chain(&n[..2]).cloned().collect();
        // Fresh titles: the new theme drew "Water Supply" too.
        let mut after = report(
            vec![
                theme(1, "Wells", &a, 3),
                theme(2, "Water Supply", &n[2..], 1),
                theme(3, "Meals", &b_more, 1),
            ],
            c.clone(),
        );
        carry_over(
            &mut after,
            Some(Previous {
                generation: 4,
                report: &before,
            }),
        );
        let got: Vec<(usize, &str, ThemeChange)> = after
            .themes
            .iter()
            .map(|t| (t.id, t.title.as_str(), t.change))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "Water Supply", ThemeChange::Kept),
                (10, "Wells", ThemeChange::New),
                (2, "School Meals", ThemeChange::Grown),
            ]
        );
        assert_eq!(after.themes[0].neighbours[0].id, 2);
        assert_eq!(after.themes[0].neighbours[0].title, "School Meals");
        assert_eq!(after.themes[1].neighbours[0].id, 1);
        assert_eq!(after.lineage.compared_with, Some(4));
        assert_eq!(after.lineage.last_id, 10);
        assert_eq!(
            after.lineage.gone,
            vec![GoneTheme {
                id: 3,
                title: "Roads".into(),
                size: 3
            }]
        );
    }

    #[test]
    fn without_a_previous_report_every_theme_is_new() {
        let a = ids("a", 0..3);
        let mut r = report(vec![theme(1, "Water Supply", &a, 1)], Vec::new());
        r.themes[0].change = ThemeChange::Kept;
        carry_over(&mut r, None);
        assert_eq!(r.themes[0].change, ThemeChange::New);
        assert_eq!(
            r.lineage,
            Lineage {
                compared_with: None,
                gone: Vec::new(),
                last_id: 1
            }
        );
    }

    #[test]
    fn the_previous_assignment_names_each_items_theme() {
        let a = ids("a", 0..2);
        let r = report(vec![theme(4, "Water Supply", &a, 1)], Vec::new());
        assert_eq!(
            previous_assignment(&["a1", "x", "a0"], &r),
            vec![Some(0), None, Some(0)]
        );
    }

    #[test]
    fn changes_read_in_json_as_words() {
        assert_eq!(
            serde_json::to_value(ThemeChange::Merged).unwrap(),
            serde_json::json!("merged")
        );
        let l: Lineage = serde_json::from_value(serde_json::json!({"last_id": 7})).unwrap();
        assert_eq!((l.last_id, l.compared_with, l.gone.len()), (7, None, 0));
    }
}
