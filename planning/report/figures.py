"""Static figures for printed reports (matplotlib, no network, CJK fonts when installed)."""

from __future__ import annotations

import io
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.maps import KIND_ORDER, KIND_SHAPES, LEVEL_COLOURS, LEVEL_ORDER
from geo.projection import to_metric, utm_crs

#: matplotlib's marker for each shape of :data:`geo.maps.KIND_SHAPES`
MPL_MARKERS = {"circle": "o", "star": "*", "diamond": "D", "triangle": "^"}

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
    kind_names: dict[str, str] | None = None,
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
        )
    kind_words = kind_names or {}
    present_levels: list[str] = []
    present_kinds: list[str] = []
    levels = [lv for lv in LEVEL_ORDER if len(sites) and (sites["level"] == lv).any()]
    for level in reversed(levels):
        part = sites[sites["level"] == level]
        present_levels.insert(0, level)
        x, y = to_metric(part["lon"], part["lat"], crs)
        existing = (part["status"] == "existing").to_numpy()
        kinds = part["kind"].astype(str).to_numpy()
        size = {"city": 90, "county": 55, "township": 22}.get(level, 10)
        colour = LEVEL_COLOURS.get(level, "#555555")
        for kind in dict.fromkeys(kinds):
            if kind not in present_kinds:
                present_kinds.append(kind)
            marker = MPL_MARKERS.get(KIND_SHAPES.get(kind, "circle"), "o")
            # a triangle, diamond or star of a circle's area reads smaller than it
            area = size if marker == "o" else size * 2.2
            this = kinds == kind
            ax.scatter(
                x[this & existing],
                y[this & existing],
                s=area,
                c=colour,
                marker=marker,
                edgecolors="white",
                linewidths=0.5,
                zorder=4,
            )
            if (this & ~existing).any():
                ax.scatter(
                    x[this & ~existing],
                    y[this & ~existing],
                    s=area,
                    marker=marker,
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
    from matplotlib.lines import Line2D

    def handle(marker: str, colour: str, label: str) -> Any:
        return Line2D(
            [], [], linestyle="none", marker=marker, markersize=6, color=colour, label=label
        )

    handles = [
        handle("o", LEVEL_COLOURS.get(lv, "#555555"), words.get(lv, lv)) for lv in present_levels
    ]
    known = [k for k in KIND_ORDER if k in present_kinds]
    handles += [
        handle(MPL_MARKERS.get(KIND_SHAPES.get(k, "circle"), "o"), "#555555", kind_words.get(k, k))
        for k in known + [k for k in present_kinds if k not in known]
    ]
    if len(demand):
        handles.append(handle("o", "#d9d9d9", text.get("demand", "demand")))
    ax.legend(handles=handles, loc="lower left", fontsize=7, frameon=True, framealpha=0.9)
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
