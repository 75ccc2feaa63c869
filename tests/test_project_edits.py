"""An edit saved in place (only the rows it touches) equals the same edit saved whole."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from geo.project import StaleProjectError, open_project, save_edit, save_project
from planning.coverage.standards import load_standards
from planning.demo import load_demo
from planning.scenario import Change, add_changes, standards_frame


def _tables(path: Path) -> dict[str, pd.DataFrame]:
    p = open_project(path)
    return {
        "changes": p.changes.reset_index(drop=True),
        "scenarios": p.scenarios.reset_index(drop=True).drop(columns="created"),
        "sites": pd.DataFrame(p.sites.drop(columns="geometry")),
        "version": pd.DataFrame({"v": [p.version]}),
    }


def _add(lon: float) -> Change:
    return Change(
        "add_site",
        {
            "site_id": f"P{lon}",
            "name": "新站",
            "kind": "service_center",
            "level": "township",
            "lon": lon,
            "lat": 26.2,
            "status": "planned",
        },
    )


@pytest.fixture
def base(tmp_path: Path):
    from geo.project import new_project

    d = load_demo()
    project = new_project(d.sites, d.demand, standards_frame(load_standards()))
    return project, tmp_path


def test_in_place_edits_equal_whole_saves(base) -> None:
    project, tmp = base
    a, b = tmp / "a.gpkg", tmp / "b.gpkg"
    pa = save_project(project, a)
    pb = save_project(project, b)
    steps = [
        lambda p: add_changes(p, "甲", [_add(117.5)]),
        lambda p: add_changes(p, "乙", [_add(117.6), _add(117.7)]),
        lambda p: add_changes(p, "甲", [_add(117.8)]),
        # undo the first of 甲 (not the last row of the table)
        lambda p: replace(
            p,
            changes=p.changes.drop(
                index=p.changes.index[(p.changes["scenario"] == "甲")][0]
            ).reset_index(drop=True),
        ),
        lambda p: replace(
            p,
            scenarios=pd.concat(
                [p.scenarios, pd.DataFrame([{"scenario": "丙", "created": "x", "note": ""}])],
                ignore_index=True,
            ),
        ),
    ]
    for step in steps:
        edited_a, edited_b = step(pa), step(pb)
        pa = save_edit(pa, edited_a, a, expected_version=pa.version)
        pb = save_project(edited_b, b, expected_version=pb.version)
        assert pa.version == pb.version
        got, want = _tables(a), _tables(b)
        for name in want:
            pd.testing.assert_frame_equal(got[name], want[name], check_dtype=False)


def test_in_place_edit_refuses_a_stale_file(base) -> None:
    project, tmp = base
    path = tmp / "p.gpkg"
    saved = save_project(project, path)
    other = save_project(open_project(path), path, expected_version=saved.version)  # a second tab
    before = open_project(path).changes.copy()
    with pytest.raises(StaleProjectError):
        save_edit(saved, add_changes(saved, "甲", [_add(117.5)]), path, expected_version=1)
    assert open_project(path).version == other.version
    pd.testing.assert_frame_equal(open_project(path).changes, before)


def test_an_edit_of_the_sites_is_saved_whole(base) -> None:
    project, tmp = base
    path = tmp / "p.gpkg"
    saved = save_project(project, path)
    fewer = replace(saved, sites=saved.sites.iloc[:10].copy())
    out = save_edit(saved, fewer, path, expected_version=saved.version)
    assert len(open_project(path).sites) == 10 and out.version == saved.version + 1


@pytest.mark.skipif(not hasattr(__import__("os"), "symlink"), reason="no symbolic links here")
def test_a_save_through_a_symbolic_link_takes_the_real_files_lock(
    base, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Probe: a project in the app's folder linked to a file the CLI edits. The link's save
    locked ``.link.gpkg...lock`` and the CLI's ``.plan.gpkg...lock``: both saves passed the
    version check at once, both said saved, and one change was lost (2 of 6 races)."""
    import geo.project as gp
    from geo.filelock import exclusive

    project, tmp = base
    real = tmp / "shared" / "plan.gpkg"
    real.parent.mkdir()
    saved = save_project(project, real)
    (tmp / "projects").mkdir()
    link = tmp / "projects" / "link.gpkg"
    link.symlink_to(real)
    monkeypatch.setattr(gp, "LOCK_TIMEOUT_S", 0.2)
    edit = add_changes(saved, "甲", [_add(117.5)])
    with exclusive(real, 1.0):  # the CLI is saving the real file
        with pytest.raises(gp.ProjectLockedError):
            save_edit(saved, edit, link, expected_version=saved.version)
        with pytest.raises(gp.ProjectLockedError):
            save_project(edit, link, expected_version=saved.version)
    # a whole save through the link writes the real file and keeps the link
    after = save_project(
        replace(edit, metadata={**edit.metadata, "note": "x"}), link, expected_version=saved.version
    )
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert open_project(real).version == after.version == saved.version + 1
    assert "甲" in set(open_project(real).scenarios["scenario"])
