"""servicenet analyze end to end, and the demo's regression fixture."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from scripts.make_regression import FIXTURE, demo_fixture

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "data/sanming/sites.csv"
DEMAND = ROOT / "data/sanming/demand.csv"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planning.cli", *args], capture_output=True, text=True, cwd=ROOT
    )


def test_demo_coverage_matches_the_regression_fixture() -> None:
    want = json.loads(FIXTURE.read_text(encoding="utf-8"))
    got = demo_fixture()
    assert got["gaps"] == want["gaps"]
    assert len(got["standards"]) == len(want["standards"])
    for g, w in zip(
        got["standards"] + got["by_county"], want["standards"] + want["by_county"], strict=True
    ):
        for key, value in w.items():
            if isinstance(value, float):
                assert g[key] == pytest.approx(value, rel=1e-9, abs=1e-9), (w, key)
            else:
                assert g[key] == value


def test_cli_analyze_without_roads_writes_every_output(tmp_path: Path) -> None:
    proc = run("analyze", "--sites", str(SITES), "--demand", str(DEMAND), "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "示意路网" in proc.stdout and "proxy" in proc.stdout
    doc = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert doc["proxy_network"] is True
    assert doc["network"]["is_proxy"] is True and doc["network"]["source"] == "proxy"
    assert {"nodes", "edges", "components_dropped", "points_snapped_too_far"} <= set(doc["network"])
    row = doc["standards"][0]
    assert {
        "kind",
        "level",
        "max_minutes",
        "total_weight",
        "covered_weight",
        "covered_share",
    } <= set(row)
    assert row["total_weight"] == 2_486_450
    assert {r["area_type"] for r in doc["by_area"]} == {"county", "township"}
    assert doc["inputs"]["sites"]["rows_imported"] == 293
    cov = pd.read_csv(tmp_path / "coverage.csv", dtype={"demand_id": str})
    assert list(cov.columns[:6]) == [
        "demand_id",
        "kind",
        "level",
        "nearest_site_id",
        "minutes",
        "covered",
    ]
    assert len(cov) == 148 * len(doc["standards"])
    assert not cov.loc[cov["covered"], "minutes"].isna().any()
    gaps = gpd.read_file(tmp_path / "gaps.geojson")
    assert len(gaps) == doc["gaps"] > 0
    for _, part in gaps.groupby(["kind", "level"], sort=False):
        assert part["rank"].tolist() == list(range(1, len(part) + 1))
        assert part["weight"].is_monotonic_decreasing
    assert gaps["gap_id"].is_unique


def test_cli_analyze_after_completion_counts_more(tmp_path: Path) -> None:
    base, later = tmp_path / "a", tmp_path / "b"
    assert (
        run(
            "analyze", "--sites", str(SITES), "--demand", str(DEMAND), "--out", str(base)
        ).returncode
        == 0
    )
    assert (
        run(
            "analyze",
            "--sites",
            str(SITES),
            "--demand",
            str(DEMAND),
            "--out",
            str(later),
            "--after-completion",
        ).returncode
        == 0
    )
    a = json.loads((base / "summary.json").read_text(encoding="utf-8"))["standards"]
    b = json.loads((later / "summary.json").read_text(encoding="utf-8"))["standards"]
    park_a = next(r for r in a if r["kind"] == "cultural_center")
    park_b = next(r for r in b if r["kind"] == "cultural_center")
    assert park_b["covered_weight"] >= park_a["covered_weight"]
    assert park_a["sites_ignored_by_status"] == {"under_construction": 2}


def test_cli_analyze_input_errors_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[standard]]\nkind = "service_center"\nlevel = "town"\nmode = "drive"\nmax_minutes = 5\n',
        encoding="utf-8",
    )
    proc = run(
        "analyze",
        "--sites",
        str(SITES),
        "--demand",
        str(DEMAND),
        "--standards",
        str(bad),
        "--out",
        str(tmp_path / "o"),
    )
    assert proc.returncode == 2 and "bad.toml" in proc.stderr and "unknown level" in proc.stderr
    empty = tmp_path / "demand.csv"
    empty.write_text("demand_id,weight,lon,lat\n", encoding="utf-8")
    proc = run(
        "analyze", "--sites", str(SITES), "--demand", str(empty), "--out", str(tmp_path / "o")
    )
    assert proc.returncode == 2 and "demand" in proc.stderr


def test_empty_sites_file_means_no_existing_sites(tmp_path: Path) -> None:
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,name,kind,level,lon,lat\n", encoding="utf-8")
    proc = run(
        "analyze", "--sites", str(sites), "--demand", str(DEMAND), "--out", str(tmp_path / "o")
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "o/summary.json").read_text(encoding="utf-8"))
    assert all(r["covered_weight"] == 0 for r in doc["standards"])
