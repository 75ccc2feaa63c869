"""Projects and scenarios: save the work, place planned sites on the map, compare plans."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.errors import ServicenetError
from geo.maps import network_map
from geo.paths import project_name
from geo.project import StaleProjectError
from planning.scenario import (
    Change,
    scenario_changes,
)
from ui import analysis as ana
from ui import project as prj
from ui import state, tables
from ui.strings import vocabulary_words

tr = state.tr
lg = state.lang()
kinds, levels = vocabulary_words("kind", lg), vocabulary_words("level", lg)

st.title(tr("page_project"))
st.write(tr("project_intro"))


def _message(exc: ServicenetError) -> str:
    return exc.zh if lg == "zh" else exc.en


def _guard(action, *args, saves: bool = True):  # type: ignore[no-untyped-def]
    """Run a project action; a stale file or another error is shown, never a traceback.

    ``saves``: the action writes the file (a "saved" note follows); opening and
    reloading do not.
    """
    try:
        result = action(*args)
        saved = prj.current()
        if saved is not None and saves:
            st.session_state["prj_flash"] = tr("project_saved", version=saved.version)
        return result
    except StaleProjectError as exc:
        st.session_state["prj_stale"] = _message(exc)
        st.rerun()  # the refusal is shown at the top of the page: draw it now
    except ServicenetError as exc:
        st.error(tr("project_error", message=_message(exc)))
    return None


project = prj.current()
c1, c2 = st.columns(2)
with c1:
    # a name, not a path: project files live in the projects folder only
    name_in = st.text_input(tr("project_name"), prj.recent_name(), key="prj_name")
    st.caption(tr("project_folder"))
with c2:
    st.write("")
    b1, b2 = st.columns(2)
    if (
        b1.button(tr("project_save_as"), key="prj_save_as")
        and _guard(prj.save_as, name_in) is not None
    ):
        st.rerun()
    if (
        b2.button(tr("project_open"), key="prj_open")
        and _guard(prj.open_named, name_in, saves=False) is not None
    ):
        st.rerun()

if st.session_state.get("prj_stale"):
    st.error(tr("project_stale", message=st.session_state["prj_stale"]))
    if st.button(tr("project_reload"), key="prj_reload"):
        st.session_state.pop("prj_stale")
        _guard(prj.reload, saves=False)
        st.rerun()

project = prj.current()
if project is None:
    st.info(tr("project_demo_readonly"))
    st.stop()

st.caption(tr("project_opened", name=project_name(project.path or ""), version=project.version))
if st.session_state.get("prj_flash"):
    st.success(st.session_state.pop("prj_flash"))
names = [str(s) for s in project.scenarios.get("scenario", [])]
options = ["", *names]
current = prj.scenario() or ""
s1, s2, s3 = st.columns([2, 2, 1])
chosen = s1.selectbox(
    tr("scenario"),
    options,
    index=options.index(current) if current in options else 0,
    format_func=lambda n: n or tr("scenario_base"),
)
if chosen != current:
    _guard(prj.select_scenario, chosen or None, saves=False)  # a bad stored change: a message
    st.rerun()
new_name = s2.text_input(tr("scenario_new"), key="prj_new_name")
s3.write("")
if s3.button(tr("scenario_create"), key="prj_create") and new_name.strip():
    if new_name.strip() not in names:
        _guard(prj.create_scenario, new_name.strip())
    else:
        prj.select_scenario(new_name.strip())
    st.rerun()

name = prj.scenario()
sites, demand = state.sites(), state.demand()
base_ids = set(project.sites["site_id"].astype(str))
added = sites[~sites["site_id"].astype(str).isin(base_ids)].reset_index(drop=True)
numbered = None
if len(added):
    numbered = gpd.GeoDataFrame(
        added.assign(order=range(1, len(added) + 1)), geometry="geometry", crs=4326
    )
fmap = network_map(
    sites,
    demand,
    labels=state.map_labels(),
    basemap=st.session_state.get("basemap", "blank"),
    tianditu_key=state.tianditu_key(),
    numbered=numbered,
    numbered_layer=tr("scenario_layer_new"),
)
if name:
    st.caption(tr("edit_hint"))
returned = st_folium(
    fmap,
    height=520,
    use_container_width=True,
    returned_objects=["last_clicked"],
    key=f"prj_map_{project.version}_{name or ''}",
)
clicked = (returned or {}).get("last_clicked")
if clicked:
    st.session_state["prj_clicked"] = (float(clicked["lng"]), float(clicked["lat"]))


def _saving(action, *args) -> None:  # type: ignore[no-untyped-def]
    """Run a saving action from a button's callback (before the page runs).

    Callbacks run before the script, so the run that follows already shows the
    change: one run per edit, not two. Messages are kept for that run to show.
    """
    try:
        action(*args)
        saved = prj.current()
        if saved is not None:
            st.session_state["prj_flash"] = tr("project_saved", version=saved.version)
    except StaleProjectError as exc:
        st.session_state["prj_stale"] = _message(exc)
    except ServicenetError as exc:
        st.session_state["prj_error"] = tr("project_error", message=_message(exc))


def _apply(change: Change) -> None:
    _saving(prj.apply, change)


def _new_id() -> str:
    existing = set(state.sites()["site_id"].astype(str))
    k = 1
    while f"P{k:03d}" in existing:
        k += 1
    return f"P{k:03d}"


def _add_planned() -> None:
    pos = st.session_state.get("prj_clicked")
    if not pos:
        return
    ss = st.session_state
    site_id = _new_id()
    payload = {
        "site_id": site_id,
        "name": ss.get("prj_site_name") or site_id,
        "kind": ss["prj_kind"],
        "level": ss["prj_level"],
        "lon": round(pos[0], 7),
        "lat": round(pos[1], 7),
        "status": "planned",
    }
    if ss.get("prj_capacity", 0) > 0:
        payload["capacity"] = float(ss["prj_capacity"])
    _apply(Change("add_site", payload))


def _move() -> None:
    pos = st.session_state.get("prj_clicked")
    if pos:
        target = st.session_state["prj_target"]
        _apply(Change("move_site", {"site_id": target, "lon": pos[0], "lat": pos[1]}))


def _close() -> None:
    _apply(Change("close_site", {"site_id": st.session_state["prj_target"]}))


def _set_capacity() -> None:
    cap = st.session_state.get("prj_cap", 0.0)
    if cap > 0:
        _apply(Change("set_capacity", {"site_id": st.session_state["prj_target"], "capacity": cap}))


if name:
    pos = st.session_state.get("prj_clicked")
    st.write(tr("clicked_at", lon=pos[0], lat=pos[1]) if pos else tr("no_click"))
    if st.session_state.get("prj_error"):
        st.error(st.session_state.pop("prj_error"))
    with st.form("prj_add_form", clear_on_submit=True):
        f1, f2, f3, f4 = st.columns(4)
        f1.text_input(tr("new_site_name"), key="prj_site_name")
        f2.selectbox(tr("col_kind"), list(kinds), format_func=lambda k: kinds[k], key="prj_kind")
        f3.selectbox(
            tr("col_level"), list(levels), index=2, format_func=lambda v: levels[v], key="prj_level"
        )
        f4.number_input(tr("field_capacity"), 0.0, 1e6, 0.0, key="prj_capacity")
        st.form_submit_button(tr("add_planned"), on_click=_add_planned)

    e1, e2, e3, e4 = st.columns([3, 1, 1, 2])
    ids = sites["site_id"].astype(str).tolist()
    labels = dict(zip(ids, sites["name"].fillna("").astype(str), strict=True))
    target = e1.selectbox(
        tr("site_to_edit"), ids, format_func=lambda i: f"{i} {labels.get(i, '')}", key="prj_target"
    )
    if st.session_state.get("prj_cap_for") != target:  # the box shows the site's capacity
        caps = dict(zip(ids, pd.to_numeric(sites["capacity"], errors="coerce"), strict=True))
        cap = caps.get(str(target))
        st.session_state["prj_cap"] = float(cap) if cap is not None and cap == cap else 0.0
        st.session_state["prj_cap_for"] = target
    e2.button(tr("move_here"), key="prj_move", disabled=pos is None, on_click=_move)
    e3.button(tr("close_site"), key="prj_close", on_click=_close)
    e4.number_input(tr("set_capacity"), 0.0, 1e6, key="prj_cap", format="%.0f")
    e4.button(tr("set_capacity"), key="prj_setcap", on_click=_set_capacity)

    st.subheader(tr("changes_title"))
    u1, u2, _ = st.columns([1, 1, 6])
    u1.button(tr("undo"), key="prj_undo", on_click=_saving, args=(prj.undo,))
    u2.button(tr("redo"), key="prj_redo", on_click=_saving, args=(prj.redo,))
    mine = (_guard(scenario_changes, project, name, saves=False) or []) if name in names else []
    if mine:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "#": i + 1,
                        tr("col_code"): tr("op_" + c.op),
                        tr("col_message"): tables.describe_change(c),
                    }
                    for i, c in enumerate(mine)
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption(tr("no_changes"))

# ------------------------------------------------------------------ compare
st.header(tr("compare_title"))
if not names:
    st.caption(tr("no_changes"))
    st.stop()
other = st.selectbox(tr("compare_with"), names, key="prj_compare")
st.caption(tr("compare_note"))
cmp = _guard(ana.scenario_comparison, project, other, saves=False)
if cmp is None:  # a scenario that cannot be applied (the message is shown)
    st.stop()
tables.show(
    cmp.standards[["kind", "level", "covered_share_a", "covered_share_b", "change"]],
)
m1, m2, m3, m4 = st.columns(4)
m1.metric(tr("compare_sites_added"), len(cmp.sites_added))
m2.metric(tr("compare_sites_removed"), len(cmp.sites_removed))
m3.metric(tr("compare_gaps_closed"), len(cmp.gaps_closed))
m4.metric(tr("compare_gaps_opened"), len(cmp.gaps_opened))


site_cols = ["site_id", "name", "kind", "level", "county", "township", "status", "capacity"]
gap_cols = ["gap_id", "kind", "level", "weight", "townships"]
k1, k2 = st.columns(2)
with k1:
    st.subheader(tr("compare_sites_added"))
    tables.show(cmp.sites_added.reindex(columns=site_cols))
with k2:
    st.subheader(tr("compare_sites_removed"))
    tables.show(cmp.sites_removed.reindex(columns=site_cols))
g1, g2 = st.columns(2)
with g1:
    st.subheader(tr("compare_gaps_closed"))
    tables.show(cmp.gaps_closed.reindex(columns=gap_cols))
with g2:
    st.subheader(tr("compare_gaps_opened"))
    tables.show(cmp.gaps_opened.reindex(columns=gap_cols))
county = cmp.by_area[cmp.by_area["area_type"] == "county"]
tables.show(county[["county", "kind", "level", "covered_share_a", "covered_share_b", "change"]])
