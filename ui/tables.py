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

from planning.report.tables import (
    COLUMN_WORDS,
    POINTS,
    SHARES,
    header,
    human_csv,
    human_table,
)
from planning.scenario import Change
from ui import state
from ui.strings import vocabulary_words


def localised(frame: pd.DataFrame, *, percent: bool = True) -> pd.DataFrame:
    """A copy with words for codes, ``yes``/``no`` for flags, empty cells for missing
    text, shares as percentages (when ``percent``) and the app's headers
    (:func:`planning.report.tables.human_table` in the app's language)."""
    return human_table(frame, state.lang(), percent=percent)


def column_config(frame: pd.DataFrame) -> dict[str, Any]:
    """Number formats for a :func:`localised` table: percentages with one decimal,
    changes in signed percentage points, counts with thousands separators."""
    lg = state.lang()
    config: dict[str, Any] = {}
    for col in COLUMN_WORDS:
        for label in {header(col, lg), header(col, lg, gaps=True)}:
            if label in frame.columns:
                config[label] = _format(col)
    return {k: v for k, v in config.items() if v is not None}


def _format(col: str) -> Any:
    if col in SHARES:
        return st.column_config.NumberColumn(format="%.1f%%")
    if col in POINTS:
        return st.column_config.NumberColumn(format="%+.1f")
    if col in (
        "weight", "total_weight", "covered_weight", "capacity", "newly_covered_weight",
        "served_weight",
    ):  # fmt: skip
        return st.column_config.NumberColumn(format="localized")
    if col in (
        "minutes", "nearest_minutes", "max_minutes", "farthest_covered_minutes",
        "nearest_existing_minutes",
    ):  # fmt: skip
        return st.column_config.NumberColumn(format="%.1f")
    if col in ("lon", "lat"):
        return st.column_config.NumberColumn(format="%.5f", width="small")
    if col in ("source_row", "site_id", "demand_id", "status", "order"):
        return st.column_config.Column(width="small")
    return None


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
    """The CSV a planner opens in Excel (:func:`planning.report.tables.human_csv`)."""
    return human_csv(frame, state.lang())


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
