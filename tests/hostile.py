"""Canonical hostile strings: one per way user text has broken out of its context.

Used wherever a test puts user text into HTML, JavaScript, CSS or a
spreadsheet; each must come out shown literally and run nothing.
"""

from __future__ import annotations

HOSTILE = (
    "${alert(1)}",  # a JavaScript template literal's substitution
    "`;alert(2);`",  # the end of a template literal
    "</script><script>alert(3)</script>",  # the end of a script element
    "<img src=x onerror=alert(4)>",  # HTML text
    '" onmouseover="alert(5)',  # a double-quoted attribute
    "'-alert(6)-'",  # a single-quoted string or attribute
    "甲\u2028乙\u2029丙",  # line terminators (to older JavaScript parsers)
    "{{7*7}}",  # template syntax (Jinja2, client-side frameworks)
    "C:\\new\\x41\\u0041\\x4g\\",  # backslashes: escapes, a bad escape, a last one
    "\\`${alert(8)}\\`",  # a backslash before a backtick
    "<!--<script>alert(9)//",  # the script data escaped state
    "</style><svg onload=alert(10)>",  # the end of a style element
    '=HYPERLINK("http://example.com","点我")',  # a spreadsheet formula
    "'+86热线站",  # a user's own leading apostrophe
)
