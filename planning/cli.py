"""The ``servicenet`` command line: the automation contract of DESIGN.md.

Exit codes: 0 done; 1 the analysis could not be done; 2 unusable input (the
message names the file, row and column).
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from geo.errors import InputError, ServicenetError

ROOT = Path(__file__).resolve().parent.parent
SUGGEST_OUTPUTS = ("solution.json", "suggestions.csv", "candidates.csv")
EXPORT_OUTPUTS = (
    "sites.gpkg",
    "sites.csv",
    "demand.gpkg",
    "demand.csv",
    "standards.csv",
    "scenarios.csv",
    "changes.csv",
    "project.json",
)


class _Parser(argparse.ArgumentParser):
    """Argument errors are unusable input: exit code 2 with a bilingual message."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"servicenet: 参数错误 / invalid arguments: {message}\n")
        raise SystemExit(2)


def _cmd_import(args: argparse.Namespace) -> int:
    from collections import Counter

    from geo.export import write_json, write_table
    from geo.tables import import_table

    result = import_table(
        args.file,
        args.table,
        encoding=args.encoding,
        crs=args.crs,
        name=str(args.file),
        sheet=args.sheet,
    )
    if args.report:
        write_json(result.report(), args.report)
    errors = sum(1 for i in result.issues if i.severity == "error")
    warnings = Counter(i.code for i in result.issues if i.severity == "warning")
    sheet = f", sheet {result.sheet}" if result.sheet else ""
    print(
        f"{result.source}: 读取 {result.rows_read} 行，导入 {result.rows_imported} 行，"
        f"拒绝 {result.rows_rejected} 行 / read {result.rows_read}, "
        f"imported {result.rows_imported}, rejected {result.rows_rejected} "
        f"(encoding {result.encoding}, crs {result.crs}{sheet}, {errors} errors, "
        f"{sum(warnings.values())} warnings)"
    )
    for issue in result.issues:
        if issue.severity == "error" or args.verbose:
            col = f", column {issue.column}" if issue.column else ""
            print(
                f"  {result.source}, row {issue.row}{col}: [{issue.code}] {issue.message}",
                file=sys.stderr,
            )
    if warnings and not args.verbose:
        listed = ", ".join(f"{code} x{n}" for code, n in sorted(warnings.items()))
        print(f"  警告 / warnings: {listed} (-v 列出 / -v lists them)", file=sys.stderr)
    if result.extra_columns:
        print(
            "  未识别的列，已原样保留为附加列 / columns not recognised, kept as extra columns: "
            + ", ".join(result.extra_columns),
            file=sys.stderr,
        )
    if not result.rows_imported:
        print(
            f"servicenet: {result.source}: 没有可导入的行 / no row could be imported",
            file=sys.stderr,
        )
        return 2
    if args.out:
        write_table(result.table, args.out, layer=args.table)
    if args.strict and result.rows_rejected:
        return 2
    return 0


def _read_inputs(args: argparse.Namespace) -> tuple[Any, Any, dict[str, Any]]:
    """Import sites and demand for analyze/suggest/report; print rejected rows."""
    from geo.tables import import_demand, import_sites

    sites = import_sites(args.sites, encoding=args.encoding, crs=args.crs, name=str(args.sites))
    demand = import_demand(args.demand, encoding=args.encoding, crs=args.crs, name=str(args.demand))
    for result in (sites, demand):
        for issue in result.issues:
            if issue.severity == "error" or getattr(args, "verbose", False):
                col = f", column {issue.column}" if issue.column else ""
                print(f"  {result.source}, row {issue.row}{col}: {issue.message}", file=sys.stderr)
    if not demand.rows_imported:
        raise InputError(
            "需求表没有可用的行", "the demand table has no usable row", file=str(args.demand)
        )
    if sites.rows_read and not sites.rows_imported:
        # a header with no rows means "no sites yet"; rows that all failed do not
        raise InputError(
            f"站点表的 {sites.rows_read} 行全部被拒绝（原因见上），没有可用的站点",
            f"all {sites.rows_read} rows of the sites table were rejected (see above)",
            file=str(args.sites),
        )
    from planning.coverage.analysis import file_sha256

    provenance: dict[str, Any] = {}
    for label, result, path in (("sites", sites, args.sites), ("demand", demand, args.demand)):
        provenance[label] = {
            "file": str(path),
            "sha256": file_sha256(path),
            "encoding": result.encoding,
            "crs": result.crs,
            "rows_read": result.rows_read,
            "rows_imported": result.rows_imported,
            "rows_rejected": result.rows_rejected,
        }
    if getattr(args, "roads", None):
        provenance["roads"] = {"file": str(args.roads), "sha256": file_sha256(args.roads)}
    return sites.table, demand.table, provenance


def _load_plan(args: argparse.Namespace) -> tuple[Any, Any, Any, dict[str, Any]]:
    """Sites, demand, standards and provenance: from --project [--scenario] or from files."""
    from planning.coverage.standards import DEFAULT_STANDARDS, load_standards

    if getattr(args, "project", None):
        from geo.project import open_project, stored_provenance
        from planning.coverage.analysis import file_sha256
        from planning.scenario import apply_changes, project_standards, scenario_changes

        project = open_project(args.project)
        standards = load_standards(args.standards) if args.standards else project_standards(project)
        sites = project.sites
        if args.scenario:
            sites, standards = apply_changes(
                sites, standards, scenario_changes(project, args.scenario)
            )
        provenance: dict[str, Any] = {
            **stored_provenance(project),  # the files its tables were imported from
            "project": {
                "file": str(args.project),
                "sha256": file_sha256(args.project),
                "version": project.version,
                "scenario": args.scenario,
            },
            "standards": str(args.standards or f"{args.project} (standards)"),
        }
        if not getattr(args, "roads", None):
            from geo.project import project_roads

            args.roads = project_roads(project)  # confined to the project's folder
        return sites, project.demand, standards, provenance
    if getattr(args, "scenario", None):
        raise InputError("--scenario 需要 --project", "--scenario needs --project")
    if not (args.sites and args.demand):
        raise InputError(
            "需要 --project，或 --sites 与 --demand", "give --project, or --sites and --demand"
        )
    standards = load_standards(args.standards or DEFAULT_STANDARDS)
    sites, demand, provenance = _read_inputs(args)
    provenance["standards"] = str(args.standards or DEFAULT_STANDARDS)
    return sites, demand, standards, provenance


def _human_writer(lang: str | None) -> Callable[[Any], bytes]:
    """CSV bytes of a human-facing table: in ``lang`` (``--lang``), else machine columns."""
    if not lang:
        from geo.export import csv_bytes

        return csv_bytes
    from planning.report.tables import human_csv

    return functools.partial(human_csv, lang=lang)


def _cmd_analyze(args: argparse.Namespace) -> int:
    from geo.export import check_output_folder
    from planning.coverage.analysis import ANALYSIS_OUTPUTS, run_analysis, summary, write_analysis
    from planning.coverage.compute import CoverageOptions

    check_output_folder(args.out, ANALYSIS_OUTPUTS)  # before the work, not after
    sites, demand, standards, provenance = _load_plan(args)
    options = CoverageOptions(
        after_completion=args.after_completion, max_snap_m=args.max_snap_m, walk_kph=args.walk_kph
    )
    analysis = run_analysis(
        sites, demand, standards, roads=args.roads, options=options, provenance=provenance
    )
    write_analysis(analysis, args.out, human=_human_writer(args.lang) if args.lang else None)
    doc = summary(analysis)
    if analysis.is_proxy:
        print("注意：没有路网文件，使用示意路网 / note: no road file, the proxy network was used")
    for row in doc["standards"]:
        share = row["covered_share"]
        shown = "—" if share is None else f"{share:.1%}"
        target = "" if row["target_share"] is None else f" (target {row['target_share']:.0%})"
        print(
            f"{row['kind']}/{row['level']} {row['mode']} <= {row['max_minutes']:g} min: "
            f"{shown}{target}"
        )
    print(f"{len(analysis.gaps)} gaps; outputs in {args.out}")
    for note in _analysis_notes(doc, sites, standards, args.max_snap_m):
        print(f"  注意 / note: {note}", file=sys.stderr)
    return 0


def _analysis_notes(
    doc: dict[str, Any], sites: Any, standards: Any, max_snap_m: float
) -> list[str]:
    """What a planner must know about a result that looks plain: points not on the
    network, no demand weight, sites that no standard measures."""
    notes = []
    seen_modes: set[str] = set()
    for row in doc["standards"]:
        far = int(row.get("demand_unsnapped") or 0)
        if far and row["mode"] not in seen_modes:
            seen_modes.add(row["mode"])
            notes.append(
                f"{far} 个需求点离{row['mode']}路网超过 {max_snap_m:g} 米，未能接入，计为未覆盖 / "
                f"{far} demand points lie more than {max_snap_m:g} m from the {row['mode']} "
                "network: not covered"
            )
    if doc["standards"] and not any((r.get("total_weight") or 0) > 0 for r in doc["standards"]):
        notes.append("需求点的人数（权重）之和为 0，覆盖率无从计算 / the demand weights sum to 0")
    measured = {(s.kind, s.level) for s in standards}
    unmeasured = sorted(
        {(k, lv) for k, lv in zip(sites["kind"], sites["level"], strict=True)} - measured
    )
    if unmeasured:
        listed = ", ".join(f"{k}/{lv}" for k, lv in unmeasured)
        notes.append(
            f"这些站点没有服务标准，未参与覆盖计算：{listed} / sites without a standard, "
            f"not measured: {listed}"
        )
    return notes


def _standard_for(args: argparse.Namespace, standards: Any) -> tuple[str, float]:
    """Mode and minutes for --kind/--level: from --max-minutes or the standards."""
    from planning.coverage.standards import DEFAULT_STANDARDS

    found = [s for s in standards if (s.kind, s.level) == (args.kind, args.level)]
    mode = args.mode or (found[0].mode if found else "drive")
    if args.max_minutes is not None:
        return mode, float(args.max_minutes)
    if not found:
        raise InputError(
            f"标准中没有 {args.kind}/{args.level}，请用 --max-minutes 指定",
            f"no standard for {args.kind}/{args.level}; give --max-minutes",
            file=str(args.standards or DEFAULT_STANDARDS),
        )
    return mode, found[0].max_minutes


def _cmd_suggest(args: argparse.Namespace) -> int:
    import pandas as pd

    from geo.export import atomic_path, check_output_folder, csv_bytes, staged_folder, write_json
    from planning.coverage.analysis import build_networks
    from planning.coverage.compute import CoverageOptions, compute_coverage
    from planning.coverage.gaps import find_gaps
    from planning.coverage.standards import Standard
    from planning.locate.candidates import CandidateOptions, build_candidates, read_candidates
    from planning.locate.suggest import SuggestRequest, matrix_destinations, suggest

    check_output_folder(args.out, SUGGEST_OUTPUTS)
    sites, demand, standards, _ = _load_plan(args)
    mode, minutes = _standard_for(args, standards)
    request = SuggestRequest(
        kind=args.kind,
        level=args.level,
        max_minutes=minutes,
        method=args.method,
        mode=mode,
        count=args.count,
        budget=args.budget,
        time_limit=args.time_limit,
        after_completion=args.after_completion,
        heuristic=args.heuristic,
        curve=not args.no_curve,
        target_share=args.target_share,
    )
    user = read_candidates(args.candidates) if args.candidates else None
    net = None
    gaps = None
    if args.cost_matrix:
        if user is None:
            known = set(map(str, sites["site_id"]))
            ids = [d for d in matrix_destinations(args.cost_matrix) if d not in known]
            user = pd.DataFrame(
                {
                    "candidate_id": ids,
                    "name": ids,
                    "source": "cost_matrix",
                    "lon": float("nan"),
                    "lat": float("nan"),
                }
            )
        candidates = build_candidates(
            demand,
            sites,
            args.kind,
            args.level,
            user=user,
            options=CandidateOptions(township_seats=False, gap_nodes=False),
        )
    else:
        net = build_networks([mode], sites, demand, args.roads, walk_kph=args.walk_kph)[mode]
        std = Standard(args.kind, args.level, mode, minutes)
        cov = compute_coverage(
            sites,
            demand,
            (std,),
            {mode: net},
            CoverageOptions(after_completion=args.after_completion, max_snap_m=args.max_snap_m),
        )
        gaps = find_gaps(cov, demand, numbering=[(s.kind, s.level) for s in standards])
        candidates = build_candidates(
            demand,
            sites,
            args.kind,
            args.level,
            gaps=gaps,
            net=net,
            user=user,
            options=CandidateOptions(grid=args.grid),
        )
    result = suggest(
        request, sites, demand, candidates, net=net, cost_matrix=args.cost_matrix, gaps=gaps
    )
    doc = result.solution_json()
    with staged_folder(args.out, SUGGEST_OUTPUTS) as out:
        write_json(doc, out / "solution.json")
        with atomic_path(out / "suggestions.csv") as tmp:
            tmp.write_bytes(_human_writer(args.lang)(result.selected))
        with atomic_path(out / "candidates.csv") as tmp:
            tmp.write_bytes(csv_bytes(result.candidates))
    if net is not None and net.facts.is_proxy:
        print("注意：没有路网文件，使用示意路网 / note: no road file, the proxy network was used")
    shares = [
        "—" if v is None else f"{v:.1%}"
        for v in (doc["covered_share_before"], doc["covered_share_after"])
    ]
    gap = "—" if doc["gap"] is None else f"{doc['gap']:.4%}"
    served = ""
    if doc["served_share_before"] is not None:
        served = (
            f"; served within capacities {doc['served_share_before']:.1%} -> "
            f"{doc['served_share_after']:.1%}"
        )
    print(
        f"{doc['method']} {doc['status']}: objective {doc['objective']:.6g}, gap {gap}, "
        f"{len(doc['selected'])} new sites {doc['build_order']}; covered "
        f"{shares[0]} -> {shares[1]}{served}"
    )
    for note in doc["notes"]:
        print(f"  注 / note: {note}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from planning.coverage.analysis import run_analysis
    from planning.coverage.compute import CoverageOptions
    from planning.report.inputs import ReportInputs
    from planning.report.write import write_report

    if Path(args.out).is_dir():
        raise InputError(
            "报告输出位置是一个文件夹，请给出文件名",
            "the report output is a folder; give a file name",
            file=str(args.out),
        )
    if Path(args.out).suffix.lower() not in (".html", ".htm", ".pdf", ".xlsx"):
        raise InputError(
            "报告文件须为 .html、.pdf 或 .xlsx",
            "the report must be .html, .pdf or .xlsx",
            file=str(args.out),
        )
    sites, demand, standards, provenance = _load_plan(args)
    options = CoverageOptions(
        after_completion=args.after_completion, max_snap_m=args.max_snap_m, walk_kph=args.walk_kph
    )
    analysis = run_analysis(
        sites, demand, standards, roads=args.roads, options=options, provenance=provenance
    )
    suggestion = None
    if args.suggest:
        suggestion = _report_suggestion(args, sites, demand, analysis, standards)
    comparison = None
    if args.compare_scenario:
        comparison = _report_comparison(args, analysis, sites, options)
    inputs = ReportInputs(
        analysis,
        sites,
        demand,
        suggestion=suggestion,
        title=args.title,
        lang=args.lang,
        comparison=comparison,
        plan=args.scenario or "",
    )
    write_report(inputs, args.out)
    print(f"servicenet: {args.out}")
    return 0


def _report_comparison(args: argparse.Namespace, analysis: Any, sites: Any, options: Any) -> Any:
    """(name, Comparison) of --compare-scenario against the base of --project."""
    from geo.project import open_project
    from planning.scenario import (
        apply_changes,
        compare_plans,
        project_standards,
        scenario_changes,
    )

    if not args.project or args.scenario:
        raise InputError(
            "--compare-scenario 需要 --project（且不与 --scenario 同用）",
            "--compare-scenario needs --project (and no --scenario)",
        )
    project = open_project(args.project)
    base_stds = project_standards(project)
    scen_sites, scen_stds = apply_changes(
        project.sites, base_stds, scenario_changes(project, args.compare_scenario)
    )
    *_, comparison = compare_plans(
        project.sites,
        scen_sites,
        project.demand,
        base_stds,
        scen_stds,
        roads=args.roads,
        options=options,
    )
    return args.compare_scenario, comparison


def _report_suggestion(
    args: argparse.Namespace, sites: Any, demand: Any, analysis: Any, standards: Any
) -> Any:
    from planning.locate.candidates import build_candidates
    from planning.locate.suggest import SuggestRequest, suggest

    kind, _, level = args.suggest.partition("/")
    found = [s for s in standards if (s.kind, s.level) == (kind, level)]
    if not found:
        raise InputError(
            f"标准中没有 {args.suggest}",
            f"no standard {args.suggest!r} (use KIND/LEVEL)",
            file=str(args.standards or "standards"),
        )
    std = found[0]
    request = SuggestRequest(
        kind=kind,
        level=level,
        max_minutes=std.max_minutes,
        method="mclp",
        mode=std.mode,
        count=args.count,
        time_limit=args.time_limit,
        after_completion=args.after_completion,
    )
    net = analysis.networks[std.mode]
    candidates = build_candidates(demand, sites, kind, level, gaps=analysis.gaps, net=net)
    return suggest(request, sites, demand, candidates, net=net, gaps=analysis.gaps)


def _cmd_project(args: argparse.Namespace) -> int:
    from geo.export import write_json, write_table
    from geo.project import new_project, open_project, project_info, save_project
    from planning.scenario import add_changes, scenario_changes, standards_frame

    if args.action == "new":
        args.project = None
        args.scenario = None
        sites, demand, standards, _ = _load_plan(args)
        roads_sha, roads_ref = "", None
        if args.roads:
            from geo.paths import relative_reference
            from planning.coverage.analysis import file_sha256

            # stored relative to the project file, which may refer only to its own folder
            roads_ref = relative_reference(
                args.roads, Path(args.file).parent, what=("道路文件", "road file")
            )
            roads_sha = file_sha256(args.roads)
        project = new_project(
            sites, demand, standards_frame(standards), roads=roads_ref, roads_sha256=roads_sha
        )
        saved = save_project(project, args.file, overwrite=args.force)
        print(json.dumps(project_info(saved), ensure_ascii=False, indent=2))
        return 0
    project = open_project(args.file)
    if args.action == "info":
        print(json.dumps(project_info(project), ensure_ascii=False, indent=2))
        return 0
    if args.action == "scenario":
        from planning.scenario import apply_changes, project_standards, read_changes

        # every number checked as read (file, change and field named) ...
        changes = read_changes(args.changes)
        # ... and the whole scenario applied before anything is written
        known = set(project.scenarios.get("scenario", []))
        before = scenario_changes(project, args.name) if args.name in known else []
        apply_changes(project.sites, project_standards(project), before + changes)
        updated = add_changes(project, args.name, changes, note=args.note or "")
        saved = save_project(updated, args.file, expected_version=project.version)
        print(json.dumps(project_info(saved), ensure_ascii=False, indent=2))
        return 0
    # export
    from geo.export import atomic_path, csv_bytes, staged_folder

    with staged_folder(args.out, EXPORT_OUTPUTS) as out:
        write_table(project.sites, out / "sites.gpkg", layer="sites")
        write_table(project.sites, out / "sites.csv")
        write_table(project.demand, out / "demand.gpkg", layer="demand")
        write_table(project.demand, out / "demand.csv")
        for name, frame in (
            ("standards", project.standards),
            ("scenarios", project.scenarios),
            ("changes", project.changes),
        ):
            with atomic_path(out / f"{name}.csv") as tmp:
                tmp.write_bytes(csv_bytes(frame))
        write_json(project_info(project), out / "project.json")
    print(f"servicenet: exported to {args.out}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from planning.demo import demo_summary, load_demo, write_demo

    demo = load_demo()
    summary = demo_summary(demo)
    if args.out:
        from geo.export import check_output_folder, staged_folder
        from planning.coverage.analysis import run_analysis, write_analysis
        from planning.coverage.standards import DEFAULT_STANDARDS, load_standards
        from planning.demo import DEMO_OUTPUTS

        check_output_folder(args.out, (*DEMO_OUTPUTS, "analysis/"))
        analysis = run_analysis(
            demo.sites,
            demo.demand,
            load_standards(DEFAULT_STANDARDS),
            provenance={"dataset": "sanming demo", "standards": str(DEFAULT_STANDARDS)},
        )
        with staged_folder(args.out, (*DEMO_OUTPUTS, "analysis/")) as out:
            write_demo(demo, out)
            write_analysis(analysis, out / "analysis")
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print(summary["text"])
    return 0


def _cmd_app(args: argparse.Namespace) -> int:
    from geo.mapassets import install_map_assets

    install_map_assets(ROOT / "static")
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.port",
        str(args.port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    # this computer only, unless a shared server is asked for (the app has no login)
    cmd += ["--server.address", str(args.host or "127.0.0.1")]
    shown = args.host if args.host and args.host not in ("0.0.0.0", "::") else "localhost"  # noqa: S104
    print(f"servicenet: http://{shown}:{args.port}", flush=True)
    if args.host in ("0.0.0.0", "::"):  # noqa: S104
        print(
            "servicenet: 注意：网页界面对整个网络开放且没有登录 / note: the app is open to the "
            "whole network and has no login",
            file=sys.stderr,
            flush=True,
        )
    if os.name == "posix":
        # become the Streamlit server, so that stopping `servicenet app` stops it
        os.chdir(ROOT)
        os.execv(sys.executable, cmd)  # noqa: S606 (fixed argv, no shell)
    return subprocess.call(cmd, cwd=ROOT, env=os.environ.copy(), stdin=subprocess.DEVNULL)


def _input_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sites", type=Path, help="sites CSV/XLSX")
    p.add_argument("--demand", type=Path, help="demand CSV/XLSX")
    p.add_argument("--project", type=Path, help="a servicenet project (.gpkg) instead of files")
    p.add_argument("--scenario", help="with --project: run on this scenario")
    p.add_argument(
        "--roads", type=Path, help="roads: .osm.pbf .osm .osm.bz2 .graphml .geojson .gpkg .shp"
    )
    p.add_argument("--encoding", default="auto", help="encoding of the site and demand files")
    p.add_argument("--crs", default="auto", help="coordinates of the site and demand files")
    p.add_argument("--max-snap-m", type=float, default=1000.0, help="maximum snap distance (m)")
    p.add_argument("--walk-kph", type=float, default=5.0, help="walking speed (km/h)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the documentation test)."""
    parser = _Parser(
        prog="servicenet",
        description="服务阵地规划工具 / planner for a network of public service sites",
    )
    common = _Parser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", help="also print warnings")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser(
        "import", parents=[common], help="导入站点或需求表 / import a site or demand table"
    )
    p.add_argument("file", type=Path, help="CSV, TSV or XLSX")
    p.add_argument("--encoding", default="auto", help="auto | utf-8 | gbk | gb18030 | ...")
    p.add_argument("--crs", default="auto", help="auto | wgs84 | gcj02 | bd09")
    p.add_argument("--table", choices=("sites", "demand"), default="sites")
    p.add_argument("--sheet", help="XLSX worksheet (default: the first with coordinate columns)")
    p.add_argument("--out", type=Path, help="cleaned table: .csv, .geojson or .gpkg")
    p.add_argument("--report", type=Path, help="import report as JSON")
    p.add_argument("--strict", action="store_true", help="exit 2 if any row is rejected")
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser(
        "analyze", parents=[common], help="覆盖分析 / coverage under the service standards"
    )
    _input_args(p)
    p.add_argument("--standards", type=Path, help="standards TOML (default data/standards.toml)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument(
        "--after-completion", action="store_true", help="count planned and under-construction sites"
    )
    p.add_argument(
        "--lang",
        choices=("zh", "en"),
        help="write the human-facing CSVs (by_area.csv, access.csv) with headers and words in this "
        "language, shares in percent; without it they keep their machine columns",
    )
    p.set_defaults(func=_cmd_analyze)

    p = sub.add_parser("suggest", parents=[common], help="新站点选址建议 / suggest new sites")
    _input_args(p)
    p.add_argument("--cost-matrix", type=Path, help="long form: origin_id, destination_id, minutes")
    p.add_argument("--kind", required=True, help="site kind, e.g. service_center")
    p.add_argument("--level", required=True, help="site level, e.g. township")
    p.add_argument("--method", choices=("mclp", "lscp", "pmedian", "cmclp"), default="mclp")
    p.add_argument("--count", type=int, help="number of new sites (p)")
    p.add_argument("--budget", type=float, help="total budget (MCLP budget form)")
    p.add_argument("--max-minutes", type=float, help="standard (default: from the standards)")
    p.add_argument("--mode", choices=("drive", "walk"), help="travel mode (default: standard's)")
    p.add_argument("--standards", type=Path, help="standards TOML (default data/standards.toml)")
    p.add_argument(
        "--candidates", type=Path, help="candidate_id, name, lon, lat [, cost, capacity]"
    )
    p.add_argument("--grid", action="store_true", help="also use a regular grid of candidates")
    p.add_argument("--time-limit", type=float, default=60.0, help="solver time limit (s)")
    p.add_argument("--heuristic", action="store_true", help="greedy + swap only, no MIP")
    p.add_argument(
        "--target-share",
        type=float,
        help="lscp: fewest sites to reach this covered share, 0..1 (default: all reachable)",
    )
    p.add_argument("--no-curve", action="store_true", help="skip the coverage-budget curve")
    p.add_argument(
        "--after-completion", action="store_true", help="count planned and under-construction sites"
    )
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument(
        "--lang",
        choices=("zh", "en"),
        help="write the human-facing CSVs (suggestions.csv) with headers and words in this "
        "language, shares in percent; without it they keep their machine columns",
    )
    p.set_defaults(func=_cmd_suggest)

    p = sub.add_parser("report", parents=[common], help="覆盖分析报告 / coverage report")
    p.add_argument("--sites", type=Path, help="sites CSV/XLSX")
    p.add_argument("--demand", type=Path, help="demand CSV/XLSX")
    p.add_argument("--project", type=Path, help="a servicenet project (.gpkg) instead of files")
    p.add_argument("--scenario", help="with --project: report on this scenario")
    p.add_argument("--roads", type=Path, help="road file (else the proxy network)")
    p.add_argument("--standards", type=Path, help="standards TOML (default data/standards.toml)")
    p.add_argument("--encoding", default="auto")
    p.add_argument("--crs", default="auto")
    p.add_argument("--max-snap-m", type=float, default=1000.0)
    p.add_argument("--walk-kph", type=float, default=5.0)
    p.add_argument("--after-completion", action="store_true")
    p.add_argument("--suggest", metavar="KIND/LEVEL", help="include suggestions (MCLP)")
    p.add_argument("--count", type=int, default=5, help="new sites to suggest (default 5)")
    p.add_argument("--time-limit", type=float, default=60.0)
    p.add_argument("--compare-scenario", help="with --project: add a comparison with this scenario")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.add_argument("--title", help="report title")
    p.add_argument("--out", type=Path, required=True, help="report.html, report.pdf or report.xlsx")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("project", parents=[common], help="项目文件 / project files (.gpkg)")
    psub = p.add_subparsers(dest="action", required=True, parser_class=_Parser)
    q = psub.add_parser("new", help="create a project from sites and demand")
    q.add_argument("file", type=Path)
    q.add_argument("--sites", type=Path, required=True)
    q.add_argument("--demand", type=Path, required=True)
    q.add_argument(
        "--roads",
        type=Path,
        help="road file in the project's folder (stored relative to the project, with its hash)",
    )
    q.add_argument("--standards", type=Path, help="standards TOML (default data/standards.toml)")
    q.add_argument("--encoding", default="auto")
    q.add_argument("--crs", default="auto")
    q.add_argument("--force", action="store_true", help="overwrite an existing file")
    q = psub.add_parser("info", help="layers, row counts, scenarios, schema version")
    q.add_argument("file", type=Path)
    q = psub.add_parser("export", help="write the layers as GeoPackage/CSV files")
    q.add_argument("file", type=Path)
    q.add_argument("--out", type=Path, required=True)
    q = psub.add_parser("scenario", help="add changes (JSON list) to a scenario")
    q.add_argument("file", type=Path)
    q.add_argument("--name", required=True)
    q.add_argument("--changes", type=Path, required=True, help='[{"op": "add_site", ...}, ...]')
    q.add_argument("--note", help="what the scenario is about")
    p.set_defaults(func=_cmd_project)

    p = sub.add_parser("demo", parents=[common], help="三明示例 / the embedded Sanming demo")
    p.add_argument("--out", type=Path, help="write the demo tables to this folder")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("app", parents=[common], help="启动网页界面 / launch the web app")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument(
        "--host",
        default=os.environ.get("SERVICENET_HOST") or None,
        help="address to listen on (default 127.0.0.1, this computer only; "
        "0.0.0.0 for a shared server — the app has no login). Env: SERVICENET_HOST",
    )
    p.set_defaults(func=_cmd_app)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    from geo.scratch import clean_system_temp

    clean_system_temp()  # what earlier runs killed half-way left behind
    try:
        code: int = args.func(args)
    except ServicenetError as exc:
        print(f"servicenet: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except FileNotFoundError as exc:
        err = InputError(
            f"找不到文件或文件夹（{exc.strerror}）",
            f"no such file or folder ({exc.strerror})",
            file=str(exc.filename),
        )
        print(f"servicenet: {err.message}", file=sys.stderr)
        return 2
    except OSError as exc:  # permissions, a folder where a file is expected, a full disk ...
        err = InputError(
            f"无法读取或写入（{exc.strerror or exc}）",
            f"cannot read or write ({exc.strerror or exc})",
            file=str(exc.filename) if exc.filename else None,
        )
        print(f"servicenet: {err.message}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
