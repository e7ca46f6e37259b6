//! The decision methods: properties on random profiles, and independent implementations as
//! oracles (stv-rs for Meek, linked as a dev-dependency; pref_voting, a Python package run as
//! a separate program, for Schulze, IRV and Scottish STV).

use std::collections::BTreeSet;

use commune_core::methods::{self, Profile, Report, TieOrder};
use proptest::prelude::*;

/// A small deterministic generator (splitmix64), so that oracle runs are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Strict rankings: `(weight, candidates in order)`.
type Ballots = Vec<(u64, Vec<u32>)>;

fn random_ballots(rng: &mut Rng, candidates: u32, ballots: usize, truncate: bool) -> Ballots {
    (0..ballots)
        .map(|_| {
            let mut order: Vec<u32> = (0..candidates).collect();
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i as u64 + 1) as usize);
            }
            if truncate {
                order.truncate(1 + rng.below(u64::from(candidates)) as usize);
            }
            (1 + rng.below(40), order)
        })
        .collect()
}

fn profile_of(candidates: u32, ballots: &Ballots) -> Profile {
    let mut profile = Profile::new((0..candidates).map(|c| format!("c{c}")).collect());
    for (weight, order) in ballots {
        profile.push(*weight, order.iter().map(|&c| [c])).unwrap();
    }
    profile
}

fn tie(n: u32) -> TieOrder {
    TieOrder::from_seed(&[7; 32], n as usize)
}

fn every_method(profile: &Profile, seats: u32) -> Vec<Report> {
    let n = profile.candidates.len() as u32;
    vec![
        methods::schulze::count(profile, None, &tie(n)),
        methods::irv::count(profile, &tie(n)),
        methods::meek::count(profile, seats, &tie(n)),
        methods::scottish::count(profile, seats, &tie(n)),
    ]
}

/// `(candidates, seats, ballots)`: small elections, rankings possibly truncated.
fn elections() -> impl Strategy<Value = (u32, u32, Ballots)> {
    (2u32..7).prop_flat_map(|n| {
        let ballot = (
            1u64..20,
            Just((0..n).collect::<Vec<u32>>()).prop_shuffle(),
            1..=n as usize,
        )
            .prop_map(|(weight, order, keep)| (weight, order[..keep].to_vec()));
        (Just(n), 1..n, prop::collection::vec(ballot, 1..25))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_condorcet_winner_wins_schulze((n, _, ballots) in elections()) {
        let profile = profile_of(n, &ballots);
        let d = methods::schulze::preferences(&profile);
        let condorcet = (0..n as usize).find(|&a| (0..n as usize).all(|b| a == b || d[a][b] > d[b][a]));
        if let Some(winner) = condorcet {
            let report = methods::schulze::count(&profile, None, &tie(n));
            prop_assert_eq!(report.ranking.unwrap()[0].clone(), vec![winner as u32]);
        }
    }

    #[test]
    fn a_majority_of_first_preferences_wins_irv_at_once((n, _, ballots) in elections()) {
        let profile = profile_of(n, &ballots);
        let total: u64 = ballots.iter().map(|b| b.0).sum();
        let mut first = vec![0u64; n as usize];
        for (weight, order) in &ballots {
            first[order[0] as usize] += weight;
        }
        if let Some(leader) = (0..n).find(|&c| 2 * first[c as usize] > total) {
            let report = methods::irv::count(&profile, &tie(n));
            prop_assert_eq!(report.winners, vec![leader]);
            prop_assert_eq!(report.rounds.len(), 1);
            // So do both STV rules with one seat.
            prop_assert_eq!(methods::meek::count(&profile, 1, &tie(n)).winners, vec![leader]);
            prop_assert_eq!(methods::scottish::count(&profile, 1, &tie(n)).winners, vec![leader]);
        }
    }

    #[test]
    fn stv_with_a_seat_for_everyone_elects_everyone((n, _, ballots) in elections()) {
        let profile = profile_of(n, &ballots);
        for report in [
            methods::meek::count(&profile, n, &tie(n)),
            methods::scottish::count(&profile, n, &tie(n)),
        ] {
            let mut winners = report.winners.clone();
            winners.sort();
            prop_assert_eq!(winners, (0..n).collect::<Vec<_>>(), "{}", report.method);
        }
    }

    #[test]
    fn results_do_not_depend_on_ballot_order((n, seats, ballots) in elections(), seed in any::<u64>()) {
        let mut shuffled = ballots.clone();
        let mut rng = Rng(seed);
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, rng.below(i as u64 + 1) as usize);
        }
        prop_assert_eq!(
            every_method(&profile_of(n, &ballots), seats),
            every_method(&profile_of(n, &shuffled), seats)
        );
    }

    #[test]
    fn meek_and_scottish_agree_without_transfers(
        counts in prop::collection::btree_set(1u64..500, 2..7),
        seats in 1u32..4,
    ) {
        // Every ballot names one candidate and vote totals differ: no ballot ever moves, and
        // both rules elect the candidates with the most votes.
        let counts: Vec<u64> = counts.into_iter().collect();
        let n = counts.len() as u32;
        let seats = seats.min(n - 1);
        let ballots: Ballots = counts.iter().enumerate().map(|(c, &w)| (w, vec![c as u32])).collect();
        let profile = profile_of(n, &ballots);
        let mut top: Vec<u32> = (0..n).collect();
        top.sort_by_key(|&c| std::cmp::Reverse(counts[c as usize]));
        top.truncate(seats as usize);
        top.sort();
        for report in [
            methods::meek::count(&profile, seats, &tie(n)),
            methods::scottish::count(&profile, seats, &tie(n)),
        ] {
            let mut winners = report.winners.clone();
            winners.sort();
            prop_assert_eq!(&winners, &top, "{}", report.method);
        }
    }
}

/// Meek against stv-rs (which reproduces Droop's transcripts) on thousands of random
/// elections, with stv-rs given our tie-break order.
#[test]
fn meek_agrees_with_stv_rs() {
    use stv_rs::arithmetic::{FixedDecimal9, Integer64};
    use stv_rs::types::{Ballot, Candidate, Election};
    let mut rng = Rng(2026);
    for round in 0..2000 {
        let n = 3 + rng.below(6) as u32;
        let seats = 1 + rng.below(u64::from(n) - 1) as u32;
        let voters = 1 + rng.below(30) as usize;
        let ballots = random_ballots(&mut rng, n, voters, true);
        let order = tie(n);
        let mut favoured: Vec<u32> = (0..n).collect();
        order.sort(&mut favoured);
        // stv-rs defeats the candidate earliest in its order: our least favoured.
        let defeat_first: Vec<usize> = favoured.iter().rev().map(|&c| c as usize).collect();
        let election = Election::builder()
            .title("random")
            .num_seats(seats as usize)
            .candidates(
                (0..n)
                    .map(|c| Candidate::new(format!("c{c}"), false))
                    .collect::<Vec<_>>(),
            )
            .ballots(
                ballots
                    .iter()
                    .map(|(w, o)| Ballot::new(*w as usize, o.iter().map(|&c| [c as usize])))
                    .collect::<Vec<_>>(),
            )
            .tie_order(defeat_first)
            .build();
        let theirs = stv_rs::meek::stv_droop::<Integer64, FixedDecimal9>(
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
        .unwrap();
        let ours = methods::meek::count(&profile_of(n, &ballots), seats, &order);
        let mut expected: Vec<u32> = theirs.elected.iter().map(|&c| c as u32).collect();
        let mut got = ours.winners.clone();
        expected.sort();
        got.sort();
        assert_eq!(
            got, expected,
            "election {round}: {ballots:?}, {seats} seat(s)"
        );
    }
}

/// Whether a count had a tie for fewest at some exclusion: pref_voting breaks those
/// differently (IRV: excludes all tied at once; Scottish STV: by lot), so they are skipped.
fn tied_exclusion(report: &Report) -> bool {
    !report.tie_breaks.is_empty()
        || report.rounds.iter().any(|round| {
            round.excluded.iter().any(|&out| {
                let value = |c: usize| round.votes[c].map(|v| v.units);
                round.votes.iter().enumerate().any(|(c, v)| {
                    c != out as usize && v.is_some() && value(c) <= value(out as usize)
                })
            })
        })
}

/// Rankings with ties and unranked candidates: `(weight, groups)`.
fn random_tied_ballots(
    rng: &mut Rng,
    candidates: u32,
    ballots: usize,
) -> Vec<(u64, Vec<Vec<u32>>)> {
    random_ballots(rng, candidates, ballots, true)
        .into_iter()
        .map(|(weight, order)| {
            let mut groups: Vec<Vec<u32>> = Vec::new();
            for c in order {
                match groups.last_mut() {
                    Some(group) if rng.below(3) == 0 => group.push(c),
                    _ => groups.push(vec![c]),
                }
            }
            (weight, groups)
        })
        .collect()
}

/// Schulze, IRV and Scottish STV against pref_voting on thousands of random elections.
/// .ci/run installs pref_voting; without it this test fails and says how to install it.
#[test]
fn schulze_irv_and_scottish_stv_agree_with_pref_voting() {
    let mut rng = Rng(45);
    let mut elections = Vec::new();
    let mut ours = Vec::new();
    for i in 0..4500 {
        let method = ["schulze", "irv", "stv-scottish"][i % 3];
        let n = 3 + rng.below(5) as u32;
        let seats = if method == "stv-scottish" {
            1 + rng.below(u64::from(n) - 1) as u32
        } else {
            1
        };
        // pref_voting's Schulze compares ranked and unranked candidates its own way: give it
        // complete rankings.
        let voters = 1 + rng.below(25) as usize;
        let ballots = random_ballots(&mut rng, n, voters, method != "schulze");
        let profile = profile_of(n, &ballots);
        let report = match method {
            "schulze" => methods::schulze::count(&profile, None, &tie(n)),
            "irv" => methods::irv::count(&profile, &tie(n)),
            _ => methods::scottish::count(&profile, seats, &tie(n)),
        };
        if method != "schulze" && tied_exclusion(&report) {
            continue;
        }
        let mut winners = match method {
            "schulze" => report.ranking.as_ref().unwrap()[0].clone(),
            _ => report.winners.clone(),
        };
        winners.sort();
        ours.push((method, seats, winners));
        elections.push(serde_json::json!({
            "method": method,
            "candidates": n,
            "seats": seats,
            "ballots": ballots,
        }));
    }
    // Schulze on rankings with ties and unranked candidates, where the measure of a link's
    // strength matters: pref_voting is given commune's (winning votes, then losing votes).
    for _ in 0..1500 {
        let n = 3 + rng.below(5) as u32;
        let voters = 1 + rng.below(25) as usize;
        let ballots = random_tied_ballots(&mut rng, n, voters);
        let mut profile = Profile::new((0..n).map(|c| format!("c{c}")).collect());
        for (weight, groups) in &ballots {
            profile
                .push(*weight, groups.iter().map(|g| g.iter().copied()))
                .unwrap();
        }
        let report = methods::schulze::count(&profile, None, &tie(n));
        let mut winners = report.ranking.as_ref().unwrap()[0].clone();
        winners.sort();
        ours.push(("schulze-ties", 1, winners));
        elections.push(serde_json::json!({
            "method": "schulze-ties",
            "candidates": n,
            "seats": 1,
            "ballots": ballots,
        }));
    }
    assert!(
        elections.len() > 4500,
        "enough elections without ties: {}",
        elections.len()
    );
    let dir = std::env::temp_dir().join(format!("commune-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("elections.json");
    std::fs::write(&input, serde_json::to_vec(&elections).unwrap()).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/core/oracle.py");
    let output = std::process::Command::new("python3")
        .arg(&script)
        .arg(&input)
        .output()
        .expect("python3 runs the pref_voting oracle: install Python 3");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        output.status.success(),
        "the pref_voting oracle did not run ({}): install it with `pip install pref_voting==1.18.2` (.ci/run does)",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let theirs: Vec<Vec<u32>> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(theirs.len(), ours.len());
    for (((method, seats, winners), expected), election) in ours.iter().zip(&theirs).zip(&elections)
    {
        assert_eq!(winners, expected, "{method}, {seats} seat(s): {election}");
    }
}

/// The templates of docs/event-format.md, section 14.3.1: `(kind, template)` in order.
fn documented_templates() -> Vec<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/event-format.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let block = doc
        .split("```templates\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("docs/event-format.md has a ```templates block");
    block
        .lines()
        .map(|line| {
            let (kind, template) = line.split_once(": ").expect("`kind: template`");
            (kind.to_owned(), template.to_owned())
        })
        .collect()
}

/// Whether `text` fits `template`: each `{…}` matches any text, and each `[sep…]` matches
/// nothing or `sep` followed by any text; everything else matches itself.
fn fits(template: &str, text: &str) -> bool {
    if let Some(rest) = template.strip_prefix('{') {
        let after = &rest[rest.find('}').expect("closed placeholder") + 1..];
        return (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .any(|i| fits(after, &text[i..]));
    }
    if let Some(rest) = template.strip_prefix('[') {
        let close = rest.find(']').expect("closed list");
        let separator = rest[..close].trim_end_matches('…');
        let after = &rest[close + 1..];
        return fits(after, text)
            || text.strip_prefix(separator).is_some_and(|tail| {
                (0..=tail.len())
                    .filter(|&i| tail.is_char_boundary(i))
                    .any(|i| fits(after, &tail[i..]))
            });
    }
    match (template.chars().next(), text.chars().next()) {
        (None, None) => true,
        (Some(t), Some(c)) if t == c => fits(&template[t.len_utf8()..], &text[c.len_utf8()..]),
        _ => false,
    }
}

/// Checks every line of `report`'s explanation against the templates, marking the ones used.
fn check_explanation(
    report: &Report,
    names: &[String],
    templates: &[(String, String)],
    used: &mut BTreeSet<usize>,
) {
    let mut fit = |kind: &str, text: &str| -> Option<usize> {
        let found: Vec<usize> = (0..templates.len())
            .filter(|&i| templates[i].0 == kind && fits(&templates[i].1, text))
            .collect();
        used.extend(&found);
        found.first().copied()
    };
    let lines = report.explain(names);
    let (notes, rest) = lines.split_at(report.notes.len());
    for note in notes {
        assert!(
            fit("note", note).is_some(),
            "no documented note fits {note:?}"
        );
    }
    let (rounds, rest) = rest.split_at(report.rounds.len());
    for (i, (line, round)) in rounds.iter().zip(&report.rounds).enumerate() {
        let action = methods::with_names(&round.action, names);
        assert!(
            fit("action", &action).is_some(),
            "no documented action fits {action:?}"
        );
        let head = format!("round {}: {action}", i + 1);
        assert!(fit("line", &head).is_some());
        let segments = line
            .strip_prefix(&head)
            .unwrap_or_else(|| panic!("{line:?} does not start with {head:?}"));
        // Segments start with `; ` and come in the documented order.
        let mut last = 0;
        for segment in segments.split("; ").skip(1) {
            let segment = format!("; {segment}");
            let index = fit("segment", &segment)
                .unwrap_or_else(|| panic!("no documented segment fits {segment:?} in {line:?}"));
            assert!(
                index > last,
                "{segment:?} is out of the documented order in {line:?}"
            );
            last = index;
        }
        assert!(
            segments.is_empty() || segments.starts_with("; "),
            "{line:?}"
        );
    }
    for line in rest {
        assert!(
            fit("line", line).is_some(),
            "no documented line fits {line:?}"
        );
    }
}

/// docs/event-format.md spells out every explanation string (they are part of the state
/// hash): every line the methods write here must fit a documented template, and every
/// documented template must be written by one of these cases.
#[test]
fn explanations_follow_the_documented_templates() {
    use commune_core::id::EventId;
    use commune_core::methods::time_poll::Availability;
    use commune_core::tally::{self, Choice, Method, Position, Quorum, TallyInput, YesNo};

    let templates = documented_templates();
    let mut used = BTreeSet::new();
    let names = |n: u32| -> Vec<String> { (0..n).map(|c| format!("c{c}")).collect() };

    // The ranked methods on random elections, small enough for ties, exclusions and
    // surpluses of every kind.
    let mut rng = Rng(2026);
    for round in 0..400 {
        let n = 2 + rng.below(5) as u32;
        let count = 1 + rng.below(12) as usize;
        let mut ballots = random_ballots(&mut rng, n, count, round % 2 == 0);
        if round % 3 == 0 {
            for ballot in &mut ballots {
                ballot.0 = 1 + ballot.0 % 3;
            }
        }
        let profile = profile_of(n, &ballots);
        let seats = 1 + rng.below(u64::from(n - 1)) as u32;
        let status_quo = (round % 4 == 1).then(|| rng.below(u64::from(n)) as u32);
        for report in [
            methods::schulze::count(&profile, status_quo, &tie(n)),
            methods::irv::count(&profile, &tie(n)),
            methods::meek::count(&profile, seats, &tie(n)),
            methods::scottish::count(&profile, seats, &tie(n)),
        ] {
            check_explanation(&report, &names(n), &templates, &mut used);
        }
    }
    // Meek's rounds that end when the surplus stops falling, IRV with no ballot at all, and
    // IRV with a ballot that ranks two continuing candidates equally.
    let stalled = profile_of(4, &vec![(1, vec![0, 1]), (1, vec![2]), (1, vec![3])]);
    let mut profile = Profile::new(names(3));
    profile.push(1, Vec::<Vec<u32>>::new()).unwrap();
    let mut equal = Profile::new(names(3));
    equal.push(2, [vec![0], vec![1, 2]]).unwrap();
    equal.push(3, [vec![1]]).unwrap();
    equal.push(4, [vec![2]]).unwrap();
    for (report, n) in [
        (methods::meek::count(&stalled, 2, &tie(4)), 4),
        (methods::irv::count(&profile, &tie(3)), 3),
        (methods::irv::count(&equal, &tie(3)), 3),
    ] {
        check_explanation(&report, &names(n), &templates, &mut used);
    }
    // Score and time polls, with and without ties.
    let slots = names(3);
    for scores in [[3u32, 1, 0], [2, 2, 2]] {
        let report = methods::score::count(3, 3, 1, [(2, &scores[..])], &tie(3));
        check_explanation(&report, &slots, &templates, &mut used);
    }
    let answers = [Availability::Yes, Availability::Maybe, Availability::No];
    let report = methods::time_poll::count(&slots, [(1, &answers[..])], &tie(3));
    check_explanation(&report, &slots, &templates, &mut used);

    // The methods counted in `tally` itself, and the first line of every explanation.
    let cases: Vec<(Method, Vec<Choice>, usize)> = vec![
        (
            Method::Consent { max_objections: 0 },
            vec![Choice::Consent {
                position: Position::Block,
                reason: "no".into(),
            }],
            0,
        ),
        (
            Method::Consent { max_objections: 0 },
            vec![Choice::Consent {
                position: Position::Object,
                reason: "later".into(),
            }],
            0,
        ),
        (
            Method::Consent { max_objections: 1 },
            vec![Choice::Consent {
                position: Position::Agree,
                reason: String::new(),
            }],
            0,
        ),
        (
            Method::Majority,
            vec![Choice::YesNo { vote: YesNo::Yes }],
            0,
        ),
        (
            Method::Supermajority {
                numerator: 2,
                denominator: 3,
            },
            vec![Choice::YesNo { vote: YesNo::No }],
            0,
        ),
        (
            Method::Approval { winners: 1 },
            vec![Choice::Approval {
                approved: vec![0, 1],
            }],
            3,
        ),
        (
            Method::Score { max: 5, winners: 1 },
            vec![Choice::Score {
                scores: vec![5, 1, 0],
            }],
            3,
        ),
    ];
    for (method, choices, options) in &cases {
        let options = names(*options as u32);
        let refs: Vec<&Choice> = choices.iter().collect();
        for min_ballots in [1, 5] {
            let quorum = Quorum {
                min_ballots,
                min_share_permille: 0,
            };
            let outcome = tally::tally(&TallyInput::new(
                EventId([3; 32]),
                method,
                &options,
                quorum,
                4,
                &refs,
            ));
            match &outcome.report {
                Some(report) => {
                    let explained = report.explain(&options);
                    let (first, rest) = outcome.explanation.split_first().unwrap();
                    assert_eq!(rest[..explained.len()], explained[..]);
                    check_explanation(report, &options, &templates, &mut used);
                    // The tally's own lines: the first, and the quorum's last word.
                    for line in std::iter::once(first).chain(&rest[explained.len()..]) {
                        let found: Vec<usize> = (0..templates.len())
                            .filter(|&i| templates[i].0 == "line" && fits(&templates[i].1, line))
                            .collect();
                        assert!(!found.is_empty(), "no documented line fits {line:?}");
                        used.extend(found);
                    }
                }
                None => {
                    for line in &outcome.explanation {
                        let found: Vec<usize> = (0..templates.len())
                            .filter(|&i| templates[i].0 == "line" && fits(&templates[i].1, line))
                            .collect();
                        assert!(!found.is_empty(), "no documented line fits {line:?}");
                        used.extend(found);
                    }
                }
            }
        }
    }

    let unused: Vec<&str> = (0..templates.len())
        .filter(|i| !used.contains(i))
        .map(|i| templates[i].1.as_str())
        .collect();
    assert!(
        unused.is_empty(),
        "documented but never written: {unused:#?}"
    );
}

#[test]
fn templates_fit_only_their_own_shape() {
    assert!(fits("winners: {names}", "winners: "));
    assert!(fits("ranking: {names}[ > …]", "ranking: a, b > c"));
    assert!(fits("; votes: {name} {decimal}[, …]", "; votes: a 1"));
    assert!(!fits("; votes: {name} {decimal}[, …]", "; exhausted 1"));
    assert!(!fits(
        "{name} is excluded with the fewest votes",
        "a is excluded with the most votes"
    ));
}

#[test]
fn irv_says_when_equal_ranks_exhaust_ballots() {
    use commune_core::id::EventId;
    use commune_core::tally::{self, Choice, Method, Quorum, TallyInput};

    let options: Vec<String> = ["Ana", "Ben", "Chloé"].map(String::from).to_vec();
    let count = |ballots: &[(usize, Vec<Vec<u32>>)]| -> Vec<String> {
        let choices: Vec<Choice> = ballots
            .iter()
            .flat_map(|(n, ranks)| std::iter::repeat_n(ranks, *n))
            .map(|ranks| Choice::Ranked {
                ranks: ranks.clone(),
            })
            .collect();
        let refs: Vec<&Choice> = choices.iter().collect();
        let quorum = Quorum {
            min_ballots: 1,
            min_share_permille: 0,
        };
        tally::tally(&TallyInput::new(
            EventId([3; 32]),
            &Method::Irv,
            &options,
            quorum,
            refs.len(),
            &refs,
        ))
        .explanation
    };
    // Ana is excluded first; her two voters rank Ben and Chloé equally next, so their ballots
    // count for nobody from round 2 on, and Chloé wins 4 to 3.
    let explanation = count(&[
        (2, vec![vec![0], vec![1, 2]]),
        (3, vec![vec![1]]),
        (4, vec![vec![2]]),
    ]);
    let note = "2 ballot(s) ranked continuing candidates equally and count for nobody from \
                there on, as an overvote does in most public IRV rules";
    assert!(
        explanation.iter().any(|line| line == note),
        "{explanation:#?}"
    );
    assert!(
        explanation
            .iter()
            .any(|line| line.starts_with("round 2: ") && line.contains("; exhausted 2")),
        "{explanation:#?}"
    );
    assert_eq!(explanation.last().unwrap(), "winners: Chloé");
    // The same count with Ana's voters going on to Ben says nothing of equal ranks.
    let explanation = count(&[
        (2, vec![vec![0], vec![1], vec![2]]),
        (3, vec![vec![1]]),
        (4, vec![vec![2]]),
    ]);
    assert!(
        !explanation.iter().any(|line| line.contains("equally")),
        "{explanation:#?}"
    );
}
