"""Tests for geo.coords: WGS-84 / GCJ-02 / BD-09 conversion."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from itertools import product

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from geo import coords
from geo.coords import (
    CRS_NAMES,
    bd09_to_gcj02,
    bd09_to_wgs84,
    convert,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    normalise_crs_name,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

Transform = Callable[[npt.ArrayLike, npt.ArrayLike], tuple[np.ndarray, np.ndarray]]

TRANSFORMS: list[Transform] = [
    wgs84_to_gcj02,
    gcj02_to_wgs84,
    gcj02_to_bd09,
    bd09_to_gcj02,
    wgs84_to_bd09,
    bd09_to_wgs84,
]

# (forward, inverse) pairs whose composition must be the identity inside China.
ROUND_TRIPS: list[tuple[Transform, Transform]] = [
    (wgs84_to_gcj02, gcj02_to_wgs84),
    (wgs84_to_bd09, bd09_to_wgs84),
    (gcj02_to_bd09, bd09_to_gcj02),
]

LON_MIN, LON_MAX = 72.004, 137.8347
LAT_MIN, LAT_MAX = 0.8293, 55.8271
# Largest shift of any transform is about 0.0174 degrees (WGS-84 to BD-09 longitude at
# high latitude); points closer than this to the edge of the box may leave or enter it
# and then, as documented, do not round-trip.
EDGE_MARGIN = 0.02

ROUND_TRIP_TOL_M = 0.01
EARTH_RADIUS_M = 6371008.8

# Deterministic: the same examples on every run.
SETTINGS = settings(deadline=None, derandomize=True, max_examples=300)

inner_lon = st.floats(LON_MIN + EDGE_MARGIN, LON_MAX - EDGE_MARGIN)
inner_lat = st.floats(LAT_MIN + EDGE_MARGIN, LAT_MAX - EDGE_MARGIN)
any_lon = st.floats(-180.0, 180.0)
any_lat = st.floats(-90.0, 90.0)


def metres(
    lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike
) -> np.ndarray:
    """Equirectangular distance in metres, accurate for the tiny distances used here."""
    lon1, lat1, lon2, lat2 = (np.asarray(a, dtype=np.float64) for a in (lon1, lat1, lon2, lat2))
    mean_lat = np.radians((lat1 + lat2) / 2.0)
    dx = np.radians(lon2 - lon1) * np.cos(mean_lat)
    dy = np.radians(lat2 - lat1)
    distance: np.ndarray = EARTH_RADIUS_M * np.hypot(dx, dy)
    return distance


# --- straightforward scalar implementations of the published formulas -------------
# Written directly from the formulas with the math module, as an independent check of
# the vectorised (harmonic-power and rotation-expansion) code in geo.coords.


def reference_wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    pi = math.pi
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * pi) + 20.0 * math.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * pi) + 40.0 * math.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * pi) + 320.0 * math.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (20.0 * math.sin(6.0 * x * pi) + 20.0 * math.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlon += (20.0 * math.sin(x * pi) + 40.0 * math.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * pi) + 300.0 * math.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - ee * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = dlat * 180.0 / ((a * (1.0 - ee)) / (magic * sqrt_magic) * pi)
    dlon = dlon * 180.0 / (a / sqrt_magic * math.cos(rad_lat) * pi)
    return lon + dlon, lat + dlat


def reference_gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    x_pi = math.pi * 3000.0 / 180.0
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * x_pi)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * x_pi)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


# --- published reference values -----------------------------------------------------

# googollee/eviltransform on GitHub, test vectors in python/test.py and
# go/transform_test.go ("TESTS": wgsLat, wgsLng, gcjLat, gcjLng), as (lon, lat) here.
# They agree with this implementation to the last printed digit; asserted to 1e-7
# degrees (about 1 cm), tighter than that project's own 1e-6 check.
EVILTRANSFORM_WGS_GCJ = [
    pytest.param((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597), id="shanghai"),
    pytest.param((113.912316, 22.543847), (113.9171764808363, 22.540796131694766), id="shenzhen"),
    pytest.param((116.377817, 39.911954), (116.38404722455657, 39.91334545536069), id="beijing"),
]

# wandergis/coordtransform on GitHub (npm "coordtransform"), README.md "Example&Usage":
# each conversion applied to (116.404, 39.915), near Tiananmen, Beijing.
WANDERGIS_INPUT = (116.404, 39.915)
WANDERGIS_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
WANDERGIS_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
# Their inverses are the closed-form approximations, off by centimetres here.
WANDERGIS_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)
WANDERGIS_GCJ02_TO_WGS84 = (116.39775550083061, 39.91359571849836)


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_WGS_GCJ)
def test_published_wgs84_gcj02_pairs(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    np.testing.assert_allclose(wgs84_to_gcj02(*wgs), gcj, rtol=0, atol=1e-7)
    np.testing.assert_allclose(gcj02_to_wgs84(*gcj), wgs, rtol=0, atol=1e-7)


def test_published_wandergis_readme_example() -> None:
    np.testing.assert_allclose(
        wgs84_to_gcj02(*WANDERGIS_INPUT), WANDERGIS_WGS84_TO_GCJ02, rtol=0, atol=1e-7
    )
    np.testing.assert_allclose(
        gcj02_to_bd09(*WANDERGIS_INPUT), WANDERGIS_GCJ02_TO_BD09, rtol=0, atol=1e-7
    )
    # The exact inverses differ from the published approximate ones by < 1e-6 degrees.
    np.testing.assert_allclose(
        bd09_to_gcj02(*WANDERGIS_INPUT), WANDERGIS_BD09_TO_GCJ02, rtol=0, atol=1e-6
    )
    np.testing.assert_allclose(
        gcj02_to_wgs84(*WANDERGIS_INPUT), WANDERGIS_GCJ02_TO_WGS84, rtol=0, atol=1e-6
    )


@SETTINGS
@given(st.floats(LON_MIN, LON_MAX), st.floats(LAT_MIN, LAT_MAX))
def test_forward_transforms_match_scalar_reference(lon: float, lat: float) -> None:
    gcj = reference_wgs84_to_gcj02(lon, lat)
    np.testing.assert_allclose(wgs84_to_gcj02(lon, lat), gcj, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        gcj02_to_bd09(lon, lat), reference_gcj02_to_bd09(lon, lat), atol=1e-12
    )
    np.testing.assert_allclose(wgs84_to_bd09(lon, lat), reference_gcj02_to_bd09(*gcj), atol=1e-12)


def test_gcj02_offset_in_eastern_china_is_100_to_700_m() -> None:
    lon, lat = np.meshgrid(np.linspace(105.0, 125.0, 201), np.linspace(18.0, 45.0, 271))
    offset = metres(lon, lat, *wgs84_to_gcj02(lon, lat))
    assert offset.min() > 100.0
    assert offset.max() < 700.0


def test_bd09_shift_from_gcj02_is_about_0_0065_and_0_006() -> None:
    lon, lat = np.meshgrid(np.linspace(LON_MIN, LON_MAX, 301), np.linspace(LAT_MIN, LAT_MAX, 301))
    bd_lon, bd_lat = gcj02_to_bd09(lon, lat)
    assert np.abs(bd_lon - lon - 0.0065).max() < 0.0005
    assert np.abs(bd_lat - lat - 0.006).max() < 0.0005


# --- round trips --------------------------------------------------------------------


@pytest.mark.parametrize(("forward", "inverse"), ROUND_TRIPS, ids=["wgs-gcj", "wgs-bd", "gcj-bd"])
@SETTINGS
@given(lon=inner_lon, lat=inner_lat)
def test_round_trip_within_1_cm(
    forward: Transform, inverse: Transform, lon: float, lat: float
) -> None:
    there = forward(lon, lat)
    back = inverse(*there)
    assert metres(lon, lat, *back) < ROUND_TRIP_TOL_M
    # And the other way round: inverse first.
    back_first = forward(*inverse(lon, lat))
    assert metres(lon, lat, *back_first) < ROUND_TRIP_TOL_M


@pytest.mark.parametrize(("forward", "inverse"), ROUND_TRIPS, ids=["wgs-gcj", "wgs-bd", "gcj-bd"])
def test_round_trip_dense_sample_over_box(forward: Transform, inverse: Transform) -> None:
    rng = np.random.default_rng(20240601)
    lon = rng.uniform(LON_MIN + EDGE_MARGIN, LON_MAX - EDGE_MARGIN, 200_000)
    lat = rng.uniform(LAT_MIN + EDGE_MARGIN, LAT_MAX - EDGE_MARGIN, 200_000)
    # Include the corners of the inner box.
    lon = np.concatenate([lon, [LON_MIN + EDGE_MARGIN] * 2 + [LON_MAX - EDGE_MARGIN] * 2])
    lat = np.concatenate([lat, [LAT_MIN + EDGE_MARGIN, LAT_MAX - EDGE_MARGIN] * 2])
    error = metres(lon, lat, *inverse(*forward(lon, lat)))
    assert error.max() < ROUND_TRIP_TOL_M
    error = metres(lon, lat, *forward(*inverse(lon, lat)))
    assert error.max() < ROUND_TRIP_TOL_M


@pytest.mark.parametrize(("forward", "inverse"), ROUND_TRIPS, ids=["wgs-gcj", "wgs-bd", "gcj-bd"])
@SETTINGS
@given(lon=inner_lon, lat=inner_lat)
def test_inverse_meets_its_stopping_tolerance(
    forward: Transform, inverse: Transform, lon: float, lat: float
) -> None:
    f_lon, f_lat = forward(*inverse(lon, lat))
    assert abs(float(f_lon) - lon) < 1e-10
    assert abs(float(f_lat) - lat) < 1e-10


def test_box_test_applies_to_the_input_of_each_transform() -> None:
    # Documented edge effect: just inside the east edge, GCJ-02 moves the point out of
    # the box, so the inverse leaves it alone.
    lon, lat = LON_MAX - 0.001, 40.0
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    assert gcj_lon > LON_MAX
    assert gcj02_to_wgs84(gcj_lon, gcj_lat) == (gcj_lon, gcj_lat)


# --- outside China, NaN and infinities ----------------------------------------------


@SETTINGS
@given(any_lon, any_lat)
def test_points_outside_china_are_unchanged(lon: float, lat: float) -> None:
    assume(not (LON_MIN <= lon <= LON_MAX and LAT_MIN <= lat <= LAT_MAX))
    assert not in_china(lon, lat)
    for transform in TRANSFORMS:
        out_lon, out_lat = transform(lon, lat)
        assert float(out_lon) == lon
        assert float(out_lat) == lat
    for src, dst in product(CRS_NAMES, repeat=2):
        out_lon, out_lat = convert(lon, lat, src, dst)
        assert float(out_lon) == lon
        assert float(out_lat) == lat


def test_in_china_box_edges_are_inclusive() -> None:
    lon = np.array([LON_MIN, LON_MAX, LON_MIN, LON_MAX, np.nextafter(LON_MIN, 0.0), 100.0])
    lat = np.array([LAT_MIN, LAT_MIN, LAT_MAX, LAT_MAX, 30.0, np.nextafter(LAT_MAX, 90.0)])
    np.testing.assert_array_equal(in_china(lon, lat), [True, True, True, True, False, False])
    assert in_china(116.4, 39.9).shape == ()
    assert in_china(116.4, 39.9).dtype == np.bool_


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda f: f.__name__)
def test_nan_and_inf_propagate_without_warnings(transform: Transform) -> None:
    nan, inf = np.nan, np.inf
    lon = np.array([nan, 116.4, nan, 121.5, inf, -inf, 113.9])
    lat = np.array([39.9, nan, nan, 31.2, 30.0, 30.0, inf])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out_lon, out_lat = transform(lon, lat)
        assert not in_china(lon, lat)[[0, 1, 2, 4, 5, 6]].any()
    # Non-finite points pass through unchanged, NaN stays NaN.
    np.testing.assert_array_equal(out_lon[[0, 1, 2, 4, 5, 6]], lon[[0, 1, 2, 4, 5, 6]])
    np.testing.assert_array_equal(out_lat[[0, 1, 2, 4, 5, 6]], lat[[0, 1, 2, 4, 5, 6]])
    assert np.isnan(out_lon[[0, 2]]).all()
    assert np.isnan(out_lat[[1, 2]]).all()
    # The valid point in the middle is converted as if it were alone.
    np.testing.assert_allclose([out_lon[3], out_lat[3]], transform(121.5, 31.2), rtol=0, atol=1e-12)
    # Scalar NaN too.
    out = transform(nan, nan)
    assert np.isnan(out[0])
    assert np.isnan(out[1])


# --- shapes, dtypes and inputs ------------------------------------------------------


@SETTINGS
@given(
    hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5).flatmap(
        lambda shape: st.tuples(
            hnp.arrays(np.float64, shape, elements=inner_lon),
            hnp.arrays(np.float64, shape, elements=inner_lat),
        )
    )
)
def test_shape_is_preserved_and_matches_pointwise(arrays: tuple[np.ndarray, np.ndarray]) -> None:
    lon, lat = arrays
    for transform in TRANSFORMS:
        out_lon, out_lat = transform(lon, lat)
        assert out_lon.shape == lon.shape
        assert out_lat.shape == lat.shape
        assert out_lon.dtype == np.float64
        assert out_lat.dtype == np.float64
        flat_lon, flat_lat = transform(lon.ravel(), lat.ravel())
        np.testing.assert_allclose(out_lon.ravel(), flat_lon, rtol=0, atol=1e-12)
        np.testing.assert_allclose(out_lat.ravel(), flat_lat, rtol=0, atol=1e-12)


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda f: f.__name__)
def test_scalar_one_element_and_list_inputs(transform: Transform) -> None:
    lon, lat = 116.404, 39.915
    scalar = transform(lon, lat)
    assert isinstance(scalar, tuple)
    assert all(isinstance(a, np.ndarray) and a.shape == () for a in scalar)
    assert all(a.dtype == np.float64 for a in scalar)
    zero_d = transform(np.float64(lon), np.array(lat))
    one = transform(np.array([lon]), np.array([lat]))
    listed = transform([lon], [lat])
    assert one[0].shape == (1,)
    assert listed[0].shape == (1,)
    for other in (zero_d, one, listed):
        np.testing.assert_allclose(np.ravel(other), np.ravel(scalar), rtol=0, atol=1e-12)
    # Integer and float32 input are promoted to float64.
    ints = transform(np.array([116]), np.array([40]))
    assert ints[0].dtype == np.float64
    np.testing.assert_allclose(np.ravel(ints), np.ravel(transform(116.0, 40.0)), atol=1e-12)
    f32 = transform(np.float32(116.5), np.float32(40.5))
    assert f32[0].dtype == np.float64


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda f: f.__name__)
def test_empty_input(transform: Transform) -> None:
    out_lon, out_lat = transform(np.empty((0, 2)), np.empty((0, 2)))
    assert out_lon.shape == (0, 2)
    assert out_lat.shape == (0, 2)


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda f: f.__name__)
def test_inputs_are_not_modified_or_aliased(transform: Transform) -> None:
    lon = np.array([116.4, 10.0, 121.5])
    lat = np.array([39.9, 10.0, 31.2])
    lon_before, lat_before = lon.copy(), lat.copy()
    out_lon, out_lat = transform(lon, lat)
    np.testing.assert_array_equal(lon, lon_before)
    np.testing.assert_array_equal(lat, lat_before)
    assert not np.shares_memory(out_lon, lon)
    assert not np.shares_memory(out_lat, lat)


@pytest.mark.parametrize("transform", [*TRANSFORMS, in_china], ids=lambda f: f.__name__)
def test_mismatched_shapes_raise(transform: Callable[..., object]) -> None:
    with pytest.raises(ValueError, match="same shape"):
        transform(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="same shape"):
        transform(116.4, np.array([39.9, 40.0]))


def test_large_mixed_array_matches_pointwise() -> None:
    # Spans several internal chunks, with points outside China and NaN mixed in.
    rng = np.random.default_rng(7)
    n = 3 * coords._CHUNK_SIZE + 123
    lon = rng.uniform(60.0, 150.0, n)
    lat = rng.uniform(-5.0, 60.0, n)
    lon[::97] = np.nan
    for transform in TRANSFORMS:
        out_lon, out_lat = transform(lon, lat)
        for i in rng.choice(n, 40, replace=False):
            np.testing.assert_allclose(
                [out_lon[i], out_lat[i]], transform(lon[i], lat[i]), rtol=0, atol=1e-9
            )


def test_one_million_points_is_fast() -> None:
    # Well under a second each on a typical machine; the bound only guards against an
    # accidental per-point Python loop, which would take tens of seconds.
    rng = np.random.default_rng(1)
    lon = rng.uniform(LON_MIN, LON_MAX, 1_000_000)
    lat = rng.uniform(LAT_MIN, LAT_MAX, 1_000_000)
    for transform in TRANSFORMS:
        start = time.perf_counter()
        transform(lon, lat)
        elapsed = time.perf_counter() - start
        assert elapsed < 3.0, f"{transform.__name__} took {elapsed:.2f} s"


# --- names and convert() ------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("wgs84", "wgs84"),
        ("WGS84", "wgs84"),
        ("wgs-84", "wgs84"),
        ("WGS-84", "wgs84"),
        ("epsg:4326", "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("gcj02", "gcj02"),
        ("gcj-02", "gcj02"),
        ("GCJ", "gcj02"),
        ("amap", "gcj02"),
        ("AMap", "gcj02"),
        ("bd09", "bd09"),
        ("bd-09", "bd09"),
        ("BD-09", "bd09"),
        ("baidu", "bd09"),
        ("Baidu", "bd09"),
        ("  gcj02 ", "gcj02"),
    ],
)
def test_normalise_crs_name(alias: str, canonical: str) -> None:
    assert normalise_crs_name(alias) == canonical


@pytest.mark.parametrize("name", ["", "utm", "gcj03", "epsg:3857", "wgs 84"])
def test_unknown_crs_name_raises(name: str) -> None:
    with pytest.raises(ValueError, match="unknown coordinate system") as info:
        normalise_crs_name(name)
    assert "wgs84, gcj02, bd09" in str(info.value)
    with pytest.raises(ValueError, match="unknown coordinate system"):
        convert(116.4, 39.9, name, "wgs84")
    with pytest.raises(ValueError, match="unknown coordinate system"):
        convert(116.4, 39.9, "wgs84", name)


def test_non_string_crs_name_raises_type_error() -> None:
    with pytest.raises(TypeError):
        normalise_crs_name(4326)  # type: ignore[arg-type]


def test_convert_dispatches_to_the_named_transform() -> None:
    lon, lat = np.array([116.404, 121.47]), np.array([39.915, 31.23])
    expected = {
        ("wgs84", "gcj02"): wgs84_to_gcj02,
        ("gcj02", "wgs84"): gcj02_to_wgs84,
        ("gcj02", "bd09"): gcj02_to_bd09,
        ("bd09", "gcj02"): bd09_to_gcj02,
        ("wgs84", "bd09"): wgs84_to_bd09,
        ("bd09", "wgs84"): bd09_to_wgs84,
    }
    for (src, dst), transform in expected.items():
        np.testing.assert_array_equal(convert(lon, lat, src, dst), transform(lon, lat))
    np.testing.assert_array_equal(convert(lon, lat, "WGS-84", "Amap"), wgs84_to_gcj02(lon, lat))
    np.testing.assert_array_equal(convert(lon, lat, "baidu", "EPSG:4326"), bd09_to_wgs84(lon, lat))
    for name in CRS_NAMES:
        out_lon, out_lat = convert(lon, lat, name, name.upper())
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)
        assert not np.shares_memory(out_lon, lon)


@SETTINGS
@given(inner_lon, inner_lat, st.sampled_from(CRS_NAMES), st.sampled_from(CRS_NAMES))
def test_convert_round_trip_any_pair(lon: float, lat: float, src: str, dst: str) -> None:
    back = convert(*convert(lon, lat, src, dst), dst, src)
    assert metres(lon, lat, *back) < ROUND_TRIP_TOL_M
