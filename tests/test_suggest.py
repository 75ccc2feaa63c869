"""servicenet suggest: spopt's San Francisco case, the Sanming demo, candidates, errors."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "data/sanming/sites.csv"
DEMAND = ROOT / "data/sanming/demand.csv"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planning.cli", *args], capture_output=True, text=True, cwd=ROOT
    )


@pytest.fixture
def sf_case(shared_data: Path, tmp_path: Path) -> dict[str, object]:
    """spopt's San Francisco fixture as servicenet inputs (no existing sites)."""
    folder = shared_data / "spopt_sf"
    tracts = pd.read_csv(folder / "SF_demand_205_centroid_uniform_weight.csv", dtype={"NAME": str})
    stores = pd.read_csv(folder / "SF_store_site_16_longlat.csv")
    dist = pd.read_csv(
        folder / "SF_network_distance_candidateStore_16_censusTract_205_new.csv",
        dtype={"DestinationName": str},
    )
    demand = pd.DataFrame(
        {
            "demand_id": tracts["NAME"],
            "weight": tracts["POP2000"],
            "lon": tracts["long"],
            "lat": tracts["lat"],
        }
    )
    cands = pd.DataFrame(
        {
            "candidate_id": stores["NAME"],
            "name": stores["NAME"],
            "lon": stores["long"],
            "lat": stores["lat"],
        }
    )
    matrix = pd.DataFrame(
        {
            "origin_id": dist["DestinationName"],
            "destination_id": dist["name"],
            "minutes": dist["distance"],
        }
    )
    paths = {n: tmp_path / f"{n}.csv" for n in ("sites", "demand", "candidates", "matrix")}
    paths["sites"].write_text("site_id,name,kind,level,lon,lat\n", encoding="utf-8")
    demand.to_csv(paths["demand"], index=False)
    cands.to_csv(paths["candidates"], index=False)
    matrix.to_csv(paths["matrix"], index=False)
    # dense (tract x store) distances for the independent solve
    full = matrix.pivot(index="origin_id", columns="destination_id", values="minutes")
    full = full.loc[demand["demand_id"], cands["candidate_id"]].to_numpy()
    return {
        "paths": paths,
        "d": full,
        "w": demand["weight"].to_numpy(float),
        "ids": list(cands["candidate_id"]),
    }


def sf_run(case, tmp_path: Path, *extra: str) -> dict:
    p = case["paths"]
    out = tmp_path / "out"
    proc = run(
        "suggest",
        "--sites",
        str(p["sites"]),
        "--demand",
        str(p["demand"]),
        "--cost-matrix",
        str(p["matrix"]),
        "--candidates",
        str(p["candidates"]),
        "--kind",
        "service_center",
        "--level",
        "township",
        "--out",
        str(out),
        "--crs",
        "wgs84",
        "--no-curve",
        *extra,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert (out / "suggestions.csv").exists()
    return doc


@pytest.mark.parametrize(("p", "s"), [(2, 5000.0), (4, 5000.0), (4, 2000.0)])
def test_sf_mclp_proven_optimal(sf_case, tmp_path: Path, p: int, s: float) -> None:
    d, w = sf_case["d"], sf_case["w"]
    best = max(
        float(w[(d[:, list(c)] <= s).any(axis=1)].sum())
        for c in itertools.combinations(range(16), p)
    )
    doc = sf_run(sf_case, tmp_path, "--method", "mclp", "--count", str(p), "--max-minutes", str(s))
    assert doc["status"] == "optimal" and doc["gap"] <= 1e-4
    assert doc["objective"] == pytest.approx(best)
    chosen = [sf_case["ids"].index(c) for c in doc["selected"]]
    assert float(w[(d[:, chosen] <= s).any(axis=1)].sum()) == pytest.approx(best)
    assert doc["covered_share_before"] == 0.0
    assert doc["covered_share_after"] == pytest.approx(best / w.sum())


def test_sf_lscp_proven_optimal(sf_case, tmp_path: Path) -> None:
    d = sf_case["d"]
    s = 3000.0
    need = (d <= s).any(axis=1)
    best = next(
        r
        for r in range(1, 17)
        if any(
            (d[np.ix_(need, list(c))] <= s).any(axis=1).all()
            for c in itertools.combinations(range(16), r)
        )
    )
    doc = sf_run(sf_case, tmp_path, "--method", "lscp", "--max-minutes", str(s))
    assert doc["status"] == "optimal"
    assert doc["objective"] == best == len(doc["selected"])


@pytest.mark.parametrize("p", [1, 4])
def test_sf_pmedian_proven_optimal(sf_case, tmp_path: Path, p: int) -> None:
    d, w = sf_case["d"], sf_case["w"]
    best = min(float(w @ d[:, list(c)].min(axis=1)) for c in itertools.combinations(range(16), p))
    # a standard long enough that the matrix is complete (no penalty applies)
    doc = sf_run(
        sf_case, tmp_path, "--method", "pmedian", "--count", str(p), "--max-minutes", str(d.max())
    )
    assert doc["status"] == "optimal"
    assert doc["objective"] == pytest.approx(best, rel=1e-9)


def test_demo_suggests_township_stations_with_explanations(tmp_path: Path) -> None:
    proc = run(
        "suggest",
        "--sites",
        str(SITES),
        "--demand",
        str(DEMAND),
        "--kind",
        "service_center",
        "--level",
        "township",
        "--method",
        "mclp",
        "--count",
        "4",
        "--out",
        str(tmp_path),
        "--crs",
        "wgs84",
    )
    assert proc.returncode == 0, proc.stderr
    assert "示意路网" in proc.stdout
    doc = json.loads((tmp_path / "solution.json").read_text(encoding="utf-8"))
    assert doc["status"] == "optimal" and len(doc["selected"]) == 4
    assert doc["covered_share_after"] > doc["covered_share_before"]
    assert [c["p"] for c in doc["curve"]] == [0, 1, 2, 3, 4]
    shares = [c["covered_share"] for c in doc["curve"]]
    assert shares == sorted(shares) and shares[-1] == pytest.approx(doc["covered_share_after"])
    rows = pd.read_csv(tmp_path / "suggestions.csv", encoding="utf-8-sig")
    assert rows["order"].tolist() == [1, 2, 3, 4]
    assert set(rows["candidate_id"]) == set(doc["selected"])
    assert rows["newly_covered_weight"].is_monotonic_decreasing  # greedy build order
    assert rows["newly_covered_weight"].sum() == pytest.approx(
        (doc["covered_share_after"] - doc["covered_share_before"]) * doc["total_weight"]
    )
    assert rows["township"].notna().all() and rows["nearest_existing_site_id"].notna().all()
    assert rows["gaps_closed"].notna().any()


def test_suggest_input_errors(tmp_path: Path) -> None:
    base = ["suggest", "--sites", str(SITES), "--demand", str(DEMAND), "--out", str(tmp_path)]
    proc = run(*base, "--kind", "service_center", "--level", "township", "--method", "mclp")
    assert proc.returncode == 2 and "--count" in proc.stderr
    proc = run(*base, "--kind", "library", "--level", "city", "--count", "1")
    assert proc.returncode == 2 and "--max-minutes" in proc.stderr
    bad = tmp_path / "m.csv"
    bad.write_text("origin_id,destination_id,minutes\nNOPE,X,3\n", encoding="utf-8")
    proc = run(
        *base,
        "--kind",
        "service_center",
        "--level",
        "township",
        "--count",
        "1",
        "--cost-matrix",
        str(bad),
    )
    assert proc.returncode == 2 and "m.csv" in proc.stderr and "row 2" in proc.stderr
