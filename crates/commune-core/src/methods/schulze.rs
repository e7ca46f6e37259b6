//! The Schulze method (beat-path), with an optional status quo a winner must beat.
//!
//! Link strength is "winning votes", ties broken by fewer losing votes (as Debian's
//! constitution and LiquidFeedback define it): the link a→b exists when more voters rank a
//! above b than b above a, and is stronger when more rank a above b, or, as many, when fewer
//! rank b above a. With complete rankings every usual strength (margins, winning votes) gives
//! the same result. The ranking is layered: the first group is every candidate no other beats
//! by strongest paths, the next group the same among the rest, and so on.
//!
//! Status quo (LiquidFeedback): when one candidate stands for "no change", the winner is the
//! best ranked candidate that beats it by strongest paths; if none does, the status quo stays.

use super::{Pairwise, Profile, Report, TieOrder, standing};

/// Counts `profile` by Schulze. `status_quo` is a candidate index.
pub fn count(profile: &Profile, status_quo: Option<u32>, tie: &TieOrder) -> Report {
    count_preferences(
        preferences(profile),
        &profile.withdrawn,
        standing(profile),
        status_quo,
        tie,
    )
}

/// Counts by Schulze from the pairwise preferences alone (`preferences[a][b]`: the weight of
/// ballots ranking a above b), as when councils' matrices are added up.
pub fn count_preferences(
    preferences: Vec<Vec<u64>>,
    withdrawn: &[bool],
    mut left: Vec<u32>,
    status_quo: Option<u32>,
    tie: &TieOrder,
) -> Report {
    let n = preferences.len();
    let strongest_paths = strongest_paths(&preferences, withdrawn);
    let beats = |a: usize, b: usize| key(strongest_paths[a][b]) > key(strongest_paths[b][a]);

    let mut report = Report::new("schulze", 1);
    let mut ranking = Vec::new();
    while !left.is_empty() {
        let top: Vec<u32> = left
            .iter()
            .copied()
            .filter(|&a| !left.iter().any(|&b| beats(b as usize, a as usize)))
            .collect();
        // Strongest-path defeats form a strict partial order, so some candidate is unbeaten.
        debug_assert!(!top.is_empty());
        left.retain(|c| !top.contains(c));
        ranking.push(top);
    }
    let mut order = Vec::with_capacity(n);
    for group in &ranking {
        let mut group = group.clone();
        tie.sort(&mut group);
        if group.len() > 1 {
            report.tie(
                &group,
                group[0],
                if order.is_empty() { "win" } else { "rank" },
            );
        }
        order.extend(group);
    }
    // One seat: the winner only. The whole order stays in `ranking`, with its tie-breaks.
    report.winners = match status_quo {
        None => order.into_iter().take(1).collect(),
        Some(status_quo) => {
            let winner = order
                .iter()
                .copied()
                .find(|&c| c != status_quo && beats(c as usize, status_quo as usize));
            report.notes.push(match winner {
                Some(winner) => format!(
                    "{{{status_quo}}} is the status quo; {{{winner}}}, the best ranked option that beats it, wins"
                ),
                None => format!("{{{status_quo}}} is the status quo and no option beats it: it stays"),
            });
            vec![winner.unwrap_or(status_quo)]
        }
    };
    report.ranking = Some(ranking);
    report.pairwise = Some(Pairwise {
        preferences,
        strongest_paths,
    });
    report
}

/// `d[a][b]`: the weight of ballots ranking a above b (unranked candidates rank below every
/// ranked one).
pub fn preferences(profile: &Profile) -> Vec<Vec<u64>> {
    let n = profile.candidates.len();
    let mut flat = vec![0u64; n * n];
    // The level of each candidate on the current ballot (0 best); unranked = `usize::MAX`.
    let mut level = vec![u32::MAX; n];
    let mut ranked: Vec<usize> = Vec::with_capacity(n);
    for (weight, ranking) in profile.ballots() {
        ranked.clear();
        for (depth, group) in ranking.groups().enumerate() {
            for candidate in group.candidates() {
                level[candidate as usize] = depth as u32;
                ranked.push(candidate as usize);
            }
        }
        for &a in &ranked {
            let row = &mut flat[a * n..(a + 1) * n];
            let la = level[a];
            // Branch-free, so that the compiler can vectorise the row.
            for (cell, &lb) in row.iter_mut().zip(&level) {
                *cell += weight * u64::from(la < lb);
            }
        }
        for &a in &ranked {
            level[a] = u32::MAX;
        }
    }
    flat.chunks(n.max(1)).take(n).map(<[u64]>::to_vec).collect()
}

/// Orders link strengths: more winning votes, then fewer losing votes; `[0, 0]` is no link.
fn key([win, lose]: [u64; 2]) -> (u64, u64) {
    if win == 0 && lose == 0 {
        (0, 0)
    } else {
        (win, u64::MAX - lose)
    }
}

/// Widest paths (Floyd–Warshall) over the links of `preferences`, skipping withdrawn
/// candidates.
fn strongest_paths(preferences: &[Vec<u64>], withdrawn: &[bool]) -> Vec<Vec<[u64; 2]>> {
    let n = preferences.len();
    let mut p = vec![vec![[0u64; 2]; n]; n];
    for a in 0..n {
        for b in 0..n {
            if a != b && !withdrawn[a] && !withdrawn[b] && preferences[a][b] > preferences[b][a] {
                p[a][b] = [preferences[a][b], preferences[b][a]];
            }
        }
    }
    for via in 0..n {
        for a in 0..n {
            if a == via || key(p[a][via]) == (0, 0) {
                continue;
            }
            for b in 0..n {
                if b == a || b == via {
                    continue;
                }
                let through = std::cmp::min_by_key(p[a][via], p[via][b], |&s| key(s));
                if key(through) > key(p[a][b]) {
                    p[a][b] = through;
                }
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::tests::letters;

    #[test]
    fn the_45_voter_example_of_schulzes_paper() {
        let profile = letters(
            "ABCDE",
            &[
                (5, "ACBED"),
                (5, "ADECB"),
                (8, "BEDAC"),
                (3, "CABED"),
                (7, "CAEBD"),
                (2, "CBADE"),
                (7, "DCEBA"),
                (8, "EBADC"),
            ],
        );
        let report = count(&profile, None, &TieOrder::from_seed(&[0; 32], 5));
        // E > A > C > B > D, and E alone wins the one seat.
        assert_eq!(report.winners, vec![4]);
        assert_eq!(
            report.ranking.as_deref(),
            Some(&[vec![4], vec![0], vec![2], vec![1], vec![3]][..])
        );
        let pairwise = report.pairwise.unwrap();
        assert_eq!(pairwise.preferences[0][1], 20);
        assert_eq!(pairwise.preferences[1][0], 25);
        // The paper's matrix of strongest paths (winning votes), row A to E.
        let strengths: Vec<Vec<u64>> = pairwise
            .strongest_paths
            .iter()
            .map(|row| row.iter().map(|&[win, _]| win).collect())
            .collect();
        assert_eq!(
            strengths,
            [
                [0, 28, 28, 30, 24],
                [25, 0, 28, 33, 24],
                [25, 29, 0, 29, 24],
                [25, 28, 28, 0, 24],
                [25, 28, 28, 31, 0],
            ]
        );
        assert!(report.tie_breaks.is_empty());
    }

    #[test]
    fn a_status_quo_nobody_beats_stays() {
        let profile = letters("SXY", &[(4, "SXY"), (2, "XYS"), (1, "YXS")]);
        let order = TieOrder::from_seed(&[0; 32], 3);
        assert_eq!(count(&profile, Some(0), &order).winners, vec![0]);
        let profile = letters("SXY", &[(3, "XSY"), (2, "SXY")]);
        assert_eq!(count(&profile, Some(0), &order).winners, vec![1]);
    }
}
