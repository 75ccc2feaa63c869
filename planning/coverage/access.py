"""Accessibility and equity: capacity-aware E2SFCA scores and a Gini index across townships.

Enhanced two-step floating catchment area (Luo & Qi 2009), within each
standard's time ``d0`` and with the step weights 1.00 / 0.68 / 0.22 for the
first, second and last third of ``d0``:

* step 1, for every site j:  R_j = S_j / sum_i W(t_ij) P_i   (i with t_ij <= d0)
* step 2, for every point i: A_i = sum_j W(t_ij) R_j          (j with t_ij <= d0)

where S_j is the site's capacity and P_i the demand weight. Scores are given
per 1,000 people. A site without a capacity takes the median capacity of its
kind and level in the data, else 1 (the site counts once); the result says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from geo.network import RoadNetwork
from geo.projection import to_metric
from planning.coverage.compute import CoverageOptions, qualifying_sites
from planning.coverage.standards import Standard
from planning.network.prepared import prepared_for

STEP_WEIGHTS = ((1 / 3, 1.0), (2 / 3, 0.68), (1.0, 0.22))


def step_weight(t: npt.NDArray[np.float64], d0: float) -> npt.NDArray[np.float64]:
    """E2SFCA step weight of travel times ``t`` within ``d0`` (0 beyond ``d0``)."""
    out = np.zeros_like(t, dtype="float64")
    lower = -np.inf
    for share, w in STEP_WEIGHTS:
        out[(t > lower) & (t <= share * d0)] = w
        lower = share * d0
    return out


def e2sfca(
    od: sp.coo_matrix, population: npt.ArrayLike, capacity: npt.ArrayLike, d0: float
) -> npt.NDArray[np.float64]:
    """Scores A_i from a sparse (demand x sites) matrix of times within ``d0``.

    ``od`` holds times only for reached pairs (a time of 0 must be stored as
    an explicit entry).
    """
    pop = np.asarray(population, dtype="float64")
    cap = np.asarray(capacity, dtype="float64")
    w = step_weight(np.asarray(od.data, dtype="float64"), d0)
    weighted = sp.csr_matrix((w, (od.row, od.col)), shape=od.shape)
    demand_on_site = np.asarray(weighted.T @ pop).ravel()
    ratio = np.divide(cap, demand_on_site, out=np.zeros_like(cap), where=demand_on_site > 0)
    return np.asarray(weighted @ ratio).ravel()


def gini(values: npt.ArrayLike, weights: npt.ArrayLike | None = None) -> float | None:
    """Weighted Gini index of non-negative values (0 = equal, 1 = all in one place)."""
    x = np.asarray(values, dtype="float64")
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype="float64")
    keep = np.isfinite(x) & (w > 0)
    x, w = x[keep], w[keep]
    if len(x) == 0 or w.sum() == 0:
        return None
    mean = np.average(x, weights=w)
    if mean == 0:
        return 0.0
    # sum_i sum_j w_i w_j |x_i - x_j| in O(n log n): sort, then cumulative sums
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    w_before = np.cumsum(w) - w
    xw_before = np.cumsum(w * x) - w * x
    pair_sum = 2.0 * float(np.sum(w * (x * w_before - xw_before)))
    return pair_sum / (2.0 * float(w.sum()) ** 2 * float(mean))


@dataclass(frozen=True)
class AccessResult:
    """Scores per demand point and per township, inequality per standard."""

    points: pd.DataFrame
    townships: pd.DataFrame
    standards: pd.DataFrame
    notes: tuple[str, ...]


def capacities(sites: pd.DataFrame) -> tuple[npt.NDArray[np.float64], int]:
    """Site capacities with the stated defaults filled in; also how many were filled."""
    cap = pd.to_numeric(sites["capacity"], errors="coerce").astype("float64")
    med = cap.groupby([sites["kind"], sites["level"]]).transform("median")
    missing = int(cap.isna().sum())
    filled = cap.fillna(med).fillna(1.0)
    return np.asarray(filled, dtype=np.float64), missing


def compute_access(
    sites: pd.DataFrame,
    demand: pd.DataFrame,
    standards: tuple[Standard, ...],
    networks: Mapping[str, RoadNetwork],
    options: CoverageOptions | None = None,
) -> AccessResult:
    """E2SFCA scores and township inequality for every standard."""
    opts = options or CoverageOptions()
    pop = demand["weight"].to_numpy(dtype="float64")
    frames, summary = [], []
    filled_total = 0
    for std in standards:
        net = networks[std.mode]
        counted, _ = qualifying_sites(sites, std, after_completion=opts.after_completion)
        cap, filled = capacities(counted)
        filled_total += filled
        d0 = std.max_minutes * 60.0
        prep = prepared_for(
            net, demand["lon"], demand["lat"], max_snap_m=opts.max_snap_m, walk_kph=opts.walk_kph
        )
        # each site's reach is searched once and kept with the prepared network
        od = prep.reach(to_metric(counted["lon"], counted["lat"], net.crs), d0)
        matrix = sp.coo_matrix((od.seconds, (od.origin, od.destination)), shape=od.shape)
        score = e2sfca(matrix, pop, cap, d0) * 1000.0
        frames.append(
            pd.DataFrame(
                {
                    "demand_id": demand["demand_id"].to_numpy(dtype=object),
                    "kind": std.kind,
                    "level": std.level,
                    "score_per_1000": score,
                    "weight": pop,
                    "county": demand["county"].to_numpy(dtype=object),
                    "township": demand["township"].to_numpy(dtype=object),
                }
            )
        )
    points = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    townships = _townships(points)
    for std in standards:
        t = townships[(townships["kind"] == std.kind) & (townships["level"] == std.level)]
        summary.append(
            {
                "kind": std.kind,
                "level": std.level,
                "gini_townships": gini(t["score_per_1000"], t["weight"]) if len(t) else None,
                "townships": len(t),
            }
        )
    notes = (
        (
            f"{filled_total} 个站点未填容量，按同类同级中位数（无则按 1）计 / "
            f"{filled_total} sites had no capacity: the median of their kind and level was used "
            "(1 where none was known)",
        )
        if filled_total
        else ()
    )
    return AccessResult(points, townships, pd.DataFrame(summary), notes)


def _townships(points: pd.DataFrame) -> pd.DataFrame:
    if points.empty:
        return pd.DataFrame(
            columns=["county", "township", "kind", "level", "weight", "score_per_1000"]
        )
    p = points.assign(
        county=points["county"].fillna("—"),
        township=points["township"].fillna("—"),
        ws=points["score_per_1000"] * points["weight"],
    )
    g = (
        p.groupby(["county", "township", "kind", "level"], sort=True)
        .agg(weight=("weight", "sum"), ws=("ws", "sum"))
        .reset_index()
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        g["score_per_1000"] = np.where(g["weight"] > 0, g["ws"] / g["weight"], 0.0)
    return g.drop(columns="ws")
