"""Cached analysis for the app: networks and coverage are computed once per input."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.network import RoadNetwork
from geo.project import Project
from geo.uploads import remove_road_upload, store_road_upload
from planning.coverage.analysis import (
    Analysis,
    build_networks,
    run_analysis,
    service_areas,
    study_bbox,
)
from planning.coverage.compute import CoverageOptions, compute_coverage
from planning.coverage.gaps import find_gaps
from planning.coverage.standards import Standard, load_standards, parse_standards, standards_toml
from planning.locate.candidates import CandidateOptions, build_candidates
from planning.locate.suggest import Suggestion, SuggestRequest, suggest
from planning.scenario import (
    Comparison,
    apply_changes,
    compare,
    network_points,
    project_standards,
    scenario_changes,
)


def frame_key(frame: pd.DataFrame) -> str:
    """A content hash of a table (geometry left out: lon/lat carry the position).

    Column names, types and every value (``pandas.util.hash_pandas_object``
    per row): on 20,000 demand points a few milliseconds, where writing the
    table out as text to hash it took a tenth of a second on every rerun.
    """
    plain = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    digest = hashlib.sha256(repr([(str(c), str(t)) for c, t in plain.dtypes.items()]).encode())
    digest.update(str(len(plain)).encode())
    if len(plain.columns):
        digest.update(pd.util.hash_pandas_object(plain, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def standards() -> tuple[Standard, ...]:
    """The standards in force in this session (the defaults until edited)."""
    if "standards" not in st.session_state:
        st.session_state["standards"] = load_standards()
    value: tuple[Standard, ...] = st.session_state["standards"]
    return value


def parse_standards_table(table: pd.DataFrame) -> tuple[Standard, ...]:
    """The standards of an edited standards table, validated (raises StandardsError)."""
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
    return parse_standards({"standard": rows}, source="app")


@st.cache_resource(show_spinner=False, max_entries=4)
def _networks(
    key: str, modes: tuple[str, ...], roads: str | None, _sites: pd.DataFrame, _demand: pd.DataFrame
) -> dict[str, RoadNetwork]:
    # geo.roads also caches built networks on disk (Parquet beside the file)
    return build_networks(modes, _sites, _demand, roads)


def roads_path() -> str | None:
    """The road file uploaded in this session, if any (kept under the user cache)."""
    value = st.session_state.get("roads_path")
    return str(value) if value else None


def save_roads_upload(name: str, data: bytes) -> str:
    """Keep an uploaded road file (named by its hash, never by the client) and use it.

    Raises
    ------
    UploadError
        A file type not accepted or a file too large (nothing is kept).
    """
    path = store_road_upload(name, data)
    st.session_state["roads_path"] = str(path)
    st.session_state["roads_name"] = name
    return str(path)


def roads_message(text: str) -> str:
    """A message about the session's road file naming it as uploaded: its stored path
    (the server's cache folder and the file's hash) is no one else's business."""
    path, name = st.session_state.get("roads_path"), st.session_state.get("roads_name")
    if not path:
        return text
    shown = str(name or Path(path).name)
    return text.replace(str(path), shown).replace(str(Path(path).parent), "…")


def drop_roads_upload() -> None:
    """Stop using the session's road file; an upload that was refused is deleted at once."""
    path = st.session_state.pop("roads_path", None)
    st.session_state.pop("roads_name", None)
    if path:
        remove_road_upload(path)


@st.cache_resource(show_spinner=False, max_entries=8)
def _analysis(
    key: str,
    std_text: str,
    after: bool,
    _sites: gpd.GeoDataFrame,
    _demand: gpd.GeoDataFrame,
    _stds: tuple[Standard, ...],
    _nets: dict[str, RoadNetwork],
) -> Analysis:
    # The networks come from _networks: the same objects on every rerun while
    # the roads (or, for the proxy, the points) do not change, so the prepared
    # network kept with each (demand snapped once, every site's reach, every
    # standard's nearest-site answer) is reused and an edit recomputes only
    # what it touches.
    options = CoverageOptions(after_completion=after)
    return run_analysis(_sites, _demand, _stds, networks=_nets, options=options)


@st.cache_resource(show_spinner=False, max_entries=8)
def _areas(
    key: str,
    std_text: str,
    after: bool,
    _sites: gpd.GeoDataFrame,
    _stds: tuple[Standard, ...],
    _nets: dict[str, RoadNetwork],
) -> gpd.GeoDataFrame:
    return service_areas(_sites, _stds, _nets, CoverageOptions(after_completion=after))


def _network_key(net_sites: pd.DataFrame, demand: pd.DataFrame, roads: str | None) -> str:
    """What the networks depend on: a road file and its clip box, or the proxy's points."""
    if roads:
        # the file is clipped to the study's box (widened to a grid): a site
        # placed or moved inside it keeps the network and all its caches
        return f"{roads}|{study_bbox(net_sites, demand)}|{frame_key(demand)}"
    return frame_key(net_sites) + frame_key(demand)


def current_analysis(
    sites: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, after_completion: bool
) -> Analysis:
    """Coverage, gaps and access for the session's data (cached)."""
    return analysis_for(sites, demand, standards(), after_completion)


def current_service_areas(
    sites: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, after_completion: bool
) -> gpd.GeoDataFrame:
    """Service areas of every standard for the session's data (cached; only the map draws them)."""
    stds = standards()
    nets, key = _session_networks(sites, demand, stds, None)
    return _areas(key, standards_toml(stds), after_completion, sites, stds, nets)


def _session_networks(
    sites: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    stds: tuple[Standard, ...],
    network_sites: pd.DataFrame | None,
) -> tuple[dict[str, RoadNetwork], str]:
    net_sites = sites if network_sites is None else network_sites
    modes = tuple(sorted({s.mode for s in stds} | {"drive", "walk"}))
    roads = roads_path()
    net_key = _network_key(net_sites, demand, roads)
    nets = _networks(net_key, modes, roads, net_sites, demand)
    return nets, frame_key(sites) + net_key + (roads or "")


def analysis_for(
    sites: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    stds: tuple[Standard, ...],
    after_completion: bool = False,
    network_sites: pd.DataFrame | None = None,
) -> Analysis:
    """Coverage, gaps and access for any tables and standards (cached).

    ``network_sites`` (default ``sites``) are the site positions the proxy
    network joins; plans being compared pass the sites of both
    (``planning.scenario.network_points``) so they share one network.
    """
    nets, key = _session_networks(sites, demand, stds, network_sites)
    return _analysis(key, standards_toml(stds), after_completion, sites, demand, stds, nets)


def scenario_comparison(project: Project, name: str) -> Comparison:
    """Scenario ``name`` against the project's base, both as built, on one network.

    One network for both plans matters for the proxy network (see
    ``planning.scenario.compare_plans``, the command line's version of this).
    """
    base_stds = project_standards(project)
    scen_sites, scen_stds = apply_changes(project.sites, base_stds, scenario_changes(project, name))
    shared = network_points(project.sites, scen_sites)
    base_an = analysis_for(project.sites, project.demand, base_stds, True, shared)
    scen_an = analysis_for(scen_sites, project.demand, scen_stds, True, shared)
    return compare(base_an, scen_an, project.sites, scen_sites)


def networks_for(sites: gpd.GeoDataFrame, demand: gpd.GeoDataFrame) -> dict[str, RoadNetwork]:
    """The session's networks for every mode the standards use (cached)."""
    return _session_networks(sites, demand, standards(), None)[0]


@st.cache_resource(show_spinner=False, max_entries=16)
def _suggestion(
    key: str,
    request: SuggestRequest,
    sources: tuple[str, ...],
    user_key: str,
    _sites: gpd.GeoDataFrame,
    _demand: gpd.GeoDataFrame,
    _user: pd.DataFrame | None,
    _nets: dict[str, RoadNetwork],
    numbering: tuple[tuple[str, str], ...] = (),
) -> Suggestion:
    net = _nets[request.mode]
    std = Standard(request.kind, request.level, request.mode, request.max_minutes)
    cov = compute_coverage(
        _sites,
        _demand,
        (std,),
        {request.mode: net},
        CoverageOptions(after_completion=request.after_completion),
    )
    gaps = find_gaps(cov, _demand, numbering=numbering)  # ids as on the coverage page
    options = CandidateOptions(
        township_seats="township_seat" in sources,
        gap_nodes="gap_node" in sources,
        grid="grid" in sources,
    )
    candidates = build_candidates(
        _demand,
        _sites,
        request.kind,
        request.level,
        gaps=gaps,
        net=net,
        user=_user,
        options=options,
    )
    return suggest(request, _sites, _demand, candidates, net=net, gaps=gaps)


def run_suggestion(
    sites: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    request: SuggestRequest,
    sources: tuple[str, ...],
    user: pd.DataFrame | None,
) -> Suggestion:
    """Solve a suggestion for the session's data (cached per inputs)."""
    nets = networks_for(sites, demand)
    key = frame_key(sites) + frame_key(demand) + (roads_path() or "")
    user_key = frame_key(user) if user is not None else ""
    numbering = tuple((s.kind, s.level) for s in standards())
    return _suggestion(key, request, sources, user_key, sites, demand, user, nets, numbering)
