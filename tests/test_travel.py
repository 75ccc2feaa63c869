"""The travel engine against hand-checked cases and an independent networkx computation."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import shapely

from geo.network import NetworkFacts, RoadNetwork
from planning.network.travel import nearest_site, od_matrix, service_area, snap

WALK = 5 / 3.6  # m/s


def make_net(x, y, u, v, fwd_speed, bwd_speed=None, dropped=None) -> RoadNetwork:
    x, y = np.asarray(x, float), np.asarray(y, float)
    u, v = np.asarray(u, np.int64), np.asarray(v, np.int64)
    length = np.hypot(x[v] - x[u], y[v] - y[u])
    fs = np.broadcast_to(np.asarray(fwd_speed, float), length.shape)
    bs = fs if bwd_speed is None else np.broadcast_to(np.asarray(bwd_speed, float), length.shape)
    with np.errstate(divide="ignore"):
        fwd = np.where(fs > 0, length / np.where(fs > 0, fs, 1), np.inf)
        bwd = np.where(bs > 0, length / np.where(bs > 0, bs, 1), np.inf)
    facts = NetworkFacts("test", "test", "drive", False, len(x), len(u), float(length.sum() / 1000))
    return RoadNetwork(
        "EPSG:32650",
        x,
        y,
        u,
        v,
        length,
        fwd,
        bwd,
        facts,
        np.zeros((0, 4)) if dropped is None else np.asarray(dropped, float),
    )


def grid_net(n: int, seed: int, oneway_share: float = 0.2) -> RoadNetwork:
    """A jittered n x n street grid with mixed speeds and some one-way streets."""
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    x = (ii * 200 + rng.uniform(-40, 40, ii.shape)).ravel()
    y = (jj * 200 + rng.uniform(-40, 40, jj.shape)).ravel()
    idx = np.arange(n * n).reshape(n, n)
    u = np.concatenate([idx[:-1, :].ravel(), idx[:, :-1].ravel()])
    v = np.concatenate([idx[1:, :].ravel(), idx[:, 1:].ravel()])
    keep = rng.random(len(u)) > 0.1
    u, v = u[keep], v[keep]
    speed = rng.choice([20 / 3.6, 40 / 3.6, 60 / 3.6], len(u))
    one = rng.random(len(u)) < oneway_share
    return make_net(x, y, u, v, speed, np.where(one, 0.0, speed))


# ------------------------------------------------------------------ independent reference


def ref_snap(net: RoadNetwork, px: np.ndarray, py: np.ndarray, max_snap: float):
    """Brute force: every point against every segment."""
    ax, ay, bx, by = net.x[net.u], net.y[net.u], net.x[net.v], net.y[net.v]
    out = []
    for x0, y0 in zip(px, py, strict=True):
        dx, dy = bx - ax, by - ay
        t = np.clip(((x0 - ax) * dx + (y0 - ay) * dy) / (dx * dx + dy * dy), 0, 1)
        d = np.hypot(x0 - (ax + t * dx), y0 - (ay + t * dy))
        k = int(np.argmin(d))
        out.append((k, float(t[k]), float(d[k])) if d[k] <= max_snap else None)
    return out


def ref_graph(net: RoadNetwork, snaps: list) -> tuple[nx.DiGraph, list]:
    """networkx DiGraph with snapped points inserted, built edge by edge."""
    on_seg: dict[int, list[tuple[float, int]]] = {}
    node_of = []
    for i, s in enumerate(snaps):
        if s is None:
            node_of.append(None)
            continue
        k, t, _ = s
        if t <= 0:
            node_of.append(int(net.u[k]))
        elif t >= 1:
            node_of.append(int(net.v[k]))
        else:
            on_seg.setdefault(k, []).append((t, i))
            node_of.append(("p", k, t))
    g = nx.DiGraph()

    def add(a, b, w):
        if np.isfinite(w) and (not g.has_edge(a, b) or g[a][b]["weight"] > w):
            g.add_edge(a, b, weight=float(w))

    for k in range(net.n_segments):
        chain = [(0.0, int(net.u[k]))]
        chain += sorted({(t, ("p", k, t)) for t, _ in on_seg.get(k, [])})
        chain.append((1.0, int(net.v[k])))
        for (t0, a), (t1, b) in itertools.pairwise(chain):
            add(a, b, net.forward_s[k] * (t1 - t0))
            add(b, a, net.backward_s[k] * (t1 - t0))
    return g, node_of


def ref_times(net, demand, sites, max_snap, cutoff=None):
    """Nearest-site seconds per demand point (None = not reached)."""
    d_snap = ref_snap(net, *demand, max_snap)
    s_snap = ref_snap(net, *sites, max_snap)
    g, nodes = ref_graph(net, d_snap + s_snap)
    rev = g.reverse(copy=True)
    sources = []
    for j, s in enumerate(s_snap):
        if s is not None:
            rev.add_edge(("site", j), nodes[len(d_snap) + j], weight=s[2] / WALK)
            sources.append(("site", j))
    dist = nx.multi_source_dijkstra_path_length(rev, sources) if sources else {}
    out = []
    for i, s in enumerate(d_snap):
        node = nodes[i]
        if s is None or node not in dist:
            out.append(None)
            continue
        total = dist[node] + s[2] / WALK
        out.append(total if cutoff is None or total <= cutoff else None)
    return out


# ------------------------------------------------------------------ hand-checked


def test_straight_road_by_hand() -> None:
    # A(0,0) - B(1000,0) - C(2000,0) at 10 m/s: 100 s a segment
    net = make_net([0, 1000, 2000], [0, 0, 0], [0, 1], [1, 2], 10.0)
    res = nearest_site(net, ([250.0, 1900.0], [50.0, -20.0]), ([1000.0], [0.0]))
    # 50 m walk (36 s) + 750 m drive (75 s); 20 m walk (14.4 s) + 900 m (90 s)
    assert res.seconds.tolist() == pytest.approx([50 / WALK + 75, 20 / WALK + 90], rel=1e-12)
    assert res.site.tolist() == [0, 0]


def test_points_on_the_same_segment_use_the_segment_directly() -> None:
    net = make_net([0, 1000], [0, 0], [0], [1], 10.0)
    res = nearest_site(net, ([300.0], [0.0]), ([700.0], [0.0]))
    assert float(res.seconds[0]) == pytest.approx(40.0)


def test_one_way_respected_from_demand_to_site() -> None:
    # u -> v only: a demand point upstream reaches a site downstream, not back
    net = make_net([0, 1000], [0, 0], [0], [1], 10.0, 0.0)
    down = nearest_site(net, ([200.0], [0.0]), ([800.0], [0.0]))
    up = nearest_site(net, ([800.0], [0.0]), ([200.0], [0.0]))
    assert float(down.seconds[0]) == pytest.approx(60.0)
    assert not up.reached[0]
    assert np.ma.is_masked(up.seconds[0])


def test_unsnapped_points_reported_and_never_attached() -> None:
    net = make_net([0, 1000], [0, 0], [0], [1], 10.0)
    res = nearest_site(net, ([500.0, 500.0], [10.0, 5000.0]), ([0.0], [0.0]), max_snap_m=1000)
    assert res.demand_snap.ok.tolist() == [True, False]
    assert res.demand_snap.unsnapped == 1
    assert res.reached.tolist() == [True, False]
    assert not np.isnan(res.seconds.filled(0)).any()


def test_cutoff_masks_far_points() -> None:
    net = make_net([0, 1000, 2000], [0, 0, 0], [0, 1], [1, 2], 10.0)
    res = nearest_site(net, ([100.0, 1900.0], [0.0, 0.0]), ([0.0], [0.0]), cutoff_s=60)
    assert res.reached.tolist() == [True, False]


def test_points_near_a_dropped_island_are_flagged() -> None:
    net = make_net([0, 1000], [0, 0], [0], [1], 10.0, dropped=[[0, 3000, 1000, 3000]])
    s = snap(net, [500.0, 500.0], [2900.0, 100.0])
    assert s.near_dropped.tolist() == [True, False]


@pytest.mark.parametrize("seed", range(3))
def test_near_dropped_equals_a_brute_force_check(seed: int) -> None:
    """A point is flagged exactly when a dropped segment within the snap limit is
    nearer than its snap: checked against every dropped segment, one by one."""
    rng = np.random.default_rng(seed)
    net0 = grid_net(8, seed)
    # dropped pieces of all lengths (2 m .. 900 m) scattered over and around the grid
    a = rng.uniform(-500, 1900, (40, 2))
    ang = rng.uniform(0, 2 * np.pi, 40)
    b = a + rng.uniform(2, 900, 40)[:, None] * np.column_stack([np.cos(ang), np.sin(ang)])
    dropped = np.column_stack([a, b])
    net = make_net(net0.x, net0.y, net0.u, net0.v, 10.0, dropped=dropped)
    px, py = rng.uniform(-1500, 2900, 3000), rng.uniform(-1500, 2900, 3000)
    max_snap = 400.0
    s = snap(net, px, py, max_snap_m=max_snap)
    lines = shapely.linestrings(dropped.reshape(-1, 2, 2))
    d_drop = shapely.distance(shapely.points(px, py)[:, None], lines[None, :]).min(axis=1)
    expected = (d_drop <= max_snap) & (d_drop < s.distance_m)
    assert expected.sum() > 50 and (~expected).sum() > 50
    assert s.near_dropped.tolist() == expected.tolist()


def test_no_sites_or_no_demand() -> None:
    net = make_net([0, 1000], [0, 0], [0], [1], 10.0)
    res = nearest_site(net, ([1.0], [1.0]), ([], []))
    assert res.reached.tolist() == [False]
    empty = nearest_site(net, ([], []), ([1.0], [1.0]))
    assert len(empty.seconds) == 0


# ------------------------------------------------------------------ against networkx


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_nearest_site_equals_networkx(seed: int) -> None:
    net = grid_net(14, seed)
    rng = np.random.default_rng(100 + seed)
    demand = (rng.uniform(-300, 2900, 300), rng.uniform(-300, 2900, 300))
    sites = (rng.uniform(0, 2600, 7), rng.uniform(0, 2600, 7))
    # some demand exactly on nodes and some sharing a segment with a site
    demand[0][:5], demand[1][:5] = net.x[:5], net.y[:5]
    res = nearest_site(net, demand, sites, max_snap_m=250)
    ref = ref_times(net, demand, sites, 250)
    got = [float(s) if r else None for s, r in zip(res.seconds.filled(0), res.reached, strict=True)]
    assert [g is None for g in got] == [r is None for r in ref]
    assert sum(r is not None for r in ref) > 200
    for g, r in zip(got, ref, strict=True):
        if r is not None:
            assert g == pytest.approx(r, rel=1e-9, abs=1e-9)


def test_nearest_site_with_cutoff_equals_networkx() -> None:
    net = grid_net(12, 7)
    rng = np.random.default_rng(7)
    demand = (rng.uniform(0, 2200, 200), rng.uniform(0, 2200, 200))
    sites = (rng.uniform(0, 2200, 4), rng.uniform(0, 2200, 4))
    res = nearest_site(net, demand, sites, cutoff_s=180)
    ref = ref_times(net, demand, sites, 1000, cutoff=180)
    assert res.reached.tolist() == [r is not None for r in ref]
    for g, r in zip(res.seconds.filled(0), ref, strict=True):
        if r is not None:
            assert g == pytest.approx(r, rel=1e-9)


def test_od_matrix_equals_networkx_per_pair() -> None:
    net = grid_net(10, 11)
    rng = np.random.default_rng(11)
    demand = (rng.uniform(0, 1800, 60), rng.uniform(0, 1800, 60))
    dests = (rng.uniform(0, 1800, 9), rng.uniform(0, 1800, 9))
    cutoff = 150.0
    od = od_matrix(net, demand, dests, cutoff_s=cutoff)
    got = {
        (int(o), int(d)): float(s)
        for o, d, s in zip(od.origin, od.destination, od.seconds, strict=True)
    }
    want = {}
    for j in range(9):
        one = ref_times(net, demand, ([dests[0][j]], [dests[1][j]]), 1000, cutoff=cutoff)
        want.update({(i, j): t for i, t in enumerate(one) if t is not None})
    assert set(got) == set(want)
    assert len(want) > 50
    for key, t in want.items():
        assert got[key] == pytest.approx(t, rel=1e-9)
    assert od.reached().nnz == len(want)


def test_od_matrix_blocks_give_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    import planning.network.travel as travel

    net = grid_net(10, 5)
    rng = np.random.default_rng(5)
    demand = (rng.uniform(0, 1800, 80), rng.uniform(0, 1800, 80))
    dests = (rng.uniform(0, 1800, 13), rng.uniform(0, 1800, 13))
    whole = od_matrix(net, demand, dests, cutoff_s=200)
    monkeypatch.setattr(travel, "_BLOCK_BYTES", 1)  # one destination per block
    blocked = od_matrix(net, demand, dests, cutoff_s=200)
    assert np.array_equal(whole.origin, blocked.origin)
    assert np.array_equal(whole.destination, blocked.destination)
    assert np.array_equal(whole.seconds, blocked.seconds)


# ------------------------------------------------------------------ service areas


def test_service_area_on_a_straight_road() -> None:
    net = make_net([0, 2000], [0, 0], [0], [1], 10.0)
    area = service_area(net, ([1000.0], [0.0]), 60.0)  # 600 m each way, then walking
    assert area.contains(shapely.Point(1500, 5))
    assert area.contains(shapely.Point(500, -5))
    assert not area.contains(shapely.Point(1700, 0))
    assert not area.contains(shapely.Point(1000, 120))  # 120 m walk takes 86 s
    assert area.contains(shapely.Point(1000, 60))  # 60 m walk: 43 s


def test_service_area_grows_with_time() -> None:
    net = grid_net(8, 3)
    site = ([float(net.x[27])], [float(net.y[27])])  # on a node
    none = service_area(net, ([700.0], [700.0]), 60)  # the site is a 68 s walk from the road
    assert none.is_empty
    small = service_area(net, site, 60)
    large = service_area(net, site, 180)
    assert small.area > 0 and large.area > small.area
    assert large.buffer(1).contains(small)


def test_service_area_holds_every_point_the_engine_says_is_within_time() -> None:
    net = grid_net(10, 21)
    rng = np.random.default_rng(21)
    sites = (rng.uniform(300, 1500, 3), rng.uniform(300, 1500, 3))
    limit = 150.0
    area = service_area(net, sites, limit)
    px, py = rng.uniform(-200, 2000, 3000), rng.uniform(-200, 2000, 3000)
    res = nearest_site(net, (px, py), sites)
    t = res.seconds.filled(np.inf)
    inside = shapely.contains_xy(area, px, py)
    assert (t <= 0.9 * limit).sum() > 100
    assert inside[t <= 0.9 * limit].all()
    # and the area is not wildly larger than what the engine reaches
    assert inside[t > 1.5 * limit].mean() < 0.05
