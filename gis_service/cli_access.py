"""`gis-service user|token|audit`: accounts, roles and grids, API tokens, the audit trail.

Commands run as the service's database owner; each change is one transaction recorded in the
audit trail under `cli:<operating-system user>` (role and grid changes by the database triggers).
"""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
import typer
from sqlalchemy.engine import Engine

from gis_service import audit, users
from gis_service.cli_base import open_database, operator

user_app = typer.Typer(help="Users: add, role, grids, disable/enable, passwords.",
                       no_args_is_help=True)
token_app = typer.Typer(help="API tokens: create (optionally expiring), list, revoke.",
                        no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail: list entries, purge old ones.", no_args_is_help=True)


def engine() -> Engine:
    """The migrated database of the settings."""
    from gis_service.settings import get_settings

    return open_database(get_settings())


def as_operator(conn: sa.Connection) -> None:
    """Name the operator for the audit triggers of this transaction."""
    users.act_as(conn, operator())


def user_id(conn: sa.Connection, username: str) -> int:
    """The id of a user by name (NotFound otherwise)."""
    return users.user_id(conn, username)


@user_app.command("add")
def add_user(
    username: str = typer.Argument(..., help="Sign-in name"),
    role: str = typer.Option(..., help="admin, planner, analyst or grid_worker"),
    display_name: str = typer.Option("", help="Name shown to others (default: the user name)"),
    grid: list[int] = typer.Option(None, "--grid", help="A grid id for a grid worker (repeat)"),
) -> None:
    """Add a user (on an empty deployment: the first admin); the password is read from the
    terminal (or stdin), never from arguments."""
    users.check_role(role)
    password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with engine().begin() as conn:
        as_operator(conn)
        users.add_user(conn, username, role, password, display_name, list(grid or []))
    typer.echo(f"added {username} ({role})")


@user_app.command("role")
def set_role(username: str = typer.Argument(...), role: str = typer.Argument(...)) -> None:
    """Change a user's role."""
    with engine().begin() as conn:
        as_operator(conn)
        users.set_role(conn, user_id(conn, username), role)
    typer.echo(f"{username} is now {role}")


@user_app.command("grids")
def set_grids(username: str = typer.Argument(...),
              grids: list[int] = typer.Argument(None, help="Grid ids (none: take all)")) -> None:
    """Set exactly which grids a user looks after."""
    wanted = set(grids or [])
    with engine().begin() as conn:
        as_operator(conn)
        users.set_grids(conn, user_id(conn, username), wanted)
    typer.echo(f"{username} looks after grids {sorted(wanted) or 'none'}")


@user_app.command("grant-grid")
def grant_grid(username: str = typer.Argument(...),
               grids: list[int] = typer.Argument(..., help="Grid ids to add")) -> None:
    """Add grids to those a user looks after."""
    with engine().begin() as conn:
        as_operator(conn)
        uid = user_id(conn, username)
        users.grant_grids(conn, uid, set(grids))
        now = sorted(users.grids_of(conn, uid))
    typer.echo(f"{username} looks after grids {now or 'none'}")


@user_app.command("revoke-grid")
def revoke_grid(username: str = typer.Argument(...),
                grids: list[int] = typer.Argument(..., help="Grid ids to take away")) -> None:
    """Take grids from those a user looks after."""
    with engine().begin() as conn:
        as_operator(conn)
        uid = user_id(conn, username)
        users.revoke_grids(conn, uid, set(grids))
        now = sorted(users.grids_of(conn, uid))
    typer.echo(f"{username} looks after grids {now or 'none'}")


@user_app.command("disable")
def disable_user(username: str = typer.Argument(...)) -> None:
    """Disable a user: sign-in, their sessions and their tokens are refused at once."""
    with engine().begin() as conn:
        as_operator(conn)
        users.set_disabled(conn, user_id(conn, username), True)
    typer.echo(f"{username} is disabled (sessions ended, tokens refused)")


@user_app.command("enable")
def enable_user(username: str = typer.Argument(...)) -> None:
    """Enable a disabled user again (they sign in anew; unrevoked tokens work again)."""
    with engine().begin() as conn:
        as_operator(conn)
        users.set_disabled(conn, user_id(conn, username), False)
    typer.echo(f"{username} is enabled")


@token_app.command("create")
def create_token(
    username: str = typer.Argument(...),
    label: str = typer.Option("cli", help="What the token is for"),
    expires_days: int = typer.Option(None, min=1, help="Refused after this many days"),
) -> None:
    """Issue an API token (shown once; only its hash is kept)."""
    with engine().begin() as conn:
        made = users.create_token(conn, operator(), user_id(conn, username), label, expires_days)
    typer.echo(made["token"])


@token_app.command("list")
def list_tokens(username: str = typer.Option(None, "--user")) -> None:
    """Tokens (never their values): id, user, label, created, expiry, last use, revoked."""
    with engine().connect() as conn:
        uid = user_id(conn, username) if username else None
        for row in users.tokens(conn, uid):
            typer.echo(json.dumps(row, ensure_ascii=False))


@token_app.command("revoke")
def revoke_token(token_id: int = typer.Argument(...)) -> None:
    """Revoke a token by id (from `token list`)."""
    with engine().begin() as conn:
        users.revoke_token(conn, operator(), token_id)
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
