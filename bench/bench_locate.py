"""Benchmark of the location models (planning.locate.models) against spopt + PuLP/CBC.

Run by hand, not in CI (see bench/README.md, "Location models")::

    uv run python bench/bench_locate.py [--quick] [--no-spopt] [--repeats 3]
        [--time-limit 120] [--cbc-time-limit 600] [--no-pmedian]
        [--instances-dir DIR] [--out bench/results/locate.json]

What it does, on the same instances for both solvers:

* instances: random points (seeded) in a 15 km x 15 km square, demand weights
  random integers 1..100, minutes = euclidean distance / 5 km/h (walking), service
  standard S = 15 minutes, which makes every demand point covered by ~2 % of the
  candidates (the measured density is reported). Sizes 1,000 x 200 and
  10,000 x 1,000 (demand x candidates), p = 10 and 20, no existing sites, plus
  10,000 x 1,000 with 50 existing sites (5 %), p = 20. Each instance is written
  once to an ``.npz`` file (the dense matrix of minutes, float64); both solvers read
  that file. servicenet gets the pairs within a 30-minute search cutoff (2 S) as a
  CSR matrix, as the travel engine would hand it over; spopt gets the dense
  matrix (finite everywhere; it counts coverage where minutes <= S).
* servicenet MCLP: ``solve_mclp(method="exact", time_limit=120)`` and
  ``method="heuristic"``, best-of/median of ``--repeats`` in this process; the
  heuristic's distance from the proven optimum.
* spopt MCLP: ``MCLP.from_cost_matrix(...)`` then ``.solve(PULP_CBC_CMD(msg=False,
  timeLimit=600))`` in ``bench/.venv-spopt`` (Python 3.12, created here with uv on
  first use), through ``bench/spopt_runner.py``; build and solve timed apart.
* the objectives are compared when both are optimal (1e-6 relative).
* a cProfile of each large exact run (reductions, heuristic, model build, HiGHS)
  with HiGHS' own log (root LP bound, nodes) for the diagnosis.
* p-median on 1,000 x 200 (full matrix, no cutoff), servicenet exact and heuristic
  vs spopt PMedian.

Results: a Markdown table (printed and written next to the JSON as ``locate.md``)
and JSON with the machine facts (CPU, cores, versions, date).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import glob
import importlib.metadata as md
import json
import os
import platform
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from planning.locate import models as locate  # noqa: E402
from planning.locate.models import Instance, Solution, solve_mclp, solve_pmedian  # noqa: E402

BENCH = ROOT / "bench"
SPOPT_VENV = BENCH / ".venv-spopt"
SPOPT_RUNNER = BENCH / "spopt_runner.py"

SIDE_KM = 15.0  # square side
SPEED_KMH = 5.0  # walking
SERVICE_MIN = 15.0  # the service standard S
CUTOFF_MIN = 30.0  # search cutoff of the sparse matrix handed to servicenet (2 S)
PENALTY_MIN = 60.0  # p-median with the cutoff matrix: minutes charged beyond the cutoff
SEED = 20240601

TARGET_EXACT_S = 30.0
TARGET_GAP = 1e-4  # 0.01 %
TARGET_SPEEDUP = 5.0
TARGET_HEUR_S = 2.0
TARGET_HEUR_PCT = 1.0


# --------------------------------------------------------------------- instances


@dataclass(frozen=True)
class Spec:
    name: str
    n_demand: int
    n_candidates: int
    n_existing: int

    @property
    def label(self) -> str:
        e = f" + {self.n_existing} existing" if self.n_existing else ""
        return f"{self.n_demand:,} x {self.n_candidates:,}{e}"


def make_instance(spec: Spec, path: Path) -> dict[str, Any]:
    """Write the instance file once; return its facts (coverage density...)."""
    rng = np.random.default_rng([SEED, spec.n_demand, spec.n_candidates])
    demand = rng.uniform(0, SIDE_KM, (spec.n_demand, 2))
    cands = rng.uniform(0, SIDE_KM, (spec.n_candidates, 2))
    weights = rng.integers(1, 101, spec.n_demand).astype(np.float64)
    # existing sites come from their own stream, so the variant shares demand and candidates
    ex_rng = np.random.default_rng([SEED, spec.n_demand, spec.n_candidates, spec.n_existing])
    existing = ex_rng.uniform(0, SIDE_KM, (spec.n_existing, 2))
    cols = np.vstack([cands, existing])
    dx = demand[:, None, 0] - cols[None, :, 0]
    dy = demand[:, None, 1] - cols[None, :, 1]
    minutes = np.sqrt(dx * dx + dy * dy) / SPEED_KMH * 60.0
    np.savez(
        path,
        minutes=minutes,
        weights=weights,
        n_candidates=spec.n_candidates,
        service_minutes=SERVICE_MIN,
        cutoff_minutes=CUTOFF_MIN,
        demand_xy=demand,
        column_xy=cols,
    )
    cov = minutes[:, : spec.n_candidates] <= SERVICE_MIN
    share = cov.mean(axis=1)
    # servicenet counts t <= S + 1e-9, spopt t <= S: make sure no pair lies in between
    ambiguous = int(((minutes > SERVICE_MIN) & (minutes <= SERVICE_MIN + 1e-9)).sum())
    return {
        "file": str(path),
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "coverage_share_mean_pct": round(100 * float(share.mean()), 3),
        "coverage_share_p5_p95_pct": [
            round(100 * float(q), 3) for q in np.percentile(share, [5, 95])
        ],
        "candidates_per_demand_mean": round(float(cov.sum(axis=1).mean()), 2),
        "demand_not_coverable": int((share == 0).sum()),
        "pairs_within_cutoff": int((minutes <= CUTOFF_MIN).sum()),
        "pairs_ambiguous_at_S": ambiguous,
        "weight_total": float(weights.sum()),
    }


def load_servicenet(path: Path, *, cutoff: float | None) -> Instance:
    """The CSR instance servicenet sees: pairs within the cutoff (all when None)."""
    data = np.load(path)
    minutes = data["minutes"]
    if cutoff is None:
        m = sp.csr_matrix(minutes)
        # explicit zeros would be dropped by csr_matrix(dense); none exist here (random floats)
        assert m.nnz == minutes.size
    else:
        r, c = np.nonzero(minutes <= cutoff)
        m = sp.csr_matrix((minutes[r, c], (r, c)), shape=minutes.shape)
    return Instance(m, np.asarray(data["weights"], float), int(data["n_candidates"]))


# --------------------------------------------------------------------- spopt env


def _uv() -> list[str]:
    exe = os.environ.get("UV") or shutil.which("uv")
    return [exe] if exe else [sys.executable, "-m", "uv"]


def _python312() -> str:
    """A Python 3.12 interpreter on this machine (pyenv's), else let uv find one."""
    for cand in ("python3.12",):
        exe = shutil.which(cand)
        if exe:
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                out = subprocess.run(
                    [exe, "-c", "import sys; print(sys.executable)"],
                    capture_output=True,
                    text=True,
                    timeout=30,
                )
                if out.returncode == 0 and out.stdout.strip():
                    return out.stdout.strip()
    roots = [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv")]
    for root in roots:
        hits = sorted(glob.glob(os.path.join(root, "versions", "3.12*", "bin", "python3.12")))
        if hits:
            return hits[-1]
    return "3.12"


def spopt_python() -> Path:
    """bench/.venv-spopt/bin/python, creating the environment on first use."""
    py = SPOPT_VENV / "bin" / "python"
    ok = py.exists() and (
        subprocess.run([str(py), "-c", "import spopt, pulp"], capture_output=True).returncode == 0
    )
    if not ok:
        interp = _python312()
        print(f"creating {SPOPT_VENV.relative_to(ROOT)} with {interp} ...", file=sys.stderr)
        subprocess.run(
            [*_uv(), "venv", "--allow-existing", "--python", interp, str(SPOPT_VENV)], check=True
        )
        subprocess.run([*_uv(), "pip", "install", "--python", str(py), "spopt", "pulp"], check=True)
    return py


def run_spopt(
    py: Path,
    instance: Path,
    model: str,
    p: int,
    time_limit: float,
    workdir: Path,
    cap_minutes: float | None = None,
) -> dict[str, Any]:
    tag = "" if cap_minutes is None else f"_cap{cap_minutes:g}"
    out = workdir / f"spopt_{instance.stem}_{model}_p{p}{tag}.json"
    cmd = [str(py), str(SPOPT_RUNNER), str(instance), "--model", model, "--p", str(p)]
    cmd += ["--time-limit", str(time_limit), "--out", str(out)]
    if cap_minutes is not None:
        cmd += ["--cap-minutes", str(cap_minutes)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3 * time_limit + 900)
    except subprocess.TimeoutExpired:
        return {"status": "process timeout", "process_seconds": time.perf_counter() - t0}
    wall = time.perf_counter() - t0
    if proc.returncode != 0 or not out.exists():
        tail = (proc.stderr or proc.stdout)[-2000:]
        return {
            "status": f"crashed (exit {proc.returncode})",
            "stderr": tail,
            "process_seconds": wall,
        }
    res: dict[str, Any] = json.loads(out.read_text())
    res["process_seconds"] = wall
    return normalize_spopt(res)


def normalize_spopt(res: dict[str, Any]) -> dict[str, Any]:
    """Keep an objective only when CBC returned an integer solution; name time-limit stops."""
    if "pulp_sol_status" not in res:
        return res
    has_solution = res["pulp_sol_status"] in ("Optimal Solution Found", "Solution Found")
    if res["pulp_sol_status"] == "Solution Found":
        # PuLP reports CBC's "Stopped on time" with an incumbent as status Optimal
        res["status"] = "time_limit"
    if not has_solution:
        res.setdefault("objective_value_reported", res.get("objective"))
        res["objective"] = None
        res["objective_recomputed"] = None
        res["selected"] = []
        if res.get("solve_seconds", 0.0) >= 0.95 * res.get("time_limit", float("inf")):
            res["status"] = "time_limit_no_solution"
    return res


SPOPT_STATUS = {
    "optimal": "optimal",
    "time_limit": "time limit (incumbent)",
    "time_limit_no_solution": "time limit, no integer solution",
}


def _spopt_status(s: dict[str, Any]) -> str:
    st = s.get("status")
    return "–" if st is None else SPOPT_STATUS.get(st, st)


def _ratio(r: dict[str, Any]) -> str:
    v = r.get("speedup_spopt_over_servicenet")
    if v is None:
        return "–"
    return f"{v:,.1f}" if r.get("spopt", {}).get("status") == "optimal" else f"> {v:,.1f}"


# --------------------------------------------------------------------- timing & profile


def timed(fn: Callable[[], Solution], repeats: int) -> tuple[list[float], Solution]:
    secs: list[float] = []
    sol: Solution | None = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        sol = fn()
        secs.append(time.perf_counter() - t0)
    assert sol is not None
    return secs, sol


@contextlib.contextmanager
def highs_log(path: Path, sink: dict[str, Any]) -> Iterator[None]:
    """Make every Highs.run in the block write its log to ``path`` and record its info."""
    import highspy

    cls = highspy.Highs
    original = cls.run
    path.unlink(missing_ok=True)  # HiGHS appends to an existing log file

    def run(self: Any) -> Any:
        self.setOptionValue("output_flag", True)
        self.setOptionValue("log_to_console", False)
        self.setOptionValue("log_file", str(path))
        t0 = time.perf_counter()
        status = original(self)
        info = self.getInfo()
        sink.update(
            run_seconds=time.perf_counter() - t0,
            mip_node_count=int(info.mip_node_count),
            simplex_iterations=int(info.simplex_iteration_count),
            objective=float(info.objective_function_value),
            dual_bound=float(info.mip_dual_bound),
            mip_gap=float(info.mip_gap),
            rows=int(self.getNumRow()),
            cols=int(self.getNumCol()),
            nnz=int(self.getNumNz()),
        )
        return status

    cls.run = run
    try:
        yield
    finally:
        cls.run = original


def parse_highs_log(text: str) -> dict[str, Any]:
    """Facts of the last HiGHS run in a log (HiGHS appends runs to one file)."""
    start = text.rfind("MIP has ")
    text = text[start:] if start >= 0 else text
    out: dict[str, Any] = {}
    m = re.search(
        r"Presolve reductions: rows (\d+)\(-?\d+\); columns (\d+)\(-?\d+\); nonzeros (\d+)", text
    )
    if m:
        out["presolved_rows_cols_nnz"] = [int(g) for g in m.groups()]
    # B&B table rows: ... | BestBound BestSol Gap | Cuts InLp Confl. | LpIters Time
    row = re.compile(
        r"^\s*\w?\s+\d+\s+\d+\s+\d+\s+[\d.]+%\s+(\S+)\s+(\S+)\s+(\S+)\s+"
        r"\d+\s+\d+\s+\d+\s+(\d+)\s+([\d.]+)s\s*$"
    )
    table = [m.groups() for m in map(row.match, text.splitlines()) if m]
    before_lp, pre_bound = 0.0, None
    for bound, _sol, _gap, iters, secs in table:
        if int(iters) == 0:
            before_lp, pre_bound = float(secs), bound
            continue
        if bound == pre_bound:  # a heuristic's row printed before the bound was updated
            continue
        # the first new bound after LP iterations: the root LP bound (after any restart)
        out["root_lp_objective"] = float(bound)
        out["root_lp_reached_at_s"] = float(secs)
        out["root_lp_seconds_approx"] = round(float(secs) - before_lp, 2)
        break
    m = re.search(r"Nodes\s+(\d+)", text)
    if m:
        out["nodes"] = int(m.group(1))
    for key, pat in {
        "lp_iterations": r"LP iterations\s+(\d+)",
        "primal_bound": r"Primal bound\s+(-?[\d.e+]+)",
        "dual_bound": r"Dual bound\s+(-?[\d.e+]+)",
        "timing_total": r"Timing\s+([\d.]+)",
        "timing_presolve": r"([\d.]+) \(Presolve\)",
        "timing_solve": r"([\d.]+) \(Solve\)",
    }.items():
        m = re.search(pat, text)
        if m:
            out[key] = float(m.group(1))
    for key, pat in {
        "time_presolve": r"([\d.]+)\s+\(\s*[\d.]+%\)\s*Presolve",
        "time_solve_lp": r"([\d.]+)\s+\(\s*[\d.]+%\)\s*Solve LP",
        "time_primal_heuristics": r"([\d.]+)\s+\(\s*[\d.]+%\)\s*Primal heuristics",
        "time_separation": r"([\d.]+)\s+\(\s*[\d.]+%\)\s*Separation",
        "time_symmetry": r"([\d.]+)\s+\(\s*[\d.]+%\)\s*Symmetry",
    }.items():
        m = re.search(pat, text)
        if m:
            out[key] = float(m.group(1))
    return out


@contextlib.contextmanager
def highs_options(options: dict[str, Any]) -> Iterator[None]:
    """Set extra HiGHS options on every Highs.run in the block (a what-if, bench-side only)."""
    import highspy

    cls = highspy.Highs
    original = cls.run

    def run(self: Any) -> Any:
        for k, v in options.items():
            if self.setOptionValue(k, v) != highspy.HighsStatus.kOk:
                raise RuntimeError(f"HiGHS option {k}={v!r} refused")
        return original(self)

    cls.run = run
    try:
        yield
    finally:
        cls.run = original


WHAT_IF = {"mip_lp_solver": "ipm"}


def profile_exact(fn: Callable[[], Solution], log_path: Path) -> dict[str, Any]:
    """cProfile one exact run, split into reductions, heuristic, model build, HiGHS."""
    sink: dict[str, Any] = {}
    prof = cProfile.Profile()
    with highs_log(log_path, sink):
        t0 = time.perf_counter()
        prof.enable()
        fn()
        prof.disable()
        total = time.perf_counter() - t0
    st = pstats.Stats(prof)
    cum: dict[str, float] = {}
    for (filename, _line, func), (_cc, _nc, _tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        key = func if filename == "~" else f"{Path(filename).name}:{func}"
        cum[key] = cum.get(key, 0.0) + ct

    def c(*names: str) -> float:
        return sum(v for k, v in cum.items() if any(k == n or k.endswith(n) for n in names))

    reductions = c(
        "locate.py:cover",
        "locate.py:_existing_cover",
        "locate.py:_merge_rows",
        "locate.py:_dominated",
    )
    heuristic = c("locate.py:greedy_swap_cover")
    mip_solve = c("locate.py:solve")  # _Mip.solve: matrix, HighsLp, passModel, run
    highs_run = sink.get("run_seconds", 0.0)
    build = c("locate.py:add_vars", "locate.py:add_rows", "locate.py:add_entries") + (
        mip_solve - highs_run
    )
    parts = {
        "total": total,
        "reductions": reductions,
        "heuristic_warm_start": heuristic,
        "model_build": build,
        "highs_run": highs_run,
    }
    parts["other"] = total - reductions - heuristic - build - highs_run
    log = log_path.read_text(errors="replace") if log_path.exists() else ""
    return {
        "seconds": {k: round(v, 3) for k, v in parts.items()},
        "highs": sink,
        "highs_log": parse_highs_log(log),
        "highs_log_file": str(log_path),
        "top_cumulative": [
            (k, round(v, 3)) for k, v in sorted(cum.items(), key=lambda kv: -kv[1])[:15]
        ],
    }


# --------------------------------------------------------------------- facts


def machine_facts(spopt_versions: dict[str, Any] | None) -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break

    def v(name: str) -> str:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "absent"

    facts: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "highspy": v("highspy"),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "highs_threads": 1,
    }
    if spopt_versions:
        facts["spopt_env"] = spopt_versions
    return facts


# --------------------------------------------------------------------- runs


def rel_diff(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return abs(a - b) / max(abs(a), abs(b), 1e-12)


def bench_mclp(
    spec: Spec,
    path: Path,
    facts: dict[str, Any],
    p: int,
    args: argparse.Namespace,
    py: Path | None,
    workdir: Path,
) -> dict[str, Any]:
    inst = load_servicenet(path, cutoff=CUTOFF_MIN)

    def exact() -> Solution:
        return solve_mclp(inst, SERVICE_MIN, p=p, method="exact", time_limit=args.time_limit)

    def heur() -> Solution:
        return solve_mclp(inst, SERVICE_MIN, p=p, method="heuristic")

    ex_secs, ex = timed(exact, args.repeats)
    h_secs, h = timed(heur, args.repeats)
    row: dict[str, Any] = {
        "instance": spec.label,
        "name": spec.name,
        "n_demand": spec.n_demand,
        "n_candidates": spec.n_candidates,
        "n_existing": spec.n_existing,
        "p": p,
        "service_minutes": SERVICE_MIN,
        "instance_facts": facts,
        "servicenet_exact": {
            "seconds_median": statistics.median(ex_secs),
            "seconds_all": [round(s, 4) for s in ex_secs],
            "status": ex.status,
            "objective": ex.objective,
            "bound": ex.bound,
            "gap": ex.gap,
            "selected": list(ex.selected),
            "reductions": ex.reductions,
            "covered_before": ex.covered_before,
        },
        "servicenet_heuristic": {
            "seconds_median": statistics.median(h_secs),
            "seconds_all": [round(s, 4) for s in h_secs],
            "objective": h.objective,
            "selected": list(h.selected),
        },
    }
    if ex.status == "optimal":
        row["heuristic_below_optimum_pct"] = 100 * (ex.objective - h.objective) / ex.objective
        row["heuristic_reference"] = "optimum (servicenet exact)"
    elif ex.bound is not None:
        row["heuristic_below_optimum_pct"] = 100 * (ex.bound - h.objective) / ex.bound
        row["heuristic_reference"] = "upper bound (not proven optimal)"
    if args.profile and spec.n_demand >= 10_000:
        row["profile_exact"] = profile_exact(exact, workdir / f"highs_{path.stem}_p{p}.log")
    if args.what_if and spec.n_demand >= 10_000:
        with highs_options(WHAT_IF):
            w_secs, w = timed(exact, args.repeats)
        row["what_if"] = {
            "highs_options": WHAT_IF,
            "seconds_median": statistics.median(w_secs),
            "seconds_all": [round(s, 4) for s in w_secs],
            "status": w.status,
            "objective": w.objective,
            "gap": w.gap,
            "same_objective": w.objective == ex.objective,
        }
    if py is not None:
        sp_res = run_spopt(py, path, "mclp", p, args.cbc_time_limit, workdir)
        row["spopt"] = sp_res
        if "seconds" in sp_res:
            row["speedup_spopt_over_servicenet"] = sp_res["seconds"] / statistics.median(ex_secs)
            row["speedup_solve_only"] = sp_res["solve_seconds"] / statistics.median(ex_secs)
        if sp_res.get("status") == "optimal" and ex.status == "optimal":
            d = rel_diff(ex.objective, sp_res.get("objective"))
            row["objective_rel_diff"] = d
            row["objectives_equal"] = d is not None and d <= 1e-6
            row["same_sites"] = sorted(sp_res.get("selected", [])) == list(ex.selected)
        if sp_res.get("objective_recomputed") is not None and sp_res.get("objective") is not None:
            row["spopt_objective_check"] = rel_diff(
                sp_res["objective"], sp_res["objective_recomputed"]
            )
    return row


def bench_pmedian(
    spec: Spec,
    path: Path,
    p: int,
    args: argparse.Namespace,
    py: Path | None,
    workdir: Path,
    *,
    cutoff: bool,
) -> dict[str, Any]:
    """p-median: full matrix (classic), or the cutoff matrix with a penalty beyond it.

    With the cutoff, servicenet gets the pairs within CUTOFF_MIN and
    penalty_minutes = PENALTY_MIN; spopt gets the dense matrix with every time
    beyond the cutoff replaced by the penalty, which is the same model.
    """
    if cutoff:
        inst = load_servicenet(path, cutoff=CUTOFF_MIN)
        penalty = PENALTY_MIN
    else:
        inst = load_servicenet(path, cutoff=None)  # full matrix: the classic p-median
        # above every time: never used when p >= 1
        penalty = float(np.load(path)["minutes"].max()) + 1.0

    def exact() -> Solution:
        return solve_pmedian(
            inst, p=p, penalty_minutes=penalty, method="exact", time_limit=args.time_limit
        )

    def heur() -> Solution:
        return solve_pmedian(inst, p=p, penalty_minutes=penalty, method="heuristic")

    ex_secs, ex = timed(exact, args.pmedian_repeats)
    h_secs, h = timed(heur, args.repeats)
    row: dict[str, Any] = {
        "instance": spec.label,
        "matrix": f"cutoff {CUTOFF_MIN:g} min, penalty {PENALTY_MIN:g} min" if cutoff else "full",
        "penalty_minutes": penalty,
        "p": p,
        "servicenet_exact": {
            "seconds_median": statistics.median(ex_secs),
            "seconds_all": [round(s, 4) for s in ex_secs],
            "status": ex.status,
            "objective": ex.objective,
            "gap": ex.gap,
            "selected": list(ex.selected),
        },
        "servicenet_heuristic": {
            "seconds_median": statistics.median(h_secs),
            "objective": h.objective,
            "selected": list(h.selected),
        },
        "heuristic_above_optimum_pct": 100 * (h.objective - ex.objective) / ex.objective,
    }
    if py is not None:
        cap = PENALTY_MIN if cutoff else None
        sp_res = run_spopt(py, path, "pmedian", p, args.cbc_time_limit, workdir, cap)
        row["spopt"] = sp_res
        if "seconds" in sp_res:
            row["speedup_spopt_over_servicenet"] = sp_res["seconds"] / statistics.median(ex_secs)
        if sp_res.get("status") == "optimal" and ex.status == "optimal":
            d = rel_diff(ex.objective, sp_res.get("objective"))
            row["objective_rel_diff"] = d
            row["objectives_equal"] = d is not None and d <= 1e-6
    return row


# --------------------------------------------------------------------- report


def _f(x: float | None, nd: int = 2) -> str:
    return "–" if x is None else f"{x:,.{nd}f}"


def _gap(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.4f}"


def markdown(result: dict[str, Any]) -> str:
    f = result["machine"]
    sv = f.get("spopt_env", {})
    lines = [
        "# Location models: servicenet vs spopt",
        "",
        f"Run {f['date']} on {f['cpu']} ({f['cores']} cores), Python {f['python']}, "
        f"highspy {f['highspy']} (HiGHS, 1 thread); baseline: spopt {sv.get('spopt', '–')}, "
        f"PuLP {sv.get('pulp', '–')}, CBC {sv.get('cbc', '–')} (1 thread) on Python "
        f"{sv.get('python', '–')}.",
        "",
        f"Instances: random points in a {SIDE_KM:g} km square, walking {SPEED_KMH:g} km/h, "
        f"S = {SERVICE_MIN:g} min, weights 1..100, seed {SEED}; servicenet gets the pairs "
        f"within {CUTOFF_MIN:g} min (CSR), spopt the dense matrix. Times in seconds, "
        f"servicenet = median of {result['args']['repeats']} runs in process; spopt = model "
        "build + solve (file loading and interpreter start-up excluded).",
        "",
        "## MCLP",
        "",
        "| instance | p | cover/demand | sn exact s | status | gap % | objective | sn heur s "
        "| heur below opt % | spopt build s | spopt solve s | spopt total s | spopt status "
        "| spopt objective | equal | spopt/sn |",
        "|---|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|---|--:|---|--:|",
    ]
    for r in result["mclp"]:
        ex, h = r["servicenet_exact"], r["servicenet_heuristic"]
        s = r.get("spopt", {})
        fa = r["instance_facts"]
        eq = r.get("objectives_equal")
        eq_s = "–" if eq is None else ("yes" if eq else f"NO ({r['objective_rel_diff']:.2e})")
        lines.append(
            f"| {r['instance']} | {r['p']} | {fa['candidates_per_demand_mean']:.1f} "
            f"({fa['coverage_share_mean_pct']:.2f} %) | {_f(ex['seconds_median'])} "
            f"| {ex['status']} "
            f"| {_gap(ex['gap'])} | {_f(ex['objective'], 0)} | {_f(h['seconds_median'], 3)} "
            f"| {_f(r.get('heuristic_below_optimum_pct'), 3)} | {_f(s.get('build_seconds'))} "
            f"| {_f(s.get('solve_seconds'))} | {_f(s.get('seconds'))} | {_spopt_status(s)} "
            f"| {_f(s.get('objective'), 0)} | {eq_s} | {_ratio(r)} |"
        )
    prof = [r for r in result["mclp"] if "profile_exact" in r]
    if prof:
        lines += [
            "",
            "### Where the exact time goes (cProfile of one run; HiGHS log)",
            "",
            "| instance | p | total s | reductions s | warm start s | model build s | HiGHS s "
            "| rows x cols (presolved) | HiGHS presolve s | HiGHS solve s | B&B nodes |",
            "|---|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|",
        ]
        for r in prof:
            pe = r["profile_exact"]
            sec, hl, hi = pe["seconds"], pe["highs_log"], pe["highs"]
            pres = hl.get("presolved_rows_cols_nnz")
            pres_s = (
                f"{pres[0]:,} x {pres[1]:,}"
                if pres
                else f"{hi.get('rows', 0):,} x {hi.get('cols', 0):,}"
            )
            lines.append(
                f"| {r['instance']} | {r['p']} | {_f(sec['total'])} | {_f(sec['reductions'], 3)} "
                f"| {_f(sec['heuristic_warm_start'], 3)} | {_f(sec['model_build'], 3)} "
                f"| {_f(sec['highs_run'])} | {pres_s} | {_f(hl.get('timing_presolve'))} "
                f"| {_f(hl.get('timing_solve'))} | {hi.get('mip_node_count', '–')} |"
            )
    if result.get("pmedian"):
        lines += [
            "",
            "## p-median (1,000 x 200)",
            "",
            "| matrix | p | sn exact s | status | gap % | objective | sn heur s | heur above opt % "
            "| spopt build s | spopt solve s | spopt total s | spopt status | spopt objective "
            "| equal | spopt/sn |",
            "|---|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|---|--:|---|--:|",
        ]
        for r in result["pmedian"]:
            ex, h = r["servicenet_exact"], r["servicenet_heuristic"]
            s = r.get("spopt", {})
            eq = r.get("objectives_equal")
            eq_s = "–" if eq is None else ("yes" if eq else f"NO ({r['objective_rel_diff']:.2e})")
            lines.append(
                f"| {r['matrix']} | {r['p']} | {_f(ex['seconds_median'])} | {ex['status']} "
                f"| {_gap(ex['gap'])} | {_f(ex['objective'], 1)} | {_f(h['seconds_median'], 3)} "
                f"| {_f(r['heuristic_above_optimum_pct'], 3)} | {_f(s.get('build_seconds'))} "
                f"| {_f(s.get('solve_seconds'))} | {_f(s.get('seconds'))} | {_spopt_status(s)} "
                f"| {_f(s.get('objective'), 1)} | {eq_s} | {_ratio(r)} |"
            )
    lines += [
        "",
        "## Targets",
        "",
        "| target | instance | p | measured | met |",
        "|---|---|--:|---|---|",
    ]
    for t in result["targets"]:
        lines.append(
            f"| {t['target']} | {t['instance']} | {t['p']} | {t['measured']} "
            f"| {'yes' if t['met'] else '**no**'} |"
        )
    return "\n".join(lines) + "\n"


def targets(rows: list[dict[str, Any]], pm_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for r in pm_rows:
        ex = r["servicenet_exact"]
        if ex["status"] == "optimal":
            out.append(
                {
                    "target": "p-median status 'optimal' => reported gap <= mip_gap 0.01 %",
                    "instance": f"{r['instance']}, {r['matrix']}",
                    "p": r["p"],
                    "met": bool((ex["gap"] or 0.0) <= TARGET_GAP * (1 + 1e-9)),
                    "measured": f"gap {_gap(ex['gap'])} %",
                }
            )
        if "objectives_equal" in r:
            out.append(
                {
                    "target": "p-median exact objective = spopt objective (1e-6 rel.)",
                    "instance": f"{r['instance']}, {r['matrix']}",
                    "p": r["p"],
                    "met": bool(r["objectives_equal"]),
                    "measured": f"rel. diff {r['objective_rel_diff']:.1e}",
                }
            )
    for r in rows:
        ex, h = r["servicenet_exact"], r["servicenet_heuristic"]
        if r["n_demand"] >= 10_000:
            ok = (
                ex["status"] == "optimal"
                and (ex["gap"] or 0.0) <= TARGET_GAP
                and ex["seconds_median"] < TARGET_EXACT_S
            )
            out.append(
                {
                    "target": f"exact proven optimal (gap <= 0.01 %) in < {TARGET_EXACT_S:g} s",
                    "instance": r["instance"],
                    "p": r["p"],
                    "met": bool(ok),
                    "measured": f"{ex['seconds_median']:.2f} s, {ex['status']}, "
                    f"gap {_gap(ex['gap'])} %",
                }
            )
            sp_ = r.get("speedup_spopt_over_servicenet")
            if sp_ is not None:
                st = r["spopt"].get("status")
                out.append(
                    {
                        "target": f">= {TARGET_SPEEDUP:g}x faster than spopt (build + solve)",
                        "instance": r["instance"],
                        "p": r["p"],
                        "met": bool(sp_ >= TARGET_SPEEDUP),
                        "measured": f"{sp_:.1f}x"
                        + ("" if st == "optimal" else f" (spopt {st}: a lower bound)")
                        + f"; solve only {r['speedup_solve_only']:.1f}x",
                    }
                )
        pct = r.get("heuristic_below_optimum_pct")
        out.append(
            {
                "target": f"heuristic within {TARGET_HEUR_PCT:g} % in < {TARGET_HEUR_S:g} s",
                "instance": r["instance"],
                "p": r["p"],
                "met": bool(
                    pct is not None
                    and pct <= TARGET_HEUR_PCT
                    and h["seconds_median"] < TARGET_HEUR_S
                ),
                "measured": f"{h['seconds_median']:.3f} s, {_f(pct, 3)} % below",
            }
        )
        if "objectives_equal" in r:
            out.append(
                {
                    "target": "exact objective = spopt objective (1e-6 rel.)",
                    "instance": r["instance"],
                    "p": r["p"],
                    "met": bool(r["objectives_equal"]),
                    "measured": f"rel. diff {r['objective_rel_diff']:.1e}"
                    + ("" if r.get("same_sites") else " (different sites: alternative optimum)"),
                }
            )
    return out


# --------------------------------------------------------------------- main


def render(src: Path, out: Path) -> int:
    result = json.loads(src.read_text())
    for r in result["mclp"]:
        pe = r.get("profile_exact")
        if pe and Path(pe["highs_log_file"]).exists():  # re-read with the current parser
            pe["highs_log"] = parse_highs_log(Path(pe["highs_log_file"]).read_text())
    for r in result["mclp"] + result["pmedian"]:
        if "spopt" in r:
            normalize_spopt(r["spopt"])
            if r["spopt"].get("status") != "optimal":
                for k in ("objective_rel_diff", "objectives_equal", "same_sites"):
                    r.pop(k, None)
    result["targets"] = targets(result["mclp"], result["pmedian"])
    result["rendered"] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "from": str(src),
        "note": "Markdown and targets rewritten from the measured JSON; no timing re-run",
    }
    text = markdown(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=str) + "\n")
    out.with_suffix(".md").write_text(text)
    print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only the 1,000 x 200 instance")
    ap.add_argument("--no-spopt", action="store_true", help="skip the spopt baseline")
    ap.add_argument("--no-pmedian", action="store_true")
    ap.add_argument(
        "--no-existing", action="store_true", help="skip the 5 %% existing-sites variant"
    )
    ap.add_argument("--no-profile", dest="profile", action="store_false")
    ap.add_argument("--repeats", type=int, default=3, help="servicenet runs per measurement")
    ap.add_argument("--pmedian-repeats", type=int, default=1, help="servicenet p-median exact runs")
    ap.add_argument(
        "--no-what-if",
        dest="what_if",
        action="store_false",
        help=f"skip re-running the large exact MCLPs with HiGHS {WHAT_IF}",
    )
    ap.add_argument("--time-limit", type=float, default=120.0, help="servicenet (HiGHS) limit, s")
    ap.add_argument("--cbc-time-limit", type=float, default=600.0, help="spopt (CBC) limit, s")
    ap.add_argument("--instances-dir", type=Path, help="keep the instance files and logs here")
    ap.add_argument("--out", type=Path, default=BENCH / "results" / "locate.json")
    ap.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="only rewrite the Markdown (and targets) from an earlier JSON result",
    )
    args = ap.parse_args(argv)
    if args.render:
        return render(args.render, args.out)

    load_start = list(os.getloadavg())
    workdir = args.instances_dir or Path(tempfile.mkdtemp(prefix="bench_locate_"))
    workdir.mkdir(parents=True, exist_ok=True)
    py = None if args.no_spopt else spopt_python()

    small, large = Spec("s", 1_000, 200, 0), Spec("l", 10_000, 1_000, 0)
    plan: list[tuple[Spec, list[int]]] = [(small, [10, 20])]
    if not args.quick:
        plan.append((large, [10, 20]))
        if not args.no_existing:
            plan.append((Spec("le", 10_000, 1_000, 50), [20]))

    rows: list[dict[str, Any]] = []
    pm_rows: list[dict[str, Any]] = []
    files: dict[str, tuple[Path, dict[str, Any]]] = {}
    for spec, ps in plan:
        path = workdir / f"instance_{spec.n_demand}x{spec.n_candidates}e{spec.n_existing}.npz"
        facts = make_instance(spec, path)
        assert facts["pairs_ambiguous_at_S"] == 0
        files[spec.name] = (path, facts)
        print(f"{spec.label}: {facts}", file=sys.stderr)
        for p in ps:
            r = bench_mclp(spec, path, facts, p, args, py, workdir)
            rows.append(r)
            print(
                json.dumps({k: r[k] for k in r if k not in ("instance_facts",)}, default=str)[
                    :1500
                ],
                file=sys.stderr,
            )
    if not args.no_pmedian:
        path, _ = files["s"]
        for cut in (True, False):
            for p in (10, 20):
                r = bench_pmedian(small, path, p, args, py, workdir, cutoff=cut)
                pm_rows.append(r)
                print(json.dumps(r, default=str)[:1500], file=sys.stderr)

    sp_versions = None
    for r in rows:
        if "versions" in r.get("spopt", {}):
            sp_versions = r["spopt"]["versions"]
            break
    result = {
        "machine": {**machine_facts(sp_versions), "loadavg_start": load_start},
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "command": "uv run python bench/bench_locate.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "instance_model": {
            "side_km": SIDE_KM,
            "speed_kmh": SPEED_KMH,
            "service_minutes": SERVICE_MIN,
            "cutoff_minutes": CUTOFF_MIN,
            "seed": SEED,
            "weights": "integers 1..100",
            "locate_module": str(Path(locate.__file__).relative_to(ROOT)),
        },
        "mclp": rows,
        "pmedian": pm_rows,
    }
    result["targets"] = targets(rows, pm_rows)
    result["machine"]["loadavg_end"] = list(os.getloadavg())
    text = markdown(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=str) + "\n")
    args.out.with_suffix(".md").write_text(text)
    print(text)
    if args.instances_dir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
