//! The command line: arguments in, a `node::` use-case called, human or JSON out.
//!
//! Owns argument parsing, the output formats and their field names (documented in
//! docs/cli.md). Must not decide anything the fold decides.

mod council;
mod federation;
mod proposal;
mod record;
mod register;
mod shell;
mod store;
mod sync;
mod tally;

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use serde::Serialize;

use crate::config;
use crate::node::{DEFAULT_IDENTITY, Node};

/// commune: self-organisation for councils. Decide directly, delegate only with a mandate,
/// work offline.
#[derive(Debug, Parser)]
#[command(name = "commune", version = env!("COMMUNE_VERSION"), propagate_version = true)]
pub struct Cli {
    /// The data directory [default: $XDG_DATA_HOME/commune]
    #[arg(long, global = true, env = "COMMUNE_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// The store that holds the log: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB
    /// [default: the one `init --store` wrote to DIR/store.url, else DIR/commune.sqlite]
    #[arg(long, global = true, env = "COMMUNE_STORE", value_name = "URL")]
    pub store: Option<String>,

    /// Act as this local identity (a key in the data directory)
    #[arg(long = "as", global = true, value_name = "NAME", default_value = DEFAULT_IDENTITY)]
    pub identity: String,

    /// Print JSON instead of text
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the data directory and a member key
    Init,
    /// Show who you are: your identity and public key
    Whoami,
    /// Manage local identities (member keys kept in the data directory)
    #[command(subcommand)]
    Key(record::KeyCommand),
    /// Found, list, show and leave councils; invite and join
    #[command(subcommand)]
    Council(council::CouncilCommand),
    /// Hand out an invitation to a council, as text to paste
    Invite(council::InviteArgs),
    /// Join a council with a pasted invitation (or an open council by id)
    Join(council::JoinArgs),
    /// Open, list and show proposals
    #[command(subcommand)]
    Proposal(proposal::ProposalCommand),
    /// Cast or change your ballot on a proposal
    Vote(proposal::VoteArgs),
    /// Add to a proposal's discussion
    Comment(proposal::CommentArgs),
    /// Close a proposal and record its decision
    Close(proposal::CloseArgs),
    /// List the council's mandates: who represents it, for what, until when
    #[command(subcommand)]
    Mandate(federation::MandateCommand),
    /// Record a working group's act under its mandate
    Act(federation::ActArgs),
    /// Sign a petition to recall a mandate (suspends it once enough members sign)
    Petition(federation::PetitionArgs),
    /// Sign the council's statements for its federations (roster, mandates, recalls, tallies)
    Certify(record::CouncilArg),
    /// A federation's councils and delegates; send certificates to federations
    #[command(subcommand)]
    Federation(federation::FederationCommand),
    /// Add an item kind to the council's catalogue
    #[command(subcommand)]
    Item(register::ItemCommand),
    /// Post a need: what, how much, where, by when, how urgent, for whom
    Need(register::NeedArgs),
    /// Offer goods, or hours of work with --labour
    Offer(register::OfferArgs),
    /// Describe a process that turns inputs and labour into outputs
    #[command(subcommand)]
    Process(register::ProcessCommand),
    /// Add a resource to the council's commons
    #[command(subcommand)]
    Resource(register::ResourceCommand),
    /// Book a commons resource for a time span
    Book(register::BookArgs),
    /// Record what was delivered, used, produced or worked (stocks follow)
    Fulfil(register::FulfilArgs),
    /// Withdraw your own need, offer or booking
    Withdraw(register::WithdrawArgs),
    /// List the council's register: catalogue, commons, bookings, needs, offers, plans
    Register(record::CouncilArg),
    /// Draft a plan from the register and say why each need is or is not met; `plan
    /// propose` puts it to the council
    Plan(register::PlanArgs),
    /// Export the council's register (and draft plan) as Valueflows JSON-LD
    Export(register::ExportArgs),
    /// Import a register from Valueflows JSON-LD into a council (all or nothing)
    Import(register::ImportArgs),
    /// Count a ballot file (PrefLib, BLT or commune JSON) with any method, and explain it
    Tally(tally::TallyArgs),
    /// Show a council's event log
    Log(record::LogArgs),
    /// Print a council's whole state (JSON)
    State(record::CouncilArg),
    /// Print the hash of a council's state
    StateHash(record::CouncilArg),
    /// Re-check every signature and recompute every state from the raw log
    Verify(record::VerifyArgs),
    /// Recreate every projection (cached table) from the log
    Rebuild,
    /// Manage the nodes this node syncs with
    #[command(subcommand)]
    Peer(sync::PeerCommand),
    /// Sync councils with peers over HTTP
    Sync(sync::SyncArgs),
    /// Carry events on a USB stick: export, import, have-files
    #[command(subcommand)]
    Bundle(sync::BundleCommand),
    /// Move a node's log between stores (SQLite, PostgreSQL)
    #[command(subcommand)]
    Store(store::StoreCommand),
    /// Serve the JSON HTTP API
    Serve(crate::server::ServeArgs),
    /// Print a completion script for a shell (bash, zsh, fish, elvish, powershell)
    Completions(shell::CompletionsArgs),
    /// Print the manual page (roff): `commune man | man -l -`
    Man,
    /// Fill a fresh data directory with an example: two councils with members and proposals
    Demo,
    /// Measure ingest and open times (see docs/benchmarks.md)
    Bench(crate::bench::BenchArgs),
    /// Measure what one act costs against council size and log length
    BenchAct(crate::bench_act::BenchActArgs),
    /// Measure sync between two nodes against the negentropy anchor, and bundle import
    BenchSync(crate::bench_sync::BenchSyncArgs),
    /// Measure the web pages and ballots under load (see docs/benchmarks.md)
    BenchWeb(crate::web::bench::BenchWebArgs),
}

/// What every command gets.
pub struct Invocation {
    pub dir: PathBuf,
    /// The store named on the command line or in the environment, if any.
    pub store: Option<String>,
    pub identity: String,
    pub json: bool,
}

impl Invocation {
    pub fn open(&self) -> Result<Node> {
        let node = Node::open_with(&self.dir, self.store.as_deref())?;
        // What a killed write left behind; a directory this user cannot write keeps it.
        let _ = crate::transport::bundle::remove_stray_copies(&self.dir);
        Ok(node)
    }

    /// Creates the data directory and the identity `name` if they are missing.
    pub fn init(&self, name: &str) -> Result<(Node, bool)> {
        Node::init(&self.dir, self.store.as_deref(), name)
    }

    /// Prints `value` as JSON, or `text` for people.
    pub fn print<T: Serialize>(&self, value: &T, text: impl FnOnce() -> String) -> Result<()> {
        if self.json {
            write_out(&serde_json::to_string_pretty(value)?)
        } else {
            let text = text();
            if text.is_empty() {
                return Ok(());
            }
            write_out(text.trim_end())
        }
    }
}

/// Writes `text` and a newline to standard output. Unlike `println!`, a reader that went away
/// (`commune log | head`) is an error that `main` recognises and ends the run quietly on.
pub fn write_out(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

pub fn run(cli: Cli) -> Result<()> {
    // These describe the command line itself: no data directory is looked for.
    let command = match cli.command {
        Command::Completions(args) => return shell::completions(args),
        Command::Man => return shell::man(),
        command => command,
    };
    let dir = match cli.data {
        Some(dir) => dir,
        None => config::default_data_dir()
            .context("cannot find a home for the data directory: set --data DIR or COMMUNE_DATA")?,
    };
    let invocation = Invocation {
        dir,
        store: cli.store,
        identity: cli.identity,
        json: cli.json,
    };
    match command {
        Command::Init => record::init(&invocation),
        Command::Whoami => record::whoami(&invocation),
        Command::Key(command) => record::key(&invocation, command),
        Command::Council(command) => council::run(&invocation, command),
        Command::Invite(args) => council::invite(&invocation, args),
        Command::Join(args) => council::join(&invocation, args),
        Command::Proposal(command) => proposal::run(&invocation, command),
        Command::Vote(args) => proposal::vote(&invocation, args),
        Command::Comment(args) => proposal::comment(&invocation, args),
        Command::Close(args) => proposal::close(&invocation, args),
        Command::Tally(args) => tally::run(&invocation, args),
        Command::Item(command) => register::item(&invocation, command),
        Command::Need(args) => register::need(&invocation, args),
        Command::Offer(args) => register::offer(&invocation, args),
        Command::Process(command) => register::process(&invocation, command),
        Command::Resource(command) => register::resource(&invocation, command),
        Command::Book(args) => register::book(&invocation, args),
        Command::Fulfil(args) => register::fulfil(&invocation, args),
        Command::Withdraw(args) => register::withdraw(&invocation, args),
        Command::Register(args) => register::list(&invocation, &args.council),
        Command::Plan(args) => register::plan(&invocation, args),
        Command::Export(args) => register::export(&invocation, args),
        Command::Import(args) => register::import(&invocation, args),
        Command::Mandate(command) => federation::mandates(&invocation, command),
        Command::Act(args) => federation::act(&invocation, args),
        Command::Petition(args) => federation::petition(&invocation, args),
        Command::Certify(args) => federation::certify(&invocation, args),
        Command::Federation(command) => federation::federation(&invocation, command),
        Command::Log(args) => record::log(&invocation, args),
        Command::State(args) => record::state(&invocation, args),
        Command::StateHash(args) => record::state_hash(&invocation, args),
        Command::Verify(args) => record::verify(&invocation, args),
        Command::Rebuild => record::rebuild(&invocation),
        Command::Peer(command) => sync::peer(&invocation, command),
        Command::Sync(args) => sync::sync(&invocation, args),
        Command::Bundle(command) => sync::bundle(&invocation, command),
        Command::Store(command) => store::run(&invocation, command),
        Command::Serve(args) => crate::server::serve(&invocation, args),
        Command::Completions(args) => shell::completions(args),
        Command::Man => shell::man(),
        Command::Demo => crate::demo::run(&invocation),
        Command::Bench(args) => crate::bench::run(&invocation, args),
        Command::BenchAct(args) => crate::bench_act::run(&invocation, args),
        Command::BenchSync(args) => crate::bench_sync::run(&invocation, args),
        Command::BenchWeb(args) => crate::web::bench::run(&invocation, args),
    }
}

/// Prints an event id as `kind id` for people, or as `{"event": …}` in JSON.
pub fn print_event(invocation: &Invocation, what: &str, event: &commune_core::Event) -> Result<()> {
    invocation.print(
        &serde_json::json!({ "event": event.id, "kind": what }),
        || format!("{what}: {}", event.id),
    )
}
