"""Line layers (GeoJSON, GeoPackage, Shapefile) as noded road lines, in arrays.

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

Every vertex stays a vertex; a road is never straightened. Consecutive
repeated vertices are dropped before and after each step. Attributes stay with
their line, so no matching back of noded pieces is needed.

Lines travel as flat arrays: the coordinates of all lines one after another,
``(V, 2)``, and for every vertex the index of its line (non-decreasing). The
layer is read through Arrow (:func:`pyogrio.read_arrow`), only the columns the
caller asks for, and all the work above runs on these arrays with shapely 2's
vectorised functions and STR-tree bulk queries; Python loops only over the
position along the longest line that receives new vertices.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
T = TypeVar("T", bound=np.generic)

_LINESTRING, _MULTILINESTRING = 1, 5  # shapely.get_type_id
#: Text values looked at per column to tell a mis-decoded Shapefile.
_SAMPLE_VALUES = 200
_SAMPLE_FEATURES = 5000


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


@dataclass(frozen=True)
class LineLayer:
    """A line layer as arrays: attribute rows and the lines' coordinates.

    Attributes
    ----------
    attributes
        The columns asked for, one row per feature of the file.
    columns
        Every attribute column of the layer, in file order.
    xy, line
        Vertex coordinates of all lines, 2-D in the file's CRS, and the line
        of each vertex. A MultiLineString gives one line per part; lines with
        fewer than two coordinates are left out.
    feature
        For every line, its row in ``attributes``.
    crs
        The file's CRS as GDAL reports it, or ``None``.
    encoding
        ``"gb18030"`` when a Shapefile without .cpg was read in it.
    """

    attributes: pd.DataFrame
    columns: list[str]
    xy: FloatArray
    line: IntArray
    feature: IntArray
    crs: str | None
    encoding: str | None = None

    @property
    def n_lines(self) -> int:
        """Number of lines."""
        return len(self.feature)


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


def _looks_misdecoded(texts: list[str]) -> bool:
    """Text read as Latin-1 that was written in a Chinese code page (µÈ¼¶ for 等级)."""
    return any("\x80" <= ch <= "\xff" for t in texts for ch in t)


def _shapefile_encoding(path: Path) -> str | None:
    """The code page to read a Shapefile in.

    GDAL names one from the .cpg or the DBF's language id, else Latin-1;
    Chinese tools write GBK, often with neither. Returns ``"gb18030"`` (a
    superset of GBK) when the column names, or the first values of a text
    column, look mis-decoded and the file reads in GB18030; else GDAL's
    choice (which the Arrow reader must be told).
    """
    info = pyogrio.read_info(path)
    native = str(info["encoding"]) if info.get("encoding") else None
    names = [str(f) for f in info["fields"]]
    texts = [*names]
    text_columns = [n for n, t in zip(names, info["dtypes"], strict=True) if t == "object"]
    if text_columns and not _looks_misdecoded(texts):
        _, sample = pyogrio.read_arrow(
            path,
            encoding=native,
            columns=text_columns,
            read_geometry=False,
            max_features=_SAMPLE_FEATURES,
        )
        for name in sample.column_names:
            values = sample.column(name).drop_null()
            texts.extend(str(v) for v in values.slice(0, _SAMPLE_VALUES).to_pylist())
    if not _looks_misdecoded(texts):
        return native
    try:
        pyogrio.read_info(path, encoding="gb18030")
    except Exception:  # not GB18030 either: keep what GDAL reads
        return native
    return "gb18030"


def _attributes(table: pa.Table, names: list[str]) -> pd.DataFrame:
    """Arrow columns as pandas, dates and zoned times as the non-Arrow reader gives them."""
    columns: dict[str, pd.Series] = {}
    for name in names:
        column = table.column(name)
        if pa.types.is_date(column.type):
            column = column.cast(pa.timestamp("ms"))
        elif pa.types.is_timestamp(column.type) and column.type.tz is not None:
            column = column.cast(pa.timestamp(column.type.unit))
        columns[name] = column.to_pandas()
    return pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows))


def _ranks(count: IntArray) -> IntArray:
    """``0 .. count[i] - 1`` for every ``i``, one after another."""
    total = int(count.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)


def _plain_linestrings(wkb: pa.Array) -> tuple[FloatArray, IntArray, IntArray] | None:
    """Coordinates straight from the WKB bytes when every geometry is a 2-D LineString.

    That is the common layer; it spares making a shapely object per feature
    only to read its coordinates back. Returns ``(xy, line, feature)`` as
    :class:`LineLayer` holds them (lines with fewer than two points left
    out), or ``None`` for anything else (multi-part, 3-D, big-endian, null),
    which goes through shapely.
    """
    if len(wkb) == 0 or wkb.null_count or not pa.types.is_binary(wkb.type):
        return None
    offsets = np.frombuffer(wkb.buffers()[1], dtype=np.int32)[
        wkb.offset : wkb.offset + len(wkb) + 1
    ]
    data = np.frombuffer(wkb.buffers()[2], dtype=np.uint8)
    start = offsets[:-1].astype(np.int64)
    if np.any(offsets[1:] - offsets[:-1] < 9):
        return None
    header = data[start[:, None] + np.arange(9)]
    kind = header[:, 1:5].copy().view("<u4").reshape(-1)
    count = header[:, 5:9].copy().view("<u4").reshape(-1).astype(np.int64)
    if np.any(header[:, 0] != 1) or np.any(kind != 2):  # little-endian 2-D LineString
        return None
    if np.any(offsets[1:] - start != 9 + 16 * count):
        return None
    keep = count >= 2
    # every record is its 9-byte header and its points: drop the headers and
    # the records of fewer than two points, the rest is the coordinates in order
    base = int(offsets[0])
    body = np.ones(int(offsets[-1]) - base, dtype=bool)
    body[(start - base)[:, None] + np.arange(9)] = False
    short = np.flatnonzero(~keep & (count > 0))
    body[np.repeat(start[short] - base + 9, 16 * count[short]) + _ranks(16 * count[short])] = False
    xy: FloatArray = (
        data[base : int(offsets[-1])][body].view("<f8").reshape(-1, 2).astype(np.float64)
    )
    feature = np.flatnonzero(keep).astype(np.int64)
    count = count[keep]
    line = np.repeat(np.arange(len(feature), dtype=np.int64), count)
    return xy, line, feature


def read_lines(
    path: Path, layer: str | None, wanted: Callable[[list[str]], list[str]]
) -> LineLayer:
    """Read a line layer as arrays, only the attribute columns ``wanted`` picks.

    Parameters
    ----------
    path, layer
        The file and its layer (``None``: the only or first one).
    wanted
        Given the layer's column names, the ones to read.

    Rows whose geometry is not a line, empty or missing give no line (the
    caller counts lines, not rows).
    """
    encoding = None
    if path.suffix.lower() == ".shp":
        if path.with_suffix(".cpg").exists():
            encoding = pyogrio.read_info(path).get("encoding")
        else:
            encoding = _shapefile_encoding(path)

    def read(encoding: str | None) -> tuple[list[str], list[str], dict[str, Any], pa.Table]:
        info = pyogrio.read_info(path, layer=layer, encoding=encoding)
        names = [str(f) for f in info["fields"]]
        chosen = [c for c in wanted(names) if c in names]
        meta, table = pyogrio.read_arrow(path, layer=layer, encoding=encoding, columns=chosen)
        return names, chosen, meta, table

    try:
        names, chosen, meta, table = read(encoding)
    except Exception:
        if encoding != "gb18030":
            raise
        # GB18030 failed on the values: keep what GDAL reads
        encoding = pyogrio.read_info(path).get("encoding")
        names, chosen, meta, table = read(encoding)
    geom_name = meta["geometry_name"] or "wkb_geometry"
    wkb = table.column(geom_name).combine_chunks()
    plain = _plain_linestrings(wkb)
    if plain is not None:
        xy, line, feature = plain
    else:
        geoms = shapely.from_wkb(np.asarray(wkb.to_numpy(zero_copy_only=False)))
        is_line = np.isin(shapely.get_type_id(geoms), (_LINESTRING, _MULTILINESTRING))
        rows = np.flatnonzero(is_line)
        parts, part_of = shapely.get_parts(geoms[rows], return_index=True)
        keep = shapely.get_num_coordinates(parts) >= 2
        parts, feature = parts[keep], rows[part_of[keep]].astype(np.int64)
        xy, line = shapely.get_coordinates(parts, return_index=True)
    return LineLayer(
        attributes=_attributes(table, chosen),
        columns=names,
        xy=np.ascontiguousarray(xy, dtype=np.float64).reshape(-1, 2),
        line=line.astype(np.int64),
        feature=feature,
        crs=None if meta["crs"] is None else str(meta["crs"]),
        encoding="gb18030" if encoding == "gb18030" else None,
    )


# ---------------------------------------------------------------------- noding


def _dedupe(xy: FloatArray, line: IntArray) -> tuple[FloatArray, IntArray]:
    """Drop vertices equal to the one before them on the same line."""
    if len(xy) < 2:
        return xy, line
    same = (line[1:] == line[:-1]) & np.all(xy[1:] == xy[:-1], axis=1)
    keep = np.concatenate([[True], ~same])
    return xy[keep], line[keep]


def _first_last(line: IntArray, n: int) -> tuple[IntArray, IntArray]:
    """Index of the first and last vertex of every line (each has at least one)."""
    first = np.searchsorted(line, np.arange(n, dtype=np.int64)).astype(np.int64)
    last = np.concatenate([first[1:], [len(line)]]).astype(np.int64) - 1
    return first, last


def _geometries(xy: FloatArray, line: IntArray, n: int) -> npt.NDArray[np.object_]:
    """One LineString per line, or a Point for a line reduced to one vertex."""
    counts = np.bincount(line, minlength=n)
    geoms = np.empty(n, dtype=object)
    single = counts == 1
    if single.any():
        first, _ = _first_last(line, n)
        geoms[single] = shapely.points(xy[first[single]])
    multi = ~single[line]
    if multi.any():
        shapely.linestrings(xy[multi], indices=line[multi], out=geoms)
    return geoms


def _complex(xy: FloatArray) -> npt.NDArray[np.complex128]:
    """(x, y) rows as complex numbers, bit for bit: one value per coordinate pair.

    Sorting and comparing them is comparing (x, y) pairs exactly (x first),
    with ``-0.0 == 0.0`` as for floats.
    """
    return np.ascontiguousarray(xy, dtype=np.float64).reshape(-1, 2).view(np.complex128)[:, 0]


def _distinct(xy: FloatArray) -> tuple[FloatArray, IntArray]:
    """Distinct coordinate pairs (sorted by x, then y) and the index of each row among them."""
    distinct, inverse = np.unique(_complex(xy), return_inverse=True)
    pairs = np.ascontiguousarray(distinct).view(np.float64).reshape(-1, 2)
    return pairs, inverse.reshape(-1).astype(np.int64)


def _sorted_unique(values: npt.NDArray[T]) -> npt.NDArray[T]:
    """``np.unique`` by sorting (numpy 2 hashes plain ``np.unique``, several times slower here)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.concatenate([[True], ordered[1:] != ordered[:-1]])
    unique: npt.NDArray[T] = ordered[keep]
    return unique


class _VertexIndex:
    """Answers "is this point a vertex of that line?" exactly, for many pairs at once."""

    def __init__(self, xy: FloatArray, line: IntArray) -> None:
        coords = _complex(xy)
        self._coords = _sorted_unique(coords)
        ids = np.searchsorted(self._coords, coords)
        self._keys = _sorted_unique(line * len(self._coords) + ids)

    def contains(self, line: IntArray, xy: FloatArray) -> BoolArray:
        """For every ``i``: is ``xy[i]`` a vertex of line ``line[i]``."""
        if not len(line) or not len(self._coords):
            return np.zeros(len(line), dtype=bool)
        wanted = _complex(xy)
        pos = np.minimum(np.searchsorted(self._coords, wanted), len(self._coords) - 1)
        key = line * len(self._coords) + pos
        at = np.minimum(np.searchsorted(self._keys, key), len(self._keys) - 1)
        found: BoolArray = (self._coords[pos] == wanted) & (self._keys[at] == key)
        return found


#: Line pairs with more segment pairs than this go to GEOS without a closer look.
_MAX_SEGMENT_PAIRS = 256
#: Segment pairs looked at in one go.
_BLOCK_PAIRS = 1 << 18


def _may_cross(
    xy: FloatArray, first: IntArray, counts: IntArray, a: IntArray, b: IntArray
) -> BoolArray:
    """Pairs of lines whose intersection may hold a point that is not a shared vertex.

    ``False`` only where it is certain that lines ``a[i]`` and ``b[i]`` meet
    nowhere but at vertices both have, so their intersection would insert
    nothing: every pair of their segments either lies in boxes apart, or is
    two segments from one shared end in clearly different directions (two
    straight segments from one point meet only there). "Clearly": the cross
    product exceeds 1e-9 of the product of the lengths, far above rounding,
    so GEOS's exact orientation test agrees. This spares the intersection of
    most touching pairs of a street network. Segment pairs are looked at in
    blocks, to bound the memory of the temporaries.
    """
    na, nb = counts[a] - 1, counts[b] - 1
    work = na * nb
    small = np.flatnonzero((work <= _MAX_SEGMENT_PAIRS) & (na > 0) & (nb > 0))
    result = np.ones(len(a), dtype=bool)
    if not len(small):
        return result
    pts = _complex(xy)  # one number per vertex: fewer, cheaper array operations
    total = np.cumsum(work[small])
    cuts = np.searchsorted(total, np.arange(_BLOCK_PAIRS, int(total[-1]) + 1, _BLOCK_PAIRS))
    bounds = np.unique(np.concatenate([[0], cuts, [len(small)]]))
    for lo, hi in itertools.pairwise(bounds.tolist()):
        block = small[lo:hi]
        result[block] = _block_may_cross(pts, first, a[block], b[block], nb[block], work[block])
    return result


def _block_may_cross(
    pts: npt.NDArray[np.complex128],
    first: IntArray,
    a: IntArray,
    b: IntArray,
    nb: IntArray,
    m: IntArray,
) -> BoolArray:
    pair = np.repeat(np.arange(len(a), dtype=np.int64), m)
    k = _ranks(m)
    nb_rep = nb[pair]
    sa = first[a][pair] + k // nb_rep  # segment = vertex i to i + 1
    sb = first[b][pair] + k % nb_rep
    a0, a1, b0, b1 = pts[sa], pts[sa + 1], pts[sb], pts[sb + 1]
    apart = (
        (np.maximum(a0.real, a1.real) < np.minimum(b0.real, b1.real))
        | (np.maximum(b0.real, b1.real) < np.minimum(a0.real, a1.real))
        | (np.maximum(a0.imag, a1.imag) < np.minimum(b0.imag, b1.imag))
        | (np.maximum(b0.imag, b1.imag) < np.minimum(a0.imag, a1.imag))
    )
    s00, s01, s10, s11 = a0 == b0, a0 == b1, a1 == b0, a1 == b1
    at_a0 = s00 | s01
    p = np.where(at_a0, a0, a1)  # the shared end, then the far ends of a and b
    da = np.where(at_a0, a1, a0) - p
    db = np.where(s00 | s10, b1, b0) - p
    cross = da.real * db.imag - da.imag * db.real
    one_end = (at_a0 | s10 | s11) & ~((s00 & s11) | (s01 & s10))
    harmless = apart | (one_end & (np.abs(cross) > 1e-9 * (np.abs(da) * np.abs(db))))
    busy: BoolArray = np.bincount(pair[~harmless], minlength=len(a)) > 0
    return busy


def _running_sums(values: FloatArray, count: IntArray) -> FloatArray:
    """Per group ``[0, v0, v0 + v1, ...]``, each group summed left to right.

    ``values`` holds ``count - 1`` entries per group, group after group (a
    line of k vertices has k - 1 segments). Summing in order, as
    ``np.cumsum`` does on one line, keeps every sum bit for bit what a
    line-by-line loop gives; a global cumulative sum minus offsets would not.
    """
    out = np.zeros(int(count.sum()), dtype=np.float64)
    starts = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    seg_starts = starts - np.arange(len(count), dtype=np.int64)
    order = np.argsort(-count, kind="stable")
    longest = int(count.max(initial=0))
    active = len(order)
    sorted_count = count[order]
    for k in range(1, longest):
        while active and sorted_count[active - 1] <= k:
            active -= 1
        groups = order[:active]
        at = starts[groups] + k
        out[at] = out[at - 1] + values[seg_starts[groups] + k - 1]
    return out


def _insert(
    xy: FloatArray,
    line: IntArray,
    geoms: npt.NDArray[np.object_],
    target: IntArray,
    point: FloatArray,
) -> tuple[FloatArray, IntArray]:
    """Insert ``point[i]`` into line ``target[i]`` at its position along the line.

    ``target`` is sorted (stably, so points of one line keep their order). A
    point goes after the vertices at or before its position; vertices come
    first at equal positions, then points in their order.
    """
    lines = np.unique(target)
    at = shapely.line_locate_point(geoms[target], shapely.points(point))
    in_target = np.isin(line, lines)
    txy, tline = xy[in_target], line[in_target]
    count = np.bincount(tline, minlength=int(line.max(initial=0)) + 1)[lines]
    same = tline[1:] == tline[:-1]
    seg = np.hypot(*np.diff(txy, axis=0).T)[same]
    along = _running_sums(seg, count)
    pos = np.concatenate([along, at])
    kind = np.concatenate([np.zeros(len(txy)), np.ones(len(point))])
    owner = np.concatenate([tline, target])
    order = np.lexsort((kind, pos, owner))
    merged, merged_line = _dedupe(np.concatenate([txy, point])[order], owner[order])
    out_xy = np.concatenate([xy[~in_target], merged])
    out_line = np.concatenate([line[~in_target], merged_line])
    order = np.argsort(out_line, kind="stable")
    return out_xy[order], out_line[order]


def _margin(xy: FloatArray) -> float:
    """Metres safely above the rounding of coordinates as large as ``xy``'s."""
    return 1e-9 * (1.0 + float(np.abs(xy).max(initial=0.0)))


def _spots_within(spots: FloatArray, tol: float) -> tuple[IntArray, IntArray]:
    """Pairs ``i < j`` of spots at most ``tol`` apart (GEOS ``dwithin``, as an STR-tree query).

    Candidates are the spots in the same or a neighbouring square of a grid
    a little wider than ``tol``; only those few are made points and checked
    with GEOS.
    """
    if len(spots) < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    cell = tol + 2 * _margin(spots)
    ij = np.floor((spots - spots.min(axis=0)) / cell).astype(np.int64)
    width = int(ij[:, 1].max()) + 3
    key = (ij[:, 0] + 1) * width + (ij[:, 1] + 1)
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    left, right = [], []
    for dx, dy in ((0, 0), (0, 1), (1, -1), (1, 0), (1, 1)):  # each neighbour pair once
        wanted = key + dx * width + dy
        lo, hi = np.searchsorted(ordered, wanted, "left"), np.searchsorted(ordered, wanted, "right")
        count = hi - lo
        i = np.repeat(np.arange(len(spots), dtype=np.int64), count)
        j = order[np.repeat(lo, count) + _ranks(count)]
        keep = i < j if (dx, dy) == (0, 0) else np.ones(len(i), dtype=bool)
        left.append(i[keep])
        right.append(j[keep])
    a, b = np.concatenate(left), np.concatenate(right)
    near = np.zeros(len(a), dtype=bool)
    if len(a):
        pa = shapely.points(spots[a])
        shapely.prepare(pa)
        near = shapely.dwithin(pa, shapely.points(spots[b]), tol)
    lo_hi = np.sort(np.column_stack([a[near], b[near]]), axis=1)
    return lo_hi[:, 0].copy(), lo_hi[:, 1].copy()


def _spots_near_lines(
    spots: FloatArray, geoms: npt.NDArray[np.object_], vertices: _VertexIndex, tol: float
) -> tuple[IntArray, IntArray]:
    """(spot, line) pairs with the spot within ``tol`` of the line and not one of its vertices.

    In the order of an STR-tree ``dwithin`` query (by spot, then tree order):
    the tree is asked for boxes a hair wider than the query's, the pairs
    where the spot is already a vertex are dropped, and GEOS checks the
    distance of the few left, prepared as the query would.
    """
    pad = tol + _margin(spots)
    boxes = shapely.box(spots[:, 0] - pad, spots[:, 1] - pad, spots[:, 0] + pad, spots[:, 1] + pad)
    spot_i, line_j = shapely.STRtree(geoms).query(boxes)
    new = ~vertices.contains(line_j, spots[spot_i])
    spot_i, line_j = spot_i[new], line_j[new]
    if not len(spot_i):
        return spot_i, line_j
    pts = shapely.points(spots[spot_i])
    shapely.prepare(pts)
    near = shapely.dwithin(pts, geoms[line_j], tol)
    return spot_i[near], line_j[near]


def node_lines(
    xy: FloatArray, line: IntArray, separated: BoolArray, tol: float
) -> tuple[FloatArray, IntArray, NodingStats]:
    """Node lines given as flat metric coordinates (see the module doc).

    Parameters
    ----------
    xy, line
        Vertex coordinates, ``(V, 2)``, and the line of each vertex, from 0 to
        ``len(separated) - 1``, non-decreasing, every line with two or more.
    separated
        Lines that cross others without meeting them (motorways, bridges, tunnels).
    tol
        Metres within which line ends are joined to ends and to other lines.

    Returns
    -------
    xy, line, stats
        The noded lines (same order, same count) and what changed.
    """
    n = len(separated)
    xy, line = _dedupe(np.asarray(xy, dtype=np.float64).reshape(-1, 2), line.astype(np.int64))
    if n == 0:
        return xy, line, NodingStats(0, 0, 0, 0)

    # 1. join line ends closer than tol: union of ends within reach, each
    #    cluster moved to its first end's position. Ends at one spot are one
    #    point for the search (most ends are shared by several lines).
    first, last = _first_last(line, n)
    ends = np.empty((2 * n, 2), dtype=np.float64)
    ends[0::2], ends[1::2] = xy[first], xy[last]
    spots, spot_of = _distinct(ends)
    left, right = _spots_within(spots, tol)
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(len(spots), len(spots))).tocsr()
    _, spot_label = connected_components(graph, directed=False)
    label = spot_label[spot_of]
    head = np.full(label.max() + 1, len(ends), dtype=np.int64)
    np.minimum.at(head, label, np.arange(len(ends)))
    target = ends[head[label]]
    moved = np.flatnonzero(np.any(target != ends, axis=1))
    joined = len(moved)
    if joined:
        xy = xy.copy()
        starts, stops = moved[moved % 2 == 0], moved[moved % 2 == 1]
        xy[first[starts // 2]] = target[starts]
        xy[last[stops // 2]] = target[stops]  # after the starts: a one-vertex line takes its end
        ends = target
    xy, line = _dedupe(xy, line)

    geoms = _geometries(xy, line, n)
    counts = np.bincount(line, minlength=n)
    first, _ = _first_last(line, n)
    vertices = _VertexIndex(xy, line)
    targets: list[IntArray] = []
    points: list[FloatArray] = []

    # 2. a line end on (or within tol of) another line's interior becomes a
    #    vertex of that line (nothing to do where it already is one). Found per
    #    spot, then handed to every end at the spot, in end order.
    spots, spot_of = _distinct(ends)
    spot_i, line_j = _spots_near_lines(spots, geoms, vertices, tol)
    per_spot = np.bincount(spot_i, minlength=len(spots))
    spot_start = np.concatenate([[0], np.cumsum(per_spot)[:-1]]).astype(np.int64)
    per_end = per_spot[spot_of]
    end_i = np.repeat(np.arange(len(ends), dtype=np.int64), per_end)
    line_j = line_j[np.repeat(spot_start[spot_of], per_end) + _ranks(per_end)].astype(np.int64)
    not_own = end_i // 2 != line_j
    targets.append(line_j[not_own])
    points.append(ends[end_i[not_own]])
    on_lines = int(not_own.sum())

    # 3. crossings of lines that meet at grade: the crossing point goes into
    #    both lines (the same coordinates, so they share a node).
    crossings = 0
    at_grade = np.flatnonzero(~separated)
    if len(at_grade):
        # Pairs whose boxes overlap, in the order of an "intersects" query
        # (which is this order, filtered); pairs that provably add nothing
        # are dropped before the predicate and the intersection are computed.
        grade_geoms = geoms[at_grade]
        a_loc, b_loc = shapely.STRtree(grade_geoms).query(grade_geoms)
        keep = a_loc < b_loc
        a = at_grade[a_loc[keep]]
        b = at_grade[b_loc[keep]]
        busy = _may_cross(xy, first, counts, a, b)
        a, b = a[busy], b[busy]
        shapely.prepare(geoms[a])
        hit = shapely.intersects(geoms[a], geoms[b])
        a, b = a[hit], b[hit]
        if len(a):
            meet = shapely.intersection(geoms[a], geoms[b])
            coords, pair_of = shapely.get_coordinates(meet, return_index=True)
            in_a = ~vertices.contains(a[pair_of], coords)
            in_b = ~vertices.contains(b[pair_of], coords)
            targets += [a[pair_of][in_a].astype(np.int64), b[pair_of][in_b].astype(np.int64)]
            points += [coords[in_a], coords[in_b]]
            crossings = len(np.unique(pair_of[in_a | in_b]))

    target = np.concatenate(targets)
    point = np.concatenate(points).reshape(-1, 2)
    order = np.argsort(target, kind="stable")
    target, point = target[order], point[order]
    onto_line = counts[target] >= 2  # a line reduced to a point takes nothing
    if onto_line.any():
        xy, line = _insert(xy, line, geoms, target[onto_line], point[onto_line])
    stats = NodingStats(lines=n, ends_joined=joined, ends_on_lines=on_lines, crossings=crossings)
    return xy, line, stats


def vertices_to_segments(
    xy: FloatArray, line: IntArray
) -> tuple[FloatArray, FloatArray, IntArray, IntArray, IntArray]:
    """Nodes (shared by exact coordinate) and consecutive-vertex segments of lines.

    Returns
    -------
    x, y, u, v, line
        Node coordinates (sorted by x then y), segment ends, and the line each
        segment came from.
    """
    if len(xy) == 0:
        empty_i = np.zeros(0, dtype=np.int64)
        return np.zeros(0), np.zeros(0), empty_i, empty_i, empty_i
    points = _complex(xy)
    order = np.argsort(points, kind="stable")  # by x, then y
    ordered = xy[order]
    fresh = np.concatenate([[True], points[order][1:] != points[order][:-1]])
    node_of_sorted = np.cumsum(fresh) - 1
    inverse = np.empty(len(xy), dtype=np.int64)
    inverse[order] = node_of_sorted
    uniq = ordered[fresh]
    same = line[:-1] == line[1:]
    u = inverse[:-1][same]
    v = inverse[1:][same]
    return uniq[:, 0].copy(), uniq[:, 1].copy(), u, v, line[:-1][same].astype(np.int64)
