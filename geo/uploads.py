"""Files a client uploads: kept under the sha256 of their bytes, never under the client's name.

A browser chooses the name of an uploaded file, so the name can be
``../../x.csv`` or ``/etc/x``. Nothing here uses it beyond its ending: the
suffix is looked up in an allow-list (:data:`TABLE_SUFFIXES`,
:data:`ROAD_SUFFIXES`) and the stored file is ``<sha256 of the bytes><suffix>``.

* :func:`temporary_upload` — an upload read once (a candidate list): written
  into a fresh private temporary folder, deleted when the ``with`` block ends.
  Folders left by a killed run are removed by :func:`clean_stale_temporaries`.
* :func:`store_road_upload` — a road file used for the rest of a session: kept
  in the user cache (``$XDG_CACHE_HOME/servicenet/roads`` or
  ``~/.cache/servicenet/roads``) together with the networks built from it
  (``.servicenet-cache/`` inside that folder, see :mod:`geo._roadcache`). The
  folder is bounded by :class:`UploadLimits` (total size and age, oldest
  removed first) and pruned on start and on every upload
  (:func:`prune_road_uploads`); a rejected upload is removed at once
  (:func:`remove_road_upload`).

A zipped Shapefile is kept as one ``.shp.zip`` file and read in place by GDAL
(``/vsizip/``): it is never unpacked, so the names inside the archive do not
reach the disk either.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from geo._roadcache import CACHE_DIR_NAME
from geo.errors import UploadError

#: Client suffix -> stored suffix, for tables (sites, demand, candidates).
TABLE_SUFFIXES: Mapping[str, str] = {
    ".csv": ".csv",
    ".tsv": ".tsv",
    ".txt": ".txt",
    ".xlsx": ".xlsx",
}
#: Client suffix -> stored suffix, for road files (a ``.zip`` is a zipped Shapefile).
ROAD_SUFFIXES: Mapping[str, str] = {
    ".osm.pbf": ".osm.pbf",
    ".pbf": ".osm.pbf",
    ".osm": ".osm",
    ".osm.bz2": ".osm.bz2",
    ".graphml": ".graphml",
    ".geojson": ".geojson",
    ".gpkg": ".gpkg",
    ".shp.zip": ".shp.zip",
    ".zip": ".shp.zip",
}
TEMP_PREFIX = "servicenet-upload-"
#: Temporary files younger than this may belong to a run still going; older ones are leftovers.
STALE_SECONDS = 3600.0
_DIGEST = re.compile(r"^[0-9a-f]{64}")


@dataclass(frozen=True)
class UploadLimits:
    """Bounds of the road-upload folder (uploads and the networks built from them).

    ``max_bytes`` (default 2 GiB, ``SERVICENET_UPLOAD_CACHE_MB``) caps the
    total size; ``max_age_days`` (default 30, ``SERVICENET_UPLOAD_CACHE_DAYS``)
    removes what was not uploaded again for that long. A single file larger
    than ``max_bytes`` is refused.
    """

    max_bytes: int = 2 * 1024**3
    max_age_days: float = 30.0

    @classmethod
    def from_env(cls) -> UploadLimits:
        """The limits, with ``SERVICENET_UPLOAD_CACHE_MB`` / ``_DAYS`` when set and valid."""
        default = cls()
        size, days = default.max_bytes, default.max_age_days
        with contextlib.suppress(ValueError):
            mb = float(os.environ.get("SERVICENET_UPLOAD_CACHE_MB", ""))
            if 0 < mb < 1e9:
                size = int(mb * 1024**2)
        with contextlib.suppress(ValueError):
            value = float(os.environ.get("SERVICENET_UPLOAD_CACHE_DAYS", ""))
            if 0 < value < 1e5:
                days = value
        return cls(max_bytes=size, max_age_days=days)


def safe_suffix(name: str, allowed: Mapping[str, str]) -> str:
    """The stored suffix for an upload called ``name``: chosen from ``allowed``, never copied.

    Raises
    ------
    UploadError
        When the name ends in no allowed suffix (nothing has been written).
    """
    lowered = name.lower()
    for suffix in sorted(allowed, key=len, reverse=True):
        if lowered.endswith(suffix):
            return allowed[suffix]
    shown = ", ".join(sorted(set(allowed)))
    raise UploadError(
        f"不接受这种文件类型（可用：{shown}）", f"this file type is not accepted (use: {shown})"
    )


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_new(path: Path, data: bytes) -> None:
    """Write ``path`` atomically (a temporary file in the same folder, then a rename)."""
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def temporary_upload(name: str, data: bytes, allowed: Mapping[str, str]) -> Iterator[Path]:
    """An upload as a file for the length of a ``with`` block, then deleted.

    The file is ``<sha256><suffix>`` in a new private folder of the system's
    temporary folder (``servicenet-upload-*``, mode 0700).
    """
    suffix = safe_suffix(name, allowed)
    folder = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
    try:
        path = folder / f"{_digest(data)}{suffix}"
        _write_new(path, data)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def clean_stale_temporaries(
    root: Path | None = None, *, older_than: float = STALE_SECONDS, now: float | None = None
) -> int:
    """Remove upload folders that a killed run left in the temporary folder; how many."""
    base = Path(root) if root is not None else Path(tempfile.gettempdir())
    limit = (time.time() if now is None else now) - older_than
    removed = 0
    uid = os.getuid() if hasattr(os, "getuid") else None
    for folder in base.glob(f"{TEMP_PREFIX}*"):
        try:
            info = folder.lstat()
        except OSError:
            continue
        mine = uid is None or info.st_uid == uid
        if folder.is_dir() and not folder.is_symlink() and mine and info.st_mtime < limit:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def road_upload_dir() -> Path:
    """The folder of uploaded road files: ``$XDG_CACHE_HOME/servicenet/roads`` (``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME")
    cache = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return cache / "servicenet" / "roads"


@dataclass
class _Entry:
    files: list[Path]
    size: int
    mtime: float
    has_upload: bool


def _entries(folder: Path) -> tuple[dict[str, _Entry], list[Path]]:
    """Uploads and their network caches grouped by digest, and stray temporary files."""
    entries: dict[str, _Entry] = {}
    strays: list[Path] = []
    for sub in (folder, folder / CACHE_DIR_NAME):
        if not sub.is_dir():
            continue
        for path in sub.iterdir():
            try:
                info = path.lstat()
            except OSError:
                continue
            if not path.is_file() or path.is_symlink():
                continue
            found = _DIGEST.match(path.name)
            if found is None:
                if path.name.startswith(".") and path.name.endswith((".part", ".tmp")):
                    strays.append(path)
                continue
            entry = entries.setdefault(found.group(0), _Entry([], 0, 0.0, False))
            entry.files.append(path)
            entry.size += info.st_size
            entry.mtime = max(entry.mtime, info.st_mtime)
            entry.has_upload |= sub == folder
    return entries, strays


def prune_road_uploads(
    folder: Path | None = None,
    limits: UploadLimits | None = None,
    *,
    keep: str | None = None,
    now: float | None = None,
) -> int:
    """Bring the road-upload folder within its limits; the number of files removed.

    Removed: uploads (with their network caches) older than the age limit,
    network caches whose upload is gone, temporary files of killed runs, then
    the least recently uploaded entries until the total fits ``max_bytes``.
    ``keep`` (a digest) is never removed: the upload just made.
    """
    where = road_upload_dir() if folder is None else Path(folder)
    bounds = UploadLimits.from_env() if limits is None else limits
    clock = time.time() if now is None else now
    entries, strays = _entries(where)
    doomed: list[Path] = []
    for stray in strays:
        with contextlib.suppress(OSError):
            if stray.lstat().st_mtime < clock - STALE_SECONDS:
                doomed.append(stray)
    oldest_first = sorted(entries.items(), key=lambda item: (item[1].mtime, item[0]))
    total = sum(entry.size for entry in entries.values())
    for digest, entry in oldest_first:
        if digest == keep:
            continue
        expired = clock - entry.mtime > bounds.max_age_days * 86400.0
        if expired or not entry.has_upload or total > bounds.max_bytes:
            doomed.extend(entry.files)
            total -= entry.size
    for path in doomed:
        with contextlib.suppress(OSError):
            path.unlink()
    return len(doomed)


def store_road_upload(
    name: str, data: bytes, *, folder: Path | None = None, limits: UploadLimits | None = None
) -> Path:
    """Keep an uploaded road file as ``<sha256><suffix>`` in the upload folder; its path.

    Uploading the same bytes again reuses the file (and its built networks)
    and counts as a fresh use for the age limit. The folder is pruned after.

    Raises
    ------
    UploadError
        A suffix not in :data:`ROAD_SUFFIXES`, or a file larger than the
        folder's size limit (nothing is written then).
    """
    where = road_upload_dir() if folder is None else Path(folder)
    bounds = UploadLimits.from_env() if limits is None else limits
    suffix = safe_suffix(name, ROAD_SUFFIXES)
    if len(data) > bounds.max_bytes:
        mb = bounds.max_bytes / 1024**2
        raise UploadError(
            f"文件太大：上传路网的存放上限为 {mb:.0f} MB（SERVICENET_UPLOAD_CACHE_MB）",
            f"the file is too large: uploaded road files may take {mb:.0f} MB in all "
            "(SERVICENET_UPLOAD_CACHE_MB)",
        )
    digest = _digest(data)
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{digest}{suffix}"
    if path.is_file() and path.stat().st_size == len(data):
        os.utime(path)
    else:
        _write_new(path, data)
    prune_road_uploads(where, bounds, keep=digest)
    return path


def remove_road_upload(path: str | os.PathLike[str], folder: Path | None = None) -> bool:
    """Delete an upload kept by :func:`store_road_upload` and the networks built from it.

    Any other path (a road file of the user's own) is left alone: ``False``.
    """
    where = (road_upload_dir() if folder is None else Path(folder)).resolve()
    target = Path(path)
    found = _DIGEST.match(target.name)
    if found is None or target.resolve().parent != where:
        return False
    entries, _ = _entries(where)
    for file in entries.get(found.group(0), _Entry([], 0, 0.0, False)).files:
        file.unlink(missing_ok=True)
    return True
