//! The fold's rules for the register (DESIGN.md §7): the catalogue, needs, offers,
//! processes, the commons and its bookings, fulfilment, and plans decided by proposal.
//!
//! Every quantity is checked against the catalogue (known item, its unit, positive, not
//! absurd) before anything is stored. A booking takes a quantity of a resource (all of it when
//! none is given) for a span; at every instant of the span, the bookings that stand must
//! together take no more than the resource's stock. Bookings are first come, first served in
//! the fold's (depth, id) order, which every node shares: of two concurrent bookings that do
//! not fit together, the one folded first stands and the other is refused naming it, on every
//! node alike.

use std::collections::BTreeMap;

use super::{Current, Folder, Verdict, check_text};
use crate::id::EventId;
use crate::mandate::Amount;
use crate::payload;
use crate::register::{
    Adopt, Book, Booking, CatalogueItem, CommonsResource, Flow, FlowAction, Fulfil, Fulfilment,
    HOUR, ItemKind, MAX_QUANTITY, Need, Offer, OverturnedPlan, PROCESS_RUNS, Plan, PlanTerms,
    PostedNeed, PostedOffer, PostedProcess, Provision, Quantity, Receiver, Recipe, Register,
    Resource, SCALE, Withdraw,
};

/// The longest booking: a year.
const MAX_BOOKING_MS: u64 = 366 * 24 * 60 * 60 * 1000;

impl Folder {
    fn register(&self) -> &Register {
        &self.founded().register
    }

    fn register_mut(&mut self) -> &mut Register {
        &mut self.state_mut().register
    }

    fn member_acts(&self, current: &Current<'_>) -> Verdict {
        self.authorise(&current.author(), &current.clock, current.time())
    }

    /// A quantity of a catalogue item: known item, in its unit, positive, not absurd.
    fn check_quantity(&self, item: &str, quantity: &Quantity) -> Verdict {
        self.check_unit(item, quantity)?;
        check_amount(quantity.amount)
    }

    /// The item is in the catalogue and the quantity in its unit.
    fn check_unit(&self, item: &str, quantity: &Quantity) -> Verdict {
        let known = self.register().items.get(item).ok_or_else(|| {
            format!("unknown item {item:?}: add it to the council's catalogue first")
        })?;
        if quantity.unit != known.unit {
            return Err(format!(
                "{item} is counted in {}, not {:?}",
                known.unit, quantity.unit
            ));
        }
        Ok(())
    }

    pub(super) fn add_item(&mut self, current: &Current<'_>, item: ItemKind) -> Verdict {
        self.member_acts(current)?;
        check_text("item's name", &item.name, 100)?;
        check_text("unit", &item.unit, 30)?;
        if self.register().items.contains_key(&item.name) {
            return Err(format!("{:?} is already in the catalogue", item.name));
        }
        let added = current.event.id;
        self.register_mut().items.insert(
            item.name,
            CatalogueItem {
                unit: item.unit,
                added,
            },
        );
        Ok(())
    }

    pub(super) fn post_need(&mut self, current: &Current<'_>, need: Need) -> Verdict {
        self.member_acts(current)?;
        self.check_quantity(&need.item, &need.quantity)?;
        check_text("place", &need.place, 100)?;
        if need.by_ms < current.time() {
            return Err("the need's date is already past".into());
        }
        match &need.receiver {
            Receiver::Member { member } => {
                if !self.founded().members.contains_key(member) {
                    return Err("a need is for a member of the council".into());
                }
            }
            Receiver::Household { name } => check_text("household", name, 100)?,
            Receiver::Council => {}
        }
        let posted = PostedNeed {
            author: current.author(),
            time_ms: current.time(),
            need,
            received: 0,
            withdrawn: None,
        };
        self.register_mut().needs.insert(current.event.id, posted);
        Ok(())
    }

    pub(super) fn post_offer(&mut self, current: &Current<'_>, offer: Offer) -> Verdict {
        self.member_acts(current)?;
        match &offer.provision {
            Provision::Goods { item, quantity } => self.check_quantity(item, quantity)?,
            Provision::Labour { skill, hours } => check_hours(skill, hours)?,
        }
        check_text("place", &offer.place, 100)?;
        if offer.until_ms <= offer.from_ms {
            return Err("an offer must end after it starts".into());
        }
        if offer.until_ms < current.time() {
            return Err("the offer has already ended".into());
        }
        let posted = PostedOffer {
            author: current.author(),
            time_ms: current.time(),
            offer,
            given: 0,
            withdrawn: None,
        };
        self.register_mut().offers.insert(current.event.id, posted);
        Ok(())
    }

    pub(super) fn add_process(&mut self, current: &Current<'_>, recipe: Recipe) -> Verdict {
        self.member_acts(current)?;
        check_text("process's name", &recipe.name, 200)?;
        check_text("place", &recipe.place, 100)?;
        if recipe.outputs.is_empty() {
            return Err("a process must make something".into());
        }
        let check_flows = |flows: &[Flow]| -> Verdict {
            for flow in flows {
                self.check_quantity(&flow.item, &flow.quantity)?;
            }
            let mut items: Vec<&str> = flows.iter().map(|f| f.item.as_str()).collect();
            items.sort();
            items.dedup();
            if items.len() != flows.len() {
                return Err("name each item once among a process's inputs or outputs".into());
            }
            Ok(())
        };
        check_flows(&recipe.outputs)?;
        check_flows(&recipe.inputs)?;
        if recipe
            .outputs
            .iter()
            .any(|o| recipe.inputs.iter().any(|i| i.item == o.item))
        {
            return Err("an item cannot be both an input and an output of a process".into());
        }
        for labour in &recipe.labour {
            check_hours(&labour.skill, &labour.hours)?;
        }
        for equipment in &recipe.equipment {
            if !self.register().resources.contains_key(&equipment.resource) {
                return Err(format!(
                    "no commons resource {} for the process's equipment",
                    equipment.resource.short()
                ));
            }
            if equipment.hours.unit != HOUR {
                return Err("equipment is counted in hours".into());
            }
            check_amount(equipment.hours.amount)?;
        }
        check_amount(recipe.capacity).map_err(|e| format!("capacity: {e}"))?;
        let posted = PostedProcess {
            author: current.author(),
            time_ms: current.time(),
            recipe,
        };
        self.register_mut()
            .processes
            .insert(current.event.id, posted);
        Ok(())
    }

    pub(super) fn add_resource(&mut self, current: &Current<'_>, resource: Resource) -> Verdict {
        self.member_acts(current)?;
        check_text("resource's name", &resource.name, 200)?;
        // A commons resource may be empty (a store used up, carried over by an import).
        self.check_unit(&resource.item, &resource.quantity)?;
        if resource.quantity.amount != 0 {
            check_amount(resource.quantity.amount)?;
        }
        check_text("place", &resource.place, 100)?;
        if resource.rules.chars().count() > 4000 {
            return Err("the rules of use are longer than 4000 characters".into());
        }
        let added = CommonsResource {
            steward: self.council,
            added_by: current.author(),
            name: resource.name,
            item: resource.item,
            quantity: resource.quantity,
            place: resource.place,
            rules: resource.rules,
        };
        self.register_mut()
            .resources
            .insert(current.event.id, added);
        Ok(())
    }

    pub(super) fn book(&mut self, current: &Current<'_>, book: Book) -> Verdict {
        self.member_acts(current)?;
        let register = self.register();
        let resource = register
            .resources
            .get(&book.resource)
            .ok_or_else(|| format!("no commons resource {}", book.resource.short()))?;
        if book.from_ms < current.time() {
            return Err("a booking cannot start in the past".into());
        }
        if book.until_ms <= book.from_ms {
            return Err("a booking must end after it starts".into());
        }
        if book.until_ms - book.from_ms > MAX_BOOKING_MS {
            return Err("a booking lasts at most a year".into());
        }
        let stock = resource.quantity.amount;
        let wanted = match book.quantity {
            Some(quantity) if quantity <= 0 => {
                return Err(format!(
                    "a booking's quantity must be positive, not {}",
                    units(quantity)
                ));
            }
            Some(quantity) if quantity > stock => {
                return Err(format!(
                    "{} holds {} {}, not {}",
                    resource.name,
                    units(stock),
                    resource.quantity.unit,
                    units(quantity)
                ));
            }
            Some(quantity) => quantity,
            None if stock <= 0 => return Err(format!("nothing of {} is left", resource.name)),
            None => stock,
        };
        // What the standing bookings take is largest at one of their starts (or this one's).
        let overlapping: Vec<_> = register
            .bookings_of(&book.resource)
            .into_iter()
            .filter(|(_, b)| {
                b.withdrawn.is_none()
                    && b.book.from_ms < book.until_ms
                    && book.from_ms < b.book.until_ms
            })
            .collect();
        let clash = overlapping
            .iter()
            .map(|(_, b)| b.book.from_ms.max(book.from_ms))
            .find_map(|instant| {
                let active: Vec<_> = overlapping
                    .iter()
                    .filter(|(_, b)| b.book.from_ms <= instant && instant < b.book.until_ms)
                    .collect();
                let taken: i64 = active
                    .iter()
                    .map(|(_, b)| b.book.quantity.unwrap_or(stock))
                    .sum();
                (taken.saturating_add(wanted) > stock).then_some(active)
            });
        if let Some(active) = clash {
            let named: Vec<String> = active
                .iter()
                .map(|(id, taken)| {
                    format!(
                        "{} by {}",
                        id.short(),
                        self.founded().member_name(&taken.member)
                    )
                })
                .collect();
            return Err(match named.as_slice() {
                [one] => format!("overlaps booking {one}, which comes first in the log's order"),
                _ => format!(
                    "overlaps bookings {}, which come first in the log's order, and with them \
                     would take more than the {} {} there are",
                    named.join(", "),
                    units(stock),
                    resource.quantity.unit
                ),
            });
        }
        let booking = Booking {
            member: current.author(),
            time_ms: current.time(),
            book,
            withdrawn: None,
        };
        self.register_mut()
            .bookings
            .insert(current.event.id, booking);
        Ok(())
    }

    pub(super) fn fulfil(&mut self, current: &Current<'_>, fulfil: Fulfil) -> Verdict {
        self.member_acts(current)?;
        let amount = fulfil.quantity.amount;
        if fulfil.action == FlowAction::Work {
            check_hours(&fulfil.item, &fulfil.quantity)?;
            if fulfil.resource.is_some() {
                return Err("hours worked do not change a resource's stock".into());
            }
        } else {
            self.check_quantity(&fulfil.item, &fulfil.quantity)?;
        }
        let register = self.register();
        if let Some(id) = &fulfil.resource {
            let resource = register
                .resources
                .get(id)
                .ok_or_else(|| format!("no commons resource {}", id.short()))?;
            if resource.item != fulfil.item {
                return Err(format!(
                    "resource {} holds {}, not {}",
                    id.short(),
                    resource.item,
                    fulfil.item
                ));
            }
            let stock = resource.quantity.amount;
            match fulfil.action {
                FlowAction::Deliver | FlowAction::Use if stock < amount => {
                    return Err(format!(
                        "only {} {} of {} in stock",
                        units(stock),
                        resource.quantity.unit,
                        resource.name
                    ));
                }
                FlowAction::Produce if stock + amount > MAX_QUANTITY => {
                    return Err("the stock would be absurdly large".into());
                }
                _ => {}
            }
        }
        if let Some(id) = &fulfil.need {
            let need = register
                .needs
                .get(id)
                .ok_or_else(|| format!("no need {}", id.short()))?;
            if need.need.item != fulfil.item {
                return Err(format!("need {} is for {}", id.short(), need.need.item));
            }
            if fulfil.action != FlowAction::Deliver {
                return Err("a need is met by delivering to it".into());
            }
        }
        let mut offer = None;
        if let Some(commitment) = &fulfil.commitment {
            let plan = register.plans.get(&commitment.plan).ok_or_else(|| {
                match register.overturned_plans.get(&commitment.plan) {
                    Some(overturned) => format!(
                        "plan {} was overturned by the council's decision {}: its commitments no longer stand",
                        commitment.plan.short(),
                        overturned.decision.short()
                    ),
                    None => format!("no decided plan {}", commitment.plan.short()),
                }
            })?;
            let delivery = plan
                .terms
                .deliveries
                .get(commitment.index as usize)
                .ok_or("the plan has no such commitment")?;
            let item = &register.needs[&delivery.need].need.item;
            if *item != fulfil.item {
                return Err(format!("the commitment is to deliver {item}"));
            }
            if fulfil.need.is_some_and(|need| need != delivery.need) {
                return Err("the commitment is to another need".into());
            }
            offer = register
                .offers
                .contains_key(&delivery.source)
                .then_some(delivery.source);
        }
        let register = self.register_mut();
        if let Some(id) = &fulfil.resource {
            let stock = &mut register
                .resources
                .get_mut(id)
                .expect("checked")
                .quantity
                .amount;
            match fulfil.action {
                FlowAction::Deliver | FlowAction::Use => *stock -= amount,
                FlowAction::Produce => *stock += amount,
                FlowAction::Work => {}
            }
        }
        if let Some(id) = &fulfil.need {
            register.needs.get_mut(id).expect("checked").received += amount;
        }
        if let Some(commitment) = &fulfil.commitment {
            register
                .plans
                .get_mut(&commitment.plan)
                .expect("checked")
                .fulfilled[commitment.index as usize] += amount;
        }
        if let Some(id) = offer {
            register.offers.get_mut(&id).expect("checked").given += amount;
        } else if fulfil.action == FlowAction::Work {
            // Hours worked draw on the worker's own open offers of that skill, in id order,
            // so that the next plan does not count them again.
            let author = current.author();
            let mut left = amount;
            for posted in register.offers.values_mut() {
                if left == 0 {
                    break;
                }
                if let Provision::Labour { skill, hours } = &posted.offer.provision
                    && posted.author == author
                    && posted.withdrawn.is_none()
                    && *skill == fulfil.item
                {
                    let drawn = (hours.amount - posted.given).clamp(0, left);
                    posted.given += drawn;
                    left -= drawn;
                }
            }
        }
        let recorded = Fulfilment {
            author: current.author(),
            time_ms: current.time(),
            fulfil,
        };
        register.fulfilments.insert(current.event.id, recorded);
        Ok(())
    }

    pub(super) fn withdraw(&mut self, current: &Current<'_>, withdraw: Withdraw) -> Verdict {
        self.member_acts(current)?;
        let author = current.author();
        let event = current.event.id;
        let id = withdraw.intent;
        let register = self.register_mut();
        let (owner, withdrawn) = if let Some(need) = register.needs.get_mut(&id) {
            (need.author, &mut need.withdrawn)
        } else if let Some(offer) = register.offers.get_mut(&id) {
            (offer.author, &mut offer.withdrawn)
        } else if let Some(booking) = register.bookings.get_mut(&id) {
            (booking.member, &mut booking.withdrawn)
        } else {
            return Err(format!("no need, offer or booking {}", id.short()));
        };
        if owner != author {
            return Err("only its author may withdraw a need, offer or booking".into());
        }
        if withdrawn.is_some() {
            return Err("already withdrawn".into());
        }
        *withdrawn = Some(event);
        Ok(())
    }

    /// Checks a plan proposal's commitments against the register.
    pub(super) fn check_plan(&self, terms: &PlanTerms) -> Verdict {
        if terms.deliveries.is_empty() && terms.runs.is_empty() {
            return Err("the plan commits to nothing".into());
        }
        if terms.draft != PlanTerms::hash_of(&terms.deliveries, &terms.runs) {
            return Err("the plan's draft hash does not match its commitments".into());
        }
        let register = self.register();
        for delivery in &terms.deliveries {
            match register.needs.get(&delivery.need) {
                None => return Err(format!("no need {}", delivery.need.short())),
                Some(need) if need.withdrawn.is_some() => {
                    return Err(format!("need {} was withdrawn", delivery.need.short()));
                }
                Some(_) => {}
            }
            let source = delivery.source;
            if !register.resources.contains_key(&source)
                && !register.processes.contains_key(&source)
                && !matches!(
                    register.offers.get(&source),
                    Some(PostedOffer {
                        offer: Offer {
                            provision: Provision::Goods { .. },
                            ..
                        },
                        ..
                    })
                )
            {
                return Err(format!(
                    "no resource, goods offer or process {}",
                    source.short()
                ));
            }
            check_amount(delivery.quantity)?;
        }
        for run in &terms.runs {
            if !register.processes.contains_key(&run.process) {
                return Err(format!("no process {}", run.process.short()));
            }
            check_amount(run.runs)?;
        }
        Ok(())
    }

    /// A working group adopts a plan: checked as a proposal's would be, then counted
    /// against the mandate's limits as the group's act (so the council sees it among the
    /// group's acts), then the plan of the council.
    pub(super) fn adopt(&mut self, current: &Current<'_>, adopt: Adopt) -> Verdict {
        self.check_plan(&adopt.terms)?;
        let register = self.register();
        let mut per_item: BTreeMap<&str, i64> = BTreeMap::new();
        for delivery in &adopt.terms.deliveries {
            let item = register.needs[&delivery.need].need.item.as_str();
            *per_item.entry(item).or_default() += delivery.quantity;
        }
        let runs: i64 = adopt.terms.runs.iter().map(|r| r.runs).sum();
        let whole = |thousandths: i64| (thousandths as u64).div_ceil(SCALE as u64);
        let mut amounts: Vec<Amount> = per_item
            .into_iter()
            .map(|(item, quantity)| Amount {
                unit: item.to_owned(),
                quantity: whole(quantity),
            })
            .collect();
        if runs > 0 {
            amounts.push(Amount {
                unit: PROCESS_RUNS.into(),
                quantity: whole(runs),
            });
        }
        let text = format!("adopts plan {}", adopt.terms.draft.short());
        self.act(
            current,
            payload::Act {
                mandate: adopt.mandate,
                text,
                amounts,
            },
        )?;
        self.enact_plan(current.event.id, current.event.id, adopt.terms);
        Ok(())
    }

    /// The council overturned a working group's act: if the act adopted a plan, the plan is
    /// the council's no longer. What was fulfilled under it stays, stocks included.
    pub(super) fn overturn_plan(&mut self, act: EventId, decision: EventId) {
        let register = self.register_mut();
        if let Some(plan) = register.plans.remove(&act) {
            register
                .overturned_plans
                .insert(act, OverturnedPlan { plan, decision });
        }
    }

    /// A plan proposal passed: its commitments become a plan of the council.
    pub(super) fn enact_plan(&mut self, proposal: EventId, decision: EventId, terms: PlanTerms) {
        let fulfilled = vec![0; terms.deliveries.len()];
        self.register_mut().plans.insert(
            proposal,
            Plan {
                decision,
                terms,
                fulfilled,
            },
        );
    }
}

fn check_amount(amount: i64) -> Verdict {
    if amount <= 0 {
        return Err(format!(
            "the quantity must be positive, not {}",
            units(amount)
        ));
    }
    if amount > MAX_QUANTITY {
        return Err(format!("the quantity {} is absurdly large", units(amount)));
    }
    Ok(())
}

fn check_hours(skill: &str, hours: &Quantity) -> Verdict {
    check_text("skill", skill, 100)?;
    if hours.unit != HOUR {
        return Err(format!("labour is counted in {HOUR}, not {:?}", hours.unit));
    }
    check_amount(hours.amount)
}

/// Thousandths as units, for messages.
fn units(amount: i64) -> String {
    let whole = amount / SCALE;
    let part = (amount % SCALE).abs();
    if part == 0 {
        format!("{whole}")
    } else {
        let sign = if amount < 0 && whole == 0 { "-" } else { "" };
        format!(
            "{sign}{whole}.{}",
            format!("{part:03}").trim_end_matches('0')
        )
    }
}
