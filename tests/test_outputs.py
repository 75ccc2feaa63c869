"""Output folders replaced as a whole; what a killed run leaves behind is cleaned up.

Issue 11 items 8 and 9: ``analyze``/``suggest`` moved their files into
``--out`` one by one, so a kill between two moves left new and old files
mixed; temporary files of a killed run were never removed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from planning.coverage.analysis import run_analysis, write_analysis
from planning.coverage.standards import load_standards
from planning.demo import load_demo

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "data/sanming/sites.csv"
DEMAND = ROOT / "data/sanming/demand.csv"
NAMES = ("summary.json", "coverage.csv", "gaps.geojson", "by_area.csv", "access.csv")
DEMO_TABLES = ("demand.csv", "demand.geojson", "sites.csv", "sites.geojson", "summary.json")
POSIX = pytest.mark.skipif(sys.platform == "win32", reason="fork and SIGKILL are POSIX")


def run(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planning.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        **kwargs,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    """Each entry's bytes (a sub-folder: its own snapshot, flattened as text)."""
    if not folder.is_dir():
        return {}
    return {
        p.name: str(sorted(snapshot(p).items())).encode() if p.is_dir() else p.read_bytes()
        for p in folder.iterdir()
    }


def which(folder: Path, refs: dict[str, dict[str, bytes]]) -> str:
    """The run whose complete set of files ``folder`` holds, or what is wrong with it."""
    if not folder.exists():
        return "missing"
    got = snapshot(folder)
    for label, ref in refs.items():
        if got == ref:
            return label
    origin = {
        name: next((label for label, ref in refs.items() if ref.get(name) == data), "?")
        for name, data in got.items()
    }
    return f"mixed {origin}"


def siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name != folder.name)


@pytest.fixture(scope="module")
def analyses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two analyses whose five outputs all differ, and their reference bytes."""
    demo = load_demo()
    standards = load_standards()
    runs = {
        "A": run_analysis(demo.sites, demo.demand, standards),
        "B": run_analysis(demo.sites.iloc[: len(demo.sites) // 2], demo.demand, standards),
    }
    refs = {}
    for label, analysis in runs.items():
        folder = tmp_path_factory.mktemp(f"ref{label}")
        write_analysis(analysis, folder / "out")
        refs[label] = snapshot(folder / "out")
    assert all(refs["A"][n] != refs["B"][n] for n in NAMES)
    return {"runs": runs, "refs": refs}


def test_the_folder_is_replaced_as_a_whole(tmp_path: Path) -> None:
    from geo.export import staged_folder

    out = tmp_path / "out"
    with staged_folder(out, ("a.txt", "b.txt")) as stage:
        (stage / "a.txt").write_text("1", encoding="utf-8")
        (stage / "b.txt").write_text("1", encoding="utf-8")
    os.chmod(out, 0o750)
    with staged_folder(out, ("a.txt", "b.txt")) as stage:
        (stage / "a.txt").write_text("2", encoding="utf-8")
    assert snapshot(out) == {"a.txt": b"2"}  # b.txt was the earlier run's
    assert out.stat().st_mode & 0o777 == 0o750  # the folder keeps its permissions
    assert siblings(out) == []


def test_a_folder_with_other_files_is_refused_not_deleted(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "我的笔记.docx").write_bytes(b"mine")
    (out / ".DS_Store").write_bytes(b"")  # what a file browser adds does not count
    proc = run("analyze", "--sites", str(SITES), "--demand", str(DEMAND), "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    assert "我的笔记.docx" in proc.stderr and "move them away" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (out / "我的笔记.docx").read_bytes() == b"mine"
    assert siblings(out) == []


def _die_at(step: int, exchange: bool) -> None:
    """In a child process: make the ``step``-th rename or removal kill the process first."""
    from geo import export, scratch

    count = [0]

    def deadly(fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            count[0] += 1
            if count[0] == step:
                os._exit(137)  # as abrupt as SIGKILL: no cleanup, no finally
            return fn(*args, **kwargs)

        return wrapper

    os.replace = deadly(os.replace)  # type: ignore[assignment]
    if hasattr(export, "_exchange"):
        export._exchange = deadly(export._exchange if exchange else lambda a, b: False)
    if hasattr(scratch, "remove"):
        scratch.remove = deadly(scratch.remove)


@POSIX
@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_a_kill_at_any_step_leaves_one_complete_set(
    tmp_path: Path, analyses: dict[str, Any], exchange: bool
) -> None:
    """Kill the writer before each rename and removal of a run in turn.

    With an atomic exchange (Linux) the folder holds one complete set at every
    moment. With two renames (other systems) a kill between them leaves the
    folder aside, complete; the next run puts it back first.
    """
    from geo import export

    refs, runs = analyses["refs"], analyses["runs"]
    out = tmp_path / "out"
    write_analysis(runs["A"], out)
    state, step, outcomes = "A", 1, []
    while True:
        nxt = "B" if state == "A" else "A"
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                _die_at(step, exchange)
                write_analysis(runs[nxt], out)
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        died = os.waitstatus_to_exitcode(status) == 137
        now = which(out, refs)
        if now == "missing" and not exchange:
            export._recover(out)  # what the next run does first
            now = which(out, refs)
            assert now == state, (step, now)
        assert now in ("A", "B"), (step, now)
        outcomes.append(now)
        if not died:
            assert now == nxt
            break
        state, step = now, step + 1
    assert step > 6  # every rename of the staging and of the swap was a point of death
    assert set(outcomes) == {"A", "B"}
    export._recover(out)  # the next run removes what the killed ones left
    assert siblings(out) == []


@POSIX
@pytest.mark.slow
def test_analyze_killed_at_random_moments_leaves_one_complete_set(tmp_path: Path) -> None:
    """Real SIGKILLs of `servicenet analyze`; then a run that finishes leaves no debris."""
    lines = {
        name: src.read_text(encoding="utf-8").splitlines(keepends=True)
        for name, src in (("sites", SITES), ("demand", DEMAND))
    }
    (tmp_path / "demand.csv").write_text("".join(lines["demand"][:60]), encoding="utf-8")
    variants = {}
    for label, rows in (("A", 60), ("B", 20)):  # B: fewer sites, less covered
        (tmp_path / f"sites{label}.csv").write_text("".join(lines["sites"][:rows]), "utf-8")
        variants[label] = ("--sites", str(tmp_path / f"sites{label}.csv"))
    base = ("analyze", "--demand", str(tmp_path / "demand.csv"))
    refs = {}
    took = []
    for label, extra in variants.items():
        start = time.monotonic()
        assert run(*base, *extra, "--out", str(tmp_path / f"ref{label}")).returncode == 0
        took.append(time.monotonic() - start)
        refs[label] = snapshot(tmp_path / f"ref{label}")
    assert all(refs["A"][n] != refs["B"][n] for n in ("summary.json", "coverage.csv"))
    out = tmp_path / "work" / "out"
    assert run(*base, *variants["A"], "--out", str(out)).returncode == 0
    rng = random.Random(11)
    state, seen = "A", []
    for round_ in range(5):
        nxt = "B" if state == "A" else "A"
        proc = subprocess.Popen(
            [sys.executable, "-m", "planning.cli", *base, *variants[nxt], "--out", str(out)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.4, 1.1) * max(took))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = which(out, refs)
        assert now in (state, nxt), (round_, now)
        state = now
        seen.append(now)
    print("after each kill:", "".join(seen), "staging left:", siblings(out))
    assert run(*base, *variants["A"], "--out", str(out)).returncode == 0
    assert which(out, refs) == "A"
    assert siblings(out) == []


@POSIX
def test_a_killed_runs_staging_folder_is_removed_by_the_next_run(tmp_path: Path) -> None:
    """A run killed while it stages its outputs leaves a folder beside --out; the next one
    removes it, but not the staging folder of a run still going."""
    from geo import scratch

    out = tmp_path / "out"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stem = ".out."
    killed = tmp_path / f"{stem}servicenet-{scratch._HOST}-{dead.pid}-x.stage"
    killed.mkdir()
    (killed / "coverage.csv").write_text("half", encoding="utf-8")
    running = tmp_path / f"{scratch.prefix(stem)}y.stage"  # this process: still going
    running.mkdir()
    ancient = tmp_path / f"{stem}servicenet-0000ff-{os.getppid()}-z.stage"  # another machine
    ancient.mkdir()
    os.utime(ancient, (time.time() - 2 * scratch.MAX_AGE_S,) * 2)
    proc = run("analyze", "--sites", str(SITES), "--demand", str(DEMAND), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert siblings(out) == [running.name]


@POSIX
def test_temporary_files_of_a_killed_app_or_command_are_removed(tmp_path: Path) -> None:
    """What servicenet puts in the system temp folder is named servicenet-…; a process
    killed while it is there leaves it, and the next command removes it."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nfrom geo.scratch import temp_dir\n"
            "with temp_dir() as d:\n"
            "    (d / 'report.pdf').write_bytes(b'x' * 1000)\n"
            "    print(d, flush=True)\n"
            "    time.sleep(60)\n",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    left = Path(child.stdout.readline().strip())
    assert left.parent == tmp_path and left.name.startswith("servicenet-")
    child.kill()
    child.wait()
    other = tmp_path / "not-ours"
    other.mkdir()
    assert (left / "report.pdf").exists()
    proc = run("demo", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-ours"]
    json.loads(proc.stdout)


def test_a_failed_export_leaves_the_previous_export_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`project export` wrote its files into --out one by one: a failure before the
    last one left the new tables beside the previous project.json."""
    import geo.export
    from geo.project import open_project, save_project
    from planning.cli import main
    from planning.scenario import Change, add_changes

    plan = tmp_path / "plan.gpkg"
    ok = run("project", "new", str(plan), "--sites", str(SITES), "--demand", str(DEMAND))
    assert ok.returncode == 0, ok.stderr
    out = tmp_path / "x"
    assert main(["project", "export", str(plan), "--out", str(out)]) == 0
    before = snapshot(out)
    project = open_project(plan)
    changed = add_changes(project, "A", [Change("close_site", {"site_id": "S0002"})])
    save_project(changed, plan, expected_version=project.version)

    def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(geo.export, "write_json", fail)  # project.json is written last
    with pytest.raises(RuntimeError):
        main(["project", "export", str(plan), "--out", str(out)])
    assert snapshot(out) == before
    assert not [n for n in siblings(out) if n.startswith(".x.")]
    monkeypatch.undo()
    assert main(["project", "export", str(plan), "--out", str(out)]) == 0
    assert snapshot(out)["changes.csv"] != before["changes.csv"]


def test_demo_out_is_replaced_with_its_analysis_folder(tmp_path: Path) -> None:
    out = tmp_path / "d"
    for _ in range(2):
        proc = run("demo", "--out", str(out))
        assert proc.returncode == 0, proc.stderr
        assert sorted(p.name for p in out.iterdir()) == sorted(["analysis", *DEMO_TABLES])
        assert sorted(p.name for p in (out / "analysis").iterdir()) == sorted(NAMES)
    assert siblings(out) == []


@POSIX
def test_a_killed_runs_road_cache_temporaries_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run killed while writing the road cache left its (large) temporary files for
    ever; the next write of the same entry removes them."""
    import shutil

    from geo import scratch
    from geo.roads import load_roads

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    roads = tmp_path / "crossing.geojson"
    shutil.copy(ROOT / "tests/data/roads/crossing.geojson", roads)
    load_roads(roads)
    folder = tmp_path / ".servicenet-cache"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    planted = [
        folder / f".{p.name}.servicenet-{scratch._HOST}-{dead.pid}-x.tmp" for p in folder.iterdir()
    ]
    assert planted
    for left in planted:
        left.write_bytes(b"half a network")
    (entry,) = folder.glob("*.json")
    entry.write_bytes(b"not what it was")  # so that the entry is written again
    load_roads(roads)
    assert not [p for p in planted if p.exists()]
    assert len(list(folder.iterdir())) == len(planted)
