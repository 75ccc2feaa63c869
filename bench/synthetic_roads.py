"""Road-like synthetic road files for benchmarks: a line layer (GeoPackage) and an OSM PBF.

Run by hand, not in CI::

    uv run python bench/synthetic_roads.py --nodes 200000 --gpkg roads.gpkg --pbf roads.osm.pbf

Both files come from one seeded *plan* in metres (UTM 50N, around Fuzhou, Fujian):

- a square street grid of 100 m blocks with +-20 m jitter on every crossing,
  5% of the blocks removed;
- streets drawn as lines of one block (most) or runs of 2-6 blocks (3%), whose
  inner vertices are crossings shared with the cross streets;
- 3% of the one-block lines curved (3 extra vertices on a bulge of up to 12 m);
- diagonal roads of 2-5 blocks drawn with vertices only at their ends, so
  they cross the grid between vertices: 60% at grade (some flagged as
  bridges), 40% motorways (separated);
- road classes by street rank, mixing OSM ``highway`` values and Chinese
  grades (国道G316, 县道, 乡道, 支路 ...), a few not for cars (footway, 人行道);
  speeds as strings (``"40"``, ``"40 km/h"``, ``"30 mph"``, ``"50;60"``,
  ``"25公里/小时"``, ``"none"``, ``""``, missing); one-way values
  (``yes``, ``-1``, ``F``, ``T``, ``B``, ``no``, ``""``).

The line layer adds what GIS layers get wrong: 2% of line starts moved 0.3 m
off their crossing (joined within ``snap_m`` = 0.5 m), dead-end spurs that
start on another line's interior (T junctions without a shared vertex), and
1% of lines with a repeated vertex. The PBF adds buildings (closed ways with
nodes of their own, one per ten crossings) among the road nodes, with node
ids spread in gaps as real extracts are.

Both files hold about ``--nodes`` road nodes once loaded (the plan is sized
for it). Everything is vectorised; the PBF writer alone is a loop per entity
(libosmium's writer takes one object at a time), about 5 s per million
entities.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

CRS_METRIC = "EPSG:32650"
ORIGIN = (720_000.0, 2_880_000.0)  # UTM 50N, near Fuzhou (119.2E, 26.0N)
SPACING = 100.0

MAJOR = np.array(["primary", "国道G316", "trunk", "省道S203"], dtype=object)
MIDDLE = np.array(["secondary", "县道", "tertiary", "主干路"], dtype=object)
MINOR = np.array(
    ["residential", "乡道", "村道", "unclassified", "service", "支路", "living_street", None],
    dtype=object,
)
NOT_FOR_CARS = np.array(["footway", "人行道", "track"], dtype=object)
OSM_MAJOR = np.array(["primary", "trunk", "primary", "secondary"], dtype=object)
OSM_MIDDLE = np.array(["secondary", "tertiary", "tertiary", "secondary"], dtype=object)
OSM_MINOR = np.array(
    ["residential", "residential", "unclassified", "service", "living_street", "residential"],
    dtype=object,
)
SPEEDS = (
    (None, 0.40),
    ("", 0.20),
    ("40", 0.10),
    ("40 km/h", 0.10),
    ("30 mph", 0.03),
    ("50;60", 0.03),
    ("none", 0.04),
    ("60", 0.05),
    ("25公里/小时", 0.05),
)
ONEWAYS = (
    (None, 0.60),
    ("", 0.10),
    ("no", 0.10),
    ("yes", 0.12),
    ("-1", 0.03),
    ("F", 0.02),
    ("T", 0.02),
    ("B", 0.01),
)


@dataclass(frozen=True)
class Plan:
    """Roads in metres as chains of node indices, before any file format.

    ``chain`` holds the node indices of all lines one after another;
    ``line_of`` says which line each entry belongs to (non-decreasing).
    """

    x: FloatArray
    y: FloatArray
    chain: IntArray
    line_of: IntArray
    rank: IntArray  # 0 major, 1 middle, 2 minor, 3 diagonal at grade, 4 motorway
    seed: int

    @property
    def n_lines(self) -> int:
        return int(self.line_of[-1]) + 1 if len(self.line_of) else 0


def _pick(rng: np.random.Generator, table: tuple[tuple[str | None, float], ...], n: int) -> object:
    values = np.array([v for v, _ in table], dtype=object)
    p = np.array([w for _, w in table])
    return values[rng.choice(len(values), size=n, p=p / p.sum())]


def make_plan(n_nodes: int, seed: int = 0) -> Plan:
    """A road plan of about ``n_nodes`` nodes once loaded (see the module doc)."""
    rng = np.random.default_rng(seed)
    # curves add ~0.1 nodes per crossing, crossings of diagonals ~0.05
    k = max(4, math.ceil(math.sqrt(n_nodes / 1.24)))
    ii, jj = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    jitter = 0.2 * SPACING
    gx = (jj * SPACING + rng.uniform(-jitter, jitter, ii.shape)).ravel()
    gy = (ii * SPACING + rng.uniform(-jitter, jitter, ii.shape)).ravel()
    idx = np.arange(k * k).reshape(k, k)
    # edges street by street: rows (horizontal) then columns (vertical)
    a = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].T.ravel()])
    b = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].T.ravel()])
    street = np.concatenate(
        [np.repeat(np.arange(k), k - 1), k + np.repeat(np.arange(k), k - 1)]
    ).astype(np.int64)
    pos = np.tile(np.arange(k - 1), 2 * k)
    kept = rng.random(len(a)) >= 0.05
    prev_kept = np.concatenate([[False], kept[:-1]]) & (pos > 0)
    start = kept & (~prev_kept | (rng.random(len(a)) < 0.97))
    # lines of at most 6 blocks
    run = np.cumsum(start) - 1
    a, b, street, start, run = a[kept], b[kept], street[kept], start[kept], run[kept]
    first_of_run = np.searchsorted(run, run)
    start |= (np.arange(len(a)) - first_of_run) % 6 == 0
    line = np.cumsum(start) - 1
    n_lines = int(line[-1]) + 1
    blocks = np.bincount(line, minlength=n_lines)
    rank_street = np.where(street % 10 == 0, 0, np.where(street % 5 == 0, 1, 2))
    rank = rank_street[np.flatnonzero(start)].astype(np.int64)

    # chains of grid lines: the start node of each line, then every edge's end
    per_line = blocks + 1
    chain = np.empty(int(per_line.sum()), dtype=np.int64)
    offset = np.concatenate([[0], np.cumsum(per_line)[:-1]])
    chain[offset] = a[start]
    end_pos = offset[line] + (np.arange(len(a)) - np.flatnonzero(start)[line]) + 1
    chain[end_pos] = b
    line_of = np.repeat(np.arange(n_lines), per_line)

    xs, ys = [gx], [gy]
    n_pts = k * k
    # curves: one-block lines get 3 vertices on a bulge
    single = np.flatnonzero(blocks == 1)
    curved = single[rng.random(len(single)) < 0.03]
    ca, cb = chain[offset[curved]], chain[offset[curved] + 1]
    t = np.array([0.25, 0.5, 0.75])
    dx, dy = gx[cb] - gx[ca], gy[cb] - gy[ca]
    norm = np.hypot(dx, dy)
    bulge = rng.uniform(-12.0, 12.0, len(curved))[:, None] * np.sin(np.pi * t)[None, :]
    cx = gx[ca][:, None] + t * dx[:, None] - bulge * (dy / norm)[:, None]
    cy = gy[ca][:, None] + t * dy[:, None] + bulge * (dx / norm)[:, None]
    curve_ids = n_pts + np.arange(cx.size).reshape(cx.shape)
    xs.append(cx.ravel())
    ys.append(cy.ravel())
    n_pts += cx.size
    is_curved = np.zeros(n_lines, dtype=bool)
    is_curved[curved] = True
    plain = ~is_curved[line_of]
    curved_chain = np.column_stack([ca, curve_ids, cb]).ravel()
    chains = [chain[plain], curved_chain]
    owners = [line_of[plain], np.repeat(curved, 5)]

    # diagonals between crossings, 2-5 blocks, vertices at the ends only
    n_diag = max(1, (k * k) // 100)
    d = rng.integers(2, 6, n_diag)
    di = rng.integers(0, k - 5, n_diag)
    dj = rng.integers(0, k - 5, n_diag)
    flip = rng.random(n_diag) < 0.5
    start_n = di * k + np.where(flip, dj + d, dj)
    end_n = (di + d) * k + np.where(flip, dj, dj + d)
    diag_ids = n_lines + np.arange(n_diag)
    chains.append(np.column_stack([start_n, end_n]).ravel())
    owners.append(np.repeat(diag_ids, 2))
    rank = np.concatenate([rank, np.where(rng.random(n_diag) < 0.4, 4, 3)])

    chain_all = np.concatenate(chains)
    owner_all = np.concatenate(owners)
    order = np.argsort(owner_all, kind="stable")
    return Plan(
        x=ORIGIN[0] + np.concatenate(xs),
        y=ORIGIN[1] + np.concatenate(ys),
        chain=chain_all[order],
        line_of=owner_all[order],
        rank=rank,
        seed=seed,
    )


def _classes(rng: np.random.Generator, rank: IntArray, chinese: bool) -> object:
    n = len(rank)
    major, middle, minor = (MAJOR, MIDDLE, MINOR) if chinese else (OSM_MAJOR, OSM_MIDDLE, OSM_MINOR)
    out = np.empty(n, dtype=object)
    for r, vocab in ((0, major), (1, middle), (2, minor)):
        sel = rank == r
        out[sel] = vocab[rng.integers(0, len(vocab), int(sel.sum()))]
    diag = rank == 3
    out[diag] = np.array(
        ["primary", "国道G205"] if chinese else ["primary", "trunk"], dtype=object
    )[rng.integers(0, 2, int(diag.sum()))]
    motor = rank == 4
    out[motor] = np.array(["motorway", "高速公路"] if chinese else ["motorway"], dtype=object)[
        rng.integers(0, 2 if chinese else 1, int(motor.sum()))
    ]
    walk = (rank == 2) & (rng.random(n) < 0.03)
    vocab = NOT_FOR_CARS if chinese else np.array(["footway", "path", "track"], dtype=object)
    out[walk] = vocab[rng.integers(0, len(vocab), int(walk.sum()))]
    return out


def line_layer(plan: Plan) -> object:
    """The plan as a WGS-84 GeoDataFrame with the defects of a hand-drawn layer."""
    import geopandas as gpd
    import shapely
    from pyproj import Transformer

    rng = np.random.default_rng(plan.seed + 1)
    xy = np.column_stack([plan.x[plan.chain], plan.y[plan.chain]])
    line_of = plan.line_of
    n = plan.n_lines
    first = np.concatenate([[0], np.flatnonzero(np.diff(line_of)) + 1])
    # 2% of line starts 0.3 m off their crossing
    nudge = first[rng.random(n) < 0.02]
    angle = rng.uniform(0, 2 * np.pi, len(nudge))
    xy[nudge] += 0.3 * np.column_stack([np.cos(angle), np.sin(angle)])
    # 1% of lines repeat their first vertex
    dup = first[rng.random(n) < 0.01]
    rep = np.ones(len(xy), dtype=np.int64)
    rep[dup] = 2
    xy, line_of = np.repeat(xy, rep, axis=0), np.repeat(line_of, rep)
    # spurs: 40 m dead ends starting at the middle of a grid line's first block
    grid_like = np.flatnonzero(plan.rank[:n] <= 2)
    first = np.concatenate([[0], np.flatnonzero(np.diff(line_of)) + 1])
    host = grid_like[rng.random(len(grid_like)) < 0.02]
    p0 = (xy[first[host]] + xy[first[host] + 1]) / 2
    p1 = p0 + np.array([0.0, 40.0]) * rng.choice([-1.0, 1.0], size=(len(host), 1))
    spur_xy = np.column_stack([p0, p1]).reshape(-1, 2)
    spur_of = np.repeat(n + np.arange(len(host)), 2)
    xy = np.concatenate([xy, spur_xy])
    line_of = np.concatenate([line_of, spur_of])
    rank = np.concatenate([plan.rank, np.full(len(host), 2)])
    total = n + len(host)

    to_wgs = Transformer.from_crs(CRS_METRIC, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs.transform(xy[:, 0], xy[:, 1])
    geoms = shapely.linestrings(np.column_stack([lon, lat]), indices=line_of)
    bridge = np.full(total, None, dtype=object)
    bridge[(rank == 3) & (rng.random(total) < 0.3)] = "T"
    bridge[(rank <= 2) & (rng.random(total) < 0.05)] = "F"
    return gpd.GeoDataFrame(
        {
            "名称": np.char.add("路", (np.arange(total) % 997).astype(str)).astype(object),
            "道路等级": _classes(rng, rank, chinese=True),
            "限速": _pick(rng, SPEEDS, total),
            "oneway": _pick(rng, ONEWAYS, total),
            "bridge": bridge,
        },
        geometry=geoms,
        crs="EPSG:4326",
    )


def write_gpkg(path: Path, n_nodes: int, seed: int = 0) -> Path:
    """Write the line layer of a ``n_nodes`` plan as a GeoPackage (layer ``roads``)."""
    frame = line_layer(make_plan(n_nodes, seed))
    tmp = path.with_name(path.name + ".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    frame.to_file(tmp, layer="roads", driver="GPKG", engine="pyogrio")  # type: ignore[attr-defined]
    tmp.replace(path)
    return path


def write_pbf(path: Path, n_nodes: int, seed: int = 0) -> Path:
    """Write a ``n_nodes`` plan as an OSM PBF: road ways, buildings, spread node ids."""
    import osmium
    from pyproj import Transformer

    plan = make_plan(n_nodes, seed)
    rng = np.random.default_rng(plan.seed + 2)
    n_road = len(plan.x)
    # buildings: a 12 m square beside every tenth crossing, nodes of their own
    n_bld = n_road // 10
    anchor = rng.integers(0, n_road, n_bld)
    corners = np.array([[15.0, 15.0], [27.0, 15.0], [27.0, 27.0], [15.0, 27.0]])
    bx = (plan.x[anchor][:, None] + corners[:, 0]).ravel()
    by = (plan.y[anchor][:, None] + corners[:, 1]).ravel()
    x, y = np.concatenate([plan.x, bx]), np.concatenate([plan.y, by])
    to_wgs = Transformer.from_crs(CRS_METRIC, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs.transform(x, y)
    lon, lat = np.round(lon, 7), np.round(lat, 7)
    # ids increasing with gaps, handed out in a shuffled order
    ids = 2_000_000_000 + np.cumsum(rng.integers(1, 40, len(x)))
    node_id = ids[rng.permutation(len(x))]
    order = np.argsort(node_id)

    classes = _classes(rng, plan.rank, chinese=False)
    speeds = _pick(rng, tuple((s, w) for s, w in SPEEDS if s != "25公里/小时"), plan.n_lines)
    oneways = _pick(
        rng, tuple((o, w) for o, w in ONEWAYS if o not in {"F", "T", "B"}), plan.n_lines
    )
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(plan.line_of)) + 1, [len(plan.chain)]])
    refs = node_id[plan.chain].tolist()
    tmp = path.with_name(path.name + ".tmp.osm.pbf")
    tmp.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(tmp))
    try:
        lon_l, lat_l, id_l = lon.tolist(), lat.tolist(), node_id.tolist()
        for i in order.tolist():
            writer.add_node(osmium.osm.mutable.Node(id=id_l[i], location=(lon_l[i], lat_l[i])))
        way_id = 500_000_000
        for w in range(plan.n_lines):
            tags = {"highway": str(classes[w])} if classes[w] is not None else {}
            if not tags:
                tags = {"highway": "road"}
            if speeds[w]:
                tags["maxspeed"] = str(speeds[w])
            if oneways[w]:
                tags["oneway"] = str(oneways[w])
            if plan.rank[w] == 4:
                tags["bridge"] = "yes"
            way_id += 1
            writer.add_way(
                osmium.osm.mutable.Way(id=way_id, nodes=refs[bounds[w] : bounds[w + 1]], tags=tags)
            )
        bld_ids = node_id[n_road:].reshape(-1, 4).tolist()
        for ring in bld_ids:
            way_id += 1
            writer.add_way(
                osmium.osm.mutable.Way(id=way_id, nodes=[*ring, ring[0]], tags={"building": "yes"})
            )
    finally:
        writer.close()
    tmp.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gpkg", type=Path)
    parser.add_argument("--pbf", type=Path)
    args = parser.parse_args(argv)
    if args.gpkg is None and args.pbf is None:
        parser.error("give --gpkg and/or --pbf")
    for target, write in ((args.gpkg, write_gpkg), (args.pbf, write_pbf)):
        if target is not None:
            t0 = time.perf_counter()
            write(target, args.nodes, args.seed)
            print(f"{target}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
