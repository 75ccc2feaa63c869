"""Properties of the importer: encoding invariance, and totality on arbitrary bytes."""

from __future__ import annotations

import csv
import io

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.errors import SiteImportError
from geo.tables import ImportResult, import_demand, import_sites

# Text every one of the four encodings can carry: ASCII letters and digits plus
# common Chinese characters (GB2312 level 1 covers them, so GBK does too).
CJK = "三明市沙县永安宁化清流明溪将乐泰宁建宁尤溪大田梅列元区镇乡街道职工服务站中心书屋文体园社区村"
SAFE_TEXT = st.text(
    alphabet=st.sampled_from(list(CJK + "abcXYZ0123456789 -_()（）·")), min_size=0, max_size=12
)
KINDS = st.sampled_from(["职工服务站", "职工服务中心", "职工书屋", "职工文体中心", "奇怪类型", ""])
LEVELS = st.sampled_from(["乡镇级", "县级", "市级", "社区级", "园区级", "国家级", "", "某级"])
STATUS = st.sampled_from(["现有", "规划", "在建", "停用", "", "不明"])
COORD = st.one_of(
    st.floats(min_value=-200, max_value=200, allow_nan=False).map(lambda v: f"{v:.6f}"),
    st.sampled_from(["", "abc", "117°38′", "0"]),
)
ROW = st.tuples(
    st.text(alphabet="0123456789AB", max_size=4), SAFE_TEXT, KINDS, LEVELS, STATUS, COORD, COORD
)


def _csv(rows: list[tuple[str, ...]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["编号", "名称", "类型", "级别", "状态", "经度", "纬度"])
    writer.writerows(rows)
    return buf.getvalue()


def _fingerprint(res: ImportResult) -> tuple[object, ...]:
    table = pd.DataFrame(res.table.drop(columns="geometry"))
    return (
        table.to_csv(index=False),
        [(i.row, i.column, i.code, i.message) for i in res.issues],
        res.rows_read,
        res.rows_rejected,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, min_size=1, max_size=12))
def test_same_table_whatever_the_encoding(rows: list[tuple[str, ...]]) -> None:
    text = _csv(rows)
    results = {}
    for encoding in ("utf-8", "utf-8-sig", "gbk", "gb18030"):
        data = text.encode(encoding)
        if encoding == "utf-8-sig":
            assert data.startswith(b"\xef\xbb\xbf")
        try:
            results[encoding] = _fingerprint(import_sites(data, name="t.csv", crs="wgs84"))
        except SiteImportError as exc:
            results[encoding] = ("error", exc.en)
    assert len(set(map(repr, results.values()))) == 1, results


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600), st.sampled_from(["sites", "demand"]))
def test_total_on_arbitrary_bytes(data: bytes, table: str) -> None:
    importer = import_sites if table == "sites" else import_demand
    try:
        res = importer(data, name="fuzz.csv")
    except SiteImportError as exc:
        assert exc.file == "fuzz.csv" and exc.zh and exc.en
        return
    assert res.rows_imported + res.rows_rejected == res.rows_read
    assert res.table["lon"].between(-180, 180).all()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, min_size=0, max_size=8), st.binary(max_size=40))
def test_total_on_mangled_tables(rows: list[tuple[str, ...]], noise: bytes) -> None:
    data = _csv(rows).encode("utf-8")
    cut = len(noise) % (len(data) + 1)
    mangled = data[:cut] + noise + data[cut:]
    for name in ("m.csv", "m.xlsx"):
        try:
            res = import_sites(mangled, name=name)
        except SiteImportError:
            continue
        # every record is accounted for: imported, or rejected with an error on its row
        rejected_rows = {i.row for i in res.issues if i.severity == "error"}
        assert res.rows_rejected == len(rejected_rows)
        assert res.table["site_id"].is_unique


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, min_size=1, max_size=10))
def test_every_row_imported_or_explained(rows: list[tuple[str, ...]]) -> None:
    res = import_sites(_csv(rows).encode("utf-8"), name="t.csv", crs="wgs84")
    imported = set(res.table["source_row"])
    errors = {i.row for i in res.issues if i.severity == "error"}
    assert imported.isdisjoint(errors)
    assert imported | errors == set(range(2, 2 + len(rows))) - {
        i.row for i in res.issues if i.code == "blank_row"
    }
