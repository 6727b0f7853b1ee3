"""Sign-in with a user name and password: a session cookie for the field and supervisor pages."""

from __future__ import annotations

import hmac
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, quote

import anyio
import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from gis_service import audit
from gis_service.accounts.pages import LOGIN_HEADERS, login_page
from gis_service.accounts.strings import STRINGS
from gis_service.api.deps import client_address, get_app_settings, get_engine, get_principal
from gis_service.api.openapi import HTML, errors, header, media
from gis_service.auth import Principal
from gis_service.errors import Forbidden, InvalidInput, TooManyAttempts, Unauthorized
from gis_service.features.errors import UnsupportedMediaType
from gis_service.field import session, signin
from gis_service.webmap.i18n import negotiate

router = APIRouter(tags=["session"])

CREDENTIALS = {
    "type": "object",
    "required": ["username", "password"],
    "properties": {
        "username": {"type": "string"},
        "password": {"type": "string"},
        "csrf": {"type": "string", "description": "the gis_csrf cookie (JSON: or X-CSRF-Token)"},
        "next": {"type": "string", "description": "a path of this site to go to afterwards"},
        "lang": {"type": "string", "enum": ["zh", "en"]},
    },
}
SIGN_IN_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": CREDENTIALS},
            "application/json": {"schema": CREDENTIALS},
        },
    }
}
SIGN_IN_ANSWERS = {
    200: media(
        "application/json",
        description="JSON sign-in: the session cookie is set; the CSRF token for writes",
        schema={"type": "object", "required": ["username", "csrf"],
                "properties": {"username": {"type": "string"}, "csrf": {"type": "string"}}},
    ),
    303: {"description": "Form sign-in: to `next`", "headers": {"Location": header("next")}},
    **errors(400, 401, 403, 413, 415, 422, 429, 503,
             e400="A form body that cannot be parsed",
             e401="Wrong user name or password (the form again, or problem+json for JSON)",
             e403="No or a stale CSRF token: load /field/login again",
             e415="Neither a urlencoded form nor JSON",
             e422="The JSON body is not an object",
             e429="Too many wrong passwords lately: see Retry-After"),
}
SIGN_IN_ANSWERS[401]["content"] = {HTML: {}}


def safe_next(target: str | None) -> str:
    """A same-site path to go to after signing in ("" otherwise: the role's own start)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return ""


def start_for(role: str) -> str:
    """Where a user goes after signing in without a page to return to."""
    return "/field" if role == "grid_worker" else "/"


def with_login_cookie(response: Response, request: Request, csrf: str) -> Response:
    """Set the pre-login double-submit cookie."""
    response.set_cookie(
        session.CSRF_COOKIE, csrf, path="/", httponly=False, samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/login", response_class=HTMLResponse, summary="Sign-in form (every role)")
@router.get("/field/login", response_class=HTMLResponse, summary="Sign-in form (the same)")
def login_form(request: Request, next: str | None = None, lang: str | None = None) -> Response:
    """The one sign-in page of every role (sets the pre-login CSRF cookie)."""
    language = negotiate(lang, request.headers.get("accept-language"))
    csrf = session.login_csrf(request)
    page = HTMLResponse(login_page(language, csrf, safe_next(next)), headers=LOGIN_HEADERS)
    return with_login_cookie(page, request, csrf)


def credentials(request: Request, body: bytes) -> dict[str, Any]:
    """username, password, csrf, next and lang from a urlencoded form or a JSON body."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json":
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            raise InvalidInput("send a JSON object with username and password")
        data.setdefault("csrf", request.headers.get(session.CSRF_HEADER, ""))
        data["json"] = True
        return data
    if media != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType("send application/x-www-form-urlencoded or application/json")
    try:
        form = dict(parse_qsl(body.decode("utf-8"), max_num_fields=20))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("the form is not valid UTF-8 urlencoded data") from exc
    return {**form, "json": False}


def login_limiter(request: Request) -> anyio.CapacityLimiter:
    """The app's bound on password checks running at once (each scrypt takes 16 MB)."""
    limiter = getattr(request.app.state, "login_limiter", None)
    if limiter is None:
        limiter = anyio.CapacityLimiter(get_app_settings(request).login_concurrency)
        request.app.state.login_limiter = limiter
    return limiter


@router.post(
    "/session",
    summary="Sign in (form or JSON): sets the session and CSRF cookies",
    responses=SIGN_IN_ANSWERS,
    openapi_extra=SIGN_IN_DOC,
)
async def sign_in(request: Request) -> Response:
    """Check the password and the double-submit token, then open a session.

    Only the (size-bounded) body is read on the event loop; parsing, the throttle, the database
    and scrypt run in a worker thread, a few at a time (settings.login_concurrency).
    """
    body = await request.body()
    answer: Response = await anyio.to_thread.run_sync(
        partial(sign_in_answer, request, body), limiter=login_limiter(request)
    )
    return answer


def sign_in_answer(request: Request, body: bytes) -> Response:
    """The answer to one sign-in (blocking: runs in a worker thread)."""
    data = credentials(request, body)
    lang = negotiate(str(data.get("lang") or ""), request.headers.get("accept-language"))
    target = safe_next(str(data.get("next") or ""))
    username, password = str(data.get("username", "")), str(data.get("password", ""))
    cookie = request.cookies.get(session.CSRF_COOKIE, "")
    sent = str(data.get("csrf") or "")
    if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise Forbidden(STRINGS[lang]["stale_form"])
    session.require_same_origin(request)
    result = signin.attempt(get_engine(request), username, password, client_address(request))
    if result.wait:
        raise TooManyAttempts(STRINGS[lang]["too_many"], result.wait)
    if result.cookie is None:
        if data["json"]:
            raise Unauthorized(STRINGS[lang]["bad_login"])
        csrf = session.login_csrf(request)
        page = HTMLResponse(login_page(lang, csrf, target, STRINGS[lang]["bad_login"]), 401,
                            headers=LOGIN_HEADERS)
        return with_login_cookie(page, request, csrf)
    answer: Response
    if data["json"]:
        secret = result.cookie.split(".")[0]
        answer = JSONResponse({"username": username, "csrf": session.csrf_for(secret)})
    else:
        answer = RedirectResponse(target or start_for(result.role), status_code=303)
    session.set_cookies(answer, request, result.cookie)
    return answer


@router.get("/session", summary="Who is signed in")
def whoami(principal: Principal = Depends(get_principal)) -> dict[str, Any]:
    """The caller's user name, role and grids (401 when anonymous)."""
    if principal.is_anonymous:
        raise Unauthorized("not signed in")
    return {"username": principal.username, "role": principal.role,
            "grid_ids": list(principal.grid_ids)}


@router.post(
    "/session/logout",
    status_code=204,
    summary="Sign out (needs X-CSRF-Token)",
    responses=errors(403, e403="A session cookie without its X-CSRF-Token header"),
)
def sign_out(request: Request, principal: Principal = Depends(get_principal)) -> Response:
    """Revoke the session and clear its cookies."""
    if request.cookies.get(session.SESSION_COOKIE) and not principal.is_anonymous:
        with get_engine(request).begin() as conn:
            session.close_session(conn, request)
            audit.append(conn, principal, audit.Event("sign_out"))
    answer = Response(status_code=204)
    session.set_cookies(answer, request, None)
    return answer


def login_redirect(request: Request) -> RedirectResponse:
    """303 to the sign-in page (in the page's language), coming back here afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    lang = request.query_params.get("lang", "")
    chosen = f"&lang={lang}" if lang in ("zh", "en") else ""
    return RedirectResponse(f"/login?next={quote(here, safe='')}{chosen}", status_code=303)
