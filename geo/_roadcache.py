"""On-disk cache of built road networks: Parquet arrays and a JSON of facts.

A province extract takes a minute to stream and build; the same file with the
same options always gives the same network, so it is built once. The key is
the sha256 of the input file's bytes (every sidecar of a Shapefile too), all
options that change the result and :data:`FORMAT_VERSION`. Files live beside
the input in ``.servicenet-cache/`` or, when that folder cannot be written, in
``~/.cache/servicenet/`` (``$XDG_CACHE_HOME/servicenet`` when set).

Each entry is the finished network: three Parquet files (node coordinates;
segment ends, lengths and seconds each way; dropped segments) and a JSON file
of the facts (counts, speed sources, noding, the dropped components report),
written last, each atomically (temporary file, then ``os.replace``): an entry
without its JSON is not an entry. A warm load reads these arrays and builds
nothing. Anything unreadable is ignored and the network rebuilt; a cache
problem is never an error.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from geo import scratch
from geo._arrow import to_numpy
from geo.network import NetworkFacts, RoadNetwork

log = logging.getLogger(__name__)

#: Bump when the way networks are built changes, so old entries are not reused.
#: 2: Shapefiles without .cpg re-read as GB18030 when mis-decoded;
#: 3: loaders in arrays, and a Shapefile's text values (not only its column
#: names) tell a GBK file read as Latin-1.
FORMAT_VERSION = 3
CACHE_DIR_NAME = ".servicenet-cache"


def file_digest(paths: Iterable[Path]) -> str:
    """sha256 over the bytes of ``paths`` (in the given order), hex."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode("utf-8") + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def cache_key(content_digest: str, options: Mapping[str, Any]) -> str:
    """Key of one network: the input's digest, the options and the format version."""
    text = json.dumps(
        {"format": FORMAT_VERSION, "input": content_digest, "options": options},
        sort_keys=True,
        ensure_ascii=True,
    )
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def cache_dirs(source: Path) -> list[Path]:
    """Where entries for ``source`` may live, in order of preference."""
    base = os.environ.get("XDG_CACHE_HOME")
    home_cache = Path(base) if base else Path.home() / ".cache"
    return [source.parent / CACHE_DIR_NAME, home_cache / "servicenet"]


def _names(folder: Path, stem: str, key: str) -> dict[str, Path]:
    base = f"{stem}-{key[:24]}"
    return {
        "nodes": folder / f"{base}.nodes.parquet",
        "segments": folder / f"{base}.segments.parquet",
        "dropped": folder / f"{base}.dropped.parquet",
        "facts": folder / f"{base}.json",
    }


def load(source: Path, stem: str, key: str) -> RoadNetwork | None:
    """The cached network for ``key``, or ``None`` (missing, stale or unreadable)."""
    for folder in cache_dirs(source):
        names = _names(folder, stem, key)
        if not names["facts"].is_file():
            continue
        try:
            return _read(names, key, str(source))
        except Exception as exc:  # any damage means "rebuild"
            log.warning("ignoring unreadable road cache %s: %s", names["facts"], exc)
    return None


def _column(table: pa.Table, name: str, dtype: type[np.generic]) -> Any:
    column = table.column(name)
    if column.type != pa.from_numpy_dtype(dtype):
        raise ValueError(f"column {name!r} is {column.type}, expected {np.dtype(dtype)}")
    return to_numpy(column)


def _table(path: Path) -> pa.Table:
    # ParquetFile, not pq.read_table: the latter imports pyarrow.dataset and
    # with it pandas, seconds of start-up for a read of a few milliseconds.
    return pq.ParquetFile(path, memory_map=True).read()


def _read(names: Mapping[str, Path], key: str, source: str) -> RoadNetwork:
    meta = json.loads(names["facts"].read_text(encoding="utf-8"))
    if meta.get("key") != key or meta.get("format") != FORMAT_VERSION:
        raise ValueError("key or format differs")
    nodes = _table(names["nodes"])
    segs = _table(names["segments"])
    dropped = _table(names["dropped"])
    facts_raw = dict(meta["facts"])
    facts_raw["notes"] = tuple(facts_raw.get("notes", ()))
    facts_raw["source"] = source
    facts = NetworkFacts(**facts_raw)
    if nodes.num_rows != facts.nodes or segs.num_rows != facts.segments:
        raise ValueError("row counts differ from the facts")
    drop_xy = np.column_stack(
        [_column(dropped, c, np.float64) for c in ("x0", "y0", "x1", "y1")]
    ).reshape(-1, 4)
    return RoadNetwork(
        crs=str(meta["crs"]),
        x=_column(nodes, "x", np.float64),
        y=_column(nodes, "y", np.float64),
        u=_column(segs, "u", np.int64),
        v=_column(segs, "v", np.int64),
        length_m=_column(segs, "length_m", np.float64),
        forward_s=_column(segs, "forward_s", np.float64),
        backward_s=_column(segs, "backward_s", np.float64),
        facts=facts,
        dropped_xy=np.ascontiguousarray(drop_xy, dtype=np.float64),
    )


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    stem = f".{path.name}."
    scratch.clean(path.parent, stem)  # what a run killed while caching left (it can be large)
    fd, tmp = tempfile.mkstemp(prefix=scratch.prefix(stem), suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(net: RoadNetwork, source: Path, stem: str, key: str) -> Path | None:
    """Store ``net``; returns the JSON file written, or ``None`` if no folder was writable."""
    facts = dataclasses.asdict(net.facts)
    facts["notes"] = list(facts["notes"])
    meta = {"format": FORMAT_VERSION, "key": key, "crs": net.crs, "facts": facts}
    tables = {
        "nodes": pa.table({"x": net.x, "y": net.y}),
        "segments": pa.table(
            {
                "u": net.u,
                "v": net.v,
                "length_m": net.length_m,
                "forward_s": net.forward_s,
                "backward_s": net.backward_s,
            }
        ),
        "dropped": pa.table(
            {
                name: np.ascontiguousarray(net.dropped_xy[:, i], dtype=np.float64)
                for i, name in enumerate(("x0", "y0", "x1", "y1"))
            }
        ),
    }
    text = json.dumps(meta, ensure_ascii=False, sort_keys=True, indent=1)

    def write_json(target: Path) -> None:
        target.write_text(text, encoding="utf-8")

    def parquet_writer(table: pa.Table) -> Callable[[Path], None]:
        def write(target: Path) -> None:
            pq.write_table(table, target)

        return write

    for folder in cache_dirs(source):
        names = _names(folder, stem, key)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for part, table in tables.items():
                _atomic(names[part], parquet_writer(table))
            _atomic(names["facts"], write_json)
        except OSError as exc:
            log.info("road cache folder %s not writable (%s), trying the next", folder, exc)
            continue
        return names["facts"]
    log.warning("no writable folder for the road cache of %s", source)
    return None
