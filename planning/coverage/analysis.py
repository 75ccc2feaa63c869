"""The analysis pipeline: networks per mode, coverage, gaps, accessibility, outputs."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.export import atomic_path, csv_bytes, staged_folder, write_json
from geo.network import Mode, RoadNetwork
from geo.proxy import PROXY_LABEL, proxy_network
from geo.threads import side_by_side
from planning.coverage.access import AccessResult, compute_access
from planning.coverage.compute import CoverageOptions, CoverageResult, compute_coverage, json_value
from planning.coverage.gaps import GapOptions, find_gaps
from planning.coverage.standards import Standard

BBOX_MARGIN_DEG = 0.05
BBOX_GRID_DEG = 0.05


@dataclass(frozen=True)
class Analysis:
    """Everything one analysis produced, with what it was computed from."""

    coverage: CoverageResult
    gaps: gpd.GeoDataFrame
    #: the accessibility scores, or how to compute them when first asked for
    access_source: AccessResult | Callable[[], AccessResult]
    networks: dict[str, RoadNetwork]
    standards: tuple[Standard, ...]
    provenance: dict[str, Any] = field(default_factory=dict)

    @functools.cached_property
    def access(self) -> AccessResult:
        """E2SFCA scores and inequality, computed once, on first use.

        Comparing two plans needs only coverage and gaps, so the scores of a
        plan being edited are not computed until a page or a file shows them.
        """
        src = self.access_source
        return src if isinstance(src, AccessResult) else src()

    @property
    def is_proxy(self) -> bool:
        """Whether any travel time came from the proxy network."""
        return any(n.facts.is_proxy for n in self.networks.values())


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, for provenance."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def study_bbox(
    *tables: pd.DataFrame, margin: float = BBOX_MARGIN_DEG
) -> tuple[float, float, float, float]:
    """Extent of the study's points (WGS-84) plus a margin, to clip large road files.

    The box is widened outward to multiples of ``BBOX_GRID_DEG`` so that a
    point added or moved inside it (an edit in the app) keeps the same clip,
    the same network and everything already computed on it.
    """
    lon = np.concatenate([t["lon"].to_numpy(dtype="float64") for t in tables if len(t)])
    lat = np.concatenate([t["lat"].to_numpy(dtype="float64") for t in tables if len(t)])
    g = BBOX_GRID_DEG
    return (
        round(float(np.floor((lon.min() - margin) / g) * g), 6),
        round(float(np.floor((lat.min() - margin) / g) * g), 6),
        round(float(np.ceil((lon.max() + margin) / g) * g), 6),
        round(float(np.ceil((lat.max() + margin) / g) * g), 6),
    )


def build_networks(
    modes: Iterable[str],
    sites: pd.DataFrame,
    demand: pd.DataFrame,
    roads: str | Path | None = None,
    *,
    walk_kph: float = 5.0,
) -> dict[str, RoadNetwork]:
    """A network per travel mode: from the road file, or the proxy network without one.

    The modes of a road file are built side by side (reading, noding and
    the coordinate transforms are compiled code that releases the GIL: on a
    200,000-node line layer 4.1 s for two modes instead of 5.3 s); a warm
    load reads the cached arrays.
    """
    wanted = sorted(set(modes))

    def as_mode(mode: str) -> Mode:
        return "walk" if mode == "walk" else "drive"

    if roads is None:
        lon = np.concatenate([demand["lon"].to_numpy(), sites["lon"].to_numpy()])
        lat = np.concatenate([demand["lat"].to_numpy(), sites["lat"].to_numpy()])
        return {mode: proxy_network(lon, lat, mode=as_mode(mode)) for mode in wanted}
    from geo.roads import load_roads

    bbox = study_bbox(sites, demand)

    def load(mode: str) -> RoadNetwork:
        return load_roads(roads, mode=as_mode(mode), bbox=bbox, walk_kph=walk_kph)

    return dict(zip(wanted, side_by_side(load, wanted), strict=True))


def run_analysis(
    sites: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    standards: tuple[Standard, ...],
    *,
    roads: str | Path | None = None,
    networks: dict[str, RoadNetwork] | None = None,
    options: CoverageOptions | None = None,
    gap_options: GapOptions | None = None,
    provenance: dict[str, Any] | None = None,
) -> Analysis:
    """Coverage, gaps and accessibility for every standard."""
    opts = options or CoverageOptions()
    nets = networks or build_networks(
        (s.mode for s in standards), sites, demand, roads, walk_kph=opts.walk_kph
    )
    # plain tables for the per-standard work: selecting rows of a GeoDataFrame
    # costs more than the search itself on a small study
    plain_sites = pd.DataFrame(sites.drop(columns="geometry", errors="ignore"))
    plain_demand = pd.DataFrame(demand.drop(columns="geometry", errors="ignore"))
    coverage = compute_coverage(plain_sites, plain_demand, standards, nets, opts)
    gaps = find_gaps(coverage, plain_demand, gap_options)
    access = functools.partial(compute_access, plain_sites, plain_demand, standards, nets, opts)
    return Analysis(coverage, gaps, access, nets, standards, dict(provenance or {}))


def network_summary(analysis: Analysis) -> dict[str, Any]:
    """Network facts for ``summary.json``: the first mode's at the top, all under by_mode."""
    by_mode: dict[str, Any] = {}
    cov = analysis.coverage.standards
    for mode, net in sorted(analysis.networks.items()):
        facts = net.facts.as_dict()
        rows = cov[cov["mode"] == mode]
        facts["edges"] = facts["segments"]
        facts["points_snapped_too_far"] = int(rows["demand_unsnapped"].max()) if len(rows) else 0
        facts["points_near_dropped_components"] = (
            int(rows["demand_near_dropped"].max()) if len(rows) else 0
        )
        by_mode[mode] = facts
    first: dict[str, Any] = next(iter(by_mode.values()), {})
    return {**first, "by_mode": by_mode}


def summary(analysis: Analysis) -> dict[str, Any]:
    """The ``summary.json`` document."""
    notes = list(analysis.coverage.notes) + list(analysis.access.notes)
    if analysis.is_proxy:
        notes.insert(0, PROXY_LABEL)
    return {
        "proxy_network": analysis.is_proxy,
        "after_completion": analysis.coverage.options.after_completion,
        "standards": analysis.coverage.standard_rows(),
        "by_area": analysis.coverage.area_rows(),
        "gaps": len(analysis.gaps),
        "access": [
            {str(k): json_value(v) for k, v in row.items()}
            for row in analysis.access.standards.to_dict("records")
        ],
        "network": network_summary(analysis),
        "inputs": analysis.provenance,
        "notes": notes,
    }


COVERAGE_COLUMNS = [
    "demand_id",
    "kind",
    "level",
    "nearest_site_id",
    "minutes",
    "covered",
    "mode",
    "max_minutes",
    "snapped",
    "weight",
    "county",
    "township",
]


ANALYSIS_OUTPUTS = ("summary.json", "coverage.csv", "gaps.geojson", "by_area.csv", "access.csv")


def write_analysis(
    analysis: Analysis,
    out: str | Path,
    *,
    human: Callable[[pd.DataFrame], bytes] | None = None,
) -> list[Path]:
    """Write summary.json, coverage.csv, gaps.geojson, by_area.csv and access.csv.

    ``human`` writes the two human-facing tables, by_area.csv and access.csv
    (the command line's ``--lang`` passes
    :func:`planning.report.tables.human_csv` in its language); the other three
    keep their machine columns whatever the language (the automation contract).

    All five are produced in a folder beside ``out`` that then replaces it as a
    whole (see ``geo.export.staged_folder``): a failed or killed run leaves the
    previous folder as it was, never a mix of two runs.
    """
    with staged_folder(out, ANALYSIS_OUTPUTS) as folder:
        written = [folder / n for n in ANALYSIS_OUTPUTS]
        write_json(summary(analysis), written[0])
        points = analysis.coverage.points
        table = (
            points[COVERAGE_COLUMNS].copy()
            if len(points)
            else pd.DataFrame(columns=COVERAGE_COLUMNS)
        )
        table["minutes"] = table["minutes"].astype("Float64")
        with atomic_path(written[1]) as tmp:
            tmp.write_bytes(csv_bytes(table))
        gaps = analysis.gaps
        with atomic_path(written[2]) as tmp:
            tmp.write_text(gaps.to_json(drop_id=True, ensure_ascii=False), encoding="utf-8")
        access = analysis.access.points.copy()
        if len(access):
            access["score_per_1000"] = access["score_per_1000"].round(6)
        for path, frame in ((written[3], analysis.coverage.by_area), (written[4], access)):
            with atomic_path(path) as tmp:
                tmp.write_bytes(human(frame) if human else csv_bytes(frame))
    return [Path(out) / n for n in ANALYSIS_OUTPUTS]


def service_areas(
    sites: pd.DataFrame,
    standards: tuple[Standard, ...],
    networks: dict[str, RoadNetwork],
    options: CoverageOptions | None = None,
) -> gpd.GeoDataFrame:
    """One service-area polygon (WGS-84) per standard, from its qualifying sites."""
    from geo.projection import to_metric
    from planning.coverage.compute import qualifying_sites
    from planning.network.travel import service_area

    opts = options or CoverageOptions()
    rows, shapes = [], []
    for std in standards:
        net = networks[std.mode]
        counted, _ = qualifying_sites(sites, std, after_completion=opts.after_completion)
        if not len(counted):
            continue
        area = service_area(
            net,
            to_metric(counted["lon"], counted["lat"], net.crs),
            std.max_minutes * 60.0,
            max_snap_m=opts.max_snap_m,
            walk_kph=opts.walk_kph,
        )
        if area.is_empty:
            continue
        shape = gpd.GeoSeries([area], crs=net.crs).to_crs(4326).iloc[0]
        rows.append(
            {
                "kind": std.kind,
                "level": std.level,
                "mode": std.mode,
                "max_minutes": std.max_minutes,
                "sites": len(counted),
            }
        )
        shapes.append(shape.simplify(0.0002))
    return gpd.GeoDataFrame(rows, geometry=shapes, crs=4326)
