//! The production planner at DESIGN.md §11's interactive size: a generated model of 300 items
//! (processes up to three deep, four skills, six places with routes, needs of every class),
//! all four stages, with the pure-Rust simplex. Goal: ≤ 1 s.
//!
//! `cargo bench -p commune-core --bench plan_production [-- --items N --seed S]`; figures in
//! docs/benchmarks.md. Larger plans are `commune-highs`' benchmark.

use std::time::Instant;

use commune_core::plan::{self, DenseSimplex, Settings, Urgency, generate};

fn main() {
    let mut items = 300;
    let mut seed = 8;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--items" => items = args.next().and_then(|v| v.parse().ok()).expect("--items N"),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).expect("--seed S"),
            _ => {}
        }
    }
    let model = generate::production_model(items, seed);
    println!(
        "{items} items, {} places, {} processes, {} routes, {} needs",
        model.places.len(),
        model.processes.len(),
        model.routes.len(),
        model.needs.len()
    );
    let start = Instant::now();
    let draft = plan::draft(&model, &Settings::default(), &DenseSimplex).expect("a plan");
    let elapsed = start.elapsed();
    let asked: f64 = model.needs.iter().map(|n| n.quantity).sum();
    let met: f64 = draft.met.iter().map(|m| m.quantity).sum();
    let short = draft.met.iter().filter(|m| m.shortfall.is_some()).count();
    let vital_short = draft
        .met
        .iter()
        .filter(|m| m.shortfall.is_some() && model.needs[m.need].urgency == Urgency::Vital)
        .count();
    println!(
        "dense simplex: {:.3} s, {:.1} % of the quantity asked met, {short} needs short ({vital_short} vital), {:.0} labour hours",
        elapsed.as_secs_f64(),
        100.0 * met / asked,
        draft.skill_hours.iter().sum::<f64>() + draft.transport_hours
    );
}
