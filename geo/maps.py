"""Folium maps of a service network: one layer per kind and level, escaped popups.

The map is built from tables and a set of display labels handed in by the
caller (the app's string table), so this module holds no user-facing wording.
Every user string goes through :mod:`geo.safe` (``html_text`` for the HTML of
popups, tooltips, legends and layer names, ``script_json`` for data written
into a script); nothing a user typed becomes JavaScript source or, since
branca renders each element's output again as a Jinja2 template, a template.
Element ids are made deterministic so the same inputs give byte-identical HTML.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from branca.element import Element, MacroElement
from jinja2 import Template

from geo import coords
from geo.mapassets import MapAssets, local_assets
from geo.safe import HTML_ESCAPES, html_text, script_json

LEVEL_ORDER = ("city", "county", "township", "community", "park")
KIND_ORDER = ("service_center", "workers_palace", "cultural_center", "reading_room")
LEVEL_COLOURS = {
    "city": "#b2182b",
    "county": "#e66101",
    "township": "#2166ac",
    "community": "#1a9850",
    "park": "#762a83",
}
KIND_RADIUS = {"service_center": 7, "workers_palace": 8, "cultural_center": 7, "reading_room": 4}
LEVEL_RADIUS = {"city": 11, "county": 9}
#: the marker shape of each kind (colour tells the level); other kinds are circles
KIND_SHAPES = {
    "service_center": "circle",
    "workers_palace": "star",
    "cultural_center": "diamond",
    "reading_room": "triangle",
}
STATUS_FILL = {"existing": 0.85, "under_construction": 0.35, "planned": 0.1, "closed": 0.0}
BASEMAPS = ("blank", "osm", "tianditu", "amap")
FIT_MAX_ZOOM = 15
_FALLBACK_COLOUR = "#555555"
_NUMBER_STYLE = (
    "width:24px;height:24px;line-height:22px;background:#ffd400;border:2px solid #222;"
    "border-radius:4px;text-align:center;font:bold 13px sans-serif;color:#111"
)


@dataclass(frozen=True)
class MapLabels:
    """Display words for a map, supplied by the caller's string table."""

    kinds: Mapping[str, str] = field(default_factory=dict)
    levels: Mapping[str, str] = field(default_factory=dict)
    statuses: Mapping[str, str] = field(default_factory=dict)
    grades: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, str] = field(default_factory=dict)
    legend_title: str = "Levels"
    legend_status: str = "Status"
    legend_kind: str = "Kind"
    legend_layers: str = "Layers"
    demand_layer: str = "Demand"
    #: the legend's words for demand points and numbered markers ("" leaves them out)
    demand_legend: str = ""
    numbered_legend: str = ""
    basemaps: Mapping[str, str] = field(default_factory=dict)
    attribution: str = ""

    def word(self, table: str, code: Any) -> str:
        """The display word for a code, the code itself when unknown."""
        if code is None or (isinstance(code, float) and math.isnan(code)):
            return ""
        words: Mapping[str, str] = getattr(self, table)
        return words.get(str(code), str(code))


@dataclass(frozen=True)
class Overlay:
    """Polygons or lines drawn with the network (service areas, gaps, a proxy network).

    Popups are built here from ``popup_fields`` (label, column) pairs and
    escaped; ``tooltip_field`` names the column shown on hover.
    """

    name: str
    frame: gpd.GeoDataFrame
    colour: str
    popup_fields: tuple[tuple[str, str], ...] = ()
    tooltip_field: str | None = None
    show: bool = True
    on_top: bool = False
    fill_opacity: float = 0.15
    weight: float = 1.5
    dash: str | None = None
    #: the legend's words for this kind of layer (overlays with the same words share
    #: one entry); empty: not in the legend
    legend: str = ""
    #: the legend swatch's colour when the layers sharing an entry differ in colour
    legend_colour: str | None = None


class _Banner(MacroElement):  # type: ignore[misc]
    """A notice across the top of the map (pre-escaped HTML), e.g. the proxy warning."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="sn-banner" style="position:absolute;z-index:1000;top:10px;left:60px;
            right:60px;text-align:center;pointer-events:none">
          <span style="background:#fff3cd;border:1px solid #d4a72c;border-radius:4px;
            padding:3px 10px;font:13px/1.5 'Noto Sans CJK SC','Microsoft YaHei',sans-serif;
            color:#5c4400">{{ this.body }}</span></div>
        {% endmacro %}
        """
    )

    def __init__(self, body: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "Banner"
        self.body = body


class _Legend(MacroElement):  # type: ignore[misc]
    """A fixed HTML legend in the lower left of the map (pre-escaped HTML)."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="sn-legend" style="position:absolute;z-index:1000;bottom:18px;left:10px;
            background:rgba(255,255,255,.92);padding:6px 9px;border-radius:4px;
            font:12px/1.45 'Noto Sans CJK SC','Microsoft YaHei',sans-serif;
            box-shadow:0 1px 4px rgba(0,0,0,.3);display:flex;gap:14px;
            align-items:flex-start;max-width:calc(100% - 140px)">{{ this.body }}</div>
        {% endmacro %}
        """
    )

    def __init__(self, body: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "Legend"
        self.body = body


class _ShapeMarkerClass(MacroElement):  # type: ignore[misc]
    """``L.SnShapeMarker``: a circle marker drawn as a circle, star, diamond or triangle.

    It keeps everything of a circle marker (SVG path, style, pane, popup,
    tooltip); only the outline differs, chosen by the option ``shape``
    (:data:`KIND_SHAPES`). Defined before the site layers that use it.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        if (!L.SnShapeMarker) {
          L.SnShapeMarker = L.CircleMarker.extend({
            _updatePath: function () {
              var shape = this.options.shape, p = this._point, r = this._radius, d, i, a, q;
              if (!this._renderer._setPath || !shape || shape === "circle") {
                return L.CircleMarker.prototype._updatePath.call(this);
              }
              if (shape === "diamond") {
                q = r * 1.3;
                d = "M" + p.x + "," + (p.y - q) + "L" + (p.x + q) + "," + p.y +
                    "L" + p.x + "," + (p.y + q) + "L" + (p.x - q) + "," + p.y + "z";
              } else if (shape === "triangle") {
                q = r * 1.45;
                d = "M" + p.x + "," + (p.y - q) + "L" + (p.x + q * 0.866) + "," +
                    (p.y + q * 0.5) + "L" + (p.x - q * 0.866) + "," + (p.y + q * 0.5) + "z";
              } else {  // star: ten corners, outer and inner radius
                d = "";
                for (i = 0; i < 10; i++) {
                  a = Math.PI * i / 5 - Math.PI / 2;
                  q = (i % 2 ? 0.5 : 1.45) * r;
                  d += (i ? "L" : "M") + (p.x + q * Math.cos(a)).toFixed(2) + "," +
                       (p.y + q * Math.sin(a)).toFixed(2);
                }
                d += "z";
              }
              this._renderer._setPath(this, d);
            }
          });
        }
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "ShapeMarkerClass"


class _ShapeMarker(folium.CircleMarker):  # type: ignore[misc]
    """folium's circle marker made with ``L.SnShapeMarker`` (GeoJson writes
    ``new L.<_name>``); the shape comes from the layer's style function."""

    def __init__(self, radius: float) -> None:
        super().__init__(radius=radius, fill=True)
        self._name = "SnShapeMarker"


class _MetricScale(MacroElement):  # type: ignore[misc]
    """A metric-only scale bar in the lower right (clear of the legend)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, position: "bottomright"})
            .addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )


class _NumberedMarkers(MacroElement):  # type: ignore[misc]
    """Numbered markers with a tooltip each, drawn from one array.

    Each point is ``[lat, lon, icon HTML, tooltip HTML]``, the HTML escaped by
    :func:`geo.safe.html_text` and the array written by
    :func:`geo.safe.script_json`: no user text is ever part of the JavaScript
    source (folium's ``Tooltip`` would put it in a template literal).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var group = {{ this._parent.get_name() }}, markers = [];
            {{ this.points }}.forEach(function (p) {
                var m = L.marker([p[0], p[1]], {
                    icon: L.divIcon({html: p[2], className: "empty", iconSize: [24, 24],
                                     iconAnchor: [12, 12]}),
                    zIndexOffset: 1000, pane: "sn-numbered"
                }).bindTooltip(p[3], {sticky: true}).addTo(group);
                m.snHtml = p[2];
                markers.push(m);
            });
            // markers closer than their size are moved apart on screen, in a spiral
            // around their place, each with a leader line to where it stands
            function spread() {
                var map = group._map;
                if (!map) { return; }
                var placed = [];
                markers.forEach(function (m) {
                    var at = map.latLngToLayerPoint(m.getLatLng()), dx = 0, dy = 0, k = 0;
                    function clash() {
                        return placed.some(function (q) {
                            return Math.abs(q.x - at.x - dx) < 26 && Math.abs(q.y - at.y - dy) < 26;
                        });
                    }
                    while (k < 60 && clash()) {
                        k += 1;
                        dx = Math.round((18 + 3 * k) * Math.cos(k * 2.4));
                        dy = Math.round((18 + 3 * k) * Math.sin(k * 2.4));
                    }
                    placed.push({x: at.x + dx, y: at.y + dy});
                    var leader = (dx || dy) ? '<svg class="sn-leader" width="1" height="1" ' +
                        'style="position:absolute;left:12px;top:12px;overflow:visible;' +
                        'pointer-events:none"><line x1="0" y1="0" x2="' + (-dx) + '" y2="' +
                        (-dy) + '" stroke="#222" stroke-width="1.5"/><circle cx="' + (-dx) +
                        '" cy="' + (-dy) + '" r="2.5" fill="#222"/></svg>' : "";
                    m.setIcon(L.divIcon({html: leader + m.snHtml, className: "empty",
                                         iconSize: [24, 24], iconAnchor: [12 - dx, 12 - dy]}));
                });
            }
            var watched = null;
            function start() {
                if (group._map && watched !== group._map) {
                    watched = group._map;
                    watched.on("zoomend", spread);
                }
                spread();
            }
            group.on("add", start);
            if (group._map) { start(); }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, points: list[list[Any]]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "NumberedMarkers"
        self.points = script_json(points)


class _RawScript(Element):  # type: ignore[misc]
    """Script text put in the page as it is.

    branca compiles the rendered script of every element again as a Jinja2
    template; for a layer of 20,000 points that is megabytes of text and
    seconds per page run. This element's text is not a template (its user
    text is escaped all the same, :func:`geo.safe.script_json`).
    """

    def __init__(self, text: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "RawScript"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


#: demand tables larger than this are drawn on a canvas (SVG below it)
CANVAS_ABOVE = 5000


class _DemandPoints(MacroElement):  # type: ignore[misc]
    """Demand points as grey circles with a tooltip, drawn from one array.

    Each point is ``[lat, lon, radius, tooltip HTML]`` (HTML escaped by
    :func:`geo.safe.html_text`, the array written by
    :func:`geo.safe.script_json`). Large tables are drawn on a canvas, which
    a browser keeps responsive with tens of thousands of circles.
    """

    # streamlit-folium reads each element's script macro (not ``render``)
    _template = Template(
        """
        {% macro script(this, kwargs) %}{{ this.script_text() }}{% endmacro %}
        """
    )

    def __init__(self, points: list[list[Any]]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "DemandPoints"
        self.points = script_json(points)
        self.canvas = len(points) > CANVAS_ABOVE

    def render(self, **kwargs: Any) -> Any:
        figure: Any = self.get_root()
        figure.script.add_child(_RawScript(self.script_text()), name=self.get_name())

    def script_text(self) -> str:
        """The script that draws the points (user text in it escaped)."""
        renderer = "L.canvas({padding: 0.5})" if self.canvas else "undefined"
        parent: Any = self._parent
        return (
            f"(function () {{\n    var renderer = {renderer};\n"
            f"    {self.points}.forEach(function (p) {{\n"
            '        L.circleMarker([p[0], p[1]], {radius: p[2], color: "#7f7f7f", '
            'weight: 1, fill: true, fillColor: "#bdbdbd", fillOpacity: 0.45, '
            "renderer: renderer})\n"
            f"            .bindTooltip(p[3], {{sticky: true}}).addTo({parent.get_name()});\n"
            "    });\n})();\n"
        )


#: township names are shown from this zoom on (county names always)
TOWNSHIP_LABEL_ZOOM = 10


class _PlaceLabels(MacroElement):  # type: ignore[misc]
    """County and township names at their seats, so a blank map can be read.

    Each label is ``[lat, lon, name HTML, is_county]`` (escaped by
    :func:`geo.safe.html_text`, the array written by :func:`geo.safe.script_json`).
    Township names appear from zoom :data:`TOWNSHIP_LABEL_ZOOM`, where they no
    longer cover each other.
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
        .sn-place{background:none;border:none;white-space:nowrap;pointer-events:none;
          font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;color:#37474f;
          text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 3px #fff;transform:translate(-50%,9px)}
        .sn-place.sn-county{font-size:14px;font-weight:700;color:#263238}
        .sn-place.sn-township{font-size:11px}
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var counties = L.layerGroup(), townships = L.layerGroup();
            {{ this.labels }}.forEach(function (p) {
                var cls = p[3] ? "sn-place sn-county" : "sn-place sn-township";
                L.marker([p[0], p[1]], {
                    icon: L.divIcon({html: p[2], className: cls, iconSize: null}),
                    interactive: false, keyboard: false, pane: "markerPane"
                }).addTo(p[3] ? counties : townships);
            });
            counties.addTo(map);
            function zoomed() {
                if (map.getZoom() >= {{ this.zoom }}) { townships.addTo(map); }
                else { townships.remove(); }
            }
            map.on("zoomend", zoomed);
            map.whenReady(zoomed);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, labels: list[list[Any]]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "PlaceLabels"
        self.labels = script_json(labels)
        self.zoom = TOWNSHIP_LABEL_ZOOM


def place_labels(demand: gpd.GeoDataFrame, basemap: str = "blank") -> list[list[Any]]:
    """``[lat, lon, name, is_county]``: each county and township at the weighted centre
    of its demand points (a township seat where, as in the demo, it has one point)."""
    cols = [c for c in ("county", "township") if c in demand]
    if not len(demand) or not cols:
        return []
    frame = pd.DataFrame(
        {
            "lon": demand["lon"].to_numpy(dtype="float64"),
            "lat": demand["lat"].to_numpy(dtype="float64"),
            "w": pd.to_numeric(demand["weight"], errors="coerce").fillna(0).clip(lower=0)
            if "weight" in demand
            else 1.0,
            **{c: demand[c].astype("string") for c in cols},
        }
    )
    frame["w"] = frame["w"].where(frame["w"] > 0, 1e-9)  # a place of weight 0 still has a seat
    out: list[list[Any]] = []
    for keys, is_county in ((["county"], True), (["county", "township"], False)):
        if not all(k in frame for k in keys):
            continue
        part = frame.dropna(subset=keys)
        part = part.assign(wx=part["lon"] * part["w"], wy=part["lat"] * part["w"])
        sums = part.groupby(keys, sort=True)[["wx", "wy", "w"]].sum()
        lon, lat = _display_xy(
            (sums["wx"] / sums["w"]).to_numpy(), (sums["wy"] / sums["w"]).to_numpy(), basemap
        )
        names = sums.index.get_level_values(-1).astype(str)
        out += [
            [round(float(b), 6), round(float(a), 6), html_text(n), is_county]
            for a, b, n in zip(lon, lat, names, strict=True)
        ]
    return out


def _demand_points(demand: gpd.GeoDataFrame, basemap: str) -> list[list[Any]]:
    """``[lat, lon, radius, tooltip]`` per demand point, column by column."""
    lon, lat = _display_xy(
        demand["lon"].to_numpy(dtype="float64"), demand["lat"].to_numpy(dtype="float64"), basemap
    )
    weight = pd.to_numeric(demand["weight"], errors="coerce").to_numpy(dtype="float64")
    top = float(np.nanmax(weight)) if len(weight) and np.isfinite(weight).any() else 0.0
    top = top or 1.0
    radius = np.round(2 + 8 * np.sqrt(np.maximum(np.nan_to_num(weight, nan=0.0), 0) / top), 2)
    ids = demand["demand_id"].map(_cell).astype(str)
    if "name" in demand.columns:
        names = demand["name"].map(_cell).astype(str)
        title = names.where(names != "", ids)
    else:
        title = ids
    shown = pd.Series(weight).map(lambda w: "" if math.isnan(w) else f"{w:,.0f}")
    tip = (
        title.str.translate(HTML_ESCAPES).to_numpy(dtype=object)
        + "："
        + shown.str.translate(HTML_ESCAPES).to_numpy(dtype=object)
    )
    return [
        list(row)
        for row in zip(
            np.round(lat, 7).tolist(),
            np.round(lon, 7).tolist(),
            radius.tolist(),
            tip.tolist(),
            strict=True,
        )
    ]


def _walk(element: Any) -> Iterator[Any]:
    yield element
    for child in list(getattr(element, "_children", {}).values()):
        yield from _walk(child)


def _stable_ids(fmap: folium.Map) -> None:
    """Replace folium's random element ids with counters (byte-identical HTML)."""
    for index, element in enumerate(_walk(fmap)):
        element._id = f"sn{index:05d}"


def _popup_html(row: Mapping[str, Any], labels: MapLabels) -> str:
    pairs = [
        ("site_id", row.get("site_id")),
        ("kind", labels.word("kinds", row.get("kind"))),
        ("level", labels.word("levels", row.get("level"))),
        ("grade", labels.word("grades", row.get("grade"))),
        ("status", labels.word("statuses", row.get("status"))),
        ("county", row.get("county")),
        ("township", row.get("township")),
        ("capacity", _number(row.get("capacity"))),
    ]
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:6px'>"
        f"{html_text(labels.fields.get(k, k))}</th><td>{html_text(v)}</td></tr>"
        for k, v in pairs
        if v not in (None, "")
    )
    return f"<b>{html_text(_title(row, 'name', 'site_id'))}</b><table>{cells}</table>"


def _title(row: Mapping[str, Any], *keys: str) -> Any:
    """The first of ``keys`` with a value (a missing name is NaN in a table, not None)."""
    for key in keys:
        value = _cell(row.get(key))
        if value != "":
            return value
    return ""


def _number(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return f"{float(value):,.0f}"


def _display_xy(lon: np.ndarray, lat: np.ndarray, basemap: str) -> tuple[np.ndarray, np.ndarray]:
    """Shift WGS-84 to GCJ-02 for Amap tiles, which are drawn in GCJ-02 (display only)."""
    if basemap == "amap":
        return coords.wgs84_to_gcj02(lon, lat)
    return lon, lat


def _point_features(table: gpd.GeoDataFrame, basemap: str, props: Any) -> dict[str, Any]:
    lon, lat = _display_xy(
        table["lon"].to_numpy(dtype="float64"), table["lat"].to_numpy(dtype="float64"), basemap
    )
    features = []
    for i, row in enumerate(table.to_dict("records")):
        features.append(
            {
                "type": "Feature",
                "id": str(i),
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(float(lon[i]), 7), round(float(lat[i]), 7)],
                },
                "properties": props(row),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _add_basemap(fmap: folium.Map, basemap: str, labels: MapLabels, tianditu_key: str) -> None:
    name = labels.basemaps.get(basemap, basemap)
    if basemap == "osm":
        folium.TileLayer(
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            attr="&copy; OpenStreetMap contributors",
            name=name,
            max_zoom=19,
        ).add_to(fmap)
    elif basemap == "tianditu":
        for layer in ("vec", "cva"):
            folium.TileLayer(
                f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                f"&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={quote(tianditu_key, safe='')}",
                attr="&copy; 天地图 Tianditu",
                name=name if layer == "vec" else f"{name} 注记",
                subdomains="01234567",
                max_zoom=18,
                overlay=layer == "cva",
            ).add_to(fmap)
    elif basemap == "amap":
        folium.TileLayer(
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}",
            attr="&copy; 高德地图 AutoNavi",
            name=name,
            subdomains="1234",
            max_zoom=18,
        ).add_to(fmap)


def shape_svg(shape: str, colour: str = "#555555", size: int = 12, fill: str = "") -> str:
    """A small inline SVG of a marker shape, for legends (no user text in it)."""
    c, r = size / 2, size / 2 - 1.5
    body_fill = fill or colour
    if shape == "diamond":
        path = f"M{c},{c - r}L{c + r},{c}L{c},{c + r}L{c - r},{c}z"
    elif shape == "triangle":
        dx, dy = r * 0.95, r * 0.7
        path = f"M{c},{c - r}L{c + dx:.2f},{c + dy:.2f}L{c - dx:.2f},{c + dy:.2f}z"
    elif shape == "star":
        corners = []
        for i in range(10):
            a = math.pi * i / 5 - math.pi / 2
            q = r if i % 2 == 0 else r * 0.45
            corners.append(f"{c + q * math.cos(a):.2f},{c + q * math.sin(a):.2f}")
        path = "M" + "L".join(corners) + "z"
    else:
        return (
            f"<svg width='{size}' height='{size}' style='vertical-align:-2px;margin-right:5px'>"
            f"<circle cx='{c}' cy='{c}' r='{r}' fill='{body_fill}' stroke='{colour}' "
            f"stroke-width='1.5'/></svg>"
        )
    return (
        f"<svg width='{size}' height='{size}' style='vertical-align:-2px;margin-right:5px'>"
        f"<path d='{path}' fill='{body_fill}' stroke='{colour}' stroke-width='1.5'/></svg>"
    )


_DEMAND_SWATCH = (
    "<span style='display:inline-block;width:11px;height:11px;border-radius:50%;"
    "border:1px solid #7f7f7f;background:#bdbdbd;margin-right:5px;vertical-align:-1px'></span>"
)
_NUMBERED_SWATCH = (
    "<span style='display:inline-block;width:14px;height:14px;line-height:12px;"
    "background:#ffd400;border:1px solid #222;border-radius:2px;text-align:center;"
    "font:bold 9px sans-serif;margin-right:5px;vertical-align:-2px'>1</span>"
)


def _swatch(overlay: Overlay) -> str:
    colour = overlay.legend_colour or overlay.colour
    if overlay.fill_opacity <= 0:  # a line layer
        style = f"border-top:2px {'dashed' if overlay.dash else 'solid'} {colour};height:0"
    else:
        border = "dashed" if overlay.dash else "solid"
        alpha = int(overlay.fill_opacity * 255)
        fill = f"{colour}{alpha:02x}" if re.fullmatch(r"#[0-9a-fA-F]{6}", colour) else colour
        style = f"border:2px {border} {colour};background:{fill};height:10px"
    return (
        f"<span style='display:inline-block;width:16px;{style};margin-right:5px;"
        "vertical-align:-1px;box-sizing:border-box'></span>"
    )


def _legend_html(
    present: list[tuple[str, str]],
    labels: MapLabels,
    overlays: tuple[Overlay, ...] = (),
    extra: tuple[tuple[str, str], ...] = (),
) -> str:
    """Two columns: level colours and statuses; kind shapes and the other layers."""
    levels = [lv for lv in LEVEL_ORDER if any(lv == p[1] for p in present)]
    levels += sorted({p[1] for p in present} - set(levels))
    left = [f"<b>{html_text(labels.legend_title)}</b>"]
    for level in levels:
        colour = LEVEL_COLOURS.get(level, _FALLBACK_COLOUR)
        left.append(
            f"<div>{shape_svg('circle', colour, 11)}{html_text(labels.word('levels', level))}</div>"
        )
    left.append(f"<b>{html_text(labels.legend_status)}</b>")
    for status, fill in STATUS_FILL.items():
        if status == "closed":
            continue
        left.append(
            f"<div><span style='display:inline-block;width:11px;height:11px;border-radius:50%;"
            f"border:2px solid #444;background:rgba(68,68,68,{fill});margin-right:5px;"
            f"vertical-align:-2px;box-sizing:border-box'></span>"
            f"{html_text(labels.word('statuses', status))}</div>"
        )
    kinds = [k for k in KIND_ORDER if any(k == p[0] for p in present)]
    kinds += sorted({p[0] for p in present} - set(kinds))
    right = [f"<b>{html_text(labels.legend_kind)}</b>"] if kinds else []
    for kind in kinds:
        shape = KIND_SHAPES.get(kind, "circle")
        right.append(
            f"<div>{shape_svg(shape, '#555555', 13)}{html_text(labels.word('kinds', kind))}</div>"
        )
    entries: dict[str, str] = {}
    for overlay in overlays:
        if overlay.legend and overlay.legend not in entries:
            entries[overlay.legend] = _swatch(overlay)
    for words, swatch in extra:
        entries.setdefault(words, swatch)
    if entries:
        right.append(f"<b>{html_text(labels.legend_layers)}</b>")
        right.extend(f"<div>{swatch}{html_text(words)}</div>" for words, swatch in entries.items())
    columns = [left] + ([right] if len(right) else [])
    return "".join(f"<div>{''.join(col)}</div>" for col in columns)


def _overlay_features(overlay: Overlay, basemap: str) -> dict[str, Any]:
    frame = overlay.frame.to_crs(4326) if overlay.frame.crs else overlay.frame
    geoms = frame.geometry.to_numpy()
    if basemap == "amap":
        geoms = shapely.transform(
            geoms, lambda xy: np.column_stack(coords.wgs84_to_gcj02(xy[:, 0], xy[:, 1]))
        )
    geoms = shapely.set_precision(geoms, 1e-7)
    features = []
    for i, (geom, row) in enumerate(zip(geoms, frame.to_dict("records"), strict=True)):
        if geom is None or geom.is_empty:
            continue
        cells = "".join(
            f"<tr><th style='text-align:left;padding-right:6px'>{html_text(label)}</th>"
            f"<td>{html_text(_cell(row.get(col)))}</td></tr>"
            for label, col in overlay.popup_fields
        )
        props: dict[str, Any] = {"popup": f"<table>{cells}</table>" if cells else ""}
        if overlay.tooltip_field:
            props["tip"] = html_text(_cell(row.get(overlay.tooltip_field)))
        features.append(
            {
                "type": "Feature",
                "id": str(i),
                "geometry": shapely.geometry.mapping(geom),
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return value


def _add_overlay(fmap: folium.Map, overlay: Overlay, basemap: str, pane: str) -> None:
    data = _overlay_features(overlay, basemap)
    if not data["features"]:
        return
    group = folium.FeatureGroup(name=html_text(overlay.name), show=overlay.show)
    style = {
        "color": overlay.colour,
        "weight": overlay.weight,
        "fillColor": overlay.colour,
        "fillOpacity": overlay.fill_opacity,
        "dashArray": overlay.dash,
        "pane": pane,
    }
    folium.GeoJson(
        data,
        style_function=lambda f, st=style: st,
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False, max_width=380)
        if overlay.popup_fields
        else None,
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False)
        if overlay.tooltip_field
        else None,
        pane=pane,
    ).add_to(group)
    group.add_to(fmap)


def _add_numbered(fmap: folium.Map, table: gpd.GeoDataFrame, basemap: str, name: str) -> None:
    """Numbered square markers (a DivIcon needs no image assets), one layer."""
    lon, lat = _display_xy(
        table["lon"].to_numpy(dtype="float64"), table["lat"].to_numpy(dtype="float64"), basemap
    )
    orders = table["order"].tolist() if "order" in table.columns else list(range(1, len(table) + 1))
    names = table["name"].tolist() if "name" in table.columns else [None] * len(table)
    points = [
        [
            round(float(y), 7),
            round(float(x), 7),
            f"<div class='sn-suggested' style='{_NUMBER_STYLE}'>{html_text(order)}</div>",
            html_text(f"{order}. {_cell(label)}"),
        ]
        for x, y, order, label in zip(lon, lat, orders, names, strict=True)
    ]
    # above the sites and the gap rings, so that no number is hidden
    folium.map.CustomPane("sn-numbered", z_index=685, pointer_events=True).add_to(fmap)
    group = folium.FeatureGroup(name=html_text(name), show=True)
    group.add_child(_NumberedMarkers(points))
    group.add_to(fmap)


def network_map(
    sites: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame | None = None,
    *,
    labels: MapLabels | None = None,
    assets: MapAssets | None = None,
    basemap: str = "blank",
    tianditu_key: str = "",
    show_demand: bool = True,
    overlays: tuple[Overlay, ...] = (),
    banner: str = "",
    numbered: gpd.GeoDataFrame | None = None,
    numbered_layer: str = "Suggested",
) -> folium.Map:
    """Build the network map: a layer per (kind, level), demand, legend, layer control.

    Parameters
    ----------
    sites
        Site table with the canonical columns, WGS-84.
    demand
        Optional demand table (drawn as grey circles sized by weight).
    labels
        Display words; codes are shown where a word is missing.
    assets
        Where Leaflet's JS and CSS are loaded from (local by default, never a CDN).
    basemap
        ``blank`` (offline), ``osm``, ``tianditu`` (needs ``tianditu_key``) or
        ``amap`` (points are shifted to GCJ-02 for display only).
    overlays
        Polygons or lines (service areas, gaps, a proxy network): those with
        ``on_top`` are drawn above the sites, the others below.
    banner
        A notice shown across the top of the map (plain text, escaped).
    numbered
        Points drawn as numbered markers (column ``order``; ``name`` in the
        tooltip), e.g. suggested sites in build order.
    """
    labels = labels or MapLabels()
    assets = assets or local_assets()
    if basemap not in BASEMAPS:
        raise ValueError(f"unknown basemap {basemap!r}; choose from {BASEMAPS}")
    if basemap == "tianditu" and not tianditu_key:
        basemap = "blank"
    frames = [t for t in (sites, demand) if t is not None and len(t)]
    if frames:
        lons = np.concatenate([t["lon"].to_numpy(dtype="float64") for t in frames])
        lats = np.concatenate([t["lat"].to_numpy(dtype="float64") for t in frames])
        bounds = [[float(lats.min()), float(lons.min())], [float(lats.max()), float(lons.max())]]
        centre = [float(np.mean([b[0] for b in bounds])), float(np.mean([b[1] for b in bounds]))]
    else:
        bounds, centre = None, [26.26, 117.64]
    fmap = folium.Map(
        location=centre, zoom_start=9, tiles=None, control_scale=False, zoom_snap=0.25
    )
    fmap.default_js = list(assets.js)
    fmap.default_css = list(assets.css)
    _add_basemap(fmap, basemap, labels, tianditu_key)
    if basemap == "blank":
        root: Any = fmap.get_root()
        root.header.add_child(
            Element(
                "<style>.leaflet-container{background:#eef1f4}"
                ".leaflet-tooltip,.leaflet-popup-content{font-family:"
                "'Noto Sans CJK SC','Microsoft YaHei',sans-serif}</style>"
            )
        )

    folium.map.CustomPane("sn-below", z_index=390, pointer_events=True).add_to(fmap)
    folium.map.CustomPane("sn-above", z_index=680, pointer_events=True).add_to(fmap)
    for overlay in overlays:
        if not overlay.on_top:
            _add_overlay(fmap, overlay, basemap, "sn-below")

    if demand is not None and len(demand):
        group = folium.FeatureGroup(name=html_text(labels.demand_layer), show=show_demand)
        group.add_child(_DemandPoints(_demand_points(demand, basemap)))
        group.add_to(fmap)

    present: list[tuple[str, str]] = []
    if len(sites):
        fmap.add_child(_ShapeMarkerClass())
        kinds = [k for k in KIND_ORDER if k in set(sites["kind"])]
        kinds += sorted(set(sites["kind"].dropna()) - set(kinds))
        levels = [lv for lv in LEVEL_ORDER if lv in set(sites["level"])]
        levels += sorted(set(sites["level"].dropna()) - set(levels))
        for rank, level in enumerate(levels):
            # a map pane per level: higher levels are drawn on top of lower ones
            pane = f"sn-level-{rank}"
            folium.map.CustomPane(pane, z_index=640 - 10 * rank, pointer_events=True).add_to(fmap)
            for kind in kinds:
                part = sites[(sites["kind"] == kind) & (sites["level"] == level)]
                if not len(part):
                    continue
                present.append((kind, level))
                colour = LEVEL_COLOURS.get(level, _FALLBACK_COLOUR)
                radius = LEVEL_RADIUS.get(level, KIND_RADIUS.get(kind, 6))
                shape = KIND_SHAPES.get(kind, "circle")
                name = (
                    f"{html_text(labels.word('kinds', kind))} · "
                    f"{html_text(labels.word('levels', level))} ({len(part)})"
                )
                group = folium.FeatureGroup(name=name, show=True)
                data = _point_features(
                    part,
                    basemap,
                    lambda r: {
                        "popup": _popup_html(r, labels),
                        "tip": html_text(_title(r, "name", "site_id")),
                        "fill": STATUS_FILL.get(str(r.get("status")), 0.85),
                        "dash": "" if r.get("status") in (None, "existing") else "4 3",
                    },
                )
                folium.GeoJson(
                    data,
                    marker=_ShapeMarker(radius),
                    # the styler's result is merged into the marker options, so the
                    # pane (drawing order by level) is set here
                    style_function=lambda f, c=colour, r=radius, p=pane, sh=shape: {
                        "radius": r,
                        "shape": sh,
                        "color": c,
                        "weight": 2,
                        "fillColor": c,
                        "pane": p,
                        "fillOpacity": f["properties"]["fill"],
                        "dashArray": f["properties"]["dash"] or None,
                    },
                    popup=folium.GeoJsonPopup(fields=["popup"], labels=False, max_width=360),
                    tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
                ).add_to(group)
                group.add_to(fmap)

    for overlay in overlays:
        if overlay.on_top:
            _add_overlay(fmap, overlay, basemap, "sn-above")
    if numbered is not None and len(numbered):
        _add_numbered(fmap, numbered, basemap, numbered_layer)
    if demand is not None and len(demand):
        labels_at = place_labels(demand, basemap)
        if labels_at:
            fmap.add_child(_PlaceLabels(labels_at))
    if banner:
        fmap.add_child(_Banner(html_text(banner)))
    extra: list[tuple[str, str]] = []
    if demand is not None and len(demand) and labels.demand_legend:
        extra.append((labels.demand_legend, _DEMAND_SWATCH))
    if numbered is not None and len(numbered) and labels.numbered_legend:
        extra.append((labels.numbered_legend, _NUMBERED_SWATCH))
    fmap.add_child(_Legend(_legend_html(present, labels, overlays, tuple(extra))))
    fmap.add_child(_MetricScale())  # type: ignore[no-untyped-call]
    # folded: opened on hover or tap, it lists up to some twenty layers; open it would
    # cover the map (and its popups) on a laptop screen
    folium.LayerControl(collapsed=True).add_to(fmap)
    if bounds is not None:
        # a zoom limit: one point has bounds of size 0, which the blank map
        # (no tile layer, so no maximum zoom) would fit at zoom NaN
        fmap.fit_bounds(bounds, padding=(20, 20), max_zoom=FIT_MAX_ZOOM)
    _stable_ids(fmap)
    return fmap
