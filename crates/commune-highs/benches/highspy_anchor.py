"""The anchor for `cargo bench -p commune-highs --bench production -- --anchor`: HiGHS from
PyPI (highspy) solves the same stage programs the bench wrote, each from scratch on one thread.

Reads one JSON file per plan (the planner's stages in order, as the bench recorded them) and
prints, per file, the seconds HiGHS spent in `run()` summed over the stages, and each stage's
objective, so that the bench can check that both solvers found the same optimum.

python3 highspy_anchor.py PLAN.json [PLAN.json ...]
"""

import json
import sys
import time

import highspy

INFINITE = 1e30


def program(stage):
    """A highspy program from one recorded stage: bounded columns, ranged rows, row-wise."""
    lp = highspy.HighsLp()
    lp.num_col_ = len(stage["objective"])
    lp.num_row_ = len(stage["rows"])
    lp.col_cost_ = stage["objective"]
    lp.col_lower_ = stage["col_lower"]
    lp.col_upper_ = stage["col_upper"]
    lp.row_lower_ = [row["lower"] for row in stage["rows"]]
    lp.row_upper_ = [row["upper"] for row in stage["rows"]]
    matrix = lp.a_matrix_
    matrix.format_ = highspy.MatrixFormat.kRowwise
    matrix.num_col_ = lp.num_col_
    matrix.num_row_ = lp.num_row_
    starts, index, value = [0], [], []
    for row in stage["rows"]:
        index.extend(row["cols"])
        value.extend(row["coefs"])
        starts.append(len(index))
    matrix.start_ = starts
    matrix.index_ = index
    matrix.value_ = value
    return lp


def solve(path):
    with open(path) as f:
        stages = json.load(f)["stages"]
    seconds, objectives = 0.0, []
    for stage in stages:
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("threads", 1)
        highs.setOptionValue("infinite_bound", INFINITE)
        highs.passModel(program(stage))
        start = time.perf_counter()
        highs.run()
        seconds += time.perf_counter() - start
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            sys.exit(f"{path}: highspy did not solve a stage: {highs.getModelStatus()}")
        objectives.append(highs.getInfo().objective_function_value)
    return seconds, objectives


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for path in sys.argv[1:]:
        seconds, objectives = solve(path)
        print(json.dumps({"file": path, "seconds": seconds, "objectives": objectives}))


if __name__ == "__main__":
    main()
