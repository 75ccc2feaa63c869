"""Server time of the app: opening each page, and an edit on the map until the figures update.

Run by ``bench/bench_pipeline.py --app`` (or by hand)::

    uv run python bench/app_latency.py --out result.json [--sites S --demand D --roads R]

The app runs in Streamlit's own headless test runner (``AppTest``), which
executes the real page scripts in this process, so what is timed is server
time: a page's whole script run, and for an edit the time the app itself logs
from the change being applied (and saved) to the end of the run that shows the
updated comparison ("edit to updated figures", see ``app.py``). Without
``--sites`` the embedded demo (proxy network) is used; with a road file the
project is created from the given tables and the road file is put in use as
after an upload.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("network", "coverage", "suggest", "project", "report", "importer")


class _Edits(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if text.startswith("edit to updated figures in"):
            self.seconds.append(float(text.split(" in ")[1].split()[0]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--sites", type=Path)
    parser.add_argument("--demand", type=Path)
    parser.add_argument("--roads", type=Path)
    parser.add_argument("--edits", type=int, default=3)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="servicenet-bench-app-"))
    os.environ["SERVICENET_PROJECTS"] = str(folder)
    os.environ.setdefault("TIANDITU_KEY", "")
    from streamlit.testing.v1 import AppTest

    edits = _Edits()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
    t0 = time.perf_counter()
    at.run()
    result: dict[str, object] = {"first_run_s": round(time.perf_counter() - t0, 3)}
    logging.getLogger("servicenet.app").addHandler(edits)
    if args.sites is not None:
        from planning.cli import main as cli

        project = folder / "bench.gpkg"
        cli(
            [
                "project",
                "new",
                str(project),
                "--sites",
                str(args.sites),
                "--demand",
                str(args.demand),
                "--force",
            ]
        )
        at.switch_page("ui/pages/project.py").run()
        at.text_input(key="prj_name").set_value(project.stem)
        at.button(key="prj_open").click().run()
        if args.roads is not None:
            at.session_state["roads_path"] = str(args.roads.resolve())
            at.session_state["roads_name"] = args.roads.name
    opened: dict[str, float] = {}
    for page in PAGES:
        t0 = time.perf_counter()
        at.switch_page(f"ui/pages/{page}.py").run()
        opened[page] = round(time.perf_counter() - t0, 3)
        if at.exception:
            raise SystemExit(f"page {page} failed: {at.exception}")
    result["open_page_s"] = opened
    # an edit: save the data as a project if none is open, start a scenario, place sites
    at.switch_page("ui/pages/project.py").run()
    if args.sites is None:
        at.text_input(key="prj_name").set_value("demo")
        at.button(key="prj_save_as").click().run()
    at.text_input(key="prj_new_name").set_value("bench")
    at.button(key="prj_create").click().run()
    edits.seconds.clear()  # creating the scenario was saved too: count only the placements
    sites = at.session_state["sites"]
    lon0, lat0 = float(sites["lon"].median()), float(sites["lat"].median())
    for k in range(args.edits):
        at.session_state["prj_clicked"] = (lon0 + 0.01 * (k + 1), lat0 + 0.005 * (k + 1))
        at.run()
        at.text_input(key="prj_site_name").set_value(f"bench{k}")
        labels = [b.label for b in at.button]
        at.button[labels.index("添加规划站点")].click().run()
        if at.exception:
            raise SystemExit(f"edit failed: {at.exception}")
    result["edit_s"] = edits.seconds
    result["edit_median_s"] = statistics.median(edits.seconds) if edits.seconds else None
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
