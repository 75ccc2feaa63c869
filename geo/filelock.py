"""An exclusive lock on a file path, shared by every servicenet process on the machine.

A project file or an output folder is replaced by a rename, so the lock
cannot be taken on the file itself (the next writer would lock the old
inode). It is taken on a sidecar file beside it, ``.NAME.servicenet.lock``,
with ``fcntl.flock`` (POSIX) or ``msvcrt.locking`` (Windows). The operating
system releases it when the holder exits, even on SIGKILL, so a killed run
never leaves a lock that blocks the next one. On POSIX the holder removes the
sidecar when it lets go; a process that locked a sidecar already removed
sees that the path no longer names its file and tries again.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

POLL_S = 0.05
_BUSY = {errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK, errno.EDEADLK}
# file systems without locks (some network mounts): work on unlocked, as before
_UNSUPPORTED = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS}
# Windows cannot remove a file another process holds open; the sidecar then stays
_UNLINK = os.name == "posix"


class LockTimeout(TimeoutError):
    """The lock was held by someone else for longer than the caller would wait."""


def lock_path(target: str | Path) -> Path:
    """The sidecar file locked for ``target``."""
    target = Path(target)
    return target.with_name(f".{target.name}.servicenet.lock")


def _try_lock(fd: int) -> bool:
    """Take the lock without waiting; False when another process holds it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in _BUSY:
            return False
        raise
    return True


def _unlock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        return
    fcntl.flock(fd, fcntl.LOCK_UN)


def _still_named(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (a holder may have removed it)."""
    if not _UNLINK:
        return True
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (on_disk.st_dev, on_disk.st_ino) == (mine.st_dev, mine.st_ino)


@contextlib.contextmanager
def exclusive(target: str | Path, timeout: float) -> Iterator[None]:
    """Hold the lock of ``target`` for the ``with`` block.

    Parameters
    ----------
    target
        The file or folder guarded; its folder must exist.
    timeout
        Seconds to wait for another holder before giving up.

    Raises
    ------
    LockTimeout
        Another process held the lock for all of ``timeout``.
    """
    path = lock_path(target)
    deadline = time.monotonic() + timeout
    fd = -1
    while fd < 0:
        candidate = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            if _try_lock(candidate):
                if _still_named(candidate, path):
                    fd = candidate
                    break
                _unlock(candidate)
        except OSError as exc:
            os.close(candidate)
            if exc.errno not in _UNSUPPORTED:
                raise
            log.warning("no file locks on this file system, %s not locked: %s", target, exc)
            break
        except BaseException:
            os.close(candidate)
            raise
        os.close(candidate)
        if time.monotonic() >= deadline:
            raise LockTimeout(f"{path} held for more than {timeout:g} s")
        time.sleep(POLL_S)
    if fd < 0:
        yield
        return
    try:
        yield
    finally:
        if _UNLINK:
            # removed while still held, so that no one can lock this file and
            # believe it guards the path
            with contextlib.suppress(OSError):
                path.unlink()
        try:
            _unlock(fd)
        finally:
            os.close(fd)
