//! The folded state of a council: what its log says now.
//!
//! Owns the state's shape, its JSON form (field names are a documented, stable interface),
//! its state hash, and a plain-text rendering for people and scenario tests. Must not change
//! state: only the fold does.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::constitution::{Closers, Constitution, QuestionKind};
use crate::id::{CouncilId, EventId, MandateId, MemberId, PublicKey};
use crate::keys::Signature;
use crate::mandate::{Amount, Instruction, Scope, Statement, Summary};
use crate::payload::{Action, Mode};
use crate::register::Register;
use crate::tally::{self, Choice, Method, Outcome, Position, Quorum, TallyInput};

/// A council's state. Two nodes holding the same events hold equal states, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub council: CouncilId,
    pub name: String,
    pub constitution: Constitution,
    pub members: BTreeMap<MemberId, Member>,
    pub former_members: BTreeMap<MemberId, FormerMember>,
    /// People who asked to join a council that admits by vote.
    pub applicants: BTreeMap<MemberId, Applicant>,
    pub proposals: BTreeMap<EventId, Proposal>,
    /// Events folded, taking effect or not.
    pub events: u64,
    /// Mandates the council has issued, current or not.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mandates: BTreeMap<MandateId, Mandate>,
    /// Working groups' acts under their mandates.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub acts: BTreeMap<EventId, GroupAct>,
    /// Statements about this log that members signed, by statement id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub endorsements: BTreeMap<String, Endorsements>,
    /// Federations the council decided to join, with the decision's close.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub federations: BTreeMap<CouncilId, EventId>,
    /// Once the council has decided to join a federation: how many membership changes its log
    /// holds, the version of the roster its members sign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roster_version: Option<u64>,
    /// Set in a federation: its member councils, delegates and breaches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federation: Option<Federation>,
    /// The register: catalogue, needs, offers, processes, commons, bookings, fulfilment, plans.
    #[serde(default, skip_serializing_if = "Register::is_empty")]
    pub register: Register,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mandate {
    pub holder: MemberId,
    pub scope: Scope,
    /// The election proposal and the close that issued the mandate.
    pub proposal: EventId,
    pub decision: EventId,
    pub issued_ms: u64,
    /// The mandate lapses after this time, whatever else happens.
    pub expires_ms: u64,
    /// Consecutive mandates of this scope the holder has held, this one included.
    pub term: u32,
    pub instructions: Vec<Instruction>,
    pub status: MandateStatus,
    /// The close of a petition's recall that failed: the council kept the mandate, and its
    /// members may sign its reinstatement for the federation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<EventId>,
    /// Breaches of the instructions that members carried home with a recall petition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breaches: Vec<HomeBreach>,
}

/// A delegate's ballot in the federation against the council's instruction, as a member's
/// petition carried it home.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeBreach {
    /// The ballot's event in the federation's log, and the proposal it was cast on there.
    pub ballot: EventId,
    pub proposal: EventId,
    /// The certificate that gave the delegate the instruction.
    pub certificate: EventId,
    /// The petition signature that carried the evidence.
    pub petition: EventId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum MandateStatus {
    Active,
    /// A petition reached its threshold: suspended until the recall decision it opened.
    Suspended {
        petition: EventId,
    },
    /// Withdrawn by the decision closed by `decision`.
    Recalled {
        decision: EventId,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupAct {
    pub mandate: MandateId,
    pub author: MemberId,
    pub text: String,
    pub amounts: Vec<Amount>,
    pub time_ms: u64,
    /// The decision that overturned it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overturned: Option<EventId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endorsements {
    pub statement: Statement,
    /// Each signer's signature and the event that carried it.
    pub signatures: BTreeMap<MemberId, (Signature, EventId)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Federation {
    pub councils: BTreeMap<CouncilId, MemberCouncil>,
    /// Councils that asked to join, with the certificate of their roster.
    pub applicants: BTreeMap<CouncilId, EventId>,
    pub delegates: BTreeMap<MemberId, Delegate>,
    /// Delegates' ballots that contradict their council's instructions.
    pub breaches: Vec<Breach>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberCouncil {
    pub admitted: EventId,
    pub roster_version: u64,
    /// The number of members on the roster, and the certificate that set it.
    pub members: u64,
    pub roster: EventId,
    /// The share of its members whose petition suspends a mandate, as the roster carried it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub petition_share_permille: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegate {
    pub council: CouncilId,
    pub mandate: MandateId,
    pub expires_ms: u64,
    pub instructions: Vec<Instruction>,
    /// The certificate that seated the delegate, and the one that unseated them.
    pub certificate: EventId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<EventId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breach {
    pub ballot: EventId,
    pub proposal: EventId,
    pub delegate: MemberId,
    pub council: CouncilId,
    pub mandate: MandateId,
    /// The certificate that gave the delegate the instructions they broke: with the ballot,
    /// what a member carries home as evidence.
    pub certificate: EventId,
}

/// One member council's answer to a referred question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouncilTally {
    pub certificate: EventId,
    pub summary: Summary,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    /// The event from which the membership counts: genesis, a join, or an admission decision.
    pub since: EventId,
    pub admitted: Admitted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "kebab-case")]
pub enum Admitted {
    Founder,
    Invitation {
        inviter: MemberId,
    },
    Open,
    Vote {
        decision: EventId,
    },
    /// A delegate, seated in a federation by their council's certificate.
    Mandate {
        council: CouncilId,
        mandate: MandateId,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormerMember {
    pub name: String,
    pub until: EventId,
    pub removed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    pub name: String,
    pub request: EventId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    pub id: EventId,
    pub proposer: MemberId,
    pub title: String,
    pub text: String,
    pub question: QuestionKind,
    pub action: Action,
    pub method: Method,
    pub options: Vec<String>,
    pub quorum: Quorum,
    pub closers: Closers,
    pub early_close: bool,
    pub opened_ms: u64,
    pub deadline_ms: u64,
    /// Frozen when the proposal opened: the members in its causal past.
    pub electorate: BTreeSet<MemberId>,
    /// Every ballot each member cast, in fold order.
    pub ballots: BTreeMap<MemberId, Vec<CastBallot>>,
    pub comments: Vec<PostedComment>,
    pub decision: Option<Decision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// In a federation: each delegate's weight, frozen at opening.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub weights: BTreeMap<MemberId, u64>,
    /// A referred question: the member councils at opening with their members, and the
    /// tallies they sent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub councils: BTreeMap<CouncilId, u64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tallies: BTreeMap<CouncilId, CouncilTally>,
    /// Set when an urgent decision this proposal followed was revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follows_revoked: Option<EventId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CastBallot {
    pub event: EventId,
    pub time_ms: u64,
    pub choice: Choice,
    /// The member's current ballots in this ballot's causal past, which it replaces (and
    /// with them, everything they replaced).
    pub replaces: Vec<EventId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostedComment {
    pub event: EventId,
    pub author: MemberId,
    pub reply_to: Option<EventId>,
    pub text: String,
    pub time_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub close: EventId,
    pub closed_by: MemberId,
    pub time_ms: u64,
    pub outcome: Outcome,
    /// The ballots that were counted: each voter's latest ballot in the close's past (for a
    /// referred question, the councils' certificates in the close's past).
    pub counted: Vec<EventId>,
    /// Ballots void because their voter cast them concurrently (equivocation).
    pub equivocations: Vec<EventId>,
    /// Concurrent closes that reached another outcome. The earliest close stands; a
    /// non-empty list marks the decision as contested.
    pub contested_by: Vec<EventId>,
    /// An urgent decision: the proposal that ratifies it, and the close of that proposal
    /// if it failed (the decision is then revoked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratification: Option<EventId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<EventId>,
}

/// An event the fold ignored, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub event: EventId,
    pub kind: String,
    pub author: PublicKey,
    pub reason: String,
}

impl Proposal {
    pub fn is_open(&self) -> bool {
        self.decision.is_none()
    }

    /// Each voter's current ballots: those no other of their ballots replaces. One means a
    /// valid ballot; more than one means equivocation.
    pub fn current_ballots(&self) -> impl Iterator<Item = (&MemberId, Vec<&CastBallot>)> {
        self.ballots.iter().map(|(member, cast)| {
            let replaced: std::collections::HashSet<&EventId> =
                cast.iter().flat_map(|ballot| &ballot.replaces).collect();
            let latest = cast
                .iter()
                .filter(|ballot| !replaced.contains(&ballot.event))
                .collect();
            (member, latest)
        })
    }

    /// What the numbers of the outcome's `counts` are, in words.
    pub fn count_unit(&self) -> &'static str {
        let weighted = !self.weights.is_empty();
        match (&self.method, self.mode) {
            (Method::Schulze { .. }, Some(Mode::Referral)) => {
                "rivals each option beats head to head"
            }
            (_, Some(Mode::Referral)) => "ballots, summed over the member councils' tallies",
            (Method::Approval { .. }, _) if weighted => {
                "approvals, weighted by each delegate's weight"
            }
            (Method::Approval { .. }, _) => "approvals",
            (Method::Score { .. }, _) => "total scores",
            (Method::TimePoll, _) => "yes answers",
            (method, _) if method.is_ranked() && weighted => {
                "first preferences, weighted by each delegate's weight"
            }
            (method, _) if method.is_ranked() => "first preferences",
            _ if weighted => "votes, weighted by each delegate's weight",
            _ => "ballots",
        }
    }

    /// The objections and blocks that count, with their reasons, in member order: those the
    /// decision counted once closed, each voter's current ballot while open.
    pub fn consent_reasons(&self) -> Vec<(&MemberId, Position, &str)> {
        let counts = |ballot: &CastBallot| match &self.decision {
            Some(decision) => decision.counted.contains(&ballot.event),
            None => true,
        };
        self.current_ballots()
            .filter_map(|(voter, latest)| match latest.as_slice() {
                [only] if counts(only) => Some((voter, &only.choice)),
                _ => None,
            })
            .filter_map(|(voter, choice)| match choice {
                Choice::Consent { position, reason }
                    if matches!(position, Position::Object | Position::Block) =>
                {
                    Some((voter, *position, reason.as_str()))
                }
                _ => None,
            })
            .collect()
    }

    /// The tally of the ballots cast so far, before the close (methods here allow it).
    pub fn running_tally(&self) -> Outcome {
        let ballots: Vec<(&MemberId, &Choice)> = self
            .current_ballots()
            .filter_map(|(voter, latest)| match latest.as_slice() {
                [only] => Some((voter, &only.choice)),
                _ => None,
            })
            .collect();
        let tallies: Vec<&Summary> = self.tallies.values().map(|t| &t.summary).collect();
        self.tally(&ballots, &tallies)
    }

    /// Tallies the given ballots, weighted as the proposal says; a referred question is
    /// tallied from its councils' summaries instead.
    pub fn tally(&self, ballots: &[(&MemberId, &Choice)], tallies: &[&Summary]) -> Outcome {
        if self.mode == Some(Mode::Referral) {
            return self.tally_referral(tallies);
        }
        let choices: Vec<&Choice> = ballots.iter().map(|(_, choice)| *choice).collect();
        let weights: Vec<u64> = if self.weights.is_empty() {
            Vec::new()
        } else {
            ballots
                .iter()
                .map(|(voter, _)| self.weights.get(voter).copied().unwrap_or(0))
                .collect()
        };
        tally::tally(&TallyInput {
            weights: &weights,
            ..TallyInput::new(
                self.id,
                &self.method,
                &self.options,
                self.quorum,
                self.electorate.len(),
                &choices,
            )
        })
    }

    /// What the council sends up when this question was referred to it: the pairwise
    /// matrix for Schulze, the anonymised ballots otherwise.
    pub fn summarise(&self, ballots: &[(&MemberId, &Choice)]) -> Summary {
        let choices = ballots.iter().map(|(_, choice)| *choice);
        if let Method::Schulze { .. } = self.method {
            let mut profile = crate::methods::Profile::new(self.options.clone());
            for choice in choices {
                if let Choice::Ranked { ranks } = choice {
                    let _ = profile.push(1, ranks.iter().map(|g| g.iter().copied()));
                }
            }
            let preferences = crate::methods::schulze::preferences(&profile)
                .into_iter()
                .flatten()
                .collect();
            Summary::Pairwise {
                ballots: ballots.len() as u64,
                preferences,
            }
        } else {
            Summary::of_ballots(choices)
        }
    }

    /// The statement of this council's answer to a referred question, once decided.
    pub fn tally_statement(&self, council: CouncilId) -> Option<Statement> {
        let Action::Refer {
            federation,
            question,
        } = self.action
        else {
            return None;
        };
        let decision = self.decision.as_ref()?;
        if self.mode == Some(Mode::Referral) {
            let answers = self
                .tallies
                .values()
                .filter(|t| decision.counted.contains(&t.certificate))
                .map(|t| &t.summary);
            return Some(Statement::Tally {
                council,
                federation,
                question,
                summary: Summary::add(answers).unwrap_or(Summary::Ballots {
                    ballots: Vec::new(),
                }),
            });
        }
        let counted: Vec<(&MemberId, &Choice)> = self
            .ballots
            .iter()
            .flat_map(|(voter, cast)| cast.iter().map(move |b| (voter, b)))
            .filter(|(_, b)| decision.counted.contains(&b.event))
            .map(|(voter, b)| (voter, &b.choice))
            .collect();
        Some(Statement::Tally {
            council,
            federation,
            question,
            summary: self.summarise(&counted),
        })
    }

    /// Adds the councils' summaries and counts them as one electorate of every member of
    /// the councils that were members when the question opened.
    fn tally_referral(&self, tallies: &[&Summary]) -> Outcome {
        let electorate = self.councils.values().sum::<u64>() as usize;
        let summary = Summary::add(tallies.iter().copied()).unwrap_or(Summary::Ballots {
            ballots: Vec::new(),
        });
        let ballots = summary.ballots() as usize;
        match &summary {
            Summary::Ballots { ballots: counted } => {
                let choices: Vec<&Choice> = counted.iter().map(|c| &c.choice).collect();
                let weights: Vec<u64> = counted.iter().map(|c| c.count).collect();
                tally::tally(&TallyInput {
                    weights: &weights,
                    ballots,
                    ..TallyInput::new(
                        self.id,
                        &self.method,
                        &self.options,
                        self.quorum,
                        electorate,
                        &choices,
                    )
                })
            }
            Summary::Pairwise { preferences, .. } => tally::tally(&TallyInput {
                ballots,
                preferences: Some(preferences),
                ..TallyInput::new(
                    self.id,
                    &self.method,
                    &self.options,
                    self.quorum,
                    electorate,
                    &[],
                )
            }),
        }
    }
}

impl State {
    /// A founded council with no members yet.
    pub fn new(council: CouncilId, name: String, constitution: Constitution) -> State {
        State {
            council,
            name,
            federation: constitution.federation.map(|_| Federation::default()),
            constitution,
            members: BTreeMap::new(),
            former_members: BTreeMap::new(),
            applicants: BTreeMap::new(),
            proposals: BTreeMap::new(),
            events: 0,
            mandates: BTreeMap::new(),
            acts: BTreeMap::new(),
            endorsements: BTreeMap::new(),
            federations: BTreeMap::new(),
            roster_version: None,
            register: Register::default(),
        }
    }

    /// The statement of this council's roster for `federation`, as its members sign it.
    pub fn roster_statement(&self, federation: CouncilId) -> Statement {
        Statement::Roster {
            council: self.council,
            federation,
            version: self.roster_version.unwrap_or(0),
            members: self.members.keys().copied().collect(),
            petition_share_permille: Some(
                self.constitution.mandate_rules().petition_share_permille,
            ),
        }
    }

    /// The statement of a delegate's mandate, as the council's members sign it.
    pub fn mandate_statement(&self, mandate: &MandateId) -> Option<Statement> {
        let m = self.mandates.get(mandate)?;
        let Scope::Federation { federation } = m.scope else {
            return None;
        };
        Some(Statement::Mandate {
            council: self.council,
            mandate: *mandate,
            holder: m.holder,
            federation,
            expires_ms: m.expires_ms,
            instructions: m.instructions.clone(),
        })
    }

    /// BLAKE3 of the state's compact JSON: the hash of exactly what `commune state --json`
    /// prints, so anyone can check what it covers.
    pub fn hash(&self) -> [u8; 32] {
        let json = serde_json::to_vec(self).expect("the state serialises");
        *blake3::hash(&json).as_bytes()
    }

    pub fn member_name(&self, member: &MemberId) -> String {
        self.members
            .get(member)
            .map(|m| m.name.clone())
            .or_else(|| self.former_members.get(member).map(|m| m.name.clone()))
            .or_else(|| self.applicants.get(member).map(|m| m.name.clone()))
            .unwrap_or_else(|| member.short())
    }

    /// A plain-text summary, stable enough for scenario tests.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "council {:?}", self.name);
        let names = |set: &mut dyn Iterator<Item = &MemberId>| {
            let mut names: Vec<String> = set.map(|m| self.member_name(m)).collect();
            names.sort();
            names.join(", ")
        };
        let _ = writeln!(out, "members: {}", names(&mut self.members.keys()));
        if !self.former_members.is_empty() {
            let _ = writeln!(out, "former: {}", names(&mut self.former_members.keys()));
        }
        if !self.applicants.is_empty() {
            let _ = writeln!(out, "applicants: {}", names(&mut self.applicants.keys()));
        }
        for (id, m) in &self.mandates {
            let _ = writeln!(
                out,
                "mandate {} for {} ({}), term {}, expires {}: {}{}",
                id.short(),
                self.member_name(&m.holder),
                m.scope.rotation_key(),
                m.term,
                m.expires_ms,
                match &m.status {
                    MandateStatus::Active => "active".to_string(),
                    MandateStatus::Suspended { .. } => "suspended by petition".to_string(),
                    MandateStatus::Recalled { .. } => "recalled".to_string(),
                },
                if m.instructions.is_empty() {
                    String::new()
                } else {
                    format!(", {} instruction(s)", m.instructions.len())
                }
            );
        }
        for act in self.acts.values() {
            let _ = writeln!(
                out,
                "act by {}: {:?} {}{}",
                self.member_name(&act.author),
                act.text,
                act.amounts
                    .iter()
                    .map(|a| format!("{} {}", a.quantity, a.unit))
                    .collect::<Vec<_>>()
                    .join(", "),
                if act.overturned.is_some() {
                    " (overturned)"
                } else {
                    ""
                }
            );
        }
        if let Some(federation) = &self.federation {
            for (council, member) in &federation.councils {
                let _ = writeln!(
                    out,
                    "member council {}: {} member(s), roster version {}",
                    council.short(),
                    member.members,
                    member.roster_version
                );
            }
            for council in federation.applicants.keys() {
                let _ = writeln!(out, "applicant council {}", council.short());
            }
            for (delegate, seat) in &federation.delegates {
                let _ = writeln!(
                    out,
                    "delegate {} of {}{}",
                    self.member_name(delegate),
                    seat.council.short(),
                    if seat.ended.is_some() {
                        " (unseated)"
                    } else {
                        ""
                    }
                );
            }
            for breach in &federation.breaches {
                let _ = writeln!(
                    out,
                    "BREACH: {} voted against their instructions",
                    self.member_name(&breach.delegate)
                );
            }
        }
        let mut proposals: Vec<&Proposal> = self.proposals.values().collect();
        proposals.sort_by_key(|p| (p.opened_ms, p.id));
        for proposal in proposals {
            let _ = write!(
                out,
                "proposal {:?} ({}, {}): electorate {}",
                proposal.title,
                proposal.question.name(),
                proposal.method.name(),
                names(&mut proposal.electorate.iter())
            );
            match &proposal.decision {
                None => {
                    let running = proposal.running_tally();
                    let _ = writeln!(out, "; open, running {}", counts(&running));
                }
                Some(decision) => {
                    let _ = writeln!(
                        out,
                        "; {} {}{}{}",
                        if decision.outcome.passed {
                            "passed"
                        } else if decision.outcome.quorum_met {
                            "failed"
                        } else {
                            "failed (no quorum)"
                        },
                        counts(&decision.outcome),
                        if decision.outcome.winners.is_empty() {
                            String::new()
                        } else {
                            format!(
                                ", chose {}",
                                decision
                                    .outcome
                                    .winners
                                    .iter()
                                    .map(|&w| proposal.options[w as usize].as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        },
                        if decision.contested_by.is_empty() {
                            ""
                        } else {
                            ", CONTESTED"
                        }
                    );
                    if decision.revoked.is_some() {
                        let _ = writeln!(out, "  REVOKED: not ratified");
                    }
                }
            }
            if proposal.follows_revoked.is_some() {
                let _ = writeln!(out, "  FLAGGED: follows a revoked urgent decision");
            }
            if !proposal.tallies.is_empty() {
                let _ = writeln!(
                    out,
                    "  tallies from {} of {} council(s)",
                    proposal.tallies.len(),
                    proposal.councils.len()
                );
            }
        }
        out
    }
}

fn counts(outcome: &Outcome) -> String {
    outcome
        .counts
        .iter()
        .filter(|(_, count)| *count > 0)
        .map(|(label, count)| format!("{label} {count}"))
        .collect::<Vec<_>>()
        .join(", ")
}
