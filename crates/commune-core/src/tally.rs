//! Decision methods: ballot validation and the pure tally of a proposal's ballots.
//!
//! Owns what each method means, its quorum rule and its tie-break. Must not know where
//! ballots come from: the fold decides which ballots count and hands them over.
//!
//! Tie-break, for every method that picks among options: tied options are ordered by
//! BLAKE3(proposal id ‖ option index as 4 big-endian bytes), lowest first. The proposal id is
//! fixed before anyone votes, so the order is reproducible from the log and cannot be steered
//! by whoever closes. The ranked, scored and time-poll methods are counted by
//! [`crate::methods`] with that same order.

use minicbor::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::id::EventId;
use crate::methods::{self, Profile, Report, TieOrder};

pub use crate::methods::time_poll::Availability;

/// The most options of the methods counted by [`crate::methods`].
pub const MAX_OPTIONS: usize = 1000;

/// How a proposal is decided. New methods are new variants; the wire index of each is fixed.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cbor(flat)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum Method {
    /// Agree / abstain / object / block. Passes with no block and at most
    /// `max_objections` objections.
    #[n(0)]
    Consent {
        #[n(0)]
        max_objections: u32,
    },
    /// Yes / no / abstain: passes when yes is more than half of yes + no.
    #[n(1)]
    Majority,
    /// Yes / no / abstain: passes when yes is at least `numerator / denominator` of yes + no.
    #[n(2)]
    Supermajority {
        #[n(0)]
        numerator: u32,
        #[n(1)]
        denominator: u32,
    },
    /// Each voter approves any number of options; the `winners` options with the most
    /// approvals win.
    #[n(3)]
    Approval {
        #[n(0)]
        winners: u32,
    },
    /// Each voter gives every option a score from 0 to `max`; the `winners` options with the
    /// highest totals win.
    #[n(4)]
    Score {
        #[n(0)]
        max: u32,
        #[n(1)]
        winners: u32,
    },
    /// Ranked ballots, the Schulze method. `status_quo`: the option that stands for "no
    /// change", which a winner must beat.
    #[n(5)]
    Schulze {
        #[n(0)]
        status_quo: Option<u32>,
    },
    /// Ranked ballots, instant-runoff voting: one winner.
    #[n(6)]
    Irv,
    /// Ranked ballots, STV by Meek's method: `seats` winners.
    #[n(7)]
    StvMeek {
        #[n(0)]
        seats: u32,
    },
    /// Ranked ballots, STV by the Scottish local government rules: `seats` winners.
    #[n(8)]
    StvScottish {
        #[n(0)]
        seats: u32,
    },
    /// Yes / maybe / no for each option (a time slot); the slot with the most yes wins.
    #[n(9)]
    TimePoll,
}

impl Method {
    /// The name used on the command line and in JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Consent { .. } => "consent",
            Method::Majority => "majority",
            Method::Supermajority { .. } => "supermajority",
            Method::Approval { .. } => "approval",
            Method::Score { .. } => "score",
            Method::Schulze { .. } => "schulze",
            Method::Irv => "irv",
            Method::StvMeek { .. } => "stv-meek",
            Method::StvScottish { .. } => "stv-scottish",
            Method::TimePoll => "time-poll",
        }
    }

    /// Whether the method chooses among a proposal's own options (rather than yes or no).
    pub fn has_options(&self) -> bool {
        !matches!(
            self,
            Method::Consent { .. } | Method::Majority | Method::Supermajority { .. }
        )
    }

    /// Whether ballots rank the options ([`Choice::Ranked`]).
    pub fn is_ranked(&self) -> bool {
        matches!(
            self,
            Method::Schulze { .. }
                | Method::Irv
                | Method::StvMeek { .. }
                | Method::StvScottish { .. }
        )
    }

    /// Checks the method's own parameters and its fit with the proposal's options.
    pub fn check(&self, options: &[String]) -> Result<(), String> {
        match self {
            Method::Supermajority {
                numerator,
                denominator,
            } if *denominator == 0
                || numerator > denominator
                || 2 * u64::from(*numerator) < u64::from(*denominator) =>
            {
                Err(format!(
                    "a supermajority of {numerator}/{denominator} must be between 1/2 and 1"
                ))
            }
            Method::Approval { winners } => {
                if options.len() < 2 {
                    Err("approval needs at least two options".into())
                } else if *winners == 0 || *winners as usize >= options.len() {
                    Err(format!(
                        "approval picks at least one and fewer than {} winners",
                        options.len()
                    ))
                } else {
                    Ok(())
                }
            }
            _ if !self.has_options() && !options.is_empty() => Err(format!(
                "{} decides yes or no; it takes no options",
                self.name()
            )),
            _ if self.has_options() && options.len() < 2 => {
                Err(format!("{} needs at least two options", self.name()))
            }
            // Bounds the work of a count every node repeats (Schulze is cubic in options).
            Method::Score { .. }
            | Method::Schulze { .. }
            | Method::Irv
            | Method::StvMeek { .. }
            | Method::StvScottish { .. }
            | Method::TimePoll
                if options.len() > MAX_OPTIONS =>
            {
                Err(format!(
                    "{} takes at most {MAX_OPTIONS} options",
                    self.name()
                ))
            }
            Method::Score { max, winners } => {
                if *max == 0 {
                    Err("the highest score must be at least 1".into())
                } else if *winners == 0 || *winners as usize >= options.len() {
                    Err(format!(
                        "score picks at least one and fewer than {} winners",
                        options.len()
                    ))
                } else {
                    Ok(())
                }
            }
            Method::Schulze {
                status_quo: Some(status_quo),
            } if *status_quo as usize >= options.len() => Err(format!(
                "the status quo must be one of the {} options",
                options.len()
            )),
            Method::StvMeek { seats } | Method::StvScottish { seats }
                if *seats == 0 || *seats as usize >= options.len() =>
            {
                Err(format!(
                    "an STV election fills at least one and fewer than {} seats",
                    options.len()
                ))
            }
            _ => Ok(()),
        }
    }
}

/// A consent position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cbor(index_only)]
#[serde(rename_all = "kebab-case")]
pub enum Position {
    #[n(0)]
    Agree,
    #[n(1)]
    Abstain,
    #[n(2)]
    Object,
    #[n(3)]
    Block,
}

/// A yes / no / abstain vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cbor(index_only)]
#[serde(rename_all = "kebab-case")]
pub enum YesNo {
    #[n(0)]
    Yes,
    #[n(1)]
    No,
    #[n(2)]
    Abstain,
}

/// What a ballot says. Its form depends on the method; variant indexes are fixed on the
/// wire, and index 15 is kept for a sealed (secret) ballot.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cbor(flat)]
#[serde(tag = "form", rename_all = "kebab-case")]
pub enum Choice {
    #[n(0)]
    Consent {
        #[n(0)]
        position: Position,
        #[n(1)]
        reason: String,
    },
    #[n(1)]
    YesNo {
        #[n(0)]
        vote: YesNo,
    },
    /// Indexes of the approved options, ascending and distinct.
    #[n(2)]
    Approval {
        #[n(0)]
        approved: Vec<u32>,
    },
    /// Option indexes in order of preference: each inner list is a group of equally ranked
    /// options, most preferred first. Options left out rank below every listed one.
    #[n(3)]
    Ranked {
        #[n(0)]
        ranks: Vec<Vec<u32>>,
    },
    /// One score per option, in option order.
    #[n(4)]
    Score {
        #[n(0)]
        scores: Vec<u32>,
    },
    /// One answer per option (time slot), in option order.
    #[n(5)]
    TimePoll {
        #[n(0)]
        answers: Vec<Availability>,
    },
}

impl Choice {
    /// Checks that the ballot fits the method and options; the message says how to fix it.
    pub fn check(&self, method: &Method, options: &[String]) -> Result<(), String> {
        match (method, self) {
            (Method::Consent { .. }, Choice::Consent { position, reason }) => {
                if matches!(position, Position::Object | Position::Block)
                    && reason.trim().is_empty()
                {
                    Err("an objection or a block needs a reason".into())
                } else if reason.chars().count() > 5000 {
                    Err("a reason is at most 5000 characters".into())
                } else {
                    Ok(())
                }
            }
            (Method::Majority | Method::Supermajority { .. }, Choice::YesNo { .. }) => Ok(()),
            (Method::Approval { .. }, Choice::Approval { approved }) => {
                if !approved.windows(2).all(|w| w[0] < w[1]) {
                    Err("approved options must be listed once each, in ascending order".into())
                } else if approved.iter().any(|&i| i as usize >= options.len()) {
                    Err(format!(
                        "an approved option is out of range: there are {} options",
                        options.len()
                    ))
                } else {
                    Ok(())
                }
            }
            (method, Choice::Ranked { ranks }) if method.is_ranked() => {
                let mut seen = vec![false; options.len()];
                for option in ranks.iter().flatten() {
                    match seen.get_mut(*option as usize) {
                        None => {
                            return Err(format!(
                                "a ranked option is out of range: there are {} options",
                                options.len()
                            ));
                        }
                        Some(true) => return Err("rank each option at most once".into()),
                        Some(seen) => *seen = true,
                    }
                }
                if ranks.iter().any(Vec::is_empty) {
                    Err("a rank names at least one option".into())
                } else {
                    Ok(())
                }
            }
            (Method::Score { max, .. }, Choice::Score { scores }) => {
                if scores.len() != options.len() {
                    Err(format!(
                        "give one score per option: there are {} options",
                        options.len()
                    ))
                } else if scores.iter().any(|score| score > max) {
                    Err(format!("a score is from 0 to {max}"))
                } else {
                    Ok(())
                }
            }
            (Method::TimePoll, Choice::TimePoll { answers }) if answers.len() != options.len() => {
                Err(format!(
                    "answer yes, maybe or no for each of the {} slots",
                    options.len()
                ))
            }
            (Method::TimePoll, Choice::TimePoll { .. }) => Ok(()),
            _ => Err(format!(
                "this ballot does not fit the {} method: {}",
                method.name(),
                method.ballot_hint()
            )),
        }
    }
}

impl Method {
    fn ballot_hint(&self) -> &'static str {
        match self {
            Method::Consent { .. } => "say agree, abstain, object or block",
            Method::Majority | Method::Supermajority { .. } => "say yes, no or abstain",
            Method::Approval { .. } => "list the options you approve",
            Method::Score { .. } => "give each option a score",
            Method::Schulze { .. }
            | Method::Irv
            | Method::StvMeek { .. }
            | Method::StvScottish { .. } => "rank the options, most preferred first",
            Method::TimePoll => "answer yes, maybe or no for each slot",
        }
    }
}

/// How many ballots make a decision valid: an absolute count and a share of the frozen
/// electorate in thousandths; both must be met (0 disables either). Abstentions count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Encode, Decode, Serialize, Deserialize)]
pub struct Quorum {
    #[n(0)]
    pub min_ballots: u32,
    #[n(1)]
    pub min_share_permille: u32,
}

impl Quorum {
    pub fn is_met(&self, ballots: usize, electorate: usize) -> bool {
        let (ballots, electorate) = (ballots as u64, electorate as u64);
        ballots >= u64::from(self.min_ballots)
            && ballots * 1000 >= electorate * u64::from(self.min_share_permille)
    }
}

/// Everything a tally needs.
#[derive(Debug)]
pub struct TallyInput<'a> {
    pub proposal: EventId,
    pub method: &'a Method,
    pub options: &'a [String],
    pub quorum: Quorum,
    pub electorate: usize,
    pub choices: &'a [&'a Choice],
    /// The weight of each choice, in order; empty when every choice weighs one.
    pub weights: &'a [u64],
    /// How many ballots count towards the quorum (usually `choices.len()`).
    pub ballots: usize,
    /// Schulze only: added-up pairwise preferences (`n × n`, row by row) to count instead of
    /// the choices.
    pub preferences: Option<&'a [u64]>,
}

impl<'a> TallyInput<'a> {
    /// One ballot per choice, each weighing one.
    pub fn new(
        proposal: EventId,
        method: &'a Method,
        options: &'a [String],
        quorum: Quorum,
        electorate: usize,
        choices: &'a [&'a Choice],
    ) -> TallyInput<'a> {
        TallyInput {
            proposal,
            method,
            options,
            quorum,
            electorate,
            choices,
            weights: &[],
            ballots: choices.len(),
            preferences: None,
        }
    }

    /// The choices with their weights.
    fn weighted(&self) -> impl Iterator<Item = (u64, &'a Choice)> + '_ {
        self.choices
            .iter()
            .enumerate()
            .map(|(i, choice)| (self.weights.get(i).copied().unwrap_or(1), *choice))
    }
}

/// The result of a tally, with the counts and the reasoning a person can check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub method: String,
    pub passed: bool,
    pub quorum_met: bool,
    pub ballots: usize,
    pub electorate: usize,
    /// Labelled counts, in a fixed order per method.
    pub counts: Vec<(String, u64)>,
    /// Indexes of winning options (methods with options only), in order of rank.
    pub winners: Vec<u32>,
    pub explanation: Vec<String>,
    /// The structured count of the methods in [`crate::methods`] (absent for the others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
}

/// Tallies the ballots. Ballots must already have passed [`Choice::check`]; any that do not
/// fit are not counted.
pub fn tally(input: &TallyInput<'_>) -> Outcome {
    let ballots = input.ballots;
    let quorum_met = input.quorum.is_met(ballots, input.electorate);
    let mut explanation = vec![format!(
        "{ballots} ballot(s) from an electorate of {}; quorum {} (needs {} ballot(s) and {}‰ of the electorate)",
        input.electorate,
        if quorum_met { "met" } else { "not met" },
        input.quorum.min_ballots,
        input.quorum.min_share_permille,
    )];
    let mut report = None;
    let (decided, counts, winners) = match input.method {
        Method::Consent { max_objections } => consent(input, *max_objections, &mut explanation),
        Method::Majority => yes_no(input, 1, 2, true, &mut explanation),
        Method::Supermajority {
            numerator,
            denominator,
        } => yes_no(input, *numerator, *denominator, false, &mut explanation),
        Method::Approval { winners } => approval(input, *winners, &mut explanation),
        _ => {
            let (tallied, counted) = counted(input);
            explanation.extend(counted.explain(input.options));
            report = Some(counted);
            tallied
        }
    };
    // The method's lines judge the count alone; a count that would pass must not read as a
    // decision when too few took part.
    if !quorum_met {
        explanation.push("the quorum is not met, so the proposal fails whatever the count".into());
    }
    Outcome {
        method: input.method.name().to_owned(),
        passed: quorum_met && decided,
        quorum_met,
        ballots,
        electorate: input.electorate,
        counts,
        winners,
        explanation,
        report,
    }
}

/// Counts a ranked profile by a ranked method; `None` for a method that does not rank.
pub fn count_ranked(method: &Method, profile: &Profile, tie: &TieOrder) -> Option<Report> {
    Some(match method {
        Method::Schulze { status_quo } => methods::schulze::count(profile, *status_quo, tie),
        Method::Irv => methods::irv::count(profile, tie),
        Method::StvMeek { seats } => methods::meek::count(profile, *seats, tie),
        Method::StvScottish { seats } => methods::scottish::count(profile, *seats, tie),
        _ => return None,
    })
}

/// The methods of [`crate::methods`]: a profile or score sheet from the choices, the count,
/// and what it means for the proposal.
fn counted(input: &TallyInput<'_>) -> (Tallied, Report) {
    let tie = TieOrder::from_seed(input.proposal.as_bytes(), input.options.len());
    let n = input.options.len();
    let mut first = vec![0u64; n];
    let mut any_ranked = false;
    let report = match input.method {
        Method::Score { max, winners } => {
            let sheets = input
                .weighted()
                .filter_map(|(weight, choice)| match choice {
                    Choice::Score { scores } => Some((weight, scores.as_slice())),
                    _ => None,
                });
            methods::score::count(n, *max, *winners, sheets, &tie)
        }
        Method::TimePoll => {
            let sheets = input
                .weighted()
                .filter_map(|(weight, choice)| match choice {
                    Choice::TimePoll { answers } => Some((weight, answers.as_slice())),
                    _ => None,
                });
            methods::time_poll::count(input.options, sheets, &tie)
        }
        Method::Schulze { status_quo } if input.preferences.is_some() => {
            let flat = input.preferences.unwrap_or_default();
            let matrix: Vec<Vec<u64>> = if flat.len() == n * n && n > 0 {
                flat.chunks(n).map(<[u64]>::to_vec).collect()
            } else {
                vec![vec![0; n]; n]
            };
            any_ranked = input.ballots > 0;
            methods::schulze::count_preferences(
                matrix,
                &vec![false; n],
                (0..n as u32).collect(),
                *status_quo,
                &tie,
            )
        }
        method => {
            let mut profile = Profile::new(input.options.to_vec());
            for (weight, choice) in input.weighted() {
                if let Choice::Ranked { ranks } = choice
                    && profile
                        .push(weight, ranks.iter().map(|g| g.iter().copied()))
                        .is_ok()
                {
                    any_ranked |= !ranks.is_empty();
                    if let [only] = ranks.first().map_or(&[][..], Vec::as_slice) {
                        first[*only as usize] += weight;
                    }
                }
            }
            count_ranked(method, &profile, &tie)
                .unwrap_or_else(|| unreachable!("{} is tallied in `tally`", method.name()))
        }
    };
    let counts: Vec<u64> = match (input.method, report.rounds.first(), &report.pairwise) {
        (Method::Score { .. } | Method::TimePoll, Some(round), _) => round
            .votes
            .iter()
            .map(|v| v.map_or(0, |v| v.units as u64))
            .collect(),
        // Councils' pairwise matrices hold no first preferences: count the rivals each option
        // beats head to head, which the matrix does say.
        (Method::Schulze { .. }, _, Some(pairwise)) if input.preferences.is_some() => (0..n)
            .map(|a| {
                (0..n)
                    .filter(|&b| pairwise.preferences[a][b] > pairwise.preferences[b][a])
                    .count() as u64
            })
            .collect(),
        _ => first,
    };
    let decided = match input.method {
        Method::Schulze {
            status_quo: Some(status_quo),
        } => any_ranked && report.winners.first() != Some(status_quo),
        method if method.is_ranked() => any_ranked,
        _ => counts.iter().any(|&c| c > 0),
    };
    let winners = if decided {
        report.winners.clone()
    } else {
        Vec::new()
    };
    let labels = input.options.iter().cloned().zip(counts).collect();
    ((decided, labels, winners), report)
}

type Tallied = (bool, Vec<(String, u64)>, Vec<u32>);

fn consent(input: &TallyInput<'_>, max_objections: u32, explanation: &mut Vec<String>) -> Tallied {
    let mut counts = [0u64; 4];
    for (weight, choice) in input.weighted() {
        if let Choice::Consent { position, .. } = choice {
            counts[*position as usize] += weight;
        }
    }
    let [agree, abstain, object, block] = counts;
    let passed = block == 0 && object <= u64::from(max_objections);
    explanation.push(if block > 0 {
        format!("{block} block(s): consent is not given")
    } else if !passed {
        format!("{object} objection(s), more than the {max_objections} allowed")
    } else {
        format!("no block and {object} objection(s) of at most {max_objections}: consent given")
    });
    let labels = ["agree", "abstain", "object", "block"];
    (
        passed,
        labels
            .iter()
            .map(|l| l.to_string())
            .zip([agree, abstain, object, block])
            .collect(),
        Vec::new(),
    )
}

fn yes_no(
    input: &TallyInput<'_>,
    numerator: u32,
    denominator: u32,
    strict: bool,
    explanation: &mut Vec<String>,
) -> Tallied {
    let mut counts = [0u64; 3];
    for (weight, choice) in input.weighted() {
        if let Choice::YesNo { vote } = choice {
            counts[*vote as usize] += weight;
        }
    }
    let [yes, no, abstain] = counts;
    let (yes_scaled, needed) = (
        u128::from(yes) * u128::from(denominator),
        u128::from(yes + no) * u128::from(numerator),
    );
    let passed = yes + no > 0
        && if strict {
            yes_scaled > needed
        } else {
            yes_scaled >= needed
        };
    explanation.push(format!(
        "{yes} yes, {no} no, {abstain} abstain: yes needs {} {numerator}/{denominator} of yes + no, and {}",
        if strict { "more than" } else { "at least" },
        if passed { "has it" } else { "does not have it" }
    ));
    (
        passed,
        vec![
            ("yes".into(), yes),
            ("no".into(), no),
            ("abstain".into(), abstain),
        ],
        Vec::new(),
    )
}

fn approval(input: &TallyInput<'_>, winners: u32, explanation: &mut Vec<String>) -> Tallied {
    let mut approvals = vec![0u64; input.options.len()];
    for (weight, choice) in input.weighted() {
        if let Choice::Approval { approved } = choice {
            for &option in approved {
                if let Some(count) = approvals.get_mut(option as usize) {
                    *count += weight;
                }
            }
        }
    }
    let mut order: Vec<u32> = (0..input.options.len() as u32).collect();
    order.sort_by_key(|&option| {
        (
            std::cmp::Reverse(approvals[option as usize]),
            methods::tie_break_key(input.proposal.as_bytes(), option),
        )
    });
    let chosen: Vec<u32> = order.iter().copied().take(winners as usize).collect();
    if let (Some(&last_in), Some(&first_out)) = (chosen.last(), order.get(winners as usize))
        && approvals[last_in as usize] == approvals[first_out as usize]
    {
        explanation.push(format!(
            "a tie at {} approval(s) was broken by the documented hash order",
            approvals[last_in as usize]
        ));
    }
    let passed = approvals.iter().any(|&count| count > 0);
    explanation.push(format!(
        "most approved: {}",
        chosen
            .iter()
            .map(|&o| format!("{} ({})", input.options[o as usize], approvals[o as usize]))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    (
        passed,
        input.options.iter().cloned().zip(approvals).collect(),
        if passed { chosen } else { Vec::new() },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn run(method: Method, options: &[&str], electorate: usize, choices: &[Choice]) -> Outcome {
        let options: Vec<String> = options.iter().map(|s| s.to_string()).collect();
        let refs: Vec<&Choice> = choices.iter().collect();
        let quorum = Quorum {
            min_ballots: 2,
            min_share_permille: 0,
        };
        tally(&TallyInput::new(
            EventId([1; 32]),
            &method,
            &options,
            quorum,
            electorate,
            &refs,
        ))
    }

    fn yn(vote: YesNo) -> Choice {
        Choice::YesNo { vote }
    }

    #[test]
    fn majority_needs_more_than_half_and_quorum() {
        use YesNo::*;
        assert!(run(Method::Majority, &[], 5, &[yn(Yes), yn(No), yn(Yes)]).passed);
        assert!(!run(Method::Majority, &[], 5, &[yn(Yes), yn(No)]).passed);
        let lone = run(Method::Majority, &[], 5, &[yn(Yes)]);
        assert!(!lone.quorum_met && !lone.passed);
        // What a member reads says the proposal fails, not that it carries.
        expect![[r#"
            1 ballot(s) from an electorate of 5; quorum not met (needs 2 ballot(s) and 0‰ of the electorate)
            1 yes, 0 no, 0 abstain: yes needs more than 1/2 of yes + no, and has it
            the quorum is not met, so the proposal fails whatever the count"#]]
        .assert_eq(&lone.explanation.join("\n"));
        // Abstentions count towards quorum, not towards the share.
        assert!(run(Method::Majority, &[], 5, &[yn(Yes), yn(Abstain)]).passed);
    }

    #[test]
    fn supermajority_is_inclusive() {
        use YesNo::*;
        let two_thirds = Method::Supermajority {
            numerator: 2,
            denominator: 3,
        };
        assert!(run(two_thirds.clone(), &[], 9, &[yn(Yes), yn(Yes), yn(No)]).passed);
        assert!(!run(two_thirds, &[], 9, &[yn(Yes), yn(No), yn(No)]).passed);
    }

    #[test]
    fn consent_fails_on_block_or_too_many_objections() {
        let c = |position, reason: &str| Choice::Consent {
            position,
            reason: reason.into(),
        };
        let method = Method::Consent { max_objections: 1 };
        let agree = c(Position::Agree, "");
        let object = c(Position::Object, "too soon");
        assert!(run(method.clone(), &[], 4, &[agree.clone(), object.clone()]).passed);
        assert!(!run(method.clone(), &[], 4, &[object.clone(), object.clone()]).passed);
        assert!(!run(method.clone(), &[], 4, &[agree, c(Position::Block, "no")]).passed);
        assert!(c(Position::Block, " ").check(&method, &[]).is_err());
    }

    #[test]
    fn approval_ties_follow_the_hash_order() {
        let method = Method::Approval { winners: 1 };
        let ballot = |approved: Vec<u32>| Choice::Approval { approved };
        let outcome = run(
            method.clone(),
            &["a", "b", "c"],
            3,
            &[ballot(vec![0, 1]), ballot(vec![1, 2]), ballot(vec![0])],
        );
        let key = |option| methods::tie_break_key(&[1; 32], option);
        let first = if key(0) < key(1) { 0 } else { 1 };
        assert_eq!(outcome.winners, vec![first]);
        assert!(
            ballot(vec![1, 0])
                .check(&method, &["a".into(), "b".into()])
                .is_err()
        );
        assert!(
            ballot(vec![5])
                .check(&method, &["a".into(), "b".into()])
                .is_err()
        );
    }

    #[test]
    fn new_methods_and_choices_have_their_wire_indexes() {
        let hex = |bytes: Vec<u8>| {
            bytes
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let method = |m: Method| hex(minicbor::to_vec(m).unwrap());
        assert_eq!(method(Method::Score { max: 5, winners: 1 }), "83 04 05 01");
        // A trailing absent field is left out of the array, as minicbor writes it.
        assert_eq!(method(Method::Schulze { status_quo: None }), "81 05");
        assert_eq!(
            method(Method::Schulze {
                status_quo: Some(2)
            }),
            "82 05 02"
        );
        assert_eq!(method(Method::Irv), "81 06");
        assert_eq!(method(Method::StvMeek { seats: 3 }), "82 07 03");
        assert_eq!(method(Method::StvScottish { seats: 3 }), "82 08 03");
        assert_eq!(method(Method::TimePoll), "81 09");
        let choice = |c: Choice| hex(minicbor::to_vec(c).unwrap());
        let ranks = vec![vec![0], vec![1, 2]];
        assert_eq!(choice(Choice::Ranked { ranks }), "82 03 82 81 00 82 01 02");
        assert_eq!(
            choice(Choice::Score { scores: vec![5, 0] }),
            "82 04 82 05 00"
        );
        let answers = vec![Availability::Yes, Availability::Maybe, Availability::No];
        assert_eq!(choice(Choice::TimePoll { answers }), "82 05 83 00 01 02");
    }

    #[test]
    fn ranked_ballots_are_checked_and_counted() {
        let method = Method::Schulze {
            status_quo: Some(0),
        };
        let options = ["keep", "paint", "tile"];
        let names: Vec<String> = options.iter().map(|s| s.to_string()).collect();
        let ranked = |ranks: Vec<Vec<u32>>| Choice::Ranked { ranks };
        assert!(
            ranked(vec![vec![1], vec![1]])
                .check(&method, &names)
                .is_err()
        );
        assert!(ranked(vec![vec![3]]).check(&method, &names).is_err());
        assert!(ranked(vec![vec![]]).check(&method, &names).is_err());
        assert!(
            Choice::YesNo { vote: YesNo::Yes }
                .check(&method, &names)
                .is_err()
        );
        let many: Vec<String> = (0..=MAX_OPTIONS).map(|i| i.to_string()).collect();
        assert!(Method::Irv.check(&many).is_err());
        assert!(Method::Irv.check(&many[1..]).is_ok());
        // Two of three prefer painting to keeping things as they are: paint wins.
        let ballots = [
            ranked(vec![vec![1], vec![0]]),
            ranked(vec![vec![1, 2], vec![0]]),
            ranked(vec![vec![0], vec![2], vec![1]]),
        ];
        let outcome = run(method.clone(), &options, 3, &ballots);
        assert!(outcome.passed);
        assert_eq!(outcome.winners, vec![1]);
        assert_eq!(outcome.counts[1], ("paint".into(), 1));
        assert!(outcome.report.is_some());
        // The status quo that nobody's choice beats stays, and the proposal does not pass.
        let outcome = run(method, &options, 3, &ballots[2..]);
        assert!(!outcome.passed && outcome.winners.is_empty());
    }
}
