"""The field view: /field page, its service worker, survey rules and records, progress."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from sqlalchemy.engine import Engine

from gis_service.api import household_proofs
from gis_service.api import photos as photos_api
from gis_service.api import session as session_api
from gis_service.api.deps import (
    engine_for,
    get_catalog,
    get_connection,
    get_engine,
    get_maps,
    get_principal,
)
from gis_service.api.http import keep, limited_body, replay
from gis_service.api.openapi import REDIRECT_TO_LOGIN, beyond_schema, errors, media
from gis_service.api.pages import content_security_policy
from gis_service.api.session import login_redirect
from gis_service.auth import Principal
from gis_service.catalog import Catalog
from gis_service.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from gis_service.features import access
from gis_service.features import idempotency as idem
from gis_service.features.openapi import IDEMPOTENCY_KEY
from gis_service.features.validate import parse_body
from gis_service.field.changes import changes_since
from gis_service.field.page import field_config, render_field_page
from gis_service.field.progress import survey_progress
from gis_service.field.rules import (
    rules_document,
    survey_schema,
    unstated_survey_rules,
    validate,
)
from gis_service.field.strings import STRINGS
from gis_service.field.supervisor_strings import SUPERVISOR
from gis_service.field.surveys import add_survey, grid_outline
from gis_service.rows.lookups import labelled
from gis_service.webmap import assets
from gis_service.webmap.i18n import negotiate
from gis_service.webmap.page_data import READ_DATA_JS, data_block

router = APIRouter(tags=["field"])
router.include_router(session_api.router)
router.include_router(photos_api.router)
router.include_router(household_proofs.router)
STATIC = assets.OWN_STATIC / "field"
FIELD_ROLES = ("grid_worker", "planner", "admin")
NO_CACHE = {"Cache-Control": "no-cache", "Vary": "Cookie", "X-Content-Type-Options": "nosniff"}


def page_headers(request: Request) -> dict[str, str]:
    """No caching by proxies, and the map pages' content security policy (our scripts only)."""
    field_view = get_maps(request)["field"]
    return {**NO_CACHE, "Content-Security-Policy": content_security_policy(field_view)}


def signed_in(principal: Principal) -> None:
    """401 for anonymous callers."""
    if principal.is_anonymous:
        raise Unauthorized("sign in first (/field/login)")


def field_worker(principal: Principal) -> None:
    """401 anonymous, 403 for roles that do not survey (analysts)."""
    signed_in(principal)
    if principal.role not in FIELD_ROLES:
        raise Forbidden(f"the role {principal.role} does not survey stairwells")


def page_grid(conn: sa.Connection, principal: Principal, grid: int | None) -> dict[str, Any]:
    """The grid a page opens on: a grid worker's own (403 for another), any for staff."""
    if principal.role == "grid_worker":
        if not principal.grid_ids:
            raise Forbidden("no grid is assigned to you")
        if grid is None:
            grid = principal.grid_ids[0]
        elif grid not in principal.grid_ids:
            raise Forbidden(f"grid {grid} is not yours")
    found = grid_outline(conn, grid)
    if found is None:
        raise NotFound(f"no grid {grid}")
    return found


@router.get(
    "/field",
    response_class=HTMLResponse,
    summary="The grid worker's field map",
    responses={303: REDIRECT_TO_LOGIN, **errors(403, 404)},
)
def field_page(
    request: Request,
    grid: int | None = None,
    lang: str | None = None,
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> Response:
    """Opens on the signed-in worker's own grid (staff may pass ?grid=)."""
    if principal.is_anonymous:
        return login_redirect(request)
    field_worker(principal)
    language = negotiate(lang, request.headers.get("accept-language"))
    where = page_grid(conn, principal, grid)
    catalog, view = get_catalog(request), get_maps(request)["field"]
    config = field_config(
        view, catalog, principal, where, language,
        labelled(conn, "elevator_status", "rank"), labelled(conn, "issue_category"),
    )
    return HTMLResponse(render_field_page(view, catalog, config), headers=page_headers(request))


@router.get("/maps/field", include_in_schema=False)
def field_map_alias(request: Request) -> RedirectResponse:
    """The field view's map lives at /field."""
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/field{query}", status_code=303)


@router.get("/field/sw.js", include_in_schema=False)
def service_worker() -> FileResponse:
    """The field page's service worker, allowed to control /field."""
    return FileResponse(
        STATIC / "sw.js", media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/field", "Cache-Control": "no-cache"},
    )


@router.get(
    "/field/rules",
    summary="Survey form rules and messages (the page reads these)",
    responses={200: media("application/json", schema={"type": "object"})},
)
def survey_rules(request: Request, lang: str | None = None) -> Response:
    """Fields, cross-field checks, labels and messages: the one source of the form's rules."""
    language = negotiate(lang, request.headers.get("accept-language"))
    body = orjson.dumps(rules_document(get_catalog(request), language))
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-cache"})


def record_survey(
    request: Request,
    lang: str | None = None,
    principal: Principal = Depends(get_principal),
    body: bytes = Depends(limited_body),
    conn: sa.Connection = Depends(get_connection, scope="function"),
    engine: Engine = Depends(engine_for),
) -> Response:
    """Validate with the page's rules (same messages) and append a survey row (Idempotency-Key)."""
    field_worker(principal)
    key = idem.describe(request.headers.get("idempotency-key"), "POST", "/field/surveys", body)
    stored = idem.find(conn, principal, key) if key else None
    if stored:
        return replay(stored)
    data = parse_body(body)
    language = negotiate(lang, request.headers.get("accept-language"))
    catalog = get_catalog(request)
    values, errors = validate(rules_document(catalog, language), data)
    raw = data.get("stairwell_id")
    sid = raw if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw < 2**31 else 0
    if not sid:
        errors.insert(0, {"field": "stairwell_id", "message": "stairwell_id: a stairwell id"})
    if errors:
        names = ", ".join(dict.fromkeys(e["field"] for e in errors))
        raise InvalidInput(f"invalid survey: {names}", errors)
    access.require(conn, engine, catalog.layer("stairwells"), principal, sid)
    survey_id = add_survey(conn, sid, principal.user_id, values)
    record = {"id": survey_id, "stairwell_id": sid, "surveyor": principal.username,
              **{k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()}}
    sent = Response(orjson.dumps(record), status_code=201, media_type="application/json")
    return keep(conn, principal, key, sent)


@router.get(
    "/field/stairwells/{stairwell_id}/changes",
    summary="Who changed a stairwell since a version, and when (for the conflict dialog)",
    responses=errors(
        401, 403, 404, 422, e404="No such stairwell (or not in your grids)",
        e422="since or the stairwell id is not a whole number in range",
    ),
)
def stairwell_changes(
    request: Request,
    stairwell_id: int = Path(ge=1, le=2**31 - 1),
    since: int = Query(ge=0, le=2**31 - 1, description="The version the edit was based on"),
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> dict[str, Any]:
    """The latest edits after `since`, newest first: who (display name) and when."""
    field_worker(principal)
    engine = get_engine(request)
    access.require(conn, engine, get_catalog(request).layer("stairwells"), principal, stairwell_id)
    return {"stairwell_id": stairwell_id, "since": since,
            "changes": changes_since(engine, stairwell_id, since)}


@router.get("/field/progress", summary="Survey progress per grid, now and over time")
def progress(
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> dict[str, Any]:
    """Stairwells surveyed of total and households reached per grid (own grids for workers)."""
    signed_in(principal)
    grids = list(principal.grid_ids) if principal.role == "grid_worker" else None
    return survey_progress(conn, grids)


@router.get(
    "/maps/field-progress",
    response_class=HTMLResponse,
    summary="Supervisor page",
    responses={303: REDIRECT_TO_LOGIN},
)
def progress_page(
    request: Request,
    lang: str | None = None,
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> Response:
    """Progress per grid over time, the issue ledger and open issues to resolve."""
    if principal.is_anonymous:
        return login_redirect(request)
    language = negotiate(lang, request.headers.get("accept-language"))
    t = {**STRINGS[language], **SUPERVISOR[language]}
    categories = {c.code: c.label(language) for c in labelled(conn, "issue_category")}
    status = get_catalog(request).layer("issues").field("status")
    statuses = {code: label.model_dump()[language] for code, label in status.enum_labels.items()}
    data = {"lang": language, "strings": t, "role": principal.role, "categories": categories,
            "statuses": statuses, "csrf": {"cookie": "gis_csrf", "header": "X-CSRF-Token"}}
    page = f"""<!DOCTYPE html>
<html lang="{'zh-CN' if language == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(t['title'])}</title>
<link rel="stylesheet" href="{assets.vendor('leaflet', 'leaflet.css')}">
<link rel="stylesheet" href="{assets.own('field/field.css')}"></head>
<body class="progress-page"><main id="progress" aria-live="polite"></main>
{data_block(data)}
<script src="{assets.vendor('leaflet', 'leaflet.js')}"></script>
<script src="{assets.own('field/progress.js')}"></script>
<script>FieldProgress.init({READ_DATA_JS});</script></body></html>"""
    return HTMLResponse(page, headers=page_headers(request))


def router_for(catalog: Catalog) -> APIRouter:
    """The field routes, the survey form documented with the catalog's rules."""
    found = APIRouter()
    found.include_router(router)
    found.add_api_route(
        "/field/surveys",
        record_survey,
        methods=["POST"],
        status_code=201,
        tags=["field"],
        summary="Record a visit to a stairwell",
        responses=errors(400, 403, 404, 409, 422, e404="No such stairwell (or not in your grids)"),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": survey_schema(catalog)}},
            },
            "parameters": [IDEMPOTENCY_KEY],
            **beyond_schema(422, *unstated_survey_rules(catalog)),
        },
    )
    return found
