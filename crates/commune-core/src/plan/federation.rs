//! Plans across a federation's councils, by decomposition: never one program over everything.
//!
//! Each council's part is drawn on its own with [`draft`](super::draft)'s stages; the councils
//! are coordinated only through what crosses their boundaries, along [`Link`]s:
//!
//! 1. Every council plans alone and posts its deficits (needs left short, by class, where a
//!    link arrives) and its surplus (stock its plan leaves unused where a link leaves).
//! 2. **Stock round.** A small boundary program moves surplus to deficits over the links:
//!    vital deficits first (by weight), then important, then wanted, the fewest transport hours
//!    among equals. The stock shipped leaves its council's model (its plan stays feasible:
//!    the stock was unused) and arrives in the other as a supply; both plan again.
//! 3. **Made-to-order rounds** (at most [`ORDER_ROUNDS`]). With the deficits left, the boundary
//!    program prices each link by its transport hours plus the exporting council's labour-hour
//!    cost of the item (the dual of its own last stage), and places orders with councils that
//!    make or stock the item where the link leaves. An order enters the exporter's model as a
//!    need of the class it serves, received by the importing council: the exporter's own
//!    stages decide how much it can give without taking from its own needs of a higher class
//!    (a vital order may take what the exporter's wanted needs would have had), and share it
//!    fairly within the class. What it meets is shipped (an exporter that meets an order only
//!    in part gets no more orders on that link) and arrives as a supply. Councils plan
//!    again in an order where exporters come before their importers (orders that would close a
//!    cycle between councils are not placed, so that such an order exists).
//!
//! Every council's draft is checked against its own model with its imports, exports and orders,
//! and every link's flow against its capacity. Limits: a deficit is counted at a link's arrival
//! place when the need is there or one direct route away; the boundary program weighs classes
//! rather than solving them in stages; a council's labour-hour price is marginal, so an order
//! may be met only in part (the rounds then look again); the result is feasible and puts vital
//! needs first across councils, but it is not the optimum of one program over the federation.

use super::production::{self, Plan};
use super::{
    Draft, ItemIx, Lp, LpSolver, Model, Need, PlaceIx, PlanError, Row, Settings, Supply, Urgency,
};

/// Made-to-order rounds after the stock round.
pub const ORDER_ROUNDS: usize = 3;
/// Quantities below this are not shipped (the stages' own rounding is far below it).
const SMALLEST: f64 = 1e-4;

/// A member council's register as a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Council {
    pub name: String,
    pub model: Model,
}

/// A way to move one item from a place of one council to a place of another.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// The item's name, the same (with the same unit) in both councils' catalogues.
    pub item: String,
    /// (council index, place in that council's model).
    pub from: (usize, PlaceIx),
    pub to: (usize, PlaceIx),
    pub hours_per_unit: f64,
    pub capacity: Option<f64>,
}

/// What one council plans, in the federation's plan.
#[derive(Debug, Clone, PartialEq)]
pub struct CouncilPlan {
    pub name: String,
    /// The council's model as planned: stock shipped out is taken off its supplies, imports
    /// are supplies (id `import by link L`), orders from other councils are needs (id
    /// `order on link L`, received by the importing council).
    pub model: Model,
    pub draft: Draft,
}

/// What crosses one link.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// An index into the links.
    pub link: usize,
    /// Stock the exporting council's plan left unused.
    pub from_stock: f64,
    /// Made to order by the exporting council.
    pub made: f64,
    /// Transport hours on the link.
    pub hours: f64,
}

/// A federation's plan: each council's own, and the flows between them.
#[derive(Debug, Clone, PartialEq)]
pub struct FederatedPlan {
    pub councils: Vec<CouncilPlan>,
    /// Links that carry anything.
    pub flows: Vec<Flow>,
    /// Boundary rounds run (the stock round included).
    pub rounds: usize,
}

/// An order placed on a link: so much of the item, for needs of one class.
struct Order {
    link: usize,
    quantity: f64,
    urgency: Urgency,
}

/// A council during planning: its own model, what crosses its boundary so far, and its latest
/// plan.
struct Member<'a> {
    base: &'a Model,
    /// Stock shipped out, per link leaving it.
    shipped: Vec<(usize, f64)>,
    /// Orders placed with it.
    orders: Vec<Order>,
    /// (link, from stock, made) arriving.
    imports: Vec<(usize, f64, f64)>,
    model: Model,
    draft: Draft,
    plan: Plan,
}

/// Plans a federation by decomposition (see the module's documentation).
pub fn plan(
    councils: &[Council],
    links: &[Link],
    settings: &Settings,
    solver: &dyn LpSolver,
) -> Result<FederatedPlan, PlanError> {
    let items = resolve(councils, links)?;
    let mut members = Vec::with_capacity(councils.len());
    for council in councils {
        let (draft, plan) = production::solve(&council.model, settings, solver)
            .map_err(|e| in_council(&council.name, e))?;
        members.push(Member {
            base: &council.model,
            shipped: Vec::new(),
            orders: Vec::new(),
            imports: Vec::new(),
            model: council.model.clone(),
            draft,
            plan,
        });
    }
    let mut rounds = 0;
    // The stock round.
    let stock = boundary(&members, links, &items, solver, Boundary::Stock)?;
    if stock.iter().any(|&(_, _, q)| q > SMALLEST) {
        rounds += 1;
        let mut dirty = vec![false; members.len()];
        for (l, _, quantity) in stock {
            let link = &links[l];
            members[link.from.0].shipped.push((l, quantity));
            members[link.to.0].imports.push((l, quantity, 0.0));
            dirty[link.from.0] = true;
            dirty[link.to.0] = true;
        }
        replan(
            &mut members,
            councils,
            links,
            &items,
            settings,
            solver,
            dirty,
        )?;
    }
    // Made-to-order rounds; `ordering[a][b]`: council a has orders from council b.
    let mut ordering = vec![Vec::<usize>::new(); members.len()];
    for _ in 0..ORDER_ROUNDS {
        let orders = boundary(&members, links, &items, solver, Boundary::Order)?;
        let mut dirty = vec![false; members.len()];
        for (l, urgency, quantity) in orders {
            let (a, b) = (links[l].from.0, links[l].to.0);
            if !ordering[a].contains(&b) {
                if reaches(&ordering, b, a) {
                    continue;
                }
                ordering[a].push(b);
            }
            members[a].orders.push(Order {
                link: l,
                quantity,
                urgency,
            });
            dirty[a] = true;
        }
        if !dirty.contains(&true) {
            break;
        }
        rounds += 1;
        replan(
            &mut members,
            councils,
            links,
            &items,
            settings,
            solver,
            dirty,
        )?;
    }
    let mut flows: Vec<Flow> = Vec::new();
    for member in &members {
        for &(l, from_stock, made) in &member.imports {
            match flows.iter_mut().find(|f| f.link == l) {
                Some(flow) => {
                    flow.from_stock += from_stock;
                    flow.made += made;
                }
                None => flows.push(Flow {
                    link: l,
                    from_stock,
                    made,
                    hours: 0.0,
                }),
            }
        }
    }
    // An order its exporter could not meet at all leaves an empty import behind: no flow.
    flows.retain(|f| f.from_stock + f.made > SMALLEST);
    flows.sort_by_key(|f| f.link);
    for flow in &mut flows {
        let link = &links[flow.link];
        let total = flow.from_stock + flow.made;
        flow.hours = total * link.hours_per_unit;
        let capacity = link.capacity.unwrap_or(f64::INFINITY);
        if total > capacity + 1e-6 * (1.0 + capacity) {
            return Err(PlanError::Infeasible(format!(
                "link {} carries {total} of {}, more than its capacity {capacity}",
                flow.link, link.item
            )));
        }
    }
    Ok(FederatedPlan {
        councils: members
            .into_iter()
            .zip(councils)
            .map(|(member, council)| CouncilPlan {
                name: council.name.clone(),
                model: member.model,
                draft: member.draft,
            })
            .collect(),
        flows,
        rounds,
    })
}

fn in_council(name: &str, error: PlanError) -> PlanError {
    match error {
        PlanError::Model(why) => PlanError::Model(format!("council {name}: {why}")),
        PlanError::Infeasible(why) => PlanError::Infeasible(format!("council {name}: {why}")),
        other => other,
    }
}

/// Each link's item in the exporting and the importing council's catalogue; refuses links
/// that name unknown councils, places or items, or absurd costs.
fn resolve(councils: &[Council], links: &[Link]) -> Result<Vec<(ItemIx, ItemIx)>, PlanError> {
    let find = |(c, place): (usize, PlaceIx), name: &str| -> Option<(ItemIx, &str)> {
        let model = &councils.get(c)?.model;
        if place >= model.places.len() {
            return None;
        }
        let i = model.items.iter().position(|item| item.name == name)?;
        Some((i, model.items[i].unit.as_str()))
    };
    links
        .iter()
        .enumerate()
        .map(|(l, link)| {
            let bad = |why: &str| PlanError::Model(format!("link {l} ({}): {why}", link.item));
            let from = find(link.from, &link.item)
                .ok_or_else(|| bad("unknown council, place or item where it leaves"))?;
            let to = find(link.to, &link.item)
                .ok_or_else(|| bad("unknown council, place or item where it arrives"))?;
            if from.1 != to.1 {
                return Err(bad("the councils count the item in different units"));
            }
            if link.from.0 == link.to.0 {
                return Err(bad("a link joins two councils; within one, use a route"));
            }
            let amount = |x: f64| x.is_finite() && x >= 0.0;
            if !amount(link.hours_per_unit) || link.capacity.is_some_and(|c| !amount(c)) {
                return Err(bad("negative or absurd hours or capacity"));
            }
            Ok((from.0, to.0))
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Boundary {
    /// Ship stock the exporters' plans leave unused.
    Stock,
    /// Order from councils with a process making the item, priced by their labour hours.
    Order,
}

/// The boundary program of one round: per link and class, how much to send, returned as
/// (link, class, quantity) for the quantities worth sending.
fn boundary(
    members: &[Member],
    links: &[Link],
    items: &[(ItemIx, ItemIx)],
    solver: &dyn LpSolver,
    kind: Boundary,
) -> Result<Vec<(usize, Urgency, f64)>, PlanError> {
    let longest = links.iter().map(|l| l.hours_per_unit).fold(0.0, f64::max);
    let mut lp = Lp::default();
    let mut columns: Vec<(usize, Urgency)> = Vec::new();
    // Rows keyed by what they limit: a deficit (council, item, place, class), a source
    // (council, item, place), a link.
    let mut deficit_rows: Vec<((usize, ItemIx, PlaceIx, Urgency), usize)> = Vec::new();
    let mut source_rows: Vec<((usize, ItemIx, PlaceIx), usize)> = Vec::new();
    let leftovers: Vec<Option<Vec<f64>>> = members
        .iter()
        .map(|m| (kind == Boundary::Stock).then(|| m.plan.leftover_stock(&m.model)))
        .collect();
    for (l, link) in links.iter().enumerate() {
        let (from_item, to_item) = items[l];
        let (a, from_place) = link.from;
        let (b, to_place) = link.to;
        let exporter = &members[a];
        let (price, room) = match kind {
            Boundary::Stock => {
                let places = exporter.model.places.len();
                let left = leftovers[a]
                    .as_ref()
                    .map_or(0.0, |v| v[from_item * places + from_place]);
                (0.0, left)
            }
            Boundary::Order => {
                // A council that makes or stocks the item can take an order: its own stages
                // weigh it against its own needs by class.
                let makes = exporter.base.processes.iter().any(|p| {
                    p.place == from_place
                        && p.outputs.iter().any(|&(i, x)| i == from_item && x > 0.0)
                });
                let stocks = exporter
                    .base
                    .supplies
                    .iter()
                    .any(|s| s.place == from_place && s.item == from_item && s.quantity > 0.0);
                let price = exporter
                    .draft
                    .item_hours
                    .get(from_item)
                    .copied()
                    .unwrap_or(0.0);
                // An exporter that met its last orders on this link only in part has shown
                // its limit: no more orders there.
                let own = exporter.base.needs.len();
                let fell_short = exporter.orders.iter().enumerate().any(|(k, order)| {
                    order.link == l
                        && exporter.draft.met[own + k].quantity < order.quantity - SMALLEST
                });
                let open = (makes || stocks) && !fell_short;
                (price, if open { f64::INFINITY } else { 0.0 })
            }
        };
        let used: f64 = members[b]
            .imports
            .iter()
            .filter(|i| i.0 == l)
            .map(|i| i.1)
            .sum::<f64>()
            + exporter
                .orders
                .iter()
                .filter(|o| o.link == l)
                .map(|o| o.quantity)
                .sum::<f64>();
        let capacity = link.capacity.map_or(f64::INFINITY, |c| (c - used).max(0.0));
        if room <= SMALLEST || capacity <= SMALLEST {
            continue;
        }
        let mut link_columns = Vec::new();
        for urgency in Urgency::ALL {
            let short = shortfall(&members[b], to_item, to_place, urgency);
            if short <= SMALLEST {
                continue;
            }
            let weight = (1.0 + longest + price) * [1e4, 1e2, 1.0][urgency as usize];
            let column = lp.objective.len();
            lp.objective.push(link.hours_per_unit + price - weight);
            lp.col_lower.push(0.0);
            lp.col_upper.push(short);
            columns.push((l, urgency));
            link_columns.push(column);
            let key = (b, to_item, to_place, urgency);
            let row = match deficit_rows.iter().find(|(k, _)| *k == key) {
                Some(&(_, row)) => row,
                None => {
                    lp.rows.push(Row {
                        coefs: Vec::new(),
                        lower: f64::NEG_INFINITY,
                        upper: short,
                    });
                    deficit_rows.push((key, lp.rows.len() - 1));
                    lp.rows.len() - 1
                }
            };
            lp.rows[row].coefs.push((column, 1.0));
        }
        if link_columns.is_empty() {
            continue;
        }
        let ones = || link_columns.iter().map(|&c| (c, 1.0)).collect::<Vec<_>>();
        if capacity.is_finite() {
            lp.rows.push(Row {
                coefs: ones(),
                lower: f64::NEG_INFINITY,
                upper: capacity,
            });
        }
        if room.is_finite() {
            let key = (a, from_item, from_place);
            match source_rows.iter().find(|(k, _)| *k == key) {
                Some(&(_, row)) => lp.rows[row].coefs.extend(ones()),
                None => {
                    lp.rows.push(Row {
                        coefs: ones(),
                        lower: f64::NEG_INFINITY,
                        upper: room,
                    });
                    source_rows.push((key, lp.rows.len() - 1));
                }
            }
        }
    }
    if columns.is_empty() {
        return Ok(Vec::new());
    }
    let solution = solver.solve(&lp)?;
    Ok(columns
        .into_iter()
        .zip(solution.x)
        .filter(|&(_, x)| x > SMALLEST)
        .map(|((l, urgency), x)| (l, urgency, x))
        .collect())
}

/// What a council's own needs of one class and item still lack, counting the needs at `place`
/// and one direct route away from it.
fn shortfall(member: &Member, item: ItemIx, place: PlaceIx, urgency: Urgency) -> f64 {
    let model = member.base;
    let near = |at: PlaceIx| {
        at == place
            || model
                .routes
                .iter()
                .any(|r| r.item == item && r.from == place && r.to == at && r.capacity != Some(0.0))
    };
    model
        .needs
        .iter()
        .zip(&member.draft.met)
        .filter(|(need, _)| need.item == item && need.urgency == urgency && near(need.place))
        .map(|(need, met)| (need.quantity - met.quantity).max(0.0))
        .sum()
}

/// Whether `to` can be reached from `from` along the order graph.
fn reaches(ordering: &[Vec<usize>], from: usize, to: usize) -> bool {
    let mut seen = vec![false; ordering.len()];
    let mut stack = vec![from];
    while let Some(c) = stack.pop() {
        if c == to {
            return true;
        }
        if !std::mem::replace(&mut seen[c], true) {
            stack.extend(&ordering[c]);
        }
    }
    false
}

/// Plans again every council marked, exporters before their importers: an importer's supply
/// from an order is what its exporter's fresh plan meets of it.
fn replan(
    members: &mut [Member],
    councils: &[Council],
    links: &[Link],
    items: &[(ItemIx, ItemIx)],
    settings: &Settings,
    solver: &dyn LpSolver,
    mut dirty: Vec<bool>,
) -> Result<(), PlanError> {
    // Kahn's order over the orders between councils (which form no cycle).
    let mut waiting = vec![0; members.len()];
    for member in members.iter() {
        for order in &member.orders {
            waiting[links[order.link].to.0] += 1;
        }
    }
    let mut ready: Vec<usize> = (0..members.len()).filter(|&c| waiting[c] == 0).collect();
    ready.reverse();
    while let Some(c) = ready.pop() {
        if dirty[c] {
            let member = &mut members[c];
            member.model = assemble(member, links, items, councils);
            let (draft, plan) = production::solve(&member.model, settings, solver)
                .map_err(|e| in_council(&councils[c].name, e))?;
            member.draft = draft;
            member.plan = plan;
        }
        // What this council now makes for each order, delivered to its importers.
        let base_needs = members[c].base.needs.len();
        let made: Vec<(usize, f64)> = members[c]
            .orders
            .iter()
            .enumerate()
            .map(|(k, order)| (order.link, members[c].draft.met[base_needs + k].quantity))
            .collect();
        let mut next = Vec::new();
        for (l, quantity) in made {
            let b = links[l].to.0;
            let import = match members[b].imports.iter_mut().find(|i| i.0 == l) {
                Some(import) => import,
                None => {
                    members[b].imports.push((l, 0.0, 0.0));
                    members[b].imports.last_mut().expect("just pushed")
                }
            };
            // Several orders on one link add up: reset on the first, then add.
            if !next.contains(&l) {
                if import.2 != quantity {
                    dirty[b] = true;
                }
                import.2 = 0.0;
                next.push(l);
            }
            import.2 += quantity;
            waiting[b] -= 1;
            if waiting[b] == 0 {
                ready.insert(0, b);
            }
        }
    }
    Ok(())
}

/// A council's model with what crosses its boundary: stock shipped out taken off its supplies,
/// orders as needs, imports as supplies.
fn assemble(
    member: &Member,
    links: &[Link],
    items: &[(ItemIx, ItemIx)],
    councils: &[Council],
) -> Model {
    let mut model = member.base.clone();
    for &(l, quantity) in &member.shipped {
        let (item, place) = (items[l].0, links[l].from.1);
        let mut left = quantity;
        for supply in model.supplies.iter_mut() {
            if supply.item == item && supply.place == place && left > 0.0 {
                let part = supply.quantity.min(left);
                supply.quantity -= part;
                left -= part;
            }
        }
    }
    for order in &member.orders {
        let link = &links[order.link];
        model.needs.push(Need {
            id: format!("order on link {}", order.link),
            item: items[order.link].0,
            quantity: order.quantity,
            place: link.from.1,
            urgency: order.urgency,
            receiver: councils[link.to.0].name.clone(),
        });
    }
    for &(l, from_stock, made) in &member.imports {
        model.supplies.push(Supply {
            id: format!("import by link {l}"),
            item: items[l].1,
            quantity: from_stock + made,
            place: links[l].to.1,
        });
    }
    model
}
