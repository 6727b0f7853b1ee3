"""Describing tile sets: data bounds, vector_layers, TileJSON 3.0.0 and GDAL's metadata.json."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa

from gis_service.auth import Principal
from gis_service.catalog import Layer
from gis_service.tiles.cache import TileCache, VersionKey
from gis_service.tiles.mvt import category_field, quote
from gis_service.tiles.params import TileFilter
from gis_service.tiles.render import check_access, scope_key, table_state

WORLD = [-180.0, -85.0511287798066, 180.0, 85.0511287798066]
CENTER_ZOOM = 15
GDAL_TYPES = {"integer": "Number", "number": "Number", "boolean": "Boolean"}
ATTRIBUTION = "老旧小区改造 GIS · old-neighbourhood renewal service"


def data_bounds(
    conn: sa.Connection,
    cache: TileCache,
    layers: Sequence[Layer],
    tfilter: TileFilter,
    scope: str,
    versions: VersionKey,
) -> list[float] | None:
    """[west, south, east, north] of the features the caller sees (None without any)."""
    key = ("bounds", tuple(layer.id for layer in layers), tfilter.items, scope, versions)
    found = cache.get(key)
    if isinstance(found, bytes):
        loaded: list[float] | None = json.loads(found)
        return loaded
    boxes = []
    for index, layer in enumerate(layers):
        where = tfilter.for_layer(layer, f"l{index}_")
        row = conn.execute(
            sa.text(
                "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM "
                f"(SELECT ST_Extent(geom) AS b FROM {quote(layer.table)} "
                f"WHERE {where.sql or 'TRUE'}) s"
            ),
            where.params,
        ).one()
        if row[0] is not None:
            boxes.append([float(v) for v in row])
    bounds = (
        [min(b[0] for b in boxes), min(b[1] for b in boxes),
         max(b[2] for b in boxes), max(b[3] for b in boxes)]
        if boxes
        else None
    )
    if all(version for _, version in versions):
        cache.put(key, json.dumps(bounds).encode(), versions)
    return bounds


def categories(conn: sa.Connection, layer: Layer) -> list[str]:
    """The values of the field an aggregated layer counts by (codes of its lookup table)."""
    name = category_field(layer)
    if name is None:
        return []
    field = layer.field(name)
    if field.enum:
        return list(field.enum)
    if field.enum_from:
        rows = conn.execute(sa.text(f"SELECT code FROM {quote(field.enum_from)} ORDER BY code"))
        return [str(row[0]) for row in rows]
    return []


def layer_fields(layer: Layer, cats: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Each property in the layer's tiles: name -> (type, description)."""
    fields: dict[str, tuple[str, str]] = {}
    for name in layer.tiles.properties:
        if name == "id":
            fields[name] = ("integer", "Identifier")
        else:
            field = layer.field(name)
            fields[name] = (field.type, f"{field.label.en} / {field.label.zh}")
    below = layer.tiles.aggregate_below
    category = category_field(layer)
    if below is not None:
        note = f"(cells of zooms below {below})"
        fields["count"] = ("integer", f"Features in the cell {note}")
        if category == "elevator_status":
            fields["in_service"] = ("integer", f"Elevators in service {note}")
        if any(f.name == "households" for f in layer.fields):
            fields["households"] = ("integer", f"Households; their sum per cell {note}")
        for code in cats:
            fields[f"n_{code}"] = ("integer", f"Features with {category} {code} {note}")
    return fields


def vector_layers(
    layers: Sequence[Layer], cats: dict[str, list[str]], gdal: bool = False
) -> list[dict[str, Any]]:
    """TileJSON vector_layers (GDAL form: field values are the types Number/String/Boolean)."""
    found = []
    for layer in layers:
        fields = layer_fields(layer, cats.get(layer.id, []))
        found.append(
            {
                "id": layer.id,
                "description": f"{layer.title.en} / {layer.title.zh}: {layer.description.en}",
                "minzoom": layer.tiles.minzoom,
                "maxzoom": layer.tiles.maxzoom,
                "fields": {
                    name: GDAL_TYPES.get(kind, "String") if gdal else text
                    for name, (kind, text) in fields.items()
                },
            }
        )
    return found


def zoom_range(layers: Sequence[Layer]) -> tuple[int, int]:
    """The lowest minzoom and the highest maxzoom of the layers."""
    return min(la.tiles.minzoom for la in layers), max(la.tiles.maxzoom for la in layers)


def center(bounds: list[float], layers: Sequence[Layer]) -> list[float]:
    """[lon, lat, zoom] in the middle of the bounds, at a zoom the layers draw."""
    low, high = zoom_range(layers)
    zoom = max(low, min(high, CENTER_ZOOM))
    return [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, zoom]


def tile_url(base_url: str, layers: Sequence[Layer], tfilter: TileFilter) -> str:
    """The XYZ URL template of a layer set, repeating its filter."""
    ids = ",".join(layer.id for layer in layers)
    query = "?" + urlencode(tfilter.query_string()) if not tfilter.empty else ""
    return f"{base_url}/tiles/{ids}/{{z}}/{{x}}/{{y}}.pbf{query}"


def tilejson(
    base_url: str,
    layers: Sequence[Layer],
    tfilter: TileFilter,
    bounds: list[float] | None,
    cats: dict[str, list[str]],
) -> dict[str, Any]:
    """A TileJSON 3.0.0 document of a layer or layer set."""
    low, high = zoom_range(layers)
    box = bounds or WORLD
    return {
        "tilejson": "3.0.0",
        "name": ",".join(layer.id for layer in layers),
        "description": "; ".join(f"{la.title.en} / {la.title.zh}" for la in layers),
        "version": "1.0.0",
        "attribution": ATTRIBUTION,
        "scheme": "xyz",
        "tiles": [tile_url(base_url, layers, tfilter)],
        "minzoom": low,
        "maxzoom": high,
        "bounds": box,
        "center": center(box, layers),
        "vector_layers": vector_layers(layers, cats),
    }


def gdal_metadata(
    layers: Sequence[Layer], bounds: list[float] | None, cats: dict[str, list[str]]
) -> dict[str, Any]:
    """metadata.json as GDAL's MVT driver reads it next to a {z}/{x}/{y}.pbf tree."""
    low, high = zoom_range(layers)
    box = bounds or WORLD
    geometry = {"point": "Point", "linestring": "LineString"}
    stats = {
        "layerCount": len(layers),
        "layers": [
            {
                "layer": layer.id,
                "geometry": geometry.get(layer.geometry, "Polygon"),
                "attributes": [
                    {"attribute": name, "type": GDAL_TYPES.get(kind, "String").lower()}
                    for name, (kind, _) in layer_fields(layer, cats.get(layer.id, [])).items()
                ],
            }
            for layer in layers
        ],
    }
    document = {"vector_layers": vector_layers(layers, cats, gdal=True), "tilestats": stats}
    return {
        "name": ",".join(layer.id for layer in layers),
        "description": "; ".join(la.title.en for la in layers),
        "version": "2",
        "type": "overlay",
        "format": "pbf",
        "minzoom": str(low),
        "maxzoom": str(high),
        "bounds": ",".join(repr(v) for v in box),
        "center": ",".join(repr(v) for v in center(box, layers)),
        "json": json.dumps(document, ensure_ascii=False),
    }


def describe(
    conn: sa.Connection,
    cache: TileCache,
    principal: Principal,
    layers: Sequence[Layer],
    tfilter: TileFilter,
) -> tuple[list[float] | None, dict[str, list[str]]]:
    """Bounds of what the caller sees and the category codes of aggregated layers."""
    check_access(principal, layers)
    state = table_state(conn, layers)
    check_access(principal, layers, state)
    versions = tuple(sorted({(la.table, state[la.table].version or 0) for la in layers}))
    scope = scope_key(principal, layers, state)
    bounds = data_bounds(conn, cache, layers, tfilter, scope, versions)
    cats = {la.id: categories(conn, la) for la in layers if la.tiles.aggregate_below is not None}
    return bounds, cats
