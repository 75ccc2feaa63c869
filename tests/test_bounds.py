"""Numbers validated where they enter (issue 11, items 6 and 7): every weight, capacity,
cost, time and coordinate of a table, road file, change list or option is finite and
within the bounds of geo.bounds, or refused naming the file, row and column (exit 2)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from geo import bounds
from geo.errors import InputError, RoadNetworkError
from geo.project import new_project, open_project, save_project
from geo.roads import load_roads, read_speed_table
from geo.tables import import_demand, import_sites
from planning.cli import main
from planning.coverage.standards import load_standards
from planning.scenario import Change, add_changes, standards_frame

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "data/sanming/sites.csv"
DEMAND = ROOT / "data/sanming/demand.csv"


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str]:
    """Run the command line in this process: (exit code, stderr)."""
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def analyze(
    capsys: pytest.CaptureFixture[str], out: Path, *extra: object, demand: Path = DEMAND
) -> tuple[int, str]:
    """``servicenet analyze`` of the Sanming sites and ``demand``: (exit code, stderr)."""
    return cli(capsys, "analyze", "--sites", SITES, "--demand", demand, *extra, "--out", out)


# ------------------------------------------------------------------------ the helpers


def test_outside_refuses_nan_infinities_and_out_of_range() -> None:
    values = [0.0, 1e9, np.nan, np.inf, -np.inf, -1.0, 1e9 + 1, 1e308]
    assert bounds.outside(values, bounds.WEIGHT).tolist() == [False, False] + [True] * 6
    missing = bounds.outside([np.nan, np.inf, 5.0], bounds.CAPACITY, allow_missing=True)
    assert missing.tolist() == [False, True, False]


def test_check_values_names_file_rows_and_column() -> None:
    with pytest.raises(InputError) as err:
        bounds.check_values(
            [1.0, 1e308, 2.0, np.nan], bounds.WEIGHT, file="d.csv", rows=[2, 3, 4, 5], column="人数"
        )
    e = err.value
    assert (e.file, e.row, e.column) == ("d.csv", 3, "人数")
    assert "3 (1e+308), 5 (nan)" in e.en and "1e+09" in e.en and "人数（权重）" in e.zh


@pytest.mark.parametrize("value", [np.nan, "inf", 1e308, -1, True, None, "abc", 10**400, [1]])
def test_check_value_refuses(value: object) -> None:
    with pytest.raises(InputError) as err:
        bounds.check_value(value, bounds.CAPACITY, file="c.json", row=2, column="capacity")
    assert err.value.row == 2 and err.value.column == "capacity"


def test_check_value_accepts_numbers_and_numeric_text() -> None:
    assert bounds.check_value("12.5", bounds.MINUTES) == 12.5
    assert bounds.check_value(np.int64(7), bounds.CAPACITY) == 7.0


# ------------------------------------------------------------------------------ tables


def test_huge_weights_are_refused_by_row_and_column() -> None:
    data = (
        "demand_id,人数,lon,lat\nD1,1e308,117.6,26.2\nD2,1000000000,117.7,26.3\nD3,5,117.5,26.1\n"
    )
    result = import_demand(data.encode(), name="d.csv", crs="wgs84")
    assert list(result.table["demand_id"]) == ["D2", "D3"]
    (issue,) = [i for i in result.issues if i.severity == "error"]
    assert (issue.row, issue.column, issue.code) == (2, "人数", "too_large")


def test_huge_capacity_is_refused_by_row_and_column() -> None:
    data = (
        "site_id,name,kind,level,lon,lat,容量\n"
        "S1,站,service_center,township,117.6,26.2,1e15\n"
        "S2,站,service_center,township,117.7,26.3,1000000000\n"
    )
    result = import_sites(data.encode(), name="s.csv", crs="wgs84")
    assert list(result.table["site_id"]) == ["S2"] and result.table["capacity"].iloc[0] == 1e9
    (issue,) = [i for i in result.issues if i.severity == "error"]
    assert (issue.row, issue.column, issue.code) == (2, "容量", "too_large")


def test_cli_analyze_refuses_weights_that_would_overflow_the_total(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Probe: two weights of 1e308 summed to inf; shares came out null, every target
    "not met", and a note said the weights sum to 0 — with exit 0."""
    demand = tmp_path / "demand.csv"
    demand.write_text(
        "demand_id,weight,lon,lat\nD1,1e308,117.70,26.30\nD2,1e308,117.71,26.30\n",
        encoding="utf-8",
    )
    code, err = analyze(capsys, tmp_path / "o", demand=demand)
    assert code == 2
    assert f"{demand}, row 2, column weight" in err and f"{demand}, row 3, column weight" in err
    assert "weight too large (at most 1e+09)" in err
    assert not (tmp_path / "o").exists()


def test_cli_encoding_that_is_not_a_text_encoding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Probe: --encoding zlib was a LookupError traceback."""
    for name in ("zlib", "base64", "rot13"):
        code, err = cli(capsys, "import", DEMAND, "--table", "demand", "--encoding", name)
        assert code == 2, name
        assert f"{name!r} is not a text encoding" in err and "gb18030" in err


# ------------------------------------------------------------------ suggest's numbers


def matrix_case(tmp_path: Path) -> dict[str, Path]:
    paths = {n: tmp_path / f"{n}.csv" for n in ("sites", "demand", "matrix", "candidates")}
    paths["sites"].write_text("site_id,name,kind,level,lon,lat\n", encoding="utf-8")
    paths["demand"].write_text(
        "demand_id,weight,lon,lat\n"
        + "".join(f"D{i},{10 * (i + 1)},117.6,26.2\n" for i in range(4)),
        encoding="utf-8",
    )
    paths["matrix"].write_text(
        "origin_id,destination_id,minutes\nD0,K1,3\nD1,K1,5\nD2,K2,4\nD3,K2,6\n", encoding="utf-8"
    )
    paths["candidates"].write_text(
        "candidate_id,name,lon,lat,cost,capacity\nK1,a,117.6,26.2,1,100\nK2,b,117.7,26.3,1,100\n",
        encoding="utf-8",
    )
    return paths


def suggest(
    capsys: pytest.CaptureFixture[str], paths: dict[str, Path], *extra: str
) -> tuple[int, str]:
    base = ["suggest", "--sites", paths["sites"], "--demand", paths["demand"]]
    base += ["--cost-matrix", paths["matrix"], "--candidates", paths["candidates"]]
    base += ["--kind", "service_center", "--level", "township"]
    return cli(capsys, *base, "--out", paths["sites"].parent / "out", *extra)


@pytest.mark.parametrize(
    ("file", "line", "needle"),
    [
        ("matrix", "D0,K2,1e308", "row 6, column minutes"),
        ("matrix", "D0,K2,10000001", "row 6, column minutes"),
        ("candidates", "K3,c,117.6,26.2,1,1e15", "row 4, column capacity"),
        ("candidates", "K3,c,117.6,26.2,1e308,5", "row 4, column cost"),
    ],
)
def test_cost_matrix_and_candidate_numbers_are_bounded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], file: str, line: str, needle: str
) -> None:
    """Probe: a capacity of 1e15 made cmclp answer "0 new sites, 0.0 % -> 0.0 %"."""
    paths = matrix_case(tmp_path)
    paths[file].write_text(paths[file].read_text(encoding="utf-8") + line + "\n", encoding="utf-8")
    code, err = suggest(capsys, paths, "--method", "cmclp", "--count", "1", "--max-minutes", "10")
    assert code == 2 and f"{paths[file]}, {needle}" in err, err


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (
            ("--count", "1", "--max-minutes", "1e308"),
            "must be a finite number from 0 to 1e+07",
        ),
        (
            ("--budget", "1e308", "--max-minutes", "10"),
            "budget must be a finite number from 0 to 1e+15",
        ),
    ],
)
def test_options_are_bounded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: tuple[str, ...], needle: str
) -> None:
    code, err = suggest(capsys, matrix_case(tmp_path), *extra)
    assert code == 2 and needle in err, err


def test_a_standard_of_1e308_minutes_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    std = tmp_path / "s.toml"
    std.write_text(
        '[[standard]]\nkind = "service_center"\nlevel = "township"\nmode = "drive"\n'
        "max_minutes = 1e308\n",
        encoding="utf-8",
    )
    code, err = analyze(capsys, tmp_path / "o", "--standards", std)
    assert code == 2 and "max_minutes" in err and "10000" in err


def test_cmclp_with_capacities_at_the_bound_gives_the_brute_force_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """End to end: capacities of 1e9 (the bound) are as good as unlimited here."""
    paths = matrix_case(tmp_path)
    paths["candidates"].write_text(
        "candidate_id,name,lon,lat,capacity\nK1,a,117.6,26.2,1e9\nK2,b,117.7,26.3,1e9\n",
        encoding="utf-8",
    )
    code, err = suggest(capsys, paths, "--method", "cmclp", "--count", "1", "--max-minutes", "10")
    assert code == 0, err
    doc = json.loads((tmp_path / "out/solution.json").read_text(encoding="utf-8"))
    # K2 serves D2 + D3 = 30 + 40 of 100: the best single site
    assert doc["selected"] == ["K2"] and doc["covered_share_after"] == pytest.approx(0.7)


# ------------------------------------------------------------------------ road files


def graphml(path: Path, x: str, *, crs: str = "epsg:4326", y: str = "26.30") -> Path:
    g = nx.Graph(crs=crs)
    g.add_node("a", x="117.70", y="26.30")
    g.add_node("n2", x=x, y=y)
    g.add_node("c", x="117.72", y="26.30")
    g.add_edge("a", "n2", highway="primary")
    g.add_edge("n2", "c", highway="primary")
    nx.write_graphml(g, path)
    return path


def geojson(path: Path, lon: str) -> Path:
    path.write_text(
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "properties": {"highway": "primary"}, "geometry": {"type": '
        '"LineString", "coordinates": [[117.70, 26.30], [117.71, 26.30]]}},'
        '{"type": "Feature", "properties": {"highway": "primary"}, "geometry": {"type": '
        f'"LineString", "coordinates": [[117.71, 26.30], [{lon}, 26.30], [117.72, 26.30]]}}}}]}}',
        encoding="utf-8",
    )
    return path


def osm_xml(path: Path, lon: str) -> Path:
    path.write_text(
        '<?xml version="1.0"?>\n<osm version="0.6">\n'
        '<node id="1" lat="26.30" lon="117.70"/>\n'
        f'<node id="2" lat="26.30" lon="{lon}"/>\n'
        '<node id="3" lat="26.30" lon="117.72"/>\n'
        '<way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/>'
        '<tag k="highway" v="primary"/></way>\n</osm>\n',
        encoding="utf-8",
    )
    return path


def gpkg(path: Path, lon: float) -> Path:
    lines = [
        shapely.LineString([(117.70, 26.30), (117.71, 26.30)]),
        shapely.LineString([(117.71, 26.30), (lon, 26.30), (117.72, 26.30)]),
    ]
    gpd.GeoDataFrame({"highway": ["primary"] * 2}, geometry=lines, crs=4326).to_file(path)
    return path


HOSTILE_ROADS = {
    # file: (how to write it, what the message must name)
    "nan.graphml": (lambda p: graphml(p, "nan"), "nodes outside it: n2 (nan)"),
    "big.graphml": (lambda p: graphml(p, "1e308"), "nodes outside it: n2 (1e+308)"),
    "range.graphml": (lambda p: graphml(p, "500"), "nodes outside it: n2 (500.0)"),
    "lat.graphml": (lambda p: graphml(p, "117.71", y="-91"), "latitude must be"),
    "utm.graphml": (
        lambda p: graphml(p, "1e308", crs="EPSG:32650"),
        "nodes outside it: n2 (inf)",
    ),
    "nan.geojson": (lambda p: geojson(p, "NaN"), "features outside it: 2 (nan)"),
    "big.geojson": (lambda p: geojson(p, "1e308"), "features outside it: 2 (1e+308)"),
    "range.geojson": (lambda p: geojson(p, "500"), "features outside it: 2 (500.0)"),
    "big.gpkg": (lambda p: gpkg(p, 1e308), "features outside it: 2 (1e+308)"),
    "nan.osm": (lambda p: osm_xml(p, "nan"), "invalid node coordinate"),
    "range.osm": (lambda p: osm_xml(p, "500"), "invalid node coordinate"),
    # libosmium reads an overflowing "1e308" as 0: an 11,000 km segment gives it away
    "big.osm": (lambda p: osm_xml(p, "1e308"), "between nodes 1 (117.7000000, 26.3000000)"),
}


@pytest.mark.parametrize("name", HOSTILE_ROADS)
def test_hostile_road_files_exit_2_naming_file_and_node(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """Probe: NaN, 1e308 and out-of-range coordinates were tracebacks, or silently
    built a network across the globe (exit 0)."""
    make, needle = HOSTILE_ROADS[name]
    road = make(tmp_path / name)
    demand = tmp_path / "demand.csv"
    demand.write_text("demand_id,weight,lon,lat\nD1,10,117.70,26.30\n", encoding="utf-8")
    code, err = analyze(capsys, tmp_path / "o", "--roads", road, demand=demand)
    assert code == 2, err
    assert f"servicenet: {road}: " in err and needle in err, err


def test_graphml_edge_geometry_out_of_range_is_refused(tmp_path: Path) -> None:
    path = graphml(tmp_path / "g.graphml", "117.71")
    g = nx.read_graphml(path)
    g.edges["a", "n2"]["geometry"] = "LINESTRING (117.70 26.30, 500 26.30, 117.71 26.30)"
    nx.write_graphml(g, path)
    with pytest.raises(RoadNetworkError, match=r"vertices outside it: \d+ \(500\.0\)"):
        load_roads(path, cache=False)


def test_speed_table_speeds_are_bounded(tmp_path: Path) -> None:
    table = tmp_path / "speeds.toml"
    table.write_text("[drive]\ndefault_kph = inf\n[walk]\n", encoding="utf-8")
    with pytest.raises(RoadNetworkError, match="up to 300"):
        read_speed_table(table)


# ------------------------------------------------------------------ change lists and projects


@pytest.fixture
def project_file(tmp_path: Path) -> Path:
    sites = gpd.GeoDataFrame(
        {
            "site_id": ["S1", "S2"],
            "name": ["一", "二"],
            "kind": ["service_center"] * 2,
            "level": ["township"] * 2,
            "status": ["existing"] * 2,
            "capacity": [100.0, None],
            "lon": [117.60, 117.70],
            "lat": [26.20, 26.30],
        },
        geometry=gpd.points_from_xy([117.60, 117.70], [26.20, 26.30]),
        crs=4326,
    )
    demand = gpd.GeoDataFrame(
        {
            "demand_id": ["D1", "D2"],
            "weight": [10.0, 20.0],
            "lon": [117.61, 117.69],
            "lat": [26.21, 26.29],
        },
        geometry=gpd.points_from_xy([117.61, 117.69], [26.21, 26.29]),
        crs=4326,
    )
    path = tmp_path / "plan.gpkg"
    save_project(new_project(sites, demand, standards_frame(load_standards())), path)
    return path


ADD = {
    "op": "add_site",
    "site_id": "P1",
    "name": "新",
    "kind": "service_center",
    "level": "township",
}
BAD_CHANGES = [
    (
        '[{"op": "add_site", "site_id": "P1", "kind": "service_center", "level": "township", '
        '"lon": NaN, "lat": 26.3}]',
        ", row 1, column lon",
    ),
    (
        '[{"op": "move_site", "site_id": "S1", "lon": 117.6, "lat": Infinity}]',
        ", row 1, column lat",
    ),
    (
        '[{"op": "close_site", "site_id": "S2"}, {"op": "set_capacity", "site_id": "S1", '
        '"capacity": -5}]',
        ", row 2, column capacity",
    ),
    ('[{"op": "set_capacity", "site_id": "S1", "capacity": NaN}]', ", row 1, column capacity"),
    ('[{"op": "move_site", "site_id": "S1", "lon": "abc", "lat": 26.3}]', ", row 1, column lon"),
    (
        '[{"op": "move_site", "site_id": "S1", "lon": [[[117.6]]], "lat": 26.3}]',
        ", row 1, column lon",
    ),
    (
        '[{"op": "set_standard", "kind": "service_center", "level": "township", '
        '"max_minutes": 1e308}]',
        ", row 1, column max_minutes",
    ),
    ("[" * 100_000 + "]" * 100_000, ": 修改清单嵌套过深"),
    ('[{"op": "close_site", "site_id": ' + "9" * 5000 + "}]", ": 无法读取修改清单"),
]


@pytest.mark.parametrize(("text", "needle"), BAD_CHANGES)
def test_bad_change_lists_are_refused_before_anything_is_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], project_file: Path, text: str, needle: str
) -> None:
    """Probe: NaN/Infinity coordinates and NaN or negative capacities were stored
    (exit 0) and broke every later analysis; 100,000 brackets were a RecursionError."""
    changes = tmp_path / "changes.json"
    changes.write_text(text, encoding="utf-8")
    before = project_file.read_bytes()
    code, err = cli(
        capsys, "project", "scenario", project_file, "--name", "A", "--changes", changes
    )
    assert code == 2 and f"{changes}{needle}" in err, err
    assert project_file.read_bytes() == before


def test_a_change_list_too_large_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], project_file: Path
) -> None:
    from planning.scenario import MAX_CHANGES_BYTES

    changes = tmp_path / "changes.json"
    changes.write_text(" " * (MAX_CHANGES_BYTES + 1) + "[]", encoding="utf-8")
    code, err = cli(
        capsys, "project", "scenario", project_file, "--name", "A", "--changes", changes
    )
    assert code == 2 and "larger than 10 MB" in err


@pytest.mark.parametrize(
    ("change", "column"),
    [
        (Change("add_site", {**ADD, "lon": float("nan"), "lat": 26.3}), "lon"),
        (Change("move_site", {"site_id": "S1", "lon": float("inf"), "lat": 26.3}), "lon"),
        (Change("set_capacity", {"site_id": "S1", "capacity": -5.0}), "capacity"),
        (Change("set_capacity", {"site_id": "S1", "capacity": float("nan")}), "capacity"),
    ],
)
def test_a_project_that_already_holds_bad_changes_gives_a_message(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    project_file: Path,
    change: Change,
    column: str,
) -> None:
    """Files written before the check (or by another program) are refused when analysed."""
    project = open_project(project_file)
    save_project(
        add_changes(project, "A", [change]), project_file, expected_version=project.version
    )
    for command in ("analyze", "report"):
        out = tmp_path / ("o" if command == "analyze" else "r.html")
        code, err = cli(capsys, command, "--project", project_file, "--scenario", "A", "--out", out)
        assert code == 2, err
        assert f"{project_file} [A], row 1, column {column}" in err


@pytest.mark.parametrize(
    ("layer", "column", "value"),
    [
        ("demand", "weight", 1e308),
        ("demand", "lon", np.nan),
        ("sites", "lat", 95.0),
        ("sites", "capacity", -1.0),
    ],
)
def test_project_tables_with_bad_numbers_are_refused(
    project_file: Path, layer: str, column: str, value: float
) -> None:
    project = open_project(project_file)
    table = getattr(project, layer).copy()
    table.loc[1, column] = value
    save_project(replace(project, **{layer: table}), project_file, expected_version=project.version)
    with pytest.raises(InputError) as err:
        open_project(project_file)
    assert err.value.file == f"{project_file} ({layer})" and err.value.column == column
    assert err.value.row == 2


def test_an_edit_from_the_app_is_checked_before_it_is_stored(project_file: Path) -> None:
    """The app validates an edit by applying it (ui.project.apply): a map click on a
    wrapped world copy gives a longitude such as 477.6."""
    from planning.scenario import apply_changes, project_standards

    project = open_project(project_file)
    click = Change("move_site", {"site_id": "S1", "lon": 477.6, "lat": 26.2})
    with pytest.raises(InputError) as err:
        apply_changes(project.sites, project_standards(project), [click])
    assert (err.value.row, err.value.column) == (1, "lon") and "477.6" in err.value.en


@pytest.mark.parametrize(
    ("option", "value"), [("--walk-kph", "1e308"), ("--walk-kph", "31"), ("--max-snap-m", "1e308")]
)
def test_walking_speed_and_snap_distance_are_bounded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    """Probe: --walk-kph 1e308 made every walk take no time and answered with exit 0."""
    code, err = analyze(capsys, tmp_path / "o", option, value)
    assert code == 2, err
    assert "至多为" in err and "must be at most" in err and option[2:].replace("-", "_") in err
