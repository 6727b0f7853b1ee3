"""`gis-service user list` and `user password`: who can sign in, and giving a user a password.

After an upgrade from the first schema, users have no password (they signed in by token only);
`user list` shows them and `user password NAME` gives one (read from the terminal or stdin, never
from arguments), ending the user's open sessions. Registered by cli.py.
"""

from __future__ import annotations

import json

import typer

from gis_service import users
from gis_service.cli_access import as_operator, engine, user_id


def list_users() -> None:
    """Users, one JSON line each: role, grids, password set, disabled, live tokens."""
    with engine().connect() as conn:
        for row in users.users(conn):
            typer.echo(json.dumps(row, ensure_ascii=False))


def set_password(username: str = typer.Argument(..., help="Sign-in name")) -> None:
    """Give a user a new password (prompted twice); their open sessions end."""
    password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    users.check_password(password)
    with engine().begin() as conn:
        as_operator(conn)
        ended = users.set_password(conn, user_id(conn, username), password)
    typer.echo(f"{username} has a new password ({ended} open sessions ended)")
