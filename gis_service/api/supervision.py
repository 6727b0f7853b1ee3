"""The supervisor page's routes: community roll-up, open issues with age, assigning an issue to a
grid worker, resolving it with a note, and the progress table as CSV."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from gis_service.api.deps import get_catalog, get_connection, get_engine, get_principal
from gis_service.api.openapi import CSV, errors, media
from gis_service.auth import Principal
from gis_service.errors import Unauthorized
from gis_service.features.openapi import beyond_schema
from gis_service.field import supervision
from gis_service.field.progress import issue_ledger, survey_progress
from gis_service.field.supervisor_strings import csv_headers
from gis_service.webmap.i18n import negotiate

router = APIRouter(tags=["field"])
ISSUE_ID = Path(..., ge=1, le=2**31 - 1, description="An issue's id")
CHANGED = {"type": "object", "required": ["id", "status", "version"],
           "properties": {"id": {"type": "integer"}, "status": {"type": "string"},
                          "version": {"type": "integer"}}}
WRITE_ANSWERS = {200: media("application/json", schema=CHANGED, description="the issue now"),
                 **errors(403, 404, 412, 422, e412="The issue changed since: reload it")}


class Assignment(BaseModel):
    """Whom an issue goes to, and the version it was read at."""

    model_config = ConfigDict(extra="forbid")
    assignee_id: int = Field(..., ge=1, le=2**31 - 1, description="a grid worker of its grid")
    version: int = Field(..., ge=1, le=2**31 - 1)


class Resolution(BaseModel):
    """What was done (required), and the version the issue was read at."""

    model_config = ConfigDict(extra="forbid")
    note: str = Field(..., min_length=1, max_length=supervision.MAX_NOTE)
    version: int = Field(..., ge=1, le=2**31 - 1)


def own_grids(principal: Principal) -> list[int] | None:
    """The grids a caller's figures cover (a grid worker's own; all for staff); 401 anonymous."""
    if principal.is_anonymous:
        raise Unauthorized("sign in first (/login)")
    return list(principal.grid_ids) if principal.role == "grid_worker" else None


@router.get("/field/progress/communities", summary="Survey progress and open issues per community")
def communities(
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> list[dict[str, Any]]:
    """Per community: grids, stairwells surveyed of total, households reached, open issues."""
    return supervision.community_rollup(conn, own_grids(principal))


@router.get("/field/progress/issues", summary="Issues not yet resolved, with their age")
def unresolved(
    request: Request,
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> dict[str, Any]:
    """Open and assigned issues oldest first (age in days), and the grid workers (for staff)."""
    own_grids(principal)
    staff = principal.role in ("planner", "admin")
    workers = supervision.grid_workers(get_engine(request)) if staff else []
    return {"issues": supervision.open_issues(conn), "workers": workers}


@router.post("/issues/{issue_id}/assignment", summary="Give an issue to a grid worker",
             responses=WRITE_ANSWERS, openapi_extra=beyond_schema(
                 422, "assignee_id: an active grid worker who looks after the issue's grid"))
def assign(
    request: Request,
    body: Assignment,
    issue_id: int = ISSUE_ID,
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> dict[str, Any]:
    """Status `assigned` with the worker (the layer's edit rights apply: planners, admins)."""
    own_grids(principal)
    layer = get_catalog(request).layer("issues")
    return supervision.assign(conn, get_engine(request), layer, principal, issue_id,
                              body.version, body.assignee_id)


@router.post("/issues/{issue_id}/resolution", summary="Resolve an issue with a note",
             responses=WRITE_ANSWERS, openapi_extra=beyond_schema(
                 422, "note: not only blanks", "the layer's field rules (layers/issues.yaml)"))
def resolve(
    request: Request,
    body: Resolution,
    issue_id: int = ISSUE_ID,
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> dict[str, Any]:
    """Status `resolved` now, with what was done (required)."""
    own_grids(principal)
    layer = get_catalog(request).layer("issues")
    return supervision.resolve(conn, layer, principal, issue_id, body.version, body.note)


@router.get("/field/progress.csv", summary="Progress and issues per grid as CSV",
            responses={200: media(CSV, schema={"type": "string"})})
def progress_csv(
    request: Request,
    lang: str | None = None,
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> Response:
    """Labelled columns in the caller's language; text a spreadsheet would run is defused."""
    grids = own_grids(principal)
    language = negotiate(lang, request.headers.get("accept-language"))
    text = supervision.progress_csv(survey_progress(conn, grids), issue_ledger(conn, grids),
                                    csv_headers(language))
    name = "progress.csv"
    return Response("\ufeff" + text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
