"""Writers of one table no longer wait for each other to commit: data versions are appended,
not updated in one shared row

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04

Since 0004 every statement on a published table added one to that table's data_version row,
and the row stayed locked until the writer committed: every other writer of the table waited
for that commit. A grid worker saving a stairwell while an import of stairwells ran (or any
transaction left open) waited for all of it, and gave up at the lock timeout.

Now a statement appends a row to data_version_bump (writers share no row, so none waits), and
data_version is a view: each table's counter is its base (data_version_base) plus its bumps.
A reader sees it grow at every commit, as before, and never go back. A writer that finds its
table's base row free (FOR UPDATE SKIP LOCKED: it never waits for it either) folds the bumps
it sees into the base, so a table has few bumps to count.

The feed of changed rows (0015) had the same wait in its pruning: two writers deleting the same
day-old rows. A writer now prunes only rows no other writer is deleting.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gis_service.db.function_bodies import replaced

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

READERS = "gis_anonymous, gis_analyst, gis_planner, gis_grid_worker, gis_admin"
BUMP_0004 = """
        BEGIN
            UPDATE data_version SET version = version + 1, changed_at = now()
            WHERE table_name = TG_TABLE_NAME;
            RETURN NULL;
        END $$;
"""
BUMP = """
        BEGIN
            INSERT INTO data_version_bump (table_name) VALUES (TG_TABLE_NAME);
            -- fold the bumps into the base when no other writer is doing so (never wait);
            -- not under repeatable read, where a base row written since is an error
            IF current_setting('transaction_isolation') = 'read committed' THEN
                PERFORM 1 FROM data_version_base WHERE table_name = TG_TABLE_NAME
                    FOR UPDATE SKIP LOCKED;
                IF FOUND THEN
                    WITH folded AS (
                        DELETE FROM data_version_bump WHERE table_name = TG_TABLE_NAME
                        RETURNING changed_at)
                    UPDATE data_version_base b SET version = b.version + f.n,
                        changed_at = greatest(b.changed_at, f.at)
                    FROM (SELECT count(*) AS n, max(changed_at) AS at FROM folded) f
                    WHERE b.table_name = TG_TABLE_NAME AND f.n > 0;
                END IF;
            END IF;
            RETURN NULL;
        END $$;
"""
VIEW = """
    CREATE VIEW data_version AS
    SELECT b.table_name, b.version + n.bumps AS version,
           greatest(b.changed_at, n.last) AS changed_at
    FROM data_version_base b
    CROSS JOIN LATERAL (SELECT count(*) AS bumps, max(u.changed_at) AS last
                        FROM data_version_bump u WHERE u.table_name = b.table_name) n
"""
PRUNE = (
    "DELETE FROM row_change WHERE changed_at < now() - interval '1 day';",
    "DELETE FROM row_change WHERE id IN (SELECT id FROM row_change\n"
    "                    WHERE changed_at < now() - interval '1 day' FOR UPDATE SKIP LOCKED);",
)
"""0015's pruning of the feed, and the one that leaves rows another writer deletes."""


def bump_function(body: str) -> str:
    """The statement trigger's function with this body (0004's definition line)."""
    return ("CREATE OR REPLACE FUNCTION gis_bump_data_version() RETURNS trigger\n"
            "LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$" + body)  # fmt: skip


def upgrade() -> None:
    op.execute("ALTER TABLE data_version RENAME TO data_version_base")
    op.execute("ALTER TABLE data_version_base RENAME CONSTRAINT data_version_pkey "
               "TO data_version_base_pkey")  # fmt: skip
    op.execute(f"REVOKE ALL ON data_version_base FROM {READERS}")
    op.create_table(
        "data_version_bump",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("table_name", sa.String(63), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )  # fmt: skip
    op.create_index("data_version_bump_table", "data_version_bump", ["table_name"])
    op.execute(VIEW)
    op.execute(f"GRANT SELECT ON data_version TO {READERS}")
    op.execute(bump_function(BUMP))
    replaced("gis_feed_row_changes()", [PRUNE])


def downgrade() -> None:
    replaced("gis_feed_row_changes()", [PRUNE[::-1]])
    op.execute(bump_function(BUMP_0004))
    op.execute("DROP VIEW data_version")
    op.execute("UPDATE data_version_base b SET version = b.version + n.bumps FROM "
               "(SELECT table_name, count(*) AS bumps FROM data_version_bump GROUP BY 1) n "
               "WHERE n.table_name = b.table_name")  # fmt: skip
    op.drop_table("data_version_bump")
    op.execute("ALTER TABLE data_version_base RENAME CONSTRAINT data_version_base_pkey "
               "TO data_version_pkey")  # fmt: skip
    op.execute("ALTER TABLE data_version_base RENAME TO data_version")
    op.execute(f"GRANT SELECT ON data_version TO {READERS}")
