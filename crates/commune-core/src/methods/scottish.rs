//! STV by the rules of Scottish local government elections (the Scottish Local Government
//! Elections Order 2007, Schedule 1, rules 45 to 52), in exact integer arithmetic.
//!
//! - Values are kept to 5 decimal places; every computed value is truncated ("any remainder
//!   being ignored").
//! - Quota = (valid ballots / (seats + 1)), rounded down, + 1. A ballot is valid when it has
//!   a single first preference for a standing candidate.
//! - After each stage every continuing candidate at or over the quota is elected, the highest
//!   first.
//! - While a surplus is untransferred, the largest is transferred: **every** ballot of the
//!   elected candidate moves on to its next continuing preference at value
//!   `value × surplus / candidate's total`, truncated (the weighted inclusive Gregory method);
//!   the candidate keeps the quota.
//! - Otherwise the continuing candidate with the fewest votes is excluded and each of its
//!   ballots moves on at its current value.
//! - A ballot with no next continuing preference (or two candidates at its next rank) is
//!   non-transferable.
//! - When the continuing candidates are as many as the seats left, they are all elected.
//! - Ties (equal surpluses, or equal fewest votes): the values at the most recent earlier
//!   stage at which the tied candidates differed decide (the higher surplus is transferred
//!   first, the lower total is excluded); then, where the Order draws lots, the tie-break
//!   order.

use super::irv::next_choice;
use super::{Decimal, Profile, Report, Round, TieOrder, look_back, standing};

const ONE: u64 = 100_000;
const PLACES: u8 = 5;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Continuing,
    Elected,
    Excluded,
}

/// Counts `profile` by the Scottish STV rules for `seats` seats.
pub fn count(profile: &Profile, seats: u32, tie: &TieOrder) -> Report {
    let n = profile.candidates.len();
    let mut report = Report::new("stv-scottish", seats);
    // Each ballot line is a paper with its weight; the papers of one line move together.
    let papers: Vec<(u64, &[u32])> = profile.marked();
    let mut status = vec![Status::Excluded; n];
    for c in standing(profile) {
        status[c as usize] = Status::Continuing;
    }
    let continuing_mask = |status: &[Status]| -> Vec<bool> {
        status.iter().map(|&s| s == Status::Continuing).collect()
    };
    let mut value = vec![ONE; papers.len()];
    let mut cursor = vec![0usize; papers.len()];
    let mut piles: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut votes = vec![0u64; n];
    let mut non_transferable = 0u64;
    let mut valid = 0u64;
    let mask = continuing_mask(&status);
    for (i, &(weight, marks)) in papers.iter().enumerate() {
        if let Some((candidate, at)) = next_choice(marks, 0, &mask) {
            cursor[i] = at;
            piles[candidate as usize].push(i as u32);
            votes[candidate as usize] += ONE * weight;
            valid += weight;
        }
    }
    let quota = (valid / (u64::from(seats) + 1) + 1) * ONE;
    report.notes.push(format!(
        "{valid} valid ballot(s), {seats} seat(s): quota {}",
        Decimal::new(u128::from(quota), PLACES)
    ));
    let mut elected: Vec<u32> = Vec::new();
    let mut pending: Vec<u32> = Vec::new();
    let mut action = "first preferences".to_owned();
    let mut stage_excluded = Vec::new();
    loop {
        // The end of a stage: elect those at or over the quota, highest first.
        let mut reached: Vec<u32> = (0..n as u32)
            .filter(|&c| status[c as usize] == Status::Continuing && votes[c as usize] >= quota)
            .collect();
        order_by_votes(&mut reached, &votes, tie);
        reached.truncate(seats as usize - elected.len());
        for &c in &reached {
            status[c as usize] = Status::Elected;
            pending.push(c);
        }
        elected.extend(&reached);
        report.rounds.push(Round {
            votes: (0..n)
                .map(|c| {
                    (status[c] != Status::Excluded)
                        .then(|| Decimal::new(u128::from(votes[c]), PLACES))
                })
                .collect(),
            exhausted: Some(Decimal::new(u128::from(non_transferable), PLACES)),
            threshold: Some(Decimal::new(u128::from(quota), PLACES)),
            elected: reached,
            excluded: std::mem::take(&mut stage_excluded),
            action: std::mem::take(&mut action),
            ..Round::default()
        });
        let left = seats as usize - elected.len();
        if left == 0 {
            break;
        }
        let mut hopefuls: Vec<u32> = (0..n as u32)
            .filter(|&c| status[c as usize] == Status::Continuing)
            .collect();
        if hopefuls.len() <= left {
            order_by_votes(&mut hopefuls, &votes, tie);
            for &c in &hopefuls {
                status[c as usize] = Status::Elected;
            }
            elected.extend(&hopefuls);
            report.rounds.push(Round {
                votes: report
                    .rounds
                    .last()
                    .map(|r| r.votes.clone())
                    .unwrap_or_default(),
                elected: hopefuls,
                action: "as many continuing candidates as seats left: they are elected".into(),
                ..Round::default()
            });
            break;
        }
        let surpluses: Vec<u32> = pending
            .iter()
            .copied()
            .filter(|&c| votes[c as usize] > quota)
            .collect();
        let (from, transfer_value) = if !surpluses.is_empty() {
            let largest = surpluses
                .iter()
                .map(|&c| votes[c as usize])
                .max()
                .unwrap_or(0);
            let tied: Vec<u32> = surpluses
                .iter()
                .copied()
                .filter(|&c| votes[c as usize] == largest)
                .collect();
            let narrowed = look_back(&report.rounds, &tied, false);
            let from = if narrowed.len() == 1 {
                narrowed[0]
            } else {
                let chosen = tie.first(&narrowed);
                report.tie(&narrowed, chosen, "surplus");
                chosen
            };
            pending.retain(|&c| c != from);
            let total = votes[from as usize];
            let surplus = total - quota;
            action = format!(
                "the surplus of {{{from}}} ({}) is transferred: each ballot at value × {} / {}",
                Decimal::new(u128::from(surplus), PLACES),
                Decimal::new(u128::from(surplus), PLACES),
                Decimal::new(u128::from(total), PLACES)
            );
            votes[from as usize] = quota;
            (from, Some((surplus, total)))
        } else {
            let fewest = hopefuls
                .iter()
                .map(|&c| votes[c as usize])
                .min()
                .unwrap_or(0);
            let tied: Vec<u32> = hopefuls
                .iter()
                .copied()
                .filter(|&c| votes[c as usize] == fewest)
                .collect();
            let narrowed = look_back(&report.rounds, &tied, true);
            let from = if narrowed.len() == 1 {
                narrowed[0]
            } else {
                let chosen = tie.last(&narrowed);
                report.tie(&narrowed, chosen, "exclude");
                chosen
            };
            status[from as usize] = Status::Excluded;
            stage_excluded = vec![from];
            action = format!(
                "{{{from}}} is excluded with the fewest votes; its ballots move on at their values"
            );
            votes[from as usize] = 0;
            (from, None)
        };
        let mask = continuing_mask(&status);
        // In ballot order, so that the moves walk memory forwards.
        let mut pile = std::mem::take(&mut piles[from as usize]);
        pile.sort_unstable();
        for i in pile {
            let i = i as usize;
            let (weight, marks) = papers[i];
            if let Some((surplus, total)) = transfer_value {
                value[i] = (u128::from(value[i]) * u128::from(surplus) / u128::from(total)) as u64;
            }
            match next_choice(marks, cursor[i], &mask) {
                Some((candidate, at)) => {
                    cursor[i] = at;
                    piles[candidate as usize].push(i as u32);
                    votes[candidate as usize] += value[i] * weight;
                }
                None => non_transferable += value[i] * weight,
            }
        }
    }
    report.winners = elected;
    report
}

/// Sorts candidates elected at one stage by votes, highest first, then by the tie-break order.
/// The order only affects how the winners are listed: the Droop quota lets no more candidates
/// reach it than there are seats.
fn order_by_votes(candidates: &mut [u32], votes: &[u64], tie: &TieOrder) {
    candidates.sort_by_key(|&c| (std::cmp::Reverse(votes[c as usize]), tie.rank[c as usize]));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::tests::letters;

    #[test]
    fn a_surplus_moves_every_ballot_at_a_truncated_value() {
        // 15 valid ballots, 2 seats: quota 6. A has 9 and is elected; its surplus of 3 moves
        // all 9 of its ballots at 1 × 3 / 9 = 0.33333 (truncated), so B gets 7 × 0.33333.
        let profile = letters(
            "ABCD",
            &[(7, "AB"), (2, "AC"), (3, "B"), (2, "C"), (1, "D")],
        );
        let report = count(&profile, 2, &TieOrder::from_seed(&[0; 32], 4));
        assert_eq!(report.winners, vec![0, 1]);
        let text = |r: &Round, c: usize| r.votes[c].unwrap().to_string();
        assert_eq!(text(&report.rounds[0], 0), "9.00000");
        assert_eq!(text(&report.rounds[1], 1), "5.33331");
        assert_eq!(text(&report.rounds[1], 2), "2.66666");
        // D, then C, are excluded; their ballots go nowhere; B is elected as the last left.
        assert_eq!(report.rounds[2].excluded, vec![3]);
        assert_eq!(report.rounds[3].excluded, vec![2]);
        assert_eq!(report.rounds[3].exhausted.unwrap().to_string(), "3.66666");
        assert_eq!(report.rounds[4].elected, vec![1]);
    }
}
