"""Geometry checks of imported rows: type fits the table, valid, non-empty, lon/lat in range."""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Geod

GEOD = Geod(ellps="WGS84")
TYPE_NAMES = {"POINT": "Point", "LINESTRING": "LineString", "MULTIPOLYGON": "MultiPolygon"}
GeometryArray = NDArray[np.object_]


def fit_type(geom: shapely.Geometry, target: str) -> shapely.Geometry | None:
    """The geometry in the table's type (Polygon → MultiPolygon, one-part multi → single)."""
    kind = geom.geom_type
    if target == "MULTIPOLYGON":
        if kind == "Polygon":
            return shapely.MultiPolygon([geom])
        return geom if kind == "MultiPolygon" else None
    if target == "POINT":
        if kind == "MultiPoint" and len(geom.geoms) == 1:
            return geom.geoms[0]
        return geom if kind == "Point" else None
    if target == "LINESTRING":
        if kind == "MultiLineString":
            merged = shapely.line_merge(geom)
            return merged if merged.geom_type == "LineString" else None
        return geom if kind == "LineString" else None
    return geom


def check_geometries(
    geoms: GeometryArray, target: str
) -> tuple[GeometryArray, dict[int, str]]:
    """Fit each geometry to the table's type and say why the ones that cannot be stored fail."""
    fitted = np.empty(len(geoms), dtype=object)
    problems: dict[int, str] = {}
    expected = TYPE_NAMES.get(target, target.title())
    for index, geom in enumerate(geoms):
        if geom is None or shapely.is_missing(geom):
            problems[index] = "missing"
            continue
        if geom.is_empty:
            problems[index] = "empty"
            continue
        shaped = fit_type(geom, target)
        if shaped is None:
            problems[index] = f"expected {expected}, got {geom.geom_type}"
            continue
        coords = shapely.get_coordinates(shaped)
        if not np.isfinite(coords).all():
            problems[index] = "coordinates could not be transformed to lon/lat (check the CRS)"
            continue
        xmin, ymin, xmax, ymax = shaped.bounds
        if xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90:
            problems[index] = (
                f"coordinates out of lon/lat range ({xmin:.6g}, {ymin:.6g}, {xmax:.6g}, "
                f"{ymax:.6g}): is the CRS right? (--crs)"
            )
            continue
        if not shaped.is_valid:
            problems[index] = f"invalid geometry: {shapely.is_valid_reason(shaped)}"
            continue
        fitted[index] = shaped
    return fitted, problems


def geodesic_area_m2(geom: shapely.Geometry) -> float:
    """The area of a lon/lat polygon on the WGS84 ellipsoid, in square metres."""
    area, _perimeter = GEOD.geometry_area_perimeter(geom)
    return abs(float(area))
