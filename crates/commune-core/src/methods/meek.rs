//! Meek's method of STV (Hill, Wichmann and Woodall's Algorithm 123, the method the New
//! Zealand STV regulations adopt), exactly as the reference counter Droop.py counts it with
//! its "Meek parametric" rule and omega = 10^-6, which stv-rs reproduces: a test checks
//! every count against stv-rs. Where the New Zealand regulations' own text differs in detail
//! (its omega, its rule for ties), this module follows Droop, and says so.
//!
//! Arithmetic is fixed-point with 9 decimal places: every product is rounded down, except
//! the two steps of a keep factor's update, which are rounded up.
//!
//! - Every candidate has a keep factor: 1 while hopeful, 0 once defeated (or withdrawn), and
//!   between while elected. A ballot of value 1 gives each candidate it ranks, in order,
//!   `value × keep factor`, and passes on `value × (1 − keep factor)`.
//! - Threshold = (ballots − exhausted) / (seats + 1), rounded down, plus 10^-9.
//! - Each round iterates: count; elect every hopeful at or over the threshold; surplus = the
//!   sum over elected candidates of votes − threshold. The round ends when someone was
//!   elected, when the surplus is at most omega, or when it stopped falling (stable);
//!   otherwise each elected candidate's keep factor becomes `keep × threshold / votes`
//!   (both steps rounded up) and the count is repeated.
//! - A round that elects nobody defeats the hopeful with the fewest votes. Hopefuls within the
//!   surplus of the fewest are tied (Droop's rule), and the tie-break order decides (the least
//!   favoured is defeated).
//! - When the hopefuls left are as many as the seats left, they are all elected.
//!
//! A rank holding two or more candidates with a non-zero keep factor ends the ballot there
//! (its remaining value is exhausted).
//!
//! The count folds equal ballot prefixes into a tree: each iteration visits one node per
//! distinct prefix up to its first hopeful candidate, with exactly the arithmetic of
//! counting every ballot one by one (a node's share is computed once and multiplied by the
//! number of ballots through it).

use super::{Decimal, Profile, Report, Round, TIED, TieOrder, standing};

const ONE: u64 = 1_000_000_000;
const PLACES: u8 = 9;
const OMEGA: i128 = 1_000;

/// A node of the prefix tree: one group of a ballot, and the ballots that share the path; or,
/// where only one ballot goes on, all of its remaining groups (so the tree has about one node
/// per ballot that differs from all others, not one per mark).
pub(super) struct Node<'a> {
    pub marks: &'a [u32],
    /// The weight of the ballots through this node.
    pub weight: u64,
    pub first_child: usize,
    pub children: usize,
}

/// The prefix tree of a profile's ballots, one flat vector with each node's children side by
/// side; node 0 is the root. Built level by level with a counting sort on the candidate at
/// each rank (groups of tied candidates are sorted by comparison), so its cost is the number
/// of marks read until ballots part ways, not a sort of whole ballots.
pub(super) fn tree(profile: &Profile) -> Vec<Node<'_>> {
    let n = profile.candidates.len();
    let mut ballots = profile.marked();
    ballots.retain(|&(weight, _)| weight > 0);
    let mut order: Vec<u32> = (0..ballots.len() as u32).collect();
    let mut sorted: Vec<u32> = vec![0; ballots.len()];
    let mut starts = vec![0usize; n + 3];
    let mut nodes = vec![Node {
        marks: &[],
        weight: ballots.iter().map(|b| b.0).sum(),
        first_child: 0,
        children: 0,
    }];
    // The end of the group that starts at `at`.
    let group_end = |marks: &[u32], at: usize| {
        marks[at + 1..]
            .iter()
            .position(|&m| m & TIED == 0)
            .map_or(marks.len(), |p| at + 1 + p)
    };
    // (node, range of `order` under it, offset of its children's groups)
    let mut stack = vec![(0usize, 0..order.len(), 0usize)];
    while let Some((node, range, offset)) = stack.pop() {
        // Bucket 0: the ballot ends here; 1 + c: a group of candidate c alone; n + 1: a tie.
        let bucket = |i: u32| {
            let marks = ballots[i as usize].1;
            match marks.get(offset) {
                None => 0,
                Some(_) if group_end(marks, offset) > offset + 1 => n + 1,
                Some(&c) => 1 + c as usize,
            }
        };
        starts.fill(0);
        for &i in &order[range.clone()] {
            starts[bucket(i) + 1] += 1;
        }
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        let mut next = starts.clone();
        for &i in &order[range.clone()] {
            let b = bucket(i);
            sorted[range.start + next[b]] = i;
            next[b] += 1;
        }
        order[range.clone()].copy_from_slice(&sorted[range.clone()]);
        let ties = range.start + starts[n + 1]..range.end;
        order[ties.clone()].sort_unstable_by(|&x, &y| {
            let (x, y) = (ballots[x as usize].1, ballots[y as usize].1);
            x[offset..group_end(x, offset)].cmp(&y[offset..group_end(y, offset)])
        });
        let first_child = nodes.len();
        // Runs of ballots with the same group at `offset` become children.
        let mut i = range.start + starts[1];
        while i < range.end {
            let marks = ballots[order[i] as usize].1;
            let end = group_end(marks, offset);
            let group = &marks[offset..end];
            let mut j = i + 1;
            while j < range.end && {
                let other = ballots[order[j] as usize].1;
                group_end(other, offset) == end && &other[offset..end] == group
            } {
                j += 1;
            }
            let alone = j == i + 1;
            nodes.push(Node {
                marks: if alone { &marks[offset..] } else { group },
                weight: order[i..j].iter().map(|&k| ballots[k as usize].0).sum(),
                first_child: 0,
                children: 0,
            });
            if !alone {
                stack.push((nodes.len() - 1, i..j, end));
            }
            i = j;
        }
        nodes[node].first_child = first_child;
        nodes[node].children = nodes.len() - first_child;
    }
    nodes
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Hopeful,
    Elected,
    Defeated,
}

struct Count<'a> {
    nodes: Vec<Node<'a>>,
    keep: Vec<u64>,
    status: Vec<Status>,
    /// Per candidate, in units of 10^-9 votes.
    votes: Vec<u128>,
    total: u128,
}

impl Count<'_> {
    /// Distributes every ballot under the current keep factors; returns the exhausted value.
    fn distribute(&mut self) -> u128 {
        self.votes.iter_mut().for_each(|v| *v = 0);
        let mut stack: Vec<(usize, u64)> = vec![(0, ONE)];
        while let Some((node, power)) = stack.pop() {
            let Node {
                marks,
                weight,
                first_child,
                children,
            } = self.nodes[node];
            let mut remaining = power;
            let mut at = 0;
            while at < marks.len() && remaining > 0 {
                let end = marks[at + 1..]
                    .iter()
                    .position(|&m| m & TIED == 0)
                    .map_or(marks.len(), |p| at + 1 + p);
                let mut live = marks[at..end]
                    .iter()
                    .map(|&m| m & !TIED)
                    .filter(|&c| self.keep[c as usize] > 0);
                remaining = match (live.next(), live.next()) {
                    (None, _) => remaining,
                    (Some(_), Some(_)) => 0,
                    (Some(candidate), None) => {
                        let keep = self.keep[candidate as usize];
                        let used = mul(remaining, keep);
                        self.votes[candidate as usize] += u128::from(used) * u128::from(weight);
                        mul(remaining, ONE - keep)
                    }
                };
                at = end;
            }
            if remaining > 0 {
                for child in first_child..first_child + children {
                    stack.push((child, remaining));
                }
            }
        }
        self.total - self.votes.iter().sum::<u128>()
    }

    fn hopefuls(&self) -> Vec<u32> {
        (0..self.status.len() as u32)
            .filter(|&c| self.status[c as usize] == Status::Hopeful)
            .collect()
    }

    fn round(&self, exhausted: u128, threshold: u128, action: String) -> Round {
        Round {
            votes: (0..self.status.len())
                .map(|c| {
                    (self.status[c] != Status::Defeated)
                        .then(|| Decimal::new(self.votes[c], PLACES))
                })
                .collect(),
            exhausted: Some(Decimal::new(exhausted, PLACES)),
            threshold: Some(Decimal::new(threshold, PLACES)),
            keep_factors: (0..self.status.len() as u32)
                .filter(|&c| self.status[c as usize] == Status::Elected)
                .map(|c| (c, Decimal::new(u128::from(self.keep[c as usize]), PLACES)))
                .collect(),
            action,
            ..Round::default()
        }
    }
}

/// `a × b` in fixed point, rounded down.
fn mul(a: u64, b: u64) -> u64 {
    (u128::from(a) * u128::from(b) / u128::from(ONE)) as u64
}

/// Counts `profile` by Meek's method for `seats` seats.
pub fn count(profile: &Profile, seats: u32, tie: &TieOrder) -> Report {
    let n = profile.candidates.len();
    let mut report = Report::new("stv-meek", seats);
    report.notes.push(
        "Meek STV as Droop counts it (Meek parametric): 9 decimal places, omega 0.000001".into(),
    );
    let mut status = vec![Status::Defeated; n];
    for c in standing(profile) {
        status[c as usize] = Status::Hopeful;
    }
    let mut count = Count {
        nodes: tree(profile),
        keep: status
            .iter()
            .map(|&s| if s == Status::Hopeful { ONE } else { 0 })
            .collect(),
        status,
        votes: vec![0; n],
        total: u128::from(profile.total_weight()) * u128::from(ONE),
    };
    let mut to_elect = seats as usize;
    let mut exhausted = count.distribute();
    let mut threshold = (count.total - exhausted) / (u128::from(seats) + 1) + 1;
    loop {
        let hopefuls = count.hopefuls();
        if to_elect == 0 || hopefuls.len() <= to_elect {
            break;
        }
        let mut last_surplus = count.total as i128;
        let mut iterations = 0;
        let (elected, surplus, reason) = loop {
            iterations += 1;
            exhausted = count.distribute();
            threshold = (count.total - exhausted) / (u128::from(seats) + 1) + 1;
            let mut elected: Vec<u32> = count
                .hopefuls()
                .into_iter()
                .filter(|&c| count.votes[c as usize] >= threshold)
                .collect();
            elected.sort_by_key(|&c| {
                (
                    std::cmp::Reverse(count.votes[c as usize]),
                    tie.rank[c as usize],
                )
            });
            elected.truncate(to_elect);
            for &c in &elected {
                count.status[c as usize] = Status::Elected;
            }
            let surplus: i128 = (0..n)
                .filter(|&c| count.status[c] == Status::Elected)
                .map(|c| count.votes[c] as i128 - threshold as i128)
                .sum();
            if !elected.is_empty() {
                break (elected, surplus, "");
            }
            if surplus <= OMEGA {
                break (elected, surplus, "the surplus is at most omega");
            }
            if surplus >= last_surplus {
                break (elected, surplus, "the surplus stopped falling");
            }
            last_surplus = surplus;
            for c in 0..n {
                if count.status[c] == Status::Elected {
                    let raised = (u128::from(count.keep[c]) * threshold).div_ceil(u128::from(ONE));
                    // An elected candidate's votes stay at or above the threshold but for
                    // rounding; a keep factor above 1 would make the rest negative, so it
                    // stops at 1 (where Droop and stv-rs would go on with negative values).
                    let keep = (raised * u128::from(ONE)).div_ceil(count.votes[c].max(1));
                    count.keep[c] = keep.min(u128::from(ONE)) as u64;
                }
            }
        };
        if !elected.is_empty() {
            to_elect -= elected.len();
            report.winners.extend(&elected);
            let mut round = count.round(
                exhausted,
                threshold,
                format!("the threshold is reached after {iterations} iteration(s)"),
            );
            round.elected = elected;
            report.rounds.push(round);
            continue;
        }
        let hopefuls = count.hopefuls();
        let fewest = hopefuls
            .iter()
            .map(|&c| count.votes[c as usize])
            .min()
            .unwrap_or(0);
        let within = fewest as i128 + surplus.max(0);
        let low: Vec<u32> = hopefuls
            .iter()
            .copied()
            .filter(|&c| count.votes[c as usize] as i128 <= within)
            .collect();
        let defeated = tie.last(&low);
        if low.len() > 1 {
            report.tie(&low, defeated, "exclude");
        }
        let mut round = count.round(
            exhausted,
            threshold,
            format!("{{{defeated}}} is defeated with the fewest votes after {iterations} iteration(s): {reason}"),
        );
        round.excluded = vec![defeated];
        report.rounds.push(round);
        count.status[defeated as usize] = Status::Defeated;
        count.keep[defeated as usize] = 0;
        exhausted = count.distribute();
    }
    let mut rest = count.hopefuls();
    rest.sort_by_key(|&c| {
        (
            std::cmp::Reverse(count.votes[c as usize]),
            tie.rank[c as usize],
        )
    });
    if !rest.is_empty() && to_elect > 0 {
        rest.truncate(to_elect);
        for &c in &rest {
            count.status[c as usize] = Status::Elected;
        }
        report.winners.extend(&rest);
        let mut round = count.round(
            exhausted,
            threshold,
            "as many hopefuls are left as seats: they are elected".into(),
        );
        round.elected = rest;
        report.rounds.push(round);
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::tests::letters;

    #[test]
    fn the_tree_merges_shared_prefixes() {
        let profile = letters(
            "ABC",
            &[(2, "AB"), (1, "AC"), (1, "A"), (3, "(BC)A"), (1, "B")],
        );
        let nodes = tree(&profile);
        let root = &nodes[0];
        assert_eq!(root.weight, 8);
        let top: Vec<(Vec<u32>, u64)> = (root.first_child..root.first_child + root.children)
            .map(|i| {
                (
                    nodes[i].marks.iter().map(|m| m & !TIED).collect(),
                    nodes[i].weight,
                )
            })
            .collect();
        // A's three ballots share a node; each other ballot is one node to its end.
        assert_eq!(top, vec![(vec![0], 4), (vec![1], 1), (vec![1, 2, 0], 3)]);
    }

    #[test]
    fn a_surplus_flows_on_by_keep_factors() {
        // Two seats; A has 6 of 10 votes, threshold 10/3: A is elected at once. Its keep factor
        // then falls towards 10/18, passing 5 × 0.44 to B and 1 × 0.44 to C: C (2.44) leads B
        // (2.22) and D (2) is defeated. D's ballots exhaust, the threshold falls to 8/3, A's
        // keep factor with it, and B (5 × 0.56 = 2.78) overtakes C (2.56).
        let profile = letters("ABCD", &[(5, "AB"), (1, "AC"), (2, "C"), (2, "D")]);
        let report = count(&profile, 2, &TieOrder::from_seed(&[0; 32], 4));
        assert_eq!(report.winners[0], 0);
        assert_eq!(report.winners.len(), 2);
        assert_eq!(report.winners[1], 1);
    }

    #[test]
    fn as_many_seats_as_candidates_elects_them_all() {
        let profile = letters("ABC", &[(1, "A"), (5, "BA")]);
        let mut winners = count(&profile, 3, &TieOrder::from_seed(&[0; 32], 3)).winners;
        winners.sort();
        assert_eq!(winners, vec![0, 1, 2]);
    }
}
