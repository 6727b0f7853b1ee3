"""OpenAPI pieces of the features API (schemas per layer) and the OpenAPI 3.0 form of the app."""

from __future__ import annotations

import copy
from typing import Any

from gis_service.catalog import Layer
from gis_service.features.values import column, integer_range, max_length, queryable_fields

SCALARS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
}
GEOMETRY_NAMES = {
    "point": ["Point"],
    "linestring": ["LineString"],
    "polygon": ["Polygon"],
    "multipolygon": ["MultiPolygon", "Polygon"],
}
PROBLEM = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["title", "status"],
}
STATUS_TEXT = {
    304: "Not modified (If-None-Match names the current ETag)",
    400: "Bad request: unknown parameter, wrong type or bad filter",
    401: "A bearer token is needed (or the one given is unknown)",
    403: "The caller's role or grids do not allow this (also a change of a field outside "
    "the role's edit rights in the catalog)",
    404: "No such feature",
    405: "Method not allowed",
    409: "Idempotency-Key reused for another request, a duplicate or references remain",
    412: "If-Match names an ETag that is no longer current",
    413: "The body is larger than the configured limit",
    415: "The body must be JSON",
    422: "The feature breaks a rule (RFC 9457 problem details name the field)",
    428: "If-Match is required for writes to existing features",
    503: "The database is unavailable or the query took too long",
}
SECURITY: list[dict[str, list[str]]] = [{}, {"bearerAuth": []}]


def field_schema(layer: Layer, name: str, nullable: bool) -> dict[str, Any]:
    """The JSON schema of one field (3.1 style; converted for /api)."""
    found = queryable_fields(layer).get(name) or layer.field(name)
    schema = copy.deepcopy(SCALARS[found.type])
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


def properties_schema(layer: Layer, write: bool) -> dict[str, Any]:
    """The properties object of a layer's features (reads), or what a write may carry."""
    props = {
        f.name: field_schema(layer, f.name, write or bool(column(layer, f.name).nullable))
        for f in layer.fields
    }
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if write:
        schema["additionalProperties"] = False
    return schema


POSITION = {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "number"}}
LINE = {"type": "array", "minItems": 2, "items": POSITION}
RING = {"type": "array", "minItems": 4, "items": POSITION}
POLYGON = {"type": "array", "minItems": 1, "items": RING}
COORDINATES = {
    "Point": POSITION,
    "LineString": LINE,
    "Polygon": POLYGON,
    "MultiPolygon": {"type": "array", "minItems": 1, "items": POLYGON},
}


def geometry_schema(layer: Layer) -> dict[str, Any]:
    """A GeoJSON geometry of the layer's type (lon, lat in CRS84)."""
    options = [
        {
            "type": "object",
            "required": ["type", "coordinates"],
            "properties": {
                "type": {"type": "string", "enum": [name]},
                "coordinates": COORDINATES[name],
            },
        }
        for name in GEOMETRY_NAMES[layer.geometry]
    ]
    return options[0] if len(options) == 1 else {"oneOf": options}


def feature_schema(layer: Layer, write: bool = False, patch: bool = False) -> dict[str, Any]:
    """A GeoJSON Feature of the layer."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "geometry": geometry_schema(layer),
            "properties": properties_schema(layer, write),
        },
    }
    if not write:
        schema["properties"]["id"] = {"type": "integer"}
        schema["properties"]["links"] = {"type": "array", "items": {"type": "object"}}
        schema["required"] = ["type", "id", "geometry", "properties"]
    elif not patch:
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
    """Responses of an operation: the given successes, then problem+json for each error code."""
    found: dict[int | str, dict[str, Any]] = {}
    found.update(ok.items())
    for code in (*codes, 503):
        if code == 304:
            found[code] = {"description": STATUS_TEXT[code]}
            continue
        found[code] = {
            "description": STATUS_TEXT[code],
            "content": {"application/problem+json": {"schema": PROBLEM}},
        }
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


def items_parameters(layer: Layer, default_limit: int, max_limit: int) -> list[dict[str, Any]]:
    """The items query parameters: paging, bbox, CQL2 filter, one equality filter per field."""
    found = [
        query_parameter(
            "limit",
            {"type": "integer", "minimum": 1, "default": default_limit},
            f"features per page (at most {max_limit}; larger values are clamped)",
        ),
        query_parameter(
            "offset", {"type": "integer", "minimum": 0, "default": 0}, "features to skip"
        ),
        {
            **query_parameter(
                "bbox",
                {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
                "west,south,east,north in CRS84",
            ),
            "style": "form",
            "explode": False,
        },
        query_parameter(
            "filter", {"type": "string", "minLength": 1}, "a CQL2-text filter over the queryables"
        ),
        query_parameter(
            "filter-lang", {"type": "string", "enum": ["cql2-text"]}, "the filter language"
        ),
        query_parameter("f", {"type": "string", "enum": ["json", "geojson"]}, "encoding"),
    ]
    for name in sorted(queryable_fields(layer)):
        schema = field_schema(layer, name, False)
        schema.pop("title", None)
        found.append(query_parameter(name, schema, f"features whose {name} equals this value"))
    return found


def to_openapi_30(document: dict[str, Any]) -> dict[str, Any]:
    """The app's OpenAPI 3.1 document rewritten as OpenAPI 3.0.3 (nullable, example, enum)."""
    converted: dict[str, Any] = _convert(copy.deepcopy(document))
    converted["openapi"] = "3.0.3"
    unique_operation_ids(converted)
    components = converted.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearerAuth"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "a token of a demo or real user; without one the caller is anonymous",
    }
    return converted


def unique_operation_ids(document: dict[str, Any]) -> None:
    """Make operationIds unique (a route answering GET and HEAD shares one in FastAPI)."""
    seen: set[str] = set()
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            name = operation["operationId"]
            if name in seen:
                name = f"{name}_{method}"
                operation["operationId"] = name
            seen.add(name)


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _convert(value) for key, value in node.items()}
    kind = node.get("type")
    if isinstance(kind, list):
        rest = [k for k in kind if k != "null"]
        if "null" in kind:
            node["nullable"] = True
        if len(rest) == 1:
            node["type"] = rest[0]
        else:
            node.pop("type")
            node["anyOf"] = [{"type": k} for k in rest]
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            node.pop(key)
            node["nullable"] = True
            if len(rest) == 1 and "$ref" in rest[0]:
                node["allOf"] = rest
            elif len(rest) == 1:
                node.update(rest[0])
            else:
                node[key] = rest
    if "const" in node and not isinstance(node["const"], dict):
        node["enum"] = [node.pop("const")]
    if isinstance(node.get("examples"), list):
        examples = node.pop("examples")
        if examples:
            node["example"] = examples[0]
    for bound, name in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(bound), int | float) and not isinstance(node[bound], bool):
            node[name] = node[bound]
            node[bound] = True
    node.pop("contentMediaType", None)
    node.pop("$schema", None)
    return node
