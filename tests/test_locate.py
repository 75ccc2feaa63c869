"""Location models against brute-force optima on small instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from geo.errors import InputError
from planning.locate.models import Instance, solve_cmclp, solve_lscp, solve_mclp, solve_pmedian


def instance(seed: int, n_i: int = 14, n_j: int = 7, n_e: int = 2, cost: bool = False) -> Instance:
    rng = np.random.default_rng(seed)
    m = rng.uniform(0, 40, (n_i, n_j + n_e))
    m[rng.random(m.shape) < 0.35] = np.inf  # beyond the cutoff
    m[0, :] = np.inf  # one demand point nobody reaches
    rows, cols = np.nonzero(np.isfinite(m))
    minutes = sp.csr_matrix((m[rows, cols], (rows, cols)), shape=m.shape)
    weights = rng.integers(1, 50, n_i).astype(float)
    return Instance(
        minutes,
        weights,
        n_j,
        cost=rng.integers(1, 6, n_j).astype(float) if cost else None,
        capacity=rng.integers(20, 120, n_j + n_e).astype(float),
    )


def dense(inst: Instance) -> np.ndarray:
    d = np.full(inst.minutes.shape, np.inf)
    coo = inst.minutes.tocoo()
    d[coo.row, coo.col] = coo.data
    return d


def covered_weight(inst: Instance, s: float, chosen) -> float:
    d = dense(inst)
    cols = list(chosen) + list(range(inst.n_candidates, d.shape[1]))
    hit = (d[:, cols] <= s).any(axis=1)
    return float(inst.weights[hit].sum())


SEEDS = [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("p", [0, 1, 2, 3])
def test_mclp_equals_brute_force(seed: int, p: int) -> None:
    inst = instance(seed)
    s = 15.0
    best = max(covered_weight(inst, s, c) for c in itertools.combinations(range(7), p))
    sol = solve_mclp(inst, s, p=p)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(best)
    assert covered_weight(inst, s, sol.selected) == pytest.approx(best)
    assert sol.gap is not None and sol.gap <= 1e-4
    assert sol.bound is not None and sol.bound >= sol.objective - 1e-6
    assert len(sol.selected) <= p
    assert sol.covered_before == pytest.approx(covered_weight(inst, s, ()))
    heur = solve_mclp(inst, s, p=p, method="heuristic")
    assert heur.status == "heuristic" and heur.objective <= best + 1e-9


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("budget", [0.0, 3.0, 7.0])
def test_mclp_budget_equals_brute_force(seed: int, budget: float) -> None:
    inst = instance(seed, cost=True)
    s = 15.0
    best = 0.0
    for r in range(8):
        for c in itertools.combinations(range(7), r):
            if inst.cost[list(c)].sum() <= budget:
                best = max(best, covered_weight(inst, s, c))
    sol = solve_mclp(inst, s, budget=budget)
    assert sol.objective == pytest.approx(best)
    assert inst.cost[list(sol.selected)].sum() <= budget + 1e-9


@pytest.mark.parametrize("seed", SEEDS)
def test_lscp_equals_brute_force(seed: int) -> None:
    inst = instance(seed)
    s = 15.0
    d = dense(inst)
    existing = (d[:, 7:] <= s).any(axis=1)
    reach = (d[:, :7] <= s).any(axis=1)
    need = ~existing & reach
    best = None
    for r in range(8):
        for c in itertools.combinations(range(7), r):
            if ((d[np.ix_(need, list(c))] <= s).any(axis=1)).all() if r else not need.any():
                best = r
                break
        if best is not None:
            break
    sol = solve_lscp(inst, s)
    assert sol.status == "optimal" and sol.objective == best
    assert len(sol.selected) == best
    assert sol.reductions["demand_not_coverable"] >= 1  # row 0 reaches nothing, not a failure


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("p", [0, 1, 2, 3])
def test_pmedian_equals_brute_force(seed: int, p: int) -> None:
    inst = instance(seed)
    penalty = 60.0
    d = np.minimum(dense(inst), penalty)

    def cost(c) -> float:
        cols = list(c) + list(range(7, d.shape[1]))
        return float(inst.weights @ np.min(d[:, cols], axis=1))

    best = min(cost(c) for c in itertools.combinations(range(7), p))
    sol = solve_pmedian(inst, p=p, penalty_minutes=penalty)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(best)
    assert cost(sol.selected) == pytest.approx(best)
    heur = solve_pmedian(inst, p=p, penalty_minutes=penalty, method="heuristic")
    assert heur.objective >= best - 1e-9


def served_lp(inst: Instance, s: float, chosen) -> float:
    """Best served weight for a fixed set of open facilities (an LP)."""
    d = dense(inst)
    open_cols = list(chosen) + list(range(7, d.shape[1]))
    pairs = [(i, k) for i in range(d.shape[0]) for k in open_cols if d[i, k] <= s]
    if not pairs:
        return 0.0
    w, cap = inst.weights, inst.capacity
    c = np.array([-w[i] for i, _ in pairs])
    a, b = [], []
    for i in range(d.shape[0]):
        a.append([1.0 if pi == i else 0.0 for pi, _ in pairs])
        b.append(1.0)
    for k in open_cols:
        a.append([w[pi] if pk == k else 0.0 for pi, pk in pairs])
        b.append(cap[k])
    res = linprog(c, A_ub=np.array(a), b_ub=np.array(b), bounds=(0, 1), method="highs")
    return float(-res.fun)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("p", [0, 1, 2])
def test_capacitated_mclp_equals_brute_force(seed: int, p: int) -> None:
    inst = instance(seed, n_i=10)
    s = 20.0
    best = max(served_lp(inst, s, c) for c in itertools.combinations(range(7), p))
    sol = solve_cmclp(inst, s, p=p)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(best, rel=1e-6)
    assert sol.served_before == pytest.approx(served_lp(inst, s, ()), rel=1e-6)
    assert sol.served_after == sol.objective
    assert sum(sol.served_by) <= sol.objective + 1e-6 and len(sol.served_by) == len(sol.selected)
    # coverage in the coverage page's terms: demand within s of an open facility
    reach = dense(inst) <= s
    open_cols = list(sol.selected) + list(range(inst.n_candidates, reach.shape[1]))
    covered = reach[:, open_cols].any(axis=1)
    assert sol.covered_after == pytest.approx(float(inst.weights[covered].sum()))
    before = reach[:, inst.n_candidates :].any(axis=1)
    assert sol.covered_before == pytest.approx(float(inst.weights[before].sum()))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("huge", [1e9, 1e15, 1e18])
def test_capacitated_mclp_with_huge_capacities_equals_brute_force(seed: int, huge: float) -> None:
    """Probe: a capacity of 1e15 or more made HiGHS refuse the model (entries of 1e15
    are beyond its range) and the empty start came back as "0 new sites"."""
    base = instance(seed, n_i=10)
    rng = np.random.default_rng(seed)
    capacity = np.where(rng.random(len(base.capacity)) < 0.5, huge, base.capacity)
    inst = Instance(base.minutes, base.weights, base.n_candidates, capacity=capacity)
    s = 20.0
    for p in (1, 2):
        best = max(served_lp(inst, s, c) for c in itertools.combinations(range(7), p))
        sol = solve_cmclp(inst, s, p=p)
        assert sol.status == "optimal" and len(sol.selected) == p
        assert sol.objective == pytest.approx(best, rel=1e-6)
        assert served_lp(inst, s, sol.selected) == pytest.approx(best, rel=1e-6)
        assert sol.served_before == pytest.approx(served_lp(inst, s, ()), rel=1e-6)


def test_a_model_the_solver_refuses_is_an_error_not_an_answer() -> None:
    from geo.errors import AnalysisError
    from planning.locate.models import _Mip

    mip = _Mip()
    x = mip.add_vars(np.array([-1.0]), 0.0, 1.0, True)
    (row,) = mip.add_rows(np.array([-np.inf]), np.array([1.0]))
    mip.add_entries(np.array([row]), x, np.array([1e16]))  # HiGHS refuses entries >= 1e15
    with pytest.raises(AnalysisError, match="refused the model"):
        mip.solve(10.0, 1e-4, np.zeros(1))


def test_existing_sites_stay_open_and_count() -> None:
    # one demand point covered only by the existing site: no new site is needed for it
    minutes = sp.csr_matrix(([5.0, 3.0], ([0, 1], [1, 0])), shape=(2, 2))
    inst = Instance(minutes, np.array([10.0, 20.0]), 1)
    sol = solve_mclp(inst, 10, p=0)
    assert sol.objective == 10.0 and sol.selected == ()
    assert solve_mclp(inst, 10, p=1).objective == 30.0
    assert solve_pmedian(inst, p=0, penalty_minutes=30).objective == 10 * 5 + 20 * 30


def test_deterministic_and_errors() -> None:
    inst = instance(3)
    a, b = solve_mclp(inst, 15, p=2), solve_mclp(inst, 15, p=2)
    assert a.selected == b.selected and a.objective == b.objective
    with pytest.raises(InputError):
        solve_mclp(inst, 15)
    with pytest.raises(InputError):
        solve_mclp(inst, 15, p=1, budget=3)
    with pytest.raises(InputError, match="costs"):
        solve_mclp(inst, 15, budget=3)
    with pytest.raises(InputError):
        Instance(sp.csr_matrix((0, 3)), np.zeros(0), 2)
    with pytest.raises(InputError, match="candidate"):
        Instance(sp.csr_matrix((2, 1)), np.ones(2), 0)
    with pytest.raises(InputError, match="weights"):
        Instance(sp.csr_matrix((2, 2)), np.array([1.0, -1.0]), 1)


def _groups_by_bytes(cover: sp.csr_matrix) -> list[list[int]]:
    """Reference grouping: rows with byte-identical sorted column sets, in first-seen order."""
    cover = cover.tocsr()
    cover.sort_indices()
    groups: dict[bytes, list[int]] = {}
    for i in range(cover.shape[0]):
        groups.setdefault(
            cover.indices[cover.indptr[i] : cover.indptr[i + 1]].tobytes(), []
        ).append(i)
    return list(groups.values())


@pytest.mark.parametrize("collide", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_merge_rows_groups_exactly(
    seed: int, collide: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Identical coverage sets are merged with summed weights, in first-seen order;
    with every hash forced to collide, the exact fallback gives the same answer."""
    from planning.locate.models import _merge_rows

    rng = np.random.default_rng(seed)
    base = sp.random(12, 9, density=0.3, random_state=seed, format="csr") > 0
    rows = rng.integers(0, 12, size=60)  # many repeated rows, some empty
    cover = sp.csr_matrix(base[rows])
    weights = rng.uniform(0, 5, size=60)
    if collide:

        class Zeros:
            def integers(self, *a: object, size: int, **k: object) -> np.ndarray:
                return np.zeros(size, dtype=np.int64)

        monkeypatch.setattr(np.random, "default_rng", lambda *_a: Zeros())
    merged, merged_w = _merge_rows(cover, weights)
    expected = _groups_by_bytes(cover)
    assert merged.shape == (len(expected), 9)
    for g, members in enumerate(expected):
        assert (merged[g] != cover[members[0]]).nnz == 0
        assert merged_w[g] == pytest.approx(weights[members].sum(), rel=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("target", [0.0, 0.5, 0.7, 0.85, 0.999])
def test_lscp_target_form_equals_brute_force(seed: int, target: float) -> None:
    """Fewest new sites that bring the covered share to the target, by enumeration."""
    from planning.locate.models import InfeasibleModelError

    inst = instance(seed)
    s = 15.0
    total = float(inst.weights.sum())
    best = None
    for r in range(8):
        for c in itertools.combinations(range(7), r):
            if covered_weight(inst, s, c) >= target * total - 1e-9:
                best = (r, covered_weight(inst, s, c))
                break
        if best is not None:
            break
    if best is None:
        with pytest.raises(InfeasibleModelError):
            solve_lscp(inst, s, target_share=target)
        return
    sol = solve_lscp(inst, s, target_share=target)
    assert sol.status == "optimal" and sol.objective == best[0] == len(sol.selected)
    assert sol.covered_after >= target * total - 1e-9
    assert sol.covered_after == pytest.approx(covered_weight(inst, s, sol.selected))
    heur = solve_lscp(inst, s, target_share=target, method="heuristic")
    assert heur.covered_after >= target * total - 1e-9 and heur.objective >= sol.objective


def _dominated_by_product(cover: sp.csr_matrix, cost: np.ndarray | None) -> np.ndarray:
    """The dominance reduction as first written, with the full candidates x candidates
    product (quadratic in memory): the reference the blockwise reduction must equal."""
    n = cover.shape[1]
    if n <= 1:
        return np.zeros(n, dtype=bool)
    c = cover.astype(np.int32).tocsc()
    size = np.asarray(c.sum(axis=0)).ravel()
    inter = (c.T @ c).tocoo()
    j, k, shared = inter.row, inter.col, inter.data
    price = np.zeros(n) if cost is None else cost
    subset = (j != k) & (shared == size[j]) & (price[k] <= price[j])
    equal = subset & (size[j] == size[k]) & (price[j] == price[k])
    out = np.zeros(n, dtype=bool)
    out[j[subset & ~equal]] = True
    out[j[equal & (j > k)]] = True
    out[size == 0] = True
    return out


def _overlapping_cover(seed: int) -> tuple[sp.csr_matrix, np.ndarray | None]:
    """Candidates drawn from a few coverage sets (many identical, many nested), some empty."""
    rng = np.random.default_rng(seed)
    n_rows, n_sets = int(rng.integers(1, 16)), int(rng.integers(1, 12))
    base = (rng.random((n_rows, n_sets)) < rng.uniform(0.1, 0.7)).astype(bool)
    for s in range(1, n_sets):  # nest some sets in others
        if rng.random() < 0.4:
            base[:, s] |= base[:, int(rng.integers(0, s))]
    cols = rng.integers(0, n_sets, size=int(rng.integers(1, 60)))
    cover = sp.csr_matrix(base[:, cols])
    cost = None if seed % 2 else rng.integers(1, 4, size=len(cols)).astype(float)
    return cover, cost


@pytest.mark.parametrize("block", [1, 7, 4_000_000])
@pytest.mark.parametrize("seed", range(40))
def test_dominance_by_blocks_equals_the_full_product(
    seed: int, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The blockwise reduction (identical sets by hashing, then a sparse product one block
    of candidates at a time) drops exactly the candidates the full product dropped."""
    import planning.locate.models as locate

    monkeypatch.setattr(locate, "DOMINANCE_BLOCK", block)
    cover, cost = _overlapping_cover(seed)
    dropped, checked = locate._dominated(cover, cost)
    assert checked
    assert dropped.tolist() == _dominated_by_product(cover, cost).tolist()


@pytest.mark.parametrize("seed", range(10))
def test_dominance_skipped_above_its_budget_keeps_the_answer_and_says_so(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over the pair budget only identical and empty sets are dropped (each kept one stands
    for the dropped), the optimum is unchanged and the solution carries the note."""
    import planning.locate.models as locate

    inst = instance(seed, n_j=7, cost=True)
    full = solve_mclp(inst, 15.0, p=2)
    monkeypatch.setattr(locate, "DOMINANCE_PAIRS", 0)
    cover, cost = _overlapping_cover(seed)
    dropped, checked = locate._dominated(cover, cost)
    reference = _dominated_by_product(cover, cost)
    cols = cover.tocsc()
    cols.sort_indices()
    distinct = {cols[:, [j]].indices.tobytes() for j in range(cols.shape[1]) if cols[:, j].nnz}
    assert checked == (len(distinct) <= 1)  # with one set left there is nothing to compare
    assert not (dropped & ~reference).any()
    for j in np.flatnonzero(dropped):
        same = [
            k
            for k in np.flatnonzero(~dropped)
            if (cols[:, k] != cols[:, j]).nnz == 0 and (cost is None or cost[k] <= cost[j])
        ]
        assert same or cols[:, j].nnz == 0
    skipped = solve_mclp(inst, 15.0, p=2)
    assert skipped.objective == pytest.approx(full.objective)
    assert locate.DOMINANCE_SKIPPED_NOTE in skipped.notes
    assert locate.DOMINANCE_SKIPPED_NOTE not in full.notes
