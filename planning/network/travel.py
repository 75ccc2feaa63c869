"""Travel times on a road network: snapping, nearest site, sparse OD matrix, service areas.

Times run from the demand point to the site — the trip a worker makes — so the
searches run outward from the sites over the *reversed* arcs. Every point is
snapped to the nearest point on the nearest segment (with a walk at
``walk_kph`` from the point to the road, and a maximum snap distance); snapped
points become nodes of an augmented graph in which their segments are split,
so two points on one segment, and one-way segments, are handled exactly.
Shortest paths are scipy's compiled Dijkstra on a CSR matrix: one multi-source
pass with a cutoff for nearest-site times; one cutoff-bounded pass per
destination (in blocks) for OD matrices. Nothing is all-pairs and no Python
loop runs per origin-destination pair.

Unreachable (or unsnapped) means "not reached": results carry explicit masks,
never NaN or a sentinel number.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geo.network import FloatArray, IntArray, RoadNetwork

BoolArray = npt.NDArray[np.bool_]
DEFAULT_MAX_SNAP_M = 1000.0
DEFAULT_WALK_KPH = 5.0
# Dense rows of a Dijkstra block are bounded to this many bytes.
_BLOCK_BYTES = 64 * 1024 * 1024

_SAMPLE_M = 50.0


@dataclass(frozen=True)
class _Index:
    """Per-network search structures, built once and cached.

    ``tree`` holds sample points every ``_SAMPLE_M`` metres along every
    segment (ends included) with the segment they lie on; ``dropped`` indexes
    the segments removed with small components (``dropped_tree`` samples them
    the same way, to find quickly which points need the exact query); ``base`` holds the reversed
    arcs sorted by (row, column, weight) with their segment.
    """

    tree: cKDTree
    sample_seg: IntArray
    spacing: float
    dropped: shapely.STRtree | None
    dropped_tree: cKDTree | None  # samples along the dropped segments, as in ``tree``
    dropped_spacing: float
    base_rows: IntArray
    base_cols: IntArray
    base_w: FloatArray
    base_seg: IntArray


_indexes: weakref.WeakKeyDictionary[RoadNetwork, _Index] = weakref.WeakKeyDictionary()


def _samples(
    ax: FloatArray, ay: FloatArray, bx: FloatArray, by: FloatArray
) -> tuple[IntArray, FloatArray, FloatArray, float]:
    """Points every ``_SAMPLE_M`` m (at most) along segments, ends included.

    Returns the segment of each sample, its coordinates and the largest gap
    between consecutive samples: every point of a segment is within half of
    it from a sample.
    """
    length = np.hypot(bx - ax, by - ay)
    n_samples = np.maximum(1, np.ceil(length / _SAMPLE_M)).astype(np.int64) + 1
    seg = np.repeat(np.arange(len(ax), dtype=np.int64), n_samples)
    k = np.arange(len(seg)) - np.repeat(np.cumsum(n_samples) - n_samples, n_samples)
    f = k / (n_samples[seg] - 1)
    sx = ax[seg] + (bx[seg] - ax[seg]) * f
    sy = ay[seg] + (by[seg] - ay[seg]) * f
    spacing = float(np.max(length / (n_samples - 1))) if len(ax) else _SAMPLE_M
    return seg, sx, sy, spacing


def _tree(x: FloatArray, y: FloatArray) -> cKDTree:
    return cKDTree(np.column_stack([x, y]), balanced_tree=False, compact_nodes=False)


def _index(net: RoadNetwork) -> _Index:
    cached = _indexes.get(net)
    if cached is not None:
        return cached
    ux, uy, vx, vy = net.x[net.u], net.y[net.u], net.x[net.v], net.y[net.v]
    seg, sx, sy, spacing = _samples(ux, uy, vx, vy)
    dropped = dropped_tree = None
    dropped_spacing = 0.0
    if len(net.dropped_xy):
        ends = net.dropped_xy.reshape(-1, 4)
        dropped = shapely.STRtree(shapely.linestrings(ends.reshape(-1, 2, 2)))
        _, dx, dy, dropped_spacing = _samples(ends[:, 0], ends[:, 1], ends[:, 2], ends[:, 3])
        dropped_tree = _tree(dx, dy)
    # reversed arcs (rows = arc head, cols = arc tail), parallel arcs kept, sorted
    fw, bw = np.isfinite(net.forward_s), np.isfinite(net.backward_s)
    segs = np.arange(net.n_segments, dtype=np.int64)
    rows = np.concatenate([net.v[fw], net.u[bw]])
    cols = np.concatenate([net.u[fw], net.v[bw]])
    w = np.concatenate([net.forward_s[fw], net.backward_s[bw]])
    aseg = np.concatenate([segs[fw], segs[bw]])
    # one stable sort on a combined key, then weight order inside runs of parallel arcs
    key = rows * max(net.n_nodes, 1) + cols
    order = np.argsort(key, kind="stable")
    runs = np.flatnonzero(np.diff(key[order]) == 0)
    if len(runs):
        # only the arcs of parallel runs are reordered (a few hundred of 700,000)
        dup = np.zeros(len(order), dtype=bool)
        dup[runs] = dup[runs + 1] = True
        sub = order[dup]
        order[dup] = sub[np.lexsort((w[sub], key[sub]))]
    cached = _Index(
        _tree(sx, sy),
        seg,
        spacing,
        dropped,
        dropped_tree,
        dropped_spacing,
        rows[order],
        cols[order],
        w[order],
        aseg[order],
    )
    _indexes[net] = cached
    return cached


@dataclass(frozen=True)
class Snapped:
    """Where points meet the network.

    Attributes
    ----------
    segment
        Index of the nearest segment (meaningful where ``ok``).
    fraction
        Position along that segment from ``u`` (0) to ``v`` (1).
    distance_m
        Straight distance from the point to the road.
    access_s
        Walking time over ``distance_m``.
    ok
        Snapped within the maximum snap distance.
    near_dropped
        The point lies closer to a segment dropped with a small disconnected
        component than to the kept network.
    """

    segment: IntArray
    fraction: FloatArray
    distance_m: FloatArray
    access_s: FloatArray
    ok: BoolArray
    near_dropped: BoolArray

    @property
    def unsnapped(self) -> int:
        """Number of points farther than the maximum snap distance from any road."""
        return int((~self.ok).sum())


def snap(
    net: RoadNetwork,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    walk_kph: float = DEFAULT_WALK_KPH,
) -> Snapped:
    """Snap points (metric coordinates) to the nearest point on the nearest segment.

    Parameters
    ----------
    net
        The road network.
    x, y
        Point coordinates in ``net.crs``.
    max_snap_m
        Points farther than this from every segment are not snapped (reported,
        never silently attached).
    walk_kph
        Walking speed for the access leg from the point to the road.
    """
    px = np.asarray(x, dtype="float64").ravel()
    py = np.asarray(y, dtype="float64").ravel()
    n = len(px)
    segment = np.zeros(n, dtype=np.int64)
    fraction = np.zeros(n)
    distance = np.full(n, np.inf)
    ok = np.zeros(n, dtype=bool)
    near_dropped = np.zeros(n, dtype=bool)
    if n == 0 or net.n_segments == 0:
        return Snapped(segment, fraction, distance, distance.copy(), ok, near_dropped)
    idx = _index(net)
    # Exact nearest segment: the nearest sample point is at distance ds >= d*, and
    # the true nearest segment has a sample within d* + spacing/2 <= ds + spacing/2,
    # so the segments of the samples within that radius contain the answer.
    ds, _ = idx.tree.query(np.column_stack([px, py]), k=1)
    near = np.flatnonzero(ds - idx.spacing / 2 <= max_snap_m)
    if len(near):
        radius = ds[near] + idx.spacing / 2 + 1e-6
        hits = idx.tree.query_ball_point(
            np.column_stack([px[near], py[near]]), radius, return_sorted=False
        )
        counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
        src = np.repeat(near, counts)
        seg = idx.sample_seg[np.concatenate(hits).astype(np.int64)] if counts.sum() else src
        ax, ay = net.x[net.u[seg]], net.y[net.u[seg]]
        bx, by = net.x[net.v[seg]], net.y[net.v[seg]]
        dx, dy = bx - ax, by - ay
        t = np.clip(((px[src] - ax) * dx + (py[src] - ay) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
        d = np.hypot(px[src] - (ax + t * dx), py[src] - (ay + t * dy))
        # per point, the closest candidate (ties: the lowest segment index)
        order = np.lexsort((seg, d, src))
        first = np.ones(len(order), dtype=bool)
        first[1:] = src[order][1:] != src[order][:-1]
        best = order[first]
        pts = src[best]
        segment[pts], fraction[pts], distance[pts] = seg[best], t[best], d[best]
        ok[pts] = d[best] <= max_snap_m
    if idx.dropped is not None:
        near_dropped = _near_dropped(idx, px, py, distance, max_snap_m)
    access = np.where(ok, distance / (walk_kph / 3.6), np.inf)
    return Snapped(segment, fraction, distance, access, ok, near_dropped)


def _near_dropped(
    idx: _Index, px: FloatArray, py: FloatArray, distance: FloatArray, max_snap_m: float
) -> BoolArray:
    """Points nearer (within ``max_snap_m``) to a dropped segment than to their snap."""
    out = np.zeros(len(px), dtype=bool)
    if idx.dropped is None or idx.dropped_tree is None:
        return out
    # A dropped segment at distance D has a sample within D + spacing/2, so
    # points whose nearest dropped sample is farther than that from
    # min(distance, max_snap_m) cannot be nearer to a dropped segment.
    half = idx.dropped_spacing / 2
    dd, _ = idx.dropped_tree.query(
        np.column_stack([px, py]), k=1, distance_upper_bound=max_snap_m + half + 1e-6
    )
    cand = np.flatnonzero(dd - half <= np.minimum(distance, max_snap_m) + 1e-6)
    if len(cand):
        (dsrc, _), ddist = idx.dropped.query_nearest(
            shapely.points(px[cand], py[cand]),
            max_distance=max_snap_m,
            return_distance=True,
            all_matches=False,
        )
        hit = cand[dsrc]
        out[hit] = ddist < distance[hit]
    return out


@dataclass(frozen=True)
class _Graph:
    """The network with snapped points inserted as nodes, arcs reversed for searching.

    Nodes: the road nodes, then one per distinct interior snap position, then
    one source node per site.
    """

    reverse: sp.csr_matrix
    demand_node: IntArray  # node of each demand point (meaningful where snapped)
    source_node: IntArray  # source node of each site (meaningful where snapped)
    first_source: int
    split: _Split


@dataclass(frozen=True)
class _Split:
    """Segments after splitting at snapped points, and where each point landed."""

    tail: IntArray
    head: IntArray
    forward_s: FloatArray
    backward_s: FloatArray
    x: FloatArray  # coordinates of all nodes, road nodes first
    y: FloatArray
    point_node: IntArray
    split_segments: IntArray
    n_pieces: int

    @property
    def n_nodes(self) -> int:
        return len(self.x)

    def piece_arcs(self) -> tuple[IntArray, IntArray, FloatArray]:
        """Directed arcs of the pieces of split segments only (the last ``n_pieces``)."""
        k = len(self.tail) - self.n_pieces
        return _directed(self.tail[k:], self.head[k:], self.forward_s[k:], self.backward_s[k:])


def _directed(
    tail: IntArray, head: IntArray, fwd: FloatArray, bwd: FloatArray
) -> tuple[IntArray, IntArray, FloatArray]:
    f_ok, b_ok = np.isfinite(fwd), np.isfinite(bwd)
    a = np.concatenate([tail[f_ok], head[b_ok]])
    b = np.concatenate([head[f_ok], tail[b_ok]])
    w = np.concatenate([fwd[f_ok], bwd[b_ok]])
    return a, b, w


def _split(net: RoadNetwork, snaps: Snapped) -> _Split:
    """Split segments at snapped points (each distinct position becomes a node)."""
    n0 = net.n_nodes
    ok = snaps.ok
    seg, frac = snaps.segment[ok], snaps.fraction[ok]
    point_node = np.full(len(ok), -1, dtype=np.int64)
    at_u, at_v = frac <= 0.0, frac >= 1.0
    inner = ~(at_u | at_v)
    idx_ok = np.flatnonzero(ok)
    point_node[idx_ok[at_u]] = net.u[seg[at_u]]
    point_node[idx_ok[at_v]] = net.v[seg[at_v]]

    # Interior points: one new node per distinct (segment, fraction).
    iseg, ifrac = seg[inner], frac[inner]
    order = np.lexsort((ifrac, iseg))
    s_sorted, f_sorted = iseg[order], ifrac[order]
    distinct = np.ones(len(order), dtype=bool)
    distinct[1:] = (s_sorted[1:] != s_sorted[:-1]) | (f_sorted[1:] != f_sorted[:-1])
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.cumsum(distinct) - 1
    useg, ufrac = s_sorted[distinct], f_sorted[distinct]
    new_nodes = n0 + np.arange(len(useg), dtype=np.int64)
    point_node[idx_ok[inner]] = new_nodes[inverse]

    # Chain u -> w1 -> ... -> wk -> v on every split segment (uniq is sorted by s, f).
    first = np.ones(len(useg), dtype=bool)
    first[1:] = useg[1:] != useg[:-1]
    last = np.ones(len(useg), dtype=bool)
    last[:-1] = useg[1:] != useg[:-1]
    prev_node = np.where(first, net.u[useg], np.roll(new_nodes, 1))
    prev_frac = np.where(first, 0.0, np.roll(ufrac, 1))
    piece_seg = np.concatenate([useg, useg[last]])
    piece_share = np.concatenate([ufrac - prev_frac, 1.0 - ufrac[last]])

    keep = np.ones(net.n_segments, dtype=bool)
    keep[useg] = False
    tail = np.concatenate([net.u[keep], prev_node, new_nodes[last]])
    head = np.concatenate([net.v[keep], new_nodes, net.v[useg[last]]])
    fw = np.concatenate([net.forward_s[keep], net.forward_s[piece_seg] * piece_share])
    bw = np.concatenate([net.backward_s[keep], net.backward_s[piece_seg] * piece_share])
    ux, uy = net.x[net.u[useg]], net.y[net.u[useg]]
    vx, vy = net.x[net.v[useg]], net.y[net.v[useg]]
    x = np.concatenate([net.x, ux + (vx - ux) * ufrac])
    y = np.concatenate([net.y, uy + (vy - uy) * ufrac])
    return _Split(tail, head, fw, bw, x, y, point_node, useg, len(piece_seg))


def _unsplit_arcs(net: RoadNetwork, split: _Split) -> tuple[IntArray, IntArray, FloatArray]:
    """Reversed arcs of the segments ``split`` left whole, the fastest of parallel ones.

    They come from the network's cached, presorted arc list, so no sort runs per query.
    """
    idx = _index(net)
    is_split = np.zeros(net.n_segments, dtype=bool)
    is_split[split.split_segments] = True
    keep = ~is_split[idx.base_seg]
    rows, cols, w = idx.base_rows[keep], idx.base_cols[keep], idx.base_w[keep]
    # parallel arcs: the list is sorted by (row, col, weight), so the first of each
    # pair is the fastest
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return rows[first], cols[first], w[first]


def _graph(net: RoadNetwork, demand: Snapped, sites: Snapped) -> _Graph:
    """Augmented graph with one source node per snapped site.

    Each site's source node is linked to its road position by the site's
    walking access time, so one multi-source search starts every site at its
    own offset. The arcs of unsplit segments come from the network's cached,
    presorted arc list, so no sort runs per query.
    """
    fields = Snapped.__dataclass_fields__
    both = Snapped(*(np.concatenate([getattr(demand, f), getattr(sites, f)]) for f in fields))
    split = _split(net, both)
    rows, cols, w = _unsplit_arcs(net, split)
    # pieces of split segments always touch a new node: no pair repeats a base arc
    a, b, pw = split.piece_arcs()
    n, point_node = split.n_nodes, split.point_node
    n_d, n_s = len(demand.ok), len(sites.ok)
    site_road_node = point_node[n_d:]
    source = n + np.arange(n_s, dtype=np.int64)
    ok = sites.ok
    # the walk from the road to the site is an arc road -> site (reversed: site -> road)
    all_rows = np.concatenate([rows, b, source[ok]])
    all_cols = np.concatenate([cols, a, site_road_node[ok]])
    all_w = np.concatenate([w, pw, sites.access_s[ok]])
    # COO -> CSR keeps explicit zeros (a site exactly on the road); no duplicates remain
    graph = sp.csr_matrix((all_w, (all_rows, all_cols)), shape=(n + n_s, n + n_s))
    return _Graph(graph, point_node[:n_d], source, n, split)


@dataclass(frozen=True)
class NearestResult:
    """Nearest site for every demand point.

    ``site`` and ``seconds`` are masked where no site is reached within the
    cutoff (or the demand point could not be snapped).
    """

    site: np.ma.MaskedArray
    seconds: np.ma.MaskedArray
    demand_snap: Snapped
    site_snap: Snapped

    @property
    def reached(self) -> BoolArray:
        """Demand points with a site within the cutoff."""
        return np.asarray(~np.ma.getmaskarray(self.seconds))

    @property
    def minutes(self) -> np.ma.MaskedArray:
        """Travel minutes, masked where not reached."""
        return self.seconds / 60.0


def nearest_site(
    net: RoadNetwork,
    demand_xy: tuple[npt.ArrayLike, npt.ArrayLike],
    site_xy: tuple[npt.ArrayLike, npt.ArrayLike],
    *,
    cutoff_s: float | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    walk_kph: float = DEFAULT_WALK_KPH,
) -> NearestResult:
    """Time from every demand point to its nearest site, in one multi-source pass.

    The total is walk to the road + network time + walk from the road to the
    site. With ``cutoff_s`` the search stops there and farther points are
    reported as not reached.
    """
    d_snap = snap(net, *demand_xy, max_snap_m=max_snap_m, walk_kph=walk_kph)
    s_snap = snap(net, *site_xy, max_snap_m=max_snap_m, walk_kph=walk_kph)
    n_d = len(d_snap.ok)
    site_out = np.zeros(n_d, dtype=np.int64)
    secs = np.zeros(n_d)
    reached = np.zeros(n_d, dtype=bool)
    sources_ok = np.flatnonzero(s_snap.ok)
    if n_d and len(sources_ok) and d_snap.ok.any():
        graph = _graph(net, d_snap, s_snap)
        d_nodes = graph.demand_node
        limit = np.inf if cutoff_s is None else float(cutoff_s)
        dist, _, origin = dijkstra(
            graph.reverse,
            directed=True,
            indices=graph.source_node[sources_ok],
            limit=limit,
            min_only=True,
            return_predecessors=True,
        )
        okd = np.flatnonzero(d_snap.ok)
        total = dist[d_nodes[okd]] + d_snap.access_s[okd]
        hit = np.isfinite(total) & (total <= limit)
        rows = okd[hit]
        secs[rows] = total[hit]
        site_out[rows] = origin[d_nodes[rows]] - graph.first_source
        reached[rows] = True
    return NearestResult(
        np.ma.masked_array(site_out, mask=~reached),
        np.ma.masked_array(secs, mask=~reached),
        d_snap,
        s_snap,
    )


@dataclass(frozen=True)
class OdMatrix:
    """Sparse origin-destination times within a cutoff (origins = demand points).

    Only pairs with a time at or under the cutoff are stored; a pair that is
    absent is "not reached", never a number.
    """

    origin: IntArray
    destination: IntArray
    seconds: FloatArray
    shape: tuple[int, int]
    origin_snap: Snapped
    destination_snap: Snapped

    def to_csr(self) -> sp.csr_matrix:
        """Seconds as a CSR matrix (origins x destinations); use ``reached()`` for zeros."""
        return sp.csr_matrix((self.seconds, (self.origin, self.destination)), shape=self.shape)

    def reached(self) -> sp.csr_matrix:
        """Boolean CSR of the reached pairs (a time of exactly 0 is still reached)."""
        ones = np.ones(len(self.origin), dtype=bool)
        return sp.csr_matrix((ones, (self.origin, self.destination)), shape=self.shape)


def od_matrix(
    net: RoadNetwork,
    origin_xy: tuple[npt.ArrayLike, npt.ArrayLike],
    destination_xy: tuple[npt.ArrayLike, npt.ArrayLike],
    *,
    cutoff_s: float,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    walk_kph: float = DEFAULT_WALK_KPH,
) -> OdMatrix:
    """Times from origins (demand) to destinations (candidates, sites) up to ``cutoff_s``.

    One cutoff-bounded Dijkstra per destination over the reversed graph, in
    blocks whose dense rows stay under 64 MB; only pairs within the cutoff are
    kept, so the result grows with the pairs within the cutoff, not with
    origins x destinations.
    """
    o_snap = snap(net, *origin_xy, max_snap_m=max_snap_m, walk_kph=walk_kph)
    d_snap = snap(net, *destination_xy, max_snap_m=max_snap_m, walk_kph=walk_kph)
    shape = (len(o_snap.ok), len(d_snap.ok))
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []
    dest_ok = np.flatnonzero(d_snap.ok)
    okd = np.flatnonzero(o_snap.ok)
    if len(dest_ok) and len(okd):
        graph = _graph(net, o_snap, d_snap)
        o_nodes, sources = graph.demand_node, graph.source_node
        block = max(1, _BLOCK_BYTES // (8 * graph.reverse.shape[0]))
        o_nodes_ok, o_access = o_nodes[okd], o_snap.access_s[okd]
        for start in range(0, len(dest_ok), block):
            dests = dest_ok[start : start + block]
            dist = dijkstra(graph.reverse, directed=True, indices=sources[dests], limit=cutoff_s)
            total = dist[:, o_nodes_ok] + o_access
            di, oi = np.nonzero(total <= cutoff_s)
            rows.append(okd[oi])
            cols.append(dests[di])
            vals.append(total[di, oi])
            del dist, total
    origin = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    destination = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    seconds = np.concatenate(vals) if vals else np.zeros(0)
    # CSR construction orders pairs by origin, then destination, in linear time
    csr = sp.csr_matrix((seconds, (origin, destination)), shape=shape)
    csr.sort_indices()
    ordered_rows = np.repeat(np.arange(shape[0], dtype=np.int64), np.diff(csr.indptr))
    return OdMatrix(ordered_rows, csr.indices.astype(np.int64), csr.data, shape, o_snap, d_snap)


def service_area(
    net: RoadNetwork,
    site_xy: tuple[npt.ArrayLike, npt.ArrayLike],
    seconds: float,
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    walk_kph: float = DEFAULT_WALK_KPH,
) -> shapely.Geometry:
    """Area from which some site is reachable within ``seconds`` (metric CRS).

    Road positions with time-to-site ``t <= seconds`` come from one
    multi-source search. Along a segment the time is the smaller of leaving by
    either end, ``min(fw * (1 - f) + t_v, bw * f + t_u)``, and a walker there
    covers ``r = clip((seconds - t) * walk, 1 m, max_snap_m)``: both are
    linear between a few break points (where the two ways cross, where ``r``
    reaches its cap, where ``t`` reaches the limit), so each segment is cut
    exactly there, and along each piece the area is exactly the convex hull
    of the walking discs at its two ends. The result is the union of those
    hulls.
    """
    s_snap = snap(net, *site_xy, max_snap_m=max_snap_m, walk_kph=walk_kph)
    if not s_snap.ok.any():
        return shapely.Polygon()
    fields = Snapped.__dataclass_fields__
    none = Snapped(*(np.zeros(0, dtype=getattr(s_snap, f).dtype) for f in fields))
    graph = _graph(net, none, s_snap)
    dist = dijkstra(
        graph.reverse,
        directed=True,
        indices=graph.source_node[s_snap.ok],
        limit=seconds,
        min_only=True,
    )
    sp_ = graph.split
    px, py = sp_.x, sp_.y
    tail, head = sp_.tail, sp_.head
    du, dv = dist[tail], dist[head]
    fw, bw = sp_.forward_s, sp_.backward_s
    walk = walk_kph / 3.6
    capped = seconds - max_snap_m / walk  # times up to this leave the walker at the cap

    def time_at(seg: IntArray, f: FloatArray) -> FloatArray:
        # leave by the head (forward) or by the tail (backward), plus the time from that end
        with np.errstate(invalid="ignore"):  # inf * 0 where a direction is forbidden
            via_v = np.where(np.isfinite(fw[seg]), fw[seg] * (1 - f), np.inf) + dv[seg]
            via_u = np.where(np.isfinite(bw[seg]), bw[seg] * f, np.inf) + du[seg]
        return np.asarray(np.minimum(via_v, via_u))

    reach = np.flatnonzero(np.isfinite(du) | np.isfinite(dv))
    a, b = fw[reach], bw[reach]
    tu, tv = du[reach], dv[reach]
    with np.errstate(invalid="ignore", divide="ignore"):
        # via_v = a (1 - f) + tv falls, via_u = b f + tu rises; where each meets a level
        cross = (a + tv - tu) / (a + b)
        breaks = [cross]
        for level in (capped, seconds):
            breaks.append(1 - (level - tv) / a)  # via_v == level
            breaks.append((level - tu) / b)  # via_u == level
    cuts = np.column_stack([np.zeros(len(reach)), np.ones(len(reach)), *breaks])
    cuts = np.where(np.isfinite(cuts) & (cuts >= 0) & (cuts <= 1), cuts, np.nan)
    cuts = np.sort(cuts, axis=1)  # NaN last
    f0, f1 = cuts[:, :-1], cuts[:, 1:]
    valid = np.isfinite(f0) & np.isfinite(f1) & (f1 > f0)
    row, col = np.nonzero(valid)
    seg = reach[row]
    f0, f1 = f0[row, col], f1[row, col]
    inside = time_at(seg, (f0 + f1) / 2) <= seconds
    seg, f0, f1 = seg[inside], f0[inside], f1[inside]
    t0, t1 = np.minimum(time_at(seg, f0), seconds), np.minimum(time_at(seg, f1), seconds)
    ux, uy = px[tail[seg]], py[tail[seg]]
    vx, vy = px[head[seg]], py[head[seg]]
    r0 = np.clip((seconds - t0) * walk, 1.0, max_snap_m)
    r1 = np.clip((seconds - t1) * walk, 1.0, max_snap_m)
    d0 = shapely.buffer(shapely.points(ux + (vx - ux) * f0, uy + (vy - uy) * f0), r0, quad_segs=4)
    d1 = shapely.buffer(shapely.points(ux + (vx - ux) * f1, uy + (vy - uy) * f1), r1, quad_segs=4)
    return shapely.union_all(shapely.convex_hull(shapely.union(d0, d1)))
