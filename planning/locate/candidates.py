"""Candidate locations for new sites, each recording where it came from.

Sources:

* ``township_seat`` — the main demand point (largest weight) of every township
  that has no site of the kind and level being planned;
* ``gap_node`` — road-network nodes inside gap clusters, thinned to a minimum
  spacing;
* ``grid`` — a regular grid over the study area (the demand points' hull,
  widened), at a spacing that gives about ``grid_target`` points;
* ``user`` — the planner's own list (CSV/XLSX with ``candidate_id, name, lon,
  lat`` and optional ``cost``, ``capacity``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.bounds import CAPACITY, COST
from geo.errors import InputError
from geo.network import RoadNetwork
from geo.numbers import parse_coordinate, parse_number
from geo.projection import to_lonlat, to_metric, utm_crs
from geo.textio import read_table
from geo.vocab import normalise_key

CANDIDATE_COLUMNS = [
    "candidate_id",
    "name",
    "source",
    "lon",
    "lat",
    "cost",
    "capacity",
    "county",
    "township",
]
_USER_HEADERS = {
    "candidate_id": ("candidate_id", "id", "编号", "候选编号", "候选点编号"),
    "name": ("name", "名称", "候选点名称"),
    "lon": ("lon", "lng", "longitude", "经度", "x"),
    "lat": ("lat", "latitude", "纬度", "y"),
    "cost": ("cost", "成本", "费用", "造价"),
    "capacity": ("capacity", "容量"),
}


@dataclass(frozen=True)
class CandidateOptions:
    """Which sources to use and how dense they are."""

    township_seats: bool = True
    gap_nodes: bool = True
    grid: bool = False
    grid_target: int = 300
    min_spacing_m: float = 1500.0


def _frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Candidates with every column; a cost or capacity not given stays empty (NaN)."""
    out = rows.reindex(columns=CANDIDATE_COLUMNS)
    out["cost"] = pd.to_numeric(out["cost"], errors="coerce").astype(float)
    out["capacity"] = pd.to_numeric(out["capacity"], errors="coerce").astype(float)
    return out.reset_index(drop=True)


def township_seats(
    demand: pd.DataFrame, sites: pd.DataFrame, kind: str, level: str
) -> pd.DataFrame:
    """The largest demand point of every township lacking a site of this kind and level."""
    if not len(demand):
        return _frame(pd.DataFrame())
    served = set(
        sites.loc[(sites["kind"] == kind) & (sites["level"] == level), "township"]
        .dropna()
        .astype(str)
    )
    d = demand.assign(
        _t=demand["township"].astype("string").fillna(demand["demand_id"].astype(str))
    )
    seats = d.sort_values(["_t", "weight", "demand_id"], ascending=[True, False, True])
    seats = seats.drop_duplicates("_t")
    seats = seats[~seats["_t"].isin(served)]
    return _frame(
        pd.DataFrame(
            {
                "candidate_id": "T-" + seats["demand_id"].astype(str),
                "name": seats["_t"].astype(str) + "（乡镇驻地）",
                "source": "township_seat",
                "lon": seats["lon"],
                "lat": seats["lat"],
                "county": seats["county"],
                "township": seats["township"],
            }
        )
    )


def _thin(x: np.ndarray, y: np.ndarray, spacing: float) -> np.ndarray:
    """Indices of points keeping at most one per ``spacing`` grid cell (nearest its centre)."""
    if len(x) == 0:
        return np.zeros(0, dtype=np.int64)
    cx, cy = np.floor(x / spacing), np.floor(y / spacing)
    dist = np.hypot(x - (cx + 0.5) * spacing, y - (cy + 0.5) * spacing)
    order = np.lexsort((np.arange(len(x)), dist, cy, cx))
    cells = np.column_stack([cx[order], cy[order]])
    first = np.ones(len(order), dtype=bool)
    first[1:] = np.any(cells[1:] != cells[:-1], axis=1)
    return np.sort(order[first])


def gap_nodes(
    gaps: gpd.GeoDataFrame, net: RoadNetwork, kind: str, level: str, spacing_m: float
) -> pd.DataFrame:
    """Network nodes inside the gap clusters of one standard, thinned to ``spacing_m``."""
    mine = gaps[(gaps["kind"] == kind) & (gaps["level"] == level)] if len(gaps) else gaps
    if not len(mine) or net.n_nodes == 0:
        return _frame(pd.DataFrame())
    area = gpd.GeoSeries(mine.geometry.to_numpy(), crs=4326).to_crs(net.crs).union_all()
    inside = np.flatnonzero(shapely.contains_xy(area, net.x, net.y))
    keep = inside[_thin(net.x[inside], net.y[inside], spacing_m)]
    lon, lat = to_lonlat(net.x[keep], net.y[keep], net.crs)
    return _frame(
        pd.DataFrame(
            {
                "candidate_id": [f"N-{int(k)}" for k in keep],
                "name": [f"路网节点 {int(k)}" for k in keep],
                "source": "gap_node",
                "lon": lon,
                "lat": lat,
            }
        )
    )


def grid(demand: pd.DataFrame, target: int) -> pd.DataFrame:
    """A regular grid over the demand points' hull (widened by one cell)."""
    if len(demand) < 3:
        return _frame(pd.DataFrame())
    crs = utm_crs(float(demand["lon"].median()), float(demand["lat"].median()))
    x, y = to_metric(demand["lon"], demand["lat"], crs)
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([x, y])))
    spacing = max(float(np.sqrt(hull.area / max(target, 1))), 100.0)
    hull = hull.buffer(spacing)
    minx, miny, maxx, maxy = hull.bounds
    mesh_x, mesh_y = np.meshgrid(np.arange(minx, maxx, spacing), np.arange(miny, maxy, spacing))
    gx, gy = mesh_x.ravel(), mesh_y.ravel()
    keep = shapely.contains_xy(hull, gx, gy)
    lon, lat = to_lonlat(gx[keep], gy[keep], crs)
    return _frame(
        pd.DataFrame(
            {
                "candidate_id": [f"G-{i:04d}" for i in range(int(keep.sum()))],
                "name": [f"网格点 {i}" for i in range(int(keep.sum()))],
                "source": "grid",
                "lon": lon,
                "lat": lat,
            }
        )
    )


def read_candidates(path: str | Path, *, encoding: str = "auto") -> pd.DataFrame:
    """The planner's candidate list: ``candidate_id, name, lon, lat`` [, ``cost``, ``capacity``]."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(
            "无法打开候选点文件", f"cannot open candidates: {exc.strerror}", file=source
        ) from None
    raw = read_table(data, source=source, encoding=encoding)
    keys = [normalise_key(h) for h in raw.header]
    cols: dict[str, int] = {}
    for field, names in _USER_HEADERS.items():
        folded = {normalise_key(n) for n in names}
        for idx, key in enumerate(keys):
            if key in folded and field not in cols:
                cols[field] = idx
    words = {"candidate_id": "编号", "lon": "经度", "lat": "纬度"}
    for need in ("candidate_id", "lon", "lat"):
        if need not in cols:
            raise InputError(
                f"候选点文件缺少列“{words[need]}”（表头：{'、'.join(raw.header)}）",
                f"candidates file lacks column {need} (header: {', '.join(raw.header)})",
                file=source,
                row=raw.header_row,
            )
    rows = []
    problems = []
    lines: list[int] = []
    for line, cells in raw.records:

        def cell(f: str, cells: tuple[str | None, ...] = cells) -> str | None:
            i = cols.get(f)
            return cells[i] if i is not None and i < len(cells) else None

        try:
            lon = parse_coordinate(cell("lon") or "")
            lat = parse_coordinate(cell("lat") or "")
        except ValueError:
            problems.append((line, raw.header[cols["lon"]]))
            continue
        if not (-180 <= lon <= 180 and -90 <= lat <= 90) or not cell("candidate_id"):
            problems.append((line, raw.header[cols["lon"]]))
            continue
        cost_s, cap_s = cell("cost"), cell("capacity")
        try:
            cost = parse_number(cost_s) if cost_s else np.nan
        except ValueError:
            cost = -1.0
        try:
            cap = parse_number(cap_s) if cap_s else np.nan
        except ValueError:
            cap = -1.0
        bad_cost = cost < 0 or cost > COST.high
        if bad_cost or cap < 0 or cap > CAPACITY.high:
            problems.append((line, raw.header[cols["cost" if bad_cost else "capacity"]]))
            continue
        lines.append(line)
        rows.append(
            {
                "candidate_id": str(cell("candidate_id")).strip(),
                "name": cell("name") or str(cell("candidate_id")),
                "source": "user",
                "lon": lon,
                "lat": lat,
                "cost": cost,
                "capacity": cap,
            }
        )
    if problems:
        line, col = problems[0]
        more = f"（另有 {len(problems) - 1} 行）" if len(problems) > 1 else ""
        more_en = f" (and {len(problems) - 1} more rows)" if len(problems) > 1 else ""
        raise InputError(
            f"候选点坐标、编号、成本或容量无效（成本须为 0 到 {COST.high:g}、"
            f"容量须为 0 到 {CAPACITY.high:g} 之间的数）{more}",
            f"invalid candidate id, coordinate, cost or capacity (cost must be a number from 0 "
            f"to {COST.high:g}, capacity from 0 to {CAPACITY.high:g}){more_en}",
            file=source,
            row=line,
            column=col,
        )
    frame = _frame(pd.DataFrame(rows))
    dup = frame["candidate_id"].duplicated(keep=False)
    if dup.any():
        ident = frame.loc[dup, "candidate_id"].iloc[0]
        at = [lines[i] for i in np.flatnonzero((frame["candidate_id"] == ident).to_numpy())]
        raise InputError(
            f"候选点编号 {ident} 重复（第 {'、'.join(map(str, at))} 行）",
            f"duplicate candidate id {ident!r} (rows {', '.join(map(str, at))})",
            file=source,
            row=at[1],
            column=raw.header[cols["candidate_id"]],
        )
    return frame


def build_candidates(
    demand: pd.DataFrame,
    sites: pd.DataFrame,
    kind: str,
    level: str,
    *,
    gaps: gpd.GeoDataFrame | None = None,
    net: RoadNetwork | None = None,
    user: pd.DataFrame | None = None,
    options: CandidateOptions | None = None,
) -> pd.DataFrame:
    """All candidates from the chosen sources, duplicates (same id) removed, stable order."""
    opts = options or CandidateOptions()
    parts = []
    if user is not None and len(user):
        parts.append(user)
    if opts.township_seats:
        parts.append(township_seats(demand, sites, kind, level))
    if opts.gap_nodes and gaps is not None and net is not None and not net.facts.is_proxy:
        parts.append(gap_nodes(gaps, net, kind, level, opts.min_spacing_m))
    if opts.grid:
        parts.append(grid(demand, opts.grid_target))
    parts = [p for p in parts if len(p)]
    if not parts:
        return _frame(pd.DataFrame())
    out = pd.concat(parts, ignore_index=True)
    return _frame(out.drop_duplicates("candidate_id"))
