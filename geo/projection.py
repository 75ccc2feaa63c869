"""Metric coordinates for distance work: the UTM zone of the data."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
from pyproj import CRS, Transformer

FloatArray = npt.NDArray[np.float64]


def utm_crs(lon: float, lat: float) -> str:
    """EPSG code of the WGS-84 UTM zone containing (lon, lat), e.g. ``EPSG:32650``."""
    zone = int(np.clip(np.floor((lon + 180.0) / 6.0) + 1, 1, 60))
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


@lru_cache(maxsize=32)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def to_metric(lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str) -> tuple[FloatArray, FloatArray]:
    """WGS-84 degrees to metres in ``crs``."""
    x, y = _transformer("EPSG:4326", crs).transform(
        np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")
    )
    return np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")


def to_lonlat(x: npt.ArrayLike, y: npt.ArrayLike, crs: str) -> tuple[FloatArray, FloatArray]:
    """Metres in ``crs`` to WGS-84 degrees."""
    lon, lat = _transformer(crs, "EPSG:4326").transform(
        np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    )
    return np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")
