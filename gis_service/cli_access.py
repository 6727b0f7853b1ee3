"""`gis-service user|token|audit`: accounts, roles and grids, API tokens, the audit trail.

Commands run as the service's database owner; each change is one transaction recorded in the
audit trail under `cli:<operating-system user>` (role and grid changes by the database triggers).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets

import sqlalchemy as sa
import typer
from sqlalchemy.engine import Engine

from gis_service import audit
from gis_service.cli_base import open_database, operator
from gis_service.db.models import ROLES
from gis_service.errors import GisServiceError, NotFound

user_app = typer.Typer(help="Users: add, change role, assign grids.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens: create (optionally expiring), list, revoke.",
                        no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail: list entries, purge old ones.", no_args_is_help=True)


def engine() -> Engine:
    """The migrated database of the settings."""
    from gis_service.settings import get_settings

    return open_database(get_settings())


def as_operator(conn: sa.Connection) -> None:
    """Name the operator for the audit triggers of this transaction."""
    me = operator()
    conn.execute(sa.text("SELECT set_config('gis.username', :name, true), "
                         "set_config('gis.client_addr', 'local', true)"), {"name": me.username})


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
        raise GisServiceError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")


@user_app.command("add")
def add_user(
    username: str = typer.Argument(..., help="Sign-in name"),
    role: str = typer.Option(..., help="admin, planner, analyst or grid_worker"),
    display_name: str = typer.Option("", help="Name shown to others (default: the user name)"),
    grid: list[int] = typer.Option(None, "--grid", help="A grid id for a grid worker (repeat)"),
) -> None:
    """Add a user; the password is read from the terminal (or stdin), never from arguments."""
    from gis_service.field.passwords import hash_password

    check_role(role)
    password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with engine().begin() as conn:
        as_operator(conn)
        new_id = conn.execute(
            sa.text("INSERT INTO app_user (username, display_name, role, password_hash) "
                    "VALUES (:name, :shown, :role, :hash) RETURNING id"),
            {"name": username, "shown": display_name or username, "role": role,
             "hash": hash_password(password)},
        ).scalar_one()
        for grid_id in grid or []:
            conn.execute(sa.text("INSERT INTO user_grid (user_id, grid_id) VALUES (:u, :g)"),
                         {"u": new_id, "g": grid_id})
    typer.echo(f"added {username} ({role})")


@user_app.command("role")
def set_role(username: str = typer.Argument(...), role: str = typer.Argument(...)) -> None:
    """Change a user's role."""
    check_role(role)
    with engine().begin() as conn:
        as_operator(conn)
        conn.execute(sa.text("UPDATE app_user SET role = :role WHERE id = :id"),
                     {"role": role, "id": user_id(conn, username)})
    typer.echo(f"{username} is now {role}")


@user_app.command("grids")
def set_grids(username: str = typer.Argument(...),
              grids: list[int] = typer.Argument(None, help="Grid ids (none: take all)")) -> None:
    """Set exactly which grids a user looks after."""
    wanted = set(grids or [])
    with engine().begin() as conn:
        as_operator(conn)
        uid = user_id(conn, username)
        now = set(conn.execute(sa.text("SELECT grid_id FROM user_grid WHERE user_id = :u"),
                               {"u": uid}).scalars())
        conn.execute(sa.text("DELETE FROM user_grid WHERE user_id = :u AND grid_id = ANY(:g)"),
                     {"u": uid, "g": sorted(now - wanted)})
        for grid_id in sorted(wanted - now):
            conn.execute(sa.text("INSERT INTO user_grid (user_id, grid_id) VALUES (:u, :g)"),
                         {"u": uid, "g": grid_id})
    typer.echo(f"{username} looks after grids {sorted(wanted) or 'none'}")


@token_app.command("create")
def create_token(
    username: str = typer.Argument(...),
    label: str = typer.Option("cli", help="What the token is for"),
    expires_days: int = typer.Option(None, min=1, help="Refused after this many days"),
) -> None:
    """Issue an API token (shown once; only its hash is kept)."""
    from gis_service.auth import hash_token

    token = f"gis_{secrets.token_urlsafe(24)}"
    with engine().begin() as conn:
        uid = user_id(conn, username)
        token_id = conn.execute(
            sa.text("INSERT INTO api_token (user_id, token_hash, label, expires_at) VALUES "
                    "(:u, :h, :label, now() + make_interval(days => CAST(:days AS int))) "
                    "RETURNING id"),
            {"u": uid, "h": hash_token(token), "label": label, "days": expires_days},
        ).scalar_one()
        detail = {"user": username, "label": label, "expires_days": expires_days}
        audit.append(conn, operator(), audit.Event("token_created", target=f"token:{token_id}",
                                                   detail=detail))
    typer.echo(token)


@token_app.command("list")
def list_tokens(username: str = typer.Option(None, "--user")) -> None:
    """Tokens (never their values): id, user, label, created, expiry, last use, revoked."""
    with engine().connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT t.id, u.username, t.label, t.created_at, t.expires_at, t.last_used_at, "
            "t.revoked_at FROM api_token t JOIN app_user u ON u.id = t.user_id "
            "WHERE CAST(:name AS text) IS NULL OR u.username = :name ORDER BY t.id"),
            {"name": username}).mappings()
        for row in rows:
            typer.echo(json.dumps({k: v.isoformat() if isinstance(v, dt.datetime) else v
                                   for k, v in row.items()}, ensure_ascii=False))


@token_app.command("revoke")
def revoke_token(token_id: int = typer.Argument(...)) -> None:
    """Revoke a token by id (from `token list`)."""
    with engine().begin() as conn:
        done = conn.execute(sa.text("UPDATE api_token SET revoked_at = now() "
                                    "WHERE id = :id AND revoked_at IS NULL"), {"id": token_id})
        if not done.rowcount:
            raise NotFound(f"no live token {token_id}")
        audit.append(conn, operator(), audit.Event("token_revoked", target=f"token:{token_id}"))
    typer.echo(f"revoked token {token_id}")


@audit_app.command("list")
def list_entries(
    action: str = typer.Option(None, help="Only this action, e.g. sign_in"),
    username: str = typer.Option(None, "--user", help="Only this user's entries"),
    since: dt.datetime = typer.Option(None, help="From this time"),
    until: dt.datetime = typer.Option(None, help="Before this time"),
    limit: int = typer.Option(100, min=1, max=100_000),
) -> None:
    """Entries newest first, one JSON object per line."""
    with engine().connect() as conn:
        found = audit.events(conn, audit.Query(action=action, username=username, since=since,
                                               until=until, limit=limit))
    for entry in found:
        typer.echo(json.dumps(entry, ensure_ascii=False))


@audit_app.command("purge")
def purge_entries() -> None:
    """Delete entries older than GIS_AUDIT_RETENTION_DAYS (at least 183 days are always kept)."""
    from gis_service.settings import get_settings

    days = get_settings().audit_retention_days
    removed = audit.purge(engine(), days, operator())
    typer.echo(f"removed {removed} audit entries older than {days} days")
