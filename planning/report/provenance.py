"""What a report says about its inputs: where each came from, the plan's planned sites.

Shared by the HTML/PDF and the XLSX report so both list the same inputs and
name sites the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from planning.report.inputs import ReportInputs
from planning.report.text import crs_word, encoding_word, t


def planned_sites(sites: pd.DataFrame) -> pd.DataFrame:
    """The plan's planned sites (status "planned"), without geometry."""
    if not len(sites) or "status" not in sites:
        return pd.DataFrame(columns=["site_id", "name", "kind", "level", "county", "township"])
    return pd.DataFrame(sites[sites["status"].astype(str) == "planned"]).drop(
        columns="geometry", errors="ignore"
    )


def site_names(sites: pd.DataFrame) -> dict[str, str]:
    """Site id -> "name（id）" for the tables that name a site."""
    if not len(sites):
        return {}
    ids = sites["site_id"].astype(str)
    names = sites["name"].astype("string").fillna("") if "name" in sites else ids
    return {i: (f"{n}（{i}）" if n else i) for i, n in zip(ids, names, strict=True)}


def table_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 of a table as its Excel-safe CSV (what was analysed, whatever its origin)."""
    import hashlib

    from geo.export import csv_bytes

    return hashlib.sha256(csv_bytes(frame)).hexdigest()


def _short_crs(code: str, lang: str) -> str:
    return crs_word(code, lang, short=True)


def _words(word: Callable[[str, str], str], code: object, lang: str) -> str:
    return word(str(code), lang) if code else "—"


def provenance_rows(inputs: ReportInputs, lang: str) -> list[dict[str, Any]]:
    """One row per input: the file it was imported from, else the project layer or the
    session's own table, with its rows and the SHA-256 of what was analysed."""
    prov = inputs.analysis.provenance
    project = prov.get("project") if isinstance(prov.get("project"), dict) else None
    rows: list[dict[str, Any]] = []
    tables = {"sites": inputs.sites, "demand": inputs.demand}
    for key, frame in tables.items():
        label = t("sheet_sites" if key == "sites" else "demand", lang)
        p = prov.get(key)
        if isinstance(p, dict) and p.get("file"):
            note = t("edited_after", lang) if p.get("note") else ""
            rows.append(
                {
                    "label": label,
                    "file": f"{p.get('file', '')}{note}",
                    "sha256": p.get("sha256", ""),
                    "rows": " / ".join(
                        str(p.get(k, "")) for k in ("rows_read", "rows_imported", "rows_rejected")
                    ),
                    "encoding": _words(encoding_word, p.get("encoding"), lang),
                    "crs": _words(_short_crs, p.get("crs"), lang),
                }
            )
        added = p.get("added", []) if isinstance(p, dict) else []
        for extra in added if isinstance(added, list) else []:
            if not isinstance(extra, dict):
                continue
            in_scenario = (
                t("added_in_scenario", lang, name=extra["scenario"])
                if extra.get("scenario")
                else ""
            )
            rows.append(
                {
                    "label": label,
                    "file": f"{extra.get('file', '')}{t('added_file', lang)}{in_scenario}",
                    "sha256": extra.get("sha256", ""),
                    "rows": " / ".join(
                        str(extra.get(k, ""))
                        for k in ("rows_read", "rows_imported", "rows_rejected")
                    ),
                    "encoding": _words(encoding_word, extra.get("encoding"), lang),
                    "crs": _words(_short_crs, extra.get("crs"), lang),
                }
            )
        where = (
            t("project_layer", lang, layer=key, file=Path(str(project.get("file", ""))).name)
            if project
            else t("session_table", lang)
        )
        if not (isinstance(p, dict) and p.get("file")) or p.get("note") or added or project:
            # what was analysed, as it stands now (a project layer, a table edited in the app)
            rows.append(
                {
                    "label": label,
                    "file": where,
                    "sha256": table_sha256(frame),
                    "rows": f"{len(frame):,}",
                    "encoding": "—",
                    "crs": _short_crs("wgs84", lang),
                }
            )
    if project:
        path = Path(str(project.get("file", "")))
        digest = ""
        if path.is_file():
            import hashlib

            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        rows.append(
            {
                "label": t("project_file", lang),
                "file": t("project_version", lang, file=path.name, version=project.get("version")),
                "sha256": digest,
                "rows": "—",
                "encoding": "—",
                "crs": _short_crs("wgs84", lang),
            }
        )
    return rows


def standards_source(value: Any, lang: str) -> str:
    """Where the standards came from, in words (a file's name, never a server path)."""
    if value is None or value == "":
        return t("standards_default", lang)
    if isinstance(value, dict):
        return str(value.get(lang) or value.get("zh") or "—")
    path = Path(str(value))
    from geo.vocab import DATA_DIR

    if path.resolve() == (DATA_DIR / "standards.toml").resolve():
        return t("standards_default", lang)
    return path.name


def plan_text(inputs: ReportInputs) -> str:
    """ "The plan described: ..." for the cover of a report."""
    lang = inputs.lang
    name = t("plan_scenario", lang, name=inputs.plan) if inputs.plan else t("plan_base", lang)
    return t("plan_line", lang, name=name)
