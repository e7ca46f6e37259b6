//! Production plans: one linear program over a council's processes, stock, routes and labour,
//! solved in stages (vital, important, wanted, then least labour), each stage keeping what the
//! ones before it achieved up to the council's tolerance.
//!
//! The program's columns are process runs, route flows and the part of each need met (plus a
//! few fairness columns per class); its rows are an item balance per (item, place) that
//! something draws on, a labour row per (skill, place) that some process needs, an equipment
//! row per piece of equipment some process uses (runs times hours per run within its free
//! hours), the fairness rows of each class and, from stage two on, the rows that hold earlier
//! stages. A class's stage maximises, over the receivers of its needs (not the needs: a
//! receiver posting many needs counts once):
//!
//! - [`Fairness::MaxMin`]: first a hard floor `t` under every receiver's fraction met, then
//!   (the floor held) the sum of their fractions, so that what the floor cannot use still goes
//!   to whoever it can reach;
//! - [`Fairness::Proportional`]: a concave utility of each receiver's fraction (four segments
//!   of falling weight), so that a receiver's first quarter is worth more than anyone's second.
//!
//! Needs that nothing can reach (no stock, no runnable process, no route) are left out of their
//! class's fairness rows, so one impossible need does not pin a floor to zero.
//!
//! A tolerance lets a later stage trade a little of the important or wanted class for labour
//! saved (never of the vital class, which later stages hold exactly), which can leave a need
//! short by a hair with plenty in stock (2.497 of 2.5 kg). After the stages, needs that
//! lost less than the tolerance's share of their quantity to later stages are snapped: the
//! last stage is solved once more with their floors at what their own class's stage gave them
//! (in full, when nothing else was short) and every other need's at what the first solution
//! gave it, and that solution is kept if it is feasible and passes the check; otherwise the
//! first stands. Labour-hour costs and skill scarcity are the first solution's duals.
//!
//! The solver's answer is checked against the model itself before a draft is returned; a need
//! left short is explained by the first binding limit found walking back from it through the
//! plan.

use std::collections::HashMap;
use std::hash::Hash;

use super::check::validate;
use super::{
    Delivery, Draft, EquipmentIx, Fairness, ItemIx, Lp, LpError, LpSolution, LpSolver, Met, Model,
    PlaceIx, PlanError, Process, Row, Run, Settings, Shortfall, SkillIx, Source, Urgency,
};

/// Slack allowed when the draft is checked against the model, relative to the quantities met.
const FEASIBILITY: f64 = 1e-6;
/// Segments of the concave utility of [`Fairness::Proportional`], with their weights.
const UTILITY_WEIGHTS: [f64; 4] = [4.0, 3.0, 2.0, 1.0];

/// Draws a production plan for `model`: the most of the vital needs (fairly across receivers),
/// then of the important, then of the wanted ones, then the fewest labour hours, transport
/// included. The plan is checked against the model before it is returned.
pub fn draft(
    model: &Model,
    settings: &Settings,
    solver: &dyn LpSolver,
) -> Result<Draft, PlanError> {
    solve(model, settings, solver).map(|(draft, _)| draft)
}

/// [`draft`], with the plan's quantities (route flows included) for the federation.
pub(crate) fn solve(
    model: &Model,
    settings: &Settings,
    solver: &dyn LpSolver,
) -> Result<(Draft, Plan), PlanError> {
    validate(model)?;
    let program = Program::new(model);
    let reach = Reach::new(model);
    let mut lp = program.lp.clone();
    let mut sequence = solver.sequence();
    let keep = 1.0 - f64::from(settings.tolerance_permille.min(1000)) / 1000.0;
    // What each need got when its own class was served, before later stages traded any.
    let mut best = vec![0.0; model.needs.len()];
    for urgency in Urgency::ALL {
        let needs: Vec<usize> = (0..model.needs.len())
            .filter(|&n| {
                let need = &model.needs[n];
                need.urgency == urgency
                    && need.quantity > 0.0
                    && reach.reaches(need.item, need.place)
            })
            .collect();
        if needs.is_empty() {
            continue;
        }
        for goal in program.fairness(model, &mut lp, &needs, settings.fairness) {
            lp.objective = vec![0.0; lp.col_lower.len()];
            for &(column, weight) in &goal {
                lp.objective[column] = -weight;
            }
            let solution = sequence.solve(&lp)?;
            for &n in &needs {
                best[n] = solution.x[program.met_column(n)];
            }
            let achieved = -solution.objective;
            // Later stages keep this one's achievement, less a hair for the solver's rounding
            // and, but for the vital class, the council's tolerance: vital needs first is a
            // rule, not an objective, so no later stage may take from them.
            let kept = if urgency == Urgency::Vital { 1.0 } else { keep };
            lp.rows.push(Row {
                coefs: goal,
                lower: achieved * kept - 1e-7 * (1.0 + achieved.abs()),
                upper: f64::INFINITY,
            });
        }
    }
    lp.objective = program.hours.clone();
    lp.objective.resize(lp.col_lower.len(), 0.0);
    let last = sequence.solve(&lp)?;
    let mut plan = program.read(&last);
    plan.check(model)?;
    let near = near_misses(model, &plan, &best, 1.0 - keep);
    if !near.is_empty() {
        // Every need keeps at least what the first plan gave it, so that snapping one need
        // cannot cut another; the near-misses get what their class's stage gave them.
        for (n, need) in model.needs.iter().enumerate() {
            lp.col_lower[program.met_column(n)] = plan.met[n].clamp(0.0, need.quantity);
        }
        for &n in &near {
            lp.col_lower[program.met_column(n)] = best[n].min(model.needs[n].quantity);
        }
        // Raised bounds do not extend the run of stages: this program is solved afresh.
        match solver.solve(&lp) {
            Ok(snapped) => {
                let snapped = program.read(&snapped);
                if snapped.check(model).is_ok() {
                    plan = snapped;
                }
            }
            // The first solution stands: it met every stage.
            Err(LpError::Infeasible) => {}
            Err(error) => return Err(error.into()),
        }
    }
    let binding = program.binding(&plan);
    let met = (0..model.needs.len())
        .map(|n| {
            let need = &model.needs[n];
            let quantity = plan.met[n];
            let short = quantity < need.quantity - FEASIBILITY * (1.0 + need.quantity);
            Met {
                need: n,
                quantity,
                shortfall: short.then(|| explain(model, &program, &reach, &plan, &binding, n)),
            }
        })
        .collect();
    let draft = Draft {
        deliveries: deliveries(model, &plan),
        runs: plan
            .runs
            .iter()
            .enumerate()
            .filter(|(_, runs)| **runs > 0.0)
            .map(|(process, &runs)| Run { process, runs })
            .collect(),
        met,
        skill_hours: plan.skill_hours(model),
        transport_hours: plan.transport_hours(model),
        item_hours: program.item_hours(model, &last),
        skill_scarcity: program.skill_scarcity(model, &last),
        solver: solver.name().to_owned(),
    };
    Ok((draft, plan))
}

/// Needs the plan gives less than they got when their class was served (`best`), but by no
/// more than `share` of their quantity (and the hair each stage leaves for rounding): a later
/// stage's tolerance at work, not a real lack.
fn near_misses(model: &Model, plan: &Plan, best: &[f64], share: f64) -> Vec<usize> {
    (0..model.needs.len())
        .filter(|&n| {
            let need = &model.needs[n];
            let (wanted, met) = (need.quantity, plan.met[n]);
            let hair = FEASIBILITY * (1.0 + wanted);
            // A vital need can lose only the rounding hair: any of it is given back.
            let (lost, share) = match need.urgency {
                Urgency::Vital => (1e-12 * (1.0 + wanted), 0.0),
                _ => (hair, share),
            };
            met < best[n] - lost && best[n] - met <= share * wanted + hair
        })
        .collect()
}

/// Which items can be had at which places at all: from stock, from processes whose inputs
/// and skills can be had where they run, and along routes, to a fixed point.
struct Reach {
    /// By item, by place.
    reachable: Vec<Vec<bool>>,
}

impl Reach {
    fn new(model: &Model) -> Reach {
        let mut reachable = vec![vec![false; model.places.len()]; model.items.len()];
        for supply in &model.supplies {
            if supply.quantity > 0.0 {
                reachable[supply.item][supply.place] = true;
            }
        }
        let offered = offered_hours(model);
        let mut changed = true;
        while changed {
            changed = false;
            for process in &model.processes {
                let runnable = process.capacity > 0.0
                    && process
                        .inputs
                        .iter()
                        .all(|&(item, x)| x == 0.0 || reachable[item][process.place])
                    && process.labour.iter().all(|&(skill, h)| {
                        h == 0.0
                            || offered
                                .get(&(skill, process.place))
                                .is_some_and(|&o| o > 0.0)
                    })
                    && process
                        .equipment
                        .iter()
                        .all(|&(piece, h)| h == 0.0 || model.equipment[piece].hours > 0.0);
                if runnable {
                    for &(item, x) in &process.outputs {
                        if x > 0.0 && !reachable[item][process.place] {
                            reachable[item][process.place] = true;
                            changed = true;
                        }
                    }
                }
            }
            for route in &model.routes {
                if route.capacity != Some(0.0)
                    && reachable[route.item][route.from]
                    && !reachable[route.item][route.to]
                {
                    reachable[route.item][route.to] = true;
                    changed = true;
                }
            }
        }
        Reach { reachable }
    }

    fn reaches(&self, item: ItemIx, place: PlaceIx) -> bool {
        self.reachable[item][place]
    }
}

/// Hours offered per (skill, place).
fn offered_hours(model: &Model) -> HashMap<(SkillIx, PlaceIx), f64> {
    let mut offered = HashMap::new();
    for labour in &model.labour {
        *offered.entry((labour.skill, labour.place)).or_insert(0.0) += labour.hours;
    }
    offered
}

/// Rows `sum(runs * use per run) <= limit`, one per key that some process uses, in order of
/// first use: the labour rows (keyed by skill and place) and the equipment rows.
struct Limits<K> {
    row: HashMap<K, usize>,
    keys: Vec<K>,
    rows: Vec<Row>,
}

impl<K: Copy + Eq + Hash> Limits<K> {
    fn new(
        model: &Model,
        uses: impl Fn(&Process) -> Vec<(K, f64)>,
        limit: impl Fn(K) -> f64,
    ) -> Limits<K> {
        let mut row = HashMap::new();
        let mut keys = Vec::new();
        let mut coefs: Vec<Vec<(usize, f64)>> = Vec::new();
        for (p, process) in model.processes.iter().enumerate() {
            for (key, per_run) in uses(process) {
                let r = *row.entry(key).or_insert_with(|| {
                    keys.push(key);
                    coefs.push(Vec::new());
                    keys.len() - 1
                });
                coefs[r].push((p, per_run));
            }
        }
        let rows = keys
            .iter()
            .zip(coefs)
            .map(|(&key, coefs)| Row {
                coefs: merge(coefs),
                lower: f64::NEG_INFINITY,
                upper: limit(key),
            })
            .collect();
        Limits { row, keys, rows }
    }
}

/// The linear program of a model, before any stage's objective: columns are process runs,
/// then route flows, then needs met; rows are the item balances, then the labour rows, then
/// the equipment rows.
struct Program {
    lp: Lp,
    /// Labour hours per unit of each column (processes' labour, routes' transport).
    hours: Vec<f64>,
    /// Row of each (item, place) balance.
    balance: HashMap<(ItemIx, PlaceIx), usize>,
    /// Each (skill, place) labour limit, numbered from the first labour row.
    labour: HashMap<(SkillIx, PlaceIx), usize>,
    /// Each piece of equipment's limit, numbered from the first equipment row.
    equipment: HashMap<EquipmentIx, usize>,
    /// The balance rows' keys, in row order.
    balance_keys: Vec<(ItemIx, PlaceIx)>,
    labour_keys: Vec<(SkillIx, PlaceIx)>,
    processes: usize,
    routes: usize,
}

impl Program {
    fn new(model: &Model) -> Program {
        let (processes, routes) = (model.processes.len(), model.routes.len());
        let mut balance_keys = Vec::new();
        let mut balance = HashMap::new();
        let mut row_of = |key: (ItemIx, PlaceIx)| {
            *balance.entry(key).or_insert_with(|| {
                balance_keys.push(key);
                balance_keys.len() - 1
            })
        };
        // A balance row for every (item, place) something draws on, makes or carries to;
        // stock alone needs none.
        let mut coefs: Vec<Vec<(usize, f64)>> = Vec::new();
        let add = |coefs: &mut Vec<Vec<(usize, f64)>>, row: usize, column: usize, a: f64| {
            if coefs.len() <= row {
                coefs.resize(row + 1, Vec::new());
            }
            coefs[row].push((column, a));
        };
        for (p, process) in model.processes.iter().enumerate() {
            for &(item, x) in &process.inputs {
                let row = row_of((item, process.place));
                add(&mut coefs, row, p, -x);
            }
        }
        for (r, route) in model.routes.iter().enumerate() {
            let row = row_of((route.item, route.from));
            add(&mut coefs, row, processes + r, -1.0);
        }
        for (n, need) in model.needs.iter().enumerate() {
            let row = row_of((need.item, need.place));
            add(&mut coefs, row, processes + routes + n, -1.0);
        }
        // Where things are only made or carried to, the row is there for its dual: the
        // labour one more unit would cost.
        for (p, process) in model.processes.iter().enumerate() {
            for &(item, x) in &process.outputs {
                let row = row_of((item, process.place));
                add(&mut coefs, row, p, x);
            }
        }
        for (r, route) in model.routes.iter().enumerate() {
            let row = row_of((route.item, route.to));
            add(&mut coefs, row, processes + r, 1.0);
        }
        coefs.resize(balance_keys.len(), Vec::new());
        let mut stock = vec![0.0; balance_keys.len()];
        for supply in &model.supplies {
            if let Some(&row) = balance.get(&(supply.item, supply.place)) {
                stock[row] += supply.quantity;
            }
        }
        let mut rows: Vec<Row> = coefs
            .into_iter()
            .zip(stock)
            .map(|(coefs, stock)| Row {
                coefs: merge(coefs),
                lower: -stock,
                upper: f64::INFINITY,
            })
            .collect();
        let offered = offered_hours(model);
        let labour = Limits::new(
            model,
            |process| {
                let place = process.place;
                process
                    .labour
                    .iter()
                    .map(|&(s, h)| ((s, place), h))
                    .collect()
            },
            |key| offered.get(&key).copied().unwrap_or(0.0),
        );
        let equipment = Limits::new(
            model,
            |process| process.equipment.clone(),
            |piece| model.equipment[piece].hours,
        );
        rows.extend(labour.rows);
        rows.extend(equipment.rows);
        let mut col_upper = Vec::with_capacity(processes + routes + model.needs.len());
        col_upper.extend(model.processes.iter().map(|p| p.capacity));
        col_upper.extend(
            model
                .routes
                .iter()
                .map(|r| r.capacity.unwrap_or(f64::INFINITY)),
        );
        col_upper.extend(model.needs.iter().map(|n| n.quantity));
        let col_lower = vec![0.0; col_upper.len()];
        let mut hours: Vec<f64> = model
            .processes
            .iter()
            .map(|p| p.labour.iter().map(|&(_, h)| h).sum())
            .collect();
        hours.extend(model.routes.iter().map(|r| r.hours_per_unit));
        hours.resize(col_upper.len(), 0.0);
        Program {
            lp: Lp {
                objective: vec![0.0; col_upper.len()],
                col_lower,
                col_upper,
                rows,
            },
            hours,
            balance,
            labour: labour.row,
            equipment: equipment.row,
            balance_keys,
            labour_keys: labour.keys,
            processes,
            routes,
        }
    }

    fn met_column(&self, need: usize) -> usize {
        self.processes + self.routes + need
    }

    /// Adds one class's fairness columns and rows to `lp` and returns the stage's goals, in
    /// order: each a set of weighted columns whose sum is maximised, then held.
    fn fairness(
        &self,
        model: &Model,
        lp: &mut Lp,
        needs: &[usize],
        rule: Fairness,
    ) -> Vec<Vec<(usize, f64)>> {
        // Receivers in order of first appearance, each with their needs and their total ask.
        let mut receivers: Vec<(Vec<usize>, f64)> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        for &n in needs {
            let need = &model.needs[n];
            let r = *index.entry(need.receiver.as_str()).or_insert_with(|| {
                receivers.push((Vec::new(), 0.0));
                receivers.len() - 1
            });
            receivers[r].0.push(n);
            receivers[r].1 += need.quantity;
        }
        let add_column = |lp: &mut Lp, upper: f64| {
            lp.col_lower.push(0.0);
            lp.col_upper.push(upper);
            lp.col_lower.len() - 1
        };
        let goals = match rule {
            Fairness::MaxMin => {
                let floor = add_column(lp, 1.0);
                let mut total = Vec::new();
                for (needs, demand) in &receivers {
                    let mut coefs: Vec<(usize, f64)> = needs
                        .iter()
                        .map(|&n| (self.met_column(n), 1.0 / demand))
                        .collect();
                    total.extend(coefs.iter().copied());
                    coefs.push((floor, -1.0));
                    lp.rows.push(Row {
                        coefs,
                        lower: 0.0,
                        upper: f64::INFINITY,
                    });
                }
                vec![vec![(floor, 1.0)], total]
            }
            Fairness::Proportional => {
                let mut goal = Vec::new();
                let segment = 1.0 / UTILITY_WEIGHTS.len() as f64;
                for (needs, demand) in &receivers {
                    let mut coefs: Vec<(usize, f64)> = needs
                        .iter()
                        .map(|&n| (self.met_column(n), 1.0 / demand))
                        .collect();
                    for weight in UTILITY_WEIGHTS {
                        let column = add_column(lp, segment);
                        goal.push((column, weight));
                        coefs.push((column, -1.0));
                    }
                    lp.rows.push(Row {
                        coefs,
                        lower: 0.0,
                        upper: f64::INFINITY,
                    });
                }
                vec![goal]
            }
        };
        lp.objective.resize(lp.col_lower.len(), 0.0);
        goals.into_iter().map(merge).collect()
    }
}

/// Sums the coefficients of repeated columns, so that a row names each column once.
fn merge(mut coefs: Vec<(usize, f64)>) -> Vec<(usize, f64)> {
    coefs.sort_by_key(|&(column, _)| column);
    let mut merged: Vec<(usize, f64)> = Vec::with_capacity(coefs.len());
    for (column, a) in coefs {
        match merged.last_mut() {
            Some(last) if last.0 == column => last.1 += a,
            _ => merged.push((column, a)),
        }
    }
    merged
}

impl Program {
    /// The plan's quantities from the last stage's solution.
    fn read(&self, solution: &LpSolution) -> Plan {
        let x = &solution.x;
        let (p, r) = (self.processes, self.routes);
        let needs = self.lp.col_upper.len() - p - r;
        Plan {
            runs: x[..p].to_vec(),
            flows: x[p..p + r].to_vec(),
            met: x[p + r..p + r + needs].to_vec(),
        }
    }

    /// One more unit of an item, in labour hours, where it is cheapest to have: the smallest
    /// dual of the item's balance rows (zero where stock is left over).
    fn item_hours(&self, model: &Model, solution: &LpSolution) -> Vec<f64> {
        let mut hours: Vec<Option<f64>> = vec![None; model.items.len()];
        for (row, &(item, _)) in self.balance_keys.iter().enumerate() {
            let dual = solution.row_duals[row].max(0.0);
            hours[item] = Some(hours[item].map_or(dual, |h: f64| h.min(dual)));
        }
        hours.into_iter().map(|h| h.unwrap_or(0.0)).collect()
    }

    /// Hours of the last stage's objective saved per extra hour of each skill, at the place
    /// where the skill is scarcest.
    fn skill_scarcity(&self, model: &Model, solution: &LpSolution) -> Vec<f64> {
        let mut scarcity = vec![0.0_f64; model.skills.len()];
        let first = self.balance_keys.len();
        for (row, &(skill, _)) in self.labour_keys.iter().enumerate() {
            scarcity[skill] = scarcity[skill].max(-solution.row_duals[first + row]);
        }
        scarcity
    }

    /// Which of the program's own rows are at their binding bound in the plan.
    fn binding(&self, plan: &Plan) -> Binding {
        let x: Vec<f64> = plan
            .runs
            .iter()
            .chain(&plan.flows)
            .chain(&plan.met)
            .copied()
            .collect();
        let at_bound = |row: &Row, upper: bool| {
            let activity: f64 = row.coefs.iter().map(|&(j, a)| a * x[j]).sum();
            let bound = if upper { row.upper } else { row.lower };
            (activity - bound).abs() <= FEASIBILITY * (1.0 + bound.abs())
        };
        let first = self.balance_keys.len();
        let equipment = first + self.labour_keys.len();
        let rows = &self.lp.rows;
        Binding {
            balance: rows[..first].iter().map(|r| at_bound(r, false)).collect(),
            labour: rows[first..equipment]
                .iter()
                .map(|r| at_bound(r, true))
                .collect(),
            equipment: rows[equipment..]
                .iter()
                .map(|r| at_bound(r, true))
                .collect(),
        }
    }
}

/// The program's rows that bind in a plan: balances at their stock, labour and equipment at
/// their hours.
struct Binding {
    balance: Vec<bool>,
    labour: Vec<bool>,
    equipment: Vec<bool>,
}

/// A plan's quantities: runs per process, flow per route, quantity met per need.
pub(crate) struct Plan {
    runs: Vec<f64>,
    flows: Vec<f64>,
    met: Vec<f64>,
}

impl Plan {
    /// Checks the plan against the model itself (not the program built from it): every
    /// quantity within its bounds, no item used beyond what is stocked, made or carried in, no
    /// skill worked beyond the hours offered, no equipment used beyond its free hours.
    fn check(&self, model: &Model) -> Result<(), PlanError> {
        let broken = |what: String| Err(PlanError::Infeasible(what));
        let within = |x: f64, upper: f64| {
            x.is_finite() && x >= -FEASIBILITY && x <= upper + FEASIBILITY * (1.0 + upper.abs())
        };
        for (p, process) in model.processes.iter().enumerate() {
            if !within(self.runs[p], process.capacity) {
                return broken(format!(
                    "process {} runs {} times",
                    process.name, self.runs[p]
                ));
            }
        }
        for (r, route) in model.routes.iter().enumerate() {
            if !within(self.flows[r], route.capacity.unwrap_or(f64::INFINITY)) {
                return broken(format!("route {r} carries {}", self.flows[r]));
            }
        }
        for (n, need) in model.needs.iter().enumerate() {
            if !within(self.met[n], need.quantity) {
                return broken(format!("need {} gets {}", need.id, self.met[n]));
            }
        }
        let places = model.places.len();
        let (have, take) = self.balances(model);
        for (k, (&have, &take)) in have.iter().zip(&take).enumerate() {
            if take > have + FEASIBILITY * (1.0 + have) {
                let (item, place) = (k / places, k % places);
                return broken(format!(
                    "{take} of {} taken at {} where there are {have}",
                    model.items[item].name, model.places[place]
                ));
            }
        }
        let mut worked: HashMap<(SkillIx, PlaceIx), f64> = HashMap::new();
        for (process, &runs) in model.processes.iter().zip(&self.runs) {
            for &(skill, h) in &process.labour {
                *worked.entry((skill, process.place)).or_insert(0.0) += h * runs;
            }
        }
        let offered = offered_hours(model);
        let mut over: Vec<(&(SkillIx, PlaceIx), &f64)> = worked
            .iter()
            .filter(|&(key, &hours)| {
                let limit = offered.get(key).copied().unwrap_or(0.0);
                hours > limit + FEASIBILITY * (1.0 + limit)
            })
            .collect();
        over.sort_by_key(|(key, _)| **key);
        if let Some(((skill, place), hours)) = over.first() {
            return broken(format!(
                "{hours} hours of {} worked at {}, more than offered",
                model.skills[*skill], model.places[*place]
            ));
        }
        for (equipment, used) in model.equipment.iter().zip(self.equipment_hours(model)) {
            if used > equipment.hours + FEASIBILITY * (1.0 + equipment.hours) {
                return broken(format!(
                    "{used} hours of {} used, more than its {} free",
                    equipment.name, equipment.hours
                ));
            }
        }
        Ok(())
    }

    /// Per (item, place), at `item * places + place`: what is there (stock, made, carried
    /// in) and what is taken (inputs, carried out, needs met).
    fn balances(&self, model: &Model) -> (Vec<f64>, Vec<f64>) {
        let places = model.places.len();
        let mut have = vec![0.0; model.items.len() * places];
        let mut take = vec![0.0; model.items.len() * places];
        for supply in &model.supplies {
            have[supply.item * places + supply.place] += supply.quantity;
        }
        for (process, &runs) in model.processes.iter().zip(&self.runs) {
            for &(item, x) in &process.outputs {
                have[item * places + process.place] += x * runs;
            }
            for &(item, x) in &process.inputs {
                take[item * places + process.place] += x * runs;
            }
        }
        for (route, &flow) in model.routes.iter().zip(&self.flows) {
            have[route.item * places + route.to] += flow;
            take[route.item * places + route.from] += flow;
        }
        for (need, &met) in model.needs.iter().zip(&self.met) {
            take[need.item * places + need.place] += met;
        }
        (have, take)
    }

    /// Per (item, place), at `item * places + place`: the stock the plan leaves unused, which
    /// could leave the council without changing anything else in the plan.
    pub(crate) fn leftover_stock(&self, model: &Model) -> Vec<f64> {
        let places = model.places.len();
        let mut stock = vec![0.0; model.items.len() * places];
        for supply in &model.supplies {
            stock[supply.item * places + supply.place] += supply.quantity;
        }
        let (have, take) = self.balances(model);
        stock
            .iter()
            .zip(have.iter().zip(&take))
            .map(|(&stock, (&have, &take))| stock.min(have - take).max(0.0))
            .collect()
    }

    fn skill_hours(&self, model: &Model) -> Vec<f64> {
        self.hours_used(model, model.skills.len(), |process| &process.labour)
    }

    fn equipment_hours(&self, model: &Model) -> Vec<f64> {
        self.hours_used(model, model.equipment.len(), |process| &process.equipment)
    }

    /// Hours the runs use of each of `keys` skills or pieces of equipment, from each process's
    /// hours per run (`per_run`).
    fn hours_used(
        &self,
        model: &Model,
        keys: usize,
        per_run: impl Fn(&Process) -> &[(usize, f64)],
    ) -> Vec<f64> {
        let mut hours = vec![0.0; keys];
        for (process, &runs) in model.processes.iter().zip(&self.runs) {
            for &(key, h) in per_run(process) {
                hours[key] += h * runs;
            }
        }
        hours
    }

    fn transport_hours(&self, model: &Model) -> f64 {
        model
            .routes
            .iter()
            .zip(&self.flows)
            .map(|(r, f)| r.hours_per_unit * f)
            .sum()
    }
}

/// Why need `n` is met only in part: walking back from the need through the routes that
/// carry its item and the processes that make it (and their inputs, and so on), the first
/// limit that binds in the plan; failing that, whether the item went to a higher class or was
/// shared in the need's own class. [`Shortfall::Input`] naming the need's own item means its
/// stock simply ran out with nobody else wanting it.
fn explain(
    model: &Model,
    program: &Program,
    reach: &Reach,
    plan: &Plan,
    binding: &Binding,
    n: usize,
) -> Shortfall {
    let need = &model.needs[n];
    if !reach.reaches(need.item, need.place) {
        return unreachable(model, reach, need.item);
    }
    let binds = |x: f64, limit: f64| x >= limit - FEASIBILITY * (1.0 + limit);
    let mut seen = vec![false; model.items.len() * model.places.len()];
    let mut queue = std::collections::VecDeque::from([(need.item, need.place)]);
    seen[need.item * model.places.len() + need.place] = true;
    while let Some((item, place)) = queue.pop_front() {
        let mut next = Vec::new();
        for (p, process) in model.processes.iter().enumerate() {
            if process.place != place || !process.outputs.iter().any(|&(i, x)| i == item && x > 0.0)
            {
                continue;
            }
            if binds(plan.runs[p], process.capacity) {
                return Shortfall::Capacity { process: p };
            }
            for &(skill, _) in &process.labour {
                if binding.labour[program.labour[&(skill, place)]] {
                    return Shortfall::Skill { skill };
                }
            }
            for &(equipment, _) in &process.equipment {
                if binding.equipment[program.equipment[&equipment]] {
                    return Shortfall::Equipment { equipment };
                }
            }
            for &(input, _) in &process.inputs {
                if binding.balance[program.balance[&(input, place)]] {
                    return Shortfall::Input { item: input };
                }
                next.push((input, place));
            }
        }
        for (r, route) in model.routes.iter().enumerate() {
            if route.item != item || route.to != place {
                continue;
            }
            if route.capacity.is_some_and(|c| binds(plan.flows[r], c)) {
                return Shortfall::Route { route: r };
            }
            next.push((item, route.from));
        }
        for (item, place) in next {
            let k = item * model.places.len() + place;
            if !seen[k] {
                seen[k] = true;
                queue.push_back((item, place));
            }
        }
    }
    let served = |m: usize| {
        let other = &model.needs[m];
        m != n && other.item == need.item && plan.met[m] > FEASIBILITY
    };
    if (0..model.needs.len()).any(|m| served(m) && model.needs[m].urgency < need.urgency) {
        Shortfall::TakenByHigherClass
    } else if (0..model.needs.len()).any(|m| {
        served(m)
            && model.needs[m].urgency == need.urgency
            && model.needs[m].receiver != need.receiver
    }) {
        Shortfall::SharedFairly
    } else {
        Shortfall::Input { item: need.item }
    }
}

/// Why nothing can bring `item` anywhere near: the first process making it that cannot run,
/// and what it lacks.
fn unreachable(model: &Model, reach: &Reach, item: ItemIx) -> Shortfall {
    let offered = offered_hours(model);
    for (p, process) in model.processes.iter().enumerate() {
        if !process.outputs.iter().any(|&(i, x)| i == item && x > 0.0) {
            continue;
        }
        if let Some(&(skill, _)) = process.labour.iter().find(|&&(skill, h)| {
            h > 0.0
                && !offered
                    .get(&(skill, process.place))
                    .is_some_and(|&o| o > 0.0)
        }) {
            return Shortfall::Skill { skill };
        }
        if let Some(&(equipment, _)) = process
            .equipment
            .iter()
            .find(|&&(piece, h)| h > 0.0 && model.equipment[piece].hours <= 0.0)
        {
            return Shortfall::Equipment { equipment };
        }
        if let Some(&(input, _)) = process
            .inputs
            .iter()
            .find(|&&(input, x)| x > 0.0 && !reach.reaches(input, process.place))
        {
            return Shortfall::Input { item: input };
        }
        if process.capacity == 0.0 {
            return Shortfall::Capacity { process: p };
        }
    }
    Shortfall::Unreachable
}

/// One lot of an item at a place: where it came from, how much is left, and the transport
/// hours per unit it has gathered on the way.
struct Lot {
    source: Source,
    quantity: f64,
    hours_per_unit: f64,
}

/// Traces the plan's flows back to sources: each item's lots (stock, and what processes made)
/// move along the routes as far as the plan carries them, processes take their inputs, and
/// needs take what is left, first come first served. Any split that honours the flows is as
/// true as another; this one is simple and deterministic.
fn deliveries(model: &Model, plan: &Plan) -> Vec<Delivery> {
    let places = model.places.len();
    let mut pools: Vec<Vec<Lot>> = Vec::new();
    pools.resize_with(model.items.len() * places, Vec::new);
    for (s, supply) in model.supplies.iter().enumerate() {
        pools[supply.item * places + supply.place].push(Lot {
            source: Source::Supply(s),
            quantity: supply.quantity,
            hours_per_unit: 0.0,
        });
    }
    for (p, process) in model.processes.iter().enumerate() {
        for &(item, x) in &process.outputs {
            if plan.runs[p] * x > 0.0 {
                pools[item * places + process.place].push(Lot {
                    source: Source::Process(p),
                    quantity: plan.runs[p] * x,
                    hours_per_unit: 0.0,
                });
            }
        }
    }
    // Routes move lots in passes, so that what arrives at a place can move on in the next.
    let mut left = plan.flows.clone();
    for _ in 0..=places {
        let mut moved = false;
        for (r, route) in model.routes.iter().enumerate() {
            if left[r] <= FEASIBILITY {
                continue;
            }
            let taken = take(&mut pools[route.item * places + route.from], left[r]);
            for mut lot in taken {
                left[r] -= lot.quantity;
                lot.hours_per_unit += route.hours_per_unit;
                pools[route.item * places + route.to].push(lot);
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    for (process, &runs) in model.processes.iter().zip(&plan.runs) {
        for &(item, x) in &process.inputs {
            take(&mut pools[item * places + process.place], x * runs);
        }
    }
    let mut deliveries = Vec::new();
    for (n, need) in model.needs.iter().enumerate() {
        for lot in take(&mut pools[need.item * places + need.place], plan.met[n]) {
            deliveries.push(Delivery {
                need: n,
                source: lot.source,
                quantity: lot.quantity,
                hours: lot.quantity * lot.hours_per_unit,
            });
        }
    }
    deliveries
}

/// Takes up to `quantity` from the front of a pool.
fn take(pool: &mut Vec<Lot>, mut quantity: f64) -> Vec<Lot> {
    let mut taken = Vec::new();
    while quantity > FEASIBILITY {
        let Some(lot) = pool.first_mut() else { break };
        let part = lot.quantity.min(quantity);
        quantity -= part;
        lot.quantity -= part;
        taken.push(Lot {
            source: lot.source,
            quantity: part,
            hours_per_unit: lot.hours_per_unit,
        });
        if lot.quantity <= FEASIBILITY {
            pool.remove(0);
        }
    }
    taken
}
