"""The schema of each collection's features: OGC API Features Part 5 (flat, with x-ogc-role)
and the JSON Schema of one GeoJSON feature (what GDAL's OAPIF driver reads for field types)."""

from __future__ import annotations

from typing import Any

from gis_service.catalog import Layer
from gis_service.features import openapi as doc

GEOMETRY_FORMATS = {
    "point": "geometry-point",
    "linestring": "geometry-linestring",
    "polygon": "geometry-polygon",
    "multipolygon": "geometry-multipolygon",
}


def features_schema(base: str, queryables: dict[str, Any], layer: Layer) -> dict[str, Any]:
    """Every property with its type, the id, the geometry type and the temporal roles."""
    props: dict[str, Any] = {
        "id": {"type": "integer", "title": "id", "x-ogc-role": "id", "readOnly": True},
        "geometry": {
            "x-ogc-role": "primary-geometry",
            "format": GEOMETRY_FORMATS[layer.geometry],
            **queryables["properties"]["geometry"],
        },
    }
    for f in layer.fields:
        props[f.name] = queryables["properties"].get(f.name) or doc.field_schema(
            layer, f.name, False
        )
    roles = (
        ["primary-instant"]
        if len(layer.temporal) == 1
        else ["primary-interval-start", "primary-interval-end"]
    )
    for name, role in zip(layer.temporal, roles, strict=False):
        props[name] = {**props[name], "x-ogc-role": role}
    return {
        **queryables,
        "$id": f"{base}/collections/{layer.id}/schema",
        "properties": props,
    }


def feature_schema(base: str, queryables: dict[str, Any], layer: Layer) -> dict[str, Any]:
    """The JSON Schema of one GeoJSON feature of the layer."""
    flat = features_schema(base, queryables, layer)
    props = {k: v for k, v in flat["properties"].items() if k not in ("id", "geometry")}
    return {
        "$schema": flat["$schema"],
        "$id": f"{base}/collections/{layer.id}/feature-schema",
        "title": layer.title.en,
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer"},
            "geometry": flat["properties"]["geometry"],
            "properties": {"type": "object", "properties": props},
        },
    }
