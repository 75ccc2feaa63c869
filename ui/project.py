"""The open project of an app session: open, save as, edit a scenario with autosave, undo/redo.

One save model for every page (see :func:`add_sites`, :func:`replace_table`,
:func:`set_standards`): with a project open, a change is written to its file
at once (into the selected scenario as changes, else into the base) and the
version goes up; without one (the demo, tables imported in this session) the
change lives in the browser session only and is listed as unsaved
(:func:`unsaved`) until the tables are saved as a project.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.errors import InputError
from geo.export import atomic_text
from geo.paths import name_problems, project_file, project_name
from geo.project import (
    Project,
    new_project,
    open_project,
    points_frame,
    save_edit,
    save_project,
    stored_provenance,
)
from planning.scenario import (
    Change,
    add_changes,
    apply_changes,
    project_standards,
    scenario_changes,
    standards_frame,
)
from ui import analysis as ana
from ui import state

log = logging.getLogger(__name__)


DEFAULT_NAME = "三明示例"


def projects_dir() -> Path:
    """The one folder of the app's project files (SERVICENET_PROJECTS, else ~/servicenet)."""
    return Path(os.environ.get("SERVICENET_PROJECTS") or Path.home() / "servicenet")


def project_path(name: str) -> Path:
    """The file of project ``name`` in the projects folder (raises PathError for a bad name)."""
    return project_file(projects_dir(), name.strip())


def recent_name() -> str:
    """The project last saved or opened on this machine, else a default name."""
    try:
        text = (projects_dir() / "recent.txt").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeError):
        text = ""
    # earlier versions kept the whole path: only a file of the projects folder is offered
    name = project_name(text) if text else ""
    inside = not Path(text).is_absolute() or Path(text).parent == projects_dir()
    return name if name and inside and not name_problems(name) else DEFAULT_NAME


def _remember(path: Path) -> None:
    """Note the project's name for next time; a folder that cannot be written only loses that."""
    folder = projects_dir()
    try:
        # a temporary name of its own: two tabs saving at once must not share one
        with atomic_text(folder / "recent.txt") as fh:
            fh.write(project_name(path))
    except OSError as exc:
        log.warning("cannot remember the recent project in %s: %s", folder, exc)


def current() -> Project | None:
    """The open project, or None while the read-only demo is shown."""
    value: Project | None = st.session_state.get("project")
    return value


def scenario() -> str | None:
    """The scenario being edited (None: the base network)."""
    value: str | None = st.session_state.get("project_scenario")
    return value


def _with_provenance(project: Project, prov: dict[str, Any]) -> Project:
    keep = {k: v for k, v in prov.items() if k != "project"}
    text = json.dumps(keep, ensure_ascii=False, sort_keys=True, default=str)
    return replace(project, metadata={**project.metadata, "provenance": text})


def _show(project: Project, name: str | None) -> None:
    """Put the project (with the scenario applied) into the session's tables."""
    sites, standards = project.sites, project_standards(project)
    if name:
        sites, standards = apply_changes(sites, standards, scenario_changes(project, name))
    st.session_state["sites"] = gpd.GeoDataFrame(sites, geometry="geometry", crs=4326)
    st.session_state["demand"] = project.demand
    st.session_state["standards"] = standards
    st.session_state["dataset"] = "project"
    st.session_state["provenance"] = {
        **stored_provenance(project),
        "project": {"file": str(project.path), "version": project.version, "scenario": name},
    }


def unsaved() -> list[str]:
    """What was changed in this session and is kept nowhere but the session (newest last)."""
    value: list[str] = st.session_state.get("unsaved", [])
    return value


@dataclass(frozen=True)
class Kept:
    """Where a change went: saved to the project file (its new version), or the session only."""

    saved: bool
    version: int = 0
    scenario: str | None = None

    def message(self, what: str) -> str:
        """A sentence for the user: ``what`` was done, and where it is kept."""
        if not self.saved:
            return state.tr("kept_unsaved", what=what)
        if self.scenario:
            return state.tr("kept_scenario", what=what, name=self.scenario, version=self.version)
        return state.tr("kept_base", what=what, version=self.version)

    def announce(self, what: str) -> None:
        """Say it on the next run of the page: as a success when saved, else as a warning."""
        state.flash(self.message(what), "success" if self.saved else "warning")


def _session_only(what: str) -> Kept:
    st.session_state["unsaved"] = [*unsaved(), what]
    return Kept(False)


def open_named(name: str) -> Project:
    """Open project ``name`` of the projects folder into the session (raises ServicenetError)."""
    path = project_path(name)
    project = open_project(path)
    _remember(path)
    st.session_state["project"] = project
    st.session_state["project_scenario"] = None
    st.session_state["redo"] = {}
    st.session_state["unsaved"] = []  # the session's own tables are no longer shown
    _show(project, None)
    return project


def save_as(name: str) -> Project:
    """Save the session's tables and standards as a new project ``name`` in the projects folder."""
    path = project_path(name)
    project = new_project(state.sites(), state.demand(), standards_frame(ana.standards()))
    saved = save_project(_with_provenance(project, state.provenance()), path)
    _remember(path)
    st.session_state["project"] = saved
    st.session_state["project_scenario"] = None
    st.session_state["redo"] = {}
    st.session_state["unsaved"] = []  # all of it is in the file now
    _show(saved, None)
    return saved


def select_scenario(name: str | None) -> None:
    """Edit (and show) another scenario, or the base network."""
    project = current()
    st.session_state["project_scenario"] = name
    if project is not None:
        _show(project, name)


def _commit(updated: Project) -> Project:
    # the server logs the time from here to the end of the run that shows the result
    st.session_state["edit_started"] = time.perf_counter()
    project = current()
    assert project is not None
    assert project.path is not None
    # an edit of the scenarios writes only the rows it adds or removes (geo.project.save_edit)
    saved = save_edit(project, updated, project.path, expected_version=project.version)
    st.session_state["project"] = saved
    _show(saved, scenario())
    return saved


def apply(change: Change, *, name: str | None = None) -> Project:
    """Add a change to the scenario and save at once (refused when the file is stale)."""
    return apply_all([change], name=name)


def apply_all(
    changes: list[Change], *, name: str | None = None, provenance: dict[str, Any] | None = None
) -> Project:
    """Add changes to the scenario in one save (one new version; refused when stale);
    ``provenance`` replaces the stored one in the same save."""
    project = current()
    target = name or scenario()
    assert project is not None
    assert target
    # validate on the scenario as it stands before anything is written
    base = scenario_changes(project, target) if target in set(project.scenarios["scenario"]) else []
    apply_changes(project.sites, project_standards(project), [*base, *changes])
    updated = add_changes(project, target, changes)
    if provenance is not None:
        updated = _with_provenance(updated, provenance)
    saved = _commit(updated)
    st.session_state.setdefault("redo", {})[target] = []
    return saved


def add_sites(rows: gpd.GeoDataFrame, what: str, source: dict[str, Any] | None = None) -> Kept:
    """Add sites to the plan on screen, kept where the save model says (see the module).

    ``source`` is the file the rows were imported from: it is listed in the
    provenance beside the file the sites came from (reports name every input).
    """
    project = current()
    if project is None:
        merged = pd.concat([state.sites(), rows], ignore_index=True)
        # rows added from a file are listed as such, not as edits of the first file
        entry = (
            state.with_added_source(state.provenance(), "sites", source)["sites"]
            if source is not None
            else None
        )
        state.set_table("sites", points_frame(merged), entry)
        return _session_only(what)
    name = scenario()
    prov = (
        state.with_added_source(stored_provenance(project), "sites", source, name)
        if source is not None
        else None
    )
    if name:
        changes = [
            Change("add_site", {k: v for k, v in rec.items() if not pd.isna(v)})
            for rec in pd.DataFrame(rows.drop(columns="geometry", errors="ignore")).to_dict(
                "records"
            )
        ]
        saved = apply_all(changes, name=name, provenance=prov)
        return Kept(True, saved.version, name)
    merged = replace(
        project, sites=points_frame(pd.concat([project.sites, rows], ignore_index=True))
    )
    saved = _commit(_with_provenance(merged, prov) if prov is not None else merged)
    return Kept(True, saved.version, None)


def replace_table(name: str, frame: gpd.GeoDataFrame, source: dict[str, Any], what: str) -> Kept:
    """Replace the sites or the demand: in the project's base (then shown), or the session."""
    project = current()
    if project is None:
        state.set_table(name, frame, source)
        return _session_only(what)
    prov = {**stored_provenance(project), name: source}
    updated = _with_provenance(replace(project, **{name: points_frame(frame)}), prov)
    st.session_state["project_scenario"] = None  # its changes were made on the old tables
    saved = _commit(updated)
    return Kept(True, saved.version, None)


def set_standards(standards: tuple[Any, ...], what: str) -> Kept:
    """Put standards in force: as changes of the scenario, in the base, or in the session."""
    project = current()
    if project is None:
        st.session_state["standards"] = standards
        return _session_only(what)
    name = scenario()
    if name:
        now = {(s.kind, s.level): s.as_dict() for s in ana.standards()}
        changes = [
            Change("set_standard", s.as_dict())
            for s in standards
            if now.get((s.kind, s.level)) != s.as_dict()
        ]
        dropped = set(now) - {(s.kind, s.level) for s in standards}
        if dropped:
            raise InputError(
                "方案中不能删除服务标准（请在现状中删除）",
                "a scenario cannot remove a standard (remove it in the base)",
            )
        if not changes:
            return Kept(True, project.version, name)
        saved = apply_all(changes, name=name)
        return Kept(True, saved.version, name)
    saved = _commit(replace(project, standards=standards_frame(standards)))
    return Kept(True, saved.version, None)


def create_scenario(name: str) -> None:
    """A new, empty scenario (saved)."""
    project = current()
    assert project is not None
    scenarios = pd.concat(
        [
            project.scenarios,
            pd.DataFrame(
                [{"scenario": name, "created": pd.Timestamp.now("UTC").isoformat(), "note": ""}]
            ),
        ],
        ignore_index=True,
    )
    _commit(replace(project, scenarios=scenarios))
    select_scenario(name)


def undo() -> bool:
    """Remove the scenario's last change (kept for redo); False when there is none."""
    project, name = current(), scenario()
    if project is None or not name:
        return False
    changes = project.changes
    mine = changes[changes["scenario"].astype(str) == name]
    if not len(mine):
        return False
    last = pd.to_numeric(mine["seq"]).idxmax()
    removed = scenario_changes(project, name)[-1]
    _commit(replace(project, changes=changes.drop(index=last).reset_index(drop=True)))
    st.session_state.setdefault("redo", {}).setdefault(name, []).append(removed)
    return True


def redo() -> bool:
    """Put back the last undone change; False when there is none."""
    name = scenario()
    stack = st.session_state.get("redo", {}).get(name or "", [])
    if not stack or current() is None or not name:
        return False
    change = stack.pop()
    project = current()
    assert project is not None
    _commit(add_changes(project, name, [change]))
    return True


def reload() -> None:
    """Reopen the file from disk (after a stale save), keeping the scenario selected."""
    project = current()
    if project is None or project.path is None:
        return
    name = scenario()
    fresh = open_project(project.path)
    st.session_state["project"] = fresh
    known = set(fresh.scenarios["scenario"].astype(str)) if len(fresh.scenarios) else set()
    st.session_state["project_scenario"] = name if name in known else None
    _show(fresh, st.session_state["project_scenario"])
