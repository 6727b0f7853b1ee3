"""Stored planning scenarios

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

A scenario is a named set of interventions (stairwells moved to in_service, new gardens or
parking at candidate sites) with its parameters; its evaluation is stored with the data versions
it was computed on, so a stale result is recomputed, never shown as current.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scenario",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("interventions", postgresql.JSONB(), nullable=False),
        sa.Column("parameters", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("results", postgresql.JSONB(), nullable=True),
        sa.Column("results_versions", postgresql.JSONB(), nullable=True),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.CheckConstraint("jsonb_typeof(interventions) = 'object'",
                           name="ck_scenario_interventions"),
    )
    op.execute("CREATE TRIGGER scenario_bump_version BEFORE UPDATE ON scenario "
               "FOR EACH ROW EXECUTE FUNCTION gis_bump_version()")
    op.execute("GRANT SELECT ON scenario TO gis_analyst, gis_planner, gis_admin")
    op.execute("GRANT INSERT, UPDATE, DELETE ON scenario TO gis_planner, gis_admin")
    op.execute("GRANT USAGE, SELECT ON SEQUENCE scenario_id_seq TO gis_planner, gis_admin")


def downgrade() -> None:
    op.drop_table("scenario")
