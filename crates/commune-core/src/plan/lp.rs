//! The linear-programming interface the production planner talks to.
//!
//! A [`Lp`] is a minimisation over bounded columns with ranged rows. The pure-Rust solver here
//! serves small councils; `commune-highs` puts HiGHS behind the same trait for large plans.

/// One row: `lower <= sum(coef * x[col]) <= upper` (either bound may be infinite).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub coefs: Vec<(usize, f64)>,
    pub lower: f64,
    pub upper: f64,
}

/// Minimise `objective . x` subject to `col_lower <= x <= col_upper` and every row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Lp {
    pub objective: Vec<f64>,
    pub col_lower: Vec<f64>,
    pub col_upper: Vec<f64>,
    pub rows: Vec<Row>,
}

/// An optimal solution.
#[derive(Debug, Clone, PartialEq)]
pub struct LpSolution {
    pub x: Vec<f64>,
    pub objective: f64,
    /// One per row: how much the optimal objective changes per unit the row's active bound is
    /// loosened (zero for a row that does not bind), under minimisation.
    pub row_duals: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LpError {
    #[error("the model has no feasible solution")]
    Infeasible,
    #[error("the objective is unbounded")]
    Unbounded,
    #[error("the solver failed: {0}")]
    Solver(String),
}

/// A linear-programming solver.
pub trait LpSolver {
    /// A short name for reports ("dense simplex", "HiGHS").
    fn name(&self) -> &str;
    fn solve(&self, lp: &Lp) -> Result<LpSolution, LpError>;
}
