"""Shared fixtures: paths to test data and the reference data beside the repo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared" / "data"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture
def shared_data() -> Path:
    """The reference data folder ``../shared/data`` (skip with a reason if absent)."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: the shared reference data is not beside this clone")
    return SHARED


def browser_required() -> bool:
    """In CI the browser tests must run: a missing Chromium is a failure, not a skip."""
    return os.environ.get("SERVICENET_REQUIRE_BROWSER") == "1"
