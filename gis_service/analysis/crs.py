"""Metric coordinate reference systems: the UTM zone of the data, conversions to metres."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS

from gis_service.errors import InvalidInput


def utm_crs(lon: float, lat: float) -> CRS:
    """The WGS84 / UTM CRS of the zone holding a lon/lat point (EPSG:326xx or 327xx)."""
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise InvalidInput(f"not a lon/lat position: {lon}, {lat}")
    zone = min(math.floor((lon + 180.0) / 6.0) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def metric_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> CRS:
    """The UTM CRS of the zone holding the centroid of the data's bounding box."""
    if gdf.crs is None:
        raise InvalidInput("the layer has no CRS; cannot pick a metric one")
    if len(gdf) == 0 or gdf.geometry.is_empty.all():
        raise InvalidInput("the layer is empty; cannot pick a metric CRS")
    box = gpd.GeoSeries([shapely.box(*gdf.total_bounds)], crs=gdf.crs).to_crs(4326)
    centre = box.iloc[0].centroid
    return utm_crs(float(centre.x), float(centre.y))


def to_metric(gdf: gpd.GeoDataFrame, crs: CRS | None = None) -> gpd.GeoDataFrame:
    """The layer reprojected to `crs` (default: its UTM zone); projected layers stay as they are."""
    if gdf.crs is None:
        raise InvalidInput("the layer has no CRS; cannot convert it to metres")
    if crs is None:
        if gdf.crs.is_projected and gdf.crs.axis_info[0].unit_name in ("metre", "meter"):
            return gdf
        crs = metric_crs(gdf)
    return gdf.to_crs(crs)


def as_points(
    data: gpd.GeoDataFrame | gpd.GeoSeries | NDArray[np.object_] | NDArray[np.float64],
) -> NDArray[np.object_]:
    """Point geometries from a layer, a geometry array or an (n, 2) coordinate array.

    Non-point geometries (garden polygons, candidate sites) become a point on their surface.
    Layers in a geographic CRS (degrees) are refused.
    """
    if isinstance(data, gpd.GeoDataFrame | gpd.GeoSeries):
        if data.crs is not None and data.crs.is_geographic:
            raise InvalidInput("the layer is in degrees; convert it with to_metric first")
        geoms = np.asarray(data.geometry.values)
    else:
        arr = np.asarray(data)
        if arr.dtype != object:
            if arr.ndim != 2 or arr.shape[1] != 2:
                raise InvalidInput("coordinates must be an (n, 2) array")
            return shapely.points(arr.astype(np.float64))
        geoms = arr
    if shapely.is_missing(geoms).any() or shapely.is_empty(geoms).any():
        raise InvalidInput("a geometry is missing or empty")
    is_point = shapely.get_type_id(geoms) == 0
    if is_point.all():
        return geoms
    return np.where(is_point, geoms, shapely.point_on_surface(geoms))


def xy_of(
    data: gpd.GeoDataFrame | gpd.GeoSeries | NDArray[np.object_] | NDArray[np.float64],
) -> NDArray[np.float64]:
    """(n, 2) coordinates of the points of `data` (see as_points)."""
    if isinstance(data, np.ndarray) and data.dtype != object:
        coords = np.asarray(data, dtype=np.float64)
        if coords.ndim == 2 and coords.shape[1] == 2:
            return coords  # already coordinates: no round trip through shapely points
    return shapely.get_coordinates(as_points(data)).astype(np.float64)
