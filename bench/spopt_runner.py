"""Solve one location instance with spopt + PuLP/CBC (the baseline of bench_locate.py).

Runs inside ``bench/.venv-spopt`` (spopt 0.8 needs Python >= 3.12), never in the
project's environment; ``bench/bench_locate.py`` creates that environment and
drives this script through a subprocess::

    bench/.venv-spopt/bin/python bench/spopt_runner.py INSTANCE.npz \
        --model mclp|pmedian --p 10 --time-limit 600 --out RESULT.json

The instance file (written by bench_locate.py) holds the dense matrix of minutes
(demand x (candidates + existing)) that servicenet reads too. Only model build
(``MCLP/PMedian.from_cost_matrix``) and solve (``.solve(PULP_CBC_CMD)``) are
timed; loading the file is not. The result is written as JSON to ``--out`` (and
to standard output when no ``--out`` is given). A CBC run stopped by its time
limit is reported with ``status`` "time_limit" and whatever incumbent it had,
not as a crash.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pulp
from spopt.locate import MCLP, PMedian


def _cbc_version(path: str) -> str:
    import subprocess

    try:
        out = subprocess.run(
            [path], input="quit\n", capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    for line in out.splitlines():
        if line.strip().startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance", type=Path)
    ap.add_argument("--model", choices=["mclp", "pmedian"], default="mclp")
    ap.add_argument("--p", type=int, required=True, help="new facilities (existing are added)")
    ap.add_argument("--time-limit", type=float, default=600.0, help="CBC time limit, seconds")
    ap.add_argument("--threads", type=int, default=1, help="CBC threads (1 = like servicenet)")
    ap.add_argument(
        "--cap-minutes",
        type=float,
        help="p-median with a search cutoff: minutes above the instance's cutoff become this",
    )
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)

    data = np.load(args.instance)
    minutes = np.asarray(data["minutes"], dtype=np.float64)  # dense, finite everywhere
    weights = np.asarray(data["weights"], dtype=np.float64)
    n_cand = int(data["n_candidates"])
    n_exist = int(minutes.shape[1] - n_cand)
    service = float(data["service_minutes"])
    if args.cap_minutes is not None:
        # what servicenet sees with a cutoff-bounded matrix and penalty_minutes = cap
        cutoff = float(data["cutoff_minutes"])
        minutes = np.where(minutes <= cutoff, minutes, args.cap_minutes)
    predefined = None
    if n_exist:
        predefined = np.r_[np.zeros(n_cand, dtype=int), np.ones(n_exist, dtype=int)]
    cbc = pulp.PULP_CBC_CMD(msg=False, timeLimit=args.time_limit, threads=args.threads)

    t0 = time.perf_counter()
    if args.model == "mclp":
        # coverage where minutes <= service_radius (spopt: aij[cost <= radius] = 1);
        # spopt's facility constraint is sum x == p, existing sites are fixed at 1
        model = MCLP.from_cost_matrix(
            minutes,
            weights,
            service,
            p_facilities=args.p + n_exist,
            predefined_facilities_arr=predefined,
        )
    else:
        model = PMedian.from_cost_matrix(
            minutes, weights, p_facilities=args.p + n_exist, predefined_facilities_arr=predefined
        )
    t1 = time.perf_counter()
    error = None
    try:
        model.solve(cbc)
    except RuntimeError as exc:  # spopt's check_status: CBC stopped without proving optimality
        error = str(exc)
    t2 = time.perf_counter()

    prob = model.problem
    sol_status = pulp.LpSolution.get(prob.sol_status, "?")
    # an integer solution exists only for these; otherwise CBC's values are not a solution
    has_solution = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    hit_limit = (t2 - t1) >= 0.95 * args.time_limit
    # PuLP maps CBC's "Stopped on time" with an incumbent to status Optimal and
    # sol_status IntegerFeasible: only sol_status Optimal means proven optimal
    if error is None and prob.sol_status == pulp.LpSolutionOptimal:
        status = "optimal"
    elif has_solution:
        status = "time_limit"  # stopped with an incumbent, optimality not proven
    elif hit_limit:
        status = "time_limit_no_solution"
    else:
        status = f"not solved ({pulp.LpStatus.get(prob.status, prob.status)})"
    value = prob.objective.value() if prob.objective is not None else None
    objective = value if has_solution else None
    x = np.array([v.value() or 0.0 for v in model.fac_vars])
    selected = [int(j) for j in np.flatnonzero(x[:n_cand] > 0.5)] if has_solution else []
    # recompute the objective from the chosen sites on the same matrix (independent of CBC)
    open_cols = np.r_[np.asarray(selected, dtype=int), np.arange(n_cand, n_cand + n_exist)]
    if not has_solution:
        recomputed = None
    elif args.model == "mclp":
        covered = (minutes[:, open_cols] <= service).any(axis=1) if len(open_cols) else None
        recomputed = float(weights[covered].sum()) if covered is not None else 0.0
    else:
        recomputed = float(weights @ minutes[:, open_cols].min(axis=1)) if len(open_cols) else None
    result: dict[str, Any] = {
        "model": args.model,
        "status": status,
        "pulp_status": pulp.LpStatus.get(prob.status, str(prob.status)),
        "pulp_sol_status": sol_status,
        "error": error,
        "objective": objective,
        "objective_value_reported": value,
        "objective_recomputed": recomputed,
        "selected": selected,
        "build_seconds": t1 - t0,
        "solve_seconds": t2 - t1,
        "seconds": t2 - t0,
        "cbc_call_seconds": getattr(prob, "solutionTime", None),
        "time_limit": args.time_limit,
        "cap_minutes": args.cap_minutes,
        "threads": args.threads,
        "n_variables": prob.numVariables(),
        "n_constraints": prob.numConstraints(),
        "versions": {
            "python": sys.version.split()[0],
            "spopt": md.version("spopt"),
            "pulp": md.version("pulp"),
            "numpy": np.__version__,
            "cbc": _cbc_version(cbc.path),
        },
    }
    text = json.dumps(result)
    if args.out:
        args.out.write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
