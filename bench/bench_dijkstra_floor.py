"""How fast can the search in target (a) of bench_travel.py get? Engines side by side.

Run by hand, not in CI (see bench/README.md)::

    uv run python bench/bench_dijkstra_floor.py [--sizes 50000 200000] [--repeat 5]

For each synthetic grid of ``bench_travel.py`` (same seeds, same 10,000 demand
points and 300 sites), this builds servicenet's augmented reversed graph
(``planning.network.travel._graph`` after snapping), saves it, and times the one
multi-source Dijkstra of target (a) with networkx, scipy (as servicenet calls
it), a numba-compiled binary-heap Dijkstra and igraph, all in one process of
``bench/.venv-floor`` (created on first use with uv; numba and python-igraph are
benchmark tools only). The point is the ceiling of target (a): when the
baseline gets servicenet's snapping for free, the end-to-end ratio
``(snap + networkx) / (snap + assembly + search)`` can never exceed
``networkx / search``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
for p in (ROOT, BENCH):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import bench_travel as bt  # noqa: E402

from planning.network import travel  # noqa: E402

VENV = BENCH / ".venv-floor"
RUNNER = BENCH / "dijkstra_floor_runner.py"
PACKAGES = ["numpy", "scipy", "networkx", "numba", "python-igraph"]


def _uv() -> list[str]:
    exe = os.environ.get("UV") or shutil.which("uv")
    return [exe] if exe else [sys.executable, "-m", "uv"]


def floor_python() -> Path:
    py = VENV / "bin" / "python"
    probe = [str(py), "-c", "import numba, igraph, scipy, networkx"]
    if not (py.exists() and subprocess.run(probe, capture_output=True).returncode == 0):
        print(f"creating {VENV.relative_to(ROOT)} ...", file=sys.stderr)
        venv = [*_uv(), "venv", "--allow-existing", "--python", "3.11", str(VENV)]
        subprocess.run(venv, check=True)
        subprocess.run([*_uv(), "pip", "install", "--python", str(py), *PACKAGES], check=True)
    return py


def dump_graph(size: int, path: Path) -> dict[str, Any]:
    g = bt.make_grid(size, seed=bt.SEED + size)
    net = bt.grid_network(g)
    rng = np.random.default_rng(bt.SEED)
    demand = bt.random_points(net, bt.N_DEMAND, rng)
    sites = bt.random_points(net, bt.N_SITES, rng)
    d = travel.snap(net, *demand)
    s = travel.snap(net, *sites)
    graph = travel._graph(net, d, s)
    rev = graph.reverse.tocsr()
    np.savez(
        path,
        indptr=rev.indptr,
        indices=rev.indices,
        data=rev.data,
        n=rev.shape[0],
        src=graph.source_node[np.flatnonzero(s.ok)],
        dem=graph.demand_node[np.flatnonzero(d.ok)],
    )
    return {"name": f"grid {size // 1000}k", "road_nodes": net.n_nodes}


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| graph | engine | search s | networkx / engine | max rel. diff vs scipy |",
        "|---|---|--:|--:|--:|",
    ]
    for r in rows:
        label = f"{r['name']} ({r['nodes']:,} nodes, {r['arcs']:,} arcs)"
        for engine, secs in r["seconds"].items():
            diff = r["max_rel_diff_vs_scipy"].get(engine)
            lines.append(
                f"| {label} | {engine} | {secs * 1e3:.1f} ms | "
                f"{r['networkx_over_engine'][engine]:.1f}x | "
                f"{'–' if diff is None else f'{diff:.1e}'} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[50_000, 200_000])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", type=Path, default=BENCH / "results" / "dijkstra_floor.json")
    args = ap.parse_args(argv)
    py = floor_python()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            gpath = Path(tmp) / f"g{size}.npz"
            facts = dump_graph(size, gpath)
            rpath = Path(tmp) / f"r{size}.json"
            cmd = [str(py), str(RUNNER), str(gpath), "--out", str(rpath)]
            subprocess.run([*cmd, "--repeat", str(args.repeat)], check=True)
            row = {**facts, **json.loads(rpath.read_text())}
            rows.append(row)
            print(json.dumps(row["seconds"]), file=sys.stderr)
    text = markdown(rows)
    result = {
        "command": "uv run python bench/bench_dijkstra_floor.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": bt.machine(),
        "graphs": rows,
        "markdown": text,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
