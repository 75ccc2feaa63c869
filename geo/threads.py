"""Independent pieces of compiled work run side by side on the machine's cores.

For work that is mostly compiled code releasing the GIL (GEOS unions,
noding, cKDTree, coordinate transforms): the two travel modes of one road
file, the gap outlines of several standards. Not a scale-out engine (that is
Dask's job); a few items, one thread each, results in the items' order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def side_by_side(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[work(item) for item in items]``, on up to one thread per core.

    Fewer than two items run in the calling thread. The first exception
    raised by any item is raised here.
    """
    if len(items) < 2:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(len(items), os.cpu_count() or 1)) as pool:
        return list(pool.map(work, items))
