"""OGC API - Tiles 1.0 documents for WebMercatorQuad: tile matrix sets, tilesets, limits."""

from __future__ import annotations

from typing import Any

from gis_service.catalog import Layer
from gis_service.tiles.grid import CRS_URI, MAX_ZOOM, TMS_ID, TMS_URI, tile_range

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
    """/tileMatrixSets: the one tile matrix set served."""
    return {
        "tileMatrixSets": [
            {
                "id": TMS_ID,
                "title": "Google Maps Compatible for the World",
                "uri": TMS_URI,
                "links": [link(f"{base_url}/tileMatrixSets/{TMS_ID}", "self")],
            }
        ],
        "links": [link(f"{base_url}/tileMatrixSets", "self")],
    }


def tileset_summary(base_url: str, layer: Layer) -> dict[str, Any]:
    """One entry of /collections/{id}/tiles."""
    href = f"{base_url}/collections/{layer.id}/tiles/{TMS_ID}"
    return {
        "title": f"{layer.title.en} / {layer.title.zh}",
        "dataType": "vector",
        "crs": CRS_URI,
        "tileMatrixSetURI": TMS_URI,
        "links": [
            link(href, "self", title=f"{layer.title.en} tileset in {TMS_ID}"),
            link(f"{base_url}/tileMatrixSets/{TMS_ID}", REL_TILING_SCHEME),
        ],
    }


def tilesets(base_url: str, layer: Layer) -> dict[str, Any]:
    """/collections/{id}/tiles: the tilesets of a collection (one, in WebMercatorQuad)."""
    return {
        "links": [
            link(f"{base_url}/collections/{layer.id}/tiles", "self"),
            link(f"{base_url}/collections/{layer.id}", "collection"),
        ],
        "tilesets": [tileset_summary(base_url, layer)],
    }


def tileset(
    base_url: str, layer: Layer, bounds: list[float], query: str = ""
) -> dict[str, Any]:
    """/collections/{id}/tiles/WebMercatorQuad: the tileset's limits, layer and tile template."""
    limits = []
    for zoom in range(layer.tiles.minzoom, min(layer.tiles.maxzoom, MAX_ZOOM) + 1):
        col0, row0, col1, row1 = tile_range((bounds[0], bounds[1], bounds[2], bounds[3]), zoom)
        limits.append(
            {
                "tileMatrix": str(zoom),
                "minTileRow": row0,
                "maxTileRow": row1,
                "minTileCol": col0,
                "maxTileCol": col1,
            }
        )
    href = f"{base_url}/collections/{layer.id}/tiles/{TMS_ID}"
    template = f"{href}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}{query}"
    return {
        "title": f"{layer.title.en} / {layer.title.zh}",
        "description": layer.description.en,
        "dataType": "vector",
        "crs": CRS_URI,
        "tileMatrixSetURI": TMS_URI,
        "tileMatrixSetLimits": limits,
        "boundingBox": {
            "lowerLeft": bounds[:2],
            "upperRight": bounds[2:],
            "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        },
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
            link(f"{base_url}/tileMatrixSets/{TMS_ID}", REL_TILING_SCHEME),
            link(f"{base_url}/collections/{layer.id}", "collection"),
            link(template, "item", MVT_MEDIA_TYPE, templated=True),
            link(f"{base_url}/tiles/{layer.id}/tilejson.json", "describedby",
                 title="TileJSON 3.0.0"),
        ],
    }
