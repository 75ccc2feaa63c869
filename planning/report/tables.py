"""Tables as a planner reads them, for the app and the command line alike.

Words for codes (kinds, levels, statuses, modes, candidate sources), 是/否 for
flags, headers in Chinese or English, shares in percent (one decimal) and
changes in percentage points. Codes and snake_case columns stay in the data
and in the documented machine outputs (summary.json, coverage.csv,
gaps.geojson, solution.json); ``servicenet analyze|suggest --lang`` and every
table the app shows or offers for download pass through here.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from planning.report.text import GRADE_WORDS, KIND_WORDS, LEVEL_WORDS, MODE_WORDS, STATUS_WORDS, t

#: column -> (Chinese, English) header
COLUMN_WORDS: dict[str, tuple[str, str]] = {
    "site_id": ("编号", "ID"),
    "demand_id": ("需求点编号", "Demand ID"),
    "name": ("名称", "Name"),
    "kind": ("类型", "Kind"),
    "level": ("级别", "Level"),
    "grade": ("书屋等级", "Grade"),
    "county": ("县区", "County"),
    "township": ("乡镇街道", "Township"),
    "status": ("状态", "Status"),
    "capacity": ("容量", "Capacity"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
    "weight": ("人数", "People"),
    "source_row": ("原表行号", "Row in file"),
    "gap_id": ("缺口", "Gap"),
    "townships": ("涉及乡镇", "Townships"),
    "counties": ("涉及县区", "Counties"),
    "demand_ids": ("需求点编号", "Demand points"),
    "share_of_demand": ("占总人数", "Share of all"),
    "covered_share_a": ("现状覆盖率", "Covered (base)"),
    "covered_share_b": ("方案覆盖率", "Covered (scenario)"),
    "change": ("变化（百分点）", "Change (points)"),
    "mode": ("方式", "Mode"),
    "max_minutes": ("标准（分钟）", "Standard (min)"),
    "minutes": ("到最近站点（分钟）", "Minutes to nearest site"),
    "covered": ("是否覆盖", "Covered"),
    "nearest_site_id": ("最近同级站点", "Nearest site of this level"),
    "snapped": ("已接入路网", "On the network"),
    "points": ("需求点数", "Points"),
    "rank": ("排名", "Rank"),
    "nearest_minutes": ("最近站点时间（分钟）", "Minutes to it"),
    "score_per_1000": ("每千人可达性得分", "Access score per 1,000"),
    "area_type": ("范围", "Area"),
    "total_weight": ("总人数", "People"),
    "covered_weight": ("覆盖人数", "People covered"),
    "covered_share": ("覆盖率", "Covered"),
    "target_share": ("目标", "Target"),
    "met": ("是否达标", "Met"),
    # suggestions
    "order": ("建设顺序", "Order"),
    "candidate_id": ("候选点编号", "Candidate ID"),
    "source": ("来源", "Source"),
    "newly_covered_weight": ("新增覆盖人数", "Newly covered"),
    "newly_covered_share": ("新增覆盖比例", "Newly covered share"),
    "demand_points_newly_covered": ("新增覆盖需求点", "Demand points newly covered"),
    "gaps_closed": ("消除的缺口", "Gaps closed"),
    "farthest_covered_minutes": ("最远覆盖点时间（分钟）", "Farthest covered (min)"),
    "nearest_existing_site_id": ("最近现有同级站点", "Nearest existing site"),
    "nearest_existing_minutes": ("到该站点时间（分钟）", "Minutes to it"),
    "nearest_existing_km": ("到该站点直线距离（公里）", "Straight line to it (km)"),
    "served_weight": ("容量内服务人数", "Served (capacity)"),
}
#: in a table of gaps the weight is the people not covered
GAP_WEIGHT = ("未覆盖人数", "People not covered")
#: columns holding a share (0..1) and a change of shares
SHARES = frozenset(
    {
        "covered_share",
        "covered_share_a",
        "covered_share_b",
        "target_share",
        "newly_covered_share",
        "share_of_demand",
    }
)
POINTS = frozenset({"change"})
AREA_WORDS = {"county": ("县区", "County"), "township": ("乡镇街道", "Township")}
SOURCE_WORDS = {
    "township_seat": ("乡镇驻地", "Township seat"),
    "gap_node": ("缺口内路网节点", "Road node in a gap"),
    "grid": ("规则网格", "Grid"),
    "upload": ("上传的候选点", "Uploaded candidate"),
}
_VOCABULARIES = {
    "kind": KIND_WORDS,
    "level": LEVEL_WORDS,
    "status": STATUS_WORDS,
    "grade": GRADE_WORDS,
    "mode": MODE_WORDS,
    "area_type": AREA_WORDS,
    "source": SOURCE_WORDS,
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def header(column: str, lang: str = "zh", *, gaps: bool = False) -> str:
    """The header of ``column`` in ``lang`` (the column itself when it has none)."""
    if gaps and column == "weight":
        return _pick(GAP_WEIGHT, lang)
    pair = COLUMN_WORDS.get(column)
    return _pick(pair, lang) if pair else column


def _yes_no(value: Any, lang: str) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    return t("yes" if bool(value) else "no", lang)


def human_table(frame: pd.DataFrame, lang: str = "zh", *, percent: bool = True) -> pd.DataFrame:
    """A copy with words for codes, 是/否 for flags, empty cells for missing text,
    shares as percentages (when ``percent``) and headers in ``lang``.

    A table with a ``gap_id`` column is a table of gaps: its ``weight`` is
    headed as the people not covered.
    """
    # "rule" repeats kind, level, mode and minutes in internal words
    out = pd.DataFrame(frame.drop(columns=["geometry", "rule"], errors="ignore")).copy()
    for col, vocab in _VOCABULARIES.items():
        if col in out:
            words = {code: _pick(pair, lang) for code, pair in vocab.items()}
            out[col] = out[col].map(lambda c, w=words: w.get(c, c) if isinstance(c, str) else "")
    for col in ("covered", "snapped", "met"):
        if col in out:
            out[col] = out[col].map(lambda v: _yes_no(v, lang))
    if percent:
        for col in SHARES | POINTS:
            if col in out:
                out[col] = pd.to_numeric(out[col], errors="coerce") * 100.0
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].astype(object).where(out[col].notna(), "")
    gaps = "gap_id" in frame.columns
    return out.rename(columns={c: header(c, lang, gaps=gaps) for c in out.columns})


def percent_headers(lang: str = "zh") -> set[str]:
    """The headers of :func:`human_table` whose values are percentages or points."""
    return {header(c, lang) for c in SHARES | POINTS}


def human_csv(frame: pd.DataFrame, lang: str = "zh") -> bytes:
    """The CSV a planner opens in Excel: :func:`human_table`, percentages rounded to 0.1
    with the unit in their header (``覆盖率（%）``), other numbers to 6 decimals
    (``geo.export.csv_bytes`` makes it safe)."""
    from geo.export import csv_bytes

    table = human_table(frame, lang)
    rounded = percent_headers(lang)
    for col in table.columns:
        if pd.api.types.is_float_dtype(table[col]):
            table[col] = table[col].round(1 if col in rounded else 6)
    unit = "（%）" if lang != "en" else " (%)"
    shares = {header(c, lang) for c in SHARES}  # a change's header names its unit already
    return csv_bytes(table.rename(columns={c: f"{c}{unit}" for c in table.columns if c in shares}))
