//! `commune council …`, `commune invite`, `commune join`.

use std::fmt::Write as _;

use anyhow::{Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use commune_core::constitution::{Admission, Constitution, FederationRules};
use commune_core::invite::Invitation;
use commune_core::payload::{self, Payload};

use super::{Invocation, print_event};

#[derive(Debug, Subcommand)]
pub enum CouncilCommand {
    /// Found a council, with you as its first member
    Found(FoundArgs),
    /// List the councils on this node
    List,
    /// Show a council: members, constitution, proposals
    Show(super::record::CouncilArg),
    /// Leave a council
    Leave(super::record::CouncilArg),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AdmissionArg {
    /// Any member may invite; the invited join at once
    Invitation,
    /// Requests to join are decided by the council
    Vote,
    /// Anyone holding the log may join
    Open,
}

#[derive(Debug, Args)]
pub struct FoundArgs {
    /// The council's name
    pub name: String,
    /// Your name within the council [default: the identity's name]
    #[arg(long = "my-name")]
    pub my_name: Option<String>,
    /// How new members come in
    #[arg(long, value_enum, default_value = "invitation")]
    pub admission: AdmissionArg,
    /// A whole constitution as JSON (as `commune council show --json` prints it)
    #[arg(long, value_name = "FILE", conflicts_with = "admission")]
    pub constitution: Option<std::path::PathBuf>,
    /// Found a federation: its members are councils, represented by their delegates
    #[arg(long, conflicts_with = "constitution")]
    pub federation: bool,
    /// Who may read the council: only its members (the default), anyone (`public`), or
    /// `private` (read as `members`; its bodies are not yet end-to-end encrypted)
    #[arg(
        long,
        value_enum,
        default_value = "members",
        conflicts_with = "constitution"
    )]
    pub reading: ReadingArg,
    /// In a federation: what its member councils let it read to plan, their registers (the
    /// default; never their ballots or members) or nothing beyond their own reading rule
    #[arg(long, value_enum, requires = "federation")]
    pub planning: Option<PlanningArg>,
}

/// What a federation reads of its member councils, as `--planning` names it.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PlanningArg {
    Register,
    Nothing,
}

impl PlanningArg {
    pub fn planning(self) -> commune_core::constitution::Planning {
        match self {
            PlanningArg::Register => commune_core::constitution::Planning::Register,
            PlanningArg::Nothing => commune_core::constitution::Planning::Nothing,
        }
    }
}

/// Who may read a council, as `--reading` names it.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ReadingArg {
    Public,
    Members,
    Private,
}

impl ReadingArg {
    pub fn reading(self) -> commune_core::constitution::Reading {
        use commune_core::constitution::Reading;
        match self {
            ReadingArg::Public => Reading::Public,
            ReadingArg::Members => Reading::Members,
            ReadingArg::Private => Reading::Private,
        }
    }
}

#[derive(Debug, Args)]
pub struct InviteArgs {
    /// The council (id, id prefix or name)
    pub council: String,
    /// How many days the invitation stays valid (at least one: an invitation of no days
    /// would be born expired)
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub days: u64,
}

#[derive(Debug, Args)]
pub struct JoinArgs {
    /// The invitation text (`commune-invite-…`) or link (`http://HOST/join?invitation=…`,
    /// which says where to fetch the log), or the id of an open council
    pub invitation: String,
    /// Your name within the council [default: the identity's name]
    #[arg(long = "my-name")]
    pub my_name: Option<String>,
    /// A node that holds the council (a member's node, `http://HOST:PORT`): fetch its log
    /// there with the invitation, join, and send the join back, in one command
    #[arg(long, value_name = "URL")]
    pub from: Option<String>,
}

pub fn run(invocation: &Invocation, command: CouncilCommand) -> Result<()> {
    match command {
        CouncilCommand::Found(args) => found(invocation, args),
        CouncilCommand::List => list(invocation),
        CouncilCommand::Show(args) => show(invocation, &args.council),
        CouncilCommand::Leave(args) => {
            let mut node = invocation.open()?;
            let council = node.resolve_council(&args.council)?;
            let keypair = node.identity(&invocation.identity)?;
            let event = node.act(&keypair, council, Payload::Leave(payload::Leave {}))?;
            print_event(invocation, "left", &event)
        }
    }
}

fn found(invocation: &Invocation, args: FoundArgs) -> Result<()> {
    let mut node = invocation.open()?;
    let keypair = node.identity(&invocation.identity)?;
    let constitution = match &args.constitution {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{} is not a constitution: {e}", path.display()))?
        }
        None => Constitution {
            admission: match args.admission {
                AdmissionArg::Invitation => Admission::Invitation,
                AdmissionArg::Vote => Admission::Vote,
                AdmissionArg::Open => Admission::Open,
            },
            federation: args.federation.then(|| FederationRules {
                planning: args.planning.map(PlanningArg::planning),
                ..FederationRules::default()
            }),
            // Left out when the council keeps the default, so that its bytes stay as before.
            reading: match args.reading {
                ReadingArg::Members => None,
                other => Some(other.reading()),
            },
            ..Constitution::default()
        },
    };
    let my_name = args.my_name.unwrap_or_else(|| invocation.identity.clone());
    let event = node.found(&keypair, &args.name, &my_name, constitution)?;
    invocation.print(
        &serde_json::json!({ "council": event.council(), "name": args.name }),
        || format!("founded {:?}: {}", args.name, event.council()),
    )
}

fn list(invocation: &Invocation) -> Result<()> {
    let mut node = invocation.open()?;
    let councils = node.councils()?;
    invocation.print(&councils, || {
        if councils.is_empty() {
            return "no councils yet: `commune council found NAME` or `commune join INVITATION`"
                .into();
        }
        let mut out = String::new();
        for c in &councils {
            let _ = writeln!(
                out,
                "{}  {}  ({} members, {} open proposals)",
                c.id.short(),
                c.name,
                c.members,
                c.open_proposals
            );
        }
        out
    })
}

fn show(invocation: &Invocation, council: &str) -> Result<()> {
    let mut node = invocation.open()?;
    let council = node.resolve_council(council)?;
    let folded = node.fold(council)?;
    let state = &folded.state;
    let names = super::federation::delegate_names(&mut node, state);
    let view = serde_json::json!({
        "council": state.council,
        "name": state.name,
        "constitution": state.constitution,
        "members": state.members,
        "former_members": state.former_members,
        "applicants": state.applicants,
        "proposals": state.proposals.values().map(super::proposal::summary).collect::<Vec<_>>(),
    });
    invocation.print(&view, || {
        let mut out = format!("{}  ({})\n", state.name, state.council);
        let c = &state.constitution;
        let _ = writeln!(
            out,
            "admission by {:?}; general questions by {}, removals by {}, amendments by {}",
            c.admission,
            c.general.method.name(),
            c.removal.method.name(),
            c.amendment.method.name()
        );
        let _ = writeln!(out, "planner: {}", c.planner_settings().describe());
        let _ = writeln!(
            out,
            "reading: {} ({})",
            c.reading().name(),
            c.reading().words()
        );
        if let Some(rules) = &c.federation {
            let planning = match rules.planning.unwrap_or_default() {
                commune_core::constitution::Planning::Register => {
                    "its members and its councils' members read each member council's register to plan"
                }
                commune_core::constitution::Planning::Nothing => {
                    "it reads nothing of its member councils beyond their own reading rules"
                }
            };
            let _ = writeln!(out, "planning: {planning}");
        }
        let _ = writeln!(out, "\nmembers ({}):", state.members.len());
        for (id, member) in &state.members {
            let _ = writeln!(out, "  {}  {}", id.short(), member.name);
        }
        if !state.applicants.is_empty() {
            let _ = writeln!(out, "\nasking to join:");
            for (id, applicant) in &state.applicants {
                let _ = writeln!(out, "  {}  {}", id.short(), applicant.name);
            }
        }
        let _ = writeln!(out, "\nproposals:");
        for proposal in state.proposals.values() {
            let _ = writeln!(out, "  {}", super::proposal::one_line(state, &names, proposal));
        }
        out
    })
}

pub fn invite(invocation: &Invocation, args: InviteArgs) -> Result<()> {
    let mut node = invocation.open()?;
    let council = node.resolve_council(&args.council)?;
    let keypair = node.identity(&invocation.identity)?;
    let invitation = node.invite(&keypair, council, args.days * 24 * 60 * 60 * 1000)?;
    let text = invitation.to_text();
    invocation.print(
        &serde_json::json!({ "invitation": text, "council": council, "expires_ms": invitation.expires_ms }),
        || text.clone(),
    )
}

/// An invitation link as the web app hands it out (`http://HOST/join?invitation=TEXT`): the
/// node's address and the invitation's text.
fn split_link(text: &str) -> Option<(String, String)> {
    let text = text.trim();
    if !(text.starts_with("http://") || text.starts_with("https://")) {
        return None;
    }
    let (base, query) = text.split_once("/join?")?;
    let invitation = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("invitation="))?;
    Some((base.to_owned(), invitation.to_owned()))
}

pub fn join(invocation: &Invocation, mut args: JoinArgs) -> Result<()> {
    // A link carries the node to join from: `commune join http://HOST/join?invitation=…`.
    if let Some((base, invitation)) = split_link(&args.invitation) {
        args.from.get_or_insert(base);
        args.invitation = invitation;
    }
    let mut node = invocation.open()?;
    let keypair = node.identity(&invocation.identity)?;
    let name = args.my_name.unwrap_or_else(|| invocation.identity.clone());
    let (council, invitation) = if args
        .invitation
        .trim()
        .starts_with(commune_core::invite::PREFIX)
    {
        let invitation = Invitation::from_text(&args.invitation)?;
        (invitation.council, Some(invitation))
    } else {
        (node.resolve_council(&args.invitation)?, None)
    };
    let Some(url) = args.from else {
        if node.store().event_count(council)? == 0 {
            bail!(
                "this node does not hold the council's log yet: join with --from URL (a member's node), or sync with one first"
            );
        }
        let event = node.act(
            &keypair,
            council,
            Payload::Join(payload::Join { name, invitation }),
        )?;
        return print_event(invocation, "joined", &event);
    };
    // The invitation is a read credential until it is used: fetch the log with it, join
    // here, then send the join back (the peer reads it as the log's next event).
    let mut peer = crate::transport::client::Peer::new(&url, keypair.clone())?;
    if invitation.is_some() {
        peer = peer.with_invitation(args.invitation.trim().to_owned());
    }
    let node = std::sync::Mutex::new(node);
    crate::transport::client::sync_council(&node, &mut peer, council, &mut |_, _| {})
        .map_err(|error| error.context(format!("cannot fetch the council's log from {url}")))?;
    let event = node
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .act(
            &keypair,
            council,
            Payload::Join(payload::Join { name, invitation }),
        )?;
    crate::transport::client::sync_council(&node, &mut peer, council, &mut |_, _| {})
        .map_err(|error| {
            error.context(format!(
                "joined on this node, but could not send the join to {url}: `commune sync --peer {url}` sends it"
            ))
        })?;
    print_event(invocation, "joined", &event)
}
