"""Importing site and demand tables as planners really have them."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest

from geo.coords import wgs84_to_bd09
from geo.errors import SiteImportError
from geo.tables import import_demand, import_sites

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data/examples/sites_gbk_gcj02.csv"
TRUTH = Path(__file__).resolve().parent / "data/sites_gbk_gcj02_truth.csv"
HOSTILE = ("<img src=x onerror=alert(1)>", '=HYPERLINK("http://example.com","点我")')


def metres(lon1, lat1, lon2, lat2):
    lat = np.radians((np.asarray(lat1) + np.asarray(lat2)) / 2)
    dx = (np.asarray(lon1) - np.asarray(lon2)) * 111_320 * np.cos(lat)
    dy = (np.asarray(lat1) - np.asarray(lat2)) * 110_574
    return np.hypot(dx, dy)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planning.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode(encoding)


# ---------------------------------------------------------------- the done-when case


def test_cli_gbk_gcj02_file_positions_rows_and_hostile_names(tmp_path: Path) -> None:
    """GBK, Chinese headers, GCJ-02: valid sites within 1 m, bad rows by line number."""
    assert SAMPLE.read_bytes().decode("gbk")  # really GBK, not UTF-8
    with pytest.raises(UnicodeDecodeError):
        SAMPLE.read_bytes().decode("utf-8")
    out, report = tmp_path / "sites.geojson", tmp_path / "report.json"
    proc = run_cli(
        "import", str(SAMPLE), "--crs", "gcj02", "--out", str(out), "--report", str(report)
    )
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(report.read_text(encoding="utf-8"))
    truth = pd.read_csv(TRUTH, dtype={"site_id": str})
    assert rep["crs"] == "gcj02"
    assert rep["encoding"] in ("gb18030", "gbk")
    assert rep["rows_read"] == len(truth)
    assert rep["rows_imported"] == int((truth["expect"] == "imported").sum())
    assert rep["rows_rejected"] == int((truth["expect"] == "rejected").sum())
    errors = {i["row"]: i for i in rep["issues"] if i["severity"] == "error"}
    assert set(errors) == set(truth.loc[truth["expect"] == "rejected", "line"])
    for issue in rep["issues"]:
        assert set(issue) >= {"row", "column", "code", "message"}
        assert " / " in issue["message"]  # Chinese / English
    # the rejected rows say why, in the right column
    by_fault = dict(zip(truth["fault"], truth["line"], strict=True))
    assert errors[by_fault["missing_lat"]]["column"] == "纬度"
    assert errors[by_fault["out_of_range"]]["code"] == "out_of_range"
    assert errors[by_fault["duplicate_id"]]["code"] == "duplicate_id"
    assert errors[by_fault["unknown_kind"]]["column"] == "类型"
    warned = {(i["row"], i["code"]) for i in rep["issues"] if i["severity"] == "warning"}
    assert (by_fault["swapped"], "swapped_lonlat") in warned

    table = gpd.read_file(out)
    assert table.crs.to_epsg() == 4326
    merged = table.merge(truth, left_on="source_row", right_on="line")
    assert len(merged) == rep["rows_imported"]
    dist = metres(merged["lon_x"], merged["lat_x"], merged["lon_y"], merged["lat_y"])
    assert dist.max() < 1.0, dist
    geo_dist = metres(table.geometry.x, table.geometry.y, table["lon"], table["lat"])
    assert geo_dist.max() < 1e-6
    names = set(table["name"])
    for name in HOSTILE:
        assert name in names
    assert table["site_id"].is_unique
    assert "001" in set(table["site_id"])  # leading zeros kept


def test_cli_prints_file_row_and_column_for_rejected_rows() -> None:
    proc = run_cli("import", str(SAMPLE), "--crs", "gcj02")
    assert proc.returncode == 0
    assert "sites_gbk_gcj02.csv, row 9, column 纬度" in proc.stderr


def test_cli_exit_codes(tmp_path: Path) -> None:
    assert run_cli("import", str(tmp_path / "missing.csv")).returncode == 2
    bad = tmp_path / "no_coords.csv"
    bad.write_text("名称,类型\n甲,职工服务站\n", encoding="utf-8")
    proc = run_cli("import", str(bad))
    assert proc.returncode == 2
    assert "no_coords.csv" in proc.stderr and "row 1" in proc.stderr
    assert "缺少必需的列" in proc.stderr and "required column missing" in proc.stderr
    allbad = tmp_path / "allbad.csv"
    allbad.write_text("名称,类型,级别,经度,纬度\n甲,职工服务站,乡镇级,abc,26\n", encoding="utf-8")
    assert run_cli("import", str(allbad)).returncode == 2
    assert run_cli("import", str(SAMPLE), "--crs", "gcj02", "--strict").returncode == 2
    assert run_cli("import", str(SAMPLE), "--crs", "mars").returncode == 2
    assert run_cli("import", str(SAMPLE), "--out", str(tmp_path / "x.shp")).returncode == 2


@pytest.mark.parametrize("suffix", [".gpkg", ".csv"])
def test_cli_writes_gpkg_and_excel_safe_csv(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"sites{suffix}"
    assert run_cli("import", str(SAMPLE), "--crs", "gcj02", "--out", str(out)).returncode == 0
    if suffix == ".gpkg":
        table = gpd.read_file(out)
        assert set(HOSTILE) <= set(table["name"])
        assert table["site_id"].tolist()[0] == "001"
    else:
        raw = out.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        table = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
        assert "'" + HOSTILE[1] in set(table["name"])  # neutralised for Excel
        assert HOSTILE[0] in set(table["name"])
        # and servicenet reads its own export back exactly
        again = import_sites(out, crs="wgs84")
        assert set(HOSTILE) <= set(again.table["name"])


# ---------------------------------------------------------------- encodings and formats

HEADER_ZH = ["编号", "名称", "类型", "级别", "所属县区", "乡镇街道", "经度", "纬度", "状态", "容量"]
ROW_ZH = [
    "A01",
    "沙溪镇职工服务站",
    "职工服务站",
    "乡镇级",
    "三元区",
    "沙溪镇",
    "117.6",
    "26.2",
    "现有",
    "800",
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_encodings_detected(encoding: str) -> None:
    res = import_sites(csv_bytes([HEADER_ZH, ROW_ZH], encoding), name="x.csv", crs="wgs84")
    assert res.rows_imported == 1
    assert res.table.loc[0, "name"] == "沙溪镇职工服务站"
    expected = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "utf-16": "utf-16"}
    assert res.encoding == expected.get(encoding, "gb18030")


def test_encoding_override_and_undecodable() -> None:
    data = csv_bytes([HEADER_ZH, ROW_ZH], "gbk")
    assert import_sites(data, name="x.csv", encoding="gbk").encoding == "gbk"
    with pytest.raises(SiteImportError) as err:
        import_sites(data, name="x.csv", encoding="utf-8")
    assert "row 1" in err.value.message and "x.csv" in err.value.message
    with pytest.raises(SiteImportError, match="unknown encoding"):
        import_sites(data, name="x.csv", encoding="klingon")
    with pytest.raises(SiteImportError, match="neither UTF-8 nor GB18030"):
        import_sites(b"name,lon,lat\n\x80\xff\xfe\x81,1,2\n", name="x.csv")


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters_sniffed(delimiter: str) -> None:
    rows = [
        HEADER_ZH,
        ROW_ZH,
        ["A02", "某站，含逗号", "职工书屋", "", "", "", "117.5", "26.3", "", ""],
    ]
    res = import_sites(csv_bytes(rows, delimiter=delimiter), name="x.csv", crs="wgs84")
    assert res.rows_imported == 2
    assert res.table.loc[1, "name"] == "某站，含逗号"


def test_english_headers_with_stray_spaces_brackets_and_case() -> None:
    rows = [
        [
            " Site ID ",
            "NAME",
            "Kind",
            "level ",
            "County",
            "Township",
            "Lng (GCJ-02)",
            "Lat（GCJ-02）",
            "Status",
            "Capacity",
        ],
        [
            "7",
            "Station",
            "service_center",
            "township",
            "Sanyuan",
            "Shaxi",
            "117.6",
            "26.2",
            "existing",
            "1,000",
        ],
    ]
    res = import_sites(csv_bytes(rows), name="x.csv")
    assert res.rows_imported == 1
    assert res.crs == "gcj02"  # from the header note
    assert res.column_map["lon"] == "Lng (GCJ-02)"
    assert res.table.loc[0, "capacity"] == 1000
    assert any(i.code == "crs_from_header" for i in res.issues)


def test_fullwidth_digits_nfkc_and_text_kept_exactly() -> None:
    rows = [
        HEADER_ZH,
        [
            "Ａ０１",
            "  名称　前后有空格  ",
            "职工服务站",
            "乡镇级",
            "三元区",
            "沙溪镇",
            "１１７．６",
            "２６．２",
            "现有",
            "８００",
        ],
    ]
    res = import_sites(csv_bytes(rows), name="x.csv", crs="wgs84")
    row = res.table.iloc[0]
    assert (row["lon"], row["lat"], row["capacity"]) == (117.6, 26.2, 800.0)
    assert row["name"] == "  名称　前后有空格  "  # text as written
    assert row["site_id"] == "Ａ０１"


def test_xlsx_with_numbers_formulas_and_leading_zero_ids(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["说明：本表由高德坐标拾取"])  # a title row above the header is common
    ws.append([])
    ws.append(HEADER_ZH)
    ws.append(["007", "甲站", "职工服务站", "乡镇级", "三元区", "沙溪镇", 117.6, 26.2, "现有", 800])
    ws.append([12, "乙站", "职工书屋", "市级", "三元区", "沙溪镇", 117.61, 26.21, None, None])
    path = tmp_path / "sites.xlsx"
    book.save(path)
    res = import_sites(path, crs="wgs84")
    assert res.rows_imported == 2
    assert res.table["site_id"].tolist() == ["007", "12"]
    assert res.table["source_row"].tolist() == [4, 5]
    assert [(i.row, i.code) for i in res.issues if i.code == "preamble_row"] == [
        (1, "preamble_row")
    ]


def test_xlsx_plain(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(HEADER_ZH)
    ws.append(["007", "甲站", "职工服务站", "乡镇级", "三元区", "沙溪镇", 117.6, 26.2, "现有", 800])
    ws.append([])
    ws.append([12, "乙站", "职工书屋", "市级", "三元区", "沙溪镇", 117.61, 26.21, None, None])
    ws.append([13, HOSTILE[1], "职工书屋", "省级", "三元区", "沙溪镇", 117.62, 26.22, "在建", None])
    ws.append([14, HOSTILE[1], "职工书屋", "省级", "三元区", "沙溪镇", 117.63, 26.23, "在建", None])
    ws.cell(row=6, column=2).data_type = "s"  # typed as text in Excel: a string cell
    path = tmp_path / "sites.xlsx"
    book.save(path)
    res = import_sites(path, crs="wgs84")
    assert res.encoding == "xlsx"
    assert res.rows_read == 4 and res.rows_imported == 4
    t = res.table
    assert t["site_id"].tolist() == ["007", "12", "13", "14"]
    assert t["source_row"].tolist() == [2, 4, 5, 6]
    assert t.loc[3, "name"] == HOSTILE[1]
    assert [(i.row, i.code) for i in res.issues if i.code == "formula_as_text"] == [
        (5, "formula_as_text")
    ]
    assert t.loc[1, "grade"] == "city" and t.loc[1, "level"] == "community"
    assert t.loc[2, "name"] == HOSTILE[1] and t.loc[2, "status"] == "under_construction"
    assert [i.row for i in res.issues if i.code == "blank_row"] == [3]


def test_old_xls_and_broken_xlsx_refused(tmp_path: Path) -> None:
    with pytest.raises(SiteImportError, match="xls"):
        import_sites(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, name="a.xls")
    with pytest.raises(SiteImportError, match="XLSX"):
        import_sites(b"PK\x03\x04garbage", name="a.xlsx")


# ---------------------------------------------------------------- coordinates


def test_bd09_and_combined_lonlat_column() -> None:
    lon, lat = 117.6086, 26.2675
    blon, blat = (float(v) for v in wgs84_to_bd09(lon, lat))
    rows = [
        ["名称", "类型", "级别", "经纬度"],
        ["甲", "职工服务站", "乡镇级", f"{blon:.7f},{blat:.7f}"],
    ]
    res = import_sites(csv_bytes(rows), name="x.csv", crs="bd09")
    t = res.table
    assert metres(t["lon"], t["lat"], lon, lat)[0] < 0.05


def test_crs_assumed_is_reported() -> None:
    res = import_sites(csv_bytes([HEADER_ZH, ROW_ZH]), name="x.csv")
    assert res.crs == "wgs84"
    assert [i.code for i in res.issues if i.row == 1] == ["crs_assumed"]


@pytest.mark.parametrize(
    ("lon", "lat", "code"),
    [
        ("", "26.2", "missing_coordinate"),
        ("117.6", "", "missing_coordinate"),
        ("abc", "26.2", "bad_coordinate"),
        ("0", "0", "zero_coordinate"),
        ("200", "26", "out_of_range"),
        ("117.6", "95", "out_of_range"),
        ("13095523.6", "3038561.2", "projected_coordinate"),
    ],
)
def test_bad_coordinates_rejected(lon: str, lat: str, code: str) -> None:
    row = [*ROW_ZH[:6], lon, lat, *ROW_ZH[8:]]
    res = import_sites(csv_bytes([HEADER_ZH, ROW_ZH, row]), name="x.csv", crs="wgs84")
    assert res.rows_imported == 1 and res.rows_rejected == 1
    [issue] = [i for i in res.issues if i.severity == "error"]
    assert (issue.row, issue.code) == (3, code)


def test_swapped_pairs_fixed_and_reported() -> None:
    rows = [HEADER_ZH, ROW_ZH, [*ROW_ZH[:6], "26.2", "117.6", *ROW_ZH[8:]]]
    rows[2][0] = "A02"
    res = import_sites(csv_bytes(rows), name="x.csv", crs="wgs84")
    assert res.rows_imported == 2
    assert res.table.loc[1, "lon"] == 117.6
    assert [(i.row, i.code) for i in res.issues if i.code == "swapped_lonlat"] == [
        (3, "swapped_lonlat")
    ]


def test_swap_outside_china_by_majority() -> None:
    rows = [["name", "kind", "level", "lon", "lat"]]
    rows += [
        [f"L{i}", "reading_room", "community", f"{24.9 + i / 100}", f"{60.17 + i / 100}"]
        for i in range(6)
    ]
    rows.append(["swapped", "reading_room", "community", "60.2", "24.95"])
    res = import_sites(csv_bytes(rows), name="x.csv", crs="wgs84")
    assert res.table["lon"].max() < 25 and res.rows_imported == 7


# ---------------------------------------------------------------- vocabularies and rows


def test_kinds_levels_statuses_from_vocabulary() -> None:
    rows = [
        ["名称", "类型", "级别", "经度", "纬度", "状态"],
        ["a", "职工服务中心", "市级", "117.6", "26.2", "运行"],
        ["b", "职工文体中心", "园区级", "117.6", "26.2", "拟建"],
        ["c", "工人文化宫", "县区级", "117.6", "26.2", "在建"],
        ["d", "职工书屋", "国家级", "117.6", "26.2", "停用"],
        ["e", "职工服务站", "村级", "117.6", "26.2", "已建"],
        ["f", "职工服务站", "企业级", "117.6", "26.2", ""],
        ["三明市某某职工服务站", "", "街道级", "117.6", "26.2", "现有"],
    ]
    res = import_sites(csv_bytes(rows), name="x.csv", crs="wgs84")
    t = res.table
    assert t["kind"].tolist() == [
        "service_center",
        "cultural_center",
        "workers_palace",
        "reading_room",
        "service_center",
        "service_center",
        "service_center",
    ]
    assert t["level"].tolist() == [
        "city",
        "park",
        "county",
        "community",
        "community",
        "park",
        "township",
    ]
    assert t["status"].tolist() == [
        "existing",
        "planned",
        "under_construction",
        "closed",
        "existing",
        "existing",
        "existing",
    ]
    assert t.loc[3, "grade"] == "national"
    codes = {(i.row, i.code) for i in res.issues}
    assert (7, "status_defaulted") in codes and (8, "kind_inferred") in codes


def test_no_status_column_means_existing_and_says_so() -> None:
    rows = [
        ["名称", "类型", "级别", "经度", "纬度"],
        ["a", "职工服务站", "乡镇级", "117.6", "26.2"],
    ]
    res = import_sites(csv_bytes(rows), name="x.csv", crs="wgs84")
    assert res.table.loc[0, "status"] == "existing"
    assert any(i.code == "no_status_column" for i in res.issues)


def test_unknown_level_status_and_missing_level_rejected() -> None:
    rows = [
        ["名称", "类型", "级别", "经度", "纬度", "状态"],
        ["a", "职工服务站", "宇宙级", "117.6", "26.2", "现有"],
        ["b", "职工服务站", "乡镇级", "117.6", "26.2", "荒废"],
        ["c", "职工服务站", "", "117.6", "26.2", "现有"],
        ["d", "职工书屋", "", "117.6", "26.2", "现有"],
    ]
    res = import_sites(csv_bytes(rows), name="x.csv", crs="wgs84")
    errors = [(i.row, i.code) for i in res.issues if i.severity == "error"]
    assert errors == [(2, "unknown_level"), (3, "unknown_status"), (4, "missing_level")]
    assert res.table["name"].tolist() == ["d"]  # reading rooms default to community


def test_duplicates_blank_rows_extra_cells_and_generated_ids() -> None:
    text = (
        "编号,名称,类型,级别,经度,纬度\n"
        "1,a,职工服务站,乡镇级,117.6,26.2\n"
        "\n"
        "1,a,职工服务站,乡镇级,117.6,26.2\n"
        "1,b,职工服务站,乡镇级,117.7,26.2\n"
        ",c,职工服务站,乡镇级,117.8,26.2,多出来的\n"
        ",,,,,\n"
        '"2","多行\n名称",职工服务站,乡镇级,117.9,26.2\n'
        "3,e,职工服务站,乡镇级,117.9,26.3\n"
    )
    res = import_sites(text.encode(), name="x.csv", crs="wgs84")
    codes = [(i.row, i.code) for i in res.issues]
    assert (3, "blank_row") in codes and (7, "blank_row") in codes
    assert (4, "duplicate_row") in codes and (5, "duplicate_id") in codes
    assert (6, "extra_cells") in codes and (6, "missing_id") in codes
    t = res.table
    assert t["site_id"].is_unique
    assert t["source_row"].tolist() == [2, 6, 8, 10]  # multi-line cell: the row starts on line 8
    assert t.loc[2, "name"] == "多行\n名称"
    assert t.loc[1, "column_7"] == "多出来的"
    assert res.rows_read == 6 and res.rows_rejected == 2


def test_missing_required_columns_is_a_file_error() -> None:
    with pytest.raises(SiteImportError) as err:
        import_sites(csv_bytes([["名称", "地址"], ["a", "b"]]), name="s.csv")
    assert err.value.row == 1 and err.value.file == "s.csv"
    with pytest.raises(SiteImportError, match="no header"):
        import_sites(b"\n\n", name="s.csv")
    with pytest.raises(SiteImportError, match="several columns"):
        import_sites(
            csv_bytes([["名称", "经度", "经度", "纬度"], ["a", "1", "2", "3"]]), name="s.csv"
        )


def test_size_and_row_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    from geo import limits

    monkeypatch.setattr(limits, "MAX_ROWS", 3)
    rows = [HEADER_ZH] + [[f"{i}", *ROW_ZH[1:]] for i in range(5)]
    with pytest.raises(SiteImportError, match="more than 3 rows"):
        import_sites(csv_bytes(rows), name="big.csv")
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 100)
    with pytest.raises(SiteImportError, match="too large"):
        import_sites(csv_bytes(rows), name="big.csv")


def test_demand_import_weights() -> None:
    rows = [
        ["编号", "名称", "人数", "所属县区", "乡镇", "经度", "纬度"],
        ["D1", "沙溪镇", "3.2万", "三元区", "沙溪镇", "117.6", "26.2"],
        ["D2", "莘口镇", "", "三元区", "莘口镇", "117.5", "26.1"],
        ["D3", "岩前镇", "-5", "三元区", "岩前镇", "117.5", "26.1"],
        ["D4", "中村乡", "0", "三元区", "中村乡", "117.5", "26.1"],
    ]
    res = import_demand(csv_bytes(rows), name="d.csv", crs="wgs84")
    assert res.table["weight"].tolist() == [32000.0, 0.0]
    assert [(i.row, i.code) for i in res.issues if i.severity == "error"] == [
        (3, "missing_weight"),
        (4, "negative_number"),
    ]
    with pytest.raises(SiteImportError, match="weight"):
        import_demand(csv_bytes([["名称", "经度", "纬度"], ["a", "1", "2"]]), name="d.csv")


# ---------------------------------------------------------------- messy files found by a probe

HEAD = ["编号", "名称", "类型", "级别", "经度", "纬度", "状态"]


def site_rows(n: int, start: int = 1) -> list[list[str]]:
    return [
        [f"S{i:03d}", f"站点{i}", "职工服务站", "社区", f"{117.5 + i / 1000:.4f}", "26.2", "现有"]
        for i in range(start, start + n)
    ]


def codes(result, severity: str | None = None) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for i in result.issues:
        if severity is None or i.severity == severity:
            out.setdefault(i.row, set()).add(i.code)
    return out


def test_xlsx_with_a_wrong_stored_size_loses_no_row(tmp_path: Path) -> None:
    """Some tools store a wrong sheet size (<dimension ref="A1"/>); every row is still read."""
    import re
    import zipfile

    book = openpyxl.Workbook()
    ws = book.active
    ws.append(HEAD)
    for row in site_rows(40):
        ws.append(row)
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    stale = tmp_path / "stale.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(stale, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, n = re.subn(
                    rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1:G11"/>', data
                )
                assert n == 1
            dst.writestr(item, data)
    result = import_sites(stale)
    assert result.rows_imported == 40
    assert list(result.table["site_id"]) == [f"S{i:03d}" for i in range(1, 41)]


def test_xlsx_merged_cells_filled_and_reported_hidden_rows_reported(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["编号", "名称", "县区", "类型", "级别", "经度", "纬度", "状态"])
    for i in range(1, 9):
        ws.append(
            [
                f"S{i}",
                f"站{i}",
                "三元区" if i == 1 else None,
                "服务站",
                "社区",
                117.6,
                26.2,
                "现有" if i == 1 else ("规划" if i == 6 else None),
            ]
        )
    ws.merge_cells("C2:C6")  # county for rows 2-6
    ws.merge_cells("H2:H6")  # status 现有 for rows 2-6
    ws.merge_cells("H7:H9")  # status 规划 for rows 7-9
    ws.row_dimensions[4].hidden = True
    path = tmp_path / "merged.xlsx"
    book.save(path)
    result = import_sites(path)
    t = result.table.set_index("site_id")
    assert list(t.loc[["S1", "S2", "S3", "S4", "S5"], "county"]) == ["三元区"] * 5
    assert list(t["status"]) == ["existing"] * 5 + ["planned"] * 3
    found = codes(result, "warning")
    assert {"merged_cells"} <= found[2] and {"merged_cells"} <= found[7]
    assert "hidden_row" in found[4]


def test_unclosed_quote_rejects_the_swallowed_lines_by_number() -> None:
    lines = [",".join(HEAD)] + [",".join(r) for r in site_rows(12)]
    lines[5] = lines[5].replace("站点5", '"站点5')  # line 6 opens a quote that never closes
    result = import_sites("\n".join(lines).encode(), name="q.csv")
    errors = [i for i in result.issues if i.code == "unclosed_quote"]
    assert len(errors) == 1 and errors[0].row == 6
    assert "6–13" in errors[0].zh and "6-13" in errors[0].en
    assert result.rows_imported == 4  # lines 2-5; the rest is named in the error, not lost


def test_stray_quote_inside_a_cell_is_reported() -> None:
    rows = [HEAD, *site_rows(3)]
    text = "\n".join(",".join(r) for r in rows).replace("站点2", '"工人先锋号"站点2')
    result = import_sites(text.encode(), name="q.csv")
    assert "stray_quote" in codes(result, "warning")[3]
    assert result.rows_imported == 3


def test_header_only_file_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "h.csv"
    src.write_text(",".join(HEAD) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    proc = run_cli("import", str(src), "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    assert "no row could be imported" in proc.stderr
    assert not out.exists()


def test_header_crs_contradicting_the_option_is_refused() -> None:
    rows = [
        ["编号", "名称", "类型", "级别", "经度(百度)", "纬度(百度)"],
        ["1", "a", "服务站", "社区", "117.6", "26.2"],
    ]
    with pytest.raises(SiteImportError) as err:
        import_sites(csv_bytes(rows), name="b.csv", crs="gcj02")
    assert "bd09" in err.value.en and "gcj02" in err.value.en
    assert import_sites(csv_bytes(rows), name="b.csv", crs="bd09").crs == "bd09"


def test_crs_named_in_a_title_row_is_used() -> None:
    rows = [["三明市职工服务阵地台账"], ["坐标系：高德（GCJ-02）"], HEAD, *site_rows(3)]
    result = import_sites(csv_bytes(rows), name="t.csv")
    assert result.crs == "gcj02"
    assert "crs_from_title" in codes(result, "warning")[2]


@pytest.mark.parametrize(("lon", "lat"), [("0", "26.25"), ("117.6", "0")])
def test_a_single_zero_coordinate_is_a_blank(lon: str, lat: str) -> None:
    rows = [HEAD, ["1", "a", "服务站", "社区", lon, lat, "现有"]]
    result = import_sites(csv_bytes(rows), name="z.csv")
    assert "zero_coordinate" in codes(result, "error")[2]


def test_typos_far_from_the_rest_and_outside_china_are_flagged() -> None:
    rows = [HEAD, *site_rows(20)]
    rows.append(["X1", "北京误录", "服务站", "社区", "116.397", "39.909", "现有"])
    rows.append(["X2", "经度少一位", "服务站", "社区", "11.7618", "26.2513", "现有"])
    result = import_sites(csv_bytes(rows), name="far.csv")
    found = codes(result, "warning")
    assert "far_from_others" in found[22]
    assert {"far_from_others", "outside_china_wgs"} <= found[23]
    assert not any("far_from_others" in found.get(r, set()) for r in range(2, 22))
    assert result.rows_imported == 22  # flagged, not dropped


def test_kind_read_from_a_word_is_flagged_and_two_kinds_are_refused() -> None:
    rows = [
        HEAD,
        ["1", "a", "户外劳动者服务站点", "社区", "117.6", "26.2", "现有"],
        ["2", "b", "职工服务站、职工书屋", "社区", "117.6", "26.2", "现有"],
        ["3", "c", "社区卫生服务站", "社区", "117.6", "26.2", "现有"],
        ["4", "d", "服务站", "社区", "117.6", "26.2", "已建成"],
        ["5", "e", "服务站", "镇级", "117.6", "26.2", "筹建"],
    ]
    result = import_sites(csv_bytes(rows), name="k.csv")
    t = result.table.set_index("site_id")
    assert t.loc["1", "kind"] == "service_center"
    assert "kind_from_text" in codes(result, "warning")[2]
    assert "ambiguous_kind" in codes(result, "error")[3]
    assert t.loc["3", "kind"] == "clinic"
    assert (t.loc["4", "status"], t.loc["5", "status"], t.loc["5", "level"]) == (
        "existing",
        "planned",
        "township",
    )


def test_messages_list_chinese_words_in_the_chinese_half() -> None:
    rows = [HEAD, ["1", "a", "服务站", "社区", "117.6", "26.2", "没听说过"]]
    issue = next(
        i for i in import_sites(csv_bytes(rows), name="s.csv").issues if i.code == "unknown_status"
    )
    assert "现有、规划、在建、停用" in issue.zh and "existing" not in issue.zh
    assert "existing" in issue.en


@pytest.mark.parametrize(
    "header",
    [
        ("高德经度", "高德纬度"),
        ("百度经度", "百度纬度"),
        ("X坐标", "Y坐标"),
        ("东经", "北纬"),
        ("*经度", "*纬度"),
    ],
)
def test_common_coordinate_headers(header: tuple[str, str]) -> None:
    rows = [
        ["*编号", "*名称", "*类型", "级别", *header],
        ["1", "a", "服务站", "社区", "117.6", "26.2"],
    ]
    result = import_sites(csv_bytes(rows), name="h.csv")
    assert result.rows_imported == 1
    expected = {"高": "gcj02", "百": "bd09"}.get(header[0][0], "wgs84")
    assert result.crs == expected
    assert result.table.loc[0, "name"] == "a" and result.table.loc[0, "kind"] == "service_center"


def test_status_and_county_headers_and_unrecognised_columns_shown(tmp_path: Path) -> None:
    rows = [
        ["编号", "名称", "类型", "级别", "所在县区", "建设情况", "经度", "纬度", "联系人"],
        ["1", "a", "服务站", "社区", "三元区", "在建", "117.6", "26.2", "张三"],
    ]
    result = import_sites(csv_bytes(rows), name="s.csv")
    assert result.table.loc[0, "status"] == "under_construction"
    assert result.table.loc[0, "county"] == "三元区"
    assert result.extra_columns == ("联系人",)
    src = tmp_path / "s.csv"
    src.write_bytes(csv_bytes(rows))
    proc = run_cli("import", str(src))
    assert proc.returncode == 0 and "联系人" in proc.stderr


def test_totals_and_signature_rows_are_skipped_not_rejected() -> None:
    rows = [
        HEAD,
        *site_rows(3),
        ["合计", "3 个", "", "", "", "", ""],
        ["填表人：张三", "", "", "", "", "", ""],
    ]
    result = import_sites(csv_bytes(rows), name="t.csv")
    assert result.rows_imported == 3 and result.rows_rejected == 0
    assert {r for r, c in codes(result, "warning").items() if "summary_row" in c} == {5, 6}


def test_data_on_a_later_worksheet_is_found_and_named(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "填表说明"
    notes.append(["请按下表填写，经纬度用高德坐标"])
    data = book.create_sheet("站点清单")
    data.append(HEAD)
    for row in site_rows(3):
        data.append(row)
    path = tmp_path / "two.xlsx"
    book.save(path)
    result = import_sites(path)
    assert result.rows_imported == 3 and result.sheet == "站点清单"
    assert any(i.code == "sheet_chosen" for i in result.issues)
    with pytest.raises(SiteImportError):
        import_sites(path, sheet="填表说明")


def test_ambiguous_columns_are_named_by_letter() -> None:
    rows = [
        ["编号", "名称", "名称", "类型", "级别", "经度", "纬度"],
        ["1", "a", "b", "服务站", "社区", "117.6", "26.2"],
    ]
    with pytest.raises(SiteImportError) as err:
        import_sites(csv_bytes(rows), name="d.csv")
    assert "(B)" in err.value.en and "(C)" in err.value.en


def test_mixed_encodings_name_the_line() -> None:
    data = (
        ",".join(HEAD).encode("utf-8")
        + b"\n"
        + "1,三明,服务站,社区,117.6,26.2,现有\n".encode("gbk")
    )
    data = "\n".join([",".join(HEAD), "1,三明,服务站,社区,117.6,26.2,现有"]).encode() + b"\n"
    data += "2,沙县,服务站,社区,117.7,26.3,现有\n".encode("gbk")
    with pytest.raises(SiteImportError) as err:
        import_sites(data, name="m.csv")
    assert "line 3" in err.value.en


def test_readme_lists_every_row_issue_code() -> None:
    """Each code a row issue can carry is documented in the README (and nothing else)."""
    import re

    from geo.tables import MESSAGES

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = text[text.index("Issue codes:") : text.index("`demo` loads")]
    documented = set(re.findall(r"`([a-z_]+)`", listed))
    file_level = {"missing_column", "ambiguous_column", "crs_conflict"}  # raised, not row issues
    assert documented == set(MESSAGES) - file_level


def test_chinese_messages_name_kinds_and_levels_in_chinese() -> None:
    result = import_sites(SAMPLE)
    defaulted = [i for i in result.issues if i.code in ("level_defaulted", "level_was_grade")]
    assert defaulted and all("社区级" in i.zh and "community" not in i.zh for i in defaulted)
    rows = [HEAD, ["1", "三元区户外职工之家", "", "社区", "117.6", "26.2", "现有"]]
    inferred = next(
        i for i in import_sites(csv_bytes(rows), name="n.csv").issues if i.code == "kind_inferred"
    )
    assert "职工服务中心" in inferred.zh and "service_center" in inferred.en


def test_a_reading_room_level_that_is_a_grade_says_so() -> None:
    rows = [HEAD, ["1", "a", "职工书屋", "省级", "117.6", "26.2", "现有"]]
    result = import_sites(csv_bytes(rows), name="g.csv")
    assert (
        result.table.loc[0, "grade"] == "provincial" and result.table.loc[0, "level"] == "community"
    )
    issue = next(i for i in result.issues if i.row == 2 and i.column == "级别")
    assert issue.code == "level_was_grade" and "省级" in issue.zh and "未填" not in issue.zh


def _sheet(rows: list[str]) -> bytes:
    return ("名称,类型,级别,经度,纬度\n" + "\n".join(rows) + "\n").encode("utf-8")


def test_a_row_without_id_repeating_an_earlier_one_is_rejected_naming_it() -> None:
    rows = [
        f"镇{i}职工服务站,职工服务站,乡镇级,{117.0 + i * 0.01:.6f},26.200000" for i in range(30)
    ]
    rows[23] = rows[5]  # line 25 repeats line 7 exactly
    # a few metres away with the same name, kind and level: the same site typed again
    rows.append("镇9职工服务站,职工服务站,乡镇级,117.090030,26.200020")
    # same place, another kind: two sites in one building, both kept
    rows.append("镇9职工服务站,职工书屋,社区级,117.090000,26.200000")
    res = import_sites(_sheet(rows), name="x.csv", crs="wgs84")
    found = {(i.row, i.code) for i in res.issues}
    assert (25, "duplicate_site") in found and (32, "duplicate_site") in found
    dup = next(i for i in res.issues if i.row == 25)
    assert "第 7 行" in dup.zh and "row 7" in dup.en and dup.severity == "error"
    assert len(res.table) == 30  # 32 rows, 2 repeats
    # one line for the generated ids, after the errors
    generated = [i for i in res.issues if i.code in ("missing_id", "missing_ids")]
    assert [i.code for i in generated] == ["missing_ids"] and "30" in generated[0].zh
    severities = [i.severity for i in res.issues]
    assert severities == sorted(severities, key=lambda s: s != "error")
    assert res.table["site_id"].is_unique


def test_rows_with_ids_are_not_merged_by_content() -> None:
    text = "编号,名称,类型,级别,经度,纬度\nA,站,职工服务站,乡镇级,117.1,26.2\nB,站,职工服务站,乡镇级,117.1,26.2\n"
    res = import_sites(text.encode(), name="x.csv", crs="wgs84")
    assert len(res.table) == 2


@pytest.mark.parametrize(
    ("lon", "how", "size"),
    [
        ("东经117度", "整度", "50 km"),  # ±0.5° of longitude at 26.2° N
        ("117°38′", "整分", "832 m"),
        ("117.6", "1 位小数", "5.0 km"),
        ("117.63", "2 位小数", "499 m"),
    ],
)
def test_coarse_coordinates_are_warned_with_the_size_of_the_uncertainty(
    lon: str, how: str, size: str
) -> None:
    res = import_sites(
        _sheet([f"甲站,职工服务站,乡镇级,{lon},26.201234"]), name="x.csv", crs="wgs84"
    )
    coarse = [i for i in res.issues if i.code == "coarse_coordinate"]
    assert len(coarse) == 1 and coarse[0].column == "经度" and coarse[0].severity == "warning"
    assert how in coarse[0].zh and f"±{size}" in coarse[0].zh, coarse[0].zh
    assert len(res.table) == 1  # kept, only warned


def test_coordinates_of_three_decimals_or_seconds_are_not_coarse() -> None:
    rows = ["甲站,职工服务站,乡镇级,117.634,26.201", "乙站,职工服务站,乡镇级,117°38′12″,26°12′5″"]
    res = import_sites(_sheet(rows), name="x.csv", crs="wgs84")
    assert not [i for i in res.issues if i.code == "coarse_coordinate"]
    # the latitude alone coarse: named as the column
    res = import_sites(_sheet(["甲站,职工服务站,乡镇级,117.634567,26"]), name="x.csv", crs="wgs84")
    (coarse,) = [i for i in res.issues if i.code == "coarse_coordinate"]
    assert coarse.column == "纬度" and "±56 km" in coarse.zh


def test_the_file_name_suggests_the_coordinate_system() -> None:
    res = import_sites(SAMPLE)  # sites_gbk_gcj02.csv, no hint in the header
    assert res.crs == "gcj02"
    assert any(i.code == "crs_from_name" and "sites_gbk_gcj02.csv" in i.zh for i in res.issues)
    plain = import_sites(SAMPLE.read_bytes(), name="sites.csv")
    assert plain.crs == "wgs84" and any(i.code == "crs_assumed" for i in plain.issues)
    # a declared system wins over the name
    assert import_sites(SAMPLE, crs="wgs84").crs == "wgs84"
