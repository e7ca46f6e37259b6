//! The node's own records: `init`, `whoami`, `key`, `log`, `state`, `state-hash`, `verify`,
//! `rebuild`.

use std::fmt::Write as _;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use commune_core::Payload;
use commune_core::payload::kind;

use super::Invocation;

#[derive(Debug, Args)]
pub struct CouncilArg {
    /// The council (id, id prefix or name)
    pub council: String,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// The council (id, id prefix or name)
    pub council: String,
    /// Show only the last N events
    #[arg(long)]
    pub last: Option<usize>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Only this council [default: every council on the node]
    pub council: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make a new local identity
    New {
        /// Its name (letters, digits, - and _)
        name: String,
    },
    /// List the local identities
    List,
    /// Write an identity's key as a passphrase-sealed backup (the web app's format)
    Export {
        /// The identity
        name: String,
        /// The backup file to write (`-` for standard output)
        #[arg(short, long, value_name = "FILE", default_value = "-")]
        output: std::path::PathBuf,
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
    /// Keep the key of a backup (from `key export` or a browser's "My key") as an identity
    Import {
        /// The name to keep it under (letters, digits, - and _)
        name: String,
        /// The backup file
        file: std::path::PathBuf,
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
}

/// Where a backup's passphrase comes from: a file, the environment, else the terminal (not
/// shown as it is typed) or one line of standard input.
#[derive(Debug, Args)]
pub struct PassphraseArgs {
    /// Read the passphrase from the first line of this file
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<std::path::PathBuf>,
}

impl PassphraseArgs {
    fn read(&self, prompt: &str) -> Result<String> {
        if let Some(path) = &self.passphrase_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            return Ok(text.lines().next().unwrap_or("").to_owned());
        }
        if let Ok(passphrase) = std::env::var("COMMUNE_PASSPHRASE") {
            return Ok(passphrase);
        }
        use std::io::IsTerminal;
        let terminal = std::io::stdin().is_terminal();
        if terminal {
            eprint!("{prompt}: ");
            // Not shown as it is typed: the terminal's echo is off while it is read.
            let _ = std::process::Command::new("stty").arg("-echo").status();
        }
        let mut line = String::new();
        let read = std::io::stdin().read_line(&mut line);
        if terminal {
            let _ = std::process::Command::new("stty").arg("echo").status();
            eprintln!();
        }
        read?;
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    }
}

pub fn init(invocation: &Invocation) -> Result<()> {
    let (node, created) = invocation.init(&invocation.identity)?;
    let keypair = node.identity(&invocation.identity)?;
    invocation.print(
        &serde_json::json!({
            "data": invocation.dir,
            "identity": invocation.identity,
            "public_key": keypair.public(),
            "created": created,
        }),
        || {
            format!(
                "{} {} in {}\npublic key: {}",
                if created {
                    "created identity"
                } else {
                    "identity"
                },
                invocation.identity,
                invocation.dir.display(),
                keypair.public()
            )
        },
    )
}

pub fn whoami(invocation: &Invocation) -> Result<()> {
    let mut node = invocation.open()?;
    let keypair = node.identity(&invocation.identity)?;
    let mut memberships = Vec::new();
    for council in node.councils()? {
        let folded = node.fold(council.id)?;
        if let Some(member) = folded.state.members.get(&keypair.public()) {
            memberships.push(serde_json::json!({
                "council": council.id, "council_name": council.name, "name": member.name,
            }));
        }
    }
    invocation.print(
        &serde_json::json!({
            "identity": invocation.identity,
            "public_key": keypair.public(),
            "councils": memberships,
        }),
        || {
            let mut out = format!(
                "{}\npublic key: {}\n",
                invocation.identity,
                keypair.public()
            );
            for m in &memberships {
                let _ = writeln!(out, "member of {} as {}", m["council_name"], m["name"]);
            }
            out
        },
    )
}

pub fn key(invocation: &Invocation, command: KeyCommand) -> Result<()> {
    let node = invocation.open()?;
    match command {
        KeyCommand::New { name } => {
            let keypair = node.create_identity(&name)?;
            invocation.print(
                &serde_json::json!({ "identity": name, "public_key": keypair.public() }),
                || format!("created identity {name}\npublic key: {}", keypair.public()),
            )
        }
        KeyCommand::Export {
            name,
            output,
            passphrase,
        } => {
            let keypair = node.identity(&name)?;
            let passphrase = passphrase.read("passphrase for the backup")?;
            let backup = crate::key_backup::seal(
                &keypair,
                &passphrase,
                crate::node::random_bytes(),
                crate::node::random_bytes(),
            )?;
            let text = serde_json::to_string_pretty(&backup)? + "\n";
            crate::transport::write_atomically(&output, |file| {
                use std::io::Write;
                Ok(file.write_all(text.as_bytes())?)
            })?;
            if output != std::path::Path::new("-") {
                invocation.print(
                    &serde_json::json!({ "identity": name, "public_key": keypair.public(), "backup": output }),
                    || format!("wrote the backup of {name} to {}", output.display()),
                )?;
            }
            Ok(())
        }
        KeyCommand::Import {
            name,
            file,
            passphrase,
        } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let passphrase = passphrase.read("passphrase of the backup")?;
            let keypair = crate::key_backup::open(&text, &passphrase)?;
            node.save_identity(&name, &keypair)?;
            invocation.print(
                &serde_json::json!({ "identity": name, "public_key": keypair.public() }),
                || format!("imported identity {name}\npublic key: {}", keypair.public()),
            )
        }
        KeyCommand::List => {
            // A damaged key file is listed with what is wrong, not fatal to the others.
            let identities = node.identity_files()?;
            let list: Vec<_> = identities
                .iter()
                .map(|(name, key)| match key {
                    Ok(key) => serde_json::json!({ "identity": name, "public_key": key }),
                    Err(problem) => serde_json::json!({ "identity": name, "damaged": problem }),
                })
                .collect();
            invocation.print(&list, || {
                identities
                    .iter()
                    .map(|(name, key)| match key {
                        Ok(key) => format!("{name}  {key}\n"),
                        Err(problem) => format!("{name}  damaged: {problem}\n"),
                    })
                    .collect()
            })
        }
    }
}

pub fn log(invocation: &Invocation, args: LogArgs) -> Result<()> {
    let mut node = invocation.open()?;
    let council = node.resolve_council(&args.council)?;
    let folded = node.fold(council)?;
    let mut events = node.store().events_of(council)?;
    if let Some(last) = args.last {
        events.drain(..events.len().saturating_sub(last));
    }
    let entries: Vec<serde_json::Value> = events
        .iter()
        .map(|event| {
            let payload = event
                .inline_body()
                .and_then(|body| Payload::decode(event.unsigned.kind, body).ok());
            let rejected = folded
                .rejections
                .iter()
                .find(|r| r.event == event.id)
                .map(|r| r.reason.clone());
            serde_json::json!({
                "id": event.id,
                "kind": kind::name(event.unsigned.kind),
                "author": event.unsigned.author,
                "seq": event.unsigned.seq,
                "depth": event.unsigned.depth,
                "time_ms": event.unsigned.time_ms,
                "parents": event.unsigned.parents,
                "payload": payload,
                "rejected": rejected,
            })
        })
        .collect();
    invocation.print(&entries, || {
        let mut out = String::new();
        for (event, entry) in events.iter().zip(&entries) {
            let _ = writeln!(
                out,
                "{}  {:>5}  {:<8} by {}{}",
                event.id.short(),
                event.unsigned.depth,
                kind::name(event.unsigned.kind),
                folded.state.member_name(&event.unsigned.author),
                entry["rejected"]
                    .as_str()
                    .map(|r| format!("  (no effect: {r})"))
                    .unwrap_or_default()
            );
        }
        out
    })
}

pub fn state(invocation: &Invocation, args: CouncilArg) -> Result<()> {
    let mut node = invocation.open()?;
    let council = node.resolve_council(&args.council)?;
    let folded = node.fold(council)?;
    // The state is JSON by nature: text output prints it too.
    super::write_out(&serde_json::to_string_pretty(&folded.state)?)
}

pub fn state_hash(invocation: &Invocation, args: CouncilArg) -> Result<()> {
    let mut node = invocation.open()?;
    let council = node.resolve_council(&args.council)?;
    let hash = data_encoding::HEXLOWER.encode(&node.fold(council)?.state.hash());
    invocation.print(
        &serde_json::json!({ "council": council, "state_hash": hash }),
        || hash.clone(),
    )
}

pub fn verify(invocation: &Invocation, args: VerifyArgs) -> Result<()> {
    let mut node = invocation.open()?;
    let councils = match &args.council {
        Some(council) => vec![node.resolve_council(council)?],
        None => node.store().councils()?,
    };
    let mut reports = Vec::new();
    for council in councils {
        reports.push(node.verify(council)?);
    }
    invocation.print(&reports, || {
        let mut out = String::new();
        for r in &reports {
            let _ = writeln!(
                out,
                "{}  {} events, {} without effect, state hash {}: {}",
                r.council.short(),
                r.events,
                r.rejections,
                &r.state_hash[..16],
                if r.ok() { "ok" } else { "MISMATCH" }
            );
            for id in &r.bad_signatures {
                let _ = writeln!(out, "  bad signature: {id}");
            }
            if r.heads_missing {
                let _ = writeln!(
                    out,
                    "  the council's heads are missing: run `commune rebuild`"
                );
            }
            if let Some(stored) = &r.projection_mismatch {
                let _ = writeln!(
                    out,
                    "  the stored projection says {stored}: run `commune rebuild`"
                );
            }
        }
        out
    })?;
    if reports.iter().any(|r| !r.ok()) {
        bail!("verification failed");
    }
    Ok(())
}

pub fn rebuild(invocation: &Invocation) -> Result<()> {
    let mut node = invocation.open()?;
    let bar = crate::config::progress_bar(0, "rebuilding", invocation.json);
    let councils = node.rebuild(|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    invocation.print(&serde_json::json!({ "rebuilt": councils }), || {
        format!("rebuilt the projections of {} council(s)", councils.len())
    })
}
