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
    # an output folder of its own: --out is replaced as a whole, a folder holding the
    # inputs (m.csv below) would be refused before the errors this test is about
    out = tmp_path / "out"
    base = ["suggest", "--sites", str(SITES), "--demand", str(DEMAND), "--out", str(out)]
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


# ---------------------------------------------------------------- edge cases found by a probe


def small_matrix_case(tmp_path: Path, *, with_existing: bool = False) -> dict[str, Path]:
    """Six demand points, three candidates (K1..K3) and optionally one existing site E1."""
    demand = pd.DataFrame(
        {
            "demand_id": [f"D{i}" for i in range(6)],
            "weight": [10, 20, 30, 40, 50, 60],
            "lon": 117.6,
            "lat": 26.2,
        }
    )
    pairs = [
        ("D0", "K1", 3),
        ("D1", "K1", 5),
        ("D2", "K2", 4),
        ("D3", "K2", 6),
        ("D4", "K3", 2),
        ("D5", "K3", 9),
        ("D5", "K1", 12),
    ]
    sites = "site_id,name,kind,level,lon,lat\n"
    if with_existing:
        sites += "E1,现有站,service_center,township,117.6,26.2\n"
        pairs += [("D0", "E1", 1), ("D1", "E1", 2)]
    paths = {n: tmp_path / f"{n}.csv" for n in ("sites", "demand", "matrix")}
    paths["sites"].write_text(sites, encoding="utf-8")
    demand.to_csv(paths["demand"], index=False)
    pd.DataFrame(pairs, columns=["origin_id", "destination_id", "minutes"]).to_csv(
        paths["matrix"], index=False
    )
    return paths


def matrix_run(
    paths: dict[str, Path], out: Path, *extra: str, max_minutes: str | None = "10"
) -> subprocess.CompletedProcess[str]:
    standard = ["--max-minutes", max_minutes] if max_minutes is not None else []
    return run(
        "suggest",
        "--sites",
        str(paths["sites"]),
        "--demand",
        str(paths["demand"]),
        "--cost-matrix",
        str(paths["matrix"]),
        "--kind",
        "service_center",
        "--level",
        "township",
        *standard,
        "--out",
        str(out),
        *extra,
    )


def test_matrix_destinations_are_the_candidates_without_a_candidates_file(tmp_path: Path) -> None:
    paths = small_matrix_case(tmp_path)
    proc = matrix_run(paths, tmp_path / "out", "--count", "2")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "out/solution.json").read_text(encoding="utf-8"))
    # K3 covers 50 + 60 = 110, K2 covers 70, K1 covers 30: the best two are K3 and K2
    assert sorted(doc["selected"]) == ["K2", "K3"] and doc["status"] == "optimal"
    assert doc["objective"] == pytest.approx(180)


@pytest.mark.parametrize(
    "extra", [("--count", "0"), ("--method", "lscp"), ("--count", "0", "--heuristic")]
)
def test_no_new_site_is_an_answer_not_a_crash(tmp_path: Path, extra: tuple[str, ...]) -> None:
    paths = small_matrix_case(tmp_path, with_existing=True)
    if "lscp" in extra:  # everything is reachable only through E1 here: nothing to add
        paths["matrix"].write_text(
            "origin_id,destination_id,minutes\n"
            + "".join(f"D{i},E1,1\n" for i in range(6))
            + "D0,K1,3\n",
            encoding="utf-8",
        )
    proc = matrix_run(paths, tmp_path / "out", *extra)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "out/solution.json").read_text(encoding="utf-8"))
    assert doc["selected"] == [] and doc["build_order"] == []
    assert doc["covered_share_after"] == doc["covered_share_before"]
    assert any("no new site" in n for n in doc["notes"])
    rows = pd.read_csv(tmp_path / "out/suggestions.csv", encoding="utf-8-sig")
    assert len(rows) == 0 and "candidate_id" in rows.columns


def test_matrix_problems_are_named_or_noted(tmp_path: Path) -> None:
    paths = small_matrix_case(tmp_path)
    text = paths["matrix"].read_text(encoding="utf-8")
    paths["matrix"].write_text(text + "D0,K1,1\n", encoding="utf-8")  # D0->K1 given twice
    proc = matrix_run(paths, tmp_path / "out", "--count", "1")
    assert proc.returncode == 2 and "row 2" not in proc.stderr and "row 9" in proc.stderr
    assert "rows 2 and 9" in proc.stderr
    # demand points with no pair at all are counted in the notes
    paths["matrix"].write_text(text.replace("D3,K2,6\n", ""), encoding="utf-8")
    proc = matrix_run(paths, tmp_path / "out2", "--count", "1")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "out2/solution.json").read_text(encoding="utf-8"))
    assert any("1 demand points have no row" in n for n in doc["notes"])


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (("--budget", "2"), "cost"),
        (("--count", "1", "--budget", "2"), "not both"),
        (("--count", "1", "--time-limit", "-1"), "time limit"),
        (("--count", "1", "--max-minutes", "inf"), "finite"),
        (("--method", "cmclp", "--count", "1"), "capacit"),
        (("--method", "cmclp", "--count", "1", "--heuristic"), "heuristic"),
    ],
)
def test_requests_that_cannot_be_answered_exit_2(
    tmp_path: Path, extra: tuple[str, ...], needle: str
) -> None:
    paths = small_matrix_case(tmp_path)
    own_standard = "--max-minutes" in extra
    proc = matrix_run(paths, tmp_path / "o", *extra, max_minutes=None if own_standard else "10")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr


def test_all_zero_weights_exit_2(tmp_path: Path) -> None:
    paths = small_matrix_case(tmp_path)
    frame = pd.read_csv(paths["demand"])
    frame["weight"] = 0
    frame.to_csv(paths["demand"], index=False)
    proc = matrix_run(paths, tmp_path / "o", "--count", "1")
    assert proc.returncode == 2 and "sum to 0" in proc.stderr


def test_solution_json_has_no_nan_even_when_a_curve_point_has_no_gap(tmp_path: Path) -> None:
    import dataclasses

    from planning.locate.suggest import SuggestRequest, suggest

    paths = small_matrix_case(tmp_path)
    demand = pd.read_csv(paths["demand"], dtype={"demand_id": str}).assign(county="c", township="t")
    cands = pd.DataFrame(
        {
            "candidate_id": ["K1", "K2", "K3"],
            "name": "k",
            "source": "user",
            "lon": 117.6,
            "lat": 26.2,
        }
    )
    sites = pd.DataFrame(columns=["site_id", "kind", "level", "status", "lon", "lat"])
    req = SuggestRequest("service_center", "township", 10.0, count=2)
    res = suggest(req, sites, demand, cands, cost_matrix=paths["matrix"])
    curve = res.curve.copy()
    curve.loc[1, "gap"] = np.nan
    curve.loc[1, "status"] = "feasible"
    doc = dataclasses.replace(res, curve=curve).solution_json()
    text = json.dumps(doc, allow_nan=False)
    assert json.loads(text)["curve"][1]["gap"] is None


def test_a_solver_stopped_early_still_reports_a_bound_and_gap() -> None:
    import scipy.sparse as sp

    from planning.locate.models import Instance, solve_mclp, solve_pmedian

    rng = np.random.default_rng(3)
    n_i, n_j = 3000, 400
    rows = np.repeat(np.arange(n_i), 25)
    cols = rng.integers(0, n_j, len(rows))
    minutes = sp.csr_matrix((rng.uniform(0, 30, len(rows)), (rows, cols)), shape=(n_i, n_j))
    minutes.sum_duplicates()
    inst = Instance(minutes, rng.uniform(1, 100, n_i), n_j)
    for sol in (
        solve_mclp(inst, 10.0, p=15, time_limit=1e-3),
        solve_pmedian(inst, p=15, penalty_minutes=60.0, time_limit=1e-3),
    ):
        assert sol.status in ("optimal", "feasible")
        assert sol.bound is not None and sol.gap is not None and np.isfinite(sol.gap)
        if sol.method == "mclp":
            assert sol.objective <= sol.bound + 1e-6
        else:
            assert sol.objective >= sol.bound - 1e-6


def test_lscp_to_a_target_share_from_the_command_line(tmp_path: Path) -> None:
    """Weights 10..60 (total 210); K3 covers 110, K2 70, K1 30 (+60 at 12 min: beyond 10)."""
    paths = small_matrix_case(tmp_path)
    proc = matrix_run(paths, tmp_path / "a", "--method", "lscp", "--target-share", "0.5")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "a/solution.json").read_text(encoding="utf-8"))
    assert doc["selected"] == ["K3"] and doc["covered_share_after"] >= 0.5  # 110/210
    proc = matrix_run(paths, tmp_path / "b", "--method", "lscp", "--target-share", "0.8")
    doc = json.loads((tmp_path / "b/solution.json").read_text(encoding="utf-8"))
    assert sorted(doc["selected"]) == ["K2", "K3"]  # 180/210 >= 168; K3 + K1 gives only 140
    proc = matrix_run(paths, tmp_path / "c", "--count", "1", "--target-share", "0.6")
    assert proc.returncode == 2 and "LSCP" in proc.stderr


def test_gaps_closed_use_the_ids_of_the_coverage_analysis(tmp_path: Path) -> None:
    common = ["--sites", str(SITES), "--demand", str(DEMAND), "--crs", "wgs84"]
    assert run("analyze", *common, "--out", str(tmp_path / "a")).returncode == 0
    gaps = json.loads((tmp_path / "a/gaps.geojson").read_text(encoding="utf-8"))["features"]
    ids = {
        g["properties"]["gap_id"]
        for g in gaps
        if (g["properties"]["kind"], g["properties"]["level"]) == ("service_center", "township")
    }
    proc = run(
        "suggest",
        *common,
        "--kind",
        "service_center",
        "--level",
        "township",
        "--count",
        "3",
        "--no-curve",
        "--out",
        str(tmp_path / "s"),
    )
    assert proc.returncode == 0, proc.stderr
    rows = pd.read_csv(tmp_path / "s/suggestions.csv", encoding="utf-8-sig")
    closed = {g for cell in rows["gaps_closed"].dropna() for g in str(cell).split(",") if g}
    assert closed and closed <= ids


def test_capacitated_model_states_coverage_as_the_coverage_page_and_its_own_objective(
    tmp_path: Path,
) -> None:
    """Issue 13: it said 1.6 % -> 1.8 % for a standard shown as 67 % elsewhere, with no curve."""
    common = ("--sites", str(SITES), "--demand", str(DEMAND), "--crs", "wgs84")
    proc = run("analyze", *common, "--out", str(tmp_path / "a"))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "a/summary.json").read_text(encoding="utf-8"))
    (page_share,) = [
        s["covered_share"]
        for s in summary["standards"]
        if (s["kind"], s["level"]) == ("service_center", "township")
    ]
    proc = run(
        "suggest", *common, "--kind", "service_center", "--level", "township",
        "--method", "cmclp", "--count", "3", "--out", str(tmp_path / "s"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "s/solution.json").read_text(encoding="utf-8"))
    assert doc["covered_share_before"] == pytest.approx(page_share)
    # its own objective: weight served within capacities (the demo's capacities are small)
    assert doc["objective"] == doc["served_weight_after"]
    assert doc["served_share_before"] < doc["covered_share_before"]
    assert doc["served_share_after"] > doc["served_share_before"]
    assert "served within capacities" in proc.stdout and "覆盖率按标准时间内可达计" in proc.stdout
    # the curve is drawn: one optimum of the capacitated model per p, both measures
    assert [c["p"] for c in doc["curve"]] == [0, 1, 2, 3]
    served = [c["served_share"] for c in doc["curve"]]
    assert served == sorted(served) and served[-1] == pytest.approx(doc["served_share_after"])
    assert doc["curve"][0]["covered_share"] == pytest.approx(page_share)
    rows = pd.read_csv(tmp_path / "s/suggestions.csv", encoding="utf-8-sig")
    # build order by the weight each new site serves; the sum is the objective's gain
    assert rows["served_weight"].is_monotonic_decreasing
    assert rows["served_weight"].sum() == pytest.approx(
        doc["served_weight_after"] - doc["served_weight_before"]
    )
