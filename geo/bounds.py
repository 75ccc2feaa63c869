"""The numbers servicenet accepts: one bound per quantity, checked where the number enters.

Every weight, capacity, cost, time and coordinate read from a table, a road
file, a change list or an option must be finite and within these bounds, or
it is refused with the file, row and column (see README, "Accepted numbers").
The bounds are generous — far beyond any real plan — but they keep every
later computation finite:

* sums: a table holds at most ``geo.textio.MAX_ROWS`` (500,000) rows, so a sum
  of weights is at most 5e14 and a sum of capacities or costs at most 5e17;
  a float64 sum of such values cannot overflow, and for whole-number weights
  (people) it is even exact (below 2**53 ≈ 9.0e15);
* products: weight x minutes (the p-median objective) stays below 1e13 per
  pair and 5e18 in total;
* solvers: HiGHS refuses matrix entries of 1e15 or more, so models scale
  capacities and costs themselves (see ``planning.locate.models``); the bounds keep
  the scaled values well inside its range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from geo.errors import InputError

if TYPE_CHECKING:  # pandas only where a table is checked (a warm road load needs none)
    import pandas as pd

BoolArray = npt.NDArray[np.bool_]

#: how many offending rows a message lists before it says "and N more"
LISTED = 5
#: what the labels of :func:`check_values` are by default: lines of a table
ROWS = ("行", "rows")


@dataclass(frozen=True)
class Bound:
    """The closed range ``low..high`` of one quantity, and its name in both languages."""

    zh: str
    en: str
    low: float
    high: float

    def describe(self) -> tuple[str, str]:
        """The rule as words: ``("须为 0 到 1e+09 之间的有限数", "must be ...")``."""
        return (
            f"{self.zh}须为 {self.low:g} 到 {self.high:g} 之间的有限数",
            f"{self.en} must be a finite number from {self.low:g} to {self.high:g}",
        )


WEIGHT = Bound("人数（权重）", "weight", 0.0, 1e9)
CAPACITY = Bound("容量", "capacity", 0.0, 1e9)
MINUTES = Bound("时间（分钟）", "minutes", 0.0, 1e4)
COST = Bound("成本", "cost", 0.0, 1e12)
#: a cost matrix's ``minutes`` may hold another impedance (spopt's San Francisco
#: example gives metres), so its bound is wider than a standard's minutes
MATRIX_COST = Bound("阻抗（时间或距离）", "impedance (time or distance)", 0.0, 1e7)
BUDGET = Bound("预算", "budget", 0.0, 1e15)
LON = Bound("经度", "longitude", -180.0, 180.0)
LAT = Bound("纬度", "latitude", -90.0, 90.0)


def outside(values: npt.ArrayLike, bound: Bound, *, allow_missing: bool = False) -> BoolArray:
    """Where ``values`` break ``bound``: not finite, below ``low`` or above ``high``.

    With ``allow_missing``, NaN means "not given" and is not an error (an
    infinity still is).
    """
    arr = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(arr) | (arr < bound.low) | (arr > bound.high)
    if allow_missing:
        bad &= ~np.isnan(arr)
    return np.asarray(bad, dtype=bool)


def check_values(
    values: npt.ArrayLike,
    bound: Bound,
    *,
    file: str | None = None,
    rows: npt.ArrayLike | None = None,
    column: str | None = None,
    where: tuple[str, str] = ROWS,
    allow_missing: bool = False,
    error: type[InputError] = InputError,
) -> None:
    """Refuse any value outside ``bound``, naming the file, the rows and the column.

    Vectorised: one pass over the values, whatever their number.

    Parameters
    ----------
    values
        The numbers, one per row.
    bound
        Their accepted range.
    file, column
        Where they come from, for the message.
    rows
        The label of each value (line numbers, node ids); 1-based positions by
        default.
    where
        What a label is, in Chinese and English (``("节点", "nodes")`` ...);
        with the default, rows, the first offending one is the error's ``row``.
    allow_missing
        NaN means "not given" and passes.
    error
        The :class:`~geo.errors.InputError` subclass raised.

    Raises
    ------
    InputError
        (or ``error``) listing the first offending rows with their values.
    """
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    bad = np.flatnonzero(outside(arr, bound, allow_missing=allow_missing))
    if not len(bad):
        return
    labels = np.arange(1, len(arr) + 1) if rows is None else np.asarray(rows).reshape(-1)
    shown = [(_plain(labels[i]), float(arr[i])) for i in bad[:LISTED]]
    zh = "、".join(f"{r}（{v!r}）" for r, v in shown)
    en = ", ".join(f"{r} ({v!r})" for r, v in shown)
    if len(bad) > len(shown):
        zh += f" 等共 {len(bad)} 处"
        en += f" and {len(bad) - len(shown)} more"
    rule_zh, rule_en = bound.describe()
    first = shown[0][0]
    raise error(
        f"{rule_zh}；不符合的{where[0]}：{zh}",
        f"{rule_en}; {where[1]} outside it: {en}",
        file=file,
        row=first if where == ROWS and isinstance(first, int) else None,
        column=column,
    )


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def check_value(
    value: object,
    bound: Bound,
    *,
    file: str | None = None,
    row: int | None = None,
    column: str | None = None,
    error: type[InputError] = InputError,
) -> float:
    """One number (an option, a field of a change): the float, or a refusal.

    Accepts ints, floats and numeric strings; refuses booleans, other types,
    NaN, infinities and values outside ``bound``.
    """
    number: float | None = None
    if isinstance(value, int | float | str | np.integer | np.floating) and not isinstance(
        value, bool
    ):
        try:
            number = float(value)
        except (ValueError, OverflowError):  # "abc", or an int beyond float
            number = None
    rule_zh, rule_en = bound.describe()
    if number is None or outside([number], bound)[0]:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise error(
            f"{rule_zh}，而不是 {shown}",
            f"{rule_en}, not {shown}",
            file=file,
            row=row,
            column=column,
        )
    return number


#: the bound of each numeric column of the sites and demand tables
TABLE_COLUMNS = {"lon": LON, "lat": LAT, "weight": WEIGHT, "capacity": CAPACITY}


def check_table(frame: pd.DataFrame, *, file: str) -> None:
    """Refuse a sites or demand table (e.g. a project layer) with a number out of bounds.

    Coordinates and weights must be given; a capacity may be empty. Rows are
    named by their 1-based position in the table.
    """
    import pandas as pd

    for column, bound in TABLE_COLUMNS.items():
        if column in frame:
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
            check_values(
                values, bound, file=file, column=column, allow_missing=column == "capacity"
            )
