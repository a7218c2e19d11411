//! Rendering of theme reports and summaries for people and programs.
//!
//! Four formats for [`ThemeReport`]s ([`render_themes`]): `text` for the terminal, `md` for
//! sharing, `json` (the documented, stable schema of [`crate::cluster::ThemeReport`]) and
//! `html`, one self-contained file (inline CSS and JS, no network) with the theme list and a 2-D
//! map of every item ([`crate::cluster::layout`]), coloured by theme, with the item's text on
//! hover. [`render_summary`] prints a [`Summary`] as cited text or JSON; [`copies_note`] is how a
//! result's near-copies read in text. This module only formats: it computes nothing but the map
//! projection.

use std::fmt::Write as _;

use crate::cluster::lineage::{capitalise, ThemeChange};
use crate::cluster::{layout, Theme, ThemeItem, ThemeReport};
use crate::summarize::Summary;

/// How near-copies of a result read in text output: "also in N documents" (or, when all the
/// copies sit in the result's own document, "N copies in the same document"); `None` without
/// copies.
pub fn copies_note(copies: usize, other_documents: usize) -> Option<String> {
    match (copies, other_documents) {
        (0, _) => None,
        (n, 0) => Some(format!(
            "{n} {} in the same document",
            if n == 1 { "copy" } else { "copies" }
        )),
        (_, 1) => Some("also in 1 document".to_string()),
        (_, d) => Some(format!("also in {d} documents")),
    }
}

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Text,
    Md,
    Json,
    Html,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(Format::Text),
            "md" | "markdown" => Ok(Format::Md),
            "json" => Ok(Format::Json),
            "html" => Ok(Format::Html),
            _ => Err(format!("unknown format `{s}`: use text, md, json or html")),
        }
    }
}

/// Most points drawn on the HTML map; larger reports show a deterministic sample.
pub const MAX_MAP_POINTS: usize = 50_000;

/// Renders `report` over the `items` it was computed from (the HTML map needs their text and
/// vectors; the other formats only read the report).
pub fn render_themes(report: &ThemeReport, items: &[ThemeItem], format: Format) -> String {
    match format {
        Format::Text => themes_text(report),
        Format::Md => themes_md(report),
        Format::Json => format!("{}\n", crate::answer::to_pretty(report)),
        Format::Html => themes_html(report, items),
    }
}

/// The ids of a report's themes as a person reads them: `ids 1 to 12`, or `ids 1, 2, 4, 7`
/// once themes have come and gone.
pub fn theme_ids(report: &ThemeReport) -> String {
    let mut ids: Vec<usize> = report.themes.iter().map(|t| t.id).collect();
    ids.sort_unstable();
    match (ids.first(), ids.last()) {
        (None, _) | (_, None) => "none".to_string(),
        (Some(a), Some(b)) if b - a + 1 == ids.len() => format!("ids {a} to {b}"),
        _ => format!(
            "ids {}",
            ids.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Cuts `text` to at most `max` characters at a word boundary, adding an ellipsis.
pub fn truncate(text: &str, max: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max {
        return text;
    }
    let cut: String = text.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(p) if p > max / 2 => &cut[..p],
        _ => &cut[..],
    };
    format!("{}…", cut.trim_end_matches([',', ';', ':', '.']))
}

fn header(report: &ThemeReport) -> String {
    let p = &report.params;
    format!(
        "{} items, {} themes, {} unclustered (min size {}, k {}, seed {}, modularity {:.3})",
        p.items,
        report.themes.len(),
        report.unclustered.len(),
        p.min_size_used,
        p.k,
        p.cluster.seed,
        p.modularity
    )
}

fn documents_line(t: &Theme) -> String {
    t.documents
        .iter()
        .map(|d| format!("{} ({})", d.title, d.items))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A theme's members per period as text bars, one period a line (`cluster --over`).
fn over_bars(t: &Theme, indent: &str) -> String {
    let max = t.over.iter().map(|p| p.items).max().unwrap_or(0).max(1);
    let width = t
        .over
        .iter()
        .map(|p| p.period.chars().count())
        .max()
        .unwrap_or(0);
    t.over
        .iter()
        .map(|p| {
            let bar = "█".repeat((p.items * 20).div_ceil(max));
            format!("{indent}{:<width$} {bar} {}\n", p.period, p.items)
        })
        .collect()
}

/// A theme's members per period as an HTML bar chart.
fn over_chart(t: &Theme, colour: &str) -> String {
    let max = t.over.iter().map(|p| p.items).max().unwrap_or(0).max(1);
    let mut out = String::from("<div class=\"over\">");
    for p in &t.over {
        let _ = write!(
            out,
            "<div title=\"{} items\"><b style=\"height:{}px;background:{colour}\"></b><span>{}</span></div>",
            p.items,
            (p.items * 48).div_ceil(max),
            html_escape(&p.period)
        );
    }
    out.push_str("</div>");
    out
}

fn neighbours_line(t: &Theme) -> String {
    t.neighbours
        .iter()
        .map(|n| format!("#{} {} ({:.2})", n.id, n.title, n.similarity))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What became of a theme since the last report (`grown`, `merged from #3, #5`, `split from
/// #2`); `None` when the report was made from scratch, where every theme is new.
pub fn change_note(report: &ThemeReport, t: &Theme) -> Option<String> {
    report.lineage.compared_with?;
    let ids = |ids: &[usize]| {
        ids.iter()
            .map(|i| format!("#{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Some(match t.change {
        ThemeChange::Merged | ThemeChange::Split => {
            format!("{} from {}", t.change.as_str(), ids(&t.from))
        }
        ThemeChange::Kept | ThemeChange::Grown if t.from.len() > 1 => format!(
            "{}, with members of {}",
            t.change.as_str(),
            ids(&t.from[1..])
        ),
        c => c.as_str().to_string(),
    })
}

/// The changes since the last report in one line (`4 kept, 1 grown, 1 new; gone: #5 Water
/// Supply (9 items)`); `None` for a report made from scratch.
pub fn changes_line(report: &ThemeReport) -> Option<String> {
    let generation = report.lineage.compared_with?;
    let mut parts = Vec::new();
    for c in [
        ThemeChange::Kept,
        ThemeChange::Grown,
        ThemeChange::New,
        ThemeChange::Merged,
        ThemeChange::Split,
    ] {
        let n = report.themes.iter().filter(|t| t.change == c).count();
        if n > 0 {
            parts.push(format!("{n} {}", c.as_str()));
        }
    }
    let mut line = format!(
        "since the last report (generation {generation}): {}",
        if parts.is_empty() {
            "no themes".to_string()
        } else {
            parts.join(", ")
        }
    );
    if !report.lineage.gone.is_empty() {
        let gone: Vec<String> = report
            .lineage
            .gone
            .iter()
            .map(|g| format!("#{} {} ({} items)", g.id, g.title, g.size))
            .collect();
        let _ = write!(line, "; gone: {}", gone.join(", "));
    }
    Some(line)
}

fn themes_text(report: &ThemeReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", header(report));
    if let Some(line) = changes_line(report) {
        let _ = writeln!(out, "{line}");
    }
    for t in &report.themes {
        let _ = writeln!(
            out,
            "\n#{} {}  ({} items, cohesion {:.2}{})",
            t.id,
            t.title,
            t.size,
            t.cohesion,
            change_note(report, t).map_or_else(String::new, |c| format!("; {c}"))
        );
        let _ = writeln!(out, "  keyphrases: {}", t.keyphrases.join(", "));
        let _ = writeln!(out, "  documents:  {}", documents_line(t));
        if !t.neighbours.is_empty() {
            let _ = writeln!(out, "  nearest:    {}", neighbours_line(t));
        }
        if !t.over.is_empty() {
            let _ = write!(out, "  over time:\n{}", over_bars(t, "    "));
        }
        let _ = writeln!(out, "  representatives:");
        for r in &t.representatives {
            let _ = writeln!(out, "    [{}] {}", r.id, truncate(&r.text, 160));
        }
        if let Some(summary) = &t.summary {
            let _ = writeln!(out, "  summary:");
            for s in summary {
                let _ = writeln!(out, "    {} [{}]", s.text, s.initiative);
            }
        }
        let shown: Vec<&str> = t.members.iter().take(12).map(String::as_str).collect();
        let more = t.members.len().saturating_sub(shown.len());
        let _ = write!(out, "  members:    {}", shown.join(" "));
        let _ = if more > 0 {
            writeln!(out, " … and {more} more")
        } else {
            writeln!(out)
        };
    }
    if !report.unclustered.is_empty() {
        let _ = writeln!(
            out,
            "\nunclustered ({}): {}",
            report.unclustered.len(),
            report.unclustered.join(" ")
        );
    }
    out
}

/// Escapes text for Markdown table cells and inline text.
fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn themes_md(report: &ThemeReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Themes\n\n{}\n", header(report));
    if let Some(line) = changes_line(report) {
        let _ = writeln!(out, "{}\n", md_escape(&capitalise(&line)));
    }
    md_table(&mut out, report);
    for t in &report.themes {
        md_theme(&mut out, report, t);
    }
    if !report.unclustered.is_empty() {
        let _ = writeln!(
            out,
            "\n## Unclustered ({})\n\n{}",
            report.unclustered.len(),
            report
                .unclustered
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out
}

/// The Markdown overview table, one row per theme (with a change column when the report was
/// matched with an earlier one).
fn md_table(out: &mut String, report: &ThemeReport) {
    let compared = report.lineage.compared_with.is_some();
    let (change_head, change_rule) = if compared {
        (" change |", "---|")
    } else {
        ("", "")
    };
    let _ = writeln!(
        out,
        "| # | theme | items | cohesion |{change_head} keyphrases |"
    );
    let _ = writeln!(out, "|---|---|---|---|{change_rule}---|");
    for t in &report.themes {
        let change =
            change_note(report, t).map_or_else(String::new, |c| format!(" {} |", md_escape(&c)));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.2} |{change} {} |",
            t.id,
            md_escape(&t.title),
            t.size,
            t.cohesion,
            md_escape(&t.keyphrases.join(", "))
        );
    }
}

/// One theme's Markdown section.
fn md_theme(out: &mut String, report: &ThemeReport, t: &Theme) {
    let _ = writeln!(out, "\n## {}. {}\n", t.id, md_escape(&t.title));
    if let Some(c) = change_note(report, t) {
        let _ = writeln!(out, "- **Change:** {}", md_escape(&c));
    }
    let _ = writeln!(
        out,
        "- **Keyphrases:** {}",
        md_escape(&t.keyphrases.join(", "))
    );
    let _ = writeln!(
        out,
        "- **Size:** {} items, cohesion {:.2}",
        t.size, t.cohesion
    );
    let _ = writeln!(out, "- **Documents:** {}", md_escape(&documents_line(t)));
    if !t.neighbours.is_empty() {
        let _ = writeln!(
            out,
            "- **Nearest themes:** {}",
            md_escape(&neighbours_line(t))
        );
    }
    if !t.over.is_empty() {
        let _ = write!(out, "\n**Over time**\n\n```\n{}```\n", over_bars(t, ""));
    }
    if let Some(summary) = &t.summary {
        let _ = writeln!(out, "\n**Summary.**");
        for s in summary {
            let _ = writeln!(out, "{} (`{}`)", md_escape(&s.text), s.initiative);
        }
    }
    let _ = writeln!(out, "\n**Representatives**\n");
    for r in &t.representatives {
        let _ = writeln!(
            out,
            "> {} — *{}*, `{}`\n",
            md_escape(&truncate(&r.text, 300)),
            md_escape(&r.document),
            r.id
        );
    }
    let _ = writeln!(
        out,
        "<details><summary>All {} members</summary>\n\n{}\n\n</details>",
        t.members.len(),
        t.members
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Colour of theme `t` (0-based): 20 well-separated colours, then golden-angle hues.
pub fn theme_colour(t: usize) -> String {
    const PALETTE: [&str; 20] = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
        "#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d",
        "#31a354", "#756bb1", "#636363", "#969696",
    ];
    match PALETTE.get(t) {
        Some(c) => (*c).to_string(),
        None => format!("hsl({:.0},65%,45%)", (t as f64 * 137.508) % 360.0),
    }
}

const UNCLUSTERED_COLOUR: &str = "#b0b0b0";

const HTML_STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#222;background:#fafafa}
header{padding:14px 22px;background:#fff;border-bottom:1px solid #ddd}
h1{font-size:20px;margin:0 0 4px}
.sub{color:#666}
main{display:flex;gap:18px;padding:18px;align-items:flex-start}
#mapbox{position:sticky;top:10px;background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px}
canvas{display:block}
#tip{position:fixed;pointer-events:none;background:#fff;border:1px solid #999;border-radius:4px;padding:6px 8px;max-width:380px;font-size:12px;box-shadow:0 2px 8px rgba(0,0,0,.2);display:none}
#themes{flex:1;min-width:320px}
.theme{background:#fff;border:1px solid #ddd;border-left:8px solid #999;border-radius:6px;padding:10px 14px;margin-bottom:12px}
.theme h2{font-size:16px;margin:0 0 4px}
.meta{color:#666;font-size:12px}
.kp span{display:inline-block;background:#eef;border-radius:10px;padding:1px 8px;margin:2px 4px 2px 0;font-size:12px}
.rep{margin:4px 0 4px 0;padding-left:10px;border-left:3px solid #eee;font-size:13px}
.rep .id,.sum .id{color:#888;font-size:11px}
.sum{font-style:italic;margin:6px 0}
.over{display:flex;align-items:flex-end;gap:4px;margin:6px 0;height:64px}
.over div{display:flex;flex-direction:column;align-items:center;justify-content:flex-end;font-size:10px;color:#666}
.over b{display:block;width:18px;border-radius:2px 2px 0 0}
details{font-size:12px;color:#555}
.legend span{display:inline-block;margin-right:10px;font-size:12px}
.change{font-size:11px;font-weight:normal;color:#555;background:#f0f0f0;border-radius:8px;padding:1px 7px;margin-left:6px}
.change.new{background:#e6f4ea}.change.merged,.change.split{background:#fff4e0}
.legend i{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px;vertical-align:middle}
"#;

const HTML_SCRIPT: &str = r#"
(function(){
var D=JSON.parse(document.getElementById('data').textContent);
var cv=document.getElementById('map'),cx=cv.getContext('2d');
var W=cv.width,H=cv.height,pad=28,tip=document.getElementById('tip');
function sx(x){return pad+(x+1)/2*(W-2*pad)}
function sy(y){return H-pad-(y+1)/2*(H-2*pad)}
function draw(hi){
  cx.fillStyle='#fff';cx.fillRect(0,0,W,H);
  cx.strokeStyle='#eee';cx.strokeRect(pad/2,pad/2,W-pad,H-pad);
  for(var pass=0;pass<2;pass++){
    for(var i=0;i<D.points.length;i++){
      var p=D.points[i],t=p[2];
      if((t<0)!==(pass===0))continue;
      cx.globalAlpha=(hi===undefined||hi===t)?0.85:0.15;
      cx.fillStyle=t<0?D.grey:D.colours[t];
      cx.beginPath();cx.arc(sx(p[0]),sy(p[1]),t<0?2.5:3.5,0,6.2832);cx.fill();
    }
  }
  cx.globalAlpha=1;cx.font='bold 13px system-ui,sans-serif';cx.textAlign='center';
  for(var k=0;k<D.themes.length;k++){
    var th=D.themes[k];if(hi!==undefined&&hi!==k)continue;
    var w=cx.measureText(th.title).width/2+4,x=Math.min(Math.max(sx(th.x),w),W-w),y=Math.min(Math.max(sy(th.y),16),H-8);
    cx.lineWidth=4;cx.strokeStyle='rgba(255,255,255,0.9)';cx.strokeText(th.title,x,y);
    cx.fillStyle=D.colours[k];cx.fillText(th.title,x,y);
  }
}
draw();
cv.addEventListener('mousemove',function(e){
  var r=cv.getBoundingClientRect(),mx=(e.clientX-r.left)*W/r.width,my=(e.clientY-r.top)*H/r.height;
  var best=-1,bd=64;
  for(var i=0;i<D.points.length;i++){var p=D.points[i],dx=sx(p[0])-mx,dy=sy(p[1])-my,d=dx*dx+dy*dy;if(d<bd){bd=d;best=i}}
  if(best<0){tip.style.display='none';return}
  var p=D.points[best],t=p[2];
  tip.textContent='';
  var h=document.createElement('b');h.textContent=(t<0?'unclustered':'#'+D.themes[t].id+' '+D.themes[t].title);
  var id=document.createElement('div');id.className='meta';id.textContent=D.ids[p[3]];
  var tx=document.createElement('div');tx.textContent=D.texts[p[3]];
  tip.appendChild(h);tip.appendChild(id);tip.appendChild(tx);
  tip.style.display='block';tip.style.left=(e.clientX+14)+'px';tip.style.top=(e.clientY+10)+'px';
});
cv.addEventListener('mouseleave',function(){tip.style.display='none'});
var cards=document.querySelectorAll('.theme');
for(var c=0;c<cards.length;c++){(function(k){
  cards[k].addEventListener('mouseenter',function(){draw(k)});
  cards[k].addEventListener('mouseleave',function(){draw()});
})(c)}
})();
"#;

/// Keeps `</script>` and friends from ending the inline data block.
fn script_safe_json(v: &serde_json::Value) -> String {
    serde_json::to_string(v)
        .expect("json")
        .replace("</", "<\\/")
        .replace("<!--", "<\\!--")
}

fn themes_html(report: &ThemeReport, items: &[ThemeItem]) -> String {
    let n = items.len().min(report.assignment.len());
    let vectors: Vec<&[f32]> = items[..n].iter().map(|i| i.vector.as_slice()).collect();
    let centroids: Vec<Vec<f32>> = report.themes.iter().map(|t| t.centroid.clone()).collect();
    let points = layout::project_2d(&vectors, &report.assignment[..n], &centroids);
    let stride = n.div_ceil(MAX_MAP_POINTS).max(1);
    let shown: Vec<usize> = (0..n).step_by(stride).collect();
    let data = map_data(report, items, &points, &shown);

    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>simsum themes</title><style>{HTML_STYLE}</style></head><body>\n"
    );
    let _ = writeln!(
        out,
        "<header><h1>Themes</h1><div class=\"sub\">{}{}</div>{}</header>",
        html_escape(&header(report)),
        if stride > 1 {
            format!("; the map shows every {stride}th of {n} items")
        } else {
            String::new()
        },
        changes_line(report).map_or_else(String::new, |line| format!(
            "<div class=\"sub changes\">{}</div>",
            html_escape(&capitalise(&line))
        ))
    );
    let _ = writeln!(
        out,
        "<main><div id=\"mapbox\"><canvas id=\"map\" width=\"720\" height=\"560\" \
         aria-label=\"2-D map of all items coloured by theme\"></canvas><div class=\"legend\">"
    );
    for (k, t) in report.themes.iter().enumerate() {
        let _ = write!(
            out,
            "<span><i style=\"background:{}\"></i>#{} {}</span>",
            theme_colour(k),
            t.id,
            html_escape(&t.title)
        );
    }
    let _ = writeln!(
        out,
        "<span><i style=\"background:{UNCLUSTERED_COLOUR}\"></i>unclustered ({})</span></div></div>",
        report.unclustered.len()
    );
    let _ = writeln!(out, "<section id=\"themes\">");
    for (k, t) in report.themes.iter().enumerate() {
        html_theme(&mut out, report, k, t);
    }
    if !report.unclustered.is_empty() {
        let _ = writeln!(
            out,
            "<article class=\"theme\"><h2>Unclustered ({})</h2><details><summary>ids</summary>{}</details></article>",
            report.unclustered.len(),
            html_escape(&report.unclustered.join(", "))
        );
    }
    let _ = writeln!(out, "</section></main><div id=\"tip\"></div>");
    let _ = writeln!(
        out,
        "<script type=\"application/json\" id=\"data\">{}</script>",
        script_safe_json(&data)
    );
    let _ = writeln!(out, "<script>{HTML_SCRIPT}</script></body></html>");
    out
}

/// The HTML map's data: the shown points (x, y, theme index, text index), their ids and texts,
/// each theme's id, title and mean position, and the colours.
fn map_data(
    report: &ThemeReport,
    items: &[ThemeItem],
    points: &[[f32; 2]],
    shown: &[usize],
) -> serde_json::Value {
    let mut sums = vec![(0.0f64, 0.0f64, 0usize); report.themes.len()];
    for (a, p) in report.assignment.iter().zip(points) {
        if let Some(t) = *a {
            sums[t].0 += p[0] as f64;
            sums[t].1 += p[1] as f64;
            sums[t].2 += 1;
        }
    }
    serde_json::json!({
        "points": shown.iter().enumerate().map(|(k, &i)| serde_json::json!([
            (points[i][0] * 1000.0).round() / 1000.0,
            (points[i][1] * 1000.0).round() / 1000.0,
            report.assignment[i].map_or(-1, |t| t as i64),
            k,
        ])).collect::<Vec<_>>(),
        "ids": shown.iter().map(|&i| items[i].id.as_str()).collect::<Vec<_>>(),
        "texts": shown.iter().map(|&i| truncate(&items[i].text, 280)).collect::<Vec<_>>(),
        "themes": report.themes.iter().zip(&sums).map(|(t, s)| serde_json::json!({
            "id": t.id,
            "title": t.title,
            "x": if s.2 > 0 { s.0 / s.2 as f64 } else { 0.0 },
            "y": if s.2 > 0 { s.1 / s.2 as f64 } else { 0.0 },
        })).collect::<Vec<_>>(),
        "colours": (0..report.themes.len()).map(theme_colour).collect::<Vec<_>>(),
        "grey": UNCLUSTERED_COLOUR,
    })
}

/// One theme's card in the HTML report (`k`: its place in the report, which picks its colour).
fn html_theme(out: &mut String, report: &ThemeReport, k: usize, t: &Theme) {
    let _ = writeln!(
        out,
        "<article class=\"theme\" style=\"border-left-color:{}\"><h2>#{} {}{}</h2>\
         <div class=\"meta\">{} items · cohesion {:.2} · {}</div>",
        theme_colour(k),
        t.id,
        html_escape(&t.title),
        change_note(report, t).map_or_else(String::new, |c| format!(
            " <span class=\"change {}\">{}</span>",
            t.change.as_str(),
            html_escape(&c)
        )),
        t.size,
        t.cohesion,
        html_escape(&documents_line(t))
    );
    if !t.over.is_empty() {
        let _ = writeln!(out, "{}", over_chart(t, &theme_colour(k)));
    }
    let _ = write!(out, "<div class=\"kp\">");
    for p in &t.keyphrases {
        let _ = write!(out, "<span>{}</span>", html_escape(p));
    }
    let _ = writeln!(out, "</div>");
    if let Some(summary) = &t.summary {
        let _ = write!(out, "<p class=\"sum\">");
        for s in summary {
            let _ = write!(
                out,
                "{} <span class=\"id\">[{}]</span> ",
                html_escape(&s.text),
                html_escape(&s.initiative)
            );
        }
        let _ = writeln!(out, "</p>");
    }
    for r in &t.representatives {
        let _ = writeln!(
            out,
            "<div class=\"rep\">{} <span class=\"id\">{} · {}</span></div>",
            html_escape(&truncate(&r.text, 240)),
            html_escape(&r.document),
            html_escape(&r.id)
        );
    }
    if !t.neighbours.is_empty() {
        let _ = writeln!(
            out,
            "<div class=\"meta\">nearest: {}</div>",
            html_escape(&neighbours_line(t))
        );
    }
    let _ = writeln!(
        out,
        "<details><summary>all {} members</summary>{}</details></article>",
        t.members.len(),
        html_escape(&t.members.join(", "))
    );
}

/// Renders a summary: JSON (`{"summary":[...],"params":{...}}`) or one cited sentence per line.
pub fn render_summary(summary: &Summary, json: bool) -> String {
    if json {
        return format!("{}\n", crate::answer::to_pretty(summary));
    }
    let mut out = String::new();
    for s in &summary.sentences {
        let _ = writeln!(out, "{}\n    — {} [{}]", s.text, s.document, s.initiative);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_cuts_at_words() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("one two three four five", 12), "one two…");
    }

    /// A report matched with generation 4: a merged, a split and a new theme; one gone.
    fn compared() -> ThemeReport {
        let theme = |id: usize, title: &str, change: &str, from: &[usize]| {
            serde_json::json!({"id": id, "title": title, "change": change, "from": from,
                "keyphrases": ["k"], "size": 3, "documents": [], "representatives": [],
                "members": [format!("d#s1.p{id}")], "cohesion": 0.5, "neighbours": []})
        };
        serde_json::from_value(serde_json::json!({
            "themes": [theme(2, "Water Supply", "merged", &[2, 5]),
                       theme(3, "Roads", "split", &[3]), theme(9, "Schools", "new", &[]),
                       theme(4, "Clinics", "grown", &[4, 6])],
            "unclustered": [],
            "params": {"themes": "auto", "min_size": null, "seed": 42, "resolution": 1.0,
                "merge_similarity": 0.95, "min_membership": 0.3, "keyphrases": 5,
                "representatives": 3, "neighbours": 3, "min_size_used": 2,
                "resolution_used": 1.0, "items": 4, "k": 3, "phrase_vectors": "member-mean",
                "modularity": 0.1},
            "lineage": {"compared_with": 4, "gone": [{"id": 7, "title": "Bridges", "size": 5}],
                "last_id": 9}
        }))
        .unwrap()
    }

    #[test]
    fn changes_name_the_old_themes_and_what_went() {
        let r = compared();
        let notes: Vec<String> = r
            .themes
            .iter()
            .map(|t| change_note(&r, t).unwrap())
            .collect();
        assert_eq!(
            notes,
            [
                "merged from #2, #5",
                "split from #3",
                "new",
                "grown, with members of #6"
            ]
        );
        assert_eq!(
            changes_line(&r).unwrap(),
            "since the last report (generation 4): 1 grown, 1 new, 1 merged, 1 split; \
             gone: #7 Bridges (5 items)"
        );
        let text = render_themes(&r, &[], Format::Text);
        assert!(text.contains("#2 Water Supply  (3 items, cohesion 0.50; merged from #2, #5)"));
        let md = render_themes(&r, &[], Format::Md);
        assert!(md.contains("- **Change:** split from \\#3"), "{md}");
        let html = render_themes(&r, &[], Format::Html);
        assert!(html.contains("<span class=\"change new\">new</span>"));
        assert!(html.contains("gone: #7 Bridges (5 items)"));
    }

    #[test]
    fn a_report_from_scratch_shows_no_changes() {
        let mut r = compared();
        r.lineage.compared_with = None;
        assert!(r.themes.iter().all(|t| change_note(&r, t).is_none()));
        assert!(changes_line(&r).is_none());
        let md = render_themes(&r, &[], Format::Md);
        assert!(
            !md.contains("change") && !md.contains("since the last"),
            "{md}"
        );
    }

    #[test]
    fn script_data_cannot_close_the_tag() {
        let v = serde_json::json!({"t": "</script><script>alert(1)</script>"});
        assert!(!script_safe_json(&v).contains("</script"));
    }
}
