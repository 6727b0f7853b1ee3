"""A feed of changed stairwell and building rows, so answers are refreshed, not recomputed

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

row_change: one row per stairwell or building written (inserted, updated or deleted), whoever
writes (API, import, plain SQL), with the writing transaction's id and, for stairwells, the
grid and compound the row was in before and is in after (an update records both). Statement
triggers with transition tables write it, so a statement costs one INSERT ... SELECT; a
statement touching more than BULK_ROWS rows (an import) or a TRUNCATE writes a single row with
row_id NULL, meaning "re-read everything". Readers keep the transaction snapshot they last read
(`pg_current_snapshot()`) and take the rows whose transaction it did not see, so a transaction
that commits late is never skipped. Rows older than a day are pruned by the writers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FED_TABLES = ("stairwell", "building")
BULK_ROWS = 10000
XID = "pg_current_xact_id()::text::bigint"
"""The writing transaction's full id (xid8) as a bigint."""
READERS = "gis_anonymous, gis_analyst, gis_planner, gis_grid_worker, gis_admin"
EVENTS = {
    "insert": ("INSERT", "NEW TABLE AS new_rows"),
    "update": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    "delete": ("DELETE", "OLD TABLE AS old_rows"),
}


def feed(rows: str) -> str:
    """The INSERT of a transition table's rows (ids, and grid and compound where the table has
    them) into the feed."""
    return (
        "INSERT INTO row_change (table_name, row_id, grid_id, compound_id) "
        "SELECT TG_TABLE_NAME, r.id, (to_jsonb(r) ->> 'grid_id')::int, "
        f"(to_jsonb(r) ->> 'compound_id')::int FROM {rows} r;"
    )


def upgrade() -> None:
    op.create_table(
        "row_change",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("xid", sa.BigInteger(), nullable=False, server_default=sa.text(XID)),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("table_name", sa.String(63), nullable=False),
        sa.Column("row_id", sa.BigInteger(), nullable=True),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("compound_id", sa.Integer(), nullable=True),
    )  # fmt: skip
    op.create_index("row_change_xid", "row_change", ["xid"])
    op.execute(f"GRANT SELECT ON row_change TO {READERS}")
    op.execute(f"""
        CREATE FUNCTION gis_feed_row_changes() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
        DECLARE
            touched bigint;
        BEGIN
            IF random() < 0.001 THEN
                DELETE FROM row_change WHERE changed_at < now() - interval '1 day';
            END IF;
            IF TG_OP = 'TRUNCATE' THEN
                INSERT INTO row_change (table_name) VALUES (TG_TABLE_NAME);
                RETURN NULL;
            END IF;
            IF TG_OP = 'DELETE' THEN
                SELECT count(*) INTO touched FROM old_rows;
            ELSE
                SELECT count(*) INTO touched FROM new_rows;
            END IF;
            IF touched > {BULK_ROWS} THEN
                INSERT INTO row_change (table_name) VALUES (TG_TABLE_NAME);
                RETURN NULL;
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN {feed("old_rows")} END IF;
            IF TG_OP IN ('UPDATE', 'INSERT') THEN {feed("new_rows")} END IF;
            RETURN NULL;
        END $$;
    """)
    for table in FED_TABLES:
        for name, (event, referencing) in EVENTS.items():
            op.execute(f"CREATE TRIGGER {table}_feed_{name} AFTER {event} ON {table} "
                       f"REFERENCING {referencing} FOR EACH STATEMENT "
                       "EXECUTE FUNCTION gis_feed_row_changes()")
        op.execute(f"CREATE TRIGGER {table}_feed_truncate AFTER TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION gis_feed_row_changes()")


def downgrade() -> None:
    for table in FED_TABLES:
        for name in (*EVENTS, "truncate"):
            op.execute(f"DROP TRIGGER {table}_feed_{name} ON {table}")
    op.execute("DROP FUNCTION gis_feed_row_changes()")
    op.drop_table("row_change")
