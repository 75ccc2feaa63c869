"""Writing tables and documents atomically: a temporary file, fsync, then replace."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import glob
import json
import os
import secrets
import sys
import tempfile
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import pandas as pd

from geo import scratch
from geo.errors import InputError
from geo.filelock import LockTimeout, exclusive
from geo.safe import CSV_MARKER, FORMULA_TRIGGERS, spreadsheet_text

TABLE_FORMATS = (".csv", ".geojson", ".json", ".gpkg")


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # directory fsync is not possible everywhere
        dir_fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    stem = f".{target.name}."
    scratch.clean(target.parent, stem)  # what a killed run left for this file
    fd, tmp_name = tempfile.mkstemp(prefix=scratch.prefix(stem), suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        # mkstemp creates 0600 files: give the result the permissions a plain
        # open() would (or keep those of the file it replaces)
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_UMASK
        os.chmod(tmp, mode)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_text(path: str | Path, encoding: str = "utf-8") -> Iterator[IO[str]]:
    """Open a text file for writing that appears at ``path`` only when complete."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding=encoding, newline="") as fh:
        yield fh


OS_CLUTTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
LOCK_TIMEOUT_S = 30.0
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """Linux's renameat2, which can swap two paths in one step; None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a C library without it
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn  # type: ignore[no-any-return]


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically; False where the system or file system cannot."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def _swap(stage: Path, folder: Path) -> None:
    """Put ``stage`` in the place of ``folder``; afterwards ``stage`` holds what was there.

    One atomic exchange where the system has it. Elsewhere two renames, the
    previous folder kept aside until the new one is in place and put back if
    that fails; a kill between the two leaves both complete, and the next run
    puts the previous one back (:func:`_recover`).
    """
    if not folder.exists():
        os.replace(stage, folder)
        return
    if _exchange(stage, folder):
        return
    old = folder.with_name(f"{scratch.prefix(f'.{folder.name}.')}{secrets.token_hex(4)}.old")
    os.replace(folder, old)
    try:
        os.replace(stage, folder)
    except BaseException:
        os.replace(old, folder)
        raise
    scratch.remove(old)


def _recover(folder: Path) -> None:
    """Undo what a killed run left beside ``folder``: put back a folder moved aside
    for a swap that never finished, remove stale staging folders."""
    stem = f".{folder.name}."
    if not folder.exists():
        aside = sorted(
            folder.parent.glob(f"{glob.escape(stem)}{scratch.TAG}*.old"),
            key=lambda p: p.stat().st_mtime,
        )
        if aside:
            os.replace(aside[-1], folder)
    scratch.clean(folder.parent, stem)


def check_output_folder(out: str | Path, names: Collection[str]) -> None:
    """Refuse at once an ``out`` that :func:`staged_folder` would refuse after the work.

    Parameters
    ----------
    out
        The output folder.
    names
        What the run writes (see :func:`staged_folder`).
    """
    folder = Path(out)
    _check_replaceable(folder.resolve() if folder.is_symlink() else folder, names)


def _check_replaceable(folder: Path, names: Collection[str]) -> None:
    """Refuse to replace a folder holding anything this run would not have written."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise InputError(
            "输出位置已存在，且不是文件夹",
            "the output exists and is not a folder",
            file=str(folder),
        )
    foreign = sorted(
        e.name
        for e in os.scandir(folder)
        if e.name not in OS_CLUTTER
        and (e.name + "/" if e.is_dir(follow_symlinks=False) else e.name) not in names
    )
    if foreign:
        listed = ", ".join(foreign[:5]) + (" …" if len(foreign) > 5 else "")
        raise InputError(
            f"输出文件夹中有本命令不写的内容（{listed}）；整个文件夹会被新结果替换，"
            "请换一个文件夹，或先移走这些内容",
            f"the output folder holds what this command does not write ({listed}); the whole "
            "folder is replaced by the new results: choose another folder or move them away",
            file=str(folder),
        )


@contextlib.contextmanager
def staged_folder(out: str | Path, names: Collection[str]) -> Iterator[Path]:
    """Yield an empty folder beside ``out``; on success it replaces ``out`` as a whole.

    A run's outputs are produced in full in a sibling folder, which then takes
    the place of ``out`` in one swap (:func:`_swap`): at every moment ``out``
    is the complete previous folder or the complete new one, never a mix of
    two runs, also when the run is killed. A killed run's staging folder is
    removed by the next run (:mod:`geo.scratch`).

    Parameters
    ----------
    out
        The output folder.
    names
        What the run writes: ``"name"`` a file, ``"name/"`` a folder. An
        existing ``out`` holding anything else (apart from .DS_Store and the
        like) is refused rather than deleted.
    """
    folder = Path(out)
    if folder.is_symlink():
        folder = folder.resolve()
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _locked(folder):
        _recover(folder)
    _check_replaceable(folder, names)
    mode = folder.stat().st_mode & 0o7777 if folder.is_dir() else 0o777 & ~_UMASK
    stem = f".{folder.name}."
    stage = Path(tempfile.mkdtemp(prefix=scratch.prefix(stem), suffix=".stage", dir=folder.parent))
    try:
        yield stage
        os.chmod(stage, mode)  # mkdtemp makes it private; keep the permissions of a plain folder
        _fsync_dir(stage)
        with _locked(folder):
            _check_replaceable(folder, names)
            _swap(stage, folder)
        _fsync_dir(folder.parent)
    finally:
        scratch.remove(stage)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    try:
        with exclusive(folder, LOCK_TIMEOUT_S):
            yield
    except LockTimeout:
        raise InputError(
            f"另一个 servicenet 运行正在写入此输出文件夹（已等待 {LOCK_TIMEOUT_S:g} 秒）；"
            "请稍后再试",
            f"another servicenet run has been writing this output folder for more than "
            f"{LOCK_TIMEOUT_S:g} s; try again later",
            file=str(folder),
        ) from None


def write_json(obj: Any, path: str | Path) -> None:
    """Write JSON (UTF-8, Chinese kept readable, stable key order as given)."""
    with atomic_text(path) as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=2, allow_nan=False)
        fh.write("\n")


def _neutralised(frame: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """Copy of ``frame`` with every text cell neutralised, and whether any cell changed.

    Column-wise: a text cell needs the apostrophe of :func:`geo.safe.spreadsheet_text`
    when its first character after its own apostrophes is a formula trigger.
    """
    out = pd.DataFrame(frame).copy()
    changed = False
    for col in out.columns:
        values = out[col]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
            continue
        try:  # non-text cells (numbers, None) give NaN here and are left alone
            first = values.str.lstrip("'").str[:1]
        except AttributeError:  # no text in the column at all
            continue
        hit = first.isin(FORMULA_TRIGGERS).to_numpy(dtype=bool)
        if hit.any():
            changed = True
            fixed = values.astype(object).to_numpy(copy=True)
            fixed[hit] = ["'" + v for v in fixed[hit]]  # only the cells that need it
            out[col] = fixed
    names = [spreadsheet_text(str(c)) for c in out.columns]
    changed = changed or names != [str(c) for c in out.columns]
    out.columns = names
    return out, changed


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV for Excel and WPS: UTF-8 with BOM, formula-safe text, no geometry column.

    When a cell had to be neutralised (a leading apostrophe, :mod:`geo.safe`)
    the file ends with :data:`geo.safe.CSV_MARKER`, so that servicenet, and
    only for such a file, removes those apostrophes when it reads it back.
    """
    plain = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    safe, changed = _neutralised(plain)
    text = safe.to_csv(index=False, lineterminator="\r\n")
    if changed:
        text += CSV_MARKER + "\r\n"
    return ("\ufeff" + text).encode("utf-8")


def write_table(frame: pd.DataFrame, path: str | Path, *, layer: str | None = None) -> None:
    """Write a table as CSV (Excel-safe), GeoJSON or GeoPackage, atomically."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise InputError(
            f"不支持的输出格式 {suffix}（可用 .csv .geojson .gpkg）",
            f"unsupported output format {suffix} (use .csv, .geojson or .gpkg)",
            file=str(target),
        )
    with atomic_path(target) as tmp:
        if suffix == ".csv":
            tmp.write_bytes(csv_bytes(frame))
        elif isinstance(frame, gpd.GeoDataFrame):
            driver = "GPKG" if suffix == ".gpkg" else "GeoJSON"
            tmp.unlink()
            frame.to_file(tmp, driver=driver, layer=layer or target.stem, engine="pyogrio")
        else:
            raise InputError(
                "该表没有几何列，只能写 CSV",
                "this table has no geometry; only CSV can be written",
                file=str(target),
            )
