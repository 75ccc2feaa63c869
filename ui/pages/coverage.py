"""Coverage page: standards and shares, county bars, map with service areas and gaps."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st
from streamlit_folium import st_folium

from geo.errors import ServicenetError, StandardsError
from geo.maps import LEVEL_COLOURS, Overlay, network_map
from geo.projection import to_lonlat
from planning.coverage.standards import MODES
from ui import analysis as ana
from ui import project as prj
from ui import state, tables
from ui.strings import vocabulary_words

tr = state.tr
lg = state.lang()
kinds, levels = vocabulary_words("kind", lg), vocabulary_words("level", lg)
sites, demand = state.sites(), state.demand()

st.title(tr("page_coverage"))
state.show_flash()
st.write(tr("coverage_intro"))

with st.sidebar:
    after = state.keep(
        "cov_after",
        st.checkbox(
            tr("after_completion"), value=bool(state.kept("cov_after", False)), key="cov_after"
        ),
    )
    roads_file = st.file_uploader(
        tr("roads_upload"),
        type=["pbf", "osm", "bz2", "graphml", "geojson", "gpkg", "zip"],
        key="cov_roads",
    )
    if roads_file is not None and st.session_state.get("roads_upload_id") != roads_file.file_id:
        st.session_state["roads_upload_id"] = roads_file.file_id
        try:
            ana.save_roads_upload(roads_file.name, roads_file.getvalue())
        except ServicenetError as exc:
            st.error(tr("roads_failed", message=exc.zh if lg == "zh" else exc.en))
    # service areas cost minutes on a city's road network: drawn on request there
    show_areas = st.checkbox(
        tr("show_service_areas"), value=not ana.roads_path(), key="cov_show_areas"
    )
    if ana.roads_path():
        st.caption(tr("roads_in_use", name=st.session_state.get("roads_name", "")))
        if st.button(tr("roads_clear"), key="cov_roads_clear"):
            st.session_state.pop("roads_path", None)
            st.rerun()

try:
    with st.spinner(tr("computing")):
        analysis = ana.current_analysis(sites, demand, after)
        areas = (
            ana.current_service_areas(sites, demand, after)
            if show_areas
            else gpd.GeoDataFrame(
                {"kind": [], "level": []}, geometry=gpd.GeoSeries([], crs=4326), crs=4326
            )
        )
except ServicenetError as exc:
    st.error(tr("roads_failed", message=ana.roads_message(exc.zh if lg == "zh" else exc.en)))
    ana.drop_roads_upload()  # a road file that cannot be used is not kept
    st.stop()
if analysis.is_proxy:
    st.warning(tr("proxy_warning"))
else:
    facts = next(iter(analysis.networks.values())).facts
    st.caption(tr("road_source", source=facts.source, nodes=facts.nodes, segments=facts.segments))


def std_name(kind: str, level: str) -> str:
    return f"{kinds.get(kind, kind)} · {levels.get(level, level)}"


cov = analysis.coverage.standards.copy()
gini = analysis.access.standards.set_index(["kind", "level"])["gini_townships"]
# what matters on one screen: the standard, its time, target, share and verdict;
# the other figures under "more"
table = pd.DataFrame(
    {
        tr("col_standard"): [
            std_name(k, v) for k, v in zip(cov["kind"], cov["level"], strict=True)
        ],
        tr("col_time_rule"): [
            tr("time_rule", mode=tr(f"mode_{m}"), minutes=float(x))
            for m, x in zip(cov["mode"], cov["max_minutes"], strict=True)
        ],
        # shares in percent, one decimal everywhere (the target's whole percent too)
        tr("col_target"): pd.to_numeric(cov["target_share"]) * 100.0,
        tr("col_covered"): pd.to_numeric(cov["covered_share"]) * 100.0,
        tr("col_met"): [
            tr("met_none") if m is None else tr("met_yes") if m else tr("met_no")
            for m in cov["met"]
        ],
        tr("col_sites"): cov["sites_counted"],
    }
)
st.subheader(tr("standards_table"))
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={
        tr("col_standard"): st.column_config.TextColumn(width="medium"),
        tr("col_target"): st.column_config.NumberColumn(format="%.0f%%"),
        tr("col_covered"): st.column_config.ProgressColumn(
            format="%.1f%%", min_value=0, max_value=100
        ),
    },
)
with st.expander(tr("standards_more")):
    st.dataframe(
        pd.DataFrame(
            {
                tr("col_standard"): table[tr("col_standard")],
                tr("col_ignored"): [
                    "、".join(f"{state.tr('status_' + k)} {n}" for k, n in d.items())
                    for d in cov["sites_ignored_by_status"]
                ],
                tr("col_gini"): [
                    gini.get((k, v)) for k, v in zip(cov["kind"], cov["level"], strict=True)
                ],
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={tr("col_gini"): st.column_config.NumberColumn(format="%.2f")},
    )
st.caption(tr("standards_note"))

with st.expander(tr("edit_standards")):
    # codes stay in the table (what the standards file holds); the planner sees words,
    # and target shares in percent
    current = pd.DataFrame([s.as_dict() for s in ana.standards()])
    if "target_share" in current:
        current["target_share"] = pd.to_numeric(current["target_share"]) * 100.0
    edited = st.data_editor(
        current,
        num_rows="dynamic",
        width="stretch",
        key="cov_std_editor",
        column_config={
            "kind": st.column_config.SelectboxColumn(
                tr("col_kind"), options=sorted(kinds), required=True, format_func=kinds.get
            ),
            "level": st.column_config.SelectboxColumn(
                tr("col_level"), options=list(levels), required=True, format_func=levels.get
            ),
            "mode": st.column_config.SelectboxColumn(
                tr("col_mode"),
                options=list(MODES),
                required=True,
                format_func=lambda m: tr(f"mode_{m}"),
            ),
            "max_minutes": st.column_config.NumberColumn(
                tr("col_minutes"), min_value=1, max_value=600, required=True
            ),
            "target_share": st.column_config.NumberColumn(
                tr("col_target_percent"), min_value=0.0, max_value=100.0, format="%.0f%%"
            ),
            "higher_levels_count": st.column_config.CheckboxColumn(tr("col_higher_levels")),
        },
    )
    edited = (
        edited.assign(target_share=pd.to_numeric(edited["target_share"], errors="coerce") / 100.0)
        if "target_share" in edited
        else edited
    )
    if st.button(tr("apply_standards"), key="cov_apply"):
        try:
            parsed = ana.parse_standards_table(edited)
        except StandardsError as exc:
            st.error(tr("standards_invalid", message=exc.zh if lg == "zh" else exc.en))
        else:
            try:
                kept = prj.set_standards(parsed, tr("standards_applied"))
            except ServicenetError as exc:
                st.error(tr("project_error", message=exc.zh if lg == "zh" else exc.en))
            else:
                kept.announce(tr("standards_applied"))
                st.rerun()

options = [f"{k}/{v}" for k, v in zip(cov["kind"], cov["level"], strict=True)]
default = options.index("service_center/township") if "service_center/township" in options else 0
chosen = st.selectbox(
    tr("choose_standard"),
    options,
    index=default,
    format_func=lambda o: std_name(*o.split("/")),
    key="cov_std",
)
kind, level = chosen.split("/")

gaps = analysis.gaps
with st.container():  # the map, full width
    labels = state.map_labels()
    overlays = []
    if analysis.is_proxy:
        net = analysis.networks.get("drive") or next(iter(analysis.networks.values()))
        lon, lat = to_lonlat(net.x, net.y, net.crs)
        lines = shapely.linestrings(
            [[(lon[a], lat[a]), (lon[b], lat[b])] for a, b in zip(net.u, net.v, strict=True)]
        )
        overlays.append(
            Overlay(
                tr("proxy_layer"),
                gpd.GeoDataFrame(geometry=lines, crs=4326),
                "#9e9e9e",
                show=True,
                weight=0.8,
                dash="4 4",
                fill_opacity=0.0,
                legend=tr("proxy_legend"),
            )
        )
    for rec in areas.drop(columns="geometry").to_dict("records"):
        one = areas[(areas["kind"] == rec["kind"]) & (areas["level"] == rec["level"])]
        overlays.append(
            Overlay(
                state.tr_plain("service_area_layer", name=std_name(rec["kind"], rec["level"])),
                one,
                LEVEL_COLOURS.get(rec["level"], "#555555"),
                show=(rec["kind"], rec["level"]) == (kind, level),
                fill_opacity=0.28,
                weight=1.5,
                legend=tr("service_area_legend"),
                legend_colour="#666666",
            )
        )
    gaps = gaps.assign(
        rule_text=[
            f"{std_name(k, v)} · {tr('mode_' + m)} ≤ {x:g} min"
            for k, v, m, x in zip(
                gaps["kind"], gaps["level"], gaps["mode"], gaps["max_minutes"], strict=True
            )
        ]
    )
    fields = (
        (tr("col_gap"), "gap_id"),
        (tr("col_rank"), "rank"),
        (tr("col_rule"), "rule_text"),
        (tr("col_weight"), "weight"),
        (tr("col_points"), "points"),
        (tr("col_townships"), "townships"),
        (tr("col_nearest_site"), "nearest_site_id"),
        (tr("col_nearest_minutes"), "nearest_minutes"),
    )
    for (gk, gl), part in gaps.groupby(["kind", "level"], sort=False):
        overlays.append(
            Overlay(
                state.tr_plain("gap_layer", name=std_name(gk, gl)),
                part,
                "#d7301f",
                popup_fields=fields,
                tooltip_field="gap_id",
                show=(gk, gl) == (kind, level),
                on_top=True,
                fill_opacity=0.35,
                weight=2,
                legend=tr("gap_legend"),
            )
        )
    fmap = network_map(
        sites,
        demand,
        labels=labels,
        basemap=st.session_state.get("basemap", "blank"),
        tianditu_key=state.tianditu_key(),
        show_demand=False,
        overlays=tuple(overlays),
        banner=tr("proxy_banner") if analysis.is_proxy else "",
    )
    st_folium(fmap, height=600, use_container_width=True, returned_objects=[], key="cov_map")

st.subheader(tr("county_bars"))
area = analysis.coverage.by_area
county = area[(area["area_type"] == "county") & (area["kind"] == kind) & (area["level"] == level)]
bars = (county.set_index("county")["covered_share"].astype(float) * 100.0).rename(
    tr("col_covered_percent")
)
st.bar_chart(bars, horizontal=True, height=36 * max(len(bars), 3) + 60)

# the gap table full width: the townships and the nearest site are what a planner reads
st.subheader(tr("gaps_title"))
mine = gaps[(gaps["kind"] == kind) & (gaps["level"] == level)]
if not len(mine):
    st.success(tr("no_gaps"))
else:
    names = dict(
        zip(sites["site_id"].astype(str), sites["name"].fillna("").astype(str), strict=True)
    )
    shown = pd.DataFrame(
        {
            tr("col_gap"): mine["gap_id"],  # ranked: G3-001 is the largest
            tr("col_weight"): mine["weight"],
            tr("col_share"): pd.to_numeric(mine["share_of_demand"]) * 100.0,
            tr("col_points"): mine["points"],
            tr("col_townships"): mine["townships"],
            tr("col_nearest_site"): [
                names.get(str(i), str(i)) if isinstance(i, str) else ""
                for i in mine["nearest_site_id"]
            ],
            tr("col_nearest_minutes"): mine["nearest_minutes"],
        }
    )
    st.dataframe(
        shown.head(50),
        hide_index=True,
        width="stretch",
        column_config={
            tr("col_gap"): st.column_config.TextColumn(width="small"),
            tr("col_weight"): st.column_config.NumberColumn(format="localized", width="small"),
            tr("col_share"): st.column_config.NumberColumn(format="%.1f%%", width="small"),
            tr("col_points"): st.column_config.NumberColumn(width="small"),
            tr("col_townships"): st.column_config.TextColumn(width="medium"),
            tr("col_nearest_site"): st.column_config.TextColumn(width="medium"),
            tr("col_nearest_minutes"): st.column_config.NumberColumn(format="%.1f", width="small"),
        },
    )
d1, d2 = st.columns(2)
d1.download_button(
    tr("download_gaps"),
    tables.download_csv(gaps),
    file_name="gaps.csv",
    mime="text/csv",
    key="cov_dl_gaps",
)
d2.download_button(
    tr("download_coverage"),
    tables.download_csv(analysis.coverage.points),
    file_name="coverage.csv",
    mime="text/csv",
    key="cov_dl_cov",
)
