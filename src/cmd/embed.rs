//! `simsum embed` (in progress).
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct EmbedArgs {}

pub fn run(_g: &super::Global, _a: EmbedArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
