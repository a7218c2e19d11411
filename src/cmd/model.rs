//! `simsum model` (in progress).
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum ModelCommand {
    Info,
}

pub fn run(_g: &super::Global, _a: ModelCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
