//! HiGHS against the pure-Rust simplex on the same programs and plans, and a federation
//! planned council by council with HiGHS.

use std::collections::BTreeMap;

use commune_core::plan::{
    self, DenseSimplex, Draft, Lp, LpSolver, Model, Row, Settings, federation, generate,
};
use commune_highs::Highs;

fn exact() -> Settings {
    Settings {
        tolerance_permille: 0,
        ..Settings::default()
    }
}

#[test]
fn duals_have_the_planner_s_sign() {
    // Minimise x + y with x + y >= 3 and x - y <= 1: the first row costs one per unit.
    let lp = Lp {
        objective: vec![1.0, 1.0],
        col_lower: vec![0.0, 0.0],
        col_upper: vec![10.0, 10.0],
        rows: vec![
            Row {
                coefs: vec![(0, 1.0), (1, 1.0)],
                lower: 3.0,
                upper: f64::INFINITY,
            },
            Row {
                coefs: vec![(0, 1.0), (1, -1.0)],
                lower: f64::NEG_INFINITY,
                upper: 1.0,
            },
        ],
    };
    let highs = Highs.solve(&lp).unwrap();
    let dense = DenseSimplex.solve(&lp).unwrap();
    assert!((highs.objective - 3.0).abs() < 1e-9);
    assert!((highs.row_duals[0] - 1.0).abs() < 1e-9, "{highs:?}");
    assert!((dense.row_duals[0] - 1.0).abs() < 1e-9, "{dense:?}");
    // Maximise x under x <= 4: loosening the bound gains one per unit.
    let lp = Lp {
        objective: vec![-1.0],
        col_lower: vec![0.0],
        col_upper: vec![f64::INFINITY],
        rows: vec![Row {
            coefs: vec![(0, 1.0)],
            lower: f64::NEG_INFINITY,
            upper: 4.0,
        }],
    };
    assert!((Highs.solve(&lp).unwrap().row_duals[0] + 1.0).abs() < 1e-9);
    assert!((DenseSimplex.solve(&lp).unwrap().row_duals[0] + 1.0).abs() < 1e-9);
}

/// Per class, the sum over receivers of the fraction of their ask met, and the labour hours:
/// what the stages optimise, equal for any two optimal plans.
fn achievements(model: &Model, draft: &Draft) -> Vec<f64> {
    let mut asked: BTreeMap<(plan::Urgency, &str), (f64, f64)> = BTreeMap::new();
    for (need, met) in model.needs.iter().zip(&draft.met) {
        let entry = asked.entry((need.urgency, &need.receiver)).or_default();
        entry.0 += need.quantity;
        entry.1 += met.quantity;
    }
    let mut sums = vec![0.0; 4];
    for ((urgency, _), (asked, met)) in asked {
        sums[urgency as usize] += met / asked;
    }
    sums[3] = draft.skill_hours.iter().sum::<f64>() + draft.transport_hours;
    sums
}

#[test]
fn highs_and_the_dense_simplex_agree_on_random_plans() {
    for seed in 0..8 {
        let model = generate::production_model(30 + 20 * seed as usize, 100 + seed);
        let highs = plan::draft(&model, &exact(), &Highs).unwrap();
        let dense = plan::draft(&model, &exact(), &DenseSimplex).unwrap();
        let (a, b) = (achievements(&model, &highs), achievements(&model, &dense));
        for (x, y) in a.iter().zip(&b) {
            assert!(
                (x - y).abs() < 1e-5 * (1.0 + y.abs()),
                "seed {seed}: {a:?} against {b:?}"
            );
        }
        assert_eq!(highs.solver, "HiGHS");
        assert!(highs.met.iter().any(|m| m.shortfall.is_some()));
    }
}

#[test]
fn a_city_planned_by_decomposition_is_feasible_council_by_council() {
    let (councils, links) = generate::city(6, 60, 4);
    let planned = federation::plan(&councils, &links, &Settings::default(), &Highs).unwrap();
    assert_eq!(planned.councils.len(), councils.len());
    assert!(!planned.flows.is_empty());
    for (council, part) in councils.iter().zip(&planned.councils) {
        // Each council's draft was checked against its model; the model is the council's
        // own, with its boundary added.
        let own = council.model.needs.len();
        assert_eq!(&part.model.needs[..own], &council.model.needs[..]);
        assert_eq!(part.draft.met.len(), part.model.needs.len());
        assert_eq!(part.draft.solver, "HiGHS");
    }
    for flow in &planned.flows {
        let link = &links[flow.link];
        let arrived: f64 = planned.councils[link.to.0]
            .model
            .supplies
            .iter()
            .filter(|s| s.id == format!("import by link {}", flow.link))
            .map(|s| s.quantity)
            .sum();
        assert!((arrived - flow.from_stock - flow.made).abs() < 1e-6);
        assert!(arrived <= link.capacity.unwrap_or(f64::INFINITY) + 1e-6);
    }
}
