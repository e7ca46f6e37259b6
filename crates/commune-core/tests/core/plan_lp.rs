//! The production planner and its pure-Rust simplex: the simplex against brute-force vertex
//! enumeration and its duals against re-solving, then plans that must put vital needs first,
//! share fairly, consume inputs, explain what they cannot meet and refuse bad models.

use commune_core::plan::{
    self, DenseSimplex, Equipment, Fairness, Item, Labour, Lp, LpError, LpSolver, Model, Need,
    PlanError, Process, Route, Row, Settings, Shortfall, Source, Supply, Urgency, federation,
};

/// A small deterministic generator (splitmix64), so each failure names its case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// An integer in `low..=high`.
    fn int(&mut self, low: i64, high: i64) -> f64 {
        (low + (self.next() % (high - low + 1) as u64) as i64) as f64
    }
}

/// A random LP of up to three bounded columns and three rows of every kind.
fn random_lp(rng: &mut Rng) -> Lp {
    let n = rng.int(1, 3) as usize;
    let m = rng.int(0, 3) as usize;
    let mut lp = Lp::default();
    for _ in 0..n {
        lp.objective.push(rng.int(-3, 3));
        let lower = rng.int(-2, 2);
        lp.col_lower.push(lower);
        lp.col_upper.push(lower + rng.int(0, 4));
    }
    for _ in 0..m {
        let coefs = (0..n)
            .map(|j| (j, rng.int(-3, 3)))
            .filter(|&(_, a)| a != 0.0)
            .collect();
        let a = rng.int(-4, 4);
        let (lower, upper) = match rng.next() % 4 {
            0 => (f64::NEG_INFINITY, a),
            1 => (a, f64::INFINITY),
            2 => (a, a),
            _ => (a, a + rng.int(0, 3)),
        };
        lp.rows.push(Row {
            coefs,
            lower,
            upper,
        });
    }
    lp
}

/// The optimum by enumerating every vertex: each choice of `n` bound hyperplanes whose
/// intersection is one point inside all bounds. `None` when no point is feasible.
fn brute_force(lp: &Lp) -> Option<f64> {
    let n = lp.objective.len();
    let mut planes: Vec<(Vec<f64>, f64)> = Vec::new();
    for j in 0..n {
        let mut a = vec![0.0; n];
        a[j] = 1.0;
        planes.push((a.clone(), lp.col_lower[j]));
        planes.push((a, lp.col_upper[j]));
    }
    for row in &lp.rows {
        let mut a = vec![0.0; n];
        for &(j, c) in &row.coefs {
            a[j] += c;
        }
        for b in [row.lower, row.upper] {
            if b.is_finite() {
                planes.push((a.clone(), b));
            }
        }
    }
    let feasible = |x: &[f64]| {
        (0..n).all(|j| x[j] >= lp.col_lower[j] - 1e-9 && x[j] <= lp.col_upper[j] + 1e-9)
            && lp.rows.iter().all(|row| {
                let v: f64 = row.coefs.iter().map(|&(j, a)| a * x[j]).sum();
                v >= row.lower - 1e-9 && v <= row.upper + 1e-9
            })
    };
    let mut best: Option<f64> = None;
    let mut choice = vec![0; n];
    // Every increasing n-tuple of plane indexes.
    fn next_choice(choice: &mut [usize], planes: usize) -> bool {
        let n = choice.len();
        for i in (0..n).rev() {
            if choice[i] < planes - (n - i) {
                choice[i] += 1;
                for k in i + 1..n {
                    choice[k] = choice[k - 1] + 1;
                }
                return true;
            }
        }
        false
    }
    for (i, c) in choice.iter_mut().enumerate() {
        *c = i;
    }
    loop {
        let system: Vec<(Vec<f64>, f64)> = choice.iter().map(|&k| planes[k].clone()).collect();
        if let Some(x) = solve_square(&system).filter(|x| feasible(x)) {
            let value: f64 = lp.objective.iter().zip(&x).map(|(c, x)| c * x).sum();
            best = Some(best.map_or(value, |b| b.min(value)));
        }
        if !next_choice(&mut choice, planes.len()) {
            return best;
        }
    }
}

/// Gaussian elimination with partial pivoting; `None` for a singular system.
fn solve_square(system: &[(Vec<f64>, f64)]) -> Option<Vec<f64>> {
    let n = system.len();
    let mut a: Vec<Vec<f64>> = system
        .iter()
        .map(|(row, b)| row.iter().copied().chain([*b]).collect())
        .collect();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &k| a[i][col].abs().total_cmp(&a[k][col].abs()))?;
        if a[pivot][col].abs() < 1e-9 {
            return None;
        }
        a.swap(col, pivot);
        let pivot_row = a[col].clone();
        for (i, row) in a.iter_mut().enumerate() {
            if i != col {
                let f = row[col] / pivot_row[col];
                for (x, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    Some((0..n).map(|i| a[i][n] / a[i][i]).collect())
}

#[test]
fn dense_simplex_matches_vertex_enumeration() {
    let mut rng = Rng(8);
    let (mut optimal, mut infeasible) = (0, 0);
    for case in 0..2000 {
        let lp = random_lp(&mut rng);
        let expected = brute_force(&lp);
        match (DenseSimplex.solve(&lp), expected) {
            (Ok(solution), Some(best)) => {
                optimal += 1;
                assert!(
                    (solution.objective - best).abs() < 1e-5,
                    "case {case}: simplex {} but the best vertex {best}: {lp:?}",
                    solution.objective
                );
                for (j, &x) in solution.x.iter().enumerate() {
                    assert!(x >= lp.col_lower[j] - 1e-9 && x <= lp.col_upper[j] + 1e-9);
                }
                for row in &lp.rows {
                    let v: f64 = row.coefs.iter().map(|&(j, a)| a * solution.x[j]).sum();
                    assert!(
                        v >= row.lower - 1e-7 && v <= row.upper + 1e-7,
                        "case {case}"
                    );
                }
            }
            (Err(LpError::Infeasible), None) => infeasible += 1,
            (got, expected) => panic!("case {case}: {got:?} but expected {expected:?}: {lp:?}"),
        }
    }
    // Both outcomes are exercised, not just one.
    assert!(
        optimal > 500 && infeasible > 100,
        "{optimal} optimal, {infeasible} infeasible"
    );
}

/// The optimal value is convex in each row bound, and a row's dual is a subgradient of it: moving
/// the active bound by `d` either way changes the optimum by at least `dual * d`, and, where the
/// optimum is smooth, by about that much.
#[test]
fn dense_simplex_duals_are_the_slopes_of_the_optimum() {
    let mut rng = Rng(9);
    let (mut checked, mut exact) = (0, 0);
    let step = 1e-3;
    for case in 0..1000 {
        let lp = random_lp(&mut rng);
        let Ok(solution) = DenseSimplex.solve(&lp) else {
            continue;
        };
        for (i, row) in lp.rows.iter().enumerate() {
            let dual = solution.row_duals[i];
            let moved = |d: f64| {
                let mut lp = lp.clone();
                let row = &mut lp.rows[i];
                if row.lower == row.upper {
                    row.lower += d;
                    row.upper += d;
                } else if dual > 0.0 || (dual == 0.0 && row.lower.is_finite()) {
                    row.lower += d;
                } else {
                    row.upper += d;
                }
                if row.lower > row.upper {
                    return None;
                }
                DenseSimplex.solve(&lp).ok().map(|s| s.objective)
            };
            if dual == 0.0 && !row.lower.is_finite() && !row.upper.is_finite() {
                continue;
            }
            let (up, down) = (moved(step), moved(-step));
            for (value, d) in [(up, step), (down, -step)] {
                if let Some(value) = value {
                    assert!(
                        value >= solution.objective + dual * d - 1e-7,
                        "case {case} row {i}: dual {dual}, optimum {} moves to {value} by {d}",
                        solution.objective
                    );
                }
            }
            checked += 1;
            let slope = |a: Option<f64>, b: Option<f64>| Some((a? - b?) / step);
            let smooth = [
                slope(up, Some(solution.objective)),
                slope(Some(solution.objective), down),
            ];
            if smooth
                .iter()
                .all(|s| s.is_some_and(|s| (s - dual).abs() < 1e-5))
            {
                exact += 1;
            }
        }
    }
    assert!(
        checked > 300 && exact > checked / 2,
        "{checked} checked, {exact} exact"
    );
}

/// Settings that trade nothing between stages, so that each class gets its very best.
fn exact() -> Settings {
    Settings {
        tolerance_permille: 0,
        ..Settings::default()
    }
}

fn item(name: &str) -> Item {
    Item {
        name: name.into(),
        unit: "unit".into(),
    }
}

fn need(id: &str, item: usize, quantity: f64, urgency: Urgency, receiver: &str) -> Need {
    Need {
        id: id.into(),
        item,
        quantity,
        place: 0,
        urgency,
        receiver: receiver.into(),
    }
}

fn supply(item: usize, quantity: f64, place: usize) -> Supply {
    Supply {
        id: format!("stock of {item}"),
        item,
        quantity,
        place,
    }
}

/// A kitchen turns a unit of flour and half an hour of cooking into a meal, ten at most.
fn kitchen(flour: f64, cook_hours: f64, needs: Vec<Need>) -> Model {
    Model {
        items: vec![item("flour"), item("meal")],
        places: vec!["canteen".into()],
        skills: vec!["cooking".into()],
        needs,
        supplies: vec![supply(0, flour, 0)],
        routes: vec![],
        labour: vec![Labour {
            id: "cooks".into(),
            skill: 0,
            place: 0,
            hours: cook_hours,
        }],
        equipment: vec![],
        processes: vec![Process {
            id: "kitchen".into(),
            name: "kitchen".into(),
            place: 0,
            outputs: vec![(1, 1.0)],
            inputs: vec![(0, 1.0)],
            labour: vec![(0, 0.5)],
            equipment: vec![],
            capacity: 10.0,
        }],
    }
}

#[test]
fn vital_needs_are_met_before_important_ones_and_the_kitchen_uses_its_flour() {
    let model = kitchen(
        6.0,
        10.0,
        vec![
            need("soup for bob", 1, 5.0, Urgency::Important, "bob"),
            need("meals for alice", 1, 4.0, Urgency::Vital, "alice"),
        ],
    );
    let draft = plan::draft(&model, &exact(), &DenseSimplex).unwrap();
    assert!((draft.met[1].quantity - 4.0).abs() < 1e-5, "{draft:?}");
    assert_eq!(draft.met[1].shortfall, None);
    // Six units of flour make six meals: two are left for Bob.
    assert!((draft.met[0].quantity - 2.0).abs() < 1e-5, "{draft:?}");
    assert_eq!(draft.met[0].shortfall, Some(Shortfall::Input { item: 0 }));
    assert_eq!(draft.runs.len(), 1);
    assert!((draft.runs[0].runs - 6.0).abs() < 1e-5);
    assert!((draft.skill_hours[0] - 3.0).abs() < 1e-5);
    // Every meal delivered came out of the kitchen.
    let delivered: f64 = draft.deliveries.iter().map(|d| d.quantity).sum();
    assert!((delivered - 6.0).abs() < 1e-5);
    assert!(
        draft
            .deliveries
            .iter()
            .all(|d| d.source == Source::Process(0))
    );
    assert_eq!(draft.solver, "dense simplex");
}

#[test]
fn a_missing_skill_or_a_full_kitchen_is_named() {
    // No cook offered at all: the meals cannot be made, and the skill is why.
    let model = kitchen(20.0, 0.0, vec![need("meals", 1, 4.0, Urgency::Vital, "a")]);
    let draft = plan::draft(&model, &exact(), &DenseSimplex).unwrap();
    assert_eq!(draft.met[0].quantity, 0.0);
    assert_eq!(draft.met[0].shortfall, Some(Shortfall::Skill { skill: 0 }));
    // Two cook hours make four meals of six.
    let model = kitchen(20.0, 2.0, vec![need("meals", 1, 6.0, Urgency::Vital, "a")]);
    let draft = plan::draft(&model, &exact(), &DenseSimplex).unwrap();
    assert!((draft.met[0].quantity - 4.0).abs() < 1e-5);
    assert_eq!(draft.met[0].shortfall, Some(Shortfall::Skill { skill: 0 }));
    // Plenty of everything but the kitchen's ten runs.
    let model = kitchen(
        20.0,
        20.0,
        vec![need("meals", 1, 15.0, Urgency::Vital, "a")],
    );
    let draft = plan::draft(&model, &exact(), &DenseSimplex).unwrap();
    assert!((draft.met[0].quantity - 10.0).abs() < 1e-5);
    assert_eq!(
        draft.met[0].shortfall,
        Some(Shortfall::Capacity { process: 0 })
    );
    // A cook hour is worth two meals.
    assert!(draft.skill_scarcity.iter().all(|s| s.is_finite()));
}

/// Gives the kitchen an oven with `hours` free, which each meal needs `per_meal` hours of.
fn with_oven(model: &mut Model, hours: f64, per_meal: f64) {
    model.equipment.push(Equipment {
        id: "oven".into(),
        name: "the oven".into(),
        place: 0,
        hours,
    });
    model.processes[0].equipment.push((0, per_meal));
}

#[test]
fn an_oven_s_hours_not_flour_or_cooks_limit_the_meals() {
    // Flour for twenty meals and cooks for forty; three oven hours at half an hour a meal.
    let mut model = kitchen(
        20.0,
        20.0,
        vec![need("meals", 1, 10.0, Urgency::Vital, "a")],
    );
    with_oven(&mut model, 3.0, 0.5);
    let draft = plan::draft(&model, &exact(), &DenseSimplex).unwrap();
    assert!((draft.met[0].quantity - 6.0).abs() < 1e-5, "{draft:?}");
    assert_eq!(
        draft.met[0].shortfall,
        Some(Shortfall::Equipment { equipment: 0 })
    );
    plan::check(&model, &draft).unwrap();
    // With the oven free all round, the meals are met.
    model.equipment[0].hours = 10.0;
    let draft = plan::draft(&model, &exact(), &DenseSimplex).unwrap();
    assert!((draft.met[0].quantity - 10.0).abs() < 1e-5, "{draft:?}");
    assert_eq!(draft.met[0].shortfall, None);
    // An oven booked for all its hours makes the meals unreachable, and says why.
    model.equipment[0].hours = 0.0;
    let draft = plan::draft(&model, &exact(), &DenseSimplex).unwrap();
    assert_eq!(draft.met[0].quantity, 0.0);
    assert_eq!(
        draft.met[0].shortfall,
        Some(Shortfall::Equipment { equipment: 0 })
    );
}

#[test]
fn a_draft_running_the_oven_past_its_hours_fails_the_check() {
    let mut model = kitchen(
        20.0,
        20.0,
        vec![need("meals", 1, 10.0, Urgency::Vital, "a")],
    );
    with_oven(&mut model, 10.0, 0.5);
    let draft = plan::draft(&model, &exact(), &DenseSimplex).unwrap();
    plan::check(&model, &draft).unwrap();
    model.equipment[0].hours = 4.0;
    match plan::check(&model, &draft) {
        Err(PlanError::Infeasible(why)) => assert!(why.contains("oven"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_need_short_by_a_hair_of_the_tolerance_is_snapped_to_full() {
    // Plenty of flour at the depot, carried to the hall at a labour cost: the least-labour
    // stage may give up a thousandth of the vital class, 2.4975 of 2.5 kg.
    let model = Model {
        items: vec![item("flour")],
        places: vec!["depot".into(), "hall".into()],
        needs: vec![Need {
            place: 1,
            ..need("flour", 0, 2.5, Urgency::Vital, "ann")
        }],
        supplies: vec![supply(0, 100.0, 0)],
        routes: vec![Route {
            item: 0,
            from: 0,
            to: 1,
            hours_per_unit: 0.5,
            capacity: None,
        }],
        ..Model::default()
    };
    let settings = Settings {
        tolerance_permille: 1,
        ..Settings::default()
    };
    let draft = plan::draft(&model, &settings, &DenseSimplex).unwrap();
    assert!((draft.met[0].quantity - 2.5).abs() < 1e-9, "{draft:?}");
    assert_eq!(draft.met[0].shortfall, None);
    assert!((draft.transport_hours - 1.25).abs() < 1e-9);
    // With a route carrying 2.4, the need is snapped back to what the vital stage gave it,
    // and the full route is why it is short.
    let mut narrow = model.clone();
    narrow.routes[0].capacity = Some(2.4);
    let draft = plan::draft(&narrow, &settings, &DenseSimplex).unwrap();
    assert!((draft.met[0].quantity - 2.4).abs() < 1e-9, "{draft:?}");
    assert_eq!(draft.met[0].shortfall, Some(Shortfall::Route { route: 0 }));
    // When holding a need at its best would break a later class's stage, the first plan
    // stands: here ten important meals and a wanted loaf share ten units of flour, and a
    // tolerance of a tenth lets the loaf have one.
    let mut model = kitchen(
        10.0,
        100.0,
        vec![
            need("meals", 1, 10.0, Urgency::Important, "a"),
            need("bread", 1, 10.0, Urgency::Wanted, "b"),
        ],
    );
    model.needs[1].item = 0;
    let settings = Settings {
        tolerance_permille: 100,
        ..Settings::default()
    };
    let draft = plan::draft(&model, &settings, &DenseSimplex).unwrap();
    assert!(draft.met[0].quantity < 10.0 - 0.5, "{:?}", draft.met);
    assert!(draft.met[1].quantity > 0.5, "{:?}", draft.met);
    // Vital needs first is a rule: no tolerance lets the loaf take from vital meals.
    model.needs[0].urgency = Urgency::Vital;
    let draft = plan::draft(&model, &settings, &DenseSimplex).unwrap();
    assert!(
        (draft.met[0].quantity - 10.0).abs() < 1e-5,
        "{:?}",
        draft.met
    );
    assert!(draft.met[1].quantity < 1e-5, "{:?}", draft.met);
}

#[test]
fn one_receiver_posting_many_needs_does_not_take_the_class() {
    // Ten loaves; "many" asks for twenty in ten needs, "few" for two in one.
    let mut needs: Vec<Need> = (0..10)
        .map(|i| need(&format!("many {i}"), 0, 2.0, Urgency::Vital, "many"))
        .collect();
    needs.push(need("few", 0, 2.0, Urgency::Vital, "few"));
    let model = Model {
        items: vec![item("bread")],
        places: vec!["hall".into()],
        needs,
        supplies: vec![supply(0, 10.0, 0)],
        ..Model::default()
    };
    for fairness in [Fairness::MaxMin, Fairness::Proportional] {
        let settings = Settings {
            fairness,
            ..exact()
        };
        let draft = plan::draft(&model, &settings, &DenseSimplex).unwrap();
        let few = draft.met[10].quantity / 2.0;
        let many: f64 = draft.met[..10].iter().map(|m| m.quantity).sum::<f64>() / 20.0;
        // By quantity, "many" would take ten elevenths; by receiver, "few" gets at least as
        // large a fraction of its ask.
        assert!(few >= many - 1e-5, "{fairness:?}: few {few}, many {many}");
        let total: f64 = draft.met.iter().map(|m| m.quantity).sum();
        assert!((total - 10.0).abs() < 1e-5, "{fairness:?}: {total}");
    }
}

#[test]
fn one_impossible_need_does_not_pin_its_class_to_zero() {
    let model = Model {
        items: vec![item("bread"), item("insulin")],
        places: vec!["hall".into()],
        needs: vec![
            need("insulin", 1, 1.0, Urgency::Vital, "ann"),
            need("bread", 0, 4.0, Urgency::Vital, "ben"),
        ],
        supplies: vec![supply(0, 10.0, 0)],
        ..Model::default()
    };
    let draft = plan::draft(&model, &exact(), &DenseSimplex).unwrap();
    assert_eq!(draft.met[0].shortfall, Some(Shortfall::Unreachable));
    assert!((draft.met[1].quantity - 4.0).abs() < 1e-5);
}

#[test]
fn goods_travel_by_route_and_a_full_route_is_named() {
    let model = Model {
        items: vec![item("water")],
        places: vec!["depot".into(), "school".into()],
        needs: vec![Need {
            place: 1,
            ..need("water at school", 0, 8.0, Urgency::Vital, "school")
        }],
        supplies: vec![supply(0, 20.0, 0)],
        routes: vec![Route {
            item: 0,
            from: 0,
            to: 1,
            hours_per_unit: 0.25,
            capacity: Some(5.0),
        }],
        ..Model::default()
    };
    let draft = plan::draft(&model, &exact(), &DenseSimplex).unwrap();
    assert!((draft.met[0].quantity - 5.0).abs() < 1e-5);
    assert_eq!(draft.met[0].shortfall, Some(Shortfall::Route { route: 0 }));
    assert!((draft.transport_hours - 1.25).abs() < 1e-5);
    assert_eq!(draft.deliveries.len(), 1);
    assert_eq!(draft.deliveries[0].source, Source::Supply(0));
    assert!((draft.deliveries[0].hours - 1.25).abs() < 1e-5);
}

#[test]
fn the_stage_tolerance_lets_later_stages_trade_that_much_and_no_more() {
    // Flour makes meals (important) and bread (wanted); ten units of flour, an important need
    // of ten meals. With no tolerance, no bread; with 100 per mille, at most one unit of flour
    // may go.
    let mut model = kitchen(
        10.0,
        100.0,
        vec![
            need("meals", 1, 10.0, Urgency::Important, "a"),
            need("bread", 2, 10.0, Urgency::Wanted, "b"),
        ],
    );
    model.items.push(item("bread"));
    model.processes.push(Process {
        id: "bakery".into(),
        name: "bakery".into(),
        place: 0,
        outputs: vec![(2, 1.0)],
        inputs: vec![(0, 1.0)],
        labour: vec![(0, 0.5)],
        equipment: vec![],
        capacity: 10.0,
    });
    let settings = |tolerance_permille| Settings {
        tolerance_permille,
        ..Settings::default()
    };
    let draft = plan::draft(&model, &settings(0), &DenseSimplex).unwrap();
    assert!(
        (draft.met[0].quantity - 10.0).abs() < 1e-5,
        "{:?}",
        draft.met
    );
    assert!(draft.met[1].quantity < 1e-5);
    assert_eq!(draft.met[1].shortfall, Some(Shortfall::Input { item: 0 }));
    // A tenth of the important class may go: a unit of flour becomes bread, and the last
    // stage (least labour) may give up a tenth of that again.
    let draft = plan::draft(&model, &settings(100), &DenseSimplex).unwrap();
    assert!(draft.met[0].quantity >= 9.0 - 1e-5, "{:?}", draft.met);
    assert!(draft.met[1].quantity >= 0.9 - 1e-5, "{:?}", draft.met);
    assert!(draft.met[0].quantity + draft.met[1].quantity <= 10.0 + 1e-5);
    // The vital class is never traded, whatever the tolerance.
    model.needs[0].urgency = Urgency::Vital;
    for tolerance in [1, 100, 1000] {
        let draft = plan::draft(&model, &settings(tolerance), &DenseSimplex).unwrap();
        assert!(
            (draft.met[0].quantity - 10.0).abs() < 1e-5,
            "{tolerance}: {:?}",
            draft.met
        );
        assert!(draft.met[1].quantity < 1e-5, "{tolerance}: {:?}", draft.met);
    }
}

#[test]
fn bad_models_are_refused() {
    let good = kitchen(6.0, 10.0, vec![need("meals", 1, 4.0, Urgency::Vital, "a")]);
    assert!(plan::draft(&good, &exact(), &DenseSimplex).is_ok());
    let mut breakages: Vec<fn(&mut Model)> = vec![
        |m| m.needs[0].quantity = -1.0,
        |m| m.needs[0].quantity = f64::NAN,
        |m| m.needs[0].item = 7,
        |m| m.needs[0].place = 3,
        |m| m.supplies[0].quantity = f64::INFINITY,
        |m| m.labour[0].skill = 2,
        |m| m.processes[0].capacity = -3.0,
        |m| m.processes[0].inputs[0].1 = f64::NAN,
        |m| m.processes[0].outputs[0].0 = 9,
        |m| m.processes[0].equipment.push((0, 1.0)),
    ];
    breakages.push(|m| {
        with_oven(m, 5.0, 0.5);
        m.equipment[0].hours = -1.0;
    });
    breakages.push(|m| {
        with_oven(m, 5.0, 0.5);
        m.processes[0].equipment[0].1 = f64::NAN;
    });
    breakages.push(|m| {
        with_oven(m, 5.0, 0.5);
        m.equipment[0].place = 4;
    });
    breakages.push(|m| {
        m.routes.push(Route {
            item: 0,
            from: 0,
            to: 5,
            hours_per_unit: 1.0,
            capacity: None,
        })
    });
    for (i, breakage) in breakages.iter().enumerate() {
        let mut model = good.clone();
        breakage(&mut model);
        match plan::draft(&model, &exact(), &DenseSimplex) {
            Err(PlanError::Model(_)) => {}
            other => panic!("breakage {i} gave {other:?}"),
        }
    }
}

/// A solver that bends a fixed row, as interior-point solvers are known to: its answers must
/// not reach anyone.
struct Bent;

impl LpSolver for Bent {
    fn name(&self) -> &str {
        "bent"
    }

    fn solve(&self, lp: &Lp) -> Result<commune_core::plan::LpSolution, LpError> {
        let mut solution = DenseSimplex.solve(lp)?;
        for x in &mut solution.x {
            *x *= 1.01;
        }
        Ok(solution)
    }
}

#[test]
fn a_solution_that_breaks_the_model_is_not_returned() {
    let model = kitchen(6.0, 10.0, vec![need("meals", 1, 6.0, Urgency::Vital, "a")]);
    match plan::draft(&model, &exact(), &Bent) {
        Err(PlanError::Infeasible(why)) => assert!(why.contains("meals gets"), "{why}"),
        other => panic!("{other:?}"),
    }
}

/// The dense simplex solving each stage on its own, through the trait's default run.
struct Afresh;

impl LpSolver for Afresh {
    fn name(&self) -> &str {
        "afresh"
    }

    fn solve(&self, lp: &Lp) -> Result<commune_core::plan::LpSolution, LpError> {
        DenseSimplex.solve(lp)
    }
}

/// Per class, the sum over receivers of the fraction of their ask met: what the class's last
/// stage maximises under max-min fairness.
fn class_fractions(model: &Model, draft: &plan::Draft) -> [f64; 3] {
    let mut asked: std::collections::BTreeMap<(Urgency, &str), (f64, f64)> = Default::default();
    for (need, met) in model.needs.iter().zip(&draft.met) {
        let entry = asked.entry((need.urgency, &need.receiver)).or_default();
        entry.0 += need.quantity;
        entry.1 += met.quantity;
    }
    let mut sums = [0.0; 3];
    for ((urgency, _), (asked, met)) in asked {
        sums[urgency as usize] += met / asked;
    }
    sums
}

#[test]
fn stages_started_from_the_last_basis_match_stages_solved_afresh() {
    for seed in 0..6 {
        let model = plan::generate::production_model(40 + 20 * seed as usize, seed);
        let warm = plan::draft(&model, &exact(), &DenseSimplex).unwrap();
        let cold = plan::draft(&model, &exact(), &Afresh).unwrap();
        let hours = |d: &plan::Draft| d.skill_hours.iter().sum::<f64>() + d.transport_hours;
        assert!(
            (hours(&warm) - hours(&cold)).abs() < 1e-5 * (1.0 + hours(&cold)),
            "seed {seed}: {} against {}",
            hours(&warm),
            hours(&cold)
        );
        let (a, b) = (
            class_fractions(&model, &warm),
            class_fractions(&model, &cold),
        );
        for class in 0..3 {
            assert!(
                (a[class] - b[class]).abs() < 1e-5,
                "seed {seed}: {a:?} {b:?}"
            );
        }
        assert!(warm.met.iter().any(|m| m.shortfall.is_some()));
        assert!(warm.met.iter().any(|m| m.quantity > 0.0));
    }
}

/// Two councils with bread and a bakery, one with vital needs and nothing to meet them.
fn three_councils() -> (Vec<federation::Council>, Vec<federation::Link>) {
    let catalogue = vec![item("bread"), item("flour")];
    let mut bakery = kitchen(
        30.0,
        20.0,
        vec![need("bakers' own", 1, 5.0, Urgency::Vital, "bakers")],
    );
    bakery.items = vec![item("flour"), item("bread")];
    bakery.processes[0].capacity = 20.0;
    let stores = Model {
        items: catalogue.clone(),
        places: vec!["store".into()],
        supplies: vec![supply(0, 6.0, 0)],
        needs: vec![need("store's own", 0, 2.0, Urgency::Important, "keepers")],
        ..Model::default()
    };
    let hungry = Model {
        items: catalogue,
        places: vec!["square".into()],
        needs: vec![
            need("vital bread", 0, 12.0, Urgency::Vital, "families"),
            need("wanted bread", 0, 5.0, Urgency::Wanted, "families"),
        ],
        ..Model::default()
    };
    let councils = vec![
        federation::Council {
            name: "bakers".into(),
            model: bakery,
        },
        federation::Council {
            name: "stores".into(),
            model: stores,
        },
        federation::Council {
            name: "hungry".into(),
            model: hungry,
        },
    ];
    let link = |from: usize, capacity| federation::Link {
        item: "bread".into(),
        from: (from, 0),
        to: (2, 0),
        hours_per_unit: 0.1,
        capacity,
    };
    (councils, vec![link(0, Some(8.0)), link(1, None)])
}

#[test]
fn a_federation_meets_vital_needs_in_one_council_from_stock_and_processes_in_another() {
    let (councils, links) = three_councils();
    let planned = federation::plan(&councils, &links, &exact(), &DenseSimplex).unwrap();
    let hungry = &planned.councils[2];
    // Four loaves of the store's leftover stock, then eight baked to order (the link's
    // capacity): twelve, all the vital need. The order for the wanted need goes to the store,
    // whose last two loaves its own important need comes before.
    assert!(
        (hungry.draft.met[0].quantity - 12.0).abs() < 1e-5,
        "{planned:#?}"
    );
    assert!(hungry.draft.met[1].quantity < 1e-5);
    let stores = &planned.flows.iter().find(|f| f.link == 1).unwrap();
    assert!(
        (stores.from_stock - 4.0).abs() < 1e-5 && stores.made < 1e-5,
        "{stores:?}"
    );
    let bakers = &planned.flows.iter().find(|f| f.link == 0).unwrap();
    assert!((bakers.made - 8.0).abs() < 1e-5, "{bakers:?}");
    // The store keeps its own two loaves, the bakers their own five.
    assert!((planned.councils[1].draft.met[0].quantity - 2.0).abs() < 1e-5);
    assert!((planned.councils[0].draft.met[0].quantity - 5.0).abs() < 1e-5);
    assert!(planned.rounds >= 2);
    // The bad link is refused.
    let mut bad = links.clone();
    bad[0].item = "cake".into();
    assert!(matches!(
        federation::plan(&councils, &bad, &exact(), &DenseSimplex),
        Err(PlanError::Model(_))
    ));
}

#[test]
fn an_order_an_exporter_cannot_meet_is_no_flow() {
    // The kitchen makes meals, but has no flour: the order placed with it comes back empty,
    // and the federation's plan lists nothing moving.
    let kitchen = kitchen(0.0, 10.0, Vec::new());
    let hungry = Model {
        items: vec![item("flour"), item("meal")],
        places: vec!["square".into()],
        needs: vec![need("meals", 1, 3.0, Urgency::Vital, "families")],
        ..Model::default()
    };
    let councils = vec![
        federation::Council {
            name: "kitchen".into(),
            model: kitchen,
        },
        federation::Council {
            name: "hungry".into(),
            model: hungry,
        },
    ];
    let links = vec![federation::Link {
        item: "meal".into(),
        from: (0, 0),
        to: (1, 0),
        hours_per_unit: 0.1,
        capacity: None,
    }];
    let planned = federation::plan(&councils, &links, &exact(), &DenseSimplex).unwrap();
    // The order was placed and planned for...
    assert!(
        planned.councils[0]
            .model
            .needs
            .iter()
            .any(|n| n.id == "order on link 0"),
        "{planned:#?}"
    );
    // ...but nothing was made, so nothing moves.
    assert!(planned.flows.is_empty(), "{:?}", planned.flows);
    assert!(planned.councils[1].draft.met[0].quantity < 1e-9);
    check_federation(&councils, &links, &planned);
}

/// Checks a federation's plan against its councils: every draft against the model it was
/// drawn for (each need met within its ask, supplies intact but for what was shipped), and
/// every link's flow equal to what the importer received and to what the exporter met.
fn check_federation(
    councils: &[federation::Council],
    links: &[federation::Link],
    planned: &federation::FederatedPlan,
) {
    for (council, plan) in councils.iter().zip(&planned.councils) {
        let own = council.model.needs.len();
        assert_eq!(&plan.model.needs[..own], &council.model.needs[..]);
        for (need, met) in plan.model.needs.iter().zip(&plan.draft.met) {
            assert!(met.quantity >= -1e-9 && met.quantity <= need.quantity + 1e-6);
        }
    }
    for flow in &planned.flows {
        let link = &links[flow.link];
        let importer = &planned.councils[link.to.0];
        let arrived: f64 = importer
            .model
            .supplies
            .iter()
            .filter(|s| s.id == format!("import by link {}", flow.link))
            .map(|s| s.quantity)
            .sum();
        assert!((arrived - flow.from_stock - flow.made).abs() < 1e-6);
        let exporter = &planned.councils[link.from.0];
        let made: f64 = exporter
            .model
            .needs
            .iter()
            .zip(&exporter.draft.met)
            .filter(|(n, _)| n.id == format!("order on link {}", flow.link))
            .map(|(_, m)| m.quantity)
            .sum();
        assert!((made - flow.made).abs() < 1e-6);
        assert!(flow.from_stock + flow.made <= link.capacity.unwrap_or(f64::INFINITY) + 1e-6);
    }
}

#[test]
fn a_generated_city_plans_council_by_council() {
    let (councils, links) = plan::generate::city(4, 40, 3);
    let planned = federation::plan(&councils, &links, &exact(), &DenseSimplex).unwrap();
    check_federation(&councils, &links, &planned);
    assert!(!planned.flows.is_empty());
}

#[test]
fn labour_hour_costs_are_the_last_stage_s_duals() {
    // Plenty of flour and cooks: one more meal costs its half hour of cooking, one more unit
    // of flour nothing (there is more than is used), and no skill is scarce.
    let model = kitchen(20.0, 10.0, vec![need("meals", 1, 4.0, Urgency::Vital, "a")]);
    let draft = plan::draft(&model, &exact(), &DenseSimplex).unwrap();
    assert!(
        (draft.item_hours[1] - 0.5).abs() < 1e-9,
        "{:?}",
        draft.item_hours
    );
    assert_eq!(draft.item_hours[0], 0.0);
    assert_eq!(draft.skill_scarcity, vec![0.0]);
    assert!((draft.skill_hours[0] - 2.0).abs() < 1e-5);
}
