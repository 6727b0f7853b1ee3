"""Idempotency keys for writes, and a data version per table for caches

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

data_version holds one counter per published table, bumped by a statement-level trigger on
every INSERT, UPDATE or DELETE, whoever writes (API, import, SQL). Caches (tiles, analysis) key
on it, so no worker serves a stale answer after a save, whichever worker took the write.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED_TABLES = (
    "district", "subdistrict", "community", "grid", "compound", "building", "retrofit_batch",
    "stairwell", "garden", "parking", "facility", "street", "candidate_site", "survey", "issue",
)
WRITERS = "gis_planner, gis_grid_worker, gis_admin"


def upgrade() -> None:
    op.create_table(
        "idempotency_key",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("headers", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("user_id", "key"),
    )
    op.execute(f"GRANT SELECT, INSERT ON idempotency_key TO {WRITERS}")
    op.execute("ALTER TABLE idempotency_key ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY own_keys ON idempotency_key TO {WRITERS} "
               "USING (user_id = nullif(current_setting('gis.user_id', true), '')::int) "
               "WITH CHECK (user_id = nullif(current_setting('gis.user_id', true), '')::int)")

    op.create_table(
        "data_version",
        sa.Column("table_name", sa.String(63), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False, server_default="1"),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.execute("GRANT SELECT ON data_version TO gis_anonymous, gis_analyst, " + WRITERS)
    op.execute("""
        CREATE FUNCTION gis_bump_data_version() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
        BEGIN
            UPDATE data_version SET version = version + 1, changed_at = now()
            WHERE table_name = TG_TABLE_NAME;
            RETURN NULL;
        END $$;
    """)
    for table in VERSIONED_TABLES:
        op.execute(f"INSERT INTO data_version (table_name) VALUES ('{table}')")
        op.execute(f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE "
                   f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
                   "EXECUTE FUNCTION gis_bump_data_version()")


def downgrade() -> None:
    for table in VERSIONED_TABLES:
        op.execute(f"DROP TRIGGER {table}_data_version ON {table}")
    op.execute("DROP FUNCTION gis_bump_data_version()")
    op.drop_table("data_version")
    op.drop_table("idempotency_key")
