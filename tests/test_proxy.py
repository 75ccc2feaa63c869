"""The proxy network: connected, labelled as a proxy, lengths with the detour factor."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo.errors import RoadNetworkError
from geo.proxy import proxy_network
from planning.demo import load_demo
from planning.network.travel import nearest_site


def test_demo_proxy_is_connected_and_marked() -> None:
    demo = load_demo()
    lon = np.concatenate([demo.demand["lon"], demo.sites["lon"]])
    lat = np.concatenate([demo.demand["lat"], demo.sites["lat"]])
    net = proxy_network(lon, lat)
    assert net.facts.is_proxy and "示意路网" in net.facts.notes[0]
    g = coo_matrix((np.ones(net.n_segments), (net.u, net.v)), shape=(net.n_nodes,) * 2)
    assert connected_components(g, directed=False)[0] == 1
    # every edge: straight line x 1.4, driven at 40 km/h
    straight = np.hypot(net.x[net.u] - net.x[net.v], net.y[net.u] - net.y[net.v])
    assert np.allclose(net.length_m, straight * 1.4)
    assert np.allclose(net.forward_s, net.length_m / (40 / 3.6))
    # demand points and sites are nodes: snapping distance 0
    res = nearest_site(
        net, _xy(net, demo.demand), _xy(net, demo.sites[demo.sites["level"] == "county"])
    )
    assert res.demand_snap.distance_m.max() < 0.01
    assert res.reached.all()


def _xy(net, table):
    from geo.projection import to_metric

    return to_metric(table["lon"], table["lat"], net.crs)


def test_far_islands_are_still_joined_by_the_spanning_tree() -> None:
    lon = [117.0, 117.01, 117.02, 118.5, 118.51]
    lat = [26.0, 26.01, 26.0, 26.0, 26.01]
    net = proxy_network(lon, lat, max_edge_km=5)
    g = coo_matrix((np.ones(net.n_segments), (net.u, net.v)), shape=(net.n_nodes,) * 2)
    assert connected_components(g, directed=False)[0] == 1
    assert net.length_m.max() > 100_000  # the one long link the tree needs


def test_collinear_and_tiny_inputs() -> None:
    net = proxy_network([117.0, 117.1, 117.2], [26.0, 26.0, 26.0], mode="walk")
    assert net.n_segments == 2
    assert np.allclose(net.forward_s, net.length_m / (5 / 3.6))
    with pytest.raises(RoadNetworkError):
        proxy_network([117.0], [26.0])
