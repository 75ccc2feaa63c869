"""Tables as a planner reads them: words for codes, headers in the app's language,
shares as percentages of one precision, changes in percentage points.

Codes (``service_center``, ``planned``) and snake_case columns stay in the data
and in the command line's machine outputs; every table the app shows or offers
for download passes through here first.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from planning.scenario import Change
from ui import state
from ui.strings import vocabulary_words

#: column -> string key of its header
HEADERS = {
    "site_id": "field_site_id",
    "demand_id": "field_demand_id",
    "name": "field_name",
    "kind": "col_kind",
    "level": "col_level",
    "grade": "field_grade",
    "county": "col_county",
    "township": "col_township",
    "status": "field_status",
    "capacity": "field_capacity",
    "lon": "field_lon",
    "lat": "field_lat",
    "weight": "col_weight",
    "source_row": "field_source_row",
    "gap_id": "col_gap",
    "townships": "col_townships",
    "counties": "col_counties",
    "demand_ids": "col_demand_ids",
    "share_of_demand": "col_share",
    "covered_share_a": "col_before",
    "covered_share_b": "col_after",
    "change": "col_change",
    "mode": "col_mode",
    "max_minutes": "col_minutes",
    "minutes": "col_minutes_found",
    "covered": "col_is_covered",
    "nearest_site_id": "col_nearest_site",
    "snapped": "col_snapped",
    "points": "col_points",
    "rank": "col_rank",
    "nearest_minutes": "col_nearest_minutes",
    "score_per_1000": "col_access_score",
    "area_type": "col_area_type",
    "total_weight": "col_total_weight",
    "covered_weight": "col_covered_weight",
    "covered_share": "col_covered",
    "target_share": "col_target",
    "met": "col_met",
    # suggestions
    "order": "col_order",
    "candidate_id": "col_candidate_id",
    "source": "col_source",
    "newly_covered_weight": "col_new_weight",
    "newly_covered_share": "col_new_share",
    "gaps_closed": "col_gaps_closed",
    "farthest_covered_minutes": "col_farthest",
    "nearest_existing_site_id": "col_nearest_existing",
    "nearest_existing_minutes": "col_nearest_existing_min",
    "served_weight": "col_served_weight",
}
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
#: columns whose codes have words
VOCABULARIES = {"kind": "kind", "level": "level", "status": "status", "grade": "grade"}


def _yes_no(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    return state.tr("yes") if bool(value) else state.tr("no")


def localised(frame: pd.DataFrame, *, percent: bool = True) -> pd.DataFrame:
    """A copy with words for codes, ``yes``/``no`` for flags, empty cells for missing
    text, shares as percentages (when ``percent``) and the app's headers."""
    lg = state.lang()
    # "rule" repeats kind, level, mode and minutes in internal words
    out = pd.DataFrame(frame.drop(columns=["geometry", "rule"], errors="ignore")).copy()
    for col, vocab in VOCABULARIES.items():
        if col in out:
            words = vocabulary_words(vocab, lg)
            out[col] = out[col].map(lambda c, w=words: w.get(c, c) if isinstance(c, str) else "")
    if "area_type" in out:
        out["area_type"] = out["area_type"].map(lambda a: state.tr(f"area_{a}"))
    if "source" in out:  # where a candidate came from
        out["source"] = out["source"].map(
            lambda c: state.tr(f"cand_{c}") if f"cand_{c}" in state.STRING_KEYS else c
        )
    if "mode" in out:
        out["mode"] = out["mode"].map(lambda m: state.tr(f"mode_{m}") if isinstance(m, str) else "")
    for col in ("covered", "snapped", "met"):
        if col in out:
            out[col] = out[col].map(_yes_no)
    if percent:
        for col in SHARES | POINTS:
            if col in out:
                out[col] = pd.to_numeric(out[col], errors="coerce") * 100.0
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].astype(object).where(out[col].notna(), "")
    return out.rename(columns={c: state.tr(k) for c, k in HEADERS.items() if c in out})


def column_config(frame: pd.DataFrame) -> dict[str, Any]:
    """Number formats for a :func:`localised` table: percentages with one decimal,
    changes in signed percentage points, counts with thousands separators."""
    config: dict[str, Any] = {}
    for col, key in HEADERS.items():
        label = state.tr(key)
        if label not in frame.columns:
            continue
        if col in SHARES:
            config[label] = st.column_config.NumberColumn(format="%.1f%%")
        elif col in POINTS:
            config[label] = st.column_config.NumberColumn(
                state.tr("col_change_points"), format="%+.1f"
            )
        elif col in (
            "weight", "total_weight", "covered_weight", "capacity", "newly_covered_weight",
            "served_weight",
        ):  # fmt: skip
            config[label] = st.column_config.NumberColumn(format="localized")
        elif col in (
            "minutes", "nearest_minutes", "max_minutes", "farthest_covered_minutes",
            "nearest_existing_minutes",
        ):  # fmt: skip
            config[label] = st.column_config.NumberColumn(format="%.1f")
        elif col in ("lon", "lat"):
            config[label] = st.column_config.NumberColumn(format="%.5f", width="small")
        elif col in ("source_row", "site_id", "demand_id", "status", "order"):
            config[label] = st.column_config.Column(width="small")
    return config


def show(frame: pd.DataFrame, **kwargs: Any) -> None:
    """``st.dataframe`` of the :func:`localised` table with its number formats."""
    table = localised(frame)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={**column_config(table), **kwargs.pop("column_config", {})},
        **kwargs,
    )


def download_csv(frame: pd.DataFrame) -> bytes:
    """The CSV a planner opens in Excel: localised headers and words, shares in percent
    rounded to 0.1, other numbers to 6 decimals (``geo.export.csv_bytes`` makes it safe)."""
    from geo.export import csv_bytes

    table = localised(frame)
    for col in table.columns:
        if pd.api.types.is_float_dtype(table[col]):
            table[col] = table[col].round(1 if col in _percent_labels() else 6)
    return csv_bytes(table)


def _percent_labels() -> set[str]:
    return {state.tr(HEADERS[c]) for c in SHARES | POINTS if c in HEADERS}


def describe_change(change: Change) -> str:
    """One change of a scenario in a sentence (never the raw payload)."""
    lg = state.lang()
    kinds, levels = vocabulary_words("kind", lg), vocabulary_words("level", lg)
    statuses = vocabulary_words("status", lg)
    p = change.payload
    site = str(p.get("site_id", ""))
    if change.op == "add_site":
        return state.tr_plain(
            "chg_add",
            name=p.get("name") or site,
            kind=kinds.get(p.get("kind", ""), p.get("kind", "")),
            level=levels.get(p.get("level", ""), p.get("level", "")),
            lon=float(p["lon"]),
            lat=float(p["lat"]),
        )
    if change.op == "move_site":
        return state.tr_plain("chg_move", site=site, lon=float(p["lon"]), lat=float(p["lat"]))
    if change.op == "close_site":
        return state.tr_plain("chg_close", site=site)
    if change.op == "set_status":
        return state.tr_plain(
            "chg_status", site=site, status=statuses.get(p.get("status", ""), p.get("status"))
        )
    if change.op == "set_capacity":
        cap = p.get("capacity")
        return state.tr_plain(
            "chg_capacity", site=site, capacity="—" if cap is None else f"{float(cap):,.0f}"
        )
    parts = []
    if "max_minutes" in p:
        parts.append(state.tr_plain("chg_minutes", minutes=float(p["max_minutes"])))
    if p.get("target_share") is not None:
        parts.append(state.tr_plain("chg_target", share=float(p["target_share"]) * 100.0))
    return state.tr_plain(
        "chg_standard",
        kind=kinds.get(p.get("kind", ""), p.get("kind", "")),
        level=levels.get(p.get("level", ""), p.get("level", "")),
        what="，".join(parts) if lg == "zh" else ", ".join(parts),
    )
