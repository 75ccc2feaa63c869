"""Reports: self-contained HTML, PDF with Chinese and page numbers, XLSX with text kept as text."""

from __future__ import annotations

import html
import io
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from geo.export import csv_bytes
from geo.tables import import_demand, import_sites
from planning.coverage.analysis import run_analysis
from planning.coverage.standards import load_standards
from planning.report.figures import cjk_font
from planning.report.html import render_html, write_pdf
from planning.report.inputs import ReportInputs
from planning.report.write import write_report
from tests.conftest import browser_required

ROOT = Path(__file__).resolve().parent.parent
HOSTILE_NAME = "<script>alert('x')</script>"
HOSTILE_FORMULA = '=HYPERLINK("#x","点我")'


@pytest.fixture(scope="module")
def hostile_inputs(tmp_path_factory: pytest.TempPathFactory) -> ReportInputs:
    """The demo with hostile text in a site name, a county name and a township name."""
    folder = tmp_path_factory.mktemp("hostile")
    sites = pd.read_csv(ROOT / "data/sanming/sites.csv", dtype=str)
    demand = pd.read_csv(ROOT / "data/sanming/demand.csv", dtype=str)
    sites.loc[0, "name"] = HOSTILE_NAME
    sites.loc[1, "name"] = HOSTILE_FORMULA
    demand.loc[demand["county"] == "明溪县", "county"] = HOSTILE_NAME
    demand.loc[0, "township"] = HOSTILE_FORMULA
    sites.to_csv(folder / "sites.csv", index=False)
    demand.to_csv(folder / "demand.csv", index=False)
    s = import_sites(folder / "sites.csv", crs="wgs84").table
    d = import_demand(folder / "demand.csv", crs="wgs84").table
    analysis = run_analysis(s, d, load_standards(), provenance={"standards": "data/standards.toml"})
    return ReportInputs(analysis, s, d, title="三明 <报告>")


def _references(doc: str) -> list[str]:
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", doc)
    refs += re.findall(r"""url\(\s*['"]?([^)'"]+)""", doc)
    refs += re.findall(r"@import\s+['\"]([^'\"]+)", doc)
    return refs


def test_html_is_self_contained_and_escapes_user_text(hostile_inputs: ReportInputs) -> None:
    doc = render_html(hostile_inputs)
    assert "<script>alert" not in doc
    assert "&lt;script&gt;alert(" in doc  # the county name, shown as text
    assert "三明 &lt;报告&gt;" in doc
    # every reference in the page and in the inlined map is a data: URL or a fragment
    srcdoc = re.search(r'srcdoc="([^"]*)"', doc)
    assert srcdoc is not None
    inner = html.unescape(srcdoc.group(1))
    for ref in _references(doc) + _references(inner):
        assert ref.startswith(("data:", "#")), ref[:80]
    assert not re.search(r"https?://", re.sub(r"data:[^\"')]+", "", doc))
    # inside the map, user text is escaped before it reaches Leaflet's innerHTML
    assert "<script>alert" not in inner
    assert "示意路网" in doc


def test_xlsx_keeps_user_text_as_text_and_numbers_as_numbers(
    hostile_inputs: ReportInputs, tmp_path: Path
) -> None:
    path = tmp_path / "r.xlsx"
    write_report(hostile_inputs, path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["概要", "服务标准", "分县区", "分乡镇", "站点", "缺口", "建议"]
    sites = book["站点"]
    names = {c.value: c.data_type for c in sites["B"][1:]}
    assert names[HOSTILE_FORMULA] == "s" and names[HOSTILE_NAME] == "s"
    assert all(c.data_type != "f" for row in sites.iter_rows() for c in row)
    std = book["服务标准"]
    assert std["A1"].value == "类型"
    assert isinstance(std["F2"].value, float)  # covered share as a number
    # shown as a percentage, counts with separators, not 0.1911460113816887 in General
    assert std["F1"].value == "覆盖率" and std["F2"].number_format == "0.0%"
    assert std["E2"].number_format == "0%" and std["G2"].number_format == "#,##0"
    gaps = book["缺口"]
    header = [c.value for c in gaps[1]]
    share = header.index("占需求人数比例") + 1
    assert gaps.cell(row=2, column=share).number_format == "0.0%"
    rule = [gaps.cell(row=r, column=len(header)).value for r in range(2, gaps.max_row + 1)]
    assert rule and all(" · " in v and "分钟" in v and "/" not in v for v in rule), rule[:3]
    assert sites.column_dimensions["B"].width > 10
    township = book["分乡镇"]
    assert any(c.value == HOSTILE_FORMULA and c.data_type == "s" for c in township["B"])


def test_csv_exports_neutralise_formulas(hostile_inputs: ReportInputs) -> None:
    data = csv_bytes(hostile_inputs.sites)
    assert data.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str)
    assert "'" + HOSTILE_FORMULA in set(table["name"])
    assert HOSTILE_NAME in set(table["name"])


def _need_pdf_support() -> None:
    if cjk_font() is None:
        reason = "no CJK font installed (apt-get install fonts-noto-cjk)"
        if browser_required():
            pytest.fail(reason)
        pytest.skip(reason)


def test_pdf_has_pages_page_numbers_and_chinese(
    hostile_inputs: ReportInputs, tmp_path: Path
) -> None:
    _need_pdf_support()
    import pypdf

    path = tmp_path / "r.pdf"
    write_pdf(hostile_inputs, path)
    reader = pypdf.PdfReader(path)
    assert len(reader.pages) >= 5
    first = reader.pages[0].extract_text()
    assert "职工服务阵地覆盖分析报告" in first or "三明" in first
    assert "第 1 页" in first
    assert f"第 {len(reader.pages)} 页" in reader.pages[-1].extract_text()
    text = "".join(p.extract_text() for p in reader.pages)
    assert "服务缺口" in text and "示意路网" in text
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("CJK" in f or "Noto" in f for f in fonts), fonts


def test_english_report(hostile_inputs: ReportInputs) -> None:
    doc = render_html(
        ReportInputs(
            hostile_inputs.analysis, hostile_inputs.sites, hostile_inputs.demand, lang="en"
        )
    )
    assert "Standards and coverage" in doc and "proxy network" in doc
    assert 'lang="en"' in doc


def test_cli_report_for_the_demo_with_suggestions(tmp_path: Path) -> None:
    out = tmp_path / "demo.html"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "planning.cli",
            "report",
            "--sites",
            str(ROOT / "data/sanming/sites.csv"),
            "--demand",
            str(ROOT / "data/sanming/demand.csv"),
            "--suggest",
            "service_center/township",
            "--count",
            "3",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    doc = out.read_text(encoding="utf-8")
    assert "七、方案中的规划站点与选址建议" in doc and "新增 3 个" in doc
    assert "另行求解的选址建议（新求解，未纳入本方案）" in doc  # fresh: said so
    assert "本报告描述的方案：现状" in doc
    assert doc.count("data:image/png;base64,") == 2  # the map and the curve
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "planning.cli",
            "report",
            "--sites",
            str(ROOT / "data/sanming/sites.csv"),
            "--demand",
            str(ROOT / "data/sanming/demand.csv"),
            "--out",
            str(tmp_path / "r.docx"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert bad.returncode == 2 and "r.docx" in bad.stderr


def test_a_scenario_report_names_the_plan_and_lists_its_planned_sites(tmp_path: Path) -> None:
    """Issue 13 item 2: one plan per report, named on the cover; section 7 holds the
    plan's planned sites (empty county cells as a dash, never "nan")."""
    from planning.coverage.analysis import run_analysis
    from planning.coverage.standards import load_standards
    from planning.demo import load_demo
    from planning.report.html import render_html
    from planning.scenario import Change, apply_changes

    demo = load_demo()
    changes = [
        Change(
            "add_site",
            {
                "site_id": f"NEW-C{i}",
                "name": f"采纳站{i}",
                "kind": "service_center",
                "level": "township",
                "lon": 117.3 + 0.2 * i,
                "lat": 26.1,
            },
        )
        for i in range(3)
    ]
    sites, stds = apply_changes(demo.sites, load_standards(), changes)
    analysis = run_analysis(sites, demo.demand, stds)
    planned_before = int((demo.sites["status"] == "planned").sum())
    doc = render_html(
        ReportInputs(analysis, sites, demo.demand, plan="新增三站"), interactive=False
    )
    assert "本报告描述的方案：方案“新增三站”" in doc
    assert (
        f"本方案包含 {planned_before + 3} 个规划站点" in doc
        and "其中 3 个来自采纳的选址建议" in doc
    )
    assert all(f"采纳站{i}" in doc for i in range(3))
    assert ">nan<" not in doc and "另行求解的选址建议" not in doc
    assert f"共 {len(sites)} 个站点（其中规划 {planned_before + 3} 个）" in doc
    base = render_html(ReportInputs(analysis, sites, demo.demand), interactive=False)
    assert "本报告描述的方案：现状（未加方案修改）" in base


def test_data_sources_name_encodings_and_coordinate_systems_in_words() -> None:
    """The 数据来源 table says UTF-8 / Excel 工作簿 and WGS-84 / GCJ-02, never the codes
    utf-8 / xlsx / gcj02, and each SHA-256 sits on a line of its own, whole."""
    from planning.demo import load_demo
    from planning.report.provenance import provenance_rows

    demo = load_demo()
    prov = {
        "sites": {
            "file": "职工站点_gcj02.xlsx",
            "sha256": "a" * 64,
            "rows_read": 14,
            "rows_imported": 10,
            "rows_rejected": 4,
            "encoding": "xlsx",
            "crs": "gcj02",
        },
        "demand": {
            "file": "demand.csv",
            "sha256": "b" * 64,
            "rows_read": 148,
            "rows_imported": 148,
            "rows_rejected": 0,
            "encoding": "gb18030",
            "crs": "bd09",
        },
    }
    analysis = run_analysis(demo.sites, demo.demand, load_standards(), provenance=prov)
    inputs = ReportInputs(analysis, demo.sites, demo.demand)
    rows = {r["file"]: r for r in provenance_rows(inputs, "zh")}
    assert (rows["职工站点_gcj02.xlsx"]["encoding"], rows["职工站点_gcj02.xlsx"]["crs"]) == (
        "Excel 工作簿（无需编码）",
        "GCJ-02",
    )
    assert (rows["demand.csv"]["encoding"], rows["demand.csv"]["crs"]) == ("GB18030", "BD-09")
    english = {r["file"]: r for r in provenance_rows(inputs, "en")}
    assert english["职工站点_gcj02.xlsx"]["encoding"] == "Excel workbook (no text encoding)"
    doc = render_html(inputs)
    section = doc.split("数据来源", 1)[1].split("</table>", 1)[0]
    assert ">gcj02<" not in section and ">xlsx<" not in section
    assert f'<td colspan="4"><span class="code">SHA-256 {"a" * 64}</span>' in section
