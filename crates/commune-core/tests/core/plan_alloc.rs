//! Allocation rounds and labour costs: scenarios, and property tests against independent
//! oracles (brute force over integer deliveries with Gale and Hoffman's feasibility
//! condition, a negative-cycle search for least transport, Gaussian elimination for costs).

use commune_core::plan::alloc::allocate_on;
use commune_core::plan::generate;
use commune_core::plan::labour::InputOutput;
use commune_core::plan::{
    Fairness, Item, Model, Need, PlanError, Process, Route, Settings, Shortfall, Source, Supply,
    Urgency, allocate, allocate_routed,
};
use expect_test::{Expect, expect};
use proptest::prelude::*;

/// A model of one item over `places` named places.
fn world(places: &[&str]) -> Model {
    Model {
        items: vec![Item {
            name: "water".into(),
            unit: "l".into(),
        }],
        places: places.iter().map(|p| p.to_string()).collect(),
        ..Model::default()
    }
}

fn need(model: &mut Model, place: usize, quantity: f64, urgency: Urgency, receiver: &str) {
    let id = format!("n{}", model.needs.len());
    model.needs.push(Need {
        id,
        item: 0,
        quantity,
        place,
        urgency,
        receiver: receiver.into(),
    });
}

fn supply(model: &mut Model, place: usize, quantity: f64) {
    let id = format!("s{}", model.supplies.len());
    model.supplies.push(Supply {
        id,
        item: 0,
        quantity,
        place,
    });
}

fn route(model: &mut Model, from: usize, to: usize, hours: f64, capacity: Option<f64>) {
    model.routes.push(Route {
        item: 0,
        from,
        to,
        hours_per_unit: hours,
        capacity,
    });
}

fn settings(fairness: Fairness) -> Settings {
    Settings {
        fairness,
        ..Settings::default()
    }
}

/// One line per need: who, class, met of asked, and why not all.
fn check(model: &Model, fairness: Fairness, expect: Expect) {
    let routed = allocate_routed(model, &settings(fairness)).unwrap();
    let draft = &routed.draft;
    let mut out = String::new();
    for met in &draft.met {
        let need = &model.needs[met.need];
        out.push_str(&format!(
            "{} {} {} at {}: {:.4} of {}{}\n",
            need.id,
            need.receiver,
            need.urgency.name(),
            model.places[need.place],
            met.quantity,
            need.quantity,
            met.shortfall
                .as_ref()
                .map(|s| format!(" ({s:?})"))
                .unwrap_or_default()
        ));
    }
    let routes: Vec<String> = routed
        .route_flow
        .iter()
        .map(|f| format!("{f:.4}"))
        .collect();
    out.push_str(&format!(
        "transport {:.4} h; routes {}\n",
        draft.transport_hours,
        routes.join(", ")
    ));
    expect.assert_eq(&out);
}

#[test]
fn vital_needs_are_met_before_important_ones() {
    let mut model = world(&["depot", "school"]);
    supply(&mut model, 0, 10.0);
    need(&mut model, 0, 8.0, Urgency::Important, "bob");
    need(&mut model, 1, 6.0, Urgency::Vital, "alice");
    need(&mut model, 0, 3.0, Urgency::Wanted, "carol");
    route(&mut model, 0, 1, 0.5, None);
    check(
        &model,
        Fairness::MaxMin,
        expect![[r#"
            n0 bob important at depot: 4.0000 of 8 (TakenByHigherClass)
            n1 alice vital at school: 6.0000 of 6
            n2 carol wanted at depot: 0.0000 of 3 (TakenByHigherClass)
            transport 3.0000 h; routes 6.0000
        "#]],
    );
}

/// Twelve litres at the depot. Alice posts five needs of 4 there, Bob one of 4 a paid route
/// away, Carol one of 4 behind a route that carries 1.
fn crowded() -> Model {
    let mut model = world(&["depot", "flats", "farm"]);
    supply(&mut model, 0, 12.0);
    for _ in 0..5 {
        need(&mut model, 0, 4.0, Urgency::Vital, "alice");
    }
    need(&mut model, 1, 4.0, Urgency::Vital, "bob");
    need(&mut model, 2, 4.0, Urgency::Vital, "carol");
    route(&mut model, 0, 1, 1.0, None);
    route(&mut model, 0, 2, 0.0, Some(1.0));
    model
}

#[test]
fn scarce_stock_is_shared_max_min_among_receivers() {
    // Carol can have a quarter at most; Alice and Bob then share the other 11 litres by the
    // same fraction (11/24 each), however many needs Alice posts.
    check(
        &crowded(),
        Fairness::MaxMin,
        expect![[r#"
            n0 alice vital at depot: 4.0000 of 4
            n1 alice vital at depot: 4.0000 of 4
            n2 alice vital at depot: 1.1667 of 4 (SharedFairly)
            n3 alice vital at depot: 0.0000 of 4 (SharedFairly)
            n4 alice vital at depot: 0.0000 of 4 (SharedFairly)
            n5 bob vital at flats: 1.8333 of 4 (SharedFairly)
            n6 carol vital at farm: 1.0000 of 4 (Route { route: 1 })
            transport 1.8333 h; routes 1.8333, 1.0000
        "#]],
    );
    let draft = allocate(&crowded(), &settings(Fairness::MaxMin)).unwrap();
    let alice: f64 = draft.met[..5].iter().map(|m| m.quantity).sum();
    assert!((alice / 20.0 - draft.met[5].quantity / 4.0).abs() < 1e-9);
}

#[test]
fn scarce_stock_is_shared_proportionally_then_by_least_transport() {
    // Everyone gets a quarter (what Carol's route allows); the other 5 litres go where they
    // cost no transport, to Alice.
    check(
        &crowded(),
        Fairness::Proportional,
        expect![[r#"
            n0 alice vital at depot: 4.0000 of 4
            n1 alice vital at depot: 4.0000 of 4
            n2 alice vital at depot: 2.0000 of 4 (SharedFairly)
            n3 alice vital at depot: 0.0000 of 4 (SharedFairly)
            n4 alice vital at depot: 0.0000 of 4 (SharedFairly)
            n5 bob vital at flats: 1.0000 of 4 (SharedFairly)
            n6 carol vital at farm: 1.0000 of 4 (Route { route: 1 })
            transport 1.0000 h; routes 1.0000, 1.0000
        "#]],
    );
}

#[test]
fn route_capacity_is_kept_and_the_dearer_way_takes_the_rest() {
    let mut model = world(&["well", "village", "ford"]);
    supply(&mut model, 0, 10.0);
    need(&mut model, 1, 10.0, Urgency::Vital, "village");
    route(&mut model, 0, 1, 1.0, Some(3.0));
    route(&mut model, 0, 2, 2.0, None);
    route(&mut model, 2, 1, 2.0, Some(5.0));
    check(
        &model,
        Fairness::MaxMin,
        expect![[r#"
            n0 village vital at village: 8.0000 of 10 (Route { route: 0 })
            transport 23.0000 h; routes 3.0000, 5.0000, 5.0000
        "#]],
    );
}

#[test]
fn an_unreachable_need_is_explained() {
    let mut model = world(&["depot", "island", "hill"]);
    supply(&mut model, 0, 5.0);
    need(&mut model, 1, 2.0, Urgency::Vital, "alice");
    need(&mut model, 2, 2.0, Urgency::Wanted, "bob");
    route(&mut model, 0, 2, 1.0, None);
    route(&mut model, 1, 0, 1.0, None);
    check(
        &model,
        Fairness::Proportional,
        expect![[r#"
            n0 alice vital at island: 0.0000 of 2 (Unreachable)
            n1 bob wanted at hill: 2.0000 of 2
            transport 2.0000 h; routes 2.0000, 0.0000
        "#]],
    );
}

#[test]
fn bad_models_are_refused() {
    let mut good = world(&["a", "b"]);
    supply(&mut good, 0, 1.0);
    need(&mut good, 1, 1.0, Urgency::Vital, "x");
    route(&mut good, 0, 1, 1.0, Some(1.0));
    assert!(allocate(&good, &Settings::default()).is_ok());
    let mut bad: Vec<(Model, &str)> = Vec::new();
    let mut m = good.clone();
    m.needs[0].quantity = -1.0;
    bad.push((m, "the quantity of need 0 (n0) is -1"));
    let mut m = good.clone();
    m.supplies[0].quantity = f64::NAN;
    bad.push((m, "the quantity of supply 0 (s0) is NaN"));
    let mut m = good.clone();
    m.routes[0].to = 7;
    bad.push((m, "route 0 names place 7, but there are only 2"));
    let mut m = good.clone();
    m.needs[0].item = 1;
    bad.push((m, "need 0 (n0) names item 1, but there are only 1"));
    let mut m = good.clone();
    m.routes[0].capacity = Some(f64::INFINITY);
    bad.push((m, "the capacity of route 0 is inf"));
    let mut m = good.clone();
    m.supplies[0].quantity = 1e20;
    bad.push((
        m,
        "the quantity of supply 0 (s0) is 100000000000000000000, not a quantity",
    ));
    let mut m = good.clone();
    m.processes.push(Process {
        id: "p".into(),
        name: "kitchen".into(),
        place: 0,
        outputs: vec![(0, 1.0)],
        inputs: vec![],
        labour: vec![],
        equipment: vec![],
        capacity: 1.0,
    });
    bad.push((m, "needs the production planner"));
    for (model, says) in bad {
        match allocate(&model, &Settings::default()) {
            Err(PlanError::Model(message)) => assert!(message.contains(says), "{message}"),
            other => panic!("{says}: {other:?}"),
        }
    }
}

#[test]
fn threads_give_the_same_draft_as_one() {
    // Enough items for several threads, listed backwards so that no item's needs, supplies
    // or routes are in the model's order.
    let mut model = generate::allocation_model(3_000, 7);
    model.needs.reverse();
    model.supplies.reverse();
    model.routes.reverse();
    for fairness in [Fairness::MaxMin, Fairness::Proportional] {
        let settings = settings(fairness);
        let one = allocate_on(&model, &settings, 1).unwrap();
        assert!(one.draft.met.iter().any(|m| m.shortfall.is_some()));
        assert!(one.draft.met.iter().any(|m| m.quantity > 0.0));
        for threads in [2, 3, 8] {
            let many = allocate_on(&model, &settings, threads).unwrap();
            // Bit for bit: `==` on floats would let 0.0 and -0.0 pass.
            assert_eq!(format!("{many:?}"), format!("{one:?}"), "{threads} threads");
        }
    }
}

/// A random small model of up to two items with integer quantities and capacities.
fn small_model() -> impl Strategy<Value = Model> {
    let need = (0usize..2, 0usize..4, 1u32..4, 0usize..3, 0usize..3);
    let supply = (0usize..2, 0usize..4, 0u32..5);
    let route = (
        0usize..2,
        0usize..4,
        0usize..4,
        0u32..4,
        prop::option::of(0u32..4),
    );
    (
        prop::collection::vec(need, 1..6),
        prop::collection::vec(supply, 0..4),
        prop::collection::vec(route, 0..7),
    )
        .prop_map(|(needs, supplies, routes)| Model {
            items: (0..2)
                .map(|i| Item {
                    name: format!("item{i}"),
                    unit: "kg".into(),
                })
                .collect(),
            places: (0..4).map(|p| format!("place{p}")).collect(),
            needs: needs
                .into_iter()
                .enumerate()
                .map(|(n, (item, place, quantity, urgency, receiver))| Need {
                    id: format!("n{n}"),
                    item,
                    quantity: quantity as f64,
                    place,
                    urgency: Urgency::ALL[urgency],
                    receiver: format!("r{receiver}"),
                })
                .collect(),
            supplies: supplies
                .into_iter()
                .enumerate()
                .map(|(s, (item, place, quantity))| Supply {
                    id: format!("s{s}"),
                    item,
                    quantity: quantity as f64,
                    place,
                })
                .collect(),
            routes: routes
                .into_iter()
                .map(|(item, from, to, hours, capacity)| Route {
                    item,
                    from,
                    to,
                    hours_per_unit: hours as f64,
                    capacity: capacity.map(f64::from),
                })
                .collect(),
            ..Model::default()
        })
}

/// Whether each place can receive `demand` of `item` (Gale and Hoffman): for every set of
/// places, what is asked inside is at most what is there plus what routes can bring in.
fn feasible(model: &Model, item: usize, demand: &[f64]) -> bool {
    let places = model.places.len();
    (1u32..1 << places).all(|set| {
        let inside = |p: usize| set & (1 << p) != 0;
        let asked: f64 = (0..places).filter(|&p| inside(p)).map(|p| demand[p]).sum();
        let there: f64 = model
            .supplies
            .iter()
            .filter(|s| s.item == item && inside(s.place))
            .map(|s| s.quantity)
            .sum();
        let brought: f64 = model
            .routes
            .iter()
            .filter(|r| r.item == item && inside(r.to) && !inside(r.from))
            .map(|r| r.capacity.unwrap_or(f64::INFINITY))
            .sum();
        asked <= there + brought + 1e-9
    })
}

/// The lexicographically best class totals (vital, important, wanted) of one item, over all
/// integer amounts for its needs.
fn best_totals(model: &Model, item: usize) -> [f64; 3] {
    let needs: Vec<&Need> = model.needs.iter().filter(|n| n.item == item).collect();
    let mut best = [-1.0; 3];
    let mut amounts = vec![0u32; needs.len()];
    loop {
        let mut demand = vec![0.0; model.places.len()];
        let mut totals = [0.0; 3];
        for (need, &amount) in needs.iter().zip(&amounts) {
            demand[need.place] += amount as f64;
            totals[need.urgency as usize] += amount as f64;
        }
        if totals > best && feasible(model, item, &demand) {
            best = totals;
        }
        // The next vector of amounts, like an odometer.
        let mut k = 0;
        while k < needs.len() && amounts[k] == needs[k].quantity as u32 {
            amounts[k] = 0;
            k += 1;
        }
        if k == needs.len() {
            return best;
        }
        amounts[k] += 1;
    }
}

/// Whether the flows have a cycle of negative cost in their residual network (so that the
/// same deliveries could be carried for fewer hours): Floyd–Warshall over the places of one
/// item and a node for "unused supply".
fn cheaper_exists(model: &Model, routed: &commune_core::plan::Routed, item: usize) -> bool {
    let n = model.places.len() + 1;
    let spare = n - 1;
    let mut dist = vec![vec![f64::INFINITY; n]; n];
    for (v, row) in dist.iter_mut().enumerate() {
        row[v] = 0.0;
    }
    let mut arc = |from: usize, to: usize, cost: f64| {
        if cost < dist[from][to] {
            dist[from][to] = cost;
        }
    };
    for (route, &flow) in model.routes.iter().zip(&routed.route_flow) {
        if route.item != item {
            continue;
        }
        if flow < route.capacity.unwrap_or(f64::INFINITY) - 1e-9 {
            arc(route.from, route.to, route.hours_per_unit);
        }
        if flow > 1e-9 {
            arc(route.to, route.from, -route.hours_per_unit);
        }
    }
    let mut used = vec![0.0; model.supplies.len()];
    for delivery in &routed.draft.deliveries {
        if let Source::Supply(s) = delivery.source {
            used[s] += delivery.quantity;
        }
    }
    for (supply, &used) in model.supplies.iter().zip(&used) {
        if supply.item != item {
            continue;
        }
        if used < supply.quantity - 1e-9 {
            arc(spare, supply.place, 0.0);
        }
        if used > 1e-9 {
            arc(supply.place, spare, 0.0);
        }
    }
    for k in 0..n {
        for i in 0..n {
            for j in 0..n {
                let through = dist[i][k] + dist[k][j];
                if through < dist[i][j] {
                    dist[i][j] = through;
                }
            }
        }
    }
    (0..n).any(|v| dist[v][v] < -1e-6)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// On random small models, under either rule: each class gets the most it can after the
    /// classes before it (as brute force finds), and no cheaper way carries the same deliveries.
    #[test]
    fn allocation_is_optimal_against_brute_force(model in small_model()) {
        for fairness in [Fairness::MaxMin, Fairness::Proportional] {
            let routed = allocate_routed(&model, &settings(fairness)).unwrap();
            for item in 0..model.items.len() {
                let mut totals = [0.0; 3];
                for met in &routed.draft.met {
                    let need = &model.needs[met.need];
                    if need.item == item {
                        totals[need.urgency as usize] += met.quantity;
                    }
                }
                let best = best_totals(&model, item);
                for class in 0..3 {
                    prop_assert!(
                        (totals[class] - best[class]).abs() < 1e-6,
                        "{fairness:?} item {item}: {totals:?} against {best:?}"
                    );
                }
                prop_assert!(!cheaper_exists(&model, &routed, item), "{fairness:?} item {item}");
            }
            for met in &routed.draft.met {
                let need = &model.needs[met.need];
                prop_assert_eq!(met.shortfall.is_some(), met.quantity < need.quantity - 1e-6);
                if need.urgency == Urgency::Vital {
                    prop_assert_ne!(met.shortfall.clone(), Some(Shortfall::TakenByHigherClass));
                }
            }
        }
    }

    /// Gauss–Seidel costs equal Gaussian elimination's on random productive systems.
    #[test]
    fn labour_costs_equal_a_direct_solve(
        rows in prop::collection::vec(
            (0u32..10, prop::collection::vec((0usize..6, 1u32..10), 0..4)),
            1..7,
        ),
    ) {
        let items = rows.len();
        // Scale each item's inputs to at most 0.9 units in all, so the system is productive.
        let mut system = InputOutput { start: vec![0], ..InputOutput::default() };
        let mut dense = vec![vec![0.0; items]; items];
        for (i, (hours, inputs)) in rows.iter().enumerate() {
            system.direct.push(*hours as f64);
            let sum: u32 = inputs.iter().map(|&(_, a)| a).sum();
            for &(j, a) in inputs {
                let amount = 0.9 * a as f64 / sum.max(1) as f64;
                system.input.push((j % items) as u32);
                system.amount.push(amount);
                dense[i][j % items] += amount;
            }
            system.start.push(system.input.len());
        }
        let costs = system.costs().unwrap();
        let direct = gauss(&dense, &system.direct);
        for (c, d) in costs.iter().zip(&direct) {
            prop_assert!((c - d).abs() <= 1e-9 * d.abs().max(1.0), "{costs:?} against {direct:?}");
        }
    }
}

/// Solves `(I - A) x = b` by Gaussian elimination with partial pivoting.
fn gauss(a: &[Vec<f64>], b: &[f64]) -> Vec<f64> {
    let n = b.len();
    let mut m: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let mut row: Vec<f64> = (0..n)
                .map(|j| f64::from(u8::from(i == j)) - a[i][j])
                .collect();
            row.push(b[i]);
            row
        })
        .collect();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| m[x][col].abs().total_cmp(&m[y][col].abs()))
            .unwrap();
        m.swap(col, pivot);
        for row in 0..n {
            if row != col {
                let factor = m[row][col] / m[col][col];
                let pivot_row = m[col].clone();
                for (cell, &p) in m[row].iter_mut().zip(&pivot_row).skip(col) {
                    *cell -= factor * p;
                }
            }
        }
    }
    (0..n).map(|i| m[i][n] / m[i][i]).collect()
}

#[test]
fn labour_costs_from_processes() {
    // Bread takes flour and a baker's half hour; flour takes grain and a quarter hour; grain
    // takes a tenth of itself as seed and an hour per unit of field work.
    let item = |name: &str| Item {
        name: name.into(),
        unit: "kg".into(),
    };
    let process = |output: usize, per_run: f64, inputs: Vec<(usize, f64)>, hours: f64| Process {
        id: format!("p{output}"),
        name: String::new(),
        place: 0,
        outputs: vec![(output, per_run)],
        inputs,
        labour: vec![(0, hours)],
        equipment: vec![],
        capacity: 100.0,
    };
    let model = Model {
        items: vec![item("bread"), item("flour"), item("grain")],
        places: vec!["village".into()],
        skills: vec!["any".into()],
        processes: vec![
            process(0, 2.0, vec![(1, 1.6)], 1.0),
            process(1, 1.0, vec![(2, 1.25)], 0.25),
            process(2, 10.0, vec![(2, 1.0)], 10.0),
        ],
        ..Model::default()
    };
    let costs = InputOutput::from_model(&model).unwrap().costs().unwrap();
    let grain = 1.0 / 0.9;
    let flour = 0.25 + 1.25 * grain;
    let bread = 0.5 + 0.8 * flour;
    for (c, d) in costs.iter().zip([bread, flour, grain]) {
        assert!((c - d).abs() < 1e-9, "{costs:?}");
    }
}

#[test]
fn a_system_that_is_not_productive_is_refused() {
    let refused = |direct: Vec<f64>, start: Vec<usize>, input: Vec<u32>, amount: Vec<f64>| {
        let system = InputOutput {
            direct,
            start,
            input,
            amount,
        };
        match system.costs() {
            Err(PlanError::Model(message)) => message,
            other => panic!("{other:?}"),
        }
    };
    // Each of two items takes one unit of the other: costs grow by a constant every sweep.
    let message = refused(vec![1.0, 1.0], vec![0, 1, 2], vec![1, 0], vec![1.0, 1.0]);
    assert!(message.contains("not productive"), "{message}");
    // Each takes 1.5 of the other: costs grow geometrically.
    let message = refused(vec![1.0, 0.0], vec![0, 1, 2], vec![1, 0], vec![1.5, 1.5]);
    assert!(message.contains("not productive"), "{message}");
    // An item that takes more than a unit of itself.
    let message = refused(vec![1.0], vec![0, 1], vec![0], vec![1.2]);
    assert!(message.contains("uses up 1.2 of itself"), "{message}");
    // Malformed: an input that is no item.
    let message = refused(vec![1.0], vec![0, 1], vec![3], vec![0.5]);
    assert!(message.contains("not in the system"), "{message}");
}
