//! A federation's plan over its member councils' registers, shared by `commune federation
//! plan` and the federation's plan page: which member councils this node can plan, each one's
//! model, the links between the items they share, the core's decomposition, and the result in
//! words and in JSON.
//!
//! Must not store anything: a federation's plan is shown, not proposed (its commitments would
//! draw on other councils' logs). Must not decide what the fold decides: it reads states.

use std::sync::Arc;

use anyhow::{Result, anyhow, bail};
use commune_core::fold::Folded;
use commune_core::plan::federation::{self, Council, Link};
use commune_core::plan::{DenseSimplex, Draft, Model, Shortfall};
use commune_core::register::{self, Transport};
use commune_core::{CouncilId, MemberId};
use serde_json::{Value, json};

use crate::node::Node;
use crate::register::{format_units, met_lines, plan_json, plan_text};

/// Labour hours to carry one unit of an item from one council's place to another's, unless
/// the member says otherwise: a tenth of an hour, a short walk with a bag or a crate.
pub const LINK_HOURS: f64 = 0.1;

/// A federation and the member councils' folds this node holds.
pub struct Gathered {
    pub name: String,
    /// The federation's own fold: its members may look at the plan.
    folded: Arc<Folded>,
    /// Member councils whose logs this node holds, by name.
    pub held: Vec<(CouncilId, Arc<Folded>)>,
    /// Member councils whose logs this node does not hold.
    pub not_held: Vec<CouncilId>,
}

/// Reads the federation `federation` and its member councils from the node.
pub fn gather(node: &mut Node, federation: CouncilId) -> Result<Gathered> {
    let folded = node.fold(federation)?;
    let Some(members) = &folded.state.federation else {
        bail!("{} is a council, not a federation", folded.state.name);
    };
    let mut held = Vec::new();
    let mut not_held = Vec::new();
    for &council in members.councils.keys() {
        if node.store().event_count(council)? == 0 {
            not_held.push(council);
        } else {
            held.push((council, node.fold(council)?));
        }
    }
    held.sort_by(|(_, a), (_, b)| a.state.name.cmp(&b.state.name));
    Ok(Gathered {
        name: folded.state.name.clone(),
        folded,
        held,
        not_held,
    })
}

impl Gathered {
    /// Reads the registers of the member councils this node does not hold from `peer`
    /// (as far as it lets us: a council it refuses stays not held).
    pub fn fetch_registers(&mut self, peer: &mut crate::transport::client::Peer) -> Result<()> {
        let mut still = Vec::new();
        for council in std::mem::take(&mut self.not_held) {
            match peer.register(council) {
                Ok(state) => self.held.push((
                    council,
                    Arc::new(Folded {
                        state,
                        rejections: Vec::new(),
                    }),
                )),
                Err(error) => {
                    tracing::warn!(%council, error = %format!("{error:#}"), "no register");
                    still.push(council);
                }
            }
        }
        self.not_held = still;
        self.held
            .sort_by(|(_, a), (_, b)| a.state.name.cmp(&b.state.name));
        Ok(())
    }

    /// Whether `member` may have the plan drawn: a member of the federation (a delegate) or
    /// of one of its member councils that this node holds.
    pub fn check_member(&self, member: &MemberId) -> Result<()> {
        let belongs = self.folded.state.members.contains_key(member)
            || self
                .held
                .iter()
                .any(|(_, folded)| folded.state.members.contains_key(member));
        if !belongs {
            bail!(
                "you are not a member of {} nor of any of its member councils on this node: \
                 a plan over councils you do not belong to is not drawn",
                self.name
            );
        }
        Ok(())
    }
}

/// One member council in the federation's plan: its model as planned (with what crosses its
/// boundary) and its draft, showing its own needs only (orders from other councils are shown
/// as flows).
pub struct Planned {
    pub council: CouncilId,
    pub name: String,
    pub model: Model,
    pub draft: Draft,
    /// Per need of `draft.met`, what it gets and why not, in words.
    pub lines: Vec<(String, String)>,
}

/// What one link carries, with the names that say it in words.
pub struct Carried {
    pub item: String,
    pub unit: String,
    pub from: (String, String),
    pub to: (String, String),
    pub from_stock: f64,
    pub made: f64,
    pub hours: f64,
}

impl Carried {
    /// "12 kg of flour from Riverside's store to Hilltop's canteen, 3.6 transport hours".
    pub fn words(&self) -> String {
        let quantity = format_units(self.from_stock + self.made);
        let how = match (self.from_stock > 0.0, self.made > 0.0) {
            (true, true) => format!(
                " ({} from stock, {} made to order)",
                format_units(self.from_stock),
                format_units(self.made)
            ),
            (false, true) => " (made to order)".into(),
            _ => String::new(),
        };
        format!(
            "{quantity} {} of {} from {}'s {} to {}'s {}{how}, {:.2} transport hour(s)",
            self.unit, self.item, self.from.0, self.from.1, self.to.0, self.to.1, self.hours
        )
    }
}

/// A federation's draft plan.
pub struct FederationDraft {
    pub name: String,
    pub councils: Vec<Planned>,
    pub not_held: Vec<CouncilId>,
    pub flows: Vec<Carried>,
    pub rounds: usize,
    pub solver: String,
}

/// Why a member council is missing from the plan.
pub fn not_held_words(council: &CouncilId) -> String {
    format!(
        "not planned: this node does not hold council {}'s log, nor may this reader read its register; sync it first, or plan with --from a node that holds it",
        council.short()
    )
}

/// Draws the federation's plan at `now`: each held member council's register as a model
/// (`transport` within a council, as `commune plan`), linked wherever two councils' catalogues
/// share an item (same name and unit) from a place where one holds or makes it to a place
/// where the other needs it, at `link_hours` per unit, by the federation's planner settings.
pub fn draft(
    gathered: &Gathered,
    now: u64,
    transport: Transport,
    link_hours: f64,
) -> Result<FederationDraft> {
    if !(link_hours.is_finite() && link_hours >= 0.0) {
        bail!("the hours to carry a unit between councils are a number, zero or more");
    }
    let councils: Vec<Council> = gathered
        .held
        .iter()
        .map(|(_, folded)| Council {
            name: folded.state.name.clone(),
            model: register::model(&folded.state.register, now, transport),
        })
        .collect();
    let links = links(&councils, link_hours);
    // The federation's constitution sets the planner for the plan across its councils.
    let settings = gathered.folded.state.constitution.planner_settings();
    let planned = federation::plan(&councils, &links, &settings, &DenseSimplex)
        .map_err(|error| anyhow!("no plan can be drawn: {error}"))?;
    let flows: Vec<Carried> = planned
        .flows
        .iter()
        .map(|flow| {
            let link = &links[flow.link];
            let (a, from) = link.from;
            let (b, to) = link.to;
            let model = &councils[a].model;
            let unit = model.items.iter().find(|i| i.name == link.item);
            Carried {
                item: link.item.clone(),
                unit: unit.map_or(String::new(), |i| i.unit.clone()),
                from: (councils[a].name.clone(), model.places[from].clone()),
                to: (
                    councils[b].name.clone(),
                    councils[b].model.places[to].clone(),
                ),
                from_stock: flow.from_stock,
                made: flow.made,
                hours: flow.hours,
            }
        })
        .collect();
    let solver = planned
        .councils
        .first()
        .map_or(String::new(), |c| c.draft.solver.clone());
    let councils = planned
        .councils
        .into_iter()
        .zip(&councils)
        .zip(&gathered.held)
        .map(|((plan, council), (id, _))| {
            let own = council.model.needs.len();
            let mut draft = plan.draft;
            draft.met.retain(|met| met.need < own);
            let lines = need_lines(&plan.name, &plan.model, &draft, &flows);
            Planned {
                council: *id,
                name: plan.name,
                model: plan.model,
                draft,
                lines,
            }
        })
        .collect();
    Ok(FederationDraft {
        name: gathered.name.clone(),
        councils,
        not_held: gathered.not_held.clone(),
        flows,
        rounds: planned.rounds,
        solver,
    })
}

/// The council's need lines as `commune plan` words them, but for a need short of an item
/// that other councils send to its place: its own stock did not run out, theirs did (or their
/// capacity, labour or inputs), so the line names what arrives and from whom.
fn need_lines(
    name: &str,
    model: &Model,
    draft: &Draft,
    flows: &[Carried],
) -> Vec<(String, String)> {
    met_lines(model, draft)
        .into_iter()
        .zip(&draft.met)
        .map(|((what, why), met)| {
            let need = &model.needs[met.need];
            let item = &model.items[need.item];
            let own_stock_ran_out = met.shortfall == Some(Shortfall::Input { item: need.item });
            let arriving: Vec<&Carried> = flows
                .iter()
                .filter(|f| {
                    f.item == item.name && f.to.0 == name && f.to.1 == model.places[need.place]
                })
                .collect();
            if !own_stock_ran_out || arriving.is_empty() {
                return (what, why);
            }
            let total: f64 = arriving.iter().map(|f| f.from_stock + f.made).sum();
            let mut from: Vec<&str> = arriving.iter().map(|f| f.from.0.as_str()).collect();
            from.dedup();
            let why = format!(
                "other councils can spare no more than the {} {} of {} they send ({})",
                format_units(total),
                item.unit,
                item.name,
                from.join(", ")
            );
            (what, why)
        })
        .collect()
}

/// Links from every place where a council holds or makes an item to every place where
/// another council needs it, when both count it in the same unit.
fn links(councils: &[Council], hours_per_unit: f64) -> Vec<Link> {
    let mut links = Vec::new();
    for (a, exporter) in councils.iter().enumerate() {
        let from = &exporter.model;
        for (b, importer) in councils.iter().enumerate() {
            let to = &importer.model;
            if a == b {
                continue;
            }
            for (i, item) in from.items.iter().enumerate() {
                let Some(j) = to
                    .items
                    .iter()
                    .position(|other| other.name == item.name && other.unit == item.unit)
                else {
                    continue;
                };
                let mut sources: Vec<usize> = from
                    .supplies
                    .iter()
                    .filter(|s| s.item == i)
                    .map(|s| s.place)
                    .chain(
                        from.processes
                            .iter()
                            .filter(|p| p.outputs.iter().any(|&(o, _)| o == i))
                            .map(|p| p.place),
                    )
                    .collect();
                sources.sort_unstable();
                sources.dedup();
                let mut sinks: Vec<usize> = to
                    .needs
                    .iter()
                    .filter(|n| n.item == j)
                    .map(|n| n.place)
                    .collect();
                sinks.sort_unstable();
                sinks.dedup();
                for &source in &sources {
                    for &sink in &sinks {
                        links.push(Link {
                            item: item.name.clone(),
                            from: (a, source),
                            to: (b, sink),
                            hours_per_unit,
                            capacity: None,
                        });
                    }
                }
            }
        }
    }
    links
}

/// The federation's plan in words: per council what each need gets and why not, the flows
/// between councils, and the councils not planned.
pub fn text(draft: &FederationDraft) -> String {
    use std::fmt::Write as _;
    let mut out = format!("federation {:?}\n", draft.name);
    for council in &draft.councils {
        let _ = write!(
            out,
            "\n{}:\n{}",
            council.name,
            plan_text(&council.model, &council.draft, council.lines.clone())
        );
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out.push('\n');
    if draft.flows.is_empty() {
        out.push_str("nothing moves between councils\n");
    }
    for flow in &draft.flows {
        let _ = writeln!(out, "{}", flow.words());
    }
    for council in &draft.not_held {
        let _ = writeln!(out, "{}", not_held_words(council));
    }
    if !draft.councils.is_empty() {
        let _ = writeln!(out, "{} boundary round(s) ({})", draft.rounds, draft.solver);
    }
    out
}

/// The federation's plan as JSON: per council the fields of `commune plan --json` that do not
/// belong to a proposal, the flows, and the councils not planned.
pub fn json(draft: &FederationDraft) -> Value {
    let councils: Vec<Value> = draft
        .councils
        .iter()
        .map(|council| {
            let mut value = plan_json(&council.model, &council.draft);
            for (k, (met, (_, why))) in council.draft.met.iter().zip(&council.lines).enumerate() {
                if met.shortfall.is_some() {
                    value["needs"][k]["why"] = json!(why);
                }
            }
            value["council"] = json!(council.council);
            value["name"] = json!(council.name);
            value
        })
        .collect();
    let flows: Vec<Value> = draft
        .flows
        .iter()
        .map(|flow| {
            json!({
                "item": flow.item,
                "unit": flow.unit,
                "from": {"council": flow.from.0, "place": flow.from.1},
                "to": {"council": flow.to.0, "place": flow.to.1},
                "from_stock": flow.from_stock,
                "made": flow.made,
                "hours": flow.hours,
                "text": flow.words(),
            })
        })
        .collect();
    let not_held: Vec<Value> = draft
        .not_held
        .iter()
        .map(|council| json!({"council": council, "why": not_held_words(council)}))
        .collect();
    json!({
        "federation": draft.name,
        "councils": councils,
        "flows": flows,
        "not_planned": not_held,
        "rounds": draft.rounds,
        "solver": draft.solver,
    })
}
