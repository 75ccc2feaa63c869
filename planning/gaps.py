"""Gaps as objects: clusters of uncovered demand, with the facts that explain them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geo.projection import to_lonlat, to_metric, utm_crs
from planning.coverage import CoverageResult

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
    demand: gpd.GeoDataFrame,
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
    rows: list[dict[str, object]] = []
    shapes: list[shapely.Geometry] = []
    for (kind, level), part in pts[~pts["covered"]].groupby(["kind", "level"], sort=False):
        idx = pos.loc[part["demand_id"].to_numpy()].to_numpy()
        mode = str(part["mode"].iloc[0])
        link = opts.link_m(mode, float(part["max_minutes"].iloc[0]))
        xy = np.column_stack([dx[idx], dy[idx]])
        pairs = cKDTree(xy).query_pairs(link, output_type="ndarray")
        graph = coo_matrix(
            (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(idx), len(idx))
        )
        _, label = connected_components(graph, directed=False)
        for lab in np.unique(label):
            members = np.flatnonzero(label == lab)
            sub = part.iloc[members]
            w = sub["weight"].to_numpy(dtype="float64")
            mins = sub["minutes"].to_numpy(dtype="float64", na_value=np.nan)
            best = int(np.nanargmin(mins)) if np.isfinite(mins).any() else None
            cx = (
                float(np.average(xy[members, 0], weights=w))
                if w.sum() > 0
                else float(xy[members, 0].mean())
            )
            cy = (
                float(np.average(xy[members, 1], weights=w))
                if w.sum() > 0
                else float(xy[members, 1].mean())
            )
            lon, lat = to_lonlat([cx], [cy], crs)
            # the area around the uncovered points themselves (not their hull, which
            # in a dense city would swallow covered streets between them)
            hull = shapely.union_all(
                shapely.buffer(
                    shapely.points(xy[members]), max(opts.buffer_m, link / 2), quad_segs=8
                )
            )
            shapes.append(hull)
            rows.append(
                {
                    "kind": kind,
                    "level": level,
                    "mode": mode,
                    "max_minutes": float(sub["max_minutes"].iloc[0]),
                    "rule": f"{kind}/{level}: {mode} <= {float(sub['max_minutes'].iloc[0]):g} min",
                    "weight": float(w.sum()),
                    "share_of_demand": float(w.sum() / total) if total > 0 else None,
                    "points": len(members),
                    "demand_ids": ",".join(map(str, sub["demand_id"])),
                    "counties": "、".join(sorted({str(c) for c in sub["county"].dropna()})),
                    "townships": "、".join(sorted({str(t) for t in sub["township"].dropna()})),
                    "nearest_site_id": None if best is None else sub["nearest_site_id"].iloc[best],
                    "nearest_minutes": None if best is None else float(mins[best]),
                    "lon": float(lon[0]),
                    "lat": float(lat[0]),
                }
            )
    if not rows:
        return gpd.GeoDataFrame(columns=[*GAP_COLUMNS, "geometry"], geometry="geometry", crs=4326)
    table = pd.DataFrame(rows)
    geometry = gpd.GeoSeries(shapes, crs=crs).to_crs(4326)
    gaps = gpd.GeoDataFrame(table, geometry=geometry.to_numpy(), crs=4326)
    # rank within each standard, largest uncovered weight first; ids carry the
    # standard's position in the table so they stay unique across standards
    seen = list(dict.fromkeys(zip(pts["kind"], pts["level"], strict=True)))
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
