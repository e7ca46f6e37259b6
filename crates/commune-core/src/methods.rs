//! Ranked and scored decision methods over plain ballot profiles, each with its explanation.
//!
//! Owns the profile type (candidates and weighted rankings with ties), the structured report
//! every method returns (rounds, pairwise matrix, tie-breaks), exact decimal values and the
//! documented tie-break order. Must not know about events, members or files: the fold and the
//! `commune tally` command both build a [`Profile`] and call a method here.
//!
//! A ballot is a list of **groups** of candidates, most preferred first; candidates in one
//! group are tied. Candidates a ballot does not mention rank below every candidate it
//! mentions, tied with each other. Ballots carry a weight (how many voters cast them).
//!
//! **Tie-break order.** Where a method must choose among tied candidates and its own rule
//! (for example looking back at earlier rounds) leaves them tied, it uses one fixed order of
//! the candidates: ascending BLAKE3(seed ‖ candidate index as 4 big-endian bytes). The earlier
//! a candidate is in this order, the more it is favoured: it wins a tie for a seat and survives
//! a tie for exclusion. A proposal's seed is its id, fixed before anyone votes; a ballot file's
//! seed is BLAKE3 of its candidate names, each followed by a newline byte. Every use is
//! recorded in the report's `tie_breaks`.

pub mod irv;
pub mod meek;
pub mod schulze;
pub mod score;
pub mod scottish;
pub mod time_poll;

use std::fmt;

use serde::{Deserialize, Serialize};

/// The high bit of a mark: this candidate is tied with the one before it on the ballot.
const TIED: u32 = 1 << 31;

/// Candidates and weighted ranked ballots. Ballots are stored flat (one `u32` per mark), so a
/// million ballots of twenty candidates take about 80 MB and never exist as strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub candidates: Vec<String>,
    /// Candidates that stand no more (BLT's withdrawn): no method counts them.
    pub withdrawn: Vec<bool>,
    /// Per ballot: its weight and the end of its marks in `marks`.
    ballots: Vec<(u64, usize)>,
    marks: Vec<u32>,
    seen: Vec<bool>,
    /// The sum of the weights, at most [`MAX_TOTAL_WEIGHT`].
    total: u64,
}

/// The most voters a count takes: the weights of a profile's ballots add up to at most a
/// million million. Every sum and product of the methods' arithmetic (weights times the
/// transfer methods' fixed-point one, at most 10⁹, in `u128`; weights times scores in
/// `u64` for scores up to 10⁶) then fits, so a count never wraps or overflows.
pub const MAX_TOTAL_WEIGHT: u64 = 1_000_000_000_000;

/// One ballot of a profile, as its groups of tied candidates.
#[derive(Debug, Clone, Copy)]
pub struct Ranking<'a> {
    marks: &'a [u32],
}

impl<'a> Ranking<'a> {
    /// The groups of tied candidates, most preferred first.
    pub fn groups(&self) -> impl Iterator<Item = Group<'a>> + 'a {
        let marks = self.marks;
        let mut start = 0;
        std::iter::from_fn(move || {
            if start >= marks.len() {
                return None;
            }
            let end = marks[start + 1..]
                .iter()
                .position(|&m| m & TIED == 0)
                .map_or(marks.len(), |p| start + 1 + p);
            let group = Group {
                marks: &marks[start..end],
            };
            start = end;
            Some(group)
        })
    }

    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }
}

/// Candidates ranked equally on one ballot.
#[derive(Debug, Clone, Copy)]
pub struct Group<'a> {
    marks: &'a [u32],
}

impl Group<'_> {
    pub fn candidates(&self) -> impl Iterator<Item = u32> + '_ {
        self.marks.iter().map(|&m| m & !TIED)
    }
}

impl Profile {
    pub fn new(candidates: Vec<String>) -> Profile {
        let n = candidates.len();
        Profile {
            candidates,
            withdrawn: vec![false; n],
            seen: vec![false; n],
            ..Profile::default()
        }
    }

    /// Adds a ballot of `weight` voters: groups of tied candidate indexes, most preferred
    /// first. Refuses an unknown candidate or one named twice; empty groups are skipped.
    pub fn push<G, C>(&mut self, weight: u64, groups: G) -> Result<(), String>
    where
        G: IntoIterator<Item = C>,
        C: IntoIterator<Item = u32>,
    {
        let total = self
            .total
            .checked_add(weight)
            .filter(|&total| total <= MAX_TOTAL_WEIGHT)
            .ok_or_else(|| {
                format!(
                    "a ballot of weight {weight} brings the ballots over {MAX_TOTAL_WEIGHT} voters, \
                     the most a count takes"
                )
            })?;
        let start = self.marks.len();
        let mut result = Ok(());
        'groups: for group in groups {
            let mut first = true;
            for candidate in group {
                let Some(seen) = self.seen.get_mut(candidate as usize) else {
                    result = Err(format!(
                        "candidate {} does not exist: there are {}",
                        u64::from(candidate) + 1,
                        self.candidates.len()
                    ));
                    break 'groups;
                };
                if std::mem::replace(seen, true) {
                    result = Err(format!(
                        "candidate {} is ranked twice",
                        u64::from(candidate) + 1
                    ));
                    break 'groups;
                }
                self.marks
                    .push(if first { candidate } else { candidate | TIED });
                first = false;
            }
        }
        for &mark in &self.marks[start..] {
            self.seen[(mark & !TIED) as usize] = false;
        }
        if result.is_err() {
            self.marks.truncate(start);
            return result;
        }
        // Ties are sets: sort each group so that equal ballots have equal marks.
        let mut group_start = start;
        for i in start..=self.marks.len() {
            if i == self.marks.len() || (i > group_start && self.marks[i] & TIED == 0) {
                let group = &mut self.marks[group_start..i];
                group.iter_mut().for_each(|m| *m &= !TIED);
                group.sort_unstable();
                group.iter_mut().skip(1).for_each(|m| *m |= TIED);
                group_start = i;
            }
        }
        self.ballots.push((weight, self.marks.len()));
        self.total = total;
        Ok(())
    }

    /// The ballots with their weights, in the order they were added.
    pub fn ballots(&self) -> impl Iterator<Item = (u64, Ranking<'_>)> + '_ {
        let mut start = 0;
        self.ballots.iter().map(move |&(weight, end)| {
            let ranking = Ranking {
                marks: &self.marks[start..end],
            };
            start = end;
            (weight, ranking)
        })
    }

    /// The number of ballots as added (before weights).
    pub fn len(&self) -> usize {
        self.ballots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ballots.is_empty()
    }

    /// The sum of the weights.
    pub fn total_weight(&self) -> u64 {
        self.total
    }

    /// The ballots as weights and raw marks, for the transfer methods to index.
    fn marked(&self) -> Vec<(u64, &[u32])> {
        self.ballots()
            .map(|(weight, ranking)| (weight, ranking.marks))
            .collect()
    }
}

/// The tie-break order of a count: a rank per candidate, lowest most favoured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TieOrder {
    rank: Vec<u32>,
}

impl TieOrder {
    /// The documented order for `n` candidates under `seed` (see the module documentation).
    pub fn from_seed(seed: &[u8; 32], n: usize) -> TieOrder {
        let mut keys: Vec<([u8; 32], u32)> =
            (0..n as u32).map(|i| (tie_break_key(seed, i), i)).collect();
        keys.sort_unstable();
        let mut rank = vec![0; n];
        for (position, (_, candidate)) in keys.into_iter().enumerate() {
            rank[candidate as usize] = position as u32;
        }
        TieOrder { rank }
    }

    /// The seed of a ballot file: BLAKE3 of its candidate names, each followed by `\n`.
    pub fn seed_of_names(names: &[String]) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new();
        for name in names {
            hasher.update(name.as_bytes());
            hasher.update(b"\n");
        }
        *hasher.finalize().as_bytes()
    }

    /// The most favoured of `among` (not empty).
    pub fn first(&self, among: &[u32]) -> u32 {
        *among
            .iter()
            .min_by_key(|&&c| self.rank[c as usize])
            .expect("a tie has candidates")
    }

    /// The least favoured of `among` (not empty).
    pub fn last(&self, among: &[u32]) -> u32 {
        *among
            .iter()
            .max_by_key(|&&c| self.rank[c as usize])
            .expect("a tie has candidates")
    }

    /// Sorts candidates, most favoured first.
    pub fn sort(&self, candidates: &mut [u32]) {
        candidates.sort_unstable_by_key(|&c| self.rank[c as usize]);
    }
}

/// BLAKE3(seed ‖ index as 4 big-endian bytes): the key of the tie-break order.
pub fn tie_break_key(seed: &[u8; 32], index: u32) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(seed);
    hasher.update(&index.to_be_bytes());
    *hasher.finalize().as_bytes()
}

/// An exact decimal: `units` of 10^-`places`. Written as a decimal string in JSON, so that
/// no reader rounds it through a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Decimal {
    pub units: u128,
    pub places: u8,
}

impl Decimal {
    pub fn new(units: u128, places: u8) -> Decimal {
        Decimal { units, places }
    }

    pub fn whole(count: u64) -> Decimal {
        Decimal::new(u128::from(count), 0)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.places == 0 {
            return write!(f, "{}", self.units);
        }
        let scale = 10u128.pow(u32::from(self.places));
        write!(
            f,
            "{}.{:0width$}",
            self.units / scale,
            self.units % scale,
            width = usize::from(self.places)
        )
    }
}

impl From<Decimal> for String {
    fn from(decimal: Decimal) -> String {
        decimal.to_string()
    }
}

impl TryFrom<String> for Decimal {
    type Error = String;
    fn try_from(text: String) -> Result<Decimal, String> {
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let digits = format!("{whole}{fraction}");
        if whole.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || fraction.len() > 38 {
            return Err(format!("not a decimal: {text:?}"));
        }
        Ok(Decimal {
            units: digits.parse().map_err(|_| format!("too large: {text:?}"))?,
            places: fraction.len() as u8,
        })
    }
}

/// What one round (or stage) of a count did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Round {
    /// Each candidate's votes at the end of the round; `None` for one not counted (withdrawn,
    /// or excluded in an earlier round).
    pub votes: Vec<Option<Decimal>>,
    /// Votes that reach no continuing candidate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exhausted: Option<Decimal>,
    /// The quota (STV) or the majority to reach (IRV) in this round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<Decimal>,
    /// Meek's keep factors of elected candidates, when they change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep_factors: Vec<(u32, Decimal)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elected: Vec<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<u32>,
    /// What happened and why, in words, with candidates as `{n}` (their index).
    pub action: String,
}

/// A tie the method's own rule left open, and the candidate the tie-break order chose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TieBreak {
    pub among: Vec<u32>,
    pub chosen: u32,
    /// What the choice was for: `win`, `rank`, `exclude`, `surplus`.
    pub purpose: String,
}

/// The pairwise data of a Condorcet method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pairwise {
    /// `preferences[a][b]`: the weight of ballots ranking `a` above `b`.
    pub preferences: Vec<Vec<u64>>,
    /// `strongest_paths[a][b]`: the strength of the strongest path from `a` to `b`, as
    /// `[winning votes, losing votes]` of its weakest link; `[0, 0]` when there is none.
    pub strongest_paths: Vec<Vec<[u64; 2]>>,
}

/// The result of a count, with everything needed to check it by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub method: String,
    /// Seats (or winners) to fill.
    pub seats: u32,
    /// Winning candidates, in order elected (STV), or the one winner (Schulze, IRV); the
    /// whole order of a ranked count is in `ranking`.
    pub winners: Vec<u32>,
    /// Groups of tied candidates, best first, for methods that rank every candidate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranking: Option<Vec<Vec<u32>>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rounds: Vec<Round>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairwise: Option<Pairwise>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tie_breaks: Vec<TieBreak>,
    /// Notes that are not rounds: the rule's parameters, what it did with odd ballots.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Report {
    fn new(method: &str, seats: u32) -> Report {
        Report {
            method: method.to_owned(),
            seats,
            winners: Vec::new(),
            ranking: None,
            rounds: Vec::new(),
            pairwise: None,
            tie_breaks: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Records a tie broken by the tie-break order.
    fn tie(&mut self, among: &[u32], chosen: u32, purpose: &str) {
        let mut among = among.to_vec();
        among.sort_unstable();
        self.tie_breaks.push(TieBreak {
            among,
            chosen,
            purpose: purpose.to_owned(),
        });
    }

    /// The explanation in lines of text, naming candidates by `names`.
    pub fn explain(&self, names: &[String]) -> Vec<String> {
        let name = |c: u32| names.get(c as usize).map_or("?", String::as_str);
        let list = |cs: &[u32]| cs.iter().map(|&c| name(c)).collect::<Vec<_>>().join(", ");
        let mut lines: Vec<String> = self.notes.iter().map(|n| with_names(n, names)).collect();
        for (i, round) in self.rounds.iter().enumerate() {
            let mut line = format!("round {}: {}", i + 1, with_names(&round.action, names));
            let votes: Vec<String> = round
                .votes
                .iter()
                .enumerate()
                .filter_map(|(c, v)| v.map(|v| format!("{} {v}", name(c as u32))))
                .collect();
            if !votes.is_empty() {
                line.push_str(&format!("; votes: {}", votes.join(", ")));
            }
            if let Some(exhausted) = round.exhausted {
                line.push_str(&format!("; exhausted {exhausted}"));
            }
            if let Some(threshold) = round.threshold {
                line.push_str(&format!("; threshold {threshold}"));
            }
            if !round.elected.is_empty() {
                line.push_str(&format!("; elected: {}", list(&round.elected)));
            }
            if !round.keep_factors.is_empty() {
                let factors: Vec<String> = round
                    .keep_factors
                    .iter()
                    .map(|&(c, k)| format!("{} {k}", name(c)))
                    .collect();
                line.push_str(&format!("; keep factors: {}", factors.join(", ")));
            }
            if let Some(before) = i.checked_sub(1).map(|p| &self.rounds[p]) {
                // What moved since the round before: transfers, and Meek's rebalancing.
                let mut moves: Vec<String> = round
                    .votes
                    .iter()
                    .zip(&before.votes)
                    .enumerate()
                    .filter_map(|(c, (now, then))| {
                        Some(format!("{} {}", name(c as u32), change((*then)?, (*now)?)?))
                    })
                    .collect();
                if let (Some(then), Some(now)) = (before.exhausted, round.exhausted)
                    && let Some(moved) = change(then, now)
                {
                    moves.push(format!("exhausted {moved}"));
                }
                if !moves.is_empty() {
                    line.push_str(&format!("; since round {i}: {}", moves.join(", ")));
                }
            }
            lines.push(line);
        }
        if let Some(pairwise) = &self.pairwise {
            for (a, row) in pairwise.preferences.iter().enumerate() {
                let cells: Vec<String> = row
                    .iter()
                    .enumerate()
                    .filter(|&(b, _)| b != a)
                    .map(|(b, n)| format!("{n} over {}", name(b as u32)))
                    .collect();
                lines.push(format!("{}: {}", name(a as u32), cells.join(", ")));
            }
            for (a, row) in pairwise.strongest_paths.iter().enumerate() {
                let paths: Vec<String> = row
                    .iter()
                    .enumerate()
                    .filter(|&(b, &[win, _])| b != a && win > 0)
                    .map(|(b, [win, lose])| format!("to {} {win} (against {lose})", name(b as u32)))
                    .collect();
                if !paths.is_empty() {
                    lines.push(format!(
                        "strongest paths from {}: {}",
                        name(a as u32),
                        paths.join(", ")
                    ));
                }
            }
        }
        for tie in &self.tie_breaks {
            lines.push(format!(
                "tie ({}) among {}: {} chosen by the documented hash order",
                tie.purpose,
                list(&tie.among),
                name(tie.chosen)
            ));
        }
        if let Some(ranking) = &self.ranking {
            let groups: Vec<String> = ranking.iter().map(|g| list(g)).collect();
            lines.push(format!("ranking: {}", groups.join(" > ")));
        }
        lines.push(format!("winners: {}", list(&self.winners)));
        lines
    }
}

/// `now − then` with its sign (`+1.5`, `-0.25`), or `None` when nothing changed.
fn change(then: Decimal, now: Decimal) -> Option<String> {
    match now.units.cmp(&then.units) {
        std::cmp::Ordering::Equal => None,
        std::cmp::Ordering::Greater => Some(format!(
            "+{}",
            Decimal::new(now.units - then.units, now.places)
        )),
        std::cmp::Ordering::Less => Some(format!(
            "-{}",
            Decimal::new(then.units - now.units, now.places)
        )),
    }
}

/// Replaces each `{n}` in `text` (a round's action, a note) with candidate n's name.
pub fn with_names(text: &str, names: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').and_then(|close| {
            let index: usize = after[..close].parse().ok()?;
            Some((close, names.get(index)?))
        }) {
            Some((close, name)) => {
                out.push_str(name);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Candidates that stand: not withdrawn.
fn standing(profile: &Profile) -> Vec<u32> {
    (0..profile.candidates.len() as u32)
        .filter(|&c| !profile.withdrawn[c as usize])
        .collect()
}

/// Narrows a tie by earlier rounds: going back from the most recent, at each round where the
/// candidates still tied had unequal votes, keeps those with the fewest (`lowest`) or the most.
/// Returns one candidate, or those still tied at every earlier round. Used by IRV and
/// Scottish STV ("the most recent preceding stage at which they had unequal values").
fn look_back(rounds: &[Round], tied: &[u32], lowest: bool) -> Vec<u32> {
    let mut tied = tied.to_vec();
    for round in rounds.iter().rev() {
        if tied.len() < 2 {
            break;
        }
        let value = |c: u32| round.votes[c as usize].map_or(0, |v| v.units);
        let values = tied.iter().map(|&c| value(c));
        let Some(target) = (if lowest { values.min() } else { values.max() }) else {
            break;
        };
        tied.retain(|&c| value(c) == target);
    }
    tied
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A profile over one-letter candidates: `(weight, "ACB")`, or `"A(BC)"` for a tie.
    pub(crate) fn letters(names: &str, ballots: &[(u64, &str)]) -> Profile {
        let names: Vec<String> = names.chars().map(String::from).collect();
        let mut profile = Profile::new(names.clone());
        let index = |c: char| names.iter().position(|n| *n == c.to_string()).unwrap() as u32;
        for &(weight, order) in ballots {
            let mut groups: Vec<Vec<u32>> = Vec::new();
            let mut open = false;
            for c in order.chars() {
                match c {
                    '(' => {
                        open = true;
                        groups.push(Vec::new());
                    }
                    ')' => open = false,
                    c if open => groups.last_mut().unwrap().push(index(c)),
                    c => groups.push(vec![index(c)]),
                }
            }
            profile.push(weight, groups).unwrap();
        }
        profile
    }

    #[test]
    fn profiles_keep_groups_and_refuse_duplicates() {
        let mut profile = Profile::new(vec!["a".into(), "b".into(), "c".into()]);
        profile.push(2, [vec![2], vec![1, 0]]).unwrap();
        assert!(profile.push(1, [vec![0], vec![0]]).is_err());
        assert!(profile.push(1, [vec![3]]).is_err());
        profile.push(1, [vec![1, 0], vec![2]]).unwrap();
        let ballots: Vec<(u64, Vec<Vec<u32>>)> = profile
            .ballots()
            .map(|(w, r)| (w, r.groups().map(|g| g.candidates().collect()).collect()))
            .collect();
        assert_eq!(
            ballots,
            vec![
                (2, vec![vec![2], vec![0, 1]]),
                (1, vec![vec![0, 1], vec![2]])
            ]
        );
        assert_eq!(profile.total_weight(), 3);
    }

    #[test]
    fn decimals_print_exactly_and_read_back() {
        let d = Decimal::new(1_234_500_007, 9);
        assert_eq!(d.to_string(), "1.234500007");
        assert_eq!(Decimal::try_from(d.to_string()), Ok(d));
        assert_eq!(Decimal::whole(7).to_string(), "7");
        assert!(Decimal::try_from("1e5".to_string()).is_err());
    }

    #[test]
    fn the_tie_order_follows_the_hash() {
        let order = TieOrder::from_seed(&[1; 32], 3);
        // docs/event-format.md: with seed 0x01×32 the order is 0, 2, 1.
        assert_eq!(order.first(&[0, 1, 2]), 0);
        assert_eq!(order.last(&[0, 1, 2]), 1);
        let mut all = [1, 2, 0];
        order.sort(&mut all);
        assert_eq!(all, [0, 2, 1]);
    }
}
