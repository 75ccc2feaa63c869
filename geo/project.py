"""Project files: one GeoPackage holding a plan's sites, demand, standards and scenarios.

Layers (all open in QGIS/ArcGIS):

* ``sites``, ``demand`` — point layers with the canonical columns (extras kept);
* ``standards`` — one row per service standard;
* ``scenarios`` — name, created, note;
* ``changes`` — the scenarios' changes (scenario, seq, op, payload as JSON);
* ``metadata`` — key/value: ``schema_version``, ``version`` (a counter raised
  by every save), ``created``, ``modified``, the road source and its hash.

Saving is atomic: the whole file is written to a temporary file in the same
folder, flushed to disk and moved over the old one, so an interrupted save
leaves the previous file intact. A save based on an older version than the
one on disk is refused (:class:`StaleProjectError`), never silently merged;
saves of one file are serialised by a lock, so two at once cannot both pass
that check.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import inspect
import logging
import os
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import scratch
from geo.bounds import check_table
from geo.errors import InputError, ServicenetError, os_reason
from geo.filelock import LockTimeout, exclusive
from geo.paths import confined_file

SCHEMA_VERSION = 1
LAYERS = ("sites", "demand", "standards", "scenarios", "changes", "metadata")
STANDARD_COLUMNS = ["kind", "level", "mode", "max_minutes", "target_share", "higher_levels_count"]
SCENARIO_COLUMNS = ["scenario", "created", "note"]
CHANGE_COLUMNS = ["scenario", "seq", "op", "payload"]
LOCK_TIMEOUT_S = 30.0  # a save waits this long for another save of the same file


class ProjectError(InputError):
    """A project file that cannot be opened or saved as asked."""


class StaleProjectError(ProjectError):
    """A save based on an older version of the file than the one on disk."""


class ProjectLockedError(ProjectError):
    """The project file is in use by another program."""


log = logging.getLogger(__name__)
_P = ParamSpec("_P")
_R = TypeVar("_R")
_FULL_HINTS = ("disk is full", "no space left", "disk full")


def _file_errors(verb: tuple[str, str]) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Turn what the operating system, GDAL or SQLite raise into a bilingual ProjectError.

    ``verb``: what was being done ("打开"/"open", "保存"/"save"). The message
    names the reason (full disk, read-only folder, name too long, damaged
    file), never the library's own text, which may hold server paths (that
    goes to the log).
    """

    def wrap(func: Callable[_P, _R]) -> Callable[_P, _R]:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return func(*args, **kwargs)
            except ServicenetError:
                raise
            except Exception as exc:
                if not _is_file_error(exc):
                    raise  # not a file problem: a bug, logged with its traceback
                where = signature.bind(*args, **kwargs).arguments.get("path")
                raise _file_error(exc, verb, None if where is None else str(where)) from None

        return run

    return wrap


def _is_file_error(exc: Exception) -> bool:
    import pyogrio.errors
    from pyogrio._err import CPLE_BaseError

    library = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, CPLE_BaseError)
    if isinstance(exc, ValueError):
        return "embedded null" in str(exc)  # a NUL in a path; any other ValueError is a bug
    return isinstance(exc, (OSError, sqlite3.Error, *library))


def _file_error(exc: Exception, verb: tuple[str, str], file: str | None) -> ProjectError:
    log.warning("cannot %s project %s: %r", verb[1], file, exc)
    if isinstance(exc, OSError):
        zh, en = os_reason(exc)
    elif isinstance(exc, ValueError):
        zh, en = "路径中含有空字符（NUL）", "the path contains a NUL character"
    elif any(hint in str(exc).lower() for hint in _FULL_HINTS):
        zh, en = "磁盘已满", "the disk is full"
    else:
        zh, en = (
            "文件已损坏或不是 servicenet 项目",
            "the file is damaged or not a servicenet project",
        )
    return ProjectError(
        f"无法{verb[0]}项目文件：{zh}", f"cannot {verb[1]} the project file: {en}", file=file
    )


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Project:
    """The contents of a project file, and the version it was read at."""

    sites: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    standards: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=STANDARD_COLUMNS))
    scenarios: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SCENARIO_COLUMNS))
    changes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CHANGE_COLUMNS))
    metadata: dict[str, str] = field(default_factory=dict)
    path: Path | None = None

    @property
    def version(self) -> int:
        """The save counter the project was read (or last saved) at; 0 if never saved."""
        return int(self.metadata.get("version", "0") or 0)


def stored_provenance(project: Project) -> dict[str, Any]:
    """What the project's tables were imported from, as kept in its metadata
    (``provenance``, JSON; ``{}`` when missing or unreadable)."""
    import json

    try:
        value = json.loads(project.metadata.get("provenance", "") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def points_frame(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """The table as WGS-84 points made from its ``lon``/``lat`` (any old geometry dropped)."""
    plain = pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).copy()
    return gpd.GeoDataFrame(
        plain, geometry=gpd.points_from_xy(plain["lon"], plain["lat"]), crs="EPSG:4326"
    )


def _check_lock(path: Path) -> None:
    for suffix in ("-journal", "-wal"):
        if Path(str(path) + suffix).exists():
            raise ProjectLockedError(
                "项目文件正被其他程序使用（如 QGIS），请关闭后再保存；本次修改未丢失",
                "the project file is in use by another program (e.g. QGIS); close it and save "
                "again — nothing was lost",
                file=str(path),
            )


def read_metadata(path: str | Path) -> dict[str, str]:
    """The metadata table of a project file."""
    import pyogrio

    table = pyogrio.read_dataframe(path, layer="metadata")
    if not {"key", "value"} <= set(table.columns):
        raise ProjectError(
            "项目文件的 metadata 表缺少 key、value 列（文件已损坏？）",
            "the project's metadata table lacks the key and value columns (damaged file?)",
            file=str(path),
        )
    return {
        str(k): "" if pd.isna(v) else str(v)
        for k, v in zip(table["key"], table["value"], strict=True)
    }


def _counter(meta: dict[str, str], key: str, path: Path) -> int:
    """A whole number of the metadata table (``version``, ``schema_version``), checked."""
    text = meta.get(key, "0").strip() or "0"
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise ProjectError(
            f"项目文件的 metadata 表中 {key} 不是非负整数：{text[:40]!r}（文件已损坏？）",
            f"{key} in the project's metadata table is not a whole number: {text[:40]!r} "
            "(damaged file?)",
            file=str(path),
        )
    return int(text)


def project_roads(project: Project) -> Path | None:
    """The road file the project refers to, resolved from the project's folder.

    A relative path is taken from the folder of the project file (older
    projects stored a path next to them); any path that leads out of that
    folder is refused, so that a project file from someone else cannot make
    servicenet read an arbitrary file.

    Raises
    ------
    PathError
        When the road file lies outside the project's folder.
    """
    stored = project.metadata.get("roads_path", "")
    if not stored:
        return None
    base = project.path.parent if project.path is not None else Path.cwd()
    return confined_file(
        stored, base, what=("项目引用的道路文件", "road file the project refers to")
    )


@_file_errors(("打开", "open"))
def open_project(path: str | Path) -> Project:
    """Read a project file, migrating an older schema or refusing a newer one."""
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    p = Path(path)
    if not p.is_file():
        raise ProjectError("找不到项目文件", "project file not found", file=str(p))
    try:
        layers = {str(name) for name, _ in pyogrio.list_layers(p)}
    except (DataSourceError, OSError) as exc:
        log.info("not a GeoPackage: %s: %r", p, exc)  # GDAL's text names server paths
        raise ProjectError(
            "不是有效的 GeoPackage 项目文件", "not a valid GeoPackage project", file=str(p)
        ) from None
    missing = [name for name in ("sites", "demand", "metadata") if name not in layers]
    if missing:
        raise ProjectError(
            f"项目文件缺少图层：{', '.join(missing)}",
            f"project lacks layers: {', '.join(missing)}",
            file=str(p),
        )
    meta = read_metadata(p)
    schema = _counter(meta, "schema_version", p)
    _counter(meta, "version", p)
    if schema > SCHEMA_VERSION:
        raise ProjectError(
            f"项目文件由更新版本的 servicenet 创建（格式 {schema}），请升级后再打开",
            f"the project was written by a newer servicenet (schema {schema} > {SCHEMA_VERSION}); "
            "upgrade to open it",
            file=str(p),
        )

    def read(layer: str, columns: list[str]) -> pd.DataFrame:
        if layer not in layers:
            return pd.DataFrame(columns=columns)
        try:
            return pd.DataFrame(pyogrio.read_dataframe(p, layer=layer))
        except DataLayerError:
            return pd.DataFrame(columns=columns)

    sites = gpd.GeoDataFrame(pyogrio.read_dataframe(p, layer="sites"))
    demand = gpd.GeoDataFrame(pyogrio.read_dataframe(p, layer="demand"))
    for layer, table in (("sites", sites), ("demand", demand)):  # a file from anyone
        check_table(table, file=f"{p} ({layer})")
    changes = read("changes", CHANGE_COLUMNS)
    # the order of a scenario's changes is a number; the file may hand it back as text
    changes["seq"] = pd.to_numeric(changes["seq"], errors="coerce").astype("Int64")
    project = Project(
        sites=_restore(sites),
        demand=_restore(demand),
        standards=read("standards", STANDARD_COLUMNS),
        scenarios=read("scenarios", SCENARIO_COLUMNS),
        changes=changes,
        metadata=meta,
        path=p,
    )
    return migrate(project, schema)


def _restore(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Undo what the file format changes: ``source_row`` back to int, crs to WGS-84."""
    if "source_row" in frame:
        frame["source_row"] = pd.to_numeric(frame["source_row"], errors="coerce").astype("Int64")
    return frame.set_crs(4326, allow_override=True) if frame.crs is None else frame.to_crs(4326)


def migrate(project: Project, schema: int) -> Project:
    """Bring a project of an older schema to the current one.

    Schema 0 (files without ``schema_version``) had no scenarios; they are
    added empty.
    """
    if schema == SCHEMA_VERSION:
        return project
    meta = {**project.metadata, "schema_version": str(SCHEMA_VERSION), "migrated_from": str(schema)}
    return replace(project, metadata=meta)


@_file_errors(("保存", "save"))
def save_project(
    project: Project,
    path: str | Path,
    *,
    expected_version: int | None = None,
    overwrite: bool = False,
) -> Project:
    """Write the project atomically and return it at its new version.

    ``expected_version`` is the version the caller's edits are based on; when
    the file on disk has another version, the save is refused
    (:class:`StaleProjectError`) so that no one's changes are overwritten.
    ``None`` means "a new file": an existing file is then refused unless
    ``overwrite`` is given.

    The check of the version on disk, the write and the rename happen under
    an exclusive lock (:mod:`geo.filelock`): of two saves at the same moment,
    one is written and the other refused as stale, never both written. A save
    that waits more than :data:`LOCK_TIMEOUT_S` for the lock is refused
    (:class:`ProjectLockedError`). A write that fails (a full disk) leaves the
    file on disk as it was.
    """
    import pyogrio.errors

    target = _real_file(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with exclusive(target, LOCK_TIMEOUT_S):
            scratch.clean(target.parent, f".{target.name}.")  # what a killed save left
            saved = _save_locked(project, target, expected_version, overwrite)
            return replace(saved, path=Path(path))
    except LockTimeout:
        raise _lock_timeout(target) from None
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise _write_error(exc, target) from None


def _real_file(path: str | Path) -> Path:
    """The file a save writes: a symbolic link's target, so that the lock (beside the file)
    and the rename are those of every other writer of that file, and the link stays a link."""
    given = Path(path)
    return given.resolve() if given.is_symlink() else given


def _lock_timeout(target: Path) -> ProjectLockedError:
    return ProjectLockedError(
        f"此项目正被另一个保存操作占用，等待 {LOCK_TIMEOUT_S:g} 秒仍未释放；"
        "本次修改未保存，请稍后再试",
        f"another save has held this project for more than {LOCK_TIMEOUT_S:g} s; "
        "this change was not saved, try again later",
        file=str(target),
    )


def _stale(on_disk: int, expected: int | None, target: Path) -> StaleProjectError:
    return StaleProjectError(
        f"项目文件已被他人修改（磁盘上为第 {on_disk} 版，"
        f"本次修改基于第 {expected} 版），请重新载入后再修改",
        f"the project changed on disk (version {on_disk}; these edits are based on "
        f"version {expected}); reload it and apply the edits again",
        file=str(target),
    )


def _write_error(exc: Exception, target: Path) -> ProjectError:
    """A save that could not be written, e.g. on a full disk (the file on disk is unchanged).

    The reason is named as :func:`_file_error` names it (never the library's
    own text, which may hold server paths).
    """
    log.warning("cannot save project %s: %r", target, exc)
    if isinstance(exc, OSError):
        zh, en = os_reason(exc)
    elif any(hint in str(exc).lower() for hint in _FULL_HINTS):
        zh, en = "磁盘已满", "the disk is full"
    else:  # GDAL reports a failed write or commit; a full disk is the usual cause
        zh, en = "写入失败，磁盘可能已满", "the write failed; the disk may be full"
    return ProjectError(
        f"无法写入项目文件（{zh}）；磁盘上的项目未改动，本次修改未保存",
        f"cannot write the project file ({en}); the project on disk is unchanged and this "
        "change was not saved",
        file=str(target),
    )


def _save_locked(
    project: Project, target: Path, expected_version: int | None, overwrite: bool
) -> Project:
    import pyogrio

    on_disk = 0
    if target.exists():
        _check_lock(target)
        if expected_version is None and not overwrite:
            raise ProjectError(
                "文件已存在；请换一个文件名，或明确选择覆盖",
                "the file exists; choose another name or ask to overwrite it",
                file=str(target),
            )
        try:
            on_disk = int(read_metadata(target).get("version", "0") or 0)
        except (OSError, ValueError, KeyError, RuntimeError):
            on_disk = 0  # not a readable project: replaced only because overwrite was asked
        if not overwrite and expected_version != on_disk:
            raise _stale(on_disk, expected_version, target)
    meta = {
        **project.metadata,
        "schema_version": str(SCHEMA_VERSION),
        "version": str(on_disk + 1),
        "created": project.metadata.get("created") or _now(),
        "modified": _now(),
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=scratch.prefix(f".{target.name}."), suffix=".gpkg", dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        pyogrio.write_dataframe(points_frame(project.sites), tmp, layer="sites", driver="GPKG")
        pyogrio.write_dataframe(points_frame(project.demand), tmp, layer="demand", driver="GPKG")
        for name, frame, columns in (
            ("standards", project.standards, STANDARD_COLUMNS),
            ("scenarios", project.scenarios, SCENARIO_COLUMNS),
            ("changes", project.changes, CHANGE_COLUMNS),
        ):
            table = pd.DataFrame(frame).reindex(columns=columns)
            pyogrio.write_dataframe(table, tmp, layer=name, driver="GPKG")
        meta_table = pd.DataFrame({"key": list(meta), "value": [str(v) for v in meta.values()]})
        pyogrio.write_dataframe(meta_table, tmp, layer="metadata", driver="GPKG")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o777)
        try:
            os.replace(tmp, target)
        except PermissionError:
            raise ProjectLockedError(
                "项目文件被其他程序锁定，无法保存；本次修改未丢失",
                "the project file is locked by another program; nothing was lost",
                file=str(target),
            ) from None
        with contextlib.suppress(OSError):
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    finally:
        for leftover in (tmp, Path(str(tmp) + "-journal"), Path(str(tmp) + "-wal")):
            leftover.unlink(missing_ok=True)
    return replace(project, metadata=meta, path=target)


def new_project(
    sites: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    standards: pd.DataFrame,
    *,
    roads: str | Path | None = None,
    roads_sha256: str = "",
) -> Project:
    """A project not yet saved."""
    meta: dict[str, str] = {"schema_version": str(SCHEMA_VERSION), "version": "0"}
    if roads is not None:
        meta["roads_path"] = str(roads)
        meta["roads_sha256"] = roads_sha256
    return Project(
        sites=sites,
        demand=demand,
        standards=pd.DataFrame(standards).reindex(columns=STANDARD_COLUMNS),
        metadata=meta,
    )


def project_info(project: Project) -> dict[str, Any]:
    """Layers, row counts, scenarios and schema version (for ``servicenet project info``)."""
    return {
        "file": str(project.path) if project.path else None,
        "schema_version": int(project.metadata.get("schema_version", SCHEMA_VERSION)),
        "version": project.version,
        "created": project.metadata.get("created"),
        "modified": project.metadata.get("modified"),
        "layers": {
            "sites": len(project.sites),
            "demand": len(project.demand),
            "standards": len(project.standards),
            "scenarios": len(project.scenarios),
            "changes": len(project.changes),
        },
        "scenarios": [str(s) for s in project.scenarios.get("scenario", [])],
        "roads": project.metadata.get("roads_path") or None,
        "roads_sha256": project.metadata.get("roads_sha256") or None,
    }


def _keyed_delta(
    before: pd.DataFrame, after: pd.DataFrame, keys: list[str]
) -> tuple[list[tuple[Any, ...]], pd.DataFrame] | None:
    """Rows removed (their keys) and rows added between two versions of a table.

    None when the edit is anything else (a kept row changed, keys repeated):
    then the whole file is written.
    """

    def key_list(frame: pd.DataFrame) -> list[tuple[str, ...]]:
        cols = [frame[k].astype("string").fillna("") for k in keys]
        return list(zip(*cols, strict=True)) if cols else []

    kb, ka = key_list(before), key_list(after)
    if len(set(kb)) != len(kb) or len(set(ka)) != len(ka):
        return None
    set_a, set_b = set(ka), set(kb)
    removed = [k for k in kb if k not in set_a]
    added = np.array([k not in set_b for k in ka], dtype=bool)
    kept_before = before[np.array([k in set_a for k in kb], dtype=bool)]
    kept_after = after[~added]
    if (
        not kept_before.reset_index(drop=True)
        .astype("string")
        .equals(kept_after.reset_index(drop=True).astype("string"))
    ):
        return None
    return removed, after[added]


def save_edit(
    before: Project, after: Project, path: str | Path, *, expected_version: int
) -> Project:
    """Save an edit of the scenarios in place: only the rows it adds or removes.

    An edit in the app (a change added, undone or redone, a scenario created)
    touches a few rows of ``changes`` and ``scenarios``; rewriting the whole
    GeoPackage for it costs as much as the analysis. Here those rows and the
    version are written in one SQLite transaction (``BEGIN IMMEDIATE``: atomic
    and durable, a killed write is rolled back), under the same lock as
    :func:`save_project` and with the same stale-version check. Any other edit
    (sites, demand, standards or metadata changed) is written whole by
    :func:`save_project`.
    """
    import sqlite3

    same = (
        after.sites is before.sites
        and after.demand is before.demand
        and after.standards is before.standards
        and after.metadata == before.metadata
    )
    frames = {
        "changes": (before.changes, after.changes, CHANGE_COLUMNS, ["scenario", "seq"]),
        "scenarios": (before.scenarios, after.scenarios, SCENARIO_COLUMNS, ["scenario"]),
    }
    deltas: dict[str, tuple[list[tuple[Any, ...]], pd.DataFrame]] = {}
    for table, (b, a, columns, keys) in frames.items():
        delta = _keyed_delta(
            pd.DataFrame(b).reindex(columns=columns), pd.DataFrame(a).reindex(columns=columns), keys
        )
        if delta is None:
            same = False
            break
        deltas[table] = delta
    target = _real_file(path)
    if not same or not target.exists():
        return save_project(after, path, expected_version=expected_version)
    meta = {**after.metadata, "version": str(expected_version + 1), "modified": _now()}
    try:
        with exclusive(target, LOCK_TIMEOUT_S):
            _check_lock(target)
            con = sqlite3.connect(target, timeout=LOCK_TIMEOUT_S, isolation_level=None)
            try:
                con.execute("BEGIN IMMEDIATE")
                row = con.execute("SELECT value FROM metadata WHERE key = 'version'").fetchone()
                on_disk = _counter({"version": str(row[0]) if row else "0"}, "version", target)
                if on_disk != expected_version:
                    con.execute("ROLLBACK")
                    raise _stale(on_disk, expected_version, target)
                for table, (removed, added) in deltas.items():
                    keys = frames[table][3]
                    where = " AND ".join(f'CAST("{k}" AS TEXT) = ?' for k in keys)
                    con.executemany(f'DELETE FROM "{table}" WHERE {where}', removed)  # noqa: S608
                    cols = frames[table][2]
                    names = ", ".join(f'"{c}"' for c in cols)
                    marks = ", ".join("?" for _ in cols)
                    values = [
                        tuple(
                            None if pd.isna(v) else (int(v) if c == "seq" else str(v))
                            for c, v in zip(cols, rec, strict=True)
                        )
                        for rec in added[cols].itertuples(index=False, name=None)
                    ]
                    con.executemany(
                        f'INSERT INTO "{table}" ({names}) VALUES ({marks})',  # noqa: S608
                        values,
                    )
                for key in ("version", "modified"):
                    if (
                        con.execute(
                            "UPDATE metadata SET value = ? WHERE key = ?", (meta[key], key)
                        ).rowcount
                        == 0
                    ):
                        con.execute(
                            "INSERT INTO metadata (key, value) VALUES (?, ?)", (key, meta[key])
                        )
                con.execute(
                    "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') "
                    "WHERE table_name IN ('changes', 'scenarios', 'metadata')"
                )
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
            finally:
                con.close()
    except LockTimeout:
        raise _lock_timeout(target) from None
    except sqlite3.Error as exc:
        raise ProjectError(
            f"无法保存项目（{type(exc).__name__}）；磁盘上的文件未改动",
            f"the project could not be saved ({type(exc).__name__}); the file on disk is unchanged",
            file=str(target),
        ) from None
    return replace(after, metadata=meta, path=Path(path))
