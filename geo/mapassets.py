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
