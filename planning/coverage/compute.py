"""Coverage of demand under tiered service standards.

For every demand point and standard: the nearest qualifying site over the
network, its travel time, and whether that is within the standard. A site
qualifies when it has the standard's kind and level (or a higher level, only if
the standard says higher levels count) and is operating — existing, or also
planned and under construction when coverage "after completion" is asked for.
Closed sites never count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.network import RoadNetwork
from geo.projection import to_metric
from geo.vocab import Vocabulary, load_vocabulary
from planning.coverage.standards import Standard
from planning.network.prepared import prepare_all, prepared_for
from planning.network.travel import DEFAULT_MAX_SNAP_M, DEFAULT_WALK_KPH

OPERATING = ("existing",)
AFTER_COMPLETION = ("existing", "planned", "under_construction")
TOLERANCE_S = 1e-6


#: a walking speed above this is a typing error (a runner keeps about 20 km/h)
WALK_KPH_BOUND = 30.0
#: a snap farther than this is not a walk to the road (100 km)
MAX_SNAP_M_BOUND = 100_000.0


@dataclass(frozen=True)
class CoverageOptions:
    """How coverage is computed.

    ``search_factor``: the nearest site is searched up to this many times the
    standard's time, so uncovered points still get a time when a site is near;
    beyond it a point has no nearest site ("not reached").
    """

    after_completion: bool = False
    max_snap_m: float = DEFAULT_MAX_SNAP_M
    walk_kph: float = DEFAULT_WALK_KPH
    search_factor: float = 4.0

    def __post_init__(self) -> None:
        for name, zh, most in (
            ("max_snap_m", "最大吸附距离（米）", MAX_SNAP_M_BOUND),
            ("walk_kph", "步行速度（千米/时）", WALK_KPH_BOUND),
            ("search_factor", "搜索倍数", np.inf),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not (np.isfinite(value) and value > 0):
                raise InputError(f"{zh}须为有限的正数：{value}", f"{name} must be > 0: {value}")
            if value > most:
                # a walk of 1e308 km/h answered "everyone covered" with exit 0
                raise InputError(
                    f"{zh}至多为 {most:g}：{value}", f"{name} must be at most {most:g}: {value}"
                )


@dataclass(frozen=True)
class CoverageResult:
    """Per-point coverage, totals per standard, and totals per area."""

    points: pd.DataFrame
    standards: pd.DataFrame
    by_area: pd.DataFrame
    options: CoverageOptions
    notes: tuple[str, ...] = field(default=())

    def standard_rows(self) -> list[dict[str, Any]]:
        """Standards table as JSON-ready dicts."""
        return _records(self.standards)

    def area_rows(self) -> list[dict[str, Any]]:
        """Per-area table as JSON-ready dicts."""
        return _records(self.by_area)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): json_value(v) for k, v in row.items()} for row in frame.to_dict("records")]


def json_value(value: Any) -> Any:
    """A table cell as a JSON value: missing and non-finite numbers become None."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    return value


def qualifying_sites(
    sites: pd.DataFrame,
    standard: Standard,
    *,
    after_completion: bool = False,
    vocabulary: Vocabulary | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Sites that count for a standard, and how many were left out by their status."""
    vocab = vocabulary or load_vocabulary()
    levels = {standard.level}
    if standard.higher_levels_count:
        rank = vocab.levels[standard.level].rank or 99
        levels |= {c for c, t in vocab.levels.items() if (t.rank or 99) < rank}
    same = sites[(sites["kind"] == standard.kind) & sites["level"].isin(levels)]
    statuses = AFTER_COMPLETION if after_completion else OPERATING
    counted = same[same["status"].isin(statuses)]
    ignored = same.loc[~same["status"].isin(statuses), "status"].value_counts()
    return counted, {str(k): int(v) for k, v in ignored.items()}


def compute_coverage(
    sites: pd.DataFrame,
    demand: pd.DataFrame,
    standards: tuple[Standard, ...],
    networks: Mapping[str, RoadNetwork],
    options: CoverageOptions | None = None,
) -> CoverageResult:
    """Coverage of every demand point under every standard.

    Parameters
    ----------
    sites, demand
        Canonical site and demand tables (WGS-84).
    standards
        The standards to measure.
    networks
        One network per travel mode used by the standards (``drive``, ``walk``).
    options
        Status handling, snapping and search limits.
    """
    opts = options or CoverageOptions()
    point_frames: list[pd.DataFrame] = []
    summary: list[dict[str, Any]] = []
    weights = demand["weight"].to_numpy(dtype="float64")
    total_weight = float(weights.sum())
    # the networks of all modes in use, demand snapped, side by side
    prepare_all(
        [networks[m] for m in sorted({s.mode for s in standards})],
        demand["lon"],
        demand["lat"],
        max_snap_m=opts.max_snap_m,
        walk_kph=opts.walk_kph,
    )
    for std in standards:
        net = networks[std.mode]
        counted, ignored = qualifying_sites(sites, std, after_completion=opts.after_completion)
        # demand is snapped once per network and kept with it (planning.network)
        prep = prepared_for(
            net, demand["lon"], demand["lat"], max_snap_m=opts.max_snap_m, walk_kph=opts.walk_kph
        )
        sxy = to_metric(counted["lon"], counted["lat"], net.crs)
        limit_s = std.max_minutes * 60.0
        res = prep.nearest_site(sxy, cutoff_s=limit_s * max(opts.search_factor, 1.0) + TOLERANCE_S)
        reached = res.reached
        minutes = pd.array(np.where(reached, res.seconds.filled(0) / 60.0, 0.0), dtype="Float64")
        minutes[~reached] = pd.NA
        site_ids = counted["site_id"].to_numpy(dtype=object)
        nearest = np.full(len(demand), None, dtype=object)
        nearest[reached] = site_ids[res.site.filled(0)[reached]]
        # a microsecond of tolerance: a point exactly at the limit is covered
        # whatever the rounding of the coordinate transforms
        covered = reached & (res.seconds.filled(np.inf) <= limit_s + TOLERANCE_S)
        frame = pd.DataFrame(
            {
                "demand_id": demand["demand_id"].to_numpy(dtype=object),
                "kind": std.kind,
                "level": std.level,
                "mode": std.mode,
                "max_minutes": std.max_minutes,
                "nearest_site_id": nearest,
                "minutes": minutes,
                "covered": covered,
                "snapped": res.demand_snap.ok,
                "weight": weights,
                "county": demand["county"].to_numpy(dtype=object),
                "township": demand["township"].to_numpy(dtype=object),
            }
        )
        point_frames.append(frame)
        covered_weight = float(weights[covered].sum())
        share = covered_weight / total_weight if total_weight > 0 else None
        summary.append(
            {
                "kind": std.kind,
                "level": std.level,
                "mode": std.mode,
                "max_minutes": std.max_minutes,
                "target_share": std.target_share,
                "higher_levels_count": std.higher_levels_count,
                "total_weight": total_weight,
                "covered_weight": covered_weight,
                "covered_share": share,
                "met": None
                if std.target_share is None or share is None
                else bool(share >= std.target_share),
                "sites_counted": len(counted),
                "sites_unsnapped": res.site_snap.unsnapped,
                "sites_ignored_by_status": ignored,
                "demand_unsnapped": res.demand_snap.unsnapped,
                "demand_near_dropped": int(res.demand_snap.near_dropped.sum()),
            }
        )
    points = pd.concat(point_frames, ignore_index=True) if point_frames else pd.DataFrame()
    return CoverageResult(points, pd.DataFrame(summary), _by_area(points), opts)


def _by_area(points: pd.DataFrame) -> pd.DataFrame:
    if points.empty:
        return pd.DataFrame(
            columns=[
                "area_type",
                "county",
                "township",
                "kind",
                "level",
                "total_weight",
                "covered_weight",
                "covered_share",
            ]
        )
    p = points.assign(
        county=points["county"].fillna("—"),
        township=points["township"].fillna("—"),
        covered_weight=points["weight"].where(points["covered"], 0.0),
    )
    frames = []
    for area_type, keys in (("county", ["county"]), ("township", ["county", "township"])):
        g = (
            p.groupby([*keys, "kind", "level"], sort=True)
            .agg(total_weight=("weight", "sum"), covered_weight=("covered_weight", "sum"))
            .reset_index()
        )
        g.insert(0, "area_type", area_type)
        if area_type == "county":
            g.insert(2, "township", None)
        frames.append(g)
    out = pd.concat(frames, ignore_index=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = out["covered_weight"] / out["total_weight"]
    out["covered_share"] = share.where(out["total_weight"] > 0, None)
    return out
