//! Score voting: each voter gives every option a score from 0 to a maximum; the options with
//! the highest totals win. Ties in the totals are broken by the tie-break order.

use super::{Decimal, Report, Round, TieOrder};

/// Counts score ballots: `(weight, one score per option)`. Scores above `max` are not
/// expected (ballots are checked before); they count as `max`.
pub fn count<'a>(
    options: usize,
    max: u32,
    winners: u32,
    ballots: impl IntoIterator<Item = (u64, &'a [u32])>,
    tie: &TieOrder,
) -> Report {
    let mut totals = vec![0u64; options];
    let mut voters = 0u64;
    for (weight, scores) in ballots {
        voters += weight;
        for (total, &score) in totals.iter_mut().zip(scores) {
            *total += u64::from(score.min(max)) * weight;
        }
    }
    let mut report = Report::new("score", winners);
    report.notes.push(format!(
        "{voters} ballot(s), scores from 0 to {max}; the {winners} highest total(s) win"
    ));
    report.rounds.push(Round {
        votes: totals.iter().map(|&t| Some(Decimal::whole(t))).collect(),
        action: "total scores".into(),
        ..Round::default()
    });
    let (ranking, order) = rank_by(&totals, tie, &mut report);
    report.ranking = Some(ranking);
    report.winners = order.into_iter().take(winners as usize).collect();
    report
}

/// Groups options by a key (higher first) and orders each group by the tie-break order,
/// recording a tie-break wherever a group is larger than one.
pub(super) fn rank_by<K: Ord + Copy>(
    keys: &[K],
    tie: &TieOrder,
    report: &mut Report,
) -> (Vec<Vec<u32>>, Vec<u32>) {
    let mut options: Vec<u32> = (0..keys.len() as u32).collect();
    options.sort_by_key(|&o| std::cmp::Reverse(keys[o as usize]));
    let mut ranking: Vec<Vec<u32>> = Vec::new();
    for option in options {
        match ranking.last_mut() {
            Some(group) if keys[group[0] as usize] == keys[option as usize] => group.push(option),
            _ => ranking.push(vec![option]),
        }
    }
    let mut order = Vec::with_capacity(keys.len());
    for group in &mut ranking {
        group.sort_unstable();
        let mut tied = group.clone();
        tie.sort(&mut tied);
        if tied.len() > 1 {
            report.tie(
                &tied,
                tied[0],
                if order.is_empty() { "win" } else { "rank" },
            );
        }
        order.extend(tied);
    }
    (ranking, order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_total_wins_and_ties_are_recorded() {
        let tie = TieOrder::from_seed(&[0; 32], 3);
        let ballots: [(u64, &[u32]); 2] = [(2, &[5, 3, 0]), (1, &[0, 5, 9])];
        let report = count(3, 5, 1, ballots, &tie);
        // Totals 10, 11, 5 (the 9 counts as 5).
        assert_eq!(report.winners, vec![1]);
        assert_eq!(report.ranking, Some(vec![vec![1], vec![0], vec![2]]));
        let report = count(3, 5, 2, [(1, &[4u32, 4, 1][..])], &tie);
        assert_eq!(report.tie_breaks.len(), 1);
        assert_eq!(report.ranking, Some(vec![vec![0, 1], vec![2]]));
    }
}
