"""Lookup tables counted in data_version, so answers that read them follow their writes

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

The elevator pipeline (elevator_status: its codes and ranks are coverage's funnel columns),
facility kinds and issue categories are data, written with plain SQL by an administrator. No
cache saw those writes: a status added to the pipeline left coverage answers as they were
until a stairwell or building was written. Each now has a data_version row bumped by the same
statement trigger as the other published tables (0004).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOOKUP_TABLES = ("elevator_status", "facility_kind", "issue_category")


def upgrade() -> None:
    for table in LOOKUP_TABLES:
        op.execute(f"INSERT INTO data_version (table_name) VALUES ('{table}')")
        op.execute(f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE "
                   f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
                   "EXECUTE FUNCTION gis_bump_data_version()")  # fmt: skip


def downgrade() -> None:
    for table in LOOKUP_TABLES:
        op.execute(f"DROP TRIGGER {table}_data_version ON {table}")
    op.execute(f"DELETE FROM data_version WHERE table_name IN {LOOKUP_TABLES!r}")
