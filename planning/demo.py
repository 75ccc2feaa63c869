"""The embedded Sanming demo: the union's network as illustrative sites and demand."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd

from geo.export import write_json, write_table
from geo.tables import ImportResult, import_demand, import_sites
from geo.vocab import DATA_DIR

DEMO_DIR = DATA_DIR / "sanming"


@dataclass(frozen=True)
class Dataset:
    """Sites and demand of one study, with the import results they came from."""

    name: str
    sites: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    site_import: ImportResult
    demand_import: ImportResult


def load_demo(folder: Path = DEMO_DIR) -> Dataset:
    """Load the demo through the same importer a planner's file goes through."""
    sites = import_sites(folder / "sites.csv", crs="wgs84", encoding="utf-8")
    demand = import_demand(folder / "demand.csv", crs="wgs84", encoding="utf-8")
    return Dataset("sanming", sites.table, demand.table, sites, demand)


def demo_summary(data: Dataset) -> dict[str, Any]:
    """Counts by kind, level and status, demand totals, and a bilingual text."""
    sites, demand = data.sites, data.demand
    by_kind_level = Counter(zip(sites["kind"], sites["level"], strict=True))
    by_status = Counter(sites["status"])
    grades = Counter(sites.loc[sites["kind"] == "reading_room", "grade"].dropna())
    counties = sorted(set(demand["county"].dropna()))
    summary: dict[str, Any] = {
        "dataset": data.name,
        "sites": len(sites),
        "sites_by_kind_level": [
            {"kind": k, "level": lv, "count": n} for (k, lv), n in sorted(by_kind_level.items())
        ],
        "sites_by_status": dict(sorted(by_status.items())),
        "reading_room_grades": dict(sorted(grades.items())),
        "demand_points": len(demand),
        "demand_weight": float(demand["weight"].sum()),
        "counties": counties,
        "rejected_rows": data.site_import.rows_rejected + data.demand_import.rows_rejected,
    }
    lines = [
        f"三明示例 / Sanming demo: {len(sites)} 个站点 sites, {len(demand)} 个需求点 demand "
        f"points, 总人数 total weight {summary['demand_weight']:,.0f}, "
        f"{len(counties)} 个县区 counties",
        "类型·级别 / kind·level:",
        *(f"  {k} · {lv}: {n}" for (k, lv), n in sorted(by_kind_level.items())),
        "状态 / status: " + ", ".join(f"{s} {n}" for s, n in sorted(by_status.items())),
        "书屋等级 / reading-room grades: "
        + ", ".join(f"{g} {n}" for g, n in sorted(grades.items())),
    ]
    summary["text"] = "\n".join(lines)
    return summary


DEMO_OUTPUTS = ("sites.geojson", "demand.geojson", "sites.csv", "demand.csv", "summary.json")


def write_demo(data: Dataset, out: Path) -> None:
    """Write the demo tables (GeoJSON and Excel-safe CSV) and its summary (:data:`DEMO_OUTPUTS`)."""
    out.mkdir(parents=True, exist_ok=True)
    write_table(data.sites, out / "sites.geojson")
    write_table(data.demand, out / "demand.geojson")
    write_table(data.sites, out / "sites.csv")
    write_table(data.demand, out / "demand.csv")
    summary = demo_summary(data)
    summary.pop("text")
    write_json(summary, out / "summary.json")
