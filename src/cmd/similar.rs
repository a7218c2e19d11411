//! `simsum similar ID`: items most like a stored initiative or section (by its stored vector;
//! no model needed).

use std::io::Write;
use std::process::ExitCode;

use super::search::{print_hits, trim, QueryArgs, Style};

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
    let index = g.open_store()?;
    let mut opts = a.common.options(simsum::store::Level::Initiative);
    opts.other_docs = a.other_docs;
    let (item, hits) = simsum::search::similar(index.as_ref(), &a.id, &opts)?;
    let mut out = std::io::stdout().lock();
    if a.common.json {
        let answer = simsum::answer::SimilarAnswer {
            item: simsum::answer::ItemRef::from(&item),
            k: a.common.k,
            other_docs: a.other_docs,
            results: hits,
        };
        simsum::answer::print_json(&mut out, &answer)?;
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
