"""Migrations that change a few lines of a database function edit its body as the database
has it (pg_get_functiondef), piece by piece, so their downgrade undoes the same pieces."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def replaced(function: str, pieces: list[tuple[str, str]]) -> None:
    """Define a function again with pieces of its body (as the database has it) replaced."""
    body = op.get_bind().execute(
        sa.text("SELECT pg_get_functiondef(CAST(:f AS regprocedure))"), {"f": function}
    ).scalar_one()
    for old, new in pieces:
        if old not in body:
            raise RuntimeError(f"{function} is not as the earlier migrations defined it")
        body = body.replace(old, new, 1)
    op.execute(body)
