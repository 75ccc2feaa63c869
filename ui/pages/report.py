"""Report page: HTML, PDF and XLSX of the current analysis, built on demand and cached."""

from __future__ import annotations

import streamlit as st

from geo.errors import ServicenetError
from geo.scratch import temp_dir
from planning.locate.suggest import SuggestRequest
from planning.report.inputs import ReportInputs
from planning.report.write import write_report
from ui import analysis as ana
from ui import project as prj
from ui import state

tr = state.tr
lg = state.lang()
sites, demand = state.sites(), state.demand()

st.title(tr("page_report"))
st.write(tr("report_intro"))

c1, c2 = st.columns([3, 1])
title = c1.text_input(tr("report_title"), tr("report_title_default"), key="rp_title")
lang = c2.radio(
    tr("report_lang"), ("zh", "en"), format_func=lambda c: tr(f"lang_{c}"), key="rp_lang"
)
stds = {f"{s.kind}/{s.level}": s for s in ana.standards()}
include = st.checkbox(tr("report_suggest"), value=True, key="rp_suggest")
project = prj.current()
scenario_names = [str(n) for n in project.scenarios.get("scenario", [])] if project else []
compare_with = ""
if scenario_names:
    compare_with = st.selectbox(
        tr("compare_with"), ["", *scenario_names], format_func=lambda n: n or "—", key="rp_compare"
    )
after = state.kept("cov_after", False)


@st.cache_data(show_spinner=False, max_entries=12)
def _build(
    key: str, fmt: str, title: str, lang: str, include: bool, after: bool, compare_with: str
) -> bytes:
    analysis = ana.current_analysis(sites, demand, after)
    analysis = type(analysis)(
        analysis.coverage,
        analysis.gaps,
        analysis.access,
        analysis.networks,
        analysis.standards,
        {**state.provenance(), "standards": "data/standards.toml"},
    )
    suggestion = None
    if include and "service_center/township" in stds:
        std = stds["service_center/township"]
        request = SuggestRequest(
            kind=std.kind,
            level=std.level,
            max_minutes=std.max_minutes,
            mode=std.mode,
            count=5,
            time_limit=30.0,
            after_completion=after,
        )
        suggestion = ana.run_suggestion(sites, demand, request, ("township_seat", "gap_node"), None)
    comparison = None
    if compare_with and project is not None:
        comparison = (compare_with, ana.scenario_comparison(project, compare_with))
    inputs = ReportInputs(
        analysis,
        sites,
        demand,
        suggestion=suggestion,
        title=title,
        lang=lang,
        comparison=comparison,
    )
    with temp_dir() as tmp:
        path = tmp / f"report.{fmt}"
        write_report(inputs, path)
        return path.read_bytes()


key = ana.frame_key(sites) + ana.frame_key(demand) + str(ana.standards())
if project is not None:
    key += f"{project.path}:{project.version}"
mimes = {
    "html": "text/html",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
cols = st.columns(3)
for col, fmt in zip(cols, ("html", "pdf", "xlsx"), strict=True):
    if col.button(tr("report_build", fmt=fmt.upper()), key=f"rp_build_{fmt}"):
        st.session_state[f"rp_want_{fmt}"] = True
    if st.session_state.get(f"rp_want_{fmt}"):
        try:
            with st.spinner(tr("report_building")):
                data = _build(key, fmt, title, lang, include, after, compare_with)
        except ServicenetError as exc:
            col.error(tr("report_failed", message=exc.zh if lg == "zh" else exc.en))
            continue
        col.download_button(
            tr("report_download", fmt=fmt.upper()),
            data,
            file_name=f"servicenet_report.{fmt}",
            mime=mimes[fmt],
            key=f"rp_dl_{fmt}",
        )
