"""GCJ-02 ↔ WGS84: the published reference value, the offset size, the round trip, outside China."""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Geod

from gis_service.ingest.gcj02 import (
    gcj02_to_wgs84,
    geometries_gcj02_to_wgs84,
    geometries_wgs84_to_gcj02,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")
SHUIYIN_ROAD = (113.2919, 23.1448)  # Yuexiu district, Guangzhou


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def test_forward_matches_the_published_reference_value() -> None:
    lon, lat = wgs84_to_gcj02(np.array([116.404]), np.array([39.915]))
    assert abs(lon[0] - 116.41024449916938) < 1e-9
    assert abs(lat[0] - 39.91640428150164) < 1e-9


def test_offset_near_guangzhou_is_a_few_hundred_metres() -> None:
    lon, lat = wgs84_to_gcj02(np.array([SHUIYIN_ROAD[0]]), np.array([SHUIYIN_ROAD[1]]))
    offset = metres(SHUIYIN_ROAD[0], SHUIYIN_ROAD[1], lon[0], lat[0])
    assert 200 < offset < 800


def test_inverse_returns_the_input_to_below_a_centimetre() -> None:
    rng = np.random.default_rng(34)
    lon = rng.uniform(73.5, 134.5, 2000)
    lat = rng.uniform(18.0, 53.0, 2000)
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, back_lon, back_lat).max() < 0.01
    # and the other way round: forward(inverse(gcj)) == gcj
    g_lon, g_lat = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert metres(lon, lat, g_lon, g_lat).max() < 0.01


def test_points_outside_china_are_unchanged() -> None:
    lon = np.array([24.94, -0.1276, 139.69, 151.2])  # Helsinki, London, Tokyo, Sydney
    lat = np.array([60.17, 51.5072, 35.69, -33.87])
    for fn in (wgs84_to_gcj02, gcj02_to_wgs84):
        out_lon, out_lat = fn(lon, lat)
        assert np.array_equal(out_lon, lon)
        assert np.array_equal(out_lat, lat)


def test_geometries_convert_every_vertex() -> None:
    polygon = shapely.box(113.29, 23.14, 113.30, 23.15)
    shifted = geometries_wgs84_to_gcj02(np.array([polygon]))[0]
    assert not shifted.equals(polygon)
    back = geometries_gcj02_to_wgs84(np.array([shifted]))[0]
    coords, original = shapely.get_coordinates(back), shapely.get_coordinates(polygon)
    assert metres(coords[:, 0], coords[:, 1], original[:, 0], original[:, 1]).max() < 0.01
