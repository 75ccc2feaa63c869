"""The one place where user text is escaped for the context it reaches.

Every string a user controls — site, township and county names, kind and level
words, a project or scenario name, a report title — leaves the program through
one of these functions, chosen by where it lands:

* :func:`html_text` — HTML element text and quoted attribute values (map
  popups, tooltips, legends, layer names, reports). Its output is also inert
  inside a JavaScript template literal, where folium puts the HTML of
  tooltips and popups (`` ` ``, ``$`` and ``\\`` become character references).
* :func:`script_json` — a JSON value, or a JavaScript string literal, written
  into a ``<script>`` element (``</script>``, ``<!--``, U+2028/U+2029 escaped).
* :func:`css_string` — the inside of a double-quoted CSS string (the report's
  page header).
* :func:`markdown_text` — text inside a Streamlit message (``st.caption``,
  ``st.error`` …), which Streamlit renders as Markdown.
* :func:`spreadsheet_text` — a CSV cell: formula-like text gets a leading
  apostrophe (OWASP CSV injection), undone on import only for files
  servicenet marked as its own (:data:`CSV_MARKER`, :func:`unneutralise`).
* :func:`xlsx_text` — an XLSX cell: the text exactly, typed as text and
  quote-prefixed, so Excel and WPS never evaluate it, not even after an edit.

Code that builds HTML, JavaScript or CSS from user text calls these and
nothing else; Jinja2 templates rely on autoescaping (the HTML context).
"""

from __future__ import annotations

import json
import re
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")

#: The last line of a CSV that servicenet wrote and in which it neutralised at
#: least one cell. Only such files get their apostrophes removed on import.
CSV_MARKER = (
    "#servicenet-csv 以 ' 开头的单元格是 servicenet 为防公式注入所加"
    " / servicenet added the leading ' of a cell against formula injection"
)

_HTML = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#x27;",
        "`": "&#96;",
        "$": "&#36;",
        "\\": "&#92;",
        "{": "&#123;",
        "\u2028": "&#8232;",
        "\u2029": "&#8233;",
    }
)
#: every ASCII punctuation character (CommonMark lets a backslash escape each)
_MARKDOWN = re.compile(r"[!-/:-@\[-`{-~]")
_JINJA_OPEN = re.compile(r"\{(?=[{%#])")
#: characters XML 1.0 (so XLSX) cannot hold; openpyxl refuses them
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SCRIPT_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("'", "\\u0027"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


#: the translation table of :func:`html_text`, for escaping a whole column
#: (``Series.str.translate``)
HTML_ESCAPES = _HTML


def html_text(value: Any) -> str:
    """Escape a value for HTML text or a quoted attribute (``None`` gives ``""``).

    Besides ``& < > " '`` it replaces `` ` ``, ``$``, ``\\``, ``{`` and
    U+2028/U+2029 by character references, which render the same. The result is then also
    inert inside a JavaScript template literal (``${…}`` cannot run, a
    backslash cannot start an escape), where folium's ``Tooltip`` and ``Popup``
    place their HTML, and inside a Jinja2 template: branca renders the output
    of every folium element *again* as a template, so ``{{ … }}`` in a name
    would run on the server.

    >>> html_text("`${alert(1)}` <b>{{7*7}}")
    '&#96;&#36;&#123;alert(1)}&#96; &lt;b&gt;&#123;&#123;7*7}}'
    """
    if value is None:
        return ""
    return str(value).translate(_HTML)


def script_json(value: Any) -> str:
    """JSON text that is safe inside a ``<script>`` element.

    A string gives a JavaScript string literal. ``<``, ``>``, ``&`` and ``'``
    become ``\\u`` escapes (no ``</script>`` or ``<!--`` can end or change the
    script), and so do U+2028/U+2029 (line terminators to older parsers) and
    a ``{`` that opens a Jinja2 tag (branca renders scripts again as templates).

    >>> script_json("</script>")
    '"\\\\u003c/script\\\\u003e"'
    """
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    # one str.replace per character (a translate table runs per character in
    # Python: a tenth of a second on the megabyte of a 20,000-point layer)
    for char, escape in _SCRIPT_ESCAPES:
        if char in text:
            text = text.replace(char, escape)
    # JSON's own braces are never followed by { % or #: these are inside strings
    return _JINJA_OPEN.sub(r"\\u007b", text)


def css_string(value: Any) -> str:
    """The inside of a double-quoted CSS string showing ``value`` literally.

    Letters, digits (any script) and spaces are kept; every other character
    becomes a hexadecimal CSS escape, so quotes, backslashes, line breaks and
    ``</style>`` cannot end the string. The result holds nothing HTML
    autoescaping would change.

    >>> css_string('三明 "报告"')
    '三明 \\\\22 报告\\\\22 '
    """
    if value is None:
        return ""
    return "".join(c if c.isalnum() or c == " " else f"\\{ord(c):x} " for c in str(value))


def markdown_text(value: Any) -> str:
    """Text that a Markdown renderer (Streamlit's ``st.caption``, ``st.error`` …) shows as is.

    Every ASCII punctuation character gets a backslash (CommonMark allows one
    before any), so emphasis, code, links, images (which would fetch a URL
    when shown), HTML, Streamlit's ``:red[…]`` directives and ``$…$`` formulas
    stay text.

    >>> print(markdown_text("![x](p.png) *a*"))
    \\!\\[x\\]\\(p\\.png\\) \\*a\\*
    """
    if value is None:
        return ""
    return _MARKDOWN.sub(r"\\\g<0>", str(value))


def spreadsheet_text(value: str) -> str:
    """Neutralise a CSV text cell by a leading apostrophe when it looks like a formula.

    Text that begins with ``= + - @``, a tab or a carriage return, after any
    apostrophes of its own, gets one more apostrophe in front, so that
    :func:`unneutralise` gives back exactly the text (``'-x`` is written as
    ``''-x``). Full-width lookalikes count because WPS and Excel normalise
    some of them on entry. A CSV holding such a cell ends with :data:`CSV_MARKER`.

    >>> spreadsheet_text("=1+1"), spreadsheet_text("'+86"), spreadsheet_text("'a")
    ("'=1+1", "''+86", "'a")
    """
    if value.lstrip("'").startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """Undo :func:`spreadsheet_text`; only for a CSV that ends with :data:`CSV_MARKER`.

    Any other file keeps its text exactly: a user's ``'+86热线站`` stays as written.
    """
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


def xlsx_text(cell: Any, value: str) -> None:
    """Write text into an openpyxl cell exactly, as text no spreadsheet evaluates.

    The cell is typed as a string (openpyxl would store ``=…`` as a formula)
    and, when the text looks like a formula, quote-prefixed, so that Excel and
    WPS keep it as text even when the cell is edited. Control characters XML
    cannot hold (openpyxl refuses them) become U+FFFD.
    """
    cell.value = _XML_ILLEGAL.sub("\ufffd", value)
    cell.data_type = "s"
    if value.startswith(FORMULA_TRIGGERS):
        cell.quotePrefix = True
