"""A straightforward road loader, one line or way at a time, to check geo.roads against.

It follows the rules documented in geo/roads.py and geo/_lines.py with plain
loops: geopandas reads the layer, shapely works on one geometry at a time,
pyosmium hands over one way and one node at a time, networkx finds the
components. From the package it takes only the rule for one road
(``classify``, ``fold_class``), the column-name lists and the projection
helpers; everything done over many roads (reading cells, noding, building
nodes and segments, clipping, merging coincident vertices, components, the
dropped report) is written here again, independently.

:func:`summary` turns a network (the package's or this one's) into plain
sorted lists keyed by coordinates, so two loaders compare exactly whatever
their node numbering.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import osmium.filter
import pandas as pd
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from geo.network import RoadNetwork
from geo.projection import to_lonlat, to_metric, utm_crs
from geo.roads import (
    CLASS_COLUMNS,
    ONEWAY_COLUMNS,
    SEPARATED_COLUMNS,
    SPEED_COLUMNS,
    TAG_COLUMNS,
    SpeedTable,
    classify,
    fold_class,
    read_speed_table,
)
from geo.vocab import normalise_key

SRC_KEYS = ("own", "class", "default", "walk")  # speed source codes 0..3 of classify
TRUTHY = {"yes", "true", "t", "1", "y", "是"}


@dataclass
class Built:
    """What a loader built, keyed by coordinates (see :func:`summary`)."""

    crs: str
    nodes: list[tuple[float, float]]
    segments: list[tuple[Any, ...]]
    dropped: list[tuple[Any, ...]]
    counts: dict[str, Any] = field(default_factory=dict)


def _segment_key(
    p: tuple[float, float], q: tuple[float, float], length: float, f: float, b: float
) -> tuple[Any, ...]:
    return (p, q, length, f, b) if p <= q else (q, p, length, b, f)


def summary(net: RoadNetwork) -> Built:
    """The package's network as sorted coordinate lists, and its facts' counts."""
    xy = list(zip(net.x.tolist(), net.y.tolist(), strict=True))
    segments = sorted(
        _segment_key(xy[a], xy[b], length, f, bk)
        for a, b, length, f, bk in zip(
            net.u.tolist(),
            net.v.tolist(),
            net.length_m.tolist(),
            net.forward_s.tolist(),
            net.backward_s.tolist(),
            strict=True,
        )
    )
    dropped = sorted(tuple(sorted([(r[0], r[1]), (r[2], r[3])])) for r in net.dropped_xy.tolist())
    facts = net.facts
    counts = {
        "nodes": facts.nodes,
        "segments": facts.segments,
        "components_dropped": facts.components_dropped,
        "segments_dropped": facts.segments_dropped,
        "length_dropped_km": facts.length_dropped_km,
        "length_km": facts.length_km,
        "speed_sources": dict(facts.extra["speed_sources"]),
    }
    for key in ("noding", "ways"):
        if key in facts.extra:
            counts[key] = facts.extra[key]
    return Built(net.crs, sorted(xy), segments, dropped, counts)


# --------------------------------------------------------------------- the graph


def _finish(
    order: list[Any],
    lonlat: Mapping[Any, tuple[float, float]],
    xy: Mapping[Any, tuple[float, float]] | None,
    segments: list[tuple[Any, Any, float, float, int]],
    *,
    mode: str,
    keep: str,
    box: tuple[float, float, float, float] | None,
    boundary: BaseGeometry | None,
) -> Built:
    """Clip, project, merge coincident vertices, time and keep the largest component.

    ``order`` lists the node keys in the loader's node order (it breaks ties:
    a merged vertex takes the place of the first, and of two equally large
    components the one holding the first node is kept).
    """
    rank = {key: i for i, key in enumerate(order)}

    def inside(key: Any) -> bool:
        lon, lat = lonlat[key]
        ok = True
        if box is not None:
            ok = box[0] <= lon <= box[2] and box[1] <= lat <= box[3]
        if boundary is not None:
            ok = ok and bool(shapely.intersects_xy(boundary, lon, lat))
        return ok

    if box is not None or boundary is not None:
        segments = [s for s in segments if inside(s[0]) or inside(s[1])]
    used = sorted({k for s in segments for k in s[:2]}, key=rank.__getitem__)
    if xy is None:
        lons = [lonlat[k][0] for k in used]
        lats = [lonlat[k][1] for k in used]
        crs = utm_crs((min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2)
        x, y = to_metric(lons, lats, crs)
        xy = {k: (float(x[i]), float(y[i])) for i, k in enumerate(used)}
    else:
        crs = ""

    def length(a: Any, b: Any) -> float:
        (xa, ya), (xb, yb) = xy[a], xy[b]
        return float(np.hypot(xb - xa, yb - ya))

    # coincident consecutive vertices are one node: the first in node order
    zero = nx.Graph()
    zero.add_edges_from((a, b) for a, b, *_ in segments if length(a, b) < 1e-3)
    rep = {k: min(c, key=rank.__getitem__) for c in nx.connected_components(zero) for k in c}
    merged = []
    for a, b, kf, kb, src in segments:
        a, b = rep.get(a, a), rep.get(b, b)
        if a != b:
            merged.append((a, b, kf, kb, src))

    def seconds(metres: float, kph: float) -> float:
        return metres / (kph / 3.6) if kph > 0 else math.inf

    timed = [(a, b, length(a, b), kf, kb, src) for a, b, kf, kb, src in merged]
    kept, gone = timed, []
    if keep == "largest" and timed:
        graph = nx.DiGraph()
        graph.add_nodes_from({k for s in timed for k in s[:2]})
        for a, b, _, kf, kb, _ in timed:
            if kf > 0:
                graph.add_edge(a, b)
            if kb > 0:
                graph.add_edge(b, a)
        pieces = (
            nx.strongly_connected_components(graph)
            if mode == "drive"
            else nx.weakly_connected_components(graph)
        )
        best = min(pieces, key=lambda c: (-len(c), min(rank[k] for k in c)))
        kept = [s for s in timed if s[0] in best and s[1] in best]
        gone = [s for s in timed if not (s[0] in best and s[1] in best)]
    dropped_graph = nx.Graph()
    dropped_graph.add_edges_from((a, b) for a, b, *_ in gone)
    counts: dict[str, Any] = {
        "nodes": len({k for s in kept for k in s[:2]}),
        "segments": len(kept),
        "components_dropped": nx.number_connected_components(dropped_graph),
        "segments_dropped": len(gone),
        "length_dropped_km": sum(s[2] for s in gone) / 1000.0,
        "length_km": sum(s[2] for s in kept) / 1000.0,
        "speed_sources": {
            name: sum(1 for s in kept if s[5] == i) for i, name in enumerate(SRC_KEYS)
        },
    }
    nodes = sorted(xy[k] for k in {k for s in kept for k in s[:2]})  # twins at one spot stay two
    segs = sorted(
        _segment_key(xy[a], xy[b], m, seconds(m, kf), seconds(m, kb)) for a, b, m, kf, kb, _ in kept
    )
    dropped = sorted(tuple(sorted([xy[a], xy[b]])) for a, b, *_ in gone)
    return Built(crs, nodes, segs, dropped, counts)


def _table(speeds: SpeedTable | None) -> SpeedTable:
    return speeds if speeds is not None else read_speed_table()


# ------------------------------------------------------------------- line layers


def _cell(value: object) -> str | None:
    """A cell as text: missing, NaN and blank are none; 40.0 reads "40"; booleans true/false."""
    number = isinstance(value, float | np.floating)
    if value is None or (number and not math.isfinite(float(value))):  # type: ignore[arg-type]
        return None
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if number and float(value).is_integer():  # type: ignore[arg-type]
        return format(float(value), "g")  # type: ignore[arg-type]
    return str(value).strip() or None


def _fold(value: str | None) -> str:
    return unicodedata.normalize("NFKC", value).strip().lower() if value else ""


def _find(columns: list[str], wanted: tuple[str, ...]) -> str | None:
    folded = {normalise_key(c): c for c in reversed(columns)}
    return next((folded[w] for w in wanted if w in folded), None)


def _misdecoded(frame: gpd.GeoDataFrame) -> bool:
    texts = [str(c) for c in frame.columns]
    for col in frame.columns:
        if col != frame.geometry.name and pd.api.types.is_string_dtype(frame[col]):
            texts.extend(str(v) for v in frame[col].dropna().head(200))
    return any("\x80" <= ch <= "\xff" for t in texts for ch in t)


def _read_layer(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    if layer is None:
        lines = [n for n, g in pyogrio.list_layers(path) if g is not None and "LineString" in g]
        layer = str(lines[0]) if len(pyogrio.list_layers(path)) > 1 and lines else None
    frame = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    no_cpg = path.suffix.lower() == ".shp" and not path.with_suffix(".cpg").exists()
    if no_cpg and _misdecoded(frame):
        frame = gpd.read_file(path, encoding="gb18030")
    return frame


def _dedupe(coords: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out = coords[:1]
    for c in coords[1:]:
        if c != out[-1]:
            out.append(c)
    return out


def _node(lines: list[list[tuple[float, float]]], separated: list[bool], tol: float) -> Any:
    """Node lines one at a time (the three steps of geo/_lines.py)."""
    lines = [_dedupe(c) for c in lines]
    n = len(lines)
    # 1. ends within tol joined: each cluster at its first end
    ends = [p for c in lines for p in (c[0], c[-1])]
    end_pts = shapely.points(ends)
    tree = shapely.STRtree(end_pts)
    near = nx.Graph()
    near.add_nodes_from(range(len(ends)))
    for i, pt in enumerate(end_pts):
        near.add_edges_from((i, int(j)) for j in tree.query(pt, predicate="dwithin", distance=tol))
    joined = 0
    for cluster in nx.connected_components(near):
        head = ends[min(cluster)]
        for k in sorted(cluster):
            if ends[k] != head:
                joined += 1
                line_i, at_end = divmod(k, 2)
                lines[line_i][-1 if at_end else 0] = head
                ends[k] = head
    lines = [_dedupe(c) for c in lines]
    geoms = [shapely.LineString(c) if len(c) >= 2 else shapely.Point(c[0]) for c in lines]
    vertex_sets = [set(c) for c in lines]
    line_tree = shapely.STRtree(geoms)
    inserts: list[list[tuple[float, float]]] = [[] for _ in range(n)]
    # 2. ends on other lines' interiors
    on_lines = 0
    for i, p in enumerate(ends):
        for j in line_tree.query(shapely.Point(p), predicate="dwithin", distance=tol):
            j = int(j)
            if j != i // 2 and p not in vertex_sets[j]:
                inserts[j].append(p)
                on_lines += 1
    # 3. crossings at grade: both lines get the crossing point
    at_grade = [i for i in range(n) if not separated[i]]
    sub = shapely.STRtree([geoms[i] for i in at_grade])
    pairs = []
    for ia, a in enumerate(at_grade):
        for ib in sub.query(geoms[a], predicate="intersects"):
            if ia < int(ib):
                pairs.append((a, at_grade[int(ib)]))
    found = [
        [tuple(c) for c in shapely.get_coordinates(geoms[a].intersection(geoms[b])).tolist()]
        for a, b in pairs
    ]
    crossings = set()
    for side in (0, 1):
        for k, (pair, pts) in enumerate(zip(pairs, found, strict=True)):
            line_i = pair[side]
            for p in pts:
                if p not in vertex_sets[line_i]:
                    inserts[line_i].append(p)
                    crossings.add(k)
    for j, pts in enumerate(inserts):
        if pts and len(lines[j]) >= 2:
            c = lines[j]
            along = [0.0]
            for (x0, y0), (x1, y1) in itertools.pairwise(c):
                along.append(along[-1] + float(np.hypot(x1 - x0, y1 - y0)))
            at = [float(shapely.line_locate_point(geoms[j], shapely.Point(p))) for p in pts]
            items = [(along[k], 0, k, v) for k, v in enumerate(c)]
            items += [(at[k], 1, len(c) + k, p) for k, p in enumerate(pts)]
            lines[j] = _dedupe([v for *_, v in sorted(items)])
    stats = {
        "lines": n,
        "ends_joined": joined,
        "ends_on_lines": on_lines,
        "crossings": len(crossings),
    }
    return lines, stats


def load_lines(
    path: Path,
    *,
    mode: str = "drive",
    keep: str = "largest",
    speeds: SpeedTable | None = None,
    walk_kph: float = 5.0,
    snap_m: float = 0.5,
    layer: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    boundary: BaseGeometry | None = None,
) -> Built:
    """A line layer loaded one feature at a time."""
    table = _table(speeds)
    frame = _read_layer(path, layer)
    frame = frame[frame.geometry.notna() & frame.geom_type.isin(["LineString", "MultiLineString"])]
    frame = frame.explode(index_parts=False, ignore_index=True)
    frame = frame.set_geometry(frame.geometry.force_2d())
    frame = frame[
        ~frame.geometry.is_empty & (shapely.get_num_coordinates(frame.geometry.values) >= 2)
    ]
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    frame = frame.to_crs("EPSG:4326")
    if bbox is not None or boundary is not None:
        shape = boundary
        if bbox is not None:
            shape = shapely.box(*bbox) if shape is None else shape.intersection(shapely.box(*bbox))
        frame = frame[frame.intersects(shape)]
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    klass, speed, one = (_find(columns, w) for w in (CLASS_COLUMNS, SPEED_COLUMNS, ONEWAY_COLUMNS))
    tag_cols = {
        {"motorvehicle": "motor_vehicle"}.get(n, n): c
        for n in TAG_COLUMNS
        if (c := _find(columns, (n,))) is not None
    }
    flag_cols = [c for n in SEPARATED_COLUMNS if (c := _find(columns, (n,)))]
    layer_col = _find(columns, ("layer",))
    verdicts, separated, rows = [], [], []
    for i, row in enumerate(frame.drop(columns=frame.geometry.name).to_dict("records")):
        tags = {k: _cell(row[c]) for k, c in tag_cols.items()}
        tags["highway"] = _cell(row[klass]) if klass else None
        tags["maxspeed"] = _cell(row[speed]) if speed else None
        tags["oneway"] = _cell(row[one]) if one else None
        verdict = classify(tags.get, mode, table, walk_kph, known_classes_only=False)
        if verdict is None:
            continue
        cls = fold_class(tags["highway"] or "")
        separated.append(
            cls in {"motorway", "motorway_link"}
            or "高速" in cls
            or any(_fold(_cell(row[c])) in TRUTHY for c in flag_cols)
            or (layer_col is not None and _fold(_cell(row[layer_col])) not in {"", "0"})
        )
        verdicts.append(verdict)
        rows.append(i)
    frame = frame.iloc[rows]
    x0, y0, x1, y1 = frame.total_bounds
    crs = utm_crs(float(x0 + x1) / 2, float(y0 + y1) / 2)
    metric = frame.to_crs(crs)
    coords = [
        [(float(x), float(y)) for x, y in shapely.get_coordinates(g)] for g in metric.geometry
    ]
    noded, stats = _node(coords, separated, snap_m)
    order = sorted({p for c in noded for p in c})
    lon, lat = to_lonlat([p[0] for p in order], [p[1] for p in order], crs)
    lonlat = {p: (float(lon[i]), float(lat[i])) for i, p in enumerate(order)}
    segments = [(p, q, *verdicts[i]) for i, c in enumerate(noded) for p, q in itertools.pairwise(c)]
    built = _finish(
        order,
        lonlat,
        {p: p for p in order},
        segments,
        mode=mode,
        keep=keep,
        box=bbox,
        boundary=boundary,
    )
    built.crs = crs
    built.counts["noding"] = {**stats, "snap_m": snap_m}
    return built


# --------------------------------------------------------------------------- OSM


def load_osm(
    path: Path,
    *,
    mode: str = "drive",
    keep: str = "largest",
    speeds: SpeedTable | None = None,
    walk_kph: float = 5.0,
    bbox: tuple[float, float, float, float] | None = None,
) -> Built:
    """An OSM file loaded one way and one node at a time."""
    table = _table(speeds)
    ways = []
    for way in osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway")
    ):
        verdict = classify(way.tags.get, mode, table, walk_kph, known_classes_only=True)
        refs = [n.ref for n in way.nodes]
        if verdict is not None and len(refs) >= 2:
            ways.append((refs, verdict))
    wanted = {r for refs, _ in ways for r in refs}
    where: dict[int, tuple[float, float]] = {}
    for node in osmium.FileProcessor(str(path), osmium.osm.NODE):
        if node.id in wanted and node.location.valid():
            where[node.id] = (node.location.lon, node.location.lat)
    segments = [
        (a, b, *verdict)
        for refs, verdict in ways
        for a, b in itertools.pairwise(refs)
        if a in where and b in where
    ]
    built = _finish(
        sorted(where),
        where,
        None,
        segments,
        mode=mode,
        keep=keep,
        box=bbox,
        boundary=None,
    )
    built.counts["ways"] = len(ways)
    return built
