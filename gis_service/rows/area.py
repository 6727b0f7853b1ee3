"""The service area: where stored geometries may lie. One rule for edits, file and OSM imports.

- With GIS_SERVICE_AREA set (W,S,E,N in degrees), that box.
- Otherwise the extent of the data already stored, grown by GIS_SERVICE_AREA_MARGIN_KM (50 km
  by default): the hierarchy (districts, communities, grids, compounds) where there is one,
  else the buildings and streets. An empty database takes anything in lon/lat range, so the
  first import (a demo, an OSM extract) sets the place.
The derived box is cached per process by the data versions of those tables.
"""

from __future__ import annotations

import math
import threading

import sqlalchemy as sa

from gis_service.db.engine import data_versions
from gis_service.settings import get_settings

Box = tuple[float, float, float, float]
HIERARCHY = ("district", "community", "grid", "compound")
FEATURES = ("building", "street")
METRES_PER_DEGREE = 111_320.0
_CACHE: dict[tuple[object, ...], Box | None] = {}
_LOCK = threading.Lock()


def grown(box: Box, margin_m: float) -> Box:
    """A lon/lat box grown by a margin in metres on every side (kept inside lon/lat range)."""
    w, s, e, n = box
    dlat = margin_m / METRES_PER_DEGREE
    widest = min(max(abs(s - dlat), abs(n + dlat)), 89.9)
    dlon = margin_m / (METRES_PER_DEGREE * max(math.cos(math.radians(widest)), 1e-6))
    return (max(w - dlon, -180.0), max(s - dlat, -90.0), min(e + dlon, 180.0), min(n + dlat, 90.0))


def _extent(conn: sa.Connection, tables: tuple[str, ...]) -> Box | None:
    parts = " UNION ALL ".join(f"SELECT ST_Extent(geom) AS e FROM {t}" for t in tables)
    sql = ("SELECT ST_XMin(x), ST_YMin(x), ST_XMax(x), ST_YMax(x) "
           f"FROM (SELECT ST_Extent(e::geometry) AS x FROM ({parts}) p) q")  # fmt: skip
    row = conn.execute(sa.text(sql)).one()
    return None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def service_area(conn: sa.Connection) -> Box | None:
    """The box stored geometries must lie in (None: anywhere in lon/lat range)."""
    settings = get_settings()
    if settings.service_area is not None:
        return settings.service_area
    tables = (*HIERARCHY, *FEATURES)
    key = (tuple(sorted(data_versions(conn, list(tables)).items())),
           settings.service_area_margin_km)  # fmt: skip
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    box = _extent(conn, HIERARCHY) or _extent(conn, FEATURES)
    area = grown(box, settings.service_area_margin_km * 1000.0) if box else None
    with _LOCK:
        if len(_CACHE) > 64:
            _CACHE.clear()
        _CACHE[key] = area
    return area


def inside(bounds: tuple[float, ...], area: Box | None) -> bool:
    """Whether a bounding box (W, S, E, N) lies within the service area."""
    if area is None:
        return True
    west, south, east, north = bounds
    return area[0] <= west and east <= area[2] and area[1] <= south and north <= area[3]


def fits(bounds: tuple[float, ...], area: Box | None) -> bool:
    """Whether a bounding box lies in lon/lat range and within the service area."""
    west, south, east, north = bounds
    return west >= -180 and east <= 180 and south >= -90 and north <= 90 and inside(bounds, area)


def outside_message(area: Box) -> str:
    """The reason given for a geometry outside the service area."""
    box = ", ".join(f"{v:.4f}" for v in area)
    return (f"outside the service area (lon/lat box {box}: the data's extent grown by "
            f"{get_settings().service_area_margin_km:g} km, or GIS_SERVICE_AREA)")  # fmt: skip
