"""Stream road ways out of an OpenStreetMap file (PBF or XML, plain, bz2 or gz), in arrays.

Why pyosmium and not pyrosm: pyrosm decodes the whole file into DataFrames
before anything can be filtered, so a province-sized extract must fit in
memory several times over. pyosmium (libosmium) streams the file: the C++
side skips every entity a filter rejects before Python sees it, it reads PBF
and XML alike (bz2 and gz decompressed on the fly), and so a bounding box can
be applied while reading.

No Python runs per way or per node. Handing libosmium's objects to Python one
at a time costs microseconds per tag and per node reference, more than all
the rest of the work; so libosmium writes what is needed as OPL text (its
one-line-per-object format) into a temporary folder, and Arrow's CSV reader
parses it in blocks, in C++:

1. ways with a ``highway`` tag (``osmium.filter.KeyFilter``), copied as OPL;
   per block the values of the tags the rules read are pulled out as columns
   and classified once per distinct combination (the caller's classifier,
   see :mod:`geo._tags`); only the node ids of accepted ways are kept (8
   bytes per vertex);
2. nodes, through an id filter (``osmium.filter.IdFilter``) of the ids from
   pass 1, copied as OPL: only road nodes reach the text, with their
   locations.

Nothing else of the file is ever held: memory grows with the road vertices
of the file, not with its size: the node ids of accepted ways (8 bytes a
reference), the locations of their nodes (24 bytes a node), one block of
text at a time, and the arrays of the network. (The synthetic 1M-node
extract of bench/synthetic_roads.py peaks at 0.7 GB for the whole process,
the 3M-node one at 1.4 GB.) The clip box cuts this down only once locations
are known, as pyosmium offers no box filter in C++. Add the id filter's bitset:
libosmium's ``IdSetDense`` allocates 512 kB for every block of 2^22 node ids
that holds a road node, so its size follows how widely the ids are spread, up
to about 1.5 GB when road nodes span the whole OSM id range. The temporary
text takes disk space like the road ways and nodes of the file (about 30
bytes per vertex). Vertices whose node is missing from the file
(extracts cut ways at their border) split the way there: a segment needs
both of its nodes.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import osmium
import osmium.filter
import osmium.io
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from geo._arrow import to_numpy
from geo._tags import TagColumn, Verdicts

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Int8Array = npt.NDArray[np.int8]

#: Classifies ``n`` ways from their tags as columns (see :mod:`geo._tags`).
Classifier = Callable[[Mapping[str, TagColumn], int], Verdicts]

#: Bytes of OPL text parsed at a time.
BLOCK_BYTES = 16 << 20
_OPL_FORMAT = "opl,add_metadata=false"
_ESCAPED = re.compile(r"%([0-9a-f]+)%")


@dataclass(frozen=True)
class OsmRoads:
    """Road segments of one OSM file, before projection.

    ``node_id`` is sorted; ``seg_a``/``seg_b`` index into the node arrays and
    follow the way's own direction.
    """

    node_id: IntArray
    lon: FloatArray
    lat: FloatArray
    seg_a: IntArray
    seg_b: IntArray
    kph_f: FloatArray
    kph_b: FloatArray
    source: Int8Array
    ways: int
    missing_nodes: int


def _opl_escape(text: str) -> str:
    """``text`` as libosmium writes it in OPL (``%hex%`` for anything but safe characters)."""
    out = []
    for ch in text:
        c = ord(ch)
        if (
            0x21 <= c <= 0x24
            or 0x26 <= c <= 0x2B
            or 0x2D <= c <= 0x3C
            or 0x3E <= c <= 0x3F
            or 0x41 <= c <= 0x7E
            or 0xA1 <= c <= 0xAC
            or 0xAE <= c <= 0x05FF
        ):
            out.append(ch)
        else:
            out.append(f"%{c:02x}%")
    return "".join(out)


def _opl_unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)


def _export(path: Path, entities: osmium.osm.osm_entity_bits, filt: object, target: Path) -> None:
    """libosmium copies the ``entities`` of ``path`` that pass ``filt`` to ``target`` as OPL."""
    reader = osmium.io.Reader(str(path), entities)
    try:
        writer = osmium.SimpleWriter(osmium.io.File(str(target), _OPL_FORMAT))
        try:
            osmium.apply(reader, filt, writer)
        finally:
            writer.close()
    finally:
        reader.close()


def _blocks(target: Path, columns: list[str]) -> Iterator[pa.RecordBatch]:
    """OPL lines as record batches of text fields (OPL escapes spaces inside values)."""
    if target.stat().st_size == 0:
        return
    reader = pcsv.open_csv(
        target,
        read_options=pcsv.ReadOptions(column_names=columns, block_size=BLOCK_BYTES),
        parse_options=pcsv.ParseOptions(delimiter=" ", quote_char=False, escape_char=False),
        convert_options=pcsv.ConvertOptions(column_types=dict.fromkeys(columns, pa.string())),
    )
    yield from reader


def _field(column: pa.Array) -> pa.Array:
    """An OPL field without its one-letter prefix."""
    return pc.utf8_slice_codeunits(column, 1)


class _TagReader:
    """Values of a few tags, per way, from the OPL tag field of each block.

    Values keep one code per distinct value over the whole file, so a block's
    codes and ``values`` make a :class:`~geo._tags.TagColumn`.
    """

    def __init__(self, keys: Collection[str]) -> None:
        self.keys = sorted(keys)
        self._escaped = pa.array([_opl_escape(k) for k in self.keys], pa.string())
        self._values: list[list[str]] = [[] for _ in self.keys]
        self._codes: list[dict[str, int]] = [{} for _ in self.keys]

    def read(self, tags: pa.Array) -> dict[str, TagColumn]:
        n = len(tags)
        codes = np.full((len(self.keys), n), -1, dtype=np.int64)
        pairs = pc.split_pattern(_field(tags), ",")
        flat = pc.list_flatten(pairs)
        way = to_numpy(pc.list_parent_indices(pairs))
        key = pc.list_element(pc.split_pattern(flat, "=", max_splits=1), 0)
        is_wanted = pc.is_in(key, value_set=self._escaped)
        wanted = np.flatnonzero(to_numpy(is_wanted))
        if len(wanted):
            entries = pc.dictionary_encode(pc.filter(flat, is_wanted))
            key_of = np.empty(len(entries.dictionary), dtype=np.int64)
            code_of = np.empty(len(entries.dictionary), dtype=np.int64)
            for d, text in enumerate(entries.dictionary.to_pylist()):
                k, _, v = text.partition("=")
                slot = self.keys.index(_opl_unescape(k))
                value = _opl_unescape(v)
                if value not in self._codes[slot]:
                    self._codes[slot][value] = len(self._values[slot])
                    self._values[slot].append(value)
                key_of[d], code_of[d] = slot, self._codes[slot][value]
            index = to_numpy(entries.indices).astype(np.int64)
            codes[key_of[index], way[wanted]] = code_of[index]
        return {k: TagColumn(codes[i], tuple(self._values[i])) for i, k in enumerate(self.keys)}


def _node_refs(nodes: pa.Array) -> tuple[IntArray, IntArray]:
    """Node ids of ways, one after another, and the number per way, from OPL ``Nn1,n2``."""
    text = _field(nodes)
    some = pc.not_equal(text, "")
    count = np.where(to_numpy(some), to_numpy(pc.count_substring(text, ",")) + 1, 0)
    count = count.astype(np.int64)
    if not count.any():
        return np.zeros(0, dtype=np.int64), count
    listed = pc.split_pattern(pc.filter(text, some), ",")
    refs = pc.utf8_slice_codeunits(pc.list_flatten(listed), 1).cast(pa.int64())
    return to_numpy(refs), count


def _ways(
    path: Path, folder: Path, keys: Collection[str], classify: Classifier
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, Int8Array]:
    """Pass 1: node ids, refs per way and speeds of the accepted ways, in file order."""
    target = folder / "ways.opl"
    _export(path, osmium.osm.WAY, osmium.filter.KeyFilter("highway"), target)
    reader = _TagReader(keys)
    refs, lengths, kph_f, kph_b, source = [], [], [], [], []
    for block in _blocks(target, ["id", "tags", "nodes"]):
        verdicts = classify(reader.read(block.column("tags")), block.num_rows)
        block_refs, count = _node_refs(block.column("nodes"))
        accepted = verdicts.usable & (count >= 2)
        refs.append(block_refs[np.repeat(accepted, count)])
        lengths.append(count[accepted])
        kph_f.append(verdicts.kph_f[accepted])
        kph_b.append(verdicts.kph_b[accepted])
        source.append(verdicts.source[accepted])
    target.unlink()
    if not refs:
        empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0)
        return empty_i, empty_i, empty_f, empty_f, np.zeros(0, dtype=np.int8)
    return (
        np.concatenate(refs),
        np.concatenate(lengths),
        np.concatenate(kph_f),
        np.concatenate(kph_b),
        np.concatenate(source).astype(np.int8),
    )


def _locations(path: Path, folder: Path, ids: IntArray) -> tuple[IntArray, FloatArray, FloatArray]:
    """Pass 2: locations of the nodes ``ids`` (sorted): those found, as (ids, lon, lat).

    OPL writes a location as the decimal of libosmium's fixed-point value
    (1e-7 degree), which parses to the same float that ``Location.lon`` gives.
    A node listed twice keeps its last location.
    """
    if not len(ids):
        return ids, np.zeros(0), np.zeros(0)
    target = folder / "nodes.opl"
    _export(path, osmium.osm.NODE, osmium.filter.IdFilter(ids.tolist()), target)
    found_id, found_lon, found_lat = [], [], []
    for block in _blocks(target, ["id", "tags", "x", "y"]):
        x, y = _field(block.column("x")), _field(block.column("y"))
        valid = pc.and_(pc.not_equal(x, ""), pc.not_equal(y, ""))
        found_id.append(to_numpy(_field(block.column("id")).filter(valid).cast(pa.int64())))
        found_lon.append(to_numpy(x.filter(valid).cast(pa.float64())))
        found_lat.append(to_numpy(y.filter(valid).cast(pa.float64())))
    target.unlink()
    if not found_id:
        return ids[:0], np.zeros(0), np.zeros(0)
    node_id = np.concatenate(found_id)
    lon, lat = np.concatenate(found_lon), np.concatenate(found_lat)
    order = np.argsort(node_id, kind="stable")
    node_id, lon, lat = node_id[order], lon[order], lat[order]
    last = np.concatenate([node_id[1:] != node_id[:-1], [True]])
    return node_id[last], lon[last], lat[last]


def read_osm(
    path: Path,
    keys: Collection[str],
    classify: Classifier,
    *,
    clip_box: tuple[float, float, float, float] | None = None,
) -> OsmRoads:
    """Read the road ways that ``classify`` accepts, streaming, in two passes.

    Parameters
    ----------
    path
        An ``.osm.pbf``, ``.osm``, ``.osm.bz2`` or ``.osm.gz`` file.
    keys
        The tags ``classify`` reads.
    classify
        Called with blocks of ways that have a ``highway`` tag, their ``keys``
        as columns; says per way whether it is used and its speeds.
    clip_box
        ``(min_lon, min_lat, max_lon, max_lat)``: only segments with at least
        one end inside are returned (a segment crossing the border is kept
        whole), and only their nodes.

    Raises
    ------
    RuntimeError
        When libosmium cannot read the file (the caller turns it into a
        :class:`~geo.errors.RoadNetworkError`).
    """
    try:
        with tempfile.TemporaryDirectory(prefix="servicenet-osm-") as tmp:
            return _read(path, Path(tmp), keys, classify, clip_box)
    except (OSError, pa.ArrowException) as exc:  # no room for the text, or text not OPL
        raise RuntimeError(str(exc)) from exc


def _read(
    path: Path,
    folder: Path,
    keys: Collection[str],
    classify: Classifier,
    clip_box: tuple[float, float, float, float] | None,
) -> OsmRoads:
    """The two passes (see the module doc) and the segments, in a scratch ``folder``."""
    ref_arr, len_arr, way_kf, way_kb, way_src = _ways(path, folder, keys, classify)
    # Every reference's rank among the distinct ids, by one sort: binary
    # searches of millions of references jump all over memory.
    order = np.argsort(ref_arr, kind="stable")
    ordered = ref_arr[order]
    fresh = np.ones(len(ordered), dtype=bool)
    fresh[1:] = ordered[1:] != ordered[:-1]
    needed = ordered[fresh]
    rank = np.empty(len(ref_arr), dtype=np.int64)
    rank[order] = np.cumsum(fresh) - 1
    ids_sorted, lon_arr, lat_arr = _locations(path, folder, needed)

    # where each distinct id is among the nodes found, -1 if missing
    found_at = np.full(len(needed), -1, dtype=np.int64)
    found_at[np.searchsorted(needed, ids_sorted)] = np.arange(len(ids_sorted), dtype=np.int64)
    missing = int((found_at < 0).sum())
    node_of_ref = found_at[rank]
    way_of_ref = np.repeat(np.arange(len(len_arr), dtype=np.int64), len_arr)
    same_way = way_of_ref[:-1] == way_of_ref[1:]
    a = node_of_ref[:-1][same_way]
    b = node_of_ref[1:][same_way]
    seg_way = way_of_ref[:-1][same_way]
    ok = (a >= 0) & (b >= 0)
    if clip_box is not None and len(ids_sorted):
        x0, y0, x1, y1 = clip_box
        inside = (lon_arr >= x0) & (lon_arr <= x1) & (lat_arr >= y0) & (lat_arr <= y1)
        ok &= inside[a] | inside[b]
        used = np.zeros(len(ids_sorted), dtype=bool)
        used[a[ok]] = True
        used[b[ok]] = True
        new_index = np.cumsum(used) - 1
        a, b = new_index[a], new_index[b]
        ids_sorted, lon_arr, lat_arr = ids_sorted[used], lon_arr[used], lat_arr[used]
    return OsmRoads(
        node_id=ids_sorted,
        lon=lon_arr,
        lat=lat_arr,
        seg_a=a[ok],
        seg_b=b[ok],
        kph_f=way_kf[seg_way[ok]].copy(),
        kph_b=way_kb[seg_way[ok]].copy(),
        source=way_src[seg_way[ok]].copy(),
        ways=len(len_arr),
        missing_nodes=missing,
    )
