"""User administration, one place for the CLI and the web pages: roles, grids, passwords,
disabling, API tokens. Each function runs inside the caller's transaction on the primary (as the
database owner); `act_as` names who acts, so the audit triggers and entries record them."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import sqlalchemy as sa

from gis_service import audit
from gis_service.auth import Principal, hash_token
from gis_service.db.models import ROLES
from gis_service.errors import InvalidInput, NotFound

MIN_PASSWORD = 10
MAX_LABEL = 100
MAX_TOKEN_DAYS = 3650
USERS_SQL = sa.text(
    "SELECT u.id, u.username, u.display_name, u.role, u.password_hash IS NOT NULL AS has_password, "
    "u.disabled_at IS NOT NULL AS disabled, "
    "coalesce((SELECT array_agg(g.grid_id ORDER BY g.grid_id) FROM user_grid g "
    "WHERE g.user_id = u.id), '{}') AS grids, "
    "(SELECT count(*) FROM api_token t WHERE t.user_id = u.id AND t.revoked_at IS NULL "
    "AND (t.expires_at IS NULL OR t.expires_at > now())) AS tokens "
    "FROM app_user u ORDER BY u.username"
)
TOKENS_SQL = sa.text(
    "SELECT t.id, u.username, t.label, t.created_at, t.expires_at, t.last_used_at, t.revoked_at "
    "FROM api_token t JOIN app_user u ON u.id = t.user_id "
    "WHERE (CAST(:uid AS int) IS NULL OR t.user_id = :uid) "
    "AND (CAST(:live AS boolean) IS NOT TRUE OR (t.revoked_at IS NULL "
    "AND (t.expires_at IS NULL OR t.expires_at > now()))) ORDER BY t.id"
)


def act_as(conn: sa.Connection, actor: Principal) -> None:
    """Name who acts for the audit triggers of this transaction."""
    conn.execute(
        sa.text("SELECT set_config('gis.user_id', :uid, true), "
                "set_config('gis.username', :name, true), set_config('gis.role', :role, true), "
                "set_config('gis.client_addr', :addr, true)"),
        {"uid": "" if actor.user_id is None else str(actor.user_id), "name": actor.username,
         "role": "" if actor.is_anonymous else actor.role, "addr": actor.address or ""},
    )


def user_id(conn: sa.Connection, username: str) -> int:
    """The id of a user by name (NotFound otherwise)."""
    found = conn.execute(sa.text("SELECT id FROM app_user WHERE username = :name"),
                         {"name": username}).scalar()
    if found is None:
        raise NotFound(f"no user {username!r}")
    return int(found)


def check_role(role: str) -> None:
    """One of the four roles."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; roles: {', '.join(ROLES)}",
                           [{"field": "role", "message": f"one of {', '.join(ROLES)}"}])


def check_password(password: str) -> None:
    """A password long enough (and not absurdly long: scrypt reads all of it)."""
    if not MIN_PASSWORD <= len(password) <= 200:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD} characters (at most 200)",
                           [{"field": "password", "message": f"{MIN_PASSWORD}+ characters"}])


def check_grids(conn: sa.Connection, grids: set[int]) -> None:
    """Every grid id names a grid (InvalidInput naming the unknown ones)."""
    known = set(conn.execute(sa.text("SELECT id FROM grid WHERE id = ANY(:g)"),
                             {"g": [g for g in grids if 0 < g < 2**31]}).scalars())
    unknown = sorted(grids - known)
    if unknown:
        raise InvalidInput(f"no grid {', '.join(map(str, unknown))}",
                           [{"field": "grids", "message": f"unknown grids {unknown}"}])


def add_user(conn: sa.Connection, username: str, role: str, password: str,
             display_name: str = "", grids: list[int] | None = None) -> int:
    """A new user with a password (and grids); their id."""
    from gis_service.field.passwords import hash_password

    check_role(role)
    check_password(password)
    if not username.strip() or len(username) > 100:
        raise InvalidInput("a user name needs 1 to 100 characters")
    if conn.execute(sa.text("SELECT 1 FROM app_user WHERE username = :n"), {"n": username}).first():
        raise InvalidInput(f"the user {username!r} exists already")
    new_id = int(conn.execute(
        sa.text("INSERT INTO app_user (username, display_name, role, password_hash) "
                "VALUES (:name, :shown, :role, :hash) RETURNING id"),
        {"name": username, "shown": display_name or username, "role": role,
         "hash": hash_password(password)},
    ).scalar_one())
    grant_grids(conn, new_id, set(grids or []))
    return new_id


def set_role(conn: sa.Connection, uid: int, role: str) -> None:
    """Change a user's role."""
    check_role(role)
    conn.execute(sa.text("UPDATE app_user SET role = :role WHERE id = :id"),
                 {"role": role, "id": uid})


def grids_of(conn: sa.Connection, uid: int) -> set[int]:
    """The grids a user looks after."""
    return set(conn.execute(sa.text("SELECT grid_id FROM user_grid WHERE user_id = :u"),
                            {"u": uid}).scalars())


def grant_grids(conn: sa.Connection, uid: int, grids: set[int]) -> None:
    """Add grids to a user's (those held already stay)."""
    check_grids(conn, grids)
    for grid_id in sorted(grids - grids_of(conn, uid)):
        conn.execute(sa.text("INSERT INTO user_grid (user_id, grid_id) VALUES (:u, :g)"),
                     {"u": uid, "g": grid_id})


def revoke_grids(conn: sa.Connection, uid: int, grids: set[int]) -> None:
    """Take grids from a user."""
    conn.execute(sa.text("DELETE FROM user_grid WHERE user_id = :u AND grid_id = ANY(:g)"),
                 {"u": uid, "g": sorted(g for g in grids if 0 < g < 2**31)})


def set_grids(conn: sa.Connection, uid: int, wanted: set[int]) -> None:
    """Set exactly which grids a user looks after."""
    now = grids_of(conn, uid)
    revoke_grids(conn, uid, now - wanted)
    grant_grids(conn, uid, wanted - now)


def end_sessions(conn: sa.Connection, uid: int) -> int:
    """Revoke a user's open sessions; how many there were."""
    return conn.execute(sa.text("UPDATE app_session SET revoked_at = now() "
                                "WHERE user_id = :id AND revoked_at IS NULL"), {"id": uid}).rowcount


def set_password(conn: sa.Connection, uid: int, password: str) -> int:
    """Give a user a new password; their open sessions end (how many)."""
    from gis_service.field.passwords import hash_password

    check_password(password)
    conn.execute(sa.text("UPDATE app_user SET password_hash = :hash WHERE id = :id"),
                 {"hash": hash_password(password), "id": uid})
    return end_sessions(conn, uid)


def set_disabled(conn: sa.Connection, uid: int, disabled: bool) -> None:
    """Disable a user (sign-in, sessions and tokens refused at once; sessions end for good) or
    enable them again (their unrevoked tokens work again; they sign in anew)."""
    conn.execute(
        sa.text("UPDATE app_user SET disabled_at = "
                "CASE WHEN :off THEN coalesce(disabled_at, now()) END WHERE id = :id"),
        {"off": disabled, "id": uid})
    if disabled:
        end_sessions(conn, uid)


def users(conn: sa.Connection) -> list[dict[str, Any]]:
    """Every user: role, grids, password set, disabled, live tokens."""
    return [{**row, "grids": list(row["grids"])} for row in conn.execute(USERS_SQL).mappings()]


def tokens(conn: sa.Connection, uid: int | None = None, live: bool = False) -> list[dict[str, Any]]:
    """Tokens (never their values) of a user or all, times as ISO text; only live ones if asked."""
    rows = conn.execute(TOKENS_SQL, {"uid": uid, "live": live}).mappings()
    return [{k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in row.items()}
            for row in rows]


def create_token(conn: sa.Connection, actor: Principal, uid: int, label: str,
                 expires_days: int | None) -> dict[str, Any]:
    """Issue an API token for a user: its id, value (shown once; only the hash is kept), expiry."""
    label = label.strip() or "token"
    if len(label) > MAX_LABEL:
        raise InvalidInput(f"a label has at most {MAX_LABEL} characters",
                           [{"field": "label", "message": f"at most {MAX_LABEL} characters"}])
    if expires_days is not None and not 1 <= expires_days <= MAX_TOKEN_DAYS:
        raise InvalidInput(f"expires_days: 1 to {MAX_TOKEN_DAYS}",
                           [{"field": "expires_days", "message": f"1 to {MAX_TOKEN_DAYS} days"}])
    token = f"gis_{secrets.token_urlsafe(24)}"
    row = conn.execute(
        sa.text("INSERT INTO api_token (user_id, token_hash, label, expires_at) VALUES "
                "(:u, :h, :label, now() + make_interval(days => CAST(:days AS int))) "
                "RETURNING id, expires_at"),
        {"u": uid, "h": hash_token(token), "label": label, "days": expires_days},
    ).one()
    owner = conn.execute(sa.text("SELECT username FROM app_user WHERE id = :u"),
                         {"u": uid}).scalar()
    detail = {"user": owner, "label": label, "expires_days": expires_days}
    event = audit.Event("token_created", target=f"token:{row.id}", detail=detail)
    audit.append(conn, actor, event)
    expires = row.expires_at.isoformat() if row.expires_at else None
    return {"id": int(row.id), "token": token, "label": label, "expires_at": expires}


def revoke_token(conn: sa.Connection, actor: Principal, token_id: int,
                 owner: int | None = None) -> None:
    """Revoke a live token by id (only the owner's when owner is given; NotFound otherwise)."""
    done = conn.execute(
        sa.text("UPDATE api_token SET revoked_at = now() WHERE id = :id AND revoked_at IS NULL "
                "AND (CAST(:owner AS int) IS NULL OR user_id = :owner)"),
        {"id": token_id if 0 < token_id < 2**31 else 0, "owner": owner},
    )
    if not done.rowcount:
        raise NotFound(f"no live token {token_id}")
    audit.append(conn, actor, audit.Event("token_revoked", target=f"token:{token_id}"))
