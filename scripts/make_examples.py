"""Write the messy sample import file and its ground truth.

``data/examples/sites_gbk_gcj02.csv`` is what a planner copying positions from
Amap into Excel produces: GBK text, Chinese headers, GCJ-02 coordinates, and
the usual mistakes. ``tests/data/sites_gbk_gcj02_truth.csv`` holds the true
WGS-84 positions (chosen first; the GCJ-02 values are derived from them) and
which rows must be rejected.

Run: ``uv run python scripts/make_examples.py``
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from geo.coords import wgs84_to_gcj02

ROOT = Path(__file__).resolve().parent.parent

# site_id, name, kind, level, county, township, true lon, true lat, status, capacity, fault
ROWS = [
    (
        "001",
        "三元区职工服务中心",
        "职工服务中心",
        "县级",
        "三元区",
        "列东街道",
        117.6086,
        26.2675,
        "现有",
        "2000",
        "",
    ),
    (
        "002",
        "沙县区职工服务中心",
        "职工服务中心",
        "县级",
        "沙县区",
        "凤岗街道",
        117.7927,
        26.3973,
        "运行",
        "１８００",
        "fullwidth",
    ),
    (
        "003",
        "永安市燕西街道职工服务站",
        "职工服务站",
        "街道级",
        "永安市",
        "燕西街道",
        117.3650,
        25.9420,
        "已建",
        "800人",
        "",
    ),
    (
        "004",
        "<img src=x onerror=alert(1)>",
        "职工服务站",
        "乡镇级",
        "明溪县",
        "雪峰镇",
        117.2020,
        26.3560,
        "现有",
        "600",
        "hostile",
    ),
    (
        "005",
        '=HYPERLINK("http://example.com","点我")',
        "职工书屋",
        "省级",
        "将乐县",
        "古镛镇",
        117.4730,
        26.7280,
        "",
        "100",
        "hostile",
    ),
    (
        "006",
        "清流县职工文体中心",
        "职工文体中心",
        "园区级",
        "清流县",
        "龙津镇",
        116.8160,
        26.1770,
        "在建",
        "1,200",
        "",
    ),
    (
        "007",
        "泰宁县杉城镇职工服务站",
        "职工服务站",
        "乡镇级",
        "泰宁县",
        "杉城镇",
        117.1750,
        26.9000,
        "规划",
        "",
        "swapped",
    ),
    (
        "008",
        "建宁县濉溪镇职工服务站",
        "职工服务站",
        "乡镇级",
        "建宁县",
        "濉溪镇",
        116.8460,
        26.8310,
        "现有",
        "500",
        "missing_lat",
    ),
    (
        "009",
        "宁化县翠江镇职工服务站",
        "职工服务站",
        "乡镇级",
        "宁化县",
        "翠江镇",
        116.6540,
        26.2610,
        "现有",
        "500",
        "out_of_range",
    ),
    (
        "003",
        "永安市重复编号职工服务站",
        "职工服务站",
        "街道级",
        "永安市",
        "燕东街道",
        117.3700,
        25.9700,
        "现有",
        "500",
        "duplicate_id",
    ),
    (
        "010",
        "尤溪县城关镇职工体育馆",
        "体育馆",
        "乡镇级",
        "尤溪县",
        "城关镇",
        118.1900,
        26.1700,
        "现有",
        "300",
        "unknown_kind",
    ),
    (
        "011",
        "大田县均溪镇职工书屋",
        "职工书屋",
        "国家级",
        "大田县",
        "均溪镇",
        117.8470,
        25.6920,
        "现有",
        "80",
        "",
    ),
    (
        "012",
        "梅列区列西社区职工服务站",
        "职工服务站",
        "社区级",
        "三元区",
        "列西街道",
        117.5960,
        26.2710,
        "现有",
        "300",
        "",
    ),
]

BAD = {"missing_lat", "out_of_range", "duplicate_id", "unknown_kind"}


def main() -> None:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(
        ["编号", "名称", "类型", "级别", "所属县区", "乡镇街道", "经度", "纬度", "状态", "容量"]
    )
    truth = io.StringIO()
    twriter = csv.writer(truth, lineterminator="\n")
    twriter.writerow(["line", "site_id", "lon", "lat", "expect", "fault"])
    for line, (sid, name, kind, level, county, town, lon, lat, status, cap, fault) in enumerate(
        ROWS, start=2
    ):
        glon, glat = (float(v) for v in wgs84_to_gcj02(lon, lat))
        lon_s, lat_s = f"{glon:.6f}", f"{glat:.6f}"
        if fault == "fullwidth":
            table = str.maketrans("0123456789.", "０１２３４５６７８９．")
            lon_s = lon_s.translate(table)
        elif fault == "swapped":
            lon_s, lat_s = lat_s, lon_s
        elif fault == "missing_lat":
            lat_s = ""
        elif fault == "out_of_range":
            lat_s = "262.61"
        writer.writerow([sid, name, kind, level, county, town, lon_s, lat_s, status, cap])
        expect = "rejected" if fault in BAD else "imported"
        twriter.writerow([line, sid, f"{lon:.6f}", f"{lat:.6f}", expect, fault])
    (ROOT / "data/examples/sites_gbk_gcj02.csv").write_bytes(text.getvalue().encode("gbk"))
    (ROOT / "tests/data/sites_gbk_gcj02_truth.csv").write_text(truth.getvalue(), encoding="utf-8")


if __name__ == "__main__":
    main()
