"""Request dependencies: the app's catalog, maps and settings, the caller, and a transaction
scoped to the caller's role and grids."""

from __future__ import annotations

import base64
import binascii
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from gis_service.auth import Principal, apply_scope, resolve_token, touch_token
from gis_service.catalog import Catalog
from gis_service.errors import Unauthorized
from gis_service.field.session import session_principal, touch_session
from gis_service.maps_catalog import MapView
from gis_service.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_ONLY_TRANSACTION = "25006"
MAX_REMEMBERED = 10_000
log = logging.getLogger(__name__)
_attempts: dict[tuple[str, int, int], float] = {}
"""When this process last tried to record a use: (kind, primary engine, credential id)."""
_attempts_lock = threading.Lock()


def get_catalog(request: Request) -> Catalog:
    """The app's layer catalog (given to create_app)."""
    catalog: Catalog = request.app.state.catalog
    return catalog


def get_maps(request: Request) -> dict[str, MapView]:
    """The app's map views (maps/*.yaml checked against its catalog)."""
    maps: dict[str, MapView] = request.app.state.maps
    return maps


def get_app_settings(request: Request) -> Settings:
    """The app's settings (given to create_app)."""
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    """The app's engine (the primary)."""
    engine: Engine = request.app.state.engine
    return engine


def engine_for(request: Request) -> Engine:
    """The read replica for reads when one is configured, the primary otherwise."""
    if request.method in SAFE_METHODS:
        replica: Engine | None = getattr(request.app.state, "read_engine", None)
        if replica is not None:
            return replica
    return get_engine(request)


def bearer_token(request: Request) -> str | None:
    """The API token of the request, if any: `Bearer <token>`, or HTTP Basic with the token as
    the password (any user name) for clients that can only send Basic, such as QGIS 3.22."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "basic" and token.strip():
        return basic_password(token.strip())
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("use 'Authorization: Bearer <token>'")
    return token.strip()


def basic_password(credentials: str) -> str:
    """The password of HTTP Basic credentials (for us: an API token, never a sign-in password)."""
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("HTTP Basic credentials are not base64 of 'name:token'") from None
    _, colon, password = decoded.partition(":")
    if not colon or not password:
        raise Unauthorized("with HTTP Basic, the password is an API token ('name:token')")
    return password


def client_address(request: Request) -> str | None:
    """The client's address (the proxy's X-Forwarded-For when uvicorn trusts the proxy)."""
    return request.client.host if request.client else None


def get_principal(request: Request) -> Principal:
    """The caller: bearer token (401 for a bad one), else session cookie, else anonymous.

    A token's last use and a session's last activity are written on the primary at most once
    per settings.token_touch_seconds, so reads (tiles) add no write per request.
    """
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    touch = get_app_settings(request).token_touch_seconds
    with engine_for(request).connect() as conn:
        token = bearer_token(request)
        if token:
            principal, stale_token = resolve_token(conn, token, touch)
            stale_session = None
        else:
            (principal, stale_session), stale_token = session_principal(conn, request), None
    principal = replace(principal, address=client_address(request))
    primary = id(get_engine(request))
    token_due = stale_token is not None and due(("token", primary, stale_token), touch)
    session_due = stale_session is not None and due(("session", primary, stale_session), touch)
    if token_due or session_due:
        record_use(request, principal, stale_token if token_due else None,
                   stale_session if session_due else None)
    request.state.principal = principal
    return principal


def record_use(
    request: Request, principal: Principal, token_id: int | None, session_id: int | None
) -> None:
    """Write a token's last use (and its audit entry) or a session's activity, on the primary.

    A primary that is down or read-only (a standby, maintenance) cannot take the write: reads go
    on (from the replica) unrecorded.
    """
    try:
        with get_engine(request).begin() as conn:
            if token_id is not None:
                what = f"{request.method} {request.url.path}"[:200]
                touch = get_app_settings(request).token_touch_seconds
                touch_token(conn, token_id, principal, what, touch)
            if session_id is not None:
                touch_session(conn, session_id)
    except DBAPIError as exc:
        down = isinstance(exc, OperationalError) or exc.connection_invalidated
        if not down and getattr(exc.orig, "sqlstate", None) != READ_ONLY_TRANSACTION:
            raise
        log.warning("the primary takes no writes: %s's use is not recorded", principal.username)


def due(key: tuple[str, int, int], every: float) -> bool:
    """Whether this process records a credential's use now: at most once per `every` seconds,
    even when the write fails (so an outage of the primary costs reads no connection attempts)."""
    now = time.monotonic()
    with _attempts_lock:
        last = _attempts.get(key)
        if last is not None and now - last < every:
            return False
        if len(_attempts) >= MAX_REMEMBERED:
            _attempts.clear()
        _attempts[key] = now
        return True


def get_connection(
    request: Request, principal: Principal = Depends(get_principal)
) -> Iterator[sa.Connection]:
    """A transaction in the caller's database role, committed when the handler succeeds.

    Routes use it as `Depends(get_connection, scope="function")` so the commit happens before
    the answer is sent: a client never sees success for a write that failed to commit.
    """
    with scoped_transaction(engine_for(request), principal) as conn:
        yield conn


@contextmanager
def scoped_transaction(engine: Engine, principal: Principal) -> Iterator[sa.Connection]:
    """A transaction in the principal's database role and grids, committed at the end."""
    with engine.begin() as conn:
        apply_scope(conn, principal)
        yield conn
