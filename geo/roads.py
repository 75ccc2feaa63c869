"""Road networks from real files: OpenStreetMap, osmnx GraphML and GIS line layers.

:func:`load_roads` turns a road file into a :class:`~geo.network.RoadNetwork`
for one travel mode: every vertex of every road line is a node (nothing is
straightened), consecutive vertices make one straight segment, with seconds
each way (``inf`` where one-way forbids it), in the UTM zone of the data.

Formats
-------
- OpenStreetMap ``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``: streamed with
  pyosmium in two passes (see :mod:`geo._osm` for why pyosmium rather than
  pyrosm: it never holds the file, reads PBF and XML, bz2 included, and applies
  the clip box while reading).
- osmnx GraphML (``.graphml``): node ``x``/``y`` (in the graph's ``crs``,
  WGS-84 by default), edge ``geometry`` (WKT, else straight), ``highway``,
  ``maxspeed``, ``speed_kph``. A directed graph's edge u → v permits u → v
  only; osmnx's two arcs of a two-way street become one segment with both
  directions.
- Line layers (GeoJSON, GeoPackage, Shapefile, any CRS): noded first (see
  :mod:`geo._lines`: ends within ``snap_m`` joined, ends on other lines and
  at-grade crossings made vertices; motorways, bridges and tunnels cross
  without meeting). Columns are recognised in English and Chinese: a class
  (``highway``, ``fclass``, ``class``, ``type``, ``等级``, ``道路等级``, ``类型``
  ...), a speed (``speed_kph``, ``maxspeed``, ``限速``, ``速度`` ...) and a
  direction (``oneway``, ``单行`` ...). A layer without a class column is
  usable in every mode: at its speed column or the default speed when
  driving, at ``walk_kph`` when walking.

Rules
-----
- What each mode may use, and the speeds by road class, are data:
  ``data/road_speeds.toml`` (close to osmnx's ``drive_service`` and ``walk``
  filters; the file says where it differs). For OSM data, driving uses only the
  highway classes that have a speed in the table.
- Speed of a drivable road: its own speed (OSM ``maxspeed``, a speed column or
  ``speed_kph``; ``"50"``, ``"50 km/h"``, ``"30 mph"``, ``"50;60"`` → the
  lowest; ``none``/``signals``/junk ignored), else the class table, else the
  default. Walking: ``walk_kph`` on every walkable way.
- One-way (driving only): ``oneway=yes/true/1`` forward, ``-1``/``reverse``
  backward, ``junction=roundabout``/``circular`` and ``highway=motorway`` imply
  forward unless ``oneway=no``. Geofabrik's ``F``/``T``/``B`` are forward /
  backward / both. Walking is two-way everywhere.
- Clipping (``bbox`` and/or ``boundary``, WGS-84): a segment is kept when at
  least one of its ends is inside, so a road leaving the area keeps its whole
  last segment and nothing further (no segment is cut at the border). For OSM
  the box (a boundary's bounding box) is applied inside the streaming reader,
  as soon as node locations are known.
- ``keep="largest"``: only the largest strongly connected component (driving;
  connected for walking) is kept; the rest is reported in the facts and in
  ``dropped_xy``. ``components_dropped`` counts the connected pieces the
  dropped segments form.
- Built networks are cached as Parquet (see :mod:`geo._roadcache`).
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import math
import os
import re
import tomllib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS, Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

from geo import _roadcache
from geo._tags import TagColumn, Verdicts, absent, per_combination, tag_column
from geo.bounds import LAT, LON, check_values
from geo.errors import RoadNetworkError
from geo.network import Mode, NetworkFacts, RoadNetwork
from geo.projection import to_lonlat, to_metric, utm_crs
from geo.vocab import normalise_key

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Keep = Literal["largest", "all"]
BBox = tuple[float, float, float, float]
Getter = Callable[[str], "str | None"]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_SPEEDS = DATA_DIR / "road_speeds.toml"

# Where a segment's speed came from.
SRC_OWN, SRC_CLASS, SRC_DEFAULT, SRC_WALK = 0, 1, 2, 3
_SRC_KEYS = {SRC_OWN: "own", SRC_CLASS: "class", SRC_DEFAULT: "default", SRC_WALK: "walk"}

_SPEED_PART = re.compile(
    r"^(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>km/h|kmh|kph|km|公里/小时|千米/小时|公里|mph|knots|kn)?$"
)
_UNIT_FACTOR = {"mph": 1.609344, "knots": 1.852, "kn": 1.852}
_MAX_PLAUSIBLE_KPH = 300.0
_ONEWAY_FORWARD = {"yes", "true", "1", "f", "forward", "是", "y"}
_ONEWAY_BACKWARD = {"-1", "reverse", "t", "backward"}
_ONEWAY_BOTH = {"no", "false", "0", "b", "both", "否", "n"}
_TRUTHY = {"yes", "true", "t", "1", "y", "是"}

# Line-layer columns, normalised with geo.vocab.normalise_key, in preference order.
CLASS_COLUMNS = (
    "highway",
    "fclass",
    "class",
    "roadclass",
    "type",
    "等级",
    "道路等级",
    "公路等级",
    "技术等级",
    "行政等级",
    "类型",
    "道路类型",
)
SPEED_COLUMNS = (
    "speedkph",
    "maxspeed",
    "限速",
    "速度",
    "speed",
    "设计速度",
    "设计时速",
    "时速",
)
ONEWAY_COLUMNS = ("oneway", "单行", "单向", "单行道")
SEPARATED_COLUMNS = ("bridge", "tunnel", "桥梁", "隧道")
TAG_COLUMNS = ("access", "service", "foot", "motorvehicle", "motorcar", "area", "junction")
_TAG_NAMES = {"motorvehicle": "motor_vehicle"}


# --------------------------------------------------------------------------- speeds


def parse_speed(value: object) -> float | None:
    """A speed in km/h from a tag or cell, or ``None`` when it says no usable speed.

    ``50``, ``"50"``, ``"50 km/h"`` and ``"50kmh"`` give 50; ``"30 mph"`` gives
    48.28; ``"50;60"`` and ``"50|60"`` give the lowest, 50; ``"none"``,
    ``"signals"``, ``"walk"``, country codes such as ``"CN:urban"``, zero,
    negative and implausible (> 300) values give ``None``.

    Examples
    --------
    >>> parse_speed("30 mph")
    48.28032
    >>> parse_speed("50;60"), parse_speed("none"), parse_speed(0)
    (50.0, None, None)
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        num = float(value)
        return num if math.isfinite(num) and 0 < num <= _MAX_PLAUSIBLE_KPH else None
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    found: list[float] = []
    for part in re.split(r"[;|]", text):
        match = _SPEED_PART.match(part.strip())
        if not match:
            continue
        num = float(match["num"]) * _UNIT_FACTOR.get(match["unit"] or "", 1.0)
        if 0 < num <= _MAX_PLAUSIBLE_KPH:
            found.append(num)
    return min(found) if found else None


@dataclass(frozen=True)
class ModeRules:
    """What one travel mode may use (from the ``[drive]`` or ``[walk]`` table)."""

    exclude_classes: frozenset[str]
    exclude_terms: tuple[str, ...]
    exclude_tags: Mapping[str, frozenset[str]]
    access_closed: frozenset[str]
    access_opened_by: tuple[str, ...]
    access_open: frozenset[str]
    reopen_classes: frozenset[str] = frozenset()
    reopen_by: tuple[str, ...] = ()
    reopen_open: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SpeedTable:
    """Speeds by road class and the mode filters, read from TOML (see ``data/road_speeds.toml``)."""

    default_kph: float
    highway_kph: Mapping[str, float]
    grade_kph: tuple[tuple[str, float], ...]
    drive: ModeRules
    walk: ModeRules
    overrides: Mapping[str, float] = field(default_factory=dict)
    source: str = ""
    digest: str = ""

    def class_speed(self, value: str) -> float | None:
        """km/h of a class value (already folded by :func:`fold_class`), or ``None``."""
        if value in self.overrides:
            return self.overrides[value]
        if value in self.highway_kph:
            return self.highway_kph[value]
        for term, kph in self.grade_kph:
            if term in value:
                return kph
        return None

    def rules(self, mode: Mode) -> ModeRules:
        """The filter of ``mode``."""
        return self.drive if mode == "drive" else self.walk


def fold_class(value: str) -> str:
    """Fold a road class for lookup: NFKC, lower case, no spaces; ``track_grade2`` → ``track``."""
    text = unicodedata.normalize("NFKC", value).strip().lower().replace(" ", "")
    return re.sub(r"_grade\d+$", "", text)


def _fold(value: str | None) -> str:
    return unicodedata.normalize("NFKC", value).strip().lower() if value else ""


def _mode_rules(raw: Mapping[str, Any]) -> ModeRules:
    exclude = dict(raw.get("exclude", {}))
    access = raw.get("access", {})
    reopen = raw.get("reopen", {})
    classes = frozenset(fold_class(str(c)) for c in exclude.pop("highway", []))
    terms = tuple(str(t) for t in exclude.pop("grade", []))
    return ModeRules(
        exclude_classes=classes,
        exclude_terms=terms,
        exclude_tags={str(k): frozenset(_fold(str(v)) for v in vs) for k, vs in exclude.items()},
        access_closed=frozenset(_fold(str(v)) for v in access.get("closed", [])),
        access_opened_by=tuple(str(k) for k in access.get("opened_by", [])),
        access_open=frozenset(_fold(str(v)) for v in access.get("open", [])),
        reopen_classes=frozenset(fold_class(str(c)) for c in reopen.get("highway", [])),
        reopen_by=tuple(str(k) for k in reopen.get("opened_by", [])),
        reopen_open=frozenset(_fold(str(v)) for v in reopen.get("open", [])),
    )


def _positive(value: object, where: str, path: Path) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 < value <= _MAX_PLAUSIBLE_KPH  # NaN and infinities fail too
    ):
        raise RoadNetworkError(
            f"速度表中 {where} 必须是不超过 {_MAX_PLAUSIBLE_KPH:g} 的正数",
            f"{where} must be a positive number up to {_MAX_PLAUSIBLE_KPH:g}",
            file=str(path),
        )
    return float(value)


def read_speed_table(
    path: str | os.PathLike[str] | None = None, overrides: Mapping[str, float] | None = None
) -> SpeedTable:
    """Read a speed table (default ``data/road_speeds.toml``), with optional class overrides.

    Parameters
    ----------
    path
        A TOML file in the layout of ``data/road_speeds.toml``.
    overrides
        ``{class value: km/h}`` checked before the table (exact class match).

    Raises
    ------
    RoadNetworkError
        When the file cannot be read or a speed is not a positive number.
    """
    src = Path(path) if path is not None else DEFAULT_SPEEDS
    try:
        raw = tomllib.loads(src.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RoadNetworkError(
            f"无法读取速度表：{exc}", f"cannot read the speed table: {exc}", file=str(src)
        ) from exc
    drive = raw.get("drive", {})
    walk = raw.get("walk", {})
    if not isinstance(drive, dict) or not isinstance(walk, dict):
        raise RoadNetworkError(
            "速度表缺少 [drive] 或 [walk] 表",
            "the speed table lacks [drive] or [walk]",
            file=str(src),
        )
    highway = {
        fold_class(str(k)): _positive(v, f"drive.highway.{k}", src)
        for k, v in drive.get("highway", {}).items()
    }
    grades = sorted(
        (
            (str(k), _positive(v, f"drive.grade.{k}", src))
            for k, v in drive.get("grade", {}).items()
        ),
        key=lambda kv: (-len(kv[0]), kv[0]),
    )
    over = {
        fold_class(str(k)): _positive(v, f"speeds[{k!r}]", src)
        for k, v in (overrides or {}).items()
    }
    digest = hashlib.sha256(
        json.dumps({"table": raw, "overrides": over}, sort_keys=True, ensure_ascii=True).encode()
    ).hexdigest()
    return SpeedTable(
        default_kph=_positive(drive.get("default_kph", 30), "drive.default_kph", src),
        highway_kph=highway,
        grade_kph=tuple(grades),
        drive=_mode_rules(drive),
        walk=_mode_rules(walk),
        overrides=over,
        source=str(src),
        digest=digest,
    )


# ------------------------------------------------------------------ classification


def classify(
    get: Getter,
    mode: Mode,
    table: SpeedTable,
    walk_kph: float,
    *,
    known_classes_only: bool,
) -> tuple[float, float, int] | None:
    """Decide whether a road is usable in ``mode`` and at what speed each way.

    Parameters
    ----------
    get
        Looks up a tag (``highway``, ``maxspeed``, ``oneway``, ``access`` ...),
        ``None`` when absent; e.g. ``tags.get``.
    mode, table, walk_kph
        The travel mode, the speed table and the walking speed.
    known_classes_only
        Driving: skip a road whose class has no speed in the table (OSM);
        otherwise such a road gets the default speed (a line layer's own
        class vocabulary).

    Returns
    -------
    verdict
        ``(km/h forward, km/h backward, speed source)`` with 0 for a forbidden
        direction, or ``None`` when the road is not for this mode.
    """
    rules = table.rules(mode)
    raw_class = get("highway")
    cls = fold_class(raw_class) if raw_class else ""
    if cls:
        if cls in rules.exclude_classes and not (
            cls in rules.reopen_classes
            and any(_fold(get(k)) in rules.reopen_open for k in rules.reopen_by)
        ):
            return None
        if any(term in cls for term in rules.exclude_terms):
            return None
    for key, closed in rules.exclude_tags.items():
        if _fold(get(key)) in closed:
            return None
    if _fold(get("access")) in rules.access_closed and not any(
        _fold(get(k)) in rules.access_open for k in rules.access_opened_by
    ):
        return None
    if mode == "walk":
        return (walk_kph, walk_kph, SRC_WALK)
    class_kph = table.class_speed(cls) if cls else None
    if cls and class_kph is None and known_classes_only:
        return None
    own = parse_speed(get("maxspeed"))
    if own is not None:
        kph, src = own, SRC_OWN
    elif class_kph is not None:
        kph, src = class_kph, SRC_CLASS
    else:
        kph, src = table.default_kph, SRC_DEFAULT
    forward, backward = oneway(get)
    return (kph if forward else 0.0, kph if backward else 0.0, src)


def tag_keys(mode: Mode, table: SpeedTable) -> frozenset[str]:
    """The tags :func:`classify` reads in ``mode`` (the mode's rules name some of them)."""
    rules = table.rules(mode)
    keys = {"highway", "access", *rules.exclude_tags, *rules.reopen_by, *rules.access_opened_by}
    if mode == "drive":
        keys |= {"maxspeed", "oneway", "junction"}
    return frozenset(keys)


def classify_columns(
    tags: Mapping[str, TagColumn],
    n: int,
    mode: Mode,
    table: SpeedTable,
    walk_kph: float,
    *,
    known_classes_only: bool,
) -> Verdicts:
    """:func:`classify` for ``n`` roads at once, with their tags as columns.

    :func:`classify` runs once per distinct combination of the tags it reads
    (:func:`tag_keys`; a tag missing from ``tags`` is absent on every road),
    and the own speed is parsed once per distinct value with
    :func:`parse_speed`, then laid over the answers with numpy: a road with a
    usable own speed takes it in every direction it may travel. Same answers
    as calling :func:`classify` road by road.

    Raises
    ------
    KeyError
        If :func:`classify` reads a tag that :func:`tag_keys` does not list
        (the two must change together).
    """
    keys = tag_keys(mode, table)
    columns = {k: tags[k] if k in tags else absent(n) for k in sorted(keys)}
    rules = table.rules(mode)
    rule_keys = {*rules.exclude_tags, *rules.reopen_by, *rules.access_opened_by}
    speed = columns.pop("maxspeed") if mode == "drive" and "maxspeed" not in rule_keys else None

    def decide(values: Mapping[str, str | None]) -> tuple[float, float, int] | None:
        def get(key: str) -> str | None:
            if key in values:
                return values[key]
            if key == "maxspeed" and speed is not None:
                return None  # laid over below
            raise KeyError(f"classify read the tag {key!r}, which tag_keys does not list")

        return classify(get, mode, table, walk_kph, known_classes_only=known_classes_only)

    combo, answers = per_combination(columns, n, decide)
    found = np.array(
        [a if a is not None else (0.0, 0.0, -1) for a in answers], dtype=np.float64
    ).reshape(-1, 3)
    kph_f, kph_b = found[combo, 0], found[combo, 1]
    source = found[combo, 2].astype(np.int8)
    if speed is not None and speed.values:
        parsed = np.array(
            [np.nan if (kph := parse_speed(v)) is None else kph for v in speed.values]
        )
        own = np.where(speed.codes >= 0, parsed[np.maximum(speed.codes, 0)], np.nan)
        has = (source >= 0) & ~np.isnan(own)
        kph_f = np.where(has & (kph_f > 0), own, kph_f)
        kph_b = np.where(has & (kph_b > 0), own, kph_b)
        source = np.where(has, np.int8(SRC_OWN), source).astype(np.int8)
    return Verdicts(kph_f, kph_b, source)


def oneway(get: Getter) -> tuple[bool, bool]:
    """Directions a car may travel along the line: ``(forward, backward)``.

    Examples
    --------
    >>> oneway({"oneway": "-1"}.get), oneway({"junction": "roundabout"}.get)
    ((False, True), (True, False))
    >>> oneway({"highway": "motorway", "oneway": "no"}.get)
    (True, True)
    """
    value = _fold(get("oneway"))
    if value in _ONEWAY_FORWARD:
        return True, False
    if value in _ONEWAY_BACKWARD:
        return False, True
    if value in _ONEWAY_BOTH:
        return True, True
    implied = _fold(get("junction")) in {"roundabout", "circular"} or (
        fold_class(get("highway") or "") == "motorway"
    )
    return True, not implied


# ------------------------------------------------------------------- the build


@dataclass
class _Draft:
    """Segments from a reader, before clipping, projection and components."""

    lon: FloatArray
    lat: FloatArray
    u: IntArray
    v: IntArray
    kph_f: FloatArray
    kph_b: FloatArray
    source: npt.NDArray[np.int8]
    crs: str | None = None
    x: FloatArray | None = None
    y: FloatArray | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    labels: dict[int, str] = field(default_factory=dict)
    #: the file's own node ids (OSM), for messages; positions when None
    node_ids: IntArray | None = None


@dataclass(frozen=True)
class _Region:
    box: BBox | None
    boundary: BaseGeometry | None

    @property
    def bounds(self) -> BBox:
        boxes = [b for b in (self.box, self._boundary_box()) if b is not None]
        return (
            max(b[0] for b in boxes),
            max(b[1] for b in boxes),
            min(b[2] for b in boxes),
            min(b[3] for b in boxes),
        )

    def _boundary_box(self) -> BBox | None:
        if self.boundary is None:
            return None
        x0, y0, x1, y1 = (float(b) for b in self.boundary.bounds)
        return (x0, y0, x1, y1)

    def contains(self, lon: FloatArray, lat: FloatArray) -> BoolArray:
        inside = np.ones(len(lon), dtype=bool)
        if self.box is not None:
            x0, y0, x1, y1 = self.box
            inside &= (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
        if self.boundary is not None:
            shapely.prepare(self.boundary)
            inside &= shapely.intersects_xy(self.boundary, lon, lat)
        return inside

    def describe(self) -> str:
        parts = []
        if self.box is not None:
            parts.append("bbox " + ", ".join(f"{c:.6f}" for c in self.box))
        if self.boundary is not None:
            parts.append("boundary polygon")
        return " and ".join(parts)


def _components(
    n: int, u: IntArray, v: IntArray, fwd: BoolArray, bwd: BoolArray, strong: bool
) -> tuple[int, IntArray]:
    rows = np.concatenate([u[fwd], v[bwd]])
    cols = np.concatenate([v[fwd], u[bwd]])
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    count, label = connected_components(
        graph, directed=True, connection="strong" if strong else "weak"
    )
    return int(count), label.astype(np.int64)


def _compact(used: BoolArray) -> IntArray:
    """Old node index → new index (``-1`` for unused), keeping the order."""
    new = np.full(len(used), -1, dtype=np.int64)
    new[used] = np.arange(int(used.sum()), dtype=np.int64)
    return new


#: no straight piece of road between two consecutive vertices is this long; a
#: longer one is a broken coordinate (libosmium reads an overflowing "1e308" as 0)
MAX_SEGMENT_KM = 1000.0
_EARTH_KM = 6371.0088


def check_road_geometry(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    u: npt.ArrayLike | None = None,
    v: npt.ArrayLike | None = None,
    *,
    file: str,
    labels: npt.ArrayLike | None = None,
    what: tuple[str, str] = ("节点", "nodes"),
) -> None:
    """Refuse road coordinates that are not finite WGS-84 degrees, or segments too long.

    One vectorised pass over the node arrays of a road file, whatever its
    format: longitudes in -180..180 and latitudes in -90..90 (``geo.bounds``),
    and, with segment ends ``u``/``v``, no segment longer than
    ``MAX_SEGMENT_KM`` along the great circle.

    Parameters
    ----------
    lon, lat
        Node (or vertex) coordinates in WGS-84 degrees.
    u, v
        Segment end indices into ``lon``/``lat``, or ``None``.
    file
        The road file, for the message.
    labels
        What names each node in the message (OSM or GraphML node ids, feature
        numbers); without them, vertices are named by position and segments
        by their coordinates.
    what
        What a label is, in Chinese and English.

    Raises
    ------
    RoadNetworkError
        Naming the file and the first offending nodes with their values.
    """
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    if labels is None:
        what = ("顶点", "vertices")  # positions: 1-based, in the order read
    for values, bound in ((lon_a, LON), (lat_a, LAT)):
        check_values(values, bound, file=file, rows=labels, where=what, error=RoadNetworkError)
    if u is None or v is None:
        return
    ua, va = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
    # Along the meridian, then the parallel, is never shorter than the great
    # circle: only segments this bound does not clear get the exact formula.
    d_lat, d_lon = np.abs(lat_a[va] - lat_a[ua]), np.abs(lon_a[va] - lon_a[ua])
    near = np.flatnonzero(np.radians(d_lat + d_lon) * _EARTH_KM > MAX_SEGMENT_KM)
    if not len(near):
        return
    a_i, b_i = ua[near], va[near]
    lon1, lat1 = np.radians(lon_a[a_i]), np.radians(lat_a[a_i])
    lon2, lat2 = np.radians(lon_a[b_i]), np.radians(lat_a[b_i])
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    km = 2 * _EARTH_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    long_ = np.flatnonzero(km > MAX_SEGMENT_KM)
    if not len(long_):
        return
    k = int(long_[0])
    pair = (int(a_i[k]), int(b_i[k]))
    ends = [f"({lon_a[i]:.7f}, {lat_a[i]:.7f})" for i in pair]
    zh = en = ""
    if labels is not None:
        names = np.asarray(labels).reshape(-1)
        ends = [f"{names[i]} {end}" for i, end in zip(pair, ends, strict=True)]
        zh, en = f"{what[0]} ", f"{what[1]} "
    raise RoadNetworkError(
        f"{zh}{ends[0]} 与 {ends[1]} 之间的路段长 {km[k]:.0f} 公里，超过 {MAX_SEGMENT_KM:g} 公里，"
        f"多半是坐标错误（共 {len(long_)} 段）",
        f"the segment between {en}{ends[0]} and {ends[1]} is {km[k]:.0f} km long, over "
        f"{MAX_SEGMENT_KM:g} km: almost surely a broken coordinate ({len(long_)} such segments)",
        file=file,
    )


def _finish(
    d: _Draft,
    *,
    path: Path,
    kind: str,
    mode: Mode,
    keep: Keep,
    region: _Region | None,
    walk_kph: float,
) -> RoadNetwork:
    notes = list(d.notes)
    u, v = d.u, d.v
    seg_keep = np.ones(len(u), dtype=bool)
    if region is not None:
        inside = region.contains(d.lon, d.lat)
        seg_keep = inside[u] | inside[v]
        notes.append(f"clipped to {region.describe()}: segments with at least one end inside kept")
    if not seg_keep.any():
        _no_roads(path, mode, clipped=region is not None)
    used = np.zeros(len(d.lon), dtype=bool)
    used[u[seg_keep]] = True
    used[v[seg_keep]] = True
    remap = _compact(used)
    u, v = remap[u[seg_keep]], remap[v[seg_keep]]
    kph_f, kph_b, src = d.kph_f[seg_keep], d.kph_b[seg_keep], d.source[seg_keep]
    lon, lat = d.lon[used], d.lat[used]

    if d.crs is not None and d.x is not None and d.y is not None:
        crs, x, y = d.crs, d.x[used], d.y[used]
    else:
        crs = utm_crs(float(lon.min() + lon.max()) / 2, float(lat.min() + lat.max()) / 2)
        x, y = to_metric(lon, lat, crs)

    # Coincident consecutive vertices (distinct OSM nodes at one spot, say)
    # are one node: merge the ends of every zero-length segment.
    length = np.hypot(x[v] - x[u], y[v] - y[u])
    zero = length < 1e-3
    if zero.any():
        n = len(x)
        graph = coo_matrix((np.ones(int(zero.sum())), (u[zero], v[zero])), shape=(n, n)).tocsr()
        _, label = connected_components(graph, directed=False)
        first = np.full(int(label.max()) + 1, n, dtype=np.int64)
        np.minimum.at(first, label, np.arange(n, dtype=np.int64))
        rep = first[label]
        u, v = rep[u], rep[v]
        ok = u != v
        u, v, kph_f, kph_b, src = u[ok], v[ok], kph_f[ok], kph_b[ok], src[ok]
        used = np.zeros(n, dtype=bool)
        used[u] = True
        used[v] = True
        remap = _compact(used)
        u, v, x, y = remap[u], remap[v], x[used], y[used]
        length = np.hypot(x[v] - x[u], y[v] - y[u])
    fwd_ok, bwd_ok = kph_f > 0, kph_b > 0
    both_forbidden = ~(fwd_ok | bwd_ok)
    if both_forbidden.any():  # a reader bug would show here, not silently
        raise AssertionError("segment forbidden both ways")
    with np.errstate(divide="ignore"):
        forward_s = np.where(fwd_ok, length / (np.where(fwd_ok, kph_f, 1.0) / 3.6), np.inf)
        backward_s = np.where(bwd_ok, length / (np.where(bwd_ok, kph_b, 1.0) / 3.6), np.inf)

    dropped = np.zeros((0, 4))
    comps_dropped = segs_dropped = 0
    length_dropped = 0.0
    if keep == "largest" and len(u):
        _, label = _components(len(x), u, v, fwd_ok, bwd_ok, strong=mode == "drive")
        sizes = np.bincount(label)
        biggest = np.flatnonzero(sizes == sizes.max())
        best = label[np.flatnonzero(np.isin(label, biggest))[0]]
        kept = (label[u] == best) & (label[v] == best)
        gone = ~kept
        if gone.any():
            dropped = np.column_stack([x[u[gone]], y[u[gone]], x[v[gone]], y[v[gone]]])
            segs_dropped = int(gone.sum())
            length_dropped = float(length[gone].sum()) / 1000.0
            touched = np.zeros(len(x), dtype=bool)
            touched[u[gone]] = True
            touched[v[gone]] = True
            sub = _compact(touched)
            pieces, _ = _components(
                int(touched.sum()),
                sub[u[gone]],
                sub[v[gone]],
                np.ones(segs_dropped, dtype=bool),
                np.zeros(segs_dropped, dtype=bool),
                strong=False,
            )
            comps_dropped = pieces
        used = np.zeros(len(x), dtype=bool)
        used[u[kept]] = True
        used[v[kept]] = True
        remap = _compact(used)
        u, v, x, y = remap[u[kept]], remap[v[kept]], x[used], y[used]
        length, forward_s, backward_s = length[kept], forward_s[kept], backward_s[kept]
        src = src[kept]
        if comps_dropped:
            notes.append(
                f"{comps_dropped} piece(s) outside the largest "
                f"{'strongly connected' if mode == 'drive' else 'connected'} component dropped "
                f"({segs_dropped} segments, {length_dropped:.2f} km)"
            )

    counts = {_SRC_KEYS[k]: int((src == k).sum()) for k in _SRC_KEYS}
    labels = {
        SRC_OWN: "own speed",
        SRC_CLASS: "class table (data/road_speeds.toml)",
        SRC_DEFAULT: "default speed",
        SRC_WALK: f"walking {walk_kph:g} km/h",
        **d.labels,
    }
    speed_source = "; ".join(
        f"{labels[k]}: {counts[_SRC_KEYS[k]]} segments" for k in _SRC_KEYS if counts[_SRC_KEYS[k]]
    )
    facts = NetworkFacts(
        source=str(path),
        source_kind=kind,
        mode=mode,
        is_proxy=False,
        nodes=len(x),
        segments=len(u),
        length_km=float(length.sum()) / 1000.0,
        components_dropped=comps_dropped,
        segments_dropped=segs_dropped,
        length_dropped_km=length_dropped,
        speed_source=speed_source,
        notes=tuple(notes),
        extra={"speed_sources": counts, **d.extra},
    )
    return RoadNetwork(
        crs=crs,
        x=np.ascontiguousarray(x, dtype=np.float64),
        y=np.ascontiguousarray(y, dtype=np.float64),
        u=np.ascontiguousarray(u, dtype=np.int64),
        v=np.ascontiguousarray(v, dtype=np.int64),
        length_m=np.ascontiguousarray(length, dtype=np.float64),
        forward_s=np.ascontiguousarray(forward_s, dtype=np.float64),
        backward_s=np.ascontiguousarray(backward_s, dtype=np.float64),
        facts=facts,
        dropped_xy=np.ascontiguousarray(dropped, dtype=np.float64).reshape(-1, 4),
    )


def _no_roads(path: Path, mode: Mode, *, clipped: bool) -> None:
    mode_zh = "驾车" if mode == "drive" else "步行"
    where_zh = "所选范围内" if clipped else "文件中"
    where_en = " inside the chosen area" if clipped else " in the file"
    raise RoadNetworkError(
        f"{where_zh}没有可用于{mode_zh}的道路线",
        f"no road lines usable for {'driving' if mode == 'drive' else 'walking'}{where_en}",
        file=str(path),
    )


# ----------------------------------------------------------------------- readers


def _from_osm(
    path: Path, mode: Mode, table: SpeedTable, walk_kph: float, region: _Region | None
) -> _Draft:
    import osmium

    from geo import _osm  # pyosmium only for OSM files

    def decide(tags: Mapping[str, TagColumn], n: int) -> Verdicts:
        return classify_columns(tags, n, mode, table, walk_kph, known_classes_only=True)

    try:
        roads = _osm.read_osm(
            path, tag_keys(mode, table), decide, clip_box=region.bounds if region else None
        )
    except osmium.InvalidLocationError as exc:  # "nan", "500" (out of range) ...
        raise RoadNetworkError(
            f"OSM 文件中有无效的节点坐标：{exc}",
            f"the OSM file has an invalid node coordinate: {exc}",
            file=str(path),
        ) from exc
    except RuntimeError as exc:
        raise RoadNetworkError(
            f"无法读取 OSM 文件：{exc}", f"cannot read the OSM file: {exc}", file=str(path)
        ) from exc
    notes = []
    if roads.missing_nodes and region is None:
        notes.append(
            f"{roads.missing_nodes} way node(s) missing from the file "
            "(an extract cut at its border): ways split there"
        )
    return _Draft(
        lon=roads.lon,
        lat=roads.lat,
        u=roads.seg_a,
        v=roads.seg_b,
        kph_f=roads.kph_f,
        kph_b=roads.kph_b,
        source=roads.source,
        notes=notes,
        extra={"ways": roads.ways},
        labels={SRC_OWN: "maxspeed tag", SRC_CLASS: "highway class table (data/road_speeds.toml)"},
        node_ids=roads.node_id,
    )


def _first(value: object, *, join: bool = False) -> str | None:
    """A GraphML attribute as one string.

    osmnx writes the values of merged ways as ``"['a', 'b']"``: the first one
    is taken (a road class), or all joined by ``;`` with ``join`` (speeds, of
    which :func:`parse_speed` then takes the lowest).
    """
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            items = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        if isinstance(items, list) and items:
            return ";".join(str(i) for i in items) if join else str(items[0])
    return text or None


def _from_graphml(path: Path, mode: Mode, table: SpeedTable, walk_kph: float) -> _Draft:
    import networkx as nx  # only GraphML needs it

    try:
        graph = nx.read_graphml(path)
    except Exception as exc:  # ElementTree, NetworkX and key errors alike
        raise RoadNetworkError(
            f"无法读取 GraphML 文件：{exc}", f"cannot read the GraphML file: {exc}", file=str(path)
        ) from exc
    graph_crs = str(graph.graph.get("crs", "EPSG:4326"))
    node_xy: dict[Any, tuple[float, float]] = {}
    for node, attrs in graph.nodes(data=True):
        try:
            node_xy[node] = (float(attrs["x"]), float(attrs["y"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise RoadNetworkError(
                f"GraphML 节点 {node} 缺少有效的 x/y 坐标",
                f"GraphML node {node} lacks valid x/y coordinates",
                file=str(path),
            ) from exc
    node_ids = np.array(list(node_xy), dtype=object)
    node_lonlat = np.array(list(node_xy.values()), dtype=np.float64).reshape(-1, 2)
    if CRS.from_user_input(graph_crs) != CRS.from_epsg(4326):
        with np.errstate(invalid="ignore", over="ignore"):
            node_lonlat = np.column_stack(
                Transformer.from_crs(graph_crs, "EPSG:4326", always_xy=True).transform(
                    node_lonlat[:, 0], node_lonlat[:, 1]
                )
            )
    check_road_geometry(node_lonlat[:, 0], node_lonlat[:, 1], file=str(path), labels=node_ids)
    directed = graph.is_directed()
    lines: list[FloatArray] = []
    verdicts: list[tuple[float, float, int]] = []
    for a, b, attrs in graph.edges(data=True):
        tags = {key: _first(attrs.get(key)) for key in ("highway", "access", "service", "area")}
        tags.update({k: _first(attrs.get(k)) for k in ("foot", "motor_vehicle", "motorcar")})
        speed = _first(attrs.get("speed_kph"), join=True) or _first(
            attrs.get("maxspeed"), join=True
        )
        tags["maxspeed"] = speed
        if not directed:
            tags["oneway"] = _first(attrs.get("oneway"))
            tags["junction"] = _first(attrs.get("junction"))
        else:
            tags["oneway"] = "no"  # an arc is one direction already
        verdict = classify(tags.get, mode, table, walk_kph, known_classes_only=False)
        if verdict is None:
            continue
        if directed and mode == "drive":
            verdict = (max(verdict[0], verdict[1]), 0.0, verdict[2])
        start, end = node_xy[a], node_xy[b]
        coords = np.array([start, end], dtype=np.float64)
        wkt = attrs.get("geometry")
        if wkt:
            try:
                geom = shapely.from_wkt(str(wkt))
            except shapely.errors.GEOSException as exc:
                raise RoadNetworkError(
                    f"GraphML 边 {a}→{b} 的 geometry 无法解析",
                    f"GraphML edge {a}->{b}: geometry is not valid WKT",
                    file=str(path),
                ) from exc
            pts = shapely.get_coordinates(geom)
            if len(pts) >= 2:
                if np.hypot(*(pts[0] - start)) > np.hypot(*(pts[0] - end)):
                    # drawn from b to a: its oneway tag reads along the drawing
                    pts = pts[::-1]
                    if not directed:
                        verdict = (verdict[1], verdict[0], verdict[2])
                coords = pts.copy()
                coords[0], coords[-1] = start, end
        lines.append(coords)
        verdicts.append(verdict)
    if not lines:
        return _empty_draft()
    counts = np.array([len(c) for c in lines])
    allc = np.concatenate(lines)
    if CRS.from_user_input(graph_crs) != CRS.from_epsg(4326):
        tr = Transformer.from_crs(graph_crs, "EPSG:4326", always_xy=True)
        lon_all, lat_all = tr.transform(allc[:, 0], allc[:, 1])
        allc = np.column_stack([lon_all, lat_all])
    uniq, inverse = np.unique(allc, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1).astype(np.int64)
    line_of = np.repeat(np.arange(len(lines), dtype=np.int64), counts)
    same = line_of[:-1] == line_of[1:]
    a_idx, b_idx, seg_line = inverse[:-1][same], inverse[1:][same], line_of[:-1][same]
    ver = np.array(verdicts, dtype=np.float64)
    kph_f, kph_b = ver[seg_line, 0], ver[seg_line, 1]
    src = ver[seg_line, 2].astype(np.int8)
    # One segment per node pair: osmnx's two arcs of a two-way street meet here.
    swap = a_idx > b_idx
    lo, hi = np.where(swap, b_idx, a_idx), np.where(swap, a_idx, b_idx)
    kf, kb = np.where(swap, kph_b, kph_f), np.where(swap, kph_f, kph_b)
    order = np.lexsort((hi, lo))
    lo, hi, kf, kb, src = lo[order], hi[order], kf[order], kb[order], src[order]
    start_grp = np.concatenate([[True], (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])])
    idx = np.flatnonzero(start_grp)
    return _Draft(
        lon=uniq[:, 0].copy(),
        lat=uniq[:, 1].copy(),
        u=lo[idx],
        v=hi[idx],
        kph_f=np.maximum.reduceat(kf, idx),
        kph_b=np.maximum.reduceat(kb, idx),
        source=src[idx],
        extra={"graph_edges": graph.number_of_edges(), "graph_nodes": graph.number_of_nodes()},
        labels={SRC_OWN: "speed_kph/maxspeed attribute", SRC_CLASS: "highway class table"},
    )


def _empty_draft() -> _Draft:
    empty_f = np.zeros(0)
    empty_i = np.zeros(0, dtype=np.int64)
    return _Draft(empty_f, empty_f, empty_i, empty_i, empty_f, empty_f, np.zeros(0, np.int8))


def _find_column(columns: list[str], wanted: tuple[str, ...]) -> str | None:
    folded = {normalise_key(str(c)): str(c) for c in reversed(columns)}
    for name in wanted:
        if name in folded:
            return folded[name]
    return None


def _cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        if not math.isfinite(float(value)):
            return None
        return f"{float(value):g}" if float(value).is_integer() else str(float(value))
    text = str(value).strip()
    return text or None


def _cells(series: pd.Series) -> TagColumn:
    """A layer column as :func:`_cell` reads each cell, computed once per distinct value.

    Values are told apart exactly (floats by their bits, so ``-0.0`` and
    ``0.0`` stay two values as they are two texts); only a column of Python
    objects (lists, bytes, mixed types) is read cell by cell.
    """
    import pandas as pd

    dtype = series.dtype
    if len(series) == 0:
        return absent(0)
    if isinstance(dtype, np.dtype) and dtype.kind in "biufmM":
        raw = np.ascontiguousarray(series.to_numpy())
        keys = raw.view(f"i{raw.dtype.itemsize}") if dtype.kind in "fmM" else raw
        _, first, codes = np.unique(keys, return_index=True, return_inverse=True)
        texts = [_cell(v) for v in series.take(first).tolist()]
        return tag_column(codes.reshape(-1).astype(np.int64), texts)
    if isinstance(dtype, np.dtype):  # object columns: no safe equality to group by
        codes_o, uniques = pd.factorize(pd.Series([_cell(v) for v in series.tolist()]))
        return tag_column(codes_o.astype(np.int64), [str(v) for v in uniques])
    codes_s, uniques_s = pd.factorize(series, use_na_sentinel=True)
    return tag_column(codes_s.astype(np.int64), [_cell(v) for v in list(uniques_s)])


@dataclass(frozen=True)
class _LayerColumns:
    """The columns of a line layer that say how a road may be used."""

    klass: str | None
    speed: str | None
    oneway: str | None
    tags: dict[str, str]  # OSM tag name -> column
    separated: list[str]
    layer: str | None

    @classmethod
    def find(cls, columns: list[str]) -> _LayerColumns:
        return cls(
            klass=_find_column(columns, CLASS_COLUMNS),
            speed=_find_column(columns, SPEED_COLUMNS),
            oneway=_find_column(columns, ONEWAY_COLUMNS),
            tags={
                _TAG_NAMES.get(name, name): col
                for name in TAG_COLUMNS
                if (col := _find_column(columns, (name,))) is not None
            },
            separated=[c for name in SEPARATED_COLUMNS if (c := _find_column(columns, (name,)))],
            layer=_find_column(columns, ("layer",)),
        )

    def names(self) -> list[str]:
        found = [self.klass, self.speed, self.oneway, *self.tags.values(), *self.separated]
        return list(dict.fromkeys(c for c in [*found, self.layer] if c is not None))


def _keep_lines(xy: FloatArray, line: IntArray, keep: BoolArray) -> tuple[FloatArray, IntArray]:
    """The vertices of the kept lines, lines renumbered in order."""
    renumber = np.cumsum(keep) - 1
    on = keep[line]
    return xy[on], renumber[line[on]].astype(np.int64)


def _separated(cols: _LayerColumns, cells: Mapping[str, TagColumn], n: int) -> BoolArray:
    """Lines that cross others without meeting them: motorways, bridges, tunnels, a layer."""
    columns = {"class": cells[cols.klass] if cols.klass else absent(n)}
    columns |= {f"flag{i}": cells[c] for i, c in enumerate(cols.separated)}
    if cols.layer is not None:
        columns["layer"] = cells[cols.layer]

    def decide(values: Mapping[str, str | None]) -> bool:
        cls = fold_class(values["class"] or "")
        flags = (values[f"flag{i}"] for i in range(len(cols.separated)))
        return (
            cls in {"motorway", "motorway_link"}
            or "高速" in cls
            or any(_fold(v) in _TRUTHY for v in flags)
            or ("layer" in values and _fold(values["layer"]) not in {"", "0"})
        )

    combo, answers = per_combination(columns, n, decide)
    return np.array(answers, dtype=bool)[combo] if n else np.zeros(0, dtype=bool)


def _from_lines(
    path: Path,
    mode: Mode,
    table: SpeedTable,
    walk_kph: float,
    region: _Region | None,
    layer: str | None,
    snap_m: float,
) -> _Draft:
    from geo import _lines  # pyogrio only for line layers

    found: list[_LayerColumns] = []

    def wanted(columns: list[str]) -> list[str]:
        found.append(_LayerColumns.find(columns))
        return found[-1].names()

    try:
        chosen = _lines.pick_layer(path, layer)
        lines = _lines.read_lines(path, chosen, wanted)
    except LookupError as exc:
        raise RoadNetworkError(
            f"文件中没有线图层（{exc}）", f"no line layer in the file ({exc})", file=str(path)
        ) from exc
    except Exception as exc:  # pyogrio/GDAL errors of every kind
        raise RoadNetworkError(
            f"无法读取线图层：{exc}", f"cannot read the line layer: {exc}", file=str(path)
        ) from exc
    if lines.n_lines == 0:
        raise RoadNetworkError("图层中没有线要素", "the layer has no line features", file=str(path))
    cols = found[-1]
    notes: list[str] = []
    if chosen is not None and layer is None:
        lines_layers = _lines.line_layers(path)
        if len(lines_layers) > 1:
            notes.append(
                f"{len(lines_layers)} line layers in the file ({', '.join(lines_layers)}): "
                f"the first, {chosen!r}, was used"
            )
    if lines.encoding:
        notes.append(
            f"no .cpg beside the Shapefile and its text looked mis-decoded: attributes read "
            f"as {lines.encoding}"
        )
    wgs84 = CRS.from_user_input("EPSG:4326")
    xy, line = lines.xy, lines.line
    if lines.crs is None:
        x0, y0 = xy.min(axis=0)
        x1, y1 = xy.max(axis=0)
        if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
            raise RoadNetworkError(
                "线图层没有坐标系，且坐标不是经纬度，无法量算长度",
                "the line layer has no CRS and its coordinates are not degrees: "
                "lengths cannot be measured",
                file=str(path),
            )
        notes.append("no CRS in the file: coordinates taken as WGS-84 degrees")
        lonlat_crs = wgs84
    else:
        lonlat_crs = CRS.from_user_input(lines.crs)
        if not lonlat_crs.is_exact_same(wgs84):
            lon, lat = Transformer.from_crs(lonlat_crs, wgs84, always_xy=True).transform(
                xy[:, 0], xy[:, 1]
            )
            xy = np.column_stack([lon, lat])
            lonlat_crs = wgs84
    feature = lines.feature
    # before noding and projecting: GEOS and pyproj fail on NaN, infinities and
    # degrees out of range; the message names the feature (1-based, file order)
    check_road_geometry(
        xy[:, 0], xy[:, 1], file=str(path), labels=feature[line] + 1, what=("要素", "features")
    )
    if region is not None:
        hit = shapely.intersects(shapely.linestrings(xy, indices=line), _region_shape(region))
        if not hit.any():
            _no_roads(path, mode, clipped=True)
        xy, line = _keep_lines(xy, line, hit)
        feature = feature[hit]
    n = len(feature)

    if cols.klass is None:
        kph = walk_kph if mode == "walk" else table.default_kph
        notes.append(f"line layer had no class column: default speed {kph:g} km/h")
    else:
        notes.append(f"road class from column {cols.klass!r}")
    if cols.speed is not None and mode == "drive":
        notes.append(f"speed from column {cols.speed!r} where it holds a speed")

    cells = {c: _cells(lines.attributes[c]).take(feature) for c in cols.names()}
    tags: dict[str, TagColumn] = {k: cells[c] for k, c in cols.tags.items()}
    for key, col in (("highway", cols.klass), ("maxspeed", cols.speed), ("oneway", cols.oneway)):
        tags[key] = cells[col] if col is not None else absent(n)
    verdicts = classify_columns(tags, n, mode, table, walk_kph, known_classes_only=False)
    usable = verdicts.usable
    if not usable.any():
        _no_roads(path, mode, clipped=region is not None)
    separated = _separated(cols, cells, n)[usable]
    xy, line = _keep_lines(xy, line, usable)

    lon_min, lat_min = xy.min(axis=0)
    lon_max, lat_max = xy.max(axis=0)
    crs = utm_crs(float(lon_min + lon_max) / 2, float(lat_min + lat_max) / 2)
    mx, my = Transformer.from_crs(lonlat_crs, CRS.from_user_input(crs), always_xy=True).transform(
        xy[:, 0], xy[:, 1]
    )
    noded_xy, noded_line, stats = _lines.node_lines(
        np.column_stack([mx, my]), line, separated, snap_m
    )
    x, y, u, v, seg_line = _lines.vertices_to_segments(noded_xy, noded_line)
    lon, lat = to_lonlat(x, y, crs)
    labels = {
        SRC_OWN: f"speed column {cols.speed!r}",
        SRC_CLASS: f"class column {cols.klass!r} by the class table",
        SRC_DEFAULT: "default speed",
    }
    return _Draft(
        lon=lon,
        lat=lat,
        u=u,
        v=v,
        kph_f=verdicts.kph_f[usable][seg_line],
        kph_b=verdicts.kph_b[usable][seg_line],
        source=verdicts.source[usable][seg_line],
        crs=crs,
        x=x,
        y=y,
        notes=notes,
        extra={"noding": {**stats.as_dict(), "snap_m": snap_m}, "layer": chosen},
        labels=labels,
    )


def _region_shape(region: _Region) -> BaseGeometry:
    shape: BaseGeometry | None = region.boundary
    if region.box is not None:
        box = shapely.box(*region.box)
        shape = box if shape is None else shapely.intersection(shape, box)
    assert shape is not None
    return shape


# ----------------------------------------------------------------------- the API

_KINDS = (
    ((".osm.pbf", ".pbf"), "osm_pbf"),
    ((".osm", ".osm.bz2", ".osm.gz", ".osm.xml"), "osm_xml"),
    ((".graphml",), "graphml"),
    ((".geojson", ".json", ".gpkg", ".shp", ".shp.zip", ".fgb"), "lines"),
)
SUPPORTED = ", ".join(s for suffixes, _ in _KINDS for s in suffixes)


def source_kind(path: str | os.PathLike[str]) -> str:
    """Format of a road file from its name: ``osm_pbf``, ``osm_xml``, ``graphml`` or ``lines``.

    Raises
    ------
    RoadNetworkError
        For any other file name.
    """
    name = Path(path).name.lower()
    for suffixes, kind in _KINDS:
        if name.endswith(suffixes):
            return kind
    raise RoadNetworkError(
        f"无法识别的道路文件格式（支持 {SUPPORTED}）",
        f"unknown road file format (supported: {SUPPORTED})",
        file=str(path),
    )


def _stem(path: Path) -> str:
    name = path.name
    for suffixes, _ in _KINDS:
        for suffix in sorted(suffixes, key=len, reverse=True):
            if name.lower().endswith(suffix):
                return name[: -len(suffix)] or name
    return path.stem


def _input_files(path: Path, kind: str) -> list[Path]:
    if kind == "lines" and path.suffix.lower() == ".shp":
        sidecars = [path.with_suffix(s) for s in (".shx", ".dbf", ".prj", ".cpg")]
        return [path, *(p for p in sidecars if p.is_file())]
    return [path]


def _check_region(bbox: BBox | None, boundary: BaseGeometry | None) -> _Region | None:
    if bbox is None and boundary is None:
        return None
    box: BBox | None = None
    if bbox is not None:
        try:
            x0, y0, x1, y1 = (float(c) for c in bbox)
        except (TypeError, ValueError) as exc:
            raise RoadNetworkError(
                "bbox 须为 (最小经度, 最小纬度, 最大经度, 最大纬度)",
                "bbox must be (min_lon, min_lat, max_lon, max_lat)",
            ) from exc
        if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
            raise RoadNetworkError(
                f"bbox {bbox} 无效：须为 (最小经度, 最小纬度, 最大经度, 最大纬度)",
                f"bbox {bbox} is invalid: expected (min_lon, min_lat, max_lon, max_lat)",
            )
        box = (x0, y0, x1, y1)
    if boundary is not None:
        if not isinstance(boundary, BaseGeometry) or boundary.geom_type not in {
            "Polygon",
            "MultiPolygon",
        }:
            raise RoadNetworkError("边界须为多边形", "boundary must be a (multi)polygon")
        x0, y0, x1, y1 = boundary.bounds
        if boundary.is_empty or not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
            raise RoadNetworkError(
                "边界为空或不是 WGS-84 经纬度", "boundary is empty or not in WGS-84 degrees"
            )
    return _Region(box=box, boundary=boundary)


def load_roads(
    source: str | os.PathLike[str],
    *,
    mode: Mode = "drive",
    bbox: BBox | None = None,
    boundary: BaseGeometry | None = None,
    walk_kph: float = 5.0,
    speeds: Mapping[str, float] | str | os.PathLike[str] | None = None,
    keep: Keep = "largest",
    cache: bool = True,
    layer: str | None = None,
    snap_m: float = 0.5,
) -> RoadNetwork:
    """Build the road network of one travel mode from a road file.

    Parameters
    ----------
    source
        ``.osm.pbf``, ``.osm``/``.osm.bz2``/``.osm.gz``, ``.graphml``, or a line
        layer (``.geojson``, ``.gpkg``, ``.shp``).
    mode
        ``"drive"`` (one-way respected, speeds by road) or ``"walk"`` (two-way,
        ``walk_kph``).
    bbox
        ``(min_lon, min_lat, max_lon, max_lat)`` in WGS-84: keep only segments
        with an end inside (an OSM file is clipped while it is read).
    boundary
        A WGS-84 (multi)polygon, applied like ``bbox`` (both may be given).
    walk_kph
        Walking speed.
    speeds
        ``None`` for ``data/road_speeds.toml``; a TOML path of the same layout
        to replace it; or a ``{class: km/h}`` mapping overriding single classes.
    keep
        ``"largest"`` keeps the largest strongly connected (driving) or
        connected (walking) component and reports the rest; ``"all"`` keeps
        everything.
    cache
        Reuse and store the built network as Parquet beside the input (or in
        ``~/.cache/servicenet``).
    layer
        Layer of a multi-layer line file (default: its first line layer).
    snap_m
        Line layers: metres within which line ends join other lines.

    Returns
    -------
    RoadNetwork
        Nodes and segments in the UTM zone of the data, with facts.

    Raises
    ------
    RoadNetworkError
        Missing, empty, unreadable or unknown-format file, no usable road line,
        or invalid options.

    Notes
    -----
    OSM files are read with pyosmium rather than pyrosm: pyrosm loads the whole
    file into DataFrames before filtering, while pyosmium streams it (PBF and
    XML, bz2/gz included), rejects non-road entities in C++ and lets the clip
    box apply during the read, so a province extract never sits in memory.

    Examples
    --------
    >>> net = load_roads("sanming.osm.pbf", bbox=(117.4, 26.1, 117.8, 26.4))  # doctest: +SKIP
    >>> net.facts.as_dict()["components_dropped"]  # doctest: +SKIP
    3
    """
    path = Path(source)
    if mode not in ("drive", "walk"):
        raise RoadNetworkError(f"未知出行方式 {mode!r}", f"unknown mode {mode!r} (drive | walk)")
    if keep not in ("largest", "all"):
        raise RoadNetworkError(f"未知 keep 选项 {keep!r}", f"unknown keep {keep!r} (largest | all)")
    if not (math.isfinite(walk_kph) and walk_kph > 0):
        raise RoadNetworkError("步行速度须为正数", "walk_kph must be a positive number")
    if not (math.isfinite(snap_m) and snap_m >= 0):
        raise RoadNetworkError("snap_m 须为非负数", "snap_m must be a non-negative number")
    kind = source_kind(path)
    if not path.is_file():
        raise RoadNetworkError("找不到道路文件", "road file not found", file=str(path))
    if path.stat().st_size == 0:
        raise RoadNetworkError("道路文件是空的", "the road file is empty", file=str(path))
    region = _check_region(bbox, boundary)
    if speeds is None or isinstance(speeds, str | os.PathLike):
        table = read_speed_table(speeds)
    else:
        table = read_speed_table(None, overrides=speeds)

    key = ""
    if cache:
        options = {
            "kind": kind,
            "mode": mode,
            "bbox": list(region.box) if region and region.box else None,
            "boundary": region.boundary.wkt if region and region.boundary is not None else None,
            "speeds": table.digest,
            "walk_kph": walk_kph,
            "keep": keep,
            "layer": layer,
            "snap_m": snap_m,
            # networks cached before check_road_geometry existed may hold broken
            # coordinates: they are not reused
            "geometry_checked": True,
        }
        key = _roadcache.cache_key(_roadcache.file_digest(_input_files(path, kind)), options)
        hit = _roadcache.load(path, _stem(path), key)
        if hit is not None:
            log.info("road network of %s loaded from the cache", path)
            return hit

    if kind in ("osm_pbf", "osm_xml"):
        draft = _from_osm(path, mode, table, walk_kph, region)
    elif kind == "graphml":
        draft = _from_graphml(path, mode, table, walk_kph)
    else:
        draft = _from_lines(path, mode, table, walk_kph, region, layer, snap_m)
    if len(draft.u) == 0:
        _no_roads(path, mode, clipped=region is not None)
    check_road_geometry(
        draft.lon, draft.lat, draft.u, draft.v, file=str(path), labels=draft.node_ids
    )
    net = _finish(
        draft, path=path, kind=kind, mode=mode, keep=keep, region=region, walk_kph=walk_kph
    )
    if cache:
        _roadcache.save(net, path, _stem(path), key)
    return net
