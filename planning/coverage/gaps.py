"""Gaps as objects: clusters of uncovered demand, with the facts that explain them."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import Delaunay, QhullError, cKDTree

from geo.network import IntArray
from geo.projection import to_lonlat, to_metric, utm_crs
from geo.threads import side_by_side
from planning.coverage.compute import CoverageResult

GAP_COLUMNS = [
    "gap_id",
    "rank",
    "kind",
    "level",
    "mode",
    "max_minutes",
    "rule",
    "weight",
    "share_of_demand",
    "points",
    "demand_ids",
    "counties",
    "townships",
    "nearest_site_id",
    "nearest_minutes",
    "lon",
    "lat",
]


@dataclass(frozen=True)
class GapOptions:
    """When uncovered points belong to one gap, and how a gap is drawn.

    Two uncovered points join one gap when they are closer (straight line)
    than the distance travelled in the standard's time at the mode's
    reference speed, divided by the detour factor: one new site between them
    could then plausibly serve both. Reference speeds: 40 km/h driving (the
    proxy network's speed), 5 km/h walking. A gap is drawn as the union of
    discs of half the link distance (at least ``buffer_m``) around its points.
    """

    reference_kph: tuple[tuple[str, float], ...] = (("drive", 40.0), ("walk", 5.0))
    detour: float = 1.4
    buffer_m: float = 50.0

    def link_m(self, mode: str, max_minutes: float) -> float:
        """Link distance in metres for a standard."""
        kph = dict(self.reference_kph).get(mode, 5.0)
        return max_minutes / 60.0 * kph * 1000.0 / self.detour


def find_gaps(
    coverage: CoverageResult,
    demand: pd.DataFrame,
    options: GapOptions | None = None,
    *,
    numbering: Sequence[tuple[str, str]] | None = None,
) -> gpd.GeoDataFrame:
    """Cluster the uncovered demand of every standard into ranked gaps.

    Each gap carries its uncovered weight, share of all demand, the points,
    counties and townships it spans, the nearest qualifying site of any of its
    points and that time (empty where none was reached), the rule that made it
    a gap, and an outline. Within each standard gaps are ranked by uncovered
    weight, largest first; ``gap_id`` is ``G<standard number>-<rank>``, the
    standard numbered by its place in ``numbering`` (the full list of
    (kind, level), so that a gap found for one standard alone keeps the id it has
    in the whole analysis), else by its first appearance in ``coverage``.
    """
    opts = options or GapOptions()
    pts = coverage.points
    if pts.empty or not len(demand):
        return gpd.GeoDataFrame(columns=[*GAP_COLUMNS, "geometry"], geometry="geometry", crs=4326)
    crs = utm_crs(float(demand["lon"].median()), float(demand["lat"].median()))
    dx, dy = to_metric(demand["lon"], demand["lat"], crs)
    pos = pd.Series(np.arange(len(demand)), index=demand["demand_id"].to_numpy())
    total = float(demand["weight"].sum())
    keys: list[str] = []
    jobs: dict[str, tuple[str, str, pd.DataFrame, npt.NDArray[np.float64]]] = {}
    for (kind, level), part in pts[~pts["covered"]].groupby(["kind", "level"], sort=False):
        idx = pos.loc[part["demand_id"].to_numpy()].to_numpy()
        xy = np.column_stack([dx[idx], dy[idx]])
        key = _standard_key(part, xy, opts, total, crs)
        keys.append(key)
        jobs[key] = (str(kind), str(level), part, xy)
    with _standard_gaps_lock:  # app sessions run in threads of one process
        found = {k: _standard_gaps[k] for k in jobs if k in _standard_gaps}
    todo = [k for k in jobs if k not in found]
    if todo:
        # the outlines (GEOS unions, which release the GIL) of several standards
        # are drawn at the same time, one standard per core
        rows = side_by_side(lambda k: _standard_gap_rows(*jobs[k], opts, total, crs), todo)
        found.update(zip(todo, rows, strict=True))
    with _standard_gaps_lock:
        for key in keys:
            _standard_gaps[key] = found[key]
            _standard_gaps.move_to_end(key)
        while len(_standard_gaps) > _STANDARD_GAPS_KEPT:
            _standard_gaps.popitem(last=False)
    tables = [found[k][0].copy() for k in keys]
    shapes = [found[k][1] for k in keys]
    if not tables:
        return gpd.GeoDataFrame(columns=[*GAP_COLUMNS, "geometry"], geometry="geometry", crs=4326)
    table = pd.concat(tables, ignore_index=True)
    geometry = gpd.GeoSeries(np.concatenate(shapes), crs=crs).to_crs(4326)
    gaps = gpd.GeoDataFrame(table, geometry=geometry.to_numpy(), crs=4326)
    # rank within each standard, largest uncovered weight first; ids carry the
    # standard's position in the table so they stay unique across standards
    seen = list(pts[["kind", "level"]].drop_duplicates().itertuples(index=False, name=None))
    listed = list(dict.fromkeys(numbering or ()))
    std_order = {key: i for i, key in enumerate(listed + [k for k in seen if k not in listed])}
    std_index = np.array(
        [std_order[(k, lv)] for k, lv in zip(gaps["kind"], gaps["level"], strict=True)]
    )
    order = np.lexsort((np.arange(len(gaps)), -gaps["weight"].to_numpy(), std_index))
    gaps = gaps.iloc[order].reset_index(drop=True)
    std_index = std_index[order]
    rank = pd.Series(std_index).groupby(std_index).cumcount().to_numpy() + 1
    gaps.insert(0, "rank", rank)
    gaps.insert(0, "gap_id", [f"G{s + 1}-{r:03d}" for s, r in zip(std_index, rank, strict=True)])
    return gaps[[*GAP_COLUMNS, "geometry"]]


# The gaps of one standard, kept by the content of what they are computed from:
# an edit in the app changes the coverage of one or two standards, and the
# gaps (and outlines, the costly part) of the others are not computed again.
_STANDARD_GAPS_KEPT = 48
_standard_gaps: OrderedDict[str, tuple[pd.DataFrame, npt.NDArray[np.object_]]] = OrderedDict()
_standard_gaps_lock = threading.Lock()
_KEY_COLUMNS = (
    "kind", "level", "mode", "max_minutes", "demand_id", "weight", "minutes",
    "nearest_site_id", "county", "township",
)  # fmt: skip


def _standard_key(
    part: pd.DataFrame, xy: npt.NDArray[np.float64], opts: GapOptions, total: float, crs: str
) -> str:
    """A hash of everything one standard's gaps depend on."""
    digest = hashlib.sha256(repr((opts, total, crs, len(part))).encode())
    cols = [c for c in _KEY_COLUMNS if c in part.columns]
    digest.update(repr(cols).encode())
    digest.update(pd.util.hash_pandas_object(part[cols], index=False).to_numpy().tobytes())
    digest.update(np.ascontiguousarray(xy).tobytes())
    return digest.hexdigest()


def _standard_gap_rows(
    kind: str,
    level: str,
    part: pd.DataFrame,
    xy: npt.NDArray[np.float64],
    opts: GapOptions,
    total: float,
    crs: str,
) -> tuple[pd.DataFrame, npt.NDArray[np.object_]]:
    """The gaps of one standard (unranked) and their outlines, in metric ``crs``."""
    mode = str(part["mode"].iloc[0])
    max_minutes = float(part["max_minutes"].iloc[0])
    link = opts.link_m(mode, max_minutes)
    n_gaps, label = clusters(xy, link)
    table = _gap_table(part, label, n_gaps, xy, total)
    lon, lat = to_lonlat(table.pop("cx").to_numpy(), table.pop("cy").to_numpy(), crs)
    table.insert(0, "rule", f"{kind}/{level}: {mode} <= {max_minutes:g} min")
    table.insert(0, "max_minutes", max_minutes)
    table.insert(0, "mode", mode)
    table.insert(0, "level", level)
    table.insert(0, "kind", kind)
    table["lon"], table["lat"] = lon, lat
    # the area around the uncovered points themselves (not their hull, which
    # in a dense city would swallow covered streets between them)
    shapes = _outlines(xy, label, n_gaps, max(opts.buffer_m, link / 2), link)
    return table, shapes


def clusters(xy: npt.NDArray[np.float64], link: float) -> tuple[int, IntArray]:
    """Single-linkage clusters: points joined by chains of steps no longer than ``link``.

    Labels are numbered by each cluster's first point. The clusters are those
    of the graph of all pairs within ``link``, found from the Delaunay
    triangulation instead (it contains a Euclidean minimum spanning tree, so
    its edges within ``link`` connect exactly the same points) — linear in the
    points rather than in the pairs, which in a dense city are millions.
    """
    n = len(xy)
    uniq, inverse = np.unique(xy, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    edges = None
    if len(uniq) >= 3:
        try:
            tri = Delaunay(uniq)
        except QhullError:
            tri = None
        if tri is not None:
            s = tri.simplices
            e = np.sort(np.concatenate([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]]), axis=1)
            cop = np.asarray(tri.coplanar)
            if len(cop):  # points qhull set aside as (nearly) on a vertex
                e = np.concatenate([e, np.sort(cop[:, [0, 2]], axis=1)])
            in_graph = np.zeros(len(uniq), dtype=bool)
            in_graph[e.ravel()] = True
            if in_graph.all():
                edges = e
    if edges is None:  # fewer than three places, or all on one line
        edges = cKDTree(uniq).query_pairs(link, output_type="ndarray").reshape(-1, 2)
    d = np.hypot(*(uniq[edges[:, 0]] - uniq[edges[:, 1]]).T)
    edges = edges[d <= link]
    graph = coo_matrix(
        (np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(len(uniq), len(uniq))
    )
    n_labels, lab = connected_components(graph, directed=False)
    label = lab[inverse]
    # number clusters by their first point, as a search over the pairs would
    _, first = np.unique(label, return_index=True)
    rank = np.empty(n_labels, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(n_labels)
    del n
    return n_labels, rank[label]


def _joined(values: npt.NDArray[np.object_], group: IntArray, n: int, sep: str) -> list[str]:
    """Per group, its values (already in order) joined by ``sep``; '' for an empty group."""
    out = np.full(n, "", dtype=object)
    if len(values):
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        pieces = np.array([sep + str(v) for v in values], dtype=object)
        out[group[starts]] = [t[len(sep) :] for t in np.add.reduceat(pieces, starts)]
    return list(out)


def _gap_table(
    part: pd.DataFrame,
    label: IntArray,
    n_gaps: int,
    xy: npt.NDArray[np.float64],
    total: float,
) -> pd.DataFrame:
    """The facts of every gap of one standard, by array operations over its points."""
    w = part["weight"].to_numpy(dtype="float64")
    mins = part["minutes"].to_numpy(dtype="float64", na_value=np.nan)
    weight = np.bincount(label, weights=w, minlength=n_gaps)
    count = np.bincount(label, minlength=n_gaps)
    has_w = weight > 0
    # weighted centroid, or the plain mean where the gap weighs nothing
    cx = np.where(
        has_w,
        np.bincount(label, weights=w * xy[:, 0], minlength=n_gaps) / np.where(has_w, weight, 1),
        np.bincount(label, weights=xy[:, 0], minlength=n_gaps) / count,
    )
    cy = np.where(
        has_w,
        np.bincount(label, weights=w * xy[:, 1], minlength=n_gaps) / np.where(has_w, weight, 1),
        np.bincount(label, weights=xy[:, 1], minlength=n_gaps) / count,
    )
    # nearest site: the first point (in table order) with the smallest time
    member = np.arange(len(label))
    timed = np.where(np.isfinite(mins), mins, np.inf)
    order = np.lexsort((member, timed, label))
    first = order[np.r_[True, label[order][1:] != label[order][:-1]]]
    best = np.full(n_gaps, -1, dtype=np.int64)
    best[label[first]] = first
    best[~np.isfinite(timed[best.clip(0)])] = -1
    site_ids = part["nearest_site_id"].to_numpy(dtype=object)
    nearest_site = np.where(best >= 0, site_ids[best.clip(0)], None)
    nearest_min = np.where(best >= 0, mins[best.clip(0)], np.nan)
    # member lists in table order, area names sorted and unique
    by_gap = np.lexsort((member, label))
    ids = _joined(part["demand_id"].to_numpy(dtype=object)[by_gap], label[by_gap], n_gaps, ",")
    names: dict[str, list[str]] = {}
    for col in ("county", "township"):
        frame = pd.DataFrame({"g": label, "v": part[col].to_numpy(dtype=object)}).dropna()
        frame["v"] = frame["v"].astype(str)
        frame = frame.drop_duplicates().sort_values(["g", "v"], kind="stable")
        names[col] = _joined(
            frame["v"].to_numpy(dtype=object), frame["g"].to_numpy(dtype=np.int64), n_gaps, "、"
        )
    return pd.DataFrame(
        {
            "weight": weight,
            "share_of_demand": weight / total if total > 0 else None,
            "points": count,
            "demand_ids": ids,
            "counties": names["county"],
            "townships": names["township"],
            "nearest_site_id": nearest_site,
            "nearest_minutes": pd.array(np.where(best >= 0, nearest_min, np.nan), dtype="float64"),
            "cx": cx,
            "cy": cy,
        }
    )


def _outlines(
    xy: npt.NDArray[np.float64], label: IntArray, n_gaps: int, radius: float, link: float
) -> npt.NDArray[np.object_]:
    """The union of discs of ``radius`` around the points of every gap.

    Discs of different gaps never meet when ``radius <= link / 2`` (their
    points are farther apart than ``link``), so one union of all discs, cut
    into its parts, gives every gap's outline at once; each part belongs to
    the gap of a point it contains.
    """
    discs = shapely.buffer(shapely.points(xy), radius, quad_segs=8)
    out = np.empty(n_gaps, dtype=object)
    single = np.bincount(label, minlength=n_gaps) == 1
    first_of = np.full(n_gaps, -1, dtype=np.int64)
    first_of[label[::-1]] = np.arange(len(label))[::-1]
    out[single] = discs[first_of[single]]
    multi = ~single[label]
    if not multi.any():
        return out
    if radius > link / 2:  # discs of different gaps may overlap: one union per gap
        for g in np.flatnonzero(~single):
            out[g] = shapely.union_all(discs[label == g])
        return out
    parts = shapely.get_parts(shapely.union_all(discs[multi]))
    members = np.flatnonzero(multi)
    part_i, point_i = shapely.STRtree(shapely.points(xy[members])).query(
        parts, predicate="contains"
    )
    owner = np.full(len(parts), -1, dtype=np.int64)
    owner[part_i[::-1]] = label[members[point_i[::-1]]]
    order = np.argsort(owner, kind="stable")
    owner, parts = owner[order], parts[order]
    n_parts = np.bincount(owner, minlength=n_gaps)
    one = n_parts[owner] == 1
    out[owner[one]] = parts[one]
    several = np.flatnonzero(n_parts > 1)
    if len(several):
        keep = n_parts[owner] > 1
        grouped = shapely.multipolygons(parts[keep], indices=np.searchsorted(several, owner[keep]))
        out[several] = grouped
    return out
