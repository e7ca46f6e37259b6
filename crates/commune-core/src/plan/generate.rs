//! Generated production models and allocation rounds for benchmarks and tests: a fixed seed
//! always gives the same model (the seed is an argument; nothing here draws entropy).
//!
//! A model of `n` items has about one place per 50 items and four skills. Two items in five are
//! raw (stocked at a home place); the rest are made, each by one process at its home place from
//! one to three items of lower levels (three levels deep), with one or two skills' labour and a
//! capacity. Routes carry inputs and needed items from their home places to where they are used;
//! needs of every class come from a pool of households, a quarter as many as items.

use std::collections::BTreeSet;

use super::federation::{Council, Link};
use super::{Item, Labour, Model, Need, Process, Route, Supply, Urgency};

/// splitmix64: small, fast and good enough to scatter a benchmark's model.
#[derive(Debug, Clone)]
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A whole number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// A number in `low..high`, at full precision.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A number in `low..high`, in steps of a hundredth.
    pub fn between(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * (self.below(100) as f64 / 100.0)
    }
}

/// The item names shared by every generated council, so that federations can link them.
fn item_name(i: usize) -> String {
    format!("item {i}")
}

/// A production model of `items` items (see the module's documentation).
pub fn production_model(items: usize, seed: u64) -> Model {
    let mut rng = SplitMix(seed);
    let places = (items / 50).max(2);
    let skills = 4;
    let households = (items / 4).max(1);
    let level = |i: usize| match i * 20 / items.max(1) {
        0..8 => 0,
        8..13 => 1,
        13..17 => 2,
        _ => 3,
    };
    let home: Vec<usize> = (0..items).map(|_| rng.below(places)).collect();
    let mut model = Model {
        items: (0..items)
            .map(|i| Item {
                name: item_name(i),
                unit: "unit".into(),
            })
            .collect(),
        places: (0..places).map(|p| format!("place {p}")).collect(),
        skills: (0..skills).map(|s| format!("skill {s}")).collect(),
        ..Model::default()
    };
    let mut routes: BTreeSet<(usize, usize, usize)> = BTreeSet::new();
    let first_of_level = |l: usize| (0..items).find(|&i| level(i) == l).unwrap_or(0);
    for i in 0..items {
        if level(i) == 0 {
            model.supplies.push(Supply {
                id: format!("stock {i}"),
                item: i,
                quantity: rng.between(50.0, 400.0),
                place: home[i],
            });
            continue;
        }
        // Inputs from any lower level, so that chains run up to three processes deep.
        let below = first_of_level(level(i));
        let mut inputs: Vec<(usize, f64)> = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let input = rng.below(below);
            if inputs.iter().all(|&(j, _)| j != input) {
                inputs.push((input, rng.between(0.2, 2.0)));
                if home[input] != home[i] {
                    routes.insert((input, home[input], home[i]));
                }
            }
        }
        let mut labour = vec![(rng.below(skills), rng.between(0.05, 0.5))];
        if rng.below(2) == 0 {
            let skill = rng.below(skills);
            if skill != labour[0].0 {
                labour.push((skill, rng.between(0.05, 0.3)));
            }
        }
        model.processes.push(Process {
            id: format!("process {i}"),
            name: format!("making item {i}"),
            place: home[i],
            outputs: vec![(i, 1.0)],
            inputs,
            labour,
            equipment: Vec::new(),
            capacity: rng.between(20.0, 200.0),
        });
    }
    for (i, &made_at) in home.iter().enumerate() {
        if level(i) == 0 && rng.below(10) >= 3 {
            continue;
        }
        for _ in 0..1 + rng.below(2) {
            let place = rng.below(places);
            let urgency = match rng.below(20) {
                0..5 => Urgency::Vital,
                5..12 => Urgency::Important,
                _ => Urgency::Wanted,
            };
            model.needs.push(Need {
                id: format!("need {}", model.needs.len()),
                item: i,
                quantity: rng.between(5.0, 40.0),
                place,
                urgency,
                receiver: format!("household {}", rng.below(households)),
            });
            if place != made_at {
                routes.insert((i, made_at, place));
            }
        }
    }
    for (item, from, to) in routes {
        let capacity = (rng.below(3) == 0).then(|| rng.between(30.0, 300.0));
        model.routes.push(Route {
            item,
            from,
            to,
            hours_per_unit: rng.between(0.01, 0.1),
            capacity,
        });
    }
    for place in 0..places {
        for skill in 0..skills {
            model.labour.push(Labour {
                id: format!("{} at place {place}", model.skills[skill]),
                skill,
                place,
                hours: rng.between(20.0, 300.0),
            });
        }
    }
    model
}

/// A city of `councils` councils of `items` items each, sharing one catalogue, linked in a
/// ring and by a few random pairs: each link carries one item from where a council makes or
/// stocks it to where the other council needs it.
pub fn city(councils: usize, items: usize, seed: u64) -> (Vec<Council>, Vec<Link>) {
    let mut rng = SplitMix(seed);
    let members: Vec<Council> = (0..councils)
        .map(|c| Council {
            name: format!("council {c}"),
            model: production_model(items, seed.wrapping_add(1 + c as u64)),
        })
        .collect();
    let mut links = Vec::new();
    if councils < 2 {
        return (members, links);
    }
    for c in 0..councils {
        for _ in 0..items / 10 {
            let other = if rng.below(2) == 0 {
                (c + 1) % councils
            } else {
                rng.below(councils)
            };
            let needs = &members[other].model.needs;
            if other == c || needs.is_empty() {
                continue;
            }
            // Towards a need of the other council, from where the item is made or stocked here.
            let need = &needs[rng.below(needs.len())];
            let model = &members[c].model;
            let made = model.processes.iter().find(|p| p.outputs[0].0 == need.item);
            let stocked = model.supplies.iter().find(|s| s.item == need.item);
            let from = match (made, stocked) {
                (Some(process), _) => process.place,
                (None, Some(supply)) => supply.place,
                (None, None) => continue,
            };
            links.push(Link {
                item: item_name(need.item),
                from: (c, from),
                to: (other, need.place),
                hours_per_unit: rng.between(0.1, 0.5),
                capacity: Some(rng.between(20.0, 100.0)),
            });
        }
    }
    (members, links)
}

/// An allocation round of `items` items, each at 8 places (of 10,000), with 15 routes among
/// them running downstream (half with a capacity), 2 or 3 supplies at the 3 upstream places,
/// and 4 to 8 needs of every class anywhere from 4 receivers (of 200,000); one item in three
/// has half the supply its needs ask, so that the fairness stages run.
pub fn allocation_model(items: usize, seed: u64) -> Model {
    const PLACES: usize = 10_000;
    const RECEIVERS: usize = 200_000;
    let mut rng = SplitMix(seed);
    let mut model = Model {
        places: (0..PLACES).map(|p| format!("place {p}")).collect(),
        ..Model::default()
    };
    let mut local = [0usize; 8];
    let mut receivers = [0usize; 4];
    for item in 0..items {
        model.items.push(Item {
            name: item_name(item),
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
