"""One password sign-in: throttle, password check, new session, audit entry (blocking: run it in
a worker thread, never on the event loop)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from gis_service import audit
from gis_service.auth import Principal
from gis_service.field import session, throttle


@dataclass(frozen=True)
class SignIn:
    """What an attempt gave: a session cookie value, or nothing (and how long to wait)."""

    cookie: str | None = None
    wait: int = 0
    role: str = ""


def attempt(engine: Engine, username: str, password: str, address: str | None) -> SignIn:
    """Check a name and password from an address; open a session when right."""
    stranger = Principal(role="anonymous", address=address)
    with engine.connect() as conn:
        wait = throttle.wait_seconds(conn, username, address)
        found = None if wait else session.password_user(conn, username)
    if wait:
        event = audit.Event("sign_in", "refused", detail={"reason": "throttled", "wait_s": wait})
        audit.record(engine, stranger, event, username=username)
        return SignIn(wait=wait)
    right = session.password_matches(found, password)  # unknown names cost the same time
    if found is None or not right:
        with engine.begin() as conn:
            throttle.record_failure(conn, username, address)
            event = audit.Event("sign_in", "refused", detail={"reason": "wrong name or password"})
            audit.append(conn, stranger, event, username=username)
        return SignIn()
    user = Principal(role=found.role, user_id=found.id, username=username, address=address)
    with engine.begin() as conn:
        throttle.record_success(conn, username, address)
        cookie = session.open_session(conn, found.id, address)
        audit.append(conn, user, audit.Event("sign_in"))
    return SignIn(cookie=cookie, role=found.role)
