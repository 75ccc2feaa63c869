"""Conversion between the WGS-84, GCJ-02 and BD-09 geographic coordinate systems.

* WGS-84 is the GPS datum used by OpenStreetMap and most data outside China.
* GCJ-02 ("Mars coordinates") is the obfuscated datum required for maps published
  in mainland China and used by Amap (Gaode) and Tencent maps. It is WGS-84 plus a
  non-linear offset of a few hundred metres, computed on the Krasovsky 1940 ellipsoid.
* BD-09 is Baidu's datum: GCJ-02 with a further small rotation and shift.

Every public function is vectorised with numpy. It accepts scalars or array-likes of
equal shape and returns a tuple ``(lon, lat)`` of new float64 arrays of that shape
(0-d arrays for scalar input; use ``float()`` or ``.item()`` to get Python floats).
Angles are decimal degrees, longitude first.

Points outside the rough China box tested by :func:`in_china` are returned unchanged
by every transform, and so are non-finite coordinates: NaN stays NaN without raising
or warning. The test is applied to the *input* of each transform, so a point within
about 0.02 degrees inside the edge of the box can be moved outside it (or the reverse)
and will then not round-trip exactly. That margin lies in the sea or outside China.

The inverse transforms (GCJ-02 to WGS-84 and BD-09 to GCJ-02) have no closed form, so
they are solved by fixed-point iteration until the forward transform of the result
matches the input to better than 1e-10 degrees (about 0.01 mm), or 30 iterations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = [
    "CRS_NAMES",
    "CrsName",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "convert",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "normalise_crs_name",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
ComplexArray: TypeAlias = npt.NDArray[np.complex128]
LonLat: TypeAlias = tuple[FloatArray, FloatArray]
_Kernel: TypeAlias = Callable[[FloatArray, FloatArray], LonLat]

CrsName: TypeAlias = Literal["wgs84", "gcj02", "bd09"]
CRS_NAMES: Final[tuple[CrsName, CrsName, CrsName]] = ("wgs84", "gcj02", "bd09")

_ALIASES: Final[dict[str, CrsName]] = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "wgs_84": "wgs84",
    "wgs": "wgs84",
    "epsg:4326": "wgs84",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "gcj_02": "gcj02",
    "gcj": "gcj02",
    "amap": "gcj02",
    "gaode": "gcj02",
    "tencent": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "bd_09": "bd09",
    "bd09ll": "bd09",
    "baidu": "bd09",
}

# Rough bounding box of China used by the common published implementations of GCJ-02.
_LON_MIN: Final = 72.004
_LON_MAX: Final = 137.8347
_LAT_MIN: Final = 0.8293
_LAT_MAX: Final = 55.8271

# Krasovsky 1940 ellipsoid: semi-major axis (m) and first eccentricity squared.
_KRASOVSKY_A: Final = 6378245.0
_KRASOVSKY_EE: Final = 0.00669342162296594323
# exp(i*pi*y/60) = exp(i*3*lat_rad) * exp(-i*35*pi/60), with y = lat - 35 degrees.
_Y_PHASE: Final = complex(np.cos(7.0 * np.pi / 12.0), -np.sin(7.0 * np.pi / 12.0))

# BD-09 parameters.
_X_PI: Final = np.pi * 3000.0 / 180.0
_BD_Z_AMPLITUDE: Final = 0.00002
_BD_THETA_AMPLITUDE: Final = 0.000003
_BD_DLON: Final = 0.0065
_BD_DLAT: Final = 0.006

# Stopping rule for the iterative inverses.
_INVERSE_TOL_DEG: Final = 1e-10
_INVERSE_MAX_ITER: Final = 30

# Points per kernel call; small enough for the temporaries to stay in the CPU cache.
_CHUNK_SIZE: Final = 16384


def normalise_crs_name(name: str) -> CrsName:
    """Return the canonical name in ``CRS_NAMES`` for a coordinate system name or alias.

    Parameters
    ----------
    name
        A canonical name or an alias, matched case-insensitively and ignoring
        surrounding whitespace: "wgs84", "wgs-84", "epsg:4326", "gcj02", "gcj-02",
        "gcj", "amap", "tencent", "bd09", "bd-09", "bd09ll", "baidu" and similar.

    Returns
    -------
    name
        One of "wgs84", "gcj02" or "bd09".

    Raises
    ------
    TypeError
        If `name` is not a string.
    ValueError
        If `name` is not a known coordinate system name.
    """
    if not isinstance(name, str):
        raise TypeError(f"coordinate system name must be a string, not {type(name).__name__}")
    canonical = _ALIASES.get(name.strip().lower())
    if canonical is None:
        aliases = ", ".join(sorted(set(_ALIASES) - set(CRS_NAMES)))
        raise ValueError(
            f"unknown coordinate system {name!r}: expected one of {', '.join(CRS_NAMES)} "
            f"(aliases: {aliases})"
        )
    return canonical


def _as_lon_lat(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """Convert inputs to float64 arrays of equal shape.

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes in degrees.

    Returns
    -------
    lon, lat
        The inputs as float64 arrays (not copied when already float64 arrays).

    Raises
    ------
    ValueError
        If the shapes differ.
    """
    lon_arr = np.asarray(lon, dtype=np.float64)
    lat_arr = np.asarray(lat, dtype=np.float64)
    if lon_arr.shape != lat_arr.shape:
        raise ValueError(
            f"lon and lat must have the same shape, got {lon_arr.shape} and {lat_arr.shape}"
        )
    return lon_arr, lat_arr


def _in_box(lon: FloatArray, lat: FloatArray) -> BoolArray:
    """Test float64 arrays against the China box; NaN compares as outside.

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes in degrees, of equal shape.

    Returns
    -------
    inside
        True where the point lies inside the box, bounds included.
    """
    with np.errstate(invalid="ignore"):
        return (lon >= _LON_MIN) & (lon <= _LON_MAX) & (lat >= _LAT_MIN) & (lat <= _LAT_MAX)


def in_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> BoolArray:
    """Test whether points lie in the rough China box where the offsets apply.

    The box is longitude 72.004 to 137.8347 and latitude 0.8293 to 55.8271, bounds
    included. It is the box used by the common GCJ-02 implementations, so it also
    covers parts of neighbouring countries and seas. NaN is outside.

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes in degrees, scalars or array-likes of equal shape.

    Returns
    -------
    inside
        Boolean array of the input shape (0-d for scalar input).
    """
    lon_arr, lat_arr = _as_lon_lat(lon, lat)
    return _in_box(lon_arr, lat_arr)


def _apply_in_china(lon: npt.ArrayLike, lat: npt.ArrayLike, kernel: _Kernel) -> LonLat:
    """Apply a kernel to the points inside the China box and copy the others through.

    The points are processed in chunks so that the kernel's temporaries stay in the
    CPU cache; the loop is over chunks of many thousand points, not over points.

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes in degrees, scalars or array-likes of equal shape.
    kernel
        Transform of 1-D float64 arrays of finite in-box points.

    Returns
    -------
    lon, lat
        New float64 arrays of the input shape.
    """
    lon_arr, lat_arr = _as_lon_lat(lon, lat)
    out_lon = lon_arr.copy()
    out_lat = lat_arr.copy()
    inside = _in_box(lon_arr, lat_arr)
    if not inside.any():
        return out_lon, out_lat
    sel_lon = lon_arr[inside]
    sel_lat = lat_arr[inside]
    with np.errstate(all="ignore"):
        for start in range(0, sel_lon.size, _CHUNK_SIZE):
            chunk = slice(start, start + _CHUNK_SIZE)
            sel_lon[chunk], sel_lat[chunk] = kernel(sel_lon[chunk], sel_lat[chunk])
    out_lon[inside] = sel_lon
    out_lat[inside] = sel_lat
    return out_lon, out_lat


def _invert(forward: _Kernel, lon: FloatArray, lat: FloatArray, guess: LonLat) -> LonLat:
    """Solve ``forward(x) == (lon, lat)`` for x by fixed-point iteration.

    Each step subtracts the residual ``forward(x) - (lon, lat)`` from x. This
    converges fast because both forward transforms are the identity plus an offset
    that varies slowly (each step shrinks the error roughly a hundredfold). The loop
    stops once every residual is below 1e-10 degrees, or after 30 steps.

    Parameters
    ----------
    forward
        Forward transform of 1-D float64 arrays.
    lon, lat
        Target coordinates in degrees, 1-D.
    guess
        Starting point (lon, lat); it is not modified.

    Returns
    -------
    lon, lat
        Solution in degrees, 1-D.
    """
    x_lon = guess[0].copy()
    x_lat = guess[1].copy()
    for _ in range(_INVERSE_MAX_ITER):
        f_lon, f_lat = forward(x_lon, x_lat)
        r_lon = f_lon - lon
        r_lat = f_lat - lat
        x_lon -= r_lon
        x_lat -= r_lat
        if max(np.abs(r_lon).max(), np.abs(r_lat).max()) < _INVERSE_TOL_DEG:
            break
    return x_lon, x_lat


def _unit_complex(cos_a: FloatArray, sin_a: FloatArray) -> ComplexArray:
    """Build ``exp(i*a)`` from its cosine and sine.

    Parameters
    ----------
    cos_a, sin_a
        Cosine and sine of the angle a.

    Returns
    -------
    z
        ``cos_a + i*sin_a``.
    """
    z = np.empty(cos_a.shape, dtype=np.complex128)
    z.real = cos_a
    z.imag = sin_a
    return z


def _gcj02_offset(lon: FloatArray, lat: FloatArray) -> LonLat:
    """Compute the GCJ-02 offset at WGS-84 points.

    With x = lon - 105 and y = lat - 35 (degrees), the offset in metres is

    * north: -100 + 2x + 3y + 0.2y^2 + 0.1xy + 0.2sqrt|x|
      + 2/3 (20 sin 6pi x + 20 sin 2pi x + 20 sin pi y + 40 sin(pi y/3)
      + 160 sin(pi y/12) + 320 sin(pi y/30))
    * east: 300 + x + 2y + 0.1x^2 + 0.1xy + 0.1sqrt|x|
      + 2/3 (20 sin 6pi x + 20 sin 2pi x + 20 sin pi x + 40 sin(pi x/3)
      + 150 sin(pi x/12) + 300 sin(pi x/30))

    and it is turned into degrees with the meridian and prime-vertical radii of
    curvature of the Krasovsky ellipsoid at the latitude.

    Every sinusoid is a harmonic of pi*x/60 or of pi*y/60 = 3*lat_rad - 7*pi/12, so
    instead of ten separate sines (the slow part) the harmonics are obtained as
    integer powers of ``exp(i*pi*x/60)`` and ``exp(i*pi*y/60)``; the latter comes
    from the sine and cosine of the latitude, which the radii need anyway. Each cosine
    is taken as the square root of one minus the squared sine, which is accurate
    because the angles lie well within (-pi/2, pi/2) for points near the China box:
    the latitude itself and pi*x/120 (half the x base angle, squared afterwards).
    The result agrees with direct evaluation to about 1e-16 degrees.

    Parameters
    ----------
    lon, lat
        WGS-84 longitudes and latitudes in degrees, in or near the China box.

    Returns
    -------
    dlon, dlat
        Offsets in degrees to add to the WGS-84 coordinates.
    """
    x = lon - 105.0
    y = lat - 35.0
    rad_lat = np.radians(lat)
    sin_lat = np.sin(rad_lat)
    cos_lat = np.sqrt(1.0 - sin_lat * sin_lat)

    # Harmonics of pi*y/60 from exp(i*lat_rad): u_k = exp(i*k*pi*y/60).
    e_lat = _unit_complex(cos_lat, sin_lat)
    u1 = e_lat * e_lat * e_lat * _Y_PHASE
    u2 = u1 * u1
    u5 = u2 * u2 * u1
    u20 = u5 * u5
    u20 *= u20
    u60 = u20 * u20 * u20

    # Harmonics of pi*x/60: v_k = exp(i*k*pi*x/60).
    sin_half = np.sin((np.pi / 120.0) * x)
    v_half = _unit_complex(np.sqrt(1.0 - sin_half * sin_half), sin_half)
    v1 = v_half * v_half
    v2 = v1 * v1
    v5 = v2 * v2 * v1
    v20 = v5 * v5
    v20 *= v20
    v60 = v20 * v20 * v20
    v120 = v60 * v60
    v360 = v120 * v120 * v120

    xy = x * y
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = 20.0 * v360.imag + 20.0 * v120.imag  # 20 sin(6 pi x) + 20 sin(2 pi x)
    dlat_m = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * xy + 0.2 * sqrt_abs_x
    dlat_m += (2.0 / 3.0) * (
        common + 20.0 * u60.imag + 40.0 * u20.imag + 160.0 * u5.imag + 320.0 * u2.imag
    )
    dlon_m = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * xy + 0.1 * sqrt_abs_x
    dlon_m += (2.0 / 3.0) * (
        common + 20.0 * v60.imag + 40.0 * v20.imag + 150.0 * v5.imag + 300.0 * v2.imag
    )

    # Metres to degrees: meridian radius a(1-ee)/w^3 and prime-vertical radius a/w.
    w2 = 1.0 - _KRASOVSKY_EE * sin_lat * sin_lat
    w = np.sqrt(w2)
    dlat = np.degrees(dlat_m * (w2 * w) / (_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)))
    dlon = np.degrees(dlon_m * w / (_KRASOVSKY_A * cos_lat))
    return dlon, dlat


def _wgs84_to_gcj02(lon: FloatArray, lat: FloatArray) -> LonLat:
    """Apply the GCJ-02 offset without the China box test.

    Parameters
    ----------
    lon, lat
        WGS-84 coordinates in degrees.

    Returns
    -------
    lon, lat
        GCJ-02 coordinates in degrees.
    """
    dlon, dlat = _gcj02_offset(lon, lat)
    return lon + dlon, lat + dlat


def _gcj02_to_wgs84(lon: FloatArray, lat: FloatArray) -> LonLat:
    """Invert the GCJ-02 offset by iteration, without the China box test.

    Parameters
    ----------
    lon, lat
        GCJ-02 coordinates in degrees, 1-D.

    Returns
    -------
    lon, lat
        WGS-84 coordinates in degrees.
    """
    dlon, dlat = _gcj02_offset(lon, lat)
    return _invert(_wgs84_to_gcj02, lon, lat, (lon - dlon, lat - dlat))


def _rotate_scale(x: FloatArray, y: FloatArray, dradius: FloatArray, dtheta: FloatArray) -> LonLat:
    """Add small increments to the polar radius and angle of points (x, y).

    Computes ``(r + dradius) * (cos(theta + dtheta), sin(theta + dtheta))`` where
    (r, theta) are the polar coordinates of (x, y). Expanding the rotation avoids
    arctan2, cos and sin: with |dtheta| <= 3e-6 the truncated series for
    cos(dtheta) and sin(dtheta) are exact to about 1e-29.

    Parameters
    ----------
    x, y
        Cartesian coordinates, not both zero.
    dradius
        Increment of the radius.
    dtheta
        Increment of the angle in radians, at most a few millionths.

    Returns
    -------
    x, y
        The moved point.
    """
    radius = np.hypot(x, y)
    scale = (radius + dradius) / radius
    cos_d = 1.0 - 0.5 * dtheta * dtheta
    sin_d = dtheta * (1.0 - dtheta * dtheta / 6.0)
    return scale * (x * cos_d - y * sin_d), scale * (y * cos_d + x * sin_d)


def _gcj02_to_bd09(lon: FloatArray, lat: FloatArray) -> LonLat:
    """Apply the BD-09 transform without the China box test.

    In polar coordinates (z, theta) of (lon, lat) in degrees, BD-09 adds
    2e-5 sin(lat * x_pi) to z and 3e-6 cos(lon * x_pi) to theta, with
    x_pi = pi * 3000 / 180, then shifts by (0.0065, 0.006).

    Parameters
    ----------
    lon, lat
        GCJ-02 coordinates in degrees.

    Returns
    -------
    lon, lat
        BD-09 coordinates in degrees.
    """
    bd_lon, bd_lat = _rotate_scale(
        lon,
        lat,
        _BD_Z_AMPLITUDE * np.sin(lat * _X_PI),
        _BD_THETA_AMPLITUDE * np.cos(lon * _X_PI),
    )
    return bd_lon + _BD_DLON, bd_lat + _BD_DLAT


def _bd09_to_gcj02_approx(lon: FloatArray, lat: FloatArray) -> LonLat:
    """Apply the usual closed-form approximate inverse of BD-09.

    It undoes the shift, then subtracts the radius and angle increments evaluated at
    the shifted point instead of the unknown GCJ-02 point (error up to about 0.25 m).

    Parameters
    ----------
    lon, lat
        BD-09 coordinates in degrees.

    Returns
    -------
    lon, lat
        Approximate GCJ-02 coordinates in degrees.
    """
    x = lon - _BD_DLON
    y = lat - _BD_DLAT
    return _rotate_scale(
        x,
        y,
        -_BD_Z_AMPLITUDE * np.sin(y * _X_PI),
        -_BD_THETA_AMPLITUDE * np.cos(x * _X_PI),
    )


def _bd09_to_gcj02(lon: FloatArray, lat: FloatArray) -> LonLat:
    """Invert BD-09 exactly by iteration, without the China box test.

    Parameters
    ----------
    lon, lat
        BD-09 coordinates in degrees, 1-D.

    Returns
    -------
    lon, lat
        GCJ-02 coordinates in degrees.
    """
    return _invert(_gcj02_to_bd09, lon, lat, _bd09_to_gcj02_approx(lon, lat))


def _wgs84_to_bd09(lon: FloatArray, lat: FloatArray) -> LonLat:
    """Convert WGS-84 to BD-09 via GCJ-02, without the China box test.

    Parameters
    ----------
    lon, lat
        WGS-84 coordinates in degrees.

    Returns
    -------
    lon, lat
        BD-09 coordinates in degrees.
    """
    return _gcj02_to_bd09(*_wgs84_to_gcj02(lon, lat))


def _bd09_to_wgs84(lon: FloatArray, lat: FloatArray) -> LonLat:
    """Convert BD-09 to WGS-84 via GCJ-02, without the China box test.

    Parameters
    ----------
    lon, lat
        BD-09 coordinates in degrees, 1-D.

    Returns
    -------
    lon, lat
        WGS-84 coordinates in degrees.
    """
    return _gcj02_to_wgs84(*_bd09_to_gcj02(lon, lat))


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """Convert WGS-84 coordinates to GCJ-02 (Amap, Tencent).

    Parameters
    ----------
    lon, lat
        WGS-84 longitudes and latitudes in degrees, scalars or array-likes of
        equal shape.

    Returns
    -------
    lon, lat
        GCJ-02 coordinates as new float64 arrays of the input shape (0-d for scalar
        input). Points outside :func:`in_china`, including NaN, are unchanged.
    """
    return _apply_in_china(lon, lat, _wgs84_to_gcj02)


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """Convert GCJ-02 (Amap, Tencent) coordinates to WGS-84.

    The inverse is iterated until the forward transform of the result matches the
    input to 1e-10 degrees, so the result is exact to well under a millimetre.

    Parameters
    ----------
    lon, lat
        GCJ-02 longitudes and latitudes in degrees, scalars or array-likes of
        equal shape.

    Returns
    -------
    lon, lat
        WGS-84 coordinates as new float64 arrays of the input shape (0-d for scalar
        input). Points outside :func:`in_china`, including NaN, are unchanged.
    """
    return _apply_in_china(lon, lat, _gcj02_to_wgs84)


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """Convert GCJ-02 (Amap, Tencent) coordinates to BD-09 (Baidu).

    Parameters
    ----------
    lon, lat
        GCJ-02 longitudes and latitudes in degrees, scalars or array-likes of
        equal shape.

    Returns
    -------
    lon, lat
        BD-09 coordinates as new float64 arrays of the input shape (0-d for scalar
        input). Points outside :func:`in_china`, including NaN, are unchanged.
    """
    return _apply_in_china(lon, lat, _gcj02_to_bd09)


def bd09_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """Convert BD-09 (Baidu) coordinates to GCJ-02 (Amap, Tencent).

    The usual closed-form inverse is only approximate (errors of up to about a metre),
    so it is used as the starting point of an iteration that makes the result exact
    to well under a millimetre.

    Parameters
    ----------
    lon, lat
        BD-09 longitudes and latitudes in degrees, scalars or array-likes of equal
        shape.

    Returns
    -------
    lon, lat
        GCJ-02 coordinates as new float64 arrays of the input shape (0-d for scalar
        input). Points outside :func:`in_china`, including NaN, are unchanged.
    """
    return _apply_in_china(lon, lat, _bd09_to_gcj02)


def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """Convert WGS-84 coordinates to BD-09 (Baidu), through GCJ-02.

    Parameters
    ----------
    lon, lat
        WGS-84 longitudes and latitudes in degrees, scalars or array-likes of
        equal shape.

    Returns
    -------
    lon, lat
        BD-09 coordinates as new float64 arrays of the input shape (0-d for scalar
        input). Points outside :func:`in_china`, including NaN, are unchanged.
    """
    return _apply_in_china(lon, lat, _wgs84_to_bd09)


def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """Convert BD-09 (Baidu) coordinates to WGS-84, through GCJ-02.

    Parameters
    ----------
    lon, lat
        BD-09 longitudes and latitudes in degrees, scalars or array-likes of equal
        shape.

    Returns
    -------
    lon, lat
        WGS-84 coordinates as new float64 arrays of the input shape (0-d for scalar
        input). Points outside :func:`in_china`, including NaN, are unchanged.
    """
    return _apply_in_china(lon, lat, _bd09_to_wgs84)


_Converter: TypeAlias = Callable[[npt.ArrayLike, npt.ArrayLike], LonLat]
_CONVERTERS: Final[dict[tuple[CrsName, CrsName], _Converter]] = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}


def convert(lon: npt.ArrayLike, lat: npt.ArrayLike, src: str, dst: str) -> LonLat:
    """Convert coordinates between two of the systems named in ``CRS_NAMES``.

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes in degrees in the `src` system, scalars or
        array-likes of equal shape.
    src, dst
        Source and destination system names or aliases, as accepted by
        :func:`normalise_crs_name`.

    Returns
    -------
    lon, lat
        Coordinates in the `dst` system as new float64 arrays of the input shape
        (0-d for scalar input); an unchanged copy when `src` and `dst` are the same.

    Raises
    ------
    ValueError
        If either name is unknown or the shapes of `lon` and `lat` differ.
    """
    src_name = normalise_crs_name(src)
    dst_name = normalise_crs_name(dst)
    if src_name == dst_name:
        lon_arr, lat_arr = _as_lon_lat(lon, lat)
        return lon_arr.copy(), lat_arr.copy()
    return _CONVERTERS[src_name, dst_name](lon, lat)
