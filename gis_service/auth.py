"""Who is calling: bearer tokens to principals, and the per-transaction database scope.

Bearer tokens live in api_token; browser sessions live in app_session (field/session.py). The
two lookups read different tables, so a session secret is never accepted as a bearer token and a
token never opens a session.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from gis_service import audit
from gis_service.errors import DatabaseNotReady, Unauthorized

DB_ROLES = {
    "anonymous": "gis_anonymous",
    "analyst": "gis_analyst",
    "planner": "gis_planner",
    "grid_worker": "gis_grid_worker",
    "admin": "gis_admin",
}
USER_COLUMNS = """u.id, u.username, u.role,
    coalesce(array_agg(g.grid_id ORDER BY g.grid_id) FILTER (WHERE g.grid_id IS NOT NULL), '{}')
        AS grids"""
"""The caller's columns (with `JOIN app_user u ... LEFT JOIN user_grid g`), read by principal_of."""
TOKEN_SQL = f"""
    SELECT t.id AS token_id,
           t.last_used_at IS NULL
               OR t.last_used_at < now() - make_interval(secs => :touch) AS stale,
           {USER_COLUMNS}
    FROM api_token t JOIN app_user u ON u.id = t.user_id
    LEFT JOIN user_grid g ON g.user_id = u.id
    WHERE t.token_hash = :hash AND t.revoked_at IS NULL AND u.disabled_at IS NULL
      AND (t.expires_at IS NULL OR t.expires_at > now())
    GROUP BY t.id, u.id, u.username, u.role
"""
CALLER_SQL = f"""
    SELECT {USER_COLUMNS}
    FROM api_token t JOIN app_user u ON u.id = t.user_id
    LEFT JOIN user_grid g ON g.user_id = u.id
    WHERE t.token_hash = :hash AND t.revoked_at IS NULL AND u.disabled_at IS NULL
      AND (t.expires_at IS NULL OR t.expires_at > now())
    GROUP BY u.id, u.username, u.role
"""
"""The user a live token names now (no row: unknown, revoked, expired or disabled), by its hash."""


@dataclass(frozen=True)
class Principal:
    """The caller: a user with a role (and grids for grid workers), or anonymous."""

    role: str
    user_id: int | None = None
    username: str = "anonymous"
    grid_ids: tuple[int, ...] = ()
    address: str | None = None

    @property
    def is_anonymous(self) -> bool:
        """True when no token was given."""
        return self.user_id is None


ANONYMOUS = Principal(role="anonymous")


def principal_of(row: sa.Row[Any]) -> Principal:
    """The principal of a row holding USER_COLUMNS."""
    return Principal(
        role=row.role, user_id=row.id, username=row.username, grid_ids=tuple(row.grids)
    )


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored for a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


def resolve_token(
    conn: sa.Connection, token: str, touch_seconds: float = 60
) -> tuple[Principal, int | None]:
    """The principal of a live bearer token, and the token's id when its last use is stale."""
    row = conn.execute(
        sa.text(TOKEN_SQL), {"hash": hash_token(token), "touch": touch_seconds}
    ).first()
    if row is None:
        raise Unauthorized("the bearer token is unknown, revoked or expired")
    return principal_of(row), (int(row.token_id) if row.stale else None)


def touch_token(
    conn: sa.Connection, token_id: int, principal: Principal, what: str, touch_seconds: float = 60
) -> None:
    """Record a token's use (time, and an audit entry) unless another request just did."""
    label = conn.execute(
        sa.text(
            "UPDATE api_token SET last_used_at = now() WHERE id = :id AND "
            "(last_used_at IS NULL OR last_used_at < now() - make_interval(secs => :touch)) "
            "RETURNING label"
        ),
        {"id": token_id, "touch": touch_seconds},
    ).first()
    if label is not None:
        detail = {"label": label[0], "request": what}
        audit.append(
            conn, principal, audit.Event("token_used", target=f"token:{token_id}", detail=detail)
        )


def authenticate(conn: sa.Connection, token: str | None) -> Principal:
    """Resolve a bearer token (looked up by its SHA-256 hash) to a principal."""
    if not token:
        return ANONYMOUS
    return resolve_token(conn, token)[0]


SCOPE_SQL = """SELECT set_config('gis.user_id', :uid, true),
    set_config('gis.username', :name, true), set_config('gis.role', :role, true),
    set_config('gis.client_addr', :addr, true), set_config('gis.grid_ids', :grids, true),
    set_config('role', :db_role, true)"""
"""The caller's settings and database role for the open transaction (as SET LOCAL): one query."""


def scope_params(principal: Principal) -> dict[str, str]:
    """The bound values of SCOPE_SQL for a principal."""
    return {
        "uid": "" if principal.user_id is None else str(principal.user_id),
        "name": principal.username,
        "role": principal.role,
        "addr": principal.address or "",
        "grids": "{" + ",".join(str(g) for g in principal.grid_ids) + "}",
        "db_role": DB_ROLES[principal.role],
    }


def apply_scope(conn: sa.Connection, principal: Principal) -> None:
    """Switch the open transaction to the principal's database role and grids (one round trip)."""
    role = DB_ROLES[principal.role]
    try:
        conn.execute(sa.text(SCOPE_SQL), scope_params(principal))
    except DBAPIError as exc:  # the role is missing (a restore without roles) or not granted
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseNotReady(f"the database cannot take the role {role}: {reason}") from exc
