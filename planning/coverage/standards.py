"""Service standards: one rule per (site kind, level), read from TOML."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from geo.bounds import MINUTES
from geo.errors import StandardsError
from geo.vocab import DATA_DIR, Vocabulary, load_vocabulary

DEFAULT_STANDARDS = DATA_DIR / "standards.toml"
MODES = ("drive", "walk")
_REQUIRED = ("kind", "level", "mode", "max_minutes")
_OPTIONAL: dict[str, Any] = {"target_share": None, "higher_levels_count": False}


@dataclass(frozen=True)
class Standard:
    """Who should be within how many minutes of which kind and level of site."""

    kind: str
    level: str
    mode: str
    max_minutes: float
    target_share: float | None = None
    higher_levels_count: bool = False

    @property
    def key(self) -> str:
        """``kind/level``, unique within a standards table."""
        return f"{self.kind}/{self.level}"

    def as_dict(self) -> dict[str, Any]:
        """Plain values, as written to JSON and TOML."""
        return asdict(self)


def _error(source: str, index: int, key: str | None, zh: str, en: str) -> StandardsError:
    where = f"[[standard]] #{index}" + (f" {key}" if key else "")
    return StandardsError(f"{where}：{zh}", f"{where}: {en}", file=source, column=key)


def parse_standards(
    raw: dict[str, Any], *, source: str = "standards", vocabulary: Vocabulary | None = None
) -> tuple[Standard, ...]:
    """Validate a parsed standards table, collecting every problem before raising."""
    vocab = vocabulary or load_vocabulary()
    extra_top = set(raw) - {"standard"}
    problems: list[StandardsError] = []
    if extra_top:
        problems.append(
            StandardsError(
                f"未知的表：{sorted(extra_top)}",
                f"unknown tables: {sorted(extra_top)}",
                file=source,
            )
        )
    entries = raw.get("standard", [])
    if not isinstance(entries, list) or not entries:
        raise StandardsError("没有任何 [[standard]]", "no [[standard]] entries", file=source)
    out: list[Standard] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            problems.append(_error(source, index, None, "不是表", "not a table"))
            continue
        for key in sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL)):
            problems.append(_error(source, index, key, "未知的键", "unknown key"))
        missing = [k for k in _REQUIRED if k not in entry]
        for key in missing:
            problems.append(_error(source, index, key, "缺少必需的键", "required key missing"))
        if missing:
            continue
        kind, level, mode = str(entry["kind"]), str(entry["level"]), str(entry["mode"])
        if kind not in vocab.kinds:
            problems.append(
                _error(source, index, "kind", f"未知类型 {kind}", f"unknown kind {kind!r}")
            )
        if level not in vocab.levels:
            problems.append(
                _error(source, index, "level", f"未知级别 {level}", f"unknown level {level!r}")
            )
        if mode not in MODES:
            problems.append(
                _error(
                    source,
                    index,
                    "mode",
                    "须为 drive 或 walk",
                    f"must be drive or walk, not {mode!r}",
                )
            )
        minutes = entry["max_minutes"]
        if (
            isinstance(minutes, bool)
            or not isinstance(minutes, int | float)
            or not 0 < minutes <= MINUTES.high  # NaN and infinities fail too
        ):
            problems.append(
                _error(
                    source,
                    index,
                    "max_minutes",
                    f"须为有限的正数，至多 {MINUTES.high:g}",
                    f"must be a finite positive number up to {MINUTES.high:g}, not {minutes!r}",
                )
            )
        share = entry.get("target_share")
        if share is not None and (
            isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1
        ):
            problems.append(
                _error(
                    source,
                    index,
                    "target_share",
                    "须在 0 到 1 之间",
                    f"must be within 0..1, not {share!r}",
                )
            )
        higher = entry.get("higher_levels_count", False)
        if not isinstance(higher, bool):
            problems.append(
                _error(
                    source,
                    index,
                    "higher_levels_count",
                    "须为 true 或 false",
                    "must be true or false",
                )
            )
        key = f"{kind}/{level}"
        if key in seen:
            problems.append(
                _error(
                    source, index, "level", f"与第 {seen[key]} 条重复", f"duplicates #{seen[key]}"
                )
            )
        seen[key] = index
        if not problems:
            out.append(
                Standard(
                    kind,
                    level,
                    mode,
                    float(minutes),
                    None if share is None else float(share),
                    bool(higher),
                )
            )
    if problems:
        first = problems[0]
        if len(problems) > 1:
            rest_zh = "；".join(p.zh for p in problems[1:])
            rest_en = "; ".join(p.en for p in problems[1:])
            raise StandardsError(
                f"{first.zh}；{rest_zh}", f"{first.en}; {rest_en}", file=source, column=first.column
            )
        raise first
    return tuple(out)


def load_standards(path: str | Path = DEFAULT_STANDARDS) -> tuple[Standard, ...]:
    """Read and validate a standards TOML file (default ``data/standards.toml``)."""
    source = str(path)
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise StandardsError("找不到标准文件", "standards file not found", file=source) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise StandardsError(
            f"TOML 格式错误：{exc}", f"malformed TOML: {exc}", file=source
        ) from None
    return parse_standards(raw, source=source)


def standards_toml(standards: tuple[Standard, ...]) -> str:
    """Write standards back as TOML (for the app's editor and for reports)."""
    lines: list[str] = []
    for s in standards:
        lines += [
            "[[standard]]",
            f'kind = "{s.kind}"',
            f'level = "{s.level}"',
            f'mode = "{s.mode}"',
            f"max_minutes = {s.max_minutes:g}",
        ]
        if s.target_share is not None:
            lines.append(f"target_share = {s.target_share:g}")
        lines += [f"higher_levels_count = {'true' if s.higher_levels_count else 'false'}", ""]
    return "\n".join(lines)
