"""Import site and demand tables: validate every row, explain every rejection.

Each record ends up either in the imported table or in the issue list with its
line number, column, a code and a bilingual message; warnings accompany rows
that were imported with a correction (a swapped coordinate pair, a defaulted
status). Coordinates are converted to WGS-84; text is kept exactly as written.
"""

from __future__ import annotations

import dataclasses
import math
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import bounds, coords, limits
from geo.errors import SiteImportError
from geo.numbers import (
    coordinate_step,
    parse_coordinate,
    parse_lonlat_pair,
    parse_number,
    split_pair,
)
from geo.textio import RawTable, read_table, too_large
from geo.vocab import Vocabulary, bracket_note, load_vocabulary, normalise_key

TableKind = Literal["sites", "demand"]

SITE_COLUMNS = (
    "site_id",
    "name",
    "kind",
    "level",
    "county",
    "township",
    "status",
    "capacity",
    "lon",
    "lat",
)
DEMAND_COLUMNS = ("demand_id", "name", "weight", "county", "township", "lon", "lat")
_SITE_FIELDS = (*SITE_COLUMNS, "grade", "lonlat")
_DEMAND_FIELDS = (*DEMAND_COLUMNS, "lonlat")
# China's rough box, as used by the GCJ-02 rule (see geo.coords.in_china).
_CHINA = (72.004, 137.8347, 0.8293, 55.8271)
_CRS_TOKENS = {
    "gcj02": ("gcj02", "gcj", "高德", "火星", "amap", "腾讯"),
    "bd09": ("bd09", "bd", "baidu", "百度"),
    "wgs84": ("wgs84", "wgs", "gps", "epsg4326", "cgcs2000"),
}

MESSAGES: dict[str, tuple[str, str]] = {
    "missing_coordinate": ("缺少坐标", "coordinate missing"),
    "bad_coordinate": ("坐标无法识别：{value}", "coordinate not understood: {value}"),
    "out_of_range": (
        "坐标超出范围（经度 -180~180，纬度 -90~90）：{value}",
        "coordinate out of range (lon -180..180, lat -90..90): {value}",
    ),
    "projected_coordinate": (
        "坐标像是投影坐标（米），如百度墨卡托 BD09MC 或 Web 墨卡托：{value}；请换算为经纬度",
        "coordinate looks projected (metres), e.g. Baidu Mercator BD09MC or Web Mercator: "
        "{value}; convert it to degrees",
    ),
    "zero_coordinate": (
        "经度或纬度为 0，多半是空值：{value}",
        "longitude or latitude is 0, almost surely a blank: {value}",
    ),
    "swapped_lonlat": (
        "经纬度填反了，已交换：{value}",
        "longitude and latitude were swapped; swapped back: {value}",
    ),
    "outside_china": (
        "坐标在中国境外，{crs} 不做偏移",
        "coordinate outside China; no {crs} offset applied",
    ),
    "outside_china_wgs": (
        "坐标在中国境外，而本表多数点在中国境内，请核对：{value}",
        "coordinate outside China while most of the table lies in China; please check: {value}",
    ),
    "far_from_others": (
        "该点距本表各点的中位位置 {km:.0f} km，远离其他各点，请核对坐标：{value}",
        "point lies {km:.0f} km from the median position of the table, far from the rest; "
        "please check: {value}",
    ),
    "crs_assumed": (
        "未注明坐标系，按 WGS-84 处理；高德/腾讯坐标请在“坐标系”中选 GCJ-02，百度坐标选 BD-09"
        "（命令行：--crs gcj02 或 --crs bd09）",
        "no coordinate system given, WGS-84 assumed; for Amap/Tencent choose GCJ-02 as the "
        "coordinate system, for Baidu BD-09 (command line: --crs gcj02 or --crs bd09)",
    ),
    "crs_from_name": (
        "根据文件名 {name} 判断坐标系为 {crs}；如不对，请指定坐标系",
        "coordinate system {crs} taken from the file name {name}; choose another if it is wrong",
    ),
    "crs_from_header": (
        "根据表头判断坐标系为 {crs}",
        "coordinate system {crs} taken from the header",
    ),
    "missing_kind": ("缺少类型，且无法从名称判断", "kind missing and not evident from the name"),
    "unknown_kind": (
        "无法识别的类型：{value}（可用：{known_zh}）",
        "unknown kind: {value} (known: {known})",
    ),
    "kind_inferred": ("类型由名称推断为{value_zh}", "kind inferred from the name: {value}"),
    "kind_from_text": (
        "类型“{value}”不是标准写法，按其中的词识别为{kind_zh}，请核对",
        "kind {value!r} is not a known spelling; read as {kind} from a word in it, please check",
    ),
    "ambiguous_kind": (
        "“{value}”含有多种类型的词（{kinds_zh}），无法确定类型；一行只写一种类型",
        "{value!r} names several kinds ({kinds}); give one kind per row",
    ),
    "missing_level": ("缺少级别", "level missing"),
    "unknown_level": (
        "无法识别的级别：{value}（可用：{known_zh}）",
        "unknown level: {value} (known: {known})",
    ),
    "level_defaulted": ("未填级别，按{value_zh}处理", "level missing, taken as {value}"),
    "level_was_grade": (
        "级别“{grade}”是书屋的等级，已记为等级；级别按{value_zh}处理",
        "level {grade!r} is a reading-room grade: kept as the grade; level taken as {value}",
    ),
    "unknown_grade": (
        "无法识别的书屋等级：{value}（可用：{known_zh}）",
        "unknown reading-room grade: {value} (known: {known})",
    ),
    "unknown_status": (
        "无法识别的状态：{value}（可用：{known_zh}）",
        "unknown status: {value} (known: {known})",
    ),
    "status_defaulted": ("未填状态，按“现有”处理", "status missing, taken as existing"),
    "no_status_column": (
        "没有状态列，全部站点按“现有”处理",
        "no status column: every site is taken as existing",
    ),
    "bad_number": ("不是有效数字：{value}", "not a valid number: {value}"),
    "negative_number": ("不能为负数：{value}", "must not be negative: {value}"),
    "too_large": (
        "{name}过大（上限 {high:g}）：{value}",
        "{name_en} too large (at most {high:g}): {value}",
    ),
    "missing_weight": ("缺少人数（权重）", "weight (population) missing"),
    "missing_name": ("缺少名称", "name missing"),
    "missing_id": ("缺少编号，已自动生成 {value}", "id missing, generated {value}"),
    "missing_ids": (
        "{n} 行没有编号，已自动生成（按行号：{first} … {last}）",
        "{n} rows have no id; ids were generated from their row numbers ({first} … {last})",
    ),
    "duplicate_site": (
        "与第 {first} 行是同一站点（名称、类型、级别相同，位置相距 {metres:.0f} 米），未导入",
        "same site as row {first} (same name, kind and level, {metres:.0f} m apart); not imported",
    ),
    "coarse_coordinate": (
        "坐标精度低：{value} 只写到{how}，位置误差可达约 ±{size}；请核对并补全坐标",
        "coarse coordinate: {value} is given to {how_en} only; the position may be off by "
        "about ±{size}; check and complete it",
    ),
    "duplicate_id": (
        "编号 {value} 与第 {first} 行重复",
        "id {value} duplicates the one on row {first}",
    ),
    "duplicate_row": (
        "与第 {first} 行完全相同的重复行",
        "exact duplicate of row {first}",
    ),
    "extra_cells": (
        "本行比表头多出 {value} 个单元格，已保留为额外列",
        "row has {value} more cells than the header; kept as extra columns",
    ),
    "blank_row": ("空行，已跳过", "blank row, skipped"),
    "preamble_row": ("表头之上的标题或说明行，已跳过", "title or note above the header, skipped"),
    "summary_row": (
        "合计、签名或附注行（无坐标），不是站点，已跳过：{value}",
        "a total, signature or note row (no coordinates), not a site; skipped: {value}",
    ),
    "formula_as_text": (
        "单元格是没有计算结果的公式，按原文本导入：{value}",
        "cell is a formula with no computed value; imported as its text: {value}",
    ),
    "missing_column": ("缺少必需的列：{value}", "required column missing: {value}"),
    "crs_conflict": (
        "表头注明坐标系为 {header_crs}（列 {header}），与指定的 {declared} 不一致；"
        "请核对坐标来源，并改正表头或所指定的坐标系",
        "the header says {header_crs} (column {header}) but {declared} was given; "
        "check where the coordinates come from and correct the header or the option",
    ),
    "crs_from_title": (
        "根据表头上方第 {line} 行的说明判断坐标系为 {crs}",
        "coordinate system {crs} taken from the note on line {line} above the header",
    ),
    "merged_cells": (
        "合并单元格 {value}：其值“{text}”已填入所合并的每一行，请核对",
        "merged cells {value}: the value {text!r} was copied into each merged row; please check",
    ),
    "hidden_row": (
        "该行在 Excel 中被隐藏或筛选掉，仍已导入",
        "row is hidden or filtered out in Excel; imported all the same",
    ),
    "unclosed_quote": (
        '第 {first}–{last} 行被读成了一条记录：本行有未配对的英文引号 "，'
        "其后各行都并入了一个单元格；请删除或配对该引号后重新导入",
        "lines {first}-{last} were read as one record: an unpaired double quote on this line "
        "swallowed the lines after it into one cell; remove or pair the quote and import again",
    ),
    "stray_quote": (
        '本行的英文引号 " 用法不规范，CSV 读取时已去掉引号（如 "工人先锋号"职工书屋 读作 '
        "工人先锋号职工书屋）；如需保留引号请改用中文引号“”",
        "a double quote on this line is not CSV-quoted properly, so it was dropped while reading "
        '(e.g. "工人先锋号"职工书屋 reads as 工人先锋号职工书屋); '
        "use the Chinese quotes “” to keep it",
    ),
    "sheet_chosen": (
        "第一个工作表“{first}”中没有坐标列，已读取工作表“{sheet}”",
        "the first worksheet {first!r} has no coordinate columns; read worksheet {sheet!r}",
    ),
    "ambiguous_column": (
        "多个列都可作为 {value}：{columns}",
        "several columns could be {value}: {columns}",
    ),
}


@dataclass(frozen=True)
class ImportIssue:
    """One problem found in a file; ``row`` is the 1-based line (or sheet row)."""

    row: int
    column: str
    code: str
    message: str
    severity: Literal["error", "warning"] = "error"
    zh: str = ""
    en: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The issue as written to the JSON report."""
        return {
            "row": self.row,
            "column": self.column,
            "code": self.code,
            "message": self.message,
            "severity": self.severity,
        }


@dataclass(frozen=True)
class ImportResult:
    """The imported table and everything learnt on the way."""

    table: gpd.GeoDataFrame
    issues: tuple[ImportIssue, ...]
    source: str
    table_kind: TableKind
    encoding: str
    crs: str
    rows_read: int
    rows_rejected: int
    column_map: dict[str, str] = field(default_factory=dict)
    #: columns not recognised as any field, kept as they are (names as in the output)
    extra_columns: tuple[str, ...] = ()
    #: the XLSX worksheet read
    sheet: str | None = None

    @property
    def rows_imported(self) -> int:
        """Number of records in the imported table."""
        return len(self.table)

    def report(self) -> dict[str, Any]:
        """The machine-readable import report (see DESIGN.md)."""
        return {
            "source": self.source,
            "table": self.table_kind,
            "encoding": self.encoding,
            "crs": self.crs,
            "rows_read": self.rows_read,
            "rows_imported": self.rows_imported,
            "rows_rejected": self.rows_rejected,
            "columns": self.column_map,
            "extra_columns": list(self.extra_columns),
            "sheet": self.sheet,
            "issues": [i.as_dict() for i in self.issues],
        }


def _input_error(
    code: str, *, file: str, row: int | None = None, column: str | None = None, **kw: Any
) -> SiteImportError:
    zh, en = MESSAGES[code]
    return SiteImportError(zh.format(**kw), en.format(**kw), file=file, row=row, column=column)


class _Collector:
    def __init__(self) -> None:
        self.issues: list[ImportIssue] = []
        self.rejected: set[int] = set()

    def _add(
        self, row: int, column: str, code: str, severity: Literal["error", "warning"], **kw: Any
    ) -> None:
        zh, en = (part.format(**kw) for part in MESSAGES[code])
        self.issues.append(ImportIssue(row, column, code, f"{zh} / {en}", severity, zh, en))

    def error(self, row: int, column: str, code: str, **kw: Any) -> None:
        self._add(row, column, code, "error", **kw)
        self.rejected.add(row)

    def warn(self, row: int, column: str, code: str, **kw: Any) -> None:
        self._add(row, column, code, "warning", **kw)


def column_letter(index: int) -> str:
    """Spreadsheet column letter of a 0-based column index (0 -> A, 26 -> AA)."""
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index + 1))


def _crs_hint(header: str) -> str | None:
    key = normalise_key(header) + normalise_key(bracket_note(header))
    for crs, tokens in _CRS_TOKENS.items():
        if any(tok in key for tok in tokens):
            return crs
    return None


def crs_hint_of_name(name: str) -> str | None:
    """The coordinate system a file name suggests (``sites_gcj02.csv`` -> ``gcj02``), or None.

    Only the longer tokens count: ``bd`` or ``gps`` inside a file name are too
    often parts of other words.
    """
    stem = normalise_key(Path(str(name)).stem)
    found = {
        crs
        for crs, tokens in _CRS_TOKENS.items()
        if any(tok in stem for tok in tokens if len(tok) > 2 or not tok.isascii())
    }
    return found.pop() if len(found) == 1 else None


def _strip_crs(key: str) -> str:
    for tokens in _CRS_TOKENS.values():
        for tok in sorted(tokens, key=len, reverse=True):
            # short Latin tokens ("bd", "gps") could be part of other words
            if (len(tok) > 2 or not tok.isascii()) and tok in key and key != tok:
                key = key.replace(tok, "")
    return key


def map_columns(
    header: Iterable[str], fields: Iterable[str], vocabulary: Vocabulary, *, source: str = ""
) -> dict[str, int]:
    """Match header cells to canonical fields by the vocabulary's synonyms.

    The best-ranked synonym wins; two columns tied at the best rank are an error.
    """
    header = list(header)
    keys = [normalise_key(h) for h in header]
    # each column under its key, and under its key without a coordinate-system word:
    # one pass over the header, then one look-up per synonym
    where: dict[str, list[int]] = {}
    for idx, key in enumerate(keys):
        where.setdefault(key, []).append(idx)
        if (bare := _strip_crs(key)) != key:
            where.setdefault(bare, []).append(idx)
    out: dict[str, int] = {}
    taken: set[int] = set()
    for name in fields:
        best: list[int] = []
        for syn in vocabulary.columns.get(name, ()):
            best = sorted({i for i in where.get(syn, ()) if i not in taken})
            if best:
                break
        if not best:
            continue
        if len(best) > 1:
            cols = ", ".join(f"{header[i]!r} ({column_letter(i)})" for i in best)
            raise _input_error(
                "ambiguous_column",
                file=source,
                column=header[best[0]],
                value=name,
                columns=cols,
            )
        out[name] = best[0]
        taken.add(best[0])
    return out


def _extra_names(header: tuple[str, ...], used: set[int], width: int) -> list[tuple[int, str]]:
    reserved = set(SITE_COLUMNS) | set(DEMAND_COLUMNS) | {"grade", "source_row", "geometry"}
    names: list[tuple[int, str]] = []
    seen: set[str] = set()
    for idx in range(width):
        if idx in used:
            continue
        base = header[idx].strip() if idx < len(header) and header[idx].strip() else ""
        base = base or f"column_{idx + 1}"
        name, n = base, 2
        while name in reserved or name in seen:
            name, n = f"{base}_{n}", n + 1
        seen.add(name)
        names.append((idx, name))
    return names


def _fold_text(value: str | None) -> str | None:
    if value is None:
        return None
    t = unicodedata.normalize("NFKC", value).strip()
    return t or None


def _key_text(value: str | None) -> str | None:
    """Identifiers and area names: surrounding blanks removed, otherwise as written."""
    if value is None:
        return None
    t = value.strip().strip("\u3000")
    return t or None


def _parse_coordinates(
    table: RawTable,
    cols: dict[str, int],
    out: _Collector,
    declared: str,
) -> dict[int, tuple[float, float]]:
    """Read lon/lat of every record; return {line: (lon, lat)} in the declared CRS."""
    header = table.header
    lon_col = header[cols["lon"]] if "lon" in cols else header[cols.get("lonlat", 0)]
    lat_col = header[cols["lat"]] if "lat" in cols else lon_col
    parsed: dict[int, tuple[float, float]] = {}
    for line, cells in table.records:

        def cell(name: str, cells: tuple[str | None, ...] = cells) -> str | None:
            idx = cols.get(name)
            return cells[idx] if idx is not None and idx < len(cells) else None

        lon_s, lat_s = cell("lon"), cell("lat")
        pair_s = cell("lonlat")
        try:
            if lon_s is None and lat_s is None and pair_s is not None:
                lon, lat = parse_lonlat_pair(pair_s)
            elif lon_s is None or lat_s is None:
                missing = lon_col if lon_s is None else lat_col
                out.error(line, missing, "missing_coordinate")
                continue
            else:
                x = _coordinate(lon_s, line, lon_col, out)
                y = _coordinate(lat_s, line, lat_col, out)
                if x is None or y is None:
                    continue
                lon, lat = x, y
        except ValueError:
            out.error(line, lon_col, "bad_coordinate", value=pair_s)
            continue
        shown = f"({lon}, {lat})"
        if abs(lon) > 180 and abs(lat) > 90:
            out.error(line, lon_col, "projected_coordinate", value=shown)
            continue
        if lon == 0 or lat == 0:
            out.error(line, lon_col if lon == 0 else lat_col, "zero_coordinate", value=shown)
            continue
        if abs(lat) > 90 and abs(lon) <= 90 and abs(lat) <= 180:
            out.warn(line, lon_col, "swapped_lonlat", value=f"({lat}, {lon})")
            lon, lat = lat, lon
        elif abs(lon) > 180 or abs(lat) > 90:
            col = lon_col if abs(lon) > 180 else lat_col
            out.error(line, col, "out_of_range", value=shown)
            continue
        parsed[line] = (lon, lat)
        texts = split_pair(pair_s) if lon_s is None and pair_s is not None else (lon_s, lat_s)
        _check_coarse(line, texts, (lon_col, lat_col), lat, out)
    return parsed


#: a coordinate known no better than this (degrees, half its last unit) is warned about:
#: fewer than 3 decimals (±0.005° is about ±550 m), whole minutes (±0.5′, about ±900 m)
COARSE_STEP_DEG = 0.004
_METRES_PER_DEGREE = 111_320.0


def _check_coarse(
    line: int,
    texts: tuple[str | None, str | None],
    columns: tuple[str, str],
    lat: float,
    out: _Collector,
) -> None:
    """Warn once per row when a coordinate was written too coarsely to place a site."""
    worst: tuple[float, int, str, int] | None = None
    for i, text in enumerate(texts):
        if text is None:
            continue
        step, unit, decimals = coordinate_step(text)
        if step <= COARSE_STEP_DEG:
            continue
        # a degree of longitude is shorter by cos(latitude)
        metres = step * _METRES_PER_DEGREE * (math.cos(math.radians(lat)) if i == 0 else 1.0)
        if worst is None or metres > worst[0]:
            worst = (metres, i, unit, decimals)
    if worst is None:
        return
    metres, i, unit, decimals = worst
    value = texts[i]
    if unit == "degree" and decimals == 0:
        how_zh, how_en = "整度", "whole degrees"
    elif unit == "minute" and decimals == 0:
        how_zh, how_en = "整分", "whole minutes"
    else:
        how_zh = f"{decimals} 位小数" + ("（分）" if unit == "minute" else "")
        how_en = f"{decimals} decimal{'s' if decimals != 1 else ''}" + (
            " of a minute" if unit == "minute" else ""
        )
    size = (
        f"{metres / 1000:.0f} km"
        if metres >= 10_000
        else (f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.0f} m")
    )
    out.warn(
        line, columns[i], "coarse_coordinate", value=value, how=how_zh, how_en=how_en, size=size
    )


def _coordinate(text: str, line: int, column: str, out: _Collector) -> float | None:
    try:
        return parse_coordinate(text)
    except ValueError:
        out.error(line, column, "bad_coordinate", value=text)
        return None


def _in_china(lon: float, lat: float) -> bool:
    return _CHINA[0] <= lon <= _CHINA[1] and _CHINA[2] <= lat <= _CHINA[3]


def _check_swaps(
    parsed: dict[int, tuple[float, float]], out: _Collector, column: str, declared: str
) -> None:
    """Swap back pairs whose mirror image is where the rest of the file lies.

    Where the file is about China (a Chinese coordinate system was declared, or
    most points lie in China either way round), a pair outside China whose
    mirror is inside is swapped. Elsewhere, with at least five points, a pair
    more than 5 degrees from the median whose mirror lies within 1 degree of it
    is swapped. Both are reported as warnings.
    """
    if not parsed:
        return
    in_cn = [_in_china(lo, la) or _in_china(la, lo) for lo, la in parsed.values()]
    china = declared in ("gcj02", "bd09") or sum(in_cn) * 2 > len(in_cn)
    med = np.median(np.array(list(parsed.values())), axis=0) if len(parsed) >= 5 else None
    for line, (lon, lat) in list(parsed.items()):
        if china:
            swap = not _in_china(lon, lat) and _in_china(lat, lon)
        elif med is not None:
            d_orig = float(np.hypot(lon - med[0], lat - med[1]))
            d_swap = float(np.hypot(lat - med[0], lon - med[1]))
            swap = d_orig > 5 and d_swap < 1
        else:
            swap = False
        if swap:
            out.warn(line, column, "swapped_lonlat", value=f"({lat}, {lon})")
            parsed[line] = (lat, lon)


FAR_KM = 300.0  # a point this far (and 10x the typical spread) from the rest is flagged


def _check_far(parsed: dict[int, tuple[float, float]], out: _Collector, column: str) -> None:
    """Warn about points far from the rest of the table (typos such as 11.76 for 117.6).

    With at least five points: a point more than ``FAR_KM`` km, and more than
    ten times the median distance, from the median position is reported.
    """
    if len(parsed) < 5:
        return
    lines = list(parsed)
    xy = np.radians(np.array([parsed[k] for k in lines]))
    med = np.median(xy, axis=0)
    dlat, dlon = xy[:, 1] - med[1], xy[:, 0] - med[0]
    a = np.sin(dlat / 2) ** 2 + np.cos(xy[:, 1]) * np.cos(med[1]) * np.sin(dlon / 2) ** 2
    km = 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
    limit = max(FAR_KM, 10 * float(np.median(km)))
    for k in np.flatnonzero(km > limit):
        lon, lat = parsed[lines[k]]
        out.warn(lines[k], column, "far_from_others", km=float(km[k]), value=f"({lon}, {lat})")


def import_table(
    source: str | Path | bytes,
    table_kind: TableKind = "sites",
    *,
    encoding: str = "auto",
    crs: str = "auto",
    name: str | None = None,
    vocabulary: Vocabulary | None = None,
    sheet: str | None = None,
) -> ImportResult:
    """Read, validate and convert a site or demand table.

    Parameters
    ----------
    source
        Path of a CSV/TSV/XLSX file, or its bytes (then give ``name``).
    table_kind
        ``"sites"`` or ``"demand"``.
    encoding
        ``auto`` (UTF-8, then GB18030) or a codec name such as ``gbk``.
    crs
        ``auto`` (from the header if it says, else WGS-84 with a warning),
        ``wgs84``, ``gcj02`` or ``bd09``.
    name
        File name used in messages when ``source`` is bytes.
    vocabulary
        Header and value vocabularies; the default is ``data/vocabulary.toml``.
    sheet
        XLSX worksheet to read. By default the first one; when it has no
        coordinate columns, the first worksheet that has them (reported).

    Returns
    -------
    ImportResult
        Imported rows in WGS-84 plus every issue found.

    Raises
    ------
    SiteImportError
        When the file as a whole cannot be used (unreadable, no header, a
        required column missing).
    """
    vocab = vocabulary or load_vocabulary()
    if isinstance(source, bytes):
        data, label = source, name or "<upload>"
    else:
        label = name or str(source)
        try:
            path = Path(source)
            size = path.stat().st_size
            if size > limits.MAX_FILE_BYTES:
                raise too_large(size, label)
            data = path.read_bytes()
        except OSError as exc:
            raise SiteImportError(
                f"无法打开文件：{exc.strerror}", f"cannot open file: {exc.strerror}", file=label
            ) from None
    raw = read_table(data, source=label, encoding=encoding, sheet=sheet)
    chosen_from: str | None = None
    if sheet is None and len(raw.sheets) > 1:
        fields = _SITE_FIELDS if table_kind == "sites" else _DEMAND_FIELDS
        if not _find_header(raw, fields, vocab, label, _Collector())[1]:
            for other in raw.sheets[1 : limits.MAX_SHEETS_SEARCHED]:
                try:
                    candidate = read_table(data, source=label, sheet=other)
                except SiteImportError:
                    continue
                if _find_header(candidate, fields, vocab, label, _Collector())[1]:
                    raw, chosen_from = candidate, raw.sheet
                    break
            else:
                if len(raw.sheets) > limits.MAX_SHEETS_SEARCHED:
                    raise _sheet_not_searched(len(raw.sheets), label)
    return _validate(raw, table_kind, label, crs, vocab, chosen_from)


def _sheet_not_searched(count: int, label: str) -> SiteImportError:
    n = limits.MAX_SHEETS_SEARCHED
    return SiteImportError(
        f"工作簿有 {count:,} 个工作表，前 {n} 个中没有坐标列；"
        "请用 --sheet 指定工作表，或把数据表移到最前面",
        f"the workbook has {count:,} worksheets and none of the first {n} has coordinate "
        "columns; name the sheet with --sheet, or move the table to the front",
        file=label,
    )


def _has_xy(cols: dict[str, int]) -> bool:
    return ("lon" in cols and "lat" in cols) or "lonlat" in cols


HEADER_SEARCH_ROWS = 30  # rows below the first one searched for the real header


def _find_header(
    raw: RawTable, fields: tuple[str, ...], vocab: Vocabulary, label: str, out: _Collector
) -> tuple[RawTable, bool, list[tuple[int, str]]]:
    """Skip title rows above the real header (common in exported spreadsheets).

    When the first non-empty row names no coordinate columns but one of the
    next ``HEADER_SEARCH_ROWS`` does, that row is the header; the rows above it
    are reported.
    Returns the table, whether a header with coordinates was found, and the
    skipped rows' text (line, text) — a note there may name the coordinate
    system.
    """
    try:
        if _has_xy(map_columns(raw.header, fields, vocab, source=label)):
            return raw, True, []
    except SiteImportError:
        pass
    for pos, (line, cells) in enumerate(raw.records[:HEADER_SEARCH_ROWS]):
        header = tuple(c or "" for c in cells)
        try:
            found = _has_xy(map_columns(header, fields, vocab, source=label))
        except SiteImportError:
            found = False
        if found:
            preamble = [(raw.header_row, " ".join(raw.header))]
            preamble += [(ln, " ".join(c or "" for c in cs)) for ln, cs in raw.records[:pos]]
            for skipped, _ in preamble:
                out.warn(skipped, "", "preamble_row")
            blank = tuple(b for b in raw.blank_rows if b > line)
            moved = dataclasses.replace(
                raw,
                header=header,
                records=raw.records[pos + 1 :],
                header_row=line,
                blank_rows=blank,
            )
            return moved, True, preamble
    return raw, False, []


def _validate(
    raw: RawTable,
    table_kind: TableKind,
    label: str,
    crs: str,
    vocab: Vocabulary,
    chosen_from: str | None = None,
) -> ImportResult:
    out = _Collector()
    fields = _SITE_FIELDS if table_kind == "sites" else _DEMAND_FIELDS
    raw, _, preamble = _find_header(raw, fields, vocab, label, out)
    cols = map_columns(raw.header, fields, vocab, source=label)
    if chosen_from is not None:
        out.warn(raw.header_row, "", "sheet_chosen", first=chosen_from, sheet=raw.sheet)
    id_field = "site_id" if table_kind == "sites" else "demand_id"
    hrow = raw.header_row

    def col_name(f: str) -> str:
        return raw.header[cols[f]] if f in cols else f

    has_xy = _has_xy(cols)
    required = ["lon/lat"] if not has_xy else []
    if table_kind == "demand" and "weight" not in cols:
        required.append("weight")
    if required:
        need = (
            f"{', '.join(required)} (header: {', '.join(raw.header)}; "
            f"first {HEADER_SEARCH_ROWS + 1} rows searched)"
        )
        raise _input_error("missing_column", file=label, row=hrow, value=need)

    # Coordinate system: as declared, else from the header, else WGS-84 with a warning.
    declared: str
    try:
        declared = coords.normalise_crs_name(crs) if crs and crs.lower() != "auto" else "auto"
    except ValueError:
        raise SiteImportError(
            f"未知的坐标系 {crs!r}（可用：auto、wgs84、gcj02、bd09）",
            f"unknown coordinate system {crs!r} (use auto, wgs84, gcj02 or bd09)",
            file=label,
        ) from None
    xy_fields = [f for f in ("lon", "lat", "lonlat") if f in cols]
    header_hints = {h: col_name(f) for f in xy_fields if (h := _crs_hint(col_name(f)))}
    if declared != "auto":
        clash = [h for h in header_hints if h != declared]
        if clash:
            raise _input_error(
                "crs_conflict",
                file=label,
                row=hrow,
                column=header_hints[clash[0]],
                header=header_hints[clash[0]],
                header_crs=clash[0],
                declared=declared,
            )
    else:
        lon_header = col_name("lon" if "lon" in cols else "lonlat")
        title_hints = {(h, ln) for ln, text in preamble if (h := _crs_hint(text))}
        if len(header_hints) == 1:
            declared = next(iter(header_hints))
            out.warn(hrow, lon_header, "crs_from_header", crs=declared)
        elif not header_hints and len({h for h, _ in title_hints}) == 1:
            declared, line = min(title_hints, key=lambda t: t[1])
            out.warn(line, "", "crs_from_title", crs=declared, line=line)
        elif not header_hints and not title_hints and (by_name := crs_hint_of_name(label)):
            declared = by_name
            out.warn(hrow, lon_header, "crs_from_name", crs=declared, name=Path(label).name)
        else:
            declared = "wgs84"
            out.warn(hrow, lon_header, "crs_assumed")

    raw = _drop_summary_rows(raw, cols, out)
    for line in raw.blank_rows:
        out.warn(line, "", "blank_row")
    _report_layout(raw, out)
    cells_by_line = dict(raw.records)
    for line, col in raw.formula_cells:
        if line in cells_by_line and col < len(raw.header):
            value = cells_by_line[line][col]
            out.warn(line, raw.header[col], "formula_as_text", value=value)

    lon_name = col_name("lon" if "lon" in cols else "lonlat")
    parsed = _parse_coordinates(raw, cols, out, declared)
    _check_swaps(parsed, out, lon_name, declared)
    _check_far(parsed, out, lon_name)
    if declared == "wgs84" and parsed:
        in_cn = {k: _in_china(lo, la) for k, (lo, la) in parsed.items()}
        if sum(in_cn.values()) * 2 > len(in_cn):
            for k, inside in in_cn.items():
                if not inside:
                    out.warn(k, lon_name, "outside_china_wgs", value=str(parsed[k]))

    width = max([len(raw.header)] + [len(c) for _, c in raw.records])
    extras = _extra_names(raw.header, set(cols.values()), width)
    if table_kind == "sites" and "status" not in cols:
        out.warn(hrow, "", "no_status_column")

    rows: list[dict[str, Any]] = []
    for line, cells in raw.records:

        def cell(f: str, cells: tuple[str | None, ...] = cells) -> str | None:
            idx = cols.get(f)
            return cells[idx] if idx is not None and idx < len(cells) else None

        if len(cells) > len(raw.header):
            out.warn(line, "", "extra_cells", value=len(cells) - len(raw.header))
        rec: dict[str, Any] = {"source_row": line}
        rec[id_field] = _key_text(cell(id_field))
        rec["name"] = cell("name")
        rec["county"] = _key_text(cell("county"))
        rec["township"] = _key_text(cell("township"))
        if table_kind == "sites":
            _site_fields(rec, cell, col_name, line, out, vocab, has_status="status" in cols)
        else:
            _demand_fields(rec, cell, col_name, line, out)
        for idx, extra in extras:
            rec[extra] = cells[idx] if idx < len(cells) else None
        if line in parsed:
            rec["lon"], rec["lat"] = parsed[line]
        rows.append(rec)

    accepted = [r for r in rows if r["source_row"] not in out.rejected]
    _assign_ids(accepted, id_field, out, col_name(id_field) if id_field in cols else id_field)
    accepted = [r for r in accepted if r["source_row"] not in out.rejected]

    table = _to_frame(accepted, table_kind, declared, [e for _, e in extras])
    if declared in ("gcj02", "bd09") and len(table):
        outside = ~coords.in_china(table["lon"].to_numpy(), table["lat"].to_numpy())
        for line in table.loc[outside, "source_row"]:
            out.warn(int(line), lon_name, "outside_china", crs=declared)
    # real errors first (rejected rows), then warnings, each by row
    issues = tuple(sorted(out.issues, key=lambda i: (i.severity != "error", i.row, i.column)))
    return ImportResult(
        table=table,
        issues=issues,
        source=label,
        table_kind=table_kind,
        encoding=raw.encoding,
        crs=declared,
        rows_read=len(raw.records),
        rows_rejected=len(raw.records) - len(table),
        column_map={f: raw.header[i] for f, i in cols.items()},
        extra_columns=tuple(e for _, e in extras),
        sheet=raw.sheet,
    )


# First words of rows below (or among) the data that are not sites: totals,
# signatures and notes, as in forms filled in by hand.
_SUMMARY_WORDS = (
    "合计",
    "总计",
    "小计",
    "共计",
    "填表人",
    "填报人",
    "审核人",
    "制表",
    "联系人",
    "联系电话",
    "填报单位",
    "负责人",
    "备注",
    "注",
    "说明",
    "total",
)


def _drop_summary_rows(raw: RawTable, cols: dict[str, int], out: _Collector) -> RawTable:
    """Skip rows with no coordinates that start with 合计/填表人/注… (reported, not rejected)."""
    xy = [cols[f] for f in ("lon", "lat", "lonlat") if f in cols]
    keep = []
    for line, cells in raw.records:
        first = next((c for c in cells if c), "")
        word = unicodedata.normalize("NFKC", first).strip().lower()
        no_xy = all(i >= len(cells) or cells[i] is None for i in xy)
        if no_xy and word.startswith(_SUMMARY_WORDS):
            out.warn(line, "", "summary_row", value=first[:40])
        else:
            keep.append((line, cells))
    if len(keep) == len(raw.records):
        return raw
    return dataclasses.replace(raw, records=tuple(keep))


def _kind(vocab: Vocabulary, code: str, name: str = "kind") -> dict[str, str]:
    return {name: code, f"{name}_zh": vocab.word("kinds", code)}


def _kinds(vocab: Vocabulary, codes: list[str]) -> dict[str, str]:
    return {"kinds": "、".join(codes), "kinds_zh": "、".join(vocab.word("kinds", c) for c in codes)}


def _known(vocab: Vocabulary, table: str) -> dict[str, str]:
    """The accepted values of a vocabulary for a message: codes (English), words (Chinese)."""
    return {"known": "、".join(vocab.known(table)), "known_zh": vocab.words(table)}


def _report_layout(raw: RawTable, out: _Collector) -> None:
    """Merged cells, hidden rows and malformed quotes, as row issues."""
    cells_by_line = dict(raw.records)
    data_rows = set(cells_by_line)
    for r0, c0, r1, c1 in raw.merged:
        rows = sorted(data_rows & set(range(r0, r1 + 1)))
        if len(rows) < 2 and r1 == r0:
            continue  # a merge within one row (e.g. a title) changes no row's values
        if not rows:
            continue
        span = f"{column_letter(c0)}{r0}:{column_letter(c1)}{r1}"
        cells = cells_by_line[rows[0]]
        text = cells[c0] if c0 < len(cells) else None
        column = raw.header[c0] if c0 < len(raw.header) else column_letter(c0)
        out.warn(rows[0], column, "merged_cells", value=span, text=text or "")
    for line in raw.hidden_rows:
        if line in data_rows:
            out.warn(line, "", "hidden_row")
    for first, last, kind in raw.quote_problems:
        if first not in data_rows:
            continue
        if kind == "unclosed":
            out.error(first, "", "unclosed_quote", first=first, last=last)
        else:
            out.warn(first, "", "stray_quote")


def _site_fields(
    rec: dict[str, Any],
    cell: Any,
    col_name: Any,
    line: int,
    out: _Collector,
    vocab: Vocabulary,
    *,
    has_status: bool,
) -> None:
    name = rec["name"]
    if name is None:
        out.warn(line, col_name("name"), "missing_name")
    known_kinds = _known(vocab, "kinds")
    kind_s = cell("kind")
    kind = vocab.lookup("kinds", kind_s) if kind_s else None
    if kind_s and kind is None:
        found = vocab.codes_in_text("kinds", kind_s)
        if len(found) == 1:
            kind = found[0]
            out.warn(line, col_name("kind"), "kind_from_text", value=kind_s, **_kind(vocab, kind))
        elif found:
            out.error(
                line, col_name("kind"), "ambiguous_kind", value=kind_s, **_kinds(vocab, found)
            )
        else:
            out.error(line, col_name("kind"), "unknown_kind", value=kind_s, **known_kinds)
    elif kind_s is None:
        found = vocab.codes_in_text("kinds", name) if name else []
        if len(found) == 1:
            kind = found[0]
            out.warn(line, col_name("kind"), "kind_inferred", **_kind(vocab, kind, "value"))
        elif found:
            out.error(line, col_name("kind"), "ambiguous_kind", value=name, **_kinds(vocab, found))
        else:
            out.error(line, col_name("kind"), "missing_kind")
    rec["kind"] = kind

    level_s, grade_s = cell("level"), cell("grade")
    was_grade: str | None = None
    level = vocab.lookup("levels", level_s) if level_s else None
    grade = vocab.lookup("grades", grade_s) if grade_s else None
    if grade_s and grade is None:
        out.warn(line, col_name("grade"), "unknown_grade", value=grade_s, **_known(vocab, "grades"))
    default_level = vocab.kinds[kind].default_level if kind in vocab.kinds else None
    if kind == "reading_room" and level_s and grade_s is None:
        # A reading room's 级别 is usually its award grade (国家级/省级/市级).
        as_grade = vocab.lookup("grades", level_s)
        if as_grade is not None:
            grade, level, was_grade, level_s = as_grade, None, level_s, None
    if level_s and level is None:
        known = _known(vocab, "levels")
        out.error(line, col_name("level"), "unknown_level", value=level_s, **known)
    elif level is None and kind is not None:
        if default_level:
            level = default_level
            out.warn(
                line,
                col_name("level"),
                "level_defaulted" if was_grade is None else "level_was_grade",
                value=default_level,
                value_zh=vocab.word("levels", default_level),
                grade=was_grade,
            )
        else:
            out.error(line, col_name("level"), "missing_level")
    rec["level"] = level
    rec["grade"] = grade

    status_s = cell("status")
    if status_s is None:
        rec["status"] = "existing"
        if has_status:
            out.warn(line, col_name("status"), "status_defaulted")
    else:
        status = vocab.lookup("statuses", status_s)
        if status is None:
            known = _known(vocab, "statuses")
            out.error(line, col_name("status"), "unknown_status", value=status_s, **known)
        rec["status"] = status

    cap_s = cell("capacity")
    rec["capacity"] = None
    if cap_s is not None:
        try:
            cap = parse_number(cap_s)
        except ValueError:
            out.warn(line, col_name("capacity"), "bad_number", value=cap_s)
        else:
            if cap < 0:
                out.warn(line, col_name("capacity"), "negative_number", value=cap_s)
            elif cap > bounds.CAPACITY.high:
                out.error(
                    line, col_name("capacity"), "too_large", value=cap_s, **_limit(bounds.CAPACITY)
                )
            else:
                rec["capacity"] = cap


def _demand_fields(
    rec: dict[str, Any], cell: Any, col_name: Any, line: int, out: _Collector
) -> None:
    weight_s = cell("weight")
    rec["weight"] = None
    if weight_s is None:
        out.error(line, col_name("weight"), "missing_weight")
        return
    try:
        weight = parse_number(weight_s)
    except ValueError:
        out.error(line, col_name("weight"), "bad_number", value=weight_s)
        return
    if weight < 0:
        out.error(line, col_name("weight"), "negative_number", value=weight_s)
        return
    if weight > bounds.WEIGHT.high:
        # the bound keeps every sum of weights finite (see geo.bounds)
        out.error(line, col_name("weight"), "too_large", value=weight_s, **_limit(bounds.WEIGHT))
        return
    rec["weight"] = weight


def _limit(bound: bounds.Bound) -> dict[str, Any]:
    return {"name": bound.zh, "name_en": bound.en, "high": bound.high}


def _assign_ids(rows: list[dict[str, Any]], id_field: str, out: _Collector, column: str) -> None:
    """Reject duplicate ids (naming the first row) and generate missing ones."""
    first: dict[str, dict[str, Any]] = {}
    for rec in rows:
        ident = rec[id_field]
        if ident is None:
            continue
        if ident in first:
            prev = first[ident]
            same = {k: v for k, v in prev.items() if k != "source_row"} == {
                k: v for k, v in rec.items() if k != "source_row"
            }
            code = "duplicate_row" if same else "duplicate_id"
            out.error(rec["source_row"], column, code, value=ident, first=prev["source_row"])
        else:
            first[ident] = rec
    _reject_same_sites([r for r in rows if r[id_field] is None], out, column)
    prefix = "S" if id_field == "site_id" else "D"
    generated: list[str] = []
    for rec in rows:
        if rec[id_field] is None and rec["source_row"] not in out.rejected:
            candidate, n = f"{prefix}-row{rec['source_row']}", 2
            while candidate in first:
                candidate, n = f"{prefix}-row{rec['source_row']}-{n}", n + 1
            rec[id_field] = candidate
            first[candidate] = rec
            generated.append(candidate)
    if len(generated) == 1:
        out.warn(int(first[generated[0]]["source_row"]), column, "missing_id", value=generated[0])
    elif generated:  # one line for all of them: the real problems are not buried
        line = int(first[generated[0]]["source_row"])
        out.warn(
            line, column, "missing_ids", n=len(generated), first=generated[0], last=generated[-1]
        )


#: two rows without ids, of the same name, kind and level, closer than this are one site
SAME_SITE_M = 10.0


def _reject_same_sites(rows: list[dict[str, Any]], out: _Collector, column: str) -> None:
    """Reject a row without id that repeats an earlier one: same name, kind, level, place."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for rec in rows:
        if rec.get("lon") is None or rec.get("name") is None:
            continue
        key = (_fold_text(str(rec["name"])), rec.get("kind"), rec.get("level"))
        groups.setdefault(key, []).append(rec)
    for group in groups.values():
        if len(group) < 2:
            continue
        lon = np.array([r["lon"] for r in group], dtype=float)
        lat = np.array([r["lat"] for r in group], dtype=float)
        kept: list[int] = []
        for j in range(len(group)):  # groups are the few rows sharing one name
            if kept:
                k = np.array(kept)
                dx = (lon[k] - lon[j]) * np.cos(np.radians(lat[j])) * _METRES_PER_DEGREE
                dy = (lat[k] - lat[j]) * _METRES_PER_DEGREE
                dist = np.hypot(dx, dy)
                near = int(dist.argmin())
                if dist[near] <= SAME_SITE_M:
                    first = group[kept[near]]["source_row"]
                    out.error(
                        group[j]["source_row"],
                        column,
                        "duplicate_site",
                        first=first,
                        metres=float(dist[near]),
                    )
                    continue
            kept.append(j)


def _column_values(rows: list[dict[str, Any]], name: str) -> pd.Series:
    """One column of the imported records: numbers as float64, text as objects (None if blank)."""
    values = pd.Series([r.get(name) for r in rows], dtype=object)
    if name in ("capacity", "weight", "lon", "lat"):
        return pd.to_numeric(values, errors="coerce").astype("float64")
    return values.astype("int64") if name == "source_row" else values


def _to_frame(
    rows: list[dict[str, Any]], table_kind: TableKind, declared: str, extras: list[str]
) -> gpd.GeoDataFrame:
    canonical = [*SITE_COLUMNS, "grade"] if table_kind == "sites" else list(DEMAND_COLUMNS)
    columns = [*canonical, *extras, "source_row"]
    frame = pd.DataFrame({c: _column_values(rows, c) for c in columns}, columns=columns)
    lon = frame["lon"].to_numpy(dtype="float64")
    lat = frame["lat"].to_numpy(dtype="float64")
    if declared != "wgs84" and len(frame):
        lon, lat = coords.convert(lon, lat, declared, "wgs84")
    frame["lon"], frame["lat"] = np.round(lon, 9), np.round(lat, 9)
    return gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326"
    )


def import_sites(source: str | Path | bytes, **kwargs: Any) -> ImportResult:
    """Import a site table (see :func:`import_table`)."""
    return import_table(source, "sites", **kwargs)


def import_demand(source: str | Path | bytes, **kwargs: Any) -> ImportResult:
    """Import a demand table (see :func:`import_table`)."""
    return import_table(source, "demand", **kwargs)
