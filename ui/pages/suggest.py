"""Suggestion page: plan new sites of one kind and level, see why, accept them."""

from __future__ import annotations

import json

import altair as alt
import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.errors import ServicenetError
from geo.maps import network_map
from geo.safe import markdown_text
from geo.uploads import TABLE_SUFFIXES, temporary_upload
from planning.locate.candidates import read_candidates
from planning.locate.suggest import SuggestRequest
from ui import analysis as ana
from ui import project as prj
from ui import state, tables
from ui.strings import vocabulary_words

tr = state.tr
lg = state.lang()
kinds, levels = vocabulary_words("kind", lg), vocabulary_words("level", lg)
modes = {m: tr(f"mode_{m}") for m in ("drive", "walk")}
models = {m: tr(f"model_{m}") for m in ("mclp", "lscp", "pmedian", "cmclp")}
sources_words = {c: tr(f"cand_{c}") for c in ("township_seat", "gap_node", "grid")}
by_words = {b: tr(f"by_{b}") for b in ("count", "budget")}
sites, demand = state.sites(), state.demand()

st.title(tr("page_suggest"))
state.show_flash()
st.write(tr("suggest_intro"))

stds = {f"{s.kind}/{s.level}": s for s in ana.standards()}
keys = list(stds)
default = "service_center/township" if "service_center/township" in keys else keys[0]
wanted = state.kept("sg_std", default)
c1, c2 = st.columns(2)
chosen = state.keep(
    "sg_std",
    c1.selectbox(
        tr("suggest_standard"),
        keys,
        index=keys.index(wanted) if wanted in keys else keys.index(default),
        format_func=lambda k: (
            f"{kinds.get(stds[k].kind, stds[k].kind)} · "
            f"{levels.get(stds[k].level, stds[k].level)} · "
            f"{modes.get(stds[k].mode, stds[k].mode)} ≤ {stds[k].max_minutes:g} min"
        ),
        key="sg_std",
    ),
)
METHODS = ("mclp", "lscp", "pmedian", "cmclp")
method = state.keep(
    "sg_method",
    c2.selectbox(
        tr("suggest_model"),
        METHODS,
        index=METHODS.index(state.kept("sg_method", "mclp")),
        format_func=models.__getitem__,
        key="sg_method",
    ),
)
c3, c4, c5 = st.columns(3)
BY = ("count", "budget")
by = state.keep(
    "sg_by",
    c3.radio(
        tr("suggest_by"),
        BY,
        index=BY.index(state.kept("sg_by", "count")),
        format_func=by_words.__getitem__,
        key="sg_by",
        disabled=method != "mclp",
        horizontal=True,
    ),
)
count = state.keep(
    "sg_count",
    c4.number_input(
        tr("by_count"),
        1,
        50,
        int(state.kept("sg_count", 5)),
        key="sg_count",
        disabled=method == "lscp",
    ),
)
budget = state.keep(
    "sg_budget",
    c5.number_input(
        tr("by_budget"),
        0.0,
        1e9,
        float(state.kept("sg_budget", 5.0)),
        key="sg_budget",
        disabled=by != "budget",
    ),
)
SOURCES = ("township_seat", "gap_node", "grid")
sources = state.keep(
    "sg_sources",
    st.multiselect(
        tr("candidate_sources"),
        SOURCES,
        default=[c for c in state.kept("sg_sources", SOURCES[:2]) if c in SOURCES],
        format_func=sources_words.__getitem__,
        key="sg_sources",
    ),
)
to_target = False
target_share = stds[chosen].target_share if chosen in stds else None
if method == "lscp" and target_share is not None:
    to_target = state.keep(
        "sg_to_target",
        st.checkbox(
            tr("lscp_to_target", share=f"{target_share:.0%}"),
            value=bool(state.kept("sg_to_target", True)),
            key="sg_to_target",
        ),
    )
upload = st.file_uploader(tr("cand_upload"), type=["csv", "xlsx"], key="sg_upload")
time_limit = state.keep(
    "sg_time",
    st.slider(tr("time_limit"), 5, 120, int(state.kept("sg_time", 30)), key="sg_time"),
)
after = state.kept("cov_after", False)

user = None
if upload is not None:
    try:
        # named by the hash of its bytes, never by the client; deleted after reading
        with temporary_upload(upload.name, upload.getvalue(), TABLE_SUFFIXES) as path:
            user = read_candidates(path)
    except ServicenetError as exc:
        st.error(markdown_text(exc.zh if lg == "zh" else exc.en))

if not sources and user is None:
    st.warning(tr("no_candidate_source"))


def _request() -> SuggestRequest:
    std = stds[chosen]
    return SuggestRequest(
        kind=std.kind,
        level=std.level,
        max_minutes=std.max_minutes,
        method=method,
        mode=std.mode,
        count=None if method == "lscp" or (method == "mclp" and by == "budget") else int(count),
        budget=float(budget) if method == "mclp" and by == "budget" else None,
        time_limit=float(time_limit),
        after_completion=after,
        target_share=target_share if to_target else None,
    )


# A result belongs to the settings it was solved with: changing an input does not
# re-solve (a large model can take a while); the page says the shown result is older.
# It is also solved on the network of that moment: accepting its sites changes the
# network, but the result shown (and what is left to accept) stays the one solved.
if st.button(tr("run_suggest"), type="primary", key="sg_run"):
    try:
        st.session_state["sg_solved"] = (_request(), tuple(sources))
    except ServicenetError as exc:
        st.error(markdown_text(exc.zh if lg == "zh" else exc.en))
        st.stop()
    st.session_state["sg_on"] = (sites, demand)
    st.session_state["sg_accepted"] = []

if st.session_state.get("sg_solved") is not None:
    request, used_sources = st.session_state["sg_solved"]
    solved_sites, solved_demand = st.session_state.get("sg_on", (sites, demand))
    accepted: list[str] = st.session_state.get("sg_accepted", [])
    std = request  # the kind and level of the result shown
    try:
        now: tuple[SuggestRequest, tuple[str, ...]] | None = (_request(), tuple(sources))
    except ServicenetError:
        now = None
    if now != (request, used_sources):
        st.info(tr("suggest_settings_changed"))
    elif not accepted and (
        ana.frame_key(solved_sites) != ana.frame_key(sites)
        or ana.frame_key(solved_demand) != ana.frame_key(demand)
    ):
        st.info(tr("suggest_network_changed"))
    try:
        with st.spinner(tr("solving")):
            result = ana.run_suggestion(solved_sites, solved_demand, request, used_sources, user)
    except ServicenetError as exc:
        st.error(markdown_text(exc.zh if lg == "zh" else exc.en))
        st.stop()

    doc = result.solution_json()
    if result.notes and any("示意路网" in n for n in result.notes):
        st.warning(tr("proxy_warning"))
    m1, m2, m3, m4, m5 = st.columns(5)
    m1.metric(tr("metric_status"), tr(f"status_{doc['status']}"), help=tr("status_help"))
    m2.metric(tr("metric_gap"), "—" if doc["gap"] is None else f"{doc['gap']:.2%}")
    m3.metric(tr("metric_new_sites"), len(doc["selected"]))
    before, after_share = doc["covered_share_before"], doc["covered_share_after"]
    m4.metric(tr("metric_before"), "—" if before is None else f"{before:.1%}")
    m5.metric(
        tr("metric_after"),
        "—" if after_share is None else f"{after_share:.1%}",
        None if before is None or after_share is None else f"{after_share - before:+.1%}",
    )
    if doc["served_share_before"] is not None:
        # the capacitated model: its own objective beside the coverage in the page's terms
        s1, s2, _ = st.columns([1, 1, 3])
        served_before, served_after = doc["served_share_before"], doc["served_share_after"]
        s1.metric(tr("metric_served_before"), f"{served_before:.1%}")
        s2.metric(
            tr("metric_served_after"),
            f"{served_after:.1%}",
            f"{served_after - served_before:+.1%}",
        )
        st.info(
            tr(
                "cmclp_terms",
                covered=f"{after_share:.1%}",
                served=f"{served_after:.1%}",
                people=f"{doc['served_weight_after']:,.0f}",
            )
        )

    picks = result.selected
    site_names = dict(
        zip(sites["site_id"].astype(str), sites["name"].fillna("").astype(str), strict=True)
    )
    numbered = (
        gpd.GeoDataFrame(picks, geometry=gpd.points_from_xy(picks["lon"], picks["lat"]), crs=4326)
        if len(picks)
        else None
    )
    fmap = network_map(
        sites[(sites["kind"] == std.kind) & (sites["level"] == std.level)],
        demand,
        labels=state.map_labels(),
        basemap=st.session_state.get("basemap", "blank"),
        tianditu_key=state.tianditu_key(),
        numbered=numbered,
        numbered_layer=tr("suggested_layer"),
        banner=tr("proxy_banner") if any("示意路网" in n for n in result.notes) else "",
    )
    st_folium(fmap, height=520, use_container_width=True, returned_objects=[], key="sg_map")

    # the explanation table full width below the curve: its columns are the reasons
    left = right = st.container()
    with left:
        st.subheader(tr("curve_title"))
        if len(result.curve):
            # one line per measure: the covered share, and for the capacitated model
            # the share served within capacities
            series = [("covered_share", tr("curve_share"))]
            if "served_share" in result.curve:
                series.append(("served_share", tr("curve_served")))
            curve = pd.concat(
                [
                    pd.DataFrame(
                        {
                            tr("curve_p"): result.curve["p"],
                            tr("curve_value"): pd.to_numeric(result.curve[col]),
                            tr("curve_measure"): label,
                            tr("metric_status"): [
                                tr(f"status_{v}") for v in result.curve["status"]
                            ],
                        }
                    )
                    for col, label in series
                ],
                ignore_index=True,
            )
            chart = (
                alt.Chart(curve)
                .mark_line(point=True)
                .encode(
                    x=alt.X(f"{tr('curve_p')}:Q", axis=alt.Axis(tickMinStep=1)),
                    y=alt.Y(f"{tr('curve_value')}:Q", axis=alt.Axis(format="%", title=None)),
                    color=alt.Color(
                        f"{tr('curve_measure')}:N", legend=alt.Legend(orient="bottom", title=None)
                    ),
                    tooltip=[
                        tr("curve_measure"),
                        tr("curve_p"),
                        alt.Tooltip(tr("curve_value"), format=".1%"),
                        tr("metric_status"),
                    ],
                )
                .properties(height=300)
            )
            st.altair_chart(chart, width="stretch")
    with right:
        st.subheader(tr("explain_title"))
        if len(picks):
            shown = pd.DataFrame(
                {
                    tr("col_order"): picks["order"],
                    tr("accepted_mark"): [
                        "✓" if c in accepted else "" for c in picks["candidate_id"]
                    ],
                    tr("col_candidate"): picks["name"],
                    # where a candidate came from and its township are in the CSV
                    tr("col_new_weight"): picks["newly_covered_weight"],
                    tr("col_new_share"): pd.to_numeric(picks["newly_covered_share"]) * 100.0,
                    tr("col_gaps_closed"): picks["gaps_closed"],
                    tr("col_farthest"): picks["farthest_covered_minutes"],
                    **(
                        {tr("col_served_weight"): picks["served_weight"]}
                        if "served_weight" in picks
                        else {}
                    ),
                    # the nearest existing site of the level, by name, and how far
                    tr("col_nearest_existing"): [
                        ""
                        if not isinstance(i, str)
                        else f"{site_names.get(i, i)}（{m:.1f} 分钟）"
                        if lg == "zh" and m == m
                        else f"{site_names.get(i, i)} ({m:.1f} min)"
                        if m == m
                        else site_names.get(i, i)
                        for i, m in zip(
                            picks["nearest_existing_site_id"],
                            pd.to_numeric(picks["nearest_existing_minutes"]),
                            strict=True,
                        )
                    ],
                }
            )
            st.dataframe(
                shown,
                hide_index=True,
                width="stretch",
                column_config={
                    tr("col_order"): st.column_config.NumberColumn(width="small"),
                    tr("accepted_mark"): st.column_config.TextColumn(width="small"),
                    tr("col_new_weight"): st.column_config.NumberColumn(
                        format="localized", width="small"
                    ),
                    tr("col_new_share"): st.column_config.NumberColumn(
                        format="%.1f%%", width="small"
                    ),
                    tr("col_farthest"): st.column_config.NumberColumn(format="%.1f", width="small"),
                    tr("col_served_weight"): st.column_config.NumberColumn(
                        format="localized", width="small"
                    ),
                    tr("col_gaps_closed"): st.column_config.TextColumn(width="small"),
                    tr("col_nearest_existing"): st.column_config.TextColumn(width="medium"),
                },
            )
    with st.expander(tr("reductions")):
        red = doc["reductions"]
        st.dataframe(
            pd.DataFrame(
                {
                    tr("red_item"): [
                        tr(f"red_{k}") if f"red_{k}" in state.STRING_KEYS else k for k in red
                    ],
                    tr("red_value"): [
                        f"{v:.1%}"
                        if k == "target_share" and v is not None
                        else f"{v:,}"
                        if isinstance(v, int)
                        else ("—" if v is None else f"{v:,.4g}")
                        for k, v in red.items()
                    ],
                }
            ),
            hide_index=True,
            width="stretch",
        )
        for note in doc["notes"]:
            st.caption(markdown_text(note))
    d1, d2 = st.columns(2)
    d1.download_button(
        tr("download_suggestions"),
        tables.download_csv(picks),
        file_name="suggestions.csv",
        mime="text/csv",
        key="sg_dl_csv",
    )
    d2.download_button(
        tr("download_solution"),
        json.dumps(doc, ensure_ascii=False, indent=2, default=str).encode("utf-8"),
        file_name="solution.json",
        mime="application/json",
        key="sg_dl_json",
    )

    if len(picks):
        st.subheader(tr("accept"))
        names = dict(zip(picks["candidate_id"], picks["name"], strict=True))
        left_over = [c for c in names if c not in accepted]
        if accepted:
            st.caption(tr("accepted_before"))
        pick = (
            st.multiselect(
                tr("accept_pick"),
                left_over,
                # the first time all of them; after an acceptance none is chosen for the planner
                default=[] if accepted else left_over,
                format_func=lambda c: names[c],
                key=f"sg_pick_{len(accepted)}",
            )
            if left_over
            else []
        )
        if left_over and st.button(tr("accept"), key="sg_accept") and pick:
            rows = picks[picks["candidate_id"].isin(pick)]
            new = gpd.GeoDataFrame(
                {
                    "site_id": "NEW-" + rows["candidate_id"].astype(str),
                    "name": rows["name"].astype(str).str.replace("（乡镇驻地）", "", regex=False)
                    + f"{kinds.get(std.kind, std.kind)}（规划）",
                    "kind": std.kind,
                    "level": std.level,
                    "county": rows["county"],
                    "township": rows["township"],
                    "status": "planned",
                    "capacity": float("nan"),
                    "lon": rows["lon"],
                    "lat": rows["lat"],
                },
                geometry=gpd.points_from_xy(rows["lon"], rows["lat"]),
                crs=4326,
            )
            clash = sorted(set(new["site_id"]) & set(sites["site_id"]))
            what = tr("accepted_what", n=len(new))
            if clash:
                st.error(tr("accept_clash", ids=", ".join(clash)))
            else:
                try:
                    kept = prj.add_sites(new, what)
                except ServicenetError as exc:
                    st.error(tr("project_error", message=exc.zh if lg == "zh" else exc.en))
                else:
                    st.session_state["sg_accepted"] = [*accepted, *pick]
                    kept.announce(what)
                    st.rerun()
