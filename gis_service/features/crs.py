"""Coordinate reference systems served (OGC API Features Part 2): names, axis order, SQL.

Stored geometries are CRS84 (SRID 4326, longitude first). Answers and bbox/filter values may be
in any CRS listed here; each is read and written in its own axis order (EPSG:4326 and
EPSG:4490 latitude first, the CGCS2000 Gauss-Krüger zones northing first, EPSG:3857 easting
first). The SRIDs interpolated into SQL come from this fixed list only.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import orjson
import pyproj
import shapely
from shapely.geometry import mapping

from gis_service.features.errors import BadRequest

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_PREFIX = "http://www.opengis.net/def/crs/EPSG/0/"
# WGS 84, CGCS2000, Web Mercator, CGCS2000 3-degree Gauss-Krüger zones CM 75E..135E.
EPSG_CODES = (4326, 4490, 3857, *range(4534, 4555))
PROJECTED_DIGITS = 3  # millimetres
ALIASES = {"CRS84": CRS84, "OGC:CRS84": CRS84, "[OGC:CRS84]": CRS84}


@dataclass(frozen=True)
class Crs:
    """A served CRS: its URI, the PostGIS SRID and whether its first axis is north."""

    uri: str
    srid: int
    north_first: bool
    geographic: bool

    @property
    def is_storage(self) -> bool:
        """Whether coordinates are as stored (CRS84): no transformation, no axis swap."""
        return self.uri == CRS84


STORAGE = Crs(CRS84, 4326, False, True)


def supported() -> list[str]:
    """The URIs of every CRS served, CRS84 first."""
    return [CRS84, *(f"{EPSG_PREFIX}{code}" for code in EPSG_CODES)]


@functools.cache
def by_code(code: int) -> Crs:
    """The served CRS of an EPSG code (axis order read from the EPSG definition)."""
    definition = pyproj.CRS.from_epsg(code)
    first = definition.axis_info[0].direction.lower()
    return Crs(f"{EPSG_PREFIX}{code}", code, first in ("north", "south"), definition.is_geographic)


def parse_crs(raw: str | None, parameter: str) -> Crs:
    """The CRS a parameter names (URI, `EPSG:n` or `[EPSG:n]`); 400 for any other."""
    if raw is None:
        return STORAGE
    text = ALIASES.get(raw.strip(), raw.strip())
    if text == CRS84:
        return STORAGE
    code = None
    for prefix in (EPSG_PREFIX, "EPSG:", "[EPSG:"):
        if text.startswith(prefix):
            digits = text[len(prefix) :].rstrip("]")
            code = int(digits) if digits.isdigit() and len(digits) < 7 else None
    if code not in EPSG_CODES:
        raise BadRequest(
            f"{parameter}: {raw[:100]!r} is not served; use one of the URIs in the "
            "collection's crs list",
            [{"field": parameter, "message": "unsupported CRS"}],
        )
    return by_code(int(code or 0))


def content_crs(header: str | None) -> Crs:
    """The CRS of a written body from its Content-Crs header (`<uri>`; Part 4); 400 if unserved."""
    if header is None:
        return STORAGE
    return parse_crs(header.strip().removeprefix("<").removesuffix(">"), "Content-Crs")


def to_storage(crs: Crs, shape: shapely.Geometry) -> shapely.Geometry:
    """A geometry written in a served CRS (its own axis order) as stored lon/lat.

    Coordinates outside a projected CRS's area of use, or that do not transform to finite
    lon/lat, are refused (400): nothing is stored from them.
    """
    if crs.is_storage:
        return shape
    moved = east_north(crs, shape)
    if not crs.geographic:
        x0, y0, x1, y1 = area_of_use(crs.srid)
        west, south, east, north = moved.bounds
        if west < x0 or east > x1 or south < y0 or north > y1:
            raise BadRequest(
                f"the geometry lies outside the area of use of {crs.uri} (easting "
                f"{x0:.0f}..{x1:.0f}, northing {y0:.0f}..{y1:.0f})",
                [{"field": "geometry", "message": f"outside the area of use of {crs.uri}"}],
            )
    if crs.srid == STORAGE.srid:
        return moved
    transformer = _from_crs(crs.srid)
    return shapely.transform(
        moved, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )


def geometry_sql(crs: Crs, column: str = '"geom"') -> str:
    """SQL for the GeoJSON geometry of a stored column in this CRS and its axis order."""
    if crs.is_storage:
        return f"ST_AsGeoJSON({column})::json"
    moved = f"ST_Transform({column}, {int(crs.srid)})"
    if crs.north_first:
        moved = f"ST_FlipCoordinates({moved})"
    digits = 9 if crs.geographic else PROJECTED_DIGITS
    return f"ST_AsGeoJSON({moved}, {digits})::json"


@functools.cache
def _to_crs(code: int) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(4326, code, always_xy=True)


@functools.cache
def _from_crs(code: int) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(code, 4326, always_xy=True)


def east_north(crs: Crs, shape: shapely.Geometry) -> shapely.Geometry:
    """A geometry given in the CRS's axis order, as easting/longitude first."""
    if not crs.north_first:
        return shape
    return shapely.transform(shape, lambda xy: xy[:, ::-1])


def reproject(feature_json: str, wkb: bytes, crs: Crs) -> str:
    """A stored feature's JSON with its geometry in another CRS (for single features)."""
    if crs.is_storage:
        return feature_json
    shape = shapely.from_wkb(wkb)
    transformer = _to_crs(crs.srid)
    moved = shapely.transform(
        shape, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )
    if crs.north_first:
        moved = shapely.transform(moved, lambda xy: xy[:, ::-1])
    digits = 9 if crs.geographic else PROJECTED_DIGITS
    feature = orjson.loads(feature_json)
    feature["geometry"] = mapping(shapely.set_precision(moved, 10.0**-digits))
    return orjson.dumps(feature).decode()


@functools.cache
def area_of_use(code: int) -> tuple[float, float, float, float]:
    """Where a projected CRS applies, in its own units (easting first)."""
    bounds = pyproj.CRS.from_epsg(code).area_of_use
    assert bounds is not None
    found = _to_crs(code).transform_bounds(*bounds.bounds, densify_pts=21)
    return (found[0], found[1], found[2], found[3])


def lonlat_bounds(crs: Crs, box: tuple[float, float, float, float]) -> tuple[float, ...]:
    """A box (easting-first, in the CRS) as the CRS84 box containing it; 400 for a box that
    does not meet the CRS's area of use (or the globe)."""
    west, south, east, north = box
    outside = BadRequest(f"the box {list(box)} lies outside the area of use of {crs.uri}")
    if crs.geographic:
        found: tuple[float, ...] = box
    else:
        x0, y0, x1, y1 = area_of_use(crs.srid)
        if west > x1 or east < x0 or south > y1 or north < y0:
            raise outside
        clipped = (max(west, x0), max(south, y0), min(east, x1), min(north, y1))
        found = tuple(_from_crs(crs.srid).transform_bounds(*clipped, densify_pts=21))
    lon_ok = all(-180 <= v <= 180 for v in found[0::2])
    lat_ok = all(-90 <= v <= 90 for v in found[1::2])
    if not (all(math.isfinite(v) for v in found) and lon_ok and lat_ok):
        raise outside
    return found
