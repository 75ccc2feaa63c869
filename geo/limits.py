"""Size limits of the tables servicenet reads, checked while reading.

A small file can stand for a huge table: an XLSX is a zip archive, and a few
megabytes of it can unpack to gigabytes (a run of blanks compresses a
thousandfold), a million rows or a row of 16,384 columns. Every limit here is
checked before the work or memory it guards is spent — the archive's declared
sizes before anything is unpacked, rows, columns and cells one by one while a
sheet or CSV is streamed — so that a refused file costs seconds and little
memory, and the message says which limit it hit. The README lists them with
the reasons.
"""

from __future__ import annotations

from geo.errors import SiteImportError

#: bytes of a table file as given (CSV, TSV or XLSX)
MAX_FILE_BYTES = 100 * 1024 * 1024
#: rows below the header, blank ones included (not an XLSX sheet's empty rows after its data)
MAX_ROWS = 500_000
#: columns holding a value; a planner's table has tens, Excel allows 16,384
MAX_COLUMNS = 1_000
#: cells read (CSV fields; XLSX cell elements, with or without a value)
MAX_CELLS = 5_000_000
#: bytes of an XLSX archive once unpacked, all its parts together
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
#: unpacked size over packed size of one XLSX part (Apache POI refuses above 100 too);
#: only for parts over ``RATIO_FLOOR_BYTES``, as tiny parts compress erratically
MAX_INFLATE_RATIO = 100
RATIO_FLOOR_BYTES = 1024 * 1024
#: XLSX merged ranges that touch the table (a planner's sheet has a few dozen)
MAX_MERGED = 100_000
#: Excel's own limit on the characters of one cell
MAX_CELL_CHARS = 32_767
#: XLSX worksheets looked at for coordinate columns when none is named (each is read
#: whole; 3,000 empty sheets took more than 300 s)
MAX_SHEETS_SEARCHED = 20


def over_limit(
    zh: str,
    en: str,
    *,
    file: str,
    sheet: str | None = None,
    row: int | None = None,
    column: str | None = None,
) -> SiteImportError:
    """The bilingual refusal of a file over a limit.

    ``zh`` and ``en`` say which limit and what was found (e.g. "has more than
    500,000 rows"); the worksheet, when there is one, is named before them and
    the advice after them.
    """
    where_zh = f"工作表“{sheet}”" if sheet else "文件"
    where_en = f"worksheet {sheet!r} " if sheet else "the file "
    return SiteImportError(
        f"{where_zh}{zh}；请删去多余部分或拆分文件后再导入",
        f"{where_en}{en}; remove what is not needed or split the file, then import again",
        file=file,
        row=row,
        column=column,
    )


def too_many_rows(
    header_row: int, *, file: str, row: int, sheet: str | None = None
) -> SiteImportError:
    """Refusal of a table with more than :data:`MAX_ROWS` rows below its header."""
    return over_limit(
        f"从表头（第 {header_row} 行）起超过 {MAX_ROWS:,} 行（上限）",
        f"has more than {MAX_ROWS:,} rows (the limit) below the header on row {header_row}",
        file=file,
        sheet=sheet,
        row=row,
    )


def too_many_cells(*, file: str, row: int, sheet: str | None = None) -> SiteImportError:
    """Refusal of a file with more than :data:`MAX_CELLS` cells read."""
    return over_limit(
        f"单元格超过 {MAX_CELLS:,} 个（上限，含空白格）",
        f"has more than {MAX_CELLS:,} cells (the limit, blank ones included)",
        file=file,
        sheet=sheet,
        row=row,
    )
