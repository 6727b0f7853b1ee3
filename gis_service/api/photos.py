"""Issue photos (upload checked by Pillow, stored under the data dir) and the issue ledger."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Request, Response
from sqlalchemy.engine import Engine

from gis_service.api.deps import (
    engine_for,
    get_app_settings,
    get_catalog,
    get_connection,
    get_principal,
)
from gis_service.api.http import base_url
from gis_service.api.openapi import body_limit, errors, header, media
from gis_service.auth import Principal
from gis_service.catalog import Layer
from gis_service.errors import Forbidden, NotFound, Unauthorized
from gis_service.features import access, edit
from gis_service.features.errors import UnsupportedMediaType
from gis_service.features.geojson import link, quote_etag
from gis_service.field import photos
from gis_service.field.households import NAMES_TO
from gis_service.field.progress import issue_ledger

router = APIRouter(tags=["issues"])
UPLOADERS = ("grid_worker", "planner", "admin")
PHOTO_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            kind: {"schema": {"type": "string", "format": "binary"}}
            for kind in ("image/jpeg", "image/png", "image/webp")
        },
    }
}
UPLOADED = media(
    "application/json",
    description="stored, re-encoded as JPEG (no EXIF, at most 2048 px a side)",
    schema={"type": "object", "required": ["issue_id", "photo", "bytes"]},
    headers={"ETag": header("the issue's new version")},
)
ISSUE_ID = Path(ge=1, le=2**31 - 1, description="the issue id")


@dataclass(frozen=True)
class PhotoRoute:
    """Where a layer's features serve their photo: the column naming it, the route, who sees it."""

    field: str
    path: str  # with {id}
    roles: tuple[str, ...] | None = None  # None: whoever reads the feature


PHOTO_ROUTES = {
    "issues": PhotoRoute("photo_path", "/issues/{id}/photo"),
    "households": PhotoRoute("proof_photo_path", "/households/{id}/proof", NAMES_TO),
}


def photo_links(
    request: Request, layer: Layer, fid: int, values: dict[str, Any], principal: Principal,
    lang: str,
) -> list[dict[str, str]]:
    """The link to a feature's photo, when it has one the caller may see (its HTML page)."""
    route = PHOTO_ROUTES.get(layer.id)
    if route is None or not values.get(route.field):
        return []
    if route.roles is not None and principal.role not in route.roles:
        return []
    href = base_url(request) + route.path.replace("{id}", str(fid))
    return [link(href, "related", "image/jpeg", layer.field(route.field).label.pick(lang))]


def uploader(principal: Principal = Depends(get_principal)) -> Principal:
    """401 for anonymous callers, 403 for roles that do not upload photos (analysts)."""
    if principal.is_anonymous:
        raise Unauthorized("sign in to upload photos")
    if principal.role not in UPLOADERS:
        raise Forbidden(f"the role {principal.role} may not upload photos")
    return principal


async def photo_body(request: Request, _: Principal = Depends(uploader)) -> bytes:
    """The uploaded image: 415 unless image/* (api/guard.py: 413 above max_photo_bytes)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not media.startswith("image/"):
        raise UnsupportedMediaType(
            f"send the photo as image/jpeg, image/png or image/webp, not {media or 'nothing'}"
        )
    return await request.body()


def upload(
    request: Request,
    issue_id: int = ISSUE_ID,
    principal: Principal = Depends(uploader),
    data: bytes = Depends(photo_body),
    conn: sa.Connection = Depends(get_connection, scope="function"),
    engine: Engine = Depends(engine_for),
) -> Response:
    """Attach (or replace) an issue's photo; repeating the upload writes nothing new."""
    layer = get_catalog(request).layer("issues")
    current = access.require(conn, engine, layer, principal, issue_id, lock=True)
    jpeg = photos.checked_jpeg(data)
    relative = photos.store(
        get_app_settings(request).data_dir, photos.relative_path(issue_id), jpeg
    )
    after = current
    if current.values.get("photo_path") != relative:
        photos.attach(conn, issue_id, relative)
        loaded = access.load(conn, layer, issue_id)
        assert loaded is not None
        after = loaded
        edit.log(conn, layer, principal, issue_id, "update", current.feature, after.feature)
    body = {"issue_id": issue_id, "photo": f"/issues/{issue_id}/photo", "bytes": len(jpeg)}
    return Response(
        orjson.dumps(body), media_type="application/json", headers={"ETag": quote_etag(after.etag)}
    )


def add_upload_routes(
    to: APIRouter, path: str, endpoint: Callable[..., Response], summary: str,
    answer: dict[str, Any], name: str,
) -> None:
    """PUT and POST of a photo upload, documented alike (its body, bound and errors)."""
    for method in ("PUT", "POST"):
        to.add_api_route(
            path,
            endpoint,
            methods=[method],
            summary=summary,
            responses={
                200: answer,
                **errors(
                    401, 403, 404, 413, 415, 422,
                    e413=body_limit("max_photo_bytes"),
                    e422="Not a whole JPEG, PNG or WebP image, or too many pixels",
                ),
            },
            openapi_extra=PHOTO_BODY,
            name=f"{name}-{method.lower()}",
        )


add_upload_routes(
    router, "/issues/{issue_id}/photo", upload, "Upload an issue's photo", UPLOADED, "issue-photo"
)


@router.get("/issues/ledger", summary="Open and resolved issues and the resolution rate per grid")
def ledger(
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> dict[str, Any]:
    """The issue ledger by grid (a grid worker's own grids only)."""
    if principal.is_anonymous:
        raise Unauthorized("sign in to read the issue ledger")
    grids = list(principal.grid_ids) if principal.role == "grid_worker" else None
    return issue_ledger(conn, grids)


@router.get(
    "/issues/{issue_id}/photo",
    summary="An issue's photo (JPEG)",
    responses={200: media("image/jpeg", description="the photo"), **errors(404)},
)
def photo(
    request: Request,
    issue_id: int = ISSUE_ID,
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
    engine: Engine = Depends(engine_for),
) -> Response:
    """The stored photo of an issue the caller may read."""
    layer = get_catalog(request).layer("issues")
    access.check_read(layer, principal)
    current = access.require(conn, engine, layer, principal, issue_id)
    relative = current.values.get("photo_path")
    return served(request, str(relative) if relative else None, f"issue {issue_id} has no photo")


def served(request: Request, relative: str | None, missing: str) -> Response:
    """A stored photo as image/jpeg, private to the caller (404 with `missing` when none)."""
    data = photos.load(get_app_settings(request).data_dir, relative) if relative else None
    if data is None:
        raise NotFound(missing)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=60"})
