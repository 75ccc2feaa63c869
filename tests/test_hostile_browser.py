"""Hostile names in every field a user controls, in maps and reports, in headless Chromium.

Each page is served from a made-up origin with every other request aborted,
every marker and shape is hovered and clicked (tooltips and popups are built
lazily, on open), and the test fails when a dialog opens, a script error is
raised, or a name is not shown exactly as typed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.mapassets import inline_assets
from geo.maps import MapLabels, Overlay, network_map
from tests.hostile import HOSTILE

pytestmark = pytest.mark.browser
ORIGIN = "http://servicenet.invalid"
JOINED = " | ".join(HOSTILE)

# Hover and click every interactive element of the Leaflet map in this document
# the way a mouse does (DOM events), and read what opens.
PROBE = """() => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  const text = sel => { const el = document.querySelector(sel); return el && el.textContent; };
  // what is open now (closed overlays fade out of the DOM later, so ask Leaflet)
  const open = kind => { const found = [];
    map.eachLayer(layer => { if (layer instanceof kind) found.push(layer.getElement()); });
    return found; };
  const closeAll = () => open(L.Tooltip).concat(open(L.Popup)).length &&
    map.eachLayer(layer => { if (layer instanceof L.DivOverlay) layer.close(); });
  const out = {
    tips: [], popups: [], icons: [],
    legend: text('.sn-legend b'), banner: text('.sn-banner span'),
    layers: [...document.querySelectorAll('.leaflet-control-layers-selector + span')]
      .map(s => s.textContent),
  };
  for (const el of document.querySelectorAll('.leaflet-interactive')) {
    const r = el.getBoundingClientRect();
    const at = {bubbles: true, cancelable: true, view: window,
                clientX: r.left + r.width / 2, clientY: r.top + r.height / 2};
    closeAll();
    el.dispatchEvent(new MouseEvent('mouseover', at));
    for (const tip of open(L.Tooltip)) out.tips.push(tip.textContent.trim());
    el.dispatchEvent(new MouseEvent('mouseout', at));
    closeAll();
    el.dispatchEvent(new MouseEvent('click', at));
    for (const pop of open(L.Popup)) {
      const b = pop.querySelector('.leaflet-popup-content b');
      out.popups.push({title: b && b.textContent,
                       cells: [...pop.querySelectorAll('td')].map(td => td.textContent)});
    }
    if (el.classList.contains('leaflet-marker-icon')) out.icons.push(el.textContent);
  }
  closeAll();
  return out;
}"""


class Watched:
    """A page on a fake origin: dialogs, script errors and outside requests are recorded."""

    def __init__(self, browser: Any, html: str) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.context = browser.new_context(viewport={"width": 1200, "height": 900})

        def route(r: Any) -> None:
            if r.request.url == f"{ORIGIN}/page.html":
                r.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
            else:
                self.blocked.append(r.request.url)
                r.abort()

        def dialog(d: Any) -> None:
            self.dialogs.append(f"{d.type}: {d.message}")
            d.dismiss()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("dialog", dialog)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(f"{ORIGIN}/page.html", wait_until="load")

    def probe(self, frame: Any) -> dict[str, Any]:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            frame.wait_for_function("() => window.L !== undefined", timeout=30_000)
            frame.wait_for_selector(".leaflet-interactive", state="attached", timeout=30_000)
        except PlaywrightTimeout:
            self.assert_clean()  # a broken script is the likely cause: say so
            raise
        result: dict[str, Any] = frame.evaluate(PROBE)
        return result

    def assert_clean(self) -> None:
        assert self.dialogs == [], f"script from user text ran: {self.dialogs}"
        assert self.errors == [], f"user text broke the page's scripts: {self.errors}"
        assert self.blocked == [], f"requests left the page: {self.blocked}"


@pytest.fixture
def watch(browser: Any) -> Any:
    pages: list[Watched] = []

    def open_page(html: str) -> Watched:
        pages.append(Watched(browser, html))
        return pages[-1]

    yield open_page
    for w in pages:
        w.context.close()


# ---------------------------------------------------------------- maps


def _points(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows)
    return gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=4326
    )


def _sites() -> gpd.GeoDataFrame:
    """A site named, placed and counted by each hostile string, and one with every code hostile."""
    rows = []
    for i, h in enumerate(HOSTILE):
        common = {"capacity": 100.0, "lat": 26.2 + 0.01 * (i % 5)}
        rows.append(
            {
                **common,
                "site_id": f"S{i:02d}",
                "name": h,
                "kind": "service_center",
                "level": "township",
                "county": h,
                "township": h,
                "status": "existing",
                "grade": None,
                "lon": 117.5 + 0.02 * i,
            }
        )
        rows.append(
            {
                **common,
                "site_id": h,
                "name": None,  # the popup title falls back to the id
                "kind": h,
                "level": h,
                "county": None,
                "township": None,
                "status": h,
                "grade": h,
                "lon": 117.51 + 0.02 * i,
            }
        )
    return _points(rows)


def _demand() -> gpd.GeoDataFrame:
    return _points(
        [
            {
                "demand_id": f"D{i:02d}",
                "name": h,
                "weight": 1000.0 + i,
                "county": h,
                "township": h,
                "lon": 117.5 + 0.02 * i,
                "lat": 26.15,
            }
            for i, h in enumerate(HOSTILE)
        ]
    )


def _gaps() -> gpd.GeoDataFrame:
    boxes = [shapely.box(117.5 + 0.02 * i, 26.1, 117.51 + 0.02 * i, 26.11) for i in range(14)]
    return gpd.GeoDataFrame(
        {"gap_id": list(HOSTILE), "weight": 5.0, "townships": list(HOSTILE)},
        geometry=boxes,
        crs=4326,
    )


def _labels() -> MapLabels:
    return MapLabels(
        kinds={"service_center": JOINED},
        levels={"township": JOINED},
        statuses={"existing": JOINED},
        fields={"county": JOINED, "township": JOINED},
        legend_title=JOINED,
        legend_status=JOINED,
        demand_layer=JOINED,
    )


def _numbered() -> gpd.GeoDataFrame:
    return _points(
        [
            {"order": i + 1, "name": h, "lon": 117.505 + 0.02 * i, "lat": 26.3}
            for i, h in enumerate(HOSTILE)
        ]
    )


def coverage_map() -> str:
    """Sites, demand, gaps and a banner, as on the coverage page."""
    gaps = Overlay(
        JOINED,
        _gaps(),
        "#d7301f",
        popup_fields=((JOINED, "gap_id"), ("townships", "townships")),
        tooltip_field="gap_id",
        on_top=True,
    )
    fmap = network_map(
        _sites(),
        _demand(),
        labels=_labels(),
        assets=inline_assets(),
        overlays=(gaps,),
        banner=JOINED,
    )
    html: str = fmap.get_root().render()
    return html


def suggestion_map() -> str:
    """Suggested sites as numbered markers, as on the suggestion page and in the report."""
    fmap = network_map(
        _sites(),
        _demand(),
        labels=_labels(),
        assets=inline_assets(),
        numbered=_numbered(),
        numbered_layer=JOINED,
    )
    html: str = fmap.get_root().render()
    return html


def scenario_map() -> str:
    """Sites a scenario added, numbered, as on the project page."""
    base = _sites()
    added = _numbered().drop(columns="order").assign(site_id=[f"N{i}" for i in range(14)])
    added = added.assign(kind="service_center", level="township", status="planned")
    sites = pd.concat([base, added], ignore_index=True)
    new = sites[~sites["site_id"].isin(set(base["site_id"]))].reset_index(drop=True)
    numbered = gpd.GeoDataFrame(
        new.assign(order=range(1, len(new) + 1)), geometry="geometry", crs=4326
    )
    fmap = network_map(
        gpd.GeoDataFrame(sites, geometry="geometry", crs=4326),
        None,
        labels=_labels(),
        assets=inline_assets(),
        numbered=numbered,
        numbered_layer=JOINED,
    )
    html: str = fmap.get_root().render()
    return html


@pytest.mark.parametrize("build", [coverage_map, suggestion_map, scenario_map])
def test_map_shows_hostile_names_literally_and_runs_nothing(
    watch: Callable[[str], Watched], build: Callable[[], str]
) -> None:
    w = watch(build())
    seen = w.probe(w.page.main_frame)
    w.assert_clean()
    tips, popups = seen["tips"], seen["popups"]
    for h in HOSTILE:
        assert h in tips, (h, tips)  # a site's tooltip is its name
        # the site's popup: name as title, county and township as cells
        assert any(p["title"] == h and p["cells"].count(h) == 2 for p in popups), h
        # the site whose id, kind, level, status and grade are the text
        assert any(p["title"] == h and p["cells"].count(h) == 5 for p in popups), h
    assert seen["legend"] == JOINED
    assert any(JOINED in layer for layer in seen["layers"])
    if build is coverage_map:
        for i, h in enumerate(HOSTILE):
            assert f"{h}：{1000 + i:,}" in tips  # a demand point
            # a gap: its id and townships (the popup's table sits in folium's own)
            assert any(p["title"] is None and p["cells"][-2:] == [h, h] for p in popups), h
        assert seen["banner"] == JOINED
    else:
        for i, h in enumerate(HOSTILE, start=1):
            assert f"{i}. {h}" in tips  # a numbered marker's tooltip
        assert sorted(seen["icons"], key=int) == [str(i) for i in range(1, len(HOSTILE) + 1)]


@pytest.mark.parametrize("name", HOSTILE)
def test_numbered_marker_runs_nothing(watch: Callable[[str], Watched], name: str) -> None:
    """One suggested site per page: each name on its own (one bad name breaks a whole map)."""
    site = _sites().iloc[:2]
    picked = _points([{"order": 1, "name": name, "lon": 117.6, "lat": 26.3}])
    html = network_map(site, None, assets=inline_assets(), numbered=picked).get_root().render()
    w = watch(html)
    seen = w.probe(w.page.main_frame)
    w.assert_clean()
    assert f"1. {name}" in seen["tips"]
    assert seen["icons"] == ["1"]


def test_map_of_one_site_draws(watch: Callable[[str], Watched]) -> None:
    """One point has bounds of size 0: the map must still draw (it failed at zoom NaN)."""
    site = _sites().iloc[:1]
    w = watch(network_map(site, None, assets=inline_assets()).get_root().render())
    seen = w.probe(w.page.main_frame)
    w.assert_clean()
    assert seen["tips"] == [HOSTILE[0]]


# ---------------------------------------------------------------- reports

TITLE = "三明 " + JOINED
SCENARIO = "方案 ${alert(20)}</script><img src=x onerror=alert(21)>{{7*7}}`\\"


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The CLI's HTML report of a project file with a scenario and suggestions, all text hostile.

    Returns the report and the township names that were made hostile.
    """
    from geo.project import new_project, save_project
    from geo.tables import import_demand, import_sites
    from planning.cli import main
    from planning.coverage.analysis import run_analysis
    from planning.coverage.standards import load_standards
    from planning.scenario import Change, add_changes, standards_frame
    from tests.conftest import ROOT

    folder = tmp_path_factory.mktemp("hostile_report")
    sites = import_sites(ROOT / "data/sanming/sites.csv", crs="wgs84").table
    demand = import_demand(ROOT / "data/sanming/demand.csv", crs="wgs84").table
    standards = load_standards()
    # rename townships with uncovered demand: their seats become the suggested sites
    base = run_analysis(sites, demand, standards)
    points = base.coverage.points
    uncovered = points[
        (points["kind"] == "service_center") & (points["level"] == "township") & ~points["covered"]
    ]
    ids = set(uncovered["demand_id"].astype(str))
    towns = list(dict.fromkeys(demand.loc[demand["demand_id"].isin(ids), "township"]))
    assert len(towns) >= len(HOSTILE), "the demo should have many uncovered townships"
    renamed = {
        town: HOSTILE[k % len(HOSTILE)] + ("" if k < len(HOSTILE) else f" {k}")
        for k, town in enumerate(towns)
    }
    demand["township"] = demand["township"].replace(renamed)
    demand.loc[: len(HOSTILE) - 1, "name"] = list(HOSTILE)
    sites.loc[: len(HOSTILE) - 1, "name"] = list(HOSTILE)
    sites.loc[len(HOSTILE) : 2 * len(HOSTILE) - 1, "county"] = list(HOSTILE)
    changes = [
        Change(
            "add_site",
            {
                "site_id": f"N{i}",
                "name": h,
                "kind": "service_center",
                "level": "township",
                "county": h,
                "township": h,
                "lon": 117.3 + 0.05 * i,
                "lat": 26.0,
            },
        )
        for i, h in enumerate(HOSTILE)
    ]
    changes.append(Change("close_site", {"site_id": str(sites["site_id"].iloc[0])}))
    project = add_changes(new_project(sites, demand, standards_frame(standards)), SCENARIO, changes)
    path = folder / "plan ${alert(30)} {{7*7}}.gpkg"
    save_project(project, path)
    out = folder / "report.html"
    code = main(
        [
            "report",
            "--project",
            str(path),
            "--compare-scenario",
            SCENARIO,
            "--suggest",
            "service_center/township",
            "--count",
            "6",
            "--time-limit",
            "10",
            "--title",
            TITLE,
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return out, list(renamed.values())


REPORT_PROBE = """() => {
  const section = start => {  // the elements after the h2 starting with this text
    const h2 = [...document.querySelectorAll('h2')].find(h => h.textContent.startsWith(start));
    const out = [];
    for (let el = h2 && h2.nextElementSibling; el && el.tagName !== 'H2';
         el = el.nextElementSibling) out.push(el);
    return out;
  };
  const rows = table => [...table.querySelectorAll('tbody tr')]
    .map(tr => [...tr.querySelectorAll('td')].map(td => td.textContent));
  const table = section('七、').find(el => el.tagName === 'TABLE');
  return {
    title: document.title,
    h1: document.querySelector('h1').textContent,
    suggestions: table ? rows(table) : [],
    compare: section('附：').filter(el => el.tagName === 'P').map(p => p.textContent),
    cells: [...document.querySelectorAll('td')].map(td => td.textContent),
  };
}"""


def test_report_shows_hostile_text_literally_and_runs_nothing(
    watch: Callable[[str], Watched], hostile_report: tuple[Path, list[str]]
) -> None:
    path, towns = hostile_report
    w = watch(path.read_text(encoding="utf-8"))
    doc = w.page.evaluate(REPORT_PROBE)
    frame = w.page.wait_for_selector("iframe", timeout=30_000).content_frame()
    seen = w.probe(frame)
    w.assert_clean()

    assert doc["title"] == TITLE and doc["h1"] == TITLE
    cells = doc["cells"]
    for h in HOSTILE:
        assert h in cells, h  # a county (the county table)
    for h in towns:
        assert h in cells, h  # a township (the township table)
    # suggestions: the sites are township seats, named after the hostile townships
    rows = doc["suggestions"]
    assert rows, "the report should suggest sites"
    for row in rows:
        assert row[2] in towns and row[1] == f"{row[2]}（乡镇驻地）", row
    # the scenario comparison names the scenario and lists the added and closed sites
    text = "\n".join(doc["compare"])
    assert SCENARIO in text
    for i, h in enumerate(HOSTILE):
        assert f"N{i} {h}" in text, h
    # the interactive map: site names, suggestion markers, gaps
    for h in HOSTILE:
        assert h in seen["tips"], h
    for order, name in ((r[0], r[1]) for r in rows):
        assert f"{order}. {name}" in seen["tips"], name
    gap_cells = [c for p in seen["popups"] if p["title"] is None for c in p["cells"]]
    assert any(h in c for h in towns for c in gap_cells), gap_cells[:20]
