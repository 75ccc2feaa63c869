"""The two choke points for user text leaving the program.

* :func:`html_text` — every user string that reaches HTML (map popups,
  tooltips, legends, reports) goes through it.
* :func:`spreadsheet_text` — every text cell written to CSV or XLSX goes
  through it, so a site named ``=HYPERLINK(...)`` stays text in Excel/WPS
  (OWASP CSV injection: a leading ``= + - @`` tab or carriage return).
"""

from __future__ import annotations

import html
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def html_text(value: Any) -> str:
    """Escape a value for HTML text or attribute context (quotes included)."""
    if value is None:
        return ""
    return html.escape(str(value), quote=True)


def spreadsheet_text(value: str) -> str:
    """Neutralise a text cell for spreadsheets by a leading apostrophe when needed.

    Full-width lookalikes are included because WPS and Excel normalise some of
    them on entry.
    """
    if value and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """Undo :func:`spreadsheet_text` for a cell that servicenet itself wrote."""
    if len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value
