"""TileJSON 3.0.0, GDAL's metadata.json and the OGC API Tiles documents."""

from __future__ import annotations

import json

import jsonschema

from gis_service.tiles import CONFORMANCE_CLASSES
from tests.tiles.conftest import TileServer, compound34, decode, rows, tile_pixel
from tests.tiles.test_xyz import get

# The TileJSON 3.0.0 schema (github.com/mapbox/tilejson-spec, 3.0.0/schema.json), with the
# spec's prose rules on bounds (4 numbers) and center (3 numbers) added.
VERSION = {"type": "string", "pattern": r"\d+\.\d+\.\d+\w?[\w\d]*"}
ZOOM = {"type": "integer", "minimum": 0, "maximum": 30}
STRINGS = {"type": "array", "items": {"type": "string"}}
TILEJSON_SCHEMA = {
    "type": "object",
    "properties": {
        "tilejson": VERSION,
        "tiles": {**STRINGS, "minItems": 1},
        "vector_layers": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    "description": {"type": "string"},
                    "maxzoom": {"type": "integer"},
                    "minzoom": {"type": "integer"},
                },
                "required": ["id", "fields"],
            },
        },
        "attribution": {"type": "string"},
        "bounds": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
        "center": {"type": "array", "items": {"type": "number"}, "minItems": 3, "maxItems": 3},
        "data": STRINGS,
        "description": {"type": "string"},
        "fillzoom": ZOOM,
        "grids": STRINGS,
        "legend": {"type": "string"},
        "maxzoom": ZOOM,
        "minzoom": ZOOM,
        "name": {"type": "string"},
        "scheme": {"type": "string", "enum": ["xyz", "tms"]},
        "template": {"type": "string"},
        "version": VERSION,
    },
    "required": ["tilejson", "tiles", "vector_layers"],
}


def test_tilejson_of_a_layer_follows_the_schema(tiles: TileServer) -> None:
    answer = get(tiles, "/tiles/stairwells/tilejson.json")
    assert answer.status_code == 200
    document = answer.json()
    jsonschema.validate(document, TILEJSON_SCHEMA)
    assert document["tilejson"] == "3.0.0"
    assert document["tiles"] == [f"{tiles.live.url}/tiles/stairwells/{{z}}/{{x}}/{{y}}.pbf"]
    assert (document["minzoom"], document["maxzoom"]) == (10, 22)
    extent = rows(tiles.engine, "SELECT ST_XMin(e) AS w, ST_YMin(e) AS s, ST_XMax(e) AS e, "
                                "ST_YMax(e) AS n FROM (SELECT ST_Extent(geom) AS e "
                                "FROM stairwell) x")[0]
    assert document["bounds"] == [extent.w, extent.s, extent.e, extent.n]
    west, south, east, north = document["bounds"]
    lon, lat, zoom = document["center"]
    assert west < lon < east and south < lat < north and 10 <= zoom <= 22
    (layer,) = document["vector_layers"]
    assert layer["id"] == "stairwells"
    assert {"id", "label", "elevator_status", "households", "count", "in_service",
            "n_in_service", "n_applied"} <= set(layer["fields"])
    url = document["tiles"][0].replace(tiles.live.url, "")
    first = compound34(tiles.engine)[0]
    x, y, _, _ = tile_pixel(first.lon, first.lat, 17)
    tile = get(tiles, url.format(z=17, x=x, y=y))
    assert tile.status_code == 200 and decode(tile.content)["stairwells"]["features"]


def test_tilejson_of_a_layer_set_with_a_filter(tiles: TileServer) -> None:
    answer = get(tiles, "/tiles/gardens,parking/tilejson.json?compound_id=5", None)
    document = answer.json()
    jsonschema.validate(document, TILEJSON_SCHEMA)
    assert [la["id"] for la in document["vector_layers"]] == ["gardens", "parking"]
    assert document["tiles"][0].endswith("/tiles/gardens,parking/{z}/{x}/{y}.pbf?compound_id=5")
    assert document["minzoom"] == 11
    assert get(tiles, "/tiles/stairwells/tilejson.json", None).status_code == 401
    assert get(tiles, "/tiles/nope/tilejson.json").status_code == 404


def test_grid_worker_bounds_cover_only_their_grid(tiles: TileServer) -> None:
    mine = get(tiles, "/tiles/stairwells/tilejson.json", "grid02").json()["bounds"]
    everyone = get(tiles, "/tiles/stairwells/tilejson.json").json()["bounds"]
    extent = rows(tiles.engine, "SELECT ST_XMin(e) AS w, ST_XMax(e) AS e FROM (SELECT "
                                "ST_Extent(geom) AS e FROM stairwell WHERE grid_id = 2) x")[0]
    assert mine[0] == extent.w and mine[2] == extent.e and mine != everyone


def test_gdal_metadata_json(tiles: TileServer) -> None:
    document = get(tiles, "/tiles/stairwells,streets/metadata.json").json()
    assert document["format"] == "pbf" and document["name"] == "stairwells,streets"
    assert (document["minzoom"], document["maxzoom"]) == ("10", "22")
    assert len(document["bounds"].split(",")) == 4 and len(document["center"].split(",")) == 3
    inner = json.loads(document["json"])
    layers = {la["id"]: la for la in inner["vector_layers"]}
    assert layers["stairwells"]["fields"]["households"] == "Number"
    assert layers["stairwells"]["fields"]["label"] == "String"
    stats = {la["layer"]: la["geometry"] for la in inner["tilestats"]["layers"]}
    assert stats == {"stairwells": "Point", "streets": "LineString"}


def test_ogc_api_tiles(tiles: TileServer) -> None:
    sets = get(tiles, "/tileMatrixSets", None).json()
    assert [s["id"] for s in sets["tileMatrixSets"]] == ["WebMercatorQuad", "WorldCRS84Quad"]
    tms = get(tiles, "/tileMatrixSets/WebMercatorQuad", None).json()
    assert tms["crs"].endswith("EPSG/0/3857") and len(tms["tileMatrices"]) == 25
    assert get(tiles, "/tileMatrixSets/WorldCRS1984Quad", None).status_code == 404
    listing = get(tiles, "/collections/stairwells/tiles").json()
    assert [(t["dataType"], t["tileMatrixSetURI"].rsplit("/", 1)[1]) for t in listing["tilesets"]
            ] == [("vector", "WebMercatorQuad"), ("vector", "WorldCRS84Quad")]
    tileset = get(tiles, "/collections/stairwells/tiles/WebMercatorQuad").json()
    limits = {m["tileMatrix"]: m for m in tileset["tileMatrixSetLimits"]}
    assert set(limits) == {str(z) for z in range(10, 23)}
    first = compound34(tiles.engine)[0]
    x, y, _, _ = tile_pixel(first.lon, first.lat, 17)
    limit17 = limits["17"]
    assert limit17["minTileCol"] <= x <= limit17["maxTileCol"]
    assert limit17["minTileRow"] <= y <= limit17["maxTileRow"]
    template = next(link["href"] for link in tileset["links"] if link["rel"] == "item")
    assert template.endswith("/collections/stairwells/tiles/WebMercatorQuad/"
                             "{tileMatrix}/{tileRow}/{tileCol}")
    ogc = get(tiles, f"/collections/stairwells/tiles/WebMercatorQuad/17/{y}/{x}")  # row, col
    xyz = get(tiles, f"/tiles/stairwells/17/{x}/{y}.pbf")
    assert ogc.status_code == 200 and ogc.headers["etag"] == xyz.headers["etag"]
    assert ogc.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert get(tiles, "/collections/nope/tiles/WebMercatorQuad/1/0/0").status_code == 404
    for path in ("/collections/stairwells,gardens/tiles", "/collections/nope/tiles",
                 "/collections/stairwells,gardens/tiles/WebMercatorQuad",
                 "/collections/stairwells,gardens/tiles/WebMercatorQuad/1/0/0"):
        assert get(tiles, path).status_code == 404, path
    assert get(tiles, "/collections/stairwells/tiles/Other/1/0/0").status_code == 404
    assert get(tiles, "/collections/stairwells/tiles/WebMercatorQuad/1/0/2").status_code == 400
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core" in CONFORMANCE_CLASSES


def test_tileset_root_answers_its_tilejson(tiles: TileServer) -> None:
    root = get(tiles, "/tiles/gardens,parking", None)
    assert root.status_code == 200
    assert root.json() == get(tiles, "/tiles/gardens,parking/tilejson.json", None).json()
    assert get(tiles, "/tiles/gardens,nope", None).status_code == 404


def test_world_crs84_tiles_hold_lon_lat_features_in_limits_given_in_degrees(
    tiles: TileServer,
) -> None:
    tms = get(tiles, "/tileMatrixSets/WorldCRS84Quad", None).json()
    assert tms["crs"].endswith("OGC/1.3/CRS84") and tms["orderedAxes"] == ["Lon", "Lat"]
    zero = tms["tileMatrices"][0]
    assert (zero["matrixWidth"], zero["matrixHeight"], zero["cellSize"]) == (2, 1, 0.703125)
    tileset = get(tiles, "/collections/gardens/tiles/WorldCRS84Quad").json()
    box = tileset["boundingBox"]
    extent = rows(tiles.engine, "SELECT ST_XMin(e) AS w, ST_YMin(e) AS s, ST_XMax(e) AS e, "
                                "ST_YMax(e) AS n FROM (SELECT ST_Extent(geom) AS e "
                                "FROM garden) x")[0]
    assert box["lowerLeft"] == [extent.w, extent.s] and box["upperRight"] == [extent.e, extent.n]
    limit = next(m for m in tileset["tileMatrixSetLimits"] if m["tileMatrix"] == "16")
    width = 180 / 2**16  # degrees per tile at zoom 16
    assert limit["minTileCol"] == int((extent.w + 180) // width)
    assert limit["minTileRow"] == int((90 - extent.n) // width)
    found: set[int] = set()
    for row in range(limit["minTileRow"], limit["maxTileRow"] + 1):
        for col in range(limit["minTileCol"], limit["maxTileCol"] + 1):
            answer = get(tiles, f"/collections/gardens/tiles/WorldCRS84Quad/16/{row}/{col}")
            if answer.status_code == 200:
                features = decode(answer.content)["gardens"]["features"]
                found |= {f["properties"]["id"] for f in features}
    assert found == {r.id for r in rows(tiles.engine, "SELECT id FROM garden")}
    outside = get(tiles, "/collections/gardens/tiles/WorldCRS84Quad/0/1/0")
    assert outside.status_code == 400  # one row at zoom 0
