"""A household vote's proof (a photo of the signed form): uploaded by whoever may record the
vote, checked and stored as issue photos are; the vote's edit then names it (proof_photo_path)."""

from __future__ import annotations

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
from gis_service.api.openapi import errors, media
from gis_service.api.photos import (
    PHOTO_ROUTES,
    add_upload_routes,
    photo_body,
    served,
    uploader,
)
from gis_service.auth import Principal
from gis_service.errors import Forbidden, Unauthorized
from gis_service.features import access
from gis_service.field import photos

router = APIRouter(tags=["field"])
LAYER = "households"
ROUTE = PHOTO_ROUTES[LAYER].path.replace("{id}", "{household_id}")
HOUSEHOLD_ID = Path(ge=1, le=2**31 - 1, description="the household id")
STORED = media(
    "application/json",
    description="stored, re-encoded as JPEG (no EXIF, at most 2048 px a side); "
    "send proof_photo_path with the vote's edit",
    schema={"type": "object", "required": ["household_id", "proof_photo_path", "photo", "bytes"]},
)


def proof_url(household_id: int) -> str:
    """Where a household's current proof photo is served."""
    return PHOTO_ROUTES[LAYER].path.replace("{id}", str(household_id))


def upload(
    request: Request,
    household_id: int = HOUSEHOLD_ID,
    principal: Principal = Depends(uploader),
    data: bytes = Depends(photo_body),
    conn: sa.Connection = Depends(get_connection, scope="function"),
    engine: Engine = Depends(engine_for),
) -> Response:
    """Store a proof photo of a household the caller may edit (its grid's worker, staff); the
    same photo sent again lands on the same file. The household itself is not changed here."""
    layer = get_catalog(request).layer(LAYER)
    access.check_write(layer, principal)
    access.require(conn, engine, layer, principal, household_id)
    jpeg = photos.checked_jpeg(data)
    relative = photos.store(
        get_app_settings(request).data_dir, photos.proof_path(household_id, jpeg), jpeg
    )
    body = {"household_id": household_id, "proof_photo_path": relative,
            "photo": proof_url(household_id), "bytes": len(jpeg)}  # fmt: skip
    return Response(orjson.dumps(body), media_type="application/json")


add_upload_routes(
    router, ROUTE, upload, "Upload the proof of a household's vote (a photo of the signed form)",
    STORED, "household-proof",
)


@router.get(
    ROUTE,
    summary="The proof of a household's vote (JPEG): staff and the grid's worker only",
    responses={200: media("image/jpeg", description="the photo"), **errors(401, 403, 404)},
)
def proof(
    request: Request,
    household_id: int = HOUSEHOLD_ID,
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
    engine: Engine = Depends(engine_for),
) -> Response:
    """The photo the household's vote names, to those who may see its owners' names."""
    if principal.is_anonymous:
        raise Unauthorized("sign in to see a vote's proof")
    if principal.role not in (PHOTO_ROUTES[LAYER].roles or ()):
        raise Forbidden(f"the role {principal.role} may not see a vote's proof")
    layer = get_catalog(request).layer(LAYER)
    current = access.require(conn, engine, layer, principal, household_id)
    relative = current.values.get("proof_photo_path")
    owned = isinstance(relative, str) and photos.is_proof_of(household_id, relative)
    return served(request, relative if owned else None, f"household {household_id} has no proof")
