//! `commune bench-act`: what one act costs against the council's size and the log's length.
//!
//! Generates a council of `--members` members and `--events` events (the log `commune
//! bench` generates) into a data directory whose identity is member 0, then times `vote`,
//! `comment` and `proposal open`: as cold CLI processes (this binary run again, opening the
//! node each time, as a person at a terminal would) and inside one open node, alone and
//! with its folds shared as `serve` shares them with its pages (as `serve` runs an act for
//! `POST /api/events`, without the HTTP hop). Reports p50 and p99 of each.
//! Not a test: figures go to docs/benchmarks.md.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use clap::Args;
use commune_core::payload::{self, Payload};
use commune_core::tally::{Choice, YesNo};
use commune_core::{Event, EventId};
use serde::Serialize;

use crate::bench::member_key;
use crate::cli::Invocation;
use crate::node::Node;

#[derive(Debug, Args)]
pub struct BenchActArgs {
    /// How many events in the log
    #[arg(long, default_value_t = 100_000)]
    pub events: usize,
    /// How many members
    #[arg(long, default_value_t = 1_000)]
    pub members: usize,
    /// How many times each act is timed, each way
    #[arg(long, default_value_t = 20)]
    pub acts: usize,
    /// Where to put the data directory [default: a temporary directory]; one already made
    /// by this command for the same sizes is used again
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The `n`th payload of one kind of act.
type MakePayload = Box<dyn Fn(usize) -> Payload>;

#[derive(Debug, Serialize)]
struct Timing {
    act: &'static str,
    way: &'static str,
    p50_ms: f64,
    p99_ms: f64,
}

#[derive(Debug, Serialize)]
struct Figures {
    events: usize,
    members: usize,
    timings: Vec<Timing>,
}

pub fn run(invocation: &Invocation, args: BenchActArgs) -> Result<()> {
    let quiet = invocation.json;
    let temporary = tempfile::TempDir::new()?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| temporary.path().join("node"));
    let marker = dir.join("bench-act.size");
    let size = format!("{} {}", args.events, args.members);
    if std::fs::read_to_string(&marker).ok().as_deref() != Some(&size) {
        ensure!(
            !dir.join(crate::node::DATABASE).exists(),
            "{} holds another node: give an empty --dir",
            dir.display()
        );
        let log = crate::bench::generate(args.events, args.members.max(2), quiet);
        crate::bench_sync::fill(&dir, &log, quiet)?;
        std::fs::write(&marker, &size)?;
    }
    let council = Node::open(&dir)?
        .store()
        .councils()?
        .first()
        .copied()
        .context("the generated node holds no council")?;
    let proposal = latest_proposal(&dir, council)?;
    let proposal_text = proposal.to_string();

    let mut timings = Vec::new();
    let exe = std::env::current_exe()?;
    let cli: [(&'static str, Vec<&str>); 3] = [
        (
            "vote",
            vec!["vote", "Benchmark council", &proposal_text, "yes"],
        ),
        (
            "comment",
            vec!["comment", "Benchmark council", &proposal_text, "A word."],
        ),
        (
            "proposal open",
            vec![
                "proposal",
                "open",
                "Benchmark council",
                "Shall we?",
                "--open-for",
                "3650d",
            ],
        ),
    ];
    for (act, command) in &cli {
        let mut times = Vec::with_capacity(args.acts);
        for _ in 0..args.acts {
            let started = Instant::now();
            let output = Command::new(&exe)
                .arg("--data")
                .arg(&dir)
                .args(command)
                .output()?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            ensure!(
                output.status.success(),
                "`commune {}` failed: {}",
                command.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        timings.push(timing(act, "cold CLI", times));
    }

    let mut node = Node::open(&dir)?;
    node.fold(council)?;
    let keypair = member_key(0);
    let payloads: [(&'static str, MakePayload); 3] = [
        (
            "vote",
            Box::new(move |n| {
                Payload::Ballot(payload::Ballot {
                    proposal,
                    choice: Choice::YesNo {
                        vote: [YesNo::Yes, YesNo::No][n % 2],
                    },
                })
            }),
        ),
        (
            "comment",
            Box::new(move |n| {
                Payload::Comment(payload::Comment {
                    proposal,
                    reply_to: None,
                    text: format!("Word {n}."),
                })
            }),
        ),
        (
            "proposal open",
            Box::new(move |n| {
                Payload::Propose(payload::Propose {
                    title: format!("Question {n}"),
                    text: String::new(),
                    action: payload::Action::None,
                    method: None,
                    options: Vec::new(),
                    quorum: None,
                    deadline_ms: crate::node::now_ms() + 3650 * 86_400_000,
                    mode: None,
                })
            }),
        ),
    ];
    for way in ["open node", "serving"] {
        if way == "serving" {
            // As `serve` does: pages share the node's folds, so each act's state is read
            // out (copied) for them at once.
            let _ = node.folds();
        }
        for (act, payload) in &payloads {
            let mut times = Vec::with_capacity(args.acts);
            for n in 0..args.acts {
                let started = Instant::now();
                node.act(&keypair, council, payload(n))?;
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            timings.push(timing(act, way, times));
        }
    }

    let figures = Figures {
        events: args.events,
        members: args.members,
        timings,
    };
    invocation.print(&figures, || {
        let mut out = format!(
            "{} events, {} members ({} acts each):",
            figures.events, figures.members, args.acts
        );
        for t in &figures.timings {
            out.push_str(&format!(
                "\n  {:<14} {:<10} p50 {:>8.1} ms  p99 {:>8.1} ms",
                t.act, t.way, t.p50_ms, t.p99_ms
            ));
        }
        out
    })
}

fn timing(act: &'static str, way: &'static str, mut times: Vec<f64>) -> Timing {
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    Timing {
        act,
        way,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
    }
}

/// The proposal opened last in the generated log (still open: the generator closes a
/// question only when it opens the next).
fn latest_proposal(dir: &Path, council: commune_core::CouncilId) -> Result<EventId> {
    let node = Node::open(dir)?;
    let mut latest = None;
    node.store().for_each_event(council, |event: Event| {
        if event.unsigned.kind == payload::kind::PROPOSE {
            latest = Some(event.id);
        }
    })?;
    latest.context("the generated log holds no proposal")
}
