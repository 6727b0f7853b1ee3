"""Session cookies: signed, HttpOnly, SameSite=Strict, revocable, expiring when idle and absolutely
(checked by the server), with double-submit CSRF; kept in app_session, apart from API tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import sqlalchemy as sa
from fastapi import Request, Response

from gis_service.auth import ANONYMOUS, USER_COLUMNS, Principal, principal_of
from gis_service.errors import Forbidden
from gis_service.field.passwords import spend_time, verify_password
from gis_service.settings import get_settings

SESSION_COOKIE = "gis_session"
CSRF_COOKIE = "gis_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_secrets: dict[str, bytes] = {}

PRINCIPAL_SQL = f"""
    SELECT s.id AS session_id,
           s.last_seen_at < now() - make_interval(secs => :touch) AS stale,
           {USER_COLUMNS}
    FROM app_session s JOIN app_user u ON u.id = s.user_id
    LEFT JOIN user_grid g ON g.user_id = u.id
    WHERE s.secret_hash = :hash AND s.revoked_at IS NULL AND u.disabled_at IS NULL
      AND s.created_at > now() - make_interval(hours => :max_hours)
      AND s.last_seen_at > now() - make_interval(mins => :idle)
    GROUP BY s.id, u.id, u.username, u.role
"""


def max_age_s() -> int:
    """A session's absolute lifetime in seconds (settings.session_max_hours)."""
    return get_settings().session_max_hours * 3600


def secret_key() -> bytes:
    """The signing key: settings.session_secret, else one generated once in the data dir."""
    settings = get_settings()
    if settings.session_secret:
        return settings.session_secret.encode()
    path = Path(settings.data_dir).resolve() / "session-secret"
    cached = _secrets.get(str(path))
    if cached is None:
        cached = read_or_create_secret(path)
        _secrets[str(path)] = cached
    return cached


def read_or_create_secret(path: Path) -> bytes:
    """Read the key file, or create it (owner-only) when missing; concurrent creators agree."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            data = path.read_bytes().strip()
            if data:
                return data
            time.sleep(0.01)
        raise
    data = secrets.token_urlsafe(48).encode()
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return data


def sign(message: str) -> str:
    """URL-safe HMAC-SHA256 of a message under the session key."""
    digest = hmac.new(secret_key(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def stored_hash(secret: str) -> str:
    """What app_session keeps for a session secret (the secret itself is never stored)."""
    return hashlib.sha256(f"session:{secret}".encode()).hexdigest()


def csrf_for(secret: str) -> str:
    """The CSRF token bound to a session."""
    return sign(f"csrf:{secret}")


def cookie_value(secret: str, issued: int) -> str:
    """secret.issued.signature."""
    return f"{secret}.{issued}.{sign(f'{secret}.{issued}')}"


def read_cookie(value: str | None) -> str | None:
    """The session secret of a well-signed, unexpired cookie (None otherwise)."""
    if not value:
        return None
    parts = value.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    secret, issued, signature = parts
    if not hmac.compare_digest(signature, sign(f"{secret}.{issued}")):
        return None
    if time.time() - int(issued) > max_age_s():
        return None
    return secret


def session_principal(conn: sa.Connection, request: Request) -> tuple[Principal, int | None]:
    """The caller of a live session cookie (anonymous without one), CSRF-checked for writes;
    and the session's id when its last activity should be written again (idle expiry)."""
    secret = read_cookie(request.cookies.get(SESSION_COOKIE))
    if secret is None:
        return ANONYMOUS, None
    settings = get_settings()
    row = conn.execute(
        sa.text(PRINCIPAL_SQL),
        {"hash": stored_hash(secret), "touch": settings.token_touch_seconds,
         "max_hours": settings.session_max_hours, "idle": settings.session_idle_minutes},
    ).first()
    if row is None:
        return ANONYMOUS, None
    if request.method not in SAFE_METHODS:
        require_same_origin(request)
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), csrf_for(secret).encode()):
            raise Forbidden("send the X-CSRF-Token header (the gis_csrf cookie) with this request")
    return principal_of(row), (int(row.session_id) if row.stale else None)


def require_same_origin(request: Request) -> None:
    """Refuse a cookie write sent from another site: the browser's Sec-Fetch-Site, else the
    Origin header's host against the Host header (a proxy may drop the port: hosts compared)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise Forbidden(f"a {site} request may not write with the session cookie")
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = (request.headers.get("host") or "").lower()
    own = urlsplit(f"//{host}").hostname
    if origin == "null" or urlsplit(origin).hostname != own:
        raise Forbidden("a request from another origin may not write with the session cookie")


def touch_session(conn: sa.Connection, session_id: int) -> None:
    """Note a session's activity now (its idle time starts again)."""
    conn.execute(sa.text("UPDATE app_session SET last_seen_at = now() WHERE id = :id"),
                 {"id": session_id})


class PasswordUser(NamedTuple):
    """A user who may sign in with a password."""

    id: int
    role: str
    password_hash: str


def password_user(conn: sa.Connection, username: str) -> PasswordUser | None:
    """The user of a name, when it exists and has a password (None otherwise)."""
    row = conn.execute(
        sa.text("SELECT id, role, password_hash FROM app_user "
                "WHERE username = :name AND disabled_at IS NULL"),
        {"name": username},
    ).first()
    if row is None or not row.password_hash:
        return None
    return PasswordUser(int(row.id), str(row.role), str(row.password_hash))


def password_matches(found: PasswordUser | None, password: str) -> bool:
    """Whether the password is right (an unknown user costs the same time as a wrong one)."""
    if found is None:
        spend_time()
        return False
    return verify_password(password, found.password_hash)


def open_session(conn: sa.Connection, user_id: int, address: str | None) -> str:
    """Record a new session for a user; its cookie value."""
    secret = secrets.token_urlsafe(32)
    conn.execute(
        sa.text("INSERT INTO app_session (user_id, secret_hash, client_addr) "
                "VALUES (:uid, :hash, :addr)"),
        {"uid": user_id, "hash": stored_hash(secret), "addr": (address or "")[:100] or None},
    )
    return cookie_value(secret, int(time.time()))


def close_session(conn: sa.Connection, request: Request) -> None:
    """Revoke the session of the request's cookie (nothing without one)."""
    secret = read_cookie(request.cookies.get(SESSION_COOKIE))
    if secret is not None:
        conn.execute(
            sa.text("UPDATE app_session SET revoked_at = now() "
                    "WHERE secret_hash = :hash AND revoked_at IS NULL"),
            {"hash": stored_hash(secret)},
        )


def set_cookies(response: Response, request: Request, value: str | None) -> None:
    """Set the session and CSRF cookies (or clear both when value is None)."""
    secure = request.url.scheme == "https"
    if value is None:
        for name in (SESSION_COOKIE, CSRF_COOKIE):
            response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="strict")
        return
    secret = value.split(".")[0]
    response.set_cookie(
        SESSION_COOKIE, value, max_age=max_age_s(), path="/", secure=secure, httponly=True,
        samesite="strict",
    )
    response.set_cookie(
        CSRF_COOKIE, csrf_for(secret), max_age=max_age_s(), path="/", secure=secure,
        httponly=False, samesite="strict",
    )


def login_csrf(request: Request) -> str:
    """The pre-login double-submit token: the cookie's when it has one, else a new one."""
    current = request.cookies.get(CSRF_COOKIE, "")
    return current if 20 <= len(current) <= 100 else secrets.token_urlsafe(32)
