"""Every string the app shows comes from the one table, in both languages."""

from __future__ import annotations

import re
from pathlib import Path

from ui.strings import STRINGS

ROOT = Path(__file__).resolve().parent.parent


def test_every_literal_key_used_in_the_ui_exists() -> None:
    used: set[str] = set()
    for path in [ROOT / "app.py", *(ROOT / "ui").rglob("*.py")]:
        used |= set(
            re.findall(
                r"""\btr\(\s*["']([a-z0-9_]+)["']\s*[,)]""", path.read_text(encoding="utf-8")
            )
        )
        used |= set(
            re.findall(
                r"""\btext\(\s*["']([a-z0-9_]+)["']\s*[,)]""", path.read_text(encoding="utf-8")
            )
        )
    missing = sorted(used - set(STRINGS))
    assert not missing, missing
    assert len(used) > 50


def test_both_languages_present_and_placeholders_match() -> None:
    for key, (zh, en) in STRINGS.items():
        assert zh.strip() and en.strip(), key
        assert set(re.findall(r"{(\w+)", zh)) == set(re.findall(r"{(\w+)", en)), key
