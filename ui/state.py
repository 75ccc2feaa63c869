"""Session state of the app: language and the current sites and demand."""

from __future__ import annotations

import os
from typing import Any

import geopandas as gpd
import streamlit as st

from geo.maps import MapLabels
from geo.safe import markdown_text
from geo.tables import ImportResult
from planning.demo import Dataset, load_demo
from ui.strings import STRINGS, text, vocabulary_words

STRING_KEYS = frozenset(STRINGS)


@st.cache_resource(show_spinner=False)
def _demo() -> Dataset:
    return load_demo()


def lang() -> str:
    """The current language code (``zh`` by default)."""
    return str(st.session_state.get("lang", "zh"))


# Choice widgets whose option labels are words of the current language: Streamlit
# keeps showing the old words (and may lose the choice) after a language switch,
# so they are rebuilt from their defaults in the new language.
TRANSLATED_CHOICES = (
    "basemap",
    "cov_std",
    "imp_kind",
    "imp_encoding",
    "imp_crs",
    "sg_std",
    "sg_method",
    "sg_by",
    "sg_sources",
    "sg_to_target",
    "sg_solved",
    "prj_kind",
    "prj_level",
    "rp_lang",
    "rp_plan",
)


def language_changed() -> None:
    """Callback of the language switch: rebuild the translated choice widgets."""
    for key in TRANSLATED_CHOICES:
        st.session_state.pop(key, None)


def tr(key: str, **kwargs: Any) -> str:
    """The string ``key`` in the current language, for Streamlit's Markdown.

    Text arguments (names, ids, file names, messages) are escaped by
    :func:`geo.safe.markdown_text`, so they show as typed: no emphasis, link
    or image (which the browser would fetch) is made from them.
    """
    return text(
        key, lang(), **{k: markdown_text(v) if isinstance(v, str) else v for k, v in kwargs.items()}
    )


def tr_plain(key: str, **kwargs: Any) -> str:
    """The string ``key`` with its arguments as given, where it is not Markdown (map layers)."""
    return text(key, lang(), **kwargs)


def ensure_loaded() -> None:
    """Load the demo into the session on first use."""
    if "sites" not in st.session_state:
        demo = _demo()
        st.session_state["sites"] = demo.sites.copy()
        st.session_state["demand"] = demo.demand.copy()
        st.session_state["dataset"] = "demo"
        st.session_state["provenance"] = {
            "sites": import_provenance(demo.site_import),
            "demand": import_provenance(demo.demand_import),
        }


def import_provenance(result: ImportResult, data: bytes | None = None) -> dict[str, Any]:
    """What a table was imported from, for reports."""
    import hashlib
    from pathlib import Path

    if data is None and Path(result.source).is_file():
        data = Path(result.source).read_bytes()
    return {
        "file": Path(result.source).name if data is not None else result.source,
        "sha256": hashlib.sha256(data).hexdigest() if data is not None else "",
        "encoding": result.encoding,
        "crs": result.crs,
        "rows_read": result.rows_read,
        "rows_imported": result.rows_imported,
        "rows_rejected": result.rows_rejected,
    }


def provenance() -> dict[str, Any]:
    """Provenance of the session's tables (files, hashes, rows)."""
    ensure_loaded()
    value: dict[str, Any] = st.session_state.get("provenance", {})
    return value


def sites() -> gpd.GeoDataFrame:
    """Current sites."""
    ensure_loaded()
    frame: gpd.GeoDataFrame = st.session_state["sites"]
    return frame


def demand() -> gpd.GeoDataFrame:
    """Current demand points."""
    ensure_loaded()
    frame: gpd.GeoDataFrame = st.session_state["demand"]
    return frame


def set_table(name: str, frame: gpd.GeoDataFrame, source: dict[str, Any] | None = None) -> None:
    """Replace the current sites or demand, marking the data as the user's."""
    st.session_state[name] = frame
    st.session_state["dataset"] = "user"
    prov = dict(st.session_state.get("provenance", {}))
    if source is not None:
        prov[name] = source
    else:
        prov[name] = {**prov.get(name, {}), "note": "edited in the app"}
    st.session_state["provenance"] = prov


def with_added_source(
    prov: dict[str, Any], name: str, source: dict[str, Any], scenario: str | None = None
) -> dict[str, Any]:
    """``prov`` with ``source`` listed as a file whose rows were added to table ``name``
    (in ``scenario`` when given), beside the file the table came from."""
    entry = dict(prov.get(name, {}))
    added = [*entry.get("added", []), {**source, **({"scenario": scenario} if scenario else {})}]
    return {**prov, name: {**entry, "added": added}}


def kept(key: str, default: Any) -> Any:
    """The value the widget ``key`` had when last shown (else ``default``).

    Streamlit forgets a widget's value when a run does not draw it (another page
    was opened); settings a planner made are kept here, by code, not by label,
    so they also survive a language switch.
    """
    return st.session_state.get("_kept", {}).get(key, default)


def keep(key: str, value: Any) -> Any:
    """Remember the value of widget ``key`` for :func:`kept`; returns it."""
    st.session_state.setdefault("_kept", {})[key] = value
    return value


def flash(message: str, kind: str = "success") -> None:
    """A message for the next run of the page (after an ``st.rerun()``)."""
    st.session_state["flash"] = (kind, message)


def show_flash() -> None:
    """Show (once) the message left by :func:`flash`."""
    kind, message = st.session_state.pop("flash", ("", ""))
    if message:
        (st.success if kind == "success" else st.warning)(message)


def map_labels() -> MapLabels:
    """Map display words in the current language."""
    lg = lang()
    return MapLabels(
        kinds=vocabulary_words("kind", lg),
        levels=vocabulary_words("level", lg),
        statuses=vocabulary_words("status", lg),
        grades=vocabulary_words("grade", lg),
        fields=vocabulary_words("field", lg),
        legend_title=text("legend_title", lg),
        legend_status=text("legend_status", lg),
        legend_kind=text("legend_kind", lg),
        legend_layers=text("legend_layers", lg),
        demand_layer=text("demand_layer", lg),
        demand_legend=text("demand_legend", lg),
        numbered_legend=text("numbered_legend", lg),
        basemaps={b: text(f"basemap_{b}", lg) for b in ("blank", "osm", "tianditu", "amap")},
    )


def _css_string(words: str) -> str:
    return '"' + words.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def uploader_words_css() -> str:
    """A style sheet that shows Streamlit's uploader words in the chosen language.

    ``st.file_uploader`` writes "Upload", "200MB per file • CSV, …" and "Drag and
    drop a file here" in English whatever the page's language (Streamlit 1.67 has
    no option for them); each is hidden (font size 0) and our words drawn after it.
    The accepted types are named in each uploader's own label instead.
    """
    if lang() == "en":
        return ""
    mb = int(st.get_option("server.maxUploadSize"))
    zone = '[data-testid="stFileUploaderDropzone"]'
    words = {
        f'{zone} button [data-testid="stMarkdownContainer"] p': tr_plain("uploader_button"),
        '[data-testid="stFileUploaderDropzoneInstructions"] span': tr_plain(
            "uploader_limit", mb=mb
        ),
        f"{zone} > input + div > span": tr_plain("uploader_drop"),
    }
    rules = [
        f"{sel} {{font-size: 0 !important}} "
        f"{sel}::after {{content: {_css_string(w)}; font-size: 14px}}"
        for sel, w in words.items()
    ]
    return "<style>\n" + "\n".join(rules) + "\n</style>"


def tianditu_key() -> str:
    """Tianditu key from the environment or Streamlit secrets, or ``""``."""
    key = os.environ.get("TIANDITU_KEY", "")
    if not key:
        try:
            key = str(st.secrets.get("TIANDITU_KEY", ""))
        except (FileNotFoundError, KeyError, st.errors.StreamlitAPIException):
            key = ""
    return key
