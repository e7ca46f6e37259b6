//! The fold: a council's events, in (depth, id) order, into its state and the list of
//! events that took no effect, each with its reason. Folding never fails.
//!
//! Rules (DESIGN.md §4): authorisation is causal (an act counts only if its author held the
//! right in the state of the act's own causal past); a removal also voids the removed
//! member's acts concurrent with it; the electorate is frozen when a proposal opens; a
//! ballot replaces only the ballots in its causal past, and concurrent ballots by one member
//! are both void; a decision is the tally of the ballots in its close's causal past, and of
//! concurrent closes the first in order stands. Wall-clock time plays no part: the only times
//! read are the events' own, for deadlines and invitation expiry.
//!
//! Events must be signature-checked and structurally valid before they reach the fold (the
//! store holds only such events). Must not do I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use crate::clock::{Clock, DeviceIndex};
use crate::constitution::{Admission, Closers, Constitution, QuestionKind};
use crate::event::Event;
use crate::id::{CouncilId, EventId, MandateId, MemberId};
use crate::mandate::{Instruction, Summary};
use crate::payload::{self, Action, Mode, Payload};
use crate::state::{
    Admitted, Applicant, CastBallot, Decision, FormerMember, Member, PostedComment, Proposal,
    Rejection, State,
};

mod mandates;
mod register;

/// The result of a fold.
#[derive(Debug, Clone)]
pub struct Folded {
    pub state: State,
    pub rejections: Vec<Rejection>,
}

/// Folds a whole set of events of one council, given in any order. Detached bodies are
/// looked up with `body`. `None` when there are no events.
pub fn fold<'a>(
    events: impl IntoIterator<Item = &'a Event>,
    body: impl Fn(&Event) -> Option<Vec<u8>>,
) -> Option<Folded> {
    let mut sorted: Vec<&Event> = events.into_iter().collect();
    sorted.sort_by_key(|event| order_key(event));
    sorted.dedup_by_key(|event| event.id);
    let council = sorted.first()?.council();
    let folded = fold_stream(council, |folder| {
        for event in &sorted {
            let detached = event.inline_body().is_none().then(|| body(event)).flatten();
            folder.apply(event, detached.as_deref())?;
        }
        Ok::<_, OutOfOrder>(())
    });
    Some(folded.expect("sorted input is in order"))
}

/// Folds a council whose events `feed` gives to the [`Folder`] in (depth, id) order, calling
/// `feed` again for each restart the fold needs (see [`Folder::finish`]).
pub fn fold_stream<E>(
    council: CouncilId,
    feed: impl FnMut(&mut Folder) -> Result<(), E>,
) -> Result<Folded, E> {
    let folder = fold_live(council, feed)?;
    Ok(folder.finish().expect("a live folder needs no restart"))
}

/// As [`fold_stream`], but returns the folder of the pass that needed no restart, to read
/// with [`Folder::folded`] and to carry on with events that sort last.
pub fn fold_live<E>(
    council: CouncilId,
    mut feed: impl FnMut(&mut Folder) -> Result<(), E>,
) -> Result<Folder, E> {
    let mut restart = Restart::default();
    loop {
        let mut folder = Folder::new(council, restart);
        feed(&mut folder)?;
        match folder.restart_needed() {
            None => return Ok(folder),
            Some(again) => restart = again,
        }
    }
}

/// The position of an event in the fold: (depth, id).
pub fn order_key(event: &Event) -> (u64, EventId) {
    (event.unsigned.depth, event.id)
}

/// What a fold that must start again carries into the next attempt.
#[derive(Debug, Clone, Default)]
pub struct Restart {
    /// Events found void after they were folded (strong removal, device equivocation),
    /// with the reason.
    voided: BTreeMap<EventId, String>,
    /// Keep every event's clock: an event named a parent whose clock had been dropped.
    keep_all_clocks: bool,
}

/// An event given out of (depth, id) order: the caller must fold again from the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("event {0} sorts before events already folded")]
pub struct OutOfOrder(pub EventId);

/// Clocks are kept for this many levels of depth, then dropped for events that have a
/// child already; a later event that names such a parent makes the fold start again with
/// every clock kept.
const CLOCK_WINDOW: u64 = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EventRef {
    device: DeviceIndex,
    seq: u64,
}

#[derive(Debug, Clone)]
struct Node {
    at: EventRef,
    clock: Option<Clock>,
    has_child: bool,
}

#[derive(Debug, Clone)]
struct Period {
    start: EventRef,
    /// Where it ended; with a reason when the end is strong (a removal or recall), which
    /// voids the member's acts concurrent with it.
    end: Option<(EventRef, EventId, Option<String>)>,
    /// A delegate's seat lapses with their mandate.
    expires_ms: Option<u64>,
}

/// What the fold keeps of a mandate to judge acts and statements by their causal past.
#[derive(Debug, Clone, Default)]
struct MandateTrack {
    issued: Option<EventRef>,
    recalled: Option<EventRef>,
    suspended: Option<EventRef>,
    /// The close of the recall a petition opened, when it failed: the council kept it.
    kept: Option<EventRef>,
    instructions: Vec<(EventRef, Instruction)>,
    acts: Vec<(EventRef, EventId)>,
}

/// A member council's roster as a federation knows it.
#[derive(Debug, Clone)]
struct Roster {
    version: u64,
    members: BTreeSet<MemberId>,
    admitted: Option<EventRef>,
    /// The first certificate, asking to join, and the latest one.
    since: EventRef,
    certificate: EventId,
    /// The home constitution's petition share, as the latest roster certificate carried it.
    petition_share_permille: Option<u32>,
}

/// An incremental fold: events go in one at a time, in (depth, id) order. A folder whose
/// pass needed no restart is live: [`Folder::folded`] reads its state without ending it, and
/// more events that sort last go on into it (see [`Folder::extends_exactly`]).
#[derive(Debug, Clone)]
pub struct Folder {
    council: CouncilId,
    state: Option<State>,
    rejections: Vec<Rejection>,
    restart: Restart,
    new_voids: BTreeMap<EventId, String>,
    missing_clock: bool,
    last: Option<(u64, EventId)>,
    devices: HashMap<MemberId, DeviceIndex>,
    device_seqs: HashMap<(DeviceIndex, u64), EventId>,
    nodes: HashMap<EventId, Node>,
    clock_queue: VecDeque<(u64, EventId)>,
    periods: HashMap<MemberId, Vec<Period>>,
    acts: HashMap<MemberId, Vec<(EventRef, EventId)>>,
    constitutions: Vec<(EventRef, Constitution)>,
    invitations_used: HashSet<(MemberId, [u8; 16])>,
    applicants: HashMap<MemberId, EventRef>,
    mandates: HashMap<MandateId, MandateTrack>,
    /// Per rotation key, the winners of each election of that scope, in fold order.
    rotations: HashMap<String, Vec<BTreeSet<MemberId>>>,
    /// Federations the council decided to join, at the decision's close.
    joined: Vec<(EventRef, CouncilId)>,
    /// Referred questions this council decided: (federation, question) → close and summary.
    referred: HashMap<(CouncilId, EventId), (EventRef, Summary)>,
    /// Urgent decisions awaiting ratification, at their close: (close, proposal).
    urgent: Vec<(EventRef, EventId)>,
    /// Proposals opened with unratified urgent decisions in their past.
    follows: HashMap<EventId, Vec<EventId>>,
    /// In a federation: member and applicant councils' rosters.
    rosters: HashMap<CouncilId, Roster>,
    /// In a federation: the certificate carrying each council's answer to a question.
    answers: HashMap<(EventId, CouncilId), EventRef>,
    /// In a federation: which mandate seats each delegate, and the mandates whose seats a
    /// recall or suspension ended, and how (their certificates seat no one again).
    seats: HashMap<MemberId, MandateId>,
    unseated: HashMap<MandateId, mandates::SeatEnd>,
    /// Membership periods started and ended so far: the roster's version.
    membership_changes: u64,
}

/// The event being folded, with what the rules ask of it.
struct Current<'e> {
    event: &'e Event,
    at: EventRef,
    clock: Clock,
}

impl Current<'_> {
    fn author(&self) -> MemberId {
        self.event.unsigned.author
    }

    fn time(&self) -> u64 {
        self.event.unsigned.time_ms
    }
}

type Verdict = Result<(), String>;

impl Folder {
    pub fn new(council: CouncilId, restart: Restart) -> Folder {
        Folder {
            council,
            state: None,
            rejections: Vec::new(),
            restart,
            new_voids: BTreeMap::new(),
            missing_clock: false,
            last: None,
            devices: HashMap::new(),
            device_seqs: HashMap::new(),
            nodes: HashMap::new(),
            clock_queue: VecDeque::new(),
            periods: HashMap::new(),
            acts: HashMap::new(),
            constitutions: Vec::new(),
            invitations_used: HashSet::new(),
            applicants: HashMap::new(),
            mandates: HashMap::new(),
            rotations: HashMap::new(),
            joined: Vec::new(),
            referred: HashMap::new(),
            urgent: Vec::new(),
            follows: HashMap::new(),
            rosters: HashMap::new(),
            answers: HashMap::new(),
            seats: HashMap::new(),
            unseated: HashMap::new(),
            membership_changes: 0,
        }
    }

    /// Whether the fold so far must be redone from the start (see [`Folder::finish`]).
    pub fn needs_restart(&self) -> bool {
        !self.new_voids.is_empty() || self.missing_clock
    }

    /// Folds one more event, which must sort after every event folded so far. `detached` is
    /// the event's body when it is kept apart and available.
    pub fn apply(&mut self, event: &Event, detached: Option<&[u8]>) -> Result<(), OutOfOrder> {
        let key = order_key(event);
        if self.last.is_some_and(|last| last >= key) {
            return Err(OutOfOrder(event.id));
        }
        self.last = Some(key);
        if let Some(state) = &mut self.state {
            state.events += 1;
        }
        let verdict = self.place(event).and_then(|current| {
            let verdict = self.judge(&current, detached);
            if verdict.is_ok() {
                self.acts
                    .entry(current.author())
                    .or_default()
                    .push((current.at, event.id));
            }
            verdict
        });
        if let Err(reason) = verdict {
            self.rejections.push(Rejection {
                event: event.id,
                kind: payload::kind::name(event.unsigned.kind).to_owned(),
                author: event.unsigned.author,
                reason,
            });
        }
        Ok(())
    }

    /// The state and rejections, or what the next attempt must know when strong removal
    /// voided events already folded (or a dropped clock was needed): fold again from the
    /// start with a new [`Folder`] built from the returned [`Restart`].
    pub fn finish(self) -> Result<Folded, Restart> {
        if let Some(restart) = self.restart_needed() {
            return Err(restart);
        }
        let council = self.council;
        let mut state = self
            .state
            .unwrap_or_else(|| State::new(council, String::new(), Constitution::default()));
        if !state.federations.is_empty() {
            state.roster_version = Some(self.membership_changes);
        }
        Ok(Folded {
            state,
            rejections: self.rejections,
        })
    }

    /// The state and rejections so far, leaving the folder live; `None` when the pass must
    /// be redone from the start (see [`Folder::finish`]).
    pub fn folded(&self) -> Option<Folded> {
        if self.needs_restart() {
            return None;
        }
        let mut state = self
            .state
            .clone()
            .unwrap_or_else(|| State::new(self.council, String::new(), Constitution::default()));
        if !state.federations.is_empty() {
            state.roster_version = Some(self.membership_changes);
        }
        Some(Folded {
            state,
            rejections: self.rejections.clone(),
        })
    }

    /// What the next pass must know, when this one must be redone.
    fn restart_needed(&self) -> Option<Restart> {
        let mut restart = self.restart.clone();
        if self.missing_clock {
            // This pass judged events without every clock: its new voids may be wrong.
            restart.keep_all_clocks = true;
            return Some(restart);
        }
        if !self.new_voids.is_empty() {
            restart.voided.extend(self.new_voids.clone());
            return Some(restart);
        }
        None
    }

    /// The reason the fold refused `event`, if it did: for the event folded last, read
    /// without a search.
    pub fn rejection_of(&self, event: &EventId) -> Option<&Rejection> {
        self.rejections.iter().rev().find(|r| r.event == *event)
    }

    /// The live folder with `event` (which sorts after every event folded so far) folded
    /// in, when that gives exactly the fold from genesis of the events folded so far and
    /// `event`; `None` when the caller must fold again from genesis (the event sorts before
    /// others, voids acts already folded, or may have voided some in an earlier pass).
    pub fn extend(mut self, event: &Event, detached: Option<&[u8]>) -> Option<Folder> {
        if !self.extends_exactly(event) || self.apply(event, detached).is_err() {
            return None;
        }
        (!self.needs_restart()).then_some(self)
    }

    /// Whether applying `event` (which sorts after every event folded so far, and whose
    /// parents it holds) to this live folder gives, when the folder then needs no restart,
    /// exactly the fold from genesis of the events folded so far and `event`.
    ///
    /// A fold from genesis goes through the same passes as the one that made this folder,
    /// each with `event` at its end. When this folder's pass was the first (nothing was
    /// voided), the first pass with `event` is this folder with `event` applied. Otherwise an
    /// earlier pass, in which other events still counted, might have let `event` void acts
    /// (voids only accumulate from pass to pass), and this folder cannot tell: only an event
    /// that can void nothing is exact then. Strong removal and recall are closes, unseating is
    /// a certificate, and equivocation is a second event with one device's seq.
    pub fn extends_exactly(&self, event: &Event) -> bool {
        if self.needs_restart() {
            return false;
        }
        // A parent the folder lacks is in the log (the store checked it) but came in by
        // another way: this folder is behind the log.
        if !event
            .unsigned
            .parents
            .iter()
            .all(|parent| self.nodes.contains_key(parent))
        {
            return false;
        }
        if self.restart.voided.is_empty() {
            return true;
        }
        let kind = event.unsigned.kind;
        if kind == payload::kind::CLOSE || kind == payload::kind::CERTIFY {
            return false;
        }
        match self.devices.get(&event.unsigned.author) {
            Some(device) => !self
                .device_seqs
                .contains_key(&(*device, event.unsigned.seq)),
            None => true,
        }
    }

    /// Gives the event its place in the causal order: device, clock, and the device chain.
    fn place<'e>(&mut self, event: &'e Event) -> Result<Current<'e>, String> {
        let author = event.unsigned.author;
        let next_device = self.devices.len() as DeviceIndex;
        let device = *self.devices.entry(author).or_insert(next_device);
        let mut parent_clocks = Vec::with_capacity(event.unsigned.parents.len());
        for parent in &event.unsigned.parents {
            match self.nodes.get(parent) {
                None => return Err(format!("parent {} is not in the log", parent.short())),
                Some(Node { clock: None, .. }) => {
                    self.missing_clock = true;
                    return Err("a parent's clock was dropped; the fold starts again".into());
                }
                Some(Node {
                    clock: Some(clock), ..
                }) => parent_clocks.push(clock),
            }
        }
        let previous = parent_clocks
            .iter()
            .map(|clock| clock.get(device))
            .max()
            .unwrap_or(0);
        let at = EventRef {
            device,
            seq: event.unsigned.seq,
        };
        let clock = Clock::of_event(&parent_clocks, device, at.seq);
        for parent in &event.unsigned.parents {
            if let Some(node) = self.nodes.get_mut(parent) {
                node.has_child = true;
            }
        }
        self.nodes.insert(
            event.id,
            Node {
                at,
                clock: Some(clock.clone()),
                has_child: false,
            },
        );
        self.clock_queue.push_back((event.unsigned.depth, event.id));
        self.drop_old_clocks(event.unsigned.depth);
        if event.council() != self.council {
            return Err("event belongs to another council".into());
        }
        if let Some(&first) = self.device_seqs.get(&(device, at.seq)) {
            // Both events of an equivocating device are void, the one folded first too.
            let reason = format!(
                "void: its device signed two events with seq {} (equivocation)",
                at.seq
            );
            if !self.restart.voided.contains_key(&first) {
                self.new_voids.insert(first, reason.clone());
            }
            return Err(reason);
        }
        self.device_seqs.insert((device, at.seq), event.id);
        if previous + 1 != at.seq {
            return Err(format!(
                "seq {} does not follow the device's previous event in its past (seq {previous})",
                at.seq
            ));
        }
        Ok(Current { event, at, clock })
    }

    fn drop_old_clocks(&mut self, depth: u64) {
        if self.restart.keep_all_clocks {
            return;
        }
        while let Some(&(old_depth, id)) = self.clock_queue.front() {
            if old_depth + CLOCK_WINDOW >= depth {
                break;
            }
            self.clock_queue.pop_front();
            if let Some(node) = self.nodes.get_mut(&id)
                && node.has_child
            {
                node.clock = None;
            }
        }
    }

    fn ref_of(&self, id: &EventId) -> EventRef {
        self.nodes[id].at
    }

    fn covers(&self, clock: &Clock, id: &EventId) -> bool {
        let at = self.ref_of(id);
        clock.covers(at.device, at.seq)
    }

    fn judge(&mut self, current: &Current<'_>, detached: Option<&[u8]>) -> Verdict {
        if let Some(reason) = self.restart.voided.get(&current.event.id) {
            return Err(reason.clone());
        }
        if current.event.unsigned.encryption.is_some() {
            return Err("encrypted, and this node holds no key for it".into());
        }
        let bytes = current
            .event
            .inline_body()
            .or(detached)
            .ok_or("the body is not available (redacted or not yet fetched)")?;
        let payload = Payload::decode(current.event.unsigned.kind, bytes)
            .map_err(|error| error.to_string())?;
        if self.state.is_none() {
            return match payload {
                Payload::Found(found) if current.event.unsigned.is_genesis() => {
                    self.found(current, found)
                }
                _ => Err("the council's first event must found it".into()),
            };
        }
        match payload {
            Payload::Found(_) => Err("the council is already founded".into()),
            Payload::Join(join) => self.join(current, join),
            Payload::Leave(_) => self.leave(current),
            Payload::Propose(propose) => self.propose(current, propose),
            Payload::Ballot(ballot) => self.ballot(current, ballot),
            Payload::Comment(comment) => self.comment(current, comment),
            Payload::Close(close) => self.close(current, close),
            Payload::Endorse(endorse) => self.endorse(current, endorse),
            Payload::Certify(certify) => self.certify(current, certify),
            Payload::Act(act) => self.act(current, act),
            Payload::Item(item) => self.add_item(current, item),
            Payload::Need(need) => self.post_need(current, need),
            Payload::Offer(offer) => self.post_offer(current, offer),
            Payload::Process(recipe) => self.add_process(current, recipe),
            Payload::Resource(resource) => self.add_resource(current, resource),
            Payload::Book(book) => self.book(current, book),
            Payload::Fulfil(fulfil) => self.fulfil(current, fulfil),
            Payload::Withdraw(withdraw) => self.withdraw(current, withdraw),
            Payload::Adopt(adopt) => self.adopt(current, adopt),
        }
    }

    fn state_mut(&mut self) -> &mut State {
        self.state.as_mut().expect("founded")
    }

    fn founded(&self) -> &State {
        self.state.as_ref().expect("founded")
    }

    fn found(&mut self, current: &Current<'_>, found: payload::Found) -> Verdict {
        check_text("council name", &found.name, 200)?;
        check_text("name", &found.founder_name, 100)?;
        found.constitution.check()?;
        let founder = current.author();
        self.membership_changes += 1;
        self.periods.insert(
            founder,
            vec![Period {
                start: current.at,
                end: None,
                expires_ms: None,
            }],
        );
        self.constitutions
            .push((current.at, found.constitution.clone()));
        let mut state = State::new(self.council, found.name, found.constitution);
        state.members.insert(
            founder,
            Member {
                name: found.founder_name,
                since: current.event.id,
                admitted: Admitted::Founder,
            },
        );
        state.events = 1;
        self.state = Some(state);
        Ok(())
    }

    /// Whether `member` held membership in the causal past that `clock` describes, at `time`
    /// (a delegate's seat lapses with their mandate).
    fn authorise(&self, member: &MemberId, clock: &Clock, time: u64) -> Verdict {
        let periods = self
            .periods
            .get(member)
            .ok_or("not a member of the council")?;
        for period in periods.iter().rev() {
            if !clock.covers(period.start.device, period.start.seq) {
                continue;
            }
            if let Some(expires) = period.expires_ms
                && time > expires
            {
                return Err("the mandate that seats this delegate had expired".into());
            }
            return match &period.end {
                None => Ok(()),
                Some((end, _, _)) if clock.covers(end.device, end.seq) => {
                    Err("no longer a member in the event's causal past".into())
                }
                Some((_, _, Some(reason))) => Err(reason.clone()),
                Some(_) => Ok(()),
            };
        }
        Err("not a member in the event's causal past".into())
    }

    fn constitution_at(&self, clock: &Clock) -> &Constitution {
        self.constitutions
            .iter()
            .rev()
            .find(|(at, _)| clock.covers(at.device, at.seq))
            .map(|(_, constitution)| constitution)
            .expect("the founding constitution is in every event's past")
    }

    fn start_membership(
        &mut self,
        member: MemberId,
        name: String,
        at: EventRef,
        since: EventId,
        admitted: Admitted,
    ) {
        self.membership_changes += 1;
        self.periods.entry(member).or_default().push(Period {
            start: at,
            end: None,
            expires_ms: None,
        });
        let state = self.state_mut();
        state.former_members.remove(&member);
        state.applicants.remove(&member);
        state.members.insert(
            member,
            Member {
                name,
                since,
                admitted,
            },
        );
    }

    fn end_membership(&mut self, member: &MemberId, at: EventRef, event: EventId, removed: bool) {
        let strong = removed.then(|| strong_removal(&event));
        self.end_period(member, at, event, strong);
        let state = self.state_mut();
        if let Some(gone) = state.members.remove(member) {
            state.former_members.insert(
                *member,
                FormerMember {
                    name: gone.name,
                    until: event,
                    removed,
                },
            );
        }
    }

    /// Ends the member's current period; a strong end carries the reason that voids their
    /// concurrent acts.
    fn end_period(
        &mut self,
        member: &MemberId,
        at: EventRef,
        event: EventId,
        strong: Option<String>,
    ) {
        if let Some(period) = self
            .periods
            .get_mut(member)
            .and_then(|periods| periods.last_mut())
        {
            self.membership_changes += 1;
            period.end = Some((at, event, strong));
        }
    }

    fn join(&mut self, current: &Current<'_>, join: payload::Join) -> Verdict {
        let joiner = current.author();
        if self.founded().federation.is_some() {
            return Err("a federation's members are the delegates its councils certify".into());
        }
        if self
            .authorise(&joiner, &current.clock, current.time())
            .is_ok()
        {
            return Err("already a member".into());
        }
        check_text("name", &join.name, 100)?;
        let admission = self.constitution_at(&current.clock).admission;
        match (admission, join.invitation) {
            (Admission::Vote, _) => {
                self.applicants.insert(joiner, current.at);
                self.state_mut().applicants.insert(
                    joiner,
                    Applicant {
                        name: join.name,
                        request: current.event.id,
                    },
                );
                Ok(())
            }
            (Admission::Open, None) => {
                self.start_membership(
                    joiner,
                    join.name,
                    current.at,
                    current.event.id,
                    Admitted::Open,
                );
                Ok(())
            }
            (_, Some(invitation)) => {
                invitation.verify().map_err(|error| error.to_string())?;
                if invitation.council != self.council {
                    return Err("the invitation is for another council".into());
                }
                if current.time() > invitation.expires_ms {
                    return Err("the invitation had expired".into());
                }
                self.authorise(&invitation.inviter, &current.clock, current.time())
                    .map_err(|reason| format!("the inviter could not invite: {reason}"))?;
                if !self
                    .invitations_used
                    .insert((invitation.inviter, invitation.nonce))
                {
                    return Err("the invitation was already used".into());
                }
                self.start_membership(
                    joiner,
                    join.name,
                    current.at,
                    current.event.id,
                    Admitted::Invitation {
                        inviter: invitation.inviter,
                    },
                );
                Ok(())
            }
            (Admission::Invitation, None) => {
                Err("this council admits by invitation, and the join carries none".into())
            }
        }
    }

    fn leave(&mut self, current: &Current<'_>) -> Verdict {
        self.authorise(&current.author(), &current.clock, current.time())?;
        self.end_membership(&current.author(), current.at, current.event.id, false);
        Ok(())
    }

    fn proposal_in_past(&self, current: &Current<'_>, id: &EventId) -> Result<&Proposal, String> {
        let proposal = self
            .founded()
            .proposals
            .get(id)
            .ok_or_else(|| format!("no proposal {}", id.short()))?;
        if !self.covers(&current.clock, id) {
            return Err("the proposal is not in the event's causal past".into());
        }
        Ok(proposal)
    }

    fn propose(&mut self, current: &Current<'_>, propose: payload::Propose) -> Verdict {
        self.authorise(&current.author(), &current.clock, current.time())?;
        check_text("title", &propose.title, 300)?;
        if !propose.text.is_empty() {
            check_text("text", &propose.text, 60_000)?;
        }
        for option in &propose.options {
            check_text("option", option, 300)?;
        }
        let question = propose.action.question_kind();
        let constitution = self.constitution_at(&current.clock).clone();
        let rule = constitution.rule(question);
        let own_method = matches!(question, QuestionKind::General | QuestionKind::Election);
        let method = match propose.method {
            Some(method) if !own_method && method != rule.method => {
                return Err(format!(
                    "{} questions use the constitution's method ({})",
                    question.name(),
                    rule.method.name()
                ));
            }
            Some(method) => method,
            None => rule.method.clone(),
        };
        let quorum = match propose.quorum {
            Some(quorum) if !own_method && quorum != rule.quorum => {
                return Err(format!(
                    "{} questions use the constitution's quorum",
                    question.name()
                ));
            }
            Some(quorum) => quorum,
            None => rule.quorum,
        };
        method.check(&propose.options)?;
        if quorum.min_share_permille > 1000 {
            return Err("a quorum share is at most 1000‰".into());
        }
        let in_federation = self.founded().federation.is_some();
        match propose.mode {
            Some(Mode::Urgent) if !own_method => {
                return Err(format!(
                    "only general questions and elections may be urgent, not {} questions",
                    question.name()
                ));
            }
            Some(Mode::Referral) if !in_federation => {
                return Err("only a federation refers questions to its councils".into());
            }
            Some(Mode::Referral)
                if !matches!(propose.action, Action::None | Action::Refer { .. }) =>
            {
                return Err(
                    "only a general question, or one referred from above, can be referred".into(),
                );
            }
            _ => {}
        }
        let min_duration = if propose.mode == Some(Mode::Urgent) {
            0
        } else {
            rule.min_duration_ms
        };
        if propose.deadline_ms < current.time().saturating_add(min_duration) {
            return Err(format!(
                "the deadline must be at least {} minute(s) after opening for {} questions",
                min_duration / 60_000,
                question.name()
            ));
        }
        match &propose.action {
            Action::None | Action::Amend { .. } => {}
            Action::Admit { .. } | Action::Remove { .. } if in_federation => {
                return Err(
                    "a federation seats and unseats delegates by their councils' certificates"
                        .into(),
                );
            }
            _ => {}
        }
        match &propose.action {
            Action::None => {}
            Action::Admit { member } => {
                let request = self
                    .applicants
                    .get(member)
                    .ok_or("that person has not asked to join")?;
                if !current.clock.covers(request.device, request.seq) {
                    return Err("the request to join is not in the proposal's causal past".into());
                }
            }
            Action::Remove { member } => self
                .authorise(member, &current.clock, current.time())
                .map_err(|_| "only a member can be removed".to_string())?,
            Action::Amend { constitution } => {
                constitution.check()?;
                if constitution.federation.is_some() != in_federation {
                    return Err(
                        "an amendment cannot turn a council into a federation or back".into(),
                    );
                }
            }
            Action::Ratify { .. } => {
                return Err(
                    "a ratification is opened by the council itself when an urgent decision passes"
                        .into(),
                );
            }
            Action::Plan { terms } => self.check_plan(terms)?,
            action => self.check_mandate_action(current, action, &method, &propose.options)?,
        }
        let time = current.time();
        let electorate: BTreeSet<MemberId> = if propose.mode == Some(Mode::Referral) {
            BTreeSet::new()
        } else {
            self.periods
                .keys()
                .filter(|member| self.authorise(member, &current.clock, time).is_ok())
                .copied()
                .collect()
        };
        let (weights, councils) = if in_federation {
            self.federation_weights(current, &electorate, propose.mode)
        } else {
            (BTreeMap::new(), BTreeMap::new())
        };
        let id = current.event.id;
        let urgent_past: Vec<EventId> = self
            .urgent
            .iter()
            .filter(|(at, _)| current.clock.covers(at.device, at.seq))
            .map(|(_, proposal)| *proposal)
            .collect();
        if !urgent_past.is_empty() {
            self.follows.insert(id, urgent_past);
        }
        self.state_mut().proposals.insert(
            id,
            Proposal {
                id,
                proposer: current.author(),
                title: propose.title,
                text: propose.text,
                question,
                action: propose.action,
                method,
                options: propose.options,
                quorum,
                closers: constitution.closers,
                early_close: constitution.early_close,
                opened_ms: time,
                deadline_ms: propose.deadline_ms,
                electorate,
                ballots: BTreeMap::new(),
                comments: Vec::new(),
                decision: None,
                mode: propose.mode,
                weights,
                councils,
                tallies: BTreeMap::new(),
                follows_revoked: None,
            },
        );
        Ok(())
    }

    fn ballot(&mut self, current: &Current<'_>, ballot: payload::Ballot) -> Verdict {
        let voter = current.author();
        let proposal = self.proposal_in_past(current, &ballot.proposal)?;
        self.authorise(&voter, &current.clock, current.time())?;
        if !proposal.electorate.contains(&voter) {
            return Err("not in the electorate frozen when the proposal opened".into());
        }
        // A ballot concurrent with the standing close is kept: it is not counted there, but
        // a concurrent close may have it in its past.
        if let Some(decision) = &proposal.decision
            && self.covers(&current.clock, &decision.close)
        {
            return Err("the proposal is closed".into());
        }
        if proposal.mode == Some(Mode::Referral) {
            return Err(
                "a referred question is decided by its councils' tallies, not ballots".into(),
            );
        }
        ballot.choice.check(&proposal.method, &proposal.options)?;
        // A ballot replaces the voter's current ballots in its past. Causal pasts are closed
        // downwards, so naming only the current ones is enough to know every ballot it
        // supersedes, and keeps the lists short.
        let earlier = proposal
            .ballots
            .get(&voter)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let replaces = latest(earlier.iter())
            .into_iter()
            .filter(|ballot| self.covers(&current.clock, &ballot.event))
            .map(|ballot| ballot.event)
            .collect();
        self.check_instructions(current, &ballot);
        let cast = CastBallot {
            event: current.event.id,
            time_ms: current.time(),
            choice: ballot.choice,
            replaces,
        };
        self.state_mut()
            .proposals
            .get_mut(&ballot.proposal)
            .expect("checked above")
            .ballots
            .entry(voter)
            .or_default()
            .push(cast);
        Ok(())
    }

    fn comment(&mut self, current: &Current<'_>, comment: payload::Comment) -> Verdict {
        let proposal = self.proposal_in_past(current, &comment.proposal)?;
        self.authorise(&current.author(), &current.clock, current.time())?;
        check_text("comment", &comment.text, 20_000)?;
        if let Some(parent) = &comment.reply_to
            && !proposal.comments.iter().any(|c| c.event == *parent)
        {
            return Err("the comment replied to is not in this proposal's discussion".into());
        }
        let posted = PostedComment {
            event: current.event.id,
            author: current.author(),
            reply_to: comment.reply_to,
            text: comment.text,
            time_ms: current.time(),
        };
        self.state_mut()
            .proposals
            .get_mut(&comment.proposal)
            .expect("checked above")
            .comments
            .push(posted);
        Ok(())
    }

    fn close(&mut self, current: &Current<'_>, close: payload::Close) -> Verdict {
        let closer = current.author();
        let proposal = self.proposal_in_past(current, &close.proposal)?;
        self.authorise(&closer, &current.clock, current.time())?;
        match &proposal.closers {
            Closers::AnyMember => {}
            Closers::Proposer if closer == proposal.proposer => {}
            Closers::Proposer => return Err("only the proposer may close it".into()),
            Closers::Tellers { tellers } if tellers.contains(&closer) => {}
            Closers::Tellers { .. } => return Err("only a teller may close it".into()),
        }
        // Each voter's ballots in the close's past, less those another of them replaces.
        let mut counted = Vec::new();
        let mut equivocations = Vec::new();
        for (voter, cast) in &proposal.ballots {
            let seen = cast
                .iter()
                .filter(|ballot| self.covers(&current.clock, &ballot.event));
            match latest(seen).as_slice() {
                [] => {}
                [only] => counted.push((voter, *only)),
                several => equivocations.extend(several.iter().map(|b| b.event)),
            }
        }
        let answered: Vec<&crate::state::CouncilTally> = proposal
            .tallies
            .iter()
            .filter(|(council, _)| {
                self.answers
                    .get(&(close.proposal, **council))
                    .is_some_and(|at| current.clock.covers(at.device, at.seq))
            })
            .map(|(_, tally)| tally)
            .collect();
        let tallies: Vec<&Summary> = answered.iter().map(|tally| &tally.summary).collect();
        let everyone_voted = if proposal.mode == Some(Mode::Referral) {
            tallies.len() == proposal.councils.len()
        } else {
            counted.len() == proposal.electorate.len() && equivocations.is_empty()
        };
        if current.time() < proposal.deadline_ms && !(proposal.early_close && everyone_voted) {
            return Err(if proposal.early_close {
                "the deadline has not passed and not every member has voted".into()
            } else {
                "the deadline has not passed".into()
            });
        }
        let ballots: Vec<(&MemberId, &crate::tally::Choice)> = counted
            .iter()
            .map(|(voter, ballot)| (*voter, &ballot.choice))
            .collect();
        let outcome = proposal.tally(&ballots, &tallies);
        if let Some(standing) = &proposal.decision {
            if self.covers(&current.clock, &standing.close) {
                return Err("the proposal is already closed".into());
            }
            let differs = standing.outcome.passed != outcome.passed
                || standing.outcome.winners != outcome.winners;
            let standing_close = standing.close;
            if differs {
                self.state_mut()
                    .proposals
                    .get_mut(&close.proposal)
                    .expect("checked above")
                    .decision
                    .as_mut()
                    .expect("checked above")
                    .contested_by
                    .push(current.event.id);
            }
            return Err(format!(
                "a concurrent close ({}) stands{}",
                standing_close.short(),
                if differs {
                    "; this one reached another outcome, so the decision is contested"
                } else {
                    " with the same outcome"
                }
            ));
        }
        let passed = outcome.passed;
        let action = proposal.action.clone();
        let urgent = proposal.mode == Some(Mode::Urgent);
        let referral = proposal.mode == Some(Mode::Referral);
        let referred = match &action {
            // Referred on down: what goes up is the sum of the councils' answers.
            Action::Refer {
                federation,
                question,
            } => Some((
                (*federation, *question),
                if referral {
                    Summary::add(tallies.iter().copied()).unwrap_or(Summary::Ballots {
                        ballots: Vec::new(),
                    })
                } else {
                    proposal.summarise(&ballots)
                },
            )),
            _ => None,
        };
        // A referred question counts its councils' certificates, not ballots.
        let counted: Vec<EventId> = if referral {
            answered.iter().map(|tally| tally.certificate).collect()
        } else {
            counted.iter().map(|(_, ballot)| ballot.event).collect()
        };
        if let Some((key, summary)) = referred {
            self.referred.insert(key, (current.at, summary));
        }
        for &event in &equivocations {
            let author = self.voter_of(&close.proposal, &event);
            self.rejections.push(Rejection {
                event,
                kind: payload::kind::name(payload::kind::BALLOT).into(),
                author,
                reason: "void: the voter cast concurrent ballots (equivocation)".into(),
            });
        }
        let decision = Decision {
            close: current.event.id,
            closed_by: closer,
            time_ms: current.time(),
            outcome,
            counted,
            equivocations,
            contested_by: Vec::new(),
            ratification: None,
            revoked: None,
        };
        self.state_mut()
            .proposals
            .get_mut(&close.proposal)
            .expect("checked above")
            .decision = Some(decision);
        if passed {
            self.enact(current, close.proposal, action);
            if urgent {
                self.open_ratification(current, close.proposal);
            }
        } else {
            self.reject_decided(current, close.proposal, &action);
        }
        Ok(())
    }

    fn voter_of(&self, proposal: &EventId, ballot: &EventId) -> MemberId {
        self.founded().proposals[proposal]
            .ballots
            .iter()
            .find(|(_, cast)| cast.iter().any(|b| b.event == *ballot))
            .map(|(member, _)| *member)
            .expect("the ballot is the proposal's")
    }

    /// Carries out a decision that passed, at its close event.
    fn enact(&mut self, current: &Current<'_>, proposal: EventId, action: Action) {
        let close = current.event.id;
        match action {
            Action::None => {}
            Action::Admit { member } => {
                if self
                    .authorise(&member, &current.clock, current.time())
                    .is_ok()
                {
                    return;
                }
                let name = self.founded().member_name(&member);
                self.start_membership(
                    member,
                    name,
                    current.at,
                    close,
                    Admitted::Vote { decision: close },
                );
            }
            Action::Remove { member } => {
                self.end_membership(&member, current.at, close, true);
                // Strong removal: the member's acts concurrent with this close are void.
                for (at, act) in self.acts.get(&member).into_iter().flatten() {
                    if !current.clock.covers(at.device, at.seq)
                        && !self.restart.voided.contains_key(act)
                    {
                        self.new_voids.insert(*act, strong_removal(&close));
                    }
                }
            }
            Action::Amend { constitution } => {
                self.constitutions.push((current.at, constitution.clone()));
                self.state_mut().constitution = constitution;
            }
            Action::Plan { terms } => self.enact_plan(proposal, close, terms),
            action => self.enact_mandate_action(current, proposal, action),
        }
    }
}

/// The ballots no other ballot of the given ones replaces.
fn latest<'b>(ballots: impl Iterator<Item = &'b CastBallot> + Clone) -> Vec<&'b CastBallot> {
    let replaced: HashSet<EventId> = ballots
        .clone()
        .flat_map(|ballot| ballot.replaces.iter().copied())
        .collect();
    ballots
        .filter(|ballot| !replaced.contains(&ballot.event))
        .collect()
}

fn strong_removal(removal: &EventId) -> String {
    format!(
        "void: concurrent with the removal of its author (decision closed by {})",
        removal.short()
    )
}

fn check_text(what: &str, text: &str, max_chars: usize) -> Verdict {
    if text.trim().is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if text.chars().count() > max_chars {
        return Err(format!("the {what} is longer than {max_chars} characters"));
    }
    Ok(())
}
