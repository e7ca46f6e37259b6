//! A time poll: for each proposed slot, each voter answers yes, maybe or no. The best slot
//! has the most yes answers; among those, the most maybe answers; then the tie-break order.

use minicbor::{Decode, Encode};
use serde::{Deserialize, Serialize};

use super::{Decimal, Report, Round, TieOrder};

/// One answer about one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cbor(index_only)]
#[serde(rename_all = "kebab-case")]
pub enum Availability {
    #[n(0)]
    Yes,
    #[n(1)]
    Maybe,
    #[n(2)]
    No,
}

/// Counts time-poll ballots: `(weight, one answer per slot)`.
pub fn count<'a>(
    slots: &[String],
    ballots: impl IntoIterator<Item = (u64, &'a [Availability])>,
    tie: &TieOrder,
) -> Report {
    let mut counts = vec![[0u64; 3]; slots.len()];
    for (weight, answers) in ballots {
        for (count, &answer) in counts.iter_mut().zip(answers) {
            count[answer as usize] += weight;
        }
    }
    let mut report = Report::new("time-poll", 1);
    for (slot, [yes, maybe, no]) in slots.iter().zip(&counts) {
        report
            .notes
            .push(format!("{slot}: {yes} yes, {maybe} maybe, {no} no"));
    }
    report.rounds.push(Round {
        votes: counts.iter().map(|c| Some(Decimal::whole(c[0]))).collect(),
        action: "yes answers per slot; the most yes wins, then the most maybe".into(),
        ..Round::default()
    });
    let keys: Vec<(u64, u64)> = counts.iter().map(|c| (c[0], c[1])).collect();
    let (ranking, order) = super::score::rank_by(&keys, tie, &mut report);
    report.ranking = Some(ranking);
    report.winners = order.into_iter().take(1).collect();
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use Availability::*;

    #[test]
    fn most_yes_then_most_maybe() {
        let slots = vec!["mon".to_string(), "tue".into(), "wed".into()];
        let tie = TieOrder::from_seed(&[0; 32], 3);
        let ballots: [(u64, &[Availability]); 3] = [
            (1, &[Yes, Yes, No]),
            (1, &[Maybe, Yes, Yes]),
            (1, &[Yes, No, Maybe]),
        ];
        let report = count(&slots, ballots, &tie);
        // mon and tue have 2 yes each; mon has a maybe.
        assert_eq!(report.winners, vec![0]);
        assert_eq!(report.ranking, Some(vec![vec![0], vec![1], vec![2]]));
    }
}
