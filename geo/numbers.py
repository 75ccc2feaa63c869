"""Parsing numbers and coordinates as people type them into spreadsheets."""

from __future__ import annotations

import math
import re
import unicodedata

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_UNIT_SUFFIX = re.compile(r"(人|个|名|座|户|间|册|本|平方米|㎡|m2|人次)$")
_DMS = re.compile(
    r"^(?P<deg>\d+(?:\.\d+)?)\s*[°度]\s*"
    r"(?:(?P<min>\d+(?:\.\d+)?)\s*['′分]\s*)?"
    r"(?:(?P<sec>\d+(?:\.\d+)?)\s*(?:[\"″秒]|''|′′)\s*)?$"
)
_PLAIN = re.compile(r"-?\d{1,3}(?:\.\d+)?\Z")
_HEMISPHERE = {"e": 1, "n": 1, "w": -1, "s": -1, "东经": 1, "北纬": 1, "西经": -1, "南纬": -1}


def fold(text: str) -> str:
    """NFKC-normalise and strip (full-width digits, signs and points become ASCII)."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_number(text: str) -> float:
    """Parse a quantity such as ``１２０``, ``1,200``, ``3.5万``, ``800人``.

    Raises
    ------
    ValueError
        When the text is not a finite number.
    """
    t = fold(text).replace(" ", "")
    t = _UNIT_SUFFIX.sub("", t)
    scale = 1.0
    if t.endswith("万"):
        scale, t = 1e4, t[:-1]
    elif t.endswith("亿"):
        scale, t = 1e8, t[:-1]
    if _THOUSANDS.match(t):
        t = t.replace(",", "")
    value = float(t) * scale
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {text!r}")
    return value


def _unsigned(text: str) -> tuple[int, str]:
    """(sign from a hemisphere mark, the rest folded, a decimal comma made a point)."""
    t = fold(text).replace(" ", "").lower()
    sign = 1
    for mark, s in _HEMISPHERE.items():
        if t.startswith(mark) or t.endswith(mark):
            t = t[len(mark) :] if t.startswith(mark) else t[: -len(mark)]
            sign = s
            break
    if t.count(",") == 1 and "." not in t:
        t = t.replace(",", ".")
    return sign, t


def parse_coordinate(text: str) -> float:
    """Parse a longitude or latitude in decimal degrees or degrees-minutes-seconds.

    Accepts ``117.63``, ``117,63`` (decimal comma), ``117°38′12″``, ``E117.63``,
    ``117.63E``, ``东经117.63``; west and south make the value negative.

    Raises
    ------
    ValueError
        When the text is not a coordinate.
    """
    if _PLAIN.match(text):  # the common case, a plain decimal: no folding, no patterns
        return float(text)
    sign, t = _unsigned(text)
    match = _DMS.match(t)
    if match:
        deg = float(match["deg"])
        minutes = float(match["min"] or 0)
        seconds = float(match["sec"] or 0)
        if minutes >= 60 or seconds >= 60:
            raise ValueError(f"minutes or seconds out of range: {text!r}")
        value = deg + minutes / 60 + seconds / 3600
    else:
        t = t.rstrip("°度")
        value = float(t)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {text!r}")
    return sign * value


def split_pair(text: str) -> tuple[str, str]:
    """The two parts of ``"117.63,26.27"`` (the Amap/Baidu picker format) as text."""
    t = fold(text)
    for sep in (",", ";", " ", "/", "|"):
        if sep in t:
            parts = [p for p in t.split(sep) if p.strip()]
            if len(parts) == 2:
                return parts[0], parts[1]
    raise ValueError(f"not a 'lon,lat' pair: {text!r}")


def parse_lonlat_pair(text: str) -> tuple[float, float]:
    """Split ``"117.63,26.27"`` (the Amap/Baidu picker format) into two numbers."""
    lon, lat = split_pair(text)
    return parse_coordinate(lon), parse_coordinate(lat)


def _decimals(number: str) -> int:
    return len(number.partition(".")[2])


def coordinate_step(text: str) -> tuple[float, str, int]:
    """How finely a coordinate was written: (half its last unit in degrees, unit, decimals).

    ``unit`` is ``"degree"``, ``"minute"`` or ``"second"``, the smallest unit
    the text gives; ``117.63`` -> (0.005, "degree", 2), ``117°38′`` ->
    (1/120, "minute", 0). A value is then known to within ± that step.
    """
    if _PLAIN.match(text):
        return 0.5 * 10.0 ** -_decimals(text), "degree", _decimals(text)
    _, t = _unsigned(text)
    match = _DMS.match(t)
    if match and match["sec"]:
        d = _decimals(match["sec"])
        return 0.5 * 10.0**-d / 3600.0, "second", d
    if match and match["min"]:
        d = _decimals(match["min"])
        return 0.5 * 10.0**-d / 60.0, "minute", d
    number = match["deg"] if match else t.rstrip("°度")
    return 0.5 * 10.0 ** -_decimals(number), "degree", _decimals(number)
