"""A prepared network: one road network with the demand snapped once, reused by every query.

Everything the analysis asks of a network of one travel mode — the nearest
qualifying site of every demand point, the sparse site × demand times within a
standard's limit (accessibility, location models), the same for candidates —
runs on one *prepared graph*: the network's reversed arcs with every snapped
demand point inserted as a node, built once. Sites are not inserted: each
site is attached as a source node with at most two arcs, to the two ends of
the piece of road it lies on, carrying its walking access plus the time along
that piece. Since a site never splits a segment, a site's times do not depend
on the other sites, so

* a site's row of times (its reach) is computed once per position and cutoff
  and kept: adding, moving or closing a site recomputes only that site's row;
* sites snap once per position;
* a nearest-site query (one multi-source search with a cutoff) reuses the
  prepared graph and only attaches its sources.

The times are those of ``planning.network.travel`` (which inserts sites as nodes): a
site on a piece of road split at its position gives the same path lengths,
up to floating-point rounding in the last bits.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from geo.network import FloatArray, IntArray, RoadNetwork
from geo.projection import to_metric
from geo.threads import side_by_side
from planning.network.travel import (
    _BLOCK_BYTES,
    DEFAULT_MAX_SNAP_M,
    DEFAULT_WALK_KPH,
    NearestResult,
    OdMatrix,
    Snapped,
    _split,
    _unsplit_arcs,
    snap,
)

BoolArray = npt.NDArray[np.bool_]
# Rows of reach kept per prepared network (site and candidate positions).
_ROW_CACHE = 200_000
# Nearest-site answers kept per prepared network (one per standard and site set).
_NEAREST_CACHE = 64


@dataclass(frozen=True)
class _Row:
    """One site's reach: the demand points within ``cutoff_s`` and their times."""

    cutoff_s: float
    demand: IntArray
    seconds: FloatArray


def _key(x: float, y: float) -> tuple[float, float]:
    return (float(x), float(y))


class PreparedNetwork:
    """A road network of one mode with one demand table snapped and inserted once.

    Parameters
    ----------
    net
        The road network.
    demand_xy
        Demand coordinates in ``net.crs``.
    max_snap_m, walk_kph
        Snapping rules, as in ``planning.network.travel.snap``; fixed for the lifetime
        of the prepared network (cached reaches depend on them).
    """

    def __init__(
        self,
        net: RoadNetwork,
        demand_xy: tuple[npt.ArrayLike, npt.ArrayLike],
        *,
        max_snap_m: float = DEFAULT_MAX_SNAP_M,
        walk_kph: float = DEFAULT_WALK_KPH,
    ) -> None:
        self.net = net
        self.max_snap_m = float(max_snap_m)
        self.walk_kph = float(walk_kph)
        self.demand_snap = snap(net, *demand_xy, max_snap_m=max_snap_m, walk_kph=walk_kph)
        self.n_demand = len(self.demand_snap.ok)
        split = _split(net, self.demand_snap)
        rows, cols, w = _unsplit_arcs(net, split)
        a, b, pw = split.piece_arcs()
        n = split.n_nodes
        self.n_nodes = n
        graph = sp.csr_matrix(
            (np.concatenate([w, pw]), (np.concatenate([rows, b]), np.concatenate([cols, a]))),
            shape=(n, n),
        )
        graph.sort_indices()
        self._indptr = graph.indptr.astype(np.int64)
        self._indices = graph.indices.astype(np.int32)
        self._data = graph.data.astype(np.float64)
        self.demand_node = split.point_node[: self.n_demand]
        self._ok_demand = np.flatnonzero(self.demand_snap.ok)
        # where demand split segments: sorted (segment, fraction) with their nodes
        self._piece_seg, self._piece_frac, self._piece_node = self._split_points()
        self._snaps: dict[tuple[float, float], tuple[int, float, float, float, bool]] = {}
        self._rows: OrderedDict[tuple[float, float], _Row] = OrderedDict()
        self._nearest: OrderedDict[str, NearestResult] = OrderedDict()

    # ------------------------------------------------------------------ set-up

    def _split_points(self) -> tuple[IntArray, FloatArray, IntArray]:
        """Interior demand positions as sorted (segment, fraction, node), with a sentinel."""
        snaps = self.demand_snap
        ok = snaps.ok
        seg, frac = snaps.segment[ok], snaps.fraction[ok]
        inner = (frac > 0.0) & (frac < 1.0)
        node = self.demand_node[ok][inner]
        seg, frac = seg[inner], frac[inner]
        order = np.lexsort((frac, seg))
        seg, frac, node = seg[order], frac[order], node[order]
        distinct = np.ones(len(seg), dtype=bool)
        distinct[1:] = (seg[1:] != seg[:-1]) | (frac[1:] != frac[:-1])
        # a sentinel segment -1 at the end: index -1 and index len() both land on it
        return (
            np.append(seg[distinct], -1),
            np.append(frac[distinct], 0.0),
            np.append(node[distinct], -1),
        )

    @property
    def crs(self) -> str:
        """The metric CRS of the network."""
        return self.net.crs

    def snap_sites(self, x: npt.ArrayLike, y: npt.ArrayLike) -> Snapped:
        """Snap site positions, each distinct position once for the network's lifetime."""
        px = np.asarray(x, dtype="float64").ravel()
        py = np.asarray(y, dtype="float64").ravel()
        keys = [_key(a, b) for a, b in zip(px.tolist(), py.tolist(), strict=True)]
        todo = [i for i, k in enumerate(keys) if k not in self._snaps]
        if todo:
            t = np.asarray(todo, dtype=np.int64)
            s = snap(self.net, px[t], py[t], max_snap_m=self.max_snap_m, walk_kph=self.walk_kph)
            for j, i in enumerate(todo):
                self._snaps[keys[i]] = (
                    int(s.segment[j]),
                    float(s.fraction[j]),
                    float(s.distance_m[j]),
                    float(s.access_s[j]),
                    bool(s.ok[j]),
                )
        got = [self._snaps[k] for k in keys]
        n = len(got)
        segment = np.fromiter((g[0] for g in got), dtype=np.int64, count=n)
        fraction = np.fromiter((g[1] for g in got), dtype=np.float64, count=n)
        distance = np.fromiter((g[2] for g in got), dtype=np.float64, count=n)
        access = np.fromiter((g[3] for g in got), dtype=np.float64, count=n)
        ok = np.fromiter((g[4] for g in got), dtype=bool, count=n)
        # sites are never reported as near dropped components (as in planning.network.travel)
        return Snapped(segment, fraction, distance, access, ok, np.zeros(n, dtype=bool))

    def _attach(self, snaps: Snapped) -> tuple[IntArray, IntArray, FloatArray]:
        """Arcs from each snapped site's source (0-based) to the prepared graph.

        A site at fraction f of segment s lies on the piece between the demand
        positions (or segment ends) ``lo <= f <= hi``; a demand point reaches it
        from ``lo`` going forward (time ``fw * (f - lo)``) or from ``hi`` going
        backward (``bw * (hi - f)``). Reversed for the search: source -> lo and
        source -> hi, plus the site's walking access.
        """
        net = self.net
        ok = np.flatnonzero(snaps.ok)
        seg, f, acc = snaps.segment[ok], snaps.fraction[ok], snaps.access_s[ok]
        at_u, at_v = f <= 0.0, f >= 1.0
        inner = ~(at_u | at_v)
        src_parts = [ok[at_u], ok[at_v]]
        dst_parts = [net.u[seg[at_u]], net.v[seg[at_v]]]
        w_parts = [acc[at_u], acc[at_v]]
        if inner.any():
            i_src, i_seg, i_f, i_acc = ok[inner], seg[inner], f[inner], acc[inner]
            ps, pf, pn = self._piece_seg, self._piece_frac, self._piece_node
            # the first demand position strictly after (i_seg, i_f), and the one before it
            after = _search(ps[:-1], pf[:-1], i_seg, i_f)
            before = after - 1  # -1 lands on the sentinel
            lo_same, hi_same = ps[before] == i_seg, ps[after] == i_seg
            lo_node = np.where(lo_same, pn[before], net.u[i_seg])
            lo_f = np.where(lo_same, pf[before], 0.0)
            hi_node = np.where(hi_same, pn[after], net.v[i_seg])
            hi_f = np.where(hi_same, pf[after], 1.0)
            fw, bw = net.forward_s[i_seg], net.backward_s[i_seg]
            f_ok, b_ok = np.isfinite(fw), np.isfinite(bw)
            src_parts += [i_src[f_ok], i_src[b_ok]]
            dst_parts += [lo_node[f_ok], hi_node[b_ok]]
            w_parts += [
                i_acc[f_ok] + fw[f_ok] * (i_f[f_ok] - lo_f[f_ok]),
                i_acc[b_ok] + bw[b_ok] * (hi_f[b_ok] - i_f[b_ok]),
            ]
        return (
            np.concatenate(src_parts).astype(np.int64),
            np.concatenate(dst_parts).astype(np.int64),
            np.concatenate(w_parts).astype(np.float64),
        )

    def _graph(self, snaps: Snapped) -> sp.csr_matrix:
        """The prepared graph with one source node per site appended (rows only)."""
        src, dst, w = self._attach(snaps)
        k = len(snaps.ok)
        order = np.lexsort((dst, src))
        src, dst, w = src[order], dst[order], w[order]
        counts = np.bincount(src, minlength=k)
        nnz = len(self._data)
        indptr = np.concatenate([self._indptr, nnz + np.cumsum(counts)])
        indices = np.concatenate([self._indices, dst.astype(np.int32)])
        data = np.concatenate([self._data, w])
        size = self.n_nodes + k
        return sp.csr_matrix((data, indices, indptr), shape=(size, size))

    # ------------------------------------------------------------------ queries

    def nearest_site(
        self, site_xy: tuple[npt.ArrayLike, npt.ArrayLike], *, cutoff_s: float | None = None
    ) -> NearestResult:
        """Nearest site of every demand point, as ``planning.network.travel.nearest_site``.

        The answer for the same site positions and cutoff is kept (a few dozen
        of them): a standard whose sites did not change is not searched again.
        """
        px = np.ascontiguousarray(site_xy[0], dtype="float64").ravel()
        py = np.ascontiguousarray(site_xy[1], dtype="float64").ravel()
        key = hashlib.sha256(px.tobytes() + py.tobytes() + repr(cutoff_s).encode()).hexdigest()
        cached = self._nearest.get(key)
        if cached is not None:
            self._nearest.move_to_end(key)
            return cached
        result = self._nearest_site(px, py, cutoff_s)
        self._nearest[key] = result
        while len(self._nearest) > _NEAREST_CACHE:
            self._nearest.popitem(last=False)
        return result

    def _nearest_site(
        self, px: FloatArray, py: FloatArray, cutoff_s: float | None
    ) -> NearestResult:
        s_snap = self.snap_sites(px, py)
        d_snap = self.demand_snap
        n_d = self.n_demand
        site_out = np.zeros(n_d, dtype=np.int64)
        secs = np.zeros(n_d)
        reached = np.zeros(n_d, dtype=bool)
        sources_ok = np.flatnonzero(s_snap.ok)
        if n_d and len(sources_ok) and d_snap.ok.any():
            graph = self._graph(s_snap)
            limit = np.inf if cutoff_s is None else float(cutoff_s)
            dist, _, origin = dijkstra(
                graph,
                directed=True,
                indices=self.n_nodes + sources_ok,
                limit=limit,
                min_only=True,
                return_predecessors=True,
            )
            okd = self._ok_demand
            nodes = self.demand_node[okd]
            total = dist[nodes] + d_snap.access_s[okd]
            hit = np.isfinite(total) & (total <= limit)
            rows = okd[hit]
            secs[rows] = total[hit]
            site_out[rows] = origin[self.demand_node[rows]] - self.n_nodes
            reached[rows] = True
        return NearestResult(
            np.ma.masked_array(site_out, mask=~reached),
            np.ma.masked_array(secs, mask=~reached),
            d_snap,
            s_snap,
        )

    def reach(
        self, site_xy: tuple[npt.ArrayLike, npt.ArrayLike], cutoff_s: npt.ArrayLike | float
    ) -> OdMatrix:
        """Times from every demand point to every site within the site's cutoff.

        ``cutoff_s`` is one number or one per site. Rows already computed for
        the same position with a cutoff at least as large are reused (and cut);
        only the others are searched, in blocks of sites whose dense distance
        rows stay under 64 MB.
        """
        s_snap = self.snap_sites(*site_xy)
        px = np.asarray(site_xy[0], dtype="float64").ravel()
        py = np.asarray(site_xy[1], dtype="float64").ravel()
        n_s = len(px)
        cut = np.broadcast_to(np.asarray(cutoff_s, dtype="float64"), (n_s,))
        keys = [_key(a, b) for a, b in zip(px.tolist(), py.tolist(), strict=True)]
        todo: dict[tuple[float, float], float] = {}
        for i, k in enumerate(keys):
            if not s_snap.ok[i]:
                continue
            row = self._rows.get(k)
            if row is None or row.cutoff_s < cut[i]:
                todo[k] = max(todo.get(k, 0.0), float(cut[i]))
        if todo:
            self._search_rows(todo)
        rows: list[IntArray] = []
        cols: list[IntArray] = []
        vals: list[FloatArray] = []
        for i, k in enumerate(keys):
            if not s_snap.ok[i]:
                continue
            row = self._rows[k]
            self._rows.move_to_end(k)
            keep = row.seconds <= cut[i]
            rows.append(row.demand[keep])
            cols.append(np.full(int(keep.sum()), i, dtype=np.int64))
            vals.append(row.seconds[keep])
        origin = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        destination = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
        seconds = np.concatenate(vals) if vals else np.zeros(0)
        shape = (self.n_demand, n_s)
        csr = sp.csr_matrix((seconds, (origin, destination)), shape=shape)
        csr.sort_indices()
        ordered = np.repeat(np.arange(shape[0], dtype=np.int64), np.diff(csr.indptr))
        return OdMatrix(
            ordered, csr.indices.astype(np.int64), csr.data, shape, self.demand_snap, s_snap
        )

    def _search_rows(self, todo: dict[tuple[float, float], float]) -> None:
        keys = sorted(todo, key=lambda k: todo[k])
        xs = np.array([k[0] for k in keys])
        ys = np.array([k[1] for k in keys])
        cuts = np.array([todo[k] for k in keys])
        snaps = self.snap_sites(xs, ys)
        graph = self._graph(snaps)
        okd = self._ok_demand
        d_nodes, d_access = self.demand_node[okd], self.demand_snap.access_s[okd]
        block = max(1, _BLOCK_BYTES // (8 * graph.shape[0]))
        for start in range(0, len(keys), block):
            stop = min(start + block, len(keys))
            idx = np.arange(start, stop)
            limit = float(cuts[stop - 1])
            dist = dijkstra(graph, directed=True, indices=self.n_nodes + idx, limit=limit)
            total = dist[:, d_nodes] + d_access
            r, c = np.nonzero(total <= cuts[idx, None])
            cuts_at = np.searchsorted(r, np.arange(len(idx) + 1))
            found, secs = okd[c], total[r, c]
            del dist, total
            for j, i in enumerate(idx):  # one entry per site, not per pair
                a, b = cuts_at[j], cuts_at[j + 1]
                self._rows[keys[i]] = _Row(float(cuts[i]), found[a:b], secs[a:b])
        while len(self._rows) > _ROW_CACHE:
            self._rows.popitem(last=False)


def _search(seg: IntArray, frac: FloatArray, q_seg: IntArray, q_frac: FloatArray) -> IntArray:
    """Insertion points (after equal entries) of (q_seg, q_frac) in sorted (seg, frac)."""
    lo = np.searchsorted(seg, q_seg, side="left")
    hi = np.searchsorted(seg, q_seg, side="right")
    out = lo.copy()
    # within each run of equal segments, count fractions before q_frac (few per segment)
    width = hi - lo
    todo = np.flatnonzero(width > 0)
    if len(todo):
        run_start = lo[todo]
        run_len = width[todo]
        owner = np.repeat(np.arange(len(todo)), run_len)
        pos = np.repeat(run_start, run_len) + (
            np.arange(run_len.sum()) - np.repeat(np.cumsum(run_len) - run_len, run_len)
        )
        qf = q_frac[todo][owner]
        before = frac[pos] <= qf
        out[todo] = run_start + np.bincount(owner, weights=before, minlength=len(todo)).astype(
            np.int64
        )
    return out


# ------------------------------------------------------------------ reuse across calls

_PREPARED_PER_NETWORK = 4
_prepared: weakref.WeakKeyDictionary[RoadNetwork, OrderedDict[str, PreparedNetwork]] = (
    weakref.WeakKeyDictionary()
)
_prepared_lock = threading.Lock()


def prepared_for(
    net: RoadNetwork,
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    walk_kph: float = DEFAULT_WALK_KPH,
) -> PreparedNetwork:
    """The prepared network for these demand points (WGS-84), built once and kept.

    Kept with the network object (a few demand tables per network), so every
    standard, the accessibility scores, the location models and every rerun of
    the app that holds the same network reuse one snapping and one graph.
    """
    lon_a = np.ascontiguousarray(lon, dtype="float64")
    lat_a = np.ascontiguousarray(lat, dtype="float64")
    digest = hashlib.sha256()
    for part in (lon_a, lat_a, np.array([max_snap_m, walk_kph], dtype="float64")):
        digest.update(part.tobytes())
    key = digest.hexdigest()
    with _prepared_lock:  # app sessions (and prepare_all) run in threads
        per_net = _prepared.setdefault(net, OrderedDict())
        found = per_net.get(key)
        if found is not None:
            per_net.move_to_end(key)
            return found
    prep = PreparedNetwork(
        net, to_metric(lon_a, lat_a, net.crs), max_snap_m=max_snap_m, walk_kph=walk_kph
    )
    with _prepared_lock:
        per_net = _prepared.setdefault(net, OrderedDict())
        per_net[key] = prep
        while len(per_net) > _PREPARED_PER_NETWORK:
            per_net.popitem(last=False)
    return prep


def prepare_all(
    nets: Sequence[RoadNetwork],
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    walk_kph: float = DEFAULT_WALK_KPH,
) -> list[PreparedNetwork]:
    """``prepared_for`` of several networks (one per mode), built side by side.

    Snapping and the search index are mostly compiled code that releases the
    GIL (cKDTree, NumPy, scipy.sparse), so the networks of two modes are
    prepared on two cores at once; each is the same object ``prepared_for``
    then returns.
    """
    return side_by_side(
        lambda n: prepared_for(n, lon, lat, max_snap_m=max_snap_m, walk_kph=walk_kph), nets
    )
