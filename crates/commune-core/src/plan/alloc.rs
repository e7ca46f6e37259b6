//! Allocation rounds: what exists (stock and goods offers) to needs, over routes between
//! places, for models without processes. It owns the staging (classes, fairness, least
//! transport) and the explanations; the flow algorithms are in [`super::flow`].
//!
//! Routes carry one item each, so items share no capacity and each item is one small network,
//! solved on its own with buffers reused from the item before:
//!
//! ```text
//! source -> supply's place -> (routes) -> need's place -> (receiver, class) -> sink
//! ```
//!
//! A need's arc is capped at its quantity; the arc from a (receiver, class) group to the sink
//! is what the stages set. First, everything is offered at once (one min-cost flow on a
//! smaller network, each need's place straight to the sink): an item that meets every need
//! some supply can reach is done. Needs nothing can reach are left out of the shares.
//! Otherwise the classes are served in order. Each class's
//! groups get as much as the network allows with the earlier classes' amounts kept; when that
//! is less than they ask, the fairness rule divides it among receivers:
//!
//! - [`Fairness::MaxMin`] raises every receiver's fraction together until some cannot rise
//!   (water-filling); those are frozen and the others rise on.
//! - [`Fairness::Proportional`] finds the one fraction every receiver can have at once, then
//!   gives what the class can still take to whoever it can reach, by least transport.
//!
//! Each common fraction is found by Newton's method on the minimum cut (a few max flows, not
//! one per step), and the frozen receivers are those the source no longer reaches. The amounts
//! a class reaches are the most it can have (the amounts a set of receivers can get form a
//! polymatroid, so a fair share loses nothing of the total), and later classes never take from
//! them: the stages are exact, so no class gives up anything and `tolerance_permille` has
//! nothing to trade here. Finally one min-cost flow with every group's amount fixed finds the
//! least transport hours, and the flow is split into deliveries from each supply.

use std::ops::Range;
use std::sync::Mutex;

use super::flow::{Arc, Network};
use super::{
    Delivery, Draft, Fairness, Met, Model, PlanError, Settings, Shortfall, Source, Urgency, check,
};

const SOURCE: usize = 0;
const SINK: usize = 1;
const NONE: u32 = u32::MAX;

/// Allocates a model's supplies to its needs over its routes: vital needs get the most they
/// can, then important, then wanted, each class shared among receivers by `settings.fairness`,
/// then the least transport hours. Every need met in part or not at all is explained. The
/// draft is checked against the model ([`check::check`] and [`check::check_routes`]) before
/// it is returned.
///
/// `item_hours` holds, per item, the transport hours one more unit would cost at its need
/// places: for each place the item was delivered to, the cheapest way to bring one more unit
/// there from any of its supply places over routes with room left (rerouting others' flow if
/// that is cheaper), averaged with the quantities delivered as weights; places that no more
/// can reach are left out, and an item delivered nowhere costs 0. Skill fields are zero (no
/// skill is used).
pub fn allocate(model: &Model, settings: &Settings) -> Result<Draft, PlanError> {
    allocate_routed(model, settings).map(|routed| routed.draft)
}

/// A draft allocation with the flow each route carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Routed {
    pub draft: Draft,
    /// One per route of the model, in its unit: what to carry along it.
    pub route_flow: Vec<f64>,
}

/// [`allocate`], also saying how much each route carries (a draft's deliveries say only from
/// which supply to which need). Items are solved on as many threads as the machine has cores
/// ([`allocate_on`]).
pub fn allocate_routed(model: &Model, settings: &Settings) -> Result<Routed, PlanError> {
    // Asking the machine (std reads the process's CPU affinity and quota) only when there is
    // more than one run to share out.
    let threads = if model.items.len() > ITEMS_PER_RUN {
        std::thread::available_parallelism().map_or(1, usize::from)
    } else {
        1
    };
    allocate_on(model, settings, threads)
}

/// [`allocate_routed`] on at most `threads` threads (at least one). Items share nothing, so
/// threads take runs of consecutive items and the results are put together in item order:
/// the draft is the same, to the last bit, whatever the number of threads.
pub fn allocate_on(
    model: &Model,
    settings: &Settings,
    threads: usize,
) -> Result<Routed, PlanError> {
    check::validate(model)?;
    if !model.processes.is_empty() {
        return Err(PlanError::Model(
            "an allocation round moves what exists; a model with processes needs the \
             production planner"
                .into(),
        ));
    }
    let index = ByItem::new(model);
    let out = solve_items(model, settings.fairness, &index, threads);
    let transport_hours = model
        .routes
        .iter()
        .zip(&out.route_flow)
        .map(|(route, flow)| route.hours_per_unit * flow)
        .sum();
    let draft = Draft {
        deliveries: out.deliveries,
        runs: Vec::new(),
        met: out
            .met
            .iter()
            .zip(out.shortfall)
            .enumerate()
            .map(|(need, (&quantity, shortfall))| Met {
                need,
                quantity,
                shortfall,
            })
            .collect(),
        skill_hours: vec![0.0; model.skills.len()],
        transport_hours,
        item_hours: out.item_hours,
        skill_scarcity: vec![0.0; model.skills.len()],
        solver: "min-cost flow".into(),
    };
    check::check(model, &draft)?;
    check::check_routes(model, &draft, &out.route_flow)?;
    Ok(Routed {
        draft,
        route_flow: out.route_flow,
    })
}

/// The model's needs, supplies and routes bucketed by item (a counting sort).
struct ByItem {
    needs: Bucket,
    supplies: Bucket,
    routes: Bucket,
}

struct Bucket {
    start: Vec<usize>,
    list: Vec<u32>,
}

impl Bucket {
    fn new(items: usize, item_of: impl Iterator<Item = usize> + Clone) -> Bucket {
        let mut start = vec![0; items + 1];
        for item in item_of.clone() {
            start[item + 1] += 1;
        }
        for i in 0..items {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut list = vec![0; start[items]];
        for (at, item) in item_of.enumerate() {
            list[fill[item]] = at as u32;
            fill[item] += 1;
        }
        Bucket { start, list }
    }

    fn of(&self, item: usize) -> &[u32] {
        &self.list[self.start[item]..self.start[item + 1]]
    }
}

impl ByItem {
    fn new(model: &Model) -> ByItem {
        let items = model.items.len();
        ByItem {
            needs: Bucket::new(items, model.needs.iter().map(|n| n.item)),
            supplies: Bucket::new(items, model.supplies.iter().map(|s| s.item)),
            routes: Bucket::new(items, model.routes.iter().map(|r| r.item)),
        }
    }
}

/// What the items' solves give, in the model's order.
struct Out {
    met: Vec<f64>,
    shortfall: Vec<Option<Shortfall>>,
    deliveries: Vec<Delivery>,
    route_flow: Vec<f64>,
    item_hours: Vec<f64>,
}

/// Items are handed to threads in runs of this many: enough that a run is worth a hand-over,
/// few enough that a thread slowed by other work on the machine leaves its share to the rest.
const ITEMS_PER_RUN: usize = 1024;

/// Solves every item, on up to `threads` threads. The items are cut into runs of consecutive
/// items, each with its own part of buffers kept in the order of `index` (so that an item's
/// needs and routes are side by side); idle threads take the next run. The runs' deliveries
/// are put together in run order, and the buffers in the model's order, so the result does
/// not depend on which thread solved what.
fn solve_items(model: &Model, fairness: Fairness, index: &ByItem, threads: usize) -> Out {
    let items = model.items.len();
    let runs = items.div_ceil(ITEMS_PER_RUN).max(1);
    let mut met = vec![0.0; model.needs.len()];
    let mut shortfall = vec![None; model.needs.len()];
    let mut route_flow = vec![0.0; model.routes.len()];
    let mut item_hours = vec![0.0; items];
    let deliveries = {
        let (mut met, mut shortfall, mut route_flow, mut item_hours) = (
            met.as_mut_slice(),
            shortfall.as_mut_slice(),
            route_flow.as_mut_slice(),
            item_hours.as_mut_slice(),
        );
        let mut work = Vec::with_capacity(runs);
        for run in 0..runs {
            let (from, to) = (run * items / runs, (run + 1) * items / runs);
            let needs = index.needs.start[to] - index.needs.start[from];
            let routes = index.routes.start[to] - index.routes.start[from];
            let (m, s, r, h);
            (m, met) = met.split_at_mut(needs);
            (s, shortfall) = shortfall.split_at_mut(needs);
            (r, route_flow) = route_flow.split_at_mut(routes);
            (h, item_hours) = item_hours.split_at_mut(to - from);
            work.push((from..to, m, s, r, h));
        }
        let work = Mutex::new(work.into_iter().enumerate());
        let worker = || {
            let mut solver = ItemSolver {
                local_place: vec![NONE; model.places.len()],
                ..ItemSolver::default()
            };
            let mut done = Vec::new();
            loop {
                let next = work
                    .lock()
                    .expect("no thread panics holding the runs")
                    .next();
                let Some((run, part)) = next else {
                    return done;
                };
                done.push((run, solver.solve_run(model, fairness, index, part)));
            }
        };
        let mut done = std::thread::scope(|scope| {
            let others: Vec<_> = (1..threads.min(runs))
                .map(|_| scope.spawn(worker))
                .collect();
            let mut done = worker();
            for other in others {
                done.extend(other.join().expect("an item's solve does not panic"));
            }
            done
        });
        done.sort_unstable_by_key(|&(run, _)| run);
        done.into_iter()
            .flat_map(|(_, deliveries)| deliveries)
            .collect()
    };
    // From the order of `index` to the model's.
    let mut out = Out {
        met: vec![0.0; model.needs.len()],
        shortfall: vec![None; model.needs.len()],
        deliveries,
        route_flow: vec![0.0; model.routes.len()],
        item_hours,
    };
    for (&need, (met, shortfall)) in index.needs.list.iter().zip(met.iter().zip(&mut shortfall)) {
        out.met[need as usize] = *met;
        out.shortfall[need as usize] = shortfall.take();
    }
    for (&route, &flow) in index.routes.list.iter().zip(&route_flow) {
        out.route_flow[route as usize] = flow;
    }
    out
}

/// A run of items and their parts of the buffers of [`solve_items`].
type Part<'a> = (
    Range<usize>,
    &'a mut [f64],
    &'a mut [Option<Shortfall>],
    &'a mut [f64],
    &'a mut [f64],
);

/// One item's part of the results: per need and per route in the item's order of `ByItem`.
struct ItemOut<'a> {
    met: &'a mut [f64],
    shortfall: &'a mut [Option<Shortfall>],
    route_flow: &'a mut [f64],
    /// The item's marginal transport hours.
    hours: &'a mut f64,
    deliveries: &'a mut Vec<Delivery>,
}

/// The needs of one receiver in one class, for one item: the unit of fairness.
#[derive(Debug, Clone)]
struct Group {
    class: Urgency,
    demand: f64,
    /// The arc to the sink, and a second one for what a class gets beyond its fair floor.
    arc: Arc,
    rest: Arc,
    /// The amount settled by the stages, once `settled`.
    amount: f64,
    settled: bool,
}

/// Buffers for one item's network, reused from item to item.
#[derive(Default)]
struct ItemSolver {
    net: Network,
    /// Global place -> local place number, `NONE` when the place is not in this item.
    local_place: Vec<u32>,
    places: Vec<usize>,
    /// Positions of the item's needs, sorted by receiver and class.
    order: Vec<u32>,
    groups: Vec<Group>,
    need_group: Vec<u32>,
    need_arc: Vec<Arc>,
    need_met: Vec<f64>,
    /// Per place: what its needs ask, then what is left to share out among them.
    left: Vec<f64>,
    place_arc: Vec<(usize, Arc)>,
    // Decomposition and explanations.
    remaining: Vec<f64>,
    seen: Vec<bool>,
    via: Vec<Arc>,
    stack: Vec<usize>,
    best_class: Vec<Option<Urgency>>,
    sources: Vec<usize>,
    reach: Vec<bool>,
    spare_reach: Marks,
    spare_at: Marks,
    residual: Marks,
    feeders: Marks,
    /// The flow with the classes before the current one at their settled amounts.
    base: Vec<f64>,
}

impl ItemSolver {
    /// Solves a run of consecutive items, one after the other on one network; returns their
    /// deliveries in item order.
    fn solve_run(
        &mut self,
        model: &Model,
        fairness: Fairness,
        index: &ByItem,
        (items, mut met, mut shortfall, mut route_flow, item_hours): Part,
    ) -> Vec<Delivery> {
        let mut deliveries = Vec::new();
        for (item, hours) in items.zip(item_hours) {
            let (needs, routes) = (index.needs.of(item).len(), index.routes.of(item).len());
            let mut out = ItemOut {
                met: &mut [],
                shortfall: &mut [],
                route_flow: &mut [],
                hours,
                deliveries: &mut deliveries,
            };
            (out.met, met) = std::mem::take(&mut met).split_at_mut(needs);
            (out.shortfall, shortfall) = std::mem::take(&mut shortfall).split_at_mut(needs);
            (out.route_flow, route_flow) = std::mem::take(&mut route_flow).split_at_mut(routes);
            self.solve(model, fairness, index, item, &mut out);
        }
        deliveries
    }

    fn mark(&mut self, place: usize) {
        if self.local_place[place] == NONE {
            self.local_place[place] = self.places.len() as u32;
            self.places.push(place);
        }
    }

    fn place_node(&self, place: usize) -> usize {
        2 + self.local_place[place] as usize
    }

    fn group_node(&self, group: usize) -> usize {
        2 + self.places.len() + group
    }

    fn solve(
        &mut self,
        model: &Model,
        fairness: Fairness,
        index: &ByItem,
        item: usize,
        out: &mut ItemOut,
    ) {
        let needs = index.needs.of(item);
        if needs.is_empty() {
            return;
        }
        let supplies = index.supplies.of(item);
        let routes = index.routes.of(item);

        // Number the places and groups of this item.
        for &s in supplies {
            self.mark(model.supplies[s as usize].place);
        }
        for &r in routes {
            let route = &model.routes[r as usize];
            self.mark(route.from);
            self.mark(route.to);
        }
        let mut scale: f64 = 1.0;
        for &n in needs {
            let need = &model.needs[n as usize];
            self.mark(need.place);
            scale += need.quantity;
        }
        // Group the needs by (receiver, class): sorted, so no global index of receivers.
        let key = |k: u32| {
            let need = &model.needs[needs[k as usize] as usize];
            (need.receiver.as_str(), need.urgency)
        };
        self.order.clear();
        self.order.extend(0..needs.len() as u32);
        self.order.sort_unstable_by(|&a, &b| key(a).cmp(&key(b)));
        self.groups.clear();
        self.need_group.clear();
        self.need_group.resize(needs.len(), 0);
        for i in 0..self.order.len() {
            let k = self.order[i];
            if i == 0 || key(self.order[i - 1]) != key(k) {
                self.groups.push(Group {
                    class: key(k).1,
                    demand: 0.0,
                    arc: 0,
                    rest: 0,
                    amount: 0.0,
                    settled: false,
                });
            }
            self.need_group[k as usize] = self.groups.len() as u32 - 1;
        }
        for &s in supplies {
            scale += model.supplies[s as usize].quantity;
        }
        let epsilon = 1e-12 * scale;

        // Everything at once, on a network without receivers (each need's place straight to
        // the sink): most items end here.
        let hours = self.carriers(model, supplies, routes, 2 + self.places.len(), epsilon);
        // The places some supply reaches over routes that can carry anything: needs elsewhere
        // are left out of their receiver's demand, so that one need nothing can reach does not
        // change how the reachable ones are shared.
        self.reach.clear();
        self.reach.extend_from_slice(self.net.reachable(SOURCE));
        self.left.clear();
        self.left.resize(self.places.len(), 0.0);
        for (k, &n) in needs.iter().enumerate() {
            let need = &model.needs[n as usize];
            let node = self.place_node(need.place);
            if self.reach[node] {
                self.groups[self.need_group[k] as usize].demand += need.quantity;
                self.left[node - 2] += need.quantity;
            }
        }
        self.place_arc.clear();
        for p in 0..self.places.len() {
            if self.left[p] > 0.0 {
                let arc = self.net.add_arc(2 + p, SINK, self.left[p], 0.0);
                self.place_arc.push((p, arc));
            }
        }
        let asked: f64 = self.groups.iter().map(|g| g.demand).sum();
        let tolerance = self.tolerance(asked);
        // One receiver in one class asking for what supply can reach has nothing to share and
        // nothing to put first: the most it can have at the least transport is this flow,
        // met or not.
        let single = self.groups.iter().filter(|g| g.demand > 0.0).count() <= 1;
        // An item whose supplies together fall short of what is asked goes straight to the
        // stages, without the flow that could only confirm it (with room for rounding, so that
        // no item goes a different way than that flow would send it).
        let stock: f64 = supplies
            .iter()
            .map(|&s| model.supplies[s as usize].quantity)
            .sum();
        let fits = (single || stock + tolerance >= asked - tolerance) && {
            let (sent, _) = self.net.min_cost_flow(SOURCE, SINK, true);
            single || sent >= asked - tolerance
        };
        self.need_met.clear();
        if fits {
            // What reached each place goes to its needs in the order they were posted.
            for &(p, arc) in &self.place_arc {
                self.left[p] = self.net.flow(arc);
            }
            for &n in needs {
                let need = &model.needs[n as usize];
                let node = self.place_node(need.place);
                let met = if self.reach[node] {
                    need.quantity.min(self.left[node - 2])
                } else {
                    0.0
                };
                self.left[node - 2] -= met;
                self.need_met.push(met);
            }
        } else {
            self.stages(model, fairness, needs, supplies, routes, epsilon, hours);
        }

        self.extract(model, needs, supplies, routes, out);
        self.explain(model, needs, supplies, routes, out);
        self.marginal_hours(model, needs, supplies, routes, out);

        for &place in &self.places {
            self.local_place[place] = NONE;
        }
        self.places.clear();
    }

    /// Empties the network and adds the arcs that carry goods: supplies first, then routes.
    /// Returns the hours of all the routes.
    fn carriers(
        &mut self,
        model: &Model,
        supplies: &[u32],
        routes: &[u32],
        nodes: usize,
        epsilon: f64,
    ) -> f64 {
        self.net.reset(nodes, epsilon);
        for &s in supplies {
            let supply = &model.supplies[s as usize];
            let to = self.place_node(supply.place);
            self.net.add_arc(SOURCE, to, supply.quantity, 0.0);
        }
        let mut hours = 0.0;
        for &r in routes {
            let route = &model.routes[r as usize];
            let (from, to) = (self.place_node(route.from), self.place_node(route.to));
            let capacity = route.capacity.unwrap_or(f64::INFINITY);
            self.net.add_arc(from, to, capacity, route.hours_per_unit);
            hours += route.hours_per_unit;
        }
        hours
    }

    /// The staged solve, for an item that cannot meet all its reachable needs: a network with
    /// a node per (receiver, class), classes in order, fair shares, then least transport.
    #[allow(clippy::too_many_arguments, reason = "the item's slices of the model")]
    fn stages(
        &mut self,
        model: &Model,
        fairness: Fairness,
        needs: &[u32],
        supplies: &[u32],
        routes: &[u32],
        epsilon: f64,
        hours: f64,
    ) {
        let nodes = 2 + self.places.len() + self.groups.len();
        self.carriers(model, supplies, routes, nodes, epsilon);
        // Added last first, so that the searches, which take a node's arcs newest first, fill
        // a receiver's needs at one place in the order they were posted.
        self.need_arc.clear();
        self.need_arc.resize(needs.len(), 0);
        for (k, &n) in needs.iter().enumerate().rev() {
            let need = &model.needs[n as usize];
            let from = self.place_node(need.place);
            let quantity = if self.reach[from] { need.quantity } else { 0.0 };
            let to = self.group_node(self.need_group[k] as usize);
            self.need_arc[k] = self.net.add_arc(from, to, quantity, 0.0);
        }
        for g in 0..self.groups.len() {
            let node = self.group_node(g);
            self.groups[g].arc = self.net.add_arc(node, SINK, 0.0, 0.0);
            self.groups[g].rest = self.net.add_arc(node, SINK, 0.0, 0.0);
        }
        self.net.save(&mut self.base);
        for class in Urgency::ALL {
            if !self.groups.iter().any(|g| g.class == class) {
                continue;
            }
            match fairness {
                // Water-filling ends with the network carrying the class's amounts.
                Fairness::MaxMin => self.max_min(class),
                Fairness::Proportional => {
                    self.proportional(class, hours);
                    self.reload(class);
                }
            }
            self.net.save(&mut self.base);
        }
        // Least transport with every group's amount fixed.
        self.net.clear_flow();
        for group in &self.groups {
            self.net.set_arc(group.arc, group.amount, 0.0);
        }
        self.net.min_cost_flow(SOURCE, SINK, true);
        for &arc in &self.need_arc {
            self.need_met.push(self.net.flow(arc));
        }
    }

    /// Sets the sink arcs for a stage serving `class`: earlier classes keep their settled
    /// amounts, this class's settled groups too, its unsettled ones get `fraction` of their
    /// demand, later classes nothing; then finds a maximum flow. Returns the flow and the total
    /// the sink arcs allow.
    fn load(&mut self, class: Urgency, fraction: f64) -> (f64, f64) {
        // The base flow carries the earlier classes already; only this class is added.
        self.net.restore(&self.base);
        let (mut earlier, mut this) = (0.0, 0.0);
        for group in &self.groups {
            if group.class == class {
                let capacity = if group.settled {
                    group.amount
                } else {
                    fraction * group.demand
                };
                self.net.set_arc(group.arc, capacity, 0.0);
                this += capacity;
            } else if group.settled {
                earlier += group.amount;
            }
        }
        let added = self.net.max_flow(SOURCE, SINK);
        (earlier + added, earlier + this)
    }

    /// Loads the base flow with `class` at its settled amounts too.
    fn reload(&mut self, class: Urgency) {
        self.net.restore(&self.base);
        for group in &self.groups {
            if group.class == class {
                self.net.set_arc(group.arc, group.amount, 0.0);
            }
        }
        self.net.max_flow(SOURCE, SINK);
    }

    /// The largest fraction of their demand that every unsettled group of `class` can have at
    /// once, the settled ones keeping theirs; leaves the network loaded at that fraction.
    /// Newton's method on the minimum cut: the cut found at a fraction too high is a line in
    /// the fraction, and where it meets what is asked is the next, lower guess.
    fn fair_fraction(&mut self, class: Urgency) -> f64 {
        let open: f64 = self
            .groups
            .iter()
            .filter(|g| !g.settled && g.class == class)
            .map(|g| g.demand)
            .sum();
        let mut fraction = 1.0;
        for _ in 0..100 {
            let (flow, allowed) = self.load(class, fraction);
            if flow >= allowed - self.tolerance(allowed) {
                return fraction;
            }
            let reached = self.net.reachable(SOURCE);
            let base = 2 + self.places.len();
            let through: f64 = self
                .groups
                .iter()
                .enumerate()
                .filter(|(g, group)| !group.settled && group.class == class && reached[base + g])
                .map(|(_, group)| group.demand)
                .sum();
            let fixed = allowed - fraction * open;
            if open - through <= 0.0 {
                return fraction;
            }
            let next = ((flow - fraction * through - fixed) / (open - through)).max(0.0);
            if next >= fraction {
                return fraction;
            }
            fraction = next;
        }
        self.load(class, fraction);
        fraction
    }

    fn tolerance(&self, amount: f64) -> f64 {
        1e-9 * amount + 8.0 * self.net.epsilon()
    }

    /// Water-filling: raise every open group's fraction together, freeze those the source no
    /// longer reaches, repeat.
    fn max_min(&mut self, class: Urgency) {
        while self.groups.iter().any(|g| !g.settled && g.class == class) {
            let fraction = self.fair_fraction(class);
            let base = 2 + self.places.len();
            let reached = self.net.reachable(SOURCE);
            let mut frozen = 0;
            for (g, group) in self.groups.iter_mut().enumerate() {
                if !group.settled && group.class == class && !reached[base + g] {
                    group.amount = fraction * group.demand;
                    group.settled = true;
                    frozen += 1;
                }
            }
            if frozen == 0 || fraction >= 1.0 {
                // All can have this fraction and more is not possible for any of them in
                // rounding terms, or all are served in full.
                for group in self.groups.iter_mut() {
                    if !group.settled && group.class == class {
                        group.amount = fraction.min(1.0) * group.demand;
                        group.settled = true;
                    }
                }
            }
        }
    }

    /// One common fraction for all of the class, then the rest of what the class can take,
    /// by least transport: a min-cost flow whose sink arcs pay so much for the settled
    /// amounts and the floors, and less for the rest, that no transport saving outweighs them.
    fn proportional(&mut self, class: Urgency, hours: f64) {
        let open = (self.groups.iter())
            .filter(|g| !g.settled && g.class == class)
            .count();
        let fraction = self.fair_fraction(class);
        if fraction >= 1.0 || open == 1 {
            // All served, or one receiver, whom the fraction already gives all it can have.
            self.settle(class, |group, _| fraction * group.demand);
            return;
        }
        let rest_gain = 2.0 * hours + 1.0;
        let floor_gain = 2.0 * (rest_gain + hours) + 1.0;
        self.net.clear_flow();
        for group in &self.groups {
            if group.settled {
                self.net.set_arc(group.arc, group.amount, -floor_gain);
            } else if group.class == class {
                self.net
                    .set_arc(group.arc, fraction * group.demand, -floor_gain);
                self.net
                    .set_arc(group.rest, (1.0 - fraction) * group.demand, -rest_gain);
            } else {
                self.net.set_arc(group.arc, 0.0, 0.0);
            }
        }
        self.net.min_cost_flow(SOURCE, SINK, false);
        self.settle(class, |group, net| {
            net.flow(group.arc) + net.flow(group.rest)
        });
        for group in &self.groups {
            self.net.set_cost(group.arc, 0.0);
            self.net.set_cost(group.rest, 0.0);
        }
    }

    fn settle(&mut self, class: Urgency, amount: impl Fn(&Group, &Network) -> f64) {
        for g in 0..self.groups.len() {
            let group = &self.groups[g];
            if !group.settled && group.class == class {
                let value = amount(group, &self.net).min(group.demand);
                self.groups[g].amount = value;
                self.groups[g].settled = true;
            }
        }
    }

    /// Reads the met quantities and route flows, and splits the flow into deliveries, each
    /// along one path from a supply (walking back from the need's place along arcs that still
    /// carry undivided flow).
    fn extract(
        &mut self,
        model: &Model,
        needs: &[u32],
        supplies: &[u32],
        routes: &[u32],
        out: &mut ItemOut,
    ) {
        let carriers = supplies.len() + routes.len();
        self.remaining.clear();
        self.remaining
            .extend((0..carriers).map(|pair| self.net.flow(2 * pair)));
        out.route_flow
            .copy_from_slice(&self.remaining[supplies.len()..]);
        self.best_class.clear();
        self.best_class.resize(supplies.len(), None);
        let nodes = self.net.nodes();
        let epsilon = self.net.epsilon();
        for (k, &n) in needs.iter().enumerate() {
            let need = &model.needs[n as usize];
            let met = self.need_met[k].min(need.quantity);
            out.met[k] = met;
            let target = self.place_node(need.place);
            let mut left = met;
            while left > epsilon {
                let Some(first) = self.path_back(target, carriers, nodes) else {
                    break;
                };
                // `first` leaves the source; follow `via` forward to the need's place.
                let mut amount = left;
                let mut node = self.net.head(first);
                let mut arc = first;
                loop {
                    amount = amount.min(self.remaining[arc / 2]);
                    if node == target {
                        break;
                    }
                    arc = self.via[node];
                    node = self.net.head(arc);
                }
                let (mut node, mut arc, mut cost) = (self.net.head(first), first, 0.0);
                loop {
                    self.remaining[arc / 2] -= amount;
                    cost += self.net.cost(arc);
                    if node == target {
                        break;
                    }
                    arc = self.via[node];
                    node = self.net.head(arc);
                }
                let supply = first / 2;
                let best = &mut self.best_class[supply];
                *best = Some(best.map_or(need.urgency, |b| b.min(need.urgency)));
                let source = Source::Supply(supplies[supply] as usize);
                match out.deliveries.last_mut() {
                    Some(last) if last.need == n as usize && last.source == source => {
                        last.quantity += amount;
                        last.hours += amount * cost;
                    }
                    _ => out.deliveries.push(Delivery {
                        need: n as usize,
                        source,
                        quantity: amount,
                        hours: amount * cost,
                    }),
                }
                left -= amount;
            }
        }
    }

    /// A path of undivided flow from the source to `target`, found walking backwards; returns
    /// the supply arc it starts with, `via[node]` being the arc it leaves each node by.
    fn path_back(&mut self, target: usize, carriers: usize, nodes: usize) -> Option<Arc> {
        self.seen.clear();
        self.seen.resize(nodes, false);
        self.via.resize(nodes, 0);
        self.stack.clear();
        self.stack.push(target);
        self.seen[target] = true;
        let epsilon = self.net.epsilon();
        while let Some(node) = self.stack.pop() {
            for back in self.net.out_arcs(node) {
                let arc = back ^ 1;
                if back & 1 == 0 || arc / 2 >= carriers || self.remaining[arc / 2] <= epsilon {
                    continue;
                }
                let from = self.net.tail(arc);
                if from == SOURCE {
                    return Some(arc);
                }
                if !self.seen[from] {
                    self.seen[from] = true;
                    self.via[from] = arc;
                    self.stack.push(from);
                }
            }
        }
        None
    }

    /// Says why each need met in part or not at all fell short.
    fn explain(
        &mut self,
        model: &Model,
        needs: &[u32],
        supplies: &[u32],
        routes: &[u32],
        out: &mut ItemOut,
    ) {
        let short = |k: usize| {
            let need = &model.needs[needs[k] as usize];
            out.met[k] < need.quantity * (1.0 - 1e-9) - self.net.epsilon() * 8.0
        };
        if !(0..needs.len()).any(short) {
            return;
        }
        let route_pairs = supplies.len()..supplies.len() + routes.len();
        let is_route = |arc: Arc| route_pairs.contains(&(arc / 2));
        // Places any supply reaches over routes that can carry anything (found before the
        // solve); places that supply left unused reaches likewise.
        let reach = &self.reach;
        let nodes = self.net.nodes();
        let supply_arcs = 0..supplies.len();
        self.sources.clear();
        self.sources.extend(
            supply_arcs
                .clone()
                .filter(|&s| self.net.has_room(2 * s))
                .map(|s| self.net.head(2 * s)),
        );
        self.spare_reach.forward(&self.net, &self.sources, is_route);
        self.spare_at.start(nodes, &self.sources);
        for (k, &n) in needs.iter().enumerate() {
            if !short(k) {
                continue;
            }
            let need = &model.needs[n as usize];
            let place = self.place_node(need.place);
            out.shortfall[k] = Some(if !reach[place] {
                Shortfall::Unreachable
            } else {
                // The places that could still send flow here, rerouting others' flow.
                self.residual.backward(&self.net, place, is_route, true);
                let residual = &self.residual.reached;
                let route = |arc: Arc| Shortfall::Route {
                    route: routes[arc / 2 - supplies.len()] as usize,
                };
                let feeders = &mut self.feeders;
                let (net, best_class) = (&self.net, &self.best_class);
                let mut taken = || {
                    feeders.backward(net, place, is_route, false);
                    supply_arcs.clone().any(|s| {
                        feeders.reached[net.head(2 * s)]
                            && best_class[s].is_some_and(|b| b < need.urgency)
                    })
                };
                let spare_reach = &self.spare_reach.reached;
                if (0..nodes).any(|v| residual[v] && self.spare_at.reached[v]) {
                    // Supply is left that could come: the fair share stopped it.
                    Shortfall::SharedFairly
                } else if let Some(arc) = blocking_route(net, residual, spare_reach, is_route) {
                    // Supply is left, but a full route stands between.
                    route(arc)
                } else if taken() {
                    Shortfall::TakenByHigherClass
                } else if let Some(arc) = blocking_route(net, residual, reach, is_route) {
                    // All of it went to this class, and a full route kept this need's share
                    // small.
                    route(arc)
                } else {
                    Shortfall::SharedFairly
                }
            });
        }
    }

    /// Finds the item's marginal transport hours (see [`allocate`]).
    fn marginal_hours(
        &mut self,
        model: &Model,
        needs: &[u32],
        supplies: &[u32],
        routes: &[u32],
        out: &mut ItemOut,
    ) {
        let delivered: f64 = out.met.iter().sum();
        if delivered <= self.net.epsilon() {
            return;
        }
        self.sources.clear();
        for s in 0..supplies.len() {
            if self.net.capacity(2 * s) > self.net.epsilon() {
                self.sources.push(self.net.head(2 * s));
            }
        }
        let route_pairs = supplies.len()..supplies.len() + routes.len();
        let dist = self
            .net
            .bellman_ford(&self.sources, |arc| route_pairs.contains(&(arc / 2)));
        let (mut hours, mut weight) = (0.0, 0.0);
        for (&n, &met) in needs.iter().zip(out.met.iter()) {
            let need = &model.needs[n as usize];
            let d = dist[2 + self.local_place[need.place] as usize];
            if d.is_finite() && met > 0.0 {
                hours += met * d;
                weight += met;
            }
        }
        if weight > 0.0 {
            *out.hours = (hours / weight).max(0.0);
        }
    }
}

/// A full route into the set of places that could still send to a need, from a place in
/// `from`: its arc.
fn blocking_route(
    net: &Network,
    residual: &[bool],
    from: &[bool],
    is_route: impl Fn(Arc) -> bool,
) -> Option<usize> {
    (0..net.arcs()).map(|pair| 2 * pair).find(|&arc| {
        is_route(arc)
            && !net.has_room(arc)
            && residual[net.head(arc)]
            && !residual[net.tail(arc)]
            && from[net.tail(arc)]
    })
}

/// A set of nodes found by a search over route arcs, with the search's stack: kept from item
/// to item so that explanations allocate nothing.
#[derive(Default)]
struct Marks {
    reached: Vec<bool>,
    stack: Vec<usize>,
}

impl Marks {
    fn start(&mut self, nodes: usize, from: &[usize]) {
        self.reached.clear();
        self.reached.resize(nodes, false);
        self.stack.clear();
        for &node in from {
            if !self.reached[node] {
                self.reached[node] = true;
                self.stack.push(node);
            }
        }
    }

    /// Nodes reached from `sources` over forward route arcs that can carry anything.
    fn forward(&mut self, net: &Network, sources: &[usize], is_route: impl Fn(Arc) -> bool) {
        self.start(net.nodes(), sources);
        while let Some(node) = self.stack.pop() {
            for arc in net.out_arcs(node) {
                if arc & 1 == 0 && is_route(arc) && net.capacity(arc) > net.epsilon() {
                    let to = net.head(arc);
                    if !self.reached[to] {
                        self.reached[to] = true;
                        self.stack.push(to);
                    }
                }
            }
        }
    }

    /// Nodes from which `target` is reached over route arcs: with `residual`, over the
    /// residual network (forward arcs with room, and backwards along arcs carrying flow);
    /// otherwise over every route that can carry anything.
    fn backward(
        &mut self,
        net: &Network,
        target: usize,
        is_route: impl Fn(Arc) -> bool,
        residual: bool,
    ) {
        self.start(net.nodes(), &[target]);
        while let Some(node) = self.stack.pop() {
            for back in net.out_arcs(node) {
                // `into` is the arc (of either direction) entering `node` that pairs with
                // `back`.
                let into = back ^ 1;
                if !is_route(into) {
                    continue;
                }
                let usable = if residual {
                    net.has_room(into)
                } else {
                    into & 1 == 0 && net.capacity(into) > net.epsilon()
                };
                let from = net.head(back);
                if usable && !self.reached[from] {
                    self.reached[from] = true;
                    self.stack.push(from);
                }
            }
        }
    }
}
