"""Cached analysis for the app: networks and coverage are computed once per input."""

from __future__ import annotations

import hashlib

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.network import RoadNetwork
from planning.analyze import Analysis, build_networks, run_analysis, service_areas
from planning.coverage import CoverageOptions
from planning.standards import Standard, load_standards, parse_standards, standards_toml


def frame_key(frame: pd.DataFrame) -> str:
    """A content hash of a table (geometry left out: lon/lat carry the position)."""
    plain = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    return hashlib.sha256(plain.to_csv(index=False).encode("utf-8")).hexdigest()[:16]


def standards() -> tuple[Standard, ...]:
    """The standards in force in this session (the defaults until edited)."""
    if "standards" not in st.session_state:
        st.session_state["standards"] = load_standards()
    value: tuple[Standard, ...] = st.session_state["standards"]
    return value


def set_standards_from_table(table: pd.DataFrame) -> tuple[Standard, ...]:
    """Validate an edited standards table and put it in force (raises StandardsError)."""
    rows = []
    for rec in table.to_dict("records"):
        row = {
            k: v
            for k, v in rec.items()
            if v is not None and not (isinstance(v, float) and pd.isna(v))
        }
        if "max_minutes" in row:
            row["max_minutes"] = float(row["max_minutes"])
        if "target_share" in row:
            row["target_share"] = float(row["target_share"])
        if "higher_levels_count" in row:
            row["higher_levels_count"] = bool(row["higher_levels_count"])
        rows.append(row)
    parsed = parse_standards({"standard": rows}, source="app")
    st.session_state["standards"] = parsed
    return parsed


@st.cache_resource(show_spinner=False, max_entries=4)
def _networks(
    key: str, modes: tuple[str, ...], _sites: pd.DataFrame, _demand: pd.DataFrame
) -> dict[str, RoadNetwork]:
    return build_networks(modes, _sites, _demand)


@st.cache_resource(show_spinner=False, max_entries=8)
def _analysis(
    key: str,
    std_text: str,
    after: bool,
    _sites: gpd.GeoDataFrame,
    _demand: gpd.GeoDataFrame,
    _stds: tuple[Standard, ...],
    _nets: dict[str, RoadNetwork],
) -> tuple[Analysis, gpd.GeoDataFrame]:
    options = CoverageOptions(after_completion=after)
    analysis = run_analysis(_sites, _demand, _stds, networks=_nets, options=options)
    areas = service_areas(_sites, _stds, _nets, options)
    return analysis, areas


def current_analysis(
    sites: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, after_completion: bool
) -> tuple[Analysis, gpd.GeoDataFrame]:
    """Coverage, gaps, access and service areas for the session's data (cached)."""
    stds = standards()
    key = frame_key(sites) + frame_key(demand)
    modes = tuple(sorted({s.mode for s in stds}))
    # Networks depend on the points only through the proxy network; a road file
    # would be keyed by its own hash in geo.roads' cache.
    nets = _networks(key, modes, sites, demand)
    return _analysis(key, standards_toml(stds), after_completion, sites, demand, stds, nets)
