//! Production plans with HiGHS at DESIGN.md §11's sizes, all four stages, on one thread:
//! 300 items (goal ≤ 1 s), 1,000 items (goal ≤ 7 s; HiGHS on one monolithic program measured
//! 7.4 s here), and a city of 10,000 items in 50 councils of 200, planned by decomposition
//! (goal ≤ 60 s). Generated models with fixed seeds (`commune_core::plan::generate`).
//!
//! With `--monolithic`, the same city is also solved as one program (every council's model
//! side by side, links as routes), as the anchor for the decomposition's time and fulfilment.
//!
//! With `--anchor`, HiGHS from PyPI (`highspy`, run by `python3 benches/highspy_anchor.py`)
//! solves the same stage programs of the 300- and 1,000-item plans, each stage from scratch:
//! the anchor in the same run. It needs `pip install highspy`.
//!
//! `cargo bench -p commune-highs --bench production [-- --city-only | --no-city]
//! [--monolithic] [--anchor]`; figures in docs/benchmarks.md.

use std::cell::RefCell;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use commune_core::plan::{
    self, Draft, Lp, LpError, LpSequence, LpSolution, LpSolver, Model, Settings, federation,
    generate,
};
use commune_highs::Highs;
use serde_json::{Value, json};

/// HiGHS, keeping a copy of every program it is handed and the optimum it found.
#[derive(Default)]
struct Recorder {
    stages: RefCell<Vec<(Lp, f64)>>,
}

static HIGHS: Highs = Highs;

impl LpSolver for Recorder {
    fn name(&self) -> &str {
        HIGHS.name()
    }

    fn solve(&self, lp: &Lp) -> Result<LpSolution, LpError> {
        let solution = HIGHS.solve(lp)?;
        self.stages
            .borrow_mut()
            .push((lp.clone(), solution.objective));
        Ok(solution)
    }

    fn sequence(&self) -> Box<dyn LpSequence + '_> {
        Box::new(Recording {
            recorder: self,
            highs: HIGHS.sequence(),
        })
    }
}

struct Recording<'a> {
    recorder: &'a Recorder,
    highs: Box<dyn LpSequence + 'static>,
}

impl LpSequence for Recording<'_> {
    fn solve(&mut self, lp: &Lp) -> Result<LpSolution, LpError> {
        let solution = self.highs.solve(lp)?;
        self.recorder
            .stages
            .borrow_mut()
            .push((lp.clone(), solution.objective));
        Ok(solution)
    }
}

/// A program as the anchor script reads it; infinite bounds as ±1e30, HiGHS's infinity.
fn program_json(lp: &Lp) -> Value {
    let bound = |x: f64| x.clamp(-1e30, 1e30);
    let rows: Vec<Value> = lp
        .rows
        .iter()
        .map(|row| {
            json!({
                "lower": bound(row.lower),
                "upper": bound(row.upper),
                "cols": row.coefs.iter().map(|&(j, _)| j).collect::<Vec<_>>(),
                "coefs": row.coefs.iter().map(|&(_, a)| a).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "objective": lp.objective,
        "col_lower": lp.col_lower.iter().map(|&x| bound(x)).collect::<Vec<_>>(),
        "col_upper": lp.col_upper.iter().map(|&x| bound(x)).collect::<Vec<_>>(),
        "rows": rows,
    })
}

/// Draws `model`'s plan again, recording its stage programs, and has highspy solve them.
fn anchor(model: &Model, settings: &Settings, items: usize) {
    let recorder = Recorder::default();
    plan::draft(model, settings, &recorder).expect("a plan");
    let stages = recorder.stages.into_inner();
    let path = std::env::temp_dir().join(format!("commune-anchor-{items}.json"));
    let programs: Vec<Value> = stages.iter().map(|(lp, _)| program_json(lp)).collect();
    std::fs::write(&path, json!({ "stages": programs }).to_string()).expect("a temporary file");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/highspy_anchor.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(&path)
        .output()
        .expect("python3 runs");
    let _ = std::fs::remove_file(&path);
    if !output.status.success() {
        println!(
            "anchor, highspy, {items} items: not run ({})",
            String::from_utf8_lossy(&output.stderr).trim()
        );
        return;
    }
    // highspy prints its banner first; the answer is the last line.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let answer: Value = serde_json::from_str(last).expect("the anchor's JSON");
    let theirs: Vec<f64> = answer["objectives"]
        .as_array()
        .expect("objectives")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect();
    let agree = stages
        .iter()
        .zip(&theirs)
        .all(|((_, ours), theirs)| (ours - theirs).abs() <= 1e-6 * (1.0 + ours.abs()));
    println!(
        "anchor, highspy from PyPI, {items} items: {:.3} s in run() over {} stages solved from scratch; optima {}",
        answer["seconds"].as_f64().expect("seconds"),
        stages.len(),
        if agree { "agree" } else { "DIFFER" },
    );
}

fn report(what: &str, model: &Model, draft: &Draft, seconds: f64) {
    let asked: f64 = model.needs.iter().map(|n| n.quantity).sum();
    let met: f64 = draft.met.iter().map(|m| m.quantity).sum();
    let vital = |m: &plan::Met| model.needs[m.need].urgency == plan::Urgency::Vital;
    let vital_short = draft
        .met
        .iter()
        .filter(|m| vital(m) && m.shortfall.is_some())
        .count();
    println!(
        "{what}: {} processes, {} routes, {} needs; {seconds:.3} s; {:.1} % of the quantity asked met, {vital_short} vital needs short",
        model.processes.len(),
        model.routes.len(),
        model.needs.len(),
        100.0 * met / asked,
    );
}

/// The city as one model: the councils' places, items and skills side by side (items and
/// skills shared by name), each link a route.
fn monolithic(councils: &[federation::Council], links: &[federation::Link]) -> Model {
    let mut city = Model::default();
    let mut offsets = Vec::new();
    for council in councils {
        let m = &council.model;
        let place = city.places.len();
        city.places
            .extend(m.places.iter().map(|p| format!("{} {p}", council.name)));
        let item = |i: usize, city: &mut Model| match city
            .items
            .iter()
            .position(|x| x.name == m.items[i].name)
        {
            Some(i) => i,
            None => {
                city.items.push(m.items[i].clone());
                city.items.len() - 1
            }
        };
        let items: Vec<usize> = (0..m.items.len()).map(|i| item(i, &mut city)).collect();
        let skill = city.skills.len();
        city.skills
            .extend(m.skills.iter().map(|s| format!("{} {s}", council.name)));
        city.needs.extend(m.needs.iter().map(|n| plan::Need {
            item: items[n.item],
            place: place + n.place,
            ..n.clone()
        }));
        city.supplies
            .extend(m.supplies.iter().map(|s| plan::Supply {
                item: items[s.item],
                place: place + s.place,
                ..s.clone()
            }));
        city.routes.extend(m.routes.iter().map(|r| plan::Route {
            item: items[r.item],
            from: place + r.from,
            to: place + r.to,
            ..r.clone()
        }));
        city.labour.extend(m.labour.iter().map(|l| plan::Labour {
            skill: skill + l.skill,
            place: place + l.place,
            ..l.clone()
        }));
        let equipment = city.equipment.len();
        city.equipment
            .extend(m.equipment.iter().map(|e| plan::Equipment {
                place: place + e.place,
                ..e.clone()
            }));
        city.processes.extend(m.processes.iter().map(|p| {
            plan::Process {
                place: place + p.place,
                outputs: p.outputs.iter().map(|&(i, x)| (items[i], x)).collect(),
                inputs: p.inputs.iter().map(|&(i, x)| (items[i], x)).collect(),
                labour: p.labour.iter().map(|&(s, h)| (skill + s, h)).collect(),
                equipment: p
                    .equipment
                    .iter()
                    .map(|&(e, h)| (equipment + e, h))
                    .collect(),
                ..p.clone()
            }
        }));
        offsets.push(place);
    }
    for link in links {
        let item = city
            .items
            .iter()
            .position(|x| x.name == link.item)
            .expect("a known item");
        city.routes.push(plan::Route {
            item,
            from: offsets[link.from.0] + link.from.1,
            to: offsets[link.to.0] + link.to.1,
            hours_per_unit: link.hours_per_unit,
            capacity: link.capacity,
        });
    }
    city
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let settings = Settings::default();
    if !args.iter().any(|a| a == "--city-only") {
        for items in [300, 1000] {
            let model = generate::production_model(items, 8);
            let start = Instant::now();
            let draft = plan::draft(&model, &settings, &Highs).expect("a plan");
            let seconds = start.elapsed().as_secs_f64();
            report(&format!("HiGHS, {items} items"), &model, &draft, seconds);
            if args.iter().any(|a| a == "--anchor") {
                anchor(&model, &settings, items);
            }
        }
    }
    if !args.iter().any(|a| a == "--no-city") {
        let (councils, links) = generate::city(50, 200, 8);
        let start = Instant::now();
        let planned = federation::plan(&councils, &links, &settings, &Highs).expect("a plan");
        let seconds = start.elapsed().as_secs_f64();
        let asked: f64 = councils
            .iter()
            .flat_map(|c| &c.model.needs)
            .map(|n| n.quantity)
            .sum();
        let met: f64 = councils
            .iter()
            .zip(&planned.councils)
            .flat_map(|(c, p)| p.draft.met[..c.model.needs.len()].iter())
            .map(|m| m.quantity)
            .sum();
        let carried: f64 = planned.flows.iter().map(|f| f.from_stock + f.made).sum();
        let vital_short = |model: &Model, draft: &Draft| {
            let own = model.needs.len();
            draft.met[..own]
                .iter()
                .filter(|m| model.needs[m.need].urgency == plan::Urgency::Vital)
                .filter(|m| m.shortfall.is_some())
                .count()
        };
        let short: usize = councils
            .iter()
            .zip(&planned.councils)
            .map(|(c, p)| vital_short(&c.model, &p.draft))
            .sum();
        println!(
            "HiGHS by decomposition, 50 councils x 200 items, {} links: {seconds:.3} s, {} rounds, {:.1} % of the quantity asked met, {short} vital needs short, {} links used carrying {carried:.0} units",
            links.len(),
            planned.rounds,
            100.0 * met / asked,
            planned.flows.len(),
        );
        // The same councils without the federation, for what the links bring.
        let (mut alone_met, mut alone_short) = (0.0, 0);
        for council in &councils {
            let draft = plan::draft(&council.model, &settings, &Highs).expect("a plan");
            alone_met += draft.met.iter().map(|m| m.quantity).sum::<f64>();
            alone_short += vital_short(&council.model, &draft);
        }
        println!(
            "each council alone: {:.1} % of the quantity asked met, {alone_short} vital needs short",
            100.0 * alone_met / asked
        );
        if args.iter().any(|a| a == "--monolithic") {
            let city = monolithic(&councils, &links);
            let start = Instant::now();
            let draft = plan::draft(&city, &settings, &Highs).expect("a plan");
            let seconds = start.elapsed().as_secs_f64();
            report("HiGHS on the city as one program", &city, &draft, seconds);
        }
    }
}
