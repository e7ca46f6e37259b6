//! The register's page and forms: post a need or an offer in a few taps, describe a process,
//! see the commons and book an item, record what was delivered, used, produced or worked,
//! see the draft plan with why each need is or is not met, and put it to the council (the
//! vote is on the proposal's own page).
//!
//! Reading works with JavaScript off, and no form needs a script to grow (a process's lists
//! are one entry a line); the forms return drafts that the member's browser signs, as every
//! other form does. The fold refuses what is wrong (an overlapping booking names the booking
//! that stands), and the script shows its reason, leaving what the member typed in place.

use axum::Extension;
use axum::extract::{Path, State};
use commune_core::payload::{self, Action, Payload};
use commune_core::plan::Urgency;
use commune_core::register::{
    Book, CommitmentRef, EquipmentHours, Flow, FlowAction, Fulfil, HOUR, ItemKind, Need, Offer,
    Provision, Quantity, Receiver, Recipe, Register, Resource, SkillHours, Transport,
};
use commune_core::state::State as CouncilState;
use commune_core::{CouncilId, EventId, PublicKey};
use maud::{Markup, html};

use super::forms::{Answer, Fields, HOUR_MS, Posted, draft, fields, invalid};
use super::pages::{Page, layout, needs_key_note, ok, parse, readable, status, when};
use crate::node::{Folds, now_ms};
use crate::reading::{Part, Reader};
use crate::register::{Drafted, format_quantity, met_lines, parse_quantity, resolve_resource};
use crate::server::{ApiError, Shared, not_found};

const DAY_MS: u64 = 24 * HOUR_MS;

fn register_page(council: CouncilId) -> String {
    format!("/c/{council}/register")
}

/// The places already in the register, the most used first: the place fields' suggestions.
fn places(register: &Register) -> Vec<String> {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for place in register
        .needs
        .values()
        .map(|n| n.need.place.as_str())
        .chain(register.offers.values().map(|o| o.offer.place.as_str()))
        .chain(register.resources.values().map(|r| r.place.as_str()))
    {
        *counts.entry(place).or_default() += 1;
    }
    let mut places: Vec<(&str, usize)> = counts.into_iter().collect();
    places.sort_by_key(|(name, count)| (std::cmp::Reverse(*count), *name));
    places
        .into_iter()
        .map(|(name, _)| name.to_owned())
        .collect()
}

fn place_field(id: &str, places: &[String]) -> Markup {
    let list = format!("{id}-places");
    html! {
        label for=(id) { "Where" }
        input #(id) name="place" required maxlength="100" list=(list)
            value=(places.first().map_or("here", String::as_str));
        datalist #(list) { @for place in places { option value=(place) {} } }
    }
}

pub async fn page(
    State(node): State<Shared>,
    Extension(folds): Extension<Folds>,
    Path(council): Path<String>,
    reader: Reader,
) -> Result<Page, Page> {
    let council: CouncilId = parse(&council, "council")?;
    let me = reader.0;
    let folded = readable(node, &folds, reader, council, Part::Register).await?;
    let state = folded.state.clone();
    let drafted = tokio::task::spawn_blocking(move || {
        crate::register::draft(&state, now_ms(), Transport::None)
    })
    .await
    .map_err(|e| Page::from(crate::server::internal(e.into())))?;
    let state = &folded.state;
    let register = &state.register;
    let member = me.is_some_and(|me| state.members.contains_key(&me));
    let places = places(register);
    let here = register_page(council);
    ok(layout(
        &format!("Register of {}", state.name),
        html! {
            h1 { "Register" }
            p.meta { a href={ "/c/" (council) } { (state.name) } " · needs, offers, commons and plans" }
            @if member && register.items.is_empty() {
                p { "The catalogue is empty: add the kinds of things the council deals in first." }
            }
            @if member && !register.items.is_empty() {
                details open {
                    summary { "Post a need" }
                    (need_form(council, register, &places))
                }
                details {
                    summary { "Offer goods or hours" }
                    (offer_form(council, register, &places))
                }
            }
            @if member {
                details open[register.items.is_empty()] {
                    summary { "Add to the catalogue" }
                    form method="post" action={ "/c/" (council) "/items" } data-sign {
                        label for="item-name" { "Name" }
                        input #item-name name="name" required maxlength="100" placeholder="rice";
                        label for="item-unit" { "Counted in" }
                        input #item-unit name="unit" required maxlength="30" placeholder="kg";
                        button { "Sign and add the item" }
                        (status())
                    }
                }
                @if !register.items.is_empty() {
                    details {
                        summary { "Add to the commons" }
                        form method="post" action={ "/c/" (council) "/resources" } data-sign {
                            label for="resource-name" { "Name" }
                            input #resource-name name="name" required maxlength="200" placeholder="the blue cargo bike";
                            label for="resource-item" { "What it is" }
                            select #resource-item name="item" required {
                                @for (name, item) in &register.items { option value=(name) { (name) " (" (item.unit) ")" } }
                            }
                            label for="resource-quantity" { "How much" }
                            input #resource-quantity name="quantity" required inputmode="decimal" value="1";
                            (place_field("resource-place", &places))
                            label for="resource-rules" { "Rules of use" }
                            textarea #resource-rules name="rules" maxlength="4000" rows="2" {}
                            button { "Sign and add it" }
                            (status())
                        }
                    }
                }
            }
            @if member && !register.items.is_empty() {
                details {
                    summary { "Describe a process" }
                    (process_form(council, register, &places))
                }
                details {
                    summary { "Record what was delivered, used, produced or worked" }
                    (record_form(council, state))
                }
            }
            h2 { "Commons" }
            @if register.resources.is_empty() { p { "Nothing in the commons yet." } }
            ul.cards {
                @for (id, r) in &register.resources {
                    li {
                        strong { (r.name) } " — " (format_quantity(r.quantity.amount)) " " (r.quantity.unit) " of " (r.item) " at " (r.place)
                        @if !r.rules.is_empty() { br; span.meta { "Rules: " (r.rules) } }
                        @let bookings: Vec<_> = register.bookings_of(id).into_iter().filter(|(_, b)| b.withdrawn.is_none()).collect();
                        @if !bookings.is_empty() {
                            ul {
                                @for (_, b) in &bookings {
                                    li {
                                        "Booked by " (state.member_name(&b.member)) " from " (when(b.book.from_ms)) " until " (when(b.book.until_ms))
                                        @if let Some(q) = b.book.quantity { " · " (format_quantity(q)) " " (r.quantity.unit) }
                                    }
                                }
                            }
                        }
                        @if member {
                            (book_form(council, id, &r.quantity.unit))
                        }
                    }
                }
            }
            @if !register.processes.is_empty() {
                h2 { "Processes" }
                ul.cards {
                    @for p in register.processes.values() {
                        li { (process_words(register, &p.recipe)) }
                    }
                }
            }
            h2 { "Needs" }
            @let open: Vec<_> = register.needs.iter().filter(|(_, n)| n.withdrawn.is_none()).collect();
            @if open.is_empty() { p { "No needs posted." } }
            ul.cards {
                @for (id, n) in &open {
                    li {
                        (format_quantity(n.need.quantity.amount)) " " (n.need.quantity.unit) " of " (n.need.item) " at " (n.need.place)
                        br;
                        span.meta {
                            (n.need.urgency.name()) " · for " (receiver_words(state, &n.need.receiver))
                            " · by " (when(n.need.by_ms)) " · " (format_quantity(n.received)) " received · " (id.short())
                        }
                    }
                }
            }
            h2 { "Offers" }
            @let offers: Vec<_> = register.offers.iter().filter(|(_, o)| o.withdrawn.is_none()).collect();
            @if offers.is_empty() { p { "No offers posted." } }
            ul.cards {
                @for (_, o) in &offers {
                    li {
                        @match &o.offer.provision {
                            Provision::Goods { item, quantity } => { (format_quantity(quantity.amount)) " " (quantity.unit) " of " (item) }
                            Provision::Labour { skill, hours } => { (format_quantity(hours.amount)) " hour(s) of " (skill) }
                        }
                        " at " (o.offer.place)
                        br;
                        span.meta { "by " (state.member_name(&o.author)) " · until " (when(o.offer.until_ms)) }
                    }
                }
            }
            h2 { "Draft plan" }
            @match &drafted {
                Err(error) => p { (format!("{error:#}")) },
                Ok(drafted) => (draft_markup(council, drafted, member)),
            }
            h2 { "Plans" }
            @let plans: Vec<_> = state.proposals.values().filter(|p| matches!(p.action, Action::Plan { .. })).collect();
            @if plans.is_empty() { p { "No plan put to the council yet." } }
            ul.cards {
                @for p in &plans {
                    li {
                        a href={ "/c/" (council) "/p/" (p.id) } { (p.title) }
                        br;
                        span.meta {
                            @if p.is_open() { "open: vote on its page · closes " (when(p.deadline_ms)) }
                            @else if register.plans.contains_key(&p.id) { "decided: the council's plan" }
                            @else { "not adopted" }
                        }
                    }
                }
            }
            @if !register.overturned_plans.is_empty() {
                h2 { "Overturned plans" }
                ul.cards {
                    @for (plan, overturned) in &register.overturned_plans {
                        li {
                            "Plan " (plan.short()) ", adopted by a working group, was overturned by the council ("
                            (overturned.decision.short()) "): its commitments no longer stand."
                            br;
                            span.meta {
                                (overturned.plan.fulfilled.iter().filter(|done| **done > 0).count())
                                " of " (overturned.plan.fulfilled.len()) " deliveries had begun; what was delivered stays."
                            }
                        }
                    }
                }
            }
            @if !register.plans.is_empty() {
                h2 { "Commitments" }
                ul.cards {
                    @for (plan, decided) in &register.plans {
                        @for (index, c) in decided.terms.deliveries.iter().enumerate() {
                            @let done = decided.fulfilled.get(index).copied().unwrap_or(0);
                            @let need = register.needs.get(&c.need);
                            li {
                                (format_quantity(c.quantity)) " "
                                @if let Some(n) = need { (n.need.quantity.unit) " of " (n.need.item) " to " (n.need.place) " for " (receiver_words(state, &n.need.receiver)) }
                                br;
                                span.meta { "from " (source_words(register, &c.source)) " · " (format_quantity(done)) " delivered" }
                                @if member && done < c.quantity {
                                    form method="post" action={ "/c/" (council) "/fulfilments" } data-sign {
                                        input type="hidden" name="plan" value=(plan);
                                        input type="hidden" name="index" value=(index);
                                        label for={ "delivered-" (plan.short()) "-" (index) } { "Delivered" }
                                        input id={ "delivered-" (plan.short()) "-" (index) } name="quantity" required inputmode="decimal" value=(format_quantity(c.quantity - done));
                                        button { "Sign: delivered" }
                                        (status())
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p.meta { a href=(here) { "Reload" } }
            (needs_key_note())
        },
        Some(council),
    ))
}

/// Where a commitment's goods come from, in words.
fn source_words(register: &Register, source: &EventId) -> String {
    if let Some(r) = register.resources.get(source) {
        format!("the commons ({})", r.name)
    } else if let Some(p) = register.processes.get(source) {
        format!("“{}”", p.recipe.name)
    } else {
        format!("offer {}", source.short())
    }
}

/// A process in one sentence, per run: “Cook at Hall: makes 4 portion of meal; uses 0.5 kg
/// of rice; work 1 hour(s) of cooking; equipment 0.5 hour(s) of blue bike; at most 1 run(s)
/// a round.”
fn process_words(register: &Register, recipe: &Recipe) -> String {
    let flows = |flows: &[Flow]| -> Vec<String> {
        flows
            .iter()
            .map(|f| {
                let amount = format_quantity(f.quantity.amount);
                format!("{amount} {} of {}", f.quantity.unit, f.item)
            })
            .collect()
    };
    let mut parts = vec![format!("makes {}", flows(&recipe.outputs).join(", "))];
    if !recipe.inputs.is_empty() {
        parts.push(format!("uses {}", flows(&recipe.inputs).join(", ")));
    }
    let labour: Vec<String> = recipe
        .labour
        .iter()
        .map(|l| format!("{} hour(s) of {}", format_quantity(l.hours.amount), l.skill))
        .collect();
    if !labour.is_empty() {
        parts.push(format!("work {}", labour.join(", ")));
    }
    let equipment: Vec<String> = recipe
        .equipment
        .iter()
        .map(|e| {
            let name = register
                .resources
                .get(&e.resource)
                .map_or_else(|| e.resource.short(), |r| r.name.clone());
            format!("{} hour(s) of {name}", format_quantity(e.hours.amount))
        })
        .collect();
    if !equipment.is_empty() {
        parts.push(format!("equipment {}", equipment.join(", ")));
    }
    parts.push(format!(
        "at most {} run(s) a round",
        format_quantity(recipe.capacity)
    ));
    format!("{} at {}: {}.", recipe.name, recipe.place, parts.join("; "))
}

fn receiver_words(state: &CouncilState, receiver: &Receiver) -> String {
    match receiver {
        Receiver::Member { member } => state.member_name(member),
        Receiver::Household { name } => format!("household {name}"),
        Receiver::Council => "the council".into(),
    }
}

fn need_form(council: CouncilId, register: &Register, places: &[String]) -> Markup {
    html! {
        form method="post" action={ "/c/" (council) "/needs" } data-sign {
            label for="need-item" { "What" }
            select #need-item name="item" required {
                @for (name, item) in &register.items { option value=(name) { (name) " (" (item.unit) ")" } }
            }
            label for="need-quantity" { "How much" }
            input #need-quantity name="quantity" required inputmode="decimal" pattern="[0-9]+([.][0-9]{1,3})?" value="1";
            fieldset {
                legend { "How urgent" }
                @for (value, words, checked) in [("vital", "Vital", false), ("important", "Important", true), ("wanted", "Wanted", false)] {
                    label.choice { input type="radio" name="urgency" value=(value) checked[checked]; " " (words) }
                }
            }
            (place_field("need-place", places))
            label for="need-days" { "Needed within (days)" }
            input #need-days name="days" type="number" min="1" max="366" value="7";
            label for="need-for" { "For" }
            select #need-for name="for" {
                option value="me" { "Me" }
                option value="household" { "A household (name it below)" }
                option value="council" { "The council" }
            }
            label for="need-household" { "Household (if for one)" }
            input #need-household name="household" maxlength="100";
            button { "Sign and post the need" }
            (status())
        }
    }
}

fn offer_form(council: CouncilId, register: &Register, places: &[String]) -> Markup {
    html! {
        form method="post" action={ "/c/" (council) "/offers" } data-sign {
            fieldset {
                legend { "What kind" }
                label.choice { input type="radio" name="kind" value="goods" checked; " Goods" }
                label.choice { input type="radio" name="kind" value="labour"; " Hours of work" }
            }
            label for="offer-item" { "Goods: what" }
            select #offer-item name="item" {
                @for (name, item) in &register.items { option value=(name) { (name) " (" (item.unit) ")" } }
            }
            label for="offer-skill" { "Work: which skill" }
            input #offer-skill name="skill" maxlength="100" placeholder="cooking";
            label for="offer-quantity" { "How much (or how many hours)" }
            input #offer-quantity name="quantity" required inputmode="decimal" pattern="[0-9]+([.][0-9]{1,3})?" value="1";
            (place_field("offer-place", places))
            label for="offer-days" { "Available for (days)" }
            input #offer-days name="days" type="number" min="1" max="366" value="7";
            button { "Sign and post the offer" }
            (status())
        }
    }
}

/// A process of any number of outputs, inputs, skills and pieces of equipment, one a line in
/// a text box: the form grows without a script and fits a phone.
fn process_form(council: CouncilId, register: &Register, places: &[String]) -> Markup {
    let catalogue: Vec<String> = register
        .items
        .iter()
        .map(|(name, item)| format!("{name} ({})", item.unit))
        .collect();
    let commons: Vec<&str> = register
        .resources
        .values()
        .map(|r| r.name.as_str())
        .collect();
    html! {
        form method="post" action={ "/c/" (council) "/processes" } data-sign {
            label for="process-name" { "Name" }
            input #process-name name="name" required maxlength="200" placeholder="Bake bread";
            p.hint {
                "Per run, one a line: what, then how much, as in “flour 0.5”. In the catalogue: "
                (catalogue.join(", ")) "."
            }
            label for="process-outputs" { "Makes" }
            textarea #process-outputs name="outputs" required rows="2" placeholder="bread 10" {}
            label for="process-inputs" { "Uses" }
            textarea #process-inputs name="inputs" rows="3" placeholder="flour 5\nwater 3" {}
            label for="process-labour" { "Work: skill and hours" }
            textarea #process-labour name="labour" rows="2" placeholder="baking 2" {}
            @if let Some(first) = commons.first() {
                label for="process-equipment" { "Equipment from the commons: name and hours" }
                textarea #process-equipment name="equipment" rows="2" placeholder={ (first) " 1" } {}
                p.hint { "The commons: " (commons.join(", ")) "." }
            }
            label for="process-capacity" { "At most this many runs a round" }
            input #process-capacity name="capacity" required inputmode="decimal" value="1";
            (place_field("process-place", places))
            button { "Sign and describe the process" }
            (status())
        }
    }
}

/// Records what happened without a plan's commitment: a delivery, a use, a production or
/// hours worked, with the commons resource whose stock moves and the need it meets, if any.
fn record_form(council: CouncilId, state: &CouncilState) -> Markup {
    let register = &state.register;
    html! {
        form method="post" action={ "/c/" (council) "/fulfilments" } data-sign {
            label for="record-action" { "What happened" }
            select #record-action name="action" {
                option value="deliver" { "Delivered" }
                option value="use" { "Used up" }
                option value="produce" { "Produced" }
                option value="work" { "Worked (hours of a skill)" }
            }
            label for="record-what" { "What (an item, or the skill for work)" }
            input #record-what name="what" required maxlength="100" list="record-items";
            datalist #record-items { @for name in register.items.keys() { option value=(name) {} } }
            label for="record-quantity" { "How much (hours for work)" }
            input #record-quantity name="quantity" required inputmode="decimal" pattern="[0-9]+([.][0-9]{1,3})?";
            label for="record-resource" { "From or into the commons (its stock follows)" }
            select #record-resource name="resource" {
                option value="" { "(none)" }
                @for (id, r) in &register.resources {
                    option value=(id) { (r.name) " (" (format_quantity(r.quantity.amount)) " " (r.quantity.unit) " of " (r.item) ")" }
                }
            }
            label for="record-need" { "For the need (deliveries only)" }
            select #record-need name="need" {
                option value="" { "(none)" }
                @for (id, n) in register.needs.iter().filter(|(_, n)| n.withdrawn.is_none()) {
                    option value=(id) {
                        (format_quantity(n.need.quantity.amount)) " " (n.need.quantity.unit) " of " (n.need.item)
                        " for " (receiver_words(state, &n.need.receiver)) " (" (id.short()) ")"
                    }
                }
            }
            button { "Sign and record it" }
            (status())
        }
    }
}

fn book_form(council: CouncilId, resource: &EventId, unit: &str) -> Markup {
    let id = resource.short();
    html! {
        details {
            summary { "Book it" }
            form method="post" action={ "/c/" (council) "/bookings" } data-sign {
                input type="hidden" name="resource" value=(resource);
                label for={ "start-" (id) } { "Starting in (hours from now)" }
                input id={ "start-" (id) } name="starts_in" type="number" min="0" max="8784" value="1";
                label for={ "hours-" (id) } { "For (hours)" }
                input id={ "hours-" (id) } name="hours" type="number" min="1" max="8784" value="2";
                label for={ "quantity-" (id) } { "How much, in " (unit) " (empty: all of it)" }
                input id={ "quantity-" (id) } name="quantity" inputmode="decimal" pattern="[0-9]+([.][0-9]{1,3})?";
                button { "Sign and book" }
                (status())
            }
        }
    }
}

fn draft_markup(council: CouncilId, drafted: &Drafted, member: bool) -> Markup {
    let lines = met_lines(&drafted.model, &drafted.draft);
    html! {
        @if lines.is_empty() {
            p { "No open needs: nothing to plan." }
        } @else {
            ul.cards {
                @for (what, why) in &lines {
                    li { (what) br; span.meta { (why) } }
                }
            }
            @for run in &drafted.draft.runs {
                p.meta { "Run “" (drafted.model.processes[run.process].name) "” " (format!("{:.3}", run.runs).trim_end_matches('0').trim_end_matches('.')) " time(s)." }
            }
            p.meta { "Drawn by the council's settings: " (drafted.settings.describe()) "." }
            @if member && !(drafted.terms.deliveries.is_empty() && drafted.terms.runs.is_empty()) {
                form method="post" action={ "/c/" (council) "/plans" } data-sign {
                    input type="hidden" name="draft" value=(drafted.terms.draft);
                    button { "Sign and put this plan to the council" }
                    (status())
                }
            }
        }
    }
}

/// Where a register form's signed event leads: back to the register.
const TO_REGISTER: &str = "/c/{council}/register";

/// The frame of every register form: the council from the path, the posted fields, and a
/// draft of the payload `build` makes of them in the council's present state for their author.
async fn register_form(
    node: Shared,
    council: String,
    posted: Posted,
    next: &str,
    build: impl FnOnce(&CouncilState, &Fields, PublicKey) -> Result<Payload, ApiError> + Send + 'static,
) -> Answer {
    let council: CouncilId = crate::server::parse(&council, "council")?;
    let fields = fields(posted)?;
    let author = fields.author()?;
    draft(
        node,
        council,
        fields,
        next.to_owned(),
        move |node, fields| {
            let folded = node.fold(council).map_err(not_found)?;
            build(&folded.state, fields, author)
        },
    )
    .await
}

/// A quantity as the member typed it, in thousandths.
fn amount(text: &str) -> Result<i64, ApiError> {
    parse_quantity(text).map_err(|e| invalid(format!("{e:#}")))
}

/// A quantity field in thousandths; its unit is the catalogue's for `item`.
fn quantity(fields: &Fields, unit: &str) -> Result<Quantity, ApiError> {
    Ok(Quantity {
        amount: amount(&fields.required("quantity", "How much")?)?,
        unit: unit.to_owned(),
    })
}

fn days(fields: &Fields, label: &str) -> Result<u64, ApiError> {
    let days = fields.number("days", label, 7)?;
    if !(1..=366).contains(&days) {
        return Err(invalid(format!("“{label}” is between 1 and 366 days")));
    }
    Ok(days)
}

fn unit_of(state: &CouncilState, item: &str) -> Result<String, ApiError> {
    state
        .register
        .items
        .get(item)
        .map(|i| i.unit.clone())
        .ok_or_else(|| invalid(format!("{item:?} is not in the council's catalogue")))
}

pub async fn need(
    State(node): State<Shared>,
    Path(council): Path<String>,
    posted: Posted,
) -> Answer {
    register_form(
        node,
        council,
        posted,
        TO_REGISTER,
        |state, fields, author| {
            let item = fields.required("item", "What")?;
            let urgency = match fields.get("urgency").unwrap_or("important") {
                "vital" => Urgency::Vital,
                "important" => Urgency::Important,
                "wanted" => Urgency::Wanted,
                other => return Err(invalid(format!("{other:?} is not an urgency"))),
            };
            let receiver = match fields.get("for").unwrap_or("me") {
                "me" => Receiver::Member { member: author },
                "council" => Receiver::Council,
                "household" => Receiver::Household {
                    name: fields.required("household", "Household")?,
                },
                other => return Err(invalid(format!("{other:?} is not someone a need is for"))),
            };
            Ok(Payload::Need(Need {
                quantity: quantity(fields, &unit_of(state, &item)?)?,
                item,
                place: fields.required("place", "Where")?,
                by_ms: now_ms() + days(fields, "Needed within")? * DAY_MS,
                urgency,
                receiver,
            }))
        },
    )
    .await
}

pub async fn item(
    State(node): State<Shared>,
    Path(council): Path<String>,
    posted: Posted,
) -> Answer {
    register_form(node, council, posted, TO_REGISTER, |_, fields, _| {
        Ok(Payload::Item(ItemKind {
            name: fields.required("name", "Name")?,
            unit: fields.required("unit", "Counted in")?,
        }))
    })
    .await
}

pub async fn resource(
    State(node): State<Shared>,
    Path(council): Path<String>,
    posted: Posted,
) -> Answer {
    register_form(node, council, posted, TO_REGISTER, |state, fields, _| {
        let item = fields.required("item", "What it is")?;
        Ok(Payload::Resource(Resource {
            name: fields.required("name", "Name")?,
            quantity: quantity(fields, &unit_of(state, &item)?)?,
            item,
            place: fields.required("place", "Where")?,
            rules: fields.get("rules").unwrap_or_default().trim().to_owned(),
        }))
    })
    .await
}

pub async fn process(
    State(node): State<Shared>,
    Path(council): Path<String>,
    posted: Posted,
) -> Answer {
    register_form(node, council, posted, TO_REGISTER, |state, fields, _| {
        let flow = |item: &str, amount: i64| -> Result<Flow, ApiError> {
            Ok(Flow {
                item: item.to_owned(),
                quantity: Quantity {
                    amount,
                    unit: unit_of(state, item)?,
                },
            })
        };
        let outputs = per_line(fields, "outputs", "Makes", flow)?;
        if outputs.is_empty() {
            return Err(invalid("fill in “Makes”: what one run makes".into()));
        }
        Ok(Payload::Process(Recipe {
            name: fields.required("name", "Name")?,
            place: fields.required("place", "Where")?,
            outputs,
            inputs: per_line(fields, "inputs", "Uses", flow)?,
            labour: per_line(fields, "labour", "Work", |skill, amount| {
                Ok(SkillHours {
                    skill: skill.to_owned(),
                    hours: hours(amount),
                })
            })?,
            equipment: per_line(fields, "equipment", "Equipment", |name, amount| {
                Ok(EquipmentHours {
                    resource: resolve_resource(state, name)
                        .map_err(|e| invalid(format!("{e:#}")))?,
                    hours: hours(amount),
                })
            })?,
            capacity: amount(&fields.required("capacity", "At most this many runs")?)?,
        }))
    })
    .await
}

/// A list field of one entry a line, each a name (an item, a skill or a commons resource)
/// then a quantity, as in “flour 0.5”; blank lines are skipped and an error names its line.
fn per_line<T>(
    fields: &Fields,
    name: &str,
    label: &str,
    entry: impl Fn(&str, i64) -> Result<T, ApiError>,
) -> Result<Vec<T>, ApiError> {
    fields
        .get(name)
        .unwrap_or_default()
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty())
        .map(|(number, line)| {
            line.rsplit_once(|c: char| c.is_whitespace() || c == '=')
                .map(|(what, how_much)| (what.trim(), how_much))
                .filter(|(what, _)| !what.is_empty())
                .ok_or_else(|| invalid("write what, then how much, as in “flour 0.5”".into()))
                .and_then(|(what, how_much)| entry(what, amount(how_much)?))
                .map_err(|ApiError(_, message)| {
                    invalid(format!("“{label}”, line {number} (“{line}”): {message}"))
                })
        })
        .collect()
}

fn hours(amount: i64) -> Quantity {
    Quantity {
        amount,
        unit: HOUR.into(),
    }
}

pub async fn offer(
    State(node): State<Shared>,
    Path(council): Path<String>,
    posted: Posted,
) -> Answer {
    register_form(node, council, posted, TO_REGISTER, |state, fields, _| {
        let provision = match fields.get("kind").unwrap_or("goods") {
            "goods" => {
                let item = fields.required("item", "Goods: what")?;
                Provision::Goods {
                    quantity: quantity(fields, &unit_of(state, &item)?)?,
                    item,
                }
            }
            "labour" => Provision::Labour {
                skill: fields.required("skill", "Work: which skill")?,
                hours: quantity(fields, HOUR)?,
            },
            other => return Err(invalid(format!("{other:?} is not a kind of offer"))),
        };
        let now = now_ms();
        Ok(Payload::Offer(Offer {
            provision,
            place: fields.required("place", "Where")?,
            from_ms: now,
            until_ms: now + days(fields, "Available for")? * DAY_MS,
        }))
    })
    .await
}

pub async fn book(
    State(node): State<Shared>,
    Path(council): Path<String>,
    posted: Posted,
) -> Answer {
    register_form(node, council, posted, TO_REGISTER, |_, fields, _| {
        let resource: EventId =
            crate::server::parse(&fields.required("resource", "Resource")?, "resource")?;
        let starts_in = fields.number("starts_in", "Starting in", 1)?;
        let hours = fields.number("hours", "For", 2)?;
        if starts_in > 366 * 24 || hours == 0 || hours > 366 * 24 {
            return Err(invalid("a booking starts and lasts within a year".into()));
        }
        // A minute's grace, so that "now" is not past by the time the member signs.
        let from_ms = now_ms() + (starts_in * HOUR_MS).max(60_000);
        let quantity = match fields.get("quantity").map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(amount(text)?),
        };
        Ok(Payload::Book(Book {
            resource,
            from_ms,
            until_ms: from_ms + hours * HOUR_MS,
            quantity,
        }))
    })
    .await
}

/// Records a fulfilment: a delivery against a decided plan's commitment (from the commons
/// resource it names, whose stock follows, to its need) when the form names a plan, else
/// what the member says happened.
pub async fn fulfil(
    State(node): State<Shared>,
    Path(council): Path<String>,
    posted: Posted,
) -> Answer {
    register_form(
        node,
        council,
        posted,
        TO_REGISTER,
        |state, fields, _| match fields.get("plan") {
            Some(plan) => committed(state, fields, plan),
            None => recorded(state, fields),
        },
    )
    .await
}

fn committed(state: &CouncilState, fields: &Fields, plan: &str) -> Result<Payload, ApiError> {
    let register = &state.register;
    let plan: EventId = crate::server::parse(plan, "plan")?;
    let index = fields.number("index", "Commitment", 0)?;
    // An overturned plan's commitment still drafts: the fold refuses it with the reason.
    let commitment = register
        .plans
        .get(&plan)
        .or_else(|| register.overturned_plans.get(&plan).map(|o| &o.plan))
        .and_then(|p| p.terms.deliveries.get(index as usize))
        .ok_or_else(|| invalid("no such commitment in the council's plans".into()))?;
    let need = &register
        .needs
        .get(&commitment.need)
        .ok_or_else(|| invalid("the commitment's need is not in the register".into()))?
        .need;
    Ok(Payload::Fulfil(Fulfil {
        action: FlowAction::Deliver,
        item: need.item.clone(),
        quantity: quantity(fields, &need.quantity.unit)?,
        resource: register
            .resources
            .contains_key(&commitment.source)
            .then_some(commitment.source),
        need: Some(commitment.need),
        commitment: Some(CommitmentRef {
            plan,
            index: u32::try_from(index).map_err(|_| invalid("no such commitment".into()))?,
        }),
    }))
}

/// What happened without a commitment; the fold checks the rest (the resource holds the
/// item and has the stock, the need is for it and is met by a delivery).
fn recorded(state: &CouncilState, fields: &Fields) -> Result<Payload, ApiError> {
    let action = match fields.get("action").unwrap_or("deliver") {
        "deliver" => FlowAction::Deliver,
        "use" => FlowAction::Use,
        "produce" => FlowAction::Produce,
        "work" => FlowAction::Work,
        other => return Err(invalid(format!("{other:?} is not something that happens"))),
    };
    let what = fields.required("what", "What")?;
    let quantity = if action == FlowAction::Work {
        hours(amount(&fields.required("quantity", "How much")?)?)
    } else {
        quantity(fields, &unit_of(state, &what)?)?
    };
    let id = |name: &str, label: &str| -> Result<Option<EventId>, ApiError> {
        match fields.get(name).map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => crate::server::parse(text, label).map(Some),
        }
    };
    Ok(Payload::Fulfil(Fulfil {
        action,
        item: what,
        quantity,
        resource: id("resource", "resource")?,
        need: id("need", "need")?,
        commitment: None,
    }))
}

pub async fn propose_plan(
    State(node): State<Shared>,
    Path(council): Path<String>,
    posted: Posted,
) -> Answer {
    register_form(node, council, posted, "/c/{council}/p/{event}", |state, fields, _| {
        let drafted = crate::register::draft(state, now_ms(), Transport::None)
            .map_err(|e| invalid(format!("{e:#}")))?;
        // The page showed a draft: if the register changed since, say so rather than put
        // another plan to the council than the one the member saw.
        if fields.get("draft") != Some(drafted.terms.draft.to_string().as_str()) {
            return Err(invalid(
                "the register changed since the page was shown: reload it and look at the new draft".into(),
            ));
        }
        if drafted.terms.deliveries.is_empty() && drafted.terms.runs.is_empty() {
            return Err(invalid("the draft commits to nothing".into()));
        }
        Ok(Payload::Propose(payload::Propose {
            title: "This round's plan".into(),
            text: crate::register::draft_text(&drafted),
            action: Action::Plan {
                terms: drafted.terms,
            },
            method: None,
            options: Vec::new(),
            quorum: None,
            deadline_ms: now_ms() + 72 * HOUR_MS,
            mode: None,
        }))
    })
    .await
}
