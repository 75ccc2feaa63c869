"""Arrow arrays of numbers as numpy arrays, through their buffers.

pyarrow's own ``to_numpy`` (and ``np.asarray`` on an Arrow array) imports
pandas, seconds of start-up when nothing is byte-compiled and about 100 MB,
for what is a view of one buffer here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

_DTYPES = {
    pa.int8(): np.int8,
    pa.int16(): np.int16,
    pa.int32(): np.int32,
    pa.int64(): np.int64,
    pa.uint8(): np.uint8,
    pa.uint16(): np.uint16,
    pa.uint32(): np.uint32,
    pa.uint64(): np.uint64,
    pa.float32(): np.float32,
    pa.float64(): np.float64,
}


def to_numpy(values: pa.Array | pa.ChunkedArray) -> Any:
    """A numeric or boolean Arrow array without nulls as a numpy array (a copy)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.null_count:
        raise ValueError(f"{values.null_count} nulls in an array of {values.type}")
    if pa.types.is_boolean(values.type):
        return to_numpy(values.cast(pa.int8())).astype(bool)
    if values.type not in _DTYPES:
        raise TypeError(f"no numpy buffer view of {values.type}")
    dtype = np.dtype(_DTYPES[values.type])
    if len(values) == 0:
        return np.zeros(0, dtype=dtype)
    data = np.frombuffer(
        values.buffers()[1], dtype=dtype, count=len(values), offset=values.offset * dtype.itemsize
    )
    return data.copy()
