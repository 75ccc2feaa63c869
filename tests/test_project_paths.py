"""Project files only inside the projects folder; every refusal and OS error a bilingual
message, never a traceback; a project's road file confined to its folder (issue 11, item 3)."""

from __future__ import annotations

import errno
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.errors import ServicenetError
from geo.project import new_project, open_project, save_project
from planning.coverage.standards import load_standards
from planning.demo import load_demo
from planning.scenario import standards_frame

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
ROADS = ROOT / "tests/data/roads/crossing.geojson"

# name typed into the app -> words the refusal must contain (Chinese, English)
BAD_NAMES = {
    "../evil": ("分隔符", "separators"),
    "{outside}/abs": ("分隔符", "separators"),
    "sub/plan": ("分隔符", "separators"),
    "..": ("不能以", "may not start"),
    ".hidden": ("不能以", "may not start"),
    "x" * 300: ("名称过长", "too long"),
    "项" * 100: ("名称过长", "too long"),
    "a\0b": ("空字符", "NUL"),
    "bell\x07": ("控制字符", "control characters"),
    "\u202eexe.gpkg": ("控制字符", "control characters"),
    "CON": ("保留名", "reserved"),
    "nul.gpkg": ("保留名", "reserved"),
    "a:b": ("分隔符", "separators"),
    "   ": ("请输入项目名称", "enter a project name"),
}


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def _project_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("ui/pages/project.py").run(timeout=120)
    assert not at.exception, at.exception
    return at


def _press(at: AppTest, name: str, button: str) -> list[str]:
    """Type ``name`` in the page's name box, press a button; the error messages shown."""
    at.text_input[0].set_value(name)
    at.button(key=button).click().run(timeout=120)
    assert not at.exception, (name, at.exception)
    return [e.value for e in at.error]


def _no_paths_on_screen(at: AppTest, sandbox: Path) -> None:
    shown = (
        [e.value for e in at.error]
        + [c.value for c in at.caption]
        + [str(x.value) for x in at.exception]
    )
    assert not any(str(sandbox) in text or "Traceback" in text for text in shown), shown


def test_save_as_refuses_every_bad_name_in_the_users_language(sandbox: Path) -> None:
    at = _project_page()
    for raw, (zh, _) in BAD_NAMES.items():
        name = raw.format(outside=sandbox / "outside")
        errors = _press(at, name, "prj_save_as")
        assert any(zh in e for e in errors), (name, errors)
        _no_paths_on_screen(at, sandbox)
    assert _files(sandbox) == set()  # nothing written anywhere, no folder made
    folders = {p.relative_to(sandbox).as_posix() for p in sandbox.rglob("*")}
    assert folders == {
        "home",
        "cache",
        "projects",
        "outside",
        "t",
        "t/a",
        "cwd",
        "cwd/a",
        "cwd/a/b",
    }
    at.radio(key="lang").set_value("en").run(timeout=120)
    for raw, (_, en) in BAD_NAMES.items():
        errors = _press(at, raw.format(outside=sandbox / "outside"), "prj_save_as")
        assert any(en in e for e in errors), (raw, errors)
    # a good name is saved in the projects folder, and only there
    assert not _press(at, "方案 2026", "prj_save_as")
    assert _files(sandbox) == {sandbox / "projects/方案 2026.gpkg", sandbox / "projects/recent.txt"}


def test_open_refuses_names_outside_the_projects_folder(sandbox: Path) -> None:
    demo = load_demo()
    outside = sandbox / "outside/theirs.gpkg"
    save_project(new_project(demo.sites, demo.demand, standards_frame(load_standards())), outside)
    at = _project_page()
    for name in (str(outside), "../outside/theirs", "../outside/theirs.gpkg"):
        errors = _press(at, name, "prj_open")
        assert any("分隔符" in e for e in errors), (name, errors)
        assert at.session_state["dataset"] == "demo"
        _no_paths_on_screen(at, sandbox)


def _broken_projects(folder: Path) -> dict[str, str]:
    """Damaged project files in ``folder``: name -> words the refusal must contain."""
    demo = load_demo()
    good = folder / "good.gpkg"
    save_project(new_project(demo.sites, demo.demand, standards_frame(load_standards())), good)
    data = good.read_bytes()
    (folder / "junk.gpkg").write_bytes(b"not a geopackage " * 100)
    (folder / "half.gpkg").write_bytes(data[: len(data) // 2])

    def edited(name: str, *sql: str) -> None:
        shutil.copy(good, folder / f"{name}.gpkg")
        with sqlite3.connect(folder / f"{name}.gpkg") as con:
            for statement in sql:
                con.execute(statement)
        con.close()

    edited("text", "update metadata set value = 'abc' where key = 'version'")
    edited("schema", "update metadata set value = '1e99' where key = 'schema_version'")
    edited("view", "drop table metadata", "create view metadata as select 'version' as k, 1 as v")
    edited("broken_view", "drop table metadata", "create view metadata as select * from gone")
    return {
        "junk": "不是有效的 GeoPackage",
        "half": "不是有效的 GeoPackage",
        "text": "不是非负整数",
        "schema": "不是非负整数",
        "view": "缺少 key、value 列",
        "broken_view": "文件已损坏",
    }


def test_open_shows_a_message_for_every_damaged_file(sandbox: Path) -> None:
    expected = _broken_projects(sandbox / "projects")
    at = _project_page()
    for name, words in expected.items():
        errors = _press(at, name, "prj_open")
        assert any(words in e for e in errors), (name, errors)
        assert at.session_state["dataset"] == "demo"
        _no_paths_on_screen(at, sandbox)
    assert not _press(at, "good", "prj_open")
    assert at.session_state["dataset"] == "project"


@pytest.mark.parametrize(
    ("raised", "zh"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "磁盘已满"),
        (PermissionError(errno.EACCES, "Permission denied"), "没有权限"),
        (OSError(errno.EROFS, "Read-only file system"), "只读"),
        (OSError(errno.ENAMETOOLONG, "File name too long"), "文件名太长"),
        ("gdal-full", "磁盘已满"),
    ],
)
def test_save_as_when_the_disk_refuses(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch, raised: object, zh: str
) -> None:
    """A full disk, a read-only folder ...: a message, no traceback, no half-written file."""
    import pyogrio
    from pyogrio.errors import DataSourceError

    error = (
        DataSourceError("sqlite3_exec(COMMIT) failed: database or disk is full")
        if raised == "gdal-full"
        else raised
    )

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise error

    at = _project_page()
    monkeypatch.setattr(pyogrio, "write_dataframe", refuse)
    errors = _press(at, "plan", "prj_save_as")
    assert any(zh in e for e in errors), errors
    _no_paths_on_screen(at, sandbox)
    assert _files(sandbox / "projects") == set()
    assert at.session_state["dataset"] == "demo"


# ------------------------------------------------------------- the library


@pytest.mark.parametrize("raw", list(BAD_NAMES))
def test_project_file_refuses_bad_names_in_both_languages(raw: str, tmp_path: Path) -> None:
    from geo.errors import PathError
    from geo.paths import project_file

    zh, en = BAD_NAMES[raw]
    with pytest.raises(PathError) as info:
        project_file(tmp_path, raw.format(outside=tmp_path))
    assert zh in info.value.zh and en in info.value.en
    assert info.value.exit_code == 2


def test_project_file_accepts_plain_names(tmp_path: Path) -> None:
    from geo.paths import MAX_NAME_CHARS, project_file

    assert project_file(tmp_path, "三明 2026 方案（二）") == tmp_path / "三明 2026 方案（二）.gpkg"
    assert project_file(tmp_path, "plan.GPKG") == tmp_path / "plan.GPKG"
    assert project_file(tmp_path, "x" * MAX_NAME_CHARS).parent == tmp_path
    assert project_file(tmp_path, "项" * 66).parent == tmp_path  # 198 bytes of UTF-8


def test_disk_full_while_saving_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyogrio

    from geo.project import ProjectError

    demo = load_demo()
    path = tmp_path / "p.gpkg"
    saved = save_project(
        new_project(demo.sites, demo.demand, standards_frame(load_standards())), path
    )
    before = path.read_bytes()

    def full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pyogrio, "write_dataframe", full)
    with pytest.raises(ProjectError) as info:
        save_project(saved, path, expected_version=saved.version)
    assert "磁盘已满" in info.value.zh and "disk is full" in info.value.en
    assert path.read_bytes() == before and sorted(tmp_path.iterdir()) == [path]


def test_cli_scenario_when_gdal_reports_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyogrio
    from pyogrio.errors import DataSourceError

    from planning.cli import main

    demo = load_demo()
    path = tmp_path / "p.gpkg"
    save_project(new_project(demo.sites, demo.demand, standards_frame(load_standards())), path)
    changes = tmp_path / "c.json"
    changes.write_text(json.dumps([{"op": "close_site", "site_id": "S0002"}]), encoding="utf-8")

    def full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise DataSourceError("sqlite3_exec failed: database or disk is full")

    monkeypatch.setattr(pyogrio, "write_dataframe", full)
    code = main(["project", "scenario", str(path), "--name", "A", "--changes", str(changes)])
    assert code == 2
    err = capsys.readouterr().err
    assert "磁盘已满" in err and "disk is full" in err
    assert open_project(path).version == 1


@pytest.mark.parametrize("name", ["junk", "half", "text", "schema", "view", "broken_view"])
def test_open_project_damaged_files_are_project_errors(tmp_path: Path, name: str) -> None:
    expected = _broken_projects(tmp_path)
    with pytest.raises(ServicenetError) as info:
        open_project(tmp_path / f"{name}.gpkg")
    assert expected[name] in info.value.zh and info.value.en
    assert info.value.exit_code == 2
    assert str(tmp_path) not in info.value.zh + info.value.en  # GDAL's text stays in the log


# ------------------------------------------------------- roads of a project


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planning.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(cwd)},
        check=False,
    )


@pytest.fixture(scope="module")
def small_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project (sites and demand by the crossing roads) made with the CLI, no roads."""
    folder = tmp_path_factory.mktemp("plan")
    (folder / "sites.csv").write_text(
        "site_id,name,kind,level,lon,lat\nS1,站,职工服务站,乡镇,117.632,26.262\n", encoding="utf-8"
    )
    (folder / "demand.csv").write_text(
        "demand_id,weight,lon,lat\nD1,100,117.638,26.268\nD2,50,117.634,26.268\n",
        encoding="utf-8",
    )
    proc = _cli(
        "project",
        "new",
        str(folder / "base.gpkg"),
        "--sites",
        str(folder / "sites.csv"),
        "--demand",
        str(folder / "demand.csv"),
        "--crs",
        "wgs84",
        cwd=folder,
    )
    assert proc.returncode == 0, proc.stderr
    return folder / "base.gpkg"


def _with_roads(plan: Path, folder: Path, stored: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / "plan.gpkg"
    shutil.copy(plan, copy)
    with sqlite3.connect(copy) as con:
        con.execute(
            "insert into metadata (key, value) values ('roads_path', ?), ('roads_sha256', '')",
            (stored,),
        )
    con.close()
    return copy


@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink"])
def test_a_road_file_outside_the_projects_folder_is_refused(
    small_plan: Path, tmp_path: Path, how: str
) -> None:
    """A shared project cannot make servicenet read any file of the machine."""
    secret = tmp_path / "outside/roads.geojson"  # a readable road file, but not the project's
    secret.parent.mkdir()
    shutil.copy(ROADS, secret)
    stored = {
        "absolute": str(secret),
        "dotdot": "../outside/roads.geojson",
        "symlink": "link.geojson",
    }[how]
    plan = _with_roads(small_plan, tmp_path / "proj", stored)
    if how == "symlink":
        (tmp_path / "proj/link.geojson").symlink_to(secret)
    # run from the project's folder: before the fix the path was followed from there
    proc = _cli("analyze", "--project", str(plan), "--out", str(tmp_path / "o"), cwd=plan.parent)
    assert proc.returncode == 2, proc.stderr
    assert "不在项目文件所在的文件夹内" in proc.stderr
    assert "outside the project's folder" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()
    # the road file can still be given explicitly
    proc = _cli(
        "analyze", "--project", str(plan), "--roads", str(secret), "--out", str(tmp_path / "o"),
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def test_a_road_file_next_to_the_project_is_found_from_any_folder(
    small_plan: Path, tmp_path: Path
) -> None:
    """Backwards compatible: a relative road path is taken from the project's folder."""
    plan = _with_roads(small_plan, tmp_path / "proj", "roads/crossing.geojson")
    (tmp_path / "proj/roads").mkdir()
    shutil.copy(ROADS, tmp_path / "proj/roads/crossing.geojson")
    (tmp_path / "elsewhere").mkdir()
    out = tmp_path / "o"
    proc = _cli("analyze", "--project", str(plan), "--out", str(out), cwd=tmp_path / "elsewhere")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert doc["proxy_network"] is False


def test_cli_project_new_stores_the_road_file_relative_and_refuses_one_outside(
    small_plan: Path, tmp_path: Path
) -> None:
    folder = small_plan.parent
    (tmp_path / "proj/roads").mkdir(parents=True)
    shutil.copy(ROADS, tmp_path / "proj/roads/r.geojson")
    common = ["--sites", str(folder / "sites.csv"), "--demand", str(folder / "demand.csv")]
    made = _cli(
        "project", "new", str(tmp_path / "proj/p.gpkg"), *common, "--crs", "wgs84",
        "--roads", str(tmp_path / "proj/roads/r.geojson"), cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["roads"] == "roads/r.geojson"
    refused = _cli(
        "project", "new", str(tmp_path / "proj/q.gpkg"), *common, "--crs", "wgs84",
        "--roads", str(ROADS), cwd=tmp_path,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "不在项目文件所在的文件夹内" in refused.stderr
    assert not (tmp_path / "proj/q.gpkg").exists()
