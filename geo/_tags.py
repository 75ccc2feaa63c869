"""Road attributes as columns: the distinct values of each tag and a code per road.

Road files repeat themselves: a city's 300,000 lines carry a few hundred
distinct combinations of class, speed and one-way values. The rules written
for one road (:func:`geo.roads.classify`) are therefore applied once per
distinct combination of the tags they read, and the answers are broadcast back
to the roads with numpy; no Python runs per road.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
T = TypeVar("T")

#: Above this, combined codes are renumbered before another column is folded in.
_SAFE_CODE = 1 << 40


@dataclass(frozen=True)
class TagColumn:
    """One tag over many roads: ``values[codes[i]]`` is road ``i``'s value.

    ``codes`` is ``-1`` where the road has no value (absent tag, empty cell).
    """

    codes: IntArray
    values: tuple[str | None, ...]

    def __len__(self) -> int:
        return len(self.codes)

    def value(self, row: int) -> str | None:
        """The value of one road."""
        code = int(self.codes[row])
        return self.values[code] if code >= 0 else None

    def take(self, rows: IntArray) -> TagColumn:
        """The column for a subset of the roads (same values)."""
        return TagColumn(self.codes[rows], self.values)


def tag_column(codes: IntArray, values: Sequence[str | None]) -> TagColumn:
    """A column whose ``values`` may repeat or hold ``None``: codes made canonical.

    Two codes with the same value become one code, so combinations are found
    by value, and a ``None`` value becomes code ``-1``.
    """
    canonical: dict[str, int] = {}
    remap = np.full(len(values) + 1, -1, dtype=np.int64)  # the last slot maps -1
    for k, value in enumerate(values):
        if value is not None:
            remap[k] = canonical.setdefault(value, len(canonical))
    codes = np.asarray(codes, dtype=np.int64)
    return TagColumn(remap[codes], tuple(canonical))


def absent(n: int) -> TagColumn:
    """A tag that no road has."""
    return TagColumn(np.full(n, -1, dtype=np.int64), ())


def combinations(columns: Iterable[TagColumn], n: int) -> tuple[IntArray, IntArray]:
    """Distinct combinations of the columns' values over ``n`` roads.

    Returns
    -------
    combo, first
        For every road the index of its combination, and for every combination
        the first road that has it (combinations numbered in order of first
        appearance, so the result does not depend on the values' order).
    """
    key = np.zeros(n, dtype=np.int64)
    for column in columns:
        if len(column) != n:
            raise ValueError(f"a column has {len(column)} rows, expected {n}")
        width = len(column.values) + 1
        if int(key.max(initial=0)) + 1 >= _SAFE_CODE // width:
            _, key = np.unique(key, return_inverse=True)
            key = key.astype(np.int64).reshape(-1)
        key = key * width + (column.codes + 1)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    # number combinations by first appearance
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    return rank[inverse.reshape(-1)], first[order].astype(np.int64)


def per_combination(
    columns: Mapping[str, TagColumn],
    n: int,
    decide: Callable[[Mapping[str, str | None]], T],
) -> tuple[IntArray, list[T]]:
    """Call ``decide`` once per distinct combination of ``columns``' values.

    ``decide`` gets the combination as ``{tag: value or None}`` (every key of
    ``columns``). Returns the combination index of every road and the answers.
    """
    names = list(columns)
    combo, first = combinations((columns[k] for k in names), n)
    answers = [decide({k: columns[k].value(int(row)) for k in names}) for row in first]
    return combo, answers


@dataclass(frozen=True)
class Verdicts:
    """What a classifier says of many roads.

    ``kph_f``/``kph_b`` are km/h each way (0 where forbidden) and ``source``
    where the speed came from, ``-1`` for a road not usable in the mode.
    """

    kph_f: npt.NDArray[np.float64]
    kph_b: npt.NDArray[np.float64]
    source: npt.NDArray[np.int8]

    @property
    def usable(self) -> npt.NDArray[np.bool_]:
        """Roads the mode may use."""
        return self.source >= 0
