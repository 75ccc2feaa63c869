"""Import page: upload, options, per-row report, add or replace, download."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from geo.errors import ServicenetError, SiteImportError
from geo.tables import ImportResult, import_table
from geo.vocab import DATA_DIR
from planning.report.text import crs_word, encoding_word
from ui import project as prj
from ui import state, tables

tr = state.tr
lg = state.lang()
SAMPLE = DATA_DIR / "examples" / "sites_gbk_gcj02.csv"
ENCODINGS = ("auto", "utf-8", "gbk", "gb18030", "utf-16")
CRS = ("auto", "wgs84", "gcj02", "bd09")

st.title(tr("page_import"))
state.show_flash()
st.write(tr("import_intro"))

c1, c2, c3 = st.columns(3)
table_kind = c1.radio(
    tr("table_kind"), ("sites", "demand"), format_func=lambda k: tr(f"table_{k}"), key="imp_kind"
)
encoding = c2.selectbox(
    tr("encoding"),
    ENCODINGS,
    format_func=lambda e: tr("encoding_auto") if e == "auto" else e,
    key="imp_encoding",
)
crs = c3.selectbox(
    tr("crs"), CRS, format_func=lambda c: tr(f"crs_{c}"), key="imp_crs", help=tr("crs_auto_help")
)

upload = st.file_uploader(tr("upload"), type=["csv", "tsv", "txt", "xlsx"], key="imp_file")
if st.button(tr("try_sample"), key="imp_sample"):
    st.session_state["imp_sample_on"] = True
if upload is not None:
    st.session_state["imp_sample_on"] = False

source: tuple[str, bytes] | None = None
if upload is not None:
    source = (upload.name, upload.getvalue())
elif st.session_state.get("imp_sample_on") and SAMPLE.exists():
    source = (SAMPLE.name, SAMPLE.read_bytes())
    st.info(tr("sample_loaded", name=SAMPLE.name))


@st.cache_data(show_spinner=False, max_entries=8)
def _import(name: str, data: bytes, kind: str, enc: str, crs: str) -> ImportResult:
    return import_table(
        data, "sites" if kind == "sites" else "demand", encoding=enc, crs=crs, name=name
    )


if source is not None:
    name, data = source
    try:
        result = _import(name, data, table_kind, encoding, crs)
    except SiteImportError as exc:
        st.error(tr("import_failed", message=exc.message))
        st.stop()

    m1, m2, m3 = st.columns(3)
    m1.metric(tr("rows_read"), result.rows_read)
    m2.metric(tr("rows_imported"), result.rows_imported)
    m3.metric(tr("rows_rejected"), result.rows_rejected)
    # words, not codes: an Excel workbook has no text encoding; the CRS by its name
    encoding = encoding_word(result.encoding, lg)
    st.caption(tr("encoding_used", encoding=encoding, crs=crs_word(result.crs, lg)))
    if result.sheet:
        st.caption(tr("sheet_used", sheet=result.sheet))
    if result.extra_columns:
        st.info(tr("extra_columns", cols="、".join(result.extra_columns)))

    st.subheader(tr("issues"))
    if result.issues:
        # the codes stay in the JSON report (for tools); the planner reads the sentence
        issues = pd.DataFrame(
            {
                tr("col_severity"): [tr(f"severity_{i.severity}") for i in result.issues],
                tr("col_row"): [i.row for i in result.issues],
                tr("col_column"): [i.column for i in result.issues],
                tr("col_message"): [i.en if lg == "en" else i.zh for i in result.issues],
            }
        )
        st.dataframe(
            issues,
            hide_index=True,
            width="stretch",
            column_config={
                tr("col_severity"): st.column_config.TextColumn(width="small"),
                tr("col_row"): st.column_config.NumberColumn(width="small"),
                tr("col_column"): st.column_config.TextColumn(width="small"),
                tr("col_message"): st.column_config.TextColumn(width="large"),
            },
        )
    else:
        st.success(tr("no_issues"))

    if result.rows_imported:
        st.subheader(tr("preview"))
        # the columns a planner checks at a glance; every column (status, coordinates
        # in WGS-84 ...) is in the cleaned CSV below
        preview = [
            c
            for c in (
                "source_row", "site_id", "demand_id", "name", "kind", "level", "township",
                "weight",
            )
            if c in result.table
        ]  # fmt: skip
        tables.show(
            result.table[preview],
        )
        d1, d2 = st.columns(2)
        stem = name.rsplit(".", 1)[0]
        d1.download_button(
            tr("download_clean"),
            tables.download_csv(result.table),
            file_name=f"{stem}_cleaned.csv",
            mime="text/csv",
            key="imp_dl_csv",
        )
        d2.download_button(
            tr("download_report"),
            json.dumps(result.report(), ensure_ascii=False, indent=2).encode("utf-8"),
            file_name=f"{stem}_report.json",
            mime="application/json",
            key="imp_dl_report",
        )

        target = "sites" if table_kind == "sites" else "demand"
        current = state.sites() if target == "sites" else state.demand()
        id_col = "site_id" if target == "sites" else "demand_id"
        if target == "sites" and st.button(tr("add_sites"), key="imp_add", type="primary"):
            clash = sorted(set(current[id_col]) & set(result.table[id_col]))
            if clash:
                st.error(tr("id_clash", ids=", ".join(clash[:20])))
            else:
                try:
                    kept = prj.add_sites(
                        result.table,
                        tr("added", n=result.rows_imported),
                        state.import_provenance(result, data),
                    )
                except ServicenetError as exc:
                    st.error(tr("project_error", message=exc.zh if lg == "zh" else exc.en))
                else:
                    kept.announce(tr("added", n=result.rows_imported))
                    st.rerun()
        confirm = st.checkbox(tr("confirm_replace", n=len(current)), key="imp_confirm")
        label = tr("replace_sites") if target == "sites" else tr("replace_demand")
        if st.button(label, key="imp_replace", disabled=not confirm):
            what = tr("replaced", n=result.rows_imported)
            try:
                kept = prj.replace_table(
                    target, result.table.copy(), state.import_provenance(result, data), what
                )
            except ServicenetError as exc:
                st.error(tr("project_error", message=exc.zh if lg == "zh" else exc.en))
            else:
                kept.announce(what)
                st.rerun()
    else:
        st.warning(tr("nothing_imported"))
