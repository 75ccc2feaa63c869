"""Domain errors of servicenet, in one place.

Each error carries a bilingual message (Chinese first, then English) and, where
it applies, the file, row and column it is about. The command line turns these
into exit code 2 (unusable input) or 1 (analysis impossible); the app shows the
message. Anything else raised is a bug.
"""

from __future__ import annotations

import errno


class ServicenetError(Exception):
    """Base class of every expected, user-facing error."""

    exit_code = 1

    def __init__(
        self,
        zh: str,
        en: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.zh = zh
        self.en = en
        self.file = file
        self.row = row
        self.column = column
        super().__init__(self.message)

    @property
    def where(self) -> str:
        """Location prefix such as ``sites.csv, row 3, column 经度: ``."""
        parts = []
        if self.file:
            parts.append(str(self.file))
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts) + ": " if parts else ""

    @property
    def message(self) -> str:
        """Bilingual message with the location."""
        return f"{self.where}{self.zh} / {self.en}"


class InputError(ServicenetError, ValueError):
    """Input that cannot be used as given (exit code 2)."""

    exit_code = 2


class SiteImportError(InputError):
    """A site or demand table that cannot be read at all."""


class StandardsError(InputError):
    """A standards file that is malformed."""


class RoadNetworkError(InputError):
    """A road file that cannot be turned into a network."""


class AnalysisError(ServicenetError, RuntimeError):
    """An analysis that cannot be carried out on valid input (exit code 1)."""

    exit_code = 1


class PathError(InputError):
    """A name or path given by a user (or stored in a file) that is refused.

    A project name with a separator, ``..``, a control character or too many
    characters; a file a project refers to that lies outside the project's
    folder. Nothing is read or written when it is raised.
    """


class UploadError(InputError):
    """An uploaded file that is refused before it is kept (type or size)."""


# Why a file could not be read or written, by errno: (Chinese, English).
_OS_REASONS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("磁盘已满", "the disk is full"),
    errno.EDQUOT: ("磁盘配额已用完", "the disk quota is used up"),
    errno.EACCES: (
        "没有权限（文件夹可能是只读的）",
        "permission denied (the folder may be read-only)",
    ),
    errno.EPERM: (
        "没有权限（文件夹可能是只读的）",
        "permission denied (the folder may be read-only)",
    ),
    errno.EROFS: ("文件系统是只读的", "the file system is read-only"),
    errno.ENAMETOOLONG: ("文件名太长", "the file name is too long"),
    errno.ENOENT: ("找不到文件或文件夹", "no such file or folder"),
    errno.EISDIR: ("这是一个文件夹，不是文件", "this is a folder, not a file"),
    errno.ENOTDIR: ("路径中有一段不是文件夹", "a part of the path is not a folder"),
    errno.EIO: ("磁盘读写出错", "input/output error on the disk"),
}


def os_reason(exc: OSError) -> tuple[str, str]:
    """Why an operating-system call failed, in Chinese and English (no paths)."""
    known = _OS_REASONS.get(exc.errno or -1)
    if known is not None:
        return known
    detail = exc.strerror or type(exc).__name__
    return f"操作系统错误（{detail}）", f"operating system error ({detail})"
