"""The signed-in user's pages and API tokens (/account), and user administration (/admin).

Changes run on the primary as the database owner after the role check here, naming the acting
user for the audit triggers (users.act_as); token changes write their own audit entries."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from gis_service import users
from gis_service.accounts import pages
from gis_service.api.deps import get_engine, get_principal
from gis_service.api.openapi import HTML, REDIRECT_TO_LOGIN, errors, media
from gis_service.api.session import login_redirect
from gis_service.auth import Principal
from gis_service.errors import Forbidden, Unauthorized
from gis_service.features.openapi import beyond_schema
from gis_service.webmap.i18n import negotiate

router = APIRouter(tags=["accounts"])
TOKEN_ID = Path(..., ge=1, le=2**31 - 1, description="A token's id")
USERNAME = Path(..., min_length=1, max_length=100, description="A user's sign-in name")
GridId = Annotated[int, Field(ge=1, le=2**31 - 1)]
TOKEN = {"type": "object", "required": ["id", "token", "label", "expires_at"],
         "properties": {"id": {"type": "integer"}, "token": {"type": "string"},
                        "label": {"type": "string"},
                        "expires_at": {"type": ["string", "null"], "format": "date-time"}}}
PAGE: dict[int | str, dict[str, Any]] = {200: media(HTML), 303: REDIRECT_TO_LOGIN}


class TokenIn(BaseModel):
    """A token to issue to the signed-in user."""

    model_config = ConfigDict(extra="forbid")
    label: str = Field("", max_length=users.MAX_LABEL, description="What the token is for")
    expires_days: int | None = Field(None, ge=1, le=users.MAX_TOKEN_DAYS,
                                     description="Refused after this many days (none: never)")


class UserChange(BaseModel):
    """What an administrator changes of a user (fields left out stay)."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["admin", "planner", "analyst", "grid_worker"] | None = None
    grids: list[GridId] | None = Field(None, max_length=1000, description="exactly these grids")
    disabled: bool | None = Field(None, description="true: sign-in, sessions and tokens refused")


class PasswordIn(BaseModel):
    """A new password set by an administrator."""

    model_config = ConfigDict(extra="forbid")
    password: str = Field(..., min_length=users.MIN_PASSWORD, max_length=200)


def page_language(request: Request, lang: str | None) -> str:
    """zh or en: the lang parameter, else Accept-Language."""
    return negotiate(lang, request.headers.get("accept-language"))


def start_page(request: Request, principal: Principal, lang: str | None) -> HTMLResponse:
    """The start page for browsers (content negotiation at /)."""
    page = pages.start_page(page_language(request, lang), principal)
    return HTMLResponse(page, headers=pages.PAGE_HEADERS)


def signed_in(principal: Principal) -> int:
    """The caller's user id (401 when anonymous)."""
    if principal.user_id is None:
        raise Unauthorized("sign in first (/login)")
    return principal.user_id


def administrator(principal: Principal = Depends(get_principal)) -> Principal:
    """The caller when an administrator (401 anonymous, 403 other roles)."""
    signed_in(principal)
    if principal.role != "admin":
        raise Forbidden("only administrators manage users")
    return principal


@router.get("/account", response_class=HTMLResponse, summary="My API tokens (page)",
            responses=PAGE)
def account_page(request: Request, lang: str | None = None,
                 principal: Principal = Depends(get_principal)) -> Response:
    """Create, list and revoke the signed-in user's API tokens."""
    if principal.is_anonymous:
        return login_redirect(request)
    page = pages.tokens_page(page_language(request, lang), principal)
    return HTMLResponse(page, headers=pages.PAGE_HEADERS)


@router.get("/account/tokens", summary="My API tokens (never their values)")
def my_tokens(request: Request, principal: Principal = Depends(get_principal)) -> list[Any]:
    """The caller's tokens: id, label, created, expiry, last use, revoked."""
    uid = signed_in(principal)
    with get_engine(request).connect() as conn:
        return users.tokens(conn, uid)


@router.post("/account/tokens", status_code=201, summary="Issue myself an API token",
             responses={201: media("application/json", schema=TOKEN,
                                   description="the token, shown this once"), **errors(403)})
def create_my_token(request: Request, body: TokenIn,
                    principal: Principal = Depends(get_principal)) -> JSONResponse:
    """A new token for the caller (its value is in this answer only; only its hash is kept)."""
    uid = signed_in(principal)
    with get_engine(request).begin() as conn:
        made = users.create_token(conn, principal, uid, body.label, body.expires_days)
    return JSONResponse(made, status_code=201, headers={"Cache-Control": "no-store"})


@router.delete("/account/tokens/{token_id}", status_code=204, summary="Revoke one of my tokens",
               responses=errors(403, 404, e404="No live token of yours with this id"))
def revoke_my_token(request: Request, token_id: int = TOKEN_ID,
                    principal: Principal = Depends(get_principal)) -> Response:
    """Revoke one of the caller's live tokens at once."""
    uid = signed_in(principal)
    with get_engine(request).begin() as conn:
        users.revoke_token(conn, principal, token_id, owner=uid)
    return Response(status_code=204)


@router.get("/admin", response_class=HTMLResponse, summary="User administration (page)",
            responses={**PAGE, 403: media(HTML, description="Not an administrator (a page)")})
def admin_page(request: Request, lang: str | None = None,
               principal: Principal = Depends(get_principal)) -> Response:
    """Roles, grids, password resets, disabling and tokens of every user (administrators)."""
    if principal.is_anonymous:
        return login_redirect(request)
    language = page_language(request, lang)
    if principal.role != "admin":
        refused = pages.refused_page(language, principal, "/admin")
        return HTMLResponse(refused, status_code=403, headers=pages.PAGE_HEADERS)
    return HTMLResponse(pages.admin_page(language, principal), headers=pages.PAGE_HEADERS)


@router.get("/admin/users", summary="Every user and their live tokens", responses=errors(403))
def list_users(request: Request, admin: Principal = Depends(administrator)) -> dict[str, Any]:
    """Users (role, grids, password set, disabled, live tokens) and the live tokens."""
    with get_engine(request).connect() as conn:
        return {"users": users.users(conn), "tokens": users.tokens(conn, live=True)}


@router.patch("/admin/users/{username}", summary="Change a user's role, grids or state",
              responses=errors(403, 404, 422),
              openapi_extra=beyond_schema(422, "grids: ids of existing grids"))
def change_user(request: Request, body: UserChange, username: str = USERNAME,
                admin: Principal = Depends(administrator)) -> dict[str, Any]:
    """Apply the given changes in one transaction (each recorded in the audit trail)."""
    with get_engine(request).begin() as conn:
        users.act_as(conn, admin)
        uid = users.user_id(conn, username)
        if body.disabled and uid == admin.user_id:
            raise Forbidden("you cannot disable yourself")
        if body.role is not None:
            users.set_role(conn, uid, body.role)
        if body.grids is not None:
            users.set_grids(conn, uid, set(body.grids))
        if body.disabled is not None:
            users.set_disabled(conn, uid, body.disabled)
        return next(u for u in users.users(conn) if u["id"] == uid)


@router.put("/admin/users/{username}/password", status_code=204,
            summary="Reset a user's password (their sessions end)", responses=errors(403, 404))
def reset_password(request: Request, body: PasswordIn, username: str = USERNAME,
                   admin: Principal = Depends(administrator)) -> Response:
    """Set a new password; the user's open sessions end."""
    with get_engine(request).begin() as conn:
        users.act_as(conn, admin)
        users.set_password(conn, users.user_id(conn, username), body.password)
    return Response(status_code=204)


@router.delete("/admin/tokens/{token_id}", status_code=204, summary="Revoke any user's token",
               responses=errors(403, 404, e404="No live token with this id"))
def revoke_token(request: Request, token_id: int = TOKEN_ID,
                 admin: Principal = Depends(administrator)) -> Response:
    """Revoke a live token at once."""
    with get_engine(request).begin() as conn:
        users.revoke_token(conn, admin, token_id)
    return Response(status_code=204)


def user_tokens(conn: sa.Connection, uid: int) -> list[int]:
    """The ids of a user's live tokens."""
    return [int(t["id"]) for t in users.tokens(conn, uid, live=True)]


@router.delete("/admin/users/{username}/tokens", summary="Revoke all of a user's tokens",
               responses=errors(403, 404))
def revoke_user_tokens(request: Request, username: str = USERNAME,
                       admin: Principal = Depends(administrator)) -> dict[str, int]:
    """Revoke every live token of a user at once; how many."""
    with get_engine(request).begin() as conn:
        found = user_tokens(conn, users.user_id(conn, username))
        for token_id in found:
            users.revoke_token(conn, admin, token_id)
    return {"revoked": len(found)}
