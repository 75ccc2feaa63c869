"""Coverage, gaps, accessibility and standards on hand-checkable networks."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.errors import StandardsError
from geo.projection import to_lonlat
from planning.coverage.access import compute_access, e2sfca, gini, step_weight
from planning.coverage.compute import CoverageOptions, compute_coverage
from planning.coverage.gaps import find_gaps
from planning.coverage.standards import Standard, load_standards, parse_standards
from tests.test_travel import grid_net, make_net

CRS = "EPSG:32650"


def lonlat(x, y):
    lon, lat = to_lonlat(np.asarray(x, float), np.asarray(y, float), CRS)
    return lon, lat


def sites_at(xs, ys, kinds=None, levels=None, statuses=None, capacity=None):
    lon, lat = lonlat(xs, ys)
    n = len(lon)
    return gpd.GeoDataFrame(
        {
            "site_id": [f"S{i}" for i in range(n)],
            "name": [f"site {i}" for i in range(n)],
            "kind": kinds or ["service_center"] * n,
            "level": levels or ["township"] * n,
            "status": statuses or ["existing"] * n,
            "capacity": capacity if capacity is not None else [100.0] * n,
            "county": ["A"] * n,
            "township": [f"T{i}" for i in range(n)],
            "lon": lon,
            "lat": lat,
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
    )


def demand_at(xs, ys, weights=None, townships=None):
    lon, lat = lonlat(xs, ys)
    n = len(lon)
    return gpd.GeoDataFrame(
        {
            "demand_id": [f"D{i}" for i in range(n)],
            "name": [f"d{i}" for i in range(n)],
            "weight": weights or [100.0] * n,
            "county": ["A"] * n,
            "township": townships or [f"T{i}" for i in range(n)],
            "lon": lon,
            "lat": lat,
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
    )


BASE = (500_000.0, 2_900_000.0)  # inside UTM zone 50N


def line_net():
    # a 10 km straight road at 10 m/s (36 km/h), nodes every 1 km
    xs = BASE[0] + np.arange(11) * 1000.0
    ys = np.full(11, BASE[1])
    return make_net(xs, ys, np.arange(10), np.arange(1, 11), 10.0)


def std(
    level="township", minutes=5.0, higher=False, mode="drive", kind="service_center", target=0.5
):
    return Standard(kind, level, mode, minutes, target, higher)


def test_coverage_by_hand_on_a_straight_road() -> None:
    net = line_net()
    # demand on the road at 0, 2, 4, 6, 8 km; one site at 1 km
    demand = demand_at(
        BASE[0] + np.array([0, 2, 4, 6, 8]) * 1000.0, [BASE[1]] * 5, [10, 20, 30, 40, 50]
    )
    sites = sites_at([BASE[0] + 1000.0], [BASE[1]])
    res = compute_coverage(sites, demand, (std(minutes=5.0),), {"drive": net})
    pts = res.points
    # 1000 m at 10 m/s = 100 s; 3000 m = 300 s = 5 min (covered, <=); 5000 m = 500 s
    assert pts["minutes"].astype(float).tolist()[:3] == pytest.approx(
        [100 / 60, 100 / 60, 300 / 60]
    )
    assert pts["covered"].tolist() == [True, True, True, False, False]
    row = res.standards.iloc[0]
    assert row["covered_weight"] == 60 and row["total_weight"] == 150
    assert row["covered_share"] == pytest.approx(0.4)
    assert not row["met"]  # target 0.5
    # beyond the search limit (4 x 5 min) there is no nearest site at all
    far = compute_coverage(
        sites, demand, (std(minutes=1.0),), {"drive": net}, CoverageOptions(search_factor=2.0)
    )
    assert far.points["nearest_site_id"].isna().tolist() == [False, False, True, True, True]
    assert far.points["minutes"].isna().tolist() == [False, False, True, True, True]


def test_higher_levels_only_count_when_the_standard_says_so() -> None:
    net = line_net()
    demand = demand_at([BASE[0] + 2000.0], [BASE[1]])
    sites = sites_at([BASE[0] + 1000.0], [BASE[1]], levels=["county"])
    strict = compute_coverage(sites, demand, (std(),), {"drive": net})
    assert strict.points["covered"].tolist() == [False]
    assert strict.points["nearest_site_id"].isna().all()
    lenient = compute_coverage(sites, demand, (std(higher=True),), {"drive": net})
    assert lenient.points["covered"].tolist() == [True]
    # a lower level never counts for a higher one
    low = sites_at([BASE[0] + 1000.0], [BASE[1]], levels=["community"])
    res = compute_coverage(low, demand, (std(level="county", higher=True),), {"drive": net})
    assert res.points["covered"].tolist() == [False]


def test_status_planned_counts_only_after_completion_and_closed_never() -> None:
    net = line_net()
    demand = demand_at([BASE[0] + 2000.0, BASE[0] + 9000.0], [BASE[1]] * 2)
    sites = sites_at(
        [BASE[0] + 1000.0, BASE[0] + 9500.0, BASE[0] + 8500.0],
        [BASE[1]] * 3,
        statuses=["planned", "under_construction", "closed"],
    )
    now = compute_coverage(sites, demand, (std(),), {"drive": net})
    assert now.points["covered"].tolist() == [False, False]
    assert now.standards.iloc[0]["sites_ignored_by_status"] == {
        "planned": 1,
        "under_construction": 1,
        "closed": 1,
    }
    later = compute_coverage(
        sites, demand, (std(),), {"drive": net}, CoverageOptions(after_completion=True)
    )
    assert later.points["covered"].tolist() == [True, True]
    assert later.points["nearest_site_id"].tolist() == ["S0", "S1"]  # never the closed S2
    assert later.standards.iloc[0]["sites_ignored_by_status"] == {"closed": 1}


def test_by_area_totals_add_up() -> None:
    net = line_net()
    demand = demand_at(
        BASE[0] + np.arange(6) * 1500.0,
        [BASE[1]] * 6,
        [1, 2, 3, 4, 5, 6],
        ["a", "a", "b", "b", "c", "c"],
    )
    sites = sites_at([BASE[0]], [BASE[1]])
    res = compute_coverage(sites, demand, (std(minutes=4),), {"drive": net})
    town = res.by_area[res.by_area["area_type"] == "township"].set_index("township")
    assert town.loc["a", "covered_share"] == 1.0
    assert town.loc["b", "covered_weight"] == 0  # 3 km and 4.5 km: 300 s and 450 s > 240 s
    county = res.by_area[res.by_area["area_type"] == "county"].iloc[0]
    assert county["covered_weight"] == town["covered_weight"].sum()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.floats(1, 8), st.floats(0.1, 5))
def test_adding_a_site_or_raising_the_threshold_never_lowers_coverage(seed, minutes, extra) -> None:
    net = grid_net(9, seed % 50)
    # the grid lives near the origin: move it into the UTM zone for the lon/lat round trip
    shifted = dataclasses.replace(net, x=net.x + BASE[0], y=net.y + BASE[1])
    rng = np.random.default_rng(seed)
    x0, y0 = 0.0, 0.0
    dxy = rng.uniform(-100, 1700, (40, 2))
    sxy = rng.uniform(0, 1600, (4, 2))
    demand = demand_at(
        dxy[:, 0] + BASE[0] + x0, dxy[:, 1] + BASE[1] + y0, list(rng.uniform(1, 100, 40))
    )
    base_sites = sites_at(sxy[:3, 0] + BASE[0], sxy[:3, 1] + BASE[1])
    more_sites = sites_at(sxy[:, 0] + BASE[0], sxy[:, 1] + BASE[1])
    nets = {"drive": shifted}
    a = compute_coverage(base_sites, demand, (std(minutes=minutes),), nets).standards.iloc[0]
    b = compute_coverage(more_sites, demand, (std(minutes=minutes),), nets).standards.iloc[0]
    c = compute_coverage(base_sites, demand, (std(minutes=minutes + extra),), nets).standards.iloc[
        0
    ]
    assert b["covered_weight"] >= a["covered_weight"] - 1e-9
    assert c["covered_weight"] >= a["covered_weight"] - 1e-9


def test_gaps_are_clusters_ranked_by_weight() -> None:
    net = line_net()
    # uncovered points at 7, 7.5 km (one gap, 2 min apart) and 10 km (another)
    demand = demand_at(BASE[0] + np.array([0.0, 7000, 7500, 10000]), [BASE[1]] * 4, [5, 10, 20, 50])
    sites = sites_at([BASE[0]], [BASE[1]])
    cov = compute_coverage(sites, demand, (std(minutes=5.0),), {"drive": net})
    gaps = find_gaps(cov, demand)
    assert gaps["weight"].tolist() == [50, 30]
    assert gaps["rank"].tolist() == [1, 2]
    assert gaps["points"].tolist() == [1, 2]
    assert gaps.iloc[1]["townships"] == "T1、T2"
    assert gaps.iloc[1]["nearest_site_id"] == "S0"
    assert gaps.iloc[1]["nearest_minutes"] == pytest.approx(7000 / 10 / 60)
    assert gaps.iloc[0]["rule"] == "service_center/township: drive <= 5 min"
    assert gaps.crs.to_epsg() == 4326 and gaps.geometry.is_valid.all()
    assert gaps.geometry.iloc[1].contains(demand.geometry.iloc[1])


def test_step_weights_e2sfca_and_gini_by_hand() -> None:
    assert step_weight(np.array([0, 100, 101, 200, 201, 300, 301.0]), 300).tolist() == [
        1.0,
        1.0,
        0.68,
        0.68,
        0.22,
        0.22,
        0.0,
    ]
    # two demand points, one site of capacity 10: both within the first zone
    od = sp.coo_matrix((np.array([10.0, 50.0]), (np.array([0, 1]), np.array([0, 0]))), shape=(2, 1))
    a = e2sfca(od, [100, 300], [10], 300)
    assert a.tolist() == pytest.approx([10 / 400, 10 / 400])
    # an explicit zero time is a reached pair
    od0 = sp.coo_matrix((np.array([0.0]), (np.array([0]), np.array([0]))), shape=(1, 1))
    assert e2sfca(od0, [5], [10], 300).tolist() == [2.0]
    assert gini([1, 1, 1]) == 0.0
    assert gini([0, 0, 0, 1]) == pytest.approx(0.75)
    assert gini([0, 1], [3, 1]) == pytest.approx(0.75)  # same as four points, weights
    assert gini([]) is None


def test_access_scores_fall_with_distance() -> None:
    net = line_net()
    demand = demand_at(BASE[0] + np.array([0.0, 1500, 2500]), [BASE[1]] * 3, [100, 100, 100])
    sites = sites_at([BASE[0]], [BASE[1]], capacity=[None])
    res = compute_access(sites, demand, (std(minutes=5.0),), {"drive": net})
    s = res.points["score_per_1000"].tolist()
    assert s[0] > s[1] > s[2] > 0
    assert "1 sites had no capacity" in res.notes[0]


def test_standards_file_validation(tmp_path) -> None:
    defaults = load_standards()
    assert {(s.kind, s.level) for s in defaults} >= {
        ("service_center", "township"),
        ("reading_room", "community"),
    }
    assert all(not s.higher_levels_count for s in defaults)
    good = {
        "standard": [{"kind": "library", "level": "community", "mode": "walk", "max_minutes": 5}]
    }
    (only,) = parse_standards(good)
    assert (only.target_share, only.higher_levels_count) == (None, False)
    bad = {
        "standard": [
            {"kind": "library", "level": "community", "mode": "fly", "max_minutes": -1, "colour": 1}
        ]
    }
    with pytest.raises(StandardsError) as err:
        parse_standards(bad, source="s.toml")
    msg = err.value.message
    assert "s.toml" in msg and "unknown key" in msg and "mode" in msg and "max_minutes" in msg
    with pytest.raises(StandardsError, match="duplicates"):
        parse_standards({"standard": [good["standard"][0], good["standard"][0]]})
    broken = tmp_path / "x.toml"
    broken.write_text("[[standard]\n", encoding="utf-8")
    with pytest.raises(StandardsError, match="malformed TOML"):
        load_standards(broken)
