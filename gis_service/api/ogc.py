"""OGC API Features: landing page, conformance, OpenAPI 3.0, collections and queryables."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from gis_service import __version__
from gis_service.api import accounts
from gis_service.api.deps import get_catalog, get_connection, get_principal
from gis_service.api.http import base_url
from gis_service.api.openapi import to_openapi_30
from gis_service.auth import ANONYMOUS, Principal
from gis_service.catalog import Catalog, Layer
from gis_service.errors import NotFound, Unauthorized
from gis_service.features import access, html
from gis_service.features import openapi as doc
from gis_service.features.crs import supported
from gis_service.features.extent import GREGORIAN, extent, temporal_extent
from gis_service.features.geojson import CRS84, GEOJSON, link
from gis_service.features.page_labels import language_headers, page_language
from gis_service.features.schemas import feature_schema, features_schema
from gis_service.features.values import queryable_fields
from gis_service.rows.lookups import codes
from gis_service.tiles import CONFORMANCE_CLASSES as TILES_CONFORMANCE

OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    *TILES_CONFORMANCE,
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags",
]
OBJECT = {
    "application/json": {"schema": {"type": "object"}},
    "text/html": {"schema": {"type": "string"}},
}
FORMAT = Query(None, description="json (default) or html", pattern="^(json|html)$")
SCHEMA_REL = "http://www.opengis.net/def/rel/ogc/1.0/schema"
TILESETS_REL = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"

router = APIRouter(tags=["ogc"])
LANG = Query(None, description="The start page's language: zh or en (else Accept-Language)")


def wants_html(accept: str | None) -> bool:
    """Whether an Accept header puts text/html before JSON (as browsers do)."""
    best: dict[str, float] = {}
    for part in (accept or "").lower().split(","):
        kind, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        best[kind.strip()] = max(quality, best.get(kind.strip(), 0.0))
    html_q = best.get("text/html", 0.0)
    json_q = max(best.get("application/json", 0.0), best.get("application/geo+json", 0.0))
    return html_q > 0 and html_q >= json_q


def encoded(
    request: Request, title: tuple[str, str], document: dict[str, Any], f: str | None
) -> Response:
    """A document as JSON, or for f=html as a page in the caller's language (title: zh, en)."""
    if f == "html":
        lang = page_language(request.headers.get("accept-language"))
        page = html.document_page(title[0] if lang == "zh" else title[1], document, lang)
        return HTMLResponse(page, headers=language_headers(lang))
    return JSONResponse(document)


@router.get("/", responses={200: {"content": OBJECT}})
def landing_page(request: Request, f: str | None = FORMAT, lang: str | None = LANG) -> Response:
    """The OGC API landing page: links to the API description, conformance and collections;
    a browser (Accept preferring text/html, no f) gets the start page instead."""
    if f is None and wants_html(request.headers.get("accept")):
        try:
            principal = get_principal(request)
        except Unauthorized:  # a stale token in the browser: the page as for anyone
            principal = ANONYMOUS
        page: Response = accounts.start_page(request, principal, lang)
        return page
    title = ("老旧小区改造 GIS 服务", "Old-neighbourhood renewal GIS service")
    answer = encoded(request, title, landing(base_url(request)), f)
    answer.headers["Vary"] = "Accept, Accept-Language"
    return answer


def landing(base: str) -> dict[str, Any]:
    """The landing page document."""
    return {
        "title": "Old-neighbourhood renewal GIS service (老旧小区改造)",
        "description": "Stairwells, buildings, grids, compounds, gardens, parking and facilities "
        "as OGC API Features (GeoJSON, CQL2 filters, editing with ETags).",
        "version": __version__,
        "links": [
            link(f"{base}/", "self", "application/json", "this document"),
            link(f"{base}/api", "service-desc", OPENAPI_30, "the API definition (OpenAPI 3.0)"),
            link(f"{base}/docs", "service-doc", "text/html", "the API documentation"),
            link(f"{base}/conformance", "conformance", "application/json", "conformance classes"),
            link(f"{base}/collections", "data", "application/json", "the collections"),
            link(f"{base}/?f=html", "alternate", "text/html", "this document as HTML"),
            link(
                f"{base}/tileMatrixSets",
                "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                "application/json",
                "the tile matrix sets (OGC API Tiles)",
            ),
        ],
    }


@router.get("/conformance", responses={200: {"content": OBJECT}})
def conformance(request: Request, f: str | None = FORMAT) -> Response:
    """The conformance classes this service implements."""
    document = {"conformsTo": CONFORMANCE}
    if f == "html":
        listed = {"links": [{"href": c, "rel": "conformance"} for c in CONFORMANCE]}
        return encoded(request, ("符合的标准类", "Conformance"), listed, f)
    return JSONResponse(document)


@router.get("/api", responses={200: {"content": {OPENAPI_30: {"schema": {"type": "object"}}}}})
def openapi_30(request: Request) -> JSONResponse:
    """The API definition as OpenAPI 3.0."""
    state = request.app.state
    if getattr(state, "openapi_30", None) is None:
        state.openapi_30 = to_openapi_30(request.app.openapi())
    return JSONResponse(state.openapi_30, media_type=OPENAPI_30)


def describe(
    request: Request, conn: sa.Connection, layer: Layer, principal: Principal
) -> dict[str, Any]:
    """One collection: id, titles, extent (CRS84, and in time where the layer declares its
    temporal property), links to items and queryables."""
    base = f"{base_url(request)}/collections/{layer.id}"
    found: dict[str, Any] = {
        "id": layer.id,
        "title": layer.title.en,
        "description": layer.description.en,
        "title_zh": layer.title.zh,
        "itemType": "feature",
        "crs": supported(),
        "storageCrs": CRS84,
        "links": [
            link(base, "self", "application/json", layer.title.en),
            link(f"{base}?f=html", "alternate", "text/html", f"{layer.title.en} as HTML"),
            link(f"{base}/items", "items", GEOJSON, f"{layer.title.en} features"),
            link(f"{base}/items?f=html", "items", "text/html", f"{layer.title.en} features"),
            link(f"{base}/schema", SCHEMA_REL, SCHEMA_JSON, "the schema of the features"),
            # "describedBy": relation types compare case-insensitively (RFC 8288); GDAL 3.6
            # matches this spelling only.
            link(f"{base}/feature-schema", "describedBy", SCHEMA_JSON, "a feature's schema"),
            link(f"{base}/tiles", TILESETS_REL, "application/json", "vector tilesets"),
            link(
                f"{base}/queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                SCHEMA_JSON,
                "queryables",
            ),
        ],
    }
    box = extent(conn, layer, principal)
    if box is not None:
        found["extent"] = {"spatial": {"bbox": [box], "crs": CRS84}}
    interval = temporal_extent(conn, layer, principal)
    if interval is not None:
        temporal = {"interval": [interval], "trs": GREGORIAN}
        found.setdefault("extent", {})["temporal"] = temporal
    return found


@router.get("/collections", responses={200: {"content": OBJECT}})
def collections(
    request: Request,
    f: str | None = FORMAT,
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    """The collections the caller may read (anonymous callers see the public ones)."""
    layers = [
        layer
        for layer in catalog.layers.values()
        if layer.public or not principal.is_anonymous
    ]
    document = {
        "links": [
            link(f"{base_url(request)}/collections", "self", "application/json"),
            link(f"{base_url(request)}/collections?f=html", "alternate", "text/html", "as HTML"),
        ],
        "collections": [describe(request, conn, layer, principal) for layer in layers],
    }
    return encoded(request, ("数据集", "Collections"), document, f)


def queryables_schema(request: Request, conn: sa.Connection, layer: Layer) -> dict[str, Any]:
    """The layer's queryables as a JSON Schema (codes of lookup tables listed as enums)."""
    kind = doc.GEOMETRY_NAMES[layer.geometry][0]
    props: dict[str, Any] = {"geometry": {"$ref": f"https://geojson.org/schema/{kind}.json"}}
    for name, field in queryable_fields(layer).items():
        schema = {k: v for k, v in doc.field_schema(layer, name, False).items()}
        if field.enum_from:
            schema["enum"] = codes(conn, field.enum_from)
        props[name] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base_url(request)}/collections/{layer.id}/queryables",
        "type": "object",
        "title": layer.title.en,
        "properties": props,
        "additionalProperties": False,
    }


def add_collection_routes(router: APIRouter, layer: Layer) -> None:
    """GET /collections/{id} and /collections/{id}/queryables for one layer."""

    def collection(
        request: Request,
        f: str | None = FORMAT,
        principal: Principal = Depends(get_principal),
        conn: sa.Connection = Depends(get_connection, scope="function"),
    ) -> Response:
        access.check_read(layer, principal)
        title = (layer.title.zh, layer.title.en)
        return encoded(request, title, describe(request, conn, layer, principal), f)

    def schema(build: Callable[..., dict[str, Any]]) -> Callable[..., JSONResponse]:
        def handler(
            request: Request,
            principal: Principal = Depends(get_principal),
            conn: sa.Connection = Depends(get_connection, scope="function"),
        ) -> JSONResponse:
            access.check_read(layer, principal)
            queryables = queryables_schema(request, conn, layer)
            return JSONResponse(
                build(base_url(request), queryables, layer), media_type=SCHEMA_JSON
            )

        return handler

    def queryables(
        request: Request,
        principal: Principal = Depends(get_principal),
        conn: sa.Connection = Depends(get_connection, scope="function"),
    ) -> JSONResponse:
        access.check_read(layer, principal)
        return JSONResponse(queryables_schema(request, conn, layer), media_type=SCHEMA_JSON)

    errors = doc.answers({}, 401)
    router.add_api_route(
        f"/collections/{layer.id}",
        collection,
        methods=["GET"],
        tags=[layer.id],
        name=f"{layer.id}-collection",
        summary=f"{layer.title.en}: the collection",
        responses={200: {"content": OBJECT}, **errors},
        openapi_extra={"security": doc.SECURITY},
    )
    router.add_api_route(
        f"/collections/{layer.id}/queryables",
        queryables,
        methods=["GET"],
        tags=[layer.id],
        name=f"{layer.id}-queryables",
        summary=f"{layer.title.en}: queryables (JSON Schema)",
        responses={200: {"content": {SCHEMA_JSON: {"schema": {"type": "object"}}}}, **errors},
        response_class=JSONResponse,
        openapi_extra={"security": doc.SECURITY},
    )
    for path, build, summary in (
        ("schema", features_schema, "the features' schema (JSON Schema, OGC Features Part 5)"),
        ("feature-schema", feature_schema, "the JSON Schema of one GeoJSON feature"),
    ):
        router.add_api_route(
            f"/collections/{layer.id}/{path}",
            schema(build),
            methods=["GET"],
            tags=[layer.id],
            name=f"{layer.id}-{path}",
            summary=f"{layer.title.en}: {summary}",
            responses={200: {"content": {SCHEMA_JSON: {"schema": {"type": "object"}}}}, **errors},
            response_class=JSONResponse,
            openapi_extra={"security": doc.SECURITY},
        )


def missing_collection(catalog: Catalog) -> Callable[[str], None]:
    """404 naming a collection that is not in the catalog."""

    def handler(collection_id: str) -> None:
        raise NotFound(f"no collection {collection_id!r}; see /collections")

    return handler


def router_for(catalog: Catalog) -> APIRouter:
    """The landing page, conformance, the API and the collections of a catalog."""
    layers = APIRouter(tags=["ogc"])
    for layer in catalog.layers.values():
        add_collection_routes(layers, layer)
    for path in (
        "/collections/{collection_id}",
        "/collections/{collection_id}/queryables",
        "/collections/{collection_id}/schema",
        "/collections/{collection_id}/feature-schema",
    ):
        layers.add_api_route(
            path, missing_collection(catalog), methods=["GET"], include_in_schema=False
        )
    found = APIRouter()
    found.include_router(router)
    found.include_router(layers)
    return found
