"""`gis-service user list` and `user password`: who can sign in, and giving a user a password.

After an upgrade from the first schema, users have no password (they signed in by token only);
`user list` shows them and `user password NAME` gives one (read from the terminal or stdin, never
from arguments), ending the user's open sessions. Registered by cli.py.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
import typer

from gis_service.cli_access import as_operator, engine, user_id
from gis_service.errors import GisServiceError

MIN_PASSWORD = 10
USERS_SQL = sa.text(
    "SELECT u.username, u.role, u.password_hash IS NOT NULL AS has_password, "
    "coalesce((SELECT array_agg(g.grid_id ORDER BY g.grid_id) FROM user_grid g "
    "WHERE g.user_id = u.id), '{}') AS grids, "
    "(SELECT count(*) FROM api_token t WHERE t.user_id = u.id AND t.revoked_at IS NULL "
    "AND (t.expires_at IS NULL OR t.expires_at > now())) AS tokens "
    "FROM app_user u ORDER BY u.username"
)


def list_users() -> None:
    """Users, one JSON line each: role, grids, whether they have a password, live tokens."""
    with engine().connect() as conn:
        for row in conn.execute(USERS_SQL).mappings():
            typer.echo(json.dumps({**row, "grids": list(row["grids"])}, ensure_ascii=False))


def set_password(username: str = typer.Argument(..., help="Sign-in name")) -> None:
    """Give a user a new password (prompted twice); their open sessions end."""
    from gis_service.field.passwords import hash_password

    password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        raise GisServiceError(f"a password needs at least {MIN_PASSWORD} characters")
    with engine().begin() as conn:
        as_operator(conn)
        uid = user_id(conn, username)
        conn.execute(sa.text("UPDATE app_user SET password_hash = :hash WHERE id = :id"),
                     {"hash": hash_password(password), "id": uid})
        ended = conn.execute(
            sa.text("UPDATE app_session SET revoked_at = now() "
                    "WHERE user_id = :id AND revoked_at IS NULL"), {"id": uid}
        ).rowcount
    typer.echo(f"{username} has a new password ({ended} open sessions ended)")
