"""Sign-in with a user name and password: a session cookie for the field and supervisor pages."""

from __future__ import annotations

import hmac
import html
import threading
import time
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from gis_service.api.deps import get_engine, get_principal
from gis_service.api.openapi import HTML, errors, header, media
from gis_service.auth import Principal
from gis_service.errors import Forbidden, GisServiceError, InvalidInput, Unauthorized
from gis_service.field import session
from gis_service.field.strings import STRINGS
from gis_service.webmap.i18n import negotiate

router = APIRouter(tags=["session"])
MAX_FAILURES = 5
FAILURE_WINDOW_S = 300
MAX_TRACKED = 10_000
_failures: dict[str, list[float]] = {}
_failures_lock = threading.Lock()
LOGIN_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
}


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
    **errors(400, 401, 403, 422, 429, 503,
             e400="A form body that cannot be parsed",
             e401="Wrong user name or password (the form again, or problem+json for JSON)",
             e403="No or a stale CSRF token: load /field/login again",
             e422="The JSON body is not an object"),
}
SIGN_IN_ANSWERS[401]["content"] = {HTML: {}}


class TooManyAttempts(GisServiceError):
    """Too many wrong passwords for one user name in a short time."""

    status_code = 429
    title = "Too many attempts"


def safe_next(target: str | None) -> str:
    """A same-site path to go to after signing in (/field otherwise)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/field"


def throttled(username: str) -> bool:
    """Whether a user name had too many failures lately (counted per process)."""
    now = time.monotonic()
    with _failures_lock:
        recent = [t for t in _failures.get(username[:100], []) if now - t < FAILURE_WINDOW_S]
        if recent:
            _failures[username[:100]] = recent
        else:
            _failures.pop(username[:100], None)
        return len(recent) >= MAX_FAILURES


def record_failure(username: str) -> None:
    """Count a failed sign-in (forgetting old ones, so made-up names cannot fill memory)."""
    now = time.monotonic()
    with _failures_lock:
        if len(_failures) > MAX_TRACKED:
            for name in [n for n, times in _failures.items() if now - times[-1] > FAILURE_WINDOW_S]:
                del _failures[name]
            for name in list(_failures)[: len(_failures) - MAX_TRACKED]:
                del _failures[name]  # still too many: forget the oldest names
        _failures.setdefault(username[:100], []).append(now)


def login_page(lang: str, csrf: str, target: str, error: str = "") -> str:
    """The sign-in form (works without JavaScript; fits a 360 px wide phone)."""
    t = STRINGS[lang]
    message = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(t['login_title'])}</title>
<style>
body{{font:16px/1.4 system-ui,sans-serif;margin:0;padding:24px 16px;background:#f5f5f5}}
form{{max-width:360px;margin:auto;background:#fff;padding:20px;border-radius:12px}}
label{{display:block;margin:12px 0 4px}}
input{{width:100%;box-sizing:border-box;min-height:48px;font-size:18px;padding:8px}}
button{{width:100%;min-height:52px;font-size:18px;margin-top:20px;background:#3949ab;
color:#fff;border:0;border-radius:8px}} .error{{color:#c62828}}
</style></head><body>
<form method="post" action="/session" id="login">
<h1>{html.escape(t['login_title'])}</h1>{message}
<label for="username">{html.escape(t['username'])}</label>
<input id="username" name="username" autocomplete="username" autocapitalize="none" required>
<label for="password">{html.escape(t['password'])}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<input type="hidden" name="csrf" value="{html.escape(csrf)}">
<input type="hidden" name="next" value="{html.escape(target)}">
<input type="hidden" name="lang" value="{lang}">
<button type="submit">{html.escape(t['sign_in'])}</button>
</form></body></html>"""


def with_login_cookie(response: Response, request: Request, csrf: str) -> Response:
    """Set the pre-login double-submit cookie."""
    response.set_cookie(
        session.CSRF_COOKIE, csrf, path="/", httponly=False, samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/field/login", response_class=HTMLResponse, summary="Sign-in form")
def login_form(request: Request, next: str | None = None, lang: str | None = None) -> Response:
    """The sign-in page (sets the pre-login CSRF cookie)."""
    language = negotiate(lang, request.headers.get("accept-language"))
    csrf = session.login_csrf(request)
    page = HTMLResponse(login_page(language, csrf, safe_next(next)), headers=LOGIN_HEADERS)
    return with_login_cookie(page, request, csrf)


async def credentials(request: Request) -> dict[str, Any]:
    """username, password, csrf, next and lang from a form or a JSON body."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json":
        try:
            data = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            raise InvalidInput("send a JSON object with username and password")
        data.setdefault("csrf", request.headers.get(session.CSRF_HEADER, ""))
        data["json"] = True
        return data
    form = await request.form()
    return {k: str(v) for k, v in form.items()} | {"json": False}


@router.post(
    "/session",
    summary="Sign in (form or JSON): sets the session and CSRF cookies",
    responses=SIGN_IN_ANSWERS,
    openapi_extra=SIGN_IN_DOC,
)
async def sign_in(request: Request) -> Response:
    """Check the password and the double-submit token, then open a session."""
    data = await credentials(request)
    lang = negotiate(str(data.get("lang") or ""), request.headers.get("accept-language"))
    target = safe_next(str(data.get("next") or ""))
    username, password = str(data.get("username", "")), str(data.get("password", ""))
    cookie = request.cookies.get(session.CSRF_COOKIE, "")
    sent = str(data.get("csrf") or "")
    if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise Forbidden("the sign-in form is stale: load /field/login again (CSRF token)")
    if throttled(username):
        raise TooManyAttempts(STRINGS[lang]["too_many"])
    with get_engine(request).begin() as conn:
        user_id = session.check_password(conn, username, password)
        value = session.open_session(conn, user_id) if user_id is not None else None
    if value is None:
        record_failure(username)
        if data["json"]:
            raise Unauthorized(STRINGS[lang]["bad_login"])
        csrf = session.login_csrf(request)
        page = HTMLResponse(login_page(lang, csrf, target, STRINGS[lang]["bad_login"]), 401,
                            headers=LOGIN_HEADERS)
        return with_login_cookie(page, request, csrf)
    answer: Response
    if data["json"]:
        secret = value.split(".")[0]
        answer = JSONResponse({"username": username, "csrf": session.csrf_for(secret)})
    else:
        answer = RedirectResponse(target, status_code=303)
    session.set_cookies(answer, request, value)
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
    answer = Response(status_code=204)
    session.set_cookies(answer, request, None)
    return answer


def login_redirect(request: Request) -> RedirectResponse:
    """303 to the sign-in page, coming back here afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/field/login?next={quote(here, safe='')}", status_code=303)
