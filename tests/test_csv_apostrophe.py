"""Leading apostrophes: a user's text is kept; servicenet's own CSV reads back exactly.

servicenet neutralises formula-like CSV cells with an apostrophe and marks the
file (geo.safe.CSV_MARKER); only a file so marked loses those apostrophes on
import (issue 11, item 10).
"""

from __future__ import annotations

import csv
import io

import pandas as pd

from geo.export import csv_bytes
from geo.safe import CSV_MARKER, spreadsheet_text, unneutralise
from geo.tables import import_sites
from tests.hostile import HOSTILE

HEADER = ["编号", "名称", "类型", "级别", "经度", "纬度"]


def _rows_csv(names: list[str]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    for i, name in enumerate(names):
        writer.writerow([f"A{i}", name, "职工服务站", "乡镇级", f"{117.6 + i / 100:.2f}", "26.2"])
    return buf.getvalue().encode("utf-8")


def test_a_users_leading_apostrophe_is_kept() -> None:
    names = ["'+86热线站", "'=1+1", "'-x", "'@home", "''+两个"]
    table = import_sites(_rows_csv(names), name="mine.csv", crs="wgs84").table
    assert table["name"].tolist() == names


def test_servicenet_reads_its_own_csv_back_exactly() -> None:
    names = [*HOSTILE, "-5", "'-x", "''=y", "@home", "\ttab", "＝全角", "'", "普通"]
    original = import_sites(_rows_csv(names), name="in.csv", crs="wgs84").table
    assert original["name"].tolist() == names
    exported = csv_bytes(original)
    text = exported.decode("utf-8-sig")
    assert text.endswith(CSV_MARKER + "\r\n")
    written = [row[1] for row in csv.reader(io.StringIO(text)) if len(row) > 1]
    assert "'" + HOSTILE[12] in written and "''-x" in written  # neutralised for Excel
    again = import_sites(exported, name="out.csv", crs="wgs84").table
    assert again["name"].tolist() == names
    # a spreadsheet that saved it again pads the marker line with delimiters
    padded = exported.replace(CSV_MARKER.encode(), CSV_MARKER.encode() + b",,,,")
    assert import_sites(padded, name="resaved.csv", crs="wgs84").table["name"].tolist() == names


def test_the_marker_is_written_only_when_needed_and_read_only_at_the_end() -> None:
    plain = pd.DataFrame({"name": ["甲", "'乙"], "n": [1, -2]})
    assert CSV_MARKER not in csv_bytes(plain).decode("utf-8-sig")
    # the marker in the middle (rows added after it) is not servicenet's: text kept
    names = ["'+86热线站", CSV_MARKER, "'=x"]
    table = import_sites(_rows_csv(names), name="mixed.csv", crs="wgs84").table
    assert table["name"].tolist() == names


def test_spreadsheet_text_round_trips_through_unneutralise() -> None:
    for text in [*HOSTILE, "'", "''", "'''=x", "-", "a-b", ""]:
        safe = spreadsheet_text(text)
        assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert unneutralise(safe) == text


def test_columnwise_neutralising_equals_the_cell_by_cell_rule() -> None:
    """The column-wise writer gives what spreadsheet_text gives cell by cell."""
    import numpy as np
    import pandas as pd

    from geo.export import _neutralised
    from geo.safe import spreadsheet_text
    from tests.hostile import HOSTILE

    rng = np.random.default_rng(3)
    pool = [*HOSTILE, "=1+1", "'+86热线站", "''=x", "＝全角", "-", "", "普通", "@a", "\ttab"]
    n = 500
    frame = pd.DataFrame(
        {
            "text": rng.choice(np.array(pool, dtype=object), n),
            "mixed": np.array(
                [pool[i % len(pool)] if i % 3 else i for i in range(n)], dtype=object
            ),
            "none": [None] * n,
            "number": rng.normal(size=n),
            "arrow": pd.array(rng.choice(np.array(pool, dtype=object), n), dtype="string"),
            "=头": "x",
        }
    )
    got, changed = _neutralised(frame)
    want = frame.copy()
    for col in want.columns:
        want[col] = [spreadsheet_text(v) if isinstance(v, str) else v for v in want[col]]
    want.columns = [spreadsheet_text(str(c)) for c in want.columns]
    assert changed
    assert list(got.columns) == list(want.columns)
    for col in got.columns:
        assert [None if pd.isna(v) else v for v in got[col]] == [
            None if pd.isna(v) else v for v in want[col]
        ], col
