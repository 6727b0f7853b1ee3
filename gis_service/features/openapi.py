"""OpenAPI pieces of the features API: schemas, parameters and answers per catalog layer."""

from __future__ import annotations

from typing import Any

from gis_service.catalog import Layer
from gis_service.features import idempotency as idem
from gis_service.features.crs import supported
from gis_service.features.filters import LANGUAGES
from gis_service.features.query_parts import MAX_IDS
from gis_service.features.values import column, integer_range, max_length, queryable_fields
from gis_service.rows.rules import kept_by_database, layer_rules
from gis_service.rows.schema import TYPES, row_schema

GEOMETRY_NAMES = {
    "point": ["Point"],
    "linestring": ["LineString"],
    "polygon": ["Polygon"],
    "multipolygon": ["MultiPolygon", "Polygon"],
}
STALE = ("If-Match names an ETag that is no longer current; a feature's 412 carries the version "
         "now: its ETag header, and the feature as `current` (in the CRS of Content-Crs)")
"""What a stale write is answered (the app's document says it of every 412)."""
STATUS_TEXT = {
    304: "Not modified (If-None-Match names the current ETag)",
    400: "Bad request: unknown parameter, wrong type or bad filter",
    401: "A bearer token is needed (or the one given is unknown)",
    403: "The caller's role or grids do not allow this (also a change of a field outside "
    "the role's edit rights in the catalog)",
    404: "No such feature",
    409: "Idempotency-Key reused for another request, a duplicate or references remain",
    412: STALE,
    422: "The feature breaks a rule (RFC 9457 problem details name the field)",
    428: "If-Match is required for writes to existing features",
}
BEYOND_SCHEMA = "x-beyond-schema"
MAX_WHOLE = 10**18 - 1  # limit and offset: at most 18 digits
CRS_SCHEMA = {"type": "string", "enum": supported()}
SECURITY: list[dict[str, list[str]]] = [{}, {"bearerAuth": []}]


def beyond_schema(status: int, *rules: str) -> dict[str, Any]:
    """`openapi_extra` naming rules the schema cannot state, and the status that refuses them.

    OpenAPI 3.0 cannot compare two fields, parse CQL2 or look in the database; such rules
    are listed per operation (and in its description), so a client knows why a request
    that fits the schema may still be refused.
    """
    return {BEYOND_SCHEMA: {str(status): list(rules)}}


def field_schema(layer: Layer, name: str, nullable: bool) -> dict[str, Any]:
    """The JSON schema of one field (3.1 style; converted for /api)."""
    found = queryable_fields(layer).get(name) or layer.field(name)
    schema: dict[str, Any] = dict(TYPES[found.type])
    schema["title"] = found.label.en
    if found.type == "integer":
        schema["minimum"], schema["maximum"] = integer_range(layer, name)
    if found.type == "string" and max_length(layer, name):
        schema["maxLength"] = max_length(layer, name)
    if found.enum:
        schema["enum"] = [*found.enum, *([None] if nullable else [])]
    if nullable:
        schema["type"] = [schema["type"], "null"]
    return schema


def properties_schema(layer: Layer) -> dict[str, Any]:
    """The properties object of a layer's features as read."""
    props = {
        f.name: field_schema(layer, f.name, bool(column(layer, f.name).nullable))
        for f in layer.fields
    }
    return {"type": "object", "properties": props}


def written_properties(layer: Layer, mode: str) -> dict[str, Any]:
    """What a write may carry, from the layer's row rules (the ones the server applies).

    create: required fields given (null leaves a field out); replace: every field that takes
    no null given (editable ones left out become null); patch: any fields.
    """
    doc = layer_rules(layer)
    fields = doc["fields"]
    if mode == "create":
        required = [name for name, spec in fields.items() if spec.get("required")]
        schema = row_schema({**doc, "fields": {
            name: {**spec, "nullable": name not in required} for name, spec in fields.items()
        }}, required)  # fmt: skip
    elif mode == "replace":
        required = [name for name, spec in fields.items() if not spec.get("nullable", True)]
        schema = row_schema(doc, required)
    else:
        schema = row_schema(doc)
    schema["properties"]["version"] = {"description": "ignored: If-Match names the version"}
    for name in kept_by_database(layer):
        schema["properties"][name] = {"description": "ignored: the database keeps it"}
    return schema


def coordinates(name: str, area: tuple[float, float, float, float] | None) -> dict[str, Any]:
    """The coordinates of a GeoJSON geometry type; each number within the area's box if given.

    OpenAPI 3.0 cannot bound longitude and latitude apart, so a number may lie anywhere from
    the box's smallest to its largest edge; the server checks each axis (422 naming geometry).
    """
    number: dict[str, Any] = {"type": "number"}
    if area is not None:
        number.update(minimum=min(area), maximum=max(area))
    position = {"type": "array", "minItems": 2, "maxItems": 3, "items": number}
    ring = {"type": "array", "minItems": 4, "items": position}
    polygon = {"type": "array", "minItems": 1, "items": ring}
    return {
        "Point": position,
        "LineString": {"type": "array", "minItems": 2, "items": position},
        "Polygon": polygon,
        "MultiPolygon": {"type": "array", "minItems": 1, "items": polygon},
    }[name]


def geometry_schema(
    layer: Layer, area: tuple[float, float, float, float] | None = None
) -> dict[str, Any]:
    """A GeoJSON geometry of the layer's type (lon, lat in CRS84; writes: inside the area)."""
    options = [
        {
            "type": "object",
            "required": ["type", "coordinates"],
            "properties": {
                "type": {"type": "string", "enum": [name]},
                "coordinates": coordinates(name, area),
            },
        }
        for name in GEOMETRY_NAMES[layer.geometry]
    ]
    return options[0] if len(options) == 1 else {"oneOf": options}


def feature_schema(
    layer: Layer, mode: str = "read", area: tuple[float, float, float, float] | None = None
) -> dict[str, Any]:
    """A GeoJSON Feature of the layer as read, or as a create, replace or patch sends it."""
    write = mode != "read"
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "geometry": geometry_schema(layer, area if write else None),
            "properties": written_properties(layer, mode) if write else properties_schema(layer),
        },
    }
    if not write:
        schema["properties"]["id"] = {"type": "integer"}
        schema["properties"]["links"] = {"type": "array", "items": {"type": "object"}}
        schema["required"] = ["type", "id", "geometry", "properties"]
    elif mode != "patch":
        schema["required"] = ["type", "geometry", "properties"]
    return schema


def collection_schema(layer: Layer) -> dict[str, Any]:
    """A FeatureCollection page of the layer."""
    return {
        "type": "object",
        "required": ["type", "features", "numberReturned", "links"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": feature_schema(layer)},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
            "timeStamp": {"type": "string", "format": "date-time"},
            "links": {"type": "array", "items": {"type": "object"}},
        },
    }


def answers(ok: dict[int, dict[str, Any]], *codes: int) -> dict[int | str, dict[str, Any]]:
    """Responses of an operation: the given successes, then each error code's description.

    The app's document (api/openapi.py) gives every error answer its problem+json content.
    """
    found: dict[int | str, dict[str, Any]] = {}
    found.update(ok.items())
    for code in codes:
        found[code] = {"description": STATUS_TEXT[code]}
        if code in (304, 412):
            found[code]["headers"] = {"ETag": {"required": True, "schema": {"type": "string"}}}
    return found


def query_parameter(name: str, schema: dict[str, Any], text: str) -> dict[str, Any]:
    """One optional query parameter."""
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": text}


def header_parameter(
    name: str, text: str, required: bool = False, pattern: str | None = None
) -> dict[str, Any]:
    """One header parameter."""
    schema: dict[str, Any] = {"type": "string"}
    if pattern:
        schema["pattern"] = pattern
    return {
        "name": name,
        "in": "header",
        "required": required,
        "schema": schema,
        "description": text,
    }


IDEMPOTENCY_KEY = header_parameter(
    "Idempotency-Key", "replays the first answer for repeats", pattern=idem.KEY_PATTERN
)


def items_parameters(layer: Layer, default_limit: int, max_limit: int) -> list[dict[str, Any]]:
    """The items query parameters: paging, bbox, CQL2 filter, one equality filter per field."""
    found = [
        query_parameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": max_limit, "default": default_limit},
            f"features per page: at most {max_limit} (GIS_ITEMS_MAX_LIMIT); a larger limit is "
            "clamped to it, as OGC API Features requires",
        ),
        query_parameter(
            "offset",
            {"type": "integer", "minimum": 0, "maximum": MAX_WHOLE, "default": 0},
            "features to skip",
        ),
        {
            **query_parameter(
                "bbox",
                {
                    "type": "array",
                    "minItems": 4,
                    "maxItems": 6,
                    "items": {"type": "number"},
                },
                "the box in bbox-crs and its axis order; in CRS84 west,south,east,north "
                "(longitudes -180..180, latitudes -90..90, south <= north; west > east crosses "
                "the antimeridian); 6 numbers: 3D",
            ),
            "style": "form",
            "explode": False,
        },
        query_parameter("bbox-crs", CRS_SCHEMA, "the CRS of bbox (default CRS84)"),
        query_parameter("crs", CRS_SCHEMA, "the CRS of the answer (default CRS84; Content-Crs)"),
        query_parameter(
            "datetime",
            {"type": "string", "maxLength": 100},
            "an RFC 3339 instant or interval start/end ('..' open) matched against the "
            + (", ".join(layer.temporal) if layer.temporal else "(none: every feature matches)"),
        ),
        query_parameter(
            "properties", {"type": "string"}, "comma-separated properties to return (empty: none)"
        ),
        query_parameter(
            "sortby", {"type": "string"}, "comma-separated queryables, '-' first for descending"
        ),
        query_parameter(
            "ids", {"type": "string"}, f"comma-separated feature ids (at most {MAX_IDS})"
        ),
        query_parameter(
            "filter", {"type": "string", "minLength": 1}, "a CQL2 filter over the queryables"
        ),
        query_parameter(
            "filter-lang", {"type": "string", "enum": list(LANGUAGES)}, "the filter language"
        ),
        query_parameter("filter-crs", CRS_SCHEMA, "the CRS of the filter's geometries"),
        query_parameter("f", {"type": "string", "enum": ["json", "geojson", "html"]}, "encoding"),
    ]
    for name in sorted(queryable_fields(layer)):
        schema = field_schema(layer, name, False)
        schema.pop("title", None)
        found.append(query_parameter(name, schema, f"features whose {name} equals this value"))
    return found
