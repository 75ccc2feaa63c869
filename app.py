"""servicenet web app: ``streamlit run app.py`` (or ``servicenet app``)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from geo.mapassets import install_map_assets
from ui import state
from ui.strings import LANGUAGES, text

ROOT = Path(__file__).resolve().parent

st.set_page_config(page_title="servicenet", page_icon=":material/hub:", layout="wide")


@st.cache_resource(show_spinner=False)
def _assets() -> str:
    # Normally done by `servicenet app` at set-up; repeated here (cheap, idempotent)
    # so that a plain `streamlit run app.py` also serves maps offline.
    return str(install_map_assets(ROOT / "static"))


@st.cache_resource(show_spinner=False)
def _clean_scratch() -> int:
    # temporary files of an earlier server or command killed half-way (once per server)
    from geo.scratch import clean_system_temp

    return len(clean_system_temp())


_assets()
_clean_scratch()
with st.sidebar:
    st.radio(
        text("language"),
        LANGUAGES,
        format_func=lambda c: text(f"lang_{c}"),
        horizontal=True,
        key="lang",
        on_change=state.language_changed,
    )
state.ensure_loaded()
pages = [
    st.Page("ui/pages/network.py", title=state.tr("page_map"), icon=":material/map:", default=True),
    st.Page("ui/pages/coverage.py", title=state.tr("page_coverage"), icon=":material/radar:"),
    st.Page(
        "ui/pages/suggest.py", title=state.tr("page_suggest"), icon=":material/add_location_alt:"
    ),
    st.Page("ui/pages/project.py", title=state.tr("page_project"), icon=":material/folder_open:"),
    st.Page("ui/pages/report.py", title=state.tr("page_report"), icon=":material/description:"),
    st.Page("ui/pages/importer.py", title=state.tr("page_import"), icon=":material/upload_file:"),
]
st.navigation(pages).run()
