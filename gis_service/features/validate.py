"""Checks on a written feature: JSON form, geometry, field types, enums, the caller's rights."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import orjson
import shapely
import sqlalchemy as sa
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from gis_service.catalog import Layer
from gis_service.errors import Forbidden, InvalidInput
from gis_service.features.errors import BadRequest
from gis_service.features.values import from_json, quoted

GEOMETRY_TYPES = {
    "point": ("Point",),
    "linestring": ("LineString",),
    "polygon": ("Polygon",),
    "multipolygon": ("MultiPolygon", "Polygon"),
}
READ_ONLY = {"version"}


@dataclass
class Written:
    """What a body asks to store: field values (only those given) and maybe a geometry."""

    values: dict[str, Any]
    geometry: BaseGeometry | None


def problem(field: str, message: str) -> InvalidInput:
    """A 422 naming one field."""
    return InvalidInput(f"{field}: {message}", [{"field": field, "message": message}])


def parse_body(body: bytes) -> dict[str, Any]:
    """The JSON object of a request body (400 when it is not JSON)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise problem("body", "must be a JSON object")
    return data


def read_feature(
    layer: Layer, data: dict[str, Any], area: tuple[float, float, float, float], patch: bool
) -> Written:
    """Check a GeoJSON Feature (or a merge patch of one) against the layer's fields."""
    if data.get("type", "Feature" if patch else None) != "Feature":
        raise problem("type", "must be 'Feature'")
    properties = data.get("properties", {} if patch else None)
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        raise problem("properties", "must be an object")
    errors: list[dict[str, str]] = []
    values: dict[str, Any] = {}
    fields = {f.name: f for f in layer.fields}
    for name, raw in properties.items():
        if name in READ_ONLY:
            continue
        if name not in fields:
            errors.append({"field": name, "message": f"{layer.id} has no field {name!r}"})
            continue
        try:
            values[name] = from_json(layer, fields[name], raw)
        except ValueError as exc:
            errors.append({"field": name, "message": str(exc)})
            continue
        allowed = fields[name].enum
        if allowed and values[name] is not None and values[name] not in allowed:
            errors.append({"field": name, "message": f"must be one of {', '.join(allowed)}"})
    geometry = None
    if "geometry" in data or not patch:
        try:
            geometry = read_geometry(layer, data.get("geometry"), area)
        except InvalidInput as exc:
            errors.extend(exc.errors)
    if errors:
        names = ", ".join(dict.fromkeys(e["field"] for e in errors))
        raise InvalidInput(f"invalid feature: {names}", errors)
    return Written(values, geometry)


def read_geometry(layer: Layer, raw: Any, area: tuple[float, float, float, float]) -> BaseGeometry:
    """A GeoJSON geometry of the layer's type: valid, in lon/lat range, inside the service area."""
    if not isinstance(raw, dict):
        raise problem("geometry", "a GeoJSON geometry object is required")
    expected = GEOMETRY_TYPES[layer.geometry]
    if raw.get("type") not in expected:
        raise problem("geometry", f"must be a {' or '.join(expected)}, not {raw.get('type')!r}")
    try:
        geom = shapely.force_2d(shape(raw))
    except Exception as exc:  # shapely raises many kinds for malformed coordinates
        raise problem("geometry", f"malformed coordinates: {exc}") from exc
    if geom.is_empty:
        raise problem("geometry", "must not be empty")
    coords = shapely.get_coordinates(geom)
    if not all(math.isfinite(v) for v in coords.ravel()):
        raise problem("geometry", "coordinates must be finite numbers")
    west, south, east, north = geom.bounds
    if not inside(geom.bounds, area):
        if inside((south, west, north, east), area):
            raise problem("geometry", "latitude and longitude look swapped: GeoJSON is lon, lat")
        if west < -180 or east > 180 or south < -90 or north > 90:
            raise problem(
                "geometry", "coordinates out of range: longitude -180..180, latitude -90..90"
            )
        raise problem("geometry", f"outside the service area (lon/lat box {list(area)})")
    if not geom.is_valid:
        raise problem("geometry", f"invalid geometry: {shapely.is_valid_reason(geom)}")
    if layer.geometry == "multipolygon" and geom.geom_type == "Polygon":
        geom = shapely.MultiPolygon([geom])
    return geom


def inside(bounds: tuple[float, ...], area: tuple[float, float, float, float]) -> bool:
    """Whether a bounding box lies within the service area."""
    west, south, east, north = bounds
    return area[0] <= west and east <= area[2] and area[1] <= south and north <= area[3]


def check_lookups(conn: sa.Connection, layer: Layer, values: dict[str, Any]) -> None:
    """422 for codes missing from the lookup tables named by enum_from."""
    errors = []
    for f in layer.fields:
        value = values.get(f.name)
        if f.enum_from and value is not None:
            codes = conn.execute(sa.text(f"SELECT code FROM {quoted(f.enum_from)}")).scalars()
            known = sorted(str(c) for c in codes)
            if value not in known:
                errors.append({"field": f.name, "message": f"must be one of {', '.join(known)}"})
    if errors:
        raise InvalidInput(f"unknown code for {errors[0]['field']}", errors)


def check_rights(layer: Layer, role: str, changed: set[str]) -> None:
    """403 naming the fields (and 'geom') the role may not change."""
    refused = sorted(changed - layer.editable_by(role))
    if refused:
        raise Forbidden(
            f"the role {role} may not change {', '.join(refused)} of {layer.id}",
        )


def same_geometry(new: BaseGeometry, stored_wkb: bytes) -> bool:
    """Whether a geometry equals the stored one (to within the GeoJSON precision)."""
    stored = shapely.from_wkb(stored_wkb)
    return bool(new.geom_type == stored.geom_type and new.equals_exact(stored, 1e-9))
