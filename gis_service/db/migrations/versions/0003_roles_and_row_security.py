"""Roles and row-level security: one place that features, tiles and pages share

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Each application role is a PostgreSQL role (NOLOGIN) that the service's connection switches to
with SET LOCAL ROLE at the start of every request's transaction, after setting gis.user_id,
gis.username and gis.grid_ids. Grants say what each role may read and write (column grants limit
grid workers to survey fields); row-level security limits grid workers to their own grids.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("gis_anonymous", "gis_analyst", "gis_planner", "gis_grid_worker", "gis_admin")
LOOKUPS = ("elevator_status", "facility_kind", "issue_category", "spatial_ref_sys")
PUBLIC_TABLES = ("district", "subdistrict", "community", "compound", "garden", "parking",
                 "facility", "street")
DATA_TABLES = (
    "district", "subdistrict", "community", "grid", "compound", "building", "retrofit_batch",
    "stairwell", "stairwell_status_history", "garden", "parking", "facility", "street",
    "candidate_site", "survey", "issue", "user_grid", "edit_log",
)
PLANNING_TABLES = (
    "grid", "compound", "building", "retrofit_batch", "stairwell", "garden", "parking",
    "facility", "street", "candidate_site", "issue", "survey",
)
SURVEY_FIELDS = ("households", "elderly_households", "consent_agree", "consent_object", "notes",
                 "survey_status", "last_surveyed_on")
ISSUE_FIELDS = ("status", "note", "photo_path", "resolved_at", "assignee_id", "geom", "category")
GRID_SCOPED = {
    "stairwell": "grid_id = ANY (gis_current_grids())",
    "issue": "grid_id = ANY (gis_current_grids())",
    "survey": "stairwell_id IN (SELECT id FROM stairwell WHERE grid_id = ANY (gis_current_grids()))",
    "stairwell_status_history": "stairwell_id IN (SELECT id FROM stairwell "
                                "WHERE grid_id = ANY (gis_current_grids()))",
    "edit_log": "user_id = nullif(current_setting('gis.user_id', true), '')::int",
}


def upgrade() -> None:
    for role in ROLES:
        op.execute(f"""
            DO $$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                    CREATE ROLE {role} NOLOGIN;
                END IF;
            END $$;
        """)
        op.execute(f"GRANT {role} TO current_user")
        op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        op.execute(f"GRANT SELECT ON {', '.join(LOOKUPS)} TO {role}")
    op.execute(f"GRANT SELECT ON {', '.join(PUBLIC_TABLES)} TO gis_anonymous")
    for role in ("gis_analyst", "gis_planner", "gis_grid_worker", "gis_admin"):
        op.execute(f"GRANT SELECT ON {', '.join(DATA_TABLES)} TO {role}")
    op.execute(f"GRANT INSERT, UPDATE, DELETE ON {', '.join(PLANNING_TABLES)} TO gis_planner")
    op.execute("GRANT INSERT ON edit_log TO gis_planner, gis_grid_worker, gis_admin")
    op.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO gis_admin")
    op.execute("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public "
               "TO gis_planner, gis_grid_worker, gis_admin")
    op.execute(f"GRANT UPDATE ({', '.join(SURVEY_FIELDS)}) ON stairwell TO gis_grid_worker")
    op.execute("GRANT INSERT ON survey TO gis_grid_worker")
    op.execute("GRANT INSERT ON issue TO gis_grid_worker")
    op.execute(f"GRANT UPDATE ({', '.join(ISSUE_FIELDS)}) ON issue TO gis_grid_worker")

    op.execute("""
        CREATE FUNCTION gis_current_grids() RETURNS int[] LANGUAGE sql STABLE AS $$
            SELECT coalesce(nullif(current_setting('gis.grid_ids', true), ''), '{}')::int[]
        $$;
    """)
    op.execute("GRANT EXECUTE ON FUNCTION gis_current_grids() TO PUBLIC")
    # Trigger functions write history whoever edits: they run with the owner's rights.
    for function in ("gis_stairwell_status_history()", "gis_bump_version()",
                     "gis_stairwell_status_date()"):
        op.execute(f"ALTER FUNCTION {function} SECURITY DEFINER SET search_path = public")

    for table, scope in GRID_SCOPED.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY staff_all ON {table} TO gis_analyst, gis_planner, gis_admin "
                   "USING (true) WITH CHECK (true)")
        op.execute(f"CREATE POLICY grid_worker_own ON {table} TO gis_grid_worker "
                   f"USING ({scope}) WITH CHECK ({scope})")


def downgrade() -> None:
    for table in GRID_SCOPED:
        op.execute(f"DROP POLICY grid_worker_own ON {table}")
        op.execute(f"DROP POLICY staff_all ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for function in ("gis_stairwell_status_history()", "gis_bump_version()",
                     "gis_stairwell_status_date()"):
        op.execute(f"ALTER FUNCTION {function} SECURITY INVOKER RESET search_path")
    op.execute("DROP FUNCTION gis_current_grids()")
    for role in ROLES:
        # Roles are cluster-wide and may serve other databases: only this database's grants go.
        op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
        op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}")
        op.execute(f"REVOKE USAGE ON SCHEMA public FROM {role}")
