"""Shared fixtures: paths to test data and the reference data beside the repo."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared" / "data"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def shared_data() -> Path:
    """The reference data folder ``../shared/data`` (skip with a reason if absent)."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: the shared reference data is not beside this clone")
    return SHARED


def browser_required() -> bool:
    """In CI the browser tests must run: a missing Chromium is a failure, not a skip."""
    return os.environ.get("SERVICENET_REQUIRE_BROWSER") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip a browser test for a missing tool, or fail where browser tests must run."""
    if browser_required():
        pytest.fail(f"{reason} (SERVICENET_REQUIRE_BROWSER=1: browser tests must run here)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (skipped when either is missing)."""
    if not Path(CHROMIUM).exists():
        skip_or_fail("Chromium is not installed (apt-get install chromium); browser test skipped")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed; browser test skipped")
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


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
