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

/// Feasibility and optimality tolerance of [`DenseSimplex`], on values of about one.
const TOLERANCE: f64 = 1e-9;
/// Entries of the tableau below this size are not pivoted on.
const PIVOT_TOLERANCE: f64 = 1e-9;
/// After this many pivots in a row that do not move, pricing switches to Bland's rule (the
/// lowest eligible index enters), which cannot cycle, until a pivot moves again.
const DEGENERATE_RUN: usize = 50;

/// A pure-Rust bounded-variable simplex on a dense tableau, for small councils.
///
/// Every row `lower <= a.x <= upper` becomes an equation `a.x - s = 0` with a bounded slack
/// `s`, so that rows and columns are handled alike: a nonbasic variable sits at one of its
/// bounds (or at zero when it has none) and a basic one moves between them. Phase one starts
/// from the slack basis and adds an artificial column only for a row whose slack starts out of
/// its bounds, then minimises the artificials; phase two minimises the objective. Pricing is
/// Dantzig's (the steepest reduced cost), with Bland's rule after a run of degenerate pivots;
/// the ratio test prefers the largest pivot among near-ties, for stability.
///
/// The tableau is dense (rows times columns plus slacks), so time and memory grow with the
/// square of the model: fine for hundreds of items, not for a city, which is what
/// `commune-highs` and the federation's decomposition are for.
#[derive(Debug, Clone, Default)]
pub struct DenseSimplex;

impl LpSolver for DenseSimplex {
    fn name(&self) -> &str {
        "dense simplex"
    }

    fn solve(&self, lp: &Lp) -> Result<LpSolution, LpError> {
        check(lp)?;
        let mut tableau = Tableau::new(lp);
        if tableau.artificials > 0 {
            let phase_one: Vec<f64> = (0..tableau.columns)
                .map(|j| {
                    if j >= tableau.first_artificial() {
                        1.0
                    } else {
                        0.0
                    }
                })
                .collect();
            tableau.set_costs(&phase_one);
            tableau.run()?;
            let infeasibility: f64 = (tableau.first_artificial()..tableau.columns)
                .map(|j| tableau.value[j])
                .sum();
            let scale = 1.0 + tableau.rhs_scale;
            if infeasibility > 1e-7 * scale {
                return Err(LpError::Infeasible);
            }
            for j in tableau.first_artificial()..tableau.columns {
                tableau.lower[j] = 0.0;
                tableau.upper[j] = 0.0;
                tableau.value[j] = 0.0;
            }
        }
        let mut costs = vec![0.0; tableau.columns];
        costs[..lp.objective.len()].copy_from_slice(&lp.objective);
        tableau.set_costs(&costs);
        tableau.run()?;
        Ok(tableau.solution(lp))
    }
}

/// Refuses what no solver should be asked: mismatched lengths, NaN, inverted bounds.
fn check(lp: &Lp) -> Result<(), LpError> {
    let n = lp.objective.len();
    if lp.col_lower.len() != n || lp.col_upper.len() != n {
        return Err(LpError::Solver(format!(
            "{n} objective coefficients but {} lower and {} upper bounds",
            lp.col_lower.len(),
            lp.col_upper.len()
        )));
    }
    if lp.objective.iter().any(|c| !c.is_finite()) {
        return Err(LpError::Solver(
            "an objective coefficient is not finite".into(),
        ));
    }
    for j in 0..n {
        let (l, u) = (lp.col_lower[j], lp.col_upper[j]);
        if l.is_nan() || u.is_nan() || l > u || l == f64::INFINITY || u == f64::NEG_INFINITY {
            return Err(LpError::Solver(format!("column {j} has bounds {l}..{u}")));
        }
    }
    for (i, row) in lp.rows.iter().enumerate() {
        let (l, u) = (row.lower, row.upper);
        if l.is_nan() || u.is_nan() || l > u || l == f64::INFINITY || u == f64::NEG_INFINITY {
            return Err(LpError::Solver(format!("row {i} has bounds {l}..{u}")));
        }
        if let Some(&(j, a)) = row.coefs.iter().find(|(j, a)| *j >= n || !a.is_finite()) {
            return Err(LpError::Solver(format!(
                "row {i} has coefficient {a} on column {j} of {n}"
            )));
        }
    }
    Ok(())
}

/// The simplex's working state: `rows` equations `sum_j t[i][j] x_j = 0` over structural
/// columns, then one slack per row, then the artificials, kept in the basis's form (each basic
/// column is a unit column).
struct Tableau {
    rows: usize,
    columns: usize,
    structural: usize,
    artificials: usize,
    t: Vec<f64>,
    lower: Vec<f64>,
    upper: Vec<f64>,
    value: Vec<f64>,
    costs: Vec<f64>,
    /// Reduced costs, one per column (zero on basic ones).
    reduced: Vec<f64>,
    basis: Vec<usize>,
    is_basic: Vec<bool>,
    /// The largest bound or activity met, to scale the phase-one test.
    rhs_scale: f64,
}

impl Tableau {
    fn new(lp: &Lp) -> Tableau {
        let n = lp.objective.len();
        let m = lp.rows.len();
        let mut value: Vec<f64> = (0..n)
            .map(|j| {
                let (l, u) = (lp.col_lower[j], lp.col_upper[j]);
                if l.is_finite() {
                    l
                } else if u.is_finite() {
                    u
                } else {
                    0.0
                }
            })
            .collect();
        let activity: Vec<f64> = lp
            .rows
            .iter()
            .map(|row| row.coefs.iter().map(|&(j, a)| a * value[j]).sum())
            .collect();
        // A row whose activity is out of its bounds gets an artificial: its slack sits at the
        // violated bound and the artificial carries the difference.
        let violated: Vec<Option<f64>> = lp
            .rows
            .iter()
            .zip(&activity)
            .map(|(row, &a)| {
                if a < row.lower - TOLERANCE {
                    Some(row.lower)
                } else if a > row.upper + TOLERANCE {
                    Some(row.upper)
                } else {
                    None
                }
            })
            .collect();
        let artificials = violated.iter().filter(|v| v.is_some()).count();
        let columns = n + m + artificials;
        let mut t = vec![0.0; m * columns];
        let mut lower = lp.col_lower.clone();
        let mut upper = lp.col_upper.clone();
        lower.extend(lp.rows.iter().map(|row| row.lower));
        upper.extend(lp.rows.iter().map(|row| row.upper));
        lower.extend(std::iter::repeat_n(0.0, artificials));
        upper.extend(std::iter::repeat_n(f64::INFINITY, artificials));
        value.resize(columns, 0.0);
        let mut basis = vec![0; m];
        let mut is_basic = vec![false; columns];
        let mut next_artificial = n + m;
        let mut rhs_scale: f64 = 0.0;
        for (i, row) in lp.rows.iter().enumerate() {
            let line = &mut t[i * columns..(i + 1) * columns];
            // The equation s - a.x = 0, or, with an artificial w carrying a.x - s, the same
            // times the sign that keeps w non-negative: sign (s - a.x) + w = 0.
            let (sign, basic) = match violated[i] {
                None => {
                    value[n + i] = activity[i];
                    (1.0, n + i)
                }
                Some(bound) => {
                    value[n + i] = bound;
                    let w = next_artificial;
                    next_artificial += 1;
                    value[w] = (activity[i] - bound).abs();
                    line[w] = 1.0;
                    (if activity[i] > bound { 1.0 } else { -1.0 }, w)
                }
            };
            for &(j, a) in &row.coefs {
                line[j] -= sign * a;
            }
            line[n + i] = sign;
            basis[i] = basic;
            is_basic[basic] = true;
            rhs_scale = rhs_scale.max(activity[i].abs());
            for bound in [row.lower, row.upper] {
                if bound.is_finite() {
                    rhs_scale = rhs_scale.max(bound.abs());
                }
            }
        }
        Tableau {
            rows: m,
            columns,
            structural: n,
            artificials,
            t,
            lower,
            upper,
            value,
            costs: vec![0.0; columns],
            reduced: vec![0.0; columns],
            basis,
            is_basic,
            rhs_scale,
        }
    }

    fn first_artificial(&self) -> usize {
        self.structural + self.rows
    }

    /// Sets the objective and prices every column against the current basis.
    fn set_costs(&mut self, costs: &[f64]) {
        self.costs.copy_from_slice(costs);
        self.reduced.copy_from_slice(costs);
        for i in 0..self.rows {
            let cb = self.costs[self.basis[i]];
            if cb != 0.0 {
                let line = &self.t[i * self.columns..(i + 1) * self.columns];
                for (d, &a) in self.reduced.iter_mut().zip(line) {
                    *d -= cb * a;
                }
            }
        }
        for &b in &self.basis {
            self.reduced[b] = 0.0;
        }
    }

    /// The entering column and its direction (+1 up, -1 down), or `None` at optimality.
    fn price(&self, bland: bool) -> Option<(usize, f64)> {
        let mut best: Option<(usize, f64)> = None;
        let mut best_score = 0.0;
        for j in 0..self.columns {
            if self.is_basic[j] || self.lower[j] == self.upper[j] {
                continue;
            }
            let d = self.reduced[j];
            let direction = if d < -TOLERANCE && self.value[j] < self.upper[j] {
                1.0
            } else if d > TOLERANCE && self.value[j] > self.lower[j] {
                -1.0
            } else {
                continue;
            };
            if bland {
                return Some((j, direction));
            }
            if d.abs() > best_score {
                best_score = d.abs();
                best = Some((j, direction));
            }
        }
        best
    }

    /// Runs simplex iterations to optimality under the current costs.
    fn run(&mut self) -> Result<(), LpError> {
        let limit = 50 * (self.rows + self.columns) + 1000;
        let mut degenerate = 0;
        for _ in 0..limit {
            let Some((entering, direction)) = self.price(degenerate >= DEGENERATE_RUN) else {
                return Ok(());
            };
            let bland = degenerate >= DEGENERATE_RUN;
            // How far the entering column can move: to its own other bound, or until a basic
            // variable reaches one of its bounds.
            let mut step = self.upper[entering] - self.lower[entering];
            let mut leaving: Option<(usize, f64)> = None;
            let mut leaving_pivot = 0.0;
            for i in 0..self.rows {
                let alpha = self.t[i * self.columns + entering];
                if alpha.abs() <= PIVOT_TOLERANCE {
                    continue;
                }
                let b = self.basis[i];
                // x_B changes by -alpha per unit the entering column moves in `direction`.
                let rate = -alpha * direction;
                let (room, bound) = if rate < 0.0 {
                    ((self.value[b] - self.lower[b]) / -rate, self.lower[b])
                } else {
                    ((self.upper[b] - self.value[b]) / rate, self.upper[b])
                };
                if !room.is_finite() {
                    continue;
                }
                let room = room.max(0.0);
                let better = match leaving {
                    None => room < step,
                    Some((current, _)) => {
                        if room < step - TOLERANCE {
                            true
                        } else if room <= step + TOLERANCE {
                            if bland {
                                b < self.basis[current]
                            } else {
                                alpha.abs() > leaving_pivot
                            }
                        } else {
                            false
                        }
                    }
                };
                if better {
                    step = room;
                    leaving = Some((i, bound));
                    leaving_pivot = alpha.abs();
                }
            }
            if step == f64::INFINITY {
                return Err(LpError::Unbounded);
            }
            if step <= TOLERANCE {
                degenerate += 1;
            } else {
                degenerate = 0;
            }
            self.value[entering] += direction * step;
            for i in 0..self.rows {
                let alpha = self.t[i * self.columns + entering];
                if alpha != 0.0 {
                    self.value[self.basis[i]] -= alpha * direction * step;
                }
            }
            match leaving {
                None => {
                    // A bound flip: the entering column crossed to its other bound.
                    self.value[entering] = if direction > 0.0 {
                        self.upper[entering]
                    } else {
                        self.lower[entering]
                    };
                }
                Some((row, bound)) => {
                    let b = self.basis[row];
                    self.value[b] = bound;
                    self.pivot(row, entering);
                }
            }
        }
        Err(LpError::Solver(
            "the simplex hit its iteration limit".into(),
        ))
    }

    fn pivot(&mut self, row: usize, entering: usize) {
        let columns = self.columns;
        let leaving = self.basis[row];
        let (before, rest) = self.t.split_at_mut(row * columns);
        let (pivot_line, after) = rest.split_at_mut(columns);
        let inverse = 1.0 / pivot_line[entering];
        for a in pivot_line.iter_mut() {
            *a *= inverse;
        }
        pivot_line[entering] = 1.0;
        let eliminate = |line: &mut [f64]| {
            let factor = line[entering];
            if factor != 0.0 {
                for (a, &p) in line.iter_mut().zip(pivot_line.iter()) {
                    *a -= factor * p;
                }
                line[entering] = 0.0;
            }
        };
        before.chunks_exact_mut(columns).for_each(eliminate);
        after.chunks_exact_mut(columns).for_each(eliminate);
        let factor = self.reduced[entering];
        if factor != 0.0 {
            for (d, &p) in self.reduced.iter_mut().zip(pivot_line.iter()) {
                *d -= factor * p;
            }
        }
        self.reduced[entering] = 0.0;
        self.basis[row] = entering;
        self.is_basic[leaving] = false;
        self.is_basic[entering] = true;
    }

    fn solution(&self, lp: &Lp) -> LpSolution {
        let n = self.structural;
        let x: Vec<f64> = (0..n)
            .map(|j| self.value[j].clamp(lp.col_lower[j], lp.col_upper[j]))
            .collect();
        let objective = lp.objective.iter().zip(&x).map(|(c, x)| c * x).sum();
        let row_duals = (0..self.rows)
            .map(|i| {
                if self.is_basic[n + i] {
                    0.0
                } else {
                    self.reduced[n + i]
                }
            })
            .collect();
        LpSolution {
            x,
            objective,
            row_duals,
        }
    }
}
