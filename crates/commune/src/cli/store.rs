//! `commune store migrate`: moves a node's log from one store to another (a SQLite file to
//! a PostgreSQL database, or back) without losing an event, and proves it by state hash.
//!
//! Owns the copy and its checks. Must not decide what enters a log: the target's
//! [`Store::append`] judges every event as it would from a peer.

use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use clap::{Args, Subcommand};
use commune_core::{Body, CouncilId, Event};
use commune_store::Store;
use serde::Serialize;

use super::Invocation;
use crate::config::progress_bar;
use crate::node::fold_store;

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy every event (and the detached bodies they name) from one store to another, then
    /// check that every council's state hash is the same on both. Safe to run again.
    Migrate(MigrateArgs),
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The store to copy from: sqlite:PATH or postgres://…
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// The store to copy into: postgres://… or sqlite:PATH (created if missing)
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Events per transaction in the target
    #[arg(long, default_value_t = 4096)]
    pub batch: usize,
}

/// What the copy did for one council.
#[derive(Debug, Serialize)]
struct Moved {
    council: CouncilId,
    events: u64,
    /// Events the target did not hold before.
    copied: usize,
    /// Events the target already held (from an earlier run, say).
    already_there: usize,
    bodies: usize,
    state_hash: String,
}

pub fn run(invocation: &Invocation, command: StoreCommand) -> Result<()> {
    match command {
        StoreCommand::Migrate(args) => migrate(invocation, args),
    }
}

fn migrate(invocation: &Invocation, args: MigrateArgs) -> Result<()> {
    ensure!(
        args.from != args.to,
        "--from and --to name the same store: nothing to move"
    );
    ensure!(args.batch > 0, "--batch must be at least 1");
    let source =
        Store::connect(&args.from).context("cannot open the store to copy from (--from)")?;
    let mut target =
        Store::connect(&args.to).context("cannot open the store to copy into (--to)")?;
    let councils = source.councils()?;
    let mut total = 0;
    for council in &councils {
        total += source.event_count(*council)?;
    }
    let started = Instant::now();
    let bar = progress_bar(total, "copy", invocation.json);
    let mut moved = Vec::new();
    for council in &councils {
        let mut copy = Copy {
            target: &mut target,
            batch: Vec::with_capacity(args.batch),
            size: args.batch,
            copied: 0,
            already_there: 0,
            bodies: 0,
            failed: None,
        };
        source.for_each_event(*council, |event| {
            if copy.failed.is_some() {
                return;
            }
            if let Body::Detached { hash, .. } = &event.unsigned.body
                && let Err(error) = copy.body(&source, *hash)
            {
                copy.failed = Some(error);
                return;
            }
            copy.batch.push(event);
            if copy.batch.len() == copy.size {
                let count = copy.batch.len() as u64;
                if let Err(error) = copy.flush() {
                    copy.failed = Some(error);
                }
                bar.inc(count);
            }
        })?;
        let count = copy.batch.len() as u64;
        copy.flush()?;
        bar.inc(count);
        if let Some(error) = copy.failed.take() {
            return Err(error.context(format!("copying council {council}")));
        }
        let (copied, already_there, bodies) = (copy.copied, copy.already_there, copy.bodies);
        moved.push(check(
            &source,
            &target,
            *council,
            copied,
            already_there,
            bodies,
        )?);
    }
    bar.finish_and_clear();
    let copied: usize = moved.iter().map(|m| m.copied).sum();
    let already_there: usize = moved.iter().map(|m| m.already_there).sum();
    let seconds = started.elapsed().as_secs_f64();
    invocation.print(
        &serde_json::json!({
            "from": source.location(),
            "to": target.location(),
            "councils": moved,
            "copied": copied,
            "already_there": already_there,
            "seconds": seconds,
        }),
        || {
            let mut text = format!(
                "moved {} councils from {} to {} in {seconds:.1} s: {copied} events copied, \
                 {already_there} already there\n",
                moved.len(),
                source.location(),
                target.location()
            );
            for m in &moved {
                text += &format!(
                    "{}  {} events ({} copied, {} bodies)  state hash {} on both\n",
                    m.council, m.events, m.copied, m.bodies, m.state_hash
                );
            }
            text += "to use the new store, pass its URL as --store (or COMMUNE_STORE), or write it \
                     to store.url in the data directory";
            text
        },
    )
}

/// A council's copy under way: events wait in `batch` until it is full.
struct Copy<'a> {
    target: &'a mut Store,
    batch: Vec<Event>,
    size: usize,
    copied: usize,
    already_there: usize,
    bodies: usize,
    failed: Option<anyhow::Error>,
}

impl Copy<'_> {
    /// Copies a detached body the source holds (a redacted one stays absent).
    fn body(&mut self, source: &Store, hash: [u8; 32]) -> Result<()> {
        if let Some(bytes) = source.body(hash)? {
            self.target.put_body(&bytes)?;
            self.bodies += 1;
        }
        Ok(())
    }

    /// Appends the waiting events. They come in (depth, id) order, so each event's parents
    /// are in the target or in the same batch: anything held back means the stores differ.
    fn flush(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let report = self.target.append(&self.batch)?;
        if let Some((id, error)) = report.invalid.first() {
            bail!("the target refused event {id}: {error}");
        }
        if let Some(id) = report.missing_parents.first() {
            bail!("the target holds no parent of event {id}, which the source gave before it");
        }
        self.copied += report.inserted.len();
        self.already_there += report.duplicates;
        self.batch.clear();
        Ok(())
    }
}

/// Folds the council on both sides: the same events must give the same state.
fn check(
    source: &Store,
    target: &Store,
    council: CouncilId,
    copied: usize,
    already_there: usize,
    bodies: usize,
) -> Result<Moved> {
    let events = source.event_count(council)?;
    let held = target.event_count(council)?;
    ensure!(
        held >= events,
        "council {council}: the target holds {held} events, the source {events}"
    );
    let before = fold_store(source, council, None)?.state.hash();
    let after = fold_store(target, council, None)?.state.hash();
    let (before, after) = (
        data_encoding::HEXLOWER.encode(&before),
        data_encoding::HEXLOWER.encode(&after),
    );
    ensure!(
        held == events && before == after,
        "council {council}: the state hash is {before} in the source but {after} in the target \
         ({events} and {held} events): the target held other events of this council before"
    );
    Ok(Moved {
        council,
        events,
        copied,
        already_there,
        bodies,
        state_hash: after,
    })
}
