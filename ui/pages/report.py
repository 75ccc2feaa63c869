"""Report page: HTML, PDF and XLSX of one named plan, built on demand and cached.

A report describes exactly one plan: the base or one scenario of the open
project, named on its cover. Its suggestion section lists the planned sites
that plan holds (the accepted suggestions among them); fresh suggestions are
added only when asked, under a title that says they are not part of the plan.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from geo.errors import ServicenetError
from geo.scratch import temp_dir
from planning.coverage.standards import load_standards
from planning.locate.suggest import SuggestRequest
from planning.report.inputs import ReportInputs
from planning.report.write import write_report
from planning.scenario import apply_changes, project_standards, scenario_changes
from ui import analysis as ana
from ui import project as prj
from ui import state
from ui.strings import text

tr = state.tr
lg = state.lang()

st.title(tr("page_report"))
st.write(tr("report_intro"))

project = prj.current()
scenario_names = [str(n) for n in project.scenarios.get("scenario", [])] if project else []
c1, c2 = st.columns([3, 1])
title = c1.text_input(tr("report_title"), tr("report_title_default"), key="rp_title")
lang = c2.radio(
    tr("report_lang"), ("zh", "en"), format_func=lambda c: tr(f"lang_{c}"), key="rp_lang"
)
plan = ""
if project is not None:
    plans = ["", *scenario_names]
    wanted = state.kept("rp_plan", prj.scenario() or "")
    plan = state.keep(
        "rp_plan",
        st.selectbox(
            tr("report_plan"),
            plans,
            index=plans.index(wanted) if wanted in plans else 0,
            format_func=lambda n: tr("report_plan_scenario", name=n) if n else tr("scenario_base"),
            key="rp_plan",
        ),
    )
else:
    st.caption(tr("report_plan_session"))
fresh = state.keep(
    "rp_fresh",
    st.checkbox(tr("report_fresh"), value=bool(state.kept("rp_fresh", False)), key="rp_fresh"),
)
after = state.kept("cov_after", False)

# the plan's tables and standards: what is on screen, or the chosen plan of the project
if project is None or plan == (prj.scenario() or ""):
    sites, demand, stds = state.sites(), state.demand(), ana.standards()
else:
    changes = scenario_changes(project, plan) if plan else []
    sites, stds = apply_changes(project.sites, project_standards(project), changes)
    demand = project.demand
stds_source: dict[str, str] | None = None  # None: the defaults shipped with servicenet
if project is not None:
    file = Path(str(project.path or "")).name
    stds_source = {g: text("report_standards_project", g, file=file) for g in ("zh", "en")}
elif stds != load_standards():
    stds_source = {g: text("report_standards_session", g) for g in ("zh", "en")}


def _fresh_request() -> tuple[SuggestRequest, tuple[str, ...]] | None:
    """The suggestion page's last settings, else 5 township service centres."""
    solved = st.session_state.get("sg_solved")
    if solved is not None:
        return solved
    by_key = {(s.kind, s.level): s for s in stds}
    std = by_key.get(("service_center", "township"))
    if std is None:
        return None
    request = SuggestRequest(
        kind=std.kind,
        level=std.level,
        max_minutes=std.max_minutes,
        mode=std.mode,
        count=5,
        time_limit=30.0,
        after_completion=after,
    )
    return request, ("township_seat", "gap_node")


@st.cache_data(show_spinner=False, max_entries=12)
def _build(key: str, fmt: str, title: str, lang: str, fresh: bool, after: bool, plan: str) -> bytes:
    analysis = ana.analysis_for(sites, demand, stds, after)
    provenance = {**state.provenance(), "standards": stds_source}
    if project is not None:
        provenance["project"] = {
            "file": str(project.path),
            "version": project.version,
            "scenario": plan or None,
        }
    analysis = type(analysis)(
        analysis.coverage,
        analysis.gaps,
        analysis.access,
        analysis.networks,
        analysis.standards,
        provenance,
    )
    suggestion = None
    wanted = _fresh_request() if fresh else None
    if wanted is not None:
        suggestion = ana.run_suggestion(sites, demand, wanted[0], wanted[1], None)
    comparison = None
    if plan and project is not None:
        comparison = (plan, ana.scenario_comparison(project, plan))
    inputs = ReportInputs(
        analysis,
        sites,
        demand,
        suggestion=suggestion,
        title=title,
        lang=lang,
        comparison=comparison,
        plan=plan,
    )
    with temp_dir() as tmp:
        path = tmp / f"report.{fmt}"
        write_report(inputs, path)
        return path.read_bytes()


key = ana.frame_key(sites) + ana.frame_key(demand) + str(stds) + str(_fresh_request())
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
                data = _build(key, fmt, title, lang, fresh, after, plan)
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
