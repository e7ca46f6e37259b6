//! Benchmarks of the planner's allocation rounds and labour costs at the sizes of DESIGN.md
//! §11: 100,000 and 1,000,000 items over about 15 routes each, with needs of all three
//! classes from several receivers and about a third of the items short, so that the fairness
//! stages run (`plan::generate::allocation_model`), on one thread and on every core; beside
//! them, as the anchor, a plain per-item successive-shortest-path min-cost flow on the same
//! instance; and labour-hour costs of 1,000,000 items.
//!
//! `cargo bench -p commune-core --bench plan_alloc [-- --items N]`; figures in
//! docs/benchmarks.md. Instances come from a fixed seed.

use std::time::Instant;

use commune_core::plan::alloc::allocate_on;
use commune_core::plan::flow::Network;
use commune_core::plan::generate::{SplitMix, allocation_model};
use commune_core::plan::labour::InputOutput;
use commune_core::plan::{Fairness, Model, Settings};

/// Each item made from 2 to 5 others, using up 0.3 to 0.8 of a unit of inputs in all, with
/// 0.1 to 2 hours of direct labour per unit.
fn input_output(seed: u64, items: usize) -> InputOutput {
    let mut rng = SplitMix(seed);
    let mut system = InputOutput {
        start: vec![0],
        ..InputOutput::default()
    };
    for _ in 0..items {
        system.direct.push(rng.uniform(0.1, 2.0));
        let inputs = 2 + rng.below(4);
        let total = rng.uniform(0.3, 0.8);
        for _ in 0..inputs {
            system.input.push(rng.below(items) as u32);
            system.amount.push(total / inputs as f64);
        }
        system.start.push(system.input.len());
    }
    system
}

/// The process's time on the CPUs so far, all threads together, in seconds (Linux: user and
/// system time from `/proc/self/stat`, in ticks of 1/100 s), so that figures taken on a shared
/// machine say what the work costs, beside the wall-clock time.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses: state first, then utime
    // and stime as the 12th and 13th.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}

fn timed<T>(what: &str, run: impl FnOnce() -> T) -> T {
    let (start, cpu) = (Instant::now(), cpu_seconds());
    let result = run();
    let wall = start.elapsed().as_secs_f64();
    match (cpu, cpu_seconds()) {
        (Some(before), Some(after)) => {
            println!("{what}: {wall:.3} s ({:.3} s on the CPU)", after - before)
        }
        _ => println!("{what}: {wall:.3} s"),
    }
    result
}

/// The anchor: a plain successive-shortest-path min-cost flow per item (no classes, no
/// fairness, no explanations, no deliveries), on the same network solver and the same
/// instance. Items come in order in the generated model, so each item's needs, supplies and
/// routes are runs. Returns the units delivered and their transport hours.
fn plain_ssp(model: &Model) -> (f64, f64) {
    const SOURCE: usize = 0;
    const SINK: usize = 1;
    let mut network = Network::new();
    let mut local = vec![usize::MAX; model.places.len()];
    let mut places = Vec::new();
    let (mut met, mut hours) = (0.0, 0.0);
    let needs = model.needs.chunk_by(|a, b| a.item == b.item);
    let supplies = model.supplies.chunk_by(|a, b| a.item == b.item);
    let routes = model.routes.chunk_by(|a, b| a.item == b.item);
    for ((needs, supplies), routes) in needs.zip(supplies).zip(routes) {
        for supply in supplies {
            local_node(&mut local, &mut places, supply.place);
        }
        for route in routes {
            local_node(&mut local, &mut places, route.from);
            local_node(&mut local, &mut places, route.to);
        }
        for need in needs {
            local_node(&mut local, &mut places, need.place);
        }
        network.reset(2 + places.len(), 1e-9);
        for supply in supplies {
            network.add_arc(SOURCE, local[supply.place], supply.quantity, 0.0);
        }
        for route in routes {
            let capacity = route.capacity.unwrap_or(f64::INFINITY);
            let (from, to) = (local[route.from], local[route.to]);
            network.add_arc(from, to, capacity, route.hours_per_unit);
        }
        for need in needs {
            network.add_arc(local[need.place], SINK, need.quantity, 0.0);
        }
        let (sent, cost) = network.min_cost_flow(SOURCE, SINK, true);
        met += sent;
        hours += cost;
        for place in places.drain(..) {
            local[place] = usize::MAX;
        }
    }
    (met, hours)
}

/// Gives a place its node in the anchor's network, if it has none yet for this item.
fn local_node(local: &mut [usize], places: &mut Vec<usize>, place: usize) {
    if local[place] == usize::MAX {
        local[place] = 2 + places.len();
        places.push(place);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sizes: Vec<usize> = match args.iter().position(|a| a == "--items") {
        Some(i) => vec![args[i + 1].parse().expect("--items N")],
        None => vec![100_000, 1_000_000],
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    for &items in &sizes {
        let model = timed(&format!("generate {items} items (not counted)"), || {
            allocation_model(items, 1)
        });
        println!(
            "  {} routes, {} needs, {} supplies",
            model.routes.len(),
            model.needs.len(),
            model.supplies.len()
        );
        let (met, hours) = timed(
            &format!("anchor: plain per-item successive shortest paths, {items} items"),
            || plain_ssp(&model),
        );
        println!("  {met:.0} units met, {hours:.0} transport hours (no classes, no fairness)");
        for fairness in [Fairness::MaxMin, Fairness::Proportional] {
            let settings = Settings {
                fairness,
                ..Settings::default()
            };
            for threads in [1, cores] {
                let routed = timed(
                    &format!("allocate {items} items, {fairness:?}, {threads} thread(s)"),
                    || allocate_on(&model, &settings, threads).unwrap(),
                );
                let draft = routed.draft;
                let short = draft.met.iter().filter(|m| m.shortfall.is_some()).count();
                let met: f64 = draft.met.iter().map(|m| m.quantity).sum();
                println!(
                    "  {short} needs short, {met:.0} units met, {:.0} transport hours, {} deliveries",
                    draft.transport_hours,
                    draft.deliveries.len()
                );
                if cores == 1 {
                    break;
                }
            }
        }
    }
    let items = *sizes.last().unwrap();
    let system = input_output(2, items);
    let costs = timed(&format!("labour costs of {items} items"), || {
        system.costs().unwrap()
    });
    let mean = costs.iter().sum::<f64>() / costs.len() as f64;
    println!("  mean cost {mean:.3} h");
}
