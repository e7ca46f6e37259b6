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
    /// One per row: the rate at which the optimal objective changes as the row's active bound
    /// moves up (zero for a row that does not bind), HiGHS's convention: under minimisation,
    /// at least zero at a binding lower bound and at most zero at a binding upper bound, so
    /// loosening a binding row by one unit lowers the objective by the dual's magnitude.
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

    /// Starts a run of programs that each extend the one before: the same columns and rows
    /// first, with their bounds and coefficients unchanged, perhaps more of both, and any
    /// objective (the production planner's stages are such a run). A solver may start each
    /// from the last one's optimal basis; by default each is solved afresh.
    fn sequence(&self) -> Box<dyn LpSequence + '_> {
        Box::new(Afresh(self))
    }
}

/// A run of programs, each extending the one before (see [`LpSolver::sequence`]).
pub trait LpSequence {
    fn solve(&mut self, lp: &Lp) -> Result<LpSolution, LpError>;
}

/// The default run: every program solved on its own.
struct Afresh<'a, S: ?Sized>(&'a S);

impl<S: LpSolver + ?Sized> LpSequence for Afresh<'_, S> {
    fn solve(&mut self, lp: &Lp) -> Result<LpSolution, LpError> {
        self.0.solve(lp)
    }
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
        DenseSequence::default().solve(lp)
    }

    fn sequence(&self) -> Box<dyn LpSequence + '_> {
        Box::new(DenseSequence::default())
    }
}

/// The dense simplex over a run of programs: each starts from the tableau the last one ended
/// with, extended by the new columns and rows, when that basis is still feasible (as it is
/// between the planner's stages: a new stage's rows hold at the last stage's optimum).
#[derive(Default)]
struct DenseSequence {
    last: Option<Tableau>,
}

impl LpSequence for DenseSequence {
    fn solve(&mut self, lp: &Lp) -> Result<LpSolution, LpError> {
        check(lp)?;
        let warm = self.last.take().and_then(|tableau| tableau.extend(lp));
        let mut tableau = match warm {
            Some(tableau) => tableau,
            None => fresh(lp)?,
        };
        let mut costs = vec![0.0; tableau.columns];
        costs[..lp.objective.len()].copy_from_slice(&lp.objective);
        tableau.set_costs(&costs);
        tableau.run()?;
        let solution = tableau.solution(lp);
        self.last = Some(tableau);
        Ok(solution)
    }
}

/// A feasible tableau for `lp` from the slack basis, by phase one.
fn fresh(lp: &Lp) -> Result<Tableau, LpError> {
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
    Ok(tableau)
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

    /// This optimal tableau, extended to `lp` (which adds columns and rows to the program it
    /// solved), if the basis with the new rows' slacks is still feasible; `None` otherwise.
    fn extend(self, lp: &Lp) -> Option<Tableau> {
        let (n, m) = (self.structural, self.rows);
        let (n2, m2) = (lp.objective.len(), lp.rows.len());
        if n2 < n || m2 < m || lp.col_lower[..n] != self.lower[..n] {
            return None;
        }
        let artificials = self.artificials;
        let columns = n2 + m2 + artificials;
        // Old columns keep their order within each block; the blocks move apart.
        let moved = |j: usize| {
            if j < n {
                j
            } else if j < n + m {
                j - n + n2
            } else {
                j - n - m + n2 + m2
            }
        };
        let mut t = vec![0.0; m2 * columns];
        for i in 0..m {
            let old = &self.t[i * self.columns..(i + 1) * self.columns];
            let line = &mut t[i * columns..(i + 1) * columns];
            for (j, &a) in old.iter().enumerate() {
                line[moved(j)] = a;
            }
        }
        // A new column's entries are the basis inverse times its original column. Row i's
        // equation is sign_i (s_i - a_i.x) (+ w_i) = 0, so slack i's column holds the inverse
        // times sign_i e_i, and the new column (-sign_i a_ij in row i) is minus the sum of its
        // coefficients times those slack columns, the signs squaring away.
        for (i, row) in lp.rows[..m].iter().enumerate() {
            for &(j, a) in row.coefs.iter().filter(|(j, _)| *j >= n) {
                for r in 0..m {
                    let slack = t[r * columns + n2 + i];
                    t[r * columns + j] -= a * slack;
                }
            }
        }
        let mut lower: Vec<f64> = lp.col_lower.clone();
        let mut upper: Vec<f64> = lp.col_upper.clone();
        lower.extend(lp.rows.iter().map(|row| row.lower));
        upper.extend(lp.rows.iter().map(|row| row.upper));
        lower.extend_from_slice(&self.lower[n + m..]);
        upper.extend_from_slice(&self.upper[n + m..]);
        let mut value = vec![0.0; columns];
        for j in 0..self.columns {
            value[moved(j)] = self.value[j];
        }
        let mut is_basic = vec![false; columns];
        let mut basis: Vec<usize> = self.basis.iter().map(|&b| moved(b)).collect();
        for &b in &basis {
            is_basic[b] = true;
        }
        for j in n..n2 {
            let (l, u) = (lower[j], upper[j]);
            value[j] = if l.is_finite() {
                l
            } else if u.is_finite() {
                u
            } else {
                0.0
            };
            if value[j] != 0.0 {
                for r in 0..m {
                    value[basis[r]] -= t[r * columns + j] * value[j];
                }
            }
        }
        // A new row s - a.x = 0, with the basic columns eliminated, its slack basic.
        for (k, row) in lp.rows.iter().enumerate().skip(m) {
            let mut line = vec![0.0; columns];
            for &(j, a) in &row.coefs {
                line[j] -= a;
            }
            line[n2 + k] = 1.0;
            for r in 0..m {
                let b = basis[r];
                let factor = line[b];
                if factor != 0.0 {
                    let source = &t[r * columns..(r + 1) * columns];
                    for (x, &y) in line.iter_mut().zip(source) {
                        *x -= factor * y;
                    }
                    line[b] = 0.0;
                }
            }
            t[k * columns..(k + 1) * columns].copy_from_slice(&line);
            value[n2 + k] = row.coefs.iter().map(|&(j, a)| a * value[j]).sum();
            basis.push(n2 + k);
            is_basic[n2 + k] = true;
        }
        let feasible = basis.iter().all(|&b| {
            let scale = 1.0 + value[b].abs();
            value[b] >= lower[b] - 1e-7 * scale && value[b] <= upper[b] + 1e-7 * scale
        });
        if !feasible {
            return None;
        }
        for &b in &basis {
            value[b] = value[b].clamp(lower[b], upper[b]);
        }
        let rhs_scale = lp.rows.iter().fold(self.rhs_scale, |scale, row| {
            [row.lower, row.upper]
                .into_iter()
                .filter(|b| b.is_finite())
                .fold(scale, |scale, b| scale.max(b.abs()))
        });
        Some(Tableau {
            rows: m2,
            columns,
            structural: n2,
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
        })
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
