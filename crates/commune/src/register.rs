//! The register's use-cases shared by the command line and the web app: quantities as people
//! write them, ids by prefix and commons resources by name, the draft plan of a council's
//! register, and that draft in words.
//!
//! Must not decide what the fold decides: it reads states and builds payloads only.

use anyhow::{Result, anyhow, bail};
use commune_core::EventId;
use commune_core::plan::{self, DenseSimplex, Draft, Model, Settings, Shortfall};
use commune_core::register::{self, PlanTerms, SCALE, Transport};
use commune_core::state::State;
use serde_json::{Value, json};

/// Text such as `2`, `2.5` or `-0.125` as thousandths; more than three decimals is an error.
/// The sign is kept: the fold refuses what is not positive, with its reason.
pub fn parse_quantity(text: &str) -> Result<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, part) = digits.split_once('.').unwrap_or((digits, ""));
    let well_formed = !whole.is_empty()
        && whole.chars().all(|c| c.is_ascii_digit())
        && part.chars().all(|c| c.is_ascii_digit())
        && part.len() <= 3;
    if !well_formed {
        bail!("a quantity is a number with at most three decimals, such as 2 or 0.25: {text:?}");
    }
    let whole: i64 = whole
        .parse()
        .map_err(|_| anyhow!("the quantity {text:?} is absurdly large"))?;
    let part: i64 = format!("{part:0<3}").parse().expect("three digits");
    let amount = whole
        .checked_mul(SCALE)
        .and_then(|w| w.checked_add(part))
        .ok_or_else(|| anyhow!("the quantity {text:?} is absurdly large"))?;
    Ok(if negative { -amount } else { amount })
}

/// A planner tolerance such as `0.1%`, `2.5 %` or `0`, as parts per thousand; from 0 to
/// 100 %, in steps of 0.1 %.
pub fn parse_tolerance(text: &str) -> Result<u32> {
    let number = text.trim().trim_end_matches('%').trim_end();
    let thousandths = parse_quantity(number)
        .map_err(|_| anyhow!("a tolerance is a percentage such as 0.1% or 0: {text:?}"))?;
    if !(0..=100 * SCALE).contains(&thousandths) {
        bail!("a tolerance is from 0 to 100 %, not {text:?}");
    }
    if thousandths % 100 != 0 {
        bail!("a tolerance is counted in steps of 0.1 %, not {text:?}");
    }
    Ok(u32::try_from(thousandths / 100).expect("at most 1000"))
}

/// Thousandths as people write them: `2`, `2.5`, `0.125`.
pub fn format_quantity(amount: i64) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let amount = amount.unsigned_abs();
    let scale = SCALE as u64;
    let (whole, part) = (amount / scale, amount % scale);
    if part == 0 {
        format!("{sign}{whole}")
    } else {
        let part = format!("{part:03}");
        format!("{sign}{whole}.{}", part.trim_end_matches('0'))
    }
}

/// The one id among `ids` that `text` (a prefix) names.
pub fn resolve<'a>(
    ids: impl Iterator<Item = &'a EventId>,
    text: &str,
    what: &str,
) -> Result<EventId> {
    let text = text.trim().to_lowercase();
    let found: Vec<EventId> = ids
        .filter(|id| !text.is_empty() && id.to_string().starts_with(&text))
        .copied()
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => bail!("no {what} {text:?}"),
        _ => bail!("{text:?} matches several of the {what}s: give more of the id"),
    }
}

/// A commons resource by id prefix or by name.
pub fn resolve_resource(state: &State, text: &str) -> Result<EventId> {
    let named: Vec<EventId> = state
        .register
        .resources
        .iter()
        .filter(|(_, r)| r.name.eq_ignore_ascii_case(text.trim()))
        .map(|(id, _)| *id)
        .collect();
    match named.as_slice() {
        [one] => Ok(*one),
        [] => resolve(state.register.resources.keys(), text, "commons resource"),
        _ => bail!("several commons resources are called {text:?}: give the id"),
    }
}

/// A draft plan of a council's register, with the model it was drawn from, the settings that
/// drew it and the exact commitments a plan proposal would carry.
pub struct Drafted {
    pub model: Model,
    pub settings: Settings,
    pub draft: Draft,
    pub terms: PlanTerms,
}

/// Draws the plan of `state`'s register at `now` with the pure-Rust solver, by the planner
/// settings in the council's constitution.
pub fn draft(state: &State, now: u64, transport: Transport) -> Result<Drafted> {
    let model = register::model(&state.register, now, transport);
    let settings = state.constitution.planner_settings();
    let draft = plan::draft(&model, &settings, &DenseSimplex)
        .map_err(|error| anyhow!("no plan can be drawn: {error}"))?;
    let terms = PlanTerms::of_draft(&model, &draft);
    Ok(Drafted {
        model,
        settings,
        draft,
        terms,
    })
}

/// Why a need is short, in plain words.
pub fn shortfall_text(model: &Model, need: usize, shortfall: &Shortfall) -> String {
    let need = &model.needs[need];
    let item = &model.items[need.item].name;
    let place = &model.places[need.place];
    match shortfall {
        Shortfall::Unreachable => format!(
            "nothing in the register can bring {item} to {place}: no stock, offer or process for it"
        ),
        Shortfall::TakenByHigherClass => {
            format!("all the {item} within reach went to more urgent needs")
        }
        Shortfall::SharedFairly => format!(
            "too little {item} for every {} need: what there is was shared fairly",
            need.urgency.name()
        ),
        Shortfall::Capacity { process } => format!(
            "the process \"{}\" runs at its capacity",
            model.processes[*process].name
        ),
        Shortfall::Skill { skill } => {
            format!("not enough hours of {} are offered", model.skills[*skill])
        }
        Shortfall::Equipment { equipment } => {
            format!(
                "{} is booked or in use for all its hours",
                model.equipment[*equipment].name
            )
        }
        Shortfall::Input { item } => {
            format!("not enough {} to make more", model.items[*item].name)
        }
        Shortfall::Route { route } => {
            let route = &model.routes[*route];
            format!(
                "carrying from {} to {} is at its capacity",
                model.places[route.from], model.places[route.to]
            )
        }
    }
}

/// One line per need of the draft: what it gets and, when short, why.
pub fn met_lines(model: &Model, draft: &Draft) -> Vec<(String, String)> {
    draft
        .met
        .iter()
        .map(|met| {
            let need = &model.needs[met.need];
            let item = &model.items[need.item];
            let what = format!(
                "{} at {} ({}): {} of {} {}",
                item.name,
                model.places[need.place],
                need.urgency.name(),
                format_units(met.quantity),
                format_units(need.quantity),
                item.unit,
            );
            let why = match &met.shortfall {
                None => "met in full".to_owned(),
                Some(shortfall) => shortfall_text(model, met.need, shortfall),
            };
            (what, why)
        })
        .collect()
}

/// A planner's quantity in whole units, rounded to thousandths and written as people write
/// them.
pub fn format_units(units: f64) -> String {
    format_quantity((units * SCALE as f64).round() as i64)
}

/// The draft as JSON: per need what it gets and why not, labour by skill, item costs in
/// labour hours, skill scarcity, and the commitments a proposal would carry.
pub fn draft_json(drafted: &Drafted) -> Value {
    let mut value = plan_json(&drafted.model, &drafted.draft);
    value["settings"] = settings_json(&drafted.settings);
    value["draft"] = json!(drafted.terms.draft);
    value["commitments"] = json!(drafted.terms.deliveries);
    value["runs"] = json!(drafted.terms.runs);
    value
}

/// Planner settings as JSON, with their sentence.
pub fn settings_json(settings: &Settings) -> Value {
    json!({
        "tolerance_permille": settings.tolerance_permille,
        "fairness": settings.fairness,
        "words": settings.describe(),
    })
}

/// A plan of `model` as JSON: per need what it gets and why not, labour by skill, item costs
/// in labour hours, skill scarcity.
pub fn plan_json(model: &Model, draft: &Draft) -> Value {
    let needs: Vec<Value> = draft
        .met
        .iter()
        .map(|met| {
            let need = &model.needs[met.need];
            json!({
                "need": need.id,
                "item": model.items[need.item].name,
                "place": model.places[need.place],
                "urgency": need.urgency,
                "wanted": need.quantity,
                "met": met.quantity,
                "why": met.shortfall.as_ref().map(|s| shortfall_text(model, met.need, s)),
            })
        })
        .collect();
    let items: Vec<Value> = model
        .items
        .iter()
        .zip(&draft.item_hours)
        .map(|(item, hours)| json!({"item": item.name, "unit": item.unit, "hours": hours}))
        .collect();
    let skills: Vec<Value> = model
        .skills
        .iter()
        .enumerate()
        .map(|(i, skill)| {
            json!({
                "skill": skill,
                "hours": draft.skill_hours.get(i),
                "scarcity": draft.skill_scarcity.get(i),
            })
        })
        .collect();
    json!({
        "solver": draft.solver,
        "needs": needs,
        "item_hours": items,
        "skills": skills,
        "transport_hours": draft.transport_hours,
    })
}

/// The draft in words, for people.
pub fn draft_text(drafted: &Drafted) -> String {
    let (model, draft) = (&drafted.model, &drafted.draft);
    let text = plan_text(model, draft, met_lines(model, draft));
    if draft.met.is_empty() {
        return text;
    }
    format!(
        "{text}settings: {}\ndraft {} ({})\n",
        drafted.settings.describe(),
        drafted.terms.draft,
        draft.solver
    )
}

/// A plan of `model` in words: the needs' lines (from [`met_lines`], or worded by a caller
/// that knows more, as a federation's plan does), the runs, the items' labour costs and the
/// skills' use.
pub fn plan_text(model: &Model, draft: &Draft, lines: Vec<(String, String)>) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if draft.met.is_empty() && draft.runs.is_empty() {
        return "no open needs: nothing to plan".into();
    }
    if lines.is_empty() {
        // A council in a federation's plan can run its processes for other councils alone.
        out.push_str("no open needs of its own\n");
    }
    for (what, why) in lines {
        let _ = writeln!(out, "{what}: {why}");
    }
    for run in &draft.runs {
        let _ = writeln!(
            out,
            "run \"{}\" {} time(s)",
            model.processes[run.process].name,
            format_units(run.runs)
        );
    }
    for (item, hours) in model.items.iter().zip(&draft.item_hours) {
        if *hours != 0.0 {
            let _ = writeln!(
                out,
                "one {} of {} costs {:.2} labour hour(s)",
                item.unit, item.name, hours
            );
        }
    }
    for (i, skill) in model.skills.iter().enumerate() {
        let _ = writeln!(
            out,
            "{skill}: {:.2} hour(s) used, scarcity {:.3}",
            draft.skill_hours.get(i).copied().unwrap_or(0.0),
            draft.skill_scarcity.get(i).copied().unwrap_or(0.0)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_exact_thousandths() {
        assert_eq!(parse_quantity("2").unwrap(), 2000);
        assert_eq!(parse_quantity("2.5").unwrap(), 2500);
        assert_eq!(parse_quantity("0.125").unwrap(), 125);
        assert_eq!(parse_quantity("-1").unwrap(), -1000);
        assert!(parse_quantity("0.0001").is_err());
        assert!(parse_quantity("1e3").is_err());
        assert!(parse_quantity("").is_err());
        assert!(parse_quantity("99999999999999999999").is_err());
        for amount in [0, 1, 125, 2500, 2000, -1500] {
            assert_eq!(parse_quantity(&format_quantity(amount)).unwrap(), amount);
        }
    }

    #[test]
    fn tolerances_are_percentages_in_tenths() {
        assert_eq!(parse_tolerance("0.1%").unwrap(), 1);
        assert_eq!(parse_tolerance("2.5 %").unwrap(), 25);
        assert_eq!(parse_tolerance("0").unwrap(), 0);
        assert_eq!(parse_tolerance("100%").unwrap(), 1000);
        for bad in ["0.05%", "-1%", "101%", "much", "%"] {
            assert!(parse_tolerance(bad).is_err(), "{bad}");
        }
    }
}
