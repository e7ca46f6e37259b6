//! Benchmarks of the planner's allocation rounds and labour costs at the sizes of DESIGN.md
//! §11, on one core: 100,000 and 1,000,000 items over about 15 routes each, with needs of all
//! three classes from several receivers and about a third of the items short, so that the
//! fairness stages run; and labour-hour costs of 1,000,000 items.
//!
//! `cargo bench -p commune-core --bench plan_alloc [-- --items N]`; figures in
//! docs/benchmarks.md. Instances come from a fixed seed.

use std::time::Instant;

use commune_core::plan::labour::InputOutput;
use commune_core::plan::{
    Fairness, Item, Model, Need, Route, Settings, Supply, Urgency, allocate_routed,
};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const PLACES: usize = 10_000;
const RECEIVERS: usize = 200_000;

/// Items at 8 places each (of 10,000), 15 routes among them running downstream (half with a
/// capacity), 2 or 3 supplies at the 3 upstream places, 4 to 8 needs anywhere from 4
/// receivers; one item in three has half the supply it needs.
fn model(seed: u64, items: usize) -> Model {
    let mut rng = Rng(seed);
    let mut model = Model {
        places: (0..PLACES).map(|p| format!("place {p}")).collect(),
        ..Model::default()
    };
    let mut local = [0usize; 8];
    let mut receivers = [0usize; 4];
    for item in 0..items {
        model.items.push(Item {
            name: format!("item {item}"),
            unit: "kg".into(),
        });
        for place in &mut local {
            *place = rng.below(PLACES);
        }
        for receiver in &mut receivers {
            *receiver = rng.below(RECEIVERS);
        }
        for _ in 0..15 {
            let (a, b) = (rng.below(8), rng.below(7));
            let b = if b >= a { b + 1 } else { b };
            let (from, to) = (local[a.min(b)], local[a.max(b)]);
            let capacity = (rng.below(2) == 0).then(|| rng.uniform(5.0, 60.0));
            model.routes.push(Route {
                item,
                from,
                to,
                hours_per_unit: rng.uniform(0.05, 2.0),
                capacity,
            });
        }
        let mut asked = 0.0;
        for _ in 0..4 + rng.below(5) {
            let quantity = rng.uniform(1.0, 30.0);
            asked += quantity;
            model.needs.push(Need {
                id: format!("need {}", model.needs.len()),
                item,
                quantity,
                place: local[rng.below(8)],
                urgency: Urgency::ALL[rng.below(3)],
                receiver: format!("member {}", receivers[rng.below(4)]),
            });
        }
        let short = rng.below(3) == 0;
        let supplies = 2 + rng.below(2);
        for _ in 0..supplies {
            let share = asked / supplies as f64 * if short { 0.5 } else { 1.6 };
            model.supplies.push(Supply {
                id: format!("supply {}", model.supplies.len()),
                item,
                quantity: share * rng.uniform(0.7, 1.3),
                place: local[rng.below(3)],
            });
        }
    }
    model
}

/// Each item made from 2 to 5 others, using up 0.3 to 0.8 of a unit of inputs in all, with
/// 0.1 to 2 hours of direct labour per unit.
fn input_output(seed: u64, items: usize) -> InputOutput {
    let mut rng = Rng(seed);
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

/// This thread's time on a CPU so far, in seconds (Linux), so that figures taken on a shared
/// machine say what the work costs, beside the wall-clock time.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: f64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(nanos / 1e9)
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sizes: Vec<usize> = match args.iter().position(|a| a == "--items") {
        Some(i) => vec![args[i + 1].parse().expect("--items N")],
        None => vec![100_000, 1_000_000],
    };
    for &items in &sizes {
        let model = timed(&format!("generate {items} items (not counted)"), || {
            model(1, items)
        });
        println!(
            "  {} routes, {} needs, {} supplies",
            model.routes.len(),
            model.needs.len(),
            model.supplies.len()
        );
        for fairness in [Fairness::MaxMin, Fairness::Proportional] {
            let settings = Settings {
                fairness,
                ..Settings::default()
            };
            let routed = timed(&format!("allocate {items} items, {fairness:?}"), || {
                allocate_routed(&model, &settings).unwrap()
            });
            let draft = routed.draft;
            let short = draft.met.iter().filter(|m| m.shortfall.is_some()).count();
            let met: f64 = draft.met.iter().map(|m| m.quantity).sum();
            println!(
                "  {short} needs short, {met:.0} units met, {:.0} transport hours, {} deliveries",
                draft.transport_hours,
                draft.deliveries.len()
            );
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
