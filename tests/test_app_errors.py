"""The app listens on this computer only unless asked, and a bug shows the user a message
in their language, never a traceback (issue 11, item 2 and the deliverables)."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


def test_streamlit_config_binds_locally_and_hides_error_details() -> None:
    config = tomllib.loads((ROOT / ".streamlit/config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"
    assert config["client"]["showErrorDetails"] == "none"


@pytest.fixture(params=["repo", "elsewhere"])
def started_in(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Streamlit reads .streamlit/config.toml from the working folder: the app is
    started from the repository or from another folder (no config file there)."""
    from streamlit import config

    monkeypatch.chdir(ROOT if request.param == "repo" else tmp_path)
    config.get_config_options(force_reparse=True)
    yield request.param
    monkeypatch.chdir(ROOT)
    config.get_config_options(force_reparse=True)


def test_an_unexpected_error_is_logged_and_shown_without_details(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, started_in: str
) -> None:
    import ui.analysis

    def bug(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom in /srv/secret/servicenet/geo/x.py")

    monkeypatch.setattr(ui.analysis, "current_analysis", bug)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    with caplog.at_level(logging.ERROR):
        at.switch_page("ui/pages/coverage.py").run(timeout=120)
    assert any("出现了意外错误" in e.value for e in at.error), [e.value for e in at.error]
    shown = [e.value for e in at.error] + [x.value for x in at.exception]
    assert not any("/srv/secret" in text or "RuntimeError" in text for text in shown), shown
    assert all(not x.stack_trace for x in at.exception)
    assert "boom in /srv/secret" in caplog.text  # the details are in the server log
    at.radio(key="lang").set_value("en").run(timeout=120)
    assert any("An unexpected error" in e.value for e in at.error)


@pytest.mark.parametrize(
    ("argv", "env", "address"),
    [
        ([], None, "127.0.0.1"),
        (["--host", "0.0.0.0"], None, "0.0.0.0"),
        ([], "192.168.1.5", "192.168.1.5"),
    ],
)
def test_servicenet_app_host_option(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    env: str | None,
    address: str,
) -> None:
    import planning.cli

    if env is None:
        monkeypatch.delenv("SERVICENET_HOST", raising=False)
    else:
        monkeypatch.setenv("SERVICENET_HOST", env)

    class Started(Exception):
        pass

    def start(exe: str, cmd: list[str], **kwargs: object) -> None:
        raise Started(cmd)  # instead of becoming (or running) the Streamlit server

    monkeypatch.setattr(planning.cli.os, "execv", start)
    monkeypatch.setattr(planning.cli.subprocess, "call", lambda cmd, **kw: start("", cmd))
    monkeypatch.setattr(planning.cli.os, "chdir", lambda path: None)
    monkeypatch.setattr("geo.mapassets.install_map_assets", lambda folder: folder)
    with pytest.raises(Started) as info:
        planning.cli.main(["app", *argv])
    cmd = info.value.args[0]
    assert cmd[cmd.index("--server.address") + 1] == address
    if address == "0.0.0.0":
        assert "no login" in capsys.readouterr().err
