//! Checks shared by every planner: a model is well formed before a solver sees it, and a
//! draft keeps to its model before anyone sees it. These functions compute nothing new; they
//! only compare, with a small relative tolerance for rounding.

use super::{Draft, Model, PlanError, Source};

/// Relative slack allowed for rounding when comparing sums of `f64` quantities.
const SLACK: f64 = 1e-7;

fn within(value: f64, bound: f64) -> bool {
    value <= bound + SLACK * bound.abs().max(1.0)
}

/// The largest quantity a model may hold: more is absurd in any unit, and sums of such
/// numbers would lose the precision that the planners' checks rely on.
pub const MAX_QUANTITY: f64 = 1e15;

// The descriptions are built only for an error: validation runs over millions of rows.
fn amount(what: impl FnOnce() -> String, value: f64) -> Result<(), PlanError> {
    if (0.0..=MAX_QUANTITY).contains(&value) {
        Ok(())
    } else {
        Err(PlanError::Model(format!(
            "{} is {value}, not a quantity from 0 to {MAX_QUANTITY:e}",
            what()
        )))
    }
}

fn index(
    what: impl FnOnce() -> String,
    value: usize,
    len: usize,
    of: &str,
) -> Result<(), PlanError> {
    if value < len {
        Ok(())
    } else {
        Err(PlanError::Model(format!(
            "{} names {of} {value}, but there are only {len}",
            what()
        )))
    }
}

/// Refuses a model with an index out of range or a quantity that is negative, above
/// [`MAX_QUANTITY`] or not a number (an unlimited route says so with `capacity: None`).
pub fn validate(model: &Model) -> Result<(), PlanError> {
    let (items, places, skills) = (model.items.len(), model.places.len(), model.skills.len());
    for (n, need) in model.needs.iter().enumerate() {
        let what = || format!("need {n} ({})", need.id);
        index(what, need.item, items, "item")?;
        index(what, need.place, places, "place")?;
        amount(|| format!("the quantity of {}", what()), need.quantity)?;
    }
    for (s, supply) in model.supplies.iter().enumerate() {
        let what = || format!("supply {s} ({})", supply.id);
        index(what, supply.item, items, "item")?;
        index(what, supply.place, places, "place")?;
        amount(|| format!("the quantity of {}", what()), supply.quantity)?;
    }
    for (r, route) in model.routes.iter().enumerate() {
        let what = || format!("route {r}");
        index(what, route.item, items, "item")?;
        index(what, route.from, places, "place")?;
        index(what, route.to, places, "place")?;
        amount(
            || format!("the hours per unit of {}", what()),
            route.hours_per_unit,
        )?;
        if let Some(capacity) = route.capacity {
            amount(|| format!("the capacity of {}", what()), capacity)?;
        }
    }
    for (l, labour) in model.labour.iter().enumerate() {
        let what = || format!("labour offer {l} ({})", labour.id);
        index(what, labour.skill, skills, "skill")?;
        index(what, labour.place, places, "place")?;
        amount(|| format!("the hours of {}", what()), labour.hours)?;
    }
    for (p, process) in model.processes.iter().enumerate() {
        let what = || format!("process {p} ({})", process.id);
        index(what, process.place, places, "place")?;
        amount(|| format!("the capacity of {}", what()), process.capacity)?;
        for &(item, quantity) in process.outputs.iter().chain(&process.inputs) {
            index(what, item, items, "item")?;
            amount(|| format!("a quantity of {}", what()), quantity)?;
        }
        for &(skill, hours) in &process.labour {
            index(what, skill, skills, "skill")?;
            amount(|| format!("the labour hours of {}", what()), hours)?;
        }
        for &(piece, hours) in &process.equipment {
            index(what, piece, model.equipment.len(), "equipment")?;
            amount(|| format!("the equipment hours of {}", what()), hours)?;
        }
    }
    for (e, equipment) in model.equipment.iter().enumerate() {
        let what = || format!("equipment {e} ({})", equipment.id);
        index(what, equipment.place, places, "place")?;
        amount(|| format!("the free hours of {}", what()), equipment.hours)?;
    }
    Ok(())
}

fn broken(message: String) -> PlanError {
    PlanError::Infeasible(message)
}

/// Checks a draft against its model, for any planner: one `Met` per need in order, none above
/// its need; every delivery of the need's own item, from a supply of that item or a process
/// that makes it; deliveries summing to what each need is met by; no supply giving more than it
/// has; no process running more than its capacity, nor delivering more than its runs make; no
/// equipment used by the runs beyond its free hours.
/// Route capacities are not in a draft: [`check_routes`] checks them from the route flows.
pub fn check(model: &Model, draft: &Draft) -> Result<(), PlanError> {
    if draft.met.len() != model.needs.len() {
        return Err(broken(format!(
            "{} needs but {} answers",
            model.needs.len(),
            draft.met.len()
        )));
    }
    let mut delivered = vec![0.0; model.needs.len()];
    let mut given = vec![0.0; model.supplies.len()];
    let mut made = vec![0.0; model.processes.len()];
    for delivery in &draft.deliveries {
        let need = model.needs.get(delivery.need).ok_or_else(|| {
            broken(format!(
                "a delivery to need {}, which does not exist",
                delivery.need
            ))
        })?;
        if !(delivery.quantity.is_finite() && delivery.quantity >= 0.0) {
            return Err(broken(format!(
                "a delivery of {} to need {}",
                delivery.quantity, need.id
            )));
        }
        match delivery.source {
            Source::Supply(s) => {
                let supply = model.supplies.get(s).ok_or_else(|| {
                    broken(format!("a delivery from supply {s}, which does not exist"))
                })?;
                if supply.item != need.item {
                    return Err(broken(format!(
                        "supply {} gives another item than need {} asks for",
                        supply.id, need.id
                    )));
                }
                given[s] += delivery.quantity;
            }
            Source::Process(p) => {
                let process = model.processes.get(p).ok_or_else(|| {
                    broken(format!("a delivery from process {p}, which does not exist"))
                })?;
                if !process.outputs.iter().any(|&(item, _)| item == need.item) {
                    return Err(broken(format!(
                        "process {} does not make what need {} asks for",
                        process.id, need.id
                    )));
                }
                made[p] += delivery.quantity;
            }
        }
        delivered[delivery.need] += delivery.quantity;
    }
    for (n, (met, need)) in draft.met.iter().zip(&model.needs).enumerate() {
        if met.need != n {
            return Err(broken(format!("answer {n} is for need {}", met.need)));
        }
        if !(met.quantity >= 0.0 && within(met.quantity, need.quantity)) {
            return Err(broken(format!(
                "need {} is met by {} of {}",
                need.id, met.quantity, need.quantity
            )));
        }
        let gap = (delivered[n] - met.quantity).abs();
        if gap > SLACK * met.quantity.max(delivered[n]).max(1.0) {
            return Err(broken(format!(
                "need {} is met by {} but delivered {}",
                need.id, met.quantity, delivered[n]
            )));
        }
    }
    for (supply, &quantity) in model.supplies.iter().zip(&given) {
        if !within(quantity, supply.quantity) {
            return Err(broken(format!(
                "supply {} gives {quantity} of its {}",
                supply.id, supply.quantity
            )));
        }
    }
    let mut runs = vec![0.0; model.processes.len()];
    for run in &draft.runs {
        let process = model.processes.get(run.process).ok_or_else(|| {
            broken(format!(
                "a run of process {}, which does not exist",
                run.process
            ))
        })?;
        if !(run.runs >= 0.0 && within(run.runs, process.capacity)) {
            return Err(broken(format!(
                "process {} runs {} times, its capacity is {}",
                process.id, run.runs, process.capacity
            )));
        }
        runs[run.process] += run.runs;
    }
    let mut used = vec![0.0; model.equipment.len()];
    for (process, &runs) in model.processes.iter().zip(&runs) {
        for &(piece, hours) in &process.equipment {
            *used.get_mut(piece).ok_or_else(|| {
                broken(format!("process {} uses unknown equipment", process.id))
            })? += runs * hours;
        }
    }
    for (equipment, &used) in model.equipment.iter().zip(&used) {
        if !within(used, equipment.hours) {
            return Err(broken(format!(
                "the runs use {used} hours of {}, which has {} free",
                equipment.id, equipment.hours
            )));
        }
    }
    for (p, process) in model.processes.iter().enumerate() {
        let output: f64 = process.outputs.iter().map(|&(_, q)| q).sum();
        if !within(made[p], runs[p] * output) {
            return Err(broken(format!(
                "process {} delivers {} but its {} runs make {}",
                process.id,
                made[p],
                runs[p],
                runs[p] * output
            )));
        }
    }
    Ok(())
}

/// Checks that `route_flow` (one amount per route of the model) carries a draft's deliveries
/// from supplies: no route above its capacity, and at every place and for every item, what
/// supplies there give plus what routes bring equals what routes take away plus what is
/// delivered to needs there. Linear in the size of the model.
pub fn check_routes(model: &Model, draft: &Draft, route_flow: &[f64]) -> Result<(), PlanError> {
    if route_flow.len() != model.routes.len() {
        return Err(broken(format!(
            "{} routes but {} flows",
            model.routes.len(),
            route_flow.len()
        )));
    }
    for (route, &flow) in model.routes.iter().zip(route_flow) {
        let capacity = route.capacity.unwrap_or(f64::INFINITY);
        if !(flow >= -SLACK && within(flow, capacity)) {
            return Err(broken(format!(
                "a route of item {} from place {} to {} carries {flow} of its {capacity}",
                route.item, route.from, route.to
            )));
        }
    }
    // Net inflow per (item, place): entries bucketed by item (a counting sort), so that one
    // dense array of places serves every item in turn.
    let supplied = || {
        draft
            .deliveries
            .iter()
            .filter_map(|delivery| match delivery.source {
                Source::Supply(s) => Some((delivery, &model.needs[delivery.need], s)),
                Source::Process(_) => None,
            })
    };
    let mut start = vec![0usize; model.items.len() + 1];
    for route in &model.routes {
        start[route.item + 1] += 2;
    }
    for (_, need, _) in supplied() {
        start[need.item + 1] += 2;
    }
    for i in 0..model.items.len() {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut entries = vec![(0usize, 0.0f64); start[model.items.len()]];
    let mut put = |item: usize, place: usize, amount: f64| {
        entries[fill[item]] = (place, amount);
        fill[item] += 1;
    };
    for (route, &flow) in model.routes.iter().zip(route_flow) {
        put(route.item, route.from, -flow);
        put(route.item, route.to, flow);
    }
    for (delivery, need, s) in supplied() {
        put(need.item, model.supplies[s].place, delivery.quantity);
        put(need.item, need.place, -delivery.quantity);
    }
    let mut balance = vec![0.0; model.places.len()];
    let mut scale = vec![0.0; model.places.len()];
    for item in 0..model.items.len() {
        let entries = &entries[start[item]..start[item + 1]];
        for &(place, amount) in entries {
            balance[place] += amount;
            scale[place] += amount.abs();
        }
        for &(place, _) in entries {
            if balance[place].abs() > SLACK * scale[place].max(1.0) {
                return Err(broken(format!(
                    "item {item} does not balance at place {}: {} left over",
                    model.places[place], balance[place]
                )));
            }
        }
        for &(place, _) in entries {
            balance[place] = 0.0;
            scale[place] = 0.0;
        }
    }
    Ok(())
}
