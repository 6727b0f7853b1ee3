"""GET /audit: the audit trail for admins (read in the admin's database role), newest first."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from gis_service import audit
from gis_service.api.deps import get_connection, get_engine, get_principal
from gis_service.api.openapi import errors
from gis_service.auth import Principal
from gis_service.errors import Forbidden, InvalidInput, Unauthorized

router = APIRouter(tags=["audit"])
AUDIT_RESPONSES = errors(
    401, 403, 422, 503,
    e401="Not signed in", e403="Only admins read the audit trail",
    e422="A filter has the wrong form",
)


MOMENT = {"format": "date-time"}


def moment(name: str, text: str | None) -> dt.datetime | None:
    """An RFC 3339 / ISO 8601 time of a filter (a number is not a time: 422)."""
    if text is None:
        return None
    try:  # RFC 3339 allows a lower-case t and z, and a leap second (read as :59)
        return dt.datetime.fromisoformat(text.upper().replace(":60", ":59"))
    except ValueError as exc:
        raise InvalidInput(f"{name} is not a date or time: {text!r}") from exc


class AuditEntry(BaseModel):
    """One entry: when, what, with what outcome, who (id, name, role), from where, on what."""

    id: int
    at: str
    action: str
    outcome: Literal["ok", "refused", "failed"]
    user_id: int | None
    username: str | None
    role: str | None
    client_addr: str | None
    target: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    """Entries newest first, and the URL of the next (older) page when there may be one."""

    events: list[AuditEntry]
    next: str | None


@router.get("/audit", response_model=AuditPage, responses=AUDIT_RESPONSES,
            summary="The audit trail: sign-ins, token use, imports, exports, role and grid changes")
def audit_trail(
    request: Request,
    action: str | None = Query(None, pattern=r"^[a-z][a-z_]*$", max_length=40,
                               description="Only this action, e.g. sign_in, export"),
    username: str | None = Query(None, max_length=100, description="Only this user's entries"),
    target: str | None = Query(None, max_length=200, description="Only this target"),
    outcome: Literal["ok", "refused", "failed"] | None = Query(None),
    since: str | None = Query(None, json_schema_extra=MOMENT, description="From this time"),
    until: str | None = Query(None, json_schema_extra=MOMENT, description="Before this time"),
    before: int | None = Query(None, ge=1, le=2**62, description="Older than this entry id"),
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> dict[str, Any]:
    """Entries matching the filters; reading the trail is itself recorded."""
    if principal.is_anonymous:
        raise Unauthorized("sign in as an admin to read the audit trail")
    if principal.role != "admin":
        raise Forbidden("only admins read the audit trail")
    start, end = moment("since", since), moment("until", until)
    query = audit.Query(action, username, target, outcome, start, end, before, limit)
    found = audit.events(conn, query)
    filters = {k: v for k, v in request.query_params.items() if k != "before"}
    audit.record(get_engine(request), principal, audit.Event("audit_read", detail=filters))
    following = None
    if len(found) == limit:
        following = str(request.url.include_query_params(before=found[-1]["id"]))
    return {"events": found, "next": following}
