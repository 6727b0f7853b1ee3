"""Apply, revert and inspect the schema migrations programmatically."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from gis_service.db.models import Base

MIGRATIONS = Path(__file__).parent / "migrations"
POSTGIS_OWNED = {"spatial_ref_sys", "topology", "layer"}


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Leave the tables PostGIS itself owns out of comparisons."""
    return not (type_ == "table" and name in POSTGIS_OWNED)


def alembic_config() -> Config:
    """An Alembic config pointing at the package's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to a revision (head by default)."""
    with engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the database to a revision ('base' removes every table)."""
    with engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when not migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped with the code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def schema_drift(engine: Engine) -> list[object]:
    """Differences between the models and the migrated database (empty when in step)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        return list(compare_metadata(context, Base.metadata))
