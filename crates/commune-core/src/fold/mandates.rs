//! The fold's rules for mandates, recall, urgent decisions and federations (DESIGN.md §6).
//!
//! A council's log: elections issue mandates, decisions recall them, petitions suspend them,
//! working groups act within their limits, urgent decisions come back for ratification, and
//! members sign statements only where their own causal past bears them out. A federation's
//! log: certificates seat and unseat delegates, carry rosters and referred tallies, and are
//! checked against the roster the federation holds, never against the home council's log.

use std::collections::{BTreeMap, BTreeSet};

use super::{Current, EventRef, Folder, MandateTrack, Period, Roster, Verdict, check_text};
use crate::constitution::{QuestionKind, Weight};
use crate::event::{Event, verify_events};
use crate::id::{CouncilId, EventId, MandateId, MemberId};
use crate::mandate::{BreachEvidence, Scope, Statement, mandate_id, threshold};
use crate::payload::{self, Action, Mode, Payload};
use crate::state::{
    Admitted, Breach, CouncilTally, Delegate, Endorsements, GroupAct, HomeBreach, Mandate,
    MandateStatus, MemberCouncil, Proposal,
};
use crate::tally::{Choice, Method};

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// An urgent decision is put to ratification for at least this long.
const RATIFICATION_MS: u64 = 7 * DAY_MS;

/// In a federation: how a delegate's seat under a mandate ended, or came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SeatEnd {
    Recalled,
    Suspended,
    /// Seated again by a reinstatement: only a recall unseats the delegate now.
    Kept,
}

impl Folder {
    fn covered(&self, current: &Current<'_>, at: Option<EventRef>) -> bool {
        at.is_some_and(|at| current.clock.covers(at.device, at.seq))
    }

    fn track(&self, mandate: &MandateId) -> MandateTrack {
        self.mandates.get(mandate).cloned().unwrap_or_default()
    }

    /// How many elections of this scope in a row, the latest first, `holder` won.
    fn consecutive_terms(&self, key: &str, holder: &MemberId) -> u32 {
        self.rotations.get(key).map_or(0, |elections| {
            elections
                .iter()
                .rev()
                .take_while(|winners| winners.contains(holder))
                .count() as u32
        })
    }

    fn has_joined(&self, current: &Current<'_>, federation: &CouncilId) -> bool {
        self.joined
            .iter()
            .any(|(at, joined)| joined == federation && self.covered(current, Some(*at)))
    }

    /// Checks the mandate and federation actions of a proposal.
    pub(super) fn check_mandate_action(
        &self,
        current: &Current<'_>,
        action: &Action,
        method: &Method,
        options: &[String],
    ) -> Verdict {
        let state = self.founded();
        match action {
            Action::Elect { candidates, terms } => {
                if !method.has_options() {
                    return Err("an election needs a method that chooses among candidates".into());
                }
                let reopen = options.len() == candidates.len() + 1
                    && options.last().map(String::as_str)
                        == Some(crate::mandate::REOPEN_NOMINATIONS);
                if candidates.len() != options.len() && !reopen {
                    return Err(format!(
                        "name one candidate per option, in the same order (and, last, {:?} if \
                         you like)",
                        crate::mandate::REOPEN_NOMINATIONS
                    ));
                }
                let distinct: BTreeSet<&MemberId> = candidates.iter().collect();
                if distinct.len() != candidates.len() {
                    return Err("each candidate stands once".into());
                }
                if terms.term_ms == 0 {
                    return Err("a mandate needs a term".into());
                }
                match &terms.scope {
                    Scope::Federation { federation } => {
                        if !self.has_joined(current, federation) {
                            return Err(
                                "the council has not decided to join that federation".into()
                            );
                        }
                    }
                    Scope::WorkingGroup { name, limits } => {
                        check_text("working group's name", name, 100)?;
                        let units: BTreeSet<&str> =
                            limits.iter().map(|l| l.unit.as_str()).collect();
                        if units.len() != limits.len() || units.contains("") {
                            return Err("name each limit's unit once".into());
                        }
                    }
                }
                let rules = self.constitution_at(&current.clock).mandate_rules();
                let key = terms.scope.rotation_key();
                for candidate in candidates {
                    self.authorise(candidate, &current.clock, current.time())
                        .map_err(|_| "every candidate must be a member".to_string())?;
                    if rules.max_consecutive_terms > 0
                        && self.consecutive_terms(&key, candidate) >= rules.max_consecutive_terms
                    {
                        return Err(format!(
                            "{} has held {} consecutive mandates of this scope: mandates rotate",
                            state.member_name(candidate),
                            rules.max_consecutive_terms
                        ));
                    }
                }
                Ok(())
            }
            Action::Recall { mandate } => match state.mandates.get(mandate) {
                None => Err("no such mandate".into()),
                Some(Mandate {
                    status: MandateStatus::Recalled { .. },
                    ..
                }) => Err("the mandate is already recalled".into()),
                Some(_) => Ok(()),
            },
            Action::Instruct { federation, .. } | Action::Refer { federation, .. } => {
                if self.has_joined(current, federation) {
                    Ok(())
                } else {
                    Err("the council has not decided to join that federation".into())
                }
            }
            Action::JoinFederation { federation } => {
                if *federation == self.council {
                    Err("a council cannot join itself".into())
                } else if state.federations.contains_key(federation) {
                    Err("the council has already decided to join that federation".into())
                } else {
                    Ok(())
                }
            }
            Action::AdmitCouncil { council } => {
                if state.federation.is_none() {
                    return Err("only a federation admits councils".into());
                }
                match self.rosters.get(council) {
                    None => Err("that council has not asked to join".into()),
                    Some(roster) if roster.admitted.is_some() => {
                        Err("that council is already a member".into())
                    }
                    Some(roster) if !self.covered(current, Some(roster.since)) => {
                        Err("the council's request is not in the proposal's causal past".into())
                    }
                    Some(_) => Ok(()),
                }
            }
            Action::Overturn { act } => match state.acts.get(act) {
                None => Err("no such act".into()),
                Some(GroupAct {
                    overturned: Some(_),
                    ..
                }) => Err("the act is already overturned".into()),
                Some(_) => Ok(()),
            },
            _ => Ok(()),
        }
    }

    /// In a federation: the delegates' weights and the member councils with their sizes, at
    /// the proposal's opening. A council's weight (one, or its members) is shared equally by
    /// its delegates, scaled to whole numbers by the least common multiple of the shares.
    pub(super) fn federation_weights(
        &self,
        current: &Current<'_>,
        electorate: &BTreeSet<MemberId>,
        mode: Option<Mode>,
    ) -> (BTreeMap<MemberId, u64>, BTreeMap<CouncilId, u64>) {
        let rules = self
            .constitution_at(&current.clock)
            .federation
            .unwrap_or_default();
        let councils: BTreeMap<CouncilId, u64> = self
            .rosters
            .iter()
            .filter(|(_, roster)| self.covered(current, roster.admitted))
            .map(|(council, roster)| (*council, roster.members.len() as u64))
            .collect();
        if mode == Some(Mode::Referral) {
            return (BTreeMap::new(), councils);
        }
        let federation = self.founded().federation.as_ref().expect("a federation");
        let mut seated: BTreeMap<CouncilId, Vec<MemberId>> = BTreeMap::new();
        for member in electorate {
            if let Some(delegate) = federation.delegates.get(member)
                && councils.contains_key(&delegate.council)
            {
                seated.entry(delegate.council).or_default().push(*member);
            }
        }
        if seated.is_empty() {
            return (BTreeMap::new(), councils);
        }
        let scale = seated.values().fold(1u64, |l, d| lcm(l, d.len() as u64));
        let mut weights: BTreeMap<MemberId, u64> =
            electorate.iter().map(|member| (*member, 0)).collect();
        for (council, delegates) in &seated {
            let weight = match rules.weight {
                Weight::Equal => 1,
                Weight::Membership => councils[council],
            };
            for delegate in delegates {
                weights.insert(*delegate, weight * scale / delegates.len() as u64);
            }
        }
        (weights, councils)
    }

    /// Flags a delegate's ballot that contradicts their council's instruction.
    pub(super) fn check_instructions(&mut self, current: &Current<'_>, ballot: &payload::Ballot) {
        let voter = current.author();
        let Some(federation) = &self.founded().federation else {
            return;
        };
        let Some(delegate) = federation.delegates.get(&voter) else {
            return;
        };
        let breach = delegate
            .instructions
            .iter()
            .any(|i| i.proposal == ballot.proposal && contradicts(&i.choice, &ballot.choice));
        if breach {
            let breach = Breach {
                ballot: current.event.id,
                proposal: ballot.proposal,
                delegate: voter,
                council: delegate.council,
                mandate: delegate.mandate,
                certificate: delegate.certificate,
            };
            self.federation_mut().breaches.push(breach);
        }
    }

    fn federation_mut(&mut self) -> &mut crate::state::Federation {
        self.state_mut().federation.as_mut().expect("a federation")
    }

    /// Opens the ratification of an urgent decision that passed, under the general rule.
    pub(super) fn open_ratification(&mut self, current: &Current<'_>, urgent: EventId) {
        let constitution = self.constitution_at(&current.clock).clone();
        let rule = &constitution.general;
        let method = if rule.method.has_options() {
            Method::Majority
        } else {
            rule.method.clone()
        };
        let id = current.event.id;
        let title = format!(
            "Ratify the urgent decision: {}",
            self.founded().proposals[&urgent].title
        );
        let deadline_ms = current.time() + rule.min_duration_ms.max(RATIFICATION_MS);
        let proposal = self.open(
            current,
            title,
            Action::Ratify { decision: urgent },
            method,
            rule.quorum,
            deadline_ms,
        );
        self.state_mut().proposals.insert(id, proposal);
        if let Some(decision) = self
            .state_mut()
            .proposals
            .get_mut(&urgent)
            .and_then(|p| p.decision.as_mut())
        {
            decision.ratification = Some(id);
        }
        self.urgent.push((current.at, urgent));
    }

    /// A proposal the council opens itself (a ratification, or a recall a petition asks
    /// for), with the event being folded as its id.
    fn open(
        &self,
        current: &Current<'_>,
        title: String,
        action: Action,
        method: Method,
        quorum: crate::tally::Quorum,
        deadline_ms: u64,
    ) -> Proposal {
        let constitution = self.constitution_at(&current.clock);
        let time = current.time();
        let electorate: BTreeSet<MemberId> = self
            .periods
            .keys()
            .filter(|member| self.authorise(member, &current.clock, time).is_ok())
            .copied()
            .collect();
        let (weights, _) = if self.founded().federation.is_some() {
            self.federation_weights(current, &electorate, None)
        } else {
            Default::default()
        };
        Proposal {
            id: current.event.id,
            proposer: current.author(),
            title,
            text: String::new(),
            question: action.question_kind(),
            action,
            method,
            options: Vec::new(),
            quorum,
            closers: constitution.closers.clone(),
            early_close: constitution.early_close,
            opened_ms: time,
            deadline_ms,
            electorate,
            ballots: BTreeMap::new(),
            comments: Vec::new(),
            decision: None,
            mode: None,
            weights,
            councils: BTreeMap::new(),
            tallies: BTreeMap::new(),
            follows_revoked: None,
        }
    }

    /// What a decision that failed undoes: an unratified urgent decision is revoked, and a
    /// recall a petition opened, once refused, lifts the suspension.
    pub(super) fn reject_decided(
        &mut self,
        current: &Current<'_>,
        proposal: EventId,
        action: &Action,
    ) {
        let close = current.event.id;
        match action {
            Action::Ratify { decision: urgent } => {
                self.urgent.retain(|(_, p)| p != urgent);
                let state = self.state_mut();
                let Some(urgent_proposal) = state.proposals.get_mut(urgent) else {
                    return;
                };
                let issued_by = urgent_proposal.decision.as_ref().map(|d| d.close);
                if let Some(decision) = urgent_proposal.decision.as_mut() {
                    decision.revoked = Some(close);
                }
                let followers: Vec<EventId> = self
                    .follows
                    .iter()
                    .filter(|(_, urgents)| urgents.contains(urgent))
                    .map(|(p, _)| *p)
                    .collect();
                for follower in followers {
                    if let Some(p) = self.state_mut().proposals.get_mut(&follower) {
                        p.follows_revoked = Some(*urgent);
                    }
                }
                let issued: Vec<MandateId> = self
                    .founded()
                    .mandates
                    .iter()
                    .filter(|(_, m)| Some(m.decision) == issued_by)
                    .map(|(id, _)| *id)
                    .collect();
                for mandate in issued {
                    self.recall_mandate(current, mandate);
                }
            }
            Action::Recall { mandate } => {
                let petitioned = matches!(
                    self.founded().mandates.get(mandate),
                    Some(Mandate { status: MandateStatus::Suspended { petition }, .. }) if *petition == proposal
                );
                if petitioned {
                    // The petition is spent: a new one starts from no signatures.
                    let council = self.council;
                    let state = self.state_mut();
                    state.endorsements.remove(
                        &Statement::Suspend {
                            council,
                            mandate: *mandate,
                        }
                        .id(),
                    );
                    if let Some(m) = state.mandates.get_mut(mandate) {
                        m.status = MandateStatus::Active;
                        m.kept = Some(close);
                    }
                    if let Some(track) = self.mandates.get_mut(mandate) {
                        track.suspended = None;
                        track.kept = Some(current.at);
                    }
                }
            }
            _ => {}
        }
    }

    /// Carries out a mandate or federation decision that passed.
    pub(super) fn enact_mandate_action(
        &mut self,
        current: &Current<'_>,
        proposal: EventId,
        action: Action,
    ) {
        let close = current.event.id;
        match action {
            Action::Elect { candidates, terms } => {
                let rules = self.constitution_at(&current.clock).mandate_rules();
                let key = terms.scope.rotation_key();
                let winners = self.founded().proposals[&proposal]
                    .decision
                    .as_ref()
                    .map(|d| d.outcome.winners.clone())
                    .unwrap_or_default();
                let mut issued = BTreeSet::new();
                let mut notes = Vec::new();
                for winner in winners {
                    let Some(&holder) = candidates.get(winner as usize) else {
                        continue;
                    };
                    let held = self.consecutive_terms(&key, &holder);
                    if rules.max_consecutive_terms > 0 && held >= rules.max_consecutive_terms {
                        notes.push(format!(
                            "{} is not given a mandate: they have held {held} consecutive mandates of this scope",
                            self.founded().member_name(&holder)
                        ));
                        continue;
                    }
                    let id = mandate_id(&close, &holder);
                    let mandate = Mandate {
                        holder,
                        scope: terms.scope.clone(),
                        proposal,
                        decision: close,
                        issued_ms: current.time(),
                        expires_ms: current.time().saturating_add(terms.term_ms),
                        term: held + 1,
                        instructions: terms.instructions.clone(),
                        status: MandateStatus::Active,
                        kept: None,
                        breaches: Vec::new(),
                    };
                    self.state_mut().mandates.insert(id, mandate);
                    self.mandates.insert(
                        id,
                        MandateTrack {
                            issued: Some(current.at),
                            instructions: terms
                                .instructions
                                .iter()
                                .map(|i| (current.at, i.clone()))
                                .collect(),
                            ..MandateTrack::default()
                        },
                    );
                    issued.insert(holder);
                }
                self.rotations.entry(key).or_default().push(issued);
                if let Some(decision) = self
                    .state_mut()
                    .proposals
                    .get_mut(&proposal)
                    .and_then(|p| p.decision.as_mut())
                {
                    decision.outcome.explanation.extend(notes);
                }
            }
            Action::Recall { mandate } => self.recall_mandate(current, mandate),
            Action::Instruct {
                federation,
                instruction,
            } => {
                let scope = Scope::Federation { federation };
                let mandates: Vec<MandateId> = self
                    .founded()
                    .mandates
                    .iter()
                    .filter(|(_, m)| {
                        m.scope == scope && !matches!(m.status, MandateStatus::Recalled { .. })
                    })
                    .map(|(id, _)| *id)
                    .collect();
                for id in mandates {
                    if let Some(m) = self.state_mut().mandates.get_mut(&id) {
                        m.instructions.push(instruction.clone());
                    }
                    self.mandates
                        .entry(id)
                        .or_default()
                        .instructions
                        .push((current.at, instruction.clone()));
                }
            }
            Action::JoinFederation { federation } => {
                self.state_mut().federations.insert(federation, close);
                self.joined.push((current.at, federation));
            }
            Action::AdmitCouncil { council } => {
                let Some(roster) = self.rosters.get_mut(&council) else {
                    return;
                };
                roster.admitted = Some(current.at);
                let admitted = MemberCouncil {
                    admitted: close,
                    roster_version: roster.version,
                    members: roster.members.len() as u64,
                    roster: roster.certificate,
                    petition_share_permille: roster.petition_share_permille,
                };
                let federation = self.federation_mut();
                federation.applicants.remove(&council);
                federation.councils.insert(council, admitted);
            }
            Action::Overturn { act } => {
                if let Some(overturned) = self.state_mut().acts.get_mut(&act) {
                    overturned.overturned = Some(close);
                }
                self.overturn_plan(act, close);
            }
            Action::Ratify { decision } => self.urgent.retain(|(_, p)| *p != decision),
            Action::None
            | Action::Admit { .. }
            | Action::Remove { .. }
            | Action::Amend { .. }
            | Action::Refer { .. }
            | Action::Plan { .. } => {}
        }
    }

    /// Withdraws a mandate at the event being folded; the holder's acts under it that are
    /// concurrent with the recall are void.
    fn recall_mandate(&mut self, current: &Current<'_>, mandate: MandateId) {
        let close = current.event.id;
        if let Some(m) = self.state_mut().mandates.get_mut(&mandate) {
            m.status = MandateStatus::Recalled { decision: close };
        }
        let reason = format!(
            "void: concurrent with the recall of the mandate it was made under ({})",
            close.short()
        );
        self.end_mandate(current, mandate, reason, |track, at| {
            track.recalled = Some(at)
        });
    }

    fn end_mandate(
        &mut self,
        current: &Current<'_>,
        mandate: MandateId,
        reason: String,
        mark: impl FnOnce(&mut MandateTrack, EventRef),
    ) {
        let track = self.mandates.entry(mandate).or_default();
        mark(track, current.at);
        let concurrent: Vec<EventId> = track
            .acts
            .iter()
            .filter(|(at, _)| !current.clock.covers(at.device, at.seq))
            .map(|(_, act)| *act)
            .collect();
        for act in concurrent {
            if !self.restart.voided.contains_key(&act) {
                self.new_voids.insert(act, reason.clone());
            }
        }
    }

    /// The council's roster in the causal past `current` describes: its members, and how
    /// many membership changes that past holds.
    fn roster_at(&self, current: &Current<'_>) -> (u64, Vec<MemberId>) {
        let mut version = 0;
        for periods in self.periods.values() {
            for period in periods {
                version += u64::from(self.covered(current, Some(period.start)));
                if let Some((end, _, _)) = period.end {
                    version += u64::from(self.covered(current, Some(end)));
                }
            }
        }
        let members = self
            .periods
            .keys()
            .filter(|member| {
                self.authorise(member, &current.clock, current.time())
                    .is_ok()
            })
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        (version, members)
    }

    /// Whether a statement about this council is true in the causal past of `current`.
    fn check_statement(&self, current: &Current<'_>, statement: &Statement) -> Verdict {
        let state = self.founded();
        let mandate_of = |id: &MandateId| {
            state
                .mandates
                .get(id)
                .filter(|_| self.covered(current, self.track(id).issued))
                .ok_or_else(|| "no such mandate in the signer's causal past".to_string())
        };
        match statement {
            Statement::Roster {
                federation,
                version,
                members,
                petition_share_permille,
                ..
            } => {
                if !self.has_joined(current, federation) {
                    return Err("the council has not decided to join that federation".into());
                }
                if (*version, members) != (self.roster_at(current).0, &self.roster_at(current).1) {
                    return Err(
                        "the roster is not the council's in the signer's causal past".into(),
                    );
                }
                let share = self
                    .constitution_at(&current.clock)
                    .mandate_rules()
                    .petition_share_permille;
                if petition_share_permille.is_some_and(|carried| carried != share) {
                    return Err(format!(
                        "the roster's petition share is not the council's ({share}‰) in the \
                         signer's causal past"
                    ));
                }
                Ok(())
            }
            Statement::Mandate {
                mandate,
                holder,
                federation,
                expires_ms,
                instructions,
                ..
            } => {
                let m = mandate_of(mandate)?;
                let track = self.track(mandate);
                let known: Vec<_> = track
                    .instructions
                    .iter()
                    .filter(|(at, _)| self.covered(current, Some(*at)))
                    .map(|(_, i)| i)
                    .collect();
                if m.holder != *holder
                    || m.scope
                        != (Scope::Federation {
                            federation: *federation,
                        })
                    || m.expires_ms != *expires_ms
                    || known != instructions.iter().collect::<Vec<_>>()
                {
                    return Err("the mandate is not as the statement says".into());
                }
                if self.covered(current, track.recalled) || self.covered(current, track.suspended) {
                    return Err("the mandate is recalled or suspended in the signer's past".into());
                }
                Ok(())
            }
            Statement::Recall { mandate, .. } => {
                mandate_of(mandate)?;
                if self.covered(current, self.track(mandate).recalled) {
                    Ok(())
                } else {
                    Err("the mandate is not recalled in the signer's causal past".into())
                }
            }
            Statement::Suspend { mandate, .. } => {
                mandate_of(mandate)?;
                if self.covered(current, self.track(mandate).recalled) {
                    Err("the mandate is already recalled".into())
                } else {
                    Ok(())
                }
            }
            Statement::Tally {
                federation,
                question,
                summary,
                ..
            } => match self.referred.get(&(*federation, *question)) {
                Some((at, decided)) if self.covered(current, Some(*at)) && decided == summary => {
                    Ok(())
                }
                _ => Err("the council has not decided that referred question so".into()),
            },
            Statement::Reinstate { mandate, .. } => {
                let m = mandate_of(mandate)?;
                let track = self.track(mandate);
                if !self.covered(current, track.kept) || self.covered(current, track.recalled) {
                    return Err(
                        "the council has not kept that mandate after a petition in the signer's causal past"
                            .into(),
                    );
                }
                if !matches!(m.scope, Scope::Federation { .. })
                    || self.covered(current, track.suspended)
                {
                    return Err("the mandate is not a delegate's, or is suspended again".into());
                }
                Ok(())
            }
        }
    }

    /// Checks the breach a petition carries home: the delegate's ballot and the certificate
    /// of their mandate, both signed events of the federation, the ballot against an
    /// instruction that the certificate gave and that the council decided in the petition's
    /// causal past.
    fn check_breach(
        &self,
        current: &Current<'_>,
        mandate: &MandateId,
        evidence: &BreachEvidence,
    ) -> Result<HomeBreach, String> {
        let m = self
            .founded()
            .mandates
            .get(mandate)
            .ok_or("no such mandate")?;
        let Scope::Federation { federation } = m.scope else {
            return Err("only a delegate's mandate is breached in a federation".into());
        };
        let decode = |bytes: &[u8], what: &str| {
            Event::decode(bytes).map_err(|e| format!("the breach's {what} is not an event: {e}"))
        };
        let ballot = decode(&evidence.ballot, "ballot")?;
        let certificate = decode(&evidence.certificate, "certificate")?;
        if verify_events(&[ballot.clone(), certificate.clone()]) != [true, true] {
            return Err("a signature in the breach's evidence does not verify".into());
        }
        if ballot.council() != federation || certificate.council() != federation {
            return Err("the breach's evidence is not from the mandate's federation".into());
        }
        if ballot.unsigned.author != m.holder {
            return Err("the breach's ballot is not the delegate's".into());
        }
        let body = |event: &Event| {
            event
                .inline_body()
                .and_then(|body| Payload::decode(event.unsigned.kind, body).ok())
        };
        let Some(Payload::Ballot(cast)) = body(&ballot) else {
            return Err("the breach's ballot is not a ballot".into());
        };
        let Some(Payload::Certify(certify)) = body(&certificate) else {
            return Err("the breach's certificate is not a certificate".into());
        };
        let Statement::Mandate {
            council,
            mandate: certified,
            holder,
            instructions,
            ..
        } = &certify.statement
        else {
            return Err("the breach's certificate is not of a mandate".into());
        };
        if (*council, certified, holder) != (self.council, mandate, &m.holder) {
            return Err("the breach's certificate is of another mandate".into());
        }
        if let Some(stranger) = certify
            .signed()?
            .iter()
            .find(|s| !self.periods.contains_key(&s.signer))
        {
            return Err(format!(
                "signer {} of the breach's certificate was never a member here",
                stranger.signer.short()
            ));
        }
        let decided: Vec<_> = self
            .track(mandate)
            .instructions
            .into_iter()
            .filter(|(at, _)| self.covered(current, Some(*at)))
            .map(|(_, i)| i)
            .collect();
        let instructed = instructions
            .iter()
            .find(|i| i.proposal == cast.proposal && decided.contains(i))
            .ok_or(
                "the council gave no instruction on the ballot's proposal in that certificate",
            )?;
        if !contradicts(&instructed.choice, &cast.choice) {
            return Err("the ballot follows the instruction: no breach".into());
        }
        if ballot.unsigned.time_ms < certificate.unsigned.time_ms {
            return Err("the ballot is older than the certificate".into());
        }
        if m.breaches.iter().any(|b| b.ballot == ballot.id) {
            return Err("that breach is already on record".into());
        }
        Ok(HomeBreach {
            ballot: ballot.id,
            proposal: cast.proposal,
            certificate: certificate.id,
            petition: current.event.id,
        })
    }

    /// A member signs a statement about this council's log.
    pub(super) fn endorse(&mut self, current: &Current<'_>, endorse: payload::Endorse) -> Verdict {
        let signer = current.author();
        self.authorise(&signer, &current.clock, current.time())?;
        let statement = endorse.statement;
        if statement.council() != self.council {
            return Err("the statement is about another council".into());
        }
        self.check_statement(current, &statement)?;
        let breach = match (&endorse.breach, &statement) {
            (None, _) => None,
            (Some(evidence), Statement::Suspend { mandate, .. }) => {
                Some((*mandate, self.check_breach(current, mandate, evidence)?))
            }
            (Some(_), _) => return Err("only a recall petition carries a breach".into()),
        };
        let id = statement.id();
        let signers = {
            let entry = self
                .state_mut()
                .endorsements
                .entry(id)
                .or_insert_with(|| Endorsements {
                    statement: statement.clone(),
                    signatures: BTreeMap::new(),
                });
            if entry.signatures.contains_key(&signer) {
                return Err("already signed this statement".into());
            }
            entry
                .signatures
                .insert(signer, (endorse.signature, current.event.id));
            entry.signatures.len()
        };
        if let Some((mandate, breach)) = breach
            && let Some(m) = self.state_mut().mandates.get_mut(&mandate)
        {
            m.breaches.push(breach);
        }
        if let Statement::Suspend { mandate, .. } = statement {
            self.petition(current, mandate, signers);
        }
        Ok(())
    }

    /// A recall petition that reaches the constitution's share suspends the mandate at once
    /// and opens a recall decision, whose id is the signature that reached the share.
    fn petition(&mut self, current: &Current<'_>, mandate: MandateId, signers: usize) {
        let constitution = self.constitution_at(&current.clock).clone();
        let needed = threshold(
            constitution.mandate_rules().petition_share_permille,
            self.founded().members.len(),
        );
        let Some(m) = self.founded().mandates.get(&mandate) else {
            return;
        };
        if signers < needed || m.status != MandateStatus::Active {
            return;
        }
        let title = format!(
            "Recall {}'s mandate ({} members petitioned)",
            self.founded().member_name(&m.holder),
            signers
        );
        let petition = current.event.id;
        if let Some(m) = self.state_mut().mandates.get_mut(&mandate) {
            m.status = MandateStatus::Suspended { petition };
        }
        let reason = format!(
            "void: concurrent with the petition that suspended the mandate it was made under ({})",
            petition.short()
        );
        self.end_mandate(current, mandate, reason, |track, at| {
            track.suspended = Some(at)
        });
        let rule = constitution.rule(QuestionKind::Recall);
        let deadline_ms = current.time() + rule.min_duration_ms.max(DAY_MS);
        let proposal = self.open(
            current,
            title,
            Action::Recall { mandate },
            rule.method.clone(),
            rule.quorum,
            deadline_ms,
        );
        self.state_mut().proposals.insert(petition, proposal);
    }

    /// A working group's act under its mandate.
    pub(super) fn act(&mut self, current: &Current<'_>, act: payload::Act) -> Verdict {
        let author = current.author();
        self.authorise(&author, &current.clock, current.time())?;
        let state = self.founded();
        let mandate = state.mandates.get(&act.mandate).ok_or("no such mandate")?;
        if mandate.holder != author {
            return Err("only the mandate's holder acts under it".into());
        }
        let Scope::WorkingGroup { limits, .. } = &mandate.scope else {
            return Err("only a working group's mandate covers acts".into());
        };
        if !self.covered(current, self.track(&act.mandate).issued) {
            return Err("the mandate is not in the act's causal past".into());
        }
        let track = self.track(&act.mandate);
        match mandate.status {
            MandateStatus::Active => {}
            MandateStatus::Suspended { petition } if !self.covered(current, track.suspended) => {
                return Err(format!(
                    "void: concurrent with the petition that suspended the mandate it was made under ({})",
                    petition.short()
                ));
            }
            MandateStatus::Suspended { .. } => {
                return Err("the mandate is suspended by a recall petition".into());
            }
            MandateStatus::Recalled { decision } if !self.covered(current, track.recalled) => {
                return Err(format!(
                    "void: concurrent with the recall of the mandate it was made under ({})",
                    decision.short()
                ));
            }
            MandateStatus::Recalled { .. } => return Err("the mandate was recalled".into()),
        }
        if current.time() > mandate.expires_ms {
            return Err("the mandate had expired".into());
        }
        check_text("act", &act.text, 2000)?;
        for amount in &act.amounts {
            let limit = limits
                .iter()
                .find(|l| l.unit == amount.unit)
                .ok_or_else(|| format!("the mandate sets no limit in {}", amount.unit))?;
            let used: u64 = state
                .acts
                .values()
                .filter(|a| a.mandate == act.mandate && a.overturned.is_none())
                .flat_map(|a| &a.amounts)
                .filter(|a| a.unit == amount.unit)
                .map(|a| a.quantity)
                .sum();
            if used.saturating_add(amount.quantity) > limit.quantity {
                return Err(format!(
                    "over the mandate's limit: {used} of {} {} used, and this act needs {}",
                    limit.quantity, amount.unit, amount.quantity
                ));
            }
        }
        let recorded = GroupAct {
            mandate: act.mandate,
            author,
            text: act.text,
            amounts: act.amounts,
            time_ms: current.time(),
            overturned: None,
        };
        self.state_mut().acts.insert(current.event.id, recorded);
        self.mandates
            .entry(act.mandate)
            .or_default()
            .acts
            .push((current.at, current.event.id));
        Ok(())
    }

    /// The convener's own seat ends when the first delegate is seated: from then on, only
    /// delegates sit.
    fn end_convening(&mut self, current: &Current<'_>, certificate: EventId) {
        let conveners: Vec<MemberId> = self
            .founded()
            .members
            .iter()
            .filter(|(m, member)| {
                member.admitted == Admitted::Founder && !self.seats.contains_key(m)
            })
            .map(|(m, _)| *m)
            .collect();
        for convener in conveners {
            self.end_membership(&convener, current.at, certificate, false);
        }
    }

    /// Seats a delegate at the certificate being folded, their seat lapsing with the mandate.
    fn seat(
        &mut self,
        current: &Current<'_>,
        holder: MemberId,
        council: CouncilId,
        mandate: MandateId,
        expires_ms: u64,
    ) {
        let id = current.event.id;
        self.end_convening(current, id);
        self.membership_changes += 1;
        self.periods.entry(holder).or_default().push(Period {
            start: current.at,
            end: None,
            expires_ms: Some(expires_ms),
        });
        let state = self.state_mut();
        state.former_members.remove(&holder);
        state.members.insert(
            holder,
            crate::state::Member {
                name: format!("delegate {}", holder.short()),
                since: id,
                admitted: Admitted::Mandate { council, mandate },
            },
        );
    }

    /// The roster of a member council in `current`'s causal past.
    fn member_roster(&self, current: &Current<'_>, council: &CouncilId) -> Result<&Roster, String> {
        self.rosters
            .get(council)
            .filter(|roster| self.covered(current, roster.admitted))
            .ok_or_else(|| "the council is not a member of this federation".to_string())
    }

    /// In a federation: a member council's statement with its members' signatures.
    pub(super) fn certify(&mut self, current: &Current<'_>, certify: payload::Certify) -> Verdict {
        if self.founded().federation.is_none() {
            return Err("certificates go to a federation's log".into());
        }
        let share = self
            .constitution_at(&current.clock)
            .federation
            .unwrap_or_default()
            .certificate_share_permille;
        let signers: Vec<MemberId> = certify.signed()?.iter().map(|s| s.signer).collect();
        if !signers.windows(2).all(|w| w[0] < w[1]) {
            return Err("signatures must be sorted by signer, one each".into());
        }
        if !signers.contains(&current.author()) {
            return Err("a certificate is posted by one of its signers".into());
        }
        if certify
            .statement
            .federation()
            .is_some_and(|federation| federation != self.council)
        {
            return Err("the certificate is addressed to another federation".into());
        }
        let council = certify.statement.council();
        let enough_of = |share: u32, roster: &BTreeSet<MemberId>| -> Verdict {
            if let Some(stranger) = signers.iter().find(|s| !roster.contains(s)) {
                return Err(format!(
                    "signer {} is not on the council's roster",
                    stranger.short()
                ));
            }
            let needed = threshold(share, roster.len());
            if signers.len() < needed {
                return Err(format!(
                    "{} signature(s), and the federation needs {needed} of the council's {}",
                    signers.len(),
                    roster.len()
                ));
            }
            Ok(())
        };
        let enough = |roster: &BTreeSet<MemberId>| enough_of(share, roster);
        let id = current.event.id;
        match certify.statement {
            Statement::Roster {
                version,
                members,
                petition_share_permille,
                ..
            } => {
                if members.is_empty() || !members.windows(2).all(|w| w[0] < w[1]) {
                    return Err("a roster lists its members once each, in order".into());
                }
                let new_members: BTreeSet<MemberId> = members.into_iter().collect();
                match self.rosters.get(&council) {
                    Some(roster) if roster.admitted.is_some() => {
                        self.member_roster(current, &council)?;
                        if version <= roster.version {
                            return Err("the federation holds a newer roster".into());
                        }
                        enough(&roster.members)?;
                    }
                    Some(roster) if version <= roster.version => {
                        return Err("the federation holds a newer roster".into());
                    }
                    _ => enough(&new_members)?,
                }
                let size = new_members.len() as u64;
                let roster = self.rosters.entry(council).or_insert(Roster {
                    version,
                    members: BTreeSet::new(),
                    admitted: None,
                    since: current.at,
                    certificate: id,
                    petition_share_permille,
                });
                roster.version = version;
                roster.members = new_members;
                roster.certificate = id;
                roster.petition_share_permille = petition_share_permille;
                let member = roster.admitted.is_some();
                let federation = self.federation_mut();
                match federation.councils.get_mut(&council) {
                    Some(entry) if member => {
                        entry.roster_version = version;
                        entry.members = size;
                        entry.roster = id;
                        entry.petition_share_permille = petition_share_permille;
                    }
                    _ => {
                        federation.applicants.insert(council, id);
                    }
                }
                Ok(())
            }
            Statement::Mandate {
                mandate,
                holder,
                expires_ms,
                instructions,
                ..
            } => {
                enough(&self.member_roster(current, &council)?.members)?;
                if matches!(
                    self.unseated.get(&mandate),
                    Some(SeatEnd::Recalled | SeatEnd::Suspended)
                ) {
                    return Err(
                        "that mandate was recalled or suspended here; only a new election seats the delegate again"
                            .into(),
                    );
                }
                let seated = self
                    .founded()
                    .federation
                    .as_ref()
                    .and_then(|f| f.delegates.get(&holder))
                    .is_some_and(|d| d.ended.is_none());
                if !seated {
                    self.seat(current, holder, council, mandate, expires_ms);
                } else if let Some(period) =
                    self.periods.get_mut(&holder).and_then(|p| p.last_mut())
                {
                    period.expires_ms = Some(expires_ms);
                }
                self.seats.insert(holder, mandate);
                self.federation_mut().delegates.insert(
                    holder,
                    Delegate {
                        council,
                        mandate,
                        expires_ms,
                        instructions,
                        certificate: id,
                        ended: None,
                    },
                );
                Ok(())
            }
            Statement::Reinstate { mandate, .. } => {
                enough(&self.member_roster(current, &council)?.members)?;
                if self.unseated.get(&mandate) != Some(&SeatEnd::Suspended) {
                    return Err("no delegate's seat under that mandate is suspended here".into());
                }
                let (holder, expires_ms) = self
                    .founded()
                    .federation
                    .as_ref()
                    .and_then(|f| {
                        f.delegates
                            .iter()
                            .find(|(_, d)| d.council == council && d.mandate == mandate)
                    })
                    .map(|(holder, d)| (*holder, d.expires_ms))
                    .ok_or("no delegate sat under that mandate")?;
                self.seat(current, holder, council, mandate, expires_ms);
                self.seats.insert(holder, mandate);
                self.unseated.insert(mandate, SeatEnd::Kept);
                // The seat's certificate stays the mandate's: it carries the instructions a
                // breach is judged by.
                if let Some(delegate) = self.federation_mut().delegates.get_mut(&holder) {
                    delegate.ended = None;
                }
                Ok(())
            }
            Statement::Recall { mandate, .. } | Statement::Suspend { mandate, .. } => {
                let suspend = matches!(certify.statement, Statement::Suspend { .. });
                let roster = self.member_roster(current, &council)?;
                // A petition suspends at once (DESIGN.md §6): its own signatures, at the share
                // the home constitution asks, prove it.
                match roster.petition_share_permille {
                    Some(petition) if suspend => enough_of(petition, &roster.members)?,
                    _ => enough(&roster.members)?,
                }
                if suspend && self.unseated.get(&mandate) == Some(&SeatEnd::Kept) {
                    return Err(
                        "the council kept that mandate after a petition; only its recall unseats the delegate now"
                            .into(),
                    );
                }
                let holder = self
                    .founded()
                    .federation
                    .as_ref()
                    .and_then(|f| {
                        f.delegates.iter().find(|(_, d)| {
                            d.council == council && d.mandate == mandate && d.ended.is_none()
                        })
                    })
                    .map(|(holder, _)| *holder)
                    .ok_or("no delegate sits under that mandate")?;
                let reason = format!(
                    "void: concurrent with the certificate that unseated its author ({})",
                    id.short()
                );
                self.end_period(&holder, current.at, id, Some(reason.clone()));
                for (at, act) in self.acts.get(&holder).into_iter().flatten() {
                    if !current.clock.covers(at.device, at.seq)
                        && !self.restart.voided.contains_key(act)
                    {
                        self.new_voids.insert(*act, reason.clone());
                    }
                }
                self.seats.remove(&holder);
                let end = if suspend {
                    SeatEnd::Suspended
                } else {
                    SeatEnd::Recalled
                };
                self.unseated.insert(mandate, end);
                if let Some(delegate) = self.federation_mut().delegates.get_mut(&holder) {
                    delegate.ended = Some(id);
                }
                let state = self.state_mut();
                if let Some(gone) = state.members.remove(&holder) {
                    state.former_members.insert(
                        holder,
                        crate::state::FormerMember {
                            name: gone.name,
                            until: id,
                            removed: true,
                        },
                    );
                }
                Ok(())
            }
            Statement::Tally {
                question, summary, ..
            } => {
                enough(&self.member_roster(current, &council)?.members)?;
                let proposal = self.proposal_in_past(current, &question)?;
                if proposal.mode != Some(Mode::Referral) {
                    return Err("that question is not referred to the councils".into());
                }
                if proposal
                    .decision
                    .as_ref()
                    .is_some_and(|d| self.covers(&current.clock, &d.close))
                {
                    return Err("the question is closed".into());
                }
                if !proposal.councils.contains_key(&council) {
                    return Err("the council was not a member when the question opened".into());
                }
                if proposal.tallies.contains_key(&council) {
                    return Err("the council has already answered".into());
                }
                fits(proposal, &summary)?;
                self.state_mut()
                    .proposals
                    .get_mut(&question)
                    .expect("checked above")
                    .tallies
                    .insert(
                        council,
                        CouncilTally {
                            certificate: id,
                            summary,
                        },
                    );
                self.answers.insert((question, council), current.at);
                Ok(())
            }
        }
    }
}

/// Whether a council's summary fits the referred question's method and options.
fn fits(proposal: &Proposal, summary: &crate::mandate::Summary) -> Verdict {
    use crate::mandate::Summary;
    let n = proposal.options.len();
    match (&proposal.method, summary) {
        (Method::Schulze { .. }, Summary::Pairwise { preferences, .. }) => {
            if preferences.len() == n * n {
                Ok(())
            } else {
                Err(format!(
                    "a pairwise matrix for {n} options has {} entries",
                    n * n
                ))
            }
        }
        (Method::Schulze { .. }, _) => {
            Err("a Schulze question is answered with a pairwise matrix".into())
        }
        (_, Summary::Pairwise { .. }) => {
            Err("only a Schulze question is answered with a pairwise matrix".into())
        }
        (method, Summary::Ballots { ballots }) => {
            for counted in ballots {
                match (&counted.choice, method) {
                    // Anonymised: the reasons stayed at home.
                    (Choice::Consent { .. }, Method::Consent { .. }) => {}
                    (choice, method) => choice.check(method, &proposal.options)?,
                }
            }
            Ok(())
        }
    }
}

/// Whether a ballot goes against an instruction; a consent ballot is judged by its position.
fn contradicts(instructed: &Choice, cast: &Choice) -> bool {
    match (instructed, cast) {
        (Choice::Consent { position: a, .. }, Choice::Consent { position: b, .. }) => a != b,
        (a, b) => a != b,
    }
}

fn lcm(a: u64, b: u64) -> u64 {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    a / gcd(a, b) * b
}
