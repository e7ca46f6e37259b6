//! IRV (instant-runoff voting): one winner by repeated exclusion of the weakest candidate.
//!
//! Each round counts every ballot for its highest ranked continuing candidate. A candidate
//! with more than half of the votes that reach a continuing candidate wins; so does the last
//! one left. Otherwise the candidate with the fewest votes is excluded and its ballots move on.
//! A tie for fewest is decided by the most recent earlier round in which the tied candidates'
//! votes differed (the one with fewer then is excluded), then by the tie-break order.
//!
//! A ballot that ranks two or more continuing candidates equally at its highest continuing
//! rank counts for nobody from then on (it is exhausted, as an overvote is in most public
//! IRV rules), and the report's note says how many ballots this happened to.
//!
//! The count moves only the ballots of the excluded candidate, so its work is the number of
//! transfers, not rounds × ballots.

use super::{Decimal, Profile, Report, Round, TieOrder, look_back, standing};

/// The candidate a ballot counts for, searching from group start `at`: `Some((candidate,
/// group start))`, or `None` when it reaches no continuing candidate or an equal ranking.
pub(super) fn next_choice(marks: &[u32], at: usize, continuing: &[bool]) -> Option<(u32, usize)> {
    match next(marks, at, continuing) {
        Next::Candidate(candidate, at) => Some((candidate, at)),
        Next::Equal | Next::Nobody => None,
    }
}

/// Where a ballot goes next.
enum Next {
    /// The candidate and the start of the group that names them.
    Candidate(u32, usize),
    /// Its highest continuing rank names two or more candidates equally.
    Equal,
    /// It names no continuing candidate.
    Nobody,
}

fn next(marks: &[u32], mut at: usize, continuing: &[bool]) -> Next {
    while at < marks.len() {
        let end = marks[at + 1..]
            .iter()
            .position(|&m| m & super::TIED == 0)
            .map_or(marks.len(), |p| at + 1 + p);
        let mut found = None;
        for &mark in &marks[at..end] {
            let candidate = mark & !super::TIED;
            if continuing[candidate as usize] {
                if found.is_some() {
                    return Next::Equal;
                }
                found = Some(candidate);
            }
        }
        if let Some(candidate) = found {
            return Next::Candidate(candidate, at);
        }
        at = end;
    }
    Next::Nobody
}

/// Counts `profile` by IRV.
pub fn count(profile: &Profile, tie: &TieOrder) -> Report {
    let n = profile.candidates.len();
    let mut report = Report::new("irv", 1);
    let mut continuing = vec![false; n];
    let mut left = standing(profile);
    for &c in &left {
        continuing[c as usize] = true;
    }
    let ballots: Vec<(u64, &[u32])> = profile.marked();
    let mut cursor = vec![0usize; ballots.len()];
    let mut piles: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut votes = vec![0u64; n];
    let total = profile.total_weight();
    // The weight of the ballots exhausted by an equal ranking.
    let mut equal = 0u64;
    // Puts ballot `i` on the pile of the candidate it counts for, searching from `from`.
    let place = |i: usize,
                 from: usize,
                 continuing: &[bool],
                 cursor: &mut [usize],
                 piles: &mut [Vec<u32>],
                 votes: &mut [u64],
                 equal: &mut u64| {
        let (weight, marks) = ballots[i];
        match next(marks, from, continuing) {
            Next::Candidate(candidate, at) => {
                cursor[i] = at;
                piles[candidate as usize].push(i as u32);
                votes[candidate as usize] += weight;
            }
            Next::Equal => *equal += weight,
            Next::Nobody => {}
        }
    };
    for i in 0..ballots.len() {
        place(
            i,
            0,
            &continuing,
            &mut cursor,
            &mut piles,
            &mut votes,
            &mut equal,
        );
    }
    while !left.is_empty() {
        let counted: u64 = left.iter().map(|&c| votes[c as usize]).sum();
        let mut round = Round {
            votes: (0..n)
                .map(|c| continuing[c].then(|| Decimal::whole(votes[c])))
                .collect(),
            exhausted: Some(Decimal::whole(total - counted)),
            threshold: Some(Decimal::whole(counted / 2 + 1)),
            ..Round::default()
        };
        let best = left.iter().map(|&c| votes[c as usize]).max().unwrap_or(0);
        if left.len() == 1 || 2 * best > counted {
            let mut top: Vec<u32> = left
                .iter()
                .copied()
                .filter(|&c| votes[c as usize] == best)
                .collect();
            let winner = if top.len() == 1 {
                top[0]
            } else {
                // Only possible when no ballot reaches anyone: every candidate has 0 votes.
                tie.sort(&mut top);
                report.tie(&top, top[0], "win");
                top[0]
            };
            round.action = if left.len() == 1 {
                format!("{{{winner}}} is the last candidate left and wins")
            } else {
                format!("{{{winner}}} has a majority of the continuing votes and wins")
            };
            round.elected = vec![winner];
            report.rounds.push(round);
            report.winners = vec![winner];
            break;
        }
        let fewest = left.iter().map(|&c| votes[c as usize]).min().unwrap_or(0);
        let tied: Vec<u32> = left
            .iter()
            .copied()
            .filter(|&c| votes[c as usize] == fewest)
            .collect();
        let narrowed = look_back(&report.rounds, &tied, true);
        let excluded = if narrowed.len() == 1 {
            narrowed[0]
        } else {
            let chosen = tie.last(&narrowed);
            report.tie(&narrowed, chosen, "exclude");
            chosen
        };
        round.action = if tied.len() > 1 && narrowed.len() == 1 {
            format!("{{{excluded}}} is excluded: tied for fewest votes, fewer in an earlier round")
        } else {
            format!("{{{excluded}}} is excluded with the fewest votes")
        };
        round.excluded = vec![excluded];
        report.rounds.push(round);
        continuing[excluded as usize] = false;
        left.retain(|&c| c != excluded);
        votes[excluded as usize] = 0;
        // In ballot order, so that the moves walk memory forwards.
        let mut pile = std::mem::take(&mut piles[excluded as usize]);
        pile.sort_unstable();
        for i in pile {
            let from = cursor[i as usize];
            place(
                i as usize,
                from,
                &continuing,
                &mut cursor,
                &mut piles,
                &mut votes,
                &mut equal,
            );
        }
    }
    if equal > 0 {
        report.notes.push(format!(
            "{equal} ballot(s) ranked continuing candidates equally and count for nobody from \
             there on, as an overvote does in most public IRV rules"
        ));
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::tests::letters;

    #[test]
    fn a_majority_of_first_preferences_wins_in_round_one() {
        let profile = letters("ABC", &[(4, "ABC"), (2, "BCA"), (1, "CBA")]);
        let report = count(&profile, &TieOrder::from_seed(&[0; 32], 3));
        assert_eq!(report.winners, vec![0]);
        assert_eq!(report.rounds.len(), 1);
    }

    #[test]
    fn exclusion_transfers_and_overvotes_exhaust() {
        // C is excluded; its voters prefer B next, so B overtakes A.
        let profile = letters("ABC", &[(4, "A"), (4, "BA"), (2, "CB"), (1, "C(AB)")]);
        let report = count(&profile, &TieOrder::from_seed(&[0; 32], 3));
        assert_eq!(report.winners, vec![1]);
        let last = report.rounds.last().unwrap();
        assert_eq!(last.votes[1], Some(Decimal::whole(6)));
        // The overvoted ballot is exhausted once C is out, and the note says so.
        assert_eq!(last.exhausted, Some(Decimal::whole(1)));
        assert_eq!(report.rounds[0].excluded, vec![2]);
        assert_eq!(
            report.notes,
            [
                "1 ballot(s) ranked continuing candidates equally and count for nobody from there \
              on, as an overvote does in most public IRV rules"
            ]
        );
    }

    #[test]
    fn ties_for_fewest_look_back_then_use_the_order() {
        // Round 1: A 3, B 2, C 2, D 1: D out, its vote goes to C: A 3, B 2, C 3.
        let profile = letters("ABCD", &[(3, "A"), (2, "B"), (2, "C"), (1, "DC")]);
        let report = count(&profile, &TieOrder::from_seed(&[0; 32], 4));
        assert_eq!(report.rounds[1].excluded, vec![1]);
        // Two candidates tied from the start: the tie-break order decides, and it is recorded.
        let profile = letters("AB", &[(1, "A"), (1, "B")]);
        let order = TieOrder::from_seed(&[0; 32], 2);
        let report = count(&profile, &order);
        assert_eq!(report.tie_breaks.len(), 1);
        assert_eq!(report.winners, vec![order.first(&[0, 1])]);
    }
}
