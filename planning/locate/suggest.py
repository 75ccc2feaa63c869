"""Suggestions for new sites: build the instance, solve, order, explain.

The existing sites of the planned kind and level stay open. Every suggested
site is explained: the township it lies in (or nearest), the demand it newly
covers (weight and share, counted in build order), the gap clusters it closes,
the travel time to its farthest covered point, and its nearest existing site
of that level.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from geo.bounds import BUDGET, MATRIX_COST, check_value
from geo.errors import InputError
from geo.network import RoadNetwork
from geo.numbers import parse_number
from geo.projection import to_metric, utm_crs
from geo.textio import read_table
from geo.vocab import normalise_key
from planning.coverage.access import capacities
from planning.coverage.compute import AFTER_COMPLETION, OPERATING
from planning.locate.models import (
    Instance,
    Solution,
    solve_cmclp,
    solve_lscp,
    solve_mclp,
    solve_pmedian,
)
from planning.network.prepared import prepared_for
from planning.network.travel import nearest_site

METHODS = ("mclp", "lscp", "pmedian", "cmclp")
EXPLAIN_COLUMNS = [
    "order",
    "candidate_id",
    "name",
    "source",
    "lon",
    "lat",
    "county",
    "township",
    "newly_covered_weight",
    "newly_covered_share",
    "demand_points_newly_covered",
    "gaps_closed",
    "farthest_covered_minutes",
    "nearest_existing_site_id",
    "nearest_existing_minutes",
    "nearest_existing_km",
]
CURVE_POINTS = 26  # at most this many p values on the coverage-count curve
PMEDIAN_SEARCH_FACTOR = 3.0


@dataclass(frozen=True)
class SuggestRequest:
    """What to plan: kind, level, standard, model, and how many or how much."""

    kind: str
    level: str
    max_minutes: float
    method: Literal["mclp", "lscp", "pmedian", "cmclp"] = "mclp"
    mode: str = "drive"
    count: int | None = None
    budget: float | None = None
    time_limit: float = 60.0
    after_completion: bool = False
    heuristic: bool = False
    curve: bool = True
    #: LSCP only: fewest sites to reach this covered share (None: cover all reachable demand)
    target_share: float | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(
                f"未知模型 {self.method}", f"unknown method {self.method!r} (use {METHODS})"
            )
        if (
            self.method in ("mclp", "cmclp", "pmedian")
            and self.count is None
            and self.budget is None
        ):
            raise InputError(
                "该模型需要站点数 --count 或预算 --budget",
                f"{self.method} needs --count or --budget",
            )
        if self.method in ("pmedian", "cmclp") and self.count is None:
            raise InputError("该模型需要站点数 --count", f"{self.method} needs --count")
        if self.count is not None and self.count < 0:
            raise InputError("站点数不能为负", "count must be >= 0")
        if self.count is not None and self.budget is not None:
            raise InputError(
                "站点数 --count 与预算 --budget 只能给一个", "give --count or --budget, not both"
            )
        if self.budget is not None:
            check_value(self.budget, BUDGET)
        # on a cost matrix the limit is in the matrix's own unit (metres in spopt's
        # San Francisco example), so it is bounded as the matrix is
        if check_value(self.max_minutes, MATRIX_COST) <= 0:
            raise InputError("时间标准须为有限的正数", "max minutes must be a finite number > 0")
        if not (np.isfinite(self.time_limit) and self.time_limit > 0):
            raise InputError("求解时限须为正数（秒）", "the time limit must be > 0 seconds")
        if self.target_share is not None and (
            self.method != "lscp" or not 0.0 <= self.target_share <= 1.0
        ):
            raise InputError(
                "目标覆盖率（0 到 1）只用于 LSCP", "a target share (0..1) is for LSCP only"
            )
        if self.method == "cmclp" and self.heuristic:
            raise InputError(
                "容量约束模型只有精确解法（HiGHS），请去掉 --heuristic",
                "the capacitated model is solved by the MIP only; drop --heuristic",
            )


@dataclass(frozen=True)
class Suggestion:
    """A solved suggestion with its explanations, curve and what it was built from."""

    request: SuggestRequest
    solution: Solution
    candidates: pd.DataFrame
    existing: pd.DataFrame
    selected: pd.DataFrame
    curve: pd.DataFrame
    notes: tuple[str, ...] = field(default=())

    @property
    def covered_share_before(self) -> float | None:
        """Share of demand weight covered before (existing sites)."""
        tw = self.solution.total_weight
        return self.solution.covered_before / tw if tw > 0 else None

    @property
    def covered_share_after(self) -> float | None:
        """Share of demand weight covered with the suggested sites."""
        tw = self.solution.total_weight
        return self.solution.covered_after / tw if tw > 0 else None

    @property
    def served_share_before(self) -> float | None:
        """Capacitated model: share of demand weight the existing sites serve within their
        capacities (None for the other models)."""
        tw, served = self.solution.total_weight, self.solution.served_before
        return served / tw if served is not None and tw > 0 else None

    @property
    def served_share_after(self) -> float | None:
        """Capacitated model: share served within capacities with the new sites."""
        tw, served = self.solution.total_weight, self.solution.served_after
        return served / tw if served is not None and tw > 0 else None

    def solution_json(self) -> dict[str, Any]:
        """The ``solution.json`` document (DESIGN.md), plus curve and reductions."""
        sol = self.solution
        ids = self.candidates["candidate_id"].to_numpy(dtype=object)
        return {
            "method": sol.method,
            "status": sol.status,
            "objective": sol.objective,
            "bound": sol.bound,
            "gap": sol.gap,
            "seconds": round(sol.seconds, 4),
            "selected": [str(ids[j]) for j in sol.selected],
            "build_order": self.selected["candidate_id"].astype(str).tolist(),
            "covered_share_before": self.covered_share_before,
            "covered_share_after": self.covered_share_after,
            "covered_weight_before": sol.covered_before,
            "covered_weight_after": sol.covered_after,
            "served_share_before": self.served_share_before,
            "served_share_after": self.served_share_after,
            "served_weight_before": sol.served_before,
            "served_weight_after": sol.served_after,
            "total_weight": sol.total_weight,
            "kind": self.request.kind,
            "level": self.request.level,
            "max_minutes": self.request.max_minutes,
            "count": self.request.count,
            "budget": self.request.budget,
            "candidates": len(self.candidates),
            "existing_sites": len(self.existing),
            "reductions": sol.reductions,
            "curve": [
                {
                    k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                    for k, v in r.items()
                }
                for r in self.curve.astype(object).to_dict("records")
            ],
            "notes": list(self.notes) + list(sol.notes),
        }


def existing_sites(
    sites: pd.DataFrame, kind: str, level: str, after_completion: bool
) -> pd.DataFrame:
    """Sites of this kind and level that are open (or will be, after completion)."""
    statuses = AFTER_COMPLETION if after_completion else OPERATING
    mask = (sites["kind"] == kind) & (sites["level"] == level) & sites["status"].isin(statuses)
    return sites[mask].reset_index(drop=True)


def network_instance(
    net: RoadNetwork,
    demand: pd.DataFrame,
    candidates: pd.DataFrame,
    existing: pd.DataFrame,
    cutoff_minutes: float,
    *,
    capacity: bool = False,
    max_snap_m: float = 1000.0,
    walk_kph: float = 5.0,
) -> tuple[Instance, list[str]]:
    """Instance from travel times on a network (the prepared network's reach), and notes."""
    dest_lon = np.concatenate([candidates["lon"].to_numpy(float), existing["lon"].to_numpy(float)])
    dest_lat = np.concatenate([candidates["lat"].to_numpy(float), existing["lat"].to_numpy(float)])
    prep = prepared_for(net, demand["lon"], demand["lat"], max_snap_m=max_snap_m, walk_kph=walk_kph)
    # candidate and site reaches are kept with the prepared network: a second
    # suggestion on the same data searches only new positions
    od = prep.reach(to_metric(dest_lon, dest_lat, net.crs), cutoff_minutes * 60.0)
    minutes = sp.csr_matrix((od.seconds / 60.0, (od.origin, od.destination)), shape=od.shape)
    return _instance(minutes, demand, candidates, existing, capacity)


def _column(candidates: pd.DataFrame, name: str) -> npt.NDArray[np.float64]:
    """A numeric candidate column; NaN where not given (or the column is absent)."""
    if name not in candidates:
        return np.full(len(candidates), np.nan)
    return pd.to_numeric(candidates[name], errors="coerce").to_numpy(dtype=float)


def _instance(
    minutes: sp.csr_matrix,
    demand: pd.DataFrame,
    candidates: pd.DataFrame,
    existing: pd.DataFrame,
    capacity: bool,
) -> tuple[Instance, list[str]]:
    """The model instance, and notes on the defaults it had to take."""
    notes: list[str] = []
    cap = None
    if capacity:
        ex_cap, _ = capacities(existing) if len(existing) else (np.zeros(0), 0)
        cand_cap = _column(candidates, "capacity")
        missing = ~np.isfinite(cand_cap)
        known = ex_cap[np.isfinite(ex_cap) & (ex_cap > 0)]
        if missing.any():
            if not len(known):
                raise InputError(
                    "容量约束模型需要候选点容量（候选点文件的 capacity 列），或带容量的现有站点",
                    "the capacitated model needs candidate capacities (column capacity of the "
                    "candidates file) or existing sites with a capacity",
                )
            default = float(np.median(known))
            cand_cap = np.where(missing, default, cand_cap)
            notes.append(
                f"{int(missing.sum())} 个候选点未给容量，按现有站点容量中位数 {default:g} 计 / "
                f"{int(missing.sum())} candidates without a capacity take the existing sites' "
                f"median capacity, {default:g}"
            )
        cap = np.concatenate([cand_cap, ex_cap])
    cost = _column(candidates, "cost")
    inst = Instance(
        minutes,
        demand["weight"].to_numpy(float),
        len(candidates),
        cost=np.where(np.isfinite(cost), cost, 1.0),
        capacity=cap,
    )
    return inst, notes


def read_cost_matrix(
    path: str | Path,
    demand: pd.DataFrame,
    candidates: pd.DataFrame,
    existing: pd.DataFrame,
    cutoff_minutes: float,
    *,
    capacity: bool = False,
) -> tuple[Instance, list[str]]:
    """Instance from a long-form cost matrix ``origin_id, destination_id, minutes``, and notes.

    Origins are demand ids; destinations are candidate ids or existing site ids.
    Rows naming unknown ids, and a pair given twice, are errors (file, row,
    column); pairs over the cutoff are left out; a missing pair means "not
    reachable" (demand points with no pair at all are counted in the notes).
    """
    source = str(path)
    raw = read_table(Path(path).read_bytes(), source=source)
    keys = [normalise_key(h) for h in raw.header]
    need = {
        "origin_id": ("origin_id", "origin", "起点"),
        "destination_id": ("destination_id", "destination", "终点"),
        "minutes": ("minutes", "time", "cost", "分钟", "时间"),
    }
    cols: dict[str, int] = {}
    for fld, names in need.items():
        folded = {normalise_key(n) for n in names}
        for i, k in enumerate(keys):
            if k in folded and fld not in cols:
                cols[fld] = i
        if fld not in cols:
            raise InputError(
                f"成本矩阵缺少列 {fld}",
                f"cost matrix lacks column {fld}",
                file=source,
                row=raw.header_row,
            )
    origin_index = {str(v): i for i, v in enumerate(demand["demand_id"])}
    dest_ids = [*map(str, candidates["candidate_id"]), *map(str, existing["site_id"])]
    dest_index = {v: i for i, v in enumerate(dest_ids)}
    rows, cols_out, vals = [], [], []
    seen: dict[tuple[str, str], int] = {}
    candidate_ids = set(map(str, candidates.get("candidate_id", [])))

    def bad(line: int, field: str, zh: str, en: str) -> InputError:
        return InputError(zh, en, file=source, row=line, column=raw.header[cols[field]])

    for line, cells in raw.records:
        o = (cells[cols["origin_id"]] or "").strip() if cols["origin_id"] < len(cells) else ""
        d = (
            (cells[cols["destination_id"]] or "").strip()
            if cols["destination_id"] < len(cells)
            else ""
        )
        t = cells[cols["minutes"]] if cols["minutes"] < len(cells) else None
        if o not in origin_index:
            raise bad(line, "origin_id", f"未知的起点编号 {o}", f"unknown origin id {o!r}")
        if d not in dest_index:
            if d in candidate_ids or not d:
                raise bad(
                    line, "destination_id", f"未知的终点编号 {d}", f"unknown destination id {d!r}"
                )
            continue  # a site of another kind or level: not part of this plan
        try:
            value = parse_number(t or "")
        except ValueError:
            raise bad(
                line, "minutes", f"时间不是数字：{t}", f"minutes not a number: {t!r}"
            ) from None
        if value < 0:
            raise bad(line, "minutes", "时间不能为负", "minutes must be >= 0")
        if value > MATRIX_COST.high:
            raise bad(
                line,
                "minutes",
                f"时间 {t} 超过上限 {MATRIX_COST.high:g}；不可达的点对不要列出",
                f"minutes {t!r} exceed the limit of {MATRIX_COST.high:g}; leave unreachable "
                "pairs out",
            )
        if (o, d) in seen:
            raise bad(
                line,
                "origin_id",
                f"起点 {o} 到终点 {d} 的时间给了两次（第 {seen[(o, d)]} 行和第 {line} 行）",
                f"the pair {o!r} -> {d!r} is given twice (rows {seen[(o, d)]} and {line})",
            )
        seen[(o, d)] = line
        if value <= cutoff_minutes:
            rows.append(origin_index[o])
            cols_out.append(dest_index[d])
            vals.append(value)
    shape = (len(demand), len(dest_ids))
    r, c, v = (
        np.asarray(rows, dtype=np.int64),
        np.asarray(cols_out, dtype=np.int64),
        np.asarray(vals, dtype=float),
    )
    minutes = sp.csr_matrix((v, (r, c)), shape=shape)
    inst, notes = _instance(minutes, demand, candidates, existing, capacity)
    absent = len(demand) - len({origin for origin, _ in seen})
    if absent:
        notes.append(
            f"成本矩阵中没有 {absent} 个需求点的任何记录，按不可达处理 / "
            f"{absent} demand points have no row in the cost matrix: taken as not reachable"
        )
    return inst, notes


def matrix_destinations(path: str | Path) -> list[str]:
    """Destination ids of a long-form cost matrix, in first-seen order."""
    raw = read_table(Path(path).read_bytes(), source=str(path))
    keys = [normalise_key(h) for h in raw.header]
    idx = next(
        (i for i, k in enumerate(keys) if k in ("destinationid", "destination", "终点")), None
    )
    if idx is None:
        raise InputError(
            "成本矩阵缺少列 destination_id",
            "cost matrix lacks column destination_id",
            file=str(path),
            row=raw.header_row,
        )
    seen = dict.fromkeys((c[idx] or "").strip() for _, c in raw.records if idx < len(c))
    return [d for d in seen if d]


def _solve(inst: Instance, req: SuggestRequest, count: int | None, time_limit: float) -> Solution:
    method: Literal["exact", "heuristic"] = "heuristic" if req.heuristic else "exact"
    if req.method == "mclp":
        if count is None:
            return solve_mclp(
                inst, req.max_minutes, budget=req.budget, method=method, time_limit=time_limit
            )
        return solve_mclp(inst, req.max_minutes, p=count, method=method, time_limit=time_limit)
    if req.method == "lscp":
        return solve_lscp(
            inst,
            req.max_minutes,
            target_share=req.target_share,
            method=method,
            time_limit=time_limit,
        )
    if req.method == "pmedian":
        return solve_pmedian(
            inst,
            p=int(count or 0),
            penalty_minutes=req.max_minutes * PMEDIAN_SEARCH_FACTOR,
            method=method,
            time_limit=time_limit,
            max_minutes=req.max_minutes,
        )
    return solve_cmclp(inst, req.max_minutes, p=int(count or 0), time_limit=time_limit)


def build_order(
    inst: Instance,
    req: SuggestRequest,
    selected: tuple[int, ...],
    served_by: tuple[float, ...] = (),
) -> list[int]:
    """Phasing order: greedy on the chosen set (each step adds the most), never un-building.

    For covering models the step gain is newly covered weight; for p-median it
    is the reduction of total weighted time; for the capacitated model the
    sites are taken by the weight each serves in the solution, most first.
    """
    if req.method == "cmclp" and len(served_by) == len(selected):
        ranked = sorted(zip(selected, served_by, strict=True), key=lambda js: (-js[1], js[0]))
        return [j for j, _ in ranked]
    remaining = list(selected)
    order: list[int] = []
    w = inst.weights
    if req.method == "pmedian":
        m = inst.minutes.tocsc()
        penalty = req.max_minutes * PMEDIAN_SEARCH_FACTOR
        cur = np.full(len(w), penalty)
        ex = m[:, inst.n_candidates :].tocoo()
        np.minimum.at(cur, ex.row, np.minimum(ex.data, penalty))
        while remaining:
            gains = []
            for j in remaining:
                col = m[:, j].tocoo()
                gains.append(float((w[col.row] * np.maximum(cur[col.row] - col.data, 0)).sum()))
            j = remaining[int(np.argmax(gains))]
            col = m[:, j].tocoo()
            cur[col.row] = np.minimum(cur[col.row], col.data)
            order.append(j)
            remaining.remove(j)
        return order
    cover = inst.cover(req.max_minutes).tocsc()
    hit = np.asarray(cover[:, inst.n_candidates :].sum(axis=1)).ravel() > 0
    while remaining:
        gains = [float(w[(cover[:, j].toarray().ravel() > 0) & ~hit].sum()) for j in remaining]
        j = remaining[int(np.argmax(gains))]
        hit |= cover[:, j].toarray().ravel() > 0
        order.append(j)
        remaining.remove(j)
    return order


def _explain(
    inst: Instance,
    req: SuggestRequest,
    order: list[int],
    demand: pd.DataFrame,
    candidates: pd.DataFrame,
    existing: pd.DataFrame,
    gaps: gpd.GeoDataFrame | None,
    net: RoadNetwork | None,
) -> pd.DataFrame:
    cover = inst.cover(req.max_minutes).tocsc()
    minutes = inst.minutes.tocsc()
    w = inst.weights
    total = float(w.sum())
    hit = np.asarray(cover[:, inst.n_candidates :].sum(axis=1)).ravel() > 0
    ids = demand["demand_id"].astype(str).to_numpy()
    gap_members: list[tuple[str, set[str]]] = []
    if gaps is not None and len(gaps):
        mine = gaps[(gaps["kind"] == req.kind) & (gaps["level"] == req.level)]
        gap_members = [
            (str(g), set(str(m).split(",")))
            for g, m in zip(mine["gap_id"], mine["demand_ids"], strict=True)
        ]
    crs = utm_crs(float(demand["lon"].median()), float(demand["lat"].median()))
    dx, dy = to_metric(demand["lon"], demand["lat"], crs)
    nearest_existing: dict[int, tuple[str | None, float | None, float | None]] = {}
    if len(existing) and order:
        cand = candidates.iloc[order]
        cx, cy = to_metric(cand["lon"], cand["lat"], crs)
        ex, ey = to_metric(existing["lon"], existing["lat"], crs)
        straight = np.hypot(cx[:, None] - ex[None, :], cy[:, None] - ey[None, :])
        res = None
        if net is not None:
            res = nearest_site(
                net,
                to_metric(cand["lon"], cand["lat"], net.crs),
                to_metric(existing["lon"], existing["lat"], net.crs),
                cutoff_s=req.max_minutes * 60.0 * 6,
            )
        for pos, j in enumerate(order):
            k = int(np.argmin(straight[pos]))
            if res is not None and res.reached[pos]:
                site = int(res.site[pos])
                nearest_existing[j] = (
                    str(existing["site_id"].iloc[site]),
                    round(float(res.seconds[pos]) / 60.0, 2),
                    round(float(straight[pos, site] / 1000), 3),
                )
            else:
                nearest_existing[j] = (
                    str(existing["site_id"].iloc[k]),
                    None,
                    float(straight[pos, k] / 1000),
                )
    rows = []
    for step, j in enumerate(order, start=1):
        col = cover[:, j].toarray().ravel() > 0
        new = col & ~hit
        hit |= col
        times = minutes[:, j].toarray().ravel()
        within = col & np.isfinite(times)
        farthest = float(times[within].max()) if within.any() else None
        new_ids = set(ids[new])
        closed = [g for g, members in gap_members if members & new_ids]
        info = {str(k): v for k, v in candidates.iloc[j].to_dict().items()}
        township = info.get("township")
        if (
            township is None
            or (isinstance(township, float) and np.isnan(township))
            or pd.isna(township)
        ):
            cx, cy = to_metric([info["lon"]], [info["lat"]], crs)
            near = int(np.argmin(np.hypot(dx - cx[0], dy - cy[0])))
            township, county = demand["township"].iloc[near], demand["county"].iloc[near]
        else:
            county = info.get("county")
        ne = nearest_existing.get(j, (None, None, None))
        rows.append(
            {
                "order": step,
                "candidate_id": str(info["candidate_id"]),
                "name": info["name"],
                "source": info["source"],
                "lon": float(info["lon"]),
                "lat": float(info["lat"]),
                "county": county,
                "township": township,
                "newly_covered_weight": float(w[new].sum()),
                "newly_covered_share": float(w[new].sum() / total) if total > 0 else None,
                "demand_points_newly_covered": int(new.sum()),
                "gaps_closed": ",".join(closed),
                "farthest_covered_minutes": None if farthest is None else round(farthest, 2),
                "nearest_existing_site_id": ne[0],
                "nearest_existing_minutes": ne[1],
                "nearest_existing_km": ne[2],
            }
        )
    return pd.DataFrame(rows, columns=EXPLAIN_COLUMNS)


def _curve(inst: Instance, req: SuggestRequest, upto: int, time_limit: float) -> pd.DataFrame:
    """Covered share for p = 0..upto (at most ``CURVE_POINTS`` values of p, evenly spread),
    each an optimum of the model where the time allows; ``time_limit`` is shared among them.

    For MCLP (and LSCP and p-median, whose curves are drawn with MCLP) the
    curve is the best coverage for each p; for the capacitated model each
    point is its own optimum, with the weight it serves and the coverage of
    the sites it opens.
    """
    rows = []
    ps = np.unique(np.round(np.linspace(0, upto, min(upto + 1, CURVE_POINTS))).astype(int))
    total = float(inst.weights.sum())
    capacitated = req.method == "cmclp"
    started = time.perf_counter()
    for k, p in enumerate(ps):
        left = time_limit - (time.perf_counter() - started)
        per = max(left / (len(ps) - k), 0.2)
        if capacitated:
            sol = solve_cmclp(inst, req.max_minutes, p=int(p), time_limit=per)
            covered = sol.covered_after
        else:
            sol = solve_mclp(inst, req.max_minutes, p=int(p), time_limit=per)
            covered = sol.objective
        row: dict[str, Any] = {
            "p": int(p),
            "covered_weight": covered,
            "covered_share": covered / total if total > 0 else None,
            "status": sol.status,
            "gap": sol.gap,
        }
        if capacitated:
            row["served_weight"] = sol.objective
            row["served_share"] = sol.objective / total if total > 0 else None
        rows.append(row)
    return pd.DataFrame(rows, columns=_curve_columns(capacitated))


def _curve_columns(capacitated: bool) -> list[str]:
    head = ["p", "covered_weight", "covered_share"]
    return (
        [*head, "served_weight", "served_share", "status", "gap"]
        if capacitated
        else [
            *head,
            "status",
            "gap",
        ]
    )


def suggest(
    req: SuggestRequest,
    sites: pd.DataFrame,
    demand: pd.DataFrame,
    candidates: pd.DataFrame,
    *,
    net: RoadNetwork | None = None,
    cost_matrix: str | Path | None = None,
    gaps: gpd.GeoDataFrame | None = None,
) -> Suggestion:
    """Solve one suggestion request on a network or a cost matrix, and explain it."""
    started = time.perf_counter()
    if not len(demand):
        raise InputError("没有需求点", "there are no demand points")
    if not len(candidates):
        raise InputError("没有候选点", "there are no candidate sites")
    existing = existing_sites(sites, req.kind, req.level, req.after_completion)
    if not float(pd.to_numeric(demand["weight"], errors="coerce").fillna(0).sum()) > 0:
        raise InputError(
            "需求点的人数（权重）之和为 0，无从比较选址方案",
            "the demand weights sum to 0: there is nothing to cover",
        )
    if req.budget is not None:
        missing = ~np.isfinite(_column(candidates, "cost"))
        if missing.any():
            n = int(missing.sum())
            raise InputError(
                f"预算模式需要每个候选点的成本（{n} 个候选点没有成本；候选点文件的 cost 列）",
                f"the budget form needs a cost for every candidate ({n} have none; column cost "
                "of the candidates file)",
            )
    cutoff = req.max_minutes * (PMEDIAN_SEARCH_FACTOR if req.method == "pmedian" else 1.0)
    capacity = req.method == "cmclp"
    if cost_matrix is not None:
        inst, inst_notes = read_cost_matrix(
            cost_matrix, demand, candidates, existing, cutoff, capacity=capacity
        )
    elif net is not None:
        inst, inst_notes = network_instance(
            net, demand, candidates, existing, cutoff, capacity=capacity
        )
    else:
        raise InputError("需要路网或成本矩阵", "a road network or a cost matrix is needed")
    solution = _solve(inst, req, req.count, req.time_limit)
    order = build_order(inst, req, solution.selected, solution.served_by)
    explained = _explain(inst, req, order, demand, candidates, existing, gaps, net)
    if req.method == "cmclp":
        served = dict(zip(solution.selected, solution.served_by, strict=True))
        explained["served_weight"] = [served.get(j, 0.0) for j in order]
    upto = req.count if req.count is not None else len(solution.selected)
    upto = min(upto, len(candidates))
    curve = (
        _curve(inst, req, upto, max(req.time_limit - (time.perf_counter() - started), 1.0))
        if req.curve
        else pd.DataFrame(columns=_curve_columns(req.method == "cmclp"))
    )
    notes = list(inst_notes)
    if net is not None and net.facts.is_proxy:
        from geo.proxy import PROXY_LABEL

        notes.append(PROXY_LABEL)
    if req.count is not None and req.count > len(candidates):
        notes.append(
            f"要求 {req.count} 个新站点，但只有 {len(candidates)} 个候选点 / "
            f"{req.count} new sites asked for, but there are only {len(candidates)} candidates"
        )
    if not solution.selected:
        notes.append(
            "无需新增站点：新增任何候选点都不能改进目标（或数量/预算为 0） / "
            "no new site: no candidate improves the objective (or the count/budget is 0)"
        )
    not_coverable = solution.reductions.get("weight_not_coverable")
    if req.method == "lscp" and not_coverable and req.target_share is None:
        notes.append(
            f"有 {not_coverable:g} 人（权重）在 {req.max_minutes:g} 分钟内没有任何候选点或现有站点"
            f"可达，LSCP 只覆盖可达的需求 / weight {not_coverable:g} is within "
            f"{req.max_minutes:g} min of no candidate and no existing site; LSCP covers the "
            "reachable demand only"
        )
    if req.method == "cmclp":
        notes.append(
            "覆盖率按标准时间内可达计（与覆盖分析页相同）；容量模型的目标是在站点容量之内"
            "实际服务的人数，可达但超出容量的需求不计为已服务 / coverage counts demand "
            "reached within the standard (as on the coverage page); the capacitated model's "
            "objective is the weight served within the sites' capacities, which leaves out "
            "demand that is reached but beyond a site's capacity"
        )
    elif req.curve:
        notes.append(
            "覆盖-数量曲线为各 p 的 MCLP 最优解；建设顺序为在最优方案上的贪心排序 / "
            "the curve is the MCLP optimum for each p; "
            "the build order is greedy on the optimal set"
        )
    return Suggestion(req, solution, candidates, existing, explained, curve, tuple(notes))
