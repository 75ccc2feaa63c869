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


# ---------------------------------------------------------------- edge cases found by a probe


def analyze(*args: str, out: Path) -> subprocess.CompletedProcess[str]:
    return run("analyze", "--sites", str(SITES), "--demand", str(DEMAND), "--out", str(out), *args)


def test_unusable_outputs_exit_2_without_a_traceback(tmp_path: Path) -> None:
    a_file = tmp_path / "taken.txt"
    a_file.write_text("x", encoding="utf-8")
    proc = analyze(out=a_file)
    assert proc.returncode == 2 and "not a folder" in proc.stderr and "Traceback" not in proc.stderr
    proc = run("report", "--sites", str(SITES), "--demand", str(DEMAND), "--out", str(tmp_path))
    assert proc.returncode == 2 and "folder" in proc.stderr and "Traceback" not in proc.stderr


def test_a_failed_run_leaves_the_previous_outputs_untouched(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert analyze(out=out).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / "gaps.geojson").unlink()
    (out / "gaps.geojson").mkdir()  # something in the way of one output
    del before["gaps.geojson"]
    proc = analyze("--after-completion", out=out)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before  # no file of the failed run replaced one of the first
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".o.")]  # no leftovers


def test_a_sites_table_whose_rows_all_fail_is_not_an_empty_plan(tmp_path: Path) -> None:
    sites = tmp_path / "sites.csv"
    sites.write_text(
        "site_id,name,kind,level,lon,lat\n1,a,服务站,乡镇,,\n2,b,服务站,乡镇,abc,def\n",
        encoding="utf-8",
    )
    proc = run(
        "analyze", "--sites", str(sites), "--demand", str(DEMAND), "--out", str(tmp_path / "o")
    )
    assert proc.returncode == 2 and "all 2 rows" in proc.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("value", ["-1", "0", "nan"])
def test_max_snap_must_be_positive(tmp_path: Path, value: str) -> None:
    proc = analyze("--max-snap-m", value, out=tmp_path / "o")
    assert proc.returncode == 2 and "max_snap_m" in proc.stderr


def test_infinite_standard_is_refused(tmp_path: Path) -> None:
    std = tmp_path / "s.toml"
    std.write_text(
        '[[standard]]\nkind = "service_center"\nlevel = "township"\nmode = "drive"\n'
        "max_minutes = inf\n",
        encoding="utf-8",
    )
    proc = analyze("--standards", str(std), out=tmp_path / "o")
    assert proc.returncode == 2 and "finite" in proc.stderr


def test_plain_looking_results_come_with_notes(tmp_path: Path) -> None:
    """Demand off the road network, and sites no standard measures, are said on stderr."""
    road = tmp_path / "road.geojson"
    road.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"highway": "primary"},
                        "geometry": {
                            "type": "LineString",
                            "coordinates": [[117.70, 26.30], [117.72, 26.30]],
                        },
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    sites = tmp_path / "sites.csv"
    sites.write_text(
        "site_id,name,kind,level,lon,lat\n"
        "S1,站,职工服务站,乡镇,117.71,26.3005\nS2,校,学校,社区,117.71,26.301\n",
        encoding="utf-8",
    )
    demand = tmp_path / "demand.csv"
    demand.write_text(
        "demand_id,weight,lon,lat\nD1,100,117.66,26.26\nD2,50,117.711,26.302\n", encoding="utf-8"
    )
    proc = run(
        "analyze",
        "--sites",
        str(sites),
        "--demand",
        str(demand),
        "--roads",
        str(road),
        "--out",
        str(tmp_path / "o"),
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 demand points lie more than 1000 m" in proc.stderr
    assert "school/community" in proc.stderr
