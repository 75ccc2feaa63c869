"""One worksheet of an XLSX workbook, read as a stream within the limits of :mod:`geo.limits`.

openpyxl's full mode builds an object for every cell of the sheet before the
first row can be looked at (gigabytes for a sheet of a million rows) and its
read-only mode still builds each ``<row>`` as a tree and pads it to its last
column. Here the archive's declared sizes are checked before anything is
unpacked (``zipfile`` never unpacks more than a member declares), then the
sheet's XML is fed to expat a megabyte at a time and only the cells that hold
a value are kept, so that rows, columns, cells and the text of one cell are
counted as they arrive and a file over a limit is refused at that point.

openpyxl's reader still reads the workbook's other parts (sheet names, shared
strings, number formats for dates), with defusedxml, and its helpers turn
dates, shared formulas and column letters into values; the sheet itself never
has a DTD, and one is refused, so no entity can expand.
Merged ranges (listed after the cells) are applied once the rows are read:
the top-left value is copied into every cell of the range, as Excel shows it.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, NoReturn
from xml.parsers import expat

from geo import limits
from geo.errors import SiteImportError

EXCEL_MAX_ROWS = 1_048_576
_CHUNK = 1 << 20
_MAIN = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)


def xlsx_cell(value: object) -> str | None:
    """A cell value as the text an import sees (None for a blank)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = str(value)
    return text if text.strip() else None


def _invalid(exc: BaseException, source: str) -> SiteImportError:
    return SiteImportError(
        f"不是有效的 XLSX 工作簿：{exc}", f"not a valid XLSX workbook: {exc}", file=source
    )


def check_archive(data: bytes, source: str) -> None:
    """Refuse an archive that would unpack to too much: total size, ratio, method.

    The sizes are those the archive declares; ``zipfile`` stops reading a
    member at its declared size, so they bound what can be unpacked.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise _invalid(exc, source) from None
    total = 0
    for info in members:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise SiteImportError(
                f"XLSX 工作簿的部件 {info.filename} 使用了 Excel 不用的压缩方式",
                f"XLSX part {info.filename!r} uses a compression method Excel does not use",
                file=source,
            )
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.RATIO_FLOOR_BYTES and ratio > limits.MAX_INFLATE_RATIO:
            raise limits.over_limit(
                f"部件 {info.filename} 的压缩比为 {ratio:,.0f}:1（解压后 "
                f"{info.file_size / 1e6:,.1f} MB），超过上限 {limits.MAX_INFLATE_RATIO}:1，"
                "像是压缩炸弹",
                f"part {info.filename!r} is compressed {ratio:,.0f}:1 ({info.file_size / 1e6:,.1f} "
                f"MB unpacked), over the limit of {limits.MAX_INFLATE_RATIO}:1; it looks like a "
                "zip bomb",
                file=source,
            )
    if total > limits.MAX_UNPACKED_BYTES:
        raise limits.over_limit(
            f"解压后为 {total / 1e6:,.1f} MB，超过上限 {limits.MAX_UNPACKED_BYTES / 1e6:,.1f} MB",
            f"unpacks to {total / 1e6:,.1f} MB, over the limit of "
            f"{limits.MAX_UNPACKED_BYTES / 1e6:,.1f} MB",
            file=source,
        )


@dataclass
class Sheet:
    """The cells of a worksheet that hold a value, as read.

    ``rows`` are the non-empty rows (1-based row number, cells padded to
    ``width``), the first of them the header; ``blank`` the empty rows between
    the header and the last row.
    """

    title: str
    rows: list[tuple[int, tuple[str | None, ...]]] = field(default_factory=list)
    width: int = 0
    blank: list[int] = field(default_factory=list)
    hidden: list[int] = field(default_factory=list)
    formula_cells: list[tuple[int, int]] = field(default_factory=list)
    #: (first row, first column, last row, last column): 1-based rows, 0-based columns
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)


class _Handlers:
    """expat handlers by element name, and the text of the element being read.

    ``starts`` and ``ends`` map qualified names (namespace, a space, local name)
    to handlers; text is collected only while ``text`` is a list, and refused
    beyond :data:`geo.limits.MAX_CELL_CHARS` characters.
    """

    def __init__(self) -> None:
        self.starts: dict[str, Callable[[dict[str, str]], None]] = {}
        self.ends: dict[str, Callable[[], None]] = {}
        self.text: list[str] | None = None
        self.text_len = 0
        # the runs of a rich-text string (<si> or <is>): its <t>, except phonetic guides
        self.runs: list[str] | None = None
        self.phonetic = 0

    @staticmethod
    def named(handlers: dict[str, Any]) -> dict[str, Any]:
        """Handlers keyed by the qualified names of both spreadsheet namespaces."""
        return {f"{ns} {tag}": h for ns in _MAIN for tag, h in handlers.items()}

    def characters(self, data: str) -> None:
        if self.text is None:
            return
        self.text_len += len(data)
        if self.text_len > limits.MAX_CELL_CHARS:
            self.too_long()
        self.text.append(data)

    def too_long(self) -> NoReturn:
        raise NotImplementedError

    def _run(self, attrs: dict[str, str]) -> None:
        if self.runs is not None and not self.phonetic:
            self.text = []

    def _run_end(self) -> None:
        if self.text is not None and self.runs is not None:
            self.runs.append("".join(self.text))
            self.text = None

    def _phonetic(self, attrs: dict[str, str]) -> None:
        self.phonetic += 1

    def _phonetic_end(self) -> None:
        self.phonetic -= 1


class _SharedStrings(_Handlers):
    """The workbook's table of shared strings, as openpyxl reads it, counted as it grows."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source
        self.strings: list[str] = []
        self.starts = self.named({"si": self._si, "t": self._run, "rPh": self._phonetic})
        self.ends = self.named({"si": self._si_end, "t": self._run_end, "rPh": self._phonetic_end})

    def too_long(self) -> NoReturn:
        raise limits.over_limit(
            f"第 {len(self.strings) + 1:,} 个共享字符串超过 {limits.MAX_CELL_CHARS:,} 个字符"
            "（Excel 的上限）",
            f"has a shared string (number {len(self.strings) + 1:,}) of more than "
            f"{limits.MAX_CELL_CHARS:,} characters (Excel's own limit)",
            file=self.source,
        )

    def _si(self, attrs: dict[str, str]) -> None:
        self.runs, self.text_len = [], 0

    def _si_end(self) -> None:
        if self.runs is None:
            return
        self.strings.append("".join(self.runs).replace("x005F_", ""))
        self.runs = self.text = None
        if len(self.strings) > limits.MAX_CELLS:
            raise limits.over_limit(
                f"共享字符串超过 {limits.MAX_CELLS:,} 个（单元格数的上限）",
                f"has more than {limits.MAX_CELLS:,} shared strings (the limit on cells)",
                file=self.source,
            )


class _Stream(_Handlers):
    """expat handlers that turn a sheet's XML into rows of text, counting as they go."""

    def __init__(self, book: Any, shared: list[str], title: str, source: str) -> None:
        from openpyxl.utils.cell import column_index_from_string, range_boundaries

        super().__init__()
        self.column_index = column_index_from_string
        self.range_boundaries = range_boundaries
        self.shared = shared
        self.date_formats = book._date_formats
        self.timedelta_formats = book._timedelta_formats
        self.epoch = book.epoch
        self.title, self.source = title, source
        self.rows: list[tuple[int, list[str | None]]] = []
        self.hidden: list[int] = []
        self.formula_cells: list[tuple[int, int]] = []
        self.merges: list[tuple[int, int, int, int]] = []
        self.merged_area = 0
        self.masters: dict[str, tuple[str, str]] = {}
        self.width = self.cells_read = self.row = self.col = 0
        self.in_row = self.row_hidden = self.in_cell = False
        self.row_cells: dict[int, str] = {}
        # the cell being read: type, style, reference, <v>, <f> and its attributes (<is>: runs)
        self.c_type, self.c_style, self.c_ref = "n", "", ""
        self.v: str | None = None
        self.f: str | None = None
        self.f_attrs: dict[str, str] | None = None
        starts = {
            "row": self._row_start,
            "c": self._cell_start,
            "v": self._text_start,
            "f": self._formula_start,
            "is": self._inline_start,
            "t": self._run,
            "rPh": self._phonetic,
            "mergeCell": self._merge_start,
        }
        ends = {
            "row": self._row_end,
            "c": self._cell_end,
            "v": self._value_end,
            "f": self._formula_end,
            "t": self._run_end,
            "rPh": self._phonetic_end,
        }
        self.starts, self.ends = self.named(starts), self.named(ends)

    # ---------------------------------------------------------------- refusals

    def _over(
        self, zh: str, en: str, row: int | None = None, column: str | None = None
    ) -> NoReturn:
        raise limits.over_limit(zh, en, file=self.source, sheet=self.title, row=row, column=column)

    def _corrupt(self, zh: str, en: str, row: int | None = None) -> NoReturn:
        row = row or self.row or None
        raise SiteImportError(
            f"工作表“{self.title}”：{zh}，文件可能已损坏",
            f"worksheet {self.title!r}: {en}; the file may be damaged",
            file=self.source,
            row=row,
        )

    # ---------------------------------------------------------------- expat handlers

    def too_long(self) -> NoReturn:
        self._over(
            f"第 {self.row} 行有一个单元格超过 {limits.MAX_CELL_CHARS:,} 个字符（Excel 的上限）",
            f"has a cell of more than {limits.MAX_CELL_CHARS:,} characters on row {self.row} "
            "(Excel's own limit)",
            row=self.row,
        )

    def _text_start(self, attrs: dict[str, str]) -> None:
        if self.in_cell:
            self.text = []

    def _formula_start(self, attrs: dict[str, str]) -> None:
        if self.in_cell:
            self.text, self.f_attrs = [], attrs

    def _inline_start(self, attrs: dict[str, str]) -> None:
        if self.in_cell:
            self.runs = []

    def _value_end(self) -> None:
        if self.text is not None:
            self.v, self.text = "".join(self.text), None

    def _formula_end(self) -> None:
        if self.text is not None:
            self.f, self.text = "".join(self.text), None

    def _merge_start(self, attrs: dict[str, str]) -> None:
        if not self.in_cell:
            self._merge(attrs.get("ref", ""))

    # ---------------------------------------------------------------- rows and cells

    def _row_start(self, attrs: dict[str, str]) -> None:
        number = attrs.get("r")
        try:
            row = int(float(number)) if number else self.row + 1
        except ValueError:
            self._corrupt(f"行号 {number!r} 无效", f"row number {number!r} is not valid")
        if row <= self.row or row > EXCEL_MAX_ROWS:
            self._corrupt(
                f"行号 {row} 排在第 {self.row} 行之后（行号须递增）或超出 Excel 的 "
                f"{EXCEL_MAX_ROWS:,} 行",
                f"row number {row} comes after row {self.row} (rows must be in order) or is "
                f"beyond Excel's {EXCEL_MAX_ROWS:,} rows",
                row=row,
            )
        self.row, self.col, self.in_row = row, 0, True
        self.row_hidden = attrs.get("hidden") in ("1", "true")
        self.row_cells = {}

    def _row_end(self) -> None:
        if not self.in_row:
            return
        self.in_row = False
        if self.row_hidden:
            self.hidden.append(self.row)
        if not self.row_cells:
            return
        if self.rows and self.row - self.rows[0][0] > limits.MAX_ROWS:
            raise limits.too_many_rows(
                self.rows[0][0], file=self.source, sheet=self.title, row=self.row
            )
        line: list[str | None] = [None] * (max(self.row_cells) + 1)
        for col, text in self.row_cells.items():
            line[col] = text
        self.width = max(self.width, len(line))
        self.rows.append((self.row, line))

    def _cell_start(self, attrs: dict[str, str]) -> None:
        if not self.in_row:
            return
        ref = attrs.get("r", "")
        if ref:
            try:
                self.col = self.column_index(ref.rstrip("0123456789"))
            except ValueError:
                self._corrupt(f"单元格地址 {ref!r} 无效", f"cell reference {ref!r} is not valid")
        else:
            self.col += 1
        self.cells_read += 1
        if self.cells_read > limits.MAX_CELLS:
            raise limits.too_many_cells(file=self.source, sheet=self.title, row=self.row)
        self.in_cell, self.text_len = True, 0
        self.c_type, self.c_style, self.c_ref = attrs.get("t", "n"), attrs.get("s", ""), ref
        self.v = self.f = self.f_attrs = self.runs = None

    def _cell_end(self) -> None:
        if not self.in_cell:
            return
        self.in_cell, self.text, self.phonetic = False, None, 0
        try:
            text = xlsx_cell(self._value())
        except (ValueError, IndexError, OverflowError, TypeError) as exc:
            self._corrupt(
                f"单元格 {self.c_ref or self.col} 的值无法读取（{exc}）",
                f"the value of cell {self.c_ref or self.col} cannot be read ({exc})",
            )
        if text is None:
            if self.f_attrs is None:
                return
            # A formula never calculated (e.g. written by a script) has no cached
            # value: keep what the user typed, as text, rather than lose the cell.
            text = self._formula()
            if text is None:
                return
            self.formula_cells.append((self.row, self.col - 1))
        elif self.f_attrs is not None and self.f_attrs.get("t") == "shared":
            self._formula()  # a shared formula's first cell: later cells are written from it
        if self.col > limits.MAX_COLUMNS:
            from openpyxl.utils import get_column_letter

            letter = get_column_letter(self.col)
            self._over(
                f"第 {self.col:,} 列（{letter} 列）有值，超过 {limits.MAX_COLUMNS:,} 列的上限",
                f"has a value in column {letter} (column {self.col:,}), over the limit of "
                f"{limits.MAX_COLUMNS:,} columns",
                row=self.row,
                column=letter,
            )
        self.row_cells[self.col - 1] = text

    def _value(self) -> object:
        """The cell's value as openpyxl gives it (cached results for formulas)."""
        kind = self.c_type
        if kind == "inlineStr":
            return None if self.runs is None else "".join(self.runs)
        raw = self.v
        if not raw:
            return None
        if kind == "n":
            number = float(raw) if "." in raw or "e" in raw or "E" in raw else int(raw)
            style = int(self.c_style) if self.c_style else 0
            if style in self.date_formats:
                from openpyxl.utils.datetime import from_excel

                return from_excel(number, self.epoch, timedelta=style in self.timedelta_formats)
            return number
        if kind == "s":
            return self.shared[int(raw)]
        if kind == "b":
            return bool(int(raw))
        if kind == "d":
            from openpyxl.utils.datetime import from_ISO8601

            return from_ISO8601(raw)
        return raw

    def _formula(self) -> str | None:
        """The formula as typed, shared formulas translated (None for array/table formulas)."""
        attrs = self.f_attrs or {}
        kind, text, ref = attrs.get("t"), self.f, self.c_ref
        if kind in ("array", "dataTable"):
            return None
        if kind == "shared":
            index = attrs.get("si", "")
            if index in self.masters:
                from openpyxl.formula.translate import Translator

                master, origin = self.masters[index]
                return str(Translator(master, origin).translate_formula(ref)) if ref else None
            if text and ref:
                self.masters[index] = ("=" + text, ref)
        return "=" + (text or "")

    def _merge(self, ref: str) -> None:
        try:
            c0, r0, c1, r1 = self.range_boundaries(ref)
        except (ValueError, TypeError):
            self._corrupt(f"合并区域 {ref!r} 无效", f"merged range {ref!r} is not valid")
        if None in (c0, r0, c1, r1) or not self.rows:
            return
        first, last = self.rows[0][0], self.rows[0][0] + limits.MAX_ROWS
        if r1 < first or r0 > last or c0 > self.width:
            return  # outside the table: changes no value read
        self.merges.append((r0, c0 - 1, r1, c1 - 1))
        if len(self.merges) > limits.MAX_MERGED:
            self._over(
                f"合并区域超过 {limits.MAX_MERGED:,} 个（上限）",
                f"has more than {limits.MAX_MERGED:,} merged ranges (the limit)",
            )
        self.merged_area += (min(r1, last) - max(r0, first) + 1) * (min(c1, self.width) - c0 + 1)
        if self.merged_area > limits.MAX_CELLS:
            self._over(
                f"合并区域共覆盖超过 {limits.MAX_CELLS:,} 个单元格（上限；区域可能相互重叠）",
                f"has merged ranges covering more than {limits.MAX_CELLS:,} cells (the limit; "
                "the ranges may overlap)",
            )

    # ---------------------------------------------------------------- after the stream

    def sheet(self) -> Sheet:
        """The rows read, padded to the table's width, merged ranges filled.

        A merged range reaching below the last row read fills the rows it
        covers, as Excel shows them (up to the row limit).
        """
        out = Sheet(self.title, hidden=self.hidden, formula_cells=self.formula_cells)
        if not self.rows:
            return out
        first, width = self.rows[0][0], self.width
        last = max(
            [self.rows[-1][0]] + [min(r1, first + limits.MAX_ROWS) for _, _, r1, _ in self.merges]
        )
        if (last - first + 1) * width > limits.MAX_CELLS:
            self._over(
                f"表格为 {last - first + 1:,} 行 × {width:,} 列，超过 {limits.MAX_CELLS:,} "
                "个单元格的上限",
                f"holds a table of {last - first + 1:,} rows x {width:,} columns, over the limit "
                f"of {limits.MAX_CELLS:,} cells",
            )
        cells = dict(self.rows)
        self.rows = []
        for line in cells.values():
            line.extend([None] * (width - len(line)))
        for r0, c0, r1, c1 in self.merges:
            top = cells[r0][c0] if r0 in cells else None
            stop = min(c1, width - 1) + 1
            for r in range(max(r0, first), min(r1, last) + 1):
                cells.setdefault(r, [None] * width)[c0:stop] = [top] * (stop - c0)
        out.merged, out.width = self.merges, width
        out.rows = [
            (row, tuple(cells.pop(row)))
            for row in sorted(cells)
            if any(c is not None for c in cells[row])
        ]
        present = {row for row, _ in out.rows}
        out.blank = [r for r in range(first + 1, out.rows[-1][0]) if r not in present]
        return out


def _refuse_dtd(*_args: object) -> NoReturn:
    raise ValueError("a DTD or entity declaration in a worksheet")


def _stream(src: IO[bytes], handler: _Handlers) -> None:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd
    parser.buffer_text = True
    starts, ends = handler.starts.get, handler.ends.get

    def start(name: str, attrs: dict[str, str]) -> None:
        call = starts(name)
        if call is not None:
            call(attrs)

    def end(name: str) -> None:
        call = ends(name)
        if call is not None:
            call()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = handler.characters
    while chunk := src.read(_CHUNK):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


def read_sheet(data: bytes, *, source: str, sheet: str | None = None) -> tuple[Sheet, list[str]]:
    """The first (or named) worksheet of an XLSX workbook, and the names of all sheets.

    The workbook's parts are read with openpyxl's reader, step by step rather
    than by ``load_workbook``: in read-only mode that parses every sheet once
    at load to find its stored size (a sheet without one in full), and it
    keeps every shared string's XML element until the table is read. The
    shared strings and the sheet are streamed here instead, and counted.
    """
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.xml.constants import SHARED_STRINGS

    check_archive(data, source)
    try:
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _invalid(exc, source) from None
    try:
        try:
            reader.read_manifest()
            reader.read_workbook()
            apply_stylesheet(reader.archive, reader.wb)
            found = [
                (part.name, rel.target, "chartsheet" in rel.Type)
                for part, rel in reader.parser.find_sheets()
                if rel.target in reader.valid_files
            ]
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
            raise _invalid(exc, source) from None
        except MemoryError:
            raise
        except Exception as exc:  # defusedxml and openpyxl raise many kinds
            raise SiteImportError(
                f"无法读取 XLSX 工作簿：{type(exc).__name__}",
                f"cannot read XLSX workbook: {type(exc).__name__}: {exc}",
                file=source,
            ) from None
        names = [name for name, _, _ in found]
        if sheet is not None and sheet not in names:
            raise SiteImportError(
                f"工作簿中没有工作表 {sheet!r}（有：{'、'.join(names)}）",
                f"no worksheet named {sheet!r} (have {names})",
                file=source,
            )
        chosen = [f for f in found if (f[0] == sheet if sheet is not None else not f[2])]
        if not chosen:
            raise SiteImportError(
                "工作簿中没有数据表", "the workbook has no worksheet", file=source
            )
        title, path, chart = chosen[0]
        if chart:
            raise SiteImportError(
                f"工作表 {title!r} 不是数据表", f"sheet {title!r} holds no cells", file=source
            )
        shared = _SharedStrings(source)
        handler = _Stream(reader.wb, shared.strings, title, source)
        table = reader.package.find(SHARED_STRINGS)
        try:
            if table is not None:
                with reader.archive.open(table.PartName[1:]) as src:
                    _stream(src, shared)
            with reader.archive.open(path) as src:
                _stream(src, handler)
        except SiteImportError:
            raise
        except (expat.ExpatError, zipfile.BadZipFile, ValueError, KeyError, OSError) as exc:
            raise _invalid(exc, source) from None
        return handler.sheet(), names
    finally:
        reader.archive.close()
