//! `commune tally FILE --method M`: counts a ballot file with any method, outside any council.

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use clap::Args;
use commune_core::EventId;
use commune_core::methods::{Decimal, Report, TieOrder, with_names};
use commune_core::tally::{self, Choice, Quorum, TallyInput};
use serde_json::{Value, json};

use super::Invocation;
use super::proposal::{MethodArg, MethodParams};
use crate::ballot_file::{self, Format};

#[derive(Debug, Args)]
pub struct TallyArgs {
    /// The ballot file: PrefLib (.soc .soi .toc .toi), BLT (.blt) or commune JSON (.json);
    /// `-` reads standard input
    pub file: PathBuf,
    /// How to count
    #[arg(long, value_enum)]
    pub method: MethodArg,
    /// The file's format [default: from its extension, else its first line]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    #[command(flatten)]
    pub params: MethodParams,
}

pub fn run(invocation: &Invocation, args: TallyArgs) -> Result<()> {
    let file = ballot_file::read(&args.file, args.format)?;
    let names = file.profile.candidates.clone();
    let method = args.params.method(args.method, &names, file.seats)?;
    let seed = TieOrder::seed_of_names(&names);
    let tie = TieOrder::from_seed(&seed, names.len());
    if method.has_options() {
        method
            .check(&names)
            .map_err(|e| anyhow!("{e} (the file has {} candidates)", names.len()))?;
    }
    // Both are at most MAX_TOTAL_WEIGHT (the readers refuse more), so the sum cannot wrap.
    let ballots = file.profile.total_weight() + file.choices.iter().map(|c| c.0).sum::<u64>();
    // Ranked files are counted straight from the profile, weights and all; other ballots go
    // through the same tally as a proposal's, one choice per voter.
    let (report, outcome) = if method.is_ranked() {
        if !file.choices.is_empty() {
            bail!(
                "{} needs ranked ballots; this file's ballots do not rank",
                method.name()
            );
        }
        (tally::count_ranked(&method, &file.profile, &tie), None)
    } else {
        if !file.profile.is_empty() {
            bail!(
                "{} does not count rankings; this file's ballots rank the candidates",
                method.name()
            );
        }
        // Each ballot is counted once with its count as its weight, never copied.
        let choices: Vec<&Choice> = file.choices.iter().map(|(_, choice)| choice).collect();
        let weights: Vec<u64> = file.choices.iter().map(|(count, _)| *count).collect();
        if let Some(bad) = choices.iter().find_map(|c| c.check(&method, &names).err()) {
            bail!("a ballot does not fit: {bad}");
        }
        let voters = usize::try_from(ballots)
            .map_err(|_| anyhow!("{ballots} ballots are more than this machine counts"))?;
        let outcome = tally::tally(&TallyInput {
            weights: &weights,
            ballots: voters,
            ..TallyInput::new(
                EventId(seed),
                &method,
                &names,
                Quorum::default(),
                voters,
                &choices,
            )
        });
        (outcome.report.clone(), Some(outcome))
    };
    let explanation = match (&report, &outcome) {
        (_, Some(outcome)) => outcome.explanation.clone(),
        (Some(report), None) => report.explain(&names),
        (None, None) => unreachable!("one of the two counts ran"),
    };
    let name = |c: &u32| names[*c as usize].clone();
    let mut view = json!({
        "method": method.name(),
        "title": file.title,
        "format": file.format.name(),
        "candidates": names,
        "withdrawn": (0..names.len() as u32).filter(|&c| file.profile.withdrawn[c as usize]).map(|c| name(&c)).collect::<Vec<_>>(),
        "ballots": ballots,
        "winners": report.as_ref().map_or_else(
            || outcome.as_ref().map_or(vec![], |o| o.winners.iter().map(name).collect()),
            |r| r.winners.iter().map(name).collect(),
        ),
        "ranking": report.as_ref().and_then(|r| r.ranking.as_ref()).map(|ranking| {
            ranking.iter().map(|group| group.iter().map(name).collect::<Vec<_>>()).collect::<Vec<_>>()
        }),
        "rounds": report.as_ref().map_or(vec![], |r| rounds(r, &names)),
        "tie_breaks": report.as_ref().map_or(vec![], |r| {
            r.tie_breaks.iter().map(|t| json!({
                "among": t.among.iter().map(name).collect::<Vec<_>>(),
                "chosen": name(&t.chosen),
                "purpose": t.purpose,
            })).collect()
        }),
        "explanation": explanation,
    });
    if let Some(report) = &report {
        view["seats"] = json!(report.seats);
        view["notes"] = json!(report.notes);
        if let Some(pairwise) = &report.pairwise {
            view["pairwise"] = json!(pairwise);
        }
    }
    if let Some(outcome) = &outcome {
        view["passed"] = json!(outcome.passed);
        view["counts"] = json!(outcome.counts);
    }
    invocation.print(&view, || {
        let mut out = format!(
            "{} ballot(s), {} candidate(s), counted by {}\n",
            ballots,
            names.len(),
            method.name()
        );
        for line in &explanation {
            out.push_str(line);
            out.push('\n');
        }
        if let Some(outcome) = &outcome
            && !method.has_options()
        {
            out.push_str(if outcome.passed {
                "passed\n"
            } else {
                "did not pass\n"
            });
        }
        out
    })
}

/// The rounds with candidates named: votes as `{name: "12.5"}`, elected and excluded as
/// names, and `{n}` in actions replaced by names.
fn rounds(report: &Report, names: &[String]) -> Vec<Value> {
    let named =
        |values: &mut dyn Iterator<Item = (u32, Decimal)>| -> serde_json::Map<String, Value> {
            values
                .map(|(c, v)| (names[c as usize].clone(), json!(v)))
                .collect()
        };
    report
        .rounds
        .iter()
        .map(|round| {
            let mut votes = round
                .votes
                .iter()
                .enumerate()
                .filter_map(|(c, v)| v.map(|v| (c as u32, v)));
            json!({
                "action": with_names(&round.action, names),
                "votes": named(&mut votes),
                "exhausted": round.exhausted,
                "threshold": round.threshold,
                "keep_factors": named(&mut round.keep_factors.iter().copied()),
                "elected": round.elected.iter().map(|&c| &names[c as usize]).collect::<Vec<_>>(),
                "excluded": round.excluded.iter().map(|&c| &names[c as usize]).collect::<Vec<_>>(),
            })
        })
        .collect()
}
