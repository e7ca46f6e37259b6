//! Valueflows JSON-LD: a council's register, its decided plans and a draft plan as a graph in
//! the Valueflows vocabulary (`https://w3id.org/valueflows/ont/vf#`), and back.
//!
//! The register's names are Valueflows' own, so this is a straight serialisation: an item kind
//! is a `vf:ResourceSpecification`, a need or offer a `vf:Intent`, a process a `vf:Recipe`
//! (named by its primary output) whose one `vf:RecipeProcess` has its `vf:RecipeFlow`s, a
//! commons resource a `vf:EconomicResource`, a
//! booking or a plan's delivery a `vf:Commitment`, a fulfilment a `vf:EconomicEvent` with its
//! `vf:Satisfaction` and `vf:Fulfillment`, a decided plan a `vf:Plan` with its `vf:Process`
//! runs, and a draft a `vf:Scenario`. What Valueflows has no term for (urgency, rules of use,
//! who posted what and when, withdrawal) is under the `commune:` namespace. A council's
//! decision is not a `vf:Proposal` (that term means a published offer or request there) and
//! is not exported as one. Quantities are exact: decimals with at most three places.
//!
//! Must not write to the store: [`post`] only composes the events an import appends.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow, bail};
use commune_core::id::PlanHash;
use commune_core::plan::Urgency;
use commune_core::register::{
    Book, Booking, CatalogueItem, Commitment, CommitmentRef, CommonsResource, EquipmentHours, Flow,
    FlowAction, Fulfil, Fulfilment, HOUR, ItemKind, MAX_QUANTITY, Need, Offer, Plan, PlanTerms,
    PostedNeed, PostedOffer, PostedProcess, Provision, Quantity, Receiver, Recipe, Register,
    Resource, RunCommitment, SCALE, SkillHours,
};
use commune_core::state::State;
use commune_core::{CouncilId, Event, EventId, Keypair, MemberId, Payload};
use serde_json::{Map, Value, json};

use crate::node::Node;
use crate::register::{Drafted, format_quantity, shortfall_text};

pub const VF: &str = "https://w3id.org/valueflows/ont/vf#";
/// Our extension terms. Not a registered vocabulary yet: the terms are defined in
/// docs/valueflows.md.
pub const COMMUNE: &str = "https://w3id.org/commune/ns#";

fn context() -> Value {
    json!({
        "vf": VF,
        "commune": COMMUNE,
        "om2": "http://www.ontology-of-units-of-measure.org/resource/om-2/",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "vf:hasBeginning": {"@type": "xsd:dateTime"},
        "vf:hasEnd": {"@type": "xsd:dateTime"},
        "vf:due": {"@type": "xsd:dateTime"},
        "vf:hasPointInTime": {"@type": "xsd:dateTime"},
        "commune:postedAt": {"@type": "xsd:dateTime"},
        "commune:urgency": {"@type": "@vocab"},
        "vf:action": {"@type": "@vocab"},
    })
}

fn event_iri(id: &EventId) -> String {
    format!("urn:commune:event:{id}")
}

fn member_iri(id: &MemberId) -> String {
    format!("urn:commune:member:{id}")
}

fn council_iri(id: &CouncilId) -> String {
    format!("urn:commune:council:{id}")
}

fn household_iri(name: &str) -> String {
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("urn:commune:household:{encoded}")
}

fn reference(iri: String) -> Value {
    json!({ "@id": iri })
}

fn time(ms: u64) -> Value {
    let ms = i64::try_from(ms).unwrap_or(i64::MAX);
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(at) => Value::String(format!("{at:.3}")),
        Err(_) => Value::String(ms.to_string()),
    }
}

fn measure(amount: i64, unit: &str) -> Value {
    json!({
        "@type": "om2:Measure",
        "om2:hasNumericalValue": decimal(amount),
        "om2:hasUnit": unit,
    })
}

/// Thousandths as an exact JSON decimal.
fn decimal(amount: i64) -> Value {
    serde_json::from_str(&format_quantity(amount)).expect("a decimal is a JSON number")
}

fn place(name: &str) -> Value {
    json!({ "@type": "vf:SpatialThing", "vf:name": name })
}

fn urgency_term(urgency: Urgency) -> String {
    format!("commune:{}", urgency.name())
}

fn action_term(action: FlowAction) -> &'static str {
    match action {
        FlowAction::Deliver => "vf:transfer",
        FlowAction::Use => "vf:consume",
        FlowAction::Produce => "vf:produce",
        FlowAction::Work => "vf:work",
    }
}

fn commitment_iri(plan: &EventId, index: usize) -> String {
    format!("{}#commitment-{index}", event_iri(plan))
}

/// The council's register, its decided plans and, if given, a draft plan, as one JSON-LD
/// document.
pub fn export(state: &State, drafted: Option<&Drafted>) -> Value {
    let register = &state.register;
    let mut graph = vec![json!({
        "@id": council_iri(&state.council),
        "@type": "vf:Agent",
        "vf:name": state.name,
        "commune:agentKind": "council",
    })];
    let mut members: Vec<MemberId> = state.members.keys().copied().collect();
    let mut households: Vec<&str> = Vec::new();
    for n in register.needs.values() {
        match &n.need.receiver {
            Receiver::Member { member } => members.push(*member),
            Receiver::Household { name } => households.push(name),
            Receiver::Council => {}
        }
    }
    members.sort();
    members.dedup();
    households.sort();
    households.dedup();
    for member in &members {
        graph.push(json!({
            "@id": member_iri(member),
            "@type": "vf:Agent",
            "vf:name": state.member_name(member),
            "commune:agentKind": "member",
        }));
    }
    for name in households {
        graph.push(json!({
            "@id": household_iri(name),
            "@type": "vf:Agent",
            "vf:name": name,
            "commune:agentKind": "household",
        }));
    }
    let item_iri = |name: &str| {
        register
            .items
            .get(name)
            .map(|item| event_iri(&item.added))
            .unwrap_or_default()
    };
    for (name, item) in &register.items {
        graph.push(json!({
            "@id": event_iri(&item.added),
            "@type": "vf:ResourceSpecification",
            "vf:name": name,
            "vf:defaultUnitOfResource": item.unit,
        }));
    }
    for (id, r) in &register.resources {
        graph.push(json!({
            "@id": event_iri(id),
            "@type": "vf:EconomicResource",
            "vf:name": r.name,
            "vf:conformsTo": reference(item_iri(&r.item)),
            "vf:accountingQuantity": measure(r.quantity.amount, &r.quantity.unit),
            "vf:currentLocation": place(&r.place),
            "vf:primaryAccountable": reference(council_iri(&r.steward)),
            "commune:addedBy": reference(member_iri(&r.added_by)),
            "commune:rulesOfUse": r.rules,
        }));
    }
    for (id, n) in &register.needs {
        let receiver = match &n.need.receiver {
            Receiver::Member { member } => member_iri(member),
            Receiver::Household { name } => household_iri(name),
            Receiver::Council => council_iri(&state.council),
        };
        let mut node = json!({
            "@id": event_iri(id),
            "@type": "vf:Intent",
            "vf:action": "vf:transfer",
            "vf:receiver": reference(receiver),
            "vf:resourceConformsTo": reference(item_iri(&n.need.item)),
            "vf:resourceQuantity": measure(n.need.quantity.amount, &n.need.quantity.unit),
            "vf:atLocation": place(&n.need.place),
            "vf:due": time(n.need.by_ms),
            "commune:urgency": urgency_term(n.need.urgency),
            "commune:postedBy": reference(member_iri(&n.author)),
            "commune:postedAt": time(n.time_ms),
            "commune:received": decimal(n.received),
            "vf:finished": n.withdrawn.is_some(),
        });
        if let Some(withdrawn) = &n.withdrawn {
            node["commune:withdrawnBy"] = reference(event_iri(withdrawn));
        }
        graph.push(node);
    }
    for (id, o) in &register.offers {
        let mut node = json!({
            "@id": event_iri(id),
            "@type": "vf:Intent",
            "vf:provider": reference(member_iri(&o.author)),
            "vf:atLocation": place(&o.offer.place),
            "vf:hasBeginning": time(o.offer.from_ms),
            "vf:hasEnd": time(o.offer.until_ms),
            "commune:postedAt": time(o.time_ms),
            "commune:given": decimal(o.given),
            "vf:finished": o.withdrawn.is_some(),
        });
        match &o.offer.provision {
            Provision::Goods { item, quantity } => {
                node["vf:action"] = json!("vf:transfer");
                node["vf:resourceConformsTo"] = reference(item_iri(item));
                node["vf:resourceQuantity"] = measure(quantity.amount, &quantity.unit);
            }
            Provision::Labour { skill, hours } => {
                node["vf:action"] = json!("vf:work");
                node["commune:skill"] = json!(skill);
                node["vf:effortQuantity"] = measure(hours.amount, &hours.unit);
            }
        }
        if let Some(withdrawn) = &o.withdrawn {
            node["commune:withdrawnBy"] = reference(event_iri(withdrawn));
        }
        graph.push(node);
    }
    for (id, p) in &register.processes {
        let recipe = &p.recipe;
        graph.push(json!({
            "@id": event_iri(id),
            "@type": "vf:RecipeProcess",
            "vf:name": recipe.name,
            "vf:atLocation": place(&recipe.place),
            "commune:capacity": decimal(recipe.capacity),
            "commune:postedBy": reference(member_iri(&p.author)),
            "commune:postedAt": time(p.time_ms),
        }));
        // The recipe, named by its primary output; its one process is the register's.
        graph.push(json!({
            "@id": format!("{}#recipe", event_iri(id)),
            "@type": "vf:Recipe",
            "vf:name": recipe.name,
            "vf:primaryOutput": reference(item_iri(&recipe.outputs[0].item)),
            "commune:recipeProcess": reference(event_iri(id)),
        }));
        let flow = |n: usize, link: &str, action: &str| {
            json!({
                "@id": format!("{}#flow-{n}", event_iri(id)),
                "@type": "vf:RecipeFlow",
                link: reference(event_iri(id)),
                "vf:action": action,
                "commune:order": n,
            })
        };
        let mut n = 0;
        for (flows, link, action) in [
            (&recipe.outputs, "vf:recipeOutputOf", "vf:produce"),
            (&recipe.inputs, "vf:recipeInputOf", "vf:consume"),
        ] {
            for f in flows {
                let mut node = flow(n, link, action);
                node["vf:resourceConformsTo"] = reference(item_iri(&f.item));
                node["vf:resourceQuantity"] = measure(f.quantity.amount, &f.quantity.unit);
                graph.push(node);
                n += 1;
            }
        }
        for l in &recipe.labour {
            let mut node = flow(n, "vf:recipeInputOf", "vf:work");
            node["commune:skill"] = json!(l.skill);
            node["vf:effortQuantity"] = measure(l.hours.amount, &l.hours.unit);
            graph.push(node);
            n += 1;
        }
        for e in &recipe.equipment {
            let mut node = flow(n, "vf:recipeInputOf", "vf:use");
            node["vf:resourceInventoriedAs"] = reference(event_iri(&e.resource));
            node["vf:effortQuantity"] = measure(e.hours.amount, &e.hours.unit);
            graph.push(node);
            n += 1;
        }
    }
    for (id, b) in &register.bookings {
        let mut node = json!({
            "@id": event_iri(id),
            "@type": "vf:Commitment",
            "vf:action": "vf:use",
            "vf:resourceInventoriedAs": reference(event_iri(&b.book.resource)),
            "vf:receiver": reference(member_iri(&b.member)),
            "vf:hasBeginning": time(b.book.from_ms),
            "vf:hasEnd": time(b.book.until_ms),
            "commune:postedAt": time(b.time_ms),
            "commune:booking": true,
            "vf:finished": b.withdrawn.is_some(),
        });
        if let Some(withdrawn) = &b.withdrawn {
            node["commune:withdrawnBy"] = reference(event_iri(withdrawn));
        }
        // A booking of part of a resource says how much; one of all of it says nothing.
        if let (Some(quantity), Some(resource)) =
            (b.book.quantity, register.resources.get(&b.book.resource))
        {
            node["vf:resourceQuantity"] = measure(quantity, &resource.quantity.unit);
        }
        graph.push(node);
    }
    for (id, f) in &register.fulfilments {
        let fulfil = &f.fulfil;
        let mut node = json!({
            "@id": event_iri(id),
            "@type": "vf:EconomicEvent",
            "vf:action": action_term(fulfil.action),
            "vf:provider": reference(member_iri(&f.author)),
            "vf:hasPointInTime": time(f.time_ms),
        });
        if fulfil.action == FlowAction::Work {
            node["commune:skill"] = json!(fulfil.item);
            node["vf:effortQuantity"] = measure(fulfil.quantity.amount, &fulfil.quantity.unit);
        } else {
            node["vf:resourceConformsTo"] = reference(item_iri(&fulfil.item));
            node["vf:resourceQuantity"] = measure(fulfil.quantity.amount, &fulfil.quantity.unit);
        }
        if let Some(resource) = &fulfil.resource {
            node["vf:resourceInventoriedAs"] = reference(event_iri(resource));
        }
        graph.push(node);
        if let Some(need) = &fulfil.need {
            graph.push(json!({
                "@id": format!("{}#satisfaction", event_iri(id)),
                "@type": "vf:Satisfaction",
                "vf:satisfiedBy": reference(event_iri(id)),
                "vf:satisfies": reference(event_iri(need)),
            }));
        }
        if let Some(commitment) = &fulfil.commitment {
            graph.push(json!({
                "@id": format!("{}#fulfillment", event_iri(id)),
                "@type": "vf:Fulfillment",
                "vf:fulfilledBy": reference(event_iri(id)),
                "vf:fulfills": reference(commitment_iri(&commitment.plan, commitment.index as usize)),
            }));
        }
    }
    for (id, plan) in &register.plans {
        graph.push(json!({
            "@id": event_iri(id),
            "@type": "vf:Plan",
            "vf:name": state.proposals.get(id).map(|p| p.title.as_str()).unwrap_or("plan"),
            "commune:decidedBy": reference(event_iri(&plan.decision)),
            "commune:draft": plan.terms.draft.to_string(),
        }));
        push_commitments(
            &mut graph,
            register,
            &plan.terms,
            "vf:plannedWithin",
            &event_iri(id),
            |index| commitment_iri(id, index),
            Some(&plan.fulfilled),
        );
    }
    if let Some(drafted) = drafted {
        let scenario = format!("urn:commune:draft:{}", drafted.terms.draft);
        graph.push(json!({
            "@id": scenario,
            "@type": "vf:Scenario",
            "vf:name": "draft plan",
            "commune:solver": drafted.draft.solver,
        }));
        push_commitments(
            &mut graph,
            register,
            &drafted.terms,
            "vf:inScopeOf",
            &scenario,
            |index| format!("{scenario}#commitment-{index}"),
            None,
        );
        for met in &drafted.draft.met {
            let need = &drafted.model.needs[met.need];
            let mut node = json!({
                "@id": format!("{scenario}#need-{}", met.need),
                "@type": "vf:Satisfaction",
                "vf:satisfies": reference(format!("urn:commune:event:{}", need.id)),
                "vf:inScopeOf": reference(scenario.clone()),
                "vf:resourceQuantity": measure(
                    (met.quantity * SCALE as f64).round() as i64,
                    &drafted.model.items[need.item].unit,
                ),
            });
            if let Some(shortfall) = &met.shortfall {
                node["commune:shortfall"] =
                    json!(shortfall_text(&drafted.model, met.need, shortfall));
            }
            graph.push(node);
        }
    }
    json!({ "@context": context(), "@graph": graph })
}

/// A plan's or a draft's deliveries and runs as Commitments and Processes within `container`.
fn push_commitments(
    graph: &mut Vec<Value>,
    register: &Register,
    terms: &PlanTerms,
    link: &str,
    container: &str,
    iri: impl Fn(usize) -> String,
    fulfilled: Option<&[i64]>,
) {
    for (index, c) in terms.deliveries.iter().enumerate() {
        let unit = register
            .needs
            .get(&c.need)
            .map_or("", |n| n.need.quantity.unit.as_str());
        let mut node = json!({
            "@id": iri(index),
            "@type": "vf:Commitment",
            "vf:action": "vf:transfer",
            link: reference(container.to_owned()),
            "vf:satisfies": reference(event_iri(&c.need)),
            "commune:source": reference(event_iri(&c.source)),
            "vf:resourceQuantity": measure(c.quantity, unit),
            "commune:order": index,
        });
        if let Some(done) = fulfilled.and_then(|f| f.get(index)) {
            node["commune:fulfilled"] = decimal(*done);
        }
        graph.push(node);
    }
    for (index, run) in terms.runs.iter().enumerate() {
        graph.push(json!({
            "@id": format!("{container}#run-{index}"),
            "@type": "vf:Process",
            link: reference(container.to_owned()),
            "vf:basedOn": reference(event_iri(&run.process)),
            "commune:runs": decimal(run.runs),
            "commune:order": index,
        }));
    }
}

/// What is wrong with a document.
#[derive(Debug)]
pub struct ImportError(String);

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ImportError {}

fn fail<T>(message: impl Into<String>) -> Result<T, ImportError> {
    Err(ImportError(message.into()))
}

/// One node of the graph, with its id for messages.
struct NodeRef<'a> {
    id: &'a str,
    fields: &'a Map<String, Value>,
}

impl<'a> NodeRef<'a> {
    fn get(&self, key: &str) -> Result<&'a Value, ImportError> {
        self.fields
            .get(key)
            .ok_or_else(|| ImportError(format!("{} has no {key}", self.id)))
    }

    fn opt(&self, key: &str) -> Option<&'a Value> {
        self.fields.get(key)
    }

    fn text(&self, key: &str) -> Result<&'a str, ImportError> {
        self.get(key)?
            .as_str()
            .ok_or_else(|| ImportError(format!("{}'s {key} is not text", self.id)))
    }

    fn link(&self, key: &str) -> Result<&'a str, ImportError> {
        link_of(self.get(key)?)
            .ok_or_else(|| ImportError(format!("{}'s {key} is not a link", self.id)))
    }

    fn opt_link(&self, key: &str) -> Result<Option<&'a str>, ImportError> {
        self.opt(key).map(|_| self.link(key)).transpose()
    }

    fn time(&self, key: &str) -> Result<u64, ImportError> {
        let text = self.text(key)?;
        let at: jiff::Timestamp = text
            .parse()
            .map_err(|e| ImportError(format!("{}'s {key} is not a date and time: {e}", self.id)))?;
        u64::try_from(at.as_millisecond())
            .or_else(|_| fail(format!("{}'s {key} is before 1970", self.id)))
    }

    fn decimal(&self, key: &str) -> Result<i64, ImportError> {
        thousandths(self.get(key)?).map_err(|e| ImportError(format!("{}'s {key}: {e}", self.id)))
    }

    fn order(&self) -> Result<u64, ImportError> {
        self.get("commune:order")?
            .as_u64()
            .ok_or_else(|| ImportError(format!("{}'s commune:order is not a count", self.id)))
    }

    /// A positive quantity of a measure, in thousandths, with its unit.
    fn measure(&self, key: &str) -> Result<Quantity, ImportError> {
        let quantity = self.stock(key)?;
        if quantity.amount == 0 {
            return fail(format!("{}'s {key} must be positive", self.id));
        }
        Ok(quantity)
    }

    /// A quantity that may be zero (a commons resource used up), in thousandths, with its unit.
    fn stock(&self, key: &str) -> Result<Quantity, ImportError> {
        let value = self.get(key)?;
        let amount = value.get("om2:hasNumericalValue").ok_or_else(|| {
            ImportError(format!("{}'s {key} has no om2:hasNumericalValue", self.id))
        })?;
        let amount =
            thousandths(amount).map_err(|e| ImportError(format!("{}'s {key}: {e}", self.id)))?;
        if amount < 0 {
            return fail(format!("{}'s {key} must be positive", self.id));
        }
        let unit = value
            .get("om2:hasUnit")
            .and_then(Value::as_str)
            .ok_or_else(|| ImportError(format!("{}'s {key} has no om2:hasUnit", self.id)))?;
        Ok(Quantity {
            amount,
            unit: unit.to_owned(),
        })
    }

    fn place(&self, key: &str) -> Result<String, ImportError> {
        self.get(key)?
            .get("vf:name")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ImportError(format!("{}'s {key} has no vf:name", self.id)))
    }

    fn finished_by(&self) -> Result<Option<EventId>, ImportError> {
        self.opt_link("commune:withdrawnBy")?
            .map(event_of)
            .transpose()
    }
}

fn link_of(value: &Value) -> Option<&str> {
    value.get("@id").and_then(Value::as_str)
}

/// An exact decimal with at most three places, as thousandths.
fn thousandths(value: &Value) -> Result<i64, String> {
    let number = value.as_f64().ok_or("not a number")?;
    let scaled = number * SCALE as f64;
    if !scaled.is_finite() || scaled.abs() > MAX_QUANTITY as f64 {
        return Err(format!("{number} is absurdly large"));
    }
    let rounded = scaled.round();
    if (scaled - rounded).abs() > 1e-6 * scaled.abs().max(1.0) {
        return Err(format!("{number} has more than three decimals"));
    }
    Ok(rounded as i64)
}

fn parse_id<T: std::str::FromStr>(iri: &str, prefix: &str) -> Result<T, ImportError> {
    iri.strip_prefix(prefix)
        .and_then(|hex| hex.parse().ok())
        .ok_or_else(|| ImportError(format!("{iri} is not a {prefix}… id")))
}

fn event_of(iri: &str) -> Result<EventId, ImportError> {
    parse_id(iri, "urn:commune:event:")
}

fn member_of(iri: &str) -> Result<MemberId, ImportError> {
    parse_id(iri, "urn:commune:member:")
}

/// A register from a document [`export`] wrote (or another tool wrote in the same terms).
/// Refuses the whole document on the first problem: an unknown item, a quantity that is not
/// positive or has more than three decimals, a unit that is not the item's, a missing field.
/// A draft (`vf:Scenario`) is read past: it is not part of the register.
pub fn import(document: &Value) -> Result<Register, ImportError> {
    let graph = document
        .get("@graph")
        .and_then(Value::as_array)
        .ok_or_else(|| ImportError("the document has no @graph array".into()))?;
    if document
        .get("@context")
        .and_then(|c| c.get("vf"))
        .and_then(Value::as_str)
        != Some(VF)
    {
        return fail(format!("the @context does not map vf: to {VF}"));
    }
    let mut nodes: Vec<(String, NodeRef)> = Vec::new();
    for value in graph {
        let fields = value
            .as_object()
            .ok_or_else(|| ImportError("an element of @graph is not an object".into()))?;
        let id = fields
            .get("@id")
            .and_then(Value::as_str)
            .ok_or_else(|| ImportError("a node has no @id".into()))?;
        let kind = fields
            .get("@type")
            .and_then(Value::as_str)
            .ok_or_else(|| ImportError(format!("{id} has no @type")))?;
        nodes.push((kind.to_owned(), NodeRef { id, fields }));
    }
    let of = |kind: &'static str| nodes.iter().filter(move |(k, _)| k == kind).map(|(_, n)| n);
    let in_scenario = |node: &NodeRef| node.opt("vf:inScopeOf").is_some();
    let mut register = Register::default();
    let mut item_names: BTreeMap<&str, String> = BTreeMap::new();
    for node in of("vf:ResourceSpecification") {
        let name = node.text("vf:name")?.to_owned();
        let unit = node.text("vf:defaultUnitOfResource")?.to_owned();
        item_names.insert(node.id, name.clone());
        let added = event_of(node.id)?;
        if register
            .items
            .insert(name.clone(), CatalogueItem { unit, added })
            .is_some()
        {
            return fail(format!("the item {name:?} is specified twice"));
        }
    }
    let items = &register.items.clone();
    let item_of = |node: &NodeRef, key: &str| -> Result<String, ImportError> {
        let iri = node.link(key)?;
        item_names
            .get(iri)
            .cloned()
            .ok_or_else(|| ImportError(format!("{} names an unknown item {iri}", node.id)))
    };
    let quantity_of = |node: &NodeRef, item: &str, key: &str| -> Result<Quantity, ImportError> {
        let quantity = node.measure(key)?;
        let unit = &items[item].unit;
        if quantity.unit != *unit {
            return fail(format!(
                "{}: {item} is counted in {unit}, not {:?}",
                node.id, quantity.unit
            ));
        }
        Ok(quantity)
    };
    let hours_of = |node: &NodeRef| -> Result<Quantity, ImportError> {
        let hours = node.measure("vf:effortQuantity")?;
        if hours.unit != HOUR {
            return fail(format!("{}: effort is counted in {HOUR}", node.id));
        }
        Ok(hours)
    };
    for node in of("vf:EconomicResource") {
        let item = item_of(node, "vf:conformsTo")?;
        let quantity = node.stock("vf:accountingQuantity")?;
        if quantity.unit != items[&item].unit {
            return fail(format!(
                "{}: {item} is counted in {}",
                node.id, items[&item].unit
            ));
        }
        register.resources.insert(
            event_of(node.id)?,
            CommonsResource {
                steward: parse_id(node.link("vf:primaryAccountable")?, "urn:commune:council:")?,
                added_by: member_of(node.link("commune:addedBy")?)?,
                name: node.text("vf:name")?.to_owned(),
                item,
                quantity,
                place: node.place("vf:currentLocation")?,
                rules: node.text("commune:rulesOfUse")?.to_owned(),
            },
        );
    }
    for node in of("vf:Intent") {
        let id = event_of(node.id)?;
        let withdrawn = node.finished_by()?;
        if node.opt("vf:receiver").is_some() {
            let receiver = node.link("vf:receiver")?;
            let receiver = if let Some(name) = receiver.strip_prefix("urn:commune:household:") {
                let name = nodes
                    .iter()
                    .find(|(_, n)| n.id == receiver)
                    .and_then(|(_, n)| n.opt("vf:name"))
                    .and_then(Value::as_str)
                    .unwrap_or(name);
                Receiver::Household { name: name.into() }
            } else if receiver.starts_with("urn:commune:council:") {
                Receiver::Council
            } else {
                Receiver::Member {
                    member: member_of(receiver)?,
                }
            };
            let item = item_of(node, "vf:resourceConformsTo")?;
            let quantity = quantity_of(node, &item, "vf:resourceQuantity")?;
            let urgency = match node.text("commune:urgency")? {
                "commune:vital" => Urgency::Vital,
                "commune:important" => Urgency::Important,
                "commune:wanted" => Urgency::Wanted,
                other => return fail(format!("{}: unknown urgency {other:?}", node.id)),
            };
            register.needs.insert(
                id,
                PostedNeed {
                    author: member_of(node.link("commune:postedBy")?)?,
                    time_ms: node.time("commune:postedAt")?,
                    need: Need {
                        item,
                        quantity,
                        place: node.place("vf:atLocation")?,
                        by_ms: node.time("vf:due")?,
                        urgency,
                        receiver,
                    },
                    received: node.decimal("commune:received")?,
                    withdrawn,
                },
            );
        } else {
            let provision = match node.text("vf:action")? {
                "vf:transfer" => {
                    let item = item_of(node, "vf:resourceConformsTo")?;
                    let quantity = quantity_of(node, &item, "vf:resourceQuantity")?;
                    Provision::Goods { item, quantity }
                }
                "vf:work" => Provision::Labour {
                    skill: node.text("commune:skill")?.to_owned(),
                    hours: hours_of(node)?,
                },
                other => return fail(format!("{}: an offer cannot {other}", node.id)),
            };
            register.offers.insert(
                id,
                PostedOffer {
                    author: member_of(node.link("vf:provider")?)?,
                    time_ms: node.time("commune:postedAt")?,
                    offer: Offer {
                        provision,
                        place: node.place("vf:atLocation")?,
                        from_ms: node.time("vf:hasBeginning")?,
                        until_ms: node.time("vf:hasEnd")?,
                    },
                    given: node.decimal("commune:given")?,
                    withdrawn,
                },
            );
        }
    }
    for node in of("vf:RecipeProcess") {
        let mut flows: Vec<&NodeRef> = of("vf:RecipeFlow")
            .filter(|f| {
                [f.opt("vf:recipeOutputOf"), f.opt("vf:recipeInputOf")]
                    .into_iter()
                    .flatten()
                    .any(|link| link_of(link) == Some(node.id))
            })
            .collect();
        flows.sort_by_key(|f| f.order().unwrap_or(u64::MAX));
        let mut recipe = Recipe {
            name: node.text("vf:name")?.to_owned(),
            place: node.place("vf:atLocation")?,
            outputs: Vec::new(),
            inputs: Vec::new(),
            labour: Vec::new(),
            equipment: Vec::new(),
            capacity: node.decimal("commune:capacity")?,
        };
        for flow in flows {
            flow.order()?;
            match flow.text("vf:action")? {
                "vf:produce" | "vf:consume" => {
                    let item = item_of(flow, "vf:resourceConformsTo")?;
                    let quantity = quantity_of(flow, &item, "vf:resourceQuantity")?;
                    let list = if flow.opt("vf:recipeOutputOf").is_some() {
                        &mut recipe.outputs
                    } else {
                        &mut recipe.inputs
                    };
                    list.push(Flow { item, quantity });
                }
                "vf:work" => recipe.labour.push(SkillHours {
                    skill: flow.text("commune:skill")?.to_owned(),
                    hours: hours_of(flow)?,
                }),
                "vf:use" => recipe.equipment.push(EquipmentHours {
                    resource: event_of(flow.link("vf:resourceInventoriedAs")?)?,
                    hours: hours_of(flow)?,
                }),
                other => return fail(format!("{}: a recipe flow cannot {other}", flow.id)),
            }
        }
        register.processes.insert(
            event_of(node.id)?,
            PostedProcess {
                author: member_of(node.link("commune:postedBy")?)?,
                time_ms: node.time("commune:postedAt")?,
                recipe,
            },
        );
    }
    for node in of("vf:Commitment").filter(|n| n.opt("commune:booking").is_some()) {
        register.bookings.insert(
            event_of(node.id)?,
            Booking {
                member: member_of(node.link("vf:receiver")?)?,
                time_ms: node.time("commune:postedAt")?,
                book: Book {
                    resource: event_of(node.link("vf:resourceInventoriedAs")?)?,
                    from_ms: node.time("vf:hasBeginning")?,
                    until_ms: node.time("vf:hasEnd")?,
                    quantity: node
                        .opt("vf:resourceQuantity")
                        .map(|_| node.measure("vf:resourceQuantity"))
                        .transpose()?
                        .map(|quantity| quantity.amount),
                },
                withdrawn: node.finished_by()?,
            },
        );
    }
    for node in of("vf:Plan") {
        let id = event_of(node.id)?;
        let within = |n: &&NodeRef| {
            n.opt("vf:plannedWithin").and_then(link_of) == Some(node.id) && !in_scenario(n)
        };
        let mut deliveries: Vec<(u64, Commitment, i64)> = Vec::new();
        for c in of("vf:Commitment").filter(within) {
            let need = event_of(c.link("vf:satisfies")?)?;
            deliveries.push((
                c.order()?,
                Commitment {
                    need,
                    source: event_of(c.link("commune:source")?)?,
                    quantity: c.measure("vf:resourceQuantity")?.amount,
                },
                c.decimal("commune:fulfilled")?,
            ));
        }
        deliveries.sort_by_key(|(order, ..)| *order);
        let mut runs: Vec<(u64, RunCommitment)> = Vec::new();
        for r in of("vf:Process").filter(within) {
            runs.push((
                r.order()?,
                RunCommitment {
                    process: event_of(r.link("vf:basedOn")?)?,
                    runs: r.decimal("commune:runs")?,
                },
            ));
        }
        runs.sort_by_key(|(order, _)| *order);
        let draft: PlanHash = node
            .text("commune:draft")?
            .parse()
            .map_err(|e| ImportError(format!("{}'s commune:draft: {e}", node.id)))?;
        register.plans.insert(
            id,
            Plan {
                decision: event_of(node.link("commune:decidedBy")?)?,
                terms: PlanTerms {
                    draft,
                    deliveries: deliveries.iter().map(|(_, c, _)| c.clone()).collect(),
                    runs: runs.into_iter().map(|(_, r)| r).collect(),
                },
                fulfilled: deliveries.iter().map(|(.., f)| *f).collect(),
            },
        );
    }
    let satisfied: BTreeMap<&str, &str> = of("vf:Satisfaction")
        .filter(|n| !in_scenario(n))
        .filter_map(|n| {
            Some((
                n.opt("vf:satisfiedBy").and_then(link_of)?,
                n.opt("vf:satisfies").and_then(link_of)?,
            ))
        })
        .collect();
    let fulfils: BTreeMap<&str, &str> = of("vf:Fulfillment")
        .filter_map(|n| {
            Some((
                n.opt("vf:fulfilledBy").and_then(link_of)?,
                n.opt("vf:fulfills").and_then(link_of)?,
            ))
        })
        .collect();
    for node in of("vf:EconomicEvent") {
        let action = match node.text("vf:action")? {
            "vf:transfer" => FlowAction::Deliver,
            "vf:consume" => FlowAction::Use,
            "vf:produce" => FlowAction::Produce,
            "vf:work" => FlowAction::Work,
            other => return fail(format!("{}: unknown action {other}", node.id)),
        };
        let (item, quantity) = if action == FlowAction::Work {
            (node.text("commune:skill")?.to_owned(), hours_of(node)?)
        } else {
            let item = item_of(node, "vf:resourceConformsTo")?;
            let quantity = quantity_of(node, &item, "vf:resourceQuantity")?;
            (item, quantity)
        };
        let commitment = match fulfils.get(node.id) {
            None => None,
            Some(iri) => {
                let (plan, index) = iri
                    .split_once("#commitment-")
                    .ok_or_else(|| ImportError(format!("{iri} is not a plan's commitment")))?;
                Some(CommitmentRef {
                    plan: event_of(plan)?,
                    index: index
                        .parse()
                        .map_err(|_| ImportError(format!("{iri} is not a plan's commitment")))?,
                })
            }
        };
        register.fulfilments.insert(
            event_of(node.id)?,
            Fulfilment {
                author: member_of(node.link("vf:provider")?)?,
                time_ms: node.time("vf:hasPointInTime")?,
                fulfil: Fulfil {
                    action,
                    item,
                    quantity,
                    resource: node
                        .opt_link("vf:resourceInventoriedAs")?
                        .map(event_of)
                        .transpose()?,
                    need: satisfied
                        .get(node.id)
                        .map(|iri| event_of(iri))
                        .transpose()?,
                    commitment,
                },
            },
        );
    }
    Ok(register)
}

/// The events that post `register` into `council` as `keypair`, in one chain for
/// [`Node::commit_all`]: catalogue items the council lacks, commons resources at their
/// current stock, processes (their equipment pointing at the new resources), and the open
/// needs and offers with what is left of them. History (bookings, fulfilment, plans) stays
/// in the log it came from.
/// The events [`post`] composes, and what it left out with the reason.
#[derive(Debug)]
pub struct Posted {
    pub events: Vec<Event>,
    pub skipped: Vec<String>,
}

/// Composes the events that post `register` into `council` as `keypair`, after the council's
/// heads. The importer speaks only for themself: another member's offer (their goods, their
/// hours) and a need for someone who is not a member of `council` are left out, and so are
/// needs due and offers ended by `now`, each with a line in `skipped` saying why.
pub fn post(
    node: &Node,
    keypair: &Keypair,
    council: &State,
    register: &Register,
    now: u64,
) -> Result<Posted> {
    let known = &council.register.items;
    let members = &council.members;
    let me = keypair.public();
    let mut skipped = Vec::new();
    let council = council.council;
    let mut events: Vec<Event> = Vec::new();
    let push = |payload: Payload, events: &mut Vec<Event>| -> Result<EventId> {
        let event = node.compose_after(keypair, council, events.last(), &payload, now)?;
        let id = event.id;
        events.push(event);
        Ok(id)
    };
    for (name, item) in &register.items {
        match known.get(name) {
            Some(have) if have.unit == item.unit => {}
            Some(have) => bail!(
                "the council counts {name} in {}, the file in {}",
                have.unit,
                item.unit
            ),
            None => {
                push(
                    Payload::Item(ItemKind {
                        name: name.clone(),
                        unit: item.unit.clone(),
                    }),
                    &mut events,
                )?;
            }
        }
    }
    let mut resources: BTreeMap<EventId, EventId> = BTreeMap::new();
    for (id, r) in &register.resources {
        let new = push(
            Payload::Resource(Resource {
                name: r.name.clone(),
                item: r.item.clone(),
                quantity: r.quantity.clone(),
                place: r.place.clone(),
                rules: r.rules.clone(),
            }),
            &mut events,
        )?;
        resources.insert(*id, new);
    }
    for p in register.processes.values() {
        let mut recipe = p.recipe.clone();
        for equipment in &mut recipe.equipment {
            equipment.resource = *resources.get(&equipment.resource).ok_or_else(|| {
                anyhow!(
                    "the process {:?} uses a resource the file does not hold",
                    recipe.name
                )
            })?;
        }
        push(Payload::Process(recipe), &mut events)?;
    }
    for n in register.needs.values() {
        let left = n.need.quantity.amount - n.received;
        if n.withdrawn.is_some() || left <= 0 {
            continue;
        }
        if let Receiver::Member { member } = &n.need.receiver
            && !members.contains_key(member)
        {
            skipped.push(format!(
                "the need for {} ({} {}) is for {}, who is not a member here",
                n.need.item,
                format_quantity(left),
                n.need.quantity.unit,
                member.short()
            ));
            continue;
        }
        if n.need.by_ms <= now {
            skipped.push(format!(
                "the need for {} was due {}, which has passed",
                n.need.item,
                crate::config::format_time(n.need.by_ms)
            ));
            continue;
        }
        let mut need = n.need.clone();
        need.quantity.amount = left;
        push(Payload::Need(need), &mut events)?;
    }
    for o in register.offers.values() {
        if o.withdrawn.is_some() {
            continue;
        }
        if o.offer.until_ms <= now {
            skipped.push(format!(
                "an offer ended {}",
                crate::config::format_time(o.offer.until_ms)
            ));
            continue;
        }
        if o.author != me {
            let what = match &o.offer.provision {
                Provision::Goods { item, .. } => item.clone(),
                Provision::Labour { skill, .. } => format!("hours of {skill}"),
            };
            skipped.push(format!(
                "the offer of {what} is {}'s: only they can offer it",
                o.author.short()
            ));
            continue;
        }
        let mut offer = o.offer.clone();
        let left = match &mut offer.provision {
            Provision::Goods { quantity, .. }
            | Provision::Labour {
                hours: quantity, ..
            } => {
                quantity.amount -= o.given;
                quantity.amount
            }
        };
        if left > 0 {
            push(Payload::Offer(offer), &mut events)?;
        }
    }
    if events.is_empty() {
        bail!("the file holds nothing to import");
    }
    Ok(Posted { events, skipped })
}

#[cfg(test)]
mod tests {
    use commune_core::constitution::Constitution;
    use commune_core::payload::{self, Action};
    use commune_core::plan::{Delivery, Draft, Met, Run, Source};
    use commune_core::register::Transport;
    use commune_core::tally::{Choice, YesNo};
    use commune_core::{Unsigned, fold, register};

    use super::*;

    const DAY: u64 = 24 * 60 * 60 * 1000;

    /// One member's chain of events in one council.
    struct Log {
        key: Keypair,
        events: Vec<Event>,
    }

    impl Log {
        fn found() -> Log {
            let key = Keypair::from_seed([7; 32]);
            let body = Payload::Found(payload::Found {
                name: "Kitchen".into(),
                constitution: Constitution::default(),
                founder_name: "Alice".into(),
            });
            let genesis =
                Unsigned::genesis(key.public(), 1000, body.kind(), body.encode()).sign(&key);
            Log {
                key,
                events: vec![genesis],
            }
        }

        fn act(&mut self, time: u64, payload: Payload) -> EventId {
            let last = self.events.last().unwrap();
            let event = Unsigned::compose(
                last.council(),
                self.key.public(),
                last.unsigned.seq + 1,
                &[last.parent_info()],
                time,
                payload.kind(),
                payload.encode(),
            )
            .sign(&self.key);
            let id = event.id;
            self.events.push(event);
            id
        }

        fn state(&self) -> State {
            let folded = fold(&self.events, |_| None).unwrap();
            assert_eq!(folded.rejections, Vec::new());
            folded.state
        }
    }

    fn qty(units: i64, unit: &str) -> Quantity {
        Quantity {
            amount: units * SCALE,
            unit: unit.into(),
        }
    }

    /// A register with every kind of entry, a decided plan and fulfilment against it.
    fn kitchen() -> State {
        let mut log = Log::found();
        let alice = log.key.public();
        for (name, unit) in [("rice", "kg"), ("meal", "meal"), ("oven", "oven")] {
            log.act(
                2000,
                Payload::Item(ItemKind {
                    name: name.into(),
                    unit: unit.into(),
                }),
            );
        }
        let store = log.act(
            2001,
            Payload::Resource(Resource {
                name: "rice store".into(),
                item: "rice".into(),
                quantity: qty(10, "kg"),
                place: "Hall".into(),
                rules: "Ask the stewards".into(),
            }),
        );
        let oven = log.act(
            2002,
            Payload::Resource(Resource {
                name: "big oven".into(),
                item: "oven".into(),
                quantity: qty(1, "oven"),
                place: "Hall".into(),
                rules: String::new(),
            }),
        );
        let need = |item: &str, amount: Quantity, urgency, receiver| {
            Payload::Need(Need {
                item: item.into(),
                quantity: amount,
                place: "Hall".into(),
                by_ms: 30 * DAY + 1,
                urgency,
                receiver,
            })
        };
        let hungry = log.act(
            3000,
            need(
                "rice",
                Quantity {
                    amount: 2500,
                    unit: "kg".into(),
                },
                Urgency::Vital,
                Receiver::Household {
                    name: "flat 3 / left".into(),
                },
            ),
        );
        log.act(
            3001,
            need(
                "meal",
                qty(20, "meal"),
                Urgency::Important,
                Receiver::Council,
            ),
        );
        let mine = log.act(
            3002,
            need(
                "meal",
                qty(2, "meal"),
                Urgency::Wanted,
                Receiver::Member { member: alice },
            ),
        );
        log.act(
            3003,
            Payload::Withdraw(commune_core::register::Withdraw { intent: mine }),
        );
        log.act(
            3004,
            Payload::Offer(Offer {
                provision: Provision::Labour {
                    skill: "cooking".into(),
                    hours: qty(4, HOUR),
                },
                place: "Hall".into(),
                from_ms: 3000,
                until_ms: 10 * DAY,
            }),
        );
        log.act(
            3005,
            Payload::Offer(Offer {
                provision: Provision::Goods {
                    item: "rice".into(),
                    quantity: qty(3, "kg"),
                },
                place: "Hall".into(),
                from_ms: 3000,
                until_ms: 10 * DAY,
            }),
        );
        log.act(
            3006,
            Payload::Process(Recipe {
                name: "Cook rice".into(),
                place: "Hall".into(),
                outputs: vec![Flow {
                    item: "meal".into(),
                    quantity: qty(10, "meal"),
                }],
                inputs: vec![Flow {
                    item: "rice".into(),
                    quantity: qty(1, "kg"),
                }],
                labour: vec![SkillHours {
                    skill: "cooking".into(),
                    hours: qty(1, HOUR),
                }],
                equipment: vec![EquipmentHours {
                    resource: oven,
                    hours: qty(1, HOUR),
                }],
                capacity: 8 * SCALE,
            }),
        );
        log.act(
            3007,
            Payload::Book(Book {
                resource: oven,
                from_ms: DAY,
                until_ms: DAY + 7_200_000,
                quantity: None,
            }),
        );
        log.act(
            3008,
            Payload::Book(Book {
                resource: oven,
                from_ms: 2 * DAY,
                until_ms: 2 * DAY + 3_600_000,
                quantity: Some(500),
            }),
        );
        let state = log.state();
        let model = register::model(&state.register, 3008, Transport::None);
        let rice = model
            .needs
            .iter()
            .position(|n| n.id == hungry.to_string())
            .unwrap();
        let draft = Draft {
            deliveries: vec![Delivery {
                need: rice,
                source: Source::Supply(0),
                quantity: 2.5,
                hours: 0.0,
            }],
            runs: vec![Run {
                process: 0,
                runs: 1.5,
            }],
            met: vec![Met {
                need: rice,
                quantity: 2.5,
                shortfall: None,
            }],
            skill_hours: Vec::new(),
            transport_hours: 0.0,
            item_hours: Vec::new(),
            skill_scarcity: Vec::new(),
            solver: "by hand".into(),
        };
        let terms = PlanTerms::of_draft(&model, &draft);
        let plan = log.act(
            4000,
            Payload::Propose(payload::Propose {
                title: "Rice for flat 3".into(),
                text: String::new(),
                action: Action::Plan { terms },
                method: None,
                options: Vec::new(),
                quorum: None,
                deadline_ms: 4 * DAY,
                mode: None,
            }),
        );
        log.act(
            4001,
            Payload::Ballot(payload::Ballot {
                proposal: plan,
                choice: Choice::YesNo { vote: YesNo::Yes },
            }),
        );
        log.act(5 * DAY, Payload::Close(payload::Close { proposal: plan }));
        log.act(
            5 * DAY + 1,
            Payload::Fulfil(Fulfil {
                action: FlowAction::Deliver,
                item: "rice".into(),
                quantity: Quantity {
                    amount: 2500,
                    unit: "kg".into(),
                },
                resource: Some(store),
                need: Some(hungry),
                commitment: Some(CommitmentRef { plan, index: 0 }),
            }),
        );
        log.act(
            5 * DAY + 2,
            Payload::Fulfil(Fulfil {
                action: FlowAction::Work,
                item: "cooking".into(),
                quantity: qty(1, HOUR),
                resource: None,
                need: None,
                commitment: None,
            }),
        );
        log.state()
    }

    /// A date long after any test runs: the generated needs and offers stay current.
    const LATER: u64 = 4_102_444_800_000;

    /// One ordinary register act, by its indexes into what exists so far.
    #[derive(Debug, Clone)]
    enum Op {
        Item,
        Resource {
            item: usize,
            amount: i64,
        },
        Need {
            item: usize,
            amount: i64,
            receiver: u8,
        },
        Goods {
            item: usize,
            amount: i64,
        },
        Labour {
            skill: u8,
            amount: i64,
        },
        Use {
            resource: usize,
            amount: i64,
        },
        /// Uses up all of a resource's stock: it stays in the commons, empty.
        UseAll {
            resource: usize,
        },
        Produce {
            resource: usize,
            amount: i64,
        },
        Work {
            skill: u8,
            amount: i64,
        },
        Withdraw {
            intent: usize,
        },
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        let amount = 1i64..20_000;
        prop_oneof![
            Just(Op::Item),
            (0..4usize, amount.clone()).prop_map(|(item, amount)| Op::Resource { item, amount }),
            (0..4usize, amount.clone(), 0..4u8).prop_map(|(item, amount, receiver)| Op::Need {
                item,
                amount,
                receiver
            }),
            (0..4usize, amount.clone()).prop_map(|(item, amount)| Op::Goods { item, amount }),
            (0..2u8, amount.clone()).prop_map(|(skill, amount)| Op::Labour { skill, amount }),
            (0..4usize, amount.clone()).prop_map(|(resource, amount)| Op::Use { resource, amount }),
            (0..4usize).prop_map(|resource| Op::UseAll { resource }),
            (0..4usize, amount.clone())
                .prop_map(|(resource, amount)| Op::Produce { resource, amount }),
            (0..2u8, amount).prop_map(|(skill, amount)| Op::Work { skill, amount }),
            (0..8usize).prop_map(|intent| Op::Withdraw { intent }),
        ]
    }

    /// Folds `ops` into a council's register; acts the fold refuses (more used than held, an
    /// item not yet in the catalogue) stay in the log as they would in use.
    /// The name of the `i`th item added, or one the catalogue lacks.
    fn item_of(items: &[String], i: usize) -> String {
        items.get(i).cloned().unwrap_or_else(|| "nothing".into())
    }

    fn register_after(ops: &[Op]) -> (Log, State) {
        let mut log = Log::found();
        let alice = log.key.public();
        let (mut items, mut resources, mut intents) = (Vec::new(), Vec::new(), Vec::new());
        let qty = |amount: i64, unit: &str| Quantity {
            amount,
            unit: unit.into(),
        };
        for (n, op) in ops.iter().enumerate() {
            let time = 2000 + n as u64;
            let skill = |s: u8| ["cooking", "carrying"][s as usize].to_owned();
            let payload = match op.clone() {
                Op::Item => {
                    items.push(format!("item {}", items.len()));
                    Payload::Item(ItemKind {
                        name: items.last().unwrap().clone(),
                        unit: "kg".into(),
                    })
                }
                Op::Resource { item: i, amount } => Payload::Resource(Resource {
                    name: format!("store {}", resources.len()),
                    item: item_of(&items, i),
                    quantity: qty(amount, "kg"),
                    place: "Hall".into(),
                    rules: String::new(),
                }),
                Op::Need {
                    item: i,
                    amount,
                    receiver,
                } => Payload::Need(Need {
                    item: item_of(&items, i),
                    quantity: qty(amount, "kg"),
                    place: "Hall".into(),
                    by_ms: LATER,
                    urgency: [Urgency::Vital, Urgency::Important, Urgency::Wanted]
                        [receiver as usize % 3],
                    receiver: match receiver {
                        0 => Receiver::Council,
                        1 => Receiver::Member { member: alice },
                        _ => Receiver::Household {
                            name: format!("flat {receiver}"),
                        },
                    },
                }),
                Op::Goods { item: i, amount } => Payload::Offer(Offer {
                    provision: Provision::Goods {
                        item: item_of(&items, i),
                        quantity: qty(amount, "kg"),
                    },
                    place: "Hall".into(),
                    from_ms: 0,
                    until_ms: LATER,
                }),
                Op::Labour { skill: s, amount } => Payload::Offer(Offer {
                    provision: Provision::Labour {
                        skill: skill(s),
                        hours: qty(amount, HOUR),
                    },
                    place: "Hall".into(),
                    from_ms: 0,
                    until_ms: LATER,
                }),
                Op::Use { resource, .. }
                | Op::UseAll { resource }
                | Op::Produce { resource, .. } => {
                    let (id, item, stock): (EventId, String, i64) = resources
                        .get(resource)
                        .cloned()
                        .unwrap_or((EventId([0; 32]), item_of(&items, 0), 0));
                    let (action, amount) = match op {
                        Op::Use { amount, .. } => (FlowAction::Use, *amount),
                        Op::UseAll { .. } => (FlowAction::Use, stock.max(1)),
                        Op::Produce { amount, .. } => (FlowAction::Produce, *amount),
                        _ => unreachable!(),
                    };
                    if let Some(tracked) = resources.get_mut(resource) {
                        match action {
                            FlowAction::Use if amount <= tracked.2 => tracked.2 -= amount,
                            FlowAction::Produce => tracked.2 += amount,
                            _ => {}
                        }
                    }
                    Payload::Fulfil(Fulfil {
                        action,
                        item,
                        quantity: qty(amount, "kg"),
                        resource: Some(id),
                        need: None,
                        commitment: None,
                    })
                }
                Op::Work { skill: s, amount } => Payload::Fulfil(Fulfil {
                    action: FlowAction::Work,
                    item: skill(s),
                    quantity: qty(amount, HOUR),
                    resource: None,
                    need: None,
                    commitment: None,
                }),
                Op::Withdraw { intent } => Payload::Withdraw(commune_core::register::Withdraw {
                    intent: intents.get(intent).copied().unwrap_or(EventId([0; 32])),
                }),
            };
            let id = log.act(time, payload);
            match op {
                Op::Resource { item: i, amount } => {
                    resources.push((id, item_of(&items, *i), *amount))
                }
                Op::Need { .. } | Op::Goods { .. } | Op::Labour { .. } => intents.push(id),
                _ => {}
            }
        }
        let state = fold(&log.events, |_| None).unwrap().state;
        (log, state)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// Whatever ordinary acts a council made, its export reads back as its register and
        /// imports into a fresh council of the same member, every act accepted.
        #[test]
        fn any_register_exports_and_imports_into_a_fresh_council(
            ops in proptest::collection::vec(op(), 1..40)
        ) {
            let (log, state) = register_after(&ops);
            let document = export(&state, None);
            let text = serde_json::to_string(&document).unwrap();
            let read: Value = serde_json::from_str(&text).unwrap();
            let register = import(&read).unwrap();
            proptest::prop_assert_eq!(&register, &state.register);

            let dir = tempfile::TempDir::new().unwrap();
            let (mut node, _) = Node::init(dir.path(), None, "me").unwrap();
            let fresh = node
                .found(&log.key, "Fresh kitchen", "Alice", Constitution::default())
                .unwrap()
                .council();
            let before = node.fold(fresh).unwrap().state.clone();
            match post(&node, &log.key, &before, &register, crate::node::now_ms()) {
                Ok(posted) => {
                    proptest::prop_assert!(posted.skipped.is_empty(), "{:?}", posted.skipped);
                    node.commit_all(fresh, &posted.events).unwrap();
                    let after = node.fold(fresh).unwrap();
                    proptest::prop_assert_eq!(
                        after.state.register.resources.len(),
                        register.resources.len()
                    );
                }
                Err(error) => {
                    proptest::prop_assert!(
                        error.to_string().contains("nothing to import"),
                        "{error}"
                    );
                }
            }
        }
    }

    #[test]
    fn export_then_import_gives_the_same_register() {
        let state = kitchen();
        let register = &state.register;
        assert_eq!(register.plans.len(), 1, "the plan was decided");
        let plan = register.plans.values().next().unwrap();
        assert_eq!(plan.terms.runs[0].runs, 1500);
        assert_eq!(register.fulfilments.len(), 2);
        assert!(
            register
                .bookings
                .values()
                .any(|b| b.book.quantity == Some(500)),
            "half the oven booked"
        );
        let store = register
            .resources
            .values()
            .find(|r| r.item == "rice")
            .unwrap();
        assert_eq!(store.quantity.amount, 7500, "the delivery left the store");
        let document = export(&state, None);
        // Through text, as a file carries it.
        let text = serde_json::to_string_pretty(&document).unwrap();
        let read: Value = serde_json::from_str(&text).unwrap();
        let imported = import(&read).unwrap();
        assert_eq!(&imported, register);
        assert_eq!(read["@context"]["vf"], VF);
        assert_eq!(read["@context"]["commune"], COMMUNE);
        let types: std::collections::BTreeSet<&str> = read["@graph"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["@type"].as_str().unwrap())
            .collect();
        for expected in [
            "vf:Agent",
            "vf:ResourceSpecification",
            "vf:Intent",
            "vf:Commitment",
            "vf:EconomicResource",
            "vf:EconomicEvent",
            "vf:Recipe",
            "vf:RecipeProcess",
            "vf:RecipeFlow",
            "vf:Plan",
            "vf:Process",
            "vf:Satisfaction",
            "vf:Fulfillment",
        ] {
            assert!(types.contains(expected), "no {expected} in {types:?}");
        }
        assert!(
            !text.contains("vf:Proposal"),
            "a decision is not a vf:Proposal"
        );
    }

    #[test]
    fn a_draft_is_exported_as_a_scenario_and_read_past() {
        let state = kitchen();
        let drafted = crate::register::draft(&state, 5 * DAY + 3, Transport::None).unwrap();
        let document = export(&state, Some(&drafted));
        let graph = document["@graph"].as_array().unwrap();
        let scenario = graph
            .iter()
            .find(|n| n["@type"] == "vf:Scenario")
            .expect("a scenario");
        let in_scenario = graph
            .iter()
            .filter(|n| n["vf:inScopeOf"]["@id"] == scenario["@id"])
            .count();
        assert_eq!(
            in_scenario,
            drafted.terms.deliveries.len() + drafted.terms.runs.len() + drafted.draft.met.len()
        );
        assert_eq!(import(&document).unwrap(), state.register);
    }

    #[test]
    fn bad_documents_are_refused_with_the_reason() {
        let state = kitchen();
        let good = export(&state, None);
        let refuse = |document: &Value| import(document).unwrap_err().to_string();
        let mut edited = good.clone();
        for node in edited["@graph"].as_array_mut().unwrap() {
            if node["@type"] == "vf:Intent" {
                node["vf:resourceQuantity"]["om2:hasNumericalValue"] = json!(-2);
            }
        }
        assert!(
            refuse(&edited).contains("must be positive"),
            "{}",
            refuse(&edited)
        );
        let mut edited = good.clone();
        edited["@graph"].as_array_mut().unwrap().retain(|node| {
            node["vf:name"] != "rice" || node["@type"] != "vf:ResourceSpecification"
        });
        assert!(
            refuse(&edited).contains("unknown item"),
            "{}",
            refuse(&edited)
        );
        let mut edited = good.clone();
        for node in edited["@graph"].as_array_mut().unwrap() {
            if node["@type"] == "vf:EconomicResource" {
                node["vf:accountingQuantity"]["om2:hasNumericalValue"] = json!(0.0001);
            }
        }
        assert!(
            refuse(&edited).contains("three decimals"),
            "{}",
            refuse(&edited)
        );
        assert!(refuse(&json!({"@graph": []})).contains("@context"));
        assert!(refuse(&json!([1, 2])).contains("@graph"));
    }
}
