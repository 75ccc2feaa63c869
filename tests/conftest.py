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


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary HOME, user cache, projects folder, temporary folder (``t/a``), working
    folder (``cwd/a/b``) and an empty ``outside/``, for tests of where files may go."""
    import tempfile

    for sub in ("home", "cache", "projects", "outside", "t/a", "cwd/a/b"):
        (tmp_path / sub).mkdir(parents=True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("SERVICENET_PROJECTS", str(tmp_path / "projects"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "t/a"))
    monkeypatch.chdir(tmp_path / "cwd/a/b")
    return tmp_path
