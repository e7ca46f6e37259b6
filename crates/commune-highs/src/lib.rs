//! HiGHS (the `highs` crate, MIT) behind [`LpSolver`], for plans too large for
//! [`commune_core::plan::DenseSimplex`]. Its own crate because HiGHS is built from C++ source:
//! the default build of commune needs no cmake, C++ compiler or libclang.
//!
//! A run of programs (the planner's stages) keeps one HiGHS model: each stage adds its columns
//! and rows and sets its objective, and HiGHS starts from the last stage's basis.

use std::num::NonZeroU32;

use commune_core::plan::{Lp, LpError, LpSequence, LpSolution, LpSolver};
use highs::{Col, HighsModelStatus, Model, RowProblem, Sense};

/// HiGHS's simplex, on one thread, without its console output.
#[derive(Debug, Clone, Default)]
pub struct Highs;

impl LpSolver for Highs {
    fn name(&self) -> &str {
        "HiGHS"
    }

    fn solve(&self, lp: &Lp) -> Result<LpSolution, LpError> {
        HighsSequence::default().solve(lp)
    }

    fn sequence(&self) -> Box<dyn LpSequence + '_> {
        Box::new(HighsSequence::default())
    }
}

/// One HiGHS model carried from program to program, with the handles of its columns and the
/// number of rows it has.
#[derive(Default)]
struct HighsSequence {
    last: Option<(Model, Vec<Col>, usize)>,
}

impl LpSequence for HighsSequence {
    fn solve(&mut self, lp: &Lp) -> Result<LpSolution, LpError> {
        check(lp)?;
        let (mut model, columns) = match self.last.take() {
            Some((model, columns, rows)) if extends(lp, columns.len(), rows) => {
                extend(model, columns, rows, lp)
            }
            _ => build(lp),
        };
        for (&col, &cost) in columns.iter().zip(&lp.objective) {
            model.change_column_cost(col, cost);
        }
        let solved = model
            .try_solve()
            .map_err(|status| LpError::Solver(format!("HiGHS: {status:?}")))?;
        match solved.status() {
            HighsModelStatus::Optimal => {}
            HighsModelStatus::Infeasible => return Err(LpError::Infeasible),
            HighsModelStatus::Unbounded => return Err(LpError::Unbounded),
            status => return Err(LpError::Solver(format!("HiGHS: {status:?}"))),
        }
        let solution = solved.get_solution();
        let x: Vec<f64> = solution
            .columns()
            .iter()
            .zip(lp.col_lower.iter().zip(&lp.col_upper))
            .map(|(&x, (&l, &u))| x.clamp(l, u))
            .collect();
        let objective = lp.objective.iter().zip(&x).map(|(c, x)| c * x).sum();
        let row_duals = solution.dual_rows().to_vec();
        self.last = Some((solved.into(), columns, lp.rows.len()));
        Ok(LpSolution {
            x,
            objective,
            row_duals,
        })
    }
}

/// Refuses what HiGHS should not be handed: mismatched lengths, NaN, out-of-range columns.
fn check(lp: &Lp) -> Result<(), LpError> {
    let n = lp.objective.len();
    if lp.col_lower.len() != n || lp.col_upper.len() != n {
        return Err(LpError::Solver(
            "column bounds do not match the objective".into(),
        ));
    }
    let bad_bounds = |l: f64, u: f64| l.is_nan() || u.is_nan() || l > u;
    if lp.objective.iter().any(|c| !c.is_finite())
        || (0..n).any(|j| bad_bounds(lp.col_lower[j], lp.col_upper[j]))
        || lp.rows.iter().any(|row| {
            bad_bounds(row.lower, row.upper)
                || row.coefs.iter().any(|&(j, a)| j >= n || !a.is_finite())
        })
    {
        return Err(LpError::Solver(
            "the program has a NaN, inverted bounds or an unknown column".into(),
        ));
    }
    Ok(())
}

/// Whether `lp` only adds to the last program, without new coefficients in its rows.
fn extends(lp: &Lp, columns: usize, rows: usize) -> bool {
    lp.objective.len() >= columns
        && lp.rows.len() >= rows
        && lp.rows[..rows]
            .iter()
            .all(|row| row.coefs.iter().all(|&(j, _)| j < columns))
}

fn build(lp: &Lp) -> (Model, Vec<Col>) {
    let mut problem = RowProblem::default();
    let columns: Vec<Col> = (0..lp.objective.len())
        .map(|j| problem.add_column(lp.objective[j], lp.col_lower[j]..=lp.col_upper[j]))
        .collect();
    for row in &lp.rows {
        let factors = row.coefs.iter().map(|&(j, a)| (columns[j], a));
        problem.add_row(row.lower..=row.upper, factors);
    }
    let mut model = problem.optimise(Sense::Minimise);
    model.make_quiet();
    model.set_threads(NonZeroU32::MIN);
    (model, columns)
}

fn extend(mut model: Model, mut columns: Vec<Col>, rows: usize, lp: &Lp) -> (Model, Vec<Col>) {
    for j in columns.len()..lp.objective.len() {
        let col = model.add_col(
            lp.objective[j],
            lp.col_lower[j]..=lp.col_upper[j],
            std::iter::empty(),
        );
        columns.push(col);
    }
    for row in &lp.rows[rows..] {
        let factors = row.coefs.iter().map(|&(j, a)| (columns[j], a));
        model.add_row(row.lower..=row.upper, factors);
    }
    (model, columns)
}
