//! `commune item|need|offer|process|resource|book|fulfil|withdraw|register|plan|export|import`:
//! the council's register of needs, offers, processes and commons, and its plans.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use clap::{Args, Subcommand, ValueEnum};
use commune_core::payload::{self, Action, Payload};
use commune_core::plan::Urgency;
use commune_core::register::{
    Adopt, Book, CommitmentRef, EquipmentHours, Flow, FlowAction, Fulfil, HOUR, ItemKind, Need,
    Offer, Provision, Quantity, Receiver, Recipe, Resource, SkillHours, Transport, Withdraw,
};
use commune_core::state::State;
use commune_core::{CouncilId, MemberId};

use super::proposal::parse_duration;
use super::{Invocation, print_event};
use crate::config::format_time;
use crate::node::{Node, now_ms};
use crate::register::{
    draft, draft_json, draft_text, format_quantity, parse_quantity, resolve, resolve_resource,
};

#[derive(Debug, Subcommand)]
pub enum ItemCommand {
    /// Add an item kind to the council's catalogue (a Valueflows ResourceSpecification)
    Add(ItemArgs),
}

#[derive(Debug, Args)]
pub struct ItemArgs {
    /// The council (id, id prefix or name)
    pub council: String,
    /// The item's name, unique in the catalogue: rice, meal, cargo bike
    pub name: String,
    /// The unit its quantities are counted in: kg, meal, bike
    #[arg(long)]
    pub unit: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum UrgencyArg {
    Vital,
    Important,
    Wanted,
}

impl From<UrgencyArg> for Urgency {
    fn from(arg: UrgencyArg) -> Urgency {
        match arg {
            UrgencyArg::Vital => Urgency::Vital,
            UrgencyArg::Important => Urgency::Important,
            UrgencyArg::Wanted => Urgency::Wanted,
        }
    }
}

#[derive(Debug, Args)]
pub struct NeedArgs {
    /// The council (id, id prefix or name)
    pub council: String,
    /// The item, from the catalogue
    pub item: String,
    /// How much, in the item's unit (up to three decimals)
    #[arg(allow_hyphen_values = true)]
    pub quantity: String,
    /// Where it is needed
    #[arg(long, default_value = "here")]
    pub place: String,
    /// Needed within: e.g. 12h, 7d
    #[arg(long, default_value = "7d")]
    pub within: String,
    #[arg(long, value_enum, default_value = "important")]
    pub urgency: UrgencyArg,
    /// For whom: me, council, household:NAME, or a member's name or id
    #[arg(long = "for", default_value = "me")]
    pub receiver: String,
}

#[derive(Debug, Args)]
pub struct OfferArgs {
    /// The council (id, id prefix or name)
    pub council: String,
    /// The item from the catalogue, or with --labour the skill
    pub what: String,
    /// How much, in the item's unit, or with --labour in hours
    #[arg(allow_hyphen_values = true)]
    pub quantity: String,
    /// Offer hours of work of the skill WHAT rather than goods
    #[arg(long)]
    pub labour: bool,
    /// Where it is
    #[arg(long, default_value = "here")]
    pub place: String,
    /// Available for: e.g. 7d
    #[arg(long = "for", default_value = "7d")]
    pub available_for: String,
}

#[derive(Debug, Subcommand)]
pub enum ProcessCommand {
    /// Describe a process (a recipe): per run, inputs and labour in, outputs out
    Add(ProcessArgs),
}

#[derive(Debug, Args)]
pub struct ProcessArgs {
    /// The council (id, id prefix or name)
    pub council: String,
    /// What it is: "Cook rice"
    pub name: String,
    /// An output per run, as ITEM=QUANTITY (repeat)
    #[arg(long = "out", value_name = "ITEM=QUANTITY", required = true)]
    pub outputs: Vec<String>,
    /// An input per run, as ITEM=QUANTITY (repeat)
    #[arg(long = "in", value_name = "ITEM=QUANTITY")]
    pub inputs: Vec<String>,
    /// Labour per run, as SKILL=HOURS (repeat)
    #[arg(long = "labour", value_name = "SKILL=HOURS")]
    pub labour: Vec<String>,
    /// Equipment per run, as RESOURCE=HOURS (a commons resource's id or name; repeat)
    #[arg(long = "equipment", value_name = "RESOURCE=HOURS")]
    pub equipment: Vec<String>,
    /// The most runs per planning round
    #[arg(long)]
    pub capacity: String,
    #[arg(long, default_value = "here")]
    pub place: String,
}

#[derive(Debug, Subcommand)]
pub enum ResourceCommand {
    /// Add a resource to the council's commons (a Valueflows EconomicResource)
    Add(ResourceArgs),
}

#[derive(Debug, Args)]
pub struct ResourceArgs {
    /// The council (id, id prefix or name)
    pub council: String,
    /// What people call it: "the blue cargo bike"
    pub name: String,
    /// The item kind, from the catalogue
    #[arg(long)]
    pub item: String,
    /// How much there is, in the item's unit
    #[arg(long, default_value = "1")]
    pub quantity: String,
    #[arg(long, default_value = "here")]
    pub place: String,
    /// The rules of use
    #[arg(long, default_value = "")]
    pub rules: String,
}

#[derive(Debug, Args)]
pub struct BookArgs {
    /// The council (id, id prefix or name)
    pub council: String,
    /// The commons resource (id, id prefix or name)
    pub resource: String,
    /// Starting in: e.g. 0m, 2h, 1d
    #[arg(long = "in", default_value = "0m")]
    pub starts_in: String,
    /// For how long: e.g. 3h
    #[arg(long = "for", default_value = "1h")]
    pub lasts: String,
    /// How much of it, in the resource's unit: e.g. 1 of 2 cargo bikes [default: all of it]
    #[arg(long, allow_hyphen_values = true)]
    pub quantity: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FlowActionArg {
    Deliver,
    Use,
    Produce,
    Work,
}

#[derive(Debug, Args)]
pub struct FulfilArgs {
    /// The council (id, id prefix or name)
    pub council: String,
    /// What happened
    #[arg(value_enum)]
    pub action: FlowActionArg,
    /// The item (the skill for work)
    pub item: String,
    /// How much, in the item's unit (hours for work)
    #[arg(allow_hyphen_values = true)]
    pub quantity: String,
    /// The commons resource whose stock it draws on or adds to (id, prefix or name)
    #[arg(long)]
    pub resource: Option<String>,
    /// The need it meets (id or prefix)
    #[arg(long)]
    pub need: Option<String>,
    /// The plan commitment it fulfils, as PLAN:INDEX (the plan proposal's id or prefix)
    #[arg(long, value_name = "PLAN:INDEX")]
    pub commitment: Option<String>,
}

#[derive(Debug, Args)]
pub struct WithdrawArgs {
    /// The council (id, id prefix or name)
    pub council: String,
    /// Your need, offer or booking (id or prefix)
    pub id: String,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(subcommand)]
    pub command: Option<PlanCommand>,
    #[command(flatten)]
    pub draft: DraftArgs,
}

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Put the current draft to the council as a proposal (decided by its general rule)
    Propose(ProposeArgs),
    /// Adopt the current draft as a working group, within your mandate's limits
    Adopt(AdoptArgs),
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    #[command(flatten)]
    pub draft: DraftArgs,
    /// Your working group's mandate (id or prefix)
    #[arg(long)]
    pub mandate: String,
}

#[derive(Debug, Args)]
pub struct DraftArgs {
    /// The council (id, id prefix or name)
    pub council: Option<String>,
    /// Labour hours to carry one unit of any item between two places [default: goods are
    /// used where they are]
    #[arg(long, value_name = "HOURS")]
    pub transport_hours: Option<f64>,
}

#[derive(Debug, Args)]
pub struct ProposeArgs {
    #[command(flatten)]
    pub draft: DraftArgs,
    /// How long it stays open: e.g. 3d
    #[arg(long, default_value = "3d")]
    pub open_for: String,
    #[arg(long, default_value = "This round's plan")]
    pub title: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// Valueflows JSON-LD
    Valueflows,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The council (id, id prefix or name)
    pub council: String,
    #[arg(long, value_enum)]
    pub format: Format,
    /// Write here rather than to standard output
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Include the current draft plan as a Scenario
    #[arg(long)]
    pub with_draft: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The council to post the register into (id, id prefix or name)
    pub council: String,
    /// The file to read
    pub file: PathBuf,
    #[arg(long, value_enum)]
    pub format: Format,
}

fn opened(invocation: &Invocation, council: &str) -> Result<(Node, CouncilId)> {
    let mut node = invocation.open()?;
    let council = node.resolve_council(council)?;
    Ok((node, council))
}

fn post(invocation: &Invocation, council: &str, what: &str, payload: Payload) -> Result<()> {
    let (mut node, council) = opened(invocation, council)?;
    let keypair = node.identity(&invocation.identity)?;
    let event = node.act(&keypair, council, payload)?;
    print_event(invocation, what, &event)
}

/// The quantity as text in the catalogue's unit of `item` (or hours for a skill).
fn quantity_of(state: &State, item: &str, text: &str) -> Result<Quantity> {
    let unit = state
        .register
        .items
        .get(item)
        .map(|known| known.unit.clone())
        .ok_or_else(|| {
            anyhow!("unknown item {item:?}: add it first with `commune item add COUNCIL {item} --unit UNIT`")
        })?;
    Ok(Quantity {
        amount: parse_quantity(text)?,
        unit,
    })
}

fn hours(text: &str) -> Result<Quantity> {
    Ok(Quantity {
        amount: parse_quantity(text)?,
        unit: HOUR.into(),
    })
}

fn pair(text: &str) -> Result<(&str, &str)> {
    text.rsplit_once('=')
        .map(|(a, b)| (a.trim(), b.trim()))
        .ok_or_else(|| anyhow!("expected NAME=QUANTITY, not {text:?}"))
}

fn resolve_member(state: &State, me: MemberId, text: &str) -> Result<Receiver> {
    let text = text.trim();
    if text == "me" {
        return Ok(Receiver::Member { member: me });
    }
    if text == "council" {
        return Ok(Receiver::Council);
    }
    if let Some(name) = text.strip_prefix("household:") {
        return Ok(Receiver::Household {
            name: name.trim().into(),
        });
    }
    let lower = text.to_lowercase();
    let found: Vec<MemberId> = state
        .members
        .iter()
        .filter(|(id, m)| {
            m.name.to_lowercase() == lower
                || (lower.len() >= 4 && id.to_string().starts_with(&lower))
        })
        .map(|(id, _)| *id)
        .collect();
    match found.as_slice() {
        [member] => Ok(Receiver::Member { member: *member }),
        [] => bail!("no member {text:?}: say me, council, household:NAME or a member's name"),
        _ => bail!("{text:?} names several members: give more of the id"),
    }
}

pub fn item(invocation: &Invocation, command: ItemCommand) -> Result<()> {
    let ItemCommand::Add(args) = command;
    post(
        invocation,
        &args.council,
        "item",
        Payload::Item(ItemKind {
            name: args.name.trim().into(),
            unit: args.unit.trim().into(),
        }),
    )
}

pub fn need(invocation: &Invocation, args: NeedArgs) -> Result<()> {
    let (node, _, state) = state_of(invocation, &args.council)?;
    let me = node.identity(&invocation.identity)?.public();
    let payload = Payload::Need(Need {
        item: args.item.trim().into(),
        quantity: quantity_of(&state, args.item.trim(), &args.quantity)?,
        place: args.place.trim().into(),
        by_ms: now_ms() + parse_duration(&args.within)?,
        urgency: args.urgency.into(),
        receiver: resolve_member(&state, me, &args.receiver)?,
    });
    post(invocation, &args.council, "need", payload)
}

fn state_of(invocation: &Invocation, council: &str) -> Result<(Node, CouncilId, State)> {
    let (mut node, council) = opened(invocation, council)?;
    let state = node.fold(council)?.state.clone();
    Ok((node, council, state))
}

pub fn offer(invocation: &Invocation, args: OfferArgs) -> Result<()> {
    let (_, _, state) = state_of(invocation, &args.council)?;
    let what = args.what.trim();
    let provision = if args.labour {
        Provision::Labour {
            skill: what.into(),
            hours: hours(&args.quantity)?,
        }
    } else {
        Provision::Goods {
            item: what.into(),
            quantity: quantity_of(&state, what, &args.quantity)?,
        }
    };
    let now = now_ms();
    let payload = Payload::Offer(Offer {
        provision,
        place: args.place.trim().into(),
        from_ms: now,
        until_ms: now + parse_duration(&args.available_for)?,
    });
    post(invocation, &args.council, "offer", payload)
}

pub fn process(invocation: &Invocation, command: ProcessCommand) -> Result<()> {
    let ProcessCommand::Add(args) = command;
    let (_, _, state) = state_of(invocation, &args.council)?;
    let flows = |list: &[String]| -> Result<Vec<Flow>> {
        list.iter()
            .map(|text| {
                let (item, quantity) = pair(text)?;
                Ok(Flow {
                    item: item.into(),
                    quantity: quantity_of(&state, item, quantity)?,
                })
            })
            .collect()
    };
    let payload = Payload::Process(Recipe {
        name: args.name.trim().into(),
        place: args.place.trim().into(),
        outputs: flows(&args.outputs)?,
        inputs: flows(&args.inputs)?,
        labour: args
            .labour
            .iter()
            .map(|text| {
                let (skill, h) = pair(text)?;
                Ok(SkillHours {
                    skill: skill.into(),
                    hours: hours(h)?,
                })
            })
            .collect::<Result<_>>()?,
        equipment: args
            .equipment
            .iter()
            .map(|text| {
                let (resource, h) = pair(text)?;
                Ok(EquipmentHours {
                    resource: resolve_resource(&state, resource)?,
                    hours: hours(h)?,
                })
            })
            .collect::<Result<_>>()?,
        capacity: parse_quantity(&args.capacity)?,
    });
    post(invocation, &args.council, "process", payload)
}

pub fn resource(invocation: &Invocation, command: ResourceCommand) -> Result<()> {
    let ResourceCommand::Add(args) = command;
    let (_, _, state) = state_of(invocation, &args.council)?;
    let payload = Payload::Resource(Resource {
        name: args.name.trim().into(),
        item: args.item.trim().into(),
        quantity: quantity_of(&state, args.item.trim(), &args.quantity)?,
        place: args.place.trim().into(),
        rules: args.rules,
    });
    post(invocation, &args.council, "resource", payload)
}

pub fn book(invocation: &Invocation, args: BookArgs) -> Result<()> {
    let (_, _, state) = state_of(invocation, &args.council)?;
    let resource = resolve_resource(&state, &args.resource)?;
    // A minute's grace, so that "now" is not already past when the event is signed.
    let from_ms = now_ms() + parse_duration(&args.starts_in)?.max(60_000);
    let payload = Payload::Book(Book {
        resource,
        from_ms,
        until_ms: from_ms + parse_duration(&args.lasts)?,
        quantity: args.quantity.as_deref().map(parse_quantity).transpose()?,
    });
    post(invocation, &args.council, "book", payload)
}

pub fn fulfil(invocation: &Invocation, args: FulfilArgs) -> Result<()> {
    let (_, _, state) = state_of(invocation, &args.council)?;
    let action = match args.action {
        FlowActionArg::Deliver => FlowAction::Deliver,
        FlowActionArg::Use => FlowAction::Use,
        FlowActionArg::Produce => FlowAction::Produce,
        FlowActionArg::Work => FlowAction::Work,
    };
    let item = args.item.trim();
    let quantity = if action == FlowAction::Work {
        hours(&args.quantity)?
    } else {
        quantity_of(&state, item, &args.quantity)?
    };
    let commitment = args
        .commitment
        .as_deref()
        .map(|text| -> Result<CommitmentRef> {
            let (plan, index) = text
                .rsplit_once(':')
                .ok_or_else(|| anyhow!("a commitment is PLAN:INDEX, not {text:?}"))?;
            Ok(CommitmentRef {
                // An overturned plan too, so that the fold says why it is refused.
                plan: resolve(
                    state
                        .register
                        .plans
                        .keys()
                        .chain(state.register.overturned_plans.keys()),
                    plan,
                    "decided plan",
                )?,
                index: index
                    .parse()
                    .map_err(|_| anyhow!("{index:?} is not a commitment's index"))?,
            })
        })
        .transpose()?;
    let payload = Payload::Fulfil(Fulfil {
        action,
        item: item.into(),
        quantity,
        resource: args
            .resource
            .as_deref()
            .map(|r| resolve_resource(&state, r))
            .transpose()?,
        need: args
            .need
            .as_deref()
            .map(|n| resolve(state.register.needs.keys(), n, "need"))
            .transpose()?,
        commitment,
    });
    post(invocation, &args.council, "fulfil", payload)
}

pub fn withdraw(invocation: &Invocation, args: WithdrawArgs) -> Result<()> {
    let (_, _, state) = state_of(invocation, &args.council)?;
    let register = &state.register;
    let intent = resolve(
        register
            .needs
            .keys()
            .chain(register.offers.keys())
            .chain(register.bookings.keys()),
        &args.id,
        "need, offer or booking",
    )?;
    post(
        invocation,
        &args.council,
        "withdraw",
        Payload::Withdraw(Withdraw { intent }),
    )
}

/// `commune register COUNCIL`: what the register holds now.
pub fn list(invocation: &Invocation, council: &str) -> Result<()> {
    let (_, _, state) = state_of(invocation, council)?;
    let register = &state.register;
    invocation.print(register, || {
        let mut out = String::new();
        if register.is_empty() {
            return format!(
                "{}'s register is empty: start with `commune item add`",
                state.name
            );
        }
        for (name, item) in &register.items {
            let _ = writeln!(out, "item {name} ({})", item.unit);
        }
        for (id, r) in &register.resources {
            let _ = writeln!(
                out,
                "commons {}  {}: {} {} of {} at {}{}",
                id.short(),
                r.name,
                format_quantity(r.quantity.amount),
                r.quantity.unit,
                r.item,
                r.place,
                if r.rules.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", r.rules)
                }
            );
            for (booking, b) in register.bookings_of(id) {
                if b.withdrawn.is_none() {
                    let _ = writeln!(
                        out,
                        "  booked {}  by {} from {} until {}",
                        booking.short(),
                        state.member_name(&b.member),
                        format_time(b.book.from_ms),
                        format_time(b.book.until_ms)
                    );
                }
            }
        }
        for (id, n) in register.needs.iter().filter(|(_, n)| n.withdrawn.is_none()) {
            let need = &n.need;
            let _ = writeln!(
                out,
                "need {}  {} {} of {} at {} by {} ({}) for {}, {} received",
                id.short(),
                format_quantity(need.quantity.amount),
                need.quantity.unit,
                need.item,
                need.place,
                format_time(need.by_ms),
                need.urgency.name(),
                match &need.receiver {
                    Receiver::Member { member } => state.member_name(member),
                    Receiver::Household { name } => format!("household {name}"),
                    Receiver::Council => "the council".into(),
                },
                format_quantity(n.received)
            );
        }
        for (id, o) in register
            .offers
            .iter()
            .filter(|(_, o)| o.withdrawn.is_none())
        {
            let what = match &o.offer.provision {
                Provision::Goods { item, quantity } => {
                    format!(
                        "{} {} of {item}",
                        format_quantity(quantity.amount),
                        quantity.unit
                    )
                }
                Provision::Labour { skill, hours } => {
                    format!("{} hour(s) of {skill}", format_quantity(hours.amount))
                }
            };
            let _ = writeln!(
                out,
                "offer {}  {what} at {} until {} by {}",
                id.short(),
                o.offer.place,
                format_time(o.offer.until_ms),
                state.member_name(&o.author)
            );
        }
        for (id, p) in &register.processes {
            let _ = writeln!(
                out,
                "process {}  {} at {}, at most {} run(s)",
                id.short(),
                p.recipe.name,
                p.recipe.place,
                format_quantity(p.recipe.capacity)
            );
        }
        for (id, plan) in &register.plans {
            let _ = writeln!(
                out,
                "plan {}  {} commitment(s), {} run(s)",
                id.short(),
                plan.terms.deliveries.len(),
                plan.terms.runs.len()
            );
            for (index, (c, done)) in plan
                .terms
                .deliveries
                .iter()
                .zip(&plan.fulfilled)
                .enumerate()
            {
                let _ = writeln!(
                    out,
                    "  {}:{index}  {} to need {} from {}, {} fulfilled",
                    id.short(),
                    format_quantity(c.quantity),
                    c.need.short(),
                    c.source.short(),
                    format_quantity(*done)
                );
            }
        }
        out
    })
}

/// Transport within a council from `--transport-hours`.
pub(super) fn transport(hours: Option<f64>) -> Result<Transport> {
    match hours {
        None => Ok(Transport::None),
        Some(hours) if hours.is_finite() && hours >= 0.0 => Ok(Transport::Between {
            hours_per_unit: hours,
        }),
        Some(_) => bail!("--transport-hours is a number of hours, zero or more"),
    }
}

fn council_arg(args: &DraftArgs) -> Result<&str> {
    args.council
        .as_deref()
        .ok_or_else(|| anyhow!("name the council: commune plan COUNCIL"))
}

pub fn plan(invocation: &Invocation, args: PlanArgs) -> Result<()> {
    match args.command {
        Some(PlanCommand::Propose(propose)) => plan_propose(invocation, propose),
        Some(PlanCommand::Adopt(adopt)) => plan_adopt(invocation, adopt),
        None => {
            let (_, _, state) = state_of(invocation, council_arg(&args.draft)?)?;
            let drafted = draft(&state, now_ms(), transport(args.draft.transport_hours)?)?;
            invocation.print(&draft_json(&drafted), || draft_text(&drafted))
        }
    }
}

fn plan_propose(invocation: &Invocation, args: ProposeArgs) -> Result<()> {
    let council = council_arg(&args.draft)?.to_owned();
    let (_, _, state) = state_of(invocation, &council)?;
    let drafted = draft(&state, now_ms(), transport(args.draft.transport_hours)?)?;
    if drafted.terms.deliveries.is_empty() && drafted.terms.runs.is_empty() {
        bail!("the draft commits to nothing: there is no open need the register can meet");
    }
    let text = draft_text(&drafted);
    let payload = Payload::Propose(payload::Propose {
        title: args.title,
        text,
        action: Action::Plan {
            terms: drafted.terms,
        },
        method: None,
        options: Vec::new(),
        quorum: None,
        deadline_ms: now_ms() + parse_duration(&args.open_for)?,
        mode: None,
    });
    post(invocation, &council, "plan proposal", payload)
}

fn plan_adopt(invocation: &Invocation, args: AdoptArgs) -> Result<()> {
    let council = council_arg(&args.draft)?.to_owned();
    let (_, _, state) = state_of(invocation, &council)?;
    let mandate = super::federation::resolve_mandate(&state, &args.mandate)?;
    let drafted = draft(&state, now_ms(), transport(args.draft.transport_hours)?)?;
    let payload = Payload::Adopt(Adopt {
        mandate,
        terms: drafted.terms,
    });
    post(invocation, &council, "adopt", payload)
}

pub fn export(invocation: &Invocation, args: ExportArgs) -> Result<()> {
    let Format::Valueflows = args.format;
    let (_, _, state) = state_of(invocation, &args.council)?;
    let drafted = if args.with_draft {
        Some(draft(&state, now_ms(), Transport::None)?)
    } else {
        None
    };
    let document = crate::valueflows::export(&state, drafted.as_ref());
    let text = serde_json::to_string_pretty(&document)?;
    match args.output {
        Some(path) => std::fs::write(&path, text + "\n")
            .map_err(|e| anyhow!("cannot write {}: {e}", path.display())),
        None => super::write_out(&text),
    }
}

pub fn import(invocation: &Invocation, args: ImportArgs) -> Result<()> {
    let Format::Valueflows = args.format;
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| anyhow!("cannot read {}: {e}", args.file.display()))?;
    let document: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| anyhow!("{} is not JSON: {e}", args.file.display()))?;
    let register = crate::valueflows::import(&document)
        .map_err(|e| anyhow!("{} is not a register we can read: {e}", args.file.display()))?;
    let (mut node, council, state) = state_of(invocation, &args.council)?;
    let keypair = node.identity(&invocation.identity)?;
    let posted = crate::valueflows::post(&node, &keypair, &state, &register, now_ms())?;
    node.commit_all(council, &posted.events)?;
    invocation.print(
        &serde_json::json!({
            "events": posted.events.iter().map(|e| e.id).collect::<Vec<_>>(),
            "skipped": posted.skipped,
        }),
        || {
            let mut out = format!("imported {} act(s) into the register", posted.events.len());
            for line in &posted.skipped {
                out.push_str(&format!("\nleft out: {line}"));
            }
            out
        },
    )
}
