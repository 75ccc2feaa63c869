"""The app speaks the planner's language: no internal code in any table it shows.

Issue 13 item 5: the standards editor showed ``kind, level, mode, max_minutes``
and ``service_center / drive``; the import preview ``site_id … existing …
None``; the scenario change list Python dicts. The codes come from
data/vocabulary.toml (every kind, level, grade and status) plus the column
names of the machine outputs; a visible header or cell holding one fails.
"""

from __future__ import annotations

import io
import json
import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
VOCAB = tomllib.loads((ROOT / "data" / "vocabulary.toml").read_text(encoding="utf-8"))
CODES = {
    code for table in ("kinds", "levels", "grades", "statuses") for code in VOCAB.get(table, {})
} | {"drive", "walk", "True", "False", "None", "nan", "NaN", "<NA>"}
SNAKE = re.compile(r"^[a-z]+(_[a-z0-9]+)+$")


def _problems(app: AppTest, where: str) -> list[str]:
    found = []
    for df in app.dataframe:
        table = df.value
        if df.proto.editing_mode:  # an editor: codes in the data, words in its column config
            config = json.loads(df.proto.columns or "{}")
            for col in table.columns:
                conf = config.get(str(col), {})
                label = conf.get("label") or str(col)
                if label in CODES or SNAKE.match(label):
                    found.append(f"{where}: editor header {label!r}")
                options = conf.get("type_config", {}).get("options") or []
                raw = [o["value"] for o in options if o.get("label", o["value"]) == o["value"]]
                if raw:
                    found.append(f"{where}: editor column {label!r} offers {raw[:5]}")
            continue
        for col in table.columns:
            if str(col) in CODES or SNAKE.match(str(col)):
                found.append(f"{where}: header {col!r}")
        for col in table.columns:
            cells = {str(v) for v in table[col].tolist() if not isinstance(v, float | int)}
            bad = sorted((cells & CODES) | {c for c in cells if c.startswith("{'")})
            if bad:
                found.append(f"{where}: column {col!r} shows {bad[:5]}")
    return found


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("SERVICENET_PROJECTS", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def test_no_page_shows_an_internal_code(app: AppTest) -> None:
    problems = _problems(app, "map")
    app.switch_page("ui/pages/importer.py").run()
    app.button(key="imp_sample").click().run()
    assert len(app.dataframe) >= 2  # the issues and the preview
    problems += _problems(app, "import")
    app.switch_page("ui/pages/coverage.py").run()
    problems += _problems(app, "coverage")
    editor = app.session_state["cov_std_editor"]
    assert editor is not None
    app.switch_page("ui/pages/suggest.py").run()
    app.number_input(key="sg_count").set_value(2)
    app.button(key="sg_run").click().run()
    problems += _problems(app, "suggest")
    app.switch_page("ui/pages/project.py").run()
    app.text_input(key="prj_name").set_value("plan")
    app.button(key="prj_save_as").click().run()
    app.text_input(key="prj_new_name").set_value("方案A")
    app.button(key="prj_create").click().run()
    app.session_state["prj_clicked"] = (117.9, 25.55)
    app.run()
    app.text_input(key="prj_site_name").set_value("吴山新站")
    app.button[[b.label for b in app.button].index("添加规划站点")].click().run()
    assert not app.exception, app.exception
    problems += _problems(app, "project")
    changes = app.dataframe[0].value
    assert (
        changes.iloc[0].tolist()[-1]
        == "新增 吴山新站（职工服务中心（站） · 乡镇（街道）级，117.90000, 25.55000）"
    )
    app.switch_page("ui/pages/report.py").run()
    problems += _problems(app, "report")
    assert problems == [], "\n".join(problems)


def test_target_shares_are_typed_in_percent(app: AppTest) -> None:
    app.switch_page("ui/pages/coverage.py").run()
    stds = app.session_state["standards"]
    row = next(i for i, s in enumerate(stds) if s.kind == "reading_room")
    app.session_state["cov_std_editor"] = {
        "edited_rows": {row: {"target_share": 95.0}},
        "added_rows": [],
        "deleted_rows": [],
    }
    app.button(key="cov_apply").click().run()
    assert not app.exception, app.exception
    after = next(s for s in app.session_state["standards"] if s.kind == "reading_room")
    assert after.target_share == pytest.approx(0.95)  # 95 means 95 %, not clamped to 100 %


def test_the_downloads_are_in_words_percent_and_rounded() -> None:
    from planning.coverage.analysis import run_analysis
    from planning.coverage.standards import load_standards
    from planning.demo import load_demo
    from ui import tables

    demo = load_demo()
    analysis = run_analysis(demo.sites, demo.demand, load_standards())
    for frame in (analysis.coverage.points, analysis.gaps):
        data = tables.download_csv(frame)
        text = data.decode("utf-8-sig")
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        assert not [c for c in table.columns if SNAKE.match(c)], list(table.columns)
        cells = set(table.to_numpy().ravel().tolist())
        assert not cells & CODES, sorted(cells & CODES)[:5]
        numbers = [c for c in cells if re.fullmatch(r"-?\d+\.\d+", c)]
        assert numbers and max(len(c.split(".")[1]) for c in numbers) <= 6
    gaps = pd.read_csv(io.StringIO(tables.download_csv(analysis.gaps).decode("utf-8-sig")))
    share = gaps["占总人数（%）"]  # a share, in percent with one decimal, unit in the header
    assert (share > 0).all() and (share <= 100).all()
    assert share.map(lambda v: round(v, 1) == v).all()


def _cli(*args: str) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "planning.cli", *args], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_cli_writes_human_facing_csvs_in_the_language_asked(tmp_path: Path, lang: str) -> None:
    """--lang zh|en: by_area.csv, access.csv and suggestions.csv in words; the machine
    outputs (coverage.csv, summary.json, solution.json) keep their columns."""
    data = ("--sites", str(ROOT / "data/sanming/sites.csv"), "--demand",
            str(ROOT / "data/sanming/demand.csv"), "--crs", "wgs84")  # fmt: skip
    _cli("analyze", *data, "--lang", lang, "--out", str(tmp_path / "a"))
    _cli("analyze", *data, "--out", str(tmp_path / "m"))
    _cli("suggest", *data, "--kind", "service_center", "--level", "township", "--count", "2",
         "--lang", lang, "--out", str(tmp_path / "s"))  # fmt: skip
    for path in (
        tmp_path / "a/by_area.csv",
        tmp_path / "a/access.csv",
        tmp_path / "s/suggestions.csv",
    ):
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        assert not [c for c in table.columns if SNAKE.match(c)], (path.name, list(table.columns))
        cells = set(table.to_numpy().ravel().tolist())
        assert not cells & CODES, (path.name, sorted(cells & CODES)[:5])
        chinese = any(re.search(r"[\u4e00-\u9fff]", c) for c in table.columns)
        assert chinese == (lang == "zh"), list(table.columns)
    # the same figures as the machine file, shares in percent
    human = pd.read_csv(tmp_path / "a/by_area.csv", encoding="utf-8-sig")
    machine = pd.read_csv(tmp_path / "m/by_area.csv", encoding="utf-8-sig")
    share = "覆盖率（%）" if lang == "zh" else "Covered (%)"
    assert human[share].tolist() == (machine["covered_share"] * 100).round(1).tolist()
    # the automation contract is untouched by --lang
    for name in ("coverage.csv", "summary.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "m" / name).read_bytes()
    doc = json.loads((tmp_path / "s/solution.json").read_text(encoding="utf-8"))
    assert "covered_share_after" in doc and "selected" in doc


def test_app_and_report_tables_use_one_set_of_headers() -> None:
    """The app's column words and the command line's come from one table."""
    from planning.report.tables import header
    from ui.strings import text

    same = {
        "newly_covered_weight": "col_new_weight", "gaps_closed": "col_gaps_closed",
        "farthest_covered_minutes": "col_farthest", "order": "col_order",
        "served_weight": "col_served_weight", "county": "col_county",
        "township": "col_township", "kind": "col_kind", "level": "col_level",
    }  # fmt: skip
    for lang in ("zh", "en"):
        for column, key in same.items():
            assert header(column, lang) == text(key, lang), (column, lang)
