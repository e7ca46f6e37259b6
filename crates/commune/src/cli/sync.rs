//! `commune peer …`, `commune sync`, `commune bundle …`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::reading::Part;
use anyhow::{Result, bail};
use clap::{Args, Subcommand};

use super::Invocation;
use crate::config;
use crate::transport::{bundle, client, peers};

#[derive(Debug, Subcommand)]
pub enum PeerCommand {
    /// Add a node to sync with, by its base URL (http://HOST:PORT)
    Add { url: String },
    /// List the nodes this node syncs with
    List,
    /// Stop syncing with a node
    Remove { url: String },
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Sync only this council (id, id prefix or name; a full id for a council not here yet)
    #[arg(long)]
    pub council: Option<String>,
    /// Sync with this node only, instead of every peer in the list
    #[arg(long, value_name = "URL")]
    pub peer: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Write a council's events (or every council's) to a bundle file
    Export(ExportArgs),
    /// Read a bundle file into this node
    Import(ImportArgs),
    /// Write a small file saying what this node has, for the next incremental export
    Have(HaveArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Only this council [default: every council on this node]
    #[arg(long)]
    pub council: Option<String>,
    /// Leave out what the node that wrote this have-file already has
    #[arg(long, value_name = "HAVE_FILE")]
    pub since: Option<PathBuf>,
    /// The bundle file to write (`-` for standard output; a device or pipe is written in place)
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The bundle file
    pub file: PathBuf,
    /// Refuse files larger than this many megabytes
    #[arg(long, default_value_t = bundle::DEFAULT_MAX_MB)]
    pub max_mb: u64,
}

#[derive(Debug, Args)]
pub struct HaveArgs {
    /// The have-file to write
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

pub fn peer(invocation: &Invocation, command: PeerCommand) -> Result<()> {
    let dir = &invocation.open()?.dir().to_owned();
    match command {
        PeerCommand::Add { url } => {
            let added = peers::add(dir, &url)?;
            let url = peers::normalise(&url)?;
            invocation.print(&serde_json::json!({ "peer": url, "added": added }), || {
                if added {
                    format!("added peer {url}")
                } else {
                    format!("{url} is already a peer")
                }
            })
        }
        PeerCommand::Remove { url } => {
            if !peers::remove(dir, &url)? {
                bail!("{url} is not a peer: `commune peer list` shows them");
            }
            invocation.print(
                &serde_json::json!({ "removed": peers::normalise(&url)? }),
                || format!("removed peer {url}"),
            )
        }
        PeerCommand::List => {
            let list = peers::list(dir)?;
            invocation.print(&list, || {
                if list.is_empty() {
                    "no peers yet: `commune peer add URL`".into()
                } else {
                    list.join("\n")
                }
            })
        }
    }
}

pub fn sync(invocation: &Invocation, args: SyncArgs) -> Result<()> {
    let mut node = invocation.open()?;
    let keypair = node.identity(&invocation.identity)?;
    let councils = match &args.council {
        None => None,
        Some(text) => Some(vec![match node.resolve_council(text) {
            Ok(council) => council,
            Err(error) => text.parse().map_err(|_| error)?,
        }]),
    };
    let urls = match &args.peer {
        Some(url) => vec![peers::normalise(url)?],
        None => peers::list(node.dir())?,
    };
    if urls.is_empty() {
        bail!("no peers to sync with: `commune peer add URL`, or pass --peer URL");
    }
    let node = Mutex::new(node);
    let mut results = Vec::new();
    let mut problems = Vec::new();
    for url in &urls {
        let bar = config::progress_bar(0, "syncing", invocation.json);
        let outcome = client::sync_peer(
            &node,
            url,
            keypair.clone(),
            councils.clone(),
            &mut |council, done, total| {
                bar.set_message(format!("{} with {url}", council.short()));
                bar.set_length(total);
                bar.set_position(done);
            },
        );
        bar.finish_and_clear();
        match outcome {
            Ok(result) => {
                problems.extend(
                    result.failed.iter().map(|(council, reason)| {
                        format!("{} with {url}: {reason}", council.short())
                    }),
                );
                results.push(result);
            }
            Err(error) => problems.push(format!("{error:#}")),
        }
    }
    invocation.print(&results, || {
        let mut out = String::new();
        for result in &results {
            for c in &result.councils {
                let _ = writeln!(
                    out,
                    "{} with {}: {} new here, {} new there; {} differed, found in {} round trips and {} bytes",
                    c.council.short(),
                    result.peer,
                    c.fetched.new,
                    c.pushed,
                    c.difference,
                    c.reconcile_round_trips,
                    c.reconcile_bytes,
                );
                for reason in c.fetched.invalid.iter().chain(&c.refused_by_peer) {
                    let _ = writeln!(out, "  refused: {reason}");
                }
                for reason in c.fetched.refused.iter().chain(&c.fetched.not_yet) {
                    let _ = writeln!(out, "  not stored: {reason}");
                }
            }
            for council in &result.not_held {
                let _ = writeln!(
                    out,
                    "{} with {}: the peer does not hold this council (it takes one by its own sync or a bundle, never by a push)",
                    council.short(),
                    result.peer
                );
            }
        }
        out
    })?;
    if !problems.is_empty() {
        bail!("sync failed: {}", problems.join("; "));
    }
    Ok(())
}

pub fn bundle(invocation: &Invocation, command: BundleCommand) -> Result<()> {
    let mut node = invocation.open()?;
    match command {
        BundleCommand::Have(args) => {
            let have = bundle::write_have(&node, &args.output)?;
            invocation.print(&have, || {
                format!(
                    "wrote {} ({} councils)",
                    args.output.display(),
                    have.councils.len()
                )
            })
        }
        BundleCommand::Export(args) => {
            let keypair = node.identity(&invocation.identity)?;
            // A bundle carries what its signer may read (`crate::reading`), as sync does.
            let reader = keypair.public();
            let councils = match &args.council {
                Some(text) => {
                    let council = node.resolve_council(text)?;
                    crate::reading::readable_in(&mut node, Some(&reader), council, Part::Whole)
                        .map_err(|crate::server::ApiError(_, reason)| {
                            anyhow::anyhow!("not exported: {reason}")
                        })?;
                    vec![council]
                }
                None => {
                    let mut readable = Vec::new();
                    for council in node.store().councils()? {
                        if crate::reading::readable_in(
                            &mut node,
                            Some(&reader),
                            council,
                            Part::Whole,
                        )
                        .is_ok()
                        {
                            readable.push(council);
                        }
                    }
                    readable
                }
            };
            let since = args.since.as_deref().map(bundle::read_have).transpose()?;
            let bar = config::progress_bar(0, "exporting", invocation.json);
            let report = bundle::export(
                &node,
                &councils,
                since.as_ref(),
                &keypair,
                &args.output,
                &mut |n| bar.set_position(n),
            )?;
            bar.finish_and_clear();
            if args.output == std::path::Path::new("-") {
                // Standard output holds the bundle: the summary goes to standard error.
                eprintln!(
                    "wrote {} events of {} councils to standard output ({} bytes)",
                    report.events, report.councils, report.bytes
                );
                return Ok(());
            }
            invocation.print(&report, || {
                format!(
                    "wrote {} events of {} councils to {} ({} bytes)",
                    report.events,
                    report.councils,
                    args.output.display(),
                    report.bytes
                )
            })
        }
        BundleCommand::Import(args) => {
            let bar = config::progress_bar(0, "importing", invocation.json);
            let report = bundle::import(
                &mut node,
                &args.file,
                args.max_mb << 20,
                &mut |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                },
            )?;
            bar.finish_and_clear();
            invocation.print(&report, || {
                let e = &report.events;
                let mut out = format!(
                    "{}: {} new, {} duplicate, {} invalid, {} orphan",
                    args.file.display(),
                    e.new,
                    e.duplicate,
                    e.invalid.len(),
                    e.orphans.len()
                );
                for reason in &e.invalid {
                    let _ = write!(out, "\n  invalid: {reason}");
                }
                for reason in e.refused.iter().chain(&e.not_yet) {
                    let _ = write!(out, "\n  not stored: {reason}");
                }
                for (at, len) in &report.corrupt {
                    let _ = write!(out, "\n  skipped {len} damaged bytes at offset {at}");
                }
                if report.truncated {
                    out.push_str(
                        "\n  the file is truncated: every whole event before the cut was kept",
                    );
                }
                match (&report.signed_by, &report.trailer_problem) {
                    (Some(signer), _) => {
                        let _ = write!(out, "\n  signed by {signer}");
                    }
                    (None, Some(problem)) => {
                        let _ = write!(out, "\n  trailer: {problem}");
                    }
                    (None, None) => {}
                }
                out
            })
        }
    }
}
