"""servicenet web app: ``streamlit run app.py`` (or ``servicenet app``)."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import streamlit as st

from geo.mapassets import install_map_assets
from geo.uploads import clean_stale_temporaries, prune_road_uploads
from ui import state
from ui.strings import LANGUAGES, text

ROOT = Path(__file__).resolve().parent
_started = time.perf_counter()  # the whole run of this script, for the server log
log = logging.getLogger("servicenet.app")

# An emoji icon is drawn by the browser (an inline SVG): without it the pages' Material
# icons would become the favicon, fetched from fonts.gstatic.com (not offline).
st.set_page_config(page_title="servicenet", page_icon="🏢", layout="wide")


def _hide_error_details() -> None:
    # .streamlit/config.toml ("none") is read from the working folder only, so
    # `streamlit run` started elsewhere would show full tracebacks: unless the
    # option was set on purpose (config file, --client.showErrorDetails), hide them.
    from streamlit import config

    if config.get_where_defined("client.showErrorDetails") == "<default>":
        st.set_option("client.showErrorDetails", "none")


_hide_error_details()


@st.cache_resource(show_spinner=False)
def _assets() -> str:
    # Normally done by `servicenet app` at set-up; repeated here (cheap, idempotent)
    # so that a plain `streamlit run app.py` also serves maps offline.
    return str(install_map_assets(ROOT / "static"))


@st.cache_resource(show_spinner=False)
def _server_log() -> logging.Logger:
    """Server-side log of page run times (stderr of the server, never shown to users)."""
    if not any(getattr(h, "servicenet", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("servicenet %(levelname)s %(message)s"))
        handler.servicenet = True  # type: ignore[attr-defined]
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    return log


@st.cache_resource(show_spinner=False)
def _housekeeping() -> int:
    # Once per server start: uploads left by killed runs, road uploads past their
    # limits, temporary files of an earlier server or command killed half-way.
    from geo.scratch import clean_system_temp

    return clean_stale_temporaries() + prune_road_uploads() + len(clean_system_temp())


_assets()
_housekeeping()
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
_uploader_css = state.uploader_words_css()
if _uploader_css:  # a style-only st.html takes no room on the page
    st.html(_uploader_css)
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
try:
    page = st.navigation(pages)
    page.run()
except Exception:
    # A bug: the user gets a message in their language, the traceback goes to the
    # server log (Streamlit logs it when re-raised; .streamlit/config.toml sets
    # client.showErrorDetails = "none", so the browser shows no details).
    log.error("unexpected error on a page of the app; traceback follows in the log")
    st.error(state.tr("unexpected_error"))
    raise
# what lives only in this browser session is said on every page (the save model: ui.project)
_unsaved = st.session_state.get("unsaved", [])
if _unsaved and st.session_state.get("project") is None:
    with st.sidebar:
        st.warning(state.tr("unsaved_banner", n=len(_unsaved), items="；".join(_unsaved[-3:])))
        st.page_link(pages[3], label=state.tr("unsaved_go"), icon=":material/save:")
# a run that ends in st.rerun() is not logged: the run after it is
_done = time.perf_counter()
_server_log().info("page %s ran in %.3f s", page.url_path or "map", _done - _started)
_edit = st.session_state.pop("edit_started", None)
if _edit is not None:  # set when a change is applied: the change, its save, the new figures
    _server_log().info("edit to updated figures in %.3f s", _done - _edit)
