"""A write of stairwells or buildings is announced at commit (NOTIFY gis_row_change)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04

Kept analysis answers follow the row_change feed (0015), but only when a request asks again, so
the planner who asks right after an edit waits for the refresh. Now every statement that writes
stairwells or buildings (API, import, plain SQL) also notifies the channel gis_row_change, with
the table's name as payload. PostgreSQL delivers the notification when the transaction commits
(never for one rolled back) and folds the repeats of one transaction into one, so a server
listening refreshes its kept answers before anyone asks again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FED_TABLES = ("stairwell", "building")
CHANNEL = "gis_row_change"


def upgrade() -> None:
    op.execute(f"""
        CREATE FUNCTION gis_announce_row_changes() RETURNS trigger
        LANGUAGE plpgsql SET search_path = public AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
            RETURN NULL;
        END $$;
    """)
    for table in FED_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION gis_announce_row_changes()"
        )


def downgrade() -> None:
    for table in FED_TABLES:
        op.execute(f"DROP TRIGGER {table}_announce ON {table}")
    op.execute("DROP FUNCTION gis_announce_row_changes()")
