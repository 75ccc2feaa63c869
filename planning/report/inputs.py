"""What a report shows: the analysis, the tables, and optionally a suggestion and a comparison."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import geopandas as gpd

from planning.coverage.analysis import Analysis
from planning.locate.suggest import Suggestion
from planning.scenario import Comparison


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report shows and what it was computed from."""

    analysis: Analysis
    sites: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    suggestion: Suggestion | None = None
    title: str | None = None
    lang: str = "zh"
    generated: str = field(default_factory=lambda: dt.date.today().isoformat())
    focus: tuple[str, str] | None = None  # (kind, level) drawn on the map
    comparison: tuple[str, Comparison] | None = None  # (scenario name, base vs scenario)
    #: the plan the report describes: a scenario's name, or "" for the base (as is)
    plan: str = ""
