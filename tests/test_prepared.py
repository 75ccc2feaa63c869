"""The prepared network gives the times of the per-query engine (planning.network.travel)."""

from __future__ import annotations

import numpy as np
import pytest

from planning.network.prepared import PreparedNetwork
from planning.network.travel import nearest_site, od_matrix
from tests.test_travel import grid_net

RTOL = 1e-9


def _points(net, n, seed, on_nodes=0, on_demand=None):
    rng = np.random.default_rng(seed)
    x = rng.uniform(net.x.min() - 100, net.x.max() + 100, n)
    y = rng.uniform(net.y.min() - 100, net.y.max() + 100, n)
    if on_nodes:
        k = rng.choice(net.n_nodes, on_nodes, replace=False)
        x[:on_nodes], y[:on_nodes] = net.x[k], net.y[k]
    if on_demand is not None:
        dx, dy = on_demand
        m = min(len(dx), n // 4)
        x[-m:], y[-m:] = dx[:m], dy[:m]
    return x, y


def _same_nearest(a, b) -> None:
    assert np.array_equal(a.reached, b.reached)
    r = a.reached
    np.testing.assert_allclose(a.seconds.filled(0)[r], b.seconds.filled(0)[r], rtol=RTOL)
    sa, sb = a.site.filled(-1)[r], b.site.filled(-1)[r]
    differ = sa != sb
    # a different nearest site only on an exact tie of the two sites' times
    if differ.any():
        pytest.fail(f"nearest sites differ at {np.flatnonzero(differ)[:5]}")


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_nearest_site_equals_the_per_query_engine(seed: int) -> None:
    net = grid_net(25, seed, oneway_share=0.3)
    dx, dy = _points(net, 600, seed, on_nodes=30)
    sx, sy = _points(net, 40, seed + 100, on_nodes=5, on_demand=(dx, dy))
    prep = PreparedNetwork(net, (dx, dy), max_snap_m=300)
    for cutoff in (None, 120.0, 400.0):
        ref = nearest_site(net, (dx, dy), (sx, sy), cutoff_s=cutoff, max_snap_m=300)
        got = prep.nearest_site((sx, sy), cutoff_s=cutoff)
        _same_nearest(got, ref)
        assert np.array_equal(got.site_snap.ok, ref.site_snap.ok)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reach_equals_the_od_matrix(seed: int) -> None:
    net = grid_net(20, seed, oneway_share=0.3)
    dx, dy = _points(net, 400, seed, on_nodes=20)
    sx, sy = _points(net, 30, seed + 50, on_nodes=4, on_demand=(dx, dy))
    prep = PreparedNetwork(net, (dx, dy), max_snap_m=300)
    for cutoff in (200.0, 600.0, 150.0):  # the last one reuses rows cut from the 600 s search
        ref = od_matrix(net, (dx, dy), (sx, sy), cutoff_s=cutoff, max_snap_m=300)
        got = prep.reach((sx, sy), cutoff)
        assert np.array_equal(got.origin, ref.origin)
        assert np.array_equal(got.destination, ref.destination)
        np.testing.assert_allclose(got.seconds, ref.seconds, rtol=RTOL)


def test_reach_with_a_cutoff_per_site_and_repeated_positions() -> None:
    net = grid_net(15, 7)
    dx, dy = _points(net, 200, 7)
    sx, sy = _points(net, 12, 8)
    sx, sy = np.append(sx, sx[:3]), np.append(sy, sy[:3])  # the same places twice
    cut = np.linspace(100, 700, len(sx))
    prep = PreparedNetwork(net, (dx, dy))
    got = prep.reach((sx, sy), cut).to_csr().toarray()
    for j in range(len(sx)):
        ref = od_matrix(net, (dx, dy), ([sx[j]], [sy[j]]), cutoff_s=float(cut[j]))
        want = np.zeros(len(dx))
        want[ref.origin] = ref.seconds
        np.testing.assert_allclose(got[:, j], want, rtol=RTOL)


def test_side_by_side_keeps_the_order_and_raises_the_first_error() -> None:
    from geo.threads import side_by_side

    assert side_by_side(lambda x: x * x, [3, 1, 2]) == [9, 1, 4]
    assert side_by_side(lambda x: x, []) == []

    def fail(x: int) -> int:
        if x == 2:
            raise ValueError("two")
        return x

    with pytest.raises(ValueError, match="two"):
        side_by_side(fail, [1, 2, 3])
