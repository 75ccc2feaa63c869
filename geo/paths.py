"""Names and paths that come from users or from files: checked before any file is touched.

* :func:`project_file` — the file of a project *name* inside the projects
  folder. A name is one plain file name: no folder separators, no ``..``, no
  leading dot, no control characters, no characters Windows refuses, no
  reserved device names (``CON``, ``NUL``, ...), at most
  :data:`MAX_NAME_CHARS` characters and :data:`MAX_NAME_BYTES` bytes of
  UTF-8 (a Chinese character takes three), so the file and its temporary
  and journal files fit every file system's 255-byte limit.
* :func:`confined_file` — a file a project refers to (its road file),
  resolved relative to the project's folder and refused when it lies
  outside it, so that a shared project file cannot make servicenet read any
  file on the machine.

Every refusal is a :class:`geo.errors.PathError` with a bilingual message.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from geo.errors import PathError

MAX_NAME_CHARS = 100
MAX_NAME_BYTES = 200
PROJECT_SUFFIX = ".gpkg"
# Characters that are separators or illegal in file names on Windows or macOS.
_FORBIDDEN = frozenset('/\\:*?"<>|')
# Control, format (bidi overrides), surrogate, private-use and line/paragraph separators.
_INVISIBLE = frozenset(("Cc", "Cf", "Cs", "Co", "Zl", "Zp"))
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)


def name_problems(name: str) -> list[tuple[str, str]]:
    """Every reason ``name`` is not a usable project name, as (Chinese, English) pairs."""
    problems: list[tuple[str, str]] = []
    if not name.strip():
        return [("请输入项目名称", "enter a project name")]
    if "\0" in name:
        problems.append(("名称中含有空字符（NUL）", "the name contains a NUL character"))
    elif any(unicodedata.category(c) in _INVISIBLE for c in name):
        problems.append(("名称中含有控制字符", "the name contains control characters"))
    bad = sorted({c for c in name if c in _FORBIDDEN})
    if bad:
        shown = " ".join(bad)
        problems.append(
            (
                f"名称中不能有文件夹分隔符或以下字符：{shown}（项目只能保存在项目文件夹内）",
                f"the name may not contain folder separators or these characters: {shown} "
                "(projects are kept in the projects folder only)",
            )
        )
    if name.startswith("."):
        problems.append(
            ("名称不能以“.”开头（不能是 .. 或隐藏文件）", "the name may not start with '.' (no ..)")
        )
    if name != name.strip() or name.endswith("."):
        problems.append(
            (
                "名称首尾不能有空格，末尾不能是“.”",
                "the name may not start or end with a space or end with '.'",
            )
        )
    if _RESERVED.match(name.strip()):
        problems.append(
            (
                "名称是系统保留名（如 CON、NUL、COM1）",
                "the name is reserved by the system (CON, NUL, COM1 ...)",
            )
        )
    if len(name) > MAX_NAME_CHARS or len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        problems.append(
            (
                f"名称过长：最多 {MAX_NAME_CHARS} 个字符、{MAX_NAME_BYTES} 字节"
                f"（约 {MAX_NAME_BYTES // 3} 个汉字），现为 {len(name)} 个字符",
                f"the name is too long: at most {MAX_NAME_CHARS} characters and "
                f"{MAX_NAME_BYTES} bytes (about {MAX_NAME_BYTES // 3} Chinese characters); "
                f"it has {len(name)}",
            )
        )
    return problems


def project_file(folder: str | os.PathLike[str], name: str) -> Path:
    """The file of the project called ``name`` in ``folder`` (``.gpkg`` added when missing).

    Raises
    ------
    PathError
        When the name is not one plain file name (every problem is listed).
    """
    problems = name_problems(name)
    if problems:
        raise PathError(
            "项目名称无效：" + "；".join(zh for zh, _ in problems),
            "invalid project name: " + "; ".join(en for _, en in problems),
        )
    file_name = name if name.lower().endswith(PROJECT_SUFFIX) else name + PROJECT_SUFFIX
    base = Path(folder)
    path = base / file_name
    # belt and braces: the name has no separator, so the file is directly in the folder
    if path.parent != base or path.name != file_name:  # pragma: no cover - checked above
        raise PathError("项目名称无效", "invalid project name")
    return path


def project_name(path: str | os.PathLike[str]) -> str:
    """The name shown for a project file (its file name without ``.gpkg``)."""
    name = Path(path).name
    return name[: -len(PROJECT_SUFFIX)] if name.lower().endswith(PROJECT_SUFFIX) else name


def _outside(shown: str, what: tuple[str, str]) -> PathError:
    zh, en = what
    return PathError(
        f"{zh}（{shown}）不在项目文件所在的文件夹内，已拒绝；"
        "请把它放到项目文件夹（或其子文件夹）中，或另行指定",
        f"the {en} ({shown}) is outside the project's folder and was refused; "
        "put it in the project's folder (or below it), or give it explicitly",
    )


def confined_file(stored: str, base: str | os.PathLike[str], *, what: tuple[str, str]) -> Path:
    """The file ``stored`` (relative to ``base``, or absolute) if it lies inside ``base``.

    Symbolic links are followed before the check, so a link pointing out of
    the folder is refused too.

    Parameters
    ----------
    stored
        The path as written in a file (relative paths are taken from ``base``).
    base
        The folder the file must be in (or below).
    what
        What the file is, in Chinese and English, for the message.

    Raises
    ------
    PathError
        When the path has control characters or lies outside ``base``.
    """
    if any(unicodedata.category(c) in _INVISIBLE for c in stored):
        raise PathError(
            f"{what[0]}的路径含有控制字符，已拒绝",
            f"the path of the {what[1]} has control characters",
        )
    root = Path(base).resolve()
    candidate = Path(stored)
    resolved = (candidate if candidate.is_absolute() else root / candidate).resolve()
    if not resolved.is_relative_to(root):
        raise _outside(stored, what)
    return resolved


def relative_reference(
    target: str | os.PathLike[str], base: str | os.PathLike[str], *, what: tuple[str, str]
) -> str:
    """How a file in ``base`` refers to ``target``: a relative POSIX path inside ``base``.

    Raises
    ------
    PathError
        When ``target`` lies outside ``base`` (it could not be read back).
    """
    root = Path(base).resolve()
    resolved = Path(target).resolve()
    if not resolved.is_relative_to(root):
        raise _outside(str(target), what)
    return resolved.relative_to(root).as_posix()
