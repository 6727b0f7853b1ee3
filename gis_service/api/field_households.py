"""GET /field/households: the household lists of the field view's stairwell forms."""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response

from gis_service.api.deps import get_catalog, get_connection, get_principal
from gis_service.api.field import field_worker, page_grid
from gis_service.api.openapi import errors, media
from gis_service.auth import Principal
from gis_service.field.households import STRINGS, grid_households, vote_labels
from gis_service.webmap.i18n import negotiate

router = APIRouter(tags=["field"])
PRIVATE = {"Cache-Control": "private, no-cache", "Vary": "Cookie, Authorization"}


@router.get(
    "/field/households",
    summary="A grid's households under each stairwell (owner names for staff and its worker)",
    responses={200: media("application/json", schema={"type": "object"}), **errors(401, 403, 404)},
)
def households(
    request: Request,
    grid: int | None = Query(None, ge=1, le=2**31 - 1, description="Grid (staff; default: yours)"),
    lang: str | None = Query(None, max_length=20, description="zh or en"),
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> Response:
    """The worker's own grid (403 for another), any grid for staff; votes with their labels."""
    field_worker(principal)
    where = page_grid(conn, principal, grid)
    language = negotiate(lang, request.headers.get("accept-language"))
    body = {
        "grid": where["id"],
        "votes": vote_labels(get_catalog(request), language),
        "strings": STRINGS[language],
        "households": grid_households(conn, int(where["id"]), principal),
    }
    return Response(orjson.dumps(body), media_type="application/json", headers=PRIVATE)
