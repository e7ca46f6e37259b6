//! `commune proposal …`, `commune vote`, `commune comment`, `commune close`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::{Result, anyhow, bail};
use clap::{Args, Subcommand, ValueEnum};
use commune_core::mandate::{Amount, Instruction, MandateTerms, Scope};
use commune_core::payload::{self, Action, Mode, Payload};
use commune_core::plan::Fairness;
use commune_core::state::{CastBallot, Proposal, State};
use commune_core::tally::{Availability, Choice, Method, Position, Quorum, YesNo};
use commune_core::{CouncilId, EventId, MemberId};

use super::{Invocation, print_event};
use crate::node::Node;

#[derive(Debug, Subcommand)]
pub enum ProposalCommand {
    /// Put a question to a council
    Open(Box<OpenArgs>),
    /// List a council's proposals
    List(super::record::CouncilArg),
    /// Show a proposal: text, ballots, discussion, result
    Show(ProposalRef),
    /// Print a decided proposal's counted ballots (without voters) as BLT or PrefLib, to
    /// recount with another tool
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub proposal: ProposalRef,
    /// The file format
    #[arg(long, value_enum)]
    pub format: ExportFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// BLT (OpenSTV, Droop, stv-rs and most STV counters)
    Blt,
    /// PrefLib, orders with ties, incomplete (.toi)
    Preflib,
}

#[derive(Debug, Args)]
pub struct ProposalRef {
    /// The council (id, id prefix or name)
    pub council: String,
    /// The proposal (id or id prefix)
    pub proposal: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MethodArg {
    /// Agree / abstain / object / block: passes with no block (decisions everyone can live with)
    Consent,
    /// Yes / no: more than half of those voting yes or no
    Majority,
    /// Yes / no with a higher bar, such as two thirds (rules, removals)
    Supermajority,
    /// Choose among options: each approves any number, the most approved wins
    Approval,
    /// Choose among options: each scores every option from 0 to --max-score, the highest total wins
    Score,
    /// Rank the options; the Schulze (Condorcet) winner, optionally against a --status-quo
    Schulze,
    /// Rank the options; instant-runoff voting elects one
    Irv,
    /// Rank the candidates; STV by Meek's method elects --seats
    StvMeek,
    /// Rank the candidates; STV by the Scottish local election rules elects --seats
    StvScottish,
    /// Find a time: the options are slots, each voter says yes, maybe or no to each
    TimePoll,
}

/// The parameters of the methods; each is used by some methods only.
#[derive(Debug, Args)]
pub struct MethodParams {
    /// How many options win (approval, score)
    #[arg(long, default_value_t = 1)]
    pub winners: u32,
    /// The highest score (score)
    #[arg(long, default_value_t = 5)]
    pub max_score: u32,
    /// How many seats to fill (stv-meek, stv-scottish) [default: the ballot file's, or 1]
    #[arg(long)]
    pub seats: Option<u32>,
    /// The option that stands for "no change", which a winner must beat (schulze)
    #[arg(long, value_name = "OPTION")]
    pub status_quo: Option<String>,
    /// How many objections consent tolerates
    #[arg(long, default_value_t = 0)]
    pub max_objections: u32,
    /// The share yes must reach (supermajority), as N/D
    #[arg(long, default_value = "2/3")]
    pub threshold: String,
}

impl MethodParams {
    /// The method `arg` with these parameters, for `options`; `seats` when none are given.
    pub fn method(&self, arg: MethodArg, options: &[String], seats: Option<u32>) -> Result<Method> {
        let seats = self.seats.or(seats).unwrap_or(1);
        Ok(match arg {
            MethodArg::Consent => Method::Consent {
                max_objections: self.max_objections,
            },
            MethodArg::Majority => Method::Majority,
            MethodArg::Supermajority => {
                let (numerator, denominator) = self
                    .threshold
                    .split_once('/')
                    .and_then(|(n, d)| Some((n.trim().parse().ok()?, d.trim().parse().ok()?)))
                    .ok_or_else(|| anyhow!("a threshold is written N/D, such as 2/3"))?;
                Method::Supermajority {
                    numerator,
                    denominator,
                }
            }
            MethodArg::Approval => Method::Approval {
                winners: self.winners,
            },
            MethodArg::Score => Method::Score {
                max: self.max_score,
                winners: self.winners,
            },
            MethodArg::Schulze => Method::Schulze {
                status_quo: self
                    .status_quo
                    .as_deref()
                    .map(|word| option_index(word, options))
                    .transpose()?,
            },
            MethodArg::Irv => Method::Irv,
            MethodArg::StvMeek => Method::StvMeek { seats },
            MethodArg::StvScottish => Method::StvScottish { seats },
            MethodArg::TimePoll => Method::TimePoll,
        })
    }
}

#[derive(Debug, Args)]
pub struct OpenArgs {
    /// The council (id, id prefix or name)
    pub council: String,
    /// The question, in a line
    pub title: String,
    /// The full text
    #[arg(long, default_value = "")]
    pub text: String,
    /// How it is decided [default: the constitution's for this kind of question]
    #[arg(long, value_enum)]
    pub method: Option<MethodArg>,
    /// An option to choose among (methods with options); repeat for each
    #[arg(long = "option", value_name = "TEXT")]
    pub options: Vec<String>,
    #[command(flatten)]
    pub params: MethodParams,
    /// The fewest ballots for a valid decision [default: the constitution's]
    #[arg(long)]
    pub quorum: Option<u32>,
    /// The smallest share of the electorate that must vote, in percent [default: the constitution's]
    #[arg(long)]
    pub quorum_percent: Option<u32>,
    /// How long it stays open: e.g. 30m, 12h, 3d
    #[arg(long, default_value = "3d")]
    pub open_for: String,
    /// Decide on removing this member (id or prefix)
    #[arg(long, conflicts_with_all = ["admit", "amend"])]
    pub remove: Option<String>,
    /// Decide on admitting this applicant (id or prefix)
    #[arg(long, conflicts_with_all = ["remove", "amend"])]
    pub admit: Option<String>,
    /// Decide on a new constitution, given as a JSON file
    #[arg(long, value_name = "FILE", conflicts_with_all = ["remove", "admit"])]
    pub amend: Option<std::path::PathBuf>,
    /// Decide at once (any --open-for), then put the decision to the council for ratification
    #[arg(long)]
    pub urgent: bool,
    /// In a federation: refer the question to every member council, which tallies it itself
    #[arg(long)]
    pub referral: bool,
    /// Elect among these members (repeat; the options are their names): each winner gets a
    /// mandate. Needs --delegates-to or --working-group
    #[arg(long = "elect", value_name = "MEMBER")]
    pub elect: Vec<String>,
    /// With --elect: the mandates represent the council in this federation (name or id)
    #[arg(long, value_name = "FEDERATION")]
    pub delegates_to: Option<String>,
    /// With --elect: the mandates form this working group
    #[arg(long, value_name = "NAME")]
    pub working_group: Option<String>,
    /// With --working-group: a limit on its acts, as UNIT=N (repeat)
    #[arg(long = "limit", value_name = "UNIT=N")]
    pub limits: Vec<String>,
    /// With --elect: how long the mandates last: e.g. 90d
    #[arg(long, default_value = "90d")]
    pub term: String,
    /// Decide on recalling this mandate (id or prefix)
    #[arg(long, value_name = "MANDATE")]
    pub recall: Option<String>,
    /// Decide on asking to join this federation (name or id)
    #[arg(long, value_name = "FEDERATION")]
    pub join_federation: Option<String>,
    /// In a federation: decide on admitting this council (name, id, or the prefix of an
    /// applicant's id)
    #[arg(long, value_name = "COUNCIL")]
    pub admit_council: Option<String>,
    /// Decide on undoing a working group's act (its event id)
    #[arg(long, value_name = "ACT")]
    pub overturn: Option<EventId>,
    /// Decide, as this council, a question the federation (--federation) referred to it; its
    /// method and options are the federation's
    #[arg(long, value_name = "QUESTION", requires = "federation")]
    pub refer: Option<String>,
    /// Decide the position the council's delegates must take on a federation question
    /// (--federation); give the position with --position, as for `commune vote`
    #[arg(long, value_name = "QUESTION", requires_all = ["federation", "position"])]
    pub instruct: Option<String>,
    /// The federation of --refer or --instruct (id, prefix or name)
    #[arg(long)]
    pub federation: Option<String>,
    /// With --instruct: the instructed ballot (repeat words as for `commune vote`)
    #[arg(long, num_args = 1..)]
    pub position: Vec<String>,
    /// Decide on amending the planner's tolerance: how much of each class's fulfilment a later
    /// stage may trade for labour saved, in percent, in steps of 0.1 (e.g. 0.1%, or 0)
    #[arg(long, value_name = "PERCENT")]
    pub plan_tolerance: Option<String>,
    /// Decide on amending how the planner shares what is too little among receivers
    #[arg(long, value_enum)]
    pub plan_fairness: Option<FairnessArg>,
    /// Decide on amending who may read the council (the rest of the constitution unchanged)
    #[arg(long, value_enum)]
    pub reading: Option<super::council::ReadingArg>,
    /// In a federation: decide on amending what it reads of its member councils to plan
    #[arg(long, value_enum)]
    pub planning: Option<super::council::PlanningArg>,
}

/// How the planner shares scarce goods, as `--plan-fairness` names it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FairnessArg {
    /// Raise the least-served receiver first
    MaxMin,
    /// Every receiver gets the same fraction of their ask
    Proportional,
}

#[derive(Debug, Args)]
pub struct VoteArgs {
    /// The council (id, id prefix or name)
    pub council: String,
    /// The proposal (id or id prefix)
    pub proposal: String,
    /// Your ballot: yes/no/abstain; agree/abstain/object/block; the options you approve; the
    /// options in order of preference, equal ones joined by `=` (a b=c d); OPTION=SCORE for
    /// each option you score; SLOT=yes|maybe|no for each slot (unnamed slots are no)
    #[arg(required = true, num_args = 1..)]
    pub choice: Vec<String>,
    /// Why (required to object or block)
    #[arg(long, default_value = "")]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct CommentArgs {
    /// The council (id, id prefix or name)
    pub council: String,
    /// The proposal (id or id prefix)
    pub proposal: String,
    /// What you have to say
    pub text: String,
    /// The comment this answers (its event id)
    #[arg(long)]
    pub reply_to: Option<commune_core::EventId>,
}

#[derive(Debug, Args)]
pub struct CloseArgs {
    /// The council (id, id prefix or name)
    pub council: String,
    /// The proposal (id or id prefix)
    pub proposal: String,
}

pub fn run(invocation: &Invocation, command: ProposalCommand) -> Result<()> {
    match command {
        ProposalCommand::Open(args) => open(invocation, *args),
        ProposalCommand::List(args) => {
            let mut node = invocation.open()?;
            let council = node.resolve_council(&args.council)?;
            let folded = node.fold(council)?;
            let names = super::federation::delegate_names(&mut node, &folded.state);
            let list: Vec<_> = folded.state.proposals.values().map(summary).collect();
            invocation.print(&list, || {
                let mut out = String::new();
                for proposal in folded.state.proposals.values() {
                    let _ = writeln!(out, "{}", one_line(&folded.state, &names, proposal));
                }
                if out.is_empty() {
                    out = "no proposals yet".into();
                }
                out
            })
        }
        ProposalCommand::Show(args) => show(invocation, args),
        ProposalCommand::Export(args) => export(invocation, args),
    }
}

/// The fields of a proposal for lists.
pub fn summary(proposal: &Proposal) -> serde_json::Value {
    serde_json::json!({
        "id": proposal.id,
        "title": proposal.title,
        "question": proposal.question,
        "method": proposal.method.name(),
        "deadline_ms": proposal.deadline_ms,
        "open": proposal.is_open(),
        "passed": proposal.decision.as_ref().map(|d| d.outcome.passed),
        "contested": proposal.decision.as_ref().map(|d| !d.contested_by.is_empty()),
        "revoked": proposal.decision.as_ref().and_then(|d| d.revoked),
        "follows_revoked": proposal.follows_revoked,
    })
}

/// A member by name; a federation's delegate by `names` (see `delegate_names`) where known.
pub fn person(state: &State, names: &BTreeMap<MemberId, String>, member: &MemberId) -> String {
    names
        .get(member)
        .cloned()
        .unwrap_or_else(|| state.member_name(member))
}

/// A proposal in a line, for `proposal list` and `council show`.
pub fn one_line(state: &State, names: &BTreeMap<MemberId, String>, proposal: &Proposal) -> String {
    let status = match &proposal.decision {
        None => format!(
            "open until {}",
            crate::config::format_time(proposal.deadline_ms)
        ),
        Some(d) if !d.contested_by.is_empty() => "decided, CONTESTED".into(),
        Some(d) if d.revoked.is_some() => "passed, then REVOKED: not ratified".into(),
        Some(d) if d.outcome.passed && d.ratification.is_some() => {
            "passed (urgent: ratification pending or done, see `proposal show`)".into()
        }
        Some(d) if d.outcome.passed => "passed".into(),
        Some(d) if !d.outcome.quorum_met => "failed: no quorum".into(),
        Some(_) => "failed".into(),
    };
    format!(
        "{}  {}  [{}, {}{}] by {}",
        proposal.id.short(),
        proposal.title,
        proposal.method.name(),
        status,
        if proposal.follows_revoked.is_some() {
            "; FLAGGED: follows a revoked urgent decision"
        } else {
            ""
        },
        person(state, names, &proposal.proposer)
    )
}

pub(super) fn parse_duration(text: &str) -> Result<u64> {
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let number: u64 = number.parse().map_err(|_| {
        anyhow!("a duration is a number and a unit, such as 30m, 12h or 3d: {text:?}")
    })?;
    let unit_ms = match unit {
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => bail!("a duration ends in m, h or d: {text:?}"),
    };
    Ok(number * unit_ms)
}

/// A council named on the command line: a whole id (the council need not be on this node),
/// the prefix of one of `among` (councils another council's log names), or a council on this
/// node by name or id prefix.
fn council_ref(node: &mut Node, text: &str, among: &[CouncilId]) -> Result<CouncilId> {
    if let Ok(id) = text.parse() {
        return Ok(id);
    }
    let lower = text.to_lowercase();
    let matching: Vec<&CouncilId> = among
        .iter()
        .filter(|id| lower.len() >= 4 && id.to_string().starts_with(&lower))
        .collect();
    match matching.as_slice() {
        [one] => Ok(**one),
        [] => node.resolve_council(text),
        _ => bail!("{text:?} matches several councils: give more of the id"),
    }
}

fn open(invocation: &Invocation, args: OpenArgs) -> Result<()> {
    let mut node = invocation.open()?;
    let council = node.resolve_council(&args.council)?;
    let keypair = node.identity(&invocation.identity)?;
    let folded = node.fold(council)?;
    let state = &folded.state;
    let find_member =
        |text: &str, pool: Vec<commune_core::MemberId>| -> Result<commune_core::MemberId> {
            let text = text.to_lowercase();
            let found: Vec<_> = pool
                .into_iter()
                .filter(|id| {
                    (text.len() >= 4 && id.to_string().starts_with(&text))
                        || state.member_name(id).to_lowercase() == text
                })
                .collect();
            match found.as_slice() {
                [one] => Ok(*one),
                [] => bail!("no such person in {}: {text:?}", state.name),
                _ => bail!("{text:?} matches several people: give more of the id"),
            }
        };
    let chosen = [
        args.remove.is_some(),
        args.admit.is_some(),
        args.amend.is_some(),
        !args.elect.is_empty(),
        args.recall.is_some(),
        args.join_federation.is_some(),
        args.admit_council.is_some(),
        args.overturn.is_some(),
        args.refer.is_some(),
        args.instruct.is_some(),
        args.plan_tolerance.is_some() || args.plan_fairness.is_some(),
        args.reading.is_some(),
        args.planning.is_some(),
    ];
    if chosen.iter().filter(|&&c| c).count() > 1 {
        bail!(
            "a proposal decides one thing: give only one of --remove, --admit, --amend, --elect, --recall, --join-federation, --admit-council, --overturn, --refer, --instruct, --plan-tolerance/--plan-fairness, --reading, --planning"
        );
    }
    let mut options = args.options.clone();
    let mut method = args
        .method
        .map(|arg| args.params.method(arg, &args.options, None))
        .transpose()?;
    let action = if let Some(member) = &args.remove {
        Action::Remove {
            member: find_member(member, state.members.keys().copied().collect())?,
        }
    } else if let Some(applicant) = &args.admit {
        Action::Admit {
            member: find_member(applicant, state.applicants.keys().copied().collect())?,
        }
    } else if let Some(path) = &args.amend {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
        Action::Amend {
            constitution: serde_json::from_str(&text)
                .map_err(|e| anyhow!("{} is not a constitution: {e}", path.display()))?,
        }
    } else if !args.elect.is_empty() {
        let candidates = args
            .elect
            .iter()
            .map(|c| find_member(c, state.members.keys().copied().collect()))
            .collect::<Result<Vec<_>>>()?;
        options = candidates.iter().map(|c| state.member_name(c)).collect();
        // One candidate stands against re-opening nominations, as in real assemblies.
        if candidates.len() == 1 {
            options.push(commune_core::mandate::REOPEN_NOMINATIONS.to_owned());
        }
        let scope = match (&args.delegates_to, &args.working_group) {
            (Some(federation), None) => Scope::Federation {
                federation: council_ref(&mut node, federation, &[])?,
            },
            (None, Some(name)) => Scope::WorkingGroup {
                name: name.clone(),
                limits: args
                    .limits
                    .iter()
                    .map(|text| {
                        let (unit, n) = text
                            .rsplit_once('=')
                            .ok_or_else(|| anyhow!("a limit is UNIT=N, not {text:?}"))?;
                        Ok(Amount {
                            unit: unit.trim().to_owned(),
                            quantity: n
                                .trim()
                                .parse()
                                .map_err(|_| anyhow!("{n:?} is not a whole number"))?,
                        })
                    })
                    .collect::<Result<_>>()?,
            },
            _ => bail!(
                "say what the mandates are for: --delegates-to FEDERATION or --working-group NAME"
            ),
        };
        method = Some(match args.method {
            Some(arg) => args.params.method(arg, &options, None)?,
            None => Method::Approval {
                winners: args.params.winners,
            },
        });
        Action::Elect {
            candidates,
            terms: MandateTerms {
                scope,
                term_ms: parse_duration(&args.term)?,
                instructions: Vec::new(),
            },
        }
    } else if let Some(mandate) = &args.recall {
        let text = mandate.to_lowercase();
        let found: Vec<_> = state
            .mandates
            .keys()
            .filter(|id| id.to_string().starts_with(&text))
            .collect();
        match found.as_slice() {
            [one] => Action::Recall { mandate: **one },
            [] => bail!("no mandate {text:?} in {}", state.name),
            _ => bail!("{text:?} matches several mandates: give more of the id"),
        }
    } else if let Some(federation) = &args.join_federation {
        Action::JoinFederation {
            federation: council_ref(&mut node, federation, &[])?,
        }
    } else if let Some(council) = &args.admit_council {
        let applicants: Vec<CouncilId> = state
            .federation
            .iter()
            .flat_map(|f| f.applicants.keys().copied())
            .collect();
        Action::AdmitCouncil {
            council: council_ref(&mut node, council, &applicants)?,
        }
    } else if let Some(act) = args.overturn {
        Action::Overturn { act }
    } else if let (Some(question), Some(federation)) = (
        args.refer.as_ref().or(args.instruct.as_ref()),
        &args.federation,
    ) {
        let federation = node.resolve_council(federation)?;
        let question = node.resolve_proposal(federation, question)?;
        let fed = node.fold(federation)?;
        let asked = &fed.state.proposals[&question];
        if args.refer.is_some() {
            method = Some(asked.method.clone());
            options = asked.options.clone();
            Action::Refer {
                federation,
                question,
            }
        } else {
            let vote = VoteArgs {
                council: String::new(),
                proposal: String::new(),
                choice: args.position.clone(),
                reason: String::new(),
            };
            Action::Instruct {
                federation,
                instruction: Instruction {
                    proposal: question,
                    choice: parse_choice(&vote, asked)?,
                },
            }
        }
    } else if args.plan_tolerance.is_some() || args.plan_fairness.is_some() {
        let mut constitution = state.constitution.clone();
        let mut settings = constitution.planner_settings();
        if let Some(text) = &args.plan_tolerance {
            settings.tolerance_permille = crate::register::parse_tolerance(text)?;
        }
        if let Some(fairness) = args.plan_fairness {
            settings.fairness = match fairness {
                FairnessArg::MaxMin => Fairness::MaxMin,
                FairnessArg::Proportional => Fairness::Proportional,
            };
        }
        constitution.planner = Some(settings);
        Action::Amend { constitution }
    } else if let Some(planning) = args.planning {
        let mut constitution = state.constitution.clone();
        let Some(rules) = &mut constitution.federation else {
            bail!(
                "{} is a council, not a federation: --planning is a federation's rule",
                state.name
            );
        };
        rules.planning = Some(planning.planning());
        Action::Amend { constitution }
    } else if let Some(reading) = args.reading {
        let mut constitution = state.constitution.clone();
        constitution.reading = Some(reading.reading());
        Action::Amend { constitution }
    } else {
        Action::None
    };

    let quorum = match (args.quorum, args.quorum_percent) {
        (None, None) => None,
        (count, percent) => Some(Quorum {
            min_ballots: count.unwrap_or(0),
            min_share_permille: percent.unwrap_or(0) * 10,
        }),
    };
    let deadline_ms = crate::node::now_ms() + parse_duration(&args.open_for)?;
    let event = node.act(
        &keypair,
        council,
        Payload::Propose(payload::Propose {
            title: args.title,
            text: args.text,
            action,
            method,
            options,
            quorum,
            deadline_ms,
            mode: if args.urgent {
                Some(Mode::Urgent)
            } else if args.referral {
                Some(Mode::Referral)
            } else {
                None
            },
        }),
    )?;
    print_event(invocation, "proposal", &event)
}

fn show(invocation: &Invocation, args: ProposalRef) -> Result<()> {
    let mut node = invocation.open()?;
    let council = node.resolve_council(&args.council)?;
    let id = node.resolve_proposal(council, &args.proposal)?;
    let folded = node.fold(council)?;
    let state = &folded.state;
    let names = super::federation::delegate_names(&mut node, state);
    let proposal = &state.proposals[&id];
    let running = proposal.is_open().then(|| proposal.running_tally());
    let view = serde_json::json!({ "proposal": proposal, "running_tally": running });
    invocation.print(&view, || {
        let mut out = format!(
            "{}\n{}\n",
            proposal.title,
            "=".repeat(proposal.title.chars().count())
        );
        if !proposal.text.is_empty() {
            let _ = writeln!(out, "{}\n", proposal.text);
        }
        // A referred question's electorate is the member councils' members, who vote at
        // home; the federation's own list of voters is empty.
        let electorate = if proposal.mode == Some(commune_core::payload::Mode::Referral) {
            format!(
                "referred to {} council(s) of {} member(s), which count it themselves",
                proposal.councils.len(),
                proposal.councils.values().sum::<u64>()
            )
        } else {
            format!("{} in the electorate", proposal.electorate.len())
        };
        let _ = writeln!(
            out,
            "{} question by {}, decided by {}; {electorate}",
            proposal.question.name(),
            person(state, &names, &proposal.proposer),
            proposal.method.name(),
        );
        for (i, option) in proposal.options.iter().enumerate() {
            let _ = writeln!(out, "  option {}: {option}", i + 1);
        }
        let outcome = match (&proposal.decision, &running) {
            (Some(decision), _) => {
                let _ = writeln!(
                    out,
                    "\nDECIDED: {}{}",
                    if decision.outcome.passed {
                        "passed"
                    } else {
                        "did not pass"
                    },
                    if decision.contested_by.is_empty() {
                        ""
                    } else {
                        " — CONTESTED: a concurrent close reached another outcome"
                    }
                );
                &decision.outcome
            }
            (None, Some(running)) => {
                let deadline = crate::config::format_time(proposal.deadline_ms);
                let _ = if crate::node::now_ms() > proposal.deadline_ms {
                    writeln!(
                        out,
                        "\nthe deadline passed at {deadline}; ballots still count until someone \
                         closes it"
                    )
                } else {
                    writeln!(out, "\nopen until {deadline}")
                };
                running
            }
            (None, None) => unreachable!("an open proposal has a running tally"),
        };
        let _ = writeln!(
            out,
            "the count{}, in {}:",
            if proposal.is_open() { " so far" } else { "" },
            proposal.count_unit()
        );
        for (label, count) in &outcome.counts {
            let _ = writeln!(out, "  {label}: {count}");
        }
        for line in &outcome.explanation {
            let _ = writeln!(out, "  {line}");
        }
        let reasons = proposal.consent_reasons();
        if !reasons.is_empty() {
            let _ = writeln!(out, "\nobjections and blocks:");
            for (voter, position, reason) in reasons {
                let _ = writeln!(
                    out,
                    "  {} {}: {reason}",
                    state.member_name(voter),
                    match position {
                        Position::Block => "blocks",
                        _ => "objects",
                    }
                );
            }
        }
        for line in crate::decision::urgency_lines(state, proposal) {
            let _ = writeln!(out, "\n{line}");
        }
        if !proposal.comments.is_empty() {
            let _ = writeln!(out, "\ndiscussion:");
            for comment in &proposal.comments {
                let _ = writeln!(
                    out,
                    "  [{}] {}: {}",
                    comment.event.short(),
                    state.member_name(&comment.author),
                    comment.text
                );
            }
        }
        out
    })
}

/// Prints the counted ballots of a decided proposal with a ranked method. Ballots are merged
/// and sorted (see `ballot_file::write_blt`), so no voter or order of voting can be read back.
fn export(invocation: &Invocation, args: ExportArgs) -> Result<()> {
    let mut node = invocation.open()?;
    let council = node.resolve_council(&args.proposal.council)?;
    let id = node.resolve_proposal(council, &args.proposal.proposal)?;
    let folded = node.fold(council)?;
    let proposal = &folded.state.proposals[&id];
    let Some(decision) = &proposal.decision else {
        bail!("the proposal is still open: ballots are exported once it is decided");
    };
    if !proposal.method.is_ranked() {
        bail!(
            "{} ballots do not rank the options: BLT and PrefLib hold rankings (schulze, irv, stv-meek, stv-scottish)",
            proposal.method.name()
        );
    }
    let choices: std::collections::HashMap<_, _> = proposal
        .ballots
        .values()
        .flatten()
        .map(|cast| (cast.event, &cast.choice))
        .collect();
    let mut profile = commune_core::methods::Profile::new(proposal.options.clone());
    for event in &decision.counted {
        if let Some(Choice::Ranked { ranks }) = choices.get(event) {
            profile
                .push(1, ranks.iter().map(|group| group.iter().copied()))
                .map_err(|e| anyhow!("a counted ballot does not fit: {e}"))?;
        }
    }
    let seats = match proposal.method {
        Method::StvMeek { seats } | Method::StvScottish { seats } => seats,
        _ => 1,
    };
    super::write_out(&match args.format {
        ExportFormat::Blt => crate::ballot_file::write_blt(&proposal.title, &profile, seats),
        ExportFormat::Preflib => crate::ballot_file::write_preflib(&proposal.title, &profile),
    })
}

fn parse_choice(args: &VoteArgs, proposal: &Proposal) -> Result<Choice> {
    let words: Vec<String> = args.choice.iter().map(|w| w.to_lowercase()).collect();
    let single = || -> Result<&str> {
        match words.as_slice() {
            [one] => Ok(one.as_str()),
            _ => bail!("give one word for this ballot"),
        }
    };
    Ok(match &proposal.method {
        Method::Consent { .. } => Choice::Consent {
            position: match single()? {
                "agree" => Position::Agree,
                "abstain" => Position::Abstain,
                "object" => Position::Object,
                "block" => Position::Block,
                other => {
                    bail!("a consent ballot is agree, abstain, object or block, not {other:?}")
                }
            },
            reason: args.reason.clone(),
        },
        Method::Majority | Method::Supermajority { .. } => Choice::YesNo {
            vote: match single()? {
                "yes" => YesNo::Yes,
                "no" => YesNo::No,
                "abstain" => YesNo::Abstain,
                other => bail!("this ballot is yes, no or abstain, not {other:?}"),
            },
        },
        Method::Approval { .. } => {
            let mut approved = Vec::new();
            for word in &args.choice {
                approved.push(option_index(word, &proposal.options)?);
            }
            approved.sort_unstable();
            approved.dedup();
            Choice::Approval { approved }
        }
        Method::Schulze { .. }
        | Method::Irv
        | Method::StvMeek { .. }
        | Method::StvScottish { .. } => Choice::Ranked {
            ranks: args
                .choice
                .iter()
                .map(|word| {
                    word.split('=')
                        .map(|option| option_index(option, &proposal.options))
                        .collect()
                })
                .collect::<Result<_>>()?,
        },
        Method::Score { max, .. } => {
            let mut scores = vec![0; proposal.options.len()];
            for word in &args.choice {
                let (option, score) = word
                    .rsplit_once('=')
                    .ok_or_else(|| anyhow!("score each option as OPTION=SCORE, not {word:?}"))?;
                scores[option_index(option, &proposal.options)? as usize] =
                    score.parse().map_err(|_| {
                        anyhow!("a score is a whole number from 0 to {max}, not {score:?}")
                    })?;
            }
            Choice::Score { scores }
        }
        Method::TimePoll => {
            let mut answers = vec![Availability::No; proposal.options.len()];
            for word in &args.choice {
                let (slot, answer) = word.rsplit_once('=').ok_or_else(|| {
                    anyhow!("answer each slot as SLOT=yes|maybe|no, not {word:?}")
                })?;
                answers[option_index(slot, &proposal.options)? as usize] =
                    match answer.to_lowercase().as_str() {
                        "yes" => Availability::Yes,
                        "maybe" => Availability::Maybe,
                        "no" => Availability::No,
                        other => bail!("a slot is answered yes, maybe or no, not {other:?}"),
                    };
            }
            Choice::TimePoll { answers }
        }
    })
}

/// An option named by its text (any case) or its number from 1.
pub fn option_index(word: &str, options: &[String]) -> Result<u32> {
    options
        .iter()
        .position(|o| o.eq_ignore_ascii_case(word))
        .or_else(|| word.parse::<usize>().ok().and_then(|n| n.checked_sub(1)))
        .filter(|&i| i < options.len())
        .map(|i| i as u32)
        .ok_or_else(|| {
            anyhow!(
                "{word:?} is not an option; the options are: {}",
                options.join(", ")
            )
        })
}

/// The node, council, proposal and key a command on a proposal acts with.
fn on_proposal(
    invocation: &Invocation,
    council: &str,
    proposal: &str,
) -> Result<(
    crate::node::Node,
    commune_core::CouncilId,
    commune_core::EventId,
    commune_core::Keypair,
)> {
    let mut node = invocation.open()?;
    let council = node.resolve_council(council)?;
    let id = node.resolve_proposal(council, proposal)?;
    let keypair = node.identity(&invocation.identity)?;
    Ok((node, council, id, keypair))
}

pub fn vote(invocation: &Invocation, args: VoteArgs) -> Result<()> {
    let (mut node, council, id, keypair) = on_proposal(invocation, &args.council, &args.proposal)?;
    let folded = node.fold(council)?;
    let proposal = &folded.state.proposals[&id];
    let choice = parse_choice(&args, proposal)?;
    let me = keypair.public();
    let mine: Vec<&CastBallot> = proposal
        .current_ballots()
        .find(|(voter, _)| **voter == me)
        .map(|(_, latest)| latest)
        .unwrap_or_default();
    if let [only] = mine.as_slice()
        && only.choice == choice
        && proposal.is_open()
    {
        // The same ballot again would only lengthen the log.
        return invocation.print(
            &serde_json::json!({ "event": only.event, "kind": "ballot", "unchanged": true }),
            || {
                format!(
                    "your ballot {} already says this: nothing was recorded",
                    only.event.short()
                )
            },
        );
    }
    let earlier: Vec<EventId> = mine.iter().map(|ballot| ballot.event).collect();
    let late = crate::node::now_ms() > proposal.deadline_ms;
    let event = node.act(
        &keypair,
        council,
        Payload::Ballot(payload::Ballot {
            proposal: id,
            choice,
        }),
    )?;
    invocation.print(
        &serde_json::json!({ "event": event.id, "kind": "ballot", "replaces": earlier,
            "after_deadline": late }),
        || {
            let mut out = format!("ballot: {}", event.id);
            if !earlier.is_empty() {
                out.push_str("\nit replaces your earlier ballot");
            }
            if late {
                out.push_str(
                    "\nthe deadline has passed: the ballot counts until someone closes the proposal",
                );
            }
            out
        },
    )
}

pub fn comment(invocation: &Invocation, args: CommentArgs) -> Result<()> {
    let (mut node, council, id, keypair) = on_proposal(invocation, &args.council, &args.proposal)?;
    let event = node.act(
        &keypair,
        council,
        Payload::Comment(payload::Comment {
            proposal: id,
            reply_to: args.reply_to,
            text: args.text,
        }),
    )?;
    print_event(invocation, "comment", &event)
}

pub fn close(invocation: &Invocation, args: CloseArgs) -> Result<()> {
    let (mut node, council, id, keypair) = on_proposal(invocation, &args.council, &args.proposal)?;
    let event = node.act(
        &keypair,
        council,
        Payload::Close(payload::Close { proposal: id }),
    )?;
    let folded = node.fold(council)?;
    let decision = folded.state.proposals[&id]
        .decision
        .as_ref()
        .expect("the close was accepted");
    invocation.print(
        &serde_json::json!({ "event": event.id, "kind": "close", "decision": decision }),
        || {
            format!(
                "closed: {}\n{}",
                if decision.outcome.passed {
                    "passed"
                } else {
                    "did not pass"
                },
                decision.outcome.explanation.join("\n")
            )
        },
    )
}
