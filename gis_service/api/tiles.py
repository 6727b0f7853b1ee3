"""Vector tiles: XYZ, OGC API Tiles (WebMercatorQuad), TileJSON 3.0.0 and GDAL metadata.json."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any

import psycopg
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from gis_service.api.callers import remembered_callers, token_digest
from gis_service.api.deps import (
    bearer_token,
    client_address,
    engine_for,
    get_app_settings,
    get_catalog,
    get_connection,
    get_principal,
)
from gis_service.api.http import base_url, etag_matches
from gis_service.api.metrics import TILE_CACHE
from gis_service.api.openapi import errors, header, media
from gis_service.auth import Principal
from gis_service.catalog import Layer
from gis_service.errors import NotFound
from gis_service.tiles import aio, metadata, ogc
from gis_service.tiles.cache import CachedTile, TileCache, accepts_gzip
from gis_service.tiles.grid import MATRIX_SETS, TMS_ID, parse_tile, tile_matrix_set
from gis_service.tiles.params import TileFilter, parse_filter, resolve_layers
from gis_service.tiles.render import readable_state, remembered_state, render_tile

router = APIRouter(tags=["tiles"])
MAX_AGE_SECONDS = 5
ERRORS = errors(
    400,
    401,
    403,
    404,
    503,
    e400="Unknown parameter, bad filter, tile outside the matrix",
    e404="Unknown layer, collection or tile matrix set",
)
TILE_HEADERS = {
    "ETag": header("the tile's version (send it back in If-None-Match)"),
    "Cache-Control": header("public or private, max-age, must-revalidate"),
}
TILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: media(
        ogc.MVT_MEDIA_TYPE,
        description="A Mapbox Vector Tile (gzip when accepted)",
        headers=TILE_HEADERS,
    ),
    204: {
        "description": "No feature in this tile (or below the layers' minzoom)",
        "headers": TILE_HEADERS,
    },
    304: {"description": "The tile has not changed (If-None-Match)", "headers": TILE_HEADERS},
    **ERRORS,
}
IF_NONE_MATCH = {
    "parameters": [
        {
            "name": "If-None-Match",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "an ETag seen before (304 if current)",
        }
    ]
}
_cache_lock = threading.Lock()
log = logging.getLogger(__name__)


def documented(pattern: str, description: str) -> Any:
    """A path parameter whose pattern is documented but checked in code (400, not 422)."""
    return Path(description=description, json_schema_extra={"pattern": pattern})


LAYER_LIST = r"^[a-z][a-z0-9_]*(,[a-z][a-z0-9_]*)*$"
LAYER_ID = r"^[a-z][a-z0-9_]*$"
NUMBER = r"^[0-9]{1,9}$"
ZOOM = r"^([0-9]|1[0-9]|2[0-4])$"


def get_tile_cache(request: Request) -> TileCache:
    """The app's tile cache (one per app and process), created on first use."""
    cache = getattr(request.app.state, "tile_cache", None)
    if cache is None:
        with _cache_lock:
            cache = getattr(request.app.state, "tile_cache", None)
            if cache is None:
                cache = TileCache(get_app_settings(request).tile_cache_bytes)
                request.app.state.tile_cache = cache
    assert isinstance(cache, TileCache)
    return cache


def collection(request: Request, collection_id: str) -> Layer:
    """The layer behind an OGC collection id (404 when there is none)."""
    layer = get_catalog(request).layers.get(collection_id)
    if layer is None:
        raise NotFound(f"collection {collection_id!r} does not exist")
    return layer


def layer_tuple(request: Request, layers: str | Layer | tuple[Layer, ...]) -> tuple[Layer, ...]:
    """The layers of a tile address: a layer, a tuple of them, or ids joined by commas."""
    if isinstance(layers, Layer):
        return (layers,)
    if isinstance(layers, tuple):
        return layers
    return resolve_layers(get_catalog(request), layers)


def tile_response(
    request: Request, entry: CachedTile, layers: tuple[Layer, ...], hit: bool
) -> Response:
    """200 (gzip when accepted), 204 for an empty tile, 304 when the client's copy is current."""
    public = all(layer.public for layer in layers)
    headers = {
        "X-Tile-Cache": "hit" if hit else "miss",
        "ETag": entry.etag,
        "Cache-Control": f"{'public' if public else 'private'}, max-age={MAX_AGE_SECONDS}, "
        "must-revalidate",
        "Vary": "Accept-Encoding" if public else "Accept-Encoding, Authorization, Cookie",
    }
    if etag_matches(request.headers.get("if-none-match"), entry.etag, weak=True):
        return Response(status_code=304, headers=headers)
    if entry.empty:
        return Response(status_code=204, headers=headers)
    if accepts_gzip(request.headers.get("accept-encoding")):
        headers["Content-Encoding"] = "gzip"
        return Response(entry.gzipped, media_type=ogc.MVT_MEDIA_TYPE, headers=headers)
    return Response(entry.raw(), media_type=ogc.MVT_MEDIA_TYPE, headers=headers)


def serve_tile(
    request: Request,
    layers: str | Layer | tuple[Layer, ...],
    z: str,
    x: str,
    y: str,
    tms: str = TMS_ID,
) -> Response:
    """Validate, authenticate, render (or take from the cache) and answer one tile.

    Runs as one job of the thread pool; a remembered token's caller is checked in the same
    query as the data versions (api/callers.py): one round trip for a cached tile.
    """
    found = layer_tuple(request, layers)
    tile = parse_tile(z, x, y, tms)
    tfilter = parse_filter(found, list(request.query_params.multi_items()))
    engine = engine_for(request)
    callers, digest = remembered_callers(request), token_digest(bearer_token(request))
    remembered = callers.get(digest) if digest else None
    state = None
    if digest and remembered is not None:
        principal = replace(remembered, address=client_address(request))
        state = remembered_state(engine, principal, digest, found)
        if state is None:
            callers.forget(digest)
    if state is None:
        principal = get_principal(request)
        state = readable_state(engine, principal, found)
        if digest:
            callers.put(digest, principal)
    cache = get_tile_cache(request)
    entry, hit = render_tile(engine, cache, principal, state, found, tile, tfilter)
    TILE_CACHE.labels("hit" if hit else "miss").inc()
    return tile_response(request, entry, found, hit)


async def remembered_response(
    request: Request,
    layers: str | Layer | tuple[Layer, ...],
    z: str,
    x: str,
    y: str,
    tms: str = TMS_ID,
) -> Response | None:
    """A remembered token's tile, answered on the event loop (one round trip); None when the
    threaded path must answer (the first request of a token, sessions, anonymous callers,
    filters, a token that names someone else now, a failing database)."""
    found = layer_tuple(request, layers)
    tile = parse_tile(z, x, y, tms)
    tfilter = parse_filter(found, list(request.query_params.multi_items()))
    digest = token_digest(bearer_token(request))
    remembered = remembered_callers(request).get(digest) if digest and tfilter.empty else None
    if digest is None or remembered is None:
        return None
    principal = replace(remembered, address=client_address(request))
    engine, cache = engine_for(request), get_tile_cache(request)
    pool = aio.pool_for(request.app.state, engine, get_app_settings(request))
    try:
        found_tile = await aio.remembered_tile(pool, cache, principal, digest, found, tile, tfilter)
    except psycopg.Error as exc:  # the threaded path answers (and reports) the failure
        log.warning("tile on the event loop failed, retried in a thread: %s", exc)
        return None
    if found_tile is None:
        return None
    entry, hit = found_tile
    TILE_CACHE.labels("hit" if hit else "miss").inc()
    request.state.principal = principal  # the request log names the caller
    return tile_response(request, entry, found, hit)


async def answer_tile(
    request: Request, layers: str | Layer, z: str, x: str, y: str, tms: str = TMS_ID
) -> Response:
    """A tile: on the event loop for a remembered token (remembered_response), else serve_tile
    in the thread pool."""
    response = await remembered_response(request, layers, z, x, y, tms)
    if response is not None:
        return response
    return await run_in_threadpool(serve_tile, request, layer_tuple(request, layers), z, x, y, tms)


XYZ_TILE = "/tiles/{layers}/{z}/{x}/{y}.pbf"


@router.get(
    XYZ_TILE,
    response_class=Response,
    responses=TILE_RESPONSES,
    openapi_extra=IF_NONE_MATCH,
)
async def xyz_tile(
    request: Request,
    layers: str = documented(LAYER_LIST, "A layer id, or several joined by commas"),
    z: str = documented(ZOOM, "Zoom level, 0–24"),
    x: str = documented(NUMBER, "Column, from the west"),
    y: str = documented(NUMBER, "Row, from the north"),
) -> Response:
    """A vector tile of one layer or of several ('stairwells,gardens'), one MVT layer each."""
    return await answer_tile(request, layers, z, x, y)


def describe(
    request: Request, conn: sa.Connection, principal: Principal, layers: str | Layer
) -> tuple[tuple[Layer, ...], TileFilter, list[float] | None, dict[str, list[str]]]:
    """Layers, filter, data bounds and category codes behind a metadata document."""
    found = (layers,) if isinstance(layers, Layer) else resolve_layers(get_catalog(request), layers)
    tfilter = parse_filter(found, list(request.query_params.multi_items()))
    bounds, cats = metadata.describe(conn, get_tile_cache(request), principal, found, tfilter)
    return found, tfilter, bounds, cats


@router.get("/tiles/{layers}", responses=ERRORS)
@router.get("/tiles/{layers}/tilejson.json", responses=ERRORS)
def tilejson(
    request: Request,
    layers: str = documented(LAYER_LIST, "A layer id, or several joined by commas"),
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> dict[str, Any]:
    """TileJSON 3.0.0 of a layer or layer set: tile URL template, zooms, bounds, fields.

    Also the answer at the tileset root (/tiles/{layers}, as Martin serves it). GDAL's MVT
    driver has no zoomless tileset path: it reads `MVT:…/tiles/{layers}/{z}` (metadata.json).
    """
    found, tfilter, bounds, cats = describe(request, conn, principal, layers)
    return metadata.tilejson(base_url(request), found, tfilter, bounds, cats)


@router.get("/tiles/{layers}/metadata.json", responses=ERRORS)
def gdal_metadata(
    request: Request,
    layers: str = documented(LAYER_LIST, "A layer id, or several joined by commas"),
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> dict[str, Any]:
    """metadata.json for GDAL's MVT driver (`ogrinfo MVT:<base>/tiles/<layers>/<zoom>`)."""
    found, _, bounds, cats = describe(request, conn, principal, layers)
    return metadata.gdal_metadata(found, bounds, cats)


@router.get("/tileMatrixSets")
def tile_matrix_sets(request: Request) -> dict[str, Any]:
    """The tile matrix sets served (WebMercatorQuad, WorldCRS84Quad)."""
    return ogc.tile_matrix_sets(base_url(request))


def check_tms(tms: str) -> None:
    """404 for a tile matrix set not served."""
    if tms not in MATRIX_SETS:
        served = ", ".join(MATRIX_SETS)
        raise NotFound(f"tile matrix set {tms!r} is not served; use one of {served}")


@router.get("/tileMatrixSets/{tms}", responses=errors(404))
def tile_matrix_set_definition(tms: str, request: Request) -> dict[str, Any]:
    """The definition of a tile matrix set (OGC TileMatrixSet 2.0 JSON)."""
    check_tms(tms)
    return tile_matrix_set(base_url(request), tms)


@router.get("/collections/{collection_id}/tiles", responses=errors(404))
def collection_tilesets(
    request: Request, collection_id: str = documented(LAYER_ID, "A layer id")
) -> dict[str, Any]:
    """The tilesets of a collection (vector, in WebMercatorQuad and in WorldCRS84Quad)."""
    return ogc.tilesets(base_url(request), collection(request, collection_id))


@router.get("/collections/{collection_id}/tiles/{tms}", responses=ERRORS)
def collection_tileset(
    request: Request,
    tms: str,
    collection_id: str = documented(LAYER_ID, "A layer id"),
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> JSONResponse:
    """Tileset metadata: tile matrix limits from the data, the layer, the tile URL template."""
    check_tms(tms)
    layer = collection(request, collection_id)
    found, tfilter, bounds, _ = describe(request, conn, principal, layer)
    query = "?" + str(request.query_params) if not tfilter.empty else ""
    document = ogc.tileset(base_url(request), found[0], bounds or metadata.WORLD, tms, query)
    return JSONResponse(document)


OGC_TILE = "/collections/{collection_id}/tiles/{tms}/{tile_matrix}/{tile_row}/{tile_col}"


@router.get(
    OGC_TILE, response_class=Response, responses=TILE_RESPONSES, openapi_extra=IF_NONE_MATCH
)
async def ogc_tile(
    request: Request,
    tms: str,
    collection_id: str = documented(LAYER_ID, "A layer id"),
    tile_matrix: str = documented(ZOOM, "Tile matrix (zoom level), 0–24"),
    tile_row: str = documented(NUMBER, "Row, from the north"),
    tile_col: str = documented(NUMBER, "Column, from the west"),
) -> Response:
    """A vector tile by OGC API Tiles address: tile matrix (zoom), row (y), then column (x)."""
    check_tms(tms)
    layer = collection(request, collection_id)
    return await answer_tile(request, layer, tile_matrix, tile_col, tile_row, tms)


for _path, _endpoint in ((XYZ_TILE, xyz_tile), (OGC_TILE, ogc_tile)):
    router.add_api_route(_path, _endpoint, methods=["HEAD"], include_in_schema=False)
