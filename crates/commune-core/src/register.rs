//! The register (DESIGN.md §7): a council's item catalogue, needs, offers, processes, commons,
//! bookings, fulfilment and decided plans, named after the Valueflows vocabulary.
//!
//! Owns the register's event bodies (kinds 40 to 48), its part of the state, the conversion
//! of the register into a planner [`Model`], and of a [`Draft`] into the exact commitments a
//! plan proposal carries. Quantities on the wire and in the state are exact integers in
//! thousandths of the item's unit (hours for labour), so the fold is deterministic; the
//! planner's `f64` appear only in the model and the draft. The fold's rules for these events
//! live in `fold/register.rs`.

use std::collections::BTreeMap;

use minicbor::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::id::{CouncilId, EventId, MandateId, MemberId, PlanHash};
use crate::plan::{self, Draft, Model, Source, Urgency};

/// Quantities are counted in thousandths of a unit.
pub const SCALE: i64 = 1000;

/// The largest quantity the register accepts, in thousandths: a thousand billion units.
pub const MAX_QUANTITY: i64 = 1_000_000_000_000_000;

/// The unit labour is counted in.
pub const HOUR: &str = "hour";

/// A planning round: the week from the moment the plan is drawn. Equipment is free for the
/// round's hours, less its bookings within it.
pub const ROUND_MS: u64 = 7 * 24 * HOUR_MS;

const HOUR_MS: u64 = 60 * 60 * 1000;

/// An item kind in the council's catalogue (a Valueflows ResourceSpecification). Kind 40.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct ItemKind {
    /// Unique in the catalogue; needs, offers and resources name it.
    #[n(0)]
    pub name: String,
    /// "kg", "meal", "bike": every quantity of this item is in thousandths of it.
    #[n(1)]
    pub unit: String,
}

/// So much of something, in thousandths of `unit`.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Quantity {
    #[n(0)]
    pub amount: i64,
    #[n(1)]
    pub unit: String,
}

impl Quantity {
    /// In whole units, for the planner and for people.
    pub fn units(&self) -> f64 {
        self.amount as f64 / SCALE as f64
    }
}

/// Who a need is for: the unit of fairness when there is too little.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Encode, Decode, Serialize, Deserialize)]
#[cbor(flat)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Receiver {
    #[n(0)]
    Member {
        #[n(0)]
        member: MemberId,
    },
    #[n(1)]
    Household {
        #[n(0)]
        name: String,
    },
    #[n(2)]
    Council,
}

impl Receiver {
    /// The receiver's key in the planner's fairness rule.
    pub fn key(&self) -> String {
        match self {
            Receiver::Member { member } => format!("member:{member}"),
            Receiver::Household { name } => format!("household:{name}"),
            Receiver::Council => "council".into(),
        }
    }
}

/// A need (a Valueflows Intent with a receiver). Kind 41.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Need {
    #[n(0)]
    pub item: String,
    #[n(1)]
    pub quantity: Quantity,
    #[n(2)]
    pub place: String,
    /// Wanted by this time.
    #[n(3)]
    pub by_ms: u64,
    #[n(4)]
    pub urgency: Urgency,
    #[n(5)]
    pub receiver: Receiver,
}

/// What an offer provides.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cbor(flat)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Provision {
    /// Goods of a catalogue item.
    #[n(0)]
    Goods {
        #[n(0)]
        item: String,
        #[n(1)]
        quantity: Quantity,
    },
    /// Hours of work of one skill; `hours.unit` is [`HOUR`].
    #[n(1)]
    Labour {
        #[n(0)]
        skill: String,
        #[n(1)]
        hours: Quantity,
    },
}

/// An offer (a Valueflows Intent with a provider). Kind 42.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Offer {
    #[n(0)]
    pub provision: Provision,
    #[n(1)]
    pub place: String,
    /// Available from this time until `until_ms`.
    #[n(2)]
    pub from_ms: u64,
    #[n(3)]
    pub until_ms: u64,
}

/// So much of an item, per run of a process.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Flow {
    #[n(0)]
    pub item: String,
    #[n(1)]
    pub quantity: Quantity,
}

/// Hours of one skill per run of a process.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct SkillHours {
    #[n(0)]
    pub skill: String,
    #[n(1)]
    pub hours: Quantity,
}

/// Hours of a commons resource (an oven, a van) per run of a process.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct EquipmentHours {
    #[n(0)]
    pub resource: EventId,
    #[n(1)]
    pub hours: Quantity,
}

/// A process (a Valueflows Recipe run at a place): per run, inputs and labour in, outputs
/// out. Kind 43.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Recipe {
    #[n(0)]
    pub name: String,
    #[n(1)]
    pub place: String,
    #[n(2)]
    pub outputs: Vec<Flow>,
    #[n(3)]
    pub inputs: Vec<Flow>,
    #[n(4)]
    pub labour: Vec<SkillHours>,
    #[n(5)]
    pub equipment: Vec<EquipmentHours>,
    /// Most runs per planning round, in thousandths of a run.
    #[n(6)]
    pub capacity: i64,
}

/// A resource added to the commons (a Valueflows EconomicResource, stewarded by the council
/// whose log holds it). Kind 44.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Resource {
    #[n(0)]
    pub name: String,
    #[n(1)]
    pub item: String,
    #[n(2)]
    pub quantity: Quantity,
    #[n(3)]
    pub place: String,
    /// The rules of use, in the council's words.
    #[n(4)]
    pub rules: String,
}

/// A booking of a commons resource for a time span, `[from_ms, until_ms)`. Kind 45.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Book {
    #[n(0)]
    pub resource: EventId,
    #[n(1)]
    pub from_ms: u64,
    #[n(2)]
    pub until_ms: u64,
    /// How much of the resource, in thousandths of its unit; `None` books all of it.
    #[n(3)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
}

/// What a fulfilment event records (Valueflows actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cbor(index_only)]
#[serde(rename_all = "kebab-case")]
pub enum FlowAction {
    /// Goods handed over: they leave the resource's stock (if one is named).
    #[n(0)]
    Deliver,
    /// Goods used up: they leave the resource's stock.
    #[n(1)]
    Use,
    /// Goods made: they join the resource's stock.
    #[n(2)]
    Produce,
    /// Hours worked; `item` names the skill.
    #[n(3)]
    Work,
}

impl FlowAction {
    pub fn name(self) -> &'static str {
        match self {
            FlowAction::Deliver => "deliver",
            FlowAction::Use => "use",
            FlowAction::Produce => "produce",
            FlowAction::Work => "work",
        }
    }
}

/// A commitment of a decided plan: the plan proposal and the commitment's index in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct CommitmentRef {
    #[n(0)]
    pub plan: EventId,
    #[n(1)]
    pub index: u32,
}

/// What actually happened (a Valueflows EconomicEvent): stocks follow. Kind 46.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Fulfil {
    #[n(0)]
    pub action: FlowAction,
    /// The item, or the skill for [`FlowAction::Work`].
    #[n(1)]
    pub item: String,
    #[n(2)]
    pub quantity: Quantity,
    /// The commons resource whose stock it draws from or adds to.
    #[n(3)]
    pub resource: Option<EventId>,
    /// The need it (partly) satisfies.
    #[n(4)]
    pub need: Option<EventId>,
    /// The plan's commitment it fulfils.
    #[n(5)]
    pub commitment: Option<CommitmentRef>,
}

/// The author withdraws their own need or offer. Kind 47.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Withdraw {
    #[n(0)]
    pub intent: EventId,
}

/// A working group adopts a plan under its mandate, within the mandate's limits: each item
/// delivered counts against the limit whose unit is the item's name (in whole units, rounded
/// up), and runs against the limit in [`PROCESS_RUNS`]. Kind 48.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Adopt {
    #[n(0)]
    pub mandate: MandateId,
    #[n(1)]
    pub terms: PlanTerms,
}

/// The unit of a working group's limit on the process runs of the plans it adopts.
pub const PROCESS_RUNS: &str = "process runs";

/// A plan's delivery: so much of a need's item from a commons resource, a goods offer or a
/// process (a Valueflows Commitment).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Commitment {
    #[n(0)]
    pub need: EventId,
    /// A resource, a goods offer or a process of the register.
    #[n(1)]
    pub source: EventId,
    /// In thousandths of the need's unit.
    #[n(2)]
    pub quantity: i64,
}

/// A plan's process run (a Valueflows Commitment to produce).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct RunCommitment {
    #[n(0)]
    pub process: EventId,
    /// In thousandths of a run.
    #[n(1)]
    pub runs: i64,
}

/// What a plan proposal puts to the council: the draft's commitments, exact.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct PlanTerms {
    /// [`PlanTerms::hash_of`] the deliveries and runs: names the draft.
    #[n(0)]
    pub draft: PlanHash,
    #[n(1)]
    pub deliveries: Vec<Commitment>,
    #[n(2)]
    pub runs: Vec<RunCommitment>,
}

impl PlanTerms {
    /// Exact commitments from a draft of `model` (built by [`model`]): quantities rounded to
    /// thousandths, empty ones left out.
    pub fn of_draft(model: &Model, draft: &Draft) -> PlanTerms {
        let id = |text: &str| {
            text.parse::<EventId>()
                .expect("register models carry event ids")
        };
        let mut runs: Vec<RunCommitment> = draft
            .runs
            .iter()
            .map(|run| RunCommitment {
                process: id(&model.processes[run.process].id),
                runs: thousandths(run.runs),
            })
            .filter(|r| r.runs > 0)
            .collect();
        runs.sort_by_key(|r| r.process);
        // What each source can give, in thousandths: a supply its stock, a process what its
        // rounded runs make of an item. Rounding each delivery on its own could commit more.
        let made = |source: &Source, item: usize| -> i64 {
            match *source {
                Source::Supply(supply) => thousandths(model.supplies[supply].quantity),
                Source::Process(process) => {
                    let committed = draft
                        .runs
                        .iter()
                        .find(|run| run.process == process)
                        .map_or(0, |run| thousandths(run.runs));
                    let per_run: f64 = model.processes[process]
                        .outputs
                        .iter()
                        .filter(|(output, _)| *output == item)
                        .map(|(_, quantity)| quantity)
                        .sum();
                    (committed as f64 * per_run + 1e-6).floor() as i64
                }
            }
        };
        let mut by_source: BTreeMap<(EventId, usize), (i64, Vec<Commitment>)> = BTreeMap::new();
        for delivery in &draft.deliveries {
            let item = model.needs[delivery.need].item;
            let source = match delivery.source {
                Source::Supply(supply) => id(&model.supplies[supply].id),
                Source::Process(process) => id(&model.processes[process].id),
            };
            by_source
                .entry((source, item))
                .or_insert_with(|| (made(&delivery.source, item), Vec::new()))
                .1
                .push(Commitment {
                    need: id(&model.needs[delivery.need].id),
                    source,
                    quantity: thousandths(delivery.quantity),
                });
        }
        let mut deliveries = Vec::new();
        for (_, (cap, mut commitments)) in by_source {
            // The excess is a few thousandths of rounding: take them from the largest first.
            let mut excess = commitments.iter().map(|c| c.quantity).sum::<i64>() - cap;
            commitments.sort_by_key(|c| (std::cmp::Reverse(c.quantity), c.need));
            while excess > 0 {
                let mut cut = false;
                for commitment in commitments.iter_mut().filter(|c| c.quantity > 0) {
                    if excess == 0 {
                        break;
                    }
                    commitment.quantity -= 1;
                    excess -= 1;
                    cut = true;
                }
                if !cut {
                    break;
                }
            }
            deliveries.extend(commitments.into_iter().filter(|c| c.quantity > 0));
        }
        deliveries.sort_by_key(|c| (c.need, c.source));
        PlanTerms {
            draft: PlanTerms::hash_of(&deliveries, &runs),
            deliveries,
            runs,
        }
    }

    /// BLAKE3 of the CBOR of the deliveries and runs.
    pub fn hash_of(deliveries: &[Commitment], runs: &[RunCommitment]) -> PlanHash {
        let bytes = minicbor::to_vec((deliveries, runs)).expect("writing to a Vec cannot fail");
        PlanHash(*blake3::hash(&bytes).as_bytes())
    }
}

fn thousandths(units: f64) -> i64 {
    (units * SCALE as f64).round() as i64
}

/// The register's part of a council's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Register {
    /// The item catalogue, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub items: BTreeMap<String, CatalogueItem>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub needs: BTreeMap<EventId, PostedNeed>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub offers: BTreeMap<EventId, PostedOffer>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub processes: BTreeMap<EventId, PostedProcess>,
    /// The commons, with their current stock.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resources: BTreeMap<EventId, CommonsResource>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bookings: BTreeMap<EventId, Booking>,
    /// Fulfilment events, by event id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fulfilments: BTreeMap<EventId, Fulfilment>,
    /// Decided plans, by their proposal.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub plans: BTreeMap<EventId, Plan>,
    /// Plans a working group adopted and the council then overturned, by their adopt
    /// event: no longer the council's plan, kept for what was fulfilled under them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overturned_plans: BTreeMap<EventId, OverturnedPlan>,
}

impl Register {
    pub fn is_empty(&self) -> bool {
        *self == Register::default()
    }

    /// The bookings of a resource, by start.
    pub fn bookings_of(&self, resource: &EventId) -> Vec<(&EventId, &Booking)> {
        let mut bookings: Vec<_> = self
            .bookings
            .iter()
            .filter(|(_, b)| b.book.resource == *resource)
            .collect();
        bookings.sort_by_key(|(id, b)| (b.book.from_ms, **id));
        bookings
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueItem {
    pub unit: String,
    pub added: EventId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostedNeed {
    pub author: MemberId,
    pub time_ms: u64,
    #[serde(flatten)]
    pub need: Need,
    /// Received so far, in thousandths, by fulfilment events naming this need.
    pub received: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<EventId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostedOffer {
    pub author: MemberId,
    pub time_ms: u64,
    #[serde(flatten)]
    pub offer: Offer,
    /// Given so far, in thousandths, by fulfilment events against commitments drawing on it,
    /// and, for labour, by hours its author recorded working of its skill.
    pub given: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<EventId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostedProcess {
    pub author: MemberId,
    pub time_ms: u64,
    #[serde(flatten)]
    pub recipe: Recipe,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommonsResource {
    pub steward: CouncilId,
    pub added_by: MemberId,
    pub name: String,
    pub item: String,
    /// The current stock, following fulfilment events.
    pub quantity: Quantity,
    pub place: String,
    pub rules: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    pub member: MemberId,
    pub time_ms: u64,
    #[serde(flatten)]
    pub book: Book,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<EventId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fulfilment {
    pub author: MemberId,
    pub time_ms: u64,
    #[serde(flatten)]
    pub fulfil: Fulfil,
}

/// A decided plan: the commitments of a plan proposal that passed, or that a working group
/// adopted under its mandate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The close that decided it, or the working group's adopt event.
    pub decision: EventId,
    pub terms: PlanTerms,
    /// Fulfilled so far, in thousandths, per delivery commitment.
    pub fulfilled: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverturnedPlan {
    pub plan: Plan,
    /// The close of the council's decision that overturned the adoption.
    pub decision: EventId,
}

/// How goods move between the register's places in a planning round.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Transport {
    /// Goods are used where they are: one place, or no carrying between places.
    None,
    /// Any item can be carried between any two places at this labour cost per unit.
    Between { hours_per_unit: f64 },
}

/// The planner's model of a register at `now_ms`: open needs (what is still to receive, due
/// now or later) and their receivers; commons stock and open goods offers as supplies; open
/// labour offers; processes, and the commons resources they use as equipment, free for the
/// round ([`ROUND_MS`] from `now_ms`) less their bookings within it. Item, place and skill
/// indices follow the names' order, equipment follows the resources' ids.
pub fn model(register: &Register, now_ms: u64, transport: Transport) -> Model {
    let items: Vec<&String> = register.items.keys().collect();
    let item_ix = |name: &str| items.iter().position(|i| *i == name).expect("in catalogue");
    let mut places: Vec<String> = register
        .needs
        .values()
        .map(|n| n.need.place.clone())
        .chain(register.offers.values().map(|o| o.offer.place.clone()))
        .chain(register.resources.values().map(|r| r.place.clone()))
        .chain(register.processes.values().map(|p| p.recipe.place.clone()))
        .collect();
    places.sort();
    places.dedup();
    let place_ix = |name: &str| places.iter().position(|p| p == name).expect("collected");
    let mut skills: Vec<String> = register
        .offers
        .values()
        .filter_map(|o| match &o.offer.provision {
            Provision::Labour { skill, .. } => Some(skill.clone()),
            Provision::Goods { .. } => None,
        })
        .chain(
            register
                .processes
                .values()
                .flat_map(|p| p.recipe.labour.iter().map(|l| l.skill.clone())),
        )
        .collect();
    skills.sort();
    skills.dedup();
    let skill_ix = |name: &str| skills.iter().position(|s| s == name).expect("collected");
    let needs = register
        .needs
        .iter()
        .filter(|(_, n)| n.withdrawn.is_none() && n.need.by_ms >= now_ms)
        .filter(|(_, n)| n.received < n.need.quantity.amount)
        .map(|(id, n)| plan::Need {
            id: id.to_string(),
            item: item_ix(&n.need.item),
            quantity: (n.need.quantity.amount - n.received) as f64 / SCALE as f64,
            place: place_ix(&n.need.place),
            urgency: n.need.urgency,
            receiver: n.need.receiver.key(),
        })
        .collect();
    let stock = register
        .resources
        .iter()
        .filter(|(_, r)| r.quantity.amount > 0)
        .map(|(id, r)| plan::Supply {
            id: id.to_string(),
            item: item_ix(&r.item),
            quantity: r.quantity.units(),
            place: place_ix(&r.place),
        });
    let open = |o: &&PostedOffer| o.withdrawn.is_none() && o.offer.until_ms >= now_ms;
    let goods = register
        .offers
        .iter()
        .filter(|(_, o)| open(o))
        .filter_map(|(id, o)| match &o.offer.provision {
            Provision::Goods { item, quantity } if quantity.amount > o.given => {
                Some(plan::Supply {
                    id: id.to_string(),
                    item: item_ix(item),
                    quantity: (quantity.amount - o.given) as f64 / SCALE as f64,
                    place: place_ix(&o.offer.place),
                })
            }
            _ => None,
        });
    let supplies = stock.chain(goods).collect();
    let labour = register
        .offers
        .iter()
        .filter(|(_, o)| open(o))
        .filter_map(|(id, o)| match &o.offer.provision {
            Provision::Labour { skill, hours } if hours.amount > o.given => Some(plan::Labour {
                id: id.to_string(),
                skill: skill_ix(skill),
                place: place_ix(&o.offer.place),
                hours: (hours.amount - o.given) as f64 / SCALE as f64,
            }),
            _ => None,
        })
        .collect();
    let used: std::collections::BTreeSet<&EventId> = register
        .processes
        .values()
        .flat_map(|p| p.recipe.equipment.iter().map(|e| &e.resource))
        .collect();
    let equipment: Vec<plan::Equipment> = used
        .iter()
        .filter_map(|&id| Some((id, register.resources.get(id)?)))
        .map(|(id, resource)| plan::Equipment {
            id: id.to_string(),
            name: resource.name.clone(),
            place: place_ix(&resource.place),
            hours: free_hours(register, id, resource, now_ms),
        })
        .collect();
    let equipment_ix = |id: &EventId| {
        let id = id.to_string();
        equipment.iter().position(|e| e.id == id)
    };
    let flows = |flows: &[Flow]| -> Vec<(usize, f64)> {
        flows
            .iter()
            .map(|f| (item_ix(&f.item), f.quantity.units()))
            .collect()
    };
    let processes = register
        .processes
        .iter()
        .map(|(id, p)| plan::Process {
            id: id.to_string(),
            name: p.recipe.name.clone(),
            place: place_ix(&p.recipe.place),
            outputs: flows(&p.recipe.outputs),
            inputs: flows(&p.recipe.inputs),
            labour: p
                .recipe
                .labour
                .iter()
                .map(|l| (skill_ix(&l.skill), l.hours.units()))
                .collect(),
            equipment: p
                .recipe
                .equipment
                .iter()
                .filter_map(|e| Some((equipment_ix(&e.resource)?, e.hours.units())))
                .collect(),
            capacity: p.recipe.capacity as f64 / SCALE as f64,
        })
        .collect();
    let mut routes = Vec::new();
    if let Transport::Between { hours_per_unit } = transport {
        for item in 0..items.len() {
            for from in 0..places.len() {
                for to in (0..places.len()).filter(|&to| to != from) {
                    routes.push(plan::Route {
                        item,
                        from,
                        to,
                        hours_per_unit,
                        capacity: None,
                    });
                }
            }
        }
    }
    Model {
        items: register
            .items
            .iter()
            .map(|(name, item)| plan::Item {
                name: name.clone(),
                unit: item.unit.clone(),
            })
            .collect(),
        places,
        skills,
        needs,
        supplies,
        routes,
        labour,
        processes,
        equipment,
    }
}

/// A resource's hours free in the round from `now_ms`: its units times the round's hours,
/// less each booking's quantity times the hours it overlaps the round.
fn free_hours(register: &Register, id: &EventId, resource: &CommonsResource, now_ms: u64) -> f64 {
    let units = resource.quantity.units().max(0.0);
    let end = now_ms.saturating_add(ROUND_MS);
    let booked: f64 = register
        .bookings_of(id)
        .into_iter()
        .filter(|(_, b)| b.withdrawn.is_none())
        .map(|(_, b)| {
            let overlap = b
                .book
                .until_ms
                .min(end)
                .saturating_sub(b.book.from_ms.max(now_ms));
            let quantity = b.book.quantity.map_or(units, |q| q as f64 / SCALE as f64);
            quantity * overlap as f64 / HOUR_MS as f64
        })
        .sum();
    (units * (ROUND_MS / HOUR_MS) as f64 - booked).max(0.0)
}
