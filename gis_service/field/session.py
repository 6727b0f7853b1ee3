"""Session cookies: signed, HttpOnly, SameSite=Strict, revocable, with double-submit CSRF."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

import sqlalchemy as sa
from fastapi import Request, Response

from gis_service.auth import ANONYMOUS, Principal
from gis_service.errors import Forbidden
from gis_service.field.passwords import spend_time, verify_password
from gis_service.settings import get_settings

SESSION_COOKIE = "gis_session"
CSRF_COOKIE = "gis_csrf"
CSRF_HEADER = "x-csrf-token"
MAX_AGE_S = 12 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_secrets: dict[str, bytes] = {}

PRINCIPAL_SQL = """
    SELECT u.id, u.username, u.role,
           coalesce(array_agg(g.grid_id ORDER BY g.grid_id)
                    FILTER (WHERE g.grid_id IS NOT NULL), '{}') AS grids
    FROM api_token t JOIN app_user u ON u.id = t.user_id
    LEFT JOIN user_grid g ON g.user_id = u.id
    WHERE t.token_hash = :hash AND t.label = 'session' AND t.revoked_at IS NULL
      AND t.created_at > now() - make_interval(secs => :age)
    GROUP BY u.id, u.username, u.role
"""


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
    """What api_token keeps for a session (never equal to a bearer token's hash)."""
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
    if time.time() - int(issued) > MAX_AGE_S:
        return None
    return secret


def session_principal(conn: sa.Connection, request: Request) -> Principal:
    """The caller of a session cookie (anonymous without a valid one); CSRF-checked for writes."""
    secret = read_cookie(request.cookies.get(SESSION_COOKIE))
    if secret is None:
        return ANONYMOUS
    row = conn.execute(
        sa.text(PRINCIPAL_SQL), {"hash": stored_hash(secret), "age": MAX_AGE_S}
    ).first()
    if row is None:
        return ANONYMOUS
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), csrf_for(secret).encode()):
            raise Forbidden("send the X-CSRF-Token header (the gis_csrf cookie) with this request")
    return Principal(
        role=row.role, user_id=row.id, username=row.username, grid_ids=tuple(row.grids)
    )


def check_password(conn: sa.Connection, username: str, password: str) -> int | None:
    """The user id for a right username and password (None otherwise, in the same time)."""
    row = conn.execute(
        sa.text("SELECT id, password_hash FROM app_user WHERE username = :name"),
        {"name": username},
    ).first()
    if row is None or not row.password_hash:
        spend_time()
        return None
    return int(row.id) if verify_password(password, row.password_hash) else None


def open_session(conn: sa.Connection, user_id: int) -> str:
    """Record a new session for a user; its cookie value."""
    secret = secrets.token_urlsafe(32)
    conn.execute(
        sa.text(
            "INSERT INTO api_token (user_id, token_hash, label) VALUES (:uid, :hash, 'session')"
        ),
        {"uid": user_id, "hash": stored_hash(secret)},
    )
    return cookie_value(secret, int(time.time()))


def close_session(conn: sa.Connection, request: Request) -> None:
    """Revoke the session of the request's cookie (nothing without one)."""
    secret = read_cookie(request.cookies.get(SESSION_COOKIE))
    if secret is not None:
        conn.execute(
            sa.text(
                "UPDATE api_token SET revoked_at = now() "
                "WHERE token_hash = :hash AND label = 'session' AND revoked_at IS NULL"
            ),
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
        SESSION_COOKIE, value, max_age=MAX_AGE_S, path="/", secure=secure, httponly=True,
        samesite="strict",
    )
    response.set_cookie(
        CSRF_COOKIE, csrf_for(secret), max_age=MAX_AGE_S, path="/", secure=secure,
        httponly=False, samesite="strict",
    )


def login_csrf(request: Request) -> str:
    """The pre-login double-submit token: the cookie's when it has one, else a new one."""
    current = request.cookies.get(CSRF_COOKIE, "")
    return current if 20 <= len(current) <= 100 else secrets.token_urlsafe(32)
