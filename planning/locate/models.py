"""Location models that keep the existing network: MCLP, LSCP, p-median, capacitated MCLP.

Every model is built from a sparse, cutoff-bounded matrix of travel minutes
between demand points (rows) and facility columns — the candidates for new
sites followed by the existing sites, which are fixed open. Notation used in
the docstrings:

* ``I`` demand points with weights ``w_i``; ``J`` candidates; ``E`` existing sites;
* ``t_ik`` minutes from demand ``i`` to facility ``k`` (absent = beyond the cutoff);
* ``S`` the service standard in minutes; ``N_i = {j in J : t_ij <= S}``;
* ``x_j in {0, 1}``: candidate ``j`` is opened.

Models are solved exactly with HiGHS (a MIP with a time limit; the status is
``optimal``, ``feasible`` with its gap, or ``infeasible``), or by a greedy plus
swap heuristic (status ``heuristic``) that also warm-starts the MIP. Before
solving, a model is reduced where that is exact, and the solution says what was
reduced.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from geo.errors import AnalysisError, InputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Method = Literal["mclp", "lscp", "pmedian", "cmclp"]
Status = Literal["optimal", "feasible", "heuristic", "infeasible"]
DEFAULT_MIP_GAP = 1e-4  # 0.01 %


class InfeasibleModelError(AnalysisError):
    """A model with no feasible solution (e.g. a budget below every candidate's cost)."""


@dataclass(frozen=True)
class Instance:
    """Demand, candidates and existing sites with the minutes between them.

    Attributes
    ----------
    minutes
        CSR matrix (demand x (candidates + existing)) of minutes; only pairs
        within the search cutoff are stored (explicit zeros are kept).
    weights
        Demand weights.
    n_candidates
        The first ``n_candidates`` columns are candidates, the rest existing sites.
    cost
        Cost of each candidate (budget form); ones by default.
    capacity
        Capacity of every column (capacitated model).
    """

    minutes: sp.csr_matrix
    weights: FloatArray
    n_candidates: int
    cost: FloatArray | None = None
    capacity: FloatArray | None = None

    def __post_init__(self) -> None:
        n_i, n_k = self.minutes.shape
        if n_i == 0:
            raise InputError("没有需求点", "there are no demand points")
        if self.n_candidates == 0:
            raise InputError("没有候选点", "there are no candidate sites")
        if len(self.weights) != n_i:
            raise InputError(
                "需求权重数量与矩阵行数不符",
                f"{len(self.weights)} weights for {n_i} demand rows",
            )
        if not 0 <= self.n_candidates <= n_k:
            raise InputError("候选点数量有误", f"n_candidates {self.n_candidates} of {n_k} columns")
        if np.any(self.weights < 0) or not np.all(np.isfinite(self.weights)):
            raise InputError("需求权重须为非负数", "demand weights must be finite and >= 0")
        if self.cost is not None and (len(self.cost) != self.n_candidates or np.any(self.cost < 0)):
            raise InputError("候选点成本有误", "one non-negative cost per candidate is needed")
        if self.capacity is not None and len(self.capacity) != n_k:
            raise InputError("容量数量有误", "one capacity per column is needed")
        if self.capacity is not None and not np.all(self.capacity >= 0):  # NaN fails too
            raise InputError("容量须为非负数", "capacities must be numbers >= 0")

    @property
    def n_existing(self) -> int:
        """Number of existing (fixed open) sites."""
        return int(self.minutes.shape[1] - self.n_candidates)

    def cover(self, max_minutes: float) -> sp.csr_matrix:
        """Boolean CSR of the pairs within ``max_minutes``."""
        m = self.minutes.tocoo()
        keep = m.data <= max_minutes + 1e-9
        return sp.csr_matrix(
            (np.ones(int(keep.sum()), dtype=bool), (m.row[keep], m.col[keep])), shape=m.shape
        )


@dataclass(frozen=True)
class Solution:
    """What a model chose and how sure it is.

    ``objective`` is in the model's own units (DESIGN.md): MCLP — demand weight
    covered by existing plus new sites; LSCP — number of new sites; p-median —
    total of weight x minutes to the nearest open site; capacitated MCLP —
    demand weight served. ``bound`` is the best proven bound on it and ``gap``
    the relative gap (None for a heuristic).
    """

    method: str
    status: Status
    objective: float
    bound: float | None
    gap: float | None
    seconds: float
    selected: tuple[int, ...]
    covered_before: float = 0.0
    covered_after: float = 0.0
    total_weight: float = 0.0
    #: capacitated model only: weight served within capacities by the existing sites
    #: alone, with the new sites, and by each new site (in the order of ``selected``)
    served_before: float | None = None
    served_after: float | None = None
    served_by: tuple[float, ...] = ()
    reductions: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (candidate indices; callers map them to ids)."""
        return {
            "method": self.method,
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "seconds": round(self.seconds, 4),
            "selected": list(self.selected),
            "reductions": self.reductions,
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------- reductions


def _row_groups(cover: sp.csr_matrix) -> tuple[IntArray, IntArray]:
    """Group rows with identical column sets: (group of each row, first row of each group).

    Rows are grouped by their length and two random 64-bit hashes of their
    column sets (wrapping sums, so equal rows always hash equal); every row is
    then compared with its group's first row, and only if some hash collided
    are the rows grouped again by their exact bytes. Groups keep the order of
    their first row.
    """
    n_rows = cover.shape[0]
    cover = cover.tocsr()
    cover.sort_indices()
    indptr, indices = cover.indptr, cover.indices
    lengths = np.diff(indptr)
    rng = np.random.default_rng(0x5EED)
    keys = [lengths.astype(np.int64)]
    for _ in range(2):
        r = rng.integers(-(2**62), 2**62, size=cover.shape[1], dtype=np.int64)
        with np.errstate(over="ignore"):
            cs = np.concatenate([[0], np.cumsum(r[indices], dtype=np.int64)])
            keys.append(cs[indptr[1:]] - cs[indptr[:-1]])
    _, first_sorted, group_sorted = np.unique(
        np.column_stack(keys), axis=0, return_index=True, return_inverse=True
    )
    order = np.argsort(first_sorted, kind="stable")  # groups by first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    group = rank[np.asarray(group_sorted).ravel()]
    first = first_sorted[order]
    offsets = np.arange(len(indices)) - np.repeat(indptr[:-1], lengths)
    at_first = np.repeat(indptr[first[group]], lengths) + offsets
    if np.any(indices != indices[at_first]):  # a hash collision: exact grouping
        uniq: dict[bytes, int] = {}
        group = np.fromiter(
            (
                uniq.setdefault(indices[indptr[i] : indptr[i + 1]].tobytes(), len(uniq))
                for i in range(n_rows)
            ),
            dtype=np.int64,
            count=n_rows,
        )
        first = np.full(len(uniq), n_rows, dtype=np.int64)
        np.minimum.at(first, group, np.arange(n_rows))
    return group.astype(np.int64), first.astype(np.int64)


def _merge_rows(cover: sp.csr_matrix, weights: FloatArray) -> tuple[sp.csr_matrix, FloatArray]:
    """Merge demand rows with identical coverage sets, summing their weights (exact);
    groups keep the order of their first row (see ``_row_groups``)."""
    if cover.shape[0] == 0:
        return cover, weights
    group, first = _row_groups(cover)
    merged_w = np.bincount(group, weights=weights, minlength=len(first))
    return cover.tocsr()[first], np.asarray(merged_w, dtype=np.float64)


#: pairs of candidates sharing a demand row that the dominance check may compare
#: (about a second of work per 100 million); above it the check is skipped, with a note
DOMINANCE_PAIRS = 200_000_000
#: pairs compared at once: bounds the memory of the check (about 16 bytes a pair)
DOMINANCE_BLOCK = 4_000_000
DOMINANCE_SKIPPED_NOTE = (
    "候选点太多且覆盖范围大量重叠，未做“被其他候选点完全覆盖”的精简（结果不变，求解可能更慢） / "
    "too many heavily overlapping candidates to look for candidates covered by another "
    "(the answer is the same; solving may be slower)"
)


def _dominated(cover: sp.csr_matrix, cost: FloatArray | None = None) -> tuple[BoolArray, bool]:
    """Candidates whose coverage set is inside another's (at no lower cost).

    Candidate ``j`` is dropped when some ``k`` covers every demand ``j`` covers
    and costs no more; of identical candidates the lowest index is kept. Exact
    for MCLP and LSCP: any solution using ``j`` stays feasible and no worse
    with ``k`` instead. Returns the mask and whether the subset test ran.

    Never a dense candidates x candidates product: candidates with identical
    sets are grouped by hashing (keeping the cheapest, then the lowest index;
    every other one is dominated by it), and among the distinct sets left,
    ``j`` is inside ``k`` when the two share ``|N_j|`` demand rows — counted by
    a sparse product one block of candidates at a time, ``DOMINANCE_BLOCK``
    pairs per block. The pairs compared are the pairs sharing a demand row
    (``sum_i |N_i|^2``); above ``DOMINANCE_PAIRS`` only the identical sets are
    dropped, and the second value is False.
    """
    n = cover.shape[1]
    out = np.zeros(n, dtype=bool)
    if n <= 1:
        return out, True
    price = np.zeros(n) if cost is None else np.asarray(cost, dtype=np.float64)
    cols = sp.csc_matrix(cover, dtype=bool)
    size = np.diff(cols.indptr)
    out[size == 0] = True
    live = np.flatnonzero(size > 0)
    if len(live) == 0:
        return out, True
    group, _ = _row_groups(cols[:, live].T.tocsr())
    # the representative of each group: cheapest, then lowest index
    order = np.lexsort((live, price[live], group))
    head = np.ones(len(order), dtype=bool)
    head[1:] = group[order][1:] != group[order][:-1]
    out[live[order[~head]]] = True
    reps = live[order[head]]
    if len(reps) <= 1:
        return out, True
    sets = cols[:, reps].astype(np.int32).tocsr()
    degree = np.diff(sets.indptr).astype(np.int64)
    if int((degree**2).sum()) > DOMINANCE_PAIRS:
        return out, False
    sets_c = sets.tocsc()
    pairs = sets_c.T @ degree  # pairs each representative takes part in
    need = np.diff(sets_c.indptr)
    rep_price = price[reps]
    bounds = np.searchsorted(np.cumsum(pairs), np.arange(0, pairs.sum(), DOMINANCE_BLOCK))
    starts = np.unique(np.concatenate([[0], bounds]))
    for a, b in zip(starts, [*starts[1:], len(reps)], strict=True):
        shared = (sets_c[:, a:b].T.tocsr() @ sets).tocoo()
        j, k = shared.row + a, shared.col
        inside = (j != k) & (shared.data == need[j]) & (rep_price[k] <= rep_price[j])
        out[reps[j[inside]]] = True
    return out, True


# --------------------------------------------------------------------- HiGHS


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence C-level writes to standard output (HiGHS' start-up banner)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


@dataclass
class _Mip:
    """A MIP in column-wise form for HiGHS: minimise c'x subject to row bounds."""

    cost: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    rows: list[tuple[float, float]] = field(default_factory=list)
    entries: list[tuple[IntArray, IntArray, FloatArray]] = field(default_factory=list)

    def add_vars(self, cost: FloatArray, lower: float, upper: float, integer: bool) -> IntArray:
        start = len(self.cost)
        self.cost.extend(np.asarray(cost, dtype=float).tolist())
        self.lower.extend([lower] * len(cost))
        self.upper.extend([upper] * len(cost))
        self.integer.extend([integer] * len(cost))
        return np.arange(start, start + len(cost), dtype=np.int64)

    def add_rows(self, lower: FloatArray, upper: FloatArray) -> IntArray:
        start = len(self.rows)
        self.rows.extend(
            zip(np.asarray(lower, float).tolist(), np.asarray(upper, float).tolist(), strict=True)
        )
        return np.arange(start, start + len(lower), dtype=np.int64)

    def add_entries(self, row: IntArray, col: IntArray, value: FloatArray) -> None:
        self.entries.append((np.asarray(row), np.asarray(col), np.asarray(value, dtype=float)))

    def solve(
        self,
        time_limit: float,
        mip_gap: float,
        start: FloatArray | None = None,
        abs_gap: float | None = None,
        lp_solver: str | None = None,
    ) -> tuple[str, FloatArray, float, float | None, float | None]:
        """Solve; return (status, x, objective, bound, gap) with HiGHS' minimisation sense."""
        import highspy

        n, m = len(self.cost), len(self.rows)
        rows = np.concatenate([e[0] for e in self.entries]) if self.entries else np.zeros(0, int)
        cols = np.concatenate([e[1] for e in self.entries]) if self.entries else np.zeros(0, int)
        vals = np.concatenate([e[2] for e in self.entries]) if self.entries else np.zeros(0)
        a = sp.csc_matrix((vals, (rows, cols)), shape=(m, n))
        a.sum_duplicates()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, m
        lp.col_cost_ = np.asarray(self.cost, dtype=float)
        lp.col_lower_ = np.asarray(self.lower, dtype=float)
        lp.col_upper_ = np.asarray(self.upper, dtype=float)
        bounds = np.asarray(self.rows, dtype=float).reshape(-1, 2)
        lp.row_lower_ = bounds[:, 0]
        lp.row_upper_ = bounds[:, 1]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if f else highspy.HighsVarType.kContinuous
            for f in self.integer
        ]
        with _quiet_stdout():  # HiGHS prints a banner on construction
            h = highspy.Highs()  # type: ignore[no-untyped-call]
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(time_limit))
        if abs_gap is None:
            h.setOptionValue("mip_rel_gap", float(mip_gap))
        else:
            # the reported objective is not HiGHS' own (an offset is added): stop on
            # an absolute gap that is the requested share of the reported objective
            h.setOptionValue("mip_rel_gap", 1e-9)
            h.setOptionValue("mip_abs_gap", float(abs_gap))
        h.setOptionValue("random_seed", 0)
        h.setOptionValue("threads", 1)
        if lp_solver is not None:
            h.setOptionValue("mip_lp_solver", lp_solver)
        if h.passModel(lp) == highspy.HighsStatus.kError:
            # a model HiGHS refuses (e.g. a coefficient of 1e15 or more) is a bug here,
            # never an answer: solving the empty model left behind reported the warm
            # start as "no new site needed"
            raise AnalysisError("求解器拒绝了模型", "the solver refused the model")
        if start is not None:
            sol = highspy.HighsSolution()
            sol.col_value = list(map(float, start))
            h.setSolution(sol)
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        name = h.modelStatusToString(status)
        x = np.asarray(h.getSolution().col_value, dtype=float)
        has_solution = info.primal_solution_status == 2 and len(x) == n
        if status == highspy.HighsModelStatus.kOptimal:
            return (
                "optimal",
                x,
                float(info.objective_function_value),
                float(info.mip_dual_bound),
                float(info.mip_gap),
            )
        if status == highspy.HighsModelStatus.kInfeasible:
            return "infeasible", x, float("nan"), None, None
        if status == highspy.HighsModelStatus.kModelError:
            raise AnalysisError(
                f"求解器拒绝了模型（{name}）", f"the solver refused the model ({name})"
            )
        if has_solution:
            return (
                "feasible",
                x,
                float(info.objective_function_value),
                float(info.mip_dual_bound),
                float(info.mip_gap),
            )
        return f"no solution ({name})", x, float("nan"), None, None


# --------------------------------------------------------------------- heuristics


def greedy_swap_cover(
    cover: sp.csr_matrix,
    weights: FloatArray,
    p: int,
    *,
    cost: FloatArray | None = None,
    budget: float | None = None,
    swaps: bool = True,
) -> IntArray:
    """Greedy then best-improvement swaps for maximal weighted coverage.

    Greedy adds the candidate with the largest newly covered weight (per unit
    cost in the budget form) while the count or budget allows; swaps exchange a
    chosen and an unchosen candidate while that strictly raises coverage.
    Deterministic: ties go to the lowest index.
    """
    c = cover.tocsc().astype(np.float64)
    ct = c.T.tocsr()
    n_j = c.shape[1]
    chosen: list[int] = []
    count = np.zeros(c.shape[0])
    spent = 0.0
    price = np.ones(n_j) if cost is None else cost
    while True:
        gain = ct @ (weights * (count == 0))
        if budget is not None:
            ok = price + spent <= budget + 1e-9
            score = np.where(price > 0, gain / np.maximum(price, 1e-12), gain * 1e12)
        else:
            ok = np.ones(n_j, dtype=bool)
            score = gain
        ok[chosen] = False
        ok &= gain > 0
        if (budget is None and len(chosen) >= p) or not ok.any():
            break
        j = int(np.flatnonzero(ok)[np.argmax(score[ok])])
        chosen.append(j)
        spent += float(price[j])
        count += c[:, j].toarray().ravel()
    if not swaps or not chosen:
        return np.array(sorted(chosen), dtype=np.int64)
    improved = True
    while improved:
        improved = False
        for pos, s in enumerate(list(chosen)):
            col = c[:, s].toarray().ravel()
            without = count - col
            loss = float(weights[(col > 0) & (without == 0)].sum())
            gain = ct @ (weights * (without == 0))
            ok = np.ones(n_j, dtype=bool)
            ok[chosen] = False
            if budget is not None:
                ok &= price <= budget - (spent - price[s]) + 1e-9
            if not ok.any():
                continue
            j = int(np.flatnonzero(ok)[np.argmax(gain[ok])])
            if gain[j] > loss + 1e-9:
                chosen[pos] = j
                spent += float(price[j] - price[s])
                count = without + c[:, j].toarray().ravel()
                improved = True
    return np.array(sorted(chosen), dtype=np.int64)


def greedy_swap_median(
    times: sp.csr_matrix, weights: FloatArray, base: FloatArray, p: int, *, swaps: bool = True
) -> IntArray:
    """Greedy then swaps for the least total weighted time (p-median).

    ``base`` is every demand point's time to its nearest existing site (or the
    penalty); ``times`` holds only the candidate pairs faster than that.
    """
    t = times.tocsc()
    n_j = t.shape[1]
    rows = t.indices
    col_of = np.repeat(np.arange(n_j), np.diff(t.indptr))

    def savings(cur: FloatArray) -> FloatArray:
        s = weights[rows] * np.maximum(cur[rows] - t.data, 0.0)
        return np.asarray(np.bincount(col_of, weights=s, minlength=n_j), dtype=np.float64)

    def current(chosen: list[int]) -> FloatArray:
        cur = base.copy()
        for j in chosen:
            lo, hi = t.indptr[j], t.indptr[j + 1]
            cur[t.indices[lo:hi]] = np.minimum(cur[t.indices[lo:hi]], t.data[lo:hi])
        return cur

    chosen: list[int] = []
    cur = base.copy()
    while len(chosen) < p:
        gain = savings(cur)
        gain[chosen] = -1.0
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        chosen.append(j)
        cur = current(chosen)
    if not swaps or not chosen:
        return np.array(sorted(chosen), dtype=np.int64)
    best = float(weights @ cur)
    improved = True
    while improved:
        improved = False
        for pos in range(len(chosen)):
            rest = chosen[:pos] + chosen[pos + 1 :]
            cur_rest = current(rest)
            gain = savings(cur_rest)
            gain[chosen] = -1.0
            j = int(np.argmax(gain))
            total = float(weights @ cur_rest) - float(gain[j])
            if total < best - 1e-9:
                chosen[pos] = j
                best = total
                improved = True
    return np.array(sorted(chosen), dtype=np.int64)


# --------------------------------------------------------------------- models


def _existing_cover(cover: sp.csr_matrix, n_candidates: int) -> BoolArray:
    return np.asarray(cover[:, n_candidates:].sum(axis=1)).ravel() > 0


@dataclass(frozen=True)
class _CoverReduction:
    """An MCLP/LSCP instance after the exact reductions (see ``_reduce_cover``)."""

    by_existing: BoolArray  # demand covered by an existing site within S
    coverable: BoolArray  # demand some candidate covers within S
    weights: FloatArray  # weight of each merged row of ``reduced``
    keep: IntArray  # candidate columns kept (not dominated)
    reduced: sp.csc_matrix  # merged open demand rows x kept candidates
    counts: dict[str, int]


def _reduce_cover(inst: Instance, max_minutes: float, cost: FloatArray | None) -> _CoverReduction:
    """Take out demand covered by existing sites or by no candidate, merge demand
    with identical ``N_i``, drop dominated candidates (``N_j`` inside ``N_k``
    and ``c_k <= c_j``). All exact for MCLP and LSCP."""
    cover = inst.cover(max_minutes)
    by_existing = _existing_cover(cover, inst.n_candidates)
    cand = cover[:, : inst.n_candidates]
    coverable = np.asarray(cand.sum(axis=1)).ravel() > 0
    open_rows = np.flatnonzero(~by_existing & coverable)
    sub, sub_w = _merge_rows(cand[open_rows], inst.weights[open_rows])
    dropped, checked = _dominated(sub, cost)
    keep = np.flatnonzero(~dropped)
    counts = {
        "demand_covered_by_existing": int(by_existing.sum()),
        "demand_not_coverable": int((~by_existing & ~coverable).sum()),
        "demand_rows_after_merge": int(sub.shape[0]),
        "candidates_dominated": int(dropped.sum()),
        "candidates_kept": len(keep),
    }
    if not checked:
        counts["candidates_dominance_skipped"] = 1
    return _CoverReduction(by_existing, coverable, sub_w, keep, sub[:, keep].tocsc(), counts)


SIMPLE_BOUND_NOTE = (
    "求解器在时限内没有给出界，报告的界为一个简单的有效界 / the solver gave no bound within "
    "the time limit; the bound reported is a simple valid one"
)
START_KEPT_NOTE = (
    "求解器在时限内没有找到解，报告的是启发式初始解 / the solver found no solution within the "
    "time limit; the heuristic start is reported"
)


def _usable(
    status: str, sol: FloatArray, start: FloatArray, notes: list[str]
) -> tuple[str, FloatArray]:
    """The solver's answer, or the (feasible) warm start when it stopped without one."""
    if status.startswith("no solution"):
        notes.append(START_KEPT_NOTE)
        return "feasible", start
    return status, sol


def _finite(value: float | None) -> float | None:
    return value if value is not None and np.isfinite(value) else None


def _finish(
    method: str,
    status: str,
    objective: float,
    bound: float | None,
    gap: float | None,
    started: float,
    selected: IntArray,
    **kw: Any,
) -> Solution:
    if status.startswith("no solution"):
        raise AnalysisError(
            f"求解器在时限内未找到可行解（{status}），请放宽时限或改用启发式",
            f"the solver found no feasible solution in the time limit ({status}); "
            "allow more time or use the heuristic",
        )
    if kw.get("reductions", {}).get("candidates_dominance_skipped"):
        kw["notes"] = (*kw.get("notes", ()), DOMINANCE_SKIPPED_NOTE)
    return Solution(
        method=method,
        status=status,  # type: ignore[arg-type]
        objective=float(objective),
        bound=None if bound is None or not np.isfinite(bound) else float(bound),
        gap=None if gap is None or not np.isfinite(gap) else float(max(gap, 0.0)),
        seconds=time.perf_counter() - started,
        selected=tuple(int(j) for j in sorted(selected)),
        **kw,
    )


def _warm_answer(
    name: str,
    method: Literal["exact", "heuristic"],
    value: float,
    started: float,
    selected: IntArray,
    **kw: Any,
) -> Solution:
    """The warm start as the answer: a heuristic one (no bound), or one that is
    optimal because the model left nothing to choose (no bound to prove)."""
    if method == "heuristic":
        return _finish(name, "heuristic", value, None, None, started, selected, **kw)
    return _finish(name, "optimal", value, value, 0.0, started, selected, **kw)


def solve_mclp(
    inst: Instance,
    max_minutes: float,
    *,
    p: int | None = None,
    budget: float | None = None,
    method: Literal["exact", "heuristic"] = "exact",
    time_limit: float = 60.0,
    mip_gap: float = DEFAULT_MIP_GAP,
) -> Solution:
    """Maximal covering location with the existing sites kept open.

    Mathematics (after reduction)::

        max   sum_i w_i y_i
        s.t.  y_i <= sum_{j in N_i} x_j        for every demand i not covered by E
              sum_j x_j <= p                   (count form), or
              sum_j c_j x_j <= B               (budget form)
              x_j in {0, 1},  0 <= y_i <= 1

    ``N_i = {j in J : t_ij <= S}``. The objective reported adds the weight
    already covered by the existing sites (``t_ie <= S`` for some ``e`` in E).
    Reductions (exact): demand covered by existing sites or by no candidate
    is taken out; demand with identical ``N_i`` is merged; dominated
    candidates (``N_j`` inside ``N_k`` and ``c_k <= c_j``) are dropped.
    """
    started = time.perf_counter()
    if (p is None) == (budget is None):
        raise InputError("须给出站点数 p 或预算（二选一）", "give exactly one of p and budget")
    if p is not None and p < 0:
        raise InputError("站点数不能为负", "p must be >= 0")
    if budget is not None:
        if inst.cost is None:
            raise InputError("预算模式需要候选点成本", "the budget form needs candidate costs")
        if budget < 0:
            raise InputError("预算不能为负", "budget must be >= 0")
    w = inst.weights
    total = float(w.sum())
    red = _reduce_cover(inst, max_minutes, inst.cost)
    base = float(w[red.by_existing].sum())
    sub_w, keep, reduced, reductions = red.weights, red.keep, red.reduced, red.counts
    kcost = None if inst.cost is None else inst.cost[keep]
    limit = p if p is not None else len(keep)
    warm = greedy_swap_cover(reduced, sub_w, limit, cost=kcost, budget=budget)
    warm_value = base + _covered(reduced, sub_w, warm)
    if method == "heuristic" or len(keep) == 0 or limit == 0:
        return _warm_answer(
            "mclp",
            method,
            warm_value,
            started,
            keep[warm],
            covered_before=base,
            covered_after=warm_value,
            total_weight=total,
            reductions=reductions,
        )
    mip = _Mip()
    n_j, n_i = reduced.shape[1], reduced.shape[0]
    x = mip.add_vars(np.zeros(n_j), 0.0, 1.0, True)
    y = mip.add_vars(-sub_w, 0.0, 1.0, False)
    rows = mip.add_rows(np.full(n_i, -np.inf), np.zeros(n_i))
    coo = reduced.tocoo()
    mip.add_entries(rows, y, np.ones(n_i))
    mip.add_entries(rows[coo.row], x[coo.col], -np.ones(len(coo.row)))
    cap_value = float(p) if p is not None else float(budget or 0.0)
    (lim,) = mip.add_rows(np.array([-np.inf]), np.array([cap_value]))
    mip.add_entries(np.full(n_j, lim), x, np.ones(n_j) if p is not None else kcost)  # type: ignore[arg-type]
    start = np.zeros(n_j + n_i)
    start[x[warm]] = 1.0
    start[y] = (np.asarray(reduced[:, warm].sum(axis=1)).ravel() > 0).astype(float)
    status, sol, _obj, bound, gap = mip.solve(time_limit, mip_gap, start, lp_solver="ipm")
    if status == "infeasible":
        raise InfeasibleModelError("模型无可行解", "the model has no feasible solution")
    notes: list[str] = []
    status, sol = _usable(status, sol, start, notes)
    chosen_idx = np.flatnonzero(sol[x] > 0.5)
    value = base + _covered(reduced, sub_w, chosen_idx)
    solver_bound = _finite(bound)
    upper = base - solver_bound if solver_bound is not None else None
    if upper is None:  # all coverable demand covered
        upper = base + float(sub_w.sum())
        notes.append(SIMPLE_BOUND_NOTE)
    gap = _relative_gap(value, upper)
    return _finish(
        "mclp",
        status,
        value,
        upper,
        gap,
        started,
        keep[chosen_idx],
        covered_before=base,
        covered_after=value,
        total_weight=total,
        reductions=reductions,
        notes=tuple(notes),
    )


def _relative_gap(value: float, bound: float | None) -> float | None:
    """|bound - value| / |value| (0 when both are 0), on the reported objective."""
    if bound is None or not np.isfinite(bound):
        return None
    if value == 0:
        return 0.0 if abs(bound) < 1e-9 else None
    return max(abs(bound - value) / abs(value), 0.0)


def _covered(cover: sp.csc_matrix, weights: FloatArray, chosen: IntArray) -> float:
    if len(chosen) == 0:
        return 0.0
    hit = np.asarray(cover[:, chosen].sum(axis=1)).ravel() > 0
    return float(weights[hit].sum())


def solve_lscp(
    inst: Instance,
    max_minutes: float,
    *,
    target_share: float | None = None,
    method: Literal["exact", "heuristic"] = "exact",
    time_limit: float = 60.0,
    mip_gap: float = DEFAULT_MIP_GAP,
) -> Solution:
    """Location set covering with the existing sites kept open.

    Mathematics (after reduction), full form (``target_share`` None)::

        min   sum_j x_j
        s.t.  sum_{j in N_i} x_j >= 1          for every demand i not covered by E
                                               and reachable by some candidate
              x_j in {0, 1}

    Target form, ``T = target_share``, ``W`` the total weight and ``B`` the
    weight already covered by ``E``::

        min   sum_j x_j
        s.t.  B + sum_i w_i y_i >= T W
              y_i <= sum_{j in N_i} x_j        for every demand i not covered by E
              x_j in {0, 1},  0 <= y_i <= 1

    (the fewest new sites that bring the covered share to ``T``; no site when
    ``B >= T W``; infeasible, with the highest reachable share in the message,
    when even every candidate falls short). Demand that no candidate and no
    existing site reaches within ``S`` cannot be covered: it is reported
    (``reductions["demand_not_coverable"]``), not a reason to fail in the full
    form. Reductions as for MCLP (merging identical rows, dropping dominated
    candidates), both exact.
    """
    started = time.perf_counter()
    if target_share is not None and not 0.0 <= target_share <= 1.0:
        raise InputError("目标覆盖率须在 0 到 1 之间", "target_share must be within 0..1")
    w = inst.weights
    total = float(w.sum())
    red = _reduce_cover(inst, max_minutes, None)
    keep, reduced = red.keep, red.reduced
    not_coverable = ~red.by_existing & ~red.coverable
    reductions: dict[str, Any] = {
        **red.counts,
        "weight_not_coverable": float(w[not_coverable].sum()),
    }
    before = float(w[red.by_existing].sum())
    if target_share is not None:
        return _lscp_target(
            red, before, total, target_share, method, time_limit, mip_gap, started, reductions
        )
    after = before + float(w[red.coverable & ~red.by_existing].sum())
    # greedy set cover (most uncovered rows per site), then drop redundant sites
    ones = np.ones(reduced.shape[0])
    warm = greedy_swap_cover(reduced, ones, reduced.shape[1], swaps=False)
    warm = _drop_redundant(reduced, warm)
    if method == "heuristic" or reduced.shape[0] == 0:
        return _warm_answer(
            "lscp",
            method,
            float(len(warm)),
            started,
            keep[warm],
            covered_before=before,
            covered_after=after,
            total_weight=total,
            reductions=reductions,
        )
    mip = _Mip()
    n_j, n_i = reduced.shape[1], reduced.shape[0]
    x = mip.add_vars(np.ones(n_j), 0.0, 1.0, True)
    rows = mip.add_rows(np.ones(n_i), np.full(n_i, np.inf))
    coo = reduced.tocoo()
    mip.add_entries(rows[coo.row], x[coo.col], np.ones(len(coo.row)))
    start = np.zeros(n_j)
    start[warm] = 1.0
    status, sol, _obj, bound, _gap = mip.solve(time_limit, mip_gap, start)
    notes: list[str] = []
    status, sol = _usable(status, sol, start, notes)
    chosen_idx = np.flatnonzero(sol > 0.5)
    return _lscp_finish(
        status,
        bound,
        started,
        keep[chosen_idx],
        notes,
        covered_before=before,
        covered_after=after,
        total_weight=total,
        reductions=reductions,
    )


def _lscp_finish(
    status: str,
    bound: float | None,
    started: float,
    selected: IntArray,
    notes: list[str],
    **kw: Any,
) -> Solution:
    """An LSCP solution: the count of new sites, with the solver's bound or a simple one."""
    lower = _finite(bound)
    if lower is None:  # at least one site while any demand is left to cover
        lower = 1.0
        notes.append(SIMPLE_BOUND_NOTE)
    value = float(len(selected))
    return _finish(
        "lscp",
        status,
        value,
        lower,
        _relative_gap(value, lower),
        started,
        selected,
        notes=tuple(notes),
        **kw,
    )


def _lscp_target(
    red: _CoverReduction,
    before: float,
    total: float,
    target_share: float,
    method: Literal["exact", "heuristic"],
    time_limit: float,
    mip_gap: float,
    started: float,
    reductions: dict[str, Any],
) -> Solution:
    """The target form of :func:`solve_lscp` (its docstring states the model)."""
    keep, reduced, sub_w = red.keep, red.reduced, red.weights
    need = target_share * total - before  # weight the new sites must add
    reachable = before + float(sub_w.sum())
    kw: dict[str, Any] = {
        "total_weight": total,
        "reductions": {**reductions, "target_share": target_share},
    }
    if need <= 1e-9 * max(total, 1.0):
        return _finish(
            "lscp",
            "optimal",
            0.0,
            0.0,
            0.0,
            started,
            keep[:0],
            covered_before=before,
            covered_after=before,
            **kw,
        )
    if reachable < target_share * total - 1e-9 * max(total, 1.0):
        share = reachable / total if total > 0 else 0.0
        raise InfeasibleModelError(
            f"即使启用全部候选点，覆盖率最高也只有 {share:.1%}，达不到目标 {target_share:.0%}",
            f"even every candidate together covers at most {share:.1%}, short of the target "
            f"{target_share:.0%}",
        )
    # greedy: the largest newly covered weight until the target is reached
    c = reduced.astype(np.float64)
    ct = c.T.tocsr()
    hit = np.zeros(reduced.shape[0], dtype=bool)
    warm: list[int] = []
    while float(sub_w[hit].sum()) < need - 1e-9 and len(warm) < reduced.shape[1]:
        gain = ct @ (sub_w * ~hit)
        gain[warm] = -1.0
        j = int(np.argmax(gain))
        warm.append(j)
        hit |= c[:, j].toarray().ravel() > 0
    warm_idx = np.array(sorted(warm), dtype=np.int64)
    if method == "heuristic":
        value = before + float(sub_w[hit].sum())
        return _finish(
            "lscp",
            "heuristic",
            float(len(warm)),
            None,
            None,
            started,
            keep[warm_idx],
            covered_before=before,
            covered_after=value,
            **kw,
        )
    mip = _Mip()
    n_j, n_i = reduced.shape[1], reduced.shape[0]
    x = mip.add_vars(np.ones(n_j), 0.0, 1.0, True)
    y = mip.add_vars(np.zeros(n_i), 0.0, 1.0, False)
    link = mip.add_rows(np.full(n_i, -np.inf), np.zeros(n_i))
    coo = reduced.tocoo()
    mip.add_entries(link, y, np.ones(n_i))
    mip.add_entries(link[coo.row], x[coo.col], -np.ones(len(coo.row)))
    (goal,) = mip.add_rows(np.array([need]), np.array([np.inf]))
    mip.add_entries(np.full(n_i, goal), y, sub_w)
    start = np.zeros(n_j + n_i)
    start[x[warm_idx]] = 1.0
    start[y] = hit.astype(float)
    status, sol, _obj, bound, _gap = mip.solve(time_limit, mip_gap, start)
    if status == "infeasible":
        raise InfeasibleModelError("模型无可行解", "the model has no feasible solution")
    notes: list[str] = []
    status, sol = _usable(status, sol, start, notes)
    chosen_idx = np.flatnonzero(sol[x] > 0.5)
    value = before + _covered(reduced, sub_w, chosen_idx)
    return _lscp_finish(
        status,
        bound,
        started,
        keep[chosen_idx],
        notes,
        covered_before=before,
        covered_after=value,
        **kw,
    )


def _drop_redundant(cover: sp.csc_matrix, chosen: IntArray) -> IntArray:
    keep = list(chosen)
    count = np.asarray(cover[:, keep].sum(axis=1)).ravel() if keep else np.zeros(cover.shape[0])
    for j in sorted(keep, key=lambda j: int(cover[:, j].sum())):
        col = cover[:, j].toarray().ravel()
        if np.all(count[col > 0] >= 2):
            keep.remove(j)
            count = count - col
    return np.array(sorted(keep), dtype=np.int64)


def solve_pmedian(
    inst: Instance,
    *,
    p: int,
    penalty_minutes: float,
    method: Literal["exact", "heuristic"] = "exact",
    time_limit: float = 60.0,
    mip_gap: float = DEFAULT_MIP_GAP,
    max_minutes: float | None = None,
) -> Solution:
    """p-median with the existing sites kept open: least total weighted time.

    Let ``d_i`` be the time from ``i`` to its nearest existing site, or
    ``penalty_minutes`` when none is within the matrix's cutoff (the penalty
    also caps every time). Only pairs with ``t_ij < d_i`` can improve on it::

        min   sum_i w_i d_i - sum_{i,j: t_ij < d_i} w_i (d_i - t_ij) z_ij
        s.t.  sum_j z_ij <= 1                  for every demand i
              z_ij <= x_j
              sum_j x_j <= p
              x_j in {0, 1},  z_ij >= 0

    which equals ``sum_i w_i min(d_i, min_{j open} t_ij)``. Pairs no faster
    than the nearest existing site are removed before solving (exact).
    """
    started = time.perf_counter()
    if p < 0:
        raise InputError("站点数不能为负", "p must be >= 0")
    m = inst.minutes.tocsr()
    w = inst.weights
    n_i = m.shape[0]
    existing = m[:, inst.n_candidates :].tocoo()
    d = np.full(n_i, float(penalty_minutes))
    np.minimum.at(d, existing.row, np.minimum(existing.data, penalty_minutes))
    cand = m[:, : inst.n_candidates].tocoo()
    better = cand.data < d[cand.row]
    pairs = sp.csr_matrix(
        (cand.data[better], (cand.row[better], cand.col[better])), shape=(n_i, inst.n_candidates)
    )
    before = float(w @ d)
    reductions = {
        "pairs_in_matrix": int(cand.nnz),
        "pairs_faster_than_existing": int(better.sum()),
        "demand_beyond_cutoff_of_existing": int((d >= penalty_minutes).sum()),
    }
    warm = greedy_swap_median(pairs, w, d, p)
    warm_value = _median_value(pairs, w, d, warm)
    cover_stats: dict[str, float] = {}
    if max_minutes is not None:
        cover_stats = _coverage_shares(inst, max_minutes, warm)
    if method == "heuristic" or pairs.nnz == 0 or p == 0:
        return _warm_answer(
            "pmedian",
            method,
            warm_value,
            started,
            warm,
            total_weight=float(w.sum()),
            reductions={**reductions, "objective_before": before},
            **cover_stats,
        )
    coo = pairs.tocoo()
    mip = _Mip()
    n_j = inst.n_candidates
    x = mip.add_vars(np.zeros(n_j), 0.0, 1.0, True)
    z = mip.add_vars(-(w[coo.row] * (d[coo.row] - coo.data)), 0.0, 1.0, False)
    assign = mip.add_rows(np.full(n_i, -np.inf), np.ones(n_i))
    mip.add_entries(assign[coo.row], z, np.ones(len(z)))
    link = mip.add_rows(np.full(len(z), -np.inf), np.zeros(len(z)))
    mip.add_entries(link, z, np.ones(len(z)))
    mip.add_entries(link, x[coo.col], -np.ones(len(z)))
    (lim,) = mip.add_rows(np.array([-np.inf]), np.array([float(p)]))
    mip.add_entries(np.full(n_j, lim), x, np.ones(n_j))
    start = np.zeros(n_j + len(z))
    start[x[warm]] = 1.0
    start[z] = _median_assignment(coo, d, warm)
    # HiGHS minimises minus the savings; the reported objective adds back the
    # total without new sites, so the tolerance is set on the reported scale
    # (0.9 x mip_gap x the heuristic's value, which is at least the optimum)
    status, sol, _obj, bound, gap = mip.solve(
        time_limit, mip_gap, start, abs_gap=0.9 * mip_gap * warm_value
    )
    notes: list[str] = []
    status, sol = _usable(status, sol, start, notes)
    chosen = np.flatnonzero(sol[x] > 0.5)
    value = _median_value(pairs, w, d, chosen)
    if max_minutes is not None:
        cover_stats = _coverage_shares(inst, max_minutes, chosen)
    solver_bound = _finite(bound)
    lower = before + solver_bound if solver_bound is not None else None
    if lower is None:  # every demand point at its nearest candidate, whatever p
        lower = _median_value(pairs, w, d, np.arange(n_j))
        notes.append(SIMPLE_BOUND_NOTE)
    gap = _relative_gap(value, lower)
    if status == "optimal" and (gap is None or gap > mip_gap * (1 + 1e-9)):
        status = "feasible"  # never call a solution optimal beyond the requested gap
    return _finish(
        "pmedian",
        status,
        value,
        lower,
        gap,
        started,
        chosen,
        total_weight=float(w.sum()),
        reductions={**reductions, "objective_before": before},
        notes=tuple(notes),
        **cover_stats,
    )


def _median_value(pairs: sp.csr_matrix, w: FloatArray, d: FloatArray, chosen: IntArray) -> float:
    cur = d.copy()
    if len(chosen):
        sub = pairs[:, chosen].tocoo()
        np.minimum.at(cur, sub.row, sub.data)
    return float(w @ cur)


def _median_assignment(coo: sp.coo_matrix, d: FloatArray, chosen: IntArray) -> FloatArray:
    """z values of the best open candidate per demand point (a warm start)."""
    z = np.zeros(len(coo.data))
    is_open = np.zeros(coo.shape[1], dtype=bool)
    is_open[chosen] = True
    k = np.flatnonzero(is_open[coo.col] & (coo.data < d[coo.row]))
    if len(k):
        k = k[np.lexsort((k, coo.data[k], coo.row[k]))]  # by row, then time, then pair
        first = np.r_[True, coo.row[k][1:] != coo.row[k][:-1]]
        z[k[first]] = 1.0
    return z


def _coverage_shares(inst: Instance, max_minutes: float, chosen: IntArray) -> dict[str, float]:
    cover = inst.cover(max_minutes)
    w = inst.weights
    before = _existing_cover(cover, inst.n_candidates)
    after = before.copy()
    if len(chosen):
        after |= np.asarray(cover[:, chosen].sum(axis=1)).ravel() > 0
    return {"covered_before": float(w[before].sum()), "covered_after": float(w[after].sum())}


def solve_cmclp(
    inst: Instance,
    max_minutes: float,
    *,
    p: int,
    time_limit: float = 60.0,
    mip_gap: float = DEFAULT_MIP_GAP,
) -> Solution:
    """Capacitated maximal covering: sites serve at most their capacity.

    With ``Q_k`` the capacity of facility ``k`` (candidates and existing),
    ``u_ik`` the share of demand ``i`` served by ``k`` (pairs with
    ``t_ik <= S``), and ``x_e = 1`` for existing sites::

        max   sum_{i,k} w_i u_ik
        s.t.  sum_k u_ik <= 1                  for every demand i
              sum_i w_i u_ik <= Q_k x_k        for every facility k
              u_ij <= x_j                      for every candidate pair
              sum_j x_j <= p
              x_j in {0, 1},  u_ik >= 0

    The objective is the demand weight served. Existing sites also serve
    within their capacity, so no demand is taken out before solving and no
    candidate is dropped (the model is not reduced). Solved by the MIP only
    (no heuristic); the time limit and gap are reported.

    ``Q_k`` enters the model as ``min(Q_k, sum_{i: t_ik <= S} w_i)``: a facility
    never serves more than the weight it reaches, so the rest of its capacity
    binds nothing (exact). This keeps ``Q_k`` — a coefficient of ``x_k`` — at
    most the total weight (below 5e14 for accepted tables, see
    ``geo.bounds``), inside the range HiGHS accepts (entries of 1e15 or more
    make it refuse the model), and tightens the LP relaxation.
    """
    started = time.perf_counter()
    if inst.capacity is None:
        raise InputError("容量模型需要站点容量", "the capacitated model needs capacities")
    cover = inst.cover(max_minutes).tocoo()
    w = inst.weights
    n_i, n_k = cover.shape
    n_j = inst.n_candidates
    reach = np.bincount(cover.col, weights=w[cover.row], minlength=n_k)
    cap = np.minimum(np.asarray(inst.capacity, dtype=float), reach)
    mip = _Mip()
    x = mip.add_vars(np.zeros(n_j), 0.0, 1.0, True)
    u = mip.add_vars(-w[cover.row], 0.0, 1.0, False)
    assign = mip.add_rows(np.full(n_i, -np.inf), np.ones(n_i))
    mip.add_entries(assign[cover.row], u, np.ones(len(u)))
    capr = mip.add_rows(np.full(n_k, -np.inf), np.where(np.arange(n_k) >= n_j, cap, 0.0))
    mip.add_entries(capr[cover.col], u, w[cover.row])
    mip.add_entries(capr[:n_j], x, -cap[:n_j])
    is_cand = cover.col < n_j
    link = mip.add_rows(np.full(int(is_cand.sum()), -np.inf), np.zeros(int(is_cand.sum())))
    mip.add_entries(link, u[is_cand], np.ones(len(link)))
    mip.add_entries(link, x[cover.col[is_cand]], -np.ones(len(link)))
    (lim,) = mip.add_rows(np.array([-np.inf]), np.array([float(p)]))
    mip.add_entries(np.full(n_j, lim), x, np.ones(n_j))
    start = np.zeros(n_j + len(u))  # nothing opened, nothing assigned: always feasible
    status, sol, _obj, bound, _gap = mip.solve(time_limit, mip_gap, start)
    if status == "infeasible":
        raise InfeasibleModelError("模型无可行解", "the model has no feasible solution")
    notes: list[str] = []
    status, sol = _usable(status, sol, start, notes)
    chosen = np.flatnonzero(sol[x] > 0.5) if len(sol) else np.zeros(0, dtype=np.int64)
    served = float(w[cover.row] @ sol[u]) if len(sol) else 0.0
    by_site = (
        np.bincount(cover.col, weights=w[cover.row] * sol[u], minlength=n_k)
        if len(sol)
        else np.zeros(n_k)
    )
    solver_bound = _finite(bound)
    upper = -solver_bound if solver_bound is not None else None
    if upper is None:  # all demand that some facility reaches
        upper = float(w[np.unique(cover.row)].sum())
        notes.append(SIMPLE_BOUND_NOTE)
    # the weight served by the existing sites alone is the same model with p = 0
    before = solve_cmclp(inst, max_minutes, p=0, time_limit=time_limit).objective if p else served
    return _finish(
        "cmclp",
        status,
        served,
        upper,
        _relative_gap(served, upper),
        started,
        chosen,
        # coverage in the terms of the coverage page (reached within the standard),
        # whatever the capacities; what the capacities let the sites serve beside it
        **_coverage_shares(inst, max_minutes, chosen),
        served_before=before,
        served_after=served,
        served_by=tuple(float(by_site[j]) for j in sorted(chosen)),
        total_weight=float(w.sum()),
        reductions={"pairs": int(cover.nnz)},
        notes=tuple(notes),
    )
