"""Gaps by array operations equal the straightforward per-gap computation."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geo.projection import to_lonlat, to_metric, utm_crs
from planning.coverage.compute import CoverageOptions, CoverageResult
from planning.coverage.gaps import GAP_COLUMNS, GapOptions, find_gaps


# The per-gap loop that find_gaps replaced, kept here as the reference.
def reference_find_gaps(
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


def _coverage(seed: int, n: int = 400) -> tuple[CoverageResult, gpd.GeoDataFrame]:
    rng = np.random.default_rng(seed)
    lon = 117.6 + rng.normal(0, 0.08, n)
    lat = 26.2 + rng.normal(0, 0.08, n)
    counties = np.array(["三元区", "沙县区", None, "永安市"], dtype=object)
    towns = np.array(["城关镇", "富口镇", None, "A", "b"], dtype=object)
    demand = gpd.GeoDataFrame(
        {
            "demand_id": [f"D{i}" for i in range(n)],
            "weight": np.where(rng.random(n) < 0.1, 0.0, rng.integers(1, 900, n).astype(float)),
            "county": counties[rng.integers(0, 4, n)],
            "township": towns[rng.integers(0, 5, n)],
            "lon": lon,
            "lat": lat,
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
    )
    frames = []
    for kind, level, mode, minutes in (
        ("service_center", "township", "drive", 15.0),
        ("service_center", "community", "walk", 15.0),
        ("reading_room", "community", "walk", 1.0),
    ):
        covered = rng.random(n) < 0.4
        mins = pd.array(rng.uniform(1, 80, n), dtype="Float64")
        mins[rng.random(n) < 0.2] = pd.NA
        frames.append(
            pd.DataFrame(
                {
                    "demand_id": demand["demand_id"],
                    "kind": kind,
                    "level": level,
                    "mode": mode,
                    "max_minutes": minutes,
                    "nearest_site_id": np.where(rng.random(n) < 0.5, "S1", "S2").astype(object),
                    "minutes": mins,
                    "covered": covered,
                    "snapped": True,
                    "weight": demand["weight"],
                    "county": demand["county"],
                    "township": demand["township"],
                }
            )
        )
    points = pd.concat(frames, ignore_index=True)
    return CoverageResult(points, pd.DataFrame(), pd.DataFrame(), CoverageOptions()), demand


def _assert_same(got: gpd.GeoDataFrame, want: gpd.GeoDataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for col in GAP_COLUMNS:
        a, b = got[col].tolist(), want[col].tolist()
        for x, y in zip(a, b, strict=True):
            if isinstance(y, float) or isinstance(x, float):
                if y is None or (isinstance(y, float) and np.isnan(y)):
                    assert x is None or (isinstance(x, float) and np.isnan(x)), (col, x, y)
                else:
                    assert x == pytest.approx(y, rel=1e-12, abs=1e-9), (col, x, y)
            else:
                assert x == y, (col, x, y)
    ga, gb = (
        got.to_crs(got.estimate_utm_crs()).geometry,
        want.to_crs(got.estimate_utm_crs()).geometry,
    )
    diff = shapely.symmetric_difference(ga.to_numpy(), gb.to_numpy())
    assert np.all(shapely.area(diff) <= 1e-6 * np.maximum(shapely.area(gb.to_numpy()), 1.0))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_gaps_equal_the_per_gap_computation(seed: int) -> None:
    cov, demand = _coverage(seed)
    for options in (GapOptions(), GapOptions(buffer_m=2000.0)):  # the second: discs overlap
        _assert_same(find_gaps(cov, demand, options), reference_find_gaps(cov, demand, options))


def test_gaps_equal_on_the_demo() -> None:
    from planning.coverage.analysis import build_networks
    from planning.coverage.compute import compute_coverage
    from planning.coverage.standards import load_standards
    from planning.demo import load_demo

    data = load_demo()
    stds = load_standards()
    nets = build_networks({s.mode for s in stds}, data.sites, data.demand)
    cov = compute_coverage(data.sites, data.demand, stds, nets)
    numbering = [(s.kind, s.level) for s in stds]
    _assert_same(
        find_gaps(cov, data.demand, numbering=numbering),
        reference_find_gaps(cov, data.demand, numbering=numbering),
    )


@pytest.mark.parametrize("seed", range(6))
def test_clusters_equal_the_components_of_all_pairs(seed: int) -> None:
    from planning.coverage.gaps import clusters

    rng = np.random.default_rng(seed)
    n = 300
    xy = rng.uniform(0, 5000, (n, 2))
    xy[rng.integers(0, n, 30)] = xy[rng.integers(0, n, 30)]  # duplicates
    if seed == 5:
        xy[:, 1] = 7.0  # all on one line
    link = 260.0
    pairs = cKDTree(xy).query_pairs(link, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    want_n, want = connected_components(graph, directed=False)
    got_n, got = clusters(xy, link)
    assert got_n == want_n
    assert np.array_equal(got, want)


def test_gaps_of_unchanged_standards_are_reused_and_equal_a_fresh_computation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An edit that changes one standard's coverage recomputes that standard's gaps
    only; the result equals a computation with nothing kept."""
    import planning.coverage.gaps as gaps_mod

    cov, demand = _coverage(7)
    gaps_mod._standard_gaps.clear()
    first = find_gaps(cov, demand)
    computed: list[str] = []
    real = gaps_mod._standard_gap_rows

    def counting(kind: str, level: str, *args: object, **kwargs: object) -> object:
        computed.append(f"{kind}/{level}")
        return real(kind, level, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(gaps_mod, "_standard_gap_rows", counting)
    _assert_same(find_gaps(cov, demand), first)
    assert computed == []  # nothing changed: nothing computed again
    # cover a few more points of one standard only
    points = cov.points.copy()
    one = (points["kind"] == points["kind"].iloc[0]) & (points["level"] == points["level"].iloc[0])
    flip = points.index[one & ~points["covered"]][:25]
    points.loc[flip, "covered"] = True
    edited = CoverageResult(points, cov.standards, cov.by_area, cov.options)
    got = find_gaps(edited, demand)
    assert computed == [f"{points['kind'].iloc[0]}/{points['level'].iloc[0]}"]
    gaps_mod._standard_gaps.clear()
    _assert_same(got, find_gaps(edited, demand))
    _assert_same(got, reference_find_gaps(edited, demand, GapOptions()))
