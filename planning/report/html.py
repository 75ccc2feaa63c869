"""The report as HTML (one self-contained file) and as PDF.

The HTML is one self-contained file (figures and the interactive map's
Leaflet are inlined as ``data:`` URLs; nothing is fetched). It is rendered by
Jinja2 with autoescaping on, so every user string is escaped at that one
choke point. The PDF is the same HTML laid out by WeasyPrint for A4 with page
numbers, with a URL fetcher that refuses everything but ``data:`` URLs; Chinese
needs a CJK font installed (Debian: ``fonts-noto-cjk``). The workbook is
written by :mod:`planning.report.xlsx`.
"""

from __future__ import annotations

import base64
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.errors import AnalysisError
from geo.export import atomic_path
from geo.safe import css_string
from planning.coverage.analysis import service_areas
from planning.locate.suggest import Suggestion
from planning.report.inputs import ReportInputs
from planning.report.provenance import (
    plan_text,
    planned_sites,
    provenance_rows,
    site_names,
    standards_source,
)
from planning.report.text import t

TEMPLATES = Path(__file__).resolve().parent / "templates"
GAPS_PER_STANDARD = 10


def _version() -> str:
    try:
        return version("servicenet")
    except PackageNotFoundError:  # pragma: no cover - running from a plain checkout
        return "dev"


def _pct(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    return f"{float(value) * 100:.{digits}f}%"


def _num(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    return f"{float(value):,.{digits}f}"


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _std_name(kind: str, level: str, lang: str) -> str:
    return f"{t('kind_' + kind, lang)} · {t('level_' + level, lang)}"


def focus_standard(inputs: ReportInputs) -> tuple[str, str] | None:
    """The standard drawn on the map.

    As asked, else the suggestion's, else the one with the most uncovered weight.
    """
    if inputs.focus:
        return inputs.focus
    if inputs.suggestion is not None:
        return inputs.suggestion.request.kind, inputs.suggestion.request.level
    cov = inputs.analysis.coverage.standards
    if not len(cov):
        return None
    uncovered = cov["total_weight"] - cov["covered_weight"]
    pos = int(uncovered.to_numpy(dtype=float).argmax())
    return str(cov["kind"].iloc[pos]), str(cov["level"].iloc[pos])


def build_context(inputs: ReportInputs, *, interactive: bool = True) -> dict[str, Any]:
    """Everything the template needs, as plain (unescaped) values."""
    from planning.report.figures import curve_png, network_png

    lang = inputs.lang
    an = inputs.analysis
    cov = an.coverage.standards
    prov = an.provenance
    title = inputs.title or t("title", lang)

    # summary
    planned = planned_sites(inputs.sites)
    met = int(sum(1 for m in cov["met"] if m is True)) if len(cov) else 0
    not_met = int(sum(1 for m in cov["met"] if m is False)) if len(cov) else 0
    lines = [
        t(
            "summary_line",
            lang,
            sites=len(inputs.sites),
            planned=len(planned),
            points=len(inputs.demand),
            weight=_num(inputs.demand["weight"].sum()),
            n_std=len(cov),
            met=met,
            not_met=not_met,
            gaps=len(an.gaps),
        )
    ]
    if len(cov):
        worst = cov.iloc[int(cov["covered_share"].to_numpy(dtype=float).argmin())]
        lines.append(
            t(
                "summary_worst",
                lang,
                name=_std_name(worst["kind"], worst["level"], lang),
                share=_pct(worst["covered_share"]),
                target=_pct(worst["target_share"], 0),
            )
        )
    if inputs.suggestion is not None:
        lines.append(_suggest_head(inputs.suggestion, lang))

    # provenance: every input, whatever its origin
    provenance = provenance_rows(inputs, lang)
    roads = prov.get("roads")
    if an.is_proxy:
        roads_text = t("roads_proxy", lang)
    elif isinstance(roads, dict):
        roads_text = f"{roads.get('file', '')} (SHA-256 {roads.get('sha256', '')})"
    else:
        roads_text = next(iter(an.networks.values())).facts.source if an.networks else "—"
    network_lines = [
        t(
            "network_facts",
            lang,
            mode=t(mode, lang),
            nodes=_num(net.facts.nodes),
            segments=_num(net.facts.segments),
            km=_num(net.facts.length_km, 1),
            dropped=_num(net.facts.segments_dropped),
            dropped_km=_num(net.facts.length_dropped_km, 1),
        )
        for mode, net in sorted(an.networks.items())
    ]

    # standards
    gini: Any = (
        an.access.standards.set_index(["kind", "level"])["gini_townships"]
        if len(an.access.standards)
        else {}
    )
    standards = []
    for row in cov.to_dict("records"):
        m = row["met"]
        standards.append(
            {
                "kind": t("kind_" + row["kind"], lang),
                "level": t("level_" + row["level"], lang),
                "mode": t(row["mode"], lang),
                "minutes": f"{row['max_minutes']:g}",
                "target": _pct(row["target_share"], 0),
                "covered": _pct(row["covered_share"]),
                "covered_weight": _num(row["covered_weight"]),
                "met": t("none", lang) if m is None else t("yes" if m else "no", lang),
                "met_class": "" if m is None else ("good" if m else "bad"),
                "sites": row["sites_counted"],
                "gini": _num(gini.get((row["kind"], row["level"])), 2) if len(gini) else "—",
            }
        )

    # areas: one column per standard
    keys = [(r["kind"], r["level"]) for r in cov.to_dict("records")]
    kinds_seen = [k for k, _ in keys]
    headers = [
        t("level_" + lv, lang)
        if k == "service_center"
        else t("kind_" + k, lang)
        + ("" if kinds_seen.count(k) == 1 else "·" + t("level_" + lv, lang))
        for k, lv in keys
    ]
    area = an.coverage.by_area
    county_rows: list[dict[str, Any]] = []
    township_rows: list[dict[str, Any]] = []
    for area_type, target in (("county", county_rows), ("township", township_rows)):
        part = area[area["area_type"] == area_type]
        idx = ["county"] if area_type == "county" else ["county", "township"]
        for name, grp in part.groupby(idx, sort=True):
            name_t = name if isinstance(name, tuple) else (name,)
            by = {(r["kind"], r["level"]): r for r in grp.to_dict("records")}
            weight = next(iter(by.values()))["total_weight"] if by else 0
            target.append(
                {
                    "county": name_t[0],
                    "name": name_t[-1],
                    "weight": _num(weight),
                    "shares": [_pct(by[k]["covered_share"], 0) if k in by else "—" for k in keys],
                }
            )

    # map
    focus = focus_standard(inputs)
    focus_std = [s for s in an.standards if (s.kind, s.level) == focus]
    areas = (
        service_areas(inputs.sites, tuple(focus_std), an.networks, an.coverage.options)
        if focus_std
        else None
    )
    gaps_focus = (
        an.gaps[(an.gaps["kind"] == focus[0]) & (an.gaps["level"] == focus[1])] if focus else None
    )
    suggested = inputs.suggestion.selected if inputs.suggestion is not None else None
    level_names = {
        lv: t("level_" + lv, lang) for lv in ("city", "county", "township", "community", "park")
    }
    png = network_png(
        inputs.sites,
        inputs.demand,
        areas=areas,
        gaps=gaps_focus,
        suggested=suggested,
        level_names=level_names,
        labels={"demand": t("demand", lang)},
        kind_names={k: t("kind_" + k, lang) for k in inputs.sites["kind"].dropna().unique()},
    )
    map_caption = t("map_caption", lang)
    if focus:
        map_caption = f"{map_caption}（{_std_name(focus[0], focus[1], lang)}）"
    map_html = _interactive_map(inputs, areas, gaps_focus, lang) if interactive else ""

    # gaps
    names_of = site_names(inputs.sites)
    groups = []
    for (kind, level), part in an.gaps.groupby(["kind", "level"], sort=False):
        rows = []
        for g in part.head(GAPS_PER_STANDARD).to_dict("records"):
            rows.append(
                {
                    "rank": g["rank"],
                    "gap_id": g["gap_id"],
                    "weight": _num(g["weight"]),
                    "points": g["points"],
                    "townships": _short_list(g["townships"], lang),
                    "nearest_site": names_of.get(g["nearest_site_id"], g["nearest_site_id"])
                    if isinstance(g["nearest_site_id"], str)
                    else "—",
                    "nearest_minutes": _num(g["nearest_minutes"], 1),
                }
            )
        groups.append({"name": _std_name(str(kind), str(level), lang), "rows": rows})

    suggestion = None
    if inputs.suggestion is not None:
        s = inputs.suggestion
        rows = []
        for r in s.selected.to_dict("records"):
            near = r.get("nearest_existing_site_id")
            mins = r.get("nearest_existing_minutes")
            rows.append(
                {
                    "order": r["order"],
                    "name": r["name"],
                    "township": r.get("township") or "—",
                    "newly": _num(r["newly_covered_weight"]),
                    "share": _pct(r["newly_covered_share"]),
                    "gaps": r.get("gaps_closed") or "—",
                    "farthest": _num(r.get("farthest_covered_minutes"), 1),
                    "nearest": "—"
                    if not isinstance(near, str)
                    else (
                        f"{names_of.get(near, near)}（{_num(mins, 1)} min）"
                        if mins == mins and mins is not None
                        else names_of.get(near, near)
                    ),
                }
            )
        curve = None
        if len(s.curve):
            curve = _data_uri(
                curve_png(
                    s.curve,
                    xlabel="新增站点数" if lang == "zh" else "new sites",
                    ylabel="覆盖率（%）" if lang == "zh" else "covered (%)",
                )
            )
        suggestion = {
            "title": t("fresh_title", lang),
            "head": _suggest_head(s, lang),
            "rows": rows,
            "curve_png": curve,
        }

    comparison = None
    if inputs.comparison is not None:
        scenario_name, cmp = inputs.comparison
        comparison = {
            "name": scenario_name,
            "rows": [
                {
                    "name": _std_name(str(r["kind"]), str(r["level"]), lang),
                    "before": _pct(r["covered_share_a"]),
                    "after": _pct(r["covered_share_b"]),
                    "change": "—" if pd.isna(r["change"]) else f"{float(r['change']) * 100:+.1f}",
                }
                for r in cmp.standards.to_dict("records")
            ],
            "added": [
                f"{r.get('site_id')} {r.get('name') or ''}"
                for r in cmp.sites_added.to_dict("records")
            ],
            "removed": [
                f"{r.get('site_id')} {r.get('name') or ''}"
                for r in cmp.sites_removed.to_dict("records")
            ],
            "gaps_closed": len(cmp.gaps_closed),
            "gaps_opened": len(cmp.gaps_opened),
        }

    options = an.coverage.options
    before, after = t("page", lang, page="|").split("|")
    return {
        "lang": lang,
        "title": title,
        "css_title": css_string(title),
        "page_label_before": before,
        "page_label_after": after,
        "generated": inputs.generated,
        "plan_text": plan_text(inputs),
        "planned": {
            "head": t(
                "planned_head",
                lang,
                n=len(planned),
                accepted=int(planned["site_id"].astype(str).str.startswith("NEW-").sum()),
            )
            if len(planned)
            else t("planned_none", lang),
            "rows": [
                {
                    "name": _text_or_dash(r.get("name")) if r.get("name") else r["site_id"],
                    "kind": _std_name(str(r["kind"]), str(r["level"]), lang),
                    "county": _text_or_dash(r.get("county")),
                    "township": _text_or_dash(r.get("township")),
                    "origin": t(
                        "from_suggestion"
                        if str(r["site_id"]).startswith("NEW-")
                        else "added_by_hand",
                        lang,
                    ),
                }
                for r in planned.to_dict("records")
            ],
        },
        "version": _version(),
        "is_proxy": an.is_proxy,
        "summary_lines": lines,
        "provenance": provenance,
        "roads_text": roads_text,
        "network_lines": network_lines,
        "standards_source": standards_source(prov.get("standards"), lang),
        "options_text": t(
            "after_completion" if options.after_completion else "operating_only", lang
        ),
        "standards": standards,
        "area_headers": headers,
        "county_rows": county_rows,
        "township_rows": township_rows,
        "map_png": _data_uri(png),
        "map_caption": map_caption,
        "map_html": map_html,
        "gap_groups": groups,
        "gaps_note": t("gaps_more", lang, n=GAPS_PER_STANDARD),
        "suggestion": suggestion,
        "comparison": comparison,
        "method_text": t(
            "method_text", lang, snap=f"{options.max_snap_m:g}", walk=f"{options.walk_kph:g}"
        ),
        "notes": list(
            dict.fromkeys(
                _language_part(n, lang)
                for n in (*an.access.notes, *(inputs.suggestion.notes if inputs.suggestion else ()))
            )
        ),
    }


def _text_or_dash(value: Any) -> str:
    """A cell's text, or a dash where it is empty (None, NaN, "")."""
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
        return "—"
    return str(value)


def _short_list(text: Any, lang: str, keep: int = 12) -> str:
    """At most ``keep`` names of a 、-separated list, then how many more."""
    names = [n for n in str(text or "").split("、") if n]
    if len(names) <= keep:
        return "、".join(names)
    more = len(names) - keep
    return "、".join(names[:keep]) + (
        f" 等 {len(names)} 个" if lang == "zh" else f" and {more} more"
    )


def _language_part(note: str, lang: str) -> str:
    """The requested half of a bilingual "中文 / English" note."""
    if " / " not in note:
        return note
    zh, en = note.split(" / ", 1)
    return en if lang == "en" else zh


def _suggest_head(s: Suggestion, lang: str) -> str:
    doc = s.solution_json()
    return t(
        "suggest_head",
        lang,
        n=len(doc["selected"]),
        name=_std_name(s.request.kind, s.request.level, lang),
        before=_pct(doc["covered_share_before"]),
        after=_pct(doc["covered_share_after"]),
        method=doc["method"].upper(),
        status=t("status_" + doc["status"], lang),
        gap="—" if doc["gap"] is None else _pct(doc["gap"], 2),
    )


def _interactive_map(
    inputs: ReportInputs, areas: gpd.GeoDataFrame | None, gaps: gpd.GeoDataFrame | None, lang: str
) -> str:
    from geo.mapassets import inline_assets
    from geo.maps import MapLabels, Overlay, network_map

    overlays = []
    if areas is not None and len(areas):
        overlays.append(
            Overlay(
                t("layer_area", lang),
                areas,
                "#2166ac",
                fill_opacity=0.25,
                weight=1,
                legend=t("area_legend", lang),
            )
        )
    if gaps is not None and len(gaps):
        fields = (
            (t("gap", lang), "gap_id"),
            (t("uncovered", lang), "weight"),
            (t("townships", lang), "townships"),
        )
        overlays.append(
            Overlay(
                t("layer_gaps", lang),
                gaps,
                "#d7301f",
                popup_fields=fields,
                tooltip_field="gap_id",
                on_top=True,
                fill_opacity=0.3,
                weight=2,
                legend=t("gap_legend", lang),
            )
        )
    labels = MapLabels(
        kinds={
            k: t("kind_" + k, lang)
            for k in (
                "service_center",
                "cultural_center",
                "reading_room",
                "workers_palace",
                "library",
                "clinic",
                "school",
            )
        },
        levels={
            lv: t("level_" + lv, lang) for lv in ("city", "county", "township", "community", "park")
        },
        statuses={
            s: t("st_" + s, lang) for s in ("existing", "planned", "under_construction", "closed")
        },
        legend_title=t("level", lang),
        legend_status=t("status", lang),
        legend_kind=t("legend_kind", lang),
        legend_layers=t("legend_layers", lang),
        demand_layer=t("demand", lang),
        demand_legend=t("demand_legend", lang),
        numbered_legend=t("numbered_legend", lang),
    )
    numbered = None
    if inputs.suggestion is not None and len(inputs.suggestion.selected):
        sel = inputs.suggestion.selected
        numbered = gpd.GeoDataFrame(
            sel, geometry=gpd.points_from_xy(sel["lon"], sel["lat"]), crs=4326
        )
    fmap = network_map(
        inputs.sites,
        inputs.demand,
        labels=labels,
        assets=inline_assets(),
        basemap="blank",
        overlays=tuple(overlays),
        numbered=numbered,
        numbered_layer=t("layer_suggested", lang),
        banner=t("roads_proxy", lang) if inputs.analysis.is_proxy else "",
    )
    html: str = fmap.get_root().render()
    return html


def render_html(inputs: ReportInputs, *, interactive: bool = True) -> str:
    """The report as one self-contained HTML document."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    ctx = build_context(inputs, interactive=interactive)
    ctx["t"] = lambda key, **kw: t(key, inputs.lang, **kw)
    # the page header is CSS content: the template uses css_title (geo.safe.css_string) there
    template = env.get_template("report.html.j2")
    return template.render(**ctx)


def local_only_fetcher() -> Any:
    """A WeasyPrint URL fetcher that serves ``data:`` URLs only and fails on anything else."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, fail_on_errors=True, allow_redirects=False)


def write_html(inputs: ReportInputs, path: str | Path) -> None:
    """Write the HTML report atomically."""
    html = render_html(inputs)
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")


def write_pdf(inputs: ReportInputs, path: str | Path) -> None:
    """Write the PDF report (A4, page numbers, CJK fonts) atomically."""
    from planning.report.figures import cjk_font

    if inputs.lang != "en" and cjk_font() is None:
        raise AnalysisError(
            "未找到中文字体，无法生成中文 PDF（Debian/Ubuntu：apt-get install fonts-noto-cjk）",
            "no Chinese font found for the PDF (Debian/Ubuntu: apt-get install fonts-noto-cjk)",
        )
    try:
        from weasyprint import HTML
    except OSError as exc:  # Pango is missing
        raise AnalysisError(
            "生成 PDF 需要 Pango 库（Debian/Ubuntu：apt-get install libpango-1.0-0）",
            f"PDF output needs the Pango library (apt-get install libpango-1.0-0): {exc}",
        ) from None
    html = render_html(inputs, interactive=False)
    with atomic_path(path) as tmp:
        HTML(string=html, url_fetcher=local_only_fetcher()).write_pdf(tmp)
