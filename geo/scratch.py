"""Temporary files and folders that a killed run's successor can find and remove.

Every temporary path servicenet makes carries ``servicenet-HOST-PID-`` in its
name: beside the file it is about to replace (``.plan.gpkg.servicenet-…``,
``.out.servicenet-….stage``) or in the system temp folder
(``servicenet-…``). A run killed with SIGKILL cannot remove its own; the next
run removes those whose process is gone on this machine, and any older than
:data:`MAX_AGE_S` (a process id reused by another program, another machine
sharing the folder).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

TAG = "servicenet-"
MAX_AGE_S = 24 * 3600.0
_HOST = hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]


def prefix(stem: str = "") -> str:
    """Name prefix for a temporary path of this process: ``{stem}servicenet-HOST-PID-``."""
    return f"{stem}{TAG}{_HOST}-{os.getpid()}-"


def _owner(name: str, stem: str) -> tuple[str, int] | None:
    """Host tag and process id encoded in a temporary name, or None if it is not one."""
    rest = name[len(stem) :]
    if not name.startswith(stem) or not rest.startswith(TAG):
        return None
    host, _, tail = rest[len(TAG) :].partition("-")
    pid, _, _ = tail.partition("-")
    return (host, int(pid)) if pid.isdigit() else None


def _alive(pid: int) -> bool:
    if os.name != "posix":
        return True  # os.kill(pid, 0) would end the process on Windows: age decides there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def is_stale(path: Path, stem: str = "", *, now: float | None = None) -> bool:
    """Whether ``path`` is a temporary path left by a run that is over.

    Parameters
    ----------
    path
        A file or folder whose name starts with ``stem`` + ``servicenet-``.
    stem
        What comes before the tag (``.plan.gpkg.`` beside a project).
    now
        The current time (tests).
    """
    owner = _owner(path.name, stem)
    if owner is None:
        return False
    try:
        age = (time.time() if now is None else now) - path.lstat().st_mtime
    except FileNotFoundError:
        return False
    if age > MAX_AGE_S:
        return True
    host, pid = owner
    return host == _HOST and pid != os.getpid() and not _alive(pid)


def remove(path: Path) -> None:
    """Delete a temporary file or folder; what cannot be deleted is left for the next run."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.debug("could not remove the temporary %s: %s", path, exc)


def clean(folder: Path, stem: str = "") -> list[Path]:
    """Remove the stale temporary paths named ``{stem}servicenet-…`` in ``folder``.

    Returns the paths removed.
    """
    try:
        entries = [folder / e.name for e in os.scandir(folder) if e.name.startswith(stem + TAG)]
    except OSError:
        return []
    stale = [p for p in entries if is_stale(p, stem)]
    for path in stale:
        remove(path)
    return stale


def clean_system_temp() -> list[Path]:
    """Remove the stale ``servicenet-…`` files and folders in the system temp folder."""
    return clean(Path(tempfile.gettempdir()))


@contextlib.contextmanager
def temp_dir() -> Iterator[Path]:
    """A private folder in the system temp folder, removed on exit (or by the next run)."""
    path = Path(tempfile.mkdtemp(prefix=prefix()))
    try:
        yield path
    finally:
        remove(path)
