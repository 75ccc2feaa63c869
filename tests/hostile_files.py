"""Small files that expand into huge work: XLSX zip bombs, endless rows, wide headers.

Each maker writes its file in well under a second and a few megabytes on disk;
the point of each is what reading it would cost without limits. The XLSX
writer builds the package by hand so that a member can repeat a compressed
block (a deflate block after a full flush stands alone), which makes a
gigabyte of whitespace as quick to write as a kilobyte.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from pathlib import Path

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_PARTS = {
    "[Content_Types].xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{_PKG}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{_PKG}/relationships"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_PKG}/relationships"><Relationship Id="rId1" '
        f'Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}
SHEET_HEAD = f'<worksheet xmlns="{_MAIN}"><sheetData>'.encode()
SHEET_TAIL = b"</sheetData></worksheet>"


def _deflate(pieces: Iterable[tuple[bytes, int]]) -> tuple[bytes, int, int]:
    """Raw deflate of ``unit * count`` pieces: (compressed, crc32, uncompressed size)."""
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    out: list[bytes] = []
    crc = size = 0
    for unit, count in pieces:
        if count == 1:
            out.append(comp.compress(unit))
        else:
            out.append(comp.flush(zlib.Z_FULL_FLUSH))
            block = comp.compress(unit) + comp.flush(zlib.Z_FULL_FLUSH)
            out.append(block * count)
        for _ in range(count):
            crc = zlib.crc32(unit, crc)
        size += len(unit) * count
    out.append(comp.flush())
    return b"".join(out), crc, size


def write_xlsx(
    path: Path, sheet: Iterable[tuple[bytes, int]], shared_strings: str | None = None
) -> Path:
    """A one-sheet XLSX whose sheet XML is the concatenation of ``unit * count`` pieces
    (and a shared-strings part with the given XML)."""
    parts = dict(_PARTS)
    if shared_strings is not None:
        parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
            "</Types>",
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT}.sharedStrings+xml"/>'
            "</Types>",
        )
        parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
            "</Relationships>",
            f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        )
        parts["xl/sharedStrings.xml"] = shared_strings
    members = [(n, *_deflate([(t.encode(), 1)])) for n, t in parts.items()]
    members.append(("xl/worksheets/sheet1.xml", *_deflate(sheet)))
    local, central = bytearray(), bytearray()
    for name, data, crc, size in members:
        raw = name.encode()
        head = struct.pack("<IHHHHHIII", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size)
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data), size,
            len(raw), 0, 0, 0, 0, 0, len(local),
        ) + raw  # fmt: skip
        local += head + struct.pack("<HH", len(raw), 0) + raw + data
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(local), 0
    )
    path.write_bytes(bytes(local + central + end))
    return path


def whitespace_xlsx(path: Path, megabytes: int) -> Path:
    """A header and one site, then ``megabytes`` MB of blanks inside the sheet (a zip bomb)."""
    rows = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c><c r="B1" t="inlineStr">'
        '<is><t>lon</t></is></c><c r="C1" t="inlineStr"><is><t>lat</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>a</t></is></c>'
        '<c r="B2"><v>117.6</v></c><c r="C2"><v>26.2</v></c></row>'
    )
    body = [(SHEET_HEAD + rows.encode(), 1), (b" " * (1 << 20), megabytes), (SHEET_TAIL, 1)]
    return write_xlsx(path, body)


def many_rows_xlsx(path: Path, rows: int) -> Path:
    """A header and ``rows`` numbered site rows."""
    head = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c><c r="B1" t="inlineStr">'
        '<is><t>lon</t></is></c><c r="C1" t="inlineStr"><is><t>lat</t></is></c></row>'
    )
    cells = '<c t="inlineStr"><is><t>a</t></is></c><c><v>117.6</v></c><c><v>26.2</v></c></row>'
    chunks = [(SHEET_HEAD + head.encode(), 1)]
    for start in range(2, rows + 2, 100_000):
        numbers = range(start, min(start + 100_000, rows + 2))
        chunks.append(("".join(f'<row r="{r}">{cells}' for r in numbers).encode(), 1))
    return write_xlsx(path, [*chunks, (SHEET_TAIL, 1)])


def _letters(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


def wide_xlsx(path: Path, columns: int = 16_384, rows: int = 20) -> Path:
    """A header ``name, kind, level, lon, lat, c6, ...`` and ``rows`` sites, all
    ``columns`` wide (16,384 is Excel's widest)."""
    letters = [_letters(i) for i in range(columns)]
    site = ["name", "kind", "level", "lon", "lat"]
    head = "".join(
        f'<c r="{col}1" t="inlineStr"><is><t>{name}</t></is></c>'
        for col, name in zip(
            letters, [*site, *(f"c{i + 1}" for i in range(5, columns))], strict=True
        )
    )
    chunks = [(SHEET_HEAD + f'<row r="1">{head}</row>'.encode(), 1)]
    for r in range(2, rows + 2):
        text = (f"站{r}", "service_center", "township")
        cells = "".join(
            f'<c r="{col}{r}" t="inlineStr"><is><t>{t}</t></is></c>'
            for col, t in zip(letters, text, strict=False)
        )
        cells += f'<c r="D{r}"><v>117.6</v></c><c r="E{r}"><v>26.2</v></c>'
        cells += "".join(f'<c r="{col}{r}"><v>{i}</v></c>' for i, col in enumerate(letters[5:]))
        chunks.append((f'<row r="{r}">{cells}</row>'.encode(), 1))
    chunks.append((SHEET_TAIL, 1))
    return write_xlsx(path, chunks)


def wide_csv(path: Path, columns: int = 1_000_000) -> Path:
    """A CSV whose header ``name, lon, lat, c4, ...`` has ``columns`` columns, and one row."""
    header = ",".join(["name", "lon", "lat", *(f"c{i + 1}" for i in range(3, columns))])
    path.write_text(header + "\na,117.6,26.2\n", encoding="utf-8")
    return path


def blank_lines_csv(path: Path, lines: int = 3_000_000) -> Path:
    """A header, one site, then ``lines`` empty lines (3 MB for three million)."""
    site = "name,kind,level,lon,lat\na,service_center,township,117.6,26.2\n"
    path.write_text(site + "\n" * lines, encoding="utf-8")
    return path


def open_quote_csv(path: Path, lines: int = 16_000_000) -> Path:
    """A header, then a quote never closed over ``lines`` short lines (48 MB for 16 million)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write('name,kind,level,lon,lat\n"a,')
        chunk = "A,\n" * 1_000_000
        for _ in range(lines // 1_000_000):
            fh.write(chunk)
    return path


def cost_matrix_csv(
    path: Path, origins: list[str], candidates: int, per_candidate: int = 3, seed: int = 0
) -> Path:
    """A long-form cost matrix: each of ``candidates`` new destinations ``X<n>`` reaches
    ``per_candidate`` random origins within a few minutes (heavily overlapping coverage)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    lines = ["origin_id,destination_id,minutes"]
    for j in range(candidates):
        for i in rng.choice(len(origins), size=per_candidate, replace=False):
            lines.append(f"{origins[i]},X{j},{1 + (i + j) % 9}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def candidates_csv(path: Path, count: int, lon: list[float], lat: list[float]) -> Path:
    """``count`` candidate points, each within about 100 m of one of the given points."""
    import numpy as np

    rng = np.random.default_rng(1)
    at = rng.integers(0, len(lon), count)
    x = np.asarray(lon)[at] + rng.uniform(-0.001, 0.001, count)
    y = np.asarray(lat)[at] + rng.uniform(-0.001, 0.001, count)
    rows = [f"C{i},候选{i},{a:.6f},{b:.6f}" for i, (a, b) in enumerate(zip(x, y, strict=True))]
    path.write_text("candidate_id,name,lon,lat\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path
