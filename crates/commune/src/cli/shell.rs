//! `commune completions SHELL` and `commune man`: the command line described for a shell and
//! for `man`, generated from the same clap definition that parses it, so that neither can
//! fall behind. Must not need a data directory.

use anyhow::Result;
use clap::{Args, CommandFactory};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    pub shell: clap_complete::Shell,
}

/// Prints the completion script for a shell on standard output.
pub fn completions(args: CompletionsArgs) -> Result<()> {
    let mut command = super::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "commune", &mut script);
    super::write_out(&String::from_utf8(script)?)
}

/// Prints the manual page, in roff, on standard output: `commune man | man -l -`.
pub fn man() -> Result<()> {
    let command = super::Cli::command();
    let mut page = Vec::new();
    clap_mangen::Man::new(command).render(&mut page)?;
    super::write_out(&String::from_utf8(page)?)
}
