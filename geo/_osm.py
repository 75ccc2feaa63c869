"""Stream road ways out of an OpenStreetMap file (PBF or XML, plain, bz2 or gz).

Why pyosmium and not pyrosm: pyrosm decodes the whole file into DataFrames
before anything can be filtered, so a province-sized extract must fit in
memory several times over. pyosmium (libosmium) streams the file: the C++
side skips every entity a filter rejects before Python sees it, it reads PBF
and XML alike (bz2 and gz decompressed on the fly), and so a bounding box can
be applied while reading.

The reader makes two passes:

1. ways only, pre-filtered in C++ to those with a ``highway`` tag; the caller's
   ``classify`` decides per way (mode filter, speed, direction) and only the
   node ids of accepted ways are kept (8 bytes per vertex);
2. nodes only, through a C++ chain: an id filter (``osmium.filter.IdFilter``)
   of the ids from pass 1 feeding a sparse location index, so only road nodes
   are stored (16 bytes each) and Python looks them up once.

Nothing else of the file is ever held: memory grows with the road vertices
of the file, not with its size (about 40 bytes per road vertex while
reading; a synthetic 2.25 million-vertex street grid among 6 million other
nodes reads in about 8 s on two cores, the whole network is built in under
10 s), plus the id filter's bitset: libosmium's ``IdSetDense`` allocates
512 kB for every block of 2^22 node ids that holds a road node, so its size
follows how widely the ids are spread, up to about 1.5 GB when road nodes
span the whole OSM id range (the 685 kB Helsinki extract already touches
enough blocks for a peak of about +430 MB, measured by the travel benchmark).
The clip box is applied as soon as locations are known, before any
network is built. Vertices whose node is missing from the file (extracts cut
ways at their border) split the way there: a segment needs both of its nodes.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt
import osmium
import osmium.filter
import osmium.index
import osmium.io
from osmium.osm import Way

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Int8Array = npt.NDArray[np.int8]

#: (km/h forward or 0 if forbidden, km/h backward or 0, speed source code)
WayVerdict = tuple[float, float, int]
Classifier = Callable[[osmium.osm.TagList], WayVerdict | None]


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


def _locations(path: Path, ids: IntArray) -> tuple[IntArray, FloatArray, FloatArray]:
    """Locations of the nodes ``ids`` (sorted): those found, as (ids, lon, lat).

    libosmium does the work: the id filter and the location index are C++, so
    the nodes of the file are never handed to Python one by one; only the
    wanted ones are looked up afterwards.
    """
    if not len(ids):
        return ids, np.zeros(0), np.zeros(0)
    index = osmium.index.create_map("sparse_mem_array")
    reader = osmium.io.Reader(str(path), osmium.osm.NODE)
    try:
        osmium.apply(
            reader, osmium.filter.IdFilter(ids.tolist()), osmium.NodeLocationsForWays(index)
        )
    finally:
        reader.close()
    lon = np.zeros(len(ids))
    lat = np.zeros(len(ids))
    found = np.zeros(len(ids), dtype=bool)
    get = index.get
    for k, node_id in enumerate(ids.tolist()):
        try:
            loc = get(node_id)
        except (KeyError, osmium.InvalidLocationError):
            continue
        if loc.valid():
            lon[k], lat[k], found[k] = loc.lon, loc.lat, True
    del index
    return ids[found], lon[found], lat[found]


def read_osm(
    path: Path,
    classify: Classifier,
    *,
    clip_box: tuple[float, float, float, float] | None = None,
) -> OsmRoads:
    """Read the road ways that ``classify`` accepts, streaming, in two passes.

    Parameters
    ----------
    path
        An ``.osm.pbf``, ``.osm``, ``.osm.bz2`` or ``.osm.gz`` file.
    classify
        Called with the tags of every way that has a ``highway`` tag; returns
        ``None`` to skip the way, else its speeds each way and speed source.
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
    refs = array("q")
    lengths = array("q")
    kph_f = array("d")
    kph_b = array("d")
    source = array("b")
    ways = osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway")
    )
    for entity in ways:
        way = cast(Way, entity)
        verdict = classify(way.tags)
        if verdict is None:
            continue
        ids = [n.ref for n in way.nodes]
        if len(ids) < 2:
            continue
        refs.extend(ids)
        lengths.append(len(ids))
        kph_f.append(verdict[0])
        kph_b.append(verdict[1])
        source.append(verdict[2])

    ref_arr = np.frombuffer(refs, dtype=np.int64) if refs else np.zeros(0, np.int64)
    # np.unique hashes integers in numpy 2.x, several times slower than sorting here
    ordered = np.sort(ref_arr)
    needed = (
        ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])] if len(ordered) else ordered
    )
    ids_sorted, lon_arr, lat_arr = _locations(path, needed)

    len_arr = np.frombuffer(lengths, dtype=np.int64) if lengths else np.zeros(0, np.int64)
    way_of_ref = np.repeat(np.arange(len(len_arr), dtype=np.int64), len_arr)
    same_way = way_of_ref[:-1] == way_of_ref[1:]
    a_ids = ref_arr[:-1][same_way]
    b_ids = ref_arr[1:][same_way]
    seg_way = way_of_ref[:-1][same_way]

    def lookup(ids: IntArray) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        pos = np.searchsorted(ids_sorted, ids)
        pos_c = np.minimum(pos, max(len(ids_sorted) - 1, 0))
        found = (
            (pos < len(ids_sorted)) & (ids_sorted[pos_c] == ids)
            if len(ids_sorted)
            else (np.zeros(len(ids), dtype=bool))
        )
        return pos_c.astype(np.int64), found

    a, a_ok = lookup(a_ids)
    b, b_ok = lookup(b_ids)
    ok = a_ok & b_ok
    missing = int((~lookup(needed)[1]).sum())
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
    way_kf = np.frombuffer(kph_f, dtype=np.float64) if kph_f else np.zeros(0)
    way_kb = np.frombuffer(kph_b, dtype=np.float64) if kph_b else np.zeros(0)
    way_src = np.frombuffer(source, dtype=np.int8) if source else np.zeros(0, np.int8)
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
