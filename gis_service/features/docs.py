"""OpenAPI documentation of each layer's items routes (summaries, parameters, bodies, answers)."""

from __future__ import annotations

from typing import Any

from gis_service.catalog import Layer
from gis_service.features import openapi as doc
from gis_service.features.crs import supported
from gis_service.features.geojson import GEOJSON
from gis_service.rows.rules import layer_rules
from gis_service.rows.schema import unstated_rules

ETAG_HEADER = {
    "ETag": {"description": "the feature's version", "required": True, "schema": {"type": "string"}}
}
FEATURE_ID = {
    "name": "featureId",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9]{1,18}$", "example": "1"},
}
ETAGS = r'^(\*|(W/)?"[!#-~]*"(\s*,\s*(W/)?"[!#-~]*")*)$'  # RFC 9110 entity tags
QUERY_RULES = doc.beyond_schema(
    400,
    "filter: CQL2-text over the layer's queryables (see its queryables)",
    "bbox: south <= north",
    "no NUL character in any value",
)
WRITE_ERRORS = (400, 401, 403, 404, 409, 412, 422, 428)  # 413, 415: from the body reader


def write_rules(layer: Layer) -> dict[str, Any]:
    """What a write's schema cannot state, from the layer's row rules (422 when broken)."""
    return doc.beyond_schema(
        422,
        "geometry: a valid GeoJSON geometry (closed rings, no self-intersection) whose "
        "longitudes and latitudes each lie inside the service area: the GIS_SERVICE_AREA box "
        "when set, else the stored data's extent grown by GIS_SERVICE_AREA_MARGIN_KM",
        *unstated_rules(layer_rules(layer)),
        "a change is checked merged with the stored feature; referenced features exist",
    )


def body(
    layer: Layer, mode: str, area: tuple[float, float, float, float] | None
) -> dict[str, Any]:
    """The request body of a create, replace or (merge) patch."""
    schema = doc.feature_schema(layer, mode, area)
    first = "application/merge-patch+json" if mode == "patch" else GEOJSON
    return {
        "required": True,
        "content": {first: {"schema": schema}, "application/json": {"schema": schema}},
    }


CONTENT_CRS = {
    "Content-Crs": {
        "description": "the CRS of the geometries, as <URI> (OGC API Features Part 2)",
        "schema": {"type": "string"},
    }
}
ITEM_CRS = doc.query_parameter("crs", doc.CRS_SCHEMA, "the CRS of the answer (default CRS84)")
ITEM_FORMAT = doc.query_parameter(
    "f", {"type": "string", "enum": ["json", "geojson", "html"]}, "GeoJSON (default) or a page"
)
WRITTEN_CRS = {
    **doc.header_parameter(
        "Content-Crs",
        "the CRS of the body's geometry as <URI>, in its axis order (default CRS84; any CRS of "
        "the collection's crs list, else 400; the coordinate bounds of the body schema are "
        "CRS84's)",
    ),
    "schema": {"type": "string", "enum": [f"<{uri}>" for uri in supported()]},
}


def route_docs(
    layer: Layer, default_limit: int, max_limit: int, area: tuple[float, float, float, float] | None
) -> dict[str, dict[str, Any]]:
    """Keyword arguments of add_api_route for each items route of a layer."""
    title = layer.title.en
    geo = {"content": {GEOJSON: {"schema": doc.feature_schema(layer)}}}
    feature_ok = {
        "description": "the feature", "headers": {**ETAG_HEADER, **CONTENT_CRS}, **geo
    }
    feature_read = {
        "description": "the feature (f=html: a page, in Chinese when Accept-Language prefers it)",
        "headers": {**ETAG_HEADER, **CONTENT_CRS},
        "content": {**geo["content"], "text/html": {"schema": {"type": "string"}}},
    }
    key = doc.IDEMPOTENCY_KEY
    match = doc.header_parameter(
        "If-Match", "the feature's ETag, or * (428 without it, 412 when stale)", True, ETAGS
    )
    none_match = doc.header_parameter("If-None-Match", "an ETag seen before (304 if current)")
    security = {"security": doc.SECURITY}
    page = {
        "description": "a page of features (f=html: as a page with a map and a table)",
        "headers": CONTENT_CRS,
        "content": {
            GEOJSON: {"schema": doc.collection_schema(layer)},
            "text/html": {"schema": {"type": "string"}},
        },
    }
    created = {
        "description": "created",
        **geo,
        "headers": {
            **ETAG_HEADER,
            "Location": {"description": "the new feature", "required": True,
                         "schema": {"type": "string"}},
        },
    }
    history = {
        "description": "edits, oldest first",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
    return {
        "items": {
            "summary": f"{title}: features (bbox, limit, offset, equality and CQL2 filters)",
            "openapi_extra": {
                **security,
                "parameters": doc.items_parameters(layer, default_limit, max_limit),
                **QUERY_RULES,
            },
            "responses": doc.answers({200: page}, 400, 401, 403, 422),
        },
        "create": {
            "summary": f"{title}: add a feature",
            "openapi_extra": {
                **security,
                "requestBody": body(layer, "create", area),
                "parameters": [key, WRITTEN_CRS],
                **write_rules(layer),
            },
            "responses": doc.answers({201: created}, 400, 401, 403, 409, 422),
            "status_code": 201,
        },
        "item": {
            "summary": f"{title}: one feature (ETag; If-None-Match gives 304)",
            "openapi_extra": {
                **security, "parameters": [FEATURE_ID, none_match, ITEM_CRS, ITEM_FORMAT]
            },
            "responses": doc.answers({200: feature_read}, 304, 400, 401, 403, 404, 422),
        },
        "replace": {
            "summary": f"{title}: replace a feature (fields you may edit and leave out: null)",
            "openapi_extra": {
                **security,
                "requestBody": body(layer, "replace", area),
                "parameters": [FEATURE_ID, match, key, WRITTEN_CRS],
                **write_rules(layer),
            },
            "responses": doc.answers({200: feature_ok}, *WRITE_ERRORS),
        },
        "patch": {
            "summary": f"{title}: change fields (JSON merge patch)",
            "openapi_extra": {
                **security,
                "requestBody": body(layer, "patch", area),
                "parameters": [FEATURE_ID, match, key, WRITTEN_CRS],
                **write_rules(layer),
            },
            "responses": doc.answers({200: feature_ok}, *WRITE_ERRORS),
        },
        "delete": {
            "summary": f"{title}: delete a feature",
            "openapi_extra": {**security, "parameters": [FEATURE_ID, match, key]},
            "responses": doc.answers({204: {"description": "deleted"}}, *WRITE_ERRORS),
            "status_code": 204,
        },
        "history": {
            "summary": f"{title}: the edit log of one feature",
            "openapi_extra": {**security, "parameters": [FEATURE_ID]},
            "responses": doc.answers({200: history}, 401, 403, 404, 422),
        },
    }
