"""Scenarios: named sets of changes to the base network, applied on demand and compared.

A scenario is stored as its changes, not as a copy of the data. Changes:

* ``add_site`` — payload: a site record (``site_id, name, kind, level, lon,
  lat`` [, ``status`` (default planned), ``capacity``, ``county``, ``township``]);
* ``move_site`` — ``site_id, lon, lat``;
* ``close_site`` — ``site_id`` (status becomes closed; the row is kept);
* ``set_status`` — ``site_id, status``;
* ``set_capacity`` — ``site_id, capacity``;
* ``set_standard`` — ``kind, level`` and any of ``mode, max_minutes,
  target_share, higher_levels_count`` (a new standard when none matches).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from geo.bounds import CAPACITY, LAT, LON, MINUTES, Bound, check_value
from geo.errors import InputError
from geo.project import CHANGE_COLUMNS, SCENARIO_COLUMNS, Project
from planning.coverage.analysis import Analysis, build_networks, run_analysis
from planning.coverage.compute import CoverageOptions
from planning.coverage.standards import Standard, parse_standards

OPS = ("add_site", "move_site", "close_site", "set_status", "set_capacity", "set_standard")
STATUSES = ("existing", "planned", "under_construction", "closed")


@dataclass(frozen=True)
class Change:
    """One change of a scenario."""

    op: str
    payload: dict[str, Any]

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise InputError(f"未知的修改类型 {self.op}", f"unknown change {self.op!r} (use {OPS})")


#: a change list larger than this is not a plan someone typed or a tool wrote
MAX_CHANGES_BYTES = 10 * 1024 * 1024
_SCALARS = (str, int, float, bool, type(None))


def check_change(change: Change, *, file: str | None = None, row: int | None = None) -> Change:
    """The change with its numbers checked and made floats, or a refusal naming the field.

    Every payload value must be one value (no list or object); ``lon``/``lat``
    must be finite degrees in range, ``capacity`` empty or within
    ``geo.bounds.CAPACITY``, ``max_minutes`` within ``geo.bounds.MINUTES``
    (see README, "Accepted numbers"). ``file`` and ``row`` (the change's
    number) go into the message.
    """
    p = dict(change.payload)
    for key, value in p.items():
        if not isinstance(value, _SCALARS):
            raise InputError(
                f"修改 {change.op} 的字段 {key} 须为单个值",
                f"change {change.op}: field {key!r} must be a single value, not a list or object",
                file=file,
                row=row,
                column=str(key),
            )
    numbers: tuple[tuple[str, Bound], ...] = ()
    if change.op in ("add_site", "move_site"):
        numbers = (("lon", LON), ("lat", LAT))
    if change.op in ("add_site", "set_capacity") and p.get("capacity") is not None:
        numbers = (*numbers, ("capacity", CAPACITY))
    if change.op == "set_standard" and p.get("max_minutes") is not None:
        numbers = (("max_minutes", MINUTES),)
    for key, bound in numbers:
        if p.get(key) in (None, ""):
            if key == "capacity":
                p[key] = None  # a capacity left empty: not given
            continue  # a missing required field is reported by _require
        p[key] = check_value(p[key], bound, file=file, row=row, column=key)
    return Change(change.op, p)


def read_changes(path: str | Path) -> list[Change]:
    """A change list from a JSON file: ``[{"op": ..., ...}, ...]``, every change checked.

    Raises
    ------
    InputError
        Naming the file (and the change and field) when the file is too large,
        not UTF-8 JSON, nested (a change is one flat object), or a change is
        unknown or holds a number out of bounds.
    """
    source = str(path)
    with Path(path).open("rb") as fh:
        data = fh.read(MAX_CHANGES_BYTES + 1)
    if len(data) > MAX_CHANGES_BYTES:
        raise InputError(
            f"修改清单超过 {MAX_CHANGES_BYTES // 2**20} MB",
            f"the change list is larger than {MAX_CHANGES_BYTES // 2**20} MB",
            file=source,
        )
    try:
        raw = json.loads(data.decode("utf-8-sig"))
    # ValueError: also an integer of more than 4,300 digits
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(
            f"无法读取修改清单：{exc}", f"cannot read the changes: {exc}", file=source
        ) from None
    except RecursionError:
        raise InputError(
            "修改清单嵌套过深；应为 [{...}, ...] 的平铺列表",
            'the changes are nested too deeply; expected a flat list [{"op": ...}, ...]',
            file=source,
        ) from None
    if not isinstance(raw, list) or not all(isinstance(c, dict) and "op" in c for c in raw):
        raise InputError(
            '修改清单须为 [{"op": ..., ...}] 列表',
            'changes must be a list of {"op": ...}',
            file=source,
        )
    out = []
    for n, item in enumerate(raw, 1):
        try:
            change = Change(str(item["op"]), {k: v for k, v in item.items() if k != "op"})
        except InputError as exc:
            raise InputError(exc.zh, exc.en, file=source, row=n, column="op") from None
        out.append(check_change(change, file=source, row=n))
    return out


def _require(payload: dict[str, Any], *keys: str) -> None:
    missing = [k for k in keys if payload.get(k) in (None, "")]
    if missing:
        raise InputError(f"修改缺少字段：{missing}", f"change lacks fields: {missing}")


def _site_index(sites: pd.DataFrame, site_id: Any) -> int:
    hits = np.flatnonzero(sites["site_id"].astype(str).to_numpy() == str(site_id))
    if not len(hits):
        raise InputError(f"没有编号为 {site_id} 的站点", f"no site with id {site_id!r}")
    return int(hits[0])


_VOCABULARY_WORDS = {"kinds": ("站点类型", "site kind"), "levels": ("级别", "level")}


def _vocabulary_code(table: str, value: object, number: int) -> str:
    """The canonical code of a kind or level an added site names (a site of a kind no
    standard knows was kept and silently counted nowhere)."""
    from geo.vocab import load_vocabulary

    vocab = load_vocabulary()
    code = vocab.lookup(table, str(value))
    if code is None:
        zh, en = _VOCABULARY_WORDS[table]
        known = ", ".join(vocab.known(table))
        raise InputError(
            f"未知的{zh} {value}（可用：{known}）",
            f"unknown {en} {value!r} (use {known})",
            row=number,
            column=table[:-1],
        )
    return code


def apply_changes(
    sites: gpd.GeoDataFrame, standards: tuple[Standard, ...], changes: list[Change]
) -> tuple[gpd.GeoDataFrame, tuple[Standard, ...]]:
    """The network and standards after the changes, in order (inputs are not modified).

    Each change is checked first (:func:`check_change`, its 1-based number as
    the row of a refusal), so no NaN, infinity or out-of-range number reaches
    an analysis, whoever made the change (a file, the app).
    """
    out = pd.DataFrame(sites.drop(columns="geometry", errors="ignore")).copy()
    stds = [s.as_dict() for s in standards]
    for number, given in enumerate(changes, 1):
        change = check_change(given, row=number)
        p = change.payload
        if change.op == "add_site":
            _require(p, "site_id", "kind", "level", "lon", "lat")
            if str(p["site_id"]) in set(out["site_id"].astype(str)):
                raise InputError(
                    f"站点编号 {p['site_id']} 已存在", f"site id {p['site_id']!r} exists"
                )
            row = {"status": "planned", **p}
            row["kind"] = _vocabulary_code("kinds", p["kind"], number)
            row["level"] = _vocabulary_code("levels", p["level"], number)
            if row["status"] not in STATUSES:
                raise InputError(f"未知状态 {row['status']}", f"unknown status {row['status']!r}")
            out = pd.concat([out, pd.DataFrame([row])], ignore_index=True)
        elif change.op == "move_site":
            _require(p, "site_id", "lon", "lat")
            i = _site_index(out, p["site_id"])
            out.loc[i, ["lon", "lat"]] = [float(p["lon"]), float(p["lat"])]
        elif change.op == "close_site":
            _require(p, "site_id")
            out.loc[_site_index(out, p["site_id"]), "status"] = "closed"
        elif change.op == "set_status":
            _require(p, "site_id", "status")
            if p["status"] not in STATUSES:
                raise InputError(f"未知状态 {p['status']}", f"unknown status {p['status']!r}")
            out.loc[_site_index(out, p["site_id"]), "status"] = p["status"]
        elif change.op == "set_capacity":
            _require(p, "site_id")
            out.loc[_site_index(out, p["site_id"]), "capacity"] = (
                None if p.get("capacity") is None else float(p["capacity"])
            )
        else:  # set_standard
            _require(p, "kind", "level")
            match = [s for s in stds if (s["kind"], s["level"]) == (p["kind"], p["level"])]
            if match:
                match[0].update({k: v for k, v in p.items() if k in match[0]})
            else:
                stds.append(p)
    new_standards = parse_standards({"standard": stds}, source="scenario") if stds else ()
    frame = gpd.GeoDataFrame(
        out,
        geometry=gpd.points_from_xy(out["lon"].astype(float), out["lat"].astype(float)),
        crs=4326,
    )
    return frame, new_standards


def scenario_changes(project: Project, name: str) -> list[Change]:
    """The changes of one scenario of a project, in order."""
    known = set(project.scenarios.get("scenario", pd.Series(dtype=str)).astype(str))
    if name not in known:
        raise InputError(
            f"项目中没有方案 {name}（现有：{sorted(known)}）",
            f"no scenario {name!r} in the project (have {sorted(known)})",
            file=str(project.path) if project.path else None,
        )
    part = project.changes[project.changes["scenario"].astype(str) == name]
    part = part.sort_values("seq", kind="stable")  # a number (geo.project reads it as one)
    where = f"{project.path or 'project'} [{name}]"
    out = []
    for n, (op, payload) in enumerate(zip(part["op"], part["payload"], strict=True), 1):
        try:
            loaded = json.loads(str(payload))
        except (ValueError, RecursionError):
            loaded = None
        if not isinstance(loaded, dict):
            raise InputError(
                "项目中保存的修改无法读取", "a stored change cannot be read", file=where, row=n
            )
        out.append(check_change(Change(str(op), loaded), file=where, row=n))
    return out


def add_changes(project: Project, name: str, changes: list[Change], note: str = "") -> Project:
    """The project with ``changes`` appended to scenario ``name`` (created if new)."""
    scenarios = pd.DataFrame(project.scenarios).reindex(columns=SCENARIO_COLUMNS)
    if name not in set(scenarios["scenario"].astype(str)):
        created = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        scenarios = pd.concat(
            [scenarios, pd.DataFrame([{"scenario": name, "created": created, "note": note}])],
            ignore_index=True,
        )
    existing = pd.DataFrame(project.changes).reindex(columns=CHANGE_COLUMNS)
    mine = existing[existing["scenario"].astype(str) == name]
    start = int(pd.to_numeric(mine["seq"]).max()) + 1 if len(mine) else 1
    rows = [
        {
            "scenario": name,
            "seq": start + i,
            "op": c.op,
            "payload": json.dumps(c.payload, ensure_ascii=False, sort_keys=True),
        }
        for i, c in enumerate(changes)
    ]
    return replace(
        project,
        scenarios=scenarios,
        changes=pd.concat([existing, pd.DataFrame(rows)], ignore_index=True),
    )


def project_standards(project: Project) -> tuple[Standard, ...]:
    """The project's standards table as Standard objects."""
    rows = []
    for rec in pd.DataFrame(project.standards).to_dict("records"):
        row = {
            k: v
            for k, v in rec.items()
            if v is not None and not (isinstance(v, float) and np.isnan(v))
        }
        if "higher_levels_count" in row:
            row["higher_levels_count"] = str(row["higher_levels_count"]).lower() in ("1", "true")
        for key in ("max_minutes", "target_share"):
            if key in row:
                row[key] = float(row[key])
        rows.append(row)
    return parse_standards({"standard": rows}, source=str(project.path or "project"))


def standards_frame(standards: tuple[Standard, ...]) -> pd.DataFrame:
    """Standards as the project's table."""
    return pd.DataFrame([s.as_dict() for s in standards])


@dataclass(frozen=True)
class Comparison:
    """Two plans side by side: coverage by standard, county and township; sites; gaps."""

    standards: pd.DataFrame
    by_area: pd.DataFrame
    sites_added: pd.DataFrame
    sites_removed: pd.DataFrame
    gaps_closed: pd.DataFrame
    gaps_opened: pd.DataFrame


def compare(a: Analysis, b: Analysis, sites_a: pd.DataFrame, sites_b: pd.DataFrame) -> Comparison:
    """How plan ``b`` differs from plan ``a``.

    Sites count as removed when they are gone or closed in ``b``. A gap of
    ``a`` is closed when none of its demand points is uncovered in ``b`` under
    the same standard; a gap of ``b`` is opened when none of its points was
    uncovered in ``a``.
    """
    keys = ["kind", "level"]
    cols = [*keys, "mode", "max_minutes", "covered_weight", "covered_share"]
    std = a.coverage.standards[cols].merge(
        b.coverage.standards[[*keys, "covered_weight", "covered_share"]],
        on=keys,
        how="outer",
        suffixes=("_a", "_b"),
    )
    std["change"] = std["covered_share_b"] - std["covered_share_a"]
    akeys = ["area_type", "county", "township", "kind", "level"]
    area = a.coverage.by_area.merge(
        b.coverage.by_area[[*akeys, "covered_weight", "covered_share"]],
        on=akeys,
        how="outer",
        suffixes=("_a", "_b"),
    )
    area["change"] = area["covered_share_b"] - area["covered_share_a"]
    open_a = sites_a[sites_a["status"] != "closed"]
    open_b = sites_b[sites_b["status"] != "closed"]
    ids_a, ids_b = set(open_a["site_id"].astype(str)), set(open_b["site_id"].astype(str))
    added = pd.DataFrame(
        open_b[open_b["site_id"].astype(str).isin(ids_b - ids_a)].drop(
            columns="geometry", errors="ignore"
        )
    )
    removed = pd.DataFrame(
        open_a[open_a["site_id"].astype(str).isin(ids_a - ids_b)].drop(
            columns="geometry", errors="ignore"
        )
    )

    # (standard, demand point) pairs as integer codes over both plans
    pairs = pd.concat([a.coverage.points[keys], b.coverage.points[keys]]).drop_duplicates()
    std_index = pd.MultiIndex.from_frame(pairs.astype(object))
    ids = pd.Index(
        pd.concat([a.coverage.points["demand_id"], b.coverage.points["demand_id"]])
        .astype(str)
        .unique(),
        dtype=object,
    )

    def codes(kind: Any, level: Any, demand_id: Any) -> npt.NDArray[np.int64]:
        frame = pd.DataFrame({"kind": kind, "level": level}, dtype=object)
        s_code = std_index.get_indexer(pd.MultiIndex.from_frame(frame))
        d_code = ids.get_indexer(pd.Index(demand_id, dtype=object).astype(str))
        found = (s_code >= 0) & (d_code >= 0)
        return np.where(found, s_code.astype(np.int64) * len(ids) + d_code, -1)

    def uncovered(an: Analysis) -> npt.NDArray[np.int64]:
        p = an.coverage.points
        p = p[~p["covered"].to_numpy(dtype=bool)]
        return codes(p["kind"].to_numpy(), p["level"].to_numpy(), p["demand_id"].to_numpy())

    def gaps_without(gaps: gpd.GeoDataFrame, still: npt.NDArray[np.int64]) -> pd.DataFrame:
        if not len(gaps):
            return pd.DataFrame(columns=["gap_id", "kind", "level", "weight", "townships"])
        # one row per (gap, member point)
        members = gaps["demand_ids"].astype(str).str.split(",")
        owner = np.repeat(np.arange(len(gaps)), members.str.len().to_numpy(dtype=np.int64))
        member_codes = codes(
            gaps["kind"].to_numpy(dtype=object)[owner],
            gaps["level"].to_numpy(dtype=object)[owner],
            members.explode().to_numpy(dtype=object),
        )
        hit = np.zeros(len(gaps), dtype=bool)
        hit[owner[(member_codes >= 0) & np.isin(member_codes, still)]] = True
        return pd.DataFrame(gaps.loc[~hit].drop(columns="geometry"))

    un_a, un_b = uncovered(a), uncovered(b)

    return Comparison(
        standards=std,
        by_area=area,
        sites_added=added,
        sites_removed=removed,
        gaps_closed=gaps_without(a.gaps, un_b),
        gaps_opened=gaps_without(b.gaps, un_a),
    )


def compare_plans(
    sites_a: gpd.GeoDataFrame,
    sites_b: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    standards_a: tuple[Standard, ...],
    standards_b: tuple[Standard, ...],
    *,
    roads: str | Path | None = None,
    options: CoverageOptions | None = None,
) -> tuple[Analysis, Analysis, Comparison]:
    """Analyse two plans on the same networks and compare them (``compare``).

    Plans are compared as built: planned and under-construction sites count on
    both sides. Without a road file the proxy network is built once over the
    demand and the sites of *both* plans, so the difference between the plans
    is their sites, not two different proxy graphs.
    """
    built = replace(options or CoverageOptions(), after_completion=True)
    nets = build_networks(
        {s.mode for s in (*standards_a, *standards_b)},
        network_points(sites_a, sites_b),
        demand,
        roads,
        walk_kph=built.walk_kph,
    )
    a = run_analysis(sites_a, demand, standards_a, networks=nets, options=built)
    b = run_analysis(sites_b, demand, standards_b, networks=nets, options=built)
    return a, b, compare(a, b, sites_a, sites_b)


def network_points(*site_tables: pd.DataFrame) -> pd.DataFrame:
    """The site positions of several plans in one table (what a shared proxy network joins)."""
    frames = [pd.DataFrame(t[["lon", "lat"]]) for t in site_tables if len(t)]
    if not frames:
        return pd.DataFrame({"lon": [], "lat": []})
    return pd.concat(frames, ignore_index=True).drop_duplicates(ignore_index=True)
