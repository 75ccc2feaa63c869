"""Project files: round trips, crash-safe saves, stale writes refused, scenarios."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.project import (
    ProjectError,
    ProjectLockedError,
    StaleProjectError,
    new_project,
    open_project,
    save_project,
)
from planning.coverage.analysis import run_analysis, summary
from planning.coverage.standards import load_standards
from planning.demo import load_demo
from planning.scenario import (
    Change,
    add_changes,
    apply_changes,
    project_standards,
    scenario_changes,
    standards_frame,
)

ROOT = Path(__file__).resolve().parent.parent


def small_project() -> gpd.GeoDataFrame:
    sites = gpd.GeoDataFrame(
        {
            "site_id": ["007", "0100", "S3"],
            "name": ["三明市职工服务中心", None, '=HYPERLINK("x")'],
            "kind": ["service_center", "reading_room", "service_center"],
            "level": ["city", "community", "township"],
            "county": ["三元区", None, "沙县区"],
            "township": ["列东街道", "", None],
            "status": ["existing", "planned", "closed"],
            "capacity": [5000.0, None, 800.0],
            "lon": [117.61, 117.62, 117.78],
            "lat": [26.25, 26.26, 26.39],
            "grade": [None, "national", None],
            "备注": ["含，逗号", None, "行\n换行"],
        },
        geometry=gpd.points_from_xy([117.61, 117.62, 117.78], [26.25, 26.26, 26.39]),
        crs=4326,
    )
    demand = gpd.GeoDataFrame(
        {
            "demand_id": ["D001", "D002"],
            "name": ["列东", "沙溪"],
            "weight": [100.0, 0.0],
            "county": ["三元区", "三元区"],
            "township": ["列东街道", "沙溪镇"],
            "lon": [117.6, 117.5],
            "lat": [26.2, 26.1],
        },
        geometry=gpd.points_from_xy([117.6, 117.5], [26.2, 26.1]),
        crs=4326,
    )
    return new_project(sites, demand, standards_frame(load_standards()))


def test_round_trip_keeps_every_column_and_value(tmp_path: Path) -> None:
    project = small_project()
    path = tmp_path / "plan.gpkg"
    saved = save_project(project, path)
    assert saved.version == 1
    back = open_project(path)
    for name in ("sites", "demand"):
        a = pd.DataFrame(getattr(project, name).drop(columns="geometry"))
        b = pd.DataFrame(getattr(back, name).drop(columns="geometry"))
        assert list(b.columns) == list(a.columns)
        for col in a.columns:
            left = [None if pd.isna(v) else v for v in a[col]]
            right = [None if pd.isna(v) else v for v in b[col]]
            if col in ("township",):  # an empty string is stored as text, not NULL
                right = [r if r is not None else None for r in right]
            assert left == right, col
    assert back.sites["site_id"].tolist() == ["007", "0100", "S3"]
    assert project_standards(back) == load_standards()
    assert back.metadata["schema_version"] == "1"


def test_new_file_never_overwrites_without_asking(tmp_path: Path) -> None:
    path = tmp_path / "plan.gpkg"
    save_project(small_project(), path)
    with pytest.raises(ProjectError, match="exists"):
        save_project(small_project(), path)
    assert save_project(small_project(), path, overwrite=True).version == 2


def test_stale_write_is_refused_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "plan.gpkg"
    save_project(small_project(), path)
    tab_a, tab_b = open_project(path), open_project(path)
    a = add_changes(tab_a, "A", [Change("close_site", {"site_id": "007"})])
    save_project(a, path, expected_version=tab_a.version)
    b = add_changes(tab_b, "B", [Change("close_site", {"site_id": "S3"})])
    with pytest.raises(StaleProjectError) as err:
        save_project(b, path, expected_version=tab_b.version)
    assert "version 2" in err.value.en and "plan.gpkg" in err.value.message
    now = open_project(path)
    assert now.version == 2 and list(now.scenarios["scenario"]) == ["A"]


def test_locked_file_is_reported_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "plan.gpkg"
    first = save_project(small_project(), path)
    journal = Path(str(path) + "-journal")
    journal.write_bytes(b"")
    with pytest.raises(ProjectLockedError, match="in use"):
        save_project(first, path, expected_version=first.version)
    journal.unlink()
    assert open_project(path).version == 1


def test_schema_newer_refused_older_migrated(tmp_path: Path) -> None:
    import pyogrio

    path = tmp_path / "plan.gpkg"
    save_project(small_project(), path)
    meta = pyogrio.read_dataframe(path, layer="metadata")
    for version, expect in (("99", "newer"), ("0", None)):
        meta.loc[meta["key"] == "schema_version", "value"] = version
        pyogrio.write_dataframe(meta, path, layer="metadata", driver="GPKG")
        if expect:
            with pytest.raises(ProjectError, match=expect):
                open_project(path)
        else:
            opened = open_project(path)
            assert (
                opened.metadata["schema_version"] == "1" and opened.metadata["migrated_from"] == "0"
            )


WRITER = """
import sys, time
import geopandas as gpd, numpy as np
from geo.project import open_project, save_project
path = sys.argv[1]
project = open_project(path)
n = 150_000
big = gpd.GeoDataFrame({"demand_id": [f"X{i}" for i in range(n)], "weight": np.ones(n),
                        "lon": np.full(n, 117.5), "lat": np.full(n, 26.1)},
                       geometry=gpd.points_from_xy(np.full(n, 117.5), np.full(n, 26.1)), crs=4326)
from dataclasses import replace
project = replace(project, demand=big)
print("saving", flush=True)
save_project(project, path, expected_version=project.version)
print("saved", flush=True)
"""


@pytest.mark.parametrize("delay", [0.2, 0.6, 1.2])
def test_killed_mid_save_leaves_the_previous_file(tmp_path: Path, delay: float) -> None:
    path = tmp_path / "plan.gpkg"
    save_project(small_project(), path)
    before = path.read_bytes()
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "saving"
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = path.read_bytes() != before
    reopened = open_project(path)  # always opens: the old file, or the complete new one
    if not finished:
        assert len(reopened.demand) == 2 and reopened.version == 1
    else:
        assert len(reopened.demand) == 150_000 and reopened.version == 2
    leftovers = [p for p in tmp_path.iterdir() if p.name != "plan.gpkg"]
    assert all(p.name.startswith(".plan.gpkg.") for p in leftovers)  # only a stray temp file


def test_scenario_equals_the_same_changes_made_by_hand(tmp_path: Path) -> None:
    demo = load_demo()
    standards = load_standards()
    changes = [
        Change(
            "add_site",
            {
                "site_id": "NEW1",
                "name": "新站",
                "kind": "service_center",
                "level": "township",
                "lon": 117.9,
                "lat": 25.55,
                "county": "大田县",
                "township": "吴山镇",
            },
        ),
        Change("close_site", {"site_id": "S0014"}),
        Change("move_site", {"site_id": "S0015", "lon": 117.35, "lat": 26.33}),
        Change("set_standard", {"kind": "service_center", "level": "township", "max_minutes": 20}),
    ]
    project = add_changes(
        new_project(demo.sites, demo.demand, standards_frame(standards)), "A", changes
    )
    path = tmp_path / "p.gpkg"
    save_project(project, path)
    opened = open_project(path)
    sites_s, std_s = apply_changes(
        opened.sites, project_standards(opened), scenario_changes(opened, "A")
    )
    by_hand = demo.sites.copy()
    by_hand = pd.concat(
        [
            by_hand,
            gpd.GeoDataFrame(
                [{**changes[0].payload, "status": "planned"}],
                geometry=gpd.points_from_xy([117.9], [25.55]),
                crs=4326,
            ),
        ],
        ignore_index=True,
    )
    by_hand.loc[by_hand["site_id"] == "S0014", "status"] = "closed"
    by_hand.loc[by_hand["site_id"] == "S0015", ["lon", "lat"]] = [117.35, 26.33]
    std_h = tuple(
        s
        if (s.kind, s.level) != ("service_center", "township")
        else type(s)(**{**s.as_dict(), "max_minutes": 20.0})
        for s in standards
    )
    by_hand = gpd.GeoDataFrame(
        by_hand, geometry=gpd.points_from_xy(by_hand["lon"], by_hand["lat"]), crs=4326
    )
    a = summary(run_analysis(sites_s, opened.demand, std_s))["standards"]
    b = summary(run_analysis(by_hand, demo.demand, std_h))["standards"]
    assert [(r["kind"], r["level"], r["max_minutes"]) for r in a] == [
        (r["kind"], r["level"], r["max_minutes"]) for r in b
    ]
    np.testing.assert_allclose(
        [r["covered_weight"] for r in a], [r["covered_weight"] for r in b], rtol=1e-12
    )


def test_cli_project_new_info_scenario_export_and_analyze(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "planning.cli", *args], capture_output=True, text=True, cwd=ROOT
        )

    path = tmp_path / "plan.gpkg"
    ok = run(
        "project",
        "new",
        str(path),
        "--sites",
        str(ROOT / "data/sanming/sites.csv"),
        "--demand",
        str(ROOT / "data/sanming/demand.csv"),
        "--crs",
        "wgs84",
    )
    assert ok.returncode == 0, ok.stderr
    assert (
        run(
            "project",
            "new",
            str(path),
            "--sites",
            str(ROOT / "data/sanming/sites.csv"),
            "--demand",
            str(ROOT / "data/sanming/demand.csv"),
        ).returncode
        == 2
    )
    changes = tmp_path / "c.json"
    changes.write_text(json.dumps([{"op": "close_site", "site_id": "S0002"}]), encoding="utf-8")
    assert (
        run("project", "scenario", str(path), "--name", "A", "--changes", str(changes)).returncode
        == 0
    )
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"op": "close_site", "site_id": "NOPE"}]), encoding="utf-8")
    proc = run("project", "scenario", str(path), "--name", "A", "--changes", str(bad))
    assert proc.returncode == 2 and "NOPE" in proc.stderr
    info = json.loads(run("project", "info", str(path)).stdout)
    assert info["layers"]["sites"] == 293 and info["scenarios"] == ["A"] and info["version"] == 2
    assert run("project", "export", str(path), "--out", str(tmp_path / "x")).returncode == 0
    assert (tmp_path / "x/sites.gpkg").exists() and (tmp_path / "x/changes.csv").exists()
    out = run("analyze", "--project", str(path), "--scenario", "A", "--out", str(tmp_path / "a"))
    assert out.returncode == 0, out.stderr
    doc = json.loads((tmp_path / "a/summary.json").read_text(encoding="utf-8"))
    assert doc["inputs"]["project"]["scenario"] == "A"
    county = next(r for r in doc["standards"] if r["level"] == "county")
    assert county["sites_counted"] == 11  # S0002 (a county centre) closed in the scenario
    assert (
        run(
            "analyze", "--project", str(path), "--scenario", "Z", "--out", str(tmp_path / "z")
        ).returncode
        == 2
    )


def test_report_exports_the_comparison(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "planning.cli", *args], capture_output=True, text=True, cwd=ROOT
        )

    path = tmp_path / "plan.gpkg"
    assert (
        run(
            "project",
            "new",
            str(path),
            "--sites",
            str(ROOT / "data/sanming/sites.csv"),
            "--demand",
            str(ROOT / "data/sanming/demand.csv"),
            "--crs",
            "wgs84",
        ).returncode
        == 0
    )
    changes = tmp_path / "c.json"
    changes.write_text(
        json.dumps(
            [
                {
                    "op": "add_site",
                    "site_id": "P1",
                    "name": "吴山镇规划站",
                    "kind": "service_center",
                    "level": "township",
                    "lon": 117.898,
                    "lat": 25.537,
                },
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    assert (
        run("project", "scenario", str(path), "--name", "A", "--changes", str(changes)).returncode
        == 0
    )
    for suffix in ("html", "xlsx"):
        out = tmp_path / f"r.{suffix}"
        proc = run("report", "--project", str(path), "--compare-scenario", "A", "--out", str(out))
        assert proc.returncode == 0, proc.stderr
    doc = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "附：方案对比" in doc and "吴山镇规划站" in doc
    import openpyxl

    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["方案对比"]
    township = [row for row in sheet.iter_rows(values_only=True) if row[2] == "乡镇（街道）级"]
    assert township and township[0][5] > 0  # the new station raises township coverage


def test_plans_are_compared_on_one_network() -> None:
    """On the proxy network a scenario's new sites must not move anyone else's times.

    A reading room added in a remote spot changes only the reading-room
    standards; every other standard keeps exactly the base coverage. With one
    proxy network per plan (the old behaviour) the new point re-triangulates
    the graph and other standards' times drift.
    """
    from planning.scenario import compare_plans

    demo = load_demo()
    standards = load_standards()
    remote = {"lon": 117.05, "lat": 26.55}  # between townships, far from any existing site
    new = gpd.GeoDataFrame(
        [
            {
                "site_id": "RR-NEW",
                "name": "新书屋",
                "kind": "reading_room",
                "level": "community",
                "status": "planned",
                **remote,
            }
        ],
        geometry=gpd.points_from_xy([remote["lon"]], [remote["lat"]]),
        crs=4326,
    )
    scen = gpd.GeoDataFrame(pd.concat([demo.sites, new], ignore_index=True), crs=4326)
    base_an, scen_an, cmp = compare_plans(demo.sites, scen, demo.demand, standards, standards)
    assert list(cmp.sites_added["site_id"]) == ["RR-NEW"]
    a, b = base_an.coverage.points, scen_an.coverage.points
    others = ~((a["kind"] == "reading_room") & (a["level"] == "community"))
    assert others.sum() > 0
    np.testing.assert_array_equal(
        a.loc[others, "minutes"].to_numpy(), b.loc[others, "minutes"].to_numpy()
    )
    # and the new reading room covers someone it could reach
    rr = (b["kind"] == "reading_room") & (b["level"] == "community")
    assert b.loc[rr, "covered"].sum() >= a.loc[rr, "covered"].sum()


def test_changes_keep_their_order_across_reopening(tmp_path: Path) -> None:
    """Edits after reopening a file worked only within one session (seq came back as text)."""
    path = tmp_path / "p.gpkg"
    project = small_project()
    save_project(project, path)
    for step in range(3):
        project = open_project(path)
        if step == 0:
            project = add_changes(project, "A", [Change("close_site", {"site_id": "007"})])
        else:
            change = Change("set_capacity", {"site_id": "S3", "capacity": 100 + step})
            project = add_changes(project, "A", [change])
        save_project(project, path, expected_version=project.version)
    changes = scenario_changes(open_project(path), "A")
    assert [c.op for c in changes] == ["close_site", "set_capacity", "set_capacity"]
    assert [c.payload.get("capacity") for c in changes[1:]] == [101, 102]
    assert pd.api.types.is_integer_dtype(open_project(path).changes["seq"])


# ---------------------------------------------------------------- saves that cannot race


def _cli_worker(barrier, rounds: list[list[str]], report: str) -> None:  # type: ignore[no-untyped-def]
    """A real process running one command line per round, each started together with the
    other worker's (a barrier per round); exit codes and messages go to ``report``."""
    import contextlib
    import io
    import traceback

    results: list[object] = []
    try:
        from planning.cli import main

        for argv in rounds:
            barrier.wait(timeout=600)  # a loaded machine can start one worker late
            buf = io.StringIO()
            with contextlib.redirect_stderr(buf), contextlib.redirect_stdout(io.StringIO()):
                code = main(argv)
            results.append((code, buf.getvalue()))
    except BaseException:
        # say why in the report: the test shows it instead of a bare exit code
        results.append(("worker failed", traceback.format_exc()))
        Path(report).write_text(json.dumps(results, ensure_ascii=False), encoding="utf-8")
        raise
    Path(report).write_text(json.dumps(results, ensure_ascii=False), encoding="utf-8")


def _race(tmp_path: Path, rounds: list[list[list[str]]]) -> list[list[tuple[int, str]]]:
    """Run ``rounds[i][w]`` in worker process ``w``, round by round, the workers released
    together each round; the (exit code, stderr) of each, round by round.

    Two processes started once (spawned: nothing inherited from the test process), so
    that each round is a race of two real processes and not of their start-up.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    workers = len(rounds[0])
    barrier = ctx.Barrier(workers)
    reports = [tmp_path / f"worker{w}.json" for w in range(workers)]
    procs = [
        ctx.Process(target=_cli_worker, args=(barrier, [r[w] for r in rounds], str(reports[w])))
        for w in range(workers)
    ]
    # spawn re-runs the parent's __main__ file in each child; an earlier test in this
    # process (Streamlit's AppTest) may have left it pointing at a temporary script,
    # so the children start without one (the worker is found by its module)
    main = sys.modules["__main__"]
    main_file = main.__dict__.pop("__file__", None)
    try:
        for proc in procs:
            proc.start()
    finally:
        if main_file is not None:
            main.__file__ = main_file
    for proc in procs:
        proc.join(600)
    codes = [proc.exitcode for proc in procs]
    if codes != [0] * workers:
        why = [r.read_text(encoding="utf-8") if r.exists() else "(no report)" for r in reports]
        pytest.fail(f"race workers exited {codes}: {why}")
    results = [json.loads(r.read_text(encoding="utf-8")) for r in reports]
    return [[tuple(results[w][i]) for w in range(workers)] for i in range(len(rounds))]


def test_two_scenario_saves_at_once_one_wins_one_is_refused(tmp_path: Path) -> None:
    """Issue 11 item 4: two `project scenario` runs on one file at once both exited 0 and
    one change was lost (8 of 10 tries). Now exactly one is written, the other is told to
    reload, and the version goes up once; 20 rounds of real processes."""
    base = tmp_path / "base.gpkg"
    save_project(small_project(), base)
    changes = {}
    for name, site in (("A", "007"), ("B", "S3")):
        changes[name] = tmp_path / f"{name}.json"
        changes[name].write_text(
            json.dumps([{"op": "close_site", "site_id": site}]), encoding="utf-8"
        )
    paths = [tmp_path / f"plan{r}.gpkg" for r in range(20)]
    for path in paths:
        path.write_bytes(base.read_bytes())
    results = _race(
        tmp_path,
        [
            [
                ["project", "scenario", str(path), "--name", n, "--changes", str(changes[n])]
                for n in "AB"
            ]
            for path in paths
        ],
    )
    winners = []
    expected = {"A": ("close_site", {"site_id": "007"}), "B": ("close_site", {"site_id": "S3"})}
    for round_, (path, result) in enumerate(zip(paths, results, strict=True)):
        codes = [code for code, _ in result]
        now = open_project(path)
        if codes == [0, 0]:
            # the two did not overlap (a loaded machine can start one late): the second
            # read the first's save, so both changes are kept, none lost
            winners.append("=")
            assert now.version == 3, (round_, result)
            assert sorted(now.scenarios["scenario"]) == ["A", "B"]
            for n in "AB":
                assert [(c.op, c.payload) for c in scenario_changes(now, n)] == [expected[n]]
            continue
        assert sorted(codes) == [0, 2], (round_, result)
        winner = "AB"[codes.index(0)]
        winners.append(winner)
        refusal = result[codes.index(2)][1]
        assert "重新载入" in refusal and "reload" in refusal and "Traceback" not in refusal
        assert now.version == 2  # raised exactly once
        assert list(now.scenarios["scenario"]) == [winner]
        assert [(c.op, c.payload) for c in scenario_changes(now, winner)] == [expected[winner]]
    # the test proves something only if saves really met: most rounds do
    assert sum(w != "=" for w in winners) >= 5, winners
    assert not [p for p in tmp_path.iterdir() if ".servicenet-" in p.name]
    print("winners:", "".join(winners))


def test_two_new_projects_at_once_never_both_written(tmp_path: Path) -> None:
    """`project new` without --force: of two at once on one name, one is refused."""
    sites, demand = ROOT / "data/sanming/sites.csv", ROOT / "data/sanming/demand.csv"
    paths = [tmp_path / f"p{r}.gpkg" for r in range(4)]
    new = ["project", "new", "{}", "--sites", str(sites), "--demand", str(demand)]
    results = _race(tmp_path, [[[a.format(path) for a in new] for _ in range(2)] for path in paths])
    for path, result in zip(paths, results, strict=True):
        codes = [code for code, _ in result]
        assert sorted(codes) == [0, 2], result
        assert "exists" in result[codes.index(2)][1]
        assert open_project(path).version == 1


HOLDER = """
import sys, time
from geo.filelock import exclusive
with exclusive(sys.argv[1], 5):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_a_save_waits_for_the_lock_no_longer_than_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lock held too long gives a clear refusal instead of hanging; the file is kept."""
    import geo.project

    path = tmp_path / "plan.gpkg"
    first = save_project(small_project(), path)
    before = path.read_bytes()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), "30"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(geo.project, "LOCK_TIMEOUT_S", 0.5)
        start = time.monotonic()
        with pytest.raises(ProjectLockedError) as err:
            save_project(first, path, expected_version=first.version)
        assert time.monotonic() - start < 5
        assert "0.5" in err.value.en and "另一个保存" in err.value.zh
        assert path.read_bytes() == before
        holder.kill()  # a holder killed with the lock held does not block the next save
        holder.wait()
        assert save_project(first, path, expected_version=first.version).version == 2
    finally:
        holder.kill()
        holder.wait()
    assert not (tmp_path / ".plan.gpkg.servicenet.lock").exists()


def test_disk_full_during_project_scenario_is_a_message_and_keeps_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 11 item 7: ENOSPC from the writer was a traceback (GDAL's own report of it
    still is on the old code); now exit 2, a bilingual message, the file untouched."""
    import errno

    import pyogrio

    from planning.cli import main

    path = tmp_path / "plan.gpkg"
    save_project(small_project(), path)
    before = path.read_bytes()
    changes = tmp_path / "c.json"
    changes.write_text(json.dumps([{"op": "close_site", "site_id": "007"}]), encoding="utf-8")
    real = pyogrio.write_dataframe

    def full(df, target, *args, layer=None, **kwargs):  # type: ignore[no-untyped-def]
        if layer == "changes":  # half-way through the file
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        return real(df, target, *args, layer=layer, **kwargs)

    monkeypatch.setattr(pyogrio, "write_dataframe", full)
    code = main(["project", "scenario", str(path), "--name", "A", "--changes", str(changes)])
    err = capsys.readouterr().err
    assert code == 2
    assert "磁盘已满" in err and "disk is full" in err and "unchanged" in err
    assert str(path) in err and "Traceback" not in err
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json", "plan.gpkg"]


FULL_DISK = """
import resource, signal, sys
from planning.cli import main
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))
raise SystemExit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="file size limits are POSIX")
def test_a_real_failed_write_during_project_scenario_is_a_message(tmp_path: Path) -> None:
    """GDAL reports a write it cannot finish as its own error, not OSError: the same
    message, exit 2, the project kept."""
    path = tmp_path / "plan.gpkg"
    save_project(small_project(), path)
    before = path.read_bytes()
    assert len(before) > 40_000  # the new file cannot be written in full
    changes = tmp_path / "c.json"
    changes.write_text(json.dumps([{"op": "close_site", "site_id": "007"}]), encoding="utf-8")
    argv = ["project", "scenario", str(path), "--name", "A", "--changes", str(changes)]
    proc = subprocess.run(
        [sys.executable, "-c", FULL_DISK, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2, proc.stderr
    assert "无法写入项目文件" in proc.stderr and "unchanged" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json", "plan.gpkg"]


def test_the_temporary_file_of_a_killed_save_is_removed_by_the_next_save(
    tmp_path: Path,
) -> None:
    """Issue 11 item 9: a save killed half-way left its temporary file forever."""
    path = tmp_path / "plan.gpkg"
    save_project(small_project(), path)
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "saving"
    deadline = time.monotonic() + 60
    while not [p for p in tmp_path.iterdir() if p.suffix == ".gpkg" and p != path]:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.01)
    time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    left = [p.name for p in tmp_path.iterdir() if p != path and "lock" not in p.name]
    assert left, "the kill came too late to leave a temporary file"
    project = open_project(path)
    save_project(project, path, expected_version=project.version)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.gpkg"]


def test_the_windows_lock_path_serialises_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without fcntl the lock is msvcrt.locking on the sidecar (left in place, as Windows
    cannot remove an open file); here a stand-in msvcrt with the same contract."""
    import fcntl
    import types

    import geo.filelock as fl

    def locking(fd: int, mode: int, nbytes: int) -> None:
        assert nbytes == 1 and os.lseek(fd, 0, os.SEEK_CUR) == 0
        try:
            fcntl.flock(fd, fcntl.LOCK_UN if mode == 0 else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PermissionError(13, "Permission denied") from None

    fake = types.SimpleNamespace(LK_UNLCK=0, LK_NBLCK=2, locking=locking)
    monkeypatch.setitem(sys.modules, "fcntl", None)  # import fcntl -> ImportError
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    monkeypatch.setattr(fl, "_UNLINK", False)
    target = tmp_path / "plan.gpkg"
    with fl.exclusive(target, 1), pytest.raises(fl.LockTimeout), fl.exclusive(target, 0.2):
        pass
    with fl.exclusive(target, 0.2):  # released
        pass
    assert fl.lock_path(target).exists()


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("kind", "service_centre", ("未知的站点类型 service_centre", "unknown site kind")),
        ("kind", "<b>x</b>", ("未知的站点类型 <b>x</b>", "unknown site kind")),
        ("level", "galaxy", ("未知的级别 galaxy", "unknown level 'galaxy'")),
    ],
)
def test_an_added_site_of_an_unknown_kind_or_level_is_refused(
    field: str, value: str, words: tuple[str, str]
) -> None:
    """Probe: ``"kind": "service_centre"`` (a typo) was stored with exit 0, and every later
    analysis of the scenario counted the site nowhere without a word."""
    from geo.errors import InputError
    from planning.scenario import apply_changes

    demo = load_demo()
    payload = {"site_id": "NEW1", "kind": "service_center", "level": "township"}
    payload |= {field: value, "lon": 117.9, "lat": 25.55}
    close = Change("close_site", {"site_id": "S0014"})
    with pytest.raises(InputError) as info:
        apply_changes(demo.sites, load_standards(), [close, Change("add_site", payload)])
    assert all(w in f"{info.value.zh} {info.value.en}" for w in words), info.value
    assert info.value.row == 2 and info.value.column == field


def test_an_added_site_may_name_its_kind_and_level_in_chinese() -> None:
    from planning.scenario import apply_changes

    demo = load_demo()
    payload = {
        "site_id": "NEW1",
        "kind": "职工服务中心",
        "level": "乡镇级",
        "lon": 117.9,
        "lat": 25.5,
    }
    sites, _ = apply_changes(demo.sites, load_standards(), [Change("add_site", payload)])
    added = sites[sites["site_id"] == "NEW1"].iloc[0]
    assert (added["kind"], added["level"]) == ("service_center", "township")


def test_gaps_closed_and_opened_equal_the_rule_point_by_point() -> None:
    """The vectorised comparison of gaps equals the rule it implements, checked
    with Python sets: a gap of A is closed when none of its points is uncovered
    in B under the same standard (and the other way round for opened gaps)."""
    from planning.scenario import compare_plans

    demo = load_demo()
    standards = load_standards()
    rng = np.random.default_rng(3)
    closed = demo.sites.copy()
    closed.loc[rng.choice(closed.index, 40, replace=False), "status"] = "closed"
    new = demo.demand.sample(25, random_state=4)
    added = gpd.GeoDataFrame(
        {
            "site_id": [f"N{i}" for i in range(len(new))],
            "name": "新站",
            "kind": rng.choice(demo.sites["kind"].unique(), len(new)),
            "level": rng.choice(demo.sites["level"].unique(), len(new)),
            "status": "planned",
            "lon": new["lon"].to_numpy() + 0.01,
            "lat": new["lat"].to_numpy(),
        },
        geometry=gpd.points_from_xy(new["lon"] + 0.01, new["lat"]),
        crs=4326,
    )
    scen = gpd.GeoDataFrame(pd.concat([closed, added], ignore_index=True), crs=4326)
    a, b, cmp = compare_plans(demo.sites, scen, demo.demand, standards, standards)

    def uncovered(an) -> set:
        p = an.coverage.points[~an.coverage.points["covered"]]
        return set(zip(p["kind"], p["level"], p["demand_id"].astype(str), strict=True))

    def without(gaps, still: set) -> list[str]:
        return [
            g
            for g, k, lv, ids in zip(
                gaps["gap_id"], gaps["kind"], gaps["level"], gaps["demand_ids"], strict=True
            )
            if not any((k, lv, d) in still for d in str(ids).split(","))
        ]

    want_closed, want_opened = without(a.gaps, uncovered(b)), without(b.gaps, uncovered(a))
    assert want_closed and want_opened  # the case tests something both ways
    assert list(cmp.gaps_closed["gap_id"]) == want_closed
    assert list(cmp.gaps_opened["gap_id"]) == want_opened
