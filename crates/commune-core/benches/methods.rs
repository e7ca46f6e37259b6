//! Benchmarks of the decision methods at the sizes of DESIGN.md §11, on one core:
//! Schulze with 1,000,000 ballots × 10 options; IRV, Meek STV and Scottish STV with
//! 1,000,000 ballots × 20 candidates (5 seats), and stv-rs's Meek on the same election.
//!
//! `cargo bench -p commune-core --bench methods [-- --ballots N]`; figures in docs/benchmarks.md.
//! Ballots are random complete rankings from a fixed seed: the hardest case for STV (no
//! candidate stands out, so every round iterates long) and the one that shares the least.

use std::time::Instant;

use commune_core::methods::{self, Profile, TieOrder};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn rankings(seed: u64, candidates: u32, ballots: usize) -> Vec<Vec<u32>> {
    let mut rng = Rng(seed);
    (0..ballots)
        .map(|_| {
            let mut order: Vec<u32> = (0..candidates).collect();
            for i in (1..order.len()).rev() {
                order.swap(i, (rng.next() % (i as u64 + 1)) as usize);
            }
            order
        })
        .collect()
}

fn profile(candidates: u32, rankings: &[Vec<u32>]) -> Profile {
    let mut profile = Profile::new((0..candidates).map(|c| format!("c{c}")).collect());
    for order in rankings {
        profile.push(1, order.iter().map(|&c| [c])).unwrap();
    }
    profile
}

fn timed<T>(what: &str, run: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let result = run();
    println!("{what}: {:.3} s", start.elapsed().as_secs_f64());
    result
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let ballots = args
        .iter()
        .position(|a| a == "--ballots")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(1_000_000);
    println!("{ballots} ballots, one core");

    let ten = rankings(1, 10, ballots);
    let ten = timed("profile of 10 candidates (not counted below)", || {
        profile(10, &ten)
    });
    let report = timed("schulze, 10 candidates", || {
        methods::schulze::count(&ten, None, &TieOrder::from_seed(&[0; 32], 10))
    });
    println!("  winner c{}", report.winners[0]);
    drop(ten);

    let orders = rankings(2, 20, ballots);
    let twenty = timed("profile of 20 candidates (not counted below)", || {
        profile(20, &orders)
    });
    let tie = TieOrder::from_seed(&[0; 32], 20);
    let report = timed("irv, 20 candidates", || methods::irv::count(&twenty, &tie));
    println!("  winner c{}", report.winners[0]);
    let report = timed("stv-scottish, 20 candidates, 5 seats", || {
        methods::scottish::count(&twenty, 5, &tie)
    });
    println!("  elected {:?}", report.winners);
    let ours = timed("stv-meek, 20 candidates, 5 seats", || {
        methods::meek::count(&twenty, 5, &tie)
    });
    println!(
        "  elected {:?} in {} rounds",
        ours.winners,
        ours.rounds.len()
    );
    drop(twenty);

    use stv_rs::arithmetic::{FixedDecimal9, Integer64};
    use stv_rs::types::{Ballot, Candidate, Election};
    let mut favoured: Vec<u32> = (0..20).collect();
    tie.sort(&mut favoured);
    let election = Election::builder()
        .title("random")
        .num_seats(5)
        .candidates(
            (0..20)
                .map(|c| Candidate::new(format!("c{c}"), false))
                .collect::<Vec<_>>(),
        )
        .ballots(
            orders
                .iter()
                .map(|o| Ballot::new(1, o.iter().map(|&c| [c as usize])))
                .collect::<Vec<_>>(),
        )
        .tie_order(
            favoured
                .iter()
                .rev()
                .map(|&c| c as usize)
                .collect::<Vec<_>>(),
        )
        .build();
    drop(orders);
    let theirs = timed(
        "stv-rs meek (fixed9, no parallelism), same election",
        || {
            stv_rs::meek::stv_droop::<Integer64, FixedDecimal9>(
                &mut std::io::sink(),
                &election,
                "commune",
                6,
                stv_rs::cli::Parallel::No,
                None,
                false,
                false,
                false,
            )
            .unwrap()
        },
    );
    let mut a: Vec<usize> = ours.winners.iter().map(|&c| c as usize).collect();
    let mut b = theirs.elected.clone();
    a.sort();
    b.sort();
    println!(
        "  elected {:?}; the same as ours: {}",
        theirs.elected,
        a == b
    );
}
