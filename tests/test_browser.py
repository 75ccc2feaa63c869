"""The real app in a real browser (Debian Chromium, headless), with no internet.

Every request that leaves 127.0.0.1 is aborted and recorded: the map must still
show every demo site, which proves Leaflet is served locally and not from a CDN.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import ARTIFACTS, ROOT

pytestmark = pytest.mark.browser
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
SERVER_LOG: list[str] = []  # lines the app server printed (run times among them)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def projects_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("projects")


@pytest.fixture(scope="module")
def app_url(projects_dir: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "TIANDITU_KEY": "", "SERVICENET_PROJECTS": str(projects_dir)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    SERVER_LOG.clear()

    def _read() -> None:  # the server's log, for the run times it prints
        assert proc.stdout is not None
        for raw in proc.stdout:
            SERVER_LOG.append(raw.decode(errors="replace").rstrip())

    reader = threading.Thread(target=_read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = "\n".join(SERVER_LOG)
                pytest.fail(f"streamlit did not become healthy:\n{out}")
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _offline_page(browser, blocked: list[str], height: int = 1000, width: int = 1400):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")

    def route(r):
        host = urlparse(r.request.url).hostname or ""
        if host in LOCAL_HOSTS or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return context, context.new_page()


def test_map_shows_every_demo_site_offline(app_url: str, browser) -> None:
    blocked: list[str] = []
    context, page = _offline_page(browser, blocked)
    try:
        page.goto(app_url, wait_until="domcontentloaded")
        page.get_by_text("三明市职工服务阵地规划").first.wait_for(timeout=60_000)
        frame_el = page.wait_for_selector("iframe[title*='streamlit_folium']", timeout=60_000)
        frame = frame_el.content_frame()
        frame.wait_for_function("() => window.L !== undefined", timeout=30_000)
        frame.wait_for_function(
            "() => document.querySelectorAll('path.leaflet-interactive').length >= 441",
            timeout=30_000,
        )
        n_paths = frame.evaluate("document.querySelectorAll('path.leaflet-interactive').length")
        # 293 sites + 148 demand points, each a circle marker
        assert n_paths == 293 + 148
        # county names at their seats on the blank map (issue 13 item 8)
        places = frame.eval_on_selector_all(".sn-county", "els => els.map(e => e.innerText)")
        assert "大田县" in places and "宁化县" in places, places
        legend = frame.inner_text(".sn-legend")
        assert "乡镇（街道）级" in legend and "现有" in legend
        # kinds by shape (issue 13): a reading room is a triangle, not a circle
        assert "职工书屋" in legend and "需求点" in legend, legend
        corners = frame.evaluate(
            "() => [...document.querySelectorAll('path.leaflet-interactive')]"
            ".map(p => (p.getAttribute('d') || '').split('L').length)"
        )
        assert sum(1 for c in corners if c == 3) == 194, corners[:20]  # reading rooms
        assert sum(1 for c in corners if c == 4) == 12  # cultural centres: diamonds
        # the layer list is folded (it would cover the map); hovering opens it
        assert frame.locator(".leaflet-control-layers-list").is_hidden()
        frame.hover(".leaflet-control-layers")
        layers = frame.inner_text(".leaflet-control-layers")
        assert "职工服务中心（站） · 县级 (12)" in layers
        assert "职工书屋 · 社区（村）级 (194)" in layers
        page.wait_for_timeout(800)  # let the map finish its fit-bounds animation
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "map_offline.png"), full_page=True)
        map_assets = [u for u in blocked if u.endswith((".js", ".css"))]
        assert map_assets == [], map_assets
        # nothing at all left the machine (the page icon included: issue 13 item 9)
        assert blocked == [], blocked
        assert page.evaluate(
            "document.querySelector('link[rel*=icon]').href.startsWith('data:image/svg')"
        )
    finally:
        context.close()


def test_import_page_upload_in_browser(app_url: str, browser) -> None:
    blocked: list[str] = []
    context, page = _offline_page(browser, blocked)
    try:
        page.goto(f"{app_url}/importer", wait_until="domcontentloaded")
        page.get_by_text("导入数据").first.wait_for(timeout=60_000)
        zone = page.wait_for_selector("[data-testid=stFileUploaderDropzone]", timeout=60_000)
        # Streamlit's own English words are hidden and ours drawn in their place
        drawn = zone.evaluate(
            """z => [z.querySelector('button p'),
                     z.parentElement.querySelector('[data-testid=stFileUploaderDropzoneInstructions] span')]
                   .map(e => [getComputedStyle(e).fontSize, getComputedStyle(e, '::after').content])"""
        )
        assert drawn == [["0px", '"上传"'], ["0px", '"每个文件不超过 200 MB"']], drawn
        assert zone.bounding_box()["height"] > 40  # the zone still has its size
        page.locator("input[type=file]").set_input_files(
            str(ROOT / "data/examples/sites_gbk_gcj02.csv")
        )
        page.get_by_text("问题清单").first.wait_for(timeout=60_000)
        page.get_by_text("拒绝").first.wait_for()
        page.wait_for_timeout(1000)
        body = page.inner_text("body")
        assert "GB18030" in body and "GCJ-02（高德、腾讯）" in body  # words, not codes
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "import_page.png"), full_page=True)
    finally:
        context.close()


def test_coverage_page_offline(app_url: str, browser) -> None:
    blocked: list[str] = []
    context, page = _offline_page(browser, blocked, height=2200)
    try:
        page.goto(f"{app_url}/coverage", wait_until="domcontentloaded")
        page.get_by_text("各级标准与覆盖率").first.wait_for(timeout=120_000)
        frame_el = page.wait_for_selector("iframe[title*='streamlit_folium']", timeout=120_000)
        frame = frame_el.content_frame()
        frame.wait_for_function("() => window.L !== undefined", timeout=30_000)
        frame.wait_for_selector(".sn-banner", timeout=30_000)
        assert "示意路网" in frame.inner_text(".sn-banner")
        frame.hover(".leaflet-control-layers")
        layers = frame.inner_text(".leaflet-control-layers")
        assert "缺口 · 职工服务中心（站） · 乡镇（街道）级" in layers
        assert "服务范围 · 职工服务中心（站） · 乡镇（街道）级" in layers
        page.mouse.move(5, 5)  # fold the layer control away again
        page.wait_for_timeout(800)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        frame_el.screenshot(path=str(ARTIFACTS / "coverage_map.png"))
        # open the first gap's popup, as a planner clicking on it would
        gap = frame.locator("path.leaflet-interactive[stroke='#d7301f']").first
        # a gap may be several discs: click on its outline, which is always part of it
        spot = gap.evaluate(
            """el => { const p = el.getPointAtLength(0).matrixTransform(el.getScreenCTM());
                       const r = el.getBoundingClientRect();
                       return {x: p.x - r.left, y: p.y - r.top}; }"""
        )
        gap.click(position=spot, force=True)
        frame.wait_for_selector(".leaflet-popup-content", timeout=10_000)
        assert "未覆盖人数" in frame.inner_text(".leaflet-popup-content")
        page.wait_for_timeout(800)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "coverage_page.png"), full_page=True)
        assert [u for u in blocked if u.endswith((".js", ".css"))] == []
    finally:
        context.close()


def test_suggest_page_offline(app_url: str, browser) -> None:
    blocked: list[str] = []
    context, page = _offline_page(browser, blocked, height=2000)
    try:
        page.goto(f"{app_url}/suggest", wait_until="domcontentloaded")
        page.get_by_role("button", name="求解").click(timeout=120_000)
        page.get_by_text("最优性差距").first.wait_for(timeout=180_000)
        frame_el = page.wait_for_selector("iframe[title*='streamlit_folium']", timeout=60_000)
        frame = frame_el.content_frame()
        frame.wait_for_selector(".sn-suggested", timeout=30_000)
        numbers = frame.eval_on_selector_all(".sn-suggested", "els => els.map(e => e.textContent)")
        assert sorted(numbers) == ["1", "2", "3", "4", "5"]
        page.get_by_text("覆盖率—站点数量曲线").first.wait_for()
        page.wait_for_timeout(1500)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "suggest_page.png"), full_page=True)
        assert [u for u in blocked if u.endswith((".js", ".css"))] == []
    finally:
        context.close()


def _wait_idle(page) -> None:
    """Until Streamlit has finished the current run (no running indicator)."""
    page.wait_for_timeout(400)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\\'stStatusWidget\\']')", timeout=120_000
    )
    page.wait_for_timeout(300)


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def _save_project_with_scenario(page, project: str, scenario: str) -> None:
    """On the project page (reached in-app, so the session stays): save the session as
    project ``project`` and start scenario ``scenario``."""
    page.get_by_role("link", name="项目与方案").click()
    path_box = page.get_by_label("项目名称")
    path_box.wait_for(timeout=60_000)
    path_box.fill(project)
    path_box.press("Enter")
    _wait_idle(page)
    page.get_by_role("button", name="另存为项目").first.click()
    page.get_by_text("已打开项目").first.wait_for(timeout=60_000)
    name_box = page.get_by_label("新方案名称")
    name_box.fill(scenario)
    name_box.press("Enter")
    _wait_idle(page)
    page.get_by_role("button", name="新建方案").first.click()
    page.get_by_text("本方案还没有修改").wait_for(timeout=60_000)


def test_plan_survives_a_closed_tab_and_is_compared_and_reported(
    app_url: str, browser, projects_dir: Path
) -> None:
    """Import sites, place three stations on the map, close the tab, come back, compare, report."""
    blocked: list[str] = []
    context, page = _offline_page(browser, blocked, height=1400)
    try:
        # 1. import the planner's own spreadsheet and add it to the network
        page.goto(f"{app_url}/importer", wait_until="domcontentloaded")
        page.get_by_text("导入数据").first.wait_for(timeout=60_000)
        page.locator("input[type=file]").set_input_files(
            str(ROOT / "data/examples/sites_gbk_gcj02.csv")
        )
        page.get_by_role("button", name="添加到当前站点").first.click(timeout=60_000)
        page.get_by_text("已添加 9 个站点").wait_for(timeout=60_000)
        # 2. save as a project and start a scenario (in-app navigation keeps the session)
        _wait_idle(page)
        plan = projects_dir / "我的方案.gpkg"
        _save_project_with_scenario(page, "我的方案", "新增三站")
        assert plan.exists()
        # 3. three clicks on the map, each followed by the form
        for i, (fx, fy) in enumerate(((0.25, 0.5), (0.42, 0.78), (0.3, 0.3)), start=1):
            _wait_idle(page)
            iframe = page.locator("iframe[title*='streamlit_folium'] >> visible=true").first
            iframe.wait_for(timeout=60_000)
            page.frame_locator("iframe[title*='streamlit_folium'] >> visible=true").first.locator(
                "path.leaflet-interactive"
            ).nth(100).wait_for(state="attached", timeout=60_000)
            page.wait_for_timeout(500)
            box = iframe.bounding_box()
            assert box is not None
            before = (
                page.get_by_text("尚未在地图上选择位置")
                .or_(page.get_by_text("已选位置"))
                .first.inner_text()
            )
            page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
            try:
                page.wait_for_function(
                    "t => ![...document.querySelectorAll('p')].some(p => p.innerText === t)",
                    arg=before,
                    timeout=60_000,
                )  # the chosen position changed
            except Exception:
                _shot(page, f"project_click_{i}_failed.png")
                raise
            _wait_idle(page)
            site_name = page.get_by_label("站点名称")
            site_name.fill(f"规划站{i}")
            logged = len(SERVER_LOG)
            page.get_by_role("button", name="添加规划站点").first.click()
            page.get_by_text(f"已保存（第 {2 + i} 版）").wait_for(timeout=60_000)
            _wait_idle(page)
            # the figures changed: the comparison counts the new site (Streamlit replaces
            # the elements of the previous run as the new one reaches them: wait for it)
            page.wait_for_function(
                """n => [...document.querySelectorAll("[data-testid='stMetric']")]
                        .some(m => m.innerText.includes("新增站点")
                                   && m.innerText.trim().split(/\\s+/).pop() === n)""",
                arg=str(i),
                timeout=60_000,
            )
            runs = [line for line in SERVER_LOG[logged:] if "edit to updated figures in" in line]
            assert runs, "the server logged no time for the edit"
            seconds = float(runs[-1].split(" figures in ")[1].split()[0])
            print(f"edit {i}: server time from the change to updated figures {seconds:.3f} s")
        _shot(page, "project_edited.png")
    finally:
        context.close()  # the tab is closed

    from geo.project import open_project

    on_disk = open_project(plan)
    assert len(on_disk.changes) == 3 and len(on_disk.sites) == 293 + 9

    # 4. come back in a new tab: the project page offers the last project
    context, page = _offline_page(browser, blocked, height=2200)
    try:
        page.goto(f"{app_url}/project", wait_until="domcontentloaded")
        path_box = page.get_by_label("项目名称")
        path_box.wait_for(timeout=60_000)
        assert path_box.input_value() == "我的方案"
        page.get_by_role("button", name="打开项目").first.click()
        page.get_by_text("方案对比").first.wait_for(timeout=120_000)
        _wait_idle(page)
        added = page.locator("[data-testid='stMetric']").filter(has_text="新增站点").first
        assert added.inner_text().split()[-1] == "3"  # the comparison counts the three new sites
        _shot(page, "project_compare.png")
        # 5. the report carries the comparison
        page.get_by_role("link", name="报告与导出").click()  # in-app: the project stays open
        page.get_by_text("生成可打印").first.wait_for(timeout=60_000)
        page.get_by_text("报告描述的方案").wait_for(timeout=60_000)
        page.locator("[data-testid='stSelectbox']").filter(has_text="报告描述的方案").click()
        page.get_by_role("option", name="方案“新增三站”（与现状对比）").click()
        _wait_idle(page)
        page.get_by_role("button", name="生成 HTML").first.click()
        with page.expect_download(timeout=180_000) as info:
            page.get_by_role("button", name="下载 HTML").first.click(timeout=180_000)
        report = Path(info.value.path()).read_text(encoding="utf-8")
        assert "附：方案对比" in report and "规划站2" in report
        # one plan: named on the cover, its planned sites listed, no fresh suggestions
        assert "本报告描述的方案：方案“新增三站”" in report
        planned = int((on_disk.sites["status"] == "planned").sum()) + 3  # the base's and the 3
        assert f"本方案包含 {planned} 个规划站点" in report
        assert "另行求解的选址建议" not in report
        _shot(page, "project_report.png")
        assert [u for u in blocked if u.endswith((".js", ".css"))] == []
    finally:
        context.close()


# every visible table's grid: is it wider than its box (a column out of view)?
_HIDDEN_COLUMNS_JS = """() => [...document.querySelectorAll("[data-testid='stDataFrame']")]
  .map(d => d.querySelector('.dvn-scroller'))
  .filter(s => s && s.clientWidth > 0)
  .map(s => [s.scrollWidth, s.clientWidth])"""


def test_tables_show_every_column_at_1280x720(app_url: str, browser) -> None:
    """Issue 13 item 6: at 1280 x 720 the explanation, gap and county tables were cut."""
    context = browser.new_context(viewport={"width": 1280, "height": 720}, locale="zh-CN")
    page = context.new_page()
    cut: list[str] = []
    try:

        def check(where: str, expected: int) -> None:
            _wait_idle(page)
            page.wait_for_timeout(1500)
            grids = page.evaluate(_HIDDEN_COLUMNS_JS)
            assert len(grids) >= expected, (where, grids)
            cut.extend(f"{where}: {w} px of columns in {c} px" for w, c in grids if w > c + 2)
            page.screenshot(path=str(ARTIFACTS / f"fit_{where}.png"))

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.goto(app_url, wait_until="domcontentloaded")
        page.get_by_text("各县区站点数量").first.wait_for(timeout=60_000)
        check("map", 2)
        page.goto(f"{app_url}/coverage", wait_until="domcontentloaded")
        page.get_by_text("缺口（按未覆盖人数排序）").first.wait_for(timeout=120_000)
        check("coverage", 2)
        page.goto(f"{app_url}/suggest", wait_until="domcontentloaded")
        page.get_by_role("button", name="求解").click(timeout=120_000)
        page.get_by_text("最优性差距").first.wait_for(timeout=180_000)
        check("suggest", 1)
        page.goto(f"{app_url}/importer", wait_until="domcontentloaded")
        page.get_by_role("button", name="用示例文件试一试").click(timeout=60_000)
        page.get_by_text("导入预览（WGS-84）").first.wait_for(timeout=60_000)
        check("import", 2)
    finally:
        context.close()
    assert cut == [], cut


def _messy_workbook(path: Path) -> Path:
    """The planner's spreadsheet as Excel saves it: Chinese headers, GCJ-02 (Amap)
    coordinates, full-width digits, units in cells, a swapped pair, an empty and an
    impossible latitude, a repeated id, a hostile name, a formula, a coarse longitude."""
    import csv

    from openpyxl import Workbook

    text = (ROOT / "data/examples/sites_gbk_gcj02.csv").read_bytes().decode("gb18030")
    rows = list(csv.reader(text.splitlines()))
    rows.append(["013", "大田县上京镇职工服务站", "职工服务站", "乡镇级", "大田县", "上京镇",
                 "东经117度", "25.9", "现有", "300"])  # fmt: skip
    book = Workbook()
    sheet = book.active
    sheet.title = "站点"
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_end_to_end_messy_workbook_to_printed_report_at_1280x720(
    app_url: str, browser, projects_dir: Path, tmp_path: Path
) -> None:
    """Issue 13's task as a planner does it, on a laptop screen: a messy XLSX -> coverage ->
    3 accepted suggestions in a scenario -> comparison -> HTML and PDF report; the tab
    closed and opened again, nothing is lost."""
    import re
    import shutil

    from geo.project import open_project

    book = _messy_workbook(tmp_path / "职工站点_gcj02.xlsx")
    blocked: list[str] = []
    context, page = _offline_page(browser, blocked, height=720, width=1280)
    plan = projects_dir / "端到端.gpkg"
    try:
        # 1. import: every bad row explained, the rest added
        page.goto(f"{app_url}/importer", wait_until="domcontentloaded")
        page.get_by_text("导入数据").first.wait_for(timeout=60_000)
        page.locator("input[type=file]").set_input_files(str(book))
        page.get_by_text("问题清单").first.wait_for(timeout=60_000)
        _wait_idle(page)
        body = page.inner_text("body")
        assert "GCJ-02" in body, "the file name's coordinate system was not taken"
        assert "拒绝" in body
        _shot(page, "e2e_1_import.png")
        page.get_by_role("button", name="添加到当前站点").first.click(timeout=60_000)
        added = page.get_by_text(re.compile(r"已添加 \d+ 个站点")).first
        added.wait_for(timeout=60_000)
        n_added = int(re.search(r"已添加 (\d+) 个站点", added.inner_text()).group(1))
        assert n_added >= 8
        # 2. coverage of the network with the imported sites
        _wait_idle(page)
        page.get_by_role("link", name="覆盖分析").click()
        page.get_by_text("各级标准与覆盖率").first.wait_for(timeout=120_000)
        _wait_idle(page)
        _shot(page, "e2e_2_coverage.png")
        # 3. keep it as a project and start a scenario
        _save_project_with_scenario(page, "端到端", "三个乡镇站")
        _wait_idle(page)
        # 4. three suggested township stations, accepted into the scenario
        page.get_by_role("link", name="选址建议").click()
        count = page.get_by_role("spinbutton", name="新增站点数")
        count.wait_for(timeout=60_000)
        count.fill("3")
        count.press("Enter")
        _wait_idle(page)
        page.get_by_role("button", name="求解").click(timeout=60_000)
        page.get_by_text("最优性差距").first.wait_for(timeout=180_000)
        _wait_idle(page)
        _shot(page, "e2e_4_suggest.png")
        page.get_by_role("button", name="采纳为规划站点").click(timeout=60_000)
        # saved at once, into the scenario, and the message says so (never "added" alone)
        try:
            page.get_by_text(
                re.compile(r"已采纳 3 个规划站点，并保存到方案“三个乡镇站”")
            ).first.wait_for(timeout=60_000)
        except Exception:
            _shot(page, "e2e_4_accept_failed.png")
            raise
        _wait_idle(page)
        _shot(page, "e2e_4_accepted.png")
    finally:
        context.close()  # the tab is closed

    import json

    saved = open_project(plan)
    mine = saved.changes[(saved.changes["scenario"] == "三个乡镇站")]
    adds = mine[mine["op"] == "add_site"]["payload"]
    accepted = [(json.loads(v) if isinstance(v, str) else v)["name"] for v in adds]
    assert len(accepted) == 3, mine
    assert len(saved.sites) == 293 + n_added  # the imported sites are in the base

    # 5. a new tab: the project comes back with its scenario, compared and reported
    context, page = _offline_page(browser, blocked, height=720, width=1280)
    try:
        page.goto(f"{app_url}/project", wait_until="domcontentloaded")
        path_box = page.get_by_label("项目名称")
        path_box.wait_for(timeout=60_000)
        assert path_box.input_value() == "端到端"
        page.get_by_role("button", name="打开项目").first.click()
        page.get_by_text("方案对比").first.wait_for(timeout=120_000)
        _wait_idle(page)
        new_sites = page.locator("[data-testid='stMetric']").filter(has_text="新增站点").first
        assert new_sites.inner_text().split()[-1] == "3"
        _shot(page, "e2e_5_compare.png")
        page.get_by_role("link", name="报告与导出").click()
        page.get_by_text("报告描述的方案").wait_for(timeout=60_000)
        page.locator("[data-testid='stSelectbox']").filter(has_text="报告描述的方案").click()
        page.get_by_role("option", name="方案“三个乡镇站”（与现状对比）").click()
        _wait_idle(page)
        reports = {}
        for fmt in ("HTML", "PDF"):
            page.get_by_role("button", name=f"生成 {fmt}").first.click()
            with page.expect_download(timeout=300_000) as info:
                page.get_by_role("button", name=f"下载 {fmt}").first.click(timeout=300_000)
            reports[fmt] = tmp_path / f"report.{fmt.lower()}"
            info.value.save_as(reports[fmt])  # a download is gone with its tab
            _wait_idle(page)
        _shot(page, "e2e_6_report_page.png")
        assert [u for u in blocked if u.endswith((".js", ".css"))] == []
    finally:
        context.close()

    html = reports["HTML"].read_text(encoding="utf-8")
    assert "本报告描述的方案：方案“三个乡镇站”" in html
    assert "附：方案对比" in html and "另行求解的选址建议" not in html
    section = html[html.index("本方案包含") :]
    for name in accepted:  # the suggestion section lists the three accepted sites
        assert name in section, name
    # provenance: the imported workbook with its hash, beside the project's layers
    import hashlib

    assert book.name in html and hashlib.sha256(book.read_bytes()).hexdigest() in html
    assert "项目图层 sites（端到端.gpkg）" in html
    pdf = ARTIFACTS / "e2e_report.pdf"
    shutil.copy(reports["PDF"], pdf)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "三个乡镇站" in text and all(n in text.replace(" ", "") for n in accepted)
    if shutil.which("pdftoppm"):  # the pages, to look at as a planner would
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", str(pdf), str(ARTIFACTS / "e2e_report_page")],
            check=True,
        )
