"""GCJ-02 ("Mars coordinates") ↔ WGS84: the published forward transform and its iterative inverse.

Map apps and basemaps of Chinese vendors (Amap/Gaode, Tencent, Google China) show and record
lon/lat in GCJ-02, offset from WGS84 by up to a few hundred metres. The forward formula is the
widely published one (Krasovsky ellipsoid a = 6378245 m, e² = 0.00669342162296594323, the
polynomial/sine perturbation around 105°E 35°N); it is applied only inside the usual rectangle
around China (72.004–137.8347°E, 0.8293–55.8271°N); points outside are left unchanged.

The inverse has no closed form: it is a fixed-point iteration, wgs ← wgs − (forward(wgs) − gcj),
starting from the GCJ-02 point, which converges to far below a millimetre in a few steps.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray

A = 6378245.0
EE = 0.00669342162296594323
CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)
TOLERANCE_DEG = 1e-10  # about 10 µm
MAX_ITERATIONS = 30

Array = NDArray[np.float64]


def in_china(lon: Array, lat: Array) -> NDArray[np.bool_]:
    """True where a point lies in the rectangle the GCJ-02 offset is applied to."""
    west, south, east, north = CHINA_BOX
    return (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)


def _dlat(x: Array, y: Array) -> Array:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _dlon(x: Array, y: Array) -> Array:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _offset(lon: Array, lat: Array) -> tuple[Array, Array]:
    """The GCJ-02 offset (degrees) at WGS84 points, everywhere (no China test)."""
    dlat = _dlat(lon - 105.0, lat - 35.0)
    dlon = _dlon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: Array, lat: Array) -> tuple[Array, Array]:
    """WGS84 lon/lat arrays to GCJ-02 (unchanged outside China)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _offset(lon, lat)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(lon: Array, lat: Array) -> tuple[Array, Array]:
    """GCJ-02 lon/lat arrays to WGS84 by fixed-point iteration (unchanged outside China)."""
    glon = np.asarray(lon, dtype=float)
    glat = np.asarray(lat, dtype=float)
    inside = in_china(glon, glat)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(MAX_ITERATIONS):
        dlon, dlat = _offset(wlon, wlat)
        err_lon = wlon + dlon - glon
        err_lat = wlat + dlat - glat
        wlon = wlon - err_lon
        wlat = wlat - err_lat
        worst = np.nanmax(np.abs(np.concatenate([err_lon[inside], err_lat[inside]])), initial=0.0)
        if worst < TOLERANCE_DEG:
            break
    return np.where(inside, wlon, glon), np.where(inside, wlat, glat)


def _on_coords(coords: Array, to_wgs84: bool) -> Array:
    fn = gcj02_to_wgs84 if to_wgs84 else wgs84_to_gcj02
    lon, lat = fn(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def geometries_gcj02_to_wgs84(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Convert every vertex of an array of shapely geometries from GCJ-02 to WGS84."""
    result: NDArray[np.object_] = shapely.transform(geoms, lambda c: _on_coords(c, True))
    return result


def geometries_wgs84_to_gcj02(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Convert every vertex of an array of shapely geometries from WGS84 to GCJ-02."""
    result: NDArray[np.object_] = shapely.transform(geoms, lambda c: _on_coords(c, False))
    return result
