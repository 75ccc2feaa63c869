"""The embedded Sanming demo data in data/sanming/ (built by scripts/build_sanming.py).

Reads the committed files only; no network.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "sanming"
REFERENCE = Path(__file__).parents[1].parent / "shared/data/sanming/townships_reference.csv"

LON_MIN, LON_MAX, LAT_MIN, LAT_MAX = 116.3, 118.7, 25.5, 27.1
CENSUS_2020_TOTAL = 2_486_450

TOWNSHIP_COLUMNS = [
    "town_code",
    "town",
    "kind",
    "county_code",
    "county",
    "county_pre2021",
    "lon",
    "lat",
    "position_source",
]
DEMAND_COLUMNS = ["demand_id", "name", "weight", "county", "township", "lon", "lat"]
SITE_COLUMNS = [
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
    "grade",
    "placement",
]

COUNTIES_2021 = {
    "350404": "三元区",
    "350405": "沙县区",
    "350421": "明溪县",
    "350423": "清流县",
    "350424": "宁化县",
    "350425": "大田县",
    "350426": "尤溪县",
    "350428": "将乐县",
    "350429": "泰宁县",
    "350430": "建宁县",
    "350481": "永安市",
}
COUNTIES_PRE2021 = {
    "梅列区",
    "三元区",
    "永安市",
    "明溪县",
    "清流县",
    "宁化县",
    "大田县",
    "尤溪县",
    "沙县",
    "将乐县",
    "泰宁县",
    "建宁县",
}
MATCHED_SOURCES = {"geonames_exact_pinyin", "geonames_county_pinyin"}
POSITION_SOURCES = {*MATCHED_SOURCES, "fallback_county_seat"}

# (kind, level, status) -> count, from the union's source document.
SITE_COUNTS = {
    ("service_center", "city", "existing"): 1,
    ("service_center", "county", "existing"): 12,
    ("service_center", "township", "existing"): 51,
    ("service_center", "park", "existing"): 12,
    ("service_center", "community", "existing"): 11,
    ("cultural_center", "park", "existing"): 10,
    ("cultural_center", "park", "under_construction"): 2,
    ("reading_room", "community", "existing"): 194,
}


def read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    path = DATA / name
    raw = path.read_bytes()
    assert b"\r" not in raw, f"{name} must use LF line endings"
    text = raw.decode("utf-8")
    reader = csv.DictReader(text.splitlines())
    rows = list(reader)
    return list(reader.fieldnames or []), rows


@pytest.fixture(scope="module")
def townships() -> list[dict[str, str]]:
    header, rows = read("townships.csv")
    assert header == TOWNSHIP_COLUMNS
    return rows


@pytest.fixture(scope="module")
def demand() -> list[dict[str, str]]:
    header, rows = read("demand.csv")
    assert header == DEMAND_COLUMNS
    return rows


@pytest.fixture(scope="module")
def sites() -> list[dict[str, str]]:
    header, rows = read("sites.csv")
    assert header == SITE_COLUMNS
    return rows


def inside_sanming(row: dict[str, str]) -> bool:
    lon, lat = float(row["lon"]), float(row["lat"])
    return LON_MIN <= lon <= LON_MAX and LAT_MIN <= lat <= LAT_MAX


def test_townships_codes_and_counties(townships: list[dict[str, str]]) -> None:
    assert len(townships) == 148
    codes = [r["town_code"] for r in townships]
    assert len(set(codes)) == 148
    assert all(len(c) == 9 and c.isdigit() and c.startswith("3504") for c in codes)
    assert codes == sorted(codes)
    assert all(r["town_code"].startswith(r["county_code"]) for r in townships)
    assert {r["county_code"]: r["county"] for r in townships} == COUNTIES_2021
    assert {r["county_pre2021"] for r in townships} == COUNTIES_PRE2021
    meilie = {r["town"] for r in townships if r["county_pre2021"] == "梅列区"}
    assert meilie == {"列东街道", "列西街道", "徐碧街道", "陈大镇", "洋溪镇"}
    assert all(r["county"] == "三元区" for r in townships if r["county_pre2021"] == "梅列区")
    assert Counter(r["kind"] for r in townships) == {"镇": 78, "乡": 50, "街道": 13, "other": 7}


def test_township_positions(townships: list[dict[str, str]]) -> None:
    assert all(r["position_source"] in POSITION_SOURCES for r in townships)
    assert all(inside_sanming(r) for r in townships)
    points = {(r["lon"], r["lat"]) for r in townships}
    assert len(points) == 148, "no two townships share a position"


def test_demand(demand: list[dict[str, str]], townships: list[dict[str, str]]) -> None:
    assert len(demand) == 148
    ids = [r["demand_id"] for r in demand]
    assert ids == [f"D{r['town_code']}" for r in townships]
    weights = [r["weight"] for r in demand]
    assert all(w.isdigit() and int(w) > 0 for w in weights)
    assert sum(int(w) for w in weights) == CENSUS_2020_TOTAL
    for d, t in zip(demand, townships, strict=True):
        assert (d["township"], d["county"], d["lon"], d["lat"]) == (
            t["town"],
            t["county"],
            t["lon"],
            t["lat"],
        )
    assert all(inside_sanming(r) for r in demand)


def test_site_counts(sites: list[dict[str, str]]) -> None:
    assert Counter((r["kind"], r["level"], r["status"]) for r in sites) == SITE_COUNTS
    rooms = [r for r in sites if r["kind"] == "reading_room"]
    assert Counter(r["grade"] for r in rooms) == {"national": 21, "provincial": 49, "city": 124}
    assert all(r["grade"] == "" for r in sites if r["kind"] != "reading_room")
    cultural = {r["name"]: r["status"] for r in sites if r["kind"] == "cultural_center"}
    for park in ("沙县金沙园", "永安埔岭汽车工业园", "清流经济开发区"):
        assert cultural[f"{park}职工文体中心"] == "existing"
    for park in ("将乐经济开发区", "三明生态工贸区"):
        assert cultural[f"{park}职工文体中心"] == "under_construction"
    county_centres = {r["name"] for r in sites if r["level"] == "county"}
    assert county_centres == {f"{c}职工服务中心" for c in COUNTIES_PRE2021}


def test_site_fields(sites: list[dict[str, str]], townships: list[dict[str, str]]) -> None:
    ids = [r["site_id"] for r in sites]
    assert len(set(ids)) == len(ids)
    assert ids == [f"S{i:04d}" for i in range(1, len(ids) + 1)]
    assert {r["kind"] for r in sites} <= {
        "service_center",
        "cultural_center",
        "reading_room",
        "workers_palace",
    }
    assert {r["level"] for r in sites} <= {"city", "county", "township", "community", "park"}
    assert {r["status"] for r in sites} <= {"existing", "planned", "under_construction", "closed"}
    assert {r["grade"] for r in sites} <= {"national", "provincial", "city", ""}
    assert all(r["capacity"].isdigit() and int(r["capacity"]) > 0 for r in sites)
    assert all(r["placement"] for r in sites)
    known = {(t["county"], t["town"]) for t in townships}
    assert all((r["county"], r["township"]) in known for r in sites)
    assert all(inside_sanming(r) for r in sites)
    assert len({(r["lon"], r["lat"]) for r in sites}) == len(sites), "sites must not coincide"


def test_files_are_utf8_lf() -> None:
    for name in ("townships.csv", "demand.csv", "sites.csv", "README.md"):
        raw = (DATA / name).read_bytes()
        raw.decode("utf-8")
        assert b"\r\n" not in raw
        assert raw.endswith(b"\n")


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def test_townships_agree_with_reference(townships: list[dict[str, str]]) -> None:
    if not REFERENCE.exists():
        pytest.skip("../shared/data is absent: reference Sanming township file not available")
    with REFERENCE.open(encoding="utf-8", newline="") as fh:
        ref = {r["town_code"]: r for r in csv.DictReader(fh)}
    mine = {r["town_code"]: r for r in townships}
    assert set(mine) == set(ref)
    for code, r in ref.items():
        assert mine[code]["town"] == r["town"]
        assert mine[code]["county_code"] == r["county_code_nbs2021"]
        assert mine[code]["county"] == r["county"]
    ref_matched = {c for c, r in ref.items() if r["lat"] and r["lon"]}
    ours_matched = {c for c, r in mine.items() if r["position_source"] in MATCHED_SOURCES}
    for code in ref_matched & ours_matched:
        r, m = ref[code], mine[code]
        d = distance_m(float(r["lon"]), float(r["lat"]), float(m["lon"]), float(m["lat"]))
        assert d <= 10.0, f"{code} {r['town']} is {d:.0f} m from the reference"
    # The reference has 111 GeoNames matches; this build must not lose more than a few.
    assert len(ref_matched) == 111
    assert len(ours_matched) >= 111 - 3
    assert len(ref_matched - ours_matched) <= 3
