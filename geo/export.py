"""Writing tables and documents atomically: a temporary file, fsync, then replace."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import pandas as pd

from geo.errors import InputError
from geo.safe import CSV_MARKER, FORMULA_TRIGGERS, spreadsheet_text

TABLE_FORMATS = (".csv", ".geojson", ".json", ".gpkg")


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
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
        with contextlib.suppress(OSError):  # directory fsync is not possible everywhere
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_text(path: str | Path, encoding: str = "utf-8") -> Iterator[IO[str]]:
    """Open a text file for writing that appears at ``path`` only when complete."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding=encoding, newline="") as fh:
        yield fh


@contextlib.contextmanager
def staged_folder(out: str | Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``out``; on success move its files into ``out``.

    A run's outputs are produced in full before any of them replaces an earlier
    run's file, so a failure half-way leaves the folder as it was (never a mix
    of two runs). Files of earlier runs that this run does not write are left.
    """
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InputError(
            "输出位置已存在，且不是文件夹",
            "the output exists and is not a folder",
            file=str(folder),
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        yield stage
        folder.mkdir(exist_ok=True)
        items = sorted(stage.iterdir())
        for item in items:  # check every target before replacing any
            if (folder / item.name).is_dir():
                raise InputError(
                    "输出文件夹中有同名的子文件夹，无法写入",
                    "a sub-folder of the output folder has the name of an output file",
                    file=str(folder / item.name),
                )
        for item in items:
            os.replace(item, folder / item.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


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
