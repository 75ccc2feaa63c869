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
import itertools
import zipfile
from dataclasses import dataclass
from pathlib import Path

from geo.errors import SiteImportError
from geo.safe import CSV_MARKER, unneutralise

MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_ROWS = 500_000
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


def sniff_delimiter(text: str) -> str:
    """Choose ``,``, ``;`` or tab: the one that splits the first lines most consistently."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
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
    # the physical lines are only needed to check quotes: no copy when there are none
    lines = io.StringIO(text, newline="").readlines() if '"' in text else []
    header: tuple[str, ...] | None = None
    header_row = 0
    records: list[tuple[int, tuple[str | None, ...]]] = []
    blank: list[int] = []
    problems: list[tuple[int, int, str]] = []
    next_line = 1
    try:
        for row in reader:
            start = next_line
            next_line = reader.line_num + 1
            problem = (
                _quote_problem(row, lines[start - 1 : next_line - 1], delim) if lines else None
            )
            if problem:
                problems.append((start, next_line - 1, problem))
            if header is None:
                if not row or all(not c.strip() for c in row):
                    continue
                header, header_row = tuple(row), start
                continue
            if not row or all(not c.strip() for c in row):
                blank.append(start)
                continue
            if len(records) >= MAX_ROWS:
                raise SiteImportError(
                    f"行数超过上限 {MAX_ROWS:,}，请拆分文件",
                    f"more than {MAX_ROWS:,} rows; split the file",
                    file=source,
                    row=start,
                )
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


def _quote_problem(row: list[str], raw_lines: list[str], delim: str) -> str | None:
    """``unclosed``, ``stray`` or None for one parsed record and its physical lines."""
    if not any('"' in ln for ln in raw_lines):
        return None
    if len(raw_lines) > 1 and any(("\n" in c or "\r" in c) and delim in c for c in row):
        return "unclosed"
    try:
        list(csv.reader(io.StringIO("".join(raw_lines), newline=""), delimiter=delim, strict=True))
    except csv.Error:
        return "stray"
    return None


def _xlsx_cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = str(value)
    return text if text.strip() else None


def read_xlsx(data: bytes, *, source: str = "", sheet: str | None = None) -> RawTable:
    """Read the first (or named) worksheet of an XLSX workbook.

    openpyxl parses with defusedxml when it is installed (it is a dependency),
    so entity-expansion attacks in a hostile workbook are refused. Formulas are
    read as their last computed values. The sheet is read in full (not
    openpyxl's read-only mode, which trusts the sheet's stored size — wrong in
    files from some tools — and cannot see merged cells): every merged range
    gets its top-left value in each of its cells and is listed, and rows hidden
    in Excel are listed.
    """
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
        formulas = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise SiteImportError(
            f"不是有效的 XLSX 工作簿：{exc}", f"not a valid XLSX workbook: {exc}", file=source
        ) from None
    except Exception as exc:  # defusedxml and openpyxl raise many kinds
        raise SiteImportError(
            f"无法读取 XLSX 工作簿：{type(exc).__name__}",
            f"cannot read XLSX workbook: {type(exc).__name__}: {exc}",
            file=source,
        ) from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise SiteImportError(
                f"工作簿中没有工作表 {sheet!r}（有：{'、'.join(book.sheetnames)}）",
                f"no worksheet named {sheet!r} (have {book.sheetnames})",
                file=source,
            )
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        if not hasattr(ws, "iter_rows"):  # a chart sheet
            raise SiteImportError(
                f"工作表 {ws.title!r} 不是数据表", f"sheet {ws.title!r} holds no cells", file=source
            )
        wf = formulas[ws.title]
        wf.reset_dimensions()  # read-only mode: do not trust the stored size
        merged: list[tuple[int, int, int, int]] = []
        fill: dict[int, list[tuple[int, object]]] = {}  # row -> (column, value)
        for rng in ws.merged_cells.ranges:
            top = ws.cell(rng.min_row, rng.min_col).value
            merged.append((rng.min_row, rng.min_col - 1, rng.max_row, rng.max_col - 1))
            for r in range(rng.min_row, rng.max_row + 1):
                fill.setdefault(r, []).extend(
                    (c - 1, top) for c in range(rng.min_col, rng.max_col + 1)
                )
        hidden = [
            r for r, dim in ws.row_dimensions.items() if getattr(dim, "hidden", False) and r >= 1
        ]
        header: tuple[str, ...] | None = None
        header_row = 0
        records: list[tuple[int, tuple[str | None, ...]]] = []
        blank: list[int] = []
        formula_cells: list[tuple[int, int]] = []
        rows = itertools.zip_longest(
            ws.iter_rows(values_only=True), wf.iter_rows(values_only=True), fillvalue=()
        )
        for index, (values, raw_values) in enumerate(rows, start=1):
            cells: list[str | None] = [_xlsx_cell(v) for v in values]
            for c, value in fill.get(index, ()):
                if c < len(cells):
                    cells[c] = _xlsx_cell(value)
            # A formula never calculated (e.g. written by a script) has no cached
            # value: keep what the user typed, as text, rather than lose the cell.
            for col, typed in enumerate(raw_values):
                if (
                    col < len(cells)
                    and cells[col] is None
                    and isinstance(typed, str)
                    and typed.startswith("=")
                ):
                    cells[col] = typed
                    formula_cells.append((index, col))
            empty = all(c is None for c in cells)
            if header is None:
                if not empty:
                    header, header_row = tuple(c or "" for c in cells), index
                continue
            if empty:
                blank.append(index)
                continue
            if len(records) >= MAX_ROWS:
                raise SiteImportError(
                    f"行数超过上限 {MAX_ROWS:,}，请拆分文件",
                    f"more than {MAX_ROWS:,} rows; split the file",
                    file=source,
                    row=index,
                )
            records.append((index, tuple(cells)))
        names = tuple(book.sheetnames)
        title = ws.title
    finally:
        book.close()
        formulas.close()
    if header is None:
        raise SiteImportError(
            f"工作表 {title!r} 没有表头", f"worksheet {title!r} has no header row", file=source
        )
    # Trailing blank rows at the end of a sheet are formatting, not data.
    last = records[-1][0] if records else header_row
    blank = [b for b in blank if b < last]
    return RawTable(
        header,
        tuple(records),
        "xlsx",
        header_row,
        None,
        tuple(blank),
        tuple(formula_cells),
        merged=tuple(merged),
        hidden_rows=tuple(sorted(r for r in hidden if r <= last)),
        sheet=title,
        sheets=names,
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
    if len(data) > MAX_FILE_BYTES:
        raise SiteImportError(
            f"文件过大（{len(data) / 1e6:.1f} MB，上限 {MAX_FILE_BYTES / 1e6:.0f} MB）",
            f"file too large ({len(data) / 1e6:.1f} MB, limit {MAX_FILE_BYTES / 1e6:.0f} MB)",
            file=source,
        )
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
