"""Time one multi-source Dijkstra with several engines on one saved graph.

Run by ``bench/bench_dijkstra_floor.py`` inside ``bench/.venv-floor`` (numba and
python-igraph are benchmark tools, not servicenet dependencies)::

    bench/.venv-floor/bin/python bench/dijkstra_floor_runner.py GRAPH.npz --out OUT.json

The graph file holds a reversed CSR (``indptr, indices, data``), the source
nodes (``src``) and the nodes whose distance is wanted (``dem``). Every engine
computes the distance from the nearest source to every ``dem`` node over the
whole graph (no cutoff), in this one process:

- ``networkx``: ``multi_source_dijkstra_path_length`` on a DiGraph (once);
- ``scipy``: ``scipy.sparse.csgraph.dijkstra(indices=src, min_only=True)``, as
  servicenet calls it (with ``return_predecessors=True``: servicenet needs the
  nearest site, not only the time), and without predecessors;
- ``numba heap``: a textbook binary-heap Dijkstra (lazy deletion) compiled by
  numba, seeded with every source, recording the source; compile time excluded;
- ``igraph``: ``Graph.distances`` from one super-source with zero-weight arcs
  to the sources (igraph's C Dijkstra); graph construction excluded.

The compiled engines are timed best of ``--repeat``; networkx once. Distances
must agree to 1e-9 relative.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def numba_dijkstra() -> Callable[..., Any]:
    import numba

    @numba.njit(inline="always")
    def push(hk, hv, size, key, node):  # type: ignore[no-untyped-def]
        j = size
        while j > 0:
            p = (j - 1) >> 1
            if hk[p] <= key:
                break
            hk[j] = hk[p]
            hv[j] = hv[p]
            j = p
        hk[j] = key
        hv[j] = node
        return size + 1

    @numba.njit(inline="always")
    def pop(hk, hv, size):  # type: ignore[no-untyped-def]
        size -= 1
        lk = hk[size]
        lv = hv[size]
        j = 0
        while True:
            c = 2 * j + 1
            if c >= size:
                break
            if c + 1 < size and hk[c + 1] < hk[c]:
                c += 1
            if hk[c] >= lk:
                break
            hk[j] = hk[c]
            hv[j] = hv[c]
            j = c
        hk[j] = lk
        hv[j] = lv
        return size

    @numba.njit
    def run(indptr, indices, data, n, src):  # type: ignore[no-untyped-def]
        dist = np.full(n, np.inf)
        origin = np.full(n, -1, np.int64)
        done = np.zeros(n, np.bool_)
        cap = len(data) + len(src) + 1
        hk = np.empty(cap)
        hv = np.empty(cap, np.int64)
        size = 0
        for i in range(len(src)):
            u = src[i]
            if dist[u] > 0.0:
                dist[u] = 0.0
                origin[u] = i
                size = push(hk, hv, size, 0.0, u)
        while size > 0:
            k = hk[0]
            u = hv[0]
            size = pop(hk, hv, size)
            if done[u]:
                continue
            done[u] = True
            o = origin[u]
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                nd = k + data[e]
                if nd < dist[v]:
                    dist[v] = nd
                    origin[v] = o
                    size = push(hk, hv, size, nd, v)
        return dist, origin

    return run  # type: ignore[no-any-return]


def rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    both = np.isfinite(a) & np.isfinite(b)
    if (np.isfinite(a) != np.isfinite(b)).any():
        return float("inf")
    if not both.any():
        return 0.0
    return float((np.abs(a[both] - b[both]) / np.maximum(np.abs(b[both]), 1e-300)).max())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("graph")
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    import igraph
    import networkx as nx
    import numba
    import scipy
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    z = np.load(args.graph)
    n = int(z["n"])
    indptr, indices, data = z["indptr"], z["indices"], z["data"]
    src, dem = z["src"], z["dem"]
    csr = csr_matrix((data, indices, indptr), shape=(n, n))
    out: dict[str, Any] = {
        "nodes": n,
        "arcs": len(data),
        "sources": len(src),
        "targets": len(dem),
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "networkx": nx.__version__,
            "numba": numba.__version__,
            "igraph": igraph.__version__,
        },
    }
    times: dict[str, float] = {}

    t, (d_sp, _, _) = best_of(
        lambda: dijkstra(csr, indices=src, min_only=True, return_predecessors=True), args.repeat
    )
    times["scipy (min_only, with predecessors: as servicenet)"] = t
    ref = d_sp[dem]
    t, d_sp2 = best_of(lambda: dijkstra(csr, indices=src, min_only=True), args.repeat)
    times["scipy (min_only, no predecessors)"] = t
    diffs = {"scipy (min_only, no predecessors)": rel_diff(d_sp2[dem], ref)}

    run = numba_dijkstra()
    t0 = time.perf_counter()
    run(indptr, indices, data, n, src)
    out["numba_compile_and_first_run_s"] = time.perf_counter() - t0
    t, (d_nb, _) = best_of(lambda: run(indptr, indices, data, n, src), args.repeat)
    times["numba binary heap"] = t
    diffs["numba binary heap"] = rel_diff(d_nb[dem], ref)

    coo = csr.tocoo()
    t0 = time.perf_counter()
    edges = np.column_stack([coo.row, coo.col])
    extra = np.column_stack([np.full(len(src), n), src])
    g = igraph.Graph(n=n + 1, edges=np.vstack([edges, extra]).tolist(), directed=True)
    weights = np.concatenate([coo.data, np.zeros(len(src))]).tolist()
    out["igraph_build_s"] = time.perf_counter() - t0
    dem_list = dem.tolist()
    uniq, back = np.unique(dem, return_inverse=True)  # igraph refuses repeated targets
    uniq_list = uniq.tolist()
    t, d_ig = best_of(
        lambda: np.asarray(
            g.distances(source=[n], target=uniq_list, weights=weights, mode="out")[0]
        )[back],
        args.repeat,
    )
    times["igraph (super-source)"] = t
    diffs["igraph (super-source)"] = rel_diff(d_ig, ref)

    t0 = time.perf_counter()
    nxg = nx.DiGraph()
    nxg.add_nodes_from(range(n))
    nxg.add_weighted_edges_from(
        zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True)
    )
    out["networkx_build_s"] = time.perf_counter() - t0
    gc.collect()
    t0 = time.perf_counter()
    dist = nx.multi_source_dijkstra_path_length(nxg, src.tolist(), weight="weight")
    d_nx = np.fromiter((dist.get(v, np.inf) for v in dem_list), float, len(dem_list))
    times["networkx multi_source_dijkstra_path_length"] = time.perf_counter() - t0
    diffs["networkx multi_source_dijkstra_path_length"] = rel_diff(d_nx, ref)

    out["seconds"] = times
    out["max_rel_diff_vs_scipy"] = diffs
    nx_s = times["networkx multi_source_dijkstra_path_length"]
    out["networkx_over_engine"] = {k: nx_s / v for k, v in times.items()}
    with open(args.out, "w") as fh:
        json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
