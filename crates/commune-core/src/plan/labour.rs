//! Labour-hour costs of items, in the manner of Cockshott and Cottrell: the cost of a unit is
//! the labour its process takes directly plus the cost of the inputs it uses up,
//! `cost = direct + A · cost`, solved by Gauss–Seidel sweeps over a sparse input–output
//! system. This module owns that system and its solution; it does not plan anything.

use super::{Model, PlanError, check};

/// A sparse input–output system: making one unit of item `i` takes `direct[i]` labour hours
/// and `amount[k]` units of item `input[k]` for each `k` in `start[i]..start[i + 1]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InputOutput {
    pub direct: Vec<f64>,
    pub start: Vec<usize>,
    pub input: Vec<u32>,
    pub amount: Vec<f64>,
}

/// Sweeps allowed before an unconverged system is refused.
const MAX_SWEEPS: usize = 20_000;
/// Relative precision of the costs returned.
const PRECISION: f64 = 1e-12;

impl InputOutput {
    /// The system of a model's processes: each item is made by the first process that lists it
    /// among its outputs, and a run's labour (of all skills) and inputs are charged whole to
    /// that item, per unit of it (so a process with several outputs charges each of them for
    /// the whole run). Items no process makes cost nothing beyond what is spent carrying them.
    pub fn from_model(model: &Model) -> Result<InputOutput, PlanError> {
        check::validate(model)?;
        let items = model.items.len();
        let mut maker: Vec<Option<(usize, f64)>> = vec![None; items];
        for (p, process) in model.processes.iter().enumerate() {
            for &(item, quantity) in &process.outputs {
                if quantity > 0.0 && maker[item].is_none() {
                    maker[item] = Some((p, quantity));
                }
            }
        }
        let mut system = InputOutput {
            direct: vec![0.0; items],
            start: Vec::with_capacity(items + 1),
            ..InputOutput::default()
        };
        system.start.push(0);
        for (item, made) in maker.iter().enumerate() {
            if let Some((p, per_run)) = *made {
                let process = &model.processes[p];
                system.direct[item] = process.labour.iter().map(|&(_, h)| h).sum::<f64>() / per_run;
                for &(input, quantity) in &process.inputs {
                    system.input.push(input as u32);
                    system.amount.push(quantity / per_run);
                }
            }
            system.start.push(system.input.len());
        }
        Ok(system)
    }

    fn validate(&self) -> Result<(), PlanError> {
        let items = self.direct.len();
        let malformed = |what: String| Err(PlanError::Model(what));
        if self.start.len() != items + 1
            || self.start[0] != 0
            || self.start.windows(2).any(|w| w[0] > w[1])
            || self.start[items] != self.input.len()
            || self.input.len() != self.amount.len()
        {
            return malformed("the input–output system's rows do not fit together".into());
        }
        if let Some(i) = self
            .direct
            .iter()
            .position(|h| !(h.is_finite() && *h >= 0.0))
        {
            return malformed(format!("item {i} takes {} direct hours", self.direct[i]));
        }
        if let Some(k) = self.input.iter().position(|&j| j as usize >= items) {
            return malformed(format!(
                "an input names item {}, not in the system",
                self.input[k]
            ));
        }
        if let Some(k) = self
            .amount
            .iter()
            .position(|a| !(a.is_finite() && *a >= 0.0))
        {
            return malformed(format!("an input amount is {}", self.amount[k]));
        }
        Ok(())
    }

    /// The labour-hour cost of one unit of each item. Refuses a system that is not
    /// productive: one that uses up at least as much as it makes, around some cycle of items,
    /// so that costs grow without end (or, at the edge, converge too slowly to trust).
    pub fn costs(&self) -> Result<Vec<f64>, PlanError> {
        self.validate()?;
        let items = self.direct.len();
        let mut cost = vec![0.0; items];
        let mut previous_change = f64::INFINITY;
        let mut growing = 0;
        for sweep in 1..=MAX_SWEEPS {
            // Gauss–Seidel from zero: with non-negative inputs the costs only rise.
            let (mut change, mut largest) = (0.0f64, 0.0f64);
            for i in 0..items {
                let (mut sum, mut own) = (self.direct[i], 0.0);
                for k in self.start[i]..self.start[i + 1] {
                    let j = self.input[k] as usize;
                    if j == i {
                        own += self.amount[k];
                    } else {
                        sum += self.amount[k] * cost[j];
                    }
                }
                if own >= 1.0 && sum > 0.0 {
                    return Err(not_productive(format!(
                        "item {i} uses up {own} of itself per unit made"
                    )));
                }
                let next = if own >= 1.0 { 0.0 } else { sum / (1.0 - own) };
                change = change.max(next - cost[i]);
                largest = largest.max(next);
                cost[i] = next;
            }
            if !largest.is_finite() {
                return Err(not_productive(format!(
                    "costs overflow after {sweep} sweeps"
                )));
            }
            // Sweeps shrink the change by about a fixed ratio; what is still to come is about
            // change * ratio / (1 - ratio).
            let ratio = change / previous_change;
            if change <= PRECISION * largest
                || (sweep > 2
                    && ratio < 1.0
                    && change * ratio / (1.0 - ratio) <= PRECISION * largest)
            {
                return Ok(cost);
            }
            growing = if ratio >= 1.0 - 1e-9 { growing + 1 } else { 0 };
            if sweep > 50 && growing >= 20 {
                return Err(not_productive(format!(
                    "costs still grow by {change} per sweep after {sweep} sweeps"
                )));
            }
            previous_change = change;
        }
        Err(not_productive(format!(
            "costs did not settle within {MAX_SWEEPS} sweeps"
        )))
    }
}

fn not_productive(why: String) -> PlanError {
    PlanError::Model(format!(
        "the processes are not productive (they use up at least what they make): {why}"
    ))
}
