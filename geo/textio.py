"""Reading tabular files as planners have them: encodings, delimiters, XLSX.

The output is always a header and a list of records, each record with the
1-based line (CSV) or row (XLSX) number where it starts in the file, so that
every later message can point at the exact place.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import re
from dataclasses import dataclass
from pathlib import Path

from geo import limits
from geo.errors import SiteImportError
from geo.safe import CSV_MARKER, unneutralise
from geo.xlsx import read_sheet

_DELIMITERS = (",", ";", "\t")
#: the encodings named in messages (any Python text encoding is accepted)
TEXT_ENCODINGS = "auto, utf-8, utf-8-sig, gb18030, gbk, gb2312, big5, utf-16"
_ENCODING_ALIASES = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "utf_8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf8-sig": "utf-8-sig",
    "gbk": "gbk",
    "cp936": "gbk",
    "gb2312": "gb2312",
    "gb18030": "gb18030",
    "big5": "big5",
    "utf-16": "utf-16",
    "latin-1": "latin-1",
    "latin1": "latin-1",
}


@dataclass(frozen=True)
class RawTable:
    """Header and records of a file, before any interpretation."""

    header: tuple[str, ...]
    records: tuple[tuple[int, tuple[str | None, ...]], ...]
    encoding: str
    header_row: int
    delimiter: str | None
    blank_rows: tuple[int, ...]
    formula_cells: tuple[tuple[int, int], ...] = ()
    #: XLSX merged ranges (first row, first column, last row, last column; 1-based
    #: rows, 0-based columns) whose top-left value was copied into every cell
    merged: tuple[tuple[int, int, int, int], ...] = ()
    #: XLSX rows hidden (or filtered out) in Excel
    hidden_rows: tuple[int, ...] = ()
    #: CSV records whose quotes were not well formed: (first line, last line, kind)
    #: with kind "unclosed" (the quote ran over line ends and delimiters) or
    #: "stray" (text after a closing quote: the quotes were dropped)
    quote_problems: tuple[tuple[int, int, str], ...] = ()
    #: the worksheet read (XLSX) and the names of all worksheets
    sheet: str | None = None
    sheets: tuple[str, ...] = ()


def too_large(size: int, source: str) -> SiteImportError:
    """The refusal of a file over :data:`geo.limits.MAX_FILE_BYTES`."""
    top = limits.MAX_FILE_BYTES / 1e6
    return SiteImportError(
        f"文件过大（{size / 1e6:.1f} MB，上限 {top:.0f} MB）",
        f"file too large ({size / 1e6:.1f} MB, limit {top:.0f} MB)",
        file=source,
    )


def _line_of_offset(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def decode(data: bytes, encoding: str = "auto", *, source: str = "") -> tuple[str, str]:
    """Decode file bytes; return ``(text, encoding used)``.

    ``auto`` tries, strictly and in order: a UTF-16 byte-order mark, UTF-8
    (with or without BOM), GB18030 (a superset of GBK and GB2312). A detector
    is consulted only to suggest an encoding in the error message; it never
    decides on its own.
    """
    name = encoding.strip().lower() if encoding else "auto"
    if name != "auto":
        canonical = _ENCODING_ALIASES.get(name, name)
        try:
            codec = codecs.lookup(canonical)
        except LookupError:
            raise SiteImportError(
                f"未知的文字编码 {encoding!r}（可用：{TEXT_ENCODINGS} 等文字编码）",
                f"unknown encoding {encoding!r} (use a text encoding such as {TEXT_ENCODINGS})",
                file=source,
            ) from None
        # zlib, base64, rot13 ... are codecs but not text encodings: bytes.decode
        # refuses them with a LookupError
        if not getattr(codec, "_is_text_encoding", True):
            raise SiteImportError(
                f"{encoding!r} 不是文字编码（可用：{TEXT_ENCODINGS} 等）",
                f"{encoding!r} is not a text encoding (use one such as {TEXT_ENCODINGS})",
                file=source,
            )
        try:
            text = data.decode(canonical, errors="strict")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise SiteImportError(
                f"无法按 {canonical} 解码（第 {line} 行，字节位置 {exc.start}）",
                f"cannot decode as {canonical} (line {line}, byte {exc.start})",
                file=source,
                row=line,
            ) from None
        except (UnicodeError, LookupError, ValueError) as exc:  # codecs that cannot decode
            raise SiteImportError(
                f"无法按 {canonical} 解码：{exc}（可用：{TEXT_ENCODINGS} 等）",
                f"cannot decode as {canonical}: {exc} (use e.g. {TEXT_ENCODINGS})",
                file=source,
            ) from None
        if canonical in ("utf-8", "utf-8-sig") and text.startswith("\ufeff"):
            text, canonical = text[1:], "utf-8-sig"
        return text, canonical
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16", errors="strict"), "utf-16"
        except UnicodeDecodeError:
            pass
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            line = data[: exc.start + 3].count(b"\n") + 1
            raise SiteImportError(
                f"文件以 UTF-8 标记开头，但第 {line} 行不是合法的 UTF-8",
                f"file starts with a UTF-8 byte-order mark but line {line} is not valid UTF-8",
                file=source,
                row=line,
            ) from None
    bad_line: dict[str, int] = {}
    for candidate in ("utf-8", "gb18030"):
        try:
            return data.decode(candidate, errors="strict"), candidate
        except UnicodeDecodeError as exc:
            bad_line[candidate] = data[: exc.start].count(b"\n") + 1
    hint = _detector_hint(data)
    hint_zh = f"，检测器推测为 {hint}，可用 --encoding {hint} 指定" if hint else ""
    hint_en = f"; a detector suggests {hint}, try --encoding {hint}" if hint else ""
    u8, gb = bad_line["utf-8"], bad_line["gb18030"]
    raise SiteImportError(
        f"文件既不是 UTF-8 也不是 GB18030/GBK 编码（按 UTF-8 第 {u8} 行出错，"
        f"按 GBK 第 {gb} 行出错；可能混用了两种编码）{hint_zh}",
        f"file is neither UTF-8 nor GB18030/GBK (as UTF-8 it breaks on line {u8}, as GBK on "
        f"line {gb}; two encodings may be mixed){hint_en}",
        file=source,
        row=min(u8, gb),
    )


def _detector_hint(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - optional
        return None
    best = from_bytes(data[:65536]).best()
    return str(best.encoding) if best is not None else None


def _first_lines(text: str, count: int) -> list[str]:
    """``text.splitlines()[:count]`` without splitting the whole text (16 million short
    lines made a list of 1.4 GB to look at the first 50)."""
    size = 1 << 16
    while True:
        lines = text[:size].splitlines()
        if len(lines) > count or size >= len(text):
            return lines[:count]
        size *= 4


def sniff_delimiter(text: str) -> str:
    """Choose ``,``, ``;`` or tab: the one that splits the first lines most consistently."""
    lines = [ln for ln in _first_lines(text, 50) if ln.strip()]
    if not lines:
        return ","
    best, best_score = ",", (-1, -1)
    for delim in _DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delim))
        except csv.Error:
            continue
        widths = [len(r) for r in rows if r]
        if not widths or widths[0] < 2:
            continue
        consistent = sum(1 for w in widths if w == widths[0])
        score = (consistent, widths[0])
        if score > best_score:
            best, best_score = delim, score
    return best


def _clean_cell(cell: str | None, restore: bool) -> str | None:
    if cell is None or not cell.strip():
        return None
    # a CSV servicenet wrote and marked (geo.safe.CSV_MARKER) has formula-like
    # text behind an apostrophe it added; any other file keeps its text exactly
    return unneutralise(cell) if restore else cell


def _marked_by_servicenet(text: str, delimiter: str) -> bool:
    """Whether the last line of ``text`` is servicenet's CSV marker (a re-save may pad it)."""
    tail = text[-(len(CSV_MARKER) + 65536) :].rstrip()
    return tail[tail.rfind("\n") + 1 :].rstrip(delimiter + " ") == CSV_MARKER


def parse_text(text: str, *, source: str = "", delimiter: str | None = None) -> RawTable:
    """Split decoded CSV text into header and numbered records.

    Records whose quotes are not well formed are kept and listed in
    ``quote_problems``: a quoted cell that runs over line ends *and* contains
    the delimiter is almost surely an unclosed quote that swallowed the rows
    after it; a quote followed by more text before the delimiter
    (``"工人先锋号"职工书屋``) loses its quotes in CSV parsing.
    """
    delim = delimiter or sniff_delimiter(text)
    restore = _marked_by_servicenet(text, delim)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=False)
    # the physical lines are only needed to check quotes: none looked at when there are none
    lines = _PhysicalLines(text) if '"' in text else None
    header: tuple[str, ...] | None = None
    header_row = 0
    records: list[tuple[int, tuple[str | None, ...]]] = []
    blank: list[int] = []
    problems: list[tuple[int, int, str]] = []
    next_line = 1
    cells = 0
    try:
        for row in reader:
            start = next_line
            next_line = reader.line_num + 1
            problem = (
                _quote_problem(row, lines.upto(next_line), next_line - start, delim)
                if lines
                else None
            )
            if problem:
                problems.append((start, next_line - 1, problem))
            cells += len(row)
            if len(row) > limits.MAX_COLUMNS or cells > limits.MAX_CELLS:
                row = _within_limits(row, cells, start, source)
            if header is None:
                if not row or all(not c.strip() for c in row):
                    continue
                header, header_row = tuple(row), start
                continue
            # blank lines count too: a few megabytes of line ends are millions of rows
            if len(records) + len(blank) >= limits.MAX_ROWS:
                raise limits.too_many_rows(header_row, file=source, row=start)
            if not row or all(not c.strip() for c in row):
                blank.append(start)
                continue
            records.append((start, tuple(_clean_cell(c, restore) for c in row)))
    except csv.Error as exc:
        raise SiteImportError(
            f"CSV 格式错误：{exc}",
            f"malformed CSV: {exc}",
            file=source,
            row=next_line,
        ) from None
    if header is None:
        raise SiteImportError("文件没有表头", "the file has no header row", file=source)
    if restore:
        header = tuple(unneutralise(h) for h in header)
        if records and records[-1][1][0] == CSV_MARKER:
            records.pop()
    return RawTable(
        header,
        tuple(records),
        "",
        header_row,
        delim,
        tuple(blank),
        quote_problems=tuple(problems),
    )


def _within_limits(row: list[str], cells: int, line: int, source: str) -> list[str]:
    """The row without its trailing empty fields, or the refusal of a file over a limit.

    Checked on the fields as the CSV reader gives them, before any table is
    built: a header of a million columns costs one pass over its line.
    """
    if cells > limits.MAX_CELLS:
        raise limits.too_many_cells(file=source, row=line)
    width = len(row)
    while width and not row[width - 1].strip():
        width -= 1
    if width > limits.MAX_COLUMNS:
        raise limits.over_limit(
            f"第 {line} 行有 {width:,} 列，超过 {limits.MAX_COLUMNS:,} 列的上限",
            f"has {width:,} columns on line {line}, over the limit of {limits.MAX_COLUMNS:,}",
            file=source,
            row=line,
        )
    return row[:width]


class _PhysicalLines:
    """The text of a CSV's physical lines, taken in order as the records are read.

    Each record's lines are found from where the previous record ended, so no
    list of every line is built (48 MB of short lines after an unclosed quote
    took 1.7 GB). Lines end as the csv module counts them: ``\r\n``, ``\r``, ``\n``.
    """

    _END = re.compile(r"\r\n|\r|\n")

    def __init__(self, text: str) -> None:
        self.text = text
        self.line = 1  # the number of the line starting at ``pos``
        self.pos = 0
        self.ends = self._END.finditer(text)

    def upto(self, line: int) -> str:
        """The text from the current line up to (not including) line number ``line``."""
        begin = self.pos
        while self.line < line:
            end = next(self.ends, None)
            self.pos = end.end() if end else len(self.text)
            self.line += 1
        return self.text[begin : self.pos]


def _quote_problem(row: list[str], raw: str, line_count: int, delim: str) -> str | None:
    """``unclosed``, ``stray`` or None for one parsed record and the text of its lines."""
    if '"' not in raw:
        return None
    if line_count > 1 and any(("\n" in c or "\r" in c) and delim in c for c in row):
        return "unclosed"
    try:
        list(csv.reader(io.StringIO(raw, newline=""), delimiter=delim, strict=True))
    except csv.Error:
        return "stray"
    return None


def read_xlsx(data: bytes, *, source: str = "", sheet: str | None = None) -> RawTable:
    """Read the first (or named) worksheet of an XLSX workbook (see :mod:`geo.xlsx`).

    Formulas are read as their last computed values (their text when never
    computed, listed in ``formula_cells``); every merged range gets its
    top-left value in each of its cells and is listed; rows hidden in Excel
    are listed. The sheet's stored size is not trusted: every row is read.
    """
    ws, names = read_sheet(data, source=source, sheet=sheet)
    if not ws.rows:
        raise SiteImportError(
            f"工作表 {ws.title!r} 没有表头",
            f"worksheet {ws.title!r} has no header row",
            file=source,
        )
    (header_row, header), *records = ws.rows
    # Trailing blank rows at the end of a sheet are formatting, not data.
    last = records[-1][0] if records else header_row
    return RawTable(
        tuple(c or "" for c in header),
        tuple(records),
        "xlsx",
        header_row,
        None,
        tuple(ws.blank),
        tuple(ws.formula_cells),
        merged=tuple(ws.merged),
        hidden_rows=tuple(r for r in ws.hidden if r <= last),
        sheet=ws.title,
        sheets=tuple(names),
    )


def read_table(
    data: bytes,
    *,
    source: str = "",
    encoding: str = "auto",
    file_format: str | None = None,
    sheet: str | None = None,
) -> RawTable:
    """Read CSV/TSV/TXT or XLSX bytes into a :class:`RawTable` (``sheet``: XLSX only)."""
    if len(data) > limits.MAX_FILE_BYTES:
        raise too_large(len(data), source)
    fmt = (file_format or Path(source).suffix.lstrip(".")).lower()
    if data.startswith(b"PK\x03\x04") or fmt in ("xlsx", "xlsm"):
        return read_xlsx(data, source=source, sheet=sheet)
    if data.startswith(b"\xd0\xcf\x11\xe0") or fmt == "xls":
        raise SiteImportError(
            "不支持旧版 Excel 97-2003（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV",
            "old Excel 97-2003 (.xls) files are not supported; save as .xlsx or CSV",
            file=source,
        )
    text, used = decode(data, encoding, source=source)
    if "\x00" in text:
        line = _line_of_offset(text, text.index("\x00"))
        raise SiteImportError(
            "文件含有空字符（\\0），不是文本表格",
            "file contains NUL characters; it is not a text table",
            file=source,
            row=line,
        )
    return dataclasses.replace(parse_text(text, source=source), encoding=used)
