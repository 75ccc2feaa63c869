"""Map assets served by the app itself, so maps work with no internet.

Leaflet comes from the installed ``xstatic-leaflet`` package (PyPI). At set-up
(``servicenet app``, or the first start of the app) its files are copied into
the app's ``static/`` folder, which Streamlit serves at ``/app/static/``. The
folder is not committed to the repository.
"""

from __future__ import annotations

import filecmp
import shutil
from dataclasses import dataclass
from pathlib import Path

STATIC_URL = "/app/static"


@dataclass(frozen=True)
class MapAssets:
    """URLs of the JavaScript and CSS a map needs, in load order."""

    js: tuple[tuple[str, str], ...]
    css: tuple[tuple[str, str], ...]


def leaflet_dir() -> Path:
    """Folder of Leaflet's distribution inside the installed xstatic package."""
    import xstatic.pkg.leaflet as xleaflet

    return Path(xleaflet.BASE_DIR)


def install_map_assets(static_dir: str | Path) -> Path:
    """Copy Leaflet into ``static_dir/leaflet`` when missing or changed; return that folder."""
    src = leaflet_dir()
    dst = Path(static_dir) / "leaflet"
    for path in sorted(src.rglob("*")):
        if path.is_dir() or path.suffix == ".map" or "esm" in path.name:
            continue
        target = dst / path.relative_to(src)
        if target.exists() and filecmp.cmp(path, target, shallow=False):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        shutil.copyfile(path, tmp)
        tmp.replace(target)
    return dst


def local_assets(base_url: str = STATIC_URL) -> MapAssets:
    """Asset URLs for maps shown by the app (served from ``static/``)."""
    return MapAssets(
        js=(("leaflet", f"{base_url}/leaflet/leaflet.js"),),
        css=(("leaflet_css", f"{base_url}/leaflet/leaflet.css"),),
    )


def inline_assets() -> MapAssets:
    """Leaflet as ``data:`` URLs, for maps inside a self-contained file (reports).

    The CSS's image references are inlined too, so the file needs nothing else.
    """
    import base64
    import re

    src = leaflet_dir()
    js = base64.b64encode((src / "leaflet.js").read_bytes()).decode("ascii")
    css = (src / "leaflet.css").read_text(encoding="utf-8")

    def image(match: re.Match[str]) -> str:
        path = src / match.group(1)
        if not path.is_file():
            return "url()"
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        mime = "image/svg+xml" if path.suffix == ".svg" else f"image/{path.suffix.lstrip('.')}"
        return f"url(data:{mime};base64,{data})"

    css = re.sub(r"url\(['\"]?(images/[^)'\"]+)['\"]?\)", image, css)
    css64 = base64.b64encode(css.encode("utf-8")).decode("ascii")
    return MapAssets(
        js=(("leaflet", f"data:text/javascript;base64,{js}"),),
        css=(("leaflet_css", f"data:text/css;base64,{css64}"),),
    )
