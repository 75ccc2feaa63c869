"""An edit recomputes only what it touches, and gives what a full recomputation gives.

The warm path keeps one network object across edits, so its prepared network
(demand snapped once, each site's reach, each standard's nearest-site answer)
is reused; the full path gives every analysis a fresh copy of the network, so
nothing is reused. Both must agree exactly after every edit of a random
sequence of adds, moves, closes, status and capacity changes.
"""

from __future__ import annotations

from dataclasses import fields

import geopandas as gpd
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.network import RoadNetwork
from geo.projection import to_lonlat
from planning.coverage.analysis import run_analysis
from planning.coverage.compute import CoverageOptions
from planning.coverage.standards import Standard
from planning.scenario import Change, apply_changes
from tests.test_travel import grid_net

NET = grid_net(18, 11, oneway_share=0.25)
STANDARDS = (
    Standard("service_center", "township", "drive", 4.0, 0.8),
    Standard("service_center", "community", "walk", 10.0, 0.5),
    Standard("reading_room", "community", "drive", 2.5),
)
KINDS = [
    ("service_center", "township"),
    ("service_center", "community"),
    ("reading_room", "community"),
]


def _lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return to_lonlat(x, y, NET.crs)


def _demand() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(5)
    x = rng.uniform(NET.x.min(), NET.x.max(), 250)
    y = rng.uniform(NET.y.min(), NET.y.max(), 250)
    lon, lat = _lonlat(x, y)
    frame = pd.DataFrame(
        {
            "demand_id": [f"D{i}" for i in range(len(x))],
            "name": None,
            "weight": rng.integers(1, 500, len(x)).astype(float),
            "county": rng.choice(["A", "B"], len(x)),
            "township": rng.choice(["t1", "t2", "t3"], len(x)),
            "lon": lon,
            "lat": lat,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs=4326)


def _sites() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(6)
    n = 12
    x = rng.uniform(NET.x.min(), NET.x.max(), n)
    y = rng.uniform(NET.y.min(), NET.y.max(), n)
    lon, lat = _lonlat(x, y)
    kl = [KINDS[i % 3] for i in range(n)]
    frame = pd.DataFrame(
        {
            "site_id": [f"S{i}" for i in range(n)],
            "name": [f"站{i}" for i in range(n)],
            "kind": [k for k, _ in kl],
            "level": [lv for _, lv in kl],
            "county": None,
            "township": None,
            "status": "existing",
            "capacity": rng.integers(10, 90, n).astype(float),
            "lon": lon,
            "lat": lat,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs=4326)


DEMAND = _demand()
X0, X1, Y0, Y1 = float(NET.x.min()), float(NET.x.max()), float(NET.y.min()), float(NET.y.max())

edit = st.one_of(
    st.tuples(
        st.just("add_site"),
        st.floats(X0, X1),
        st.floats(Y0, Y1),
        st.integers(0, 2),
    ),
    st.tuples(st.just("move_site"), st.floats(X0, X1), st.floats(Y0, Y1), st.integers(0, 30)),
    st.tuples(st.just("close_site"), st.integers(0, 30)),
    st.tuples(st.just("set_status"), st.integers(0, 30), st.sampled_from(["existing", "planned"])),
    st.tuples(st.just("set_capacity"), st.integers(0, 30), st.floats(1, 500)),
)


def _change(op: tuple, sites: pd.DataFrame, k: int) -> Change:
    ids = sites["site_id"].astype(str).tolist()
    if op[0] == "add_site":
        lon, lat = _lonlat(np.array([op[1]]), np.array([op[2]]))
        kind, level = KINDS[op[3]]
        payload = {
            "site_id": f"P{k}",
            "name": f"规划{k}",
            "kind": kind,
            "level": level,
            "lon": float(lon[0]),
            "lat": float(lat[0]),
            "status": "planned",
        }
        return Change("add_site", payload)
    if op[0] == "move_site":
        lon, lat = _lonlat(np.array([op[1]]), np.array([op[2]]))
        target = ids[op[3] % len(ids)]
        return Change("move_site", {"site_id": target, "lon": float(lon[0]), "lat": float(lat[0])})
    target = ids[op[1] % len(ids)]
    if op[0] == "close_site":
        return Change("close_site", {"site_id": target})
    if op[0] == "set_status":
        return Change("set_status", {"site_id": target, "status": op[2]})
    return Change("set_capacity", {"site_id": target, "capacity": float(op[2])})


def _fresh(net: RoadNetwork) -> RoadNetwork:
    return RoadNetwork(**{f.name: getattr(net, f.name) for f in fields(net)})


def _assert_equal(a, b) -> None:
    pd.testing.assert_frame_equal(a.coverage.points, b.coverage.points)
    pd.testing.assert_frame_equal(a.coverage.standards, b.coverage.standards)
    pd.testing.assert_frame_equal(a.coverage.by_area, b.coverage.by_area)
    pd.testing.assert_frame_equal(a.access.points, b.access.points)
    pd.testing.assert_frame_equal(
        pd.DataFrame(a.gaps.drop(columns="geometry")), pd.DataFrame(b.gaps.drop(columns="geometry"))
    )


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(ops=st.lists(edit, min_size=1, max_size=6), after=st.booleans())
def test_incremental_edits_equal_a_full_recomputation(ops: list, after: bool) -> None:
    warm = {"drive": _fresh(NET), "walk": _fresh(NET)}
    options = CoverageOptions(after_completion=after, max_snap_m=400)
    sites = _sites()
    run_analysis(sites, DEMAND, STANDARDS, networks=warm, options=options)
    for k, op in enumerate(ops):
        sites, _ = apply_changes(sites, STANDARDS, [_change(op, sites, k)])
        got = run_analysis(sites, DEMAND, STANDARDS, networks=warm, options=options)
        full = run_analysis(
            sites,
            DEMAND,
            STANDARDS,
            networks={"drive": _fresh(NET), "walk": _fresh(NET)},
            options=options,
        )
        _assert_equal(got, full)


def test_an_edit_searches_only_the_new_site() -> None:
    """Adding one site computes one new reach row; unchanged standards are not searched."""
    from planning.network import prepared as prep_mod

    warm = {"drive": _fresh(NET), "walk": _fresh(NET)}
    sites = _sites()
    assert len(run_analysis(sites, DEMAND, STANDARDS, networks=warm).access.points)
    calls: list[int] = []
    original = prep_mod.PreparedNetwork._search_rows
    original_nearest = prep_mod.PreparedNetwork._nearest_site

    def counting(self, todo):  # type: ignore[no-untyped-def]
        calls.append(len(todo))
        return original(self, todo)

    nearest_calls: list[int] = []

    def counting_nearest(self, *args):  # type: ignore[no-untyped-def]
        nearest_calls.append(1)
        return original_nearest(self, *args)

    prep_mod.PreparedNetwork._search_rows = counting  # type: ignore[method-assign]
    prep_mod.PreparedNetwork._nearest_site = counting_nearest  # type: ignore[method-assign]
    try:
        lon, lat = _lonlat(np.array([NET.x.mean()]), np.array([NET.y.mean()]))
        add = Change(
            "add_site",
            {
                "site_id": "P1",
                "name": "新站",
                "kind": "reading_room",
                "level": "community",
                "lon": float(lon[0]),
                "lat": float(lat[0]),
                "status": "existing",
            },
        )
        edited, _ = apply_changes(sites, STANDARDS, [add])
        assert len(run_analysis(edited, DEMAND, STANDARDS, networks=warm).access.points)
    finally:
        prep_mod.PreparedNetwork._search_rows = original  # type: ignore[method-assign]
        prep_mod.PreparedNetwork._nearest_site = original_nearest  # type: ignore[method-assign]
    assert calls == [1]  # one reach row: the new site's
    assert len(nearest_calls) == 1  # one standard's nearest sites changed: reading rooms
