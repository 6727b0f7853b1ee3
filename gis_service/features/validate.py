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
from gis_service.features.crs import STORAGE, Crs, to_storage
from gis_service.features.errors import BadRequest
from gis_service.rows.area import Box, fits, outside_message
from gis_service.rows.check import as_read, check_row, read_json
from gis_service.rows.lookups import lookup_errors
from gis_service.rows.messages import say
from gis_service.rows.rules import kept_by_database, layer_rules

GEOMETRY_TYPES = {
    "point": ("Point",),
    "linestring": ("LineString",),
    "polygon": ("Polygon",),
    "multipolygon": ("MultiPolygon", "Polygon"),
}
READ_ONLY = {"version"}
"""What a body may carry and is ignored: the version (If-Match names it), besides the fields the
database keeps (rows/rules.py: kept_by_database)."""


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
    layer: Layer, data: dict[str, Any], area: Box | None, patch: bool, crs: Crs = STORAGE
) -> Written:
    """Check a GeoJSON Feature (or a merge patch of one, its geometry in `crs`) against the
    layer's fields."""
    if data.get("type", "Feature" if patch else None) != "Feature":
        raise problem("type", "must be 'Feature'")
    properties = data.get("properties", {} if patch else None)
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        raise problem("properties", "must be an object")
    doc = layer_rules(layer)
    errors: list[dict[str, str]] = []
    values: dict[str, Any] = {}
    ignored = READ_ONLY | kept_by_database(layer)
    for name, raw in properties.items():
        if name in ignored:
            continue
        if name not in doc["fields"]:
            errors.append({"field": name, "message": f"{layer.id} has no field {name!r}"})
            continue
        value, broken = (None, None) if raw is None else read_json(doc["fields"][name], raw)
        if broken:
            errors.append({"field": name, "message": say(doc, broken, name)})
        else:
            values[name] = value
    geometry = None
    if "geometry" in data or not patch:
        try:
            geometry = read_geometry(layer, data.get("geometry"), area, crs)
        except InvalidInput as exc:
            errors.extend(exc.errors)
    if errors:
        names = ", ".join(dict.fromkeys(e["field"] for e in errors))
        raise InvalidInput(f"invalid feature: {names}", errors)
    return Written(values, geometry)


def read_geometry(
    layer: Layer, raw: Any, area: Box | None, crs: Crs = STORAGE
) -> BaseGeometry:
    """A GeoJSON geometry of the layer's type (in `crs`, stored as lon/lat): valid, in lon/lat
    range, inside the service area (rows/area.py; None: anywhere in lon/lat range)."""
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
    finite = "coordinates must be finite numbers"
    if not all(math.isfinite(v) for v in shapely.get_coordinates(geom).ravel()):
        raise problem("geometry", finite)
    geom = to_storage(crs, geom)
    if not all(math.isfinite(v) for v in shapely.get_coordinates(geom).ravel()):
        raise problem("geometry", f"{finite} in {crs.uri}")
    west, south, east, north = geom.bounds
    if not fits(geom.bounds, area):
        if fits((south, west, north, east), area):
            order = "lat, lon" if crs.north_first else "lon, lat"
            name = "GeoJSON" if crs.is_storage else crs.uri
            raise problem("geometry", f"latitude and longitude look swapped: {name} is {order}")
        if not fits(geom.bounds, None):
            raise problem(
                "geometry", "coordinates out of range: longitude -180..180, latitude -90..90"
            )
        assert area is not None
        raise problem("geometry", outside_message(area))
    if not geom.is_valid:
        raise problem("geometry", f"invalid geometry: {shapely.is_valid_reason(geom)}")
    if layer.geometry == "multipolygon" and geom.geom_type == "Polygon":
        geom = shapely.MultiPolygon([geom])
    return geom


def check_values(
    conn: sa.Connection, layer: Layer, values: dict[str, Any], stored: dict[str, Any] | None
) -> None:
    """422 naming every field that breaks a rule of the layer (stored: the row being changed).

    A new row (stored None) needs its required fields; the rules between fields see the
    stored values, or the defaults, where the values leave fields out.
    """
    doc = layer_rules(layer)
    _, errors = check_row(doc, values, stored, complete=stored is None, read=as_read)
    if not errors:
        columns = {name: [value] for name, value in values.items()}
        found = lookup_errors(conn, layer, doc, columns, references=False)
        errors = [{"field": name, "message": message} for (_, name), message in found.items()]
    if errors:
        names = ", ".join(dict.fromkeys(e["field"] for e in errors))
        raise InvalidInput(f"invalid values: {names}", errors)


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
