"""Sign-in throttle shared by every worker (login_throttle table): growing delays, no lockout.

Failures count under three keys: the user name at one client address, the address over all
names (password spraying) and the name over all addresses (distributed guessing). Past each
key's free attempts every further failure doubles its delay (1 s, 2 s, 4 s ...) up to a cap. The
name-wide cap is short, so an attacker elsewhere can delay the real user by seconds at most, and
never locks them out; the real user at their own address is not slowed by someone else's tries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa

from gis_service.settings import get_settings

FAILURE_SQL = """
    INSERT INTO login_throttle AS t (key, failures, last_failure_at, blocked_until)
    VALUES (:key, 1, now(), now())
    ON CONFLICT (key) DO UPDATE SET
        failures = {count},
        last_failure_at = now(),
        blocked_until = now() + make_interval(secs => CASE WHEN {count} > :free
            THEN least(:cap, power(2, least({count} - :free - 1, 30))) ELSE 0 END)
"""
RENEWED_COUNT = (
    "(CASE WHEN t.last_failure_at < now() - make_interval(secs => :window) "
    "THEN 1 ELSE t.failures + 1 END)"
)


@dataclass(frozen=True)
class Key:
    """One throttle key with its free attempts and longest delay."""

    key: str
    free: int
    cap: int


def keys(username: str, address: str | None) -> list[Key]:
    """The pair, address and name keys of a sign-in attempt."""
    settings = get_settings()
    name, where = username[:100], (address or "unknown")[:100]
    return [
        Key(f"pair:{where}|{name}", settings.login_free_attempts, settings.login_max_delay_s),
        Key(f"addr:{where}", settings.login_address_free_attempts, settings.login_max_delay_s),
        Key(f"user:{name}", settings.login_user_free_attempts, settings.login_user_max_delay_s),
    ]


def wait_seconds(conn: sa.Connection, username: str, address: str | None) -> int:
    """Whole seconds until this name may try again from this address (0: now)."""
    left = conn.execute(
        sa.text("SELECT max(extract(epoch FROM blocked_until - now())) FROM login_throttle "
                "WHERE key = ANY(:keys) AND blocked_until > now()"),
        {"keys": [k.key for k in keys(username, address)]},
    ).scalar_one()
    return math.ceil(float(left)) if left else 0


def record_failure(conn: sa.Connection, username: str, address: str | None) -> None:
    """Count a wrong password under each key, and forget keys quiet for the window."""
    window = get_settings().login_failure_window_s
    statement = sa.text(FAILURE_SQL.format(count=RENEWED_COUNT))
    for key in keys(username, address):
        conn.execute(statement, {"key": key.key, "free": key.free, "cap": key.cap,
                                 "window": window})
    conn.execute(
        sa.text("DELETE FROM login_throttle "
                "WHERE last_failure_at < now() - make_interval(secs => :window)"),
        {"window": window},
    )


def record_success(conn: sa.Connection, username: str, address: str | None) -> None:
    """A right password clears the name's count at this address (not the wider keys)."""
    conn.execute(sa.text("DELETE FROM login_throttle WHERE key = :key"),
                 {"key": keys(username, address)[0].key})
