"""Regenerate the Sanming demo's coverage regression fixture.

Run only when a change to the model is deliberate, and say why in the commit:
``uv run python scripts/make_regression.py``. The fixture is plain JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

from planning.coverage.analysis import run_analysis, summary
from planning.coverage.standards import load_standards
from planning.demo import load_demo

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests/data/sanming_coverage.json"


def demo_fixture() -> dict[str, object]:
    """The stable part of the demo's analysis: standards and county rows."""
    demo = load_demo()
    doc = summary(run_analysis(demo.sites, demo.demand, load_standards()))
    keep = (
        "kind",
        "level",
        "mode",
        "max_minutes",
        "total_weight",
        "covered_weight",
        "covered_share",
    )
    return {
        "standards": [{k: row[k] for k in keep} for row in doc["standards"]],
        "by_county": [
            {k: row[k] for k in ("county", "kind", "level", "total_weight", "covered_weight")}
            for row in doc["by_area"]
            if row["area_type"] == "county"
        ],
        "gaps": doc["gaps"],
    }


if __name__ == "__main__":
    FIXTURE.write_text(
        json.dumps(demo_fixture(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
