from __future__ import annotations

import pytest

from geo.numbers import parse_coordinate, parse_lonlat_pair, parse_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("120", 120.0),
        ("１２０", 120.0),
        (" 1,200 ", 1200.0),
        ("800人", 800.0),
        ("3.5万", 35000.0),
        ("0", 0.0),
        ("-5", -5.0),
        ("２．５", 2.5),
    ],
)
def test_parse_number(text: str, value: float) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "abc", "nan", "inf", "1,2,3,4", "12..5", "万"])
def test_parse_number_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("117.63", 117.63),
        ("１１７．６３", 117.63),
        ("117,63", 117.63),
        ("E117.63", 117.63),
        ("117.63E", 117.63),
        ("东经117.63", 117.63),
        ("W 73.5", -73.5),
        ("26°15′36″", 26.26),
        ("26度15分36秒", 26.26),
        ("26°15'", 26.25),
        ("117.63°", 117.63),
    ],
)
def test_parse_coordinate(text: str, value: float) -> None:
    assert parse_coordinate(text) == pytest.approx(value, abs=1e-12)


@pytest.mark.parametrize("text", ["", "north", "26°75′", "1e400", "--5"])
def test_parse_coordinate_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_coordinate(text)


def test_lonlat_pair_as_copied_from_amap() -> None:
    assert parse_lonlat_pair("117.638,26.263") == (117.638, 26.263)
    assert parse_lonlat_pair("117.638，26.263") == (117.638, 26.263)
    with pytest.raises(ValueError):
        parse_lonlat_pair("117.638")
