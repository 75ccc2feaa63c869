"""One save model in the app: every change to an open project is written at once, and
without a project the page says plainly that the change lives in the session only.

Issue 13 item 1: with a project open on its base, accepting two suggestions said
"已添加 2 个规划站点", but the file did not change and the sites were gone after
reopening. Each path that changes a plan is tried here and ends with the file
read back from disk (a reopen, as a new tab would).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.project import open_project

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def _save_as(app: AppTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SERVICENET_PROJECTS", str(tmp_path))
    app.switch_page("ui/pages/project.py").run()
    app.text_input(key="prj_name").set_value("plan")
    app.button(key="prj_save_as").click().run()
    assert not app.exception, app.exception
    return tmp_path / "plan.gpkg"


def _solve(app: AppTest, count: int) -> list[str]:
    app.switch_page("ui/pages/suggest.py").run()
    app.number_input(key="sg_count").set_value(count)
    app.button(key="sg_run").click().run(timeout=180)
    assert not app.exception, app.exception
    return [str(n) for n in app.dataframe[0].value["候选点"]]


def _reopen(path: Path) -> AppTest:
    """A new tab: a fresh session that opens the project from disk."""
    tab = AppTest.from_file(APP, default_timeout=120)
    tab.run()
    tab.switch_page("ui/pages/project.py").run()
    tab.text_input(key="prj_name").set_value(path.stem)
    tab.button(key="prj_open").click().run()
    assert not tab.exception, tab.exception
    return tab


def _messages(app: AppTest) -> list[str]:
    return [m.value for m in [*app.success, *app.warning, *app.info, *app.sidebar.warning]]


def test_accepting_on_the_base_of_an_open_project_saves_into_the_base(
    app: AppTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _save_as(app, tmp_path, monkeypatch)
    version = open_project(path).version
    names = _solve(app, 2)
    app.button(key="sg_accept").click().run(timeout=180)
    assert not app.exception, app.exception
    assert any("保存到项目现状" in m and f"第 {version + 1} 版" in m for m in _messages(app)), (
        _messages(app)
    )
    on_disk = open_project(path)
    assert on_disk.version == version + 1  # the two sites in one save
    planned = on_disk.sites[on_disk.sites["status"] == "planned"]
    assert len(on_disk.sites) == 293 + 2 and len(planned) >= 2
    tab = _reopen(path)
    sites = tab.session_state["sites"]
    assert len(sites) == 293 + 2
    for name in names:  # 梅山镇（乡镇驻地） -> 梅山镇职工服务中心（规划）
        stem = name.replace("（乡镇驻地）", "")
        assert sites["name"].astype(str).str.startswith(stem).any(), (stem, list(sites["name"]))


def test_accepting_into_a_scenario_is_one_save_of_its_changes(
    app: AppTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _save_as(app, tmp_path, monkeypatch)
    app.text_input(key="prj_new_name").set_value("建议方案")
    app.button(key="prj_create").click().run()
    version = open_project(path).version
    _solve(app, 3)
    app.button(key="sg_accept").click().run(timeout=180)
    assert not app.exception, app.exception
    assert any("方案“建议方案”" in m for m in _messages(app)), _messages(app)
    on_disk = open_project(path)
    assert on_disk.version == version + 1 and len(on_disk.changes) == 3
    assert len(on_disk.sites) == 293  # the base is untouched


def test_without_a_project_an_acceptance_is_said_to_be_unsaved_on_every_page(
    app: AppTest,
) -> None:
    _solve(app, 2)
    app.button(key="sg_accept").click().run(timeout=180)
    assert not app.exception, app.exception
    assert any("尚未写入项目文件" in m.value for m in app.warning), _messages(app)
    assert not any("已保存" in m.value for m in app.success)
    assert len(app.session_state["sites"]) == 293 + 2
    app.switch_page("ui/pages/network.py").run()
    banner = [w.value for w in app.sidebar.warning]
    assert any("1 项更改尚未保存" in w and "采纳 2 个规划站点" in w for w in banner), banner


def test_saving_the_session_as_a_project_keeps_what_was_unsaved(
    app: AppTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _solve(app, 2)
    app.button(key="sg_accept").click().run(timeout=180)
    path = _save_as(app, tmp_path, monkeypatch)
    assert not any("尚未保存" in w.value for w in app.sidebar.warning)
    assert len(open_project(path).sites) == 293 + 2


def test_an_import_added_to_an_open_project_is_saved(
    app: AppTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _save_as(app, tmp_path, monkeypatch)
    version = open_project(path).version
    app.switch_page("ui/pages/importer.py").run()
    app.button(key="imp_sample").click().run()
    app.button(key="imp_add").click().run()
    assert not app.exception, app.exception
    assert any("保存到项目现状" in m.value for m in app.success), _messages(app)
    on_disk = open_project(path)
    assert on_disk.version == version + 1 and len(on_disk.sites) == 293 + 9
    # replacing the sites (the confirmation box ticked) writes the base too
    app.checkbox(key="imp_confirm").check().run()
    app.button(key="imp_replace").click().run()
    assert not app.exception, app.exception
    assert len(open_project(path).sites) == 9
    assert open_project(path).version == version + 2


def test_a_standard_edited_on_the_base_of_an_open_project_is_saved(
    app: AppTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _save_as(app, tmp_path, monkeypatch)
    version = open_project(path).version
    app.switch_page("ui/pages/coverage.py").run(timeout=180)
    editor = app.session_state["cov_std_editor"]
    assert editor is not None
    table = pd.DataFrame([s.as_dict() for s in app.session_state["standards"]])
    row = int(table.index[(table["kind"] == "reading_room")][0])
    app.session_state["cov_std_editor"] = {
        "edited_rows": {row: {"max_minutes": 20.0}},
        "added_rows": [],
        "deleted_rows": [],
    }
    app.button(key="cov_apply").click().run(timeout=180)
    assert not app.exception, app.exception
    assert any("保存到项目现状" in m.value for m in app.success), _messages(app)
    on_disk = open_project(path)
    assert on_disk.version == version + 1
    stds = on_disk.standards
    assert float(stds.loc[stds["kind"] == "reading_room", "max_minutes"].iloc[0]) == 20.0


def test_suggestion_settings_survive_leaving_the_page_and_an_acceptance(app: AppTest) -> None:
    app.switch_page("ui/pages/suggest.py").run()
    app.number_input(key="sg_count").set_value(3)
    app.slider(key="sg_time").set_value(45)
    app.button(key="sg_run").click().run(timeout=180)
    first = [str(n) for n in app.dataframe[0].value["候选点"]]
    app.switch_page("ui/pages/network.py").run()
    app.switch_page("ui/pages/suggest.py").run(timeout=180)
    assert app.number_input(key="sg_count").value == 3
    assert app.slider(key="sg_time").value == 45
    assert [str(n) for n in app.dataframe[0].value["候选点"]] == first  # the result is kept
    # accept the first two: the result shown stays the one solved, the two are marked,
    # and nothing else is chosen for the planner
    pick = list(app.multiselect(key="sg_pick_0").value)
    app.multiselect(key="sg_pick_0").set_value(pick[:2])
    app.button(key="sg_accept").click().run(timeout=180)
    assert not app.exception, app.exception
    assert not any("设置已更改" in i.value for i in app.info)
    shown = app.dataframe[0].value
    assert [str(n) for n in shown["候选点"]] == first
    assert shown["已采纳"].tolist() == ["✓", "✓", ""]
    assert app.multiselect(key="sg_pick_2").value == []
    assert app.number_input(key="sg_count").value == 3


def test_a_saved_and_reopened_project_keeps_where_its_tables_came_from(
    app: AppTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13 item 3: after a save the report's 数据来源 was an empty table."""
    demo = dict(app.session_state["provenance"])
    path = _save_as(app, tmp_path, monkeypatch)
    tab = _reopen(path)
    prov = tab.session_state["provenance"]
    for key in ("sites", "demand"):
        assert prov[key]["sha256"] == demo[key]["sha256"] and len(prov[key]["sha256"]) == 64
        assert prov[key]["rows_imported"] == demo[key]["rows_imported"]
    assert prov["project"]["file"] == str(path)

    from planning.coverage.analysis import run_analysis
    from planning.report.inputs import ReportInputs
    from planning.report.provenance import provenance_rows, table_sha256

    sites, demand = tab.session_state["sites"], tab.session_state["demand"]
    analysis = run_analysis(sites, demand, tab.session_state["standards"], provenance=prov)
    rows = provenance_rows(ReportInputs(analysis, sites, demand), "zh")
    files = [r["file"] for r in rows]
    assert demo["sites"]["file"] in files and demo["demand"]["file"] in files
    # the project layers as analysed, hashed, and the project file at its version
    layer = next(r for r in rows if r["file"] == "项目图层 sites（plan.gpkg）")
    assert layer["sha256"] == table_sha256(sites) and layer["rows"] == "293"
    assert any(r["file"] == f"plan.gpkg（第 {prov['project']['version']} 版）" for r in rows)
