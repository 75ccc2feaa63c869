"""Static figures for printed reports (matplotlib, no network, CJK fonts when installed)."""

from __future__ import annotations

import io
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.maps import LEVEL_COLOURS, LEVEL_ORDER
from geo.projection import to_metric, utm_crs

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
)


def cjk_font() -> str | None:
    """The first installed font that has Chinese glyphs, or None."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in CJK_FONTS if n in names), None)


def _figure(width_cm: float, height_cm: float) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = cjk_font()
    if font:
        plt.rcParams["font.family"] = [font, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    plt.rcParams["svg.hashsalt"] = "servicenet"
    return plt.figure(figsize=(width_cm / 2.54, height_cm / 2.54), dpi=150)


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def network_png(
    sites: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    areas: gpd.GeoDataFrame | None = None,
    gaps: gpd.GeoDataFrame | None = None,
    suggested: pd.DataFrame | None = None,
    level_names: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
) -> bytes:
    """The network map for print: sites by level, service areas, gaps, suggestions."""
    words = level_names or {}
    text = labels or {}
    frames = [t for t in (sites, demand) if len(t)]
    lon0 = float(np.median(np.concatenate([t["lon"].to_numpy(float) for t in frames])))
    lat0 = float(np.median(np.concatenate([t["lat"].to_numpy(float) for t in frames])))
    crs = utm_crs(lon0, lat0)
    fig = _figure(17, 15)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_aspect("equal")
    ax.set_axis_off()
    if areas is not None and len(areas):
        areas.to_crs(crs).plot(ax=ax, color="#9ecae1", alpha=0.45, linewidth=0)
    if len(demand):
        x, y = to_metric(demand["lon"], demand["lat"], crs)
        w = demand["weight"].to_numpy(float)
        size = 4 + 60 * np.sqrt(w / max(w.max(), 1))
        ax.scatter(
            x,
            y,
            s=size,
            c="#d9d9d9",
            edgecolors="#969696",
            linewidths=0.4,
            zorder=2,
            label=text.get("demand", "demand"),
        )
    for level in reversed(LEVEL_ORDER):
        part = sites[sites["level"] == level] if len(sites) else sites
        if not len(part):
            continue
        x, y = to_metric(part["lon"], part["lat"], crs)
        existing = (part["status"] == "existing").to_numpy()
        size = {"city": 90, "county": 55, "township": 22}.get(level, 10)
        colour = LEVEL_COLOURS.get(level, "#555555")
        ax.scatter(
            x[existing],
            y[existing],
            s=size,
            c=colour,
            edgecolors="white",
            linewidths=0.5,
            zorder=4,
            label=words.get(level, level),
        )
        if (~existing).any():
            ax.scatter(
                x[~existing],
                y[~existing],
                s=size,
                facecolors="none",
                edgecolors=colour,
                linewidths=1.2,
                zorder=4,
            )
    if gaps is not None and len(gaps):
        gaps.to_crs(crs).boundary.plot(ax=ax, color="#d7301f", linewidth=1.1, zorder=5)
    if suggested is not None and len(suggested):
        x, y = to_metric(suggested["lon"], suggested["lat"], crs)
        ax.scatter(
            x, y, s=120, marker="s", c="#ffd400", edgecolors="#222222", linewidths=0.8, zorder=6
        )
        for xi, yi, order in zip(x, y, suggested["order"], strict=True):
            ax.annotate(
                str(order), (xi, yi), ha="center", va="center", fontsize=7, weight="bold", zorder=7
            )
    handles, names = ax.get_legend_handles_labels()
    order = [*range(1, len(handles))[::-1], 0]  # levels from the top down, then demand
    ax.legend(
        [handles[i] for i in order],
        [names[i] for i in order],
        loc="lower left",
        fontsize=7,
        frameon=True,
        framealpha=0.9,
    )
    # a 10 km (or 1 km) scale bar
    x0, x1 = ax.get_xlim()
    y0, _ = ax.get_ylim()
    bar = 10_000 if (x1 - x0) > 40_000 else 1_000
    ax.plot(
        [x1 - bar - (x1 - x0) * 0.03, x1 - (x1 - x0) * 0.03],
        [y0 + (x1 - x0) * 0.03] * 2,
        color="black",
        lw=2,
    )
    ax.text(
        x1 - bar / 2 - (x1 - x0) * 0.03,
        y0 + (x1 - x0) * 0.045,
        f"{bar // 1000} km",
        ha="center",
        fontsize=7,
    )
    return _png(fig)


def curve_png(curve: pd.DataFrame, *, xlabel: str, ylabel: str) -> bytes:
    """Covered share against the number of new sites."""
    fig = _figure(14, 6.5)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(curve["p"], curve["covered_share"] * 100, marker="o", color="#2166ac")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xticks(curve["p"])
    ax.grid(alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _png(fig)
