"""The report as an XLSX workbook: Chinese headers, numbers as numbers, text as text.

Every text cell goes through :func:`geo.safe.xlsx_text`: typed as a string and
quote-prefixed when it looks like a formula, so a site named ``=HYPERLINK(...)``
stays text in Excel and WPS, exactly as typed, even when the cell is edited
(openpyxl would otherwise store it as a formula).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geo.export import atomic_path
from geo.safe import xlsx_text
from planning.report.provenance import (
    plan_text,
    planned_sites,
    provenance_rows,
    standards_source,
)
from planning.report.text import t

if TYPE_CHECKING:
    from planning.report.inputs import ReportInputs


def _width(value: Any) -> int:
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _cell_value(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    return str(value)


#: Excel number formats by the text key of a column's header: shares as percentages,
#: counts with thousands separators, minutes to 0.1, coordinates to 6 decimals
NUMBER_FORMATS = {
    "target": "0%",
    "covered": "0.0%",
    "share_of_demand": "0.0%",
    "newly_share": "0.0%",
    "compare_before": "0.0%",
    "compare_after": "0.0%",
    "compare_change": "+0.0;-0.0;0.0",
    "covered_weight": "#,##0",
    "total_weight": "#,##0",
    "uncovered": "#,##0",
    "newly": "#,##0",
    "capacity": "#,##0",
    "points": "#,##0",
    "sites_counted": "#,##0",
    "minutes": "0.0",
    "nearest_minutes": "0.0",
    "farthest": "0.0",
    "lon": "0.000000",
    "lat": "0.000000",
}


def _sheet(
    book: Any,
    title: str,
    header: list[str] | None,
    rows: list[list[Any]],
    keys: tuple[str, ...] | list[str] = (),
    *,
    lang: str = "zh",
) -> None:
    """One sheet; ``keys`` (the text keys of the header) choose the number formats and,
    without ``header``, the header's words."""
    from openpyxl.styles import Alignment, Font, PatternFill

    if header is None:
        header = [t(k, lang) for k in keys]

    formats = [NUMBER_FORMATS.get(k) for k in keys] if keys else [None] * len(header)

    ws = book.create_sheet(title)
    for c, text in enumerate(header, start=1):
        cell = ws.cell(row=1, column=c)
        xlsx_text(cell, str(text))
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1A3D6D")
        cell.alignment = Alignment(vertical="center")
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            v = _cell_value(value)
            if isinstance(v, str):
                xlsx_text(cell, v)  # text, never a formula
            else:
                cell.value = v
                if c <= len(formats) and formats[c - 1] and v is not None:
                    cell.number_format = formats[c - 1]
    for c in range(1, len(header) + 1):
        letter = ws.cell(row=1, column=c).column_letter
        widest = max([_width(header[c - 1])] + [_width(row[c - 1]) for row in rows[:500]])
        ws.column_dimensions[letter].width = min(max(widest + 2, 6), 60)
    ws.freeze_panes = "A2"


def write_xlsx(inputs: ReportInputs, path: str | Path) -> None:
    """Write the workbook (summary, standards, by county, by township, sites, gaps, suggestions)."""
    from openpyxl import Workbook

    lang = inputs.lang
    an = inputs.analysis
    book = Workbook()
    book.remove(book.active)
    cov = an.coverage.standards
    title = inputs.title or t("title", lang)
    summary: list[list[Any]] = [
        [t("title", lang), title],
        [t("generated", lang), inputs.generated],
        [
            t("roads", lang),
            t("roads_proxy", lang)
            if an.is_proxy
            else ", ".join(dict.fromkeys(n.facts.source for n in an.networks.values())),
        ],
        [t("sheet_sites", lang), len(inputs.sites)],
        [t("demand", lang), len(inputs.demand)],
        [t("total_weight", lang), float(inputs.demand["weight"].sum())],
        [t("s_gaps", lang), len(an.gaps)],
    ]
    summary.insert(1, [t("plan", lang), plan_text(inputs)])
    summary.insert(len(summary) - 3, [t("planned_sites", lang), len(planned_sites(inputs.sites))])
    for row in provenance_rows(inputs, lang):
        summary.append([f"{row['label']} · {t('file', lang)}", row["file"]])
        summary.append([f"{row['label']} · SHA-256", row["sha256"]])
    roads = an.provenance.get("roads")
    if isinstance(roads, dict):
        summary.append([f"{t('roads', lang)} · {t('file', lang)}", roads.get("file", "")])
        summary.append([f"{t('roads', lang)} · SHA-256", roads.get("sha256", "")])
    summary.append(
        [t("standards_file", lang), standards_source(an.provenance.get("standards"), lang)]
    )
    if an.is_proxy:
        summary.append([t("roads", lang), t("proxy_warning", lang)])
    _sheet(book, t("sheet_summary", lang), [t("item", lang), t("value", lang)], summary)

    std_rows = [
        [
            t("kind_" + r["kind"], lang),
            t("level_" + r["level"], lang),
            t(r["mode"], lang),
            r["max_minutes"],
            r["target_share"],
            r["covered_share"],
            r["covered_weight"],
            r["total_weight"],
            None if r["met"] is None else t("yes" if r["met"] else "no", lang),
            r["sites_counted"],
        ]
        for r in cov.to_dict("records")
    ]
    _sheet(
        book,
        t("sheet_standards", lang),
        None,
        std_rows,
        (
            "kind",
            "level",
            "mode",
            "minutes",
            "target",
            "covered",
            "covered_weight",
            "total_weight",
            "met",
            "sites_counted",
        ),
        lang=lang,
    )
    area = an.coverage.by_area
    for area_type, sheet in (("county", "sheet_county"), ("township", "sheet_township")):
        part = area[area["area_type"] == area_type]
        rows = [
            [
                r["county"],
                r["township"] if area_type == "township" else None,
                t("kind_" + r["kind"], lang),
                t("level_" + r["level"], lang),
                r["total_weight"],
                r["covered_weight"],
                r["covered_share"],
            ]
            for r in part.to_dict("records")
        ]
        keys = ["county", "township", "kind", "level", "total_weight", "covered_weight", "covered"]
        if area_type == "county":
            rows = [[r[0], *r[2:]] for r in rows]
            keys = [keys[0], *keys[2:]]
        _sheet(book, t(sheet, lang), [t(k, lang) for k in keys], rows, keys)
    sites = inputs.sites
    site_rows = [
        [
            r.get("site_id"),
            r.get("name"),
            t("kind_" + str(r.get("kind")), lang),
            t("level_" + str(r.get("level")), lang),
            r.get("county"),
            r.get("township"),
            t("st_" + str(r.get("status")), lang),
            r.get("capacity"),
            r.get("lon"),
            r.get("lat"),
        ]
        for r in sites.drop(columns="geometry", errors="ignore").to_dict("records")
    ]
    _sheet(
        book,
        t("sheet_sites", lang),
        None,
        site_rows,
        (
            "site_id",
            "name",
            "kind",
            "level",
            "county",
            "township",
            "status",
            "capacity",
            "lon",
            "lat",
        ),
        lang=lang,
    )
    gap_rows = [
        [
            g["gap_id"],
            g["rank"],
            t("kind_" + g["kind"], lang),
            t("level_" + g["level"], lang),
            g["weight"],
            g["share_of_demand"],
            g["points"],
            g["counties"],
            g["townships"],
            g["nearest_site_id"],
            g["nearest_minutes"],
            f"{t('kind_' + g['kind'], lang)} · {t('level_' + g['level'], lang)} · "
            f"{t(g['mode'], lang)} ≤ {float(g['max_minutes']):g} {t('min', lang)}",
        ]
        for g in an.gaps.drop(columns="geometry", errors="ignore").to_dict("records")
    ]
    _sheet(
        book,
        t("sheet_gaps", lang),
        None,
        gap_rows,
        (
            "gap",
            "rank",
            "kind",
            "level",
            "uncovered",
            "share_of_demand",
            "points",
            "county",
            "townships",
            "nearest_site",
            "nearest_minutes",
            "standard",
        ),
        lang=lang,
    )
    sug_rows: list[list[Any]] = []
    if inputs.suggestion is not None:
        sug_rows = [
            [
                r["order"],
                r["candidate_id"],
                r["name"],
                r.get("county"),
                r.get("township"),
                r["newly_covered_weight"],
                r["newly_covered_share"],
                r.get("gaps_closed"),
                r.get("farthest_covered_minutes"),
                r.get("nearest_existing_site_id"),
                r.get("nearest_existing_minutes"),
                r["lon"],
                r["lat"],
            ]
            for r in inputs.suggestion.selected.to_dict("records")
        ]
    _sheet(
        book,
        t("sheet_suggestions", lang),
        None,
        sug_rows,
        (
            "order",
            "site_id",
            "candidate",
            "county",
            "township",
            "newly",
            "newly_share",
            "gaps_closed",
            "farthest",
            "nearest_existing",
            "nearest_minutes",
            "lon",
            "lat",
        ),
        lang=lang,
    )
    if inputs.comparison is not None:
        name, cmp = inputs.comparison
        rows = [
            [
                name,
                t("kind_" + r["kind"], lang),
                t("level_" + r["level"], lang),
                r["covered_share_a"],
                r["covered_share_b"],
                None if pd.isna(r["change"]) else float(r["change"]) * 100.0,  # points
            ]
            for r in cmp.standards.to_dict("records")
        ]
        keys = ["scenario", "kind", "level", "compare_before", "compare_after", "compare_change"]
        _sheet(book, t("sheet_compare", lang), None, rows, keys, lang=lang)
    with atomic_path(path) as tmp:
        book.save(tmp)
