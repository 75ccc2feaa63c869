"""The whole job as a planner runs it, against the plain scripts, as whole processes.

Run by hand, not in CI (sizes above 1M nodes take long and need disk)::

    uv run python bench/bench_pipeline.py --sizes 50000 200000 1000000 --runs 3 \\
        --work /tmp/bench_pipeline --app --out bench/results/pipeline

For each size a road-like synthetic network (``bench/synthetic_roads.py``) is
written as a GeoPackage line layer and as an OSM PBF, with 20,000 demand
points and 300 sites (six kinds and levels) spread over it and six standards.
Then, in one run, alternating A and B so that drift in the machine's speed
hits both alike:

- ``servicenet analyze`` on the line layer, **cold** (its road cache deleted
  before every run) and **warm** (cache present), against the geopandas +
  networkx script (``bench/baseline_nx.py lines``);
- the same on the PBF against pyrosm + networkx (``bench/baseline_nx.py pyrosm``).

Every figure is a whole process: wall seconds (median of ``--runs``) and peak
resident memory of the process (``ru_maxrss`` from ``wait4``). Ratios are
baseline / servicenet (above 1: servicenet is faster). With ``--app`` the
app's server times are measured too (``bench/app_latency.py``: each page
opened, and an edit on the map until the figures update) on the demo and on
the 200,000-node line layer.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PY = sys.executable
SERVICENET = str(Path(PY).with_name("servicenet"))

STANDARDS = """\
[[standard]]
kind = "service_center"
level = "county"
mode = "drive"
max_minutes = 30
target_share = 0.9

[[standard]]
kind = "service_center"
level = "township"
mode = "drive"
max_minutes = 15
target_share = 0.9

[[standard]]
kind = "service_center"
level = "community"
mode = "walk"
max_minutes = 15
target_share = 0.5

[[standard]]
kind = "service_center"
level = "park"
mode = "drive"
max_minutes = 20
target_share = 0.6

[[standard]]
kind = "cultural_center"
level = "park"
mode = "drive"
max_minutes = 30
target_share = 0.7

[[standard]]
kind = "reading_room"
level = "community"
mode = "walk"
max_minutes = 15
target_share = 0.5
"""
KINDS = [
    ("service_center", "county", 6),
    ("service_center", "township", 60),
    ("service_center", "community", 120),
    ("service_center", "park", 20),
    ("cultural_center", "park", 14),
    ("reading_room", "community", 80),
]


def _inputs(work: Path, n_nodes: int) -> dict[str, Path]:
    """Road files and tables of one size (made once, kept in ``work``)."""
    from bench import synthetic_roads as syn

    folder = work / f"n{n_nodes}"
    folder.mkdir(parents=True, exist_ok=True)
    gpkg, pbf = folder / "roads.gpkg", folder / "roads.osm.pbf"
    if not gpkg.exists():
        syn.write_gpkg(gpkg, n_nodes)
    if not pbf.exists():
        syn.write_pbf(pbf, n_nodes)
    sites, demand, stds = folder / "sites.csv", folder / "demand.csv", folder / "standards.toml"
    if not demand.exists():
        import pyogrio

        x0, y0, x1, y1 = pyogrio.read_info(gpkg, layer="roads")["total_bounds"]
        rng = np.random.default_rng(n_nodes)
        # points inside the network's extent (a 2% border left out)
        mx, my = (x1 - x0) * 0.02, (y1 - y0) * 0.02
        n = 20_000
        pd.DataFrame(
            {
                "demand_id": [f"D{i:05d}" for i in range(n)],
                "weight": rng.integers(20, 2_000, n),
                "county": rng.choice(["甲县", "乙县", "丙区", "丁市"], n),
                "township": [f"镇{i % 120:03d}" for i in rng.integers(0, 10**6, n)],
                "lon": rng.uniform(x0 + mx, x1 - mx, n),
                "lat": rng.uniform(y0 + my, y1 - my, n),
            }
        ).to_csv(demand, index=False)
        rows = [(k, lv) for k, lv, count in KINDS for _ in range(count)]
        m = len(rows)
        pd.DataFrame(
            {
                "site_id": [f"S{i:03d}" for i in range(m)],
                "name": [f"站点{i}" for i in range(m)],
                "kind": [k for k, _ in rows],
                "level": [lv for _, lv in rows],
                "status": "existing",
                "capacity": rng.integers(20, 200, m),
                "lon": rng.uniform(x0 + mx, x1 - mx, m),
                "lat": rng.uniform(y0 + my, y1 - my, m),
            }
        ).to_csv(sites, index=False)
        stds.write_text(STANDARDS, encoding="utf-8")
    return {"gpkg": gpkg, "pbf": pbf, "sites": sites, "demand": demand, "standards": stds}


def _run(cmd: list[str], log: Path) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB) and exit code of one whole process."""
    with open(log, "ab") as fh:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=fh, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    return wall, usage.ru_maxrss / 1024.0, os.waitstatus_to_exitcode(status)


def _cache(road: Path) -> Path:
    return road.parent / ".servicenet-cache"


def _pair(
    a: list[str], b: list[str] | None, runs: int, log: Path, before_a: object = None
) -> dict[str, object]:
    """A and B in turn, ``runs`` times each; medians, peak memory, ratio B/A per pair.

    ``b`` None: A alone (a size the baseline cannot hold in this machine's memory).
    """
    ta, tb, ma, mb, ratios = [], [], [], [], []
    for _ in range(runs):
        if callable(before_a):
            before_a()
        wa, ra, ca = _run(a, log)
        wb, rb, cb = _run(b, log) if b is not None else (float("nan"), float("nan"), 0)
        if ca or cb:
            raise SystemExit(f"a command failed (exit {ca}/{cb}); see {log}")
        ta.append(wa), tb.append(wb), ma.append(ra), mb.append(rb), ratios.append(wb / wa)
    if b is None:
        return {
            "servicenet_s": round(statistics.median(ta), 2),
            "servicenet_rss_mb": round(max(ma)),
            "baseline_s": None,
            "baseline_rss_mb": None,
            "speedup": None,
            "servicenet_all_s": [round(t, 2) for t in ta],
            "baseline_all_s": [],
        }
    return {
        "servicenet_s": round(statistics.median(ta), 2),
        "servicenet_rss_mb": round(max(ma)),
        "baseline_s": round(statistics.median(tb), 2),
        "baseline_rss_mb": round(max(mb)),
        "speedup": round(statistics.median(ratios), 2),
        "servicenet_all_s": [round(t, 2) for t in ta],
        "baseline_all_s": [round(t, 2) for t in tb],
    }


BASELINES = {"gpkg": "lines", "pbf": "pyrosm"}


def bench_size(
    n_nodes: int,
    work: Path,
    runs: int,
    log: Path,
    formats: tuple[str, ...] = ("gpkg", "pbf"),
    baseline_runs: bool = True,
) -> list[dict[str, object]]:
    files = _inputs(work, n_nodes)
    rows = []
    for fmt in formats:
        baseline = BASELINES[fmt]
        road = files[fmt]
        out = road.parent / f"out_{fmt}"
        analyze = [
            SERVICENET, "analyze", "--sites", str(files["sites"]), "--demand",
            str(files["demand"]), "--roads", str(road), "--standards", str(files["standards"]),
            "--out", str(out),
        ]  # fmt: skip
        base = [
            PY, str(ROOT / "bench" / "baseline_nx.py"), baseline, str(road), str(files["sites"]),
            str(files["demand"]), str(files["standards"]),
        ]  # fmt: skip

        def cold(road: Path = road) -> None:
            shutil.rmtree(_cache(road), ignore_errors=True)

        for state in ("cold", "warm"):
            if state == "warm":
                _run(analyze, log)  # make sure the cache exists
            row = _pair(
                analyze,
                base if baseline_runs else None,
                runs,
                log,
                cold if state == "cold" else None,
            )
            row.update({"nodes": n_nodes, "format": fmt, "state": state, "baseline": baseline})
            summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
            row["network_nodes"] = summary["network"]["nodes"]
            print(json.dumps(row, ensure_ascii=False), flush=True)
            rows.append(row)
    return rows


def _table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| nodes (built) | input | cache | servicenet s | peak MB | baseline | baseline s | "
        "peak MB | speed-up |",
        "|---:|---|---|---:|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        base = "geopandas+networkx" if r["baseline"] == "lines" else "pyrosm+networkx"
        lines.append(
            f"| {r['nodes']:,} ({r['network_nodes']:,}) | {r['format']} | {r['state']} | "
            f"{r['servicenet_s']} | {r['servicenet_rss_mb']} | {base} | {r['baseline_s'] or '—'} | "
            f"{r['baseline_rss_mb'] or '—'} | {str(r['speedup']) + 'x' if r['speedup'] else '—'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_pipeline"))
    parser.add_argument("--app", action="store_true", help="also time the app's server")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "pipeline")
    parser.add_argument(
        "--formats",
        nargs="+",
        choices=sorted(BASELINES),
        default=sorted(BASELINES),
        help="road inputs to time (the PBF alone at province sizes)",
    )
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="time servicenet alone (pyrosm needs about 6 GB per million nodes)",
    )
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    log = args.work / "commands.log"
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    rows: list[dict[str, object]] = []
    for n in args.sizes:
        rows.extend(
            bench_size(n, args.work, args.runs, log, tuple(args.formats), not args.no_baseline)
        )
    result: dict[str, object] = {"started": started, "runs": args.runs, "pipeline": rows}
    if args.app:
        app: dict[str, object] = {}
        demo_json = args.work / "app_demo.json"
        _run([PY, str(ROOT / "bench" / "app_latency.py"), "--out", str(demo_json)], log)
        app["demo"] = json.loads(demo_json.read_text(encoding="utf-8"))
        files = _inputs(args.work, 200_000)
        road_json = args.work / "app_200k.json"
        _run(
            [
                PY,
                str(ROOT / "bench" / "app_latency.py"),
                "--out",
                str(road_json),
                "--sites",
                str(files["sites"]),
                "--demand",
                str(files["demand"]),
                "--roads",
                str(files["gpkg"]),
            ],
            log,
        )
        app["roads_200k"] = json.loads(road_json.read_text(encoding="utf-8"))
        result["app"] = app
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    args.out.with_suffix(".md").write_text(
        f"Run {started}, medians of {args.runs} whole-process runs each.\n\n{_table(rows)}\n",
        encoding="utf-8",
    )
    print(_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
