"""Network map page: every site by kind and level, demand, counts."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.maps import BASEMAPS, LEVEL_ORDER, network_map
from ui import state
from ui.strings import vocabulary_words

tr = state.tr
sites = state.sites()
demand = state.demand()

st.title(tr("app_title"))
if st.session_state.get("dataset") == "demo":
    st.caption(tr("demo_note"))
# what to do first, in one line (the map stays in view); the steps in detail when opened
st.info(tr("guide_line"), icon=":material/explore:")
with st.expander(tr("guide_title")):
    for step in range(1, 6):
        st.markdown(tr(f"guide_{step}"))

with st.sidebar:
    basemap = st.selectbox(
        tr("basemap"), BASEMAPS, format_func=lambda b: tr(f"basemap_{b}"), key="basemap"
    )
    show_demand = st.checkbox(tr("show_demand"), value=True, key="show_demand")
    if basemap != "blank":
        st.caption(tr("online_note"))
key = state.tianditu_key()
if basemap == "tianditu" and not key:
    st.warning(tr("tianditu_missing"))

c1, c2, c3, c4 = st.columns(4)
c1.metric(tr("metric_sites"), f"{len(sites):,}")
c2.metric(tr("metric_demand_points"), f"{len(demand):,}")
c3.metric(tr("metric_demand_weight"), f"{demand['weight'].sum():,.0f}" if len(demand) else "0")
c4.metric(tr("metric_counties"), f"{demand['county'].nunique() if len(demand) else 0}")

if not len(sites):
    st.info(tr("no_sites"))


fmap = network_map(
    sites,
    demand,
    labels=state.map_labels(),
    basemap=basemap,
    tianditu_key=key,
    show_demand=show_demand,
)
st_folium(fmap, height=640, use_container_width=True, returned_objects=[], key="network_map")

lg = state.lang()
kinds, levels = vocabulary_words("kind", lg), vocabulary_words("level", lg)
if len(sites):
    # one above the other: the county table has a column per level and the total
    left = right = st.container()
    counts = (
        sites.groupby(["kind", "level"], sort=False)
        .size()
        .reset_index(name="n")
        .sort_values(["kind", "level"])
    )
    counts[tr("col_kind")] = counts["kind"].map(lambda k: kinds.get(k, k))
    counts[tr("col_level")] = counts["level"].map(lambda v: levels.get(v, v))
    counts[tr("col_count")] = counts["n"]
    left.subheader(tr("table_by_level"))
    left.dataframe(
        counts[[tr("col_kind"), tr("col_level"), tr("col_count")]],
        hide_index=True,
        width="stretch",
    )
    order = [lv for lv in LEVEL_ORDER if lv in set(sites["level"])]
    by_county = pd.crosstab(sites["county"].fillna("—"), sites["level"]).reindex(
        columns=order + sorted(set(sites["level"].dropna()) - set(order))
    )
    by_county.columns = [levels.get(v, v) for v in by_county.columns]
    by_county[tr("col_total")] = by_county.sum(axis=1)
    by_county.loc[tr("col_total")] = by_county.sum(axis=0)  # the 合计 row
    by_county.index.name = tr("col_county")
    right.subheader(tr("table_by_county"))
    # every county and the total in view, no inner scrolling
    right.dataframe(by_county, width="stretch", height=35 * (len(by_county) + 1) + 3)
