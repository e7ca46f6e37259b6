//! The folded state of a council: what its log says now.
//!
//! Owns the state's shape, its JSON form (field names are a documented, stable interface),
//! its state hash, and a plain-text rendering for people and scenario tests. Must not change
//! state: only the fold does.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::constitution::{Closers, Constitution, QuestionKind};
use crate::id::{CouncilId, EventId, MemberId, PublicKey};
use crate::payload::Action;
use crate::tally::{self, Choice, Method, Outcome, Quorum, TallyInput};

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
    Invitation { inviter: MemberId },
    Open,
    Vote { decision: EventId },
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
    /// The ballots that were counted: each voter's latest ballot in the close's past.
    pub counted: Vec<EventId>,
    /// Ballots void because their voter cast them concurrently (equivocation).
    pub equivocations: Vec<EventId>,
    /// Concurrent closes that reached another outcome. The earliest close stands; a
    /// non-empty list marks the decision as contested.
    pub contested_by: Vec<EventId>,
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

    /// The tally of the ballots cast so far, before the close (methods here allow it).
    pub fn running_tally(&self) -> Outcome {
        let choices: Vec<&Choice> = self
            .current_ballots()
            .filter_map(|(_, latest)| match latest.as_slice() {
                [only] => Some(&only.choice),
                _ => None,
            })
            .collect();
        self.tally(&choices)
    }

    pub fn tally(&self, choices: &[&Choice]) -> Outcome {
        tally::tally(&TallyInput {
            proposal: self.id,
            method: &self.method,
            options: &self.options,
            quorum: self.quorum,
            electorate: self.electorate.len(),
            choices,
        })
    }
}

impl State {
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
                }
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
