"""Alembic environment: runs on the connection handed over by gis_service.db.migrate."""

from __future__ import annotations

from alembic import context

from gis_service.db.migrate import include_object
from gis_service.db.models import Base


def run() -> None:
    """Run migrations online on the given connection."""
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
