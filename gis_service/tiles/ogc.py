"""OGC API - Tiles 1.0 documents for WebMercatorQuad: tile matrix sets, tilesets, limits."""

from __future__ import annotations

from typing import Any

from gis_service.catalog import Layer
from gis_service.tiles.grid import MATRIX_SETS, MAX_ZOOM, TMS_ID, lonlat_to_mercator, tile_range

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
REL_TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"

# Conformance classes of OGC API - Tiles Part 1 (OGC 20-057) and of the TileMatrixSet 2.0
# encoding (OGC 17-083r4) this service implements; listed by /conformance.
CONFORMANCE_CLASSES = (
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/tilesetmetadata",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilesetmetadata",
)


def link(href: str, rel: str, media_type: str = "application/json", **extra: Any) -> dict[str, Any]:
    """One OGC API link object."""
    return {"href": href, "rel": rel, "type": media_type, **extra}


def tile_matrix_sets(base_url: str) -> dict[str, Any]:
    """/tileMatrixSets: the tile matrix sets served."""
    return {
        "tileMatrixSets": [
            {
                "id": tms.id,
                "title": tms.title,
                "uri": tms.uri,
                "crs": tms.crs,
                "links": [link(f"{base_url}/tileMatrixSets/{tms.id}", "self")],
            }
            for tms in MATRIX_SETS.values()
        ],
        "links": [link(f"{base_url}/tileMatrixSets", "self")],
    }


def tileset_summary(base_url: str, layer: Layer, tms_id: str) -> dict[str, Any]:
    """One entry of /collections/{id}/tiles."""
    tms = MATRIX_SETS[tms_id]
    href = f"{base_url}/collections/{layer.id}/tiles/{tms.id}"
    return {
        "title": f"{layer.title.en} / {layer.title.zh}",
        "dataType": "vector",
        "crs": tms.crs,
        "tileMatrixSetURI": tms.uri,
        "links": [
            link(href, "self", title=f"{layer.title.en} tileset in {tms.id}"),
            link(f"{base_url}/tileMatrixSets/{tms.id}", REL_TILING_SCHEME),
        ],
    }


def tilesets(base_url: str, layer: Layer) -> dict[str, Any]:
    """/collections/{id}/tiles: the tilesets of a collection, one per tile matrix set."""
    return {
        "links": [
            link(f"{base_url}/collections/{layer.id}/tiles", "self"),
            link(f"{base_url}/collections/{layer.id}", "collection"),
        ],
        "tilesets": [tileset_summary(base_url, layer, tms) for tms in MATRIX_SETS],
    }


def tileset(
    base_url: str, layer: Layer, bounds: list[float], tms_id: str, query: str = ""
) -> dict[str, Any]:
    """/collections/{id}/tiles/{tms}: the tileset's limits, layer and tile template.

    The bounding box is given in the tile matrix set's CRS and in CRS84 (`crs` says which).
    """
    tms = MATRIX_SETS[tms_id]
    box = (bounds[0], bounds[1], bounds[2], bounds[3])
    limits = []
    for zoom in range(layer.tiles.minzoom, min(layer.tiles.maxzoom, MAX_ZOOM) + 1):
        col0, row0, col1, row1 = tile_range(box, zoom, tms.id)
        limits.append(
            {
                "tileMatrix": str(zoom),
                "minTileRow": row0,
                "maxTileRow": row1,
                "minTileCol": col0,
                "maxTileCol": col1,
            }
        )
    href = f"{base_url}/collections/{layer.id}/tiles/{tms.id}"
    template = f"{href}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}{query}"
    return {
        "title": f"{layer.title.en} / {layer.title.zh}",
        "description": layer.description.en,
        "dataType": "vector",
        "crs": tms.crs,
        "tileMatrixSetURI": tms.uri,
        "tileMatrixSetLimits": limits,
        "boundingBox": bounding_box(box, tms_id),
        "layers": [
            {
                "id": layer.id,
                "dataType": "vector",
                "geometryDimension": {"point": 0, "linestring": 1}.get(layer.geometry, 2),
                "minTileMatrix": str(layer.tiles.minzoom),
                "maxTileMatrix": str(layer.tiles.maxzoom),
            }
        ],
        "links": [
            link(href, "self"),
            link(f"{base_url}/tileMatrixSets/{tms.id}", REL_TILING_SCHEME),
            link(f"{base_url}/collections/{layer.id}", "collection"),
            link(template, "item", MVT_MEDIA_TYPE, templated=True),
            link(f"{base_url}/tiles/{layer.id}/tilejson.json", "describedby",
                 title="TileJSON 3.0.0"),
        ],
    }


def bounding_box(box: tuple[float, float, float, float], tms_id: str) -> dict[str, Any]:
    """A tileset's boundingBox (OGC 2D TMS 2.0) in its tile matrix set's CRS."""
    tms = MATRIX_SETS[tms_id]
    west, south, east, north = box
    if tms.id == TMS_ID:
        west, south = lonlat_to_mercator(west, south)
        east, north = lonlat_to_mercator(east, north)
    return {"lowerLeft": [west, south], "upperRight": [east, north], "crs": tms.crs}
