"""Line layers (GeoJSON, GeoPackage, Shapefile) as noded road lines.

A line layer drawn in a GIS is rarely *noded*: streets cross, or one street
ends on another, without a shared vertex, so a graph built from vertices alone
falls apart into pieces. :func:`node_lines` fixes that in a metric CRS:

1. line ends closer than ``tol`` metres to each other are joined (each cluster
   of ends takes the position of its first end);
2. a line end within ``tol`` of another line's interior is inserted into that
   line as a vertex (the other line gets a kink of at most ``tol``; no existing
   vertex moves, so junctions that were already exact stay exact);
3. where two lines cross, the crossing point is inserted into both — except
   for lines flagged *separated* (motorways, bridges, tunnels, a non-zero
   layer), which pass over or under what they cross and join the network only
   at shared vertices and at line ends (steps 1 and 2).

Every vertex stays a vertex; a road is never straightened. Attributes stay
with their line, so no matching back of noded pieces is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pyogrio
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

LINE_TYPES = ("LineString", "MultiLineString", "LineString Z", "MultiLineString Z")


@dataclass(frozen=True)
class NodingStats:
    """What noding changed, for the network facts."""

    lines: int
    ends_joined: int
    ends_on_lines: int
    crossings: int

    def as_dict(self) -> dict[str, int]:
        """Plain values."""
        return {
            "lines": self.lines,
            "ends_joined": self.ends_joined,
            "ends_on_lines": self.ends_on_lines,
            "crossings": self.crossings,
        }


def pick_layer(path: Path, layer: str | None) -> str | None:
    """The layer to read: ``layer`` if given, else the first line layer of the file.

    Returns ``None`` for single-layer formats where the choice does not matter.

    Raises
    ------
    LookupError
        When the file has layers but none of lines, or ``layer`` is not one of them.
    """
    layers = pyogrio.list_layers(path)
    if layer is not None:
        if layer not in {str(name) for name, _ in layers}:
            raise LookupError(f"layer {layer!r} not in {[str(n) for n, _ in layers]}")
        return layer
    if len(layers) <= 1:
        return None
    found = line_layers(path)
    if found:
        return found[0]
    raise LookupError("no line layer")


def line_layers(path: Path) -> list[str]:
    """Names of the line layers of a multi-layer file."""
    return [
        str(name)
        for name, geom_type in pyogrio.list_layers(path)
        if geom_type is not None and "LineString" in str(geom_type)
    ]


def _looks_misdecoded(frame: gpd.GeoDataFrame) -> bool:
    """Text read as Latin-1 that was written in a Chinese code page (µÈ¼¶ for 等级)."""
    texts = [str(c) for c in frame.columns]
    for col in frame.columns:
        if frame[col].dtype == object and col != frame.geometry.name:
            texts.extend(str(v) for v in frame[col].dropna().head(200))
    return any("\x80" <= ch <= "\xff" for t in texts for ch in t)


def _shapefile_without_cpg(path: Path, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A Shapefile with no .cpg is read by GDAL as Latin-1; Chinese tools write GBK.

    When the text looks mis-decoded, the attributes are read again as GB18030
    (a superset of GBK) and the frame says so in ``attrs["encoding"]``.
    """
    if not _looks_misdecoded(frame):
        return frame
    try:
        again = gpd.read_file(path, encoding="gb18030")
    except Exception:  # not GB18030 either: keep what GDAL read
        return frame
    again.attrs["encoding"] = "gb18030"
    return again


def read_lines(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    """Read a line layer, one row per LineString (MultiLineStrings exploded), 2-D.

    Rows whose geometry is not a line, empty or missing are dropped (the caller
    counts them from the row totals).
    """
    frame = gpd.read_file(path, layer=layer) if layer is not None else gpd.read_file(path)
    if path.suffix.lower() == ".shp" and not path.with_suffix(".cpg").exists():
        frame = _shapefile_without_cpg(path, frame)
    frame = frame[frame.geometry.notna()]
    frame = frame[frame.geom_type.isin(["LineString", "MultiLineString"])]
    frame = frame.explode(index_parts=False, ignore_index=True)
    geoms = shapely.force_2d(np.asarray(frame.geometry.values, dtype=object))
    frame = frame.set_geometry(gpd.GeoSeries(geoms, crs=frame.crs, index=frame.index))
    keep = ~frame.geometry.is_empty & (shapely.get_num_coordinates(geoms) >= 2)
    return frame[keep].reset_index(drop=True)


def _dedupe_consecutive(coords: FloatArray) -> FloatArray:
    if len(coords) < 2:
        return coords
    same = np.all(coords[1:] == coords[:-1], axis=1)
    kept: FloatArray = coords[np.concatenate([[True], ~same])]
    return kept


def _insert(coords: FloatArray, points: FloatArray) -> FloatArray:
    """Insert ``points`` into the line ``coords`` at their positions along it."""
    line = shapely.linestrings(coords)
    at = shapely.line_locate_point(line, shapely.points(points))
    seg = np.hypot(*np.diff(coords, axis=0).T)
    along = np.concatenate([[0.0], np.cumsum(seg)])
    # A point goes after the vertices at or before its position; kind 0 for
    # vertices keeps a vertex first at equal positions.
    pos = np.concatenate([along, at])
    kind = np.concatenate([np.zeros(len(coords)), np.ones(len(points))])
    order = np.lexsort((kind, pos))
    merged: FloatArray = np.concatenate([coords, points])[order]
    return _dedupe_consecutive(merged)


def node_lines(
    lines: list[FloatArray], separated: BoolArray, tol: float
) -> tuple[list[FloatArray], NodingStats]:
    """Node a set of lines given as (k, 2) metric coordinate arrays (see the module doc).

    Parameters
    ----------
    lines
        One coordinate array per line.
    separated
        Lines that cross others without meeting them (motorways, bridges, tunnels).
    tol
        Metres within which line ends are joined to ends and to other lines.

    Returns
    -------
    lines, stats
        The noded lines (same order, same count) and what changed.
    """
    n = len(lines)
    out = [_dedupe_consecutive(np.asarray(c, dtype=np.float64)) for c in lines]
    if n == 0:
        return out, NodingStats(0, 0, 0, 0)

    # 1. join line ends closer than tol: union of ends within reach, each
    #    cluster moved to its first end's position.
    ends = np.array([[c[0], c[-1]] for c in out], dtype=np.float64).reshape(-1, 2)
    end_pts = shapely.points(ends)
    tree = shapely.STRtree(end_pts)
    left, right = tree.query(end_pts, predicate="dwithin", distance=tol)
    pair = left < right
    left, right = left[pair], right[pair]
    joined = 0
    if len(left):
        graph = coo_matrix(
            (np.ones(len(left)), (left, right)), shape=(len(ends), len(ends))
        ).tocsr()
        _, label = connected_components(graph, directed=False)
        first = np.full(label.max() + 1, len(ends), dtype=np.int64)
        np.minimum.at(first, label, np.arange(len(ends)))
        target = ends[first[label]]
        moved = np.any(target != ends, axis=1)
        joined = int(moved.sum())
        for k in np.flatnonzero(moved):
            line_i, at_end = divmod(int(k), 2)
            out[line_i] = out[line_i].copy()
            out[line_i][-1 if at_end else 0] = target[k]
        ends = target
        end_pts = shapely.points(ends)
    out = [_dedupe_consecutive(c) for c in out]

    geoms = np.array(
        [shapely.linestrings(c) if len(c) >= 2 else shapely.points(c[0]) for c in out],
        dtype=object,
    )
    line_tree = shapely.STRtree(geoms)
    counts = np.array([len(c) for c in out], dtype=np.int64)
    vertex_keys = _row_keys(np.repeat(np.arange(n, dtype=np.float64), counts), np.concatenate(out))
    targets: list[IntArray] = []
    points: list[FloatArray] = []

    # 2. a line end on (or within tol of) another line's interior becomes a
    #    vertex of that line (nothing to do where it already is one).
    end_i, line_j = line_tree.query(end_pts, predicate="dwithin", distance=tol)
    not_own = end_i // 2 != line_j
    end_i, line_j = end_i[not_own], line_j[not_own]
    new = ~np.isin(_row_keys(line_j.astype(np.float64), ends[end_i]), vertex_keys)
    targets.append(line_j[new].astype(np.int64))
    points.append(ends[end_i[new]])
    on_lines = int(new.sum())

    # 3. crossings of lines that meet at grade: the crossing point goes into
    #    both lines (the same coordinates, so they share a node).
    crossings = 0
    at_grade = np.flatnonzero(~separated)
    if len(at_grade):
        sub_tree = shapely.STRtree(geoms[at_grade])
        a_loc, b_loc = sub_tree.query(geoms[at_grade], predicate="intersects")
        keep = a_loc < b_loc
        a = at_grade[a_loc[keep]]
        b = at_grade[b_loc[keep]]
        if len(a):
            meet = shapely.intersection(geoms[a], geoms[b])
            coords, pair = shapely.get_coordinates(meet, return_index=True)
            in_a = ~np.isin(_row_keys(a[pair].astype(np.float64), coords), vertex_keys)
            in_b = ~np.isin(_row_keys(b[pair].astype(np.float64), coords), vertex_keys)
            targets += [a[pair][in_a].astype(np.int64), b[pair][in_b].astype(np.int64)]
            points += [coords[in_a], coords[in_b]]
            crossings = len(np.unique(pair[in_a | in_b]))

    target = np.concatenate(targets)
    point = np.concatenate(points).reshape(-1, 2)
    order = np.argsort(target, kind="stable")
    target, point = target[order], point[order]
    bounds = np.flatnonzero(np.diff(target)) + 1
    for line_pts in np.split(np.arange(len(target)), bounds):
        if not len(line_pts):
            continue
        j = int(target[line_pts[0]])
        if len(out[j]) >= 2:
            out[j] = _insert(out[j], point[line_pts])
    stats = NodingStats(lines=n, ends_joined=joined, ends_on_lines=on_lines, crossings=crossings)
    return out, stats


def _row_keys(line: FloatArray, xy: FloatArray) -> npt.NDArray[np.void]:
    """(line, x, y) rows as opaque byte keys, for exact membership tests with ``np.isin``."""
    rows = np.ascontiguousarray(np.column_stack([line, xy.reshape(-1, 2)]), dtype=np.float64)
    rows[rows == 0.0] = 0.0  # -0.0 and 0.0 are one coordinate
    return rows.view(np.dtype((np.void, 24))).reshape(-1)


def vertices_to_segments(
    lines: list[FloatArray],
) -> tuple[FloatArray, FloatArray, IntArray, IntArray, IntArray]:
    """Nodes (shared by exact coordinate) and consecutive-vertex segments of lines.

    Returns
    -------
    x, y, u, v, line
        Node coordinates (sorted by x then y), segment ends, and the line each
        segment came from.
    """
    coords = list(lines)
    counts = np.array([len(c) for c in coords], dtype=np.int64)
    if counts.sum() == 0:
        empty_i = np.zeros(0, dtype=np.int64)
        return np.zeros(0), np.zeros(0), empty_i, empty_i, empty_i
    allc = np.concatenate(coords)
    uniq, inverse = np.unique(allc, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1).astype(np.int64)
    line_of = np.repeat(np.arange(len(coords), dtype=np.int64), counts)
    same = line_of[:-1] == line_of[1:]
    u = inverse[:-1][same]
    v = inverse[1:][same]
    return uniq[:, 0].copy(), uniq[:, 1].copy(), u, v, line_of[:-1][same]
