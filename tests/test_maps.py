"""The network map: layers, escaping, determinism, no CDN."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from geo.maps import MapLabels, network_map
from geo.tables import import_sites
from planning.demo import load_demo

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def demo():
    return load_demo()


def _html(fmap) -> str:
    """Rendered HTML with the JSON \\uXXXX escapes of embedded data decoded."""
    html = fmap.get_root().render()
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)


def test_layer_per_kind_and_level_and_every_site_drawn(demo) -> None:
    fmap = network_map(demo.sites, demo.demand)
    html = _html(fmap)
    groups = demo.sites.groupby(["kind", "level"]).size()
    for (kind, level), n in groups.items():
        assert f"{kind} · {level} ({n})" in html
    # one GeoJSON point per site, one array entry per demand point
    assert html.count('"type": "Point"') == len(demo.sites)
    points = _demand_array(fmap)
    assert len(points) == len(demo.demand)
    first = demo.demand.iloc[0]
    assert points[0][:2] == [round(first["lat"], 7), round(first["lon"], 7)]
    assert points[0][3] == f"{first['name']}：{first['weight']:,.0f}"
    assert "L.canvas" not in html  # 148 points: SVG, as the sites


def test_each_kind_has_its_shape_and_the_legend_explains_shapes_colours_and_layers(demo) -> None:
    import geopandas as gpd
    import shapely

    from geo.maps import KIND_SHAPES, Overlay

    labels = MapLabels(
        kinds={"service_center": "服务中心", "reading_room": "职工书屋", "cultural_center": "文体"},
        legend_kind="类型",
        legend_layers="图层",
        demand_legend="需求点说明",
    )
    ring = gpd.GeoDataFrame(geometry=[shapely.box(117.5, 26.2, 117.6, 26.3)], crs=4326)
    overlays = (
        Overlay("缺口 A", ring, "#d7301f", legend="缺口说明"),
        Overlay("缺口 B", ring, "#d7301f", legend="缺口说明"),  # one entry for both
        Overlay("服务范围", ring, "#2166ac", legend="范围说明", legend_colour="#666666"),
        Overlay("无图例", ring, "#000000"),
    )
    html = _html(network_map(demo.sites, demo.demand, labels=labels, overlays=overlays))
    # every site is drawn by the shape marker, with the shape of its kind
    assert (
        html.count("new L.SnShapeMarker(latlng, opts)")
        == demo.sites.groupby(["kind", "level"]).ngroups
    )
    for kind in demo.sites["kind"].unique():
        assert f'"shape": "{KIND_SHAPES[kind]}"' in html, kind
    legend = html[html.index('class="sn-legend"') :]
    legend = legend[: legend.index("</div>\n")] if "</div>\n" in legend else legend
    for word in ("类型", "服务中心", "职工书屋", "图层", "缺口说明", "范围说明", "需求点说明"):
        assert word in legend, word
    assert legend.count("缺口说明") == 1 and "无图例" not in legend
    # shapes differ: the reading room's legend symbol is a path, the centre's a circle
    assert "<circle" in legend and "<path" in legend


def _demand_array(fmap) -> list:
    html = fmap.get_root().render()
    start = html.index("var renderer = ")
    text = html[html.index("[[", start) : html.index("]].forEach", start) + 2]
    return json.loads(text)


def test_demand_points_are_escaped_and_a_large_table_is_drawn_on_a_canvas(demo) -> None:
    from geo.maps import CANVAS_ABOVE

    demand = demo.demand.copy()
    demand.loc[demand.index[0], "name"] = HOSTILE
    demand.loc[demand.index[1], "name"] = "{{ 7*7 }}"
    fmap = network_map(demo.sites.iloc[:0], demand)
    html = _html(fmap)
    assert HOSTILE not in html and "{{ 7*7 }}" not in html and "49" not in _demand_array(fmap)[1][3]
    assert _demand_array(fmap)[0][3].startswith("&lt;img src=x onerror=alert(1)&gt;")
    big = demand.iloc[np.arange(CANVAS_ABOVE + 1) % len(demand)].reset_index(drop=True)
    fmap = network_map(demo.sites.iloc[:0], big)
    assert len(_demand_array(fmap)) == CANVAS_ABOVE + 1
    assert "L.canvas" in fmap.get_root().render()


def test_same_inputs_give_byte_identical_html(demo) -> None:
    a = _html(network_map(demo.sites, demo.demand))
    b = _html(network_map(demo.sites.copy(), demo.demand.copy()))
    assert a == b


def test_offline_blank_map_references_no_external_url(demo) -> None:
    html = _html(network_map(demo.sites, demo.demand, basemap="blank"))
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls == set(), urls
    assert "/app/static/leaflet/leaflet.js" in html


def test_hostile_names_are_escaped() -> None:
    text = (
        "名称,类型,级别,经度,纬度,所属县区\n"
        f'"{HOSTILE}",职工服务站,乡镇级,117.6,26.2,"</script><script>alert(2)</script>"\n'
    )
    sites = import_sites(text.encode(), name="x.csv", crs="wgs84").table
    html = _html(network_map(sites, labels=MapLabels(kinds={"service_center": "<b>站</b>"})))
    assert HOSTILE not in html
    assert "<script>alert(2)" not in html
    assert "<b>站</b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_amap_shifts_points_for_display_only(demo) -> None:
    plain = _html(network_map(demo.sites.head(1), basemap="blank"))
    amap = _html(network_map(demo.sites.head(1), basemap="amap"))
    lon = float(demo.sites.iloc[0]["lon"])
    pick = re.compile(r'"coordinates": \[([0-9.]+), ([0-9.]+)\]')
    (p_lon, _), (a_lon, _) = pick.findall(plain)[0], pick.findall(amap)[0]
    assert float(p_lon) == pytest.approx(lon, abs=1e-7)
    assert abs(float(a_lon) - lon) > 1e-4  # GCJ-02 offset of hundreds of metres
    assert demo.sites.iloc[0]["lon"] == lon  # the data itself is untouched


def test_tianditu_without_key_falls_back_to_blank(demo) -> None:
    html = _html(network_map(demo.sites.head(3), basemap="tianditu"))
    assert "tianditu" not in html
    html = _html(network_map(demo.sites.head(3), basemap="tianditu", tianditu_key="k&y"))
    assert "tk=k%26y" in html


def test_place_labels_name_every_county_and_township_once_at_its_seat() -> None:
    from geo.maps import place_labels
    from planning.demo import load_demo

    demand = load_demo().demand
    labels = place_labels(demand)
    counties = [lb for lb in labels if lb[3]]
    townships = [lb for lb in labels if not lb[3]]
    assert sorted(lb[2] for lb in counties) == sorted(demand["county"].unique())
    assert len(townships) == demand.groupby(["county", "township"]).ngroups
    # a township of one point (the demo's seats) is labelled at that point
    one = demand.groupby(["county", "township"]).filter(lambda g: len(g) == 1).iloc[0]
    match = [lb for lb in townships if lb[2] == one["township"]]
    assert any(abs(lb[0] - one["lat"]) < 1e-6 and abs(lb[1] - one["lon"]) < 1e-6 for lb in match)
    # a county label sits at the weighted centre of its points
    part = demand[demand["county"] == counties[0][2]]
    w = part["weight"].to_numpy(dtype=float)
    assert counties[0][0] == pytest.approx((part["lat"] * w).sum() / w.sum(), abs=1e-6)


def test_place_labels_escape_hostile_names() -> None:
    import geopandas as gpd

    from geo.maps import network_map

    demand = gpd.GeoDataFrame(
        {
            "demand_id": ["a", "b"],
            "weight": [10.0, 0.0],
            "county": ["</script><img src=x onerror=alert(1)>", "乙县"],
            "township": ["甲镇", "乙镇"],
            "lon": [117.6, 117.7],
            "lat": [26.2, 26.3],
        },
        geometry=gpd.points_from_xy([117.6, 117.7], [26.2, 26.3]),
        crs=4326,
    )
    html = network_map(demand.iloc[0:0].assign(kind=[], level=[]), demand).get_root().render()
    assert "<img src=x" not in html and "</script><img" not in html
    assert "sn-county" in html and "乙镇" in html
