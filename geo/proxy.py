"""A proxy road network for studies without a road file (示意路网).

Settlements (demand points) and sites are joined by the edges of their
Delaunay triangulation up to a maximum length, plus the edges of the
Euclidean minimum spanning tree so that nothing is left unconnected. An
edge's length is the straight line times a detour factor (1.4 by default: road
distance in hilly rural China is typically 1.3–1.5 times the straight line),
travelled at a single proxy speed per mode. Every output built on it says it
is a proxy, because it is not a road network.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import Delaunay, QhullError

from geo.errors import RoadNetworkError
from geo.network import Mode, NetworkFacts, RoadNetwork
from geo.projection import to_metric, utm_crs

DETOUR = 1.4
PROXY_KPH = {"drive": 40.0, "walk": 5.0}
MAX_EDGE_KM = 15.0
PROXY_LABEL_ZH = "示意路网（直线距离×绕行系数，非真实道路）"
PROXY_LABEL_EN = "proxy network (straight lines × detour, not real roads)"
PROXY_LABEL = f"{PROXY_LABEL_ZH} / {PROXY_LABEL_EN}"


def proxy_network(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    mode: Mode = "drive",
    detour: float = DETOUR,
    speed_kph: float | None = None,
    max_edge_km: float = MAX_EDGE_KM,
) -> RoadNetwork:
    """Build the proxy network over points (WGS-84), usually demand points plus sites.

    Parameters
    ----------
    lon, lat
        Points to connect; duplicates are merged.
    mode
        ``drive`` (40 km/h by default) or ``walk`` (5 km/h).
    detour
        Road length over straight-line length.
    speed_kph
        Override of the proxy speed.
    max_edge_km
        Delaunay edges longer than this are left out unless the spanning tree
        needs them.
    """
    lon_a = np.asarray(lon, dtype="float64").ravel()
    lat_a = np.asarray(lat, dtype="float64").ravel()
    good = np.isfinite(lon_a) & np.isfinite(lat_a)
    lon_a, lat_a = lon_a[good], lat_a[good]
    if len(lon_a) < 2:
        raise RoadNetworkError(
            "示意路网至少需要两个点", "a proxy network needs at least two points", file="proxy"
        )
    crs = utm_crs(float(np.median(lon_a)), float(np.median(lat_a)))
    x, y = to_metric(lon_a, lat_a, crs)
    xy = np.unique(np.round(np.column_stack([x, y]), 3), axis=0).astype(np.float64)
    x, y = xy[:, 0], xy[:, 1]
    n = len(x)
    pairs = _delaunay_pairs(xy) if n >= 3 else np.array([[0, 1]])
    length = np.hypot(x[pairs[:, 0]] - x[pairs[:, 1]], y[pairs[:, 0]] - y[pairs[:, 1]])
    graph = coo_matrix((length, (pairs[:, 0], pairs[:, 1])), shape=(n, n)).tocsr()
    tree = minimum_spanning_tree(graph).tocoo()
    in_tree = set(zip(np.minimum(tree.row, tree.col), np.maximum(tree.row, tree.col), strict=True))
    keep = (length <= max_edge_km * 1000) | np.array(
        [(int(a), int(b)) in in_tree for a, b in pairs], dtype=bool
    )
    pairs, length = pairs[keep], length[keep] * detour
    kph = speed_kph if speed_kph is not None else PROXY_KPH[mode]
    seconds = length / (kph / 3.6)
    facts = NetworkFacts(
        source="proxy",
        source_kind="proxy",
        mode=mode,
        is_proxy=True,
        nodes=n,
        segments=len(pairs),
        length_km=float(length.sum() / 1000),
        speed_source=f"proxy speed {kph:g} km/h, detour factor {detour:g}",
        notes=(PROXY_LABEL,),
        extra={"detour": detour, "proxy_kph": kph, "max_edge_km": max_edge_km},
    )
    return RoadNetwork(
        crs,
        x,
        y,
        pairs[:, 0].astype(np.int64),
        pairs[:, 1].astype(np.int64),
        length,
        seconds,
        seconds.copy(),
        facts,
    )


def _delaunay_pairs(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Unique undirected Delaunay edges (i < j); collinear points fall back to a chain."""
    try:
        tri = Delaunay(xy)
    except QhullError:
        order = np.lexsort((xy[:, 1], xy[:, 0]))
        return np.column_stack([order[:-1], order[1:]]).astype(np.int64)
    s = tri.simplices
    edges = np.concatenate([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]])
    edges = np.sort(edges, axis=1)
    return np.unique(edges, axis=0).astype(np.int64)
