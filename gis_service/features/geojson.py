"""GeoJSON encoding: features built as JSON text by PostGIS, collections assembled around them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from gis_service.catalog import Layer
from gis_service.features.crs import CRS84, STORAGE, Crs, geometry_sql
from gis_service.features.values import has_column, quoted

GEOJSON = "application/geo+json"
__all__ = ["CRS84", "GEOJSON"]


def properties_sql(layer: Layer, names: tuple[str, ...] | None = None) -> str:
    """A json_build_object over the layer's catalog fields (or those named, in catalog order)."""
    pairs = [
        f"'{f.name}', {quoted(f.name)}" for f in layer.fields if names is None or f.name in names
    ]
    chunks = [pairs[i : i + 45] for i in range(0, len(pairs), 45)] or [[]]
    parts = [f"jsonb_build_object({', '.join(chunk)})" for chunk in chunks]
    if len(parts) == 1:
        return parts[0].replace("jsonb_build_object", "json_build_object")
    return "(" + " || ".join(parts) + ")::json"


def feature_sql(
    layer: Layer, crs: Crs = STORAGE, names: tuple[str, ...] | None = None
) -> str:
    """SQL for one row as a GeoJSON Feature (json), with the row id as the feature id."""
    return (
        "json_build_object('type', 'Feature', 'id', \"id\", "
        f"'geometry', {geometry_sql(crs)}, "
        f"'properties', {properties_sql(layer, names)})"
    )


def etag_sql(layer: Layer) -> str:
    """SQL for a row's entity tag: its version, or a hash of its content without one."""
    if has_column(layer, "version"):
        return '"version"::text'
    return f"md5(({feature_sql(layer)})::text)"


def quote_etag(value: str) -> str:
    """An entity tag as sent in headers."""
    return f'"{value}"'


def link(href: str, rel: str, kind: str, title: str | None = None) -> dict[str, str]:
    """One OGC link object."""
    found = {"href": href, "rel": rel, "type": kind}
    if title:
        found["title"] = title
    return found


def now_iso() -> str:
    """The current time, ISO 8601 UTC."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def feature_collection(features: list[str], matched: int, links: list[dict[str, str]]) -> bytes:
    """A FeatureCollection around features already encoded as JSON text."""
    head = b'{"type":"FeatureCollection","features":['
    body = ",".join(features).encode()
    tail = orjson.dumps(
        {
            "numberMatched": matched,
            "numberReturned": len(features),
            "timeStamp": now_iso(),
            "links": links,
        }
    )
    return head + body + b"]," + tail[1:]


def feature_document(feature: str, links: list[dict[str, str]]) -> bytes:
    """One Feature (JSON text from the database) with its links added."""
    data: dict[str, Any] = orjson.loads(feature)
    data["links"] = links
    return orjson.dumps(data)
