"""`gis-service stairwell advance`: move a stairwell to its next pipeline step, as a named user.

The move runs in that user's database role (as through the API) and is refused unless the
stairwell's vote passes under the consent rule in force where the step needs it."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import typer

from gis_service import cli_base as common
from gis_service.auth import USER_COLUMNS, Principal, apply_scope, principal_of
from gis_service.catalog import default_catalog
from gis_service.datasets import formats
from gis_service.datasets.pipeline import advance
from gis_service.errors import GisServiceError, NotFound, StepRefused

stairwell_app = typer.Typer(help="Stairwells: move along the retrofit pipeline.",
                            no_args_is_help=True)  # fmt: skip
USER_SQL = f"""
    SELECT {USER_COLUMNS} FROM app_user u LEFT JOIN user_grid g ON g.user_id = u.id
    WHERE u.username = :name GROUP BY u.id, u.username, u.role
"""


def user_named(conn: sa.Connection, username: str) -> Principal:
    """The principal of a user by name (NotFound for none)."""
    row = conn.execute(sa.text(USER_SQL), {"name": username}).first()
    if row is None:
        raise NotFound(f"no user {username!r}")
    return principal_of(row)


@stairwell_app.command("advance")
def advance_command(
    stairwell_id: int = typer.Argument(..., min=1, help="The stairwell's id"),
    by: str = typer.Option(..., "--by", help="Username of the planner moving it (recorded)"),
    from_status: str = typer.Option(None, "--from", help="Refuse unless it is still at this step"),
    city: str = typer.Option(None, help="City whose own consent rule applies"),
    lang: str = typer.Option("en", help="Language of a refusal: zh or en"),
) -> None:
    """Move a stairwell one step on (refused unless its vote passes where the step needs it)."""
    catalog = default_catalog()
    labels = {name: catalog.layer(name).labels for name in ("stairwells", "households")}
    try:
        with common.session("advance") as (conn, _step):
            principal = user_named(conn, by)
            apply_scope(conn, principal)
            moved = advance(conn, principal, stairwell_id, labels, on=dt.date.today(), city=city,
                            expected=from_status)  # fmt: skip
    except StepRefused as exc:
        texts = exc.details.get("reason")
        message = texts.get(lang, str(exc)) if isinstance(texts, dict) else str(exc)
        raise GisServiceError(message) from exc
    formats.write_out(formats.dumps(moved), None)
