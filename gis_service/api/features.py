"""OGC API Features items: read (Part 1, 3) and edit (Part 4) every catalog layer.

Answers: 401 for anonymous writes and reads of non-public layers; 403 for a role without edit
rights on the layer, for a change to a field outside the role's catalog rights (fields sent with
their stored value need none, so GET, change, PUT works for grid workers), and for a feature in
another grid (404 only when it does not exist); 428 without If-Match, 412 when it is stale
(`*` matches any current version, as in RFC 9110); 400 for malformed JSON or queries; 413 above
settings.max_body_bytes; 415 for non-JSON bodies; 422 for rule breaks, naming the fields; 409 for
an Idempotency-Key reused with another request, a feature still referenced, or a duplicate.
Only successful writes store their answer under an Idempotency-Key (with the write, same
transaction); a repeat replays it, whatever its If-Match (which it must still carry).
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Engine

from gis_service.api.deps import engine_for, get_connection, get_principal
from gis_service.api.http import (
    answer,
    base_url,
    etag_matches,
    item_links,
    keep,
    limited_body,
    precondition,
    replay,
    stale,
)
from gis_service.api.photos import photo_links
from gis_service.auth import Principal
from gis_service.catalog import Catalog, Layer
from gis_service.errors import NotFound, Unauthorized
from gis_service.features import access, edit, html
from gis_service.features import idempotency as idem
from gis_service.features.crs import Crs, content_crs, parse_crs
from gis_service.features.docs import route_docs
from gis_service.features.errors import BadRequest, MethodNotAllowed
from gis_service.features.geojson import (
    GEOJSON,
    feature_collection,
    feature_document,
    link,
    quote_etag,
)
from gis_service.features.history import edit_history, status_history
from gis_service.features.page_labels import (
    field_heads,
    language_headers,
    layer_title,
    page_language,
    value_labels,
)
from gis_service.features.query import fetch_page, page_links, parse_items_query, single_values
from gis_service.features.validate import parse_body, read_feature
from gis_service.rows.area import service_area
from gis_service.settings import Settings

FID = Path(description="the feature id")


def item_crs(request: Request) -> Crs:
    """The `crs` of a single-feature GET (its only query parameter)."""
    params = single_values(request.query_params.multi_items())
    unknown = sorted(set(params) - {"crs", "f"})
    if unknown:
        raise BadRequest(f"unknown query parameter {unknown[0][:60]!r}; allowed: crs, f")
    if params.get("f", "json") not in ("json", "geojson", "html"):
        raise BadRequest("f must be json, geojson or html for a single feature")
    return parse_crs(params.get("crs"), "crs")


def add_layer_routes(router: APIRouter, layer: Layer, settings: Settings) -> None:
    """Register the items routes of one layer, documented with its own schemas and limits."""
    items_path = f"/collections/{layer.id}/items"
    item_path = items_path + "/{featureId}"

    def get_items(
        request: Request,
        principal: Principal = Depends(get_principal),
        conn: sa.Connection = Depends(get_connection, scope="function"),
    ) -> Response:
        access.check_read(layer, principal)
        query = parse_items_query(
            layer,
            request.query_params.multi_items(),
            settings.items_default_limit,
            settings.items_max_limit,
        )
        features, matched = fetch_page(conn, layer, query)
        links = page_links(f"{base_url(request)}{items_path}", query, len(features), matched)
        links.append(
            link(
                f"{base_url(request)}/collections/{layer.id}",
                "collection",
                "application/json",
                layer.title.en,
            )
        )
        body = feature_collection(features, matched, links)
        if query.params.get("f") == "html":
            lang = page_language(request.headers.get("accept-language"))
            heads = field_heads(layer, query.names, lang)
            page = html.items_page(
                layer_title(layer, lang), body, heads, value_labels(conn, layer, lang), lang
            )
            return HTMLResponse(page, headers=language_headers(lang))
        headers = {"Content-Crs": f"<{query.crs.uri}>"}
        return Response(body, media_type=GEOJSON, headers=headers)

    def get_item(
        request: Request,
        featureId: str = FID,  # noqa: N803 - the OGC name of the path parameter
        principal: Principal = Depends(get_principal),
        conn: sa.Connection = Depends(get_connection, scope="function"),
        engine: Engine = Depends(engine_for),
    ) -> Response:
        access.check_read(layer, principal)
        fid = access.feature_id(featureId, layer)
        crs = item_crs(request)
        current = access.require(conn, engine, layer, principal, fid)
        if etag_matches(request.headers.get("if-none-match"), quote_etag(current.etag), weak=True):
            return Response(status_code=304, headers={"ETag": quote_etag(current.etag)})
        if request.query_params.get("f") == "html":
            lang = page_language(request.headers.get("accept-language"))
            links = item_links(request, layer, fid)
            links += photo_links(request, layer, fid, current.values, principal, lang)
            feature = feature_document(current.feature, links)
            page = html.feature_page(
                layer_title(layer, lang), feature, field_heads(layer, None, lang),
                value_labels(conn, layer, lang), lang,
            )
            return HTMLResponse(page, headers={"ETag": quote_etag(current.etag),
                                               **language_headers(lang)})
        return answer(request, layer, fid, current, 200, crs)

    def create_item(
        request: Request,
        principal: Principal = Depends(get_principal),
        body: bytes = Depends(limited_body),
        conn: sa.Connection = Depends(get_connection, scope="function"),
    ) -> Response:
        access.check_write(layer, principal)
        key = idem.describe(request.headers.get("idempotency-key"), "POST", items_path, body)
        stored = idem.find(conn, principal, key) if key else None
        if stored:
            return replay(stored)
        crs = content_crs(request.headers.get("content-crs"))
        written = read_feature(layer, parse_body(body), service_area(conn), False, crs)
        fid, current = edit.create(conn, layer, principal, written)
        return keep(conn, principal, key, answer(request, layer, fid, current, 201))

    def change_item(patch: bool) -> Callable[..., Response]:
        method = "PATCH" if patch else "PUT"

        def handler(
            request: Request,
            featureId: str = FID,  # noqa: N803
            principal: Principal = Depends(get_principal),
            body: bytes = Depends(limited_body),
            conn: sa.Connection = Depends(get_connection, scope="function"),
            engine: Engine = Depends(engine_for),
        ) -> Response:
            access.check_write(layer, principal)
            fid = access.feature_id(featureId, layer)
            path = f"{items_path}/{fid}"
            if_match = precondition(request)
            key = idem.describe(request.headers.get("idempotency-key"), method, path, body)
            stored = idem.find(conn, principal, key) if key else None
            if stored:
                return replay(stored)
            crs = content_crs(request.headers.get("content-crs"))
            written = read_feature(layer, parse_body(body), service_area(conn), patch, crs)
            current = access.require(conn, engine, layer, principal, fid, lock=True)
            if not etag_matches(if_match, quote_etag(current.etag), weak=False):
                raise stale(request, layer, fid, current, crs)
            after = edit.update(conn, layer, principal, fid, current, written, replace=not patch)
            return keep(conn, principal, key, answer(request, layer, fid, after, 200))

        return handler

    def delete_item(
        request: Request,
        featureId: str = FID,  # noqa: N803
        principal: Principal = Depends(get_principal),
        body: bytes = Depends(limited_body),
        conn: sa.Connection = Depends(get_connection, scope="function"),
        engine: Engine = Depends(engine_for),
    ) -> Response:
        access.check_write(layer, principal)
        fid = access.feature_id(featureId, layer)
        if_match = precondition(request)
        key = idem.describe(
            request.headers.get("idempotency-key"), "DELETE", f"{items_path}/{fid}", body
        )
        stored = idem.find(conn, principal, key) if key else None
        if stored:
            return replay(stored)
        current = access.require(conn, engine, layer, principal, fid, lock=True)
        if not etag_matches(if_match, quote_etag(current.etag), weak=False):
            raise stale(request, layer, fid, current)
        edit.delete(conn, layer, principal, fid, current)
        return keep(conn, principal, key, Response(status_code=204))

    def history(
        request: Request,
        featureId: str = FID,  # noqa: N803
        principal: Principal = Depends(get_principal),
        conn: sa.Connection = Depends(get_connection, scope="function"),
        engine: Engine = Depends(engine_for),
    ) -> Response:
        access.check_read(layer, principal)
        if principal.is_anonymous:
            raise Unauthorized("sign in to read the edit history")
        fid = access.feature_id(featureId, layer)
        current = access.load(conn, layer, fid)
        entries = edit_history(conn, layer, fid)
        if current is None and not entries:
            raise access.missing(engine, layer, principal, fid)
        body = {
            "collection": layer.id,
            "featureId": fid,
            "entries": entries,
            "links": item_links(request, layer, fid),
        }
        if layer.table == "stairwell":
            body["status_history"] = status_history(conn, fid)
        return Response(orjson.dumps(body), media_type="application/json")

    handlers: dict[str, tuple[str, str, Callable[..., Response]]] = {
        "items": ("GET", items_path, get_items),
        "create": ("POST", items_path, create_item),
        "item": ("GET", item_path, get_item),
        "replace": ("PUT", item_path, change_item(patch=False)),
        "patch": ("PATCH", item_path, change_item(patch=True)),
        "delete": ("DELETE", item_path, delete_item),
        "history": ("GET", item_path + "/history", history),
    }
    described = route_docs(
        layer, settings.items_default_limit, settings.items_max_limit, settings.service_area
    )
    for name, (method, path, handler) in handlers.items():
        router.add_api_route(
            path,
            handler,
            methods=[method],
            name=f"{layer.id}-{name}",
            tags=[layer.id],
            response_class=Response,
            **described[name],
        )


def unknown_collection(catalog: Catalog) -> Callable[..., Response]:
    """404 for a collection that is not in the catalog (405 for a known one's other methods)."""

    def handler(collection_id: str, rest: str = "") -> Response:
        if collection_id in catalog.layers:
            raise MethodNotAllowed("this method is not served here")
        raise NotFound(f"no collection {collection_id!r}; see /collections")

    return handler


def router_for(catalog: Catalog, settings: Settings) -> APIRouter:
    """Routes for every layer of a catalog, then 404s for unknown collections."""
    router = APIRouter()
    for layer in catalog.layers.values():
        add_layer_routes(router, layer, settings)
    fallback = unknown_collection(catalog)
    for path in (
        "/collections/{collection_id}/items",
        "/collections/{collection_id}/items/{rest}",
        "/collections/{collection_id}/items/{rest}/history",
    ):
        router.add_api_route(
            path,
            fallback,
            methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            include_in_schema=False,
        )
    return router

