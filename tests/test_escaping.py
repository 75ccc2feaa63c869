"""The escaping choke point (geo.safe) for every context: HTML, script JSON, CSS, XLSX.

The browser proof (nothing runs, everything shows) is tests/test_hostile_browser.py;
these tests pin each context without a browser.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.maps import network_map
from geo.safe import css_string, html_text, markdown_text, script_json
from geo.tables import import_sites
from tests.hostile import HOSTILE

ROOT = Path(__file__).resolve().parent.parent


def _css_decode(text: str) -> str:
    """What a CSS parser reads from the inside of a quoted string (hex escapes only)."""
    return re.sub(r"\\([0-9a-fA-F]{1,6}) ?", lambda m: chr(int(m.group(1), 16)), text)


@pytest.mark.parametrize("name", HOSTILE)
def test_each_context_keeps_the_text_and_cannot_be_left(name: str) -> None:
    out = html_text(name)
    assert html.unescape(out) == name
    # HTML, an attribute, a JavaScript template literal, a Jinja2 template
    assert not set(out) & set("<>\"'`$\\{\u2028\u2029")
    js = script_json(name)
    assert json.loads(js) == name
    assert not set(js) & set("<>&'\u2028\u2029") and not re.search(r"\{[{%#]", js)
    md = markdown_text(name)
    assert re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", md) == name
    assert not re.search(r"(?<!\\)[*_`\[\]()!<>$:]", md.replace("\\\\", ""))
    css = css_string(name + '"\n}')
    assert _css_decode(css) == name + '"\n}'
    assert not set(css) & set("\"'<>&\n{}")


def _one_site(name: str, **extra: object) -> gpd.GeoDataFrame:
    row = {
        "site_id": "S1",
        "name": name,
        "kind": "service_center",
        "level": "township",
        "county": "三元区",
        "township": "列东街道",
        "status": "existing",
        "capacity": 100.0,
        "lon": 117.6,
        "lat": 26.2,
        "grade": None,
        **extra,
    }
    frame = pd.DataFrame([row, {**row, "site_id": "S2", "lon": 117.7}])
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame.lon, frame.lat), crs=4326)


def test_no_user_text_reaches_the_map_verbatim() -> None:
    """Sites and suggested (numbered) sites: every name only ever appears escaped."""
    for name in HOSTILE:
        sites = _one_site(name, township=name, county=name)
        picked = sites.assign(order=[1, 2])
        doc = network_map(sites, None, numbered=picked, banner=name).get_root().render()
        assert name not in doc, name


def test_a_name_is_never_run_as_a_template_on_the_server() -> None:
    """branca renders every folium element again as Jinja2: names must not be templates."""
    sites = _one_site("{{ 6*7 }}-evaluated", township="{% raw %}", county="{# x")
    picked = sites.assign(order=[1, 2])
    doc = network_map(sites, None, numbered=picked).get_root().render()
    assert "42-evaluated" not in doc
    # the name as HTML (html_text) inside script JSON (& written as \u0026)
    assert html_text("{{ 6*7 }}-evaluated").replace("&", "\\u0026") in doc


# ---------------------------------------------------------------- reports


@pytest.fixture(scope="module")
def small_report_inputs() -> object:
    """A small plan (20 sites, 30 demand points) with hostile names, analysed."""
    from geo.tables import import_demand
    from planning.coverage.analysis import run_analysis
    from planning.coverage.standards import load_standards
    from planning.report.inputs import ReportInputs

    sites = import_sites(ROOT / "data/sanming/sites.csv", crs="wgs84").table.iloc[:20].copy()
    demand = import_demand(ROOT / "data/sanming/demand.csv", crs="wgs84").table.iloc[:30].copy()
    sites["name"] = [HOSTILE[i % len(HOSTILE)] for i in range(len(sites))]
    sites.loc[sites.index[0], "name"] = "响铃\x07站"  # a control character XML cannot hold
    analysis = run_analysis(sites, demand, load_standards())
    title = "三明 \"报告\" '甲' \\ </style>\n} html{display:none} & {{7*7}}"
    return ReportInputs(analysis, sites, demand, title=title)


def test_report_page_header_shows_the_title_exactly(small_report_inputs: object) -> None:
    from planning.report.html import render_html

    doc = render_html(small_report_inputs, interactive=False)  # type: ignore[arg-type]
    header = re.search(r'@top-right \{ content: "([^"]*)"', doc)
    assert header is not None
    assert _css_decode(header.group(1)) == small_report_inputs.title  # type: ignore[attr-defined]
    style = doc[doc.index("<style>") : doc.index("</style>")]
    assert "display:none" not in style.replace(header.group(1), "")


def test_report_workbook_keeps_text_exact_and_never_a_formula(
    small_report_inputs: object, tmp_path: Path
) -> None:
    from planning.report.xlsx import write_xlsx

    path = tmp_path / "r.xlsx"
    write_xlsx(small_report_inputs, path)  # type: ignore[arg-type]
    sheet = openpyxl.load_workbook(path)["站点"]
    cells = {c.value: c for c in sheet["B"][1:]}
    for name in HOSTILE:
        cell = cells[name]
        assert cell.data_type == "s"
        # formula-like text is quote-prefixed: Excel keeps it as text even when edited
        assert cell.quotePrefix == name.startswith(("=", "+", "-", "@")), name
    assert "响铃\ufffd站" in cells


def test_app_messages_show_user_text_as_typed_not_as_markdown() -> None:
    """Streamlit renders messages as Markdown: an image in a name would be fetched."""
    from streamlit.testing.v1 import AppTest

    from ui.strings import text

    def page() -> None:
        import streamlit as st

        from ui.state import tr

        st.caption(tr("roads_in_use", name="![x](http://t.invalid/p.png) *a* $x$ :red[b]"))

    app = AppTest.from_function(page).run(timeout=60)
    assert not app.exception, app.exception
    name = "![x](http://t.invalid/p.png) *a* $x$ :red[b]"
    assert app.caption[0].value == text("roads_in_use", "zh", name=markdown_text(name))
    assert "![x]" not in app.caption[0].value


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.text() | st.integers() | st.booleans(), lambda c: st.lists(c, max_size=4)))
def test_script_json_equals_the_per_character_table(value) -> None:
    """script_json's str.replace chain equals the translate table it replaced."""
    from geo.safe import script_json

    table = str.maketrans(
        {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027",
         "\u2028": "\\u2028", "\u2029": "\\u2029"}
    )  # fmt: skip
    want = re.sub(
        r"\{(?=[{%#])", r"\\u007b", json.dumps(value, ensure_ascii=False).translate(table)
    )
    assert script_json(value) == want
    assert json.loads(script_json(value)) == value
