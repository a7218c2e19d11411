//! `simsum similar ID`: items most like a stored initiative or section (by its stored vector;
//! no model needed).

use std::io::Write;
use std::process::ExitCode;

use super::search::{open_index, print_hits, trim, QueryArgs, Style};

/// Arguments of `simsum similar`.
#[derive(Debug, clap::Args)]
pub struct SimilarArgs {
    /// Id of a stored initiative or section (as printed by `search`).
    pub id: String,
    #[command(flatten)]
    pub common: QueryArgs,
    /// Only results from other documents.
    #[arg(long)]
    pub other_docs: bool,
}

/// Runs `simsum similar`.
pub fn run(g: &super::Global, a: SimilarArgs) -> anyhow::Result<ExitCode> {
    let index = open_index(g, a.common.exact)?;
    let mut opts = a.common.options(simsum::store::Level::Initiative);
    opts.other_docs = a.other_docs;
    let (item, hits) = simsum::search::similar(index.as_ref(), &a.id, &opts)?;
    let mut out = std::io::stdout().lock();
    if a.common.json {
        let v = serde_json::json!({
            "item": simsum::search::ItemRef::from(&item),
            "k": a.common.k,
            "other_docs": a.other_docs,
            "results": hits,
        });
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
    } else {
        let st = Style::detect();
        writeln!(
            out,
            "{} {} ({}): {}",
            st.paint("1", "like"),
            item.id,
            item.doc_title,
            trim(&item.text, 90)
        )?;
        print_hits(&mut out, &hits, &st)?;
    }
    Ok(ExitCode::SUCCESS)
}
