//! The gate before the store (DESIGN.md §4 and §9): what from outside may enter a council's
//! log at all, and which events a new draft may build on.
//!
//! Owns three rules. No event dated beyond this node's clock plus [`MAX_SKEW_MS`] is stored
//! ("not yet": the same bytes pass once the time has come). An event whose author the node
//! cannot place in the council (a member's key, or a former member's, or an applicant's; a
//! join with a valid invitation; an admission request where the constitution takes them; a
//! certificate in a federation) is not stored. A draft's parents are never events the fold
//! rejected, nor events dated beyond the clock. Must not decide what counts: validity stays
//! the fold's, and two nodes that hold the same events fold the same state whatever their
//! gates let in.

use std::collections::{HashMap, HashSet};

use anyhow::Result;
use commune_core::constitution::Admission;
use commune_core::mandate::Statement;
use commune_core::payload::{self, Payload, kind};
use commune_core::{CouncilId, Event, EventId, ParentInfo, PublicKey, State};
use commune_store::Store;

/// How far ahead of this node's clock an event may be dated: clocks of phones and laptops
/// drift, and an event signed on one a few minutes fast must still go in.
pub const MAX_SKEW_MS: u64 = 5 * 60 * 1000;

/// The most events a draft looks through below the heads for parents it may build on.
const MAX_WALK: usize = 100_000;

/// Where events come from, which decides whether they may bring a council the node lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Pushed to this node by someone else (sync's exchange): never a new council.
    Pushed,
    /// Asked for by this node (its own sync), or imported by its operator (a bundle).
    Chosen,
}

/// Why "not yet", or `None` when the event's time has come.
pub fn not_yet(event: &Event, now_ms: u64) -> Option<String> {
    let ahead = event.unsigned.time_ms.saturating_sub(now_ms);
    (ahead > MAX_SKEW_MS).then(|| {
        format!(
            "event {} is dated {} minutes after this node's clock: not yet (it can be sent again once its time has come)",
            event.id.short(),
            ahead / 60_000
        )
    })
}

/// The keys the node can place in one council.
#[derive(Debug, Default)]
struct Placed {
    keys: HashSet<PublicKey>,
    founded: bool,
    federation: bool,
    /// The constitution takes joins without an invitation (open admission, or by vote).
    requests: bool,
    /// The store's data version this was built at: another process's writes make it stale.
    version: u64,
}

impl Placed {
    fn of(state: &State, version: u64) -> Placed {
        let mut keys: HashSet<PublicKey> = state.members.keys().copied().collect();
        keys.extend(state.former_members.keys().copied());
        keys.extend(state.applicants.keys().copied());
        Placed {
            keys,
            founded: true,
            federation: state.federation.is_some(),
            requests: state.constitution.admission != Admission::Invitation,
            version,
        }
    }
}

/// What the gate let through, and what it held back, with reasons.
#[derive(Debug, Default)]
pub struct Verdicts {
    /// In (depth, id) order, for the store.
    pub pass: Vec<Event>,
    /// Dated beyond the clock: the same bytes may be sent again later.
    pub not_yet: Vec<String>,
    /// From a key the node cannot place, or building on such an event.
    pub refused: Vec<String>,
}

#[derive(Clone, Copy)]
enum Held {
    NotYet,
    Refused,
}

/// The node's gate: the keys it can place, council by council, learnt from the fold once
/// and kept up as events pass.
#[derive(Debug, Default)]
pub struct Gate {
    councils: HashMap<CouncilId, Placed>,
}

impl Gate {
    /// Whether the gate must learn `council` (again) from its fold before judging.
    pub fn needs(&self, council: CouncilId, version: u64) -> bool {
        self.councils
            .get(&council)
            .is_none_or(|placed| placed.version != version)
    }

    /// Learns a council's placed keys from its fold (`None`: the node holds no such council).
    pub fn learn(&mut self, council: CouncilId, state: Option<&State>, version: u64) {
        let placed = match state {
            Some(state) => Placed::of(state, version),
            None => Placed {
                version,
                ..Placed::default()
            },
        };
        self.councils.insert(council, placed);
    }

    /// Notes that `author` acted in `council` through this node (a local act the fold took).
    pub fn note(&mut self, event: &Event) {
        if let Some(placed) = self.councils.get_mut(&event.council()) {
            placed.founded = true;
            placed.keys.insert(event.unsigned.author);
        }
    }

    /// Judges a batch of verified events. Every council of the batch must have been learnt.
    /// An event whose parents are neither stored nor passed is let through unjudged: the
    /// store keeps it out until they come, and the gate judges it then.
    pub fn judge(
        &mut self,
        store: &Store,
        events: &[Event],
        source: Source,
        now_ms: u64,
    ) -> Result<Verdicts> {
        let mut order: Vec<&Event> = events.iter().collect();
        order.sort_by_key(|e| (e.unsigned.depth, e.id));
        order.dedup_by_key(|e| e.id);
        let mut verdicts = Verdicts::default();
        let mut passed: HashSet<EventId> = HashSet::new();
        let mut deferred: HashSet<EventId> = HashSet::new();
        let mut held: HashMap<EventId, Held> = HashMap::new();
        let mut stored: HashMap<EventId, bool> = HashMap::new();
        for event in order {
            if let Some(reason) = not_yet(event, now_ms) {
                held.insert(event.id, Held::NotYet);
                verdicts.not_yet.push(reason);
                continue;
            }
            let mut inherited = None;
            let mut waiting = false;
            for parent in &event.unsigned.parents {
                if let Some(h) = held.get(parent) {
                    inherited = Some(*h);
                    break;
                }
                if passed.contains(parent) {
                    continue;
                }
                if deferred.contains(parent) {
                    waiting = true;
                    continue;
                }
                let known = match stored.get(parent) {
                    Some(known) => *known,
                    None => {
                        let known = store.has(*parent)?;
                        stored.insert(*parent, known);
                        known
                    }
                };
                waiting |= !known;
            }
            match inherited {
                Some(Held::NotYet) => {
                    held.insert(event.id, Held::NotYet);
                    verdicts.not_yet.push(format!(
                        "event {} builds on an event that is not yet due",
                        event.id.short()
                    ));
                    continue;
                }
                Some(Held::Refused) => {
                    held.insert(event.id, Held::Refused);
                    verdicts.refused.push(format!(
                        "event {} builds on an event this node refused",
                        event.id.short()
                    ));
                    continue;
                }
                None => {}
            }
            if waiting {
                deferred.insert(event.id);
                verdicts.pass.push(event.clone());
                continue;
            }
            match self.place(event, source) {
                Ok(()) => {
                    passed.insert(event.id);
                    verdicts.pass.push(event.clone());
                }
                Err(reason) => {
                    held.insert(event.id, Held::Refused);
                    verdicts.refused.push(reason);
                }
            }
        }
        Ok(verdicts)
    }

    /// Whether the node can place the event's author in its council; places them if so.
    fn place(&mut self, event: &Event, source: Source) -> Result<(), String> {
        let council = event.council();
        let author = event.unsigned.author;
        let placed = self.councils.entry(council).or_default();
        if event.unsigned.is_genesis() {
            if placed.founded {
                return Ok(());
            }
            if source == Source::Pushed {
                return Err(format!(
                    "this node does not hold council {council}, and a push does not bring a new one (a council comes to a node by being founded there, by a bundle its operator imports, or by the node's own sync)"
                ));
            }
            if let Some(Ok(Payload::Found(found))) = payload_of(event) {
                placed.founded = true;
                placed.federation = found.constitution.federation.is_some();
                placed.requests = found.constitution.admission != Admission::Invitation;
            }
            placed.keys.insert(author);
            return Ok(());
        }
        if placed.keys.contains(&author) {
            return Ok(());
        }
        let stranger = || {
            format!(
                "event {}: its author is not a member of this council on this node, so nothing of theirs is stored (a new member's join goes first)",
                event.id.short()
            )
        };
        match event.unsigned.kind {
            kind::JOIN => {
                let Some(Ok(Payload::Join(join))) = payload_of(event) else {
                    return Err(stranger());
                };
                let admitted = match &join.invitation {
                    Some(invitation) => {
                        invitation.verify().is_ok()
                            && invitation.council == council
                            && placed.keys.contains(&invitation.inviter)
                            && event.unsigned.time_ms <= invitation.expires_ms
                    }
                    // An admission request, where the constitution takes them.
                    None => placed.requests,
                };
                if !admitted {
                    return Err(format!(
                        "event {}: a join needs a valid invitation from a member of this council",
                        event.id.short()
                    ));
                }
                placed.keys.insert(author);
                Ok(())
            }
            kind::CERTIFY if placed.federation => {
                let Some(Ok(Payload::Certify(certify))) = payload_of(event) else {
                    return Err(stranger());
                };
                // A delegate's council certifies them; they act in the federation after.
                if let Statement::Mandate { holder, .. } = &certify.statement {
                    placed.keys.insert(*holder);
                }
                placed.keys.insert(author);
                Ok(())
            }
            _ => Err(stranger()),
        }
    }
}

fn payload_of(event: &Event) -> Option<Result<Payload, payload::PayloadError>> {
    event
        .inline_body()
        .map(|body| Payload::decode(event.unsigned.kind, body))
}

/// The events a new draft of `council` by `author` builds on: its heads, except that an
/// event the fold rejected, or one dated beyond the clock, gives way to its own parents
/// (DESIGN.md §4: a rejected event is never a parent of a new draft). The author's own
/// rejected events stay: their next event must have their last one in its past (the
/// device's seq chain). At most the deepest [`commune_core::event::MAX_PARENTS`].
pub fn parents(
    store: &Store,
    council: CouncilId,
    author: PublicKey,
    rejected: impl Fn(&EventId) -> bool,
    now_ms: u64,
) -> Result<Vec<ParentInfo>> {
    let mut todo: Vec<EventId> = store.heads(council)?;
    let mut seen: HashSet<EventId> = todo.iter().copied().collect();
    let mut parents = Vec::new();
    while let Some(id) = todo.pop() {
        let Some(event) = store.event(id)? else {
            anyhow::bail!("head {id} is missing from the log");
        };
        let usable = (!rejected(&id) || event.unsigned.author == author)
            && event.unsigned.time_ms <= now_ms.saturating_add(MAX_SKEW_MS);
        if usable {
            parents.push(event.parent_info());
            continue;
        }
        if seen.len() > MAX_WALK {
            continue;
        }
        for parent in &event.unsigned.parents {
            if seen.insert(*parent) {
                todo.push(*parent);
            }
        }
    }
    // Keep the deepest: the rest are merged by a later event.
    parents.sort_by_key(|p| std::cmp::Reverse((p.depth, p.id)));
    parents.dedup_by_key(|p| p.id);
    parents.truncate(commune_core::event::MAX_PARENTS);
    if parents.is_empty() {
        anyhow::bail!("no council {council} on this node");
    }
    Ok(parents)
}

#[cfg(test)]
mod tests {
    use commune_core::constitution::Constitution;
    use commune_core::invite::Invitation;
    use commune_core::{Keypair, Unsigned};

    use crate::node::{IngestReport, Node, now_ms};

    use super::*;

    const YEAR_2100_MS: u64 = 4_102_444_800_000;

    struct Fixture {
        dir: tempfile::TempDir,
        node: Node,
        member: Keypair,
        council: CouncilId,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::TempDir::new().unwrap();
        let (mut node, _) = Node::init(dir.path(), None, "me").unwrap();
        let member = node.identity("me").unwrap();
        let council = node
            .found(&member, "Tenants", "Ana", Constitution::default())
            .unwrap()
            .council();
        Fixture {
            dir,
            node,
            member,
            council,
        }
    }

    fn comment_by(fixture: &Fixture, author: &Keypair, seq: u64, time_ms: u64) -> Event {
        let body = Payload::Comment(payload::Comment {
            proposal: EventId([1; 32]),
            reply_to: None,
            text: "hello".into(),
        });
        let heads = fixture.node.store().heads(fixture.council).unwrap();
        let parents: Vec<ParentInfo> = heads
            .iter()
            .map(|h| {
                fixture
                    .node
                    .store()
                    .event(*h)
                    .unwrap()
                    .unwrap()
                    .parent_info()
            })
            .collect();
        Unsigned::compose(
            fixture.council,
            author.public(),
            seq,
            &parents,
            time_ms,
            body.kind(),
            body.encode(),
        )
        .sign(author)
    }

    /// Appends straight to the database, as a node of an older version would have.
    fn append_behind_the_gate(fixture: &Fixture, event: &Event) {
        let mut store = Store::open(&fixture.dir.path().join(crate::node::DATABASE)).unwrap();
        let report = store.append(std::slice::from_ref(event)).unwrap();
        assert_eq!(report.inserted, vec![event.id]);
    }

    #[test]
    fn a_bundle_frame_dated_2100_is_not_yet_and_nothing_is_stored() {
        let mut fixture = fixture();
        let jam = comment_by(&fixture, &fixture.member, 2, YEAR_2100_MS);
        let report = fixture
            .node
            .append_checked(std::slice::from_ref(&jam), IngestReport::default())
            .unwrap();
        assert_eq!(report.new, 0);
        assert!(report.invalid.is_empty(), "{:?}", report.invalid);
        assert_eq!(report.not_yet.len(), 1);
        assert!(
            report.not_yet[0].contains("not yet"),
            "{:?}",
            report.not_yet
        );
        assert!(!fixture.node.store().has(jam.id).unwrap());
        // Within the skew, it goes in.
        let soon = comment_by(&fixture, &fixture.member, 2, now_ms() + MAX_SKEW_MS / 2);
        let report = fixture
            .node
            .append_checked(std::slice::from_ref(&soon), IngestReport::default())
            .unwrap();
        assert_eq!(report.new, 1, "{report:?}");
    }

    #[test]
    fn only_keys_the_node_can_place_get_events_stored() {
        let mut fixture = fixture();
        let stranger = Keypair::from_seed([31; 32]);
        let noise = comment_by(&fixture, &stranger, 1, now_ms());
        let report = fixture
            .node
            .append_checked(std::slice::from_ref(&noise), IngestReport::default())
            .unwrap();
        assert_eq!(report.new, 0);
        assert!(report.refused[0].contains("not a member"), "{report:?}");
        assert!(!report.refused[0].contains("depth"), "{report:?}");

        // A join without an invitation, where admission is by invitation: refused.
        let heads = fixture.node.store().heads(fixture.council).unwrap();
        let head = fixture.node.store().event(heads[0]).unwrap().unwrap();
        let council = fixture.council;
        let join = |invitation: Option<Invitation>| {
            let body = Payload::Join(payload::Join {
                name: "Bo".into(),
                invitation,
            });
            Unsigned::compose(
                council,
                stranger.public(),
                1,
                &[head.parent_info()],
                now_ms(),
                body.kind(),
                body.encode(),
            )
            .sign(&stranger)
        };
        let bare = join(None);
        let report = fixture
            .node
            .append_checked(std::slice::from_ref(&bare), IngestReport::default())
            .unwrap();
        assert_eq!(report.new, 0, "{report:?}");
        // One signed by another stranger: refused; by a member: stored, and then the new
        // member's comment too.
        let forged = Invitation::new(
            fixture.council,
            "Tenants".into(),
            &Keypair::from_seed([32; 32]),
            [1; 16],
            u64::MAX,
        );
        let report = fixture
            .node
            .append_checked(&[join(Some(forged))], IngestReport::default())
            .unwrap();
        assert_eq!(report.new, 0, "{report:?}");
        let invitation = fixture
            .node
            .invite(&fixture.member, fixture.council, 3_600_000)
            .unwrap();
        let joined = join(Some(invitation));
        let report = fixture
            .node
            .append_checked(std::slice::from_ref(&joined), IngestReport::default())
            .unwrap();
        assert_eq!(report.new, 1, "{report:?}");
        fixture.node.settle(&report.touched).unwrap();
        let after = comment_by(&fixture, &stranger, 2, now_ms());
        let report = fixture
            .node
            .append_checked(std::slice::from_ref(&after), IngestReport::default())
            .unwrap();
        assert_eq!(report.new, 1, "{report:?}");
    }

    #[test]
    fn a_pushed_genesis_is_refused_and_a_chosen_one_stored() {
        let mut fixture = fixture();
        let founder = Keypair::from_seed([33; 32]);
        let genesis = crate::node::draft_found(
            founder.public(),
            "Elsewhere",
            "Cy",
            Constitution::default(),
            now_ms(),
        )
        .unwrap()
        .sign(&founder);
        let report = fixture.node.ingest(None, &[&genesis.bytes]).unwrap();
        assert_eq!(report.new, 0, "{report:?}");
        assert!(report.refused[0].contains("does not hold"), "{report:?}");
        let report = fixture
            .node
            .append_checked(std::slice::from_ref(&genesis), IngestReport::default())
            .unwrap();
        assert_eq!(report.new, 1, "{report:?}");
    }

    #[test]
    fn a_draft_never_builds_on_a_rejected_or_future_event() {
        let mut fixture = fixture();
        // A member's comment on no proposal: stored (the author is placed), rejected by the fold.
        let rejected = comment_by(&fixture, &fixture.member, 2, now_ms());
        let report = fixture
            .node
            .append_checked(std::slice::from_ref(&rejected), IngestReport::default())
            .unwrap();
        assert_eq!(report.new, 1, "{report:?}");
        fixture.node.settle(&report.touched).unwrap();
        assert!(
            fixture
                .node
                .rejections(fixture.council)
                .unwrap()
                .iter()
                .any(|r| r.event == rejected.id)
        );
        // A stranger's event dated 2100, stored before the gate existed.
        let stranger = Keypair::from_seed([34; 32]);
        let jam = comment_by(&fixture, &stranger, 1, YEAR_2100_MS);
        append_behind_the_gate(&fixture, &jam);
        fixture.node.settle(&[fixture.council]).unwrap();
        let heads = fixture.node.store().heads(fixture.council).unwrap();
        assert!(heads.contains(&jam.id), "{heads:?}");

        let member = fixture.member.clone();
        let propose = Payload::Propose(payload::Propose {
            title: "Fix the lift".into(),
            text: String::new(),
            action: payload::Action::None,
            method: None,
            options: Vec::new(),
            quorum: None,
            deadline_ms: now_ms() + 3 * 86_400_000,
            mode: None,
        });
        let event = fixture.node.act(&member, fixture.council, propose).unwrap();
        assert!(!event.unsigned.parents.contains(&jam.id));
        // The member's own rejected comment stays in the past of their next act (their seq
        // chain), and the fold takes the act.
        assert!(event.unsigned.parents.contains(&rejected.id));
        // Another identity's draft does not build on it.
        let other = fixture.node.create_identity("bo").unwrap();
        let unsigned = fixture
            .node
            .draft(
                fixture.council,
                other.public(),
                &Payload::Leave(payload::Leave {}),
                now_ms(),
            )
            .unwrap();
        assert!(!unsigned.parents.contains(&jam.id));
        assert!(!unsigned.parents.contains(&rejected.id));
        assert!(unsigned.time_ms <= now_ms() + MAX_SKEW_MS);
        assert!(event.unsigned.time_ms <= now_ms() + MAX_SKEW_MS);
    }
}
