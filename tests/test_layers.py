"""Layers point one way (ui -> planning -> geo) and streamlit stays in the UI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {(str(path.relative_to(ROOT)), a.name.split(".")[0]) for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((str(path.relative_to(ROOT)), node.module.split(".")[0]))
    return found


def test_geo_imports_neither_planning_nor_ui_nor_streamlit() -> None:
    bad = {
        (f, m)
        for f, m in _imports("geo")
        if m in ("planning", "ui", "streamlit", "streamlit_folium")
    }
    assert not bad


def test_planning_imports_no_ui_nor_streamlit() -> None:
    bad = {(f, m) for f, m in _imports("planning") if m in ("ui", "streamlit", "streamlit_folium")}
    assert not bad


def test_core_does_not_load_streamlit_in_a_fresh_interpreter() -> None:
    code = (
        "import sys, geo.tables, geo.maps, geo.coords, planning.cli, planning.demo;"
        "planning.demo.load_demo();"
        "bad = [m for m in ('streamlit', 'streamlit_folium', 'ui') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
